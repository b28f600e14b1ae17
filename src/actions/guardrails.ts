// The maturity phases and guardrails (docs/DESIGN.md §1, "Human in the loop"). Pure policy: given the
// tenant's phase, its guardrail entry for one tool and what the request measures, say whether the
// action runs now or waits for a human. No I/O, so every boundary is testable on its own.
//
// Semantics, deliberately fail-safe:
// - Phase 1: every write waits.
// - Phase 2 and 3 (3 additionally opens the customer endpoint): a write runs at once only if the
//   tenant has a guardrail entry for that tool AND the entry names every limit the tool defines AND
//   each measured value is at or below its limit. At the limit runs; one unit above waits.
// - A tool with no entry, or an entry missing one of the tool's limits, waits (a forgotten limit is
//   never "unlimited").
// - A tool that measures nothing (reroute_delivery) runs at once only if its entry says
//   `"run_at_once": true`.
// - A measure the platform could not take (no cost on file) waits; so does an aggregate limit
//   whose total could not be counted. Measures come from the shop's data; an argument can only make
//   them larger (A8). Aggregate limits (A7) hold over executed and pending actions together.
import { z } from 'zod';
import { formatMoney } from './executor.js';

export const WRITE_TOOLS = [
  'create_reorder', 'reroute_delivery', 'decide_return', 'open_damage_claim', 'resolve_damage_claim', 'issue_refund', 'change_price',
] as const;
export type WriteTool = (typeof WRITE_TOOLS)[number];

/** What each tool measures, in the order shown to an admin. Every limit is an inclusive maximum. */
export const TOOL_LIMITS: Readonly<Record<WriteTool, readonly string[]>> = {
  create_reorder: ['max_quantity', 'max_value_cents'],
  reroute_delivery: [],
  decide_return: ['max_value_cents'],
  open_damage_claim: ['max_amount_cents'],
  resolve_damage_claim: ['max_amount_cents'],
  issue_refund: ['max_amount_cents'],
  change_price: ['max_change_percent'],
};

/** The measure each limit compares against: `max_quantity` ↔ measures.quantity, and so on. */
export function measureOf(limit: string): string {
  return limit.replace(/^per_[a-z]+(?:_day)?_/, '').replace(/^max_/, '');
}

export const LIMIT_DESCRIPTIONS: Readonly<Record<string, string>> = {
  max_quantity: 'units per purchase order',
  max_value_cents: 'value in cents',
  max_amount_cents: 'amount in cents',
  max_change_percent: 'price change in percent (either direction)',
};

// ---------------------------------------------------------------------------------------------
// Aggregate limits (A7). Each is an inclusive maximum on the SUM of one measure over the actions of
// the same tool that still count — executed ones, and pending ones that have not expired (so
// splitting while the first part waits does not help) — plus the request itself:
//   per_order_…          every action on the same order, ever (an order's total never resets)
//   per_customer_day_…   the same customer, executed in the last 24 hours or still pending
//   per_product_day_…    the same product (SKU), likewise
//   per_requester_day_…  the same requesting staff member, likewise
//   per_tenant_day_…     the whole shop, likewise
// Optional: an entry without them has no aggregate limit (entries written before they existed
// keep their meaning). What was already done outside the action engine counts where the platform
// records it (refunds already on an order's payment, the shop's refunds of the last 24 hours).

export const AGGREGATE_SCOPES = ['order', 'customer_day', 'product_day', 'requester_day', 'tenant_day'] as const;
export type AggregateScope = (typeof AGGREGATE_SCOPES)[number];

export function aggregateKey(scope: AggregateScope, measure: string): string {
  return `per_${scope}_max_${measure}`;
}

/** The scope and measure of an aggregate limit key, or undefined for a per-action key. */
export function parseAggregateKey(key: string): { scope: AggregateScope; measure: string } | undefined {
  const m = /^per_(order|customer_day|product_day|requester_day|tenant_day)_max_([a-z_]+)$/.exec(key);
  return m ? { scope: m[1] as AggregateScope, measure: m[2]! } : undefined;
}

