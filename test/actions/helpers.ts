// Shared helpers for the action engine tests: the demo tenants' staff, and running engine calls as
// one of them in a real RLS transaction on the application role.
import type postgres from 'postgres';
import { withContext, type Tx } from '../../src/db/context.js';
import { requestAction, type ActionOutcome, type ActionRequest } from '../../src/actions/engine.js';
import { first, type TestDatabase } from '../support/database.js';

export interface StaffMember { tenantId: string; staffId: string; role: string; email: string; mayApprove: boolean }

export async function staffOf(db: TestDatabase, slug: string, email: string): Promise<StaffMember> {
  const row = first(await db.owner<{ tenant_id: string; id: string; role: string; may_approve: boolean }[]>`
    select s.tenant_id, s.id, s.role::text as role, s.may_approve from staff s join tenants t on t.id = s.tenant_id
    where t.slug = ${slug} and s.email = ${email}`);
  return { tenantId: row.tenant_id, staffId: row.id, role: row.role, email, mayApprove: row.may_approve };
}

export function asStaff<T>(sql: postgres.Sql, s: StaffMember, work: (tx: Tx) => Promise<T>): Promise<T> {
  return withContext(sql, { kind: 'staff', tenantId: s.tenantId, staffId: s.staffId, role: s.role }, work);
}

export function request(db: TestDatabase, s: StaffMember, tool: string, args: unknown, extra: Partial<ActionRequest> = {}): Promise<ActionOutcome> {
  return asStaff(db.app, s, (tx) => requestAction(tx, {
    tenantId: s.tenantId, staffId: s.staffId, role: s.role, clientId: 'test-client', tokenId: null, tool, arguments: args, ...extra,
  }));
}

/** Error message of a rejected promise (ActionRefused), for assert.match. */
export async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a refusal, got a result');
}

export async function setSettings(db: TestDatabase, tenantId: string, s: { phase?: number; guardrails?: unknown; selfApprovalLimitCents?: number }): Promise<void> {
  if (s.phase !== undefined) await db.owner`update tenant_settings set phase = ${s.phase} where tenant_id = ${tenantId}`;
  if (s.guardrails !== undefined) await db.owner`update tenant_settings set guardrails = ${db.owner.json(s.guardrails as never)} where tenant_id = ${tenantId}`;
  if (s.selfApprovalLimitCents !== undefined) await db.owner`update tenant_settings set self_approval_limit_cents = ${s.selfApprovalLimitCents} where tenant_id = ${tenantId}`;
}

/** A stocked, active product with no open purchase order in that warehouse, and its last unit cost. */
export async function reorderable(db: TestDatabase, tenantId: string): Promise<{ sku: string; warehouse: string; supplier: string }> {
  const row = first(await db.owner<{ sku: string; code: string }[]>`
    select p.sku, w.code from stock_levels sl
    join products p on p.tenant_id = sl.tenant_id and p.id = sl.product_id
    join warehouses w on w.tenant_id = sl.tenant_id and w.id = sl.warehouse_id
    where sl.tenant_id = ${tenantId} and p.active
      and not exists (select 1 from purchase_orders po where po.tenant_id = sl.tenant_id and po.product_id = sl.product_id
                      and po.warehouse_id = sl.warehouse_id and po.status in ('sent', 'confirmed'))
    order by p.sku, w.code limit 1`);
  const supplier = first(await db.owner<{ name: string }[]>`select name from suppliers where tenant_id = ${tenantId} order by name limit 1`);
  return { sku: row.sku, warehouse: row.code, supplier: supplier.name };
}

/** An order with a captured, unrefunded payment. */
export async function refundableOrder(db: TestDatabase, tenantId: string, minCents = 10_000): Promise<{ number: string; amount: number }> {
  const row = first(await db.owner<{ number: string; amount_cents: string }[]>`
    select o.number, p.amount_cents from orders o join payments p on p.tenant_id = o.tenant_id and p.order_id = o.id
    where o.tenant_id = ${tenantId} and p.status = 'captured' and p.refunded_cents = 0 and p.amount_cents >= ${minCents}
    order by o.number limit 1`);
  return { number: row.number, amount: Number(row.amount_cents) };
}

export async function auditEvents(db: TestDatabase, tenantId: string, actionId: string): Promise<string[]> {
  const rows = await db.owner<{ event: string }[]>`
    select event from audit_events where tenant_id = ${tenantId} and detail->>'action_id' = ${actionId} order by pos`;
  return rows.map((r) => r.event);
}
