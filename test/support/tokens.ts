// Access tokens for resource-server tests, minted the way the token endpoint mints them (same
// table, same hashing), for a pre-registered test client. End-to-end OAuth flows live in test/authz.
import type postgres from 'postgres';
import { mintAccessToken } from '../../src/authz/tokens.js';
import { withContext } from '../../src/db/context.js';

export interface TestTokenRequest {
  tenantSlug: string;
  resource: string;
  subject: { kind: 'customer' | 'staff'; email: string };
  scope: string;
  clientId?: string;
  ttlSeconds?: number;
}

export async function issueTestToken(app: postgres.Sql, r: TestTokenRequest): Promise<{ token: string; id: string; subjectId: string; tenantId: string }> {
  const [tenant] = await app<{ id: string }[]>`select id from tenants where slug = ${r.tenantSlug}`;
  if (!tenant) throw new Error(`no tenant ${r.tenantSlug}`);
  const clientId = r.clientId ?? 'test-client';
  return withContext(app, { kind: 'auth', tenantId: tenant.id }, async (tx) => {
    await tx`insert into oauth_clients (tenant_id, client_id, name, redirect_uris, audience, source)
             values (${tenant.id}, ${clientId}, 'Test client', '{http://127.0.0.1/callback}', 'any', 'preregistered')
             on conflict do nothing`;
    const table = r.subject.kind === 'customer' ? tx`customers` : tx`staff`;
    const [subject] = await tx<{ id: string }[]>`select id from ${table} where email = ${r.subject.email}`;
    if (!subject) throw new Error(`no ${r.subject.kind} ${r.subject.email} in ${r.tenantSlug}`);
    const minted = await mintAccessToken(tx, {
      tenantId: tenant.id, familyId: null, clientId, subjectKind: r.subject.kind, subjectId: subject.id,
      resource: r.resource, scope: r.scope, ttlSeconds: r.ttlSeconds ?? 600,
    });
    return { token: minted.token, id: minted.id, subjectId: subject.id, tenantId: tenant.id };
  });
}
