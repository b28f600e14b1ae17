// One MCP Server per HTTP request, wired to the capability set's static lists and to this request's
// context (transaction, actor, token). Nothing here outlives the request (CVE-2026-25536).
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import {
  CallToolRequestSchema, ErrorCode, GetPromptRequestSchema, ListPromptsRequestSchema, ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema, ListToolsRequestSchema, McpError, ReadResourceRequestSchema,
  type CallToolResult, type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { findResource, ToolError, type CallContext, type CapabilitySet } from './capability.js';
import { answerResult, isToolAnswer } from './interaction.js';
import { OneShotTransport } from './one-shot-transport.js';
import { findTextDefect } from '../../text/defects.js';

/**
 * One validator for every per-request server: the SDK otherwise builds a new Ajv per Server, which
 * is most of the cost of a server per request (measured: one shared validator gives 1.6–2× the throughput).
 */
const SHARED_VALIDATOR = new AjvJsonSchemaValidator();

/** MCP 2025-11-25 Server/Resources §"Error Handling": resource not found. */
export const RESOURCE_NOT_FOUND = -32002;

export type ToolOutcome = 'ok' | 'error' | 'rejected' | 'unknown_tool' | 'denied' | 'failed';

/** What the request did, for the audit entry written in the same transaction. */
export interface RequestRecord {
  tool?: string;
  arguments?: unknown;
  outcome?: ToolOutcome;
  detail?: Record<string, unknown>;
  /** An unexpected error: the transaction is rolled back and the client sees a generic error. */
  failure?: unknown;
}

export interface RequestScope {
  set: CapabilitySet;
  /** The request's database context; absent for methods that read nothing (initialize, lists). */
  call: CallContext | undefined;
  record: RequestRecord;
}

function needCall(scope: RequestScope): CallContext {
  if (!scope.call) throw new Error('request context missing');
  return scope.call;
}

function errorResult(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

function internalError(scope: RequestScope, error: unknown): McpError {
  scope.record.failure = error;
  return new McpError(ErrorCode.InternalError, 'Internal error');
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

async function callTool(scope: RequestScope, name: string, args: unknown): Promise<CallToolResult> {
  const { set, record } = scope;
  record.tool = name;
  record.arguments = args;
  const tool = set.toolsByName.get(name);
  if (!tool) {
    const foreign = set.foreign.has(name);
    record.outcome = foreign ? 'denied' : 'unknown_tool';
    if (foreign) record.detail = { reason: `tool of the ${set.kind === 'customer' ? 'internal' : 'customer'} capability set` };
    throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
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
  try {
    const output = tool.writes
      ? await call.tx.savepoint((sp) => tool.run({ ...call, tx: sp as unknown as CallContext['tx'] }, parsed.data))
      : await tool.run(call, parsed.data);
    if (isToolAnswer(output)) {
      // Only reachable when the endpoint set ctx.interaction (2026-07-28): the answer is the result.
      record.outcome = 'ok';
      record.detail = { answer: output.resultType };
      return answerResult(output) as unknown as CallToolResult;
    }
    record.outcome = 'ok';
    return { content: [{ type: 'text', text: JSON.stringify(output) }], structuredContent: output };
  } catch (error) {
    if (error instanceof ToolError) {
      record.outcome = 'error';
      record.detail = { error: error.message };
      return errorResult(error.message);
    }
    throw internalError(scope, error);
  }
}

async function readResource(scope: RequestScope, uri: string) {
  const defect = findTextDefect(uri, ['uri']);
  if (defect) throw new McpError(ErrorCode.InvalidParams, `Invalid params: ${defect.path}: ${defect.problem}`);
  const found = findResource(scope.set, uri);
  if (!found) throw new McpError(RESOURCE_NOT_FOUND, 'Resource not found', { uri });
  const call = needCall(scope);
  let value: unknown;
  try {
    value = found.kind === 'static' ? await found.def.read(call) : await found.def.read(call, found.params);
  } catch (error) {
    if (error instanceof ToolError) throw new McpError(ErrorCode.InvalidParams, error.message, { uri });
    throw internalError(scope, error);
  }
  if (value === null || value === undefined) throw new McpError(RESOURCE_NOT_FOUND, 'Resource not found', { uri });
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return { contents: [{ uri, mimeType: found.def.mimeType, text }] };
}

async function listResources(scope: RequestScope) {
  const call = needCall(scope);
  const resources = [...scope.set.staticResourceList];
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

function getPrompt(scope: RequestScope, name: string, args: unknown) {
  const prompt = scope.set.promptsByName.get(name);
  if (!prompt) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${name}`);
  const defect = findTextDefect(args ?? {});
  if (defect) throw new McpError(ErrorCode.InvalidParams, `Invalid arguments for ${name}: ${defect.path}: ${defect.problem}`);
  const parsed = prompt.args.safeParse(args ?? {});
  if (!parsed.success) throw new McpError(ErrorCode.InvalidParams, `Invalid arguments for ${name}: ${describeIssues(parsed.error)}`);
  return {
    description: prompt.description,
    messages: [{ role: 'user' as const, content: { type: 'text' as const, text: prompt.render(parsed.data) } }],
  };
}

function createRequestServer(scope: RequestScope): Server {
  const { set } = scope;
  const server = new Server(set.serverInfo, {
    capabilities: { tools: {}, resources: {}, prompts: {} },
    instructions: set.instructions,
    jsonSchemaValidator: SHARED_VALIDATOR,
  });
  server.setRequestHandler(ListToolsRequestSchema, () => set.toolList);
  server.setRequestHandler(CallToolRequestSchema, (r) => callTool(scope, r.params.name, r.params.arguments));
  server.setRequestHandler(ListPromptsRequestSchema, () => set.promptList);
  server.setRequestHandler(GetPromptRequestSchema, (r) => getPrompt(scope, r.params.name, r.params.arguments));
  server.setRequestHandler(ListResourcesRequestSchema, () => listResources(scope));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => set.templateList);
  server.setRequestHandler(ReadResourceRequestSchema, (r) => readResource(scope, r.params.uri));
  return server;
}

/** Answers one JSON-RPC request (or takes one notification) with a fresh server and transport. */
export async function exchange(scope: RequestScope, message: JSONRPCMessage): Promise<JSONRPCMessage | null> {
  const server = createRequestServer(scope);
  const transport = new OneShotTransport();
  await server.connect(transport);
  // No server.close(): closing only aborts handlers that have already answered (allocating an
  // McpError and DOMExceptions per request); both objects become garbage with this request.
  if ('id' in message && 'method' in message) return transport.exchange(message);
  transport.notify(message);
  return null;
}
