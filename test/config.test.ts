import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';

test('configuration has working defaults', () => {
  const c = loadConfig({});
  assert.equal(c.publicListener.port, 3000);
  assert.equal(c.publicUrl, 'http://127.0.0.1:3000');
  assert.equal(c.database.ownerUrl, undefined, 'no DATABASE_URL: embedded PostgreSQL');
});

test('bad values stop start-up with a message naming the variable', () => {
  assert.throws(() => loadConfig({ PORT: 'eighty' }), (e: unknown) => e instanceof ConfigError && /PORT/.test(e.message));
  assert.throws(() => loadConfig({ PUBLIC_URL: 'ftp://x' }), (e: unknown) => e instanceof ConfigError && /PUBLIC_URL/.test(e.message));
  assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL/);
  assert.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/);
});

test('PUBLIC_URL decides the issuer base; a trailing slash is dropped', () => {
  assert.equal(loadConfig({ PUBLIC_URL: 'https://mcp.example.com/' }).publicUrl, 'https://mcp.example.com');
});

test('private-network fetches are never allowed in production', () => {
  assert.equal(loadConfig({ NODE_ENV: 'production', ALLOW_PRIVATE_NETWORK_FETCH: 'true' }).allowPrivateNetworkFetch, false);
  assert.equal(loadConfig({ NODE_ENV: 'development', ALLOW_PRIVATE_NETWORK_FETCH: 'true' }).allowPrivateNetworkFetch, true);
});

test('rate limits cannot be switched off in production', () => {
  assert.throws(() => loadConfig({ NODE_ENV: 'production', RATE_LIMIT_STORE: 'off' }), /RATE_LIMIT_STORE/);
  assert.equal(loadConfig({ NODE_ENV: 'test', RATE_LIMIT_STORE: 'off' }).rateLimitStore, 'off');
});

test('L4 TRUST_PROXY trusts nobody by default; addresses, CIDRs or a hop count when configured; never everyone', () => {
  assert.equal(loadConfig({}).trustProxy, false);
  assert.equal(loadConfig({ TRUST_PROXY: 'none' }).trustProxy, false);
  assert.equal(loadConfig({ TRUST_PROXY: '0' }).trustProxy, false);
  assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
  assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.5, 192.168.0.0/16,::1,fd00::/8, loopback' }).trustProxy,
    ['10.0.0.5', '192.168.0.0/16', '::1', 'fd00::/8', 'loopback']);
  for (const bad of ['true', '*', '0.0.0.0/0', '::/0', '10.0.0.0/33', 'proxy.example', '11', '10.0.0.1/8/1']) {
    assert.throws(() => loadConfig({ TRUST_PROXY: bad }), (e: unknown) => e instanceof ConfigError && /TRUST_PROXY/.test(e.message), bad);
  }
});

test('O13 SIGN_IN_DEVICE_KEY: at least 32 characters, else start-up stops; unset means DATA_DIR keeps one', () => {
  assert.throws(() => loadConfig({ SIGN_IN_DEVICE_KEY: 'x'.repeat(31) }), /SIGN_IN_DEVICE_KEY/);
  assert.equal(loadConfig({ SIGN_IN_DEVICE_KEY: 'x'.repeat(32) }).signInDeviceKey, 'x'.repeat(32));
  assert.equal(loadConfig({}).signInDeviceKey, undefined);
});
