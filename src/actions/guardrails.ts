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
import { z } from 'zod';

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
  return limit.replace(/^max_/, '');
}

export const LIMIT_DESCRIPTIONS: Readonly<Record<string, string>> = {
  max_quantity: 'units per purchase order',
  max_value_cents: 'value in cents',
  max_amount_cents: 'amount in cents',
  max_change_percent: 'price change in percent (either direction)',
};

const limitValue = z.number().int().min(0).max(1_000_000_000_000);
const entry = z.object({
  max_quantity: limitValue.optional(),
  max_value_cents: limitValue.optional(),
  max_amount_cents: limitValue.optional(),
  max_change_percent: z.number().min(0).max(1000).optional(),
  run_at_once: z.boolean().optional(),
}).strict();

/** The tenant_settings.guardrails document: one entry per write tool, unknown tools refused. */
export const guardrailsSchema = z.object(
  Object.fromEntries(WRITE_TOOLS.map((t) => [t, entry.optional()])) as Record<WriteTool, z.ZodOptional<typeof entry>>,
).strict();
export type Guardrails = z.infer<typeof guardrailsSchema>;
export type GuardrailEntry = z.infer<typeof entry>;

export const phaseSchema = z.union([z.literal(1), z.literal(2), z.literal(3)]);
export type Phase = z.infer<typeof phaseSchema>;

export type GuardrailDecision =
  | { run: 'now'; reason: string }
  | { run: 'wait'; reason: string };

/**
 * Decides whether a write runs at once or waits. `measures` are the request's values keyed by
 * measure name (quantity, value_cents, amount_cents, change_percent).
 */
export function decide(phase: number, tool: WriteTool, stored: unknown, measures: Readonly<Record<string, number>>): GuardrailDecision {
  if (phase < 2) return { run: 'wait', reason: 'phase 1: every write waits for approval' };
  const parsed = entry.safeParse(stored);
  if (stored === undefined || stored === null || !parsed.success) {
    return { run: 'wait', reason: `no guardrail is set for ${tool}: it waits for approval` };
  }
  const limits = TOOL_LIMITS[tool];
  if (limits.length === 0) {
    return parsed.data.run_at_once === true
      ? { run: 'now', reason: `guardrail: ${tool} runs at once` }
      : { run: 'wait', reason: `guardrail: ${tool} is not set to run at once` };
  }
  for (const limit of limits) {
    const max = (parsed.data as Record<string, number | undefined>)[limit];
    if (max === undefined) return { run: 'wait', reason: `guardrail for ${tool} has no ${limit}: it waits for approval` };
    const measured = measures[measureOf(limit)];
    if (measured === undefined || !Number.isFinite(measured)) return { run: 'wait', reason: `${measureOf(limit)} could not be measured` };
    if (measured > max) return { run: 'wait', reason: `${measureOf(limit)} ${measured} is above the limit ${max}` };
  }
  return { run: 'now', reason: `within the guardrails for ${tool}` };
}

/**
 * In-band self-approval (the requester confirms their own action): only when the tenant's
 * self_approval_limit_cents is positive and the action has a money value at or below it. Actions
 * without a money value (a reroute) are never self-approved.
 */
export function selfApprovalAllowed(limitCents: number, valueCents: number | null): boolean {
  return limitCents > 0 && valueCents !== null && valueCents >= 0 && valueCents <= limitCents;
}
