// What a run created on the deployment, so that it can be removed at the end (attack/cleanup.ts).
// Rows record through `ctx.created.add(…)`; the suite's plumbing records what passes through it on
// its own (see the top of attack/context.ts for which is which).

/**
 * One thing the run made or changed. `tenant` is always the slug. Cleanup removes exactly these
 * (and what hangs off them), and nothing else:
 * - order: the order, its lines and payment; its stock reservations are released.
 * - return: the return and its lines.
 * - pending action: the action; what it did when it ran (a refund given back to its payment, a
 *   purchase order removed, a price put back).
 * - client: a registered OAuth client with its interactions, codes, token families, tokens, consents.
 * - cart: the customer's cart is put back as it was when the run started.
 * - price: the product's price list is put back as it was when the run started.
 * - sign-in: an account the run signed in as (or tried to): its sign-in throttle counters and the
 *   person's MCP budget windows are reset.
 */
export type Created =
  | { kind: 'order'; tenant: string; number: string }
  | { kind: 'return'; tenant: string; number: string }
  | { kind: 'pending action'; tenant: string; id: string }
  | { kind: 'client'; tenant: string; clientId: string }
  | { kind: 'cart'; tenant: string; login: string }
  | { kind: 'price'; tenant: string; sku: string }
  | { kind: 'sign-in'; tenant: string; login: string };

export type CreatedKind = Created['kind'];

/** The order cleanup works in: effects of actions first, then what they point at (foreign keys). */
export const CLEANUP_ORDER: readonly CreatedKind[] = ['pending action', 'price', 'return', 'order', 'cart', 'client', 'sign-in'];

export function describeCreated(c: Created): string {
  switch (c.kind) {
    case 'order': case 'return': return `${c.kind} ${c.number} (${c.tenant})`;
    case 'pending action': return `pending action ${c.id} (${c.tenant})`;
    case 'client': return `client ${c.clientId} (${c.tenant})`;
    case 'cart': return `cart of ${c.login} (${c.tenant})`;
    case 'price': return `price of ${c.sku} (${c.tenant})`;
    case 'sign-in': return `sign-in counters and budgets of ${c.login} (${c.tenant})`;
  }
}

/** The run's records, each once, in the order they were made. */
export class Ledger {
  readonly #items = new Map<string, Created>();

  add(record: Created): void {
    const key = JSON.stringify(record, Object.keys(record).sort());
    if (!this.#items.has(key)) this.#items.set(key, record);
  }

  all(): Created[] {
    return [...this.#items.values()];
  }

  of<K extends CreatedKind>(kind: K): Extract<Created, { kind: K }>[] {
    return this.all().filter((c): c is Extract<Created, { kind: K }> => c.kind === kind);
  }

  get size(): number {
    return this.#items.size;
  }
}

/** The tenant slug a service URL names (/t/<slug>/… or /console/t/<slug>/…). */
export function tenantOfUrl(url: string | URL): string | undefined {
  return /\/t\/([^/?#]+)/.exec(new URL(url).pathname)?.[1];
}
