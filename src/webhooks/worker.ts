// The delivery worker of outgoing webhooks (docs/WEBHOOKS.md "Delivery"), one per service
// instance, all sharing the outbox in PostgreSQL:
//   1. dispatch: each undispatched event (claimed `for update skip locked`) becomes one delivery per
//      subscription of its type, with the message body fixed then, so every retry sends the same bytes;
//   2. claim: due deliveries are taken `for update skip locked` and leased in the same short
//      transaction (attempts + 1, next attempt only after the lease), so two instances never send
//      one delivery at the same time, and no transaction stays open across the network;
//   3. send, then record: delivered, or retried after an exponential backoff, or dead after the
//      last attempt. A crash between claim and record leaves the lease to run out: the delivery is
//      sent again (at least once; receivers dedupe by webhook-id).
// Each tenant's rows are read in its own 'system' context. Errors (PostgreSQL down) are logged and
// the next cycle tries again: nothing is lost, because nothing leaves the outbox before it is delivered.
import type { Config } from '../config.js';
import { admitted, setRequestContext, type Sql, type Tx } from '../db/context.js';
import type { Logger } from '../log.js';
import { postSigned, DELIVERY_TIMEOUT_MS } from './deliver.js';
import { open, secretsKey } from './secret-box.js';
import { signedHeaders } from './signature.js';
import { subscriptionSecretBinding } from './subscriptions.js';

/** A claimed delivery is not claimed again before this; longer than any attempt can take. */
export const LEASE_MS = Math.max(60_000, DELIVERY_TIMEOUT_MS * 4);
const MAX_BACKOFF_MS = 3_600_000;
const BATCH = 20;
const PRUNE_EVERY_CYCLES = 300;
/** Delivered and dead deliveries (and their events) are kept this long, for `webhooks list` and inquiries. */
const RETENTION_DAYS = 30;

/** Exponential backoff: base · 2^(attempts−1), capped at an hour (pure). */
export function retryDelayMs(attempts: number, baseMs: number): number {
  return Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempts - 1));
}

interface Claimed {
  tenant_id: string; event_id: string; subscription_id: string; body: string; attempts: number; url: string; secret_sealed: string;
}

export interface WorkerOptions {
  sql: Sql;
  log: Logger;
  config: Pick<Config, 'dataDir' | 'webhooks' | 'allowPrivateNetworkFetch'>;
  /** The internal listener's base URL: console links are made absolute with it. */
  internalUrl: string;
}

