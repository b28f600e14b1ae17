// I1–I6: identity federation (issue 13). The rows configure the tenant's upstream provider or
// enterprise IdP through the deployment's database (--database-url), pointed at a small loopback
// provider this process starts (src/attack/fake-idp.ts), and take it away again afterwards with
// everything they created (probe accounts under example.invalid, links, the assistant client).
// I1–I4 need the deployment to reach a loopback provider: development deployments with
// ALLOW_PRIVATE_NETWORK_FETCH=true. A production deployment refuses private targets (M4), and then
// the rows say so instead of a verdict. I5–I6 give the enterprise IdP's keys inline: no fetch.
import { randomBytes } from 'node:crypto';
import type { AttackContext } from '../context.js';
import { createJwtBearerClient, hasProvider, removeProvider, setProvider, type ProviderAudience, type ProviderSettings } from '../operator.js';
import { FakeIdentityProvider, type FakePerson, type IdTokenFault } from '../fake-idp.js';
import { Browser, pageText } from '../http.js';
import { authorizeUrl, pkce } from '../oauth.js';
import { Checks, notApplicable, SetupError, type AttackRow, type RowResult } from '../types.js';

/** RFC 7523 §2.1: the JWT bearer grant an ID-JAG is presented with. */
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const PRIVATE_REFUSED = 'the deployment refuses upstream providers on private addresses (production rules, M4: ALLOW_PRIVATE_NETWORK_FETCH off), so a loopback provider cannot be its upstream here';

interface Upstream { idp: FakeIdentityProvider; tenantId: string; probe: (name: string) => string }

async function tenantIdOf(ctx: AttackContext, slug: string): Promise<string> {
  const [t] = await ctx.database!.owner<{ id: string }[]>`select id from tenants where slug = ${slug}`;
  if (!t) throw new SetupError(`no tenant ${slug} in the database`);
  return t.id;
}

/** Runs `fn` with the fake provider as `slug`'s upstream for `audiences`; removes it and every probe account after. */
async function withUpstream(ctx: AttackContext, audiences: ProviderAudience[], settings: Partial<Record<ProviderAudience, Omit<ProviderSettings, 'issuer'>>>,
  fn: (u: Upstream) => Promise<RowResult>): Promise<RowResult> {
  const db = ctx.database;
  if (!db) return notApplicable('needs --database-url: the row configures the tenant\'s identity provider for the time it runs');
  const tenantId = await tenantIdOf(ctx, ctx.options.tenant);
  for (const a of audiences) {
    if (await hasProvider(db.owner, ctx.options.tenant, a)) return notApplicable(`${ctx.options.tenant} has its own ${a} identity provider; the row does not replace it`);
  }
  const idp = await FakeIdentityProvider.start();
  const clientId = `attack-suite-${ctx.runId}`;
  idp.addClient(clientId, null);
  const probes: string[] = [];
  const probe = (name: string) => { const e = `${name}-${ctx.runId}@attack-suite.example.invalid`; probes.push(e); return e; };
  try {
    for (const a of audiences) {
      await setProvider(db.owner, ctx.options.tenant, a, a === 'enterprise'
        ? { issuer: idp.issuer, jwks: idp.jwks, ...settings[a] }
        : { issuer: idp.issuer, clientId, displayName: 'Attack suite upstream', ...settings[a] });
    }
    return await fn({ idp, tenantId, probe });
  } finally {
    for (const a of audiences) await removeProvider(db.owner, ctx.options.tenant, a).catch(() => {});
    await db.owner`delete from upstream_identities where issuer = ${idp.issuer}`.catch(() => {});
    if (probes.length) {
      await db.owner`delete from customers where email = any(${probes}) and not exists (select 1 from orders o where o.tenant_id = customers.tenant_id and o.customer_id = customers.id)`.catch(() => {});
      await db.owner`delete from staff where email = any(${probes})`.catch(() => db.owner`update staff set disabled_at = now() where email = any(${probes})`);
    }
    await idp.close();
  }
}

interface CallbackRun { browser: Browser; status: number; text: string; callbackUrl?: string; location?: string }

