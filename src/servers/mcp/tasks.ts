// Approvals as tasks (the Tasks extension, io.modelcontextprotocol/tasks, experimental-ext-tasks
// "Tasks"): an internal write that must wait for a person (phase 1, or over a guardrail) is
// answered to a client that declared the extension with a task whose id is the pending action's id.
// The task IS the pending_actions row: every status is read from PostgreSQL on each tasks/get, so
// any instance answers and nothing lives in process memory.
//
//   pending (and the requester may confirm it themself)  → input_required, a confirmation elicitation
//   pending                                              → working ("waiting for approval …")
//   executed                                             → completed, result = the tool's CallToolResult
//   rejected by another staff member                     → failed, error names the reason
//   withdrawn (rejected by the requester)                → cancelled
//   expired (or pending past its expiry)                 → failed, "expired without a decision"
//   failed on execution                                  → failed, the executor's refusal
//
// Binding: a task is visible only to the staff member who requested it, in its tenant; anyone else
// (another staff member, another tenant, a customer token) gets the same -32602 "Task not found" as
// a missing id. Self-confirmation through tasks/update additionally needs the OAuth client the action
// was requested through (as confirm_my_action does) and is decided by the engine (approver rights,
// the tenant's self_approval_limit_cents).
//
// Routed here by dispatch.ts on modern requests, inside the request's RLS transaction in the caller's
// context; the result gets resultType "complete" and serverInfo from the dispatcher; an RpcError is
// the JSON-RPC error. Each call is audited (one entry per call, tool = the method name).
import { z } from 'zod';
import { confirmOwnAction, loadSettings, withdrawAction } from '../../actions/engine.js';
import { selfApprovalAllowed } from '../../actions/guardrails.js';
import { getActionStatus, type ActionStatus } from '../../actions/status.js';
import { executorFor } from '../../actions/tools.js';
import { ActionRefused } from '../../actions/executor.js';
import { consoleActionUrl } from '../../authz/resources.js';
import { TaskCreated, type CallContext } from './capability.js';
import { confirmationAnswer, confirmationElicitation, CONFIRM_KEY, type TaskView } from './interaction.js';
import { TASKS_EXTENSION } from './revision.js';
import { INVALID_PARAMS, needCall, RpcError, type RequestScope } from './rpc.js';

/** Humans decide in minutes to hours: a gentle polling pace. */
export const TASK_POLL_INTERVAL_MS = 15_000;

export { INVALID_PARAMS };

/** Extensions advertised in `server/discover` capabilities.extensions (modern era, internal endpoint). */
export const SERVER_EXTENSIONS: Record<string, Record<string, unknown>> = { [TASKS_EXTENSION]: {} };

/** The error of a failed task: the action did not run, and why (server-defined codes, -32000…-32099). */
export const ACTION_REJECTED = -32060;
export const ACTION_EXPIRED = -32061;
export const ACTION_FAILED = -32062;

/** tasks §"Protocol Errors": a missing id, and (A1) anyone else's task, look exactly alike. */
const NOT_FOUND = () => new RpcError(INVALID_PARAMS, 'Failed to retrieve task: Task not found');

const taskParams = z.object({ taskId: z.string().max(100) }).loose();
const updateParams = taskParams.extend({ inputResponses: z.record(z.string(), z.unknown()) });

function staffIdOf(ctx: CallContext): string | null {
  return ctx.actor.kind === 'staff' ? ctx.actor.staffId : null;
}

/** The action behind a task, if this caller may see it: same tenant (RLS + query), same requester. */
async function ownAction(ctx: CallContext, taskId: string): Promise<ActionStatus | null> {
  const staffId = staffIdOf(ctx);
  if (!staffId) return null;
  const s = await getActionStatus(ctx.tx, ctx.tenantId, taskId);
  return s && s.requested_by.id === staffId ? s : null;
}

