// npm run actions -- <command>: a tenant's phase and guardrails, and its actions. Runs as the owner
// role (like the admin command), against the database the service would open.
//
//   show <tenant>                               phase, guardrails, self-approval limit
//   phase <tenant> <1|2|3>
//   guardrails <tenant>                         every tool's limits, per action and in aggregate, one a line
//   guardrails <tenant> '<json>'                replaces the document, e.g. '{"issue_refund":{"max_amount_cents":5000,
//                                               "per_order_max_amount_cents":5000}}'
//   guardrails <tenant> <tool>.<limit>=<n> …    sets single limits (n = none removes one), e.g.
//                                               issue_refund.per_customer_day_max_amount_cents=10000
//   self-approval <tenant> <cents>              0 = never
//   list <tenant> [--status pending|executed|rejected|expired|failed] [--limit N]
//   expire <tenant> [<action-id>]               without an id: every pending action past its expiry
import { parseArgs } from 'node:util';
import type postgres from 'postgres';
import { isEntryPoint, runAsOwner, UsageError } from './owner.js';
import { expireAction, expireDueActions } from '../actions/engine.js';
import { ActionRefused } from '../actions/executor.js';
import { describeLimit, guardrailsSchema, phaseSchema, TOOL_AGGREGATES, TOOL_LIMITS, WRITE_TOOLS } from '../actions/guardrails.js';
import { listActions, readActionSettings, updateActionSettings, type ActionSettings } from '../actions/status.js';
import type { Tx } from '../db/context.js';

const USAGE = 'usage: see the header of src/cli/actions.ts (show|phase|guardrails|self-approval|list|expire <tenant> …)';
const STATUSES = ['pending', 'approved', 'rejected', 'expired', 'executed', 'failed'];

async function tenantId(tx: Tx, slug: string | undefined): Promise<string> {
  if (!slug) throw new UsageError('tenant slug required');
  const [t] = await tx<{ id: string }[]>`select id from tenants where slug = ${slug}`;
  if (!t) throw new UsageError(`no tenant ${slug}`);
  return t.id;
}

function show(out: (line: string) => void, s: ActionSettings): void {
  out(`phase\t${s.phase}${s.phase >= 3 ? ' (customer endpoint enabled)' : ''}`);
  out(`self_approval_limit_cents\t${s.selfApprovalLimitCents}`);
  out(`guardrails\t${JSON.stringify(s.guardrails)}`);
}

/** Every tool's limits, one a line: tool, limit, value (or "—" when not set), what it limits. */
function listGuardrails(out: (line: string) => void, s: ActionSettings): void {
  const g = s.guardrails as Record<string, Record<string, unknown> | undefined>;
  for (const tool of WRITE_TOOLS) {
    const keys = [...TOOL_LIMITS[tool], ...TOOL_AGGREGATES[tool], ...(TOOL_LIMITS[tool].length === 0 ? ['run_at_once'] : [])];
    for (const key of keys) {
      const v = g[tool]?.[key];
      out([tool, key, v === undefined ? '—' : String(v), key === 'run_at_once' ? 'runs at once in phases 2 and 3' : describeLimit(key)].join('\t'));
    }
  }
}

function parseJson(value: string): unknown {
  try { return JSON.parse(value); } catch { throw new UsageError('guardrails must be a JSON object'); }
}

/** The current document with `tool.limit=n` assignments applied (`none` removes a limit). */
function withLimits(current: unknown, assignments: string[]): Record<string, Record<string, unknown>> {
  const next = structuredClone((current ?? {}) as Record<string, Record<string, unknown>>);
  for (const a of assignments) {
    const m = /^([a-z_]+)\.([a-z_]+)=(.*)$/.exec(a);
    if (!m) throw new UsageError(`expected <tool>.<limit>=<n>, got "${a}"`);
    const [, tool, key, raw] = m as unknown as [string, string, string, string];
    const entry = (next[tool] ??= {});
    if (raw === 'none' || raw === '') delete entry[key];
    else if (key === 'run_at_once') entry[key] = raw === 'true';
    else if (raw.trim() === '' || !Number.isFinite(Number(raw))) throw new UsageError(`${tool}.${key}: ${raw} is not a number`);
    else entry[key] = Number(raw);
    if (Object.keys(entry).length === 0) delete next[tool];
  }
  return next;
}

/** Runs one command as the owner role (RLS: the owner_maintenance policies). */
export async function runActions(owner: postgres.Sql, argv: string[], out: (line: string) => void = console.log): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { status: { type: 'string' }, limit: { type: 'string' } },
  });
  const [command, slug, value] = positionals;
  await owner.begin(async (tx) => {
    const id = await tenantId(tx, slug);
    const current = await readActionSettings(tx, id);
    const update = async (next: ActionSettings) => {
      try {
        show(out, await updateActionSettings(tx, id, next, { actor: 'owner', clientId: 'cli' }));
      } catch (e) {
        if (e instanceof ActionRefused) throw new UsageError(e.message);
        throw e;
      }
    };
    switch (command) {
      case 'show': return show(out, current);
      case 'phase': {
        const phase = phaseSchema.safeParse(Number(value));
        if (!phase.success) throw new UsageError('phase must be 1, 2 or 3');
        return update({ ...current, phase: phase.data });
      }
      case 'guardrails': {
        if (value === undefined) return listGuardrails(out, current);
        const json = value.trimStart().startsWith('{') ? parseJson(value) : withLimits(current.guardrails, positionals.slice(2));
        const g = guardrailsSchema.safeParse(json);
        if (!g.success) throw new UsageError(`invalid guardrails: ${g.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        return update({ ...current, guardrails: g.data });
      }
      case 'self-approval': {
        const cents = Number(value);
        if (!Number.isInteger(cents) || cents < 0) throw new UsageError('self-approval limit must be a whole number of cents, 0 or more');
        return update({ ...current, selfApprovalLimitCents: cents });
      }
      case 'list': {
        if (values.status && !STATUSES.includes(values.status)) throw new UsageError(`status must be one of ${STATUSES.join(', ')}`);
        const rows = await listActions(tx, id, { status: values.status, limit: values.limit ? Number(values.limit) : 50 });
        for (const a of rows) out([a.action_id, a.status, a.tool, a.requested_by.email, a.requested_at, a.summary].join('\t'));
        return;
      }
      case 'expire': {
        if (value) {
          if (!(await expireAction(tx, id, value))) throw new UsageError(`no pending action ${value}`);
          return out(`expired ${value}`);
        }
        const ids = await expireDueActions(tx, id);
        return out(`${ids.length} expired`);
      }
      default:
        throw new UsageError(USAGE);
    }
  });
}

if (isEntryPoint(import.meta.url)) void runAsOwner(runActions);
