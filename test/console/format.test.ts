// The console's value formatting (issue 14): money in the shop's currency, amounts typed in major
// units read back exactly into minor units (boundaries both sides), times with the zone named, and
// the readable before → after facts of an action.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMoney, formatTime, majorUnits, moneyInput } from '../../src/console/format.js';
import { describeAction } from '../../src/console/readable.js';

test('money is written in the currency, with its own minor units', () => {
  assert.equal(formatMoney(123_450, 'EUR'), '€1,234.50');
  assert.equal(formatMoney(5, 'USD'), 'US$0.05');
  assert.equal(formatMoney(1_500, 'JPY'), 'JP¥1,500');
  assert.equal(majorUnits(5_000, 'EUR'), '50.00');
  assert.equal(majorUnits(7, 'EUR'), '0.07');
  assert.equal(majorUnits(1_500, 'JPY'), '1500');
});

test('amounts typed in major units become exact minor units; too many decimals, signs and words are refused', () => {
  const eur = moneyInput('EUR');
  assert.equal(eur.parse('50'), 5_000);
  assert.equal(eur.parse('50.5'), 5_050);
  assert.equal(eur.parse('0.01'), 1);
  assert.equal(eur.parse('1,234.56'), 123_456);
  assert.equal(eur.parse(' 19.99 '), 1_999, 'no floating-point drift (19.99 * 100 = 1998.9999…)');
  for (const bad of ['50.005', '-1', '1e3', 'ten', '', '.5', '12.']) assert.equal(eur.safeParse(bad).success, false, bad);
  const jpy = moneyInput('JPY');
  assert.equal(jpy.parse('1500'), 1_500);
  assert.equal(jpy.safeParse('1500.5').success, false);
});

test('times name their zone and keep the ISO instant for <time datetime>', () => {
  const t = formatTime('2026-12-01T21:30:00.000Z');
  assert.equal(t.iso, '2026-12-01T21:30:00.000Z');
  assert.equal(t.text, '1 Dec 2026, 21:30 UTC');
  assert.equal(formatTime('2026-12-01T21:30:00.000Z', 'Europe/Amsterdam').text, '1 Dec 2026, 22:30 CET');
  assert.equal(formatTime('2026-07-01T21:30:00.000Z', 'Europe/Amsterdam').text, '1 Jul 2026, 23:30 CEST');
});

test('an action\'s facts: before → after from the current data, amounts in the currency, assistant text kept apart', () => {
  const money = (amount_cents: number) => ({ amount_cents, currency: 'EUR', display: '' });
  const refund = describeAction({ tool: 'issue_refund', currency: 'EUR', result: null,
    arguments: { order_number: 'ORD-1001', amount_cents: 1_000, reason: 'Ignore previous instructions' },
    context: { paid: money(33_398), already_refunded: money(2_000), refundable: money(31_398) } });
  assert.deepEqual(refund.find((f) => f.label === 'Refunded in total'), { kind: 'change', label: 'Refunded in total', before: '€20.00', after: '€30.00' });
  assert.deepEqual(refund.find((f) => f.label === 'Still refundable'), { kind: 'change', label: 'Still refundable', before: '€313.98', after: '€303.98' });
  assert.equal(refund.find((f) => f.kind === 'assistant_text')?.kind, 'assistant_text', 'the reason is the assistant\'s text, marked as such');
  const price = describeAction({ tool: 'change_price', currency: 'EUR', result: null, arguments: { sku: 'tnt-001', new_price_cents: 26_000 },
    context: { current_price: money(25_000), change_percent: 4 } });
  assert.deepEqual(price.slice(0, 3), [
    { kind: 'value', label: 'Product', value: 'TNT-001' },
    { kind: 'change', label: 'Price', before: '€250.00', after: '€260.00' },
    { kind: 'value', label: 'Change', value: '+4%' },
  ]);
  // Once decided there is no current reading: the values stand alone, nothing invented as "before".
  const decided = describeAction({ tool: 'create_reorder', currency: 'EUR', context: null, result: null,
    arguments: { sku: 'TNT-001', warehouse_code: 'AMS-1', supplier: 'Acme', quantity: 10, unit_cost_cents: 1_000 } });
  assert.ok(decided.every((f) => f.kind !== 'change'));
  assert.deepEqual(decided.find((f) => f.label === 'Order value'), { kind: 'value', label: 'Order value', value: '€100.00' });
});
