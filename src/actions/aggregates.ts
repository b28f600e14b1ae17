// The totals the aggregate guardrails compare (A7, src/actions/guardrails.ts): per order, customer,
// product, requester and the whole shop, the sum of one measure over the actions of the same tool
// that still count — executed (ever for an order, in the last 24 hours otherwise) and pending ones
// that have not expired — plus the request itself. Where the executor reports what the platform
// already records as done in a scope (refunds on file), that replaces the executed actions' sum.
//
// Race-free: the caller holds guardrailLock for (tenant, tool) from before it measures until the
// transaction that records the action commits, and every decision that moves an action from pending
// to executed takes the same lock, so no two requests count the same state.
import type { Tx } from '../db/context.js';
import type { Prepared } from './executor.js';
import { aggregateLimitsOf, parseAggregateKey, type AggregateScope, type WriteTool } from './guardrails.js';

/** One day, the rolling window of the *_day scopes. */
export const AGGREGATE_WINDOW_HOURS = 24;

/** Serialises guardrail decisions and executions of one tool in one tenant until the transaction ends. */
export async function guardrailLock(tx: Tx, tenantId: string, tool: string): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtextextended(${`guardrail:${tenantId}:${tool}`}, 0))`;
}

export interface AggregateRequest {
  tenantId: string;
  tool: WriteTool;
  requestedBy: string;
}

/** The totals, including this request, for every aggregate limit the tool's entry sets; a total that cannot be counted is left out. */
export async function aggregateTotals(tx: Tx, req: AggregateRequest, stored: unknown, prepared: Prepared): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const [key] of aggregateLimitsOf(req.tool, stored)) {
    const { scope, measure } = parseAggregateKey(key)!;
    const own = prepared.measures[measure];
    if (own === undefined || !Number.isFinite(own)) continue;
    const filter = scopeFilter(tx, req, scope, prepared);
    if (filter === undefined) continue;
    const onFile = prepared.onFile?.[scope]?.[measure];
    const executed = onFile !== undefined ? tx`false`
      : scope === 'order' ? tx`status = 'executed'`
      : tx`status = 'executed' and executed_at > now() - make_interval(hours => ${AGGREGATE_WINDOW_HOURS})`;
    const [row] = await tx<{ total: string }[]>`
      select coalesce(sum((measures->>${measure})::numeric), 0) as total from pending_actions
      where tenant_id = ${req.tenantId} and tool = ${req.tool} and ${filter}
        and (status = 'pending' and expires_at > now() or ${executed})`;
    totals[key] = Number(row!.total) + (onFile ?? 0) + own;
  }
  return totals;
}

function scopeFilter(tx: Tx, req: AggregateRequest, scope: AggregateScope, prepared: Prepared) {
  switch (scope) {
    case 'order': return prepared.scope?.orderId ? tx`scope_order_id = ${prepared.scope.orderId}` : undefined;
    case 'customer_day': return prepared.scope?.customerId ? tx`scope_customer_id = ${prepared.scope.customerId}` : undefined;
    case 'product_day': return prepared.scope?.productId ? tx`scope_product_id = ${prepared.scope.productId}` : undefined;
    case 'requester_day': return tx`requested_by = ${req.requestedBy}`;
    case 'tenant_day': return tx`true`;
  }
}
