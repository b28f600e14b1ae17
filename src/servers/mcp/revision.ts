// Which MCP revision a request speaks, and what its client declared (MCP 2026-07-28 Versioning,
// Streamable HTTP §"Request Metadata"). One endpoint serves both eras:
//   - legacy (2025-03-26 … 2025-11-25): `initialize` and stateless requests without an envelope,
//     answered as before;
//   - modern (2026-07-28): every request carries the `_meta` envelope (protocol version, client
//     capabilities, client info) and the `Mcp-Method` / `Mcp-Name` headers mirror the body.
// The era and envelope rules are the SDK's own (`classifyInboundRequest`, a pure function: no
// object per request); what it leaves to the serving layer (a version we do not implement,
// missing or mismatched `Mcp-Method`/`Mcp-Name`) is checked here.
import { classifyInboundRequest } from '@modelcontextprotocol/server';
import { z } from 'zod';

/** Modern revisions this server implements (per-request `_meta`). Newest first. */
export const MODERN_PROTOCOL_VERSIONS = ['2026-07-28'] as const;
/** Legacy revisions (the `initialize` handshake; served statelessly). Newest first. */
export const LEGACY_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'] as const;
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = [...MODERN_PROTOCOL_VERSIONS, ...LEGACY_PROTOCOL_VERSIONS];
export const LATEST_LEGACY_PROTOCOL_VERSION = LEGACY_PROTOCOL_VERSIONS[0];

export const PROTOCOL_VERSION_META_KEY = 'io.modelcontextprotocol/protocolVersion';
export const CLIENT_CAPABILITIES_META_KEY = 'io.modelcontextprotocol/clientCapabilities';
export const CLIENT_INFO_META_KEY = 'io.modelcontextprotocol/clientInfo';
export const SERVER_INFO_META_KEY = 'io.modelcontextprotocol/serverInfo';
/** Tasks extension identifier (docs/extensions/tasks): declared under `capabilities.extensions`. */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** MCP 2026-07-28 Basic §"Error Codes". */
export const HEADER_MISMATCH = -32020;
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;
/** MissingRequiredClientCapabilityError (HTTP 400, `data.requiredCapabilities`), for a request that cannot proceed without one. */
export const MISSING_REQUIRED_CLIENT_CAPABILITY = -32021;

export type Era = 'legacy' | 'modern';

/**
 * MCP 2026-07-28 Basic §"Error Codes": -32020 … -32099 are the specification's own (emit only the
 * defined ones), and -32002 (the old "resource not found") must not be emitted. Our application
 * errors in those places keep their code on legacy requests and move outside the JSON-RPC reserved
 * range on modern ones: rate limit -32029 → -31029, database busy -32002 → -31002.
 */
export function wireErrorCode(code: number, era: Era): number {
  if (era !== 'modern') return code;
  if (code === -32002 || (code <= -32020 && code >= -32099 && ![HEADER_MISMATCH, MISSING_REQUIRED_CLIENT_CAPABILITY, UNSUPPORTED_PROTOCOL_VERSION].includes(code))) return code + 1000;
  return code;
}

/** What the client declared about itself on this request (modern) — nothing, on legacy requests. */
export interface ProtocolContext {
  era: Era;
  /** The revision the request speaks: the envelope's (modern) or the MCP-Protocol-Version header / 2025-03-26 (legacy). */
  revision: string;
  /** `io.modelcontextprotocol/clientCapabilities` (modern); {} on legacy requests, whose capabilities went with `initialize`. */
  clientCapabilities: Record<string, unknown>;
  clientInfo: { name: string; version: string } | undefined;
  /** Form-mode elicitation declared (an empty `elicitation` object means form, Client/Elicitation §Capabilities). */
  elicitation: { form: boolean; url: boolean };
  /** The tasks extension declared (`capabilities.extensions["io.modelcontextprotocol/tasks"]`). */
  tasks: boolean;
  /** MRTR retry (Basic/Patterns/MRTR): the answers to our `inputRequests`, keyed as we keyed them. */
  inputResponses: Record<string, unknown> | undefined;
  /** MRTR retry: the opaque `requestState` we returned, echoed byte for byte. Untrusted until verified. */
  requestState: string | undefined;
}

