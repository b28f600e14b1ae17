// One MCP endpoint per tenant over Streamable HTTP in stateless mode (MCP 2025-11-25 Transports):
// every POST carries one JSON-RPC message and is answered with one JSON response by a server and
// transport made for it alone. No session: a `Mcp-Session-Id` is neither issued nor honoured (M3),
// so every request stands on its own bearer token.
//
// The request reads top to bottom as named steps; each answers and stops, or passes on:
//   checkHostAndOrigin → resolveTenant → allowOnlyPost → refuseQueryToken → requireBearer →
//   checkProtocolVersion → checkMediaTypes → readMessage → answer
// and `answer` is one database transaction: verify the token ('auth' context), the cheap refusals
// (endpoint not enabled for the tenant's phase, scope missing, unknown tool), spend the budgets,
// switch to the caller's context, run the method, append the audit entry, commit.
import { performance } from 'node:perf_hooks';
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { recordAudit } from '../../audit/record.js';
import { protectedResourceMetadataUrl, resourceFor, issuerFor, type EndpointKind } from '../../authz/resources.js';
import { admitted, DatabaseBusy, setRequestContext, type Tx } from '../../db/context.js';
import { isDatabaseUnavailable } from '../../db/errors.js';
import { budgetName, budgetOverrides, rateLimitHeaders, RateLimitStoreUnavailable } from '../../ratelimit/limits.js';
import type { Services } from '../../services.js';
import type { Tenant } from '../../tenants/directory.js';
import { challengeHeader, presentedBearer, verifyAccessToken, type Challenge } from './bearer.js';
import { findResource, type CallContext, type CapabilitySet, type SubjectActor } from './capability.js';
import {
  acceptsMcpResponses, allowedHostsFor, allowedOriginsFor, classifyMessage, exceedsDepth, hasQueryToken,
  isAllowedHost, isAllowedOrigin, isJsonContentType, isSupportedProtocolVersion, LATEST_PROTOCOL_VERSION,
  MAX_BODY_BYTES, MAX_JSON_DEPTH, SUPPORTED_PROTOCOL_VERSIONS, type IncomingMessage,
} from './http-checks.js';
import { exchange, type RequestRecord, type RequestScope } from './request-server.js';

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
  message: JSONRPCMessage;
  classified: IncomingMessage;
}

function locals(res: Response): Locals {
  return res.locals as Locals;
}

