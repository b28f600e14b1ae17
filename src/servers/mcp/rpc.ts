// The per-request state the dispatcher and its method modules share (src/servers/mcp/dispatch.ts,
// src/servers/mcp/tasks.ts), kept apart so neither imports the other for its types.
import type { CallContext, CapabilitySet } from './capability.js';
import type { ProtocolContext } from './revision.js';

/** JSON-RPC 2.0 §5.1 and MCP's codes. */
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
/** MCP 2025-11-25 Server/Resources §"Error Handling" (legacy); 2026-07-28 uses -32602 instead. */
export const LEGACY_RESOURCE_NOT_FOUND = -32002;

/** A JSON-RPC error answer; `status` is the HTTP status for the modern era (Streamable HTTP: 404 for -32601). */
export class RpcError extends Error {
  constructor(readonly code: number, message: string, readonly data?: unknown) {
    super(message);
  }
}

export type ToolOutcome = 'ok' | 'error' | 'rejected' | 'unknown_tool' | 'denied' | 'failed' | 'input_required' | 'task';

/** What the request did, for the audit entry written in the same transaction. */
export interface RequestRecord {
  /** Set when the request is audited (tools/call; task methods may set it too): one entry per call. */
  tool?: string;
  arguments?: unknown;
  outcome?: ToolOutcome;
  detail?: Record<string, unknown>;
  /** An unexpected error: the transaction is rolled back and the client sees a generic error. */
  failure?: unknown;
}

export interface RequestScope {
  set: CapabilitySet;
  /** The request's database context; absent for methods that read nothing (initialize, discover, lists). */
  call: CallContext | undefined;
  record: RequestRecord;
  protocol: ProtocolContext;
}

export function needCall(scope: RequestScope): CallContext {
  if (!scope.call) throw new Error('request context missing');
  return scope.call;
}
