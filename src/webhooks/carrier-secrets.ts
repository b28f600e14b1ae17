// The HMAC secret of a carrier in a tenant (docs/WEBHOOKS.md "Carrier events"): generated here,
// shown once by `npm run admin -- carriers set-secret`, kept sealed (secret-box.ts). Setting a
// new one replaces the old at once.
import type postgres from 'postgres';
import type { Config } from '../config.js';
import { carrierSecretBinding } from './carrier-events.js';
import { seal, secretsKey } from './secret-box.js';
import { generateSecret } from './signature.js';

export async function setCarrierSecret(owner: postgres.Sql, config: Pick<Config, 'dataDir' | 'webhooks'>, tenantId: string, carrierSlug: string):
  Promise<{ carrier: string; slug: string; secret: string } | null> {
  const [carrier] = await owner<{ id: string; name: string; slug: string }[]>`
    select id, name, slug from carriers where tenant_id = ${tenantId} and slug = ${carrierSlug}`;
  if (!carrier) return null;
  const secret = generateSecret();
  const sealed = seal(await secretsKey(config), secret, carrierSecretBinding(tenantId, carrier.id));
  await owner`insert into carrier_webhook_secrets (tenant_id, carrier_id, secret_sealed) values (${tenantId}, ${carrier.id}, ${sealed})
              on conflict (tenant_id, carrier_id) do update set secret_sealed = excluded.secret_sealed, created_at = now()`;
  return { carrier: carrier.name, slug: carrier.slug, secret };
}
