// Reading actions (the agent's status tool, the console, the admin command) and the tenant's phase
// and guardrails. Reads run in the caller's RLS context; nothing here changes an action's state.
import { z } from 'zod';
import { recordAudit } from '../audit/record.js';
import type { Actor, Sql, Tx } from '../db/context.js';
import { withContext } from '../db/context.js';
import { ActionRefused, type Prepared } from './executor.js';
import { guardrailsSchema, phaseSchema, type Guardrails, type Phase } from './guardrails.js';
import { executorFor } from './tools.js';

export interface ActionStatus {
  action_id: string;
  tool: string;
  /** pending | executed | rejected | expired | failed ('approved' never stays: approval executes). */
  status: string;
  summary: string;
  arguments: Record<string, unknown>;
  requested_by: { id: string; name: string; email: string };
  client_id: string;
  requested_at: string;
  expires_at: string;
  decided_by: { id: string; name: string } | null;
  decided_at: string | null;
  decision_reason: string | null;
  executed_at: string | null;
  result: Record<string, unknown> | null;
  /** The assistant's stated reason, unverified. */
  justification: string | null;
  /** Why it waited for approval (the phase, or the guardrail limit it would have exceeded); null when it ran at once. */
  wait_reason: string | null;
  message: string;
}

interface Row {
  id: string; tool: string; status: string; summary: string; arguments: Record<string, unknown>; requested_by: string;
  requester_name: string; requester_email: string; client_id: string; created_at: Date; expires_at: Date; decided_by: string | null;
  decider_name: string | null; decided_at: Date | null; decision_reason: string | null; executed_at: Date | null;
  result: Record<string, unknown> | null; justification: string | null; wait_reason: string | null;
}

function view(r: Row): ActionStatus {
  // A pending action past its expiry is reported as expired even before the sweep marks it.
  const status = r.status === 'pending' && r.expires_at.getTime() <= Date.now() ? 'expired' : r.status;
  const message = {
    pending: `waiting for approval (action ${r.id})`,
    executed: `done (action ${r.id})`,
    rejected: `rejected (action ${r.id})${r.decision_reason ? `: ${r.decision_reason}` : ''}`,
    expired: `expired without a decision (action ${r.id}): request it again if it is still needed`,
    failed: `approved but could not be done (action ${r.id})`,
    approved: `approved (action ${r.id})`,
  }[status] ?? status;
  return {
    action_id: r.id, tool: r.tool, status, summary: r.summary, arguments: r.arguments,
    requested_by: { id: r.requested_by, name: r.requester_name, email: r.requester_email }, client_id: r.client_id,
    requested_at: r.created_at.toISOString(), expires_at: r.expires_at.toISOString(),
    decided_by: r.decided_by ? { id: r.decided_by, name: r.decider_name ?? '' } : null,
    decided_at: r.decided_at?.toISOString() ?? null, decision_reason: r.decision_reason, executed_at: r.executed_at?.toISOString() ?? null,
    result: r.result, justification: r.justification, wait_reason: r.wait_reason, message,
  };
}

function select(tx: Tx, tenantId: string) {
  return tx`
    select a.id, a.tool, a.status::text as status, a.summary, a.arguments, a.requested_by, rs.name as requester_name, rs.email as requester_email,
           a.client_id, a.created_at, a.expires_at, a.decided_by, ds.name as decider_name, a.decided_at, a.decision_reason, a.executed_at,
           a.result, a.justification, a.wait_reason
    from pending_actions a
    join staff rs on rs.tenant_id = a.tenant_id and rs.id = a.requested_by
    left join staff ds on ds.tenant_id = a.tenant_id and ds.id = a.decided_by
    where a.tenant_id = ${tenantId}`;
}

/** One action's status, or null when there is no such action in this tenant. */
export async function getActionStatus(tx: Tx, tenantId: string, actionId: string): Promise<ActionStatus | null> {
  if (!z.uuid().safeParse(actionId).success) return null;
  const [row] = await tx<Row[]>`${select(tx, tenantId)} and a.id = ${actionId}`;
  return row ? view(row) : null;
}

export interface ActionFilter {
  status?: string;
  /** Only this write tool's actions. */
  tool?: string;
  /** Only actions this staff member requested. */
  requestedBy?: string;
  limit?: number;
}

export async function listActions(tx: Tx, tenantId: string, options: ActionFilter = {}): Promise<ActionStatus[]> {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
  const rows = await tx<Row[]>`${select(tx, tenantId)}
    ${options.status ? tx`and a.status = ${options.status}::action_status` : tx``}
    ${options.tool ? tx`and a.tool = ${options.tool}` : tx``}
    ${options.requestedBy && z.uuid().safeParse(options.requestedBy).success ? tx`and a.requested_by = ${options.requestedBy}` : tx``}
    order by a.created_at ${options.status === 'pending' ? tx`asc` : tx`desc`} limit ${limit}`;
  return rows.map(view);
}