/**
 * MCP 2026-07-28 Versioning §"Protocol Version Negotiation": UnsupportedProtocolVersionError. `data.supported`
 * lists what a per-request client can retry with, the same list as `server/discover` (the legacy
 * revisions are reached through `initialize`, which the message names for a person to read).
 */
export function unsupportedVersion(requested: string | undefined): { code: number; message: string; data: { supported: string[]; requested?: string } } {
  return {
    code: UNSUPPORTED_PROTOCOL_VERSION,
    message: `Unsupported protocol version ${requested ?? '(none)'}: supported are ${MODERN_PROTOCOL_VERSIONS.join(', ')} ` +
      `(per-request _meta) and ${LEGACY_PROTOCOL_VERSIONS.join(', ')} (initialize)`,
    data: { supported: [...MODERN_PROTOCOL_VERSIONS], ...(requested !== undefined && { requested }) },
  };
}

export interface Refusal {
  status: number;
  code: number;
  message: string;
  data?: unknown;
}

const Capabilities = z.looseObject({
  elicitation: z.looseObject({ form: z.unknown().optional(), url: z.unknown().optional() }).optional(),
  extensions: z.record(z.string(), z.unknown()).optional(),
});
const ClientInfo = z.looseObject({ name: z.string().max(256), version: z.string().max(256) });
const RetryParams = z.looseObject({
  inputResponses: z.record(z.string(), z.unknown()).optional(),
  requestState: z.string().max(16 * 1024).optional(),
});

/** Streamable HTTP §"Value Encoding": `=?base64?…?=` carries a value that is not plain ASCII. */
export function decodeHeaderValue(v: string): string | null {
  const m = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/.exec(v);
  if (!m) return /^[\x20-\x7e\t]*$/.test(v) ? v : null;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  return text.includes('\ufffd') ? null : text;
}

/**
 * Methods whose `Mcp-Name` mirrors `params.name` or `params.uri` (Streamable HTTP §"Standard Request
 * Headers"), and `params.taskId` for the Tasks extension's methods (its §"Streamable HTTP: Routing Headers").
 */
const NAMED_METHODS: Record<string, 'name' | 'uri' | 'taskId'> = {
  'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri',
  'tasks/get': 'taskId', 'tasks/update': 'taskId', 'tasks/cancel': 'taskId',
};

function header(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h.join(',') : h;
}

export interface RevisionInput {
  protocolVersionHeader: string | string[] | undefined;
  mcpMethodHeader: string | string[] | undefined;
  mcpNameHeader: string | string[] | undefined;
  body: unknown;
}

function legacy(revision: string): ProtocolContext {
  return {
    era: 'legacy', revision, clientCapabilities: {}, clientInfo: undefined, elicitation: { form: false, url: false }, tasks: false,
    inputResponses: undefined, requestState: undefined,
  };
}

type Inbound = ReturnType<typeof classifyInboundRequest>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params']);
const RELATED_TASK_META_KEY = 'io.modelcontextprotocol/related-task';

/**
 * Whether `body` is, beyond doubt, what the SDK's JSONRPCRequestSchema accepts (strict: no other
 * top-level key, so neither response schema can match) with a `_meta` its RequestMetaSchema
 * accepts. Then the SDK's classification depends on the method, the two headers and `_meta` alone.
 */
function plainRequest(body: unknown): body is { method: string; params?: Record<string, unknown> } {
  if (!isPlainObject(body) || body.jsonrpc !== '2.0' || typeof body.method !== 'string') return false;
  for (const key in body) if (!REQUEST_KEYS.has(key)) return false;
  const id = body.id;
  if (!(typeof id === 'string' || Number.isSafeInteger(id))) return false;
  const params = body.params;
  if (params === undefined) return true;
  if (!isPlainObject(params)) return false;
  const meta = params._meta;
  if (meta === undefined) return true;
  if (!isPlainObject(meta) || meta[RELATED_TASK_META_KEY] !== undefined) return false;
  const token = meta.progressToken;
  return token === undefined || typeof token === 'string' || Number.isSafeInteger(token);
}

