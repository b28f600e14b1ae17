// npm run actions -- <command>: a tenant's phase and guardrails, and its actions. Runs as the owner
// role (like the admin command) on the database the service uses, also while it runs
// (src/cli/owner.ts). `npm run actions -- --help` lists the subcommands; each has --help.
//
//   show <tenant>                               phase, guardrails, self-approval limit
//   phase <tenant> <1|2|3>
//   guardrails <tenant>                         every tool's limits, per action and in aggregate, one a line
//   guardrails <tenant> '<json>'                replaces the document, e.g. '{"issue_refund":{"max_amount_cents":5000,
//                                               "per_order_max_amount_cents":5000}}'
//   guardrails <tenant> <tool>.<limit>=<n> …    sets single limits (n = none removes one), e.g.
//                                               issue_refund.per_customer_day_max_amount_cents=10000
//   self-approval <tenant> <cents>              0 = never
//   list <tenant> [--status pending|executed|rejected|expired|failed] [--limit N] [--json]
//   expire <tenant> [<action-id>]               without an id: every pending action past its expiry
import type postgres from 'postgres';
import { CommandFailed, isEntryPoint, runCommandLine, runSubcommand, UsageError, type Call, type CommandSet, type Subcommand } from './owner.js';
import { expireAction, expireDueActions } from '../actions/engine.js';
import { ActionRefused } from '../actions/executor.js';
import { describeLimit, guardrailsSchema, phaseSchema, TOOL_AGGREGATES, TOOL_LIMITS, WRITE_TOOLS } from '../actions/guardrails.js';
import { listActions, readActionSettings, updateActionSettings, type ActionSettings } from '../actions/status.js';
import type { Tx } from '../db/context.js';

const STATUSES = ['pending', 'approved', 'rejected', 'expired', 'executed', 'failed'];

async function tenantId(tx: Tx, slug: string | undefined): Promise<string> {
  if (!slug) throw new UsageError('tenant slug required');
  const [t] = await tx<{ id: string }[]>`select id from tenants where slug = ${slug}`;
  if (!t) throw new CommandFailed(`no tenant ${slug}`);
  return t.id;
}

function show(call: Call, s: ActionSettings): void {
  if (call.json) return call.record({ phase: s.phase, self_approval_limit_cents: s.selfApprovalLimitCents, guardrails: s.guardrails });
  call.out(`phase\t${s.phase}${s.phase >= 3 ? ' (customer endpoint enabled)' : ''}`);
  call.out(`self_approval_limit_cents\t${s.selfApprovalLimitCents}`);
  call.out(`guardrails\t${JSON.stringify(s.guardrails)}`);
}

