// Answers one JSON-RPC request of either MCP era with the capability set's static lists and this
// request's context (transaction, actor, token, declared client capabilities). A direct,
// schema-checked dispatch: each method's params are checked by the SDK's own zod schema
// (@modelcontextprotocol/core) and handled by a plain function; no Server or transport object is
// made per request, so nothing can be shared between two in-flight requests (CVE-2026-25536).
// docs/MCP-REVISIONS.md says why, and which SDK checks live where now.
//
// Era differences (MCP 2026-07-28 changelog):
//   legacy  initialize, ping; results as in 2025-11-25; resource not found is -32002.
//   modern  server/discover; tasks/* (src/servers/mcp/tasks.ts); every result carries `resultType`
//           and `_meta["io.modelcontextprotocol/serverInfo"]`; lists and reads carry `ttlMs` and
//           `cacheScope`; a tool may answer `input_required` (MRTR) or `task`; resource not found
//           is -32602; an unknown method is -32601 with HTTP 404.
//
// Hooks for confirmations (MRTR) and approvals (tasks), issue 11 items 2 and 3:
//   - ctx.protocol (CallContext, capability.ts; built by revision.ts): era, revision, declared
//     clientCapabilities / clientInfo, elicitation.form|url, tasks (extension declared), and an MRTR
//     retry's inputResponses / requestState (unverified);
//   - a tool's run() may return `new InputRequired(inputRequests, requestState)` or
//     `new TaskCreated(task)` (capability.ts) on modern requests; callTool below turns them into
//     `resultType: "input_required"` / `"task"` results, audited with that outcome;
//   - tasks/get, tasks/cancel, tasks/update go to answerTaskMethod (tasks.ts, a -32601 stub until
//     replaced) inside the call's RLS transaction; SERVER_EXTENSIONS (tasks.ts) is advertised by
//     server/discover.
import {
  CallToolRequestSchema, DiscoverRequestSchema, GetPromptRequestSchema, InitializeRequestSchema, ListPromptsRequestSchema,
  ListResourcesRequestSchema, ListResourceTemplatesRequestSchema, ListToolsRequestSchema, PingRequestSchema, ReadResourceRequestSchema,
} from '@modelcontextprotocol/core';
import type { z } from 'zod';
import { findTextDefect } from '../../text/defects.js';
import { findResource, InputRequired, TaskCreated, ToolError, type CallContext, type CapabilitySet } from './capability.js';
import {
  LATEST_LEGACY_PROTOCOL_VERSION, LEGACY_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS, SERVER_INFO_META_KEY, type Era,
} from './revision.js';
import {
  INTERNAL_ERROR, INVALID_PARAMS, LEGACY_RESOURCE_NOT_FOUND, METHOD_NOT_FOUND, needCall, RpcError, type RequestScope,
} from './rpc.js';
import { answerTaskMethod, SERVER_EXTENSIONS, TASK_METHODS, type TaskMethod } from './tasks.js';

type Result = Record<string, unknown>;
type Params = Record<string, unknown>;

/** How long a client may cache a static list (tools, prompts, templates): they change only with a deploy. */
export const STATIC_LIST_TTL_MS = 3_600_000;

/** MCP 2026-07-28 CacheableResult: static lists are `public`; what depends on the caller is `private`, not cached. */
const CACHE_HINTS: Record<string, { ttlMs: number; cacheScope: 'public' | 'private' }> = {
  'tools/list': { ttlMs: STATIC_LIST_TTL_MS, cacheScope: 'public' },
  'prompts/list': { ttlMs: STATIC_LIST_TTL_MS, cacheScope: 'public' },
  'resources/templates/list': { ttlMs: STATIC_LIST_TTL_MS, cacheScope: 'public' },
  'resources/list': { ttlMs: 0, cacheScope: 'private' },
  'resources/read': { ttlMs: 0, cacheScope: 'private' },
};

function internalError(scope: RequestScope, error: unknown): RpcError {
  scope.record.failure = error;
  return new RpcError(INTERNAL_ERROR, 'Internal error');
}

