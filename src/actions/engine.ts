// The one action mechanism (docs/DESIGN.md §1, issue 5). Every internal write becomes a row of
// pending_actions; the phase and guardrails decide whether it runs at once or waits for a human.
//
// Exactly once:
// - A decision locks the action row (`select … for update`) and every state change is guarded in SQL
//   (`where status = 'pending'`), so two approvers racing see one win and one "already executed".
// - The effect and the state change commit in ONE transaction (the caller's); an effect that fails
//   its re-check marks the action failed (the effect's savepoint is rolled back), anything unexpected
//   rolls the whole transaction back and the action stays pending.
// - Identical requests (same tenant, tool and arguments) are serialised by a transaction-scoped
//   advisory lock; while one is pending, or within DUPLICATE_WINDOW_MINUTES after one executed, a new
//   identical request returns that action instead of making another (A5). A unique partial index
//   (migrations/009_actions.sql) backs this for pending actions.
// - Guardrails measure the shop's data, never only the arguments (A8), and hold in aggregate over
//   executed and pending actions (A7, aggregates.ts): requests and executions of one tool in one
//   tenant take one transaction-scoped advisory lock, so concurrent requests are decided one after
//   the other, each seeing the ones before. Why an action waits is stored with it (wait_reason).
// - With an idempotency key, the first outcome is stored under (staff subject, key) and returned to
//   every retry; the same key with other arguments is refused (A5, F4).
//
// Four-eyes (A6): the approver is never the requester and must have may_approve. The one exception
// is in-band confirmation (`confirmOwnAction`), allowed only where the tenant's
// self_approval_limit_cents covers the action's money value.
//
// All functions take a transaction already in the staff member's RLS context (withContext).
import { requestHash } from '../idempotency.js';
import { z } from 'zod';
import { STAFF_ROLE_SCOPES, type StaffRole } from '../authz/scopes.js';
import { recordAudit } from '../audit/record.js';
import type { Tx } from '../db/context.js';
import { aggregateTotals, guardrailLock } from './aggregates.js';
import { ActionRefused, tenantCurrency, type ActionExecutor, type Prepared } from './executor.js';
import { decide, selfApprovalAllowed, type WriteTool } from './guardrails.js';
import { executorFor } from './tools.js';
import { actionDecided, actionPending } from '../webhooks/action-events.js';

export { ActionRefused } from './executor.js';

/** How long a pending action waits for a decision before it expires. */
export const ACTION_TTL_SECONDS = 72 * 3600;
/** An identical request this soon after an executed one is taken as a duplicate of it. */
export const DUPLICATE_WINDOW_MINUTES = 10;

export interface ActionRequest {
  tenantId: string;
  /** The requesting staff member (from the verified token) and their role. */
  staffId: string;
  role: string;
  /** The OAuth client and access token the request came through ('console', 'cli' for others). */
  clientId: string;
  tokenId?: string | null;
  requestId?: string | null;
  tool: string;
  /** The tool's own arguments (without justification / idempotency_key). */
  arguments: unknown;
  /** The assistant's stated reason: untrusted, shown to the approver as such. */
  justification?: string | null;
  idempotencyKey?: string | null;
}

export interface ExecutedOutcome {
  status: 'executed';
  action_id: string;
  tool: string;
  summary: string;
  result: Record<string, unknown>;
  message: string;
  /** Set when this request was recognised as a repeat of an earlier identical one. */
  duplicate_of_earlier_request?: true;
}

export interface PendingOutcome {
  status: 'pending';
  action_id: string;
  tool: string;
  summary: string;
  /** "waiting for approval (action <id>)" */
  message: string;
  reason: string;
  expires_at: string;
  duplicate_of_earlier_request?: true;
}

export type ActionOutcome = ExecutedOutcome | PendingOutcome;

export interface Decision {
  tenantId: string;
  actionId: string;
  /** The staff member deciding. */
  staffId: string;
  reason?: string | null;
  /** Where the decision was made, recorded in the audit: 'console', or the OAuth client id. */
  clientId: string;
  tokenId?: string | null;
  requestId?: string | null;
}

export type DecisionOutcome =
  | { status: 'executed'; action_id: string; result: Record<string, unknown>; message: string }
  | { status: 'rejected'; action_id: string; message: string }
  | { status: 'failed'; action_id: string; message: string }
  | { status: 'refused'; action_id: string; message: string; code: RefusalCode };

