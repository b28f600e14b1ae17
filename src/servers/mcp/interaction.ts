// In-band interaction on MCP 2026-07-28: the confirmation form our writes ask with (an MRTR
// inputRequest, or a task's), reading the person's answer, and the Task shape of the Tasks extension.
// What the client declared and sent back arrives in CallContext.protocol (revision.ts); what a tool
// may answer besides its output is InputRequired / TaskCreated (capability.ts).
import { z } from 'zod';

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
