// One MCP endpoint per tenant over Streamable HTTP, stateless, speaking both MCP eras at the same
// URL (docs/MCP-REVISIONS.md): legacy 2025-03-26 … 2025-11-25 (`initialize`, no session) and
// 2026-07-28 (per-request `_meta`, `server/discover`). Every POST carries one JSON-RPC message and
// is answered with one JSON response; nothing is shared between two requests in flight. No session:
// a `Mcp-Session-Id` is neither issued nor honoured (M3), so every request stands on its own token.
//
// The request reads top to bottom as named steps; each answers and stops, or passes on:
//   checkHostAndOrigin → resolveTenant → allowOnlyPost → refuseQueryToken → requireBearer →
//   checkMediaTypes → readMessage → checkProtocolVersion → classifyEra → answer
// and `answer` is one database transaction, itself named steps:
//   verifyToken (entering the caller's context) → checkPhase → checkScope → spendBudgets → run → audit → COMMIT
// (the cheap refusals — endpoint not enabled for the tenant's phase, scope missing, unknown tool —
// come before any budget is spent).
import { performance } from 'node:perf_hooks';
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { recordAudit } from '../../audit/record.js';
import type { VerifiedToken } from '../../authz/tokens.js';
import { protectedResourceMetadataUrl, resourceFor, issuerFor, type EndpointKind } from '../../authz/resources.js';
import { DatabaseBusy, inCallTransaction, setRequestContext, type Tx } from '../../db/context.js';
import { isDatabaseUnavailable } from '../../db/errors.js';
import { budgetName, budgetOverrides, rateLimitHeaders, RateLimitStoreUnavailable } from '../../ratelimit/limits.js';
import type { Services } from '../../services.js';
import type { Tenant } from '../../tenants/directory.js';
import { verifyAndEnter, type Challenge } from './bearer.js';
import { bearerSteps, sendChallenge, sendJson } from './bearer-steps.js';
import { findResource, type CapabilitySet, type SubjectActor } from './capability.js';
import { DATA_METHODS, dispatch } from './dispatch.js';
import {
  acceptsMcpResponses, allowedHostsFor, allowedOriginsFor, classifyMessage, exceedsDepth,
  isAllowedHost, isAllowedOrigin, isJsonContentType, isSupportedProtocolVersion,
  MAX_BODY_BYTES, MAX_JSON_DEPTH, type IncomingMessage,
} from './http-checks.js';
import { classifyRevision, unsupportedVersion, wireErrorCode, type ProtocolContext } from './revision.js';
import { requestStateKey } from './request-state.js';
import type { RequestRecord, RequestScope } from './rpc.js';

export interface EndpointOptions {
  services: Services;
  set: CapabilitySet;
  kind: EndpointKind;
}

interface Locals {
  tenant: Tenant;
  resource: string;
  metadataUrl: string;
  token: string;
  classified: IncomingMessage;
  protocol: ProtocolContext;
}

/** One call's state, filled in by the steps of `answer`. */
interface CallState {
  started: number;
  requestId: string;
  tenant: Tenant;
  resource: string;
  metadataUrl: string;
  token: string;
  classified: IncomingMessage;
  protocol: ProtocolContext;
  record: RequestRecord;
  headers: Record<string, string>;
  verified: (VerifiedToken & { subjectId: string }) | undefined;
  actor: SubjectActor | undefined;
}

/** What the transaction decided: an answer, or a refusal (challenge / JSON-RPC error). */
interface Outcome {
  status: number;
  body?: unknown;
  challenge?: Challenge;
  audited?: Promise<void>;
  rpcError?: { code: number; message: string };
}
type Refusal = Outcome;

function locals(res: Response): Locals {
  return res.locals as Locals;
}

/** A transport-level refusal, rendered as a JSON-RPC error object (as the SDK transport does). */
function sendRpcError(res: Response, status: number, code: number, message: string, headers?: Record<string, string>): void {
  sendJson(res, status, { jsonrpc: '2.0', id: null, error: { code, message } }, headers);
}

/**
 * The scopes a request needs beyond "a valid token for this endpoint" (M6): all of them, so that a
 * step-up challenge can name every one at once (MCP 2026-07-28 Authorization §"Scope Challenge
 * Handling": "include all scopes required for the current operation in a single challenge").
 */