function errorResult(text: string): Result {
  return { isError: true, content: [{ type: 'text', text }] };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => {
      const path = i.path.length ? i.path.join('.') : 'arguments';
      if (i.code === 'unrecognized_keys') return `${path}: unknown argument(s) ${i.keys.join(', ')}`;
      return `${path}: ${i.message}`;
    })
    .join('; ');
}

async function callTool(scope: RequestScope, name: string, args: unknown): Promise<Result> {
  const { set, record } = scope;
  record.tool = name;
  record.arguments = args;
  const tool = set.toolsByName.get(name);
  if (!tool) {
    const foreign = set.foreign.has(name);
    record.outcome = foreign ? 'denied' : 'unknown_tool';
    if (foreign) record.detail = { reason: `tool of the ${set.kind === 'customer' ? 'internal' : 'customer'} capability set` };
    throw new RpcError(INVALID_PARAMS, `Unknown tool: ${name}`);
  }
  // E1: NUL and unpaired surrogates are refused in any field, named, before the schema runs.
  const defect = findTextDefect(args ?? {});
  if (defect) {
    record.outcome = 'rejected';
    return errorResult(`Invalid arguments for ${name}: ${defect.path}: ${defect.problem}`);
  }
  const parsed = tool.input.safeParse(args ?? {});
  if (!parsed.success) {
    record.outcome = 'rejected';
    return errorResult(`Invalid arguments for ${name}: ${describeIssues(parsed.error)}`);
  }
  const call = needCall(scope);
  let output: Record<string, unknown> | InputRequired | TaskCreated;
  try {
    output = tool.writes
      ? await call.tx.savepoint((sp) => tool.run({ ...call, tx: sp as unknown as CallContext['tx'] }, parsed.data))
      : await tool.run(call, parsed.data);
  } catch (error) {
    if (error instanceof ToolError) {
      record.outcome = 'error';
      record.detail = { error: error.message };
      return errorResult(error.message);
    }
    throw internalError(scope, error);
  }
  if (output instanceof InputRequired || output instanceof TaskCreated) {
    if (scope.protocol.era !== 'modern') throw internalError(scope, new Error(`${name} answered ${output.kind} on a legacy request`));
    record.outcome = output.kind;
    // Tasks extension §"Task Creation": CreateTaskResult = Result & Task (the task's fields at the top).
    if (output instanceof TaskCreated) return { ...output.task, resultType: 'task' };
    return {
      resultType: 'input_required', inputRequests: output.inputRequests,
      ...(output.requestState !== undefined && { requestState: output.requestState }),
    };
  }
  record.outcome = 'ok';
  return { content: [{ type: 'text', text: JSON.stringify(output) }], structuredContent: output };
}

async function readResource(scope: RequestScope, uri: string): Promise<Result> {
  const notFound = () =>
    new RpcError(scope.protocol.era === 'modern' ? INVALID_PARAMS : LEGACY_RESOURCE_NOT_FOUND, 'Resource not found', { uri });
  const defect = findTextDefect(uri, ['uri']);
  if (defect) throw new RpcError(INVALID_PARAMS, `Invalid params: ${defect.path}: ${defect.problem}`);
  const found = findResource(scope.set, uri);
  if (!found) throw notFound();
  const call = needCall(scope);
  let value: unknown;
  try {
    value = found.kind === 'static' ? await found.def.read(call) : await found.def.read(call, found.params);
  } catch (error) {
    if (error instanceof ToolError) throw new RpcError(INVALID_PARAMS, error.message, { uri });
    throw internalError(scope, error);
  }
  if (value === null || value === undefined) throw notFound();
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return { contents: [{ uri, mimeType: found.def.mimeType, text }] };
}

async function listResources(scope: RequestScope): Promise<Result> {
  const call = needCall(scope);
  const resources: unknown[] = [...scope.set.staticResourceList];
  try {
    for (const t of scope.set.templates) {
      if (!t.list || (t.scope && !call.token.scopes.includes(t.scope))) continue;
      for (const r of await t.list(call)) resources.push({ ...r, mimeType: t.mimeType });
    }
  } catch (error) {
    throw internalError(scope, error);
  }
  return { resources };
}

