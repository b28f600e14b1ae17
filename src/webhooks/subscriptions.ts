// Webhook subscriptions of a tenant (docs/WEBHOOKS.md "Subscriptions"): a target URL, the event
// types it wants and a `whsec_` secret that signs every message to it. Made by the owner role
// (npm run admin -- webhooks add|list|remove); the secret is shown once and kept sealed.
import type postgres from 'postgres';
import type { Config } from '../config.js';
import { seal, secretsKey } from './secret-box.js';
import { generateSecret } from './signature.js';
import { checkTarget } from './target-url.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './outbox.js';

export function subscriptionSecretBinding(tenantId: string, subscriptionId: string): readonly string[] {
  return ['webhook-subscription', tenantId, subscriptionId];
}

export class SubscriptionRefused extends Error {}

export interface NewSubscription { id: string; url: string; events: WebhookEventType[]; secret: string }

type SubscriptionConfig = Pick<Config, 'dataDir' | 'webhooks' | 'allowPrivateNetworkFetch'>;

/**
 * Adds a subscription. The URL is checked as deliveries will be (M4): in production (or without
 * ALLOW_PRIVATE_NETWORK_FETCH) a host on a loopback, private or link-local address is refused here.
 */
export async function addSubscription(owner: postgres.Sql, config: SubscriptionConfig, tenantId: string,
  input: { url: string; events: string[]; description?: string | undefined }): Promise<NewSubscription> {
  const events = [...new Set(input.events)];
  const unknown = events.filter((e) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(e));
  if (events.length === 0 || unknown.length) throw new SubscriptionRefused(`events: one or more of ${WEBHOOK_EVENT_TYPES.join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}`);
  const target = await checkTarget(input.url, { allowPrivateNetwork: config.allowPrivateNetworkFetch });
  if (!target.ok) throw new SubscriptionRefused(`url refused: ${target.reason}`);
  const secret = generateSecret();
  const key = await secretsKey(config);
  return owner.begin(async (tx) => {
    const [{ id }] = await tx<[{ id: string }]>`select gen_random_uuid()::text as id`;
    await tx`insert into webhook_subscriptions (tenant_id, id, url, events, secret_sealed, description)
             values (${tenantId}, ${id}, ${input.url}, ${events}, ${seal(key, secret, subscriptionSecretBinding(tenantId, id))}, ${input.description ?? null})`;
    return { id, url: input.url, events: events as WebhookEventType[], secret };
  }) as Promise<NewSubscription>;
}

export interface SubscriptionRow {
  id: string; url: string; events: string[]; description: string | null; created_at: Date;
  pending: number; delivered: number; dead: number;
}

export async function listSubscriptions(owner: postgres.Sql, tenantId: string): Promise<SubscriptionRow[]> {
  return owner<SubscriptionRow[]>`
    select s.id, s.url, s.events, s.description, s.created_at,
      (select count(*)::int from webhook_deliveries d where d.tenant_id = s.tenant_id and d.subscription_id = s.id and d.status = 'pending') as pending,
      (select count(*)::int from webhook_deliveries d where d.tenant_id = s.tenant_id and d.subscription_id = s.id and d.status = 'delivered') as delivered,
      (select count(*)::int from webhook_deliveries d where d.tenant_id = s.tenant_id and d.subscription_id = s.id and d.status = 'dead') as dead
    from webhook_subscriptions s where s.tenant_id = ${tenantId} and s.disabled_at is null order by s.created_at`;
}

/** Removes a subscription and its deliveries (nothing more is sent to it). */
export async function removeSubscription(owner: postgres.Sql, tenantId: string, id: string): Promise<boolean> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return false;
  const rows = await owner`delete from webhook_subscriptions where tenant_id = ${tenantId} and id = ${id} returning 1`;
  return rows.length > 0;
}
