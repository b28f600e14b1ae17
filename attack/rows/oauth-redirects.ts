// O3, O4: the authorization endpoint redirects only to a URI registered for the client, compared
// exactly (OAuth 2.1 §4.1.1; RFC 8252 §7.3 lets only a loopback port vary), and is never an open
// redirector (RFC 9700 §4.11).
import { AttackContext } from '../context.js';
import { obtainCode } from '../oauth.js';
import { Checks, type AttackRow } from '../types.js';
import { authorizeOnce, describeAnswer } from './common.js';

/** Variants of a registered https URI that must not be redirected to. */
function httpsVariants(uri: string): [string, string][] {
  const u = new URL(uri);
  const host = u.host;
  return [
    ['trailing slash', `${uri}/`],
    ['path case', uri.replace(u.pathname, u.pathname.toUpperCase())],
    ['host case', uri.replace(host, host.toUpperCase())],
    ['extra path', `${uri}/../evil`],
    ['extra path segment', `${uri}/x`],
    ['extra query', `${uri}?next=https://evil.example/`],
    ['userinfo before host', uri.replace('https://', 'https://evil.example@')],
    ['host as userinfo', uri.replace(host, `${host}@evil.example`)],
    ['other port', uri.replace(host, `${host}:8443`)],
    ['http instead of https', uri.replace('https://', 'http://')],
    ['trailing space', `${uri} `],
    ['tab', `${uri}\t`],
    ['CRLF', `${uri}\r\nLocation: https://evil.example/`],
    ['encoded slash', uri.replace(/\/([^/]*)$/, '%2F$1')],
    ['suffix host', uri.replace(host, `${host}.evil.example`)],
    ['fragment', `${uri}#x`],
  ];
}

function loopbackVariants(uri: string): [string, string][] {
  return [
    ['loopback trailing slash', `${uri}/`],
    ['loopback extra query', `${uri}?x=1`],
    ['loopback userinfo', uri.replace('http://', 'http://evil.example@')],
    ['loopback https', uri.replace('http://', 'https://')],
    ['loopback other host name', uri.replace('127.0.0.1', 'localhost.evil.example')],
  ];
}

export const o3: AttackRow = {
  id: 'O3',
  title: 'redirect URI variants (slash, case, path, query, userinfo, port, scheme, whitespace, control chars)',
  expected: 'error page, no redirect to the variant',
  async run(ctx) {
    const c = new Checks();
    const r = await ctx.authorizationRequest('customer', ctx.options.tenant, AttackContext.CUSTOMER_SCOPE);
    const as = r.discovery.as;
    const variants = [...(r.client.httpsRedirectUri ? httpsVariants(r.client.httpsRedirectUri) : []), ...loopbackVariants(r.redirectUri)];
    if (!r.client.httpsRedirectUri) c.note('https variants not tried: a pre-registered client has only its own redirect URI');
    for (const [name, variant] of variants) {
      const a = await authorizeOnce(ctx, as, r, { redirect_uri: variant });
      c.expect(name, !a.location && a.status >= 400 && a.status < 500, describeAnswer(a));
    }
    // The exact registered https URI is accepted (so the refusals above are about the variants).
    if (r.client.httpsRedirectUri) {
      const a = await authorizeOnce(ctx, as, r, { redirect_uri: r.client.httpsRedirectUri });
      c.expect('exact registered URI is accepted', a.status === 303 && Boolean(a.location?.pathname.includes('/interaction/')), describeAnswer(a));
    }
    return c.result();
  },
};

export const o4: AttackRow = {
  id: 'O4',
  title: 'AS as open redirector (unknown client, bad scope, user denies)',
  expected: 'no automatic redirect to an unregistered URI',
  async run(ctx) {
    const c = new Checks();
    const evil = 'https://evil.example/steal';
    const r = await ctx.authorizationRequest('customer', ctx.options.tenant, AttackContext.CUSTOMER_SCOPE);
    const as = r.discovery.as;
    const noRedirectTo = (name: string, a: Awaited<ReturnType<typeof authorizeOnce>>) =>
      c.expect(name, !a.location || !a.location.href.startsWith('https://evil.example'), describeAnswer(a));
    noRedirectTo('unknown client_id + foreign redirect_uri', await authorizeOnce(ctx, as, r, { client_id: 'no-such-client-' + ctx.runId, redirect_uri: evil }));
    noRedirectTo('unknown client_id + foreign redirect_uri + bad scope', await authorizeOnce(ctx, as, r, { client_id: 'no-such-client', redirect_uri: evil, scope: 'nonsense' }));
    noRedirectTo('known client + foreign redirect_uri + bad scope', await authorizeOnce(ctx, as, r, { redirect_uri: evil, scope: 'nonsense' }));
    noRedirectTo('known client + foreign redirect_uri + no PKCE', await authorizeOnce(ctx, as, r, { redirect_uri: evil, code_challenge: undefined }));
    noRedirectTo('client_id as a URL + its own redirect_uri', await authorizeOnce(ctx, as, r, { client_id: 'https://evil.example/client.json', redirect_uri: evil }));
    const badScope = await authorizeOnce(ctx, as, r, { scope: 'nonsense' });
    c.expect('bad scope goes to the registered URI only', Boolean(badScope.location?.href.startsWith(r.redirectUri)), describeAnswer(badScope));
    // User denies: the answer goes to the registered URI with access_denied (a scope never consented
    // to, so the consent page is shown).
    const denied = await obtainCode(ctx.http, as, { ...r, scope: 'cart' }, ctx.credentials('customer'), 'deny');
    c.expect('user denies → registered URI with access_denied', denied.location.href.startsWith(r.redirectUri) && denied.location.searchParams.get('error') === 'access_denied' && !denied.code,
      `${denied.location.origin}${denied.location.pathname}${denied.location.search}`);
    if (!denied.consentShown) c.note('consent page was not shown for the deny case (consent already remembered)');
    return c.result();
  },
};
