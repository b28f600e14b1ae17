// What an action will do, in readable facts for the approver (issue 14): money in the shop's
// currency, before → after for stock, prices, refunds, return and claim states, addresses and
// drivers. Built from the action's arguments and the executor's current reading of the data
// (actionContext: stock on hand, the current price, paid and already refunded); after a decision,
// from the recorded result. Pure: no I/O. Free text the assistant wrote (a refund reason, a claim
// description) is returned as `assistant_text` so the page shows it marked, never as our wording.
import { formatMoney } from './format.js';

export type Fact =
  | { kind: 'value'; label: string; value: string }
  | { kind: 'change'; label: string; before: string; after: string }
  | { kind: 'assistant_text'; label: string; text: string };

type Bag = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const bag = (v: unknown): Bag | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Bag) : undefined);

/** A `money()` object of the executors ({ amount_cents, currency }) as cents and currency. */
function moneyOf(v: unknown): { cents: number; currency: string } | undefined {
  const m = bag(v);
  const cents = num(m?.amount_cents);
  const currency = str(m?.currency);
  return cents !== undefined && currency && /^[A-Z]{3}$/.test(currency) ? { cents, currency } : undefined;
}

function address(v: unknown): string | undefined {
  const a = bag(v);
  if (!a) return undefined;
  const parts = [str(a.name), str(a.line1), [str(a.postal_code), str(a.city)].filter(Boolean).join(' '), str(a.country)].filter((p) => p);
  return parts.length ? parts.join(', ') : undefined;
}

class Facts {
  readonly list: Fact[] = [];
  value(label: string, value: string | undefined): this {
    if (value !== undefined && value !== '') this.list.push({ kind: 'value', label, value });
    return this;
  }
  change(label: string, before: string | undefined, after: string | undefined): this {
    if (after === undefined) return this;
    if (before === undefined) return this.value(label, after);
    this.list.push({ kind: 'change', label, before, after });
    return this;
  }
  text(label: string, text: unknown): this {
    if (typeof text === 'string' && text.trim()) this.list.push({ kind: 'assistant_text', label, text });
    return this;
  }
}

export interface ActionFacts {
  tool: string;
  arguments: Bag;
  /** The executor's current reading (pending actions that can still be done), else null. */
  context: Bag | null;
  /** The recorded result (executed actions), else null. */
  result: Bag | null;
  /** The shop's currency (tenant_settings.currency), for amounts given in the arguments. */
  currency: string;
}