/** Whether the requester may confirm this pending action in band (engine.confirmOwnAction's rules, read only). */
async function selfConfirmable(ctx: CallContext, s: ActionStatus): Promise<boolean> {
  if (s.client_id !== ctx.token.clientId) return false;
  const settings = await loadSettings(ctx.tx, ctx.tenantId);
  if (settings.selfApprovalLimitCents <= 0) return false;
  const [me] = await ctx.tx<{ may_approve: boolean }[]>`
    select may_approve from staff where tenant_id = ${ctx.tenantId} and id = ${s.requested_by.id} and disabled_at is null`;
  if (!me?.may_approve) return false;
  const executor = executorFor(s.tool);
  if (!executor) return false;
  try {
    const prepared = await ctx.tx.savepoint((sp) => executor.prepare(sp, { tenantId: ctx.tenantId, requestedBy: s.requested_by.id }, s.arguments));
    return selfApprovalAllowed(settings.selfApprovalLimitCents, prepared.valueCents);
  } catch (error) {
    // It can no longer be done as requested: a colleague's decision (or expiry) settles it.
    if (error instanceof ActionRefused) return false;
    throw error;
  }
}

/** The tool's result as it would have been returned synchronously (a CallToolResult). */
function completedResult(s: ActionStatus): Record<string, unknown> {
  const output = {
    message: `approved and done (action ${s.action_id})`, status: 'executed', action_id: s.action_id, tool: s.tool, summary: s.summary,
    result: s.result ?? {},
  };
  return { content: [{ type: 'text', text: JSON.stringify(output) }], structuredContent: output };
}

/** The Task for an action, as tasks/get reports it now. */
export async function taskView(ctx: CallContext, s: ActionStatus): Promise<TaskView> {
  const createdAt = s.requested_at;
  const base = {
    taskId: s.action_id,
    createdAt,
    lastUpdatedAt: s.executed_at ?? s.decided_at ?? createdAt,
    ttlMs: Math.max(0, Date.parse(s.expires_at) - Date.parse(createdAt)),
    pollIntervalMs: TASK_POLL_INTERVAL_MS,
  };
  const data = { action_id: s.action_id, status: s.status };
  switch (s.status) {
    case 'pending': {
      if (await selfConfirmable(ctx, s)) {
        return {
          ...base, status: 'input_required',
          statusMessage: `${s.summary}: this shop lets you approve it yourself; confirm to run it now`,
          inputRequests: {
            [CONFIRM_KEY]: confirmationElicitation(
              [`Run this action now, on your own approval?`, '', `• ${s.summary}`, ...(s.wait_reason ? [`• Why it waits: ${s.wait_reason}`] : [])].join('\n'),
              'Approve and run it now',
            ),
          },
        };
      }
      const url = consoleActionUrl(ctx.token.resource, s.action_id);
      return {
        ...base, status: 'working',
        statusMessage: `Waiting for approval by another staff member${s.wait_reason ? ` (${s.wait_reason})` : ''}${url ? `: ${url}` : ''}`,
      };
    }
    case 'executed':
      return { ...base, status: 'completed', statusMessage: `done (action ${s.action_id})`, result: completedResult(s) };
    case 'rejected': {
      if (s.decided_by?.id === s.requested_by.id) {
        return { ...base, status: 'cancelled', statusMessage: `withdrawn (action ${s.action_id})${s.decision_reason ? `: ${s.decision_reason}` : ''}` };
      }
      const message = `rejected by ${s.decided_by?.name ?? 'an approver'}: ${s.decision_reason ?? 'no reason given'}`;
      return { ...base, status: 'failed', statusMessage: message, error: { code: ACTION_REJECTED, message, data } };
    }
    case 'expired': {
      const message = `expired without a decision at ${s.expires_at}: request it again if it is still needed`;
      return { ...base, status: 'failed', statusMessage: message, error: { code: ACTION_EXPIRED, message, data } };
    }
    default: {
      const why = typeof s.result?.error === 'string' ? s.result.error : 'it could no longer be done';
      const message = `approved, but it could not be done: ${why}`;
      return { ...base, status: 'failed', statusMessage: message, error: { code: ACTION_FAILED, message, data } };
    }
  }
}

/**
 * A write tool's answer for a waiting action, to a client that declared the extension: the task, or
 * null when the action is not this caller's (a duplicate of a colleague's request): the caller then
 * gets today's pending answer.
 */
