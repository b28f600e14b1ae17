// O13, O14, L3: sign-in and consent that strangers cannot turn against the person, and an approval
// console that takes forms from its own origin only.
//
// O13 needs many client addresses. From one host that is possible only against a loopback target:
// every address of 127.0.0.0/8 is the loopback interface, so the row's browsers bind 127.0.13.x as
// their source (attack/loopback.ts) — no forwarded-for header, whatever proxies the service
// trusts. Guesses go to a probe account (an address under example.invalid that no one owns); the
// part that proves the person still gets in must guess a real account's password, so it runs only
// with --database-url, after which the row deletes the counters it raised: the demo user is left
// as it was found. Against a remote target only the single-address part runs.
import { createHash, randomUUID } from 'node:crypto';
import { AttackContext } from '../context.js';
import { Browser, csrfOf, formAction, isLoopbackUrl, pageText } from '../http.js';
import { AddressedBrowser, loopbackAddress, type AddressedResponse } from '../loopback.js';
import { authorizeUrl, obtainCode, pkce, type AuthorizationServer, type Credentials } from '../oauth.js';
import { Checks, notApplicable, SetupError, type AttackRow } from '../types.js';
import { short } from './common.js';

/** A sign_in_throttles key as migrations/README.md documents it: kind, then SHA-256 of the kind and parts. */
function signInThrottleKey(kind: 'pair' | 'account', ...parts: string[]): string {
  return `${kind}:${createHash('sha256').update([kind, ...parts].join('\n')).digest('hex')}`;
}

const BLOCK = 13; // 127.0.13.x: this row's addresses
const LONGEST_DELAY_SECONDS = 15 * 60; // anything longer reads as a lock

interface SignInForm { browser: AddressedBrowser; action: string; csrf: string; address: string }

async function openSignIn(ctx: AttackContext, as: AuthorizationServer, address: string): Promise<SignInForm> {
  const r = await ctx.authorizationRequest('customer', ctx.options.tenant, AttackContext.CUSTOMER_SCOPE);
  // Its own browser, not ctx.http: the address's counters are the run's to reset (attack/cleanup.ts).
  ctx.addresses.add(address);
  const browser = new AddressedBrowser(new URL(as.authorization_endpoint).origin, address, ctx.options.timeoutMs);
  const started = await browser.get(authorizeUrl(as, {
    response_type: 'code', client_id: r.clientId, redirect_uri: r.redirectUri, resource: r.resource, scope: r.scope,
    state: 'o13', code_challenge: pkce().challenge, code_challenge_method: 'S256',
  }));
  if (started.status !== 303 || !started.location) throw new SetupError(`authorize from ${address} answered ${started.status}`);
  const page = await browser.get(started.location);
  const action = formAction(page.body);
  const csrf = csrfOf(page.body);
  if (page.status !== 200 || !action || !csrf) throw new SetupError(`sign-in page from ${address} answered ${page.status}`);
  return { browser, action, csrf, address };
}

const attempt = (f: SignInForm, email: string, password: string) => f.browser.post(f.action, { csrf: f.csrf, email, password });

function waits(rs: AddressedResponse[]): number[] {
  return rs.filter((r) => r.status === 429).map((r) => Number(r.retryAfter));
}

function finiteDelays(rs: AddressedResponse[]): boolean {
  const w = waits(rs);
  return w.length > 0 && w.every((s) => Number.isInteger(s) && s >= 1 && s <= LONGEST_DELAY_SECONDS);
}

function statuses(rs: AddressedResponse[]): string {
  return rs.map((r) => (r.status === 429 ? `429(${r.retryAfter})` : String(r.status))).join(',');
}

