// O13 (docs/ATTACK-CATALOGUE.md): targeted lockout. Wrong passwords for someone else's account, sent from many
// addresses, keep the attacker's guesses bounded without locking the person out: throttles per
// (account, address) and per account with progressive delays, and device cookies that let a
// browser which signed in before past the account-wide delay (OWASP Authentication and Credential
// Stuffing Prevention cheat sheets). Addresses vary the realistic way: each client binds its own
// source address in 127.0.0.0/8 (no forwarded-for header, whatever TRUST_PROXY says). Time passing
// is played by moving the stored counters back by the announced Retry-After (no timed assertions).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AddressedBrowser, loopbackAddress, type AddressedResponse } from '../../attack/loopback.js';
import { DEFAULT_SIGN_IN_POLICY, decideSignIn, delayAfter } from '../../src/authz/checks/sign-in-delay.js';
import { resourceFor } from '../../src/authz/resources.js';
import { DEMO_PASSWORDS } from '../../src/seed/fixtures.js';
import { startTestService, type TestService } from '../support/service.js';
import { ACME_CUSTOMER, ACME_CUSTOMER_2, authorizeUrl, csrfOf, formAction, pkce, registerClient } from './flow.js';

const svc: TestService = await startTestService();
const issuer = `${svc.publicUrl}/t/acme`;
const customerResource = resourceFor(svc.config, 'acme', 'customer');
const client = await registerClient(issuer, { client_name: 'Throttle app' });
const policy = DEFAULT_SIGN_IN_POLICY;

interface SignInForm { browser: AddressedBrowser; action: string; csrf: string }

/** A browser at `address` opens the sign-in form of a new authorization request. */
async function openSignIn(address: string): Promise<SignInForm> {
  const browser = new AddressedBrowser(svc.publicUrl, address);
  const started = await browser.get(authorizeUrl(issuer, { client_id: client.client_id, resource: customerResource, code_challenge: pkce().challenge }));
  assert.equal(started.status, 303);
  const page = await browser.get(started.location!);
  assert.equal(page.status, 200);
  return { browser, action: formAction(page.body), csrf: csrfOf(page.body) };
}

function attempt(f: SignInForm, email: string, password: string): Promise<AddressedResponse> {
  return f.browser.post(f.action, { csrf: f.csrf, email, password });
}

function deviceCookie(r: AddressedResponse): string | undefined {
  return r.setCookies.find((c) => c.startsWith('cmcp_device_'));
}

/** Plays `seconds` passing for every stored sign-in counter. */
async function elapse(seconds: number): Promise<void> {
  await svc.database.owner`update sign_in_throttles set not_before = not_before - make_interval(secs => ${seconds}),
                                                      expires_at = expires_at - make_interval(secs => ${seconds})`;
}

function assertDelayed(r: AddressedResponse, capSeconds: number, where: string): number {
  assert.equal(r.status, 429, `${where}: ${r.status}`);
  const wait = Number(r.retryAfter);
  assert.ok(Number.isInteger(wait) && wait >= 1 && wait <= capSeconds, `${where}: Retry-After ${r.retryAfter}`);
  assert.match(r.body, /Too many sign-in attempts/);
  return wait;
}

describe('O13 the delay policy', () => {
  test('O13 free attempts, then doubling delays up to the cap (boundaries both sides)', () => {
    const p = policy.pair;
    assert.equal(delayAfter(p.free - 1, p), 0, 'at the last free attempt: no wait');
    assert.equal(delayAfter(p.free, p), p.baseSeconds, 'one over: the base delay');
    assert.equal(delayAfter(p.free + 1, p), 2 * p.baseSeconds);
    assert.equal(delayAfter(p.free + 1000, p), p.capSeconds, 'capped, never a lock');
  });
  test('O13 a device cookie is judged alone until its free attempts are spent, then like any browser', () => {
    const now = new Date();
    const later = new Date(now.getTime() + 60_000);
    const blocked = { attempts: 99, notBefore: later, expiresAt: later };
    const device = (attempts: number) => ({ attempts, notBefore: now, expiresAt: later });
    assert.equal(decideSignIn({ hasDevice: true, device: device(policy.device.free - 1), account: blocked }, now, policy).admit, true);
    const spent = decideSignIn({ hasDevice: true, device: device(policy.device.free), account: blocked }, now, policy);
    assert.deepEqual(spent, { admit: false, retryAfterSeconds: 60 });
    assert.deepEqual(decideSignIn({ hasDevice: false, account: blocked }, now, policy), { admit: false, retryAfterSeconds: 60 });
  });
});