function sendJson(res: Response, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

/** A transport-level refusal, rendered as a JSON-RPC error object (as the SDK transport does). */
function sendRpcError(res: Response, status: number, code: number, message: string, headers?: Record<string, string>): void {
  sendJson(res, status, { jsonrpc: '2.0', id: null, error: { code, message } }, headers);
}

function sendChallenge(res: Response, c: Challenge): void {
  const body: Record<string, string> = {};
  if (c.error) body.error = c.error;
  if (c.description) body.error_description = c.description;
  sendJson(res, c.status === 403 ? 403 : c.error === 'invalid_request' ? 400 : 401, body, { 'WWW-Authenticate': challengeHeader(c) });
}

/** Methods whose answer reads the caller's data: only these switch to the caller's RLS context. */
const DATA_METHODS = new Set(['tools/call', 'resources/list', 'resources/read']);

/** The scope a request needs beyond "a valid token for this endpoint", if any (M6). */
function requiredScope(set: CapabilitySet, m: IncomingMessage): string | null {
  if (m.kind !== 'request') return null;
  if (m.method === 'tools/call') {
    const name = m.params?.name;
    return typeof name === 'string' ? set.toolsByName.get(name)?.scope ?? null : null;
  }
  if (m.method === 'resources/read') {
    const uri = m.params?.uri;
    return typeof uri === 'string' ? findResource(set, uri)?.def.scope ?? null : null;
  }
  return null;
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

  const resolveTenant: RequestHandler = async (req, res, next) => {
    try {
      const tenant = await tenants.bySlug(String(req.params.slug));
      if (!tenant) return sendRpcError(res, 404, -32001, 'No such MCP endpoint');
      const resource = resourceFor(config, tenant.slug, kind);
      Object.assign(res.locals, { tenant, resource, metadataUrl: protectedResourceMetadataUrl(resource) });
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

  const refuseQueryToken: RequestHandler = (req, res, next) => {
    const q = req.url.indexOf('?');
    if (q >= 0 && hasQueryToken(req.url.slice(q + 1))) {
      const { metadataUrl } = locals(res);
      return sendChallenge(res, {
        status: 401, error: 'invalid_request', scope: challengeScope, resourceMetadata: metadataUrl,
        description: 'Send the access token in the Authorization header, never in the URL',
      });
    }
    next();
  };

  /** RFC 6750 §3.1: no credentials → a challenge without an error code; garbage → invalid_token. */
  const requireBearer: RequestHandler = (req, res, next) => {
    const presented = presentedBearer(req.headers.authorization);
    const { metadataUrl } = locals(res);
    if (presented.kind === 'missing') return sendChallenge(res, { status: 401, scope: challengeScope, resourceMetadata: metadataUrl });
    if (presented.kind === 'malformed') {
      return sendChallenge(res, {
        status: 401, error: 'invalid_token', description: 'Malformed bearer token', scope: challengeScope, resourceMetadata: metadataUrl,
      });
    }
    res.locals.token = presented.token;
    next();
  };

  /** M8: MCP-Protocol-Version, when sent, must be one we speak. */
  const checkProtocolVersion: RequestHandler = (req, res, next) => {
    if (isSupportedProtocolVersion(req.headers['mcp-protocol-version'])) return next();
    sendRpcError(res, 400, -32000,
      `Bad Request: Unsupported protocol version (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`);
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
    // Version negotiation (Lifecycle §"Version Negotiation"): a revision we do not speak is
    // answered with our latest, and the client decides whether to go on.
    if (classified.kind === 'request' && classified.method === 'initialize' && classified.params) {
      const v = classified.params.protocolVersion;
      if (typeof v !== 'string' || !(SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(v)) {
        classified.params.protocolVersion = LATEST_PROTOCOL_VERSION;
      }
    }
    Object.assign(res.locals, { message: parsed as JSONRPCMessage, classified });
    next();
  };

  const answer: RequestHandler = async (req, res) => {
    const started = performance.now();
    const { tenant, resource, metadataUrl, token, message, classified } = locals(res);
    const requestId = String(req.id ?? '');
    const record: RequestRecord = {};
    const scope: RequestScope = { set, call: undefined, record };
    let actor: SubjectActor | undefined;
    let tokenInfo: CallContext['token'] | undefined;
    type Outcome = {
      status: number; body?: unknown; challenge?: Challenge; audited?: Promise<void>;
      rpcError?: { code: number; message: string };
    };
    let headers: Record<string, string> = {};
    const audit = (tx: Tx, a: SubjectActor) =>
      recordAudit(tx, {
        tenantId: tenant.id, event: 'tool.call', outcome: record.outcome ?? 'failed', actorKind: a.kind,
        actorId: a.kind === 'customer' ? a.customerId : a.staffId, clientId: tokenInfo?.clientId, tokenId: tokenInfo?.id,
        requestId, tool: record.tool, arguments: record.arguments, latencyMs: Math.round(performance.now() - started),
        detail: record.detail,
      });
    try {
      const outcome = await admitted(sql, tenant.id, () => sql.begin(async (tx): Promise<Outcome> => {
        // Pipelined: the context statement and the token lookup leave in one round trip.
        const authContext = setRequestContext(tx, { kind: 'auth', tenantId: tenant.id });
        authContext.catch(() => {});
        const verified = await verifyAccessToken(tx, token, { tenantId: tenant.id, resource, subjectKind });
        await authContext;
        if (!verified.ok) {
          return { status: 401, challenge: { status: 401, error: 'invalid_token', description: verified.description, scope: challengeScope, resourceMetadata: metadataUrl } };
        }
        const t = (tokenInfo = verified.token);
        const a: SubjectActor = (actor = subjectKind === 'customer'
          ? { kind: 'customer', tenantId: tenant.id, customerId: t.subjectId }
          : { kind: 'staff', tenantId: tenant.id, staffId: t.subjectId, role: t.staffRole! });
        // docs/DESIGN.md §1: the customer endpoint is on from phase 3 of the tenant's maturity.
        if (kind === 'customer' && t.tenantPhase < 3) {
          return {
            status: 403,
            rpcError: { code: -32003, message: 'The customer assistant is not enabled for this shop yet; ask the shop to enable it' },
          };
        }
        const needed = requiredScope(set, classified);
        if (needed && !t.scopes.includes(needed)) {
          // M6: step-up. The client learns which scope to ask for; the refusal is audited.
          if (classified.kind === 'request' && classified.method === 'tools/call') {
            record.tool = String(classified.params?.name);
            record.arguments = classified.params?.arguments;
            record.outcome = 'denied';
            record.detail = { reason: 'insufficient_scope', needed };
            await setRequestContext(tx, a);
            await audit(tx, a);
          }
          return {
            status: 403,
            challenge: {
              status: 403, error: 'insufficient_scope', scope: needed, resourceMetadata: metadataUrl,
              description: `This request needs the scope "${needed}"`,
            },
          };
        }
        // docs/DESIGN.md §4: the token's, the subject's, the client's and the tenant's budgets (the last
        // three per endpoint kind), charged all or none in the store every instance shares (F5, A9,
        // A10). Only after the cheap refusals above: a call refused for those spends no budget.
        // Refused calls do no work.
        if (spendsBudget(set, classified)) {
          const decision = await rateLimits.consumeCall({
            tenantId: tenant.id, kind: subjectKind, tokenId: t.id, subjectId: t.subjectId, clientId: t.clientId,
            weight: callWeight(set, classified), overrides: budgetOverrides(t.rateLimits),
          });
          headers = rateLimitHeaders(decision);
          if (!decision.allowed) {
            metrics.rateLimitRejections.inc({ budget: decision.scope });
            return {
              status: 429,
              rpcError: {
                code: -32029,
                message: `Rate limit exceeded: this ${budgetName(decision.scope, subjectKind)} may make ${decision.limit} ` +
                  `requests (writes count ${WRITE_WEIGHT}) per ${decision.windowSeconds} s; retry after ${decision.retryAfterSeconds} s`,
              },
            };
          }
        }
        if (classified.kind === 'request' && DATA_METHODS.has(classified.method)) {
          // Pipelined with the method's first query.
          const switched = setRequestContext(tx, a);
          switched.catch(() => {});
          if (readOnlyCall(set, classified)) {
            // A read changes nothing but the audit log. Its commit need not wait for the WAL flush
            // while it holds the tenant's audit-chain lock (that wait serialises every call of the
            // tenant behind one fsync). A database crash can lose the newest read entries, never
            // a write's: writes keep synchronous commit.
            void tx`set local synchronous_commit = off`.catch(() => {});
          }
          scope.call = { tx, tenantId: tenant.id, actor: a, subject: `${a.kind}:${t.subjectId}`, token: t, requestId };
          const response = await exchange(scope, message);
          await switched;
          if (record.failure) throw record.failure;
          if (!record.tool) return { status: 200, body: response };
          // The audit entry and COMMIT leave together: the tenant's audit chain head stays locked
          // only while PostgreSQL works, not across a round trip to us. Should the insert fail,
          // PostgreSQL turns that COMMIT into a rollback; `audited` rejects and the client gets an
          // error, so an effect is never kept (or reported) without its audit entry.
          const audited = audit(tx, a);
          audited.catch(() => {});
          return { status: 200, body: response, audited };
        }
        const response = await exchange(scope, message);
        if (record.failure) throw record.failure;
        return response ? { status: 200, body: response } : { status: 202 };
      }));
      if (outcome.audited) await outcome.audited;
      if (record.tool) metrics.toolCalls.observe({ endpoint: kind, tool: record.tool, outcome: record.outcome ?? 'ok' }, (performance.now() - started) / 1000);
      if (outcome.challenge) return sendChallenge(res, outcome.challenge);
      if (outcome.rpcError) {
        const id = classified.kind === 'request' ? classified.id : null;
        return sendJson(res, outcome.status, { jsonrpc: '2.0', id, error: outcome.rpcError }, headers);
      }
      if (outcome.status === 202) return void res.writeHead(202, headers).end();
      sendJson(res, outcome.status, outcome.body, headers);
    } catch (error) {
      const id = classified.kind === 'request' ? classified.id : null;
      // F1/F2: the database (or the shared rate-limit store in it) cannot answer now. Nothing was
      // committed; the agent is told to retry, with Retry-After.
      if (isDatabaseUnavailable(error) || error instanceof RateLimitStoreUnavailable) {
        req.log?.warn({ err: error }, 'MCP request refused: database unavailable');
        const retry = error instanceof DatabaseBusy ? error.retryAfterSeconds : 2;
        return void (res.headersSent ? res.end() : sendJson(res, 503, {
          jsonrpc: '2.0', id, error: { code: -32002, message: `The service is busy or its database is unavailable; retry after ${retry} s` },
        }, { 'Retry-After': String(retry) }));
      }
      req.log?.error({ err: error, tool: record.tool }, 'MCP request failed');
      if (record.tool && actor) {
        // The transaction is gone; the failure itself is still recorded, in a transaction of its own.
        const a = actor;
        record.outcome = 'failed';
        await sql
          .begin(async (tx) => {
            await setRequestContext(tx, a);
            await audit(tx, a);
          })
          .catch((e: unknown) => log.error({ err: e }, 'audit of a failed call failed'));
      }
      if (!res.headersSent) sendJson(res, 500, { jsonrpc: '2.0', id, error: { code: -32603, message: 'Internal error' } });
    }
  };

  const router = Router();
  router.get(
    kind === 'customer' ? '/.well-known/oauth-protected-resource/t/:slug/mcp' : '/.well-known/oauth-protected-resource/t/:slug/internal/mcp',
    protectedResourceMetadata(services, set, kind),
  );
  router.all(endpointPath, checkHostAndOrigin, resolveTenant, allowOnlyPost, refuseQueryToken, requireBearer,
    checkProtocolVersion, checkMediaTypes, readMessage, answer);
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