function clientInfoOf(v: unknown): { name: string; version: string } | undefined {
  if (v === undefined) return undefined;
  const info = v as { name: string; version: string };
  return { name: info.name, version: info.version };
}

/** One remembered classification: the SDK's outcome (without the message) and whether the envelope's declarations parse. */
interface Remembered {
  outcome: Exclude<Inbound, { kind: 'reject' }>;
  declarations: boolean;
}
const MAX_REMEMBERED = 512;
const MAX_KEY_LENGTH = 4096;
const remembered = new Map<string, Remembered>();

/** The client's capabilities and info as our schemas read them, or null when either is malformed. */
function readDeclarations(meta: Record<string, unknown>): { capabilities: z.infer<typeof Capabilities> & Record<string, unknown>; clientInfo: { name: string; version: string } | undefined } | null {
  const caps = Capabilities.safeParse(meta[CLIENT_CAPABILITIES_META_KEY] ?? {});
  const info = meta[CLIENT_INFO_META_KEY] === undefined ? undefined : ClientInfo.safeParse(meta[CLIENT_INFO_META_KEY]);
  if (!caps.success || (info && !info.success)) return null;
  return { capabilities: caps.data as z.infer<typeof Capabilities> & Record<string, unknown>, clientInfo: info?.success ? { name: info.data.name, version: info.data.version } : undefined };
}

/**
 * The SDK's era classification (`classifyInboundRequest`), remembered per (method, version header,
 * method header, `_meta` as JSON) for plain requests: a client sends the same envelope on every
 * call, and the SDK's shape checks (zod, two of them failing on every request) cost ≈ 3 % of node's
 * CPU per call. For a plain request (above) the SDK's answer is a function of exactly those inputs,
 * so the remembered answer is the one it would give; `initialize` (whose answer reads its params),
 * anything not plain, an oversized envelope and refusals are classified afresh every time. The
 * entry is copied out: nothing remembered is handed to a request.
 */
function classify(versionHeader: string | undefined, methodHeader: string | undefined, nameHeader: string | undefined, body: unknown): { outcome: Inbound; declarations?: boolean } {
  const fresh = (): Inbound => classifyInboundRequest({
    httpMethod: 'POST', protocolVersionHeader: versionHeader, mcpMethodHeader: methodHeader, mcpNameHeader: nameHeader, body,
  });
  if (!plainRequest(body) || body.method === 'initialize') return { outcome: fresh() };
  const meta = body.params?._meta as Record<string, unknown> | undefined;
  const key = JSON.stringify([body.method, versionHeader ?? null, methodHeader ?? null, meta ?? null]);
  if (key.length > MAX_KEY_LENGTH) return { outcome: fresh() };
  const hit = remembered.get(key);
  if (hit) {
    const o = hit.outcome;
    const outcome = (o.kind === 'modern' ? { ...o, message: body, classification: { ...o.classification } } : { ...o }) as Inbound;
    return { outcome, declarations: hit.declarations };
  }
  const outcome = fresh();
  if (outcome.kind !== 'reject') {
    if (remembered.size >= MAX_REMEMBERED) remembered.clear();
    const { message: _message, ...rest } = outcome as Inbound & { message?: unknown };
    remembered.set(key, { outcome: rest as Remembered['outcome'], declarations: meta === undefined || readDeclarations(meta) !== null });
  }
  return { outcome };
}

/**
 * MCP 2026-07-28 Versioning §"Protocol Version Negotiation" and Streamable HTTP §"Server Validation":
 * the request's era and envelope, or the refusal (400 with -32020, -32022 or -32602).
 */