/** authorize → our login page → "Continue with" → the fake upstream → (optionally) our callback. */
async function upstreamSignIn(ctx: AttackContext, kind: 'customer' | 'internal', slug: string, opts: { follow?: boolean; browser?: Browser } = {}): Promise<CallbackRun> {
  const r = await ctx.authorizationRequest(kind, slug, kind === 'customer' ? 'orders' : undefined);
  const origin = new URL(r.discovery.as.authorization_endpoint).origin;
  const browser = opts.browser ?? new Browser(ctx.http, origin);
  const started = await browser.fetch(authorizeUrl(r.discovery.as, {
    response_type: 'code', client_id: r.clientId, redirect_uri: r.redirectUri, resource: r.resource, scope: r.scope, state: 'i', code_challenge: pkce().challenge, code_challenge_method: 'S256',
  }));
  const interaction = started.headers.get('location');
  if (started.status !== 303 || !interaction) throw new SetupError(`authorize answered ${started.status}`);
  const toUpstream = await browser.fetch(`${interaction}/upstream`);
  if (toUpstream.status === 502) return { browser, status: 502, text: pageText(await toUpstream.text()) };
  if (toUpstream.status === 404) return { browser, status: 404, text: pageText(await toUpstream.text()) };
  if (toUpstream.status !== 303) throw new SetupError(`upstream start answered ${toUpstream.status}`);
  const atUpstream = await browser.fetch(toUpstream.headers.get('location')!);
  const callbackUrl = atUpstream.headers.get('location') ?? undefined;
  if (atUpstream.status !== 303 || !callbackUrl) throw new SetupError(`the loopback provider answered ${atUpstream.status}`);
  if (opts.follow === false) return { browser, status: 0, text: '', callbackUrl };
  const back = await browser.fetch(callbackUrl);
  return { browser, status: back.status, text: back.status === 303 ? '' : pageText(await back.text()), callbackUrl, location: back.headers.get('location') ?? undefined };
}

async function linked(ctx: AttackContext, idp: FakeIdentityProvider, sub: string): Promise<number> {
  const [n] = await ctx.database!.owner<{ n: number }[]>`select count(*)::int as n from upstream_identities where issuer = ${idp.issuer} and subject = ${sub}`;
  return n!.n;
}

const reachedConsent = (r: CallbackRun) => r.status === 303 && Boolean(r.location?.includes('/interaction/'));

export const i1: AttackRow = {
  id: 'I1', title: 'Upstream ID token forged or misdirected (wrong issuer, audience, nonce, expired, another key)',
  expected: 'refused at the callback; nobody signed in, linked or created',
  run: (ctx) => withUpstream(ctx, ['customer'], { customer: { allowCreate: true } }, async ({ idp, probe }) => {
    const c = new Checks();
    const sub = `i1-${ctx.runId}`;
    idp.person = { sub: `${sub}-ok`, email: probe('i1-control'), email_verified: true };
    const control = await upstreamSignIn(ctx, 'customer', ctx.options.tenant);
    if (control.status === 502) return notApplicable(PRIVATE_REFUSED);
    c.expect('a well-formed ID token (control) reaches our consent page', reachedConsent(control), `${control.status} ${control.location ?? control.text.slice(0, 80)}`);
    for (const fault of ['wrong-issuer', 'wrong-audience', 'wrong-nonce', 'expired', 'other-key'] as IdTokenFault[]) {
      idp.fault = fault;
      idp.person = { sub: `${sub}-${fault}`, email: probe(`i1-${fault}`), email_verified: true };
      const r = await upstreamSignIn(ctx, 'customer', ctx.options.tenant);
      c.expect(`${fault}: refused, no link`, r.status === 400 && await linked(ctx, idp, idp.person.sub) === 0, `${r.status} ${r.text.slice(0, 80)}`);
    }
    idp.fault = 'none';
    return c.result();
  }),
};

export const i2: AttackRow = {
  id: 'I2', title: 'Upstream callback replayed, or delivered to another browser (login CSRF)',
  expected: 'refused: state is single-use and bound to the browser that started the sign-in',
  run: (ctx) => withUpstream(ctx, ['customer'], { customer: { allowCreate: true } }, async ({ idp, probe }) => {
    const c = new Checks();
    idp.person = { sub: `i2-${ctx.runId}`, email: probe('i2'), email_verified: true };
    const r = await upstreamSignIn(ctx, 'customer', ctx.options.tenant, { follow: false });
    if (r.status === 502) return notApplicable(PRIVATE_REFUSED);
    const other = new Browser(ctx.http, new URL(r.callbackUrl!).origin);
    const stranger = await other.fetch(r.callbackUrl!);
    c.expect('callback in another browser refused', stranger.status === 403, String(stranger.status));
    const replay = await r.browser.fetch(r.callbackUrl!);
    c.expect('the state, once used, is refused to its own browser too', replay.status === 400, String(replay.status));
    const forged = new URL(r.callbackUrl!);
    forged.searchParams.set('state', randomBytes(16).toString('base64url'));
    const unknown = await r.browser.fetch(forged.toString());
    c.expect('an unknown state refused', unknown.status === 400, String(unknown.status));
    c.expect('nobody linked', await linked(ctx, idp, idp.person.sub) === 0, 'links counted');
    return c.result();
  }),
};

