// reroute_delivery: sends an undelivered shipment to a new address and/or hands it to another driver
// of the same carrier. Refused for delivered shipments, for drivers of another carrier, off-duty
// drivers, the driver it already has, and requests that change nothing.
import { z } from 'zod';
import type { Tx } from '../db/context.js';
import { ActionRefused, defineExecutor, reference, type ExecutorContext } from './executor.js';

const line = z.string().trim().min(1).max(200);
const args = z.object({
  tracking_number: reference('tracking number'),
  new_address: z.object({
    name: line.optional(),
    line1: line,
    postal_code: z.string().trim().min(1).max(16),
    city: line,
    country: z.string().trim().regex(/^[A-Z]{2}$/, 'use an ISO 3166 two-letter country code'),
  }).strict().optional().describe('Where the parcel should go instead'),
  driver_name: z.string().trim().min(1).max(120).optional().describe('Reassign to this driver (same carrier, on duty)'),
}).strict();
type Args = z.infer<typeof args>;

interface Facts {
  shipmentId: string; orderId: string; orderNumber: string; status: string; carrier: string; carrierId: string;
  currentDriver: string | null; currentDriverId: string | null; address: Record<string, string>; newDriverId: string | null;
}

async function facts(tx: Tx, ctx: ExecutorContext, a: Args, lock: boolean): Promise<Facts> {
  if (!a.new_address && !a.driver_name) throw new ActionRefused('pass new_address, driver_name or both: nothing to change');
  const { tenantId } = ctx;
  const rows = await tx<{ id: string; order_id: string; number: string; status: string; carrier: string; carrier_id: string;
    driver: string | null; driver_id: string | null; shipping_address: Record<string, string> }[]>`
    select s.id, s.order_id, o.number, s.status::text as status, c.name as carrier, s.carrier_id, d.name as driver, s.driver_id, o.shipping_address
    from shipments s
    join orders o on o.tenant_id = s.tenant_id and o.id = s.order_id
    join carriers c on c.tenant_id = s.tenant_id and c.id = s.carrier_id
    left join drivers d on d.tenant_id = s.tenant_id and d.id = s.driver_id
    where s.tenant_id = ${tenantId} and s.tracking_number = ${a.tracking_number}
    ${lock ? tx`for update of s, o` : tx``}`;
  const s = rows[0];
  if (!s) throw new ActionRefused(`no shipment with tracking number ${a.tracking_number}: find it with late_shipments or get_order_details`, 'not_found');
  if (s.status === 'delivered') throw new ActionRefused(`shipment ${a.tracking_number} is already delivered: it cannot be rerouted; open a return or a damage claim instead`, 'conflict');
  let newDriverId: string | null = null;
  if (a.driver_name) {
    const drivers = await tx<{ id: string; name: string; active: boolean }[]>`
      select id, name, active from drivers where tenant_id = ${tenantId} and carrier_id = ${s.carrier_id} order by name`;
    const matches = drivers.filter((d) => d.name.toLowerCase() === a.driver_name!.toLowerCase());
    if (matches.length === 0) {
      const onDuty = drivers.filter((d) => d.active).map((d) => d.name);
      throw new ActionRefused(`${s.carrier} has no driver named "${a.driver_name}": on-duty drivers of ${s.carrier} are ${onDuty.join(', ') || 'none'}`, 'not_found');
    }
    if (matches.length > 1) throw new ActionRefused(`more than one ${s.carrier} driver is named "${a.driver_name}": ask staff to tell them apart`, 'conflict');
    const driver = matches[0]!;
    if (!driver.active) throw new ActionRefused(`${driver.name} is off duty: choose an on-duty driver of ${s.carrier}`);
    if (driver.id === s.driver_id) throw new ActionRefused(`${driver.name} already has shipment ${a.tracking_number}`, 'conflict');
    newDriverId = driver.id;
  }
  return {
    shipmentId: s.id, orderId: s.order_id, orderNumber: s.number, status: s.status, carrier: s.carrier, carrierId: s.carrier_id,
    currentDriver: s.driver, currentDriverId: s.driver_id, address: s.shipping_address, newDriverId,
  };
}

function describe(a: Args, f: Facts): string {
  const parts: string[] = [];
  if (a.new_address) parts.push(`reroute to ${a.new_address.line1}, ${a.new_address.postal_code} ${a.new_address.city}, ${a.new_address.country}`);
  if (a.driver_name) parts.push(`reassign from ${f.currentDriver ?? 'no driver'} to ${a.driver_name}`);
  return `Shipment ${a.tracking_number} (order ${f.orderNumber}, ${f.carrier}): ${parts.join('; ')}`;
}

export const rerouteDelivery = defineExecutor({
  tool: 'reroute_delivery',
  title: 'Reroute a delivery or reassign its driver',
  description: 'Changes where an undelivered shipment goes, or which driver of its carrier takes it.',
  scope: 'deliveries:manage',
  args,
  async prepare(tx, ctx, a) {
    const f = await facts(tx, ctx, a, false);
    return {
      summary: describe(a, f),
      measures: {},
      scope: { orderId: f.orderId },
      valueCents: null,
      context: { shipment_status: f.status, carrier: f.carrier, current_driver: f.currentDriver, current_address: f.address },
    };
  },
  async execute(tx, ctx, a) {
    const f = await facts(tx, ctx, a, true);
    if (a.new_address) {
      const address = { name: a.new_address.name ?? f.address.name ?? '', line1: a.new_address.line1, postal_code: a.new_address.postal_code,
        city: a.new_address.city, country: a.new_address.country };
      await tx`update orders set shipping_address = ${tx.json(address)}, updated_at = now()
               where tenant_id = ${ctx.tenantId} and id = ${f.orderId}`;
    }
    await tx`update shipments set driver_id = ${f.newDriverId ?? f.currentDriverId}, updated_at = now()
             where tenant_id = ${ctx.tenantId} and id = ${f.shipmentId}`;
    return {
      tracking_number: a.tracking_number, order_number: f.orderNumber, carrier: f.carrier, status: f.status,
      driver: a.driver_name ?? f.currentDriver, address_changed: Boolean(a.new_address), rerouted_to: a.new_address ?? null,
    };
  },
});