/** The readable facts of one action, most important first. */
export function describeAction(p: ActionFacts): Fact[] {
  const a = p.arguments;
  const c = p.context ?? {};
  const r = p.result ?? {};
  const money = (cents: number | undefined, currency = p.currency) => (cents === undefined ? undefined : formatMoney(cents, currency));
  const shown = (v: unknown) => { const m = moneyOf(v); return m ? formatMoney(m.cents, m.currency) : undefined; };
  const f = new Facts();
  switch (p.tool) {
    case 'create_reorder': {
      const quantity = num(a.quantity);
      const unit = moneyOf(c.unit_cost) ?? moneyOf(r.unit_cost) ?? (num(a.unit_cost_cents) !== undefined ? { cents: num(a.unit_cost_cents)!, currency: p.currency } : undefined);
      const stock = bag(c.stock);
      const onHand = num(stock?.on_hand);
      f.value('Product', str(a.sku)?.toUpperCase())
        .value('Warehouse', str(a.warehouse_code)?.toUpperCase())
        .value('Supplier', str(a.supplier))
        .value('Quantity ordered', quantity === undefined ? undefined : `${quantity} units`)
        .value('Unit cost', unit ? formatMoney(unit.cents, unit.currency) : undefined)
        .value('Order value', unit && quantity !== undefined ? formatMoney(unit.cents * quantity, unit.currency) : shown(r.total))
        .change('Stock on hand (after delivery)', onHand === undefined ? undefined : `${onHand}`,
          onHand !== undefined && quantity !== undefined ? `${onHand + quantity}` : undefined)
        .value('Available now (on hand − reserved)', num(stock?.available) === undefined ? undefined : String(stock!.available))
        .value('Reorder point', num(stock?.reorder_point) === undefined ? undefined : String(stock!.reorder_point))
        .value('Supplier lead time', num(c.supplier_lead_time_days) === undefined ? undefined : `${c.supplier_lead_time_days} days`)
        .value('Purchase order', str(r.purchase_order_number));
      break;
    }
    case 'change_price': {
      const current = moneyOf(c.current_price) ?? moneyOf(r.previous_price);
      const next = num(a.new_price_cents);
      const currency = current?.currency ?? p.currency;
      const percent = num(c.change_percent) ?? num(r.change_percent);
      f.value('Product', str(a.sku)?.toUpperCase())
        .change('Price', current ? formatMoney(current.cents, current.currency) : undefined, money(next, currency))
        .value('Change', percent === undefined || next === undefined || !current ? undefined : `${next > current.cents ? '+' : '−'}${percent}%`)
        .text('Reason given (written by the assistant, unverified)', a.reason);
      break;
    }
    case 'issue_refund': {
      const amount = num(a.amount_cents);
      const paid = moneyOf(c.paid);
      const refunded = moneyOf(c.already_refunded);
      const refundable = moneyOf(c.refundable);
      const currency = paid?.currency ?? moneyOf(r.amount)?.currency ?? p.currency;
      f.value('Order', str(a.order_number)?.toUpperCase())
        .value('Refund', money(amount, currency))
        .value('Paid', paid ? formatMoney(paid.cents, paid.currency) : undefined)
        .change('Refunded in total', refunded ? formatMoney(refunded.cents, currency) : undefined,
          refunded && amount !== undefined ? formatMoney(refunded.cents + amount, currency) : shown(r.total_refunded))
        .change('Still refundable', refundable ? formatMoney(refundable.cents, currency) : undefined,
          refundable && amount !== undefined ? formatMoney(refundable.cents - amount, currency) : shown(r.still_refundable))
        .text('Reason given (written by the assistant, unverified)', a.reason);
      break;
    }
    case 'decide_return': {
      const decision = str(a.decision);
      const lines = Array.isArray(c.lines) ? (c.lines as Bag[]) : [];
      f.value('Return', str(a.return_number)?.toUpperCase())
        .change('Return status', p.context ? 'requested' : undefined, decision === 'approve' ? 'approved' : decision === 'reject' ? 'rejected' : undefined)
        .value('Value of the returned goods', shown(c.value) ?? shown(r.value));
      for (const l of lines) {
        f.value(`Line ${str(l.line_no) ?? ''}`.trim(),
          `${str(l.quantity) ?? '?'} × ${str(l.sku) ?? ''} (${str(l.name) ?? ''}), condition ${str(l.condition) ?? 'unknown'}${l.returnable === false ? ', not returnable' : ''}`);
      }
      f.text('Note to the customer (written by the assistant, unverified)', a.note);
      break;
    }
    case 'open_damage_claim': {
      const total = moneyOf(c.order_total);
      f.value('Shipment', str(a.tracking_number))
        .value('Shipment status', str(c.shipment_status))
        .value('Claimed from the carrier', money(num(a.amount_cents), total?.currency))
        .value('Order total', total ? formatMoney(total.cents, total.currency) : undefined)
        .value('Claim', str(r.claim_number))
        .text('Description (written by the assistant, unverified)', a.description);
      break;
    }
    case 'resolve_damage_claim': {
      const outcome = str(a.outcome);
      f.value('Claim', str(a.claim_number)?.toUpperCase())
        .value('Carrier', str(c.carrier))
        .value('Claimed amount', shown(c.amount) ?? shown(r.amount))
        .change('Claim status', p.context ? 'open' : undefined, outcome === 'paid' ? 'resolved: paid by the carrier' : outcome === 'rejected' ? 'resolved: rejected by the carrier' : undefined)
        .text('Resolution (written by the assistant, unverified)', a.resolution);
      break;
    }
    case 'reroute_delivery': {
      f.value('Shipment', str(a.tracking_number))
        .value('Carrier', str(c.carrier) ?? str(r.carrier))
        .value('Shipment status', str(c.shipment_status) ?? str(r.status));
      if (a.new_address !== undefined) f.change('Delivery address', address(c.current_address), address(a.new_address));
      if (a.driver_name !== undefined) f.change('Driver', p.context ? (str(c.current_driver) ?? 'no driver') : undefined, str(a.driver_name));
      break;
    }
    default:
      break;
  }
  return f.list;
}