/** One entry of an action's history, from the audit log (migrations/015_action_history.sql). */
export interface ActionHistoryEntry {
  at: string;
  event: string;
  outcome: string;
  actor_kind: string;
  actor_name: string | null;
  client_id: string | null;
  detail: Record<string, unknown>;
}

/** The audit entries that name this action, oldest first. Runs in a staff context (audit_events_read). */
export async function actionHistory(tx: Tx, tenantId: string, actionId: string): Promise<ActionHistoryEntry[]> {
  if (!z.uuid().safeParse(actionId).success) return [];
  const rows = await tx<{ at: Date; event: string; outcome: string; actor_kind: string; actor_name: string | null; client_id: string | null; detail: Record<string, unknown> | null }[]>`
    select e.at, e.event, e.outcome, e.actor_kind, s.name as actor_name, e.client_id, e.detail
    from audit_events e
    left join staff s on s.tenant_id = e.tenant_id and e.actor_kind = 'staff' and s.id::text = e.actor_id
    where e.tenant_id = ${tenantId} and e.detail->>'action_id' = ${actionId} and e.event like 'action.%'
    order by e.pos limit 200`;
  return rows.map((r) => ({ at: r.at.toISOString(), event: r.event, outcome: r.outcome, actor_kind: r.actor_kind, actor_name: r.actor_name,
    client_id: r.client_id, detail: r.detail ?? {} }));
}

/**
 * Why an action waited (or ran at once): the engine's decision as recorded when it was requested
 * ("phase 1: every write waits for approval", "amount_cents 6000 is above the limit 5000").
 */
export function waitReasonOf(history: readonly ActionHistoryEntry[]): string | null {
  const requested = history.find((h) => h.event === 'action.requested');
  return typeof requested?.detail.decision === 'string' ? requested.detail.decision : null;
}

/** Why each of these actions waited, in one query (for the console's list). */
export async function waitReasons(tx: Tx, tenantId: string, actionIds: readonly string[]): Promise<Map<string, string>> {
  const ids = actionIds.filter((id) => z.uuid().safeParse(id).success);
  if (!ids.length) return new Map();
  const rows = await tx<{ action_id: string; decision: string | null }[]>`
    select e.detail->>'action_id' as action_id, e.detail->>'decision' as decision from audit_events e
    where e.tenant_id = ${tenantId} and e.detail->>'action_id' in ${tx(ids)} and e.event = 'action.requested'`;
  return new Map(rows.filter((r) => r.decision).map((r) => [r.action_id, r.decision!]));
}

/** The tenant's staff who have requested actions (the console's requester filter). */
export async function requesters(tx: Tx, tenantId: string): Promise<{ id: string; name: string; email: string }[]> {
  return tx<{ id: string; name: string; email: string }[]>`
    select s.id, s.name, s.email from staff s
    where s.tenant_id = ${tenantId} and exists (select 1 from pending_actions a where a.tenant_id = s.tenant_id and a.requested_by = s.id)
    order by s.name, s.email`;
}

/**
 * What an approver sees besides the record: the executor's current reading of the data (stock,
 * refundable amount, the customer's reason as delimited untrusted data). `refusal` is set when the
 * action could no longer be done as things stand.
 */
