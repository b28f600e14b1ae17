// What every write tool's executor provides to the engine (engine.ts): a strict argument schema, a
// `prepare` step that validates the request against the tenant's data and says what it would do, and
// an `execute` step that re-checks under row locks and applies the effect. Both run inside the
// caller's transaction, in the staff member's RLS context.
import { z } from 'zod';
import type { Tx } from '../db/context.js';
import type { StaffScope } from '../authz/scopes.js';
import type { AggregateScope, WriteTool } from './guardrails.js';

/**
 * A refusal the agent can act on: the message says what is wrong and what to do instead. `code`
 * is a closed set so callers can map it (to a JSON-RPC error, a console notice).
 */
export class ActionRefused extends Error {
  constructor(message: string, readonly code: 'invalid' | 'not_found' | 'conflict' | 'forbidden' = 'invalid') {
    super(message);
  }
}

export interface ExecutorContext {
  tenantId: string;
  /** The staff member who requested the action. */
  requestedBy: string;
}

export interface ExecuteContext extends ExecutorContext {
  actionId: string;
  /** The approver, or null when a guardrail let the action run at once. */
  approvedBy: string | null;
}

export interface Prepared {
  /** One line, in our words only (never customer text): what will happen. */
  summary: string;
  /**
   * Values the guardrails compare (quantity, value_cents, amount_cents, change_percent), measured
   * from the shop's data; an argument may only make one larger (A8). A measure the platform cannot
   * take is left out, and the action then waits.
   */
  measures: Record<string, number>;
  /** What the action concerns, for the aggregate limits (A7). */
  scope?: { orderId?: string; customerId?: string; productId?: string };
  /**
   * Per aggregate scope, what the platform already records as done there, in the measure's units
   * (e.g. refunded on the order's payment so far). Where given it replaces the sum of executed
   * actions (it includes them); pending actions are added either way.
   */
  onFile?: Partial<Record<AggregateScope, Record<string, number>>>;
  /** The action's money value, for the self-approval limit; null when it has none. */
  valueCents: number | null;
  /** Facts an approver needs (current state, customer-written text already marked untrusted). */
  context: Record<string, unknown>;
}

export interface ActionExecutor<S extends z.ZodObject = z.ZodObject> {
  tool: WriteTool;
  title: string;
  description: string;
  /** The staff scope a requester's role must carry (src/authz/scopes.ts). */
  scope: StaffScope;
  args: S;
  prepare(tx: Tx, ctx: ExecutorContext, args: z.infer<S>): Promise<Prepared>;
  /** Re-validates under locks and applies the effect; returns the result the agent sees. */
  execute(tx: Tx, ctx: ExecuteContext, args: z.infer<S>): Promise<Record<string, unknown>>;
}

export function defineExecutor<S extends z.ZodObject>(e: ActionExecutor<S>): ActionExecutor<S> {
  return e;
}

/** "123.45 EUR" from cents. */
export function formatMoney(cents: number | bigint | string, currency: string): string {
  const n = Number(cents);
  const sign = n < 0 ? '-' : '';
  const abs = Math.abs(n);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')} ${currency}`;
}

export function money(cents: number | bigint | string, currency: string): { amount_cents: number; currency: string; display: string } {
  return { amount_cents: Number(cents), currency, display: formatMoney(cents, currency) };
}

/** The next human-facing number of a per-tenant counter (PO-1007, CLM-1005). */
export async function nextNumber(tx: Tx, tenantId: string, counter: string, prefix: string): Promise<string> {
  const [row] = await tx<{ value: string }[]>`
    insert into tenant_counters (tenant_id, name, value) values (${tenantId}, ${counter}, 1001)
    on conflict (tenant_id, name) do update set value = tenant_counters.value + 1
    returning value`;
  return `${prefix}${row!.value}`;
}

export async function tenantCurrency(tx: Tx, tenantId: string): Promise<string> {
  const [row] = await tx<{ currency: string }[]>`select currency from tenant_settings where tenant_id = ${tenantId}`;
  return row?.currency ?? 'EUR';
}

// Shared argument shapes.
export const reference = (what: string) =>
  z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, `not a ${what}`);
export const staffText = (max: number) => z.string().trim().min(1).max(max);
export const cents = z.number().int().min(1).max(100_000_000_00);