export function classifyRevision(input: RevisionInput): { ok: true; protocol: ProtocolContext } | { ok: false; refusal: Refusal } {
  const versionHeader = header(input.protocolVersionHeader);
  const methodHeader = header(input.mcpMethodHeader);
  const nameHeader = header(input.mcpNameHeader);
  const { outcome, declarations } = classify(versionHeader, methodHeader, nameHeader, input.body);
  if (outcome.kind === 'reject') {
    return { ok: false, refusal: { status: outcome.httpStatus, code: outcome.code, message: outcome.message, data: outcome.data } };
  }
  if (outcome.kind === 'legacy') {
    // A legacy request naming a modern revision in its header has no envelope: -32602 from the SDK
    // above. What remains is the 2025 rule: absent header means 2025-03-26.
    return { ok: true, protocol: legacy(versionHeader ?? '2025-03-26') };
  }
  const revision = outcome.classification.revision;
  if (revision === undefined || !(MODERN_PROTOCOL_VERSIONS as readonly string[]).includes(revision)) {
    return {
      ok: false,
      refusal: { status: 400, ...unsupportedVersion(revision) },
    };
  }
  const message = outcome.message as { method: string; params?: Record<string, unknown> };
  const mismatch = (text: string): { ok: false; refusal: Refusal } => ({
    ok: false, refusal: { status: 400, code: HEADER_MISMATCH, message: `Header mismatch: ${text}` },
  });
  if (versionHeader === undefined) return mismatch('the MCP-Protocol-Version header is required');
  if (methodHeader === undefined) return mismatch('the Mcp-Method header is required');
  if (methodHeader !== message.method) return mismatch(`Mcp-Method header value does not match body value ${JSON.stringify(message.method)}`);
  const nameField = NAMED_METHODS[message.method];
  if (nameField && outcome.messageKind === 'request') {
    const bodyValue = message.params?.[nameField];
    if (nameHeader === undefined) return mismatch(`the Mcp-Name header is required for ${message.method}`);
    const decoded = decodeHeaderValue(nameHeader);
    if (decoded === null) return mismatch('Mcp-Name header value has invalid characters or encoding');
    if (typeof bodyValue !== 'string' || decoded !== bodyValue) {
      return mismatch(`Mcp-Name header value does not match body value params.${nameField}`);
    }
  }
  const meta = (message.params?._meta ?? {}) as Record<string, unknown>;
  // Remembered as well-formed for this very envelope: the request's own values are what the schemas
  // would return (loose objects pass every key through).
  const declared = declarations === true
    ? { capabilities: (meta[CLIENT_CAPABILITIES_META_KEY] ?? {}) as z.infer<typeof Capabilities> & Record<string, unknown>, clientInfo: clientInfoOf(meta[CLIENT_INFO_META_KEY]) }
    : declarations === false ? null : readDeclarations(meta);
  // A retry's fields are checked only when present (absent, the schema has nothing to refuse).
  const p = message.params;
  const retry = p?.inputResponses === undefined && p?.requestState === undefined
    ? { success: true as const, data: { inputResponses: undefined, requestState: undefined } }
    : RetryParams.safeParse(p ?? {});
  if (!declared || !retry.success) {
    return { ok: false, refusal: { status: 400, code: -32602, message: 'Invalid params: malformed _meta envelope, inputResponses or requestState' } };
  }
  const { capabilities, clientInfo } = declared;
  const elicitation = capabilities.elicitation;
  return {
    ok: true,
    protocol: {
      era: 'modern',
      revision,
      clientCapabilities: capabilities,
      clientInfo,
      elicitation: {
        form: elicitation !== undefined && (elicitation.form !== undefined || elicitation.url === undefined),
        url: elicitation?.url !== undefined,
      },
      tasks: capabilities.extensions?.[TASKS_EXTENSION] !== undefined,
      inputResponses: retry.data.inputResponses,
      requestState: retry.data.requestState,
    },
  };
}
