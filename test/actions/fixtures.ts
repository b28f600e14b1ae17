// Valid arguments for every write tool, read from a tenant's seeded data (owner role).
import type { WriteTool } from '../../src/actions/guardrails.js';
import { first, type TestDatabase } from '../support/database.js';
import { refundableOrder, reorderable } from './helpers.js';

export async function validArguments(db: TestDatabase, tenantId: string): Promise<Record<WriteTool, Record<string, unknown>>> {
  const o = db.owner;
  const reorder = await reorderable(db, tenantId);
  const reroute = first(await o<{ tracking_number: string; driver: string }[]>`
    select s.tracking_number, d2.name as driver from shipments s
    join drivers d2 on d2.tenant_id = s.tenant_id and d2.carrier_id = s.carrier_id and d2.active and d2.id is distinct from s.driver_id
    where s.tenant_id = ${tenantId} and s.status in ('in_transit', 'out_for_delivery')
      and (select count(*) from drivers d3 where d3.tenant_id = s.tenant_id and d3.carrier_id = s.carrier_id and d3.name = d2.name) = 1
    order by s.tracking_number, d2.name limit 1`);
  const ret = first(await o<{ number: string }[]>`
    select r.number from returns r where r.tenant_id = ${tenantId} and r.status = 'requested' and r.reason not like '%CANARY-INJECT%'
      and not exists (select 1 from return_lines rl join order_lines ol on ol.tenant_id = rl.tenant_id and ol.order_id = rl.order_id and ol.line_no = rl.line_no
                      join products p on p.tenant_id = ol.tenant_id and p.id = ol.product_id
                      where rl.tenant_id = r.tenant_id and rl.return_id = r.id and not p.returnable)
    order by r.number limit 1`);
  const claimable = first(await o<{ tracking_number: string }[]>`
    select s.tracking_number from shipments s where s.tenant_id = ${tenantId} and s.status = 'delivered'
      and not exists (select 1 from damage_claims c where c.tenant_id = s.tenant_id and c.shipment_id = s.id and c.status = 'open')
    order by s.tracking_number limit 1`);
  const claim = first(await o<{ number: string }[]>`
    select number from damage_claims where tenant_id = ${tenantId} and status = 'open' order by number limit 1`);
  const refund = await refundableOrder(db, tenantId);
  const price = first(await o<{ sku: string; amount_cents: string }[]>`
    select p.sku, pp.amount_cents from products p join product_prices pp on pp.tenant_id = p.tenant_id and pp.product_id = p.id and pp.valid_to is null
    where p.tenant_id = ${tenantId} and p.active order by p.sku limit 1`);
  return {
    create_reorder: { sku: reorder.sku, warehouse_code: reorder.warehouse, supplier: reorder.supplier, quantity: 10, unit_cost_cents: 1_000 },
    reroute_delivery: { tracking_number: reroute.tracking_number, driver_name: reroute.driver },
    decide_return: { return_number: ret.number, decision: 'approve' },
    open_damage_claim: { tracking_number: claimable.tracking_number, amount_cents: 1_000, description: 'Box crushed in transit' },
    resolve_damage_claim: { claim_number: claim.number, outcome: 'paid', resolution: 'Carrier paid in full' },
    issue_refund: { order_number: refund.number, amount_cents: 1_000, reason: 'Goodwill for the late delivery' },
    change_price: { sku: price.sku, new_price_cents: Number(price.amount_cents) + 100 },
  };
}

/** Staff of a tenant whose role may request the tool (tenant_admin may request everything). */
export const REQUESTER_EMAIL = (slug: string) => `admin@${slug}.example`;