export type RefusalCode = 'not_found' | 'not_pending' | 'expired' | 'four_eyes' | 'not_an_approver' | 'self_approval_limit';

const idempotencyKey = z.string().regex(/^[\x21-\x7e]{8,128}$/);
const justification = z.string().max(2000);

function waitingMessage(actionId: string): string {
  return `waiting for approval (action ${actionId})`;
}

function argumentError(tool: string, error: z.ZodError): ActionRefused {
  const issues = error.issues.slice(0, 5).map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`);
  return new ActionRefused(`invalid arguments for ${tool}: ${issues.join('; ')}`);
}

function parseArguments(executor: ActionExecutor<any>, raw: unknown): Record<string, unknown> {
  const parsed = executor.args.safeParse(raw);
  if (!parsed.success) throw argumentError(executor.tool, parsed.error);
  return parsed.data as Record<string, unknown>;
}

interface ActionRow {
  id: string; tool: string; arguments: Record<string, unknown>; summary: string; justification: string | null;
  requested_by: string; client_id: string; token_id: string | null; status: string; created_at: Date; expires_at: Date;
  decided_by: string | null; decided_at: Date | null; decision_reason: string | null; executed_at: Date | null;
  result: Record<string, unknown> | null; wait_reason: string | null;
}

function outcomeOf(row: ActionRow, duplicate: boolean): ActionOutcome {
  const dup = duplicate ? { duplicate_of_earlier_request: true as const } : {};
  if (row.status === 'executed') {
    return { status: 'executed', action_id: row.id, tool: row.tool, summary: row.summary, result: row.result ?? {},
      message: `done (action ${row.id})`, ...dup };
  }
  return { status: 'pending', action_id: row.id, tool: row.tool, summary: row.summary, message: waitingMessage(row.id),
    reason: `an identical request is already waiting for approval${row.wait_reason ? ` (${row.wait_reason})` : ''}`, expires_at: row.expires_at.toISOString(), ...dup };
}

/**
 * Requests a write. Validates the arguments and the tenant's data (throws ActionRefused with a
 * message the agent can act on), records the action, and runs it at once when the tenant's phase and
 * guardrails allow; otherwise it waits for approval.
 */
export async function requestAction(tx: Tx, req: ActionRequest): Promise<ActionOutcome> {
  const executor = executorFor(req.tool);
  if (!executor) throw new ActionRefused(`${req.tool} is not a write tool`, 'not_found');
  // Defence in depth: the MCP layer checks the token's scopes; the role must allow the tool too.
  const roleScopes: readonly string[] = STAFF_ROLE_SCOPES[req.role as StaffRole] ?? [];
  if (!roleScopes.includes(executor.scope)) {
    throw new ActionRefused(`the ${req.role} role may not request ${req.tool} (needs ${executor.scope})`, 'forbidden');
  }
  const args = parseArguments(executor, req.arguments);
  const why = req.justification?.trim() || null;
  if (why !== null && !justification.safeParse(why).success) throw new ActionRefused('justification is too long: at most 2000 characters');
  const subject = `staff:${req.staffId}`;
  const hash = requestHash(req.tool, args);

  // Step: idempotency key (F4). Claimed with INSERT … ON CONFLICT: a parallel duplicate waits for the
  // first transaction and then reads its stored outcome.
  const key = req.idempotencyKey ?? null;
  if (key !== null) {
    if (!idempotencyKey.safeParse(key).success) throw new ActionRefused('idempotency_key must be 8–128 printable ASCII characters');
    const claimed = await tx`
      insert into idempotency_keys (tenant_id, subject, key, tool, request_hash)
      values (${req.tenantId}, ${subject}, ${key}, ${req.tool}, ${hash})
      on conflict do nothing returning key`;
    if (claimed.length === 0) {
      const [row] = await tx<{ tool: string; request_hash: string; response: ActionOutcome | null }[]>`
        select tool, request_hash, response from idempotency_keys
        where tenant_id = ${req.tenantId} and subject = ${subject} and key = ${key}`;
      if (!row || row.tool !== req.tool || row.request_hash !== hash) {
        throw new ActionRefused('this idempotency_key was already used for a different request: use a new key for a new request', 'conflict');
      }
      if (!row.response) throw new ActionRefused('a request with this idempotency_key is still in progress: retry shortly', 'conflict');
      return row.response;
    }
  }

  const outcome = await newOrDuplicate(tx, req, executor, args, why, hash);
  if (key !== null) {
    await tx`update idempotency_keys set response = ${tx.json(outcome as never)}
             where tenant_id = ${req.tenantId} and subject = ${subject} and key = ${key}`;
  }
  return outcome;
}

async function newOrDuplicate(
  tx: Tx, req: ActionRequest, executor: ActionExecutor<any>, args: Record<string, unknown>, why: string | null, hash: string,
): Promise<ActionOutcome> {
  // Step: serialise identical requests, then look for one already open or just executed (A5).
  await tx`select pg_advisory_xact_lock(hashtextextended(${`action:${req.tenantId}:${hash}`}, 0))`;
  const [earlier] = await tx<ActionRow[]>`
    select * from pending_actions
    where tenant_id = ${req.tenantId} and tool = ${req.tool} and md5(arguments::text) = md5(${tx.json(args as never)}::jsonb::text)
      and (status = 'pending' and expires_at > now()
           or status = 'executed' and executed_at > now() - make_interval(mins => ${DUPLICATE_WINDOW_MINUTES}))
    order by created_at desc limit 1`;
  if (earlier) {
    await recordAudit(tx, {
      tenantId: req.tenantId, event: 'action.duplicate', outcome: earlier.status, actorKind: 'staff', actorId: req.staffId,
      clientId: req.clientId, tokenId: req.tokenId ?? null, requestId: req.requestId ?? null, tool: req.tool, arguments: args,
      detail: { action_id: earlier.id },
    });
    return outcomeOf(earlier, true);
  }
  // Pending but past its expiry: mark it so the unique index admits the new request.
  await expireDueActions(tx, req.tenantId);

  // Step: serialise guardrail decisions of this tool in this tenant (A7: two requests at once cannot
  // both slip under an aggregate limit), then validate against the tenant's data, measure and decide.
  await guardrailLock(tx, req.tenantId, req.tool);
  const ctx = { tenantId: req.tenantId, requestedBy: req.staffId };
  const prepared = await executor.prepare(tx, ctx, args);
  const settings = await loadSettings(tx, req.tenantId);
  const stored = (settings.guardrails as Record<string, unknown>)[executor.tool];
  const totals = settings.phase >= 2
    ? await aggregateTotals(tx, { tenantId: req.tenantId, tool: executor.tool, requestedBy: req.staffId }, stored, prepared)
    : {};
  const decision = decide(settings.phase, executor.tool, stored, prepared.measures, totals, await tenantCurrency(tx, req.tenantId));
  const waitReason = decision.run === 'wait' ? decision.reason : null;

  const [row] = await tx<ActionRow[]>`
    insert into pending_actions (tenant_id, tool, arguments, summary, justification, requested_by, client_id, token_id, status, expires_at,
                                 measures, scope_order_id, scope_customer_id, scope_product_id, wait_reason)
    values (${req.tenantId}, ${req.tool}, ${tx.json(args as never)}, ${prepared.summary}, ${why}, ${req.staffId}, ${req.clientId},
            ${req.tokenId ?? null}, 'pending', now() + make_interval(secs => ${ACTION_TTL_SECONDS}),
            ${tx.json(prepared.measures as never)}, ${prepared.scope?.orderId ?? null}, ${prepared.scope?.customerId ?? null},
            ${prepared.scope?.productId ?? null}, ${waitReason})
    returning *`;
  const action = row!;
  const audit = {
    tenantId: req.tenantId, actorKind: 'staff' as const, actorId: req.staffId, clientId: req.clientId, tokenId: req.tokenId ?? null,
    requestId: req.requestId ?? null, tool: req.tool,
  };
  await recordAudit(tx, { ...audit, event: 'action.requested', outcome: decision.run === 'now' ? 'ok' : 'pending', arguments: args,
    detail: { action_id: action.id, summary: prepared.summary, decision: decision.reason, phase: settings.phase, measures: prepared.measures,
      totals, justification: why } });

  if (decision.run === 'wait') {
    await actionPending(tx, req.tenantId, action);
    return { status: 'pending', action_id: action.id, tool: req.tool, summary: prepared.summary, message: waitingMessage(action.id),
      reason: decision.reason, expires_at: action.expires_at.toISOString() };
  }
  // Runs at once: a refusal at this point (state changed since prepare) is the agent's to read.
  const result = await executor.execute(tx, { ...ctx, actionId: action.id, approvedBy: null }, args);
  const [done] = await tx<ActionRow[]>`
    update pending_actions set status = 'executed', executed_at = now(), decision_reason = ${decision.reason}, result = ${tx.json(result as never)}
    where tenant_id = ${req.tenantId} and id = ${action.id} and status = 'pending' returning *`;
  if (!done) throw new Error(`action ${action.id} changed state while executing`);
  await recordAudit(tx, { ...audit, event: 'action.executed', outcome: 'ok', detail: { action_id: action.id, approval: 'guardrail', decision: decision.reason } });
  return { status: 'executed', action_id: action.id, tool: req.tool, summary: prepared.summary, result, message: `done (action ${action.id})` };
}

export interface TenantActionSettings {
  phase: number;
  guardrails: Record<string, unknown>;
  selfApprovalLimitCents: number;
}

export async function loadSettings(tx: Tx, tenantId: string): Promise<TenantActionSettings> {
  const [s] = await tx<{ phase: number; guardrails: Record<string, unknown>; self_approval_limit_cents: string }[]>`
    select phase, guardrails, self_approval_limit_cents from tenant_settings where tenant_id = ${tenantId}`;
  // No readable settings: the strictest behaviour.
  if (!s) return { phase: 1, guardrails: {}, selfApprovalLimitCents: 0 };
  return { phase: s.phase, guardrails: s.guardrails ?? {}, selfApprovalLimitCents: Number(s.self_approval_limit_cents) };
}

async function lockAction(tx: Tx, tenantId: string, actionId: string): Promise<ActionRow | undefined> {
  if (!z.uuid().safeParse(actionId).success) return undefined;
  const [row] = await tx<ActionRow[]>`select * from pending_actions where tenant_id = ${tenantId} and id = ${actionId} for update`;
  return row;
}

async function refuse(tx: Tx, d: Decision, row: ActionRow | undefined, code: RefusalCode, message: string): Promise<DecisionOutcome> {
  await recordAudit(tx, {
    tenantId: d.tenantId, event: 'action.decision_refused', outcome: 'denied', actorKind: 'staff', actorId: d.staffId, clientId: d.clientId,
    tokenId: d.tokenId ?? null, requestId: d.requestId ?? null, tool: row?.tool ?? null, detail: { action_id: d.actionId, code, message },
  });
  return { status: 'refused', action_id: d.actionId, message, code };
}

/** The checks every decision starts with: exists, still pending, not expired. */
async function openForDecision(tx: Tx, d: Decision): Promise<{ row: ActionRow } | { refused: DecisionOutcome }> {
  const row = await lockAction(tx, d.tenantId, d.actionId);
  if (!row) return { refused: await refuse(tx, d, row, 'not_found', `no action ${d.actionId}`) };
  if (row.status !== 'pending') {
    return { refused: await refuse(tx, d, row, 'not_pending', `action ${row.id} is already ${row.status}: it cannot be decided again`) };
  }
  if (row.expires_at.getTime() <= Date.now()) {
    await markExpired(tx, d.tenantId, row.id, row.tool);
    return { refused: await refuse(tx, d, row, 'expired', `action ${row.id} expired at ${row.expires_at.toISOString()} without a decision: ask for it again if it is still needed`) };
  }
  return { row };
}

async function approver(tx: Tx, tenantId: string, staffId: string): Promise<{ may_approve: boolean } | undefined> {
  const [s] = await tx<{ may_approve: boolean }[]>`
    select may_approve from staff where tenant_id = ${tenantId} and id = ${staffId} and disabled_at is null`;
  return s;
}

/** Approves a pending action out of band (the console): four-eyes, then executes it exactly once. */
export async function approveAction(tx: Tx, d: Decision): Promise<DecisionOutcome> {
  const open = await openForDecision(tx, d);
  if ('refused' in open) return open.refused;
  const { row } = open;
  const who = await approver(tx, d.tenantId, d.staffId);
  if (!who?.may_approve) return refuse(tx, d, row, 'not_an_approver', 'you do not have approver rights in this shop');
  if (row.requested_by === d.staffId) {
    return refuse(tx, d, row, 'four_eyes', 'you requested this action: another staff member with approver rights must approve it');
  }
  return execute(tx, d, row, 'approved');
}

/**
 * In-band confirmation by the requester themself (MCP elicitation or a two-step confirm in the
 * same conversation). Allowed only where the tenant's self_approval_limit_cents covers the
 * action's money value, and only for staff with approver rights.
 */
export async function confirmOwnAction(tx: Tx, d: Decision): Promise<DecisionOutcome> {
  const open = await openForDecision(tx, d);
  if ('refused' in open) return open.refused;
  const { row } = open;
  if (row.requested_by !== d.staffId) return refuse(tx, d, row, 'four_eyes', 'only the requester confirms an action in band; others approve in the console');
  const who = await approver(tx, d.tenantId, d.staffId);
  if (!who?.may_approve) return refuse(tx, d, row, 'not_an_approver', 'you do not have approver rights: another staff member must approve this in the console');
  const executor = executorFor(row.tool)!;
  let prepared: Prepared;
  try {
    prepared = await tx.savepoint((sp) => executor.prepare(sp, { tenantId: d.tenantId, requestedBy: row.requested_by }, row.arguments));
  } catch (error) {
    if (!(error instanceof ActionRefused)) throw error;
    return fail(tx, d, row, error.message);
  }
  const settings = await loadSettings(tx, d.tenantId);
  if (!selfApprovalAllowed(settings.selfApprovalLimitCents, prepared.valueCents)) {
    return refuse(tx, d, row, 'self_approval_limit',
      'this shop does not allow you to approve your own action of this size: another staff member with approver rights must approve it in the console');
  }
  return execute(tx, d, row, 'self-approved');
}

async function fail(tx: Tx, d: Decision, row: ActionRow, message: string): Promise<DecisionOutcome> {
  await tx`update pending_actions set status = 'failed', decided_by = ${d.staffId}, decided_at = now(), decision_reason = ${d.reason ?? null},
             result = ${tx.json({ error: message })}
           where tenant_id = ${d.tenantId} and id = ${row.id} and status = 'pending'`;
  await actionDecided(tx, d.tenantId, row, 'failed');
  await recordAudit(tx, {
    tenantId: d.tenantId, event: 'action.failed', outcome: 'error', actorKind: 'staff', actorId: d.staffId, clientId: d.clientId,
    tokenId: d.tokenId ?? null, requestId: d.requestId ?? null, tool: row.tool, detail: { action_id: row.id, error: message },
  });
  return { status: 'failed', action_id: row.id, message: `approved, but it can no longer be done: ${message}` };
}

async function execute(tx: Tx, d: Decision, row: ActionRow, how: 'approved' | 'self-approved'): Promise<DecisionOutcome> {
  const executor = executorFor(row.tool);
  if (!executor) return fail(tx, d, row, `${row.tool} is no longer a write tool`);
  const audit = { tenantId: d.tenantId, actorKind: 'staff' as const, actorId: d.staffId, clientId: d.clientId, tokenId: d.tokenId ?? null,
    requestId: d.requestId ?? null, tool: row.tool };
  await recordAudit(tx, { ...audit, event: 'action.approved', outcome: 'ok',
    detail: { action_id: row.id, requested_by: row.requested_by, how, reason: d.reason ?? null } });
  // Moving an action from pending to executed changes the aggregate totals: the same lock as requests (A7).
  await guardrailLock(tx, d.tenantId, row.tool);
  let result: Record<string, unknown>;
  try {
    // The effect re-checks the data under row locks; a refusal rolls back only its savepoint.
    result = await tx.savepoint((sp) =>
      executor.execute(sp, { tenantId: d.tenantId, requestedBy: row.requested_by, actionId: row.id, approvedBy: d.staffId }, row.arguments));
  } catch (error) {
    if (!(error instanceof ActionRefused)) throw error;
    return fail(tx, d, row, error.message);
  }
  const [done] = await tx`
    update pending_actions set status = 'executed', decided_by = ${d.staffId}, decided_at = now(), decision_reason = ${d.reason ?? null},
           executed_at = now(), result = ${tx.json(result as never)}
    where tenant_id = ${d.tenantId} and id = ${row.id} and status = 'pending' returning id`;
  if (!done) throw new Error(`action ${row.id} changed state while executing`);
  await actionDecided(tx, d.tenantId, row, 'executed');
  await recordAudit(tx, { ...audit, event: 'action.executed', outcome: 'ok', detail: { action_id: row.id, approval: how } });
  return { status: 'executed', action_id: row.id, result, message: `approved and done (action ${row.id})` };
}

/**
 * Rejects a pending action: it will never run. Approvers may reject anyone's action; the requester
 * may withdraw their own. A reason is required.
 */
export async function rejectAction(tx: Tx, d: Decision): Promise<DecisionOutcome> {
  const open = await openForDecision(tx, d);
  if ('refused' in open) return open.refused;
  const { row } = open;
  const who = await approver(tx, d.tenantId, d.staffId);
  if (!who?.may_approve && row.requested_by !== d.staffId) {
    return refuse(tx, d, row, 'not_an_approver', 'you do not have approver rights in this shop');
  }
  const reason = d.reason?.trim();
  if (!reason) return refuse(tx, d, row, 'not_pending', 'a rejection needs a reason');
  await tx`update pending_actions set status = 'rejected', decided_by = ${d.staffId}, decided_at = now(), decision_reason = ${reason}
           where tenant_id = ${d.tenantId} and id = ${row.id} and status = 'pending'`;
  await actionDecided(tx, d.tenantId, row, 'rejected');
  await recordAudit(tx, {
    tenantId: d.tenantId, event: 'action.rejected', outcome: 'ok', actorKind: 'staff', actorId: d.staffId, clientId: d.clientId,
    tokenId: d.tokenId ?? null, requestId: d.requestId ?? null, tool: row.tool,
    detail: { action_id: row.id, requested_by: row.requested_by, reason, withdrawn: row.requested_by === d.staffId },
  });
  return { status: 'rejected', action_id: row.id, message: `rejected (action ${row.id})` };
}

/** The reason recorded when a requester withdraws their own action. */
export const WITHDRAWN_REASON = 'withdrawn by the requester';

/**
 * The requester withdraws their own pending action: it will never run. Recorded as rejected by
 * the requester (the status the agent reads stays one of the five), with WITHDRAWN_REASON unless
 * they gave one; only the requester may withdraw.
 */
export async function withdrawAction(tx: Tx, d: Decision): Promise<DecisionOutcome> {
  const open = await openForDecision(tx, d);
  if ('refused' in open) return open.refused;
  const { row } = open;
  if (row.requested_by !== d.staffId) return refuse(tx, d, row, 'four_eyes', 'only the requester withdraws an action; approvers reject it');
  const reason = d.reason?.trim() || WITHDRAWN_REASON;
  await tx`update pending_actions set status = 'rejected', decided_by = ${d.staffId}, decided_at = now(), decision_reason = ${reason}
           where tenant_id = ${d.tenantId} and id = ${row.id} and status = 'pending'`;
  await recordAudit(tx, {
    tenantId: d.tenantId, event: 'action.rejected', outcome: 'ok', actorKind: 'staff', actorId: d.staffId, clientId: d.clientId,
    tokenId: d.tokenId ?? null, requestId: d.requestId ?? null, tool: row.tool,
    detail: { action_id: row.id, requested_by: row.requested_by, reason, withdrawn: true },
  });
  return { status: 'rejected', action_id: row.id, message: `withdrawn (action ${row.id})` };
}

async function markExpired(tx: Tx, tenantId: string, id: string, tool: string): Promise<void> {
  const rows = await tx`update pending_actions set status = 'expired', decided_at = now(), decision_reason = 'expired without a decision'
                        where tenant_id = ${tenantId} and id = ${id} and status = 'pending' returning id`;
  if (rows.length) {
    await actionDecided(tx, tenantId, { id, tool }, 'expired');
    await recordAudit(tx, { tenantId, event: 'action.expired', outcome: 'ok', actorKind: 'system', tool, detail: { action_id: id } });
  }
}

/** Marks every pending action past its expiry as expired; returns their ids. */
export async function expireDueActions(tx: Tx, tenantId: string): Promise<string[]> {
  const due = await tx<{ id: string; tool: string }[]>`
    select id, tool from pending_actions where tenant_id = ${tenantId} and status = 'pending' and expires_at <= now()
    order by created_at for update skip locked`;
  for (const a of due) await markExpired(tx, tenantId, a.id, a.tool);
  return due.map((a) => a.id);
}

/** Expires one pending action now (admin command). */
export async function expireAction(tx: Tx, tenantId: string, actionId: string): Promise<boolean> {
  const row = await lockAction(tx, tenantId, actionId);
  if (!row || row.status !== 'pending') return false;
  await markExpired(tx, tenantId, row.id, row.tool);
  return true;
}

export type { WriteTool };
