// Client ID Metadata Documents (MCP 2025-11-25 authorization; draft-ietf-oauth-client-id-metadata-document)
// and M4: SSRF through client metadata URLs is refused before any connection.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { isPublicAddress } from '../../src/authz/checks/network-address.js';
import { isClientIdUrl, resolvePermittedAddress } from '../../src/authz/checks/client-metadata-document.js';
import { resourceFor } from '../../src/authz/resources.js';
import { startTestService } from '../support/service.js';
import { ACME_CUSTOMER, Browser, REDIRECT, authorizeUrl, obtainCode, pkce, tokenRequest } from './flow.js';

// A local "client website" that counts every request it gets.
let hits = 0;
let handler: (req: IncomingMessage, res: ServerResponse, base: string) => void = () => {};
const site = createServer((req, res) => { hits++; handler(req, res, base); });
await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
after(() => new Promise<void>((r) => site.close(() => r())));

const strict = await startTestService(); // production-like: no private network fetches
const dev = await startTestService({ ALLOW_PRIVATE_NETWORK_FETCH: 'true' });

describe('M4 SSRF through client metadata URLs', () => {
  const targets = [
    'https://127.0.0.1/client.json', 'https://0x7f.1/client.json', 'https://2130706433/client.json', 'https://0177.0.0.1/client.json',
    'https://127.1/client.json', 'https://[::1]/client.json', 'https://[::ffff:127.0.0.1]/client.json', 'https://[::ffff:7f00:1]/client.json',
    'https://169.254.169.254/latest/meta-data', 'https://10.0.0.1/client.json', 'https://172.16.5.4/client.json', 'https://192.168.1.1/client.json',
    'https://100.64.0.1/client.json', 'https://[fd00::1]/client.json', 'https://[fe80::1]/client.json', 'https://0.0.0.0/client.json',
    'https://localhost/client.json', `${base.replace('http:', 'https:')}/client.json`,
  ];
  for (const clientId of targets) {
    test(`M4 client_id ${clientId} → rejected before any connection, error page`, async () => {
      const before = hits;
      const res = await new Browser(strict.publicUrl).fetch(authorizeUrl(`${strict.publicUrl}/t/acme`, {
        client_id: clientId, resource: resourceFor(strict.config, 'acme', 'customer'), code_challenge: pkce().challenge,
      }));
      assert.equal(res.status, 400);
      assert.equal(res.headers.get('location'), null);
      assert.equal(hits, before, 'no request reached the target');
    });
  }
  test('M4 http:// client ids are refused in production mode', async () => {
    const res = await new Browser(strict.publicUrl).fetch(authorizeUrl(`${strict.publicUrl}/t/acme`, {
      client_id: `${base}/client.json`, resource: resourceFor(strict.config, 'acme', 'customer'), code_challenge: pkce().challenge,
    }));
    assert.equal(res.status, 400);
  });
  test('M4 address classification: private, loopback, link-local, ULA, mapped and reserved ranges are not public', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.100.1.1', '0.0.0.0', '224.0.0.1',
      '255.255.255.255', '::1', '::', '::ffff:127.0.0.1', '::ffff:8.8.8.8', '::127.0.0.1', 'fd12::1', 'fe80::1', 'ff02::1', '64:ff9b::7f00:1', '2001:db8::1', 'not-an-ip']) {
      assert.equal(isPublicAddress(a), false, a);
    }
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) assert.equal(isPublicAddress(a), true, a);
  });
  test('M4 DNS names resolving to loopback are refused (no connection made)', async () => {
    await assert.rejects(resolvePermittedAddress('localhost', { allowPrivateNetwork: false }), /non-public|no address/);
  });
  test('CIMD §3 client id URL shape: https, a path, no fragment, no userinfo, no dot segments', () => {
    const p = { allowPrivateNetwork: false };
    assert.equal(isClientIdUrl('https://app.example.com/oauth/client.json', p), true);
    for (const u of ['https://app.example.com/', 'https://app.example.com', 'https://u:p@app.example.com/c', 'https://app.example.com/c#f', 'https://app.example.com/a/../c', 'http://app.example.com/c']) {
      assert.equal(isClientIdUrl(u, p), false, u);
    }
  });
});

describe('Client ID Metadata Documents (development setting allows loopback)', () => {
  const issuer = `${dev.publicUrl}/t/acme`;
  const resource = resourceFor(dev.config, 'acme', 'customer');
  const doc = (clientId: string, extra: Record<string, unknown> = {}) => JSON.stringify({ client_id: clientId, client_name: 'Metadata Client', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', ...extra });

  test('CIMD: a document-identified client signs in, consents and gets tokens; the consent page names it', async () => {
    const clientId = `${base}/good/client.json`;
    handler = (req, res) => {
      if (req.url === '/good/client.json') { res.writeHead(200, { 'content-type': 'application/json' }); res.end(doc(clientId)); }
      else { res.writeHead(404); res.end(); }
    };
    const { verifier, challenge } = pkce();
    const back = await obtainCode(new Browser(dev.publicUrl), authorizeUrl(issuer, { client_id: clientId, code_challenge: challenge, resource }), ACME_CUSTOMER);
    const code = back.searchParams.get('code');
    assert.ok(code);
    const t = await tokenRequest(issuer, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId });
    assert.equal(t.status, 200);
  });
  test('CIMD §4.1: a document whose client_id differs from its URL is refused', async () => {
    handler = (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(doc('https://other.example/client.json')); };
    const res = await new Browser(dev.publicUrl).fetch(authorizeUrl(issuer, { client_id: `${base}/mismatch/client.json`, code_challenge: pkce().challenge, resource }));
    assert.equal(res.status, 400);
  });
  test('CIMD: redirects are not followed, oversized documents and non-JSON are refused', async () => {
    handler = (req, res, b) => {
      if (req.url === '/redirect/client.json') { res.writeHead(302, { location: `${b}/good/client.json` }); res.end(); }
      else if (req.url === '/big/client.json') { res.writeHead(200, { 'content-type': 'application/json' }); res.end(doc(`${b}/big/client.json`, { padding: 'x'.repeat(10_000) })); }
      else { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html></html>'); }
    };
    for (const path of ['/redirect/client.json', '/big/client.json', '/html/client.json']) {
      const before = hits;
      const res = await new Browser(dev.publicUrl).fetch(authorizeUrl(issuer, { client_id: `${base}${path}`, code_challenge: pkce().challenge, resource }));
      assert.equal(res.status, 400, path);
      assert.equal(hits, before + 1, 'exactly one request, no redirect followed');
    }
  });
  test('CIMD: a document redirect URI not listed is refused (error page)', async () => {
    const clientId = `${base}/good2/client.json`;
    handler = (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(doc(clientId)); };
    const res = await new Browser(dev.publicUrl).fetch(authorizeUrl(issuer, { client_id: clientId, redirect_uri: 'https://evil.example/cb', code_challenge: pkce().challenge, resource }));
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
  });
  test('CIMD: a slow document times out (3 s cap)', async () => {
    handler = (_req, res) => { setTimeout(() => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{}'); }, 5000).unref(); };
    const started = Date.now();
    const res = await new Browser(dev.publicUrl).fetch(authorizeUrl(issuer, { client_id: `${base}/slow/client.json`, code_challenge: pkce().challenge, resource }));
    assert.equal(res.status, 400);
    assert.ok(Date.now() - started < 4500);
  });
});