export function requiredScopes(set: CapabilitySet, m: IncomingMessage): string[] {
  if (m.kind !== 'request') return [];
  let scope: string | null | undefined;
  if (m.method === 'tools/call') {
    const name = m.params?.name;
    scope = typeof name === 'string' ? set.toolsByName.get(name)?.scope : undefined;
  } else if (m.method === 'resources/read') {
    const uri = m.params?.uri;
    scope = typeof uri === 'string' ? findResource(set, uri)?.def.scope : undefined;
  }
  return scope ? [scope] : [];
}

function readOnlyCall(set: CapabilitySet, m: IncomingMessage): boolean {
  if (m.kind !== 'request') return false;
  if (m.method !== 'tools/call') return m.method.startsWith('resources/');
  const name = m.params?.name;
  const tool = typeof name === 'string' ? set.toolsByName.get(name) : undefined;
  return tool !== undefined && !tool.writes;
}

/**
 * Attack catalogue A9: a call to a tool this endpoint does not have is refused (and audited) without
 * spending any budget, like the other cheap refusals.
 */
function spendsBudget(set: CapabilitySet, m: IncomingMessage): boolean {
  if (m.kind !== 'request' || m.method !== 'tools/call') return true;
  const name = m.params?.name;
  return typeof name === 'string' && set.toolsByName.has(name);
}

/** docs/DESIGN.md §4: writes cost more of every budget than reads. */
export const WRITE_WEIGHT = 5;
function callWeight(set: CapabilitySet, m: IncomingMessage): number {
  if (m.kind !== 'request' || m.method !== 'tools/call') return 1;
  const name = m.params?.name;
  return typeof name === 'string' && set.toolsByName.get(name)?.writes ? WRITE_WEIGHT : 1;
}

/** Reads the body up to the limit; refuses early on a declared length above it (M7). */
function readBody(req: Request, limit: number): Promise<Buffer | 'too_large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve('too_large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        req.pause();
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!done) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