export const i3: AttackRow = {
  id: 'I3', title: 'Tenant A\'s upstream signs someone into tenant B; email matched without verification',
  expected: 'B has no way in through A\'s provider; an unverified email links nobody',
  run: (ctx) => withUpstream(ctx, ['customer'], { customer: { allowCreate: false } }, async ({ idp }) => {
    const c = new Checks();
    const victim = ctx.options.credentials.customer?.login;
    idp.person = { sub: `i3-${ctx.runId}`, email: victim ?? 'nobody@example.invalid', email_verified: false };
    const r = await upstreamSignIn(ctx, 'customer', ctx.options.tenant, { follow: false });
    if (r.status === 502) return notApplicable(PRIVATE_REFUSED);
    const other = ctx.options.otherTenant;
    const crossed = await r.browser.fetch(r.callbackUrl!.replace(`/t/${ctx.options.tenant}/`, `/t/${other}/`));
    c.expect(`${ctx.options.tenant}'s callback replayed at ${other}: refused`, crossed.status === 400, String(crossed.status));
    const b = await upstreamSignIn(ctx, 'customer', other);
    c.expect(`${other} offers no sign-in through ${ctx.options.tenant}'s provider`, b.status === 404, String(b.status));
    const unverified = await upstreamSignIn(ctx, 'customer', ctx.options.tenant);
    c.expect('an unverified email matching an existing customer links nobody', unverified.status === 403 && await linked(ctx, idp, idp.person.sub) === 0, `${unverified.status} ${unverified.text.slice(0, 80)}`);
    return c.result();
  }),
};

export const i4: AttackRow = {
  id: 'I4', title: 'Staff sign-in through the upstream without a mapped group or role',
  expected: 'no mapping, no access: refused, no staff account made; a mapped group gets only its role',
  run: (ctx) => withUpstream(ctx, ['staff'], { staff: { allowCreate: true, rolesClaim: 'groups', roleMapping: { 'attack-wh': 'warehouse_lead' } } }, async ({ idp, probe }) => {
    const c = new Checks();
    if (!ctx.options.internal) return notApplicable('internal listener not given (--internal)');
    const email = probe('i4');
    idp.person = { sub: `i4-${ctx.runId}`, email, email_verified: true, groups: ['tenant_admin', 'admins', 'staff'] };
    const refused = await upstreamSignIn(ctx, 'internal', ctx.options.tenant);
    if (refused.status === 502) return notApplicable(PRIVATE_REFUSED);
    const [made] = await ctx.database!.owner<{ n: number }[]>`select count(*)::int as n from staff where email = ${email}`;
    c.expect('unmapped groups (even one named tenant_admin): refused, nobody created', refused.status === 403 && made!.n === 0, `${refused.status} ${refused.text.slice(0, 80)}`);
    idp.person = { ...idp.person, groups: ['attack-wh'] } as FakePerson;
    const mapped = await upstreamSignIn(ctx, 'internal', ctx.options.tenant);
    const [role] = await ctx.database!.owner<{ role: string }[]>`select role::text as role from staff where email = ${email}`;
    c.expect('a mapped group: the mapped role only', reachedConsent(mapped) && role?.role === 'warehouse_lead', `${mapped.status} ${role?.role ?? 'no account'}`);
    return c.result();
  }),
};

