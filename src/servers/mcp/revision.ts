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

/**
 * MCP 2026-07-28 Versioning §"Protocol Version Negotiation" and Streamable HTTP §"Server Validation":
 * the request's era and envelope, or the refusal (400 with -32020, -32022 or -32602).
 */
export function classifyRevision(input: RevisionInput): { ok: true; protocol: ProtocolContext } | { ok: false; refusal: Refusal } {
  const versionHeader = header(input.protocolVersionHeader);
  const methodHeader = header(input.mcpMethodHeader);
  const nameHeader = header(input.mcpNameHeader);
  const outcome = classifyInboundRequest({
    httpMethod: 'POST', protocolVersionHeader: versionHeader, mcpMethodHeader: methodHeader, mcpNameHeader: nameHeader, body: input.body,
  });
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
  const caps = Capabilities.safeParse(meta[CLIENT_CAPABILITIES_META_KEY] ?? {});
  const info = meta[CLIENT_INFO_META_KEY] === undefined ? undefined : ClientInfo.safeParse(meta[CLIENT_INFO_META_KEY]);
  const retry = RetryParams.safeParse(message.params ?? {});
  if (!caps.success || (info && !info.success) || !retry.success) {
    return { ok: false, refusal: { status: 400, code: -32602, message: 'Invalid params: malformed _meta envelope, inputResponses or requestState' } };
  }
  const capabilities = caps.data as Record<string, unknown> & z.infer<typeof Capabilities>;
  const elicitation = capabilities.elicitation;
  return {
    ok: true,
    protocol: {
      era: 'modern',
      revision,
      clientCapabilities: capabilities,
      clientInfo: info?.success ? { name: info.data.name, version: info.data.version } : undefined,
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