/** Every tool's limits, one a row: tool, limit, value (or "—" when not set), what it limits. */
function listGuardrails(table: Call['table'], s: ActionSettings): void {
  const g = s.guardrails as Record<string, Record<string, unknown> | undefined>;
  const rows: { tool: string; limit: string; value: string; meaning: string }[] = [];
  for (const tool of WRITE_TOOLS) {
    const keys = [...TOOL_LIMITS[tool], ...TOOL_AGGREGATES[tool], ...(TOOL_LIMITS[tool].length === 0 ? ['run_at_once'] : [])];
    for (const key of keys) {
      const v = g[tool]?.[key];
      rows.push({ tool, limit: key, value: v === undefined ? '—' : String(v), meaning: key === 'run_at_once' ? 'runs at once in phases 2 and 3' : describeLimit(key) });
    }
  }
  table(rows, ['tool', 'limit', 'value', 'meaning']);
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

/** What a subcommand on one tenant gets: its transaction (owner role), the tenant, its settings. */
interface TenantCall extends Call {
  tx: Tx;
  id: string;
  current: ActionSettings;
  /** Saves the settings (validated, audited) and shows them. */
  update(next: ActionSettings): Promise<void>;
}

/** A subcommand whose first argument is the tenant; it runs in one transaction. */
function onTenant(spec: Omit<Subcommand, 'run'> & { run(t: TenantCall): Promise<number | void> }): Subcommand {
  return {
    ...spec,
    run: (owner, call) => owner.begin(async (tx) => {
      const id = await tenantId(tx, call.args[0]);
      const current = await readActionSettings(tx, id);
      const update = async (next: ActionSettings) => {
        try {
          show(call, await updateActionSettings(tx, id, next, { actor: 'owner', clientId: 'cli' }));
        } catch (e) {
          if (e instanceof ActionRefused) throw new UsageError(e.message);
          throw e;
        }
      };
      return spec.run({ ...call, tx, id, current, update });
    }) as Promise<number | void>,
  };
}

export const ACTIONS_SUBCOMMANDS: Subcommand[] = [
  onTenant({
    name: 'show', args: '<tenant>', json: true, summary: 'phase, guardrails and self-approval limit',
    run: async (t) => show(t, t.current),
  }),
  onTenant({
    name: 'phase', args: '<tenant> <1|2|3>', json: true, summary: 'sets the phase (3 enables the customer endpoint)',
    async run({ args: [, value], current, update }) {
      const phase = phaseSchema.safeParse(Number(value));
      if (!phase.success) throw new UsageError('phase must be 1, 2 or 3');
      return update({ ...current, phase: phase.data });
    },
  }),
  onTenant({
    name: 'guardrails', args: '<tenant> [<setting>...]', json: true,
    summary: 'lists every limit; or replaces the document with JSON; or sets single limits (=none removes one)',
    details: '<setting> is one JSON document (replaces all) or <tool>.<limit>=<n> assignments; e.g. \'{"issue_refund":{"max_amount_cents":5000,"per_order_max_amount_cents":5000}}\' or issue_refund.per_customer_day_max_amount_cents=10000',
    async run({ args: [, ...rest], current, update, table }) {
      if (rest.length === 0) return listGuardrails(table, current);
      const json = rest.length === 1 && rest[0]!.trimStart().startsWith('{') ? parseJson(rest[0]!) : withLimits(current.guardrails, rest);
      const g = guardrailsSchema.safeParse(json);
      if (!g.success) throw new UsageError(`invalid guardrails: ${g.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      return update({ ...current, guardrails: g.data });
    },
  }),
  onTenant({
    name: 'self-approval', args: '<tenant> <cents>', json: true, summary: 'the money value up to which a requester may confirm their own action (0 = never)',
    async run({ args: [, value], current, update }) {
      const cents = Number(value);
      if (!Number.isInteger(cents) || cents < 0) throw new UsageError('self-approval limit must be a whole number of cents, 0 or more');
      return update({ ...current, selfApprovalLimitCents: cents });
    },
  }),
  onTenant({
    name: 'list', args: '<tenant> [--status S] [--limit N]', json: true,
    summary: "the tenant's actions, newest first (pending ones oldest first)",
    details: `--status: one of ${STATUSES.join(', ')}; --limit 1–500 (default 50). --json gives every field.`,
    options: { status: { type: 'string' }, limit: { type: 'string' } },
    async run({ tx, id, values, table }) {
      const status = values.status as string | undefined;
      if (status && !STATUSES.includes(status)) throw new UsageError(`status must be one of ${STATUSES.join(', ')}`);
      const limit = values.limit === undefined ? 50 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError('--limit must be a whole number from 1 to 500');
      const rows = await listActions(tx, id, { status, limit });
      table(rows, {
        action_id: (a) => a.action_id, status: (a) => a.status, tool: (a) => a.tool, requested_by: (a) => a.requested_by.email,
        requested_at: (a) => a.requested_at, summary: (a) => a.summary,
      });
    },
  }),
  onTenant({
    name: 'expire', args: '<tenant> [<action-id>]', summary: 'expires one pending action, or without an id every pending action past its expiry',
    async run({ tx, id, args: [, actionId], out }) {
      if (actionId) {
        if (!(await expireAction(tx, id, actionId))) throw new CommandFailed(`no pending action ${actionId}`);
        return out(`expired ${actionId}`);
      }
      const ids = await expireDueActions(tx, id);
      return out(`${ids.length} expired`);
    },
  }),
];

export const ACTIONS: CommandSet = {
  program: 'npm run actions --',
  about: "a tenant's phase, guardrails and self-approval limit, and its actions (as the database owner)",
  subcommands: ACTIONS_SUBCOMMANDS,
};

/** Runs one command as the owner role (RLS: the owner_maintenance policies); returns the exit status. */
export function runActions(owner: postgres.Sql, argv: string[], out: (line: string) => void = console.log): Promise<number> {
  return runSubcommand(ACTIONS, owner, argv, out);
}

if (isEntryPoint(import.meta.url)) void runCommandLine(ACTIONS);