/** Against a target this host cannot reach from many addresses: one address, the (account, address) delay. */
async function singleAddress(ctx: AttackContext, c: Checks, as: AuthorizationServer, probe: string, why: string) {
  // One address only: the (account, address) delay, and that it is a delay.
  const r = await ctx.authorizationRequest('customer', ctx.options.tenant, AttackContext.CUSTOMER_SCOPE);
  const browser = new Browser(ctx.http, new URL(as.authorization_endpoint).origin);
  const started = await browser.fetch(authorizeUrl(as, {
    response_type: 'code', client_id: r.clientId, redirect_uri: r.redirectUri, resource: r.resource, state: 'o13', code_challenge: pkce().challenge, code_challenge_method: 'S256',
  }));
  await started.arrayBuffer();
  const page = await browser.fetch(started.headers.get('location') ?? '');
  const html = await page.text();
  const answers: { status: number; retryAfter: string | null }[] = [];
  for (let i = 0; i < 12 && !answers.some((a) => a.status === 429); i++) {
    const res = await browser.post(new URL(formAction(html) ?? '', as.authorization_endpoint).toString(), { csrf: csrfOf(html) ?? '', email: probe, password: `guess-${i}` });
    await res.arrayBuffer();
    answers.push({ status: res.status, retryAfter: res.headers.get('retry-after') });
  }
  const delayed = answers.find((a) => a.status === 429);
  c.expect('one address guessing one account is delayed, with a finite Retry-After', Boolean(delayed) && Number(delayed!.retryAfter) >= 1 && Number(delayed!.retryAfter) <= LONGEST_DELAY_SECONDS,
    answers.map((a) => (a.status === 429 ? `429(${a.retryAfter})` : a.status)).join(','));
  c.note(`guesses from many addresses not exercised: ${why}`);
  return c.result();
}

export const o13: AttackRow = {
  id: 'O13',
  title: 'targeted lockout: wrong passwords for someone else\'s account, sent from many addresses',
  expected: 'the attacker\'s guesses stay bounded, and the real person can still sign in — never a lock any stranger can trigger',
  flood: true,
  async run(ctx) {
    const c = new Checks();
    const { as } = await ctx.endpoint('customer');
    const person = ctx.credentials('customer');
    const probe = `o13-${ctx.runId}@example.invalid`;
    // Sign-ins through AddressedBrowser are not seen by ctx.http: recorded here for the clean-up.
    for (const login of [probe, person.login]) ctx.created.add({ kind: 'sign-in', tenant: ctx.options.tenant, login });

    if (!isLoopbackUrl(as.authorization_endpoint)) return singleAddress(ctx, c, as, probe, 'they need a loopback target (source addresses 127.0.0.x from one host)');
    let own: SignInForm;
    try {
      own = await openSignIn(ctx, as, loopbackAddress(BLOCK, 10));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw e;
      return singleAddress(ctx, c, as, probe, `this host cannot send from ${loopbackAddress(BLOCK, 10)} (only Linux routes all of 127.0.0.0/8 to loopback)`);
    }

    // The person's browser signs in first and keeps its device cookie.
    const first = await attempt(own, person.login, person.password);
    const cookie = first.setCookies.find((x) => x.startsWith('cmcp_device_'));
    c.expect('a successful sign-in leaves a device cookie (HttpOnly, SameSite=Strict, no email in it)',
      first.status === 303 && Boolean(cookie) && /HttpOnly/.test(cookie!) && /SameSite=Strict/.test(cookie!) && !cookie!.includes(person.login) && !cookie!.includes(encodeURIComponent(person.login)),
      `${first.status}; ${cookie ? short(cookie.replace(/=[^;]+/, '=…'), 120) : 'no device cookie'}`);

    // Bounded guessing: a probe account, six addresses, four guesses each, in turns.
    const addresses = [21, 22, 23, 24, 25, 26].map((n) => loopbackAddress(BLOCK, n));
    const forms = await Promise.all(addresses.map((a) => openSignIn(ctx, as, a)));
    const answers: AddressedResponse[] = [];
    for (let round = 0; round < 4; round++) for (const f of forms) answers.push(await attempt(f, probe, `guess-${round}-${f.address}`));
    const evaluated = answers.filter((r) => r.status === 401).length;
    c.expect('24 guesses from 6 addresses: only some are evaluated, the rest wait', evaluated >= 1 && evaluated < answers.length && answers.every((r) => r.status === 401 || r.status === 429),
      `${evaluated} evaluated: ${statuses(answers)}`);
    c.expect('every refusal is a delay with a finite Retry-After, never a lock', finiteDelays(answers), waits(answers).join(',') || 'no 429');
    const newcomer = await openSignIn(ctx, as, loopbackAddress(BLOCK, 30));
    const late = await attempt(newcomer, probe, 'newcomer');
    c.expect('a new browser at a new address meets the account-wide delay too (bounded across addresses)', late.status === 429 && finiteDelays([late]), `${late.status} Retry-After ${late.retryAfter ?? 'absent'}`);

    // The real person: only with the database, so the counters raised here can be removed.
    const db = ctx.database;
    if (!db) {
      c.note('the person signing in while their account is attacked not exercised: it guesses a real account\'s password, and without --database-url the row could not undo the delay it leaves for new browsers');
      return c.result();
    }
    const [tenant] = await db.owner<{ id: string }[]>`select id from tenants where slug = ${ctx.options.tenant}`;
    if (!tenant) throw new SetupError(`no tenant ${ctx.options.tenant} in the database`);
    const account = `${tenant.id}:customer:${person.login.trim().toLowerCase()}`;
    const used = [loopbackAddress(BLOCK, 10), ...addresses, loopbackAddress(BLOCK, 31), loopbackAddress(BLOCK, 32)];
    try {
      const attacks: AddressedResponse[] = [];
      for (let round = 0; round < 3; round++) for (const f of forms) attacks.push(await attempt(f, person.login, `wrong-${round}-${ctx.runId}`));
      c.expect('wrong passwords for the person\'s account from 6 addresses: delayed after a few', attacks.some((r) => r.status === 429) && finiteDelays(attacks), statuses(attacks));
      const back = await openSignIn(ctx, as, loopbackAddress(BLOCK, 31));
      for (const [k, v] of own.browser.cookies) if (k.startsWith('cmcp_device_')) back.browser.cookies.set(k, v);
      const signedIn = await attempt(back, person.login, person.password);
      c.expect('the person\'s browser (device cookie) signs in at once', signedIn.status === 303, `${signedIn.status}${signedIn.retryAfter ? ` Retry-After ${signedIn.retryAfter}` : ''}`);
      const stranger = await openSignIn(ctx, as, loopbackAddress(BLOCK, 32));
      const strangerAnswer = await attempt(stranger, person.login, person.password);
      c.expect('a browser that never signed in waits (even with the right password), for a finite time', strangerAnswer.status === 429 && finiteDelays([strangerAnswer]),
        `${strangerAnswer.status} Retry-After ${strangerAnswer.retryAfter ?? 'absent'}`);
    } finally {
      const keys = [signInThrottleKey('account', account), ...used.map((ip) => signInThrottleKey('pair', account, ip))];
      await db.owner`delete from sign_in_throttles where key = any(${keys})`;
    }
    return c.result();
  },
};

