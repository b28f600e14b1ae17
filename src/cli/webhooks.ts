// npm run admin -- carriers … / webhooks …: the carrier HMAC secrets that sign carrier events in, and
// the subscriptions of outgoing webhooks (docs/WEBHOOKS.md). Secrets are printed once and kept
// sealed with the key of WEBHOOK_SECRETS_KEY or DATA_DIR (give the command the service's).
import type postgres from 'postgres';
import type { Config } from '../config.js';
import { addSubscription, listSubscriptions, removeSubscription, SubscriptionRefused } from '../webhooks/subscriptions.js';
import { setCarrierSecret } from '../webhooks/carrier-secrets.js';
import { WEBHOOK_EVENT_TYPES } from '../webhooks/outbox.js';
import { CommandFailed, UsageError, type Subcommand } from './owner.js';

async function tenantId(sql: postgres.Sql, slug: string | undefined): Promise<string> {
  if (!slug) throw new UsageError('tenant slug required');
  const [t] = await sql<{ id: string }[]>`select id from tenants where slug = ${slug}`;
  if (!t) throw new CommandFailed(`no tenant ${slug}`);
  return t.id;
}

/** The subcommands; `config` gives the configuration the command runs with (the environment's). */
export function webhookSubcommands(config: () => Config): Subcommand[] {
  return [
    {
      name: 'carriers list', args: '<tenant>', summary: "a tenant's carriers, the slug of their event URL, and whether a secret is set", json: true,
      run: async (sql, { args: [slug], table }) => table(await sql<{ name: string; slug: string; secret_set: boolean }[]>`
        select c.name, c.slug, exists (select 1 from carrier_webhook_secrets s where s.tenant_id = c.tenant_id and s.carrier_id = c.id) as secret_set
        from carriers c where c.tenant_id = ${await tenantId(sql, slug)} order by c.name`, ['name', 'slug', 'secret_set']),
    },
    {
      name: 'carriers set-secret', args: '<tenant> <carrier>', json: true,
      summary: 'a new HMAC secret for carrier events (carrier: its slug); printed once, replaces the old one',
      details: 'The carrier signs POST {PUBLIC_URL}/t/<tenant>/webhooks/carriers/<carrier> with it (docs/WEBHOOKS.md).',
      async run(sql, { args: [slug, carrier], record }) {
        const t = await tenantId(sql, slug);
        const set = await setCarrierSecret(sql, config(), t, carrier!);
        if (!set) throw new CommandFailed(`no carrier ${carrier} in ${slug} (npm run admin -- carriers list ${slug})`);
        const { publicUrl } = config();
        record({ carrier: set.carrier, url: `${publicUrl}/t/${slug}/webhooks/carriers/${set.slug}`, secret: set.secret,
          note: 'the secret is shown once; stored sealed' });
      },
    },
    {
      name: 'webhooks list', args: '<tenant>', summary: "a tenant's webhook subscriptions with their delivery counts", json: true,
      run: async (sql, { args: [slug], table }) => table(await listSubscriptions(sql, await tenantId(sql, slug)),
        ['id', 'url', 'events', 'pending', 'delivered', 'dead', 'created_at']),
    },
    {
      name: 'webhooks add', args: '<tenant> <url> --event E... [--description D]', json: true,
      summary: 'subscribes a URL to events; prints the id and its whsec_ secret (once)',
      details: `events: ${WEBHOOK_EVENT_TYPES.join(', ')}. The URL must be https with a public address (http and private addresses only with ALLOW_PRIVATE_NETWORK_FETCH outside production).`,
      options: { event: { type: 'string', multiple: true }, description: { type: 'string' } },
      async run(sql, { args: [slug, url], values, record }) {
        const events = (values.event as string[] | undefined) ?? [];
        if (!events.length) throw new UsageError(`--event required: ${WEBHOOK_EVENT_TYPES.join(', ')}`);
        const t = await tenantId(sql, slug);
        try {
          const s = await addSubscription(sql, config(), t, { url: url!, events, description: values.description as string | undefined });
          record({ id: s.id, url: s.url, events: s.events.join(' '), secret: s.secret, note: 'the secret is shown once; stored sealed' });
        } catch (error) {
          if (error instanceof SubscriptionRefused) throw new CommandFailed(error.message);
          throw error;
        }
      },
    },
    {
      name: 'webhooks remove', args: '<tenant> <id>', summary: 'removes a subscription and its pending deliveries',
      async run(sql, { args: [slug, id], out }) {
        const t = await tenantId(sql, slug);
        if (!await removeSubscription(sql, t, id!)) throw new CommandFailed(`no subscription ${id} in ${slug}`);
        out('removed');
      },
    },
  ];
}
