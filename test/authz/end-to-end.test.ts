// End to end, with two independent client implementations as the judges:
//  - oauth4webapi: discovery → registration → authorize (real login and consent forms) → token →
//    refresh (rotation, reuse detection) → revoke → introspect (as a resource server).
//  - the MCP SDK's (v2) own client OAuth (`auth()` + OAuthClientProvider), starting from nothing but
//    the MCP endpoint's 401 challenge, then MCP calls with the token on both revisions (2026-07-28
//    and the legacy 2025-11-25 handshake); and O12 at the real endpoints.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oauth from 'oauth4webapi';
import {
  auth, Client, StreamableHTTPClientTransport, type OAuthClientMetadata, type OAuthClientProvider, type StoredOAuthClientInformation,
  type StoredOAuthTokens,
} from '@modelcontextprotocol/client';
import { createPreregisteredClient } from '../../src/authz/clients.js';
import { resourceFor } from '../../src/authz/resources.js';
import { startTestService } from '../support/service.js';
import { ACME_CUSTOMER, Browser, REDIRECT, obtainCode } from './flow.js';

const svc = await startTestService();
const [acme] = await svc.database.owner<{ id: string }[]>`select id from tenants where slug = 'acme'`;
const rs = await createPreregisteredClient(svc.database.owner, acme!.id, { name: 'RS', audience: 'resource_server', confidential: true });
const customerResource = resourceFor(svc.config, 'acme', 'customer');
const insecure = { [oauth.allowInsecureRequests]: true } as const; // the test service speaks http on loopback

describe('end to end with oauth4webapi', () => {
  test('RFC 8414 → 7591 → 6749/7636/8707/9207 → 6749 §6 rotation + reuse → 7009 → 7662', async () => {
    const issuer = new URL(`${svc.publicUrl}/t/acme`);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
    assert.equal(as.authorization_response_iss_parameter_supported, true);

    const client = (await oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(as,
      { redirect_uris: [REDIRECT], client_name: 'oauth4webapi e2e', token_endpoint_auth_method: 'none' }, insecure))) as oauth.Client;

    const verifier = oauth.generateRandomCodeVerifier();
    const url = new URL(as.authorization_endpoint!);
    const state = oauth.generateRandomState();
    for (const [k, v] of Object.entries({ client_id: client.client_id, redirect_uri: REDIRECT, response_type: 'code', scope: 'orders catalog',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, resource: customerResource })) url.searchParams.set(k, v);
    const callback = await obtainCode(new Browser(svc.publicUrl), url.toString(), ACME_CUSTOMER);

    const params = oauth.validateAuthResponse(as, client, callback, state); // checks iss (RFC 9207)
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT, verifier,
      { additionalParameters: { resource: customerResource }, ...insecure }));
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.scope, 'catalog orders');
    assert.ok(tokens.refresh_token);

    const rotated = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure));
    assert.notEqual(rotated.refresh_token, tokens.refresh_token);

    const rsClient: oauth.Client = { client_id: rs.clientId };
    const introspect = async (token: string) => oauth.processIntrospectionResponse(as, rsClient,
      await oauth.introspectionRequest(as, rsClient, oauth.ClientSecretBasic(rs.secret!), token, insecure));
    const info = await introspect(rotated.access_token);
    assert.equal(info.active, true);
    assert.equal(info.aud, customerResource);
    assert.equal(info.iss, issuer.href);

    // Revoke the rotated refresh token (RFC 7009): the family dies, its access token at once.
    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), rotated.refresh_token!, insecure));
    assert.equal((await introspect(rotated.access_token)).active, false);

    // Reuse of the first (rotated) refresh token: invalid_grant.
    await assert.rejects(
      oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure).then((r) => oauth.processRefreshTokenResponse(as, client, r)),
      (e: unknown) => e instanceof oauth.ResponseBodyError && e.error === 'invalid_grant',
    );
  });
});

class TestProvider implements OAuthClientProvider {
  info?: StoredOAuthClientInformation;
  saved?: StoredOAuthTokens;
  verifier = '';
  lastAuthorizationUrl?: URL;
  get redirectUrl() { return REDIRECT; }
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: 'MCP SDK e2e', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation() { return this.info; }
  saveClientInformation(i: StoredOAuthClientInformation) { this.info = i; }
  tokens() { return this.saved; }
  saveTokens(t: StoredOAuthTokens) { this.saved = t; }
  redirectToAuthorization(url: URL) { this.lastAuthorizationUrl = url; }
  saveCodeVerifier(v: string) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
}

describe('end to end with the MCP SDK client', () => {
  test('from a 401 challenge of the MCP endpoint to authorized MCP calls on both revisions (MCP 2026-07-28 authorization)', async () => {
    const challenge = await fetch(customerResource, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }) });
    assert.equal(challenge.status, 401);
    const wwwAuthenticate = challenge.headers.get('www-authenticate') ?? '';
    const resourceMetadataUrl = /resource_metadata="([^"]+)"/.exec(wwwAuthenticate)?.[1];
    assert.ok(resourceMetadataUrl, wwwAuthenticate);

    const provider = new TestProvider();
    const first = await auth(provider, { serverUrl: customerResource, resourceMetadataUrl: new URL(resourceMetadataUrl) });
    assert.equal(first, 'REDIRECT');
    const authorizationUrl = provider.lastAuthorizationUrl!;
    assert.equal(authorizationUrl.searchParams.get('resource'), customerResource, 'SDK sends the RFC 8707 resource');
    assert.equal(authorizationUrl.searchParams.get('code_challenge_method'), 'S256');

    const callback = await obtainCode(new Browser(svc.publicUrl), authorizationUrl.toString(), ACME_CUSTOMER);
    assert.equal(callback.searchParams.get('iss'), `${svc.publicUrl}/t/acme`);
    const second = await auth(provider, { serverUrl: customerResource, resourceMetadataUrl: new URL(resourceMetadataUrl), authorizationCode: callback.searchParams.get('code')!, iss: callback.searchParams.get('iss')! });
    assert.equal(second, 'AUTHORIZED');
    assert.ok(provider.saved?.access_token);

    for (const versionNegotiation of [{ mode: { pin: '2026-07-28' } }, undefined]) {
      const mcp = new Client({ name: 'e2e', version: '1.0.0' }, versionNegotiation ? { versionNegotiation } : {});
      await mcp.connect(new StreamableHTTPClientTransport(new URL(customerResource), { authProvider: provider }));
      const tools = await mcp.listTools();
      assert.ok(tools.tools.length > 0);
      const listed = await mcp.callTool({ name: 'list_orders', arguments: {} });
      assert.equal(listed.isError, undefined, JSON.stringify(listed));
      await mcp.close();
    }

    // The SDK refreshes with the rotated refresh token.
    const refreshed = await auth(provider, { serverUrl: customerResource, resourceMetadataUrl: new URL(resourceMetadataUrl) });
    assert.equal(refreshed, 'AUTHORIZED');

    // O12 at the real resource servers: the acme customer token is refused by globex and by the internal endpoint.
    const token = provider.saved!.access_token;
    for (const endpoint of [resourceFor(svc.config, 'globex', 'customer'), resourceFor(svc.config, 'acme', 'internal')]) {
      const r = await fetch(endpoint, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
      assert.equal(r.status, 401, `O12 ${endpoint}`);
    }
  });
});