function getPrompt(scope: RequestScope, name: string, args: unknown): Result {
  const prompt = scope.set.promptsByName.get(name);
  if (!prompt) throw new RpcError(INVALID_PARAMS, `Unknown prompt: ${name}`);
  const defect = findTextDefect(args ?? {});
  if (defect) throw new RpcError(INVALID_PARAMS, `Invalid arguments for ${name}: ${defect.path}: ${defect.problem}`);
  const parsed = prompt.args.safeParse(args ?? {});
  if (!parsed.success) throw new RpcError(INVALID_PARAMS, `Invalid arguments for ${name}: ${describeIssues(parsed.error)}`);
  return {
    description: prompt.description,
    messages: [{ role: 'user', content: { type: 'text', text: prompt.render(parsed.data) } }],
  };
}

/** Tasks are how internal writes wait for a person: the extension is advertised where tools answer tasks. */
function capabilities(era: Era, kind: CapabilitySet['kind']): Result {
  return {
    tools: {}, resources: {}, prompts: {},
    ...(era === 'modern' && kind === 'internal' && Object.keys(SERVER_EXTENSIONS).length && { extensions: SERVER_EXTENSIONS }),
  };
}

/** Lifecycle §"Version Negotiation" (2025-11-25): the requested revision if we speak it, else our latest. */
function initialize(scope: RequestScope, requested: string): Result {
  const { set } = scope;
  return {
    protocolVersion: (LEGACY_PROTOCOL_VERSIONS as readonly string[]).includes(requested) ? requested : LATEST_LEGACY_PROTOCOL_VERSION,
    capabilities: capabilities('legacy', set.kind),
    serverInfo: set.serverInfo,
    instructions: set.instructions,
  };
}

