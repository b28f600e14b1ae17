// The admin command line (issue 3 §8): clients create/list/disable and revocation by user or client
// take effect at introspection (and so at the resource servers) at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resourceFor } from '../../src/authz/resources.js';
import { runAdmin } from '../../src/cli/admin.js';
import { startTestService } from '../support/service.js';
import { ACME_CUSTOMER, Browser, REDIRECT, authorizeUrl, basic, obtainCode, pkce, tokenRequest } from './flow.js';

test('admin CLI: create service and resource-server clients, list, revoke by user and by client, disable', async () => {
  const svc = await startTestService();
  const issuer = `${svc.publicUrl}/t/acme`;
  const run = async (...args: string[]) => { const out: string[] = []; await runAdmin(svc.database.owner, args, (l) => out.push(l)); return out; };
  const field = (out: string[], name: string) => out.find((l) => l.startsWith(`${name}\t`))!.split('\t')[1]!;

  const rsOut = await run('clients', 'create', 'acme', '--name', 'Gateway', '--audience', 'resource_server');
  const rs = { id: field(rsOut, 'client_id'), secret: field(rsOut, 'client_secret') };
  const appOut = await run('clients', 'create', 'acme', '--name', 'Desktop app', '--audience', 'customer', '--redirect-uri', REDIRECT);
  const appId = field(appOut, 'client_id');
  assert.ok(!appOut.some((l) => l.startsWith('client_secret')), 'public client: no secret');
  assert.ok((await run('clients', 'list', 'acme')).some((l) => l.startsWith(appId)));
  await assert.rejects(run('clients', 'create', 'acme', '--name', 'x', '--audience', 'customer', '--redirect-uri', 'http://evil.example/cb'));

  const introspect = async (token: string) => (await (await fetch(`${issuer}/introspect`, { method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs.id, rs.secret) }, body: new URLSearchParams({ token }) })).json()) as { active: boolean };
  const getToken = async () => {
    const { verifier, challenge } = pkce();
    const back = await obtainCode(new Browser(svc.publicUrl), authorizeUrl(issuer, { client_id: appId, code_challenge: challenge, resource: resourceFor(svc.config, 'acme', 'customer') }), ACME_CUSTOMER);
    const t = await tokenRequest(issuer, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, code_verifier: verifier, redirect_uri: REDIRECT, client_id: appId });
    assert.equal(t.status, 200);
    return t.body as { access_token: string; refresh_token: string };
  };

  const t1 = await getToken();
  assert.equal((await introspect(t1.access_token)).active, true);
  await run('revoke', 'user', 'acme', ACME_CUSTOMER.login);
  assert.equal((await introspect(t1.access_token)).active, false);
  assert.equal((await tokenRequest(issuer, { grant_type: 'refresh_token', refresh_token: t1.refresh_token, client_id: appId })).body.error, 'invalid_grant');

  const t2 = await getToken();
  await run('revoke', 'client', 'acme', appId);
  assert.equal((await introspect(t2.access_token)).active, false);

  await run('clients', 'disable', 'acme', appId);
  const res = await new Browser(svc.publicUrl).fetch(authorizeUrl(issuer, { client_id: appId, code_challenge: pkce().challenge, resource: resourceFor(svc.config, 'acme', 'customer') }));
  assert.equal(res.status, 400, 'disabled client is unknown');
});
