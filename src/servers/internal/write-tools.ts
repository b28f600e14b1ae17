// The internal write tools (docs/DESIGN.md §1, issue 5): one MCP tool per action executor, each a thin
// wrapper over the action engine (src/actions/engine.ts). The engine validates the arguments against
// the tenant's data, records the action and decides by phase and guardrails whether it runs now or
// waits for a human; this module only maps MCP in and out:
//   input   = the executor's strict arguments + justification + idempotency_key (WRITE_TOOL_EXTRAS)
//   scope   = the executor's scope (the endpoint answers 403 insufficient_scope without it, M6)
//   output  = executed → the effect's result; pending → "waiting for approval (action …)" with the
//             action id and expiry, or, to a 2026-07-28 client that declared the Tasks extension,
//             a task (resultType "task", ../mcp/tasks.ts) whose id is the action id; refused → a tool
//             error carrying the engine's words (isError).
// Descriptions are static (P2) and the outcome never carries customer text: summaries are the
// executors' own words.
import { z } from 'zod';
import { ActionRefused, requestAction, type ActionOutcome } from '../../actions/engine.js';
import type { ActionExecutor } from '../../actions/executor.js';
import { WRITE_EXECUTORS, WRITE_TOOL_EXTRAS } from '../../actions/tools.js';
import type { WriteTool } from '../../actions/guardrails.js';
import { consoleActionUrl } from '../../authz/resources.js';
import { defineTool, ToolError, type CallContext, type ToolDefinition } from '../mcp/capability.js';
import { taskForPendingAction } from '../mcp/tasks.js';

/** What every write tool returns: the action's outcome, the message first so a text-only client reads it first. */
export const actionOutcomeOutput = z.object({
  message: z.string().describe('"done (action …)" or "waiting for approval (action …)"'),
  status: z.enum(['executed', 'pending']),
  action_id: z.string(),
  tool: z.string(),
  summary: z.string().describe('What the action does, in our words'),
  result: z.record(z.string(), z.unknown()).optional().describe('The effect, when executed'),
  reason: z.string().optional().describe('Why it waits: the phase, or which guardrail limit it would exceed (per action or in aggregate)'),
  expires_at: z.string().optional().describe('When a pending action expires without a decision'),
  console_url: z.string().optional().describe('The approval console page where staff decide this pending action'),
  next_step: z.string().optional(),
  duplicate_of_earlier_request: z.boolean().optional()
    .describe('This request repeated an identical one that is still waiting or just ran: that action is returned, nothing new was done'),
});
export type ActionOutcomeOutput = z.infer<typeof actionOutcomeOutput>;

const PENDING_NEXT_STEP =
  'Nothing has changed yet. Tell the staff member it waits for approval by another staff member with approver rights ' +
  '(approval console). Call get_action_status with this action_id to learn the outcome; do not request the same action again.';

const APPROVAL_NOTE =
  ' Every call becomes an action: depending on the shop\'s phase and guardrails it runs at once (status "executed", with the result) ' +
  'or waits for a human approver (status "pending", with action_id: check it with get_action_status). ' +
  'Arguments are checked against the shop\'s data; a refusal says what to change.';

/** Updates existing records rather than adding new ones (MCP ToolAnnotations.destructiveHint). */
const UPDATES_EXISTING: ReadonlySet<WriteTool> = new Set([
  'reroute_delivery', 'decide_return', 'resolve_damage_claim', 'issue_refund', 'change_price',
]);

export function toOutput(o: ActionOutcome, consoleUrl?: string | null): ActionOutcomeOutput {
  const dup = o.duplicate_of_earlier_request ? { duplicate_of_earlier_request: true } : {};
  if (o.status === 'executed') {
    return { message: o.message, status: o.status, action_id: o.action_id, tool: o.tool, summary: o.summary, result: o.result, ...dup };
  }
  return {
    message: `${o.message}: ${o.summary}. Why it waits: ${o.reason}`, status: o.status, action_id: o.action_id, tool: o.tool, summary: o.summary, reason: o.reason,
    expires_at: o.expires_at, ...(consoleUrl ? { console_url: consoleUrl } : {}), next_step: PENDING_NEXT_STEP, ...dup,
  };
}

/** The engine's refusal as a tool error the agent can act on (the endpoint answers it with isError). */
export function refusalToToolError(error: ActionRefused): ToolError {
  const code = error.code === 'not_found' ? 'not_found' : error.code === 'conflict' ? 'conflict' : 'invalid';
  return new ToolError(error.message, code);
}

function writeTool(executor: ActionExecutor<any>): ToolDefinition<any, ActionOutcomeOutput> {
  const input = executor.args.extend(WRITE_TOOL_EXTRAS).strict();
  return defineTool({
    name: executor.tool,
    title: executor.title,
    description: executor.description + APPROVAL_NOTE,
    scope: executor.scope,
    annotations: {
      readOnlyHint: false,
      destructiveHint: UPDATES_EXISTING.has(executor.tool),
      idempotentHint: false,
      openWorldHint: false,
    },
    input,
    output: actionOutcomeOutput,
    writes: true,
    async run(ctx: CallContext, all: Record<string, unknown>) {
      if (ctx.actor.kind !== 'staff') throw new ToolError('write tools are for staff tokens only', 'invalid');
      const { justification, idempotency_key, ...args } = all;
      try {
        const outcome = await requestAction(ctx.tx, {
          tenantId: ctx.tenantId,
          staffId: ctx.actor.staffId,
          role: ctx.actor.role,
          clientId: ctx.token.clientId,
          tokenId: ctx.token.id,
          requestId: ctx.requestId,
          tool: executor.tool,
          arguments: args,
          justification: (justification as string | undefined) ?? null,
          idempotencyKey: (idempotency_key as string | undefined) ?? null,
        });
        // A client that declared the Tasks extension (2026-07-28) gets the wait as a task (../mcp/tasks.ts).
        if (outcome.status === 'pending' && ctx.protocol.era === 'modern' && ctx.protocol.tasks) {
          const task = await taskForPendingAction(ctx, outcome.action_id);
          if (task) return task;
        }
        return toOutput(outcome, consoleActionUrl(ctx.token.resource, outcome.action_id));
      } catch (error) {
        if (error instanceof ActionRefused) throw refusalToToolError(error);
        throw error;
      }
    },
  });
}

/** One tool per executor, in the executors' order. */
export const internalWriteTools: ToolDefinition<any, ActionOutcomeOutput>[] =
  (Object.values(WRITE_EXECUTORS) as ActionExecutor<any>[]).map(writeTool);
