// The Tasks extension's client-to-server methods (io.modelcontextprotocol/tasks: tasks/get,
// tasks/cancel, tasks/update), routed here by src/servers/mcp/dispatch.ts on modern requests.
//
// STUB (owner: the "mrtr" change, issue 11 item 3): answers -32601 Method not found until the
// approvals-as-tasks work replaces it. Contract for the replacement:
//   - called inside the request's RLS transaction, already switched to the caller's context
//     (scope.call: tx, tenantId, actor, token, protocol); the methods need only a valid token;
//   - return the method's result object (resultType and serverInfo are stamped by the dispatcher);
//   - throw RpcError(code, message) for a JSON-RPC error (e.g. INVALID_PARAMS for an unknown task id,
//     which must look the same as another person's task);
//   - set scope.record.tool/arguments/outcome to have the call audited (one entry per call).
import { METHOD_NOT_FOUND, RpcError, type RequestScope } from './rpc.js';

export const TASK_METHODS = ['tasks/get', 'tasks/cancel', 'tasks/update'] as const;
export type TaskMethod = (typeof TASK_METHODS)[number];

export async function answerTaskMethod(_scope: RequestScope, method: TaskMethod, _params: Record<string, unknown>): Promise<Record<string, unknown>> {
  throw new RpcError(METHOD_NOT_FOUND, `Method not found: ${method}`);
}

/**
 * Extensions advertised in `server/discover` capabilities.extensions (modern era). Empty in the stub;
 * the tasks implementation sets `{ 'io.modelcontextprotocol/tasks': {} }`.
 */
export const SERVER_EXTENSIONS: Record<string, Record<string, unknown>> = {};
