// A3: mass assignment. Extra arguments are refused by the tool schema (strict objects), the
// database is unchanged, and outputs carry no internal fields (OWASP API3:2023).
import { randomUUID } from 'node:crypto';
import { callTool, mustCall } from '../mcp.js';
import { Checks, type AttackRow } from '../types.js';
import { allKeys, short } from './common.js';
import { orderNumbers, orderableSku } from './customer-data.js';

const INTERNAL_KEYS = ['tenant_id', 'customer_id', 'staff_id', 'password_hash', 'token_hash', 'client_secret_hash', 'csrf_hash', 'code_hash', 'payment_method'];
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/i;

export const a3: AttackRow = {
  id: 'A3',
  title: 'mass assignment: extra arguments (tenant_id, customer_id, status, amount)',
  expected: 'rejected by the schema; database unchanged; outputs expose no internal fields',
  async run(ctx) {
    const c = new Checks();
    const url = ctx.customerUrl();
    const token = await ctx.accessToken('customer');
    const extras = { tenant_id: randomUUID(), customer_id: randomUUID(), status: 'refunded', amount: 1, amount_cents: 1 };
    // Should an add_to_cart get through, the cart is put back at the end of the run.
    ctx.created.add({ kind: 'cart', tenant: ctx.options.tenant, login: ctx.credentials('customer').login });
    const cartBefore = JSON.stringify(await mustCall(ctx.http, url, token, 'view_cart', {}));
    const sku = await orderableSku(ctx, 'customer');
    const [order] = await orderNumbers(ctx, 'customer');
    const attempts: [string, Record<string, unknown>][] = [
      ['add_to_cart', { sku: sku ?? 'SKU-1', quantity: 1, ...extras }],
      ['add_to_cart with unit price', { sku: sku ?? 'SKU-1', quantity: 1, price_cents: 1 }],
      ['place_order', { idempotency_key: `attack-${ctx.runId}-a3`, ...extras }],
      ['start_return', { order_number: order ?? 'ORD-1', lines: [{ line_no: 1, quantity: 1, refund_cents: 99999 }], reason: 'mass assignment probe', idempotency_key: `attack-${ctx.runId}-a3r`, status: 'approved' }],
      ['list_orders', { customer_id: randomUUID() }],
      ['get_order', { order_number: order ?? 'ORD-1', tenant_id: randomUUID() }],
    ];
    for (const [name, args] of attempts) {
      const tool = name.split(' ')[0]!;
      const a = await callTool(ctx.http, url, token, tool, args);
      c.expect(`${name} with extra arguments refused`, a.isError && !a.structured && a.status < 500, short(a.content, 110));
    }
    const cartAfter = JSON.stringify(await mustCall(ctx.http, url, token, 'view_cart', {}));
    c.expect('cart unchanged', cartBefore === cartAfter, cartBefore === cartAfter ? 'identical' : `${short(cartBefore, 60)} → ${short(cartAfter, 60)}`);
    // Outputs: no internal keys, no row ids.
    const outputs: [string, Record<string, unknown>][] = [['list_orders', { limit: 5 }], ['view_cart', {}]];
    if (order) outputs.push(['get_order', { order_number: order }], ['check_return_eligibility', { order_number: order }]);
    for (const [tool, args] of outputs) {
      const out = await mustCall(ctx.http, url, token, tool, args);
      const leaked = [...allKeys(out)].filter((k) => INTERNAL_KEYS.includes(k) || k === 'id' || k.endsWith('_hash'));
      const uuid = UUID.exec(JSON.stringify(out))?.[0];
      c.expect(`${tool} output has no internal fields`, leaked.length === 0 && !uuid, leaked.length || uuid ? `keys ${leaked.join(',')} ${uuid ?? ''}` : 'clean');
    }
    return c.result();
  },
};