export async function actionContext(tx: Tx, tenantId: string, a: ActionStatus): Promise<{ context: Record<string, unknown> | null; refusal: string | null }> {
  const executor = executorFor(a.tool);
  if (!executor) return { context: null, refusal: `${a.tool} is not a write tool` };
  try {
    const prepared: Prepared = await tx.savepoint((sp) => executor.prepare(sp, { tenantId, requestedBy: a.requested_by.id }, a.arguments));
    return { context: prepared.context, refusal: null };
  } catch (error) {
    if (error instanceof ActionRefused) return { context: null, refusal: error.message };
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 3 and the tenant's settings.

/** Phase 3 enables the tenant's customer endpoint. `tx` must carry any context of that tenant. */
export async function isCustomerEndpointEnabled(tx: Tx, tenantId: string): Promise<boolean> {
  const [row] = await tx<{ phase: number }[]>`select phase from tenant_settings where tenant_id = ${tenantId}`;
  return (row?.phase ?? 1) >= 3;
}

/** The same from a pool: opens a short transaction in the tenant's 'auth' context. */
export async function customerEndpointEnabled(sql: Sql, tenantId: string): Promise<boolean> {
  return withContext(sql, { kind: 'auth', tenantId }, (tx) => isCustomerEndpointEnabled(tx, tenantId));
}

export interface ActionSettings {
  phase: Phase;
  guardrails: Guardrails;
  selfApprovalLimitCents: number;
}

export const actionSettingsSchema = z.object({
  phase: phaseSchema,
  guardrails: guardrailsSchema,
  selfApprovalLimitCents: z.number().int().min(0).max(100_000_000_00),
}).strict();

export async function readActionSettings(tx: Tx, tenantId: string): Promise<ActionSettings> {
  const [s] = await tx<{ phase: number; guardrails: unknown; self_approval_limit_cents: string }[]>`
    select phase, guardrails, self_approval_limit_cents from tenant_settings where tenant_id = ${tenantId}`;
  const guardrails = guardrailsSchema.safeParse(s?.guardrails ?? {});
  return {
    phase: (phaseSchema.safeParse(s?.phase).data ?? 1) as Phase,
    guardrails: guardrails.success ? guardrails.data : {},
    selfApprovalLimitCents: Number(s?.self_approval_limit_cents ?? 0),
  };
}

/**
 * Sets the phase, guardrails and self-approval limit. In a staff context only a tenant_admin may
 * (RLS: tenant_settings_admin); the admin command runs as the owner. Validated with zod first, so a
 * malformed guardrail can never be stored. Audited with before and after.
 */
export async function updateActionSettings(tx: Tx, tenantId: string, next: ActionSettings, by: { actor: Actor | 'owner'; clientId: string; requestId?: string | null }): Promise<ActionSettings> {
  const parsed = actionSettingsSchema.safeParse(next);
  if (!parsed.success) {
    throw new ActionRefused(`invalid settings: ${parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`).join('; ')}`);
  }
  const before = await readActionSettings(tx, tenantId);
  const v = parsed.data;
  const updated = await tx`
    update tenant_settings set phase = ${v.phase}, guardrails = ${tx.json(v.guardrails as never)}, self_approval_limit_cents = ${v.selfApprovalLimitCents},
           updated_at = now()
    where tenant_id = ${tenantId} returning tenant_id`;
  if (updated.length === 0) throw new ActionRefused('only a tenant admin may change the phase and guardrails', 'forbidden');
  const actor = by.actor;
  await recordAudit(tx, {
    tenantId, event: 'settings.actions_changed', outcome: 'ok',
    actorKind: actor === 'owner' ? 'system' : actor.kind === 'staff' ? 'staff' : 'system',
    actorId: actor !== 'owner' && actor.kind === 'staff' ? actor.staffId : null, clientId: by.clientId, requestId: by.requestId ?? null,
    detail: { before, after: v },
  });
  return v;
}

// ---------------------------------------------------------------------------------------------
// The shop's time zone (migrations/015_action_history.sql): how the console shows times.

/** An IANA zone name the runtime knows ("Europe/Amsterdam"); Intl is the judge. */
export const timeZoneSchema = z.string().trim().min(1).max(64).regex(/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/, 'not a time zone name')
  .refine((zone) => { try { new Intl.DateTimeFormat('en', { timeZone: zone }); return true; } catch { return false; } }, 'not a time zone this service knows');

/** The shop's time zone, or null (UTC). */
export async function readTimeZone(tx: Tx, tenantId: string): Promise<string | null> {
  const [row] = await tx<{ time_zone: string | null }[]>`select time_zone from tenant_settings where tenant_id = ${tenantId}`;
  const zone = timeZoneSchema.safeParse(row?.time_zone ?? '');
  return zone.success ? zone.data : null;
}

/** Sets the shop's time zone (null: UTC). Tenant admins only (RLS); audited with before and after. */
export async function updateTimeZone(tx: Tx, tenantId: string, zone: string | null, by: { actor: Actor | 'owner'; clientId: string; requestId?: string | null }): Promise<void> {
  const next = zone === null ? null : timeZoneSchema.parse(zone);
  const before = await readTimeZone(tx, tenantId);
  if (before === next) return;
  const updated = await tx`update tenant_settings set time_zone = ${next}, updated_at = now() where tenant_id = ${tenantId} returning tenant_id`;
  if (updated.length === 0) throw new ActionRefused('only a tenant admin may change the time zone', 'forbidden');
  const actor = by.actor;
  await recordAudit(tx, {
    tenantId, event: 'settings.time_zone_changed', outcome: 'ok', actorKind: actor === 'owner' ? 'system' : actor.kind === 'staff' ? 'staff' : 'system',
    actorId: actor !== 'owner' && actor.kind === 'staff' ? actor.staffId : null, clientId: by.clientId, requestId: by.requestId ?? null,
    detail: { before, after: next },
  });
}