export const o14: AttackRow = {
  id: 'O14',
  title: 'loopback client impersonation (RFC 8252 §8.6): another local app reuses a public client\'s id with its own loopback port',
  expected: 'consent is asked again; remembered consent never silently issues a code to a public client on a loopback redirect',
  async run(ctx) {
    const c = new Checks();
    const user = ctx.credentials('customer');
    const a = await ctx.authorizationRequest('customer', ctx.options.tenant, AttackContext.CUSTOMER_SCOPE);
    const loopback = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::(\d+))?(\/.*)?$/.exec(a.redirectUri);
    if (!loopback) return notApplicable(`the suite's client redirects to ${a.redirectUri}, not to loopback`);
    await ctx.tokens('customer'); // the person consented to this client and scope once
    const port = Number(loopback[2] ?? 80);
    const otherPort = port >= 65535 ? port - 1 : port + 1;
    const impostor = a.redirectUri.replace(`:${port}/`, `:${otherPort}/`);
    const other = await obtainCode(ctx.http, a.discovery.as, { ...a, redirectUri: impostor }, user, 'deny');
    c.expect(`another port (${otherPort}) with the same public client id: the consent page, no code`, other.consentShown && !other.code,
      other.consentShown ? 'consent page shown' : `no consent page: ${other.location.search.slice(0, 80)}`);
    const same = await obtainCode(ctx.http, a.discovery.as, a, user, 'deny');
    c.expect('the same loopback port: the consent page again (nothing proves it is the same app)', same.consentShown && !same.code,
      same.consentShown ? 'consent page shown' : `no consent page: ${same.location.search.slice(0, 80)}`);
    if (a.client.httpsRedirectUri) {
      const https = await obtainCode(ctx.http, a.discovery.as, { ...a, redirectUri: a.client.httpsRedirectUri }, user);
      c.expect('control: the https redirect of the same client keeps its remembered consent', !https.consentShown && Boolean(https.code), https.consentShown ? 'consent shown' : 'straight to code');
    }
    return c.result();
  },
};

