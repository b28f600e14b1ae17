// In-band interaction on MCP 2026-07-28: what a request tells a tool about its client, and the two
// answers a tool may give besides its result.
//
// Hook for the endpoint (whoever parses the request fills `CallContext.interaction`):
//   - legacy revisions (2025-03-26…2025-11-25): leave `interaction` undefined. Tools then answer as
//     before (two-step confirm, `status: pending` + `action_id`).
//   - 2026-07-28: set it from the request's `_meta` envelope and params, per request (nothing is
//     remembered between requests): `formElicitation` when clientCapabilities.elicitation is `{}` or
//     has `form` (client/elicitation §Capabilities: an empty object means form); `tasks` when
//     clientCapabilities.extensions["io.modelcontextprotocol/tasks"] is present; `inputResponses`
//     and `requestState` from params as the client sent them (untrusted: the tool verifies them);
//     `stateKey` from requestStateKey(config), loaded once per endpoint.
//   - A tool's output may then be an InputRequiredAnswer or a TaskAnswer: render it with
//     `answerResult` instead of the CallToolResult (no structuredContent, no output validation).
//     The call is audited as usual (outcome 'input_required' / 'task').
import { z } from 'zod';

export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
export const MODERN_REVISION = '2026-07-28';

export interface Interaction {
  /** The negotiated protocol revision of this request. */
  revision: string;
  /** The client declared form-mode elicitation on this request. */
  formElicitation: boolean;
  /** The client declared the Tasks extension on this request. */
  tasks: boolean;
  /** A retried request's answers to our inputRequests (untrusted). */
  inputResponses?: Record<string, unknown> | undefined;
  /** A retried request's echoed requestState (untrusted). */
  requestState?: string | undefined;
  /** The HMAC key of requestState values (request-state.ts). */
  stateKey: Buffer;
}

/** A form-mode elicitation carried in an InputRequiredResult or a task (client/elicitation §Form Mode). */
export interface FormElicitation {
  method: 'elicitation/create';
  params: {
    mode: 'form';
    message: string;
    requestedSchema: {
      type: 'object';
      properties: Record<string, Record<string, unknown>>;
      required?: string[];
    };
  };
}

/** basic/patterns/mrtr §InputRequiredResult: the tool needs the person's answer first. */
export class InputRequiredAnswer {
  readonly resultType = 'input_required' as const;
  constructor(readonly inputRequests: Record<string, FormElicitation>, readonly requestState: string) {}
}

/** The Tasks extension's Task (status and times; result or error once terminal). */
export interface TaskView {
  taskId: string;
  status: 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttlMs: number | null;
  pollIntervalMs?: number;
  inputRequests?: Record<string, FormElicitation>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

/** Tasks extension §"Task Creation": the call goes on as a task the client polls. */
export class TaskAnswer {
  readonly resultType = 'task' as const;
  constructor(readonly task: TaskView) {}
}

export type ToolAnswer = InputRequiredAnswer | TaskAnswer;

export function isToolAnswer(v: unknown): v is ToolAnswer {
  return v instanceof InputRequiredAnswer || v instanceof TaskAnswer;
}

/** The JSON-RPC result for an answer (the endpoint adds serverInfo/_meta as for any result). */
export function answerResult(a: ToolAnswer): Record<string, unknown> {
  if (a instanceof InputRequiredAnswer) return { resultType: a.resultType, inputRequests: a.inputRequests, requestState: a.requestState };
  return { resultType: a.resultType, ...a.task };
}

/** The one confirmation field every in-band confirmation asks for. */
export const CONFIRM_KEY = 'confirm';

export function confirmationElicitation(message: string, title: string): FormElicitation {
  return {
    method: 'elicitation/create',
    params: {
      mode: 'form',
      message,
      requestedSchema: {
        type: 'object',
        properties: { confirm: { type: 'boolean', title, description: 'Tick to confirm; decline to leave everything unchanged', default: false } },
        required: ['confirm'],
      },
    },
  };
}

/** An ElicitResult as the client sends it back; anything else is treated as no answer. */
const elicitResult = z.object({
  action: z.enum(['accept', 'decline', 'cancel']),
  content: z.record(z.string(), z.unknown()).optional(),
});

export type ConfirmationAnswer = 'confirmed' | 'declined' | 'cancelled' | 'missing';

/**
 * The person's answer to the confirmation under `key`: accept with confirm = true is the only yes;
 * accept without it counts as declined; a malformed or absent entry is missing (ask again).
 */
export function confirmationAnswer(responses: Record<string, unknown> | undefined, key = CONFIRM_KEY): ConfirmationAnswer {
  const parsed = elicitResult.safeParse(responses?.[key]);
  if (!parsed.success) return 'missing';
  if (parsed.data.action === 'decline') return 'declined';
  if (parsed.data.action === 'cancel') return 'cancelled';
  return parsed.data.content?.confirm === true ? 'confirmed' : 'declined';
}