const moneyScopes = (measure: string) => (['order', 'customer_day', 'requester_day', 'tenant_day'] as const).map((s) => aggregateKey(s, measure));

/** The aggregate limits each tool accepts (none for reroute_delivery and change_price). */
export const TOOL_AGGREGATES: Readonly<Record<WriteTool, readonly string[]>> = {
  create_reorder: [aggregateKey('product_day', 'quantity'), aggregateKey('product_day', 'value_cents'),
    aggregateKey('requester_day', 'value_cents'), aggregateKey('tenant_day', 'value_cents')],
  reroute_delivery: [],
  decide_return: moneyScopes('value_cents'),
  open_damage_claim: moneyScopes('amount_cents'),
  resolve_damage_claim: moneyScopes('amount_cents'),
  issue_refund: moneyScopes('amount_cents'),
  change_price: [],
};

const SCOPE_WORDS: Readonly<Record<AggregateScope, string>> = {
  order: 'per-order',
  customer_day: 'per-customer 24-hour',
  product_day: 'per-product 24-hour',
  requester_day: 'per-requester 24-hour',
  tenant_day: 'shop-wide 24-hour',
};
const SCOPE_DESCRIPTIONS: Readonly<Record<AggregateScope, string>> = {
  order: 'total per order (executed and pending, ever)',
  customer_day: 'total per customer (executed in the last 24 h and pending)',
  product_day: 'total per product (executed in the last 24 h and pending)',
  requester_day: 'total per requesting staff member (executed in the last 24 h and pending)',
  tenant_day: 'total for the whole shop (executed in the last 24 h and pending)',
};
const TOOL_NOUNS: Readonly<Record<WriteTool, string>> = {
  create_reorder: 'reorder', reroute_delivery: 'reroute', decide_return: 'return', open_damage_claim: 'damage claim',
  resolve_damage_claim: 'claim resolution', issue_refund: 'refund', change_price: 'price change',
};

/** What an admin reads next to a limit's field (console, CLI). */
export function describeLimit(key: string): string {
  const agg = parseAggregateKey(key);
  if (!agg) return LIMIT_DESCRIPTIONS[key] ?? key;
  const unit = agg.measure === 'quantity' ? 'units' : agg.measure.endsWith('_cents') ? 'in cents' : agg.measure;
  return `${SCOPE_DESCRIPTIONS[agg.scope]}, ${unit}`;
}

const limitValue = z.number().int().min(0).max(1_000_000_000_000);
const aggregateShape = Object.fromEntries(
  [...new Set(Object.values(TOOL_AGGREGATES).flat())].map((k) => [k, limitValue.optional()]),
) as Record<string, z.ZodOptional<typeof limitValue>>;
const entry = z.object({
  max_quantity: limitValue.optional(),
  max_value_cents: limitValue.optional(),
  max_amount_cents: limitValue.optional(),
  max_change_percent: z.number().min(0).max(1000).optional(),
  run_at_once: z.boolean().optional(),
  ...aggregateShape,
}).strict();

/** The tenant_settings.guardrails document: one entry per write tool, unknown tools and keys refused. */
export const guardrailsSchema = z.object(
  Object.fromEntries(WRITE_TOOLS.map((t) => [t, entry.optional()])) as Record<WriteTool, z.ZodOptional<typeof entry>>,
).strict().superRefine((doc, ctx) => {
  // An aggregate limit the tool does not measure would be silently ignored: refuse it instead.
  for (const tool of WRITE_TOOLS) {
    for (const key of Object.keys(doc[tool] ?? {})) {
      if (parseAggregateKey(key) && !TOOL_AGGREGATES[tool].includes(key)) {
        ctx.addIssue({ code: 'custom', path: [tool, key], message: `${tool} has no aggregate limit ${key}` });
      }
    }
  }
});
export type Guardrails = z.infer<typeof guardrailsSchema>;
export type GuardrailEntry = z.infer<typeof entry>;

