// Login and consent in a real browser (headless Chromium via playwright-core): the pages work
// without JavaScript, the CSRF cookie and form token round-trip, and the client receives code + iss.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import { chromium } from 'playwright-core';
import { resourceFor } from '../../src/authz/resources.js';
import { startTestService } from '../support/service.js';
import { ACME_CUSTOMER, REDIRECT, authorizeUrl, pkce, registerClient, tokenRequest } from './flow.js';

const CHROMIUM = '/usr/bin/chromium';

test('login and consent in headless Chromium, JavaScript disabled', { skip: !existsSync(CHROMIUM) && 'no /usr/bin/chromium' }, async () => {
  const svc = await startTestService();
  const issuer = `${svc.publicUrl}/t/acme`;
  const client = await registerClient(issuer, { client_name: 'Browser App' });
  const { verifier, challenge } = pkce();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  after(() => browser.close());
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  let callback: URL | undefined;
  // The client's redirect URI is not served: capture the navigation instead.
  await page.route(`${REDIRECT}**`, async (route) => { callback = new URL(route.request().url()); await route.fulfill({ status: 200, body: 'done' }); });

  await page.goto(authorizeUrl(issuer, { client_id: client.client_id, code_challenge: challenge, resource: resourceFor(svc.config, 'acme', 'customer'), state: 'pw' }));
  assert.match(await page.title(), /Sign in/);
  await page.fill('#email', ACME_CUSTOMER.login);
  await page.fill('#password', 'wrong-password');
  await page.click('button[type=submit]');
  assert.match(await page.textContent('body') ?? '', /incorrect/, await page.content());
  await page.fill('#email', ACME_CUSTOMER.login);
  await page.fill('#password', ACME_CUSTOMER.password);
  await page.click('button[type=submit]');
  await page.waitForSelector('button[value=allow]');
  const consentText = await page.textContent('body');
  assert.match(consentText!, /Browser App/);
  assert.match(consentText!, /127\.0\.0\.1:8765/);
  await page.click('button[value=allow]');
  await page.waitForURL(`${REDIRECT}**`);
  assert.ok(callback);
  assert.equal(callback.searchParams.get('iss'), issuer);
  assert.equal(callback.searchParams.get('state'), 'pw');
  const t = await tokenRequest(issuer, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: verifier, redirect_uri: REDIRECT, client_id: client.client_id });
  assert.equal(t.status, 200);
});