export async function taskForPendingAction(ctx: CallContext, actionId: string): Promise<TaskCreated | null> {
  const s = await ownAction(ctx, actionId);
  return s ? new TaskCreated({ ...(await taskView(ctx, s)) }) : null;
}

async function getTask(ctx: CallContext, params: unknown): Promise<Record<string, unknown>> {
  const p = taskParams.safeParse(params);
  if (!p.success) throw new RpcError(INVALID_PARAMS, 'Invalid params: tasks/get needs a string "taskId"');
  const s = await ownAction(ctx, p.data.taskId);
  if (!s) throw NOT_FOUND();
  return { ...(await taskView(ctx, s)) };
}

/** tasks §"Task Cancellation": cooperative; here it withdraws the action if it still waits. */
async function cancelTask(ctx: CallContext, params: unknown): Promise<Record<string, unknown>> {
  const p = taskParams.safeParse(params);
  if (!p.success) throw new RpcError(INVALID_PARAMS, 'Invalid params: tasks/cancel needs a string "taskId"');
  const s = await ownAction(ctx, p.data.taskId);
  if (!s) throw NOT_FOUND();
  if (s.status === 'pending') {
    // A refusal (decided meanwhile, expired) is fine: the task reports its real end.
    await withdrawAction(ctx.tx, decisionBy(ctx, s.action_id, null));
  }
  return {};
}

/**
 * tasks §"Task Update Requests": the answer to the self-confirmation. Accept with confirm = true
 * runs the action on the requester's own approval (the engine decides whether that is allowed);
 * decline withdraws it; cancel, unknown keys or an answer to a task not asking leave it as it is.
 */
async function updateTask(ctx: CallContext, params: unknown): Promise<Record<string, unknown>> {
  const p = updateParams.safeParse(params);
  if (!p.success) throw new RpcError(INVALID_PARAMS, 'Invalid params: tasks/update needs a string "taskId" and an object "inputResponses"');
  const s = await ownAction(ctx, p.data.taskId);
  if (!s) throw NOT_FOUND();
  const answer = confirmationAnswer(p.data.inputResponses);
  if (s.status !== 'pending' || answer === 'missing' || answer === 'cancelled') return {};
  if (!(await selfConfirmable(ctx, s))) return {};
  if (answer === 'confirmed') {
    await confirmOwnAction(ctx.tx, decisionBy(ctx, s.action_id, 'confirmed in band by the requester (tasks/update)'));
  } else {
    await withdrawAction(ctx.tx, decisionBy(ctx, s.action_id, 'declined in band by the requester'));
  }
  return {};
}

function decisionBy(ctx: CallContext, actionId: string, reason: string | null) {
  return {
    tenantId: ctx.tenantId, actionId, staffId: staffIdOf(ctx)!, reason, clientId: ctx.token.clientId, tokenId: ctx.token.id,
    requestId: ctx.requestId,
  };
}

export const TASK_METHODS = ['tasks/get', 'tasks/cancel', 'tasks/update'] as const;
export type TaskMethod = (typeof TASK_METHODS)[number];

/** One task request, in the caller's transaction and RLS context. Throws RpcError. */
export async function answerTaskRequest(ctx: CallContext, method: TaskMethod, params: unknown): Promise<Record<string, unknown>> {
  switch (method) {
    case 'tasks/get':
      return getTask(ctx, params);
    case 'tasks/update':
      return updateTask(ctx, params);
    case 'tasks/cancel':
      return cancelTask(ctx, params);
  }
}

/** The dispatcher's entry: answers and records the call for its audit entry. */
export async function answerTaskMethod(scope: RequestScope, method: TaskMethod, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { record } = scope;
  record.tool = method;
  record.arguments = { taskId: params.taskId };
  try {
    const result = await answerTaskRequest(needCall(scope), method, params);
    record.outcome = 'ok';
    return result;
  } catch (error) {
    if (error instanceof RpcError) {
      record.outcome = 'error';
      record.detail = { error: error.message };
    }
    throw error;
  }
}