export const phaseSchema = z.union([z.literal(1), z.literal(2), z.literal(3)]);
export type Phase = z.infer<typeof phaseSchema>;

export type GuardrailDecision =
  | { run: 'now'; reason: string }
  | { run: 'wait'; reason: string };

/** The tool's guardrail entry when it is well-formed, else undefined (which waits). */
export function entryOf(stored: unknown): GuardrailEntry | undefined {
  const parsed = entry.safeParse(stored);
  return stored === undefined || stored === null || !parsed.success ? undefined : parsed.data;
}

/** The aggregate limits an entry sets for a tool, as [key, maximum]. */
export function aggregateLimitsOf(tool: WriteTool, stored: unknown): [string, number][] {
  const e = entryOf(stored) as Record<string, unknown> | undefined;
  if (!e) return [];
  return TOOL_AGGREGATES[tool].filter((k) => typeof e[k] === 'number').map((k) => [k, e[k] as number]);
}

function shown(measure: string, value: number, currency: string): string {
  if (measure.endsWith('_cents')) return formatMoney(value, currency);
  if (measure.endsWith('_percent')) return `${value}%`;
  return String(value);
}

/**
 * Decides whether a write runs at once or waits. `measures` are the request's values keyed by
 * measure name (quantity, value_cents, amount_cents, change_percent), measured from the shop's data
 * (A8). `totals` are the aggregate sums including this request, keyed by aggregate limit key (A7).
 */
export function decide(
  phase: number, tool: WriteTool, stored: unknown, measures: Readonly<Record<string, number>>,
  totals: Readonly<Record<string, number>> = {}, currency = 'EUR',
): GuardrailDecision {
  if (phase < 2) return { run: 'wait', reason: 'phase 1: every write waits for approval' };
  const e = entryOf(stored);
  if (!e) return { run: 'wait', reason: `no guardrail is set for ${tool}: it waits for approval` };
  const limits = TOOL_LIMITS[tool];
  if (limits.length === 0) {
    if (e.run_at_once !== true) return { run: 'wait', reason: `guardrail: ${tool} is not set to run at once` };
  }
  for (const limit of limits) {
    const max = (e as Record<string, number | undefined>)[limit];
    if (max === undefined) return { run: 'wait', reason: `guardrail for ${tool} has no ${limit}: it waits for approval` };
    const name = measureOf(limit);
    const measured = measures[name];
    if (measured === undefined || !Number.isFinite(measured)) return { run: 'wait', reason: `${name} could not be measured from the shop's data: it waits for approval` };
    if (measured > max) {
      return { run: 'wait', reason: `${TOOL_NOUNS[tool]} ${name.replace(/_cents$/, '')} ${shown(name, measured, currency)} is above the limit ${shown(name, max, currency)} (${limit})` };
    }
  }
  for (const [key, max] of aggregateLimitsOf(tool, stored)) {
    const { scope, measure } = parseAggregateKey(key)!;
    const total = totals[key];
    if (total === undefined || !Number.isFinite(total)) {
      return { run: 'wait', reason: `${SCOPE_WORDS[scope]} ${TOOL_NOUNS[tool]} total could not be measured (${key}): it waits for approval` };
    }
    if (total > max) {
      return { run: 'wait', reason: `${SCOPE_WORDS[scope]} ${TOOL_NOUNS[tool]} total ${shown(measure, total, currency)} would exceed ${shown(measure, max, currency)} (${key})` };
    }
  }
  return limits.length === 0
    ? { run: 'now', reason: `guardrail: ${tool} runs at once` }
    : { run: 'now', reason: `within the guardrails for ${tool}` };
}

/**
 * In-band self-approval (the requester confirms their own action): only when the tenant's
 * self_approval_limit_cents is positive and the action has a money value at or below it. Actions
 * without a money value (a reroute) are never self-approved.
 */
export function selfApprovalAllowed(limitCents: number, valueCents: number | null): boolean {
  return limitCents > 0 && valueCents !== null && valueCents >= 0 && valueCents <= limitCents;
}