/** MCP 2026-07-28 server/discover. */
function discover(scope: RequestScope): Result {
  return { supportedVersions: [...MODERN_PROTOCOL_VERSIONS], capabilities: capabilities('modern', scope.set.kind), instructions: scope.set.instructions };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A fast accept for the commonest request's params (tools/call: `name`, `arguments`, `_meta` with a
 * `progressToken`): true only where CallToolRequestSchema accepts them too. Anything else — a
 * `task`, a related-task key, a value of the wrong type — is left to the schema, which decides and
 * words the refusal. (The schema is the SDK's zod schema; in a busy process its parse costs ≈ 2 %
 * of node's CPU per call, this check next to nothing.)
 */
export function plainCallToolParams(params: Params | undefined): boolean {
  if (!isPlainObject(params) || typeof params.name !== 'string') return false;
  const args = params.arguments;
  if (args !== undefined && !isPlainObject(args)) return false;
  if (params.task !== undefined) return false;
  const meta = params._meta;
  if (meta === undefined) return true;
  if (!isPlainObject(meta) || meta[RELATED_TASK_META_KEY] !== undefined) return false;
  const token = meta.progressToken;
  return token === undefined || typeof token === 'string' || Number.isSafeInteger(token);
}
const RELATED_TASK_META_KEY = 'io.modelcontextprotocol/related-task';

interface Method {
  /** The SDK's schema of the whole request (method + params); absent where the handler checks its own. */
  schema?: z.ZodType;
  /** A cheaper check that accepts only what `schema` accepts (anything it does not accept goes to `schema`). */
  accepts?: (params: Params | undefined) => boolean;
  eras: readonly Era[];
  handle(scope: RequestScope, params: Params): Result | Promise<Result>;
}

const BOTH: readonly Era[] = ['legacy', 'modern'];
const METHODS: Record<string, Method> = {
  initialize: { schema: InitializeRequestSchema, eras: ['legacy'], handle: (s, p) => initialize(s, String(p.protocolVersion)) },
  ping: { schema: PingRequestSchema, eras: ['legacy'], handle: () => ({}) },
  'server/discover': { schema: DiscoverRequestSchema, eras: ['modern'], handle: (s) => discover(s) },
  'tools/list': { schema: ListToolsRequestSchema, eras: BOTH, handle: (s) => s.set.toolList },
  'tools/call': { schema: CallToolRequestSchema, accepts: plainCallToolParams, eras: BOTH, handle: (s, p) => callTool(s, String(p.name), p.arguments) },
  'prompts/list': { schema: ListPromptsRequestSchema, eras: BOTH, handle: (s) => s.set.promptList },
  'prompts/get': { schema: GetPromptRequestSchema, eras: BOTH, handle: (s, p) => getPrompt(s, String(p.name), p.arguments) },
  'resources/list': { schema: ListResourcesRequestSchema, eras: BOTH, handle: (s) => listResources(s) },
  'resources/templates/list': { schema: ListResourceTemplatesRequestSchema, eras: BOTH, handle: (s) => s.set.templateList },
  'resources/read': { schema: ReadResourceRequestSchema, eras: BOTH, handle: (s, p) => readResource(s, String(p.uri)) },
};
for (const m of TASK_METHODS) {
  // Params are the tasks module's to check (its zod schemas); the envelope was checked already.
  METHODS[m] = { eras: ['modern'], handle: (s, p) => answerTaskMethod(s, m as TaskMethod, p) };
}

/** Methods whose answer reads the caller's data: only these switch to the caller's RLS context. */
export const DATA_METHODS: ReadonlySet<string> = new Set(['tools/call', 'resources/list', 'resources/read', ...TASK_METHODS]);

/** Whether this era has the method (anything else is -32601). */
export function knownMethod(method: string, era: Era): boolean {
  return Object.hasOwn(METHODS, method) && METHODS[method]!.eras.includes(era);
}

/** MCP 2026-07-28: `resultType`, the server's identity, and cache hints on every complete result. */
function stampModern(scope: RequestScope, method: string, result: Result): Result {
  const meta = (result._meta as Result | undefined) ?? {};
  const out: Result = { ...result, _meta: { ...meta, [SERVER_INFO_META_KEY]: scope.set.serverInfo } };
  if (out.resultType === undefined) out.resultType = 'complete';
  const hint = CACHE_HINTS[method];
  if (hint && out.resultType === 'complete') Object.assign(out, hint);
  return out;
}

export interface Answer {
  /** HTTP status: 200, or 404 for an unknown method on the modern era (Streamable HTTP). */
  status: number;
  body: { jsonrpc: '2.0'; id: string | number; result: Result } | { jsonrpc: '2.0'; id: string | number; error: { code: number; message: string; data?: unknown } };
}

/** Answers one JSON-RPC request. Unexpected failures are left in scope.record.failure (the caller rolls back). */
export async function dispatch(scope: RequestScope, request: { id: string | number; method: string; params?: Params }): Promise<Answer> {
  const { id, method } = request;
  const era = scope.protocol.era;
  const fail = (e: RpcError): Answer => ({
    status: e.code === METHOD_NOT_FOUND && era === 'modern' ? 404 : 200,
    body: { jsonrpc: '2.0', id, error: { code: e.code, message: e.message, ...(e.data !== undefined && { data: e.data }) } },
  });
  if (!knownMethod(method, era)) return fail(new RpcError(METHOD_NOT_FOUND, `Method not found: ${method}`));
  const m = METHODS[method]!;
  const params = request.params ?? {};
  if (m.schema && !m.accepts?.(request.params)) {
    const checked = m.schema.safeParse({ method, params: request.params });
    if (!checked.success) return fail(new RpcError(INVALID_PARAMS, `Invalid params for ${method}: ${describeIssues(checked.error)}`));
  }
  try {
    const result = await m.handle(scope, params);
    return { status: 200, body: { jsonrpc: '2.0', id, result: era === 'modern' ? stampModern(scope, method, result) : result } };
  } catch (error) {
    if (error instanceof RpcError) return fail(error);
    return fail(internalError(scope, error));
  }
}