async function consolePage(b: Browser, url: string): Promise<{ status: number; html: string; location: string | null }> {
  const res = await b.fetch(url);
  return { status: res.status, html: await res.text(), location: res.headers.get('location') };
}

export const l3: AttackRow = {
  id: 'L3',
  title: 'the approval console driven from another origin, including the public (customer-facing) one',
  expected: 'only the console\'s own origin is accepted',
  async run(ctx) {
    if (!ctx.options.internal) return notApplicable('internal listener not given (--internal): the approval console lives there');
    const own = new URL(ctx.options.internal).origin;
    const publicOrigin = new URL(ctx.options.target).origin;
    if (own === publicOrigin) return notApplicable('the console shares the public listener\'s origin here (one listener): there is no other origin of ours to refuse');
    const base = `${ctx.options.internal}/console/t/${ctx.options.tenant}`;
    const probe = await ctx.http.fetch(`${base}/login`);
    await probe.arrayBuffer();
    if (probe.status === 404) return notApplicable(`no approval console at ${base}/login (404)`);
    const c = new Checks();
    const approver: Credentials = ctx.credentials('approver');
    const browser = new Browser(ctx.http, own);
    const post = (path: string, form: Record<string, string>, origin: string) => browser.post(`${base}${path}`, form, { origin });

    // Sign-in from the public origin: refused; from the console's own: a session.
    const form = await consolePage(browser, `${base}/login`);
    const loginCsrf = csrfOf(form.html) ?? '';
    const foreignLogin = await post('/login', { csrf: loginCsrf, email: approver.login, password: approver.password }, publicOrigin);
    await foreignLogin.arrayBuffer();
    c.expect('console sign-in POST with the public listener\'s Origin → 403', foreignLogin.status === 403, String(foreignLogin.status));
    const again = await consolePage(browser, `${base}/login`);
    const login = await post('/login', { csrf: csrfOf(again.html) ?? '', email: approver.login, password: approver.password }, own);
    await login.arrayBuffer();
    if (login.status !== 303) throw new SetupError(`console sign-in as ${approver.login} answered ${login.status}`);

    // A decision POST for an action that does not exist: the origin is judged before anything else.
    const action = `/actions/${randomUUID()}`;
    const decision = { csrf: 'x'.repeat(43), decision: 'approve', reason: 'attack suite L3' };
    const foreign = await post(action, decision, publicOrigin);
    const foreignText = pageText(await foreign.text());
    c.expect('decision POST with the public listener\'s Origin → 403', foreign.status === 403, `${foreign.status} ${short(foreignText.replace(/^Approval console\s*/, ''), 80)}`);
    const evil = await post(action, decision, 'https://attacker.example');
    await evil.arrayBuffer();
    c.expect('decision POST from a foreign site → 403', evil.status === 403, String(evil.status));
    const mine = await post(action, decision, own);
    await mine.arrayBuffer();
    c.expect('control: the console\'s own Origin gets past the origin check (404: no such action)', mine.status === 404, String(mine.status));

    // Logout, a state-changing form with a valid token: refused from the public origin, the session lives on.
    const list = await consolePage(browser, base);
    const logoutCsrf = (() => { const at = list.html.indexOf('/logout'); return at >= 0 ? csrfOf(list.html.slice(at)) : undefined; })();
    if (list.status !== 200 || !logoutCsrf) throw new SetupError(`console page answered ${list.status}${logoutCsrf ? '' : ' without a logout form'}`);
    const foreignLogout = await post('/logout', { csrf: logoutCsrf }, publicOrigin);
    await foreignLogout.arrayBuffer();
    const still = await consolePage(browser, base);
    c.expect('logout POST (valid form token) with the public Origin → 403, session intact', foreignLogout.status === 403 && still.status === 200, `${foreignLogout.status}; console then ${still.status}`);
    const logout = await post('/logout', { csrf: logoutCsrf }, own);
    await logout.arrayBuffer();
    c.expect('control: the same form from the console\'s own origin logs out (303)', logout.status === 303, String(logout.status));
    return c.result();
  },
};
