// RFC 7591 registration policy: rate-limited per IP (A4: 429 with Retry-After) and unused
// registrations expire.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resourceFor } from '../../src/authz/resources.js';
import { startTestService } from '../support/service.js';
import { Browser, authorizeUrl, pkce, registerClient } from './flow.js';

test('A4 registration flood from one IP → 429 with Retry-After; an expired unused registration is unknown', async () => {
  const svc = await startTestService();
  const issuer = `${svc.publicUrl}/t/acme`;
  const first = await registerClient(issuer);
  let last: Response | undefined;
  for (let i = 0; i < 25; i++) {
    last = await fetch(`${issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://app.example.com/cb'] }) });
    if (last.status === 429) break;
    assert.equal(last.status, 201);
  }
  assert.equal(last!.status, 429);
  assert.ok(Number(last!.headers.get('retry-after')) > 0);
  assert.equal(((await last!.json()) as { error: string }).error, 'temporarily_unavailable');

  await svc.database.owner`update oauth_clients set expires_at = now() - interval '1 second' where client_id = ${first.client_id}`;
  const res = await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: first.client_id, code_challenge: pkce().challenge, resource: resourceFor(svc.config, 'acme', 'customer') }));
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('location'), null);
});