export class WebhookWorker {
  #stopped = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #cycles = 0;
  constructor(readonly options: WorkerOptions) {}

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.runOnce();
      } catch (error) {
        this.options.log.warn({ err: { message: (error as Error).message } }, 'webhook worker cycle failed; retrying');
      }
      if (this.#stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.config.webhooks.pollIntervalMs);
        this.#wake = () => { clearTimeout(timer); resolve(); };
      });
    }
  }

  /** One cycle over every tenant: dispatch, claim, send, record. Returns how many attempts were made. */
  async runOnce(): Promise<number> {
    const { sql } = this.options;
    const tenants = await sql<{ id: string }[]>`select id from tenants where disabled_at is null order by slug`;
    const prune = this.#cycles++ % PRUNE_EVERY_CYCLES === 0;
    // Admitted like a request (F2): the worker never takes the connections requests need.
    const claimed = await admitted(sql, 'webhook-worker', () => sql.begin(async (tx) => {
      const all: Claimed[] = [];
      for (const t of tenants) {
        await setRequestContext(tx, { kind: 'system', tenantId: t.id });
        await this.#dispatch(tx, t.id);
        all.push(...await this.#claim(tx, t.id));
        if (prune) await this.#prune(tx, t.id);
      }
      return all;
    })) as Claimed[];
    await Promise.all(claimed.map((c) => this.#attempt(c)));
    return claimed.length;
  }

  async #dispatch(tx: Tx, tenantId: string): Promise<void> {
    const events = await tx<{ id: string; type: string; data: Record<string, unknown>; created_at: Date }[]>`
      select id, type, data, created_at from webhook_events
      where tenant_id = ${tenantId} and dispatched_at is null order by created_at limit ${BATCH * 5} for update skip locked`;
    for (const e of events) {
      const { console_path: path, ...rest } = e.data as { console_path?: string };
      const data = typeof path === 'string' ? { ...rest, console_url: `${this.options.internalUrl}${path}` } : rest;
      // Standard Webhooks payload shape: type, timestamp, data.
      const body = JSON.stringify({ type: e.type, timestamp: e.created_at.toISOString(), data });
      await tx`
        insert into webhook_deliveries (tenant_id, event_id, subscription_id, body)
        select ${tenantId}, ${e.id}, s.id, ${body} from webhook_subscriptions s
        where s.tenant_id = ${tenantId} and s.disabled_at is null and ${e.type} = any(s.events) and s.created_at <= ${e.created_at}
        on conflict do nothing`;
      await tx`update webhook_events set dispatched_at = now() where tenant_id = ${tenantId} and id = ${e.id}`;
    }
  }

  /** Expired carrier receipts; delivered or dead deliveries and their dispatched events after RETENTION_DAYS. */
  async #prune(tx: Tx, tenantId: string): Promise<void> {
    await tx`delete from carrier_event_receipts where tenant_id = ${tenantId} and expires_at < now()`;
    await tx`delete from webhook_deliveries where tenant_id = ${tenantId} and status <> 'pending'
             and created_at < now() - make_interval(days => ${RETENTION_DAYS})`;
    await tx`delete from webhook_events e where e.tenant_id = ${tenantId} and e.dispatched_at < now() - make_interval(days => ${RETENTION_DAYS})
             and not exists (select 1 from webhook_deliveries d where d.tenant_id = e.tenant_id and d.event_id = e.id)`;
  }

  async #claim(tx: Tx, tenantId: string): Promise<Claimed[]> {
    const due = await tx<Claimed[]>`
      select d.tenant_id, d.event_id, d.subscription_id, d.body, d.attempts, s.url, s.secret_sealed
      from webhook_deliveries d
      join webhook_subscriptions s on s.tenant_id = d.tenant_id and s.id = d.subscription_id
      where d.tenant_id = ${tenantId} and d.status = 'pending' and d.next_attempt_at <= now()
      order by d.next_attempt_at limit ${BATCH} for update of d skip locked`;
    for (const d of due) {
      await tx`update webhook_deliveries set attempts = attempts + 1, last_attempt_at = now(),
                 next_attempt_at = now() + make_interval(secs => ${LEASE_MS / 1000})
               where tenant_id = ${tenantId} and event_id = ${d.event_id} and subscription_id = ${d.subscription_id}`;
      d.attempts += 1;
    }
    return due;
  }

  async #attempt(d: Claimed): Promise<void> {
    const { config, log, sql } = this.options;
    const secret = open(await secretsKey(config), d.secret_sealed, subscriptionSecretBinding(d.tenant_id, d.subscription_id));
    const outcome = secret
      ? await postSigned(d.url, signedHeaders(secret, d.event_id, Math.floor(Date.now() / 1000), d.body), d.body,
        { allowPrivateNetwork: config.allowPrivateNetworkFetch })
      : { ok: false as const, status: null, error: 'the subscription secret does not open with this key (WEBHOOK_SECRETS_KEY)' };
    const last = d.attempts >= config.webhooks.maxAttempts;
    const delayMs = retryDelayMs(d.attempts, config.webhooks.retryBaseMs);
    // Recorded only while the lease is ours (same attempt count, still pending).
    await sql.begin(async (tx) => {
      await setRequestContext(tx, { kind: 'system', tenantId: d.tenant_id });
      return outcome.ok
        ? tx`update webhook_deliveries set status = 'delivered', delivered_at = now(), last_status = ${outcome.status}, last_error = null
             where tenant_id = ${d.tenant_id} and event_id = ${d.event_id} and subscription_id = ${d.subscription_id}
               and status = 'pending' and attempts = ${d.attempts} returning 1`
        : tx`update webhook_deliveries set status = ${last ? 'dead' : 'pending'}, last_status = ${outcome.status}, last_error = ${outcome.error.slice(0, 300)},
               next_attempt_at = now() + make_interval(secs => ${delayMs / 1000})
             where tenant_id = ${d.tenant_id} and event_id = ${d.event_id} and subscription_id = ${d.subscription_id}
               and status = 'pending' and attempts = ${d.attempts} returning 1`;
    }).catch((error: Error) => {
      // PostgreSQL away: the lease runs out and the delivery is sent again (at least once).
      log.warn({ err: { message: error.message }, event_id: d.event_id }, 'webhook delivery outcome not recorded');
    });
    if (!outcome.ok) log.info({ event_id: d.event_id, attempts: d.attempts, dead: last, error: outcome.error }, 'webhook delivery failed');
  }
}