export function mcpEndpoint({ services, set, kind }: EndpointOptions): Router {
  const { config, sql, tenants, log, rateLimits, metrics } = services;
  // Options resolved once at creation: bad configuration fails at start-up.
  const baseUrl = kind === 'customer' ? config.publicUrl : config.internalUrl;
  const allowedHosts = allowedHostsFor(baseUrl);
  const allowedOrigins = allowedOriginsFor(baseUrl);
  const endpointPath = kind === 'customer' ? '/t/:slug/mcp' : '/t/:slug/internal/mcp';
  const subjectKind = kind === 'customer' ? 'customer' : 'staff';
  const challengeScope = set.challengeScopes.join(' ');
  // The MRTR requestState key (MRTR_STATE_KEY or DATA_DIR/mrtr-state-key). Unavailable, writes fall
  // back to the two-step confirm rather than fail.
  const stateKey = requestStateKey(config).catch((error: unknown) => {
    log.error({ err: error }, 'MRTR requestState key unavailable: in-band confirmation disabled');
    return undefined;
  });

  // Each tenant's resource identifier and metadata URL, derived once (URL parsing on every call
  // showed in the profile); strings only, bounded by the tenants there are.
  const urlsBySlug = new Map<string, { resource: string; metadataUrl: string }>();
  const urlsOf = (slug: string) => {
    let urls = urlsBySlug.get(slug);
    if (!urls) {
      const resource = resourceFor(config, slug, kind);
      urls = { resource, metadataUrl: protectedResourceMetadataUrl(resource) };
      if (urlsBySlug.size >= 10_000) urlsBySlug.clear();
      urlsBySlug.set(slug, urls);
    }
    return urls;
  };

  const resolveTenant: RequestHandler = async (req, res, next) => {
    try {
      const tenant = await tenants.bySlug(String(req.params.slug));
      if (!tenant) return sendRpcError(res, 404, -32001, 'No such MCP endpoint');
      const { resource, metadataUrl } = urlsOf(tenant.slug);
      const l = res.locals;
      l.tenant = tenant;
      l.resource = resource;
      l.metadataUrl = metadataUrl;
      next();
    } catch (error) {
      next(error);
    }
  };

  /** M5: DNS rebinding. A foreign Origin or Host never reaches the server. */
  const checkHostAndOrigin: RequestHandler = (req, res, next) => {
    if (!isAllowedHost(req.headers.host, allowedHosts)) return sendRpcError(res, 403, -32000, 'Forbidden: Host not allowed');
    if (!isAllowedOrigin(req.headers.origin, allowedOrigins)) return sendRpcError(res, 403, -32000, 'Forbidden: Origin not allowed');
    next();
  };

  /** Stateless: no server-to-client SSE stream (GET) and no session to end (DELETE). */
  const allowOnlyPost: RequestHandler = (req, res, next) => {
    if (req.method === 'POST') return next();
    sendRpcError(res, 405, -32000, 'Method not allowed: this endpoint is stateless and takes POST only', { Allow: 'POST' });
  };

  const { refuseQueryToken, requireBearer } = bearerSteps(challengeScope);

  /**
   * M8: MCP-Protocol-Version, when sent, must be one we speak (MCP 2026-07-28:
   * UnsupportedProtocolVersionError, 400, answering the request's id; so after readMessage).
   */
  const checkProtocolVersion: RequestHandler = (req, res, next) => {
    const v = req.headers['mcp-protocol-version'];
    if (isSupportedProtocolVersion(v)) return next();
    const { classified } = locals(res);
    sendJson(res, 400, { jsonrpc: '2.0', id: classified.kind === 'request' ? classified.id : null, error: unsupportedVersion(String(v)) });
  };

  const checkMediaTypes: RequestHandler = (req, res, next) => {
    if (!isJsonContentType(req.headers['content-type'])) {
      return sendRpcError(res, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
    }
    if (!acceptsMcpResponses(req.headers.accept)) {
      return sendRpcError(res, 406, -32000, 'Not Acceptable: Client must accept both application/json and text/event-stream');
    }
    next();
  };

  /** M7: size, JSON, no batches, bounded nesting, a well-formed JSON-RPC message. */
  const readMessage: RequestHandler = async (req, res, next) => {
    let body: Buffer | 'too_large';
    try {
      body = await readBody(req, MAX_BODY_BYTES);
    } catch {
      return sendRpcError(res, 400, -32700, 'Parse error: could not read the request body');
    }
    if (body === 'too_large') {
      res.setHeader('Connection', 'close');
      return sendRpcError(res, 413, -32600, `Request body too large (limit ${MAX_BODY_BYTES} bytes)`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return sendRpcError(res, 400, -32700, 'Parse error: invalid JSON');
    }
    if (Array.isArray(parsed)) return sendRpcError(res, 400, -32600, 'Invalid Request: JSON-RPC batches are not supported');
    if (exceedsDepth(parsed, MAX_JSON_DEPTH)) {
      return sendRpcError(res, 400, -32600, `Invalid Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    }
    const classified = classifyMessage(parsed);
    if (!classified) return sendRpcError(res, 400, -32600, 'Invalid Request: not a JSON-RPC 2.0 message');
    if (classified.kind === 'response') {
      // We never send requests to the client, so there is nothing a response could answer.
      res.writeHead(202).end();
      return;
    }
    // Tools §"Calling Tools": `name` is a string and `arguments`, when present, an object. Anything
    // else is the caller's mistake (-32602), answered before any server or transaction is made.
    if (classified.kind === 'request' && classified.method === 'tools/call') {
      const p = classified.params;
      const args = p?.arguments;
      if (typeof p?.name !== 'string' || (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args)))) {
        return sendJson(res, 200, {
          jsonrpc: '2.0', id: classified.id,
          error: { code: -32602, message: 'Invalid params: tools/call needs a string "name" and an object "arguments"' },
        });
      }
    }
    Object.assign(res.locals, { body: parsed, classified });
    next();
  };

  /**
   * Which era the request speaks and what its client declared (src/servers/mcp/revision.ts): a
   * modern request's envelope and `Mcp-Method` / `Mcp-Name` headers are checked against its body
   * (400: -32020 header mismatch, -32022 unsupported version, -32602 missing `_meta`).
   */
  const classifyEra: RequestHandler = (req, res, next) => {
    const verdict = classifyRevision({
      protocolVersionHeader: req.headers['mcp-protocol-version'], mcpMethodHeader: req.headers['mcp-method'],
      mcpNameHeader: req.headers['mcp-name'], body: (res.locals as { body: unknown }).body,
    });
    if (!verdict.ok) {
      const { classified } = locals(res);
      const id = classified.kind === 'request' ? classified.id : null;
      const { status, code, message, data } = verdict.refusal;
      return sendJson(res, status, { jsonrpc: '2.0', id, error: { code, message, ...(data !== undefined && { data }) } });
    }
    res.locals.protocol = verdict.protocol;
    next();
  };

  // ---- answer: one RLS transaction, its steps in order ------------------------------------------
  //   verifyToken (entering the caller's context) → checkPhase → checkScope → spendBudgets → run → audit (→ COMMIT)
  // Each step returns a Refusal to stop (the transaction still commits what it recorded), or nothing.

  /**
   * One statement, leaving with BEGIN (migrations/023): the tenant's 'auth' context, the token
   * lookup and, for a token meant for this endpoint, the subject's RLS context — so the method's
   * first query needs no context switch of its own. For a read, that statement also turns off
   * synchronous commit: a read changes nothing but the audit log, and its commit need not wait for
   * the WAL flush (the connection would idle through an fsync per call). A database crash can lose
   * the newest read entries, never a write's: writes keep synchronous commit. The entry is sealed
   * into the chain after commit (migrations/021, 025); a lost unsealed read entry leaves no gap in it.
   */
  const verifyToken = async (tx: Tx, c: CallState): Promise<Refusal | undefined> => {
    const verified = await verifyAndEnter(tx, c.token, {
      tenantId: c.tenant.id, resource: c.resource, subjectKind, readOnly: readOnlyCall(set, c.classified),
    });
    if (!verified.ok) {
      return { status: 401, challenge: { status: 401, error: 'invalid_token', description: verified.description, scope: challengeScope, resourceMetadata: c.metadataUrl } };
    }
    const t = (c.verified = verified.token);
    c.actor = subjectKind === 'customer'
      ? { kind: 'customer', tenantId: c.tenant.id, customerId: t.subjectId }
      : { kind: 'staff', tenantId: c.tenant.id, staffId: t.subjectId, role: t.staffRole! };
    return undefined;
  };

  /** docs/DESIGN.md §1: the customer endpoint is on from phase 3 of the tenant's maturity. */
  const checkPhase = (c: CallState): Refusal | undefined => {
    if (kind !== 'customer' || c.verified!.tenantPhase >= 3) return undefined;
    return { status: 403, rpcError: { code: -32003, message: 'The customer assistant is not enabled for this shop yet; ask the shop to enable it' } };
  };

  /**
   * M6: step-up. The challenge names every scope the operation needs, not only the missing ones
   * (MCP 2026-07-28 Authorization §"Scope Challenge Handling"; keeping what it already holds is the
   * client's scope union). The refusal of a tool call is audited.
   */
  const checkScope = async (tx: Tx, c: CallState): Promise<Refusal | undefined> => {
    const required = requiredScopes(set, c.classified);
    const t = c.verified!;
    const missing = required.filter((r) => !t.scopes.includes(r));
    if (missing.length === 0) return undefined;
    if (c.classified.kind === 'request' && c.classified.method === 'tools/call') {
      Object.assign(c.record, {
        tool: String(c.classified.params?.name), arguments: c.classified.params?.arguments, outcome: 'denied',
        detail: { reason: 'insufficient_scope', needed: missing.join(' ') },
      });
      await setRequestContext(tx, c.actor!);
      await audit(tx, c);
    }
    return {
      status: 403,
      challenge: {
        status: 403, error: 'insufficient_scope', scope: required.join(' '), resourceMetadata: c.metadataUrl,
        // No quotes inside: some clients' challenge parsers stop at an escaped quote (RFC 7235 quoted-pair).
        description: `This request needs the scope${required.length > 1 ? 's' : ''} ${required.join(', ')}`,
      },
    };
  };

  /**
   * docs/DESIGN.md §4: the token's, the subject's, the client's and the tenant's budgets (the last
   * three per endpoint kind), charged all or none in the store every instance shares (F5, A9, A10).
   * Only after the cheap refusals above: a call refused for those spends no budget (nor does a call
   * of a tool this endpoint does not have, A9). Refused calls do no work.
   */
  const spendBudgets = async (c: CallState): Promise<Refusal | undefined> => {
    if (!spendsBudget(set, c.classified)) return undefined;
    const t = c.verified!;
    const decision = await rateLimits.consumeCall({
      tenantId: c.tenant.id, kind: subjectKind, tokenId: t.id, subjectId: t.subjectId, clientId: t.clientId,
      weight: callWeight(set, c.classified), overrides: budgetOverrides(t.rateLimits),
    });
    c.headers = rateLimitHeaders(decision);
    if (decision.allowed) return undefined;
    metrics.rateLimitRejections.inc({ budget: decision.scope });
    return {
      status: 429,
      rpcError: {
        code: -32029,
        message: `Rate limit exceeded: this ${budgetName(decision.scope, subjectKind)} may make ${decision.limit} ` +
          `requests (writes count ${WRITE_WEIGHT}) per ${decision.windowSeconds} s; retry after ${decision.retryAfterSeconds} s`,
      },
    };
  };

  /** The method itself, through the dispatcher (src/servers/mcp/dispatch.ts). */
  const run = async (tx: Tx, c: CallState): Promise<Outcome> => {
    const m = c.classified;
    if (m.kind !== 'request') return { status: 202 };
    const request = { id: m.id, method: m.method, params: m.params };
    const t = c.verified!;
    const a = c.actor!;
    const scope: RequestScope = { set, call: undefined, record: c.record, protocol: c.protocol };
    if (!DATA_METHODS.has(m.method)) {
      const answer = await dispatch(scope, request);
      if (c.record.failure) throw c.record.failure;
      return { status: answer.status, body: answer.body };
    }
    scope.call = {
      tx, tenantId: c.tenant.id, actor: a, subject: `${a.kind}:${t.subjectId}`, token: t, requestId: c.requestId, protocol: c.protocol,
      requestStateKey: c.protocol.era === 'modern' ? await stateKey : undefined,
    };
    const answer = await dispatch(scope, request);
    if (c.record.failure) throw c.record.failure;
    if (!c.record.tool) return { status: answer.status, body: answer.body };
    // The audit entry and COMMIT leave together, one round trip. Should the insert fail, PostgreSQL turns
    // that COMMIT into a rollback; `audited` rejects and the client gets an error, so an effect is
    // never kept (or reported) without its audit entry.
    const audited = audit(tx, c);
    audited.catch(() => {});
    return { status: answer.status, body: answer.body, audited };
  };

  /** One audit entry per call (tools/call, and whatever else sets record.tool), in the call's transaction. */
  const audit = (tx: Tx, c: CallState) => {
    const a = c.actor!;
    return recordAudit(tx, {
      tenantId: c.tenant.id, event: 'tool.call', outcome: c.record.outcome ?? 'failed', actorKind: a.kind,
      actorId: a.kind === 'customer' ? a.customerId : a.staffId, clientId: c.verified?.clientId, tokenId: c.verified?.id,
      requestId: c.requestId, tool: c.record.tool, arguments: c.record.arguments, latencyMs: Math.round(performance.now() - c.started),
      detail: c.record.detail,
    });
  };

  const inTransaction = async (tx: Tx, c: CallState): Promise<Outcome> =>
    (await verifyToken(tx, c)) ?? checkPhase(c) ?? (await checkScope(tx, c)) ?? (await spendBudgets(c)) ?? run(tx, c);

  const reply = (res: Response, c: CallState, outcome: Outcome): void => {
    if (outcome.challenge) return sendChallenge(res, outcome.challenge);
    if (outcome.rpcError) {
      const id = c.classified.kind === 'request' ? c.classified.id : null;
      const error = { ...outcome.rpcError, code: wireErrorCode(outcome.rpcError.code, c.protocol.era) };
      return sendJson(res, outcome.status, { jsonrpc: '2.0', id, error }, c.headers);
    }
    if (outcome.status === 202) return void res.writeHead(202, c.headers).end();
    sendJson(res, outcome.status, outcome.body, c.headers);
  };

  /** Nothing was committed. The database being away is the client's to retry; anything else is a 500, audited. */
  const failed = async (req: Request, res: Response, c: CallState, error: unknown): Promise<void> => {
    const id = c.classified.kind === 'request' ? c.classified.id : null;
    // F1/F2: the database (or the shared rate-limit store in it) cannot answer now. The agent is told
    // to retry, with Retry-After.
    if (isDatabaseUnavailable(error) || error instanceof RateLimitStoreUnavailable) {
      req.log?.warn({ err: error }, 'MCP request refused: database unavailable');
      const retry = error instanceof DatabaseBusy ? error.retryAfterSeconds : 2;
      return void (res.headersSent ? res.end() : sendJson(res, 503, {
        jsonrpc: '2.0', id,
        error: { code: wireErrorCode(-32002, c.protocol.era), message: `The service is busy or its database is unavailable; retry after ${retry} s` },
      }, { 'Retry-After': String(retry) }));
    }
    req.log?.error({ err: error, tool: c.record.tool }, 'MCP request failed');
    if (c.record.tool && c.actor) {
      // The transaction is gone; the failure itself is still recorded, in a transaction of its own.
      const a = c.actor;
      c.record.outcome = 'failed';
      await sql
        .begin(async (tx) => {
          await setRequestContext(tx, a);
          await audit(tx, c);
        })
        .catch((e: unknown) => log.error({ err: e }, 'audit of a failed call failed'));
    }
    if (!res.headersSent) sendJson(res, 500, { jsonrpc: '2.0', id, error: { code: -32603, message: 'Internal error' } });
  };

  const answer: RequestHandler = async (req, res) => {
    const l = locals(res);
    const c: CallState = {
      started: performance.now(), requestId: String(req.id ?? ''), tenant: l.tenant, resource: l.resource, metadataUrl: l.metadataUrl,
      token: l.token, classified: l.classified, protocol: l.protocol, record: {}, headers: {}, verified: undefined, actor: undefined,
    };
    try {
      // BEGIN … COMMIT pipelined on a reserved connection (src/db/context.ts inCallTransaction).
      const outcome = await inCallTransaction(sql, c.tenant.id, (tx) => inTransaction(tx, c));
      if (outcome.audited) await outcome.audited;
      if (c.record.tool) {
        metrics.toolCalls.observe({ endpoint: kind, tool: c.record.tool, outcome: c.record.outcome ?? 'ok' }, (performance.now() - c.started) / 1000);
      }
      reply(res, c, outcome);
    } catch (error) {
      await failed(req, res, c, error);
    }
  };

  const router = Router();
  router.get(
    kind === 'customer' ? '/.well-known/oauth-protected-resource/t/:slug/mcp' : '/.well-known/oauth-protected-resource/t/:slug/internal/mcp',
    protectedResourceMetadata(services, set, kind),
  );
  router.all(endpointPath, checkHostAndOrigin, resolveTenant, allowOnlyPost, refuseQueryToken, requireBearer,
    checkMediaTypes, readMessage, checkProtocolVersion, classifyEra, answer);
  return router;
}

/** RFC 9728 §3: the protected resource metadata of one tenant's endpoint. */
function protectedResourceMetadata(services: Services, set: CapabilitySet, kind: EndpointKind): RequestHandler {
  const { config, tenants } = services;
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const tenant = await tenants.bySlug(String(req.params.slug));
      if (!tenant) return sendJson(res, 404, { error: 'not_found', error_description: 'No such resource' });
      res.setHeader('Access-Control-Allow-Origin', '*');
      sendJson(res, 200, {
        resource: resourceFor(config, tenant.slug, kind),
        authorization_servers: [issuerFor(config, tenant.slug)],
        scopes_supported: set.scopesSupported,
        bearer_methods_supported: ['header'],
        resource_name: `${tenant.name} ${kind === 'customer' ? 'customer assistant' : 'staff operations'} (MCP)`,
      }, { 'Cache-Control': 'public, max-age=300' });
    } catch (error) {
      next(error);
    }
  };
}