describe('O13 targeted lockout over HTTP', () => {
  test('O13 wrong passwords for a customer from six addresses: guesses bounded, her own browser still signs in, a new browser waits but is never locked out', async () => {
    const victim = ACME_CUSTOMER;
    // Her browser signed in before: it holds a device cookie.
    const own = await openSignIn(loopbackAddress(1, 10));
    const first = await attempt(own, victim.login, victim.password);
    assert.equal(first.status, 303);
    const cookie = deviceCookie(first);
    assert.ok(cookie, 'a device cookie after a successful sign-in');
    assert.match(cookie, /; Path=\/t\/acme\/interaction; Max-Age=\d+; HttpOnly; SameSite=Strict/);
    assert.ok(!cookie.includes(encodeURIComponent(victim.login)) && !cookie.includes(victim.login), 'the cookie does not carry the email');

    // Six addresses, four wrong passwords each, in turns.
    const attackers = await Promise.all([21, 22, 23, 24, 25, 26].map((n) => openSignIn(loopbackAddress(1, n))));
    const answers: AddressedResponse[] = [];
    for (let round = 0; round < 4; round++) for (const a of attackers) answers.push(await attempt(a, victim.login, `guess-${round}-${a.browser.localAddress}`));
    const evaluated = answers.filter((r) => r.status === 401).length;
    assert.equal(evaluated, policy.account.free, `exactly the account's free attempts are evaluated (${answers.map((r) => r.status).join(',')})`);
    for (const r of answers.filter((x) => x.status !== 401)) assertDelayed(r, policy.account.capSeconds, 'attacker');
    assert.ok(answers.filter((r) => r.status === 401).every((r) => /Email or password is incorrect/.test(r.body)), 'uniform failure answer (O11)');

    // A forged cookie (her cookie's name, one character of the MAC changed) is no cookie.
    const forged = await openSignIn(loopbackAddress(1, 11));
    for (const [k, v] of own.browser.cookies) if (k.startsWith('cmcp_device_')) forged.browser.cookies.set(k, v.slice(0, -1) + (v.endsWith('A') ? 'B' : 'A'));
    assertDelayed(await attempt(forged, victim.login, victim.password), policy.account.capSeconds, 'forged device cookie');

    // Her own browser, device cookie and all: signs in at once.
    const again = await openSignIn(loopbackAddress(1, 10));
    again.browser.cookies = new Map([...own.browser.cookies].filter(([k]) => k.startsWith('cmcp_device_')).concat([...again.browser.cookies]));
    assert.equal((await attempt(again, victim.login, victim.password)).status, 303, 'the browser that signed in before is not held up');

    // A new browser from a new address: delayed, with the right password too (the answer cannot
    // depend on the password) — but only for the announced time.
    const fresh = await openSignIn(loopbackAddress(1, 30));
    const wait = assertDelayed(await attempt(fresh, victim.login, victim.password), policy.account.capSeconds, 'new browser');
    await elapse(wait);
    const after = await attempt(fresh, victim.login, victim.password);
    assert.equal(after.status, 303, 'after Retry-After the new browser signs in');
    assert.ok(deviceCookie(after), 'and now holds a device cookie of its own');
    assertDelayed(await attempt(attackers[0]!, victim.login, 'right-after'), policy.account.capSeconds, 'her sign-in opened no slot for the attacker');

    // Over a whole window of (played) time, the attackers keep guessing as fast as they are let.
    let played = 0;
    let more = 0;
    for (let i = 0; played < policy.account.windowSeconds; i++) {
      const r = await attempt(attackers[i % attackers.length]!, victim.login, `later-${i}`);
      if (r.status === 401) { more++; continue; }
      const w = assertDelayed(r, policy.pair.capSeconds, 'later guess');
      await elapse(w);
      played += w;
    }
    let bound = 0;
    for (let n = policy.account.free, t = 0; (t += delayAfter(n, policy.account)) <= policy.account.windowSeconds; n++) bound++;
    assert.ok(more >= 1 && more <= bound + 1, `${more} more guesses evaluated in ${played} s (bound ${bound + 1})`);
  });

  test('O13 a stolen device cookie buys a bounded number of guesses; a burst of concurrent guesses from one address gets exactly the free ones', async () => {
    const victim = ACME_CUSTOMER_2;
    const own = await openSignIn(loopbackAddress(2, 10));
    assert.equal((await attempt(own, victim.login, victim.password)).status, 303);
    const stolen = [...own.browser.cookies].filter(([k]) => k.startsWith('cmcp_device_'));
    assert.equal(stolen.length, 1);
    const [audit0] = await svc.database.owner<{ n: number }[]>`select count(*)::int as n from audit_events where event = 'auth.login_failed' and detail->>'device_cookie' = 'true'`;
    // The thief, from elsewhere, with the cookie.
    const thief = await openSignIn(loopbackAddress(2, 20));
    for (const [k, v] of stolen) thief.browser.cookies.set(k, v);
    const answers: number[] = [];
    for (let i = 0; i < 15; i++) answers.push((await attempt(thief, victim.login, `stolen-${i}`)).status);
    const [audit1] = await svc.database.owner<{ n: number }[]>`select count(*)::int as n from audit_events where event = 'auth.login_failed' and detail->>'device_cookie' = 'true'`;
    assert.equal(audit1!.n - audit0!.n, policy.device.free, 'the cookie carried exactly its free attempts');
    assert.equal(answers.filter((s) => s === 401).length, policy.device.free + policy.pair.free, `then the thief is an ordinary browser at an ordinary address (${answers.join(',')})`);
    assert.ok(answers.slice(policy.device.free + policy.pair.free).every((s) => s === 429));
    // The owner, from her own address, still signs in (her pair is clean) and gets a new cookie.
    const back = await openSignIn(loopbackAddress(2, 10));
    for (const [k, v] of stolen) back.browser.cookies.set(k, v);
    const ok = await attempt(back, victim.login, victim.password);
    assert.equal(ok.status, 303);
    assert.ok(deviceCookie(ok));
    assert.notEqual(deviceCookie(ok)!.split(';')[0], `${stolen[0]![0]}=${stolen[0]![1]}`, 'a new cookie replaces the old one');
    assert.equal((await attempt(thief, victim.login, 'stolen-after')).status, 429, 'her sign-in gave the stolen cookie nothing back');

    // Concurrency at the limit: twelve guesses at once for one account from one new address.
    const burst = await openSignIn(loopbackAddress(2, 30));
    const statuses = (await Promise.all(Array.from({ length: 12 }, (_, i) => attempt(burst, 'burst-target@acme.example', `burst-${i}`)))).map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 401).length, policy.pair.free, `exactly the pair's free attempts (${statuses.join(',')})`);
    assert.equal(statuses.filter((s) => s === 429).length, 12 - policy.pair.free);
  });

  test('O13 the approval console: strangers guessing an approver\'s password from many addresses do not keep the approver\'s browser out', async () => {
    const email = 'admin@acme.example';
    const open = async (address: string, from?: AddressedBrowser) => {
      const b = new AddressedBrowser(svc.internalUrl, address);
      if (from) for (const [k, v] of from.cookies) if (k.startsWith('cmcp_device_')) b.cookies.set(k, v);
      return b;
    };
    const tryPassword = async (b: AddressedBrowser, password: string) => {
      const page = await b.get('/console/t/acme/login');
      assert.equal(page.status, 200);
      return b.post('/console/t/acme/login', { csrf: csrfOf(page.body), email, password });
    };
    const approver = await open(loopbackAddress(3, 10));
    const first = await tryPassword(approver, DEMO_PASSWORDS.staff);
    assert.equal(first.status, 303);
    assert.match(deviceCookie(first) ?? '', /; Path=\/console\/t\/acme;/);
    const attackers = await Promise.all([21, 22, 23, 24, 25, 26].map((n) => open(loopbackAddress(3, n))));
    const answers: number[] = [];
    for (let round = 0; round < 3; round++) for (const a of attackers) answers.push((await tryPassword(a, `console-guess-${round}`)).status);
    assert.equal(answers.filter((s) => s === 401).length, policy.account.free, answers.join(','));
    assert.ok(answers.filter((s) => s !== 401).every((s) => s === 429));
    const back = await open(loopbackAddress(3, 10), approver);
    const signedIn = await tryPassword(back, DEMO_PASSWORDS.staff);
    assert.equal(signedIn.status, 303, 'the approver\'s browser gets in');
    assert.equal(signedIn.location, '/console/t/acme');
    const stranger = await open(loopbackAddress(3, 30));
    assertDelayed(await tryPassword(stranger, DEMO_PASSWORDS.staff), policy.account.capSeconds, 'new browser at the console');
  });
});