/** I5, I6: an assistant client and the fake IdP as the tenant's enterprise IdP (keys inline). */
async function withEnterprise(ctx: AttackContext, fn: (e: { idp: FakeIdentityProvider; client: { clientId: string; secret: string }; token: (assertion: string) => Promise<{ status: number; error?: string }>; claims: Record<string, unknown> }) => Promise<RowResult>): Promise<RowResult> {
  if (!ctx.options.internal) return notApplicable('internal listener not given (--internal): ID-JAG tokens are for the internal endpoint');
  const staffLogin = ctx.options.credentials.staff?.login;
  if (!staffLogin) return notApplicable('no staff persona to map the ID-JAG subject to');
  if (!ctx.database) return notApplicable('needs --database-url: the row configures the tenant\'s enterprise IdP and an assistant client for the time it runs');
  const internal = await ctx.endpoint('internal');
  const as = internal.as;
  const tenantId = await tenantIdOf(ctx, ctx.options.tenant);
  if (await hasProvider(ctx.database.owner, ctx.options.tenant, 'enterprise')) return notApplicable(`${ctx.options.tenant} has its own enterprise IdP; the row does not replace it`);
  const client = await createJwtBearerClient(ctx.database.owner, ctx.options.tenant, `attack suite assistant ${ctx.runId}`, 'https://attack-suite.invalid/callback');
  try {
    return await withUpstream(ctx, ['enterprise'], { enterprise: { allowedClientIds: [client.clientId], subjectClaim: 'email' } }, async ({ idp }) => {
      const token = async (assertion: string) => {
        const res = await ctx.http.fetch(as.token_endpoint, { method: 'POST', headers: {
          'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.secret)}`).toString('base64')}`,
        }, body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }).toString() });
        const body = await res.json().catch(() => ({})) as { error?: string };
        return { status: res.status, error: body.error };
      };
      const claims = { sub: `i5-${ctx.runId}`, email: staffLogin, aud: as.issuer, resource: internal.resource, client_id: client.clientId, scope: 'ops:read' };
      return fn({ idp, client, token, claims });
    });
  } finally {
    await ctx.database.owner`delete from oauth_access_tokens where tenant_id = ${tenantId} and client_id = ${client.clientId}`.catch(() => {});
    await ctx.database.owner`delete from oauth_clients where tenant_id = ${tenantId} and client_id = ${client.clientId}`.catch(() => {});
  }
}

export const i5: AttackRow = {
  id: 'I5', title: 'ID-JAG forged or misdirected: another key, another audience or resource, another client, unknown IdP',
  expected: 'invalid_grant; a genuine ID-JAG (control) gets a token',
  run: (ctx) => withEnterprise(ctx, async ({ idp, token, claims }) => {
    const c = new Checks();
    const meta = await ctx.http.json((await ctx.endpoint('internal')).as.issuer.replace(/^(https?:\/\/[^/]+)(.*)$/, '$1/.well-known/oauth-authorization-server$2'));
    c.expect('metadata advertises the jwt-bearer grant', Array.isArray(meta.body.grant_types_supported) && (meta.body.grant_types_supported as string[]).includes(JWT_BEARER), String(meta.status));
    const control = await token(await idp.signIdJag(claims));
    c.expect('genuine ID-JAG (control): a token', control.status === 200, `${control.status} ${control.error ?? ''}`);
    const cases: [string, Promise<string>][] = [
      ['signed by another key (same kid)', idp.signIdJag(claims, { forged: true })],
      ['audience: another issuer', idp.signIdJag({ ...claims, aud: `${String(claims.aud)}-other` })],
      ['resource: the customer endpoint', idp.signIdJag({ ...claims, resource: String(claims.resource).replace('/internal/mcp', '/mcp') })],
      ['client_id: another client', idp.signIdJag({ ...claims, client_id: 'someone-else' })],
      ['unknown IdP (iss)', idp.signIdJag({ ...claims, iss: 'https://unknown-idp.example.invalid' })],
      ['typ: a plain JWT', idp.signIdJag(claims, { typ: 'JWT' })],
    ];
    for (const [name, made] of cases) {
      const r = await token(await made);
      c.expect(name, r.status === 400 && r.error === 'invalid_grant', `${r.status} ${r.error ?? ''}`);
    }
    return c.result();
  }),
};

export const i6: AttackRow = {
  id: 'I6', title: 'ID-JAG replayed (same jti)',
  expected: 'the second presentation is invalid_grant',
  run: (ctx) => withEnterprise(ctx, async ({ idp, token, claims }) => {
    const c = new Checks();
    const assertion = await idp.signIdJag(claims);
    const first = await token(assertion);
    c.expect('first presentation: a token', first.status === 200, `${first.status} ${first.error ?? ''}`);
    const second = await token(assertion);
    c.expect('replay: invalid_grant', second.status === 400 && second.error === 'invalid_grant', `${second.status} ${second.error ?? ''}`);
    return c.result();
  }),
};
