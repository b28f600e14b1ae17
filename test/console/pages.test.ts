// The approval console as people use it (issue 14), in headless Chromium: a page per action for
// every write tool, requested through the internal MCP endpoint (whose pending answer links to that
// page), read by an approver (approve/reject, why it waits, the client by name, money in the shop's
// currency, before → after, raw arguments one click away, history) and by the requester (Withdraw,
// no approve); filters narrow the list; nothing scrolls sideways at 390 px; approving works with
// JavaScript off. And the consent page: it names the signed-in account, "Not you?" goes back to the
// sign-in form (a CSRF-protected POST), and a staff app is said to get staff operations access.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Client } from '@modelcontextprotocol/client';
import { WRITE_TOOLS, type WriteTool } from '../../src/actions/guardrails.js';
import { resourceFor } from '../../src/authz/resources.js';
import { STAFF_ROLE_SCOPES } from '../../src/authz/scopes.js';
import { DEMO_PASSWORDS } from '../../src/seed/fixtures.js';
import { first, type TestDatabase } from '../support/database.js';
import { startTestService, type TestService } from '../support/service.js';
import { issueTestToken } from '../support/tokens.js';
import { request, setSettings, staffOf, type StaffMember } from '../actions/helpers.js';
import { validArguments } from '../actions/fixtures.js';
import { connect, internalUrl, text } from '../servers/helpers.js';
import { ACME_CUSTOMER, REDIRECT, authorizeUrl, pkce, registerClient } from '../authz/flow.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const skip = !existsSync(CHROMIUM) && 'no /usr/bin/chromium';
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const eur = (cents: number) => new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'EUR' }).format(cents / 100);
const squeeze = (s: string) => s.replace(/\s+/g, '');
/** An unbroken string far wider than a phone (a pasted URL or token): it must wrap, not widen the page. */
const LONG_WORD = `https://example.com/${'a'.repeat(160)}`;

let svc: TestService;
let db: TestDatabase;
let browser: Browser;
let admin: StaffMember;
let returns: StaffMember;
let supply: StaffMember;
let args: Record<WriteTool, Record<string, unknown>>;
const ids = {} as Record<WriteTool, string>;
const urls = {} as Record<WriteTool, string>;
/** Values as they were before any decision, read from the database (for before → after). */
const was = {} as { onHand: number; price: number; paid: number; driver: string | null };

before(async () => {
  if (skip) return;
  svc = await startTestService();
  db = svc.database;
  admin = await staffOf(db, 'acme', 'admin@acme.example');
  returns = await staffOf(db, 'acme', 'returns@acme.example');
  supply = await staffOf(db, 'acme', 'supply@acme.example');
  await setSettings(db, admin.tenantId, { phase: 1 });
  args = await validArguments(db, admin.tenantId);
  const o = db.owner;
  const r = args.create_reorder;
  was.onHand = first(await o<{ on_hand: number }[]>`
    select sl.on_hand from stock_levels sl join products p on p.tenant_id = sl.tenant_id and p.id = sl.product_id
    join warehouses w on w.tenant_id = sl.tenant_id and w.id = sl.warehouse_id
    where sl.tenant_id = ${admin.tenantId} and p.sku = ${r.sku as string} and w.code = ${r.warehouse_code as string}`).on_hand;
  was.price = Number(first(await o<{ amount_cents: string }[]>`
    select pp.amount_cents from product_prices pp join products p on p.tenant_id = pp.tenant_id and p.id = pp.product_id
    where pp.tenant_id = ${admin.tenantId} and p.sku = ${args.change_price.sku as string} and pp.valid_to is null`).amount_cents);
  was.paid = Number(first(await o<{ amount_cents: string }[]>`
    select p.amount_cents from payments p join orders o on o.tenant_id = p.tenant_id and o.id = p.order_id
    where o.tenant_id = ${admin.tenantId} and o.number = ${args.issue_refund.order_number as string}`).amount_cents);
  was.driver = first(await o<{ driver: string | null }[]>`
    select d.name as driver from shipments s left join drivers d on d.tenant_id = s.tenant_id and d.id = s.driver_id
    where s.tenant_id = ${admin.tenantId} and s.tracking_number = ${args.reroute_delivery.tracking_number as string}`).driver;

  // Every write tool once, through the internal MCP endpoint, as the tenant admin's assistant (phase 1: all wait).
  const token = await issueTestToken(db.app, {
    tenantSlug: 'acme', resource: internalUrl(svc, 'acme'), subject: { kind: 'staff', email: 'admin@acme.example' },
    scope: STAFF_ROLE_SCOPES.tenant_admin.join(' '), clientId: 'ops-assistant',
  });
  const assistant: Client = await connect(internalUrl(svc, 'acme'), token.token);
  for (const tool of WRITE_TOOLS) {
    const res = await assistant.callTool({ name: tool, arguments: { ...args[tool], justification: `Needed for ${tool}: ${LONG_WORD}` } });
    const data = (res.structuredContent ?? {}) as Record<string, string>;
    assert.equal(res.isError ?? false, false, text(res));
    assert.equal(data.status, 'pending', `${tool}: ${text(res)}`);
    ids[tool] = data.action_id!;
    urls[tool] = data.console_url!;
  }
  await assistant.close();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});

after(async () => { await browser?.close(); });

async function signIn(context: BrowserContext, email: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${svc.internalUrl}/console/t/acme/login`);
  await page.fill('#email', email);
  await page.fill('#password', DEMO_PASSWORDS.staff);
  await page.click('button[type=submit]');
  await page.waitForSelector('header.top .who');
  return page;
}

/** Nothing wider than the viewport: no sideways scrolling. */
async function assertFits(page: Page, what: string): Promise<void> {
  const [doc, viewport] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(doc! <= viewport!, `${what}: document ${doc}px wide in a ${viewport}px viewport`);
}

/** What each tool's page must say readably (whitespace squeezed out). */
function readable(tool: WriteTool): RegExp[] {
  const a = args[tool];
  switch (tool) {
    case 'create_reorder': return [new RegExp(`Stockonhand\\(afterdelivery\\)${was.onHand}→${was.onHand + 10}`), /Ordervalue€100\.00/, /Unitcost€10\.00/];
    case 'change_price': return [new RegExp(`Price${eur(was.price).replace('.', '\\.')}→${eur(was.price + 100).replace('.', '\\.')}`)];
    case 'issue_refund': return [/Refund€10\.00/, /Refundedintotal€0\.00→€10\.00/,
      new RegExp(`Stillrefundable${eur(was.paid).replace(/[.,]/g, '.')}→${eur(was.paid - 1000).replace(/[.,]/g, '.')}`)];
    case 'decide_return': return [/Returnstatusrequested→approved/, /Valueofthereturnedgoods€/];
    case 'open_damage_claim': return [/Claimedfromthecarrier€10\.00/, /Ordertotal€/];
    case 'resolve_damage_claim': return [/Claimstatusopen→resolved:paidbythecarrier/, /Claimedamount€/];
    case 'reroute_delivery': return [new RegExp(`Driver${squeeze(was.driver ?? 'no driver')}→${squeeze(a.driver_name as string)}`)];
  }
}

test('the pending MCP answer of every write tool links to its console page', { skip }, () => {
  for (const tool of WRITE_TOOLS) {
    assert.equal(urls[tool], `${svc.internalUrl}/console/t/acme/actions/${ids[tool]}`, tool);
  }
});

test('A6 an approver sees each write tool\'s action readably, with approve and reject, at desktop width and at 390 px', { skip }, async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  try {
    const page = await signIn(context, 'supply@acme.example');
    assert.match(await page.locator('header.top').innerText(), /Sam Supply[\s\S]*supply@acme\.example[\s\S]*supply chain manager/);
    assert.equal(await page.locator('header.top form[action="/console/t/acme/logout"] button').count(), 1, 'sign-out is a POST form');
    for (const tool of WRITE_TOOLS) {
      await page.setViewportSize(DESKTOP);
      await page.goto(urls[tool]);
      const card = page.locator(`#action-${ids[tool]}`);
      const shown = await card.innerText();
      assert.match(shown, /Why it waits: phase 1: every write waits for approval/, tool);
      assert.match(shown, /through Test client \(client ops-assistant\)/, `${tool}: the client by its name`);
      assert.match(shown, /Ada Admin \(admin@acme\.example\)/);
      for (const re of readable(tool)) assert.match(squeeze(shown), re, `${tool}: ${shown}`);
      assert.match(shown, /\d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC/, `${tool}: local time with the zone named`);
      assert.ok(await card.locator('time[datetime]').count() >= 2);
      assert.equal(await card.locator('button[value=approve]').count(), 1, tool);
      assert.equal(await card.locator('button[value=reject]').count(), 1, tool);
      assert.equal(await card.locator('button[value=withdraw]').count(), 0, tool);
      // The raw arguments, one click away.
      const raw = card.locator('details.raw');
      assert.equal(await raw.locator('summary').innerText(), 'Raw arguments');
      assert.equal(await raw.getAttribute('open'), null, 'closed until clicked');
      assert.deepEqual(JSON.parse((await raw.locator('pre').textContent()) ?? ''), args[tool]);
      assert.match(await page.locator('ol.history').innerText(), /Requested by Ada Admin through Test client \(client ops-assistant\) — phase 1/);
      await assertFits(page, `${tool} page at desktop width`);
      await page.setViewportSize(PHONE);
      await assertFits(page, `${tool} page at 390 px`);
      await raw.locator('summary').click();
      assert.equal(await raw.getAttribute('open'), '', 'one click opens the raw arguments');
      await assertFits(page, `${tool} page at 390 px with the raw arguments open`);
    }
    for (const size of [DESKTOP, PHONE]) {
      await page.setViewportSize(size);
      await page.goto(`${svc.internalUrl}/console/t/acme`);
      assert.equal(await page.locator('section.action').count(), WRITE_TOOLS.length);
      await assertFits(page, `list at ${size.width} px`);
    }
  } finally {
    await context.close();
  }
});

test('A6 the requester sees Withdraw (no reason field) and no approve; withdrawing needs no reason', { skip }, async () => {
  const context = await browser.newContext({ viewport: PHONE });
  try {
    const page = await signIn(context, 'admin@acme.example');
    for (const tool of WRITE_TOOLS) {
      await page.goto(urls[tool]);
      const card = page.locator(`#action-${ids[tool]}`);
      assert.equal(await card.locator('button[value=withdraw]').innerText(), 'Withdraw', tool);
      assert.equal(await card.locator('button[value=approve]').count(), 0, tool);
      assert.equal(await card.locator('textarea').count(), 0, `${tool}: no reason field`);
      assert.ok(!(await card.innerText()).includes('Reason (required to reject)'));
      await assertFits(page, `${tool} page as requester at 390 px`);
    }
    await page.goto(`${svc.internalUrl}/console/t/acme/settings`);
    assert.match(await page.locator('body').innerText(), /Phase 2: Guardrails/);
    await assertFits(page, 'settings at 390 px');
    // The shop's time zone: an unknown name is refused, a real one changes how times read.
    await page.fill('#time_zone', 'Mars/Olympus_Mons');
    await page.click('form[action="/console/t/acme/settings"] button[type=submit]');
    assert.match(await page.locator('.error').innerText(), /Time zone: not a time zone this service knows/);
    await page.fill('#time_zone', 'Europe/Amsterdam');
    await page.click('form[action="/console/t/acme/settings"] button[type=submit]');
    await page.waitForSelector('.notice');
    await page.goto(urls.issue_refund);
    const requested = page.locator(`#action-${ids.issue_refund} time`).first();
    assert.match(await requested.innerText(), /\d{2}:\d{2} CET$/, 'local time with the zone named');
    assert.match((await requested.getAttribute('datetime'))!, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    await page.goto(urls.reroute_delivery);
    await page.locator(`#action-${ids.reroute_delivery} button[value=withdraw]`).click();
    await page.waitForSelector('.notice');
    assert.match(await page.locator('.notice').innerText(), /Withdrawn: the action will not run/);
    assert.equal(new URL(page.url()).pathname, `/console/t/acme/actions/${ids.reroute_delivery}`);
    assert.match(await page.locator('.action .status').first().textContent() ?? '', /^withdrawn$/);
    assert.match(await page.locator('ol.history').innerText(), /Withdrawn by Ada Admin: withdrawn by the requester/);
    // The list with a decided action (its table stacks on a phone).
    await page.goto(`${svc.internalUrl}/console/t/acme`);
    assert.equal(await page.locator(`table.decided tr[data-action-id="${ids.reroute_delivery}"]`).count(), 1);
    await assertFits(page, 'list with decided actions at 390 px');
    const row = first(await db.owner<{ status: string; decision_reason: string; decided_by: string }[]>`
      select status::text as status, decision_reason, decided_by from pending_actions where id = ${ids.reroute_delivery}`);
    assert.deepEqual(row, { status: 'rejected', decision_reason: 'withdrawn by the requester', decided_by: admin.staffId });
  } finally {
    await context.close();
  }
});

test('filters by status, tool and requester narrow the list (a plain GET form, JavaScript off)', { skip }, async () => {
  const order = first(await db.owner<{ number: string }[]>`
    select o.number from orders o join payments p on p.tenant_id = o.tenant_id and p.order_id = o.id
    where o.tenant_id = ${returns.tenantId} and p.status = 'captured' and p.refunded_cents = 0 and p.amount_cents >= 5000
      and o.number <> ${args.issue_refund.order_number as string} order by o.number limit 1`);
  const theirs = await request(db, returns, 'issue_refund', { order_number: order.number, amount_cents: 1_200, reason: 'filter check' });
  assert.equal(theirs.status, 'pending');
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: DESKTOP });
  try {
    const page = await signIn(context, 'supply@acme.example');
    const cards = async () => page.locator('section.action').evaluateAll((els) => els.map((e) => [e.getAttribute('data-action-id'), e.getAttribute('data-tool')]));
    await page.goto(`${svc.internalUrl}/console/t/acme`);
    assert.equal((await cards()).length, WRITE_TOOLS.length - 1 + 1, 'six of admin\'s still pending, one of Rita\'s');

    await page.selectOption('#f-tool', 'change_price');
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(/tool=change_price/);
    assert.deepEqual(await cards(), [[ids.change_price, 'change_price']]);

    await page.selectOption('#f-tool', '');
    await page.selectOption('#f-requester', returns.staffId);
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(/requester=/);
    assert.deepEqual(await cards(), [[theirs.action_id, 'issue_refund']]);

    await page.selectOption('#f-requester', '');
    await page.selectOption('#f-status', 'rejected');
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(/status=rejected/);
    assert.equal((await cards()).length, 0, 'no pending section when filtering by a decided status');
    const rows = await page.locator('table.decided tbody tr').evaluateAll((els) => els.map((e) => e.getAttribute('data-action-id')));
    assert.ok(rows.includes(ids.reroute_delivery), 'the withdrawn action is listed under rejected');
    assert.equal(await page.locator('#f-status').inputValue(), 'rejected', 'the form shows the filter in force');
  } finally {
    await context.close();
  }
});

test('A6 approving works with JavaScript off: the action runs once and its page shows the history', { skip }, async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: PHONE });
  try {
    const page = await signIn(context, 'supply@acme.example');
    await page.goto(urls.change_price);
    const card = page.locator(`#action-${ids.change_price}`);
    await card.locator('textarea').fill('Matches the supplier increase');
    await card.locator('button[value=approve]').click();
    await page.waitForSelector('.notice');
    assert.match(await page.locator('.notice').innerText(), /Approved: the action ran/);
    assert.equal(new URL(page.url()).pathname, `/console/t/acme/actions/${ids.change_price}`);
    assert.match(await page.locator('.action .status').first().textContent() ?? '', /^executed$/);
    assert.equal(await page.locator('button[value=approve]').count(), 0);
    const history = await page.locator('ol.history').innerText();
    assert.match(history, /Requested by Ada Admin[\s\S]*Approved by Sam Supply: Matches the supplier increase[\s\S]*Executed/);
    const now = first(await db.owner<{ amount_cents: string }[]>`
      select pp.amount_cents from product_prices pp join products p on p.tenant_id = pp.tenant_id and p.id = pp.product_id
      where pp.tenant_id = ${admin.tenantId} and p.sku = ${args.change_price.sku as string} and pp.valid_to is null`);
    assert.equal(Number(now.amount_cents), was.price + 100);
  } finally {
    await context.close();
  }
});

test('the consent page names the signed-in account, "Not you?" returns to sign-in, and a staff app is said to get staff operations access',
  { skip }, async () => {
    const issuer = `${svc.publicUrl}/t/acme`;
    const client = await registerClient(issuer, { client_name: 'Pages App' });
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: PHONE });
    try {
      const page = await context.newPage();
      let callback: URL | undefined;
      await page.route(`${REDIRECT}**`, async (route) => { callback = new URL(route.request().url()); await route.fulfill({ status: 200, body: 'done' }); });
      const signInAs = async (email: string, password: string) => {
        await page.fill('#email', email);
        await page.fill('#password', password);
        await page.click('button[type=submit]');
        await page.waitForSelector('button[value=allow]');
      };

      // Staff, internal endpoint.
      const { challenge } = pkce();
      await page.goto(authorizeUrl(issuer, { client_id: client.client_id, code_challenge: challenge, resource: resourceFor(svc.config, 'acme', 'internal'),
        scope: 'ops:read stock:reorder', state: 'staff' }));
      await signInAs('warehouse@acme.example', DEMO_PASSWORDS.staff);
      let body = await page.locator('body').innerText();
      assert.match(body, /Signed in as Wes Warehouse \(warehouse@acme\.example\) · warehouse lead/);
      assert.match(body, /This gives Pages App staff operations access to /);
      await assertFits(page, 'consent page at 390 px');

      // "Not you?" is a POST with the interaction's token; without them it is refused.
      const form = page.locator('form.switch-account');
      const action = new URL((await form.getAttribute('action'))!, svc.publicUrl).toString();
      const forged = await fetch(action, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'switch=1' });
      assert.equal(forged.status, 403, 'no interaction cookie, no CSRF token: refused');
      const cookie = (await context.cookies(svc.publicUrl)).map((c) => `${c.name}=${c.value}`).join('; ');
      const foreign = await fetch(action, { method: 'POST', redirect: 'manual', body: 'switch=1',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: 'https://evil.example' } });
      assert.equal(foreign.status, 403, 'a foreign origin is refused');
      const noToken = await fetch(action, { method: 'POST', redirect: 'manual', body: 'switch=1',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: new URL(svc.publicUrl).origin } });
      assert.equal(noToken.status, 403, 'the browser\'s cookie without the form token is refused');
      await form.locator('button').click();
      await page.waitForSelector('#password');
      assert.match(await page.title(), /Sign in/);
      await signInAs('supply@acme.example', DEMO_PASSWORDS.staff);
      body = await page.locator('body').innerText();
      assert.match(body, /Signed in as Sam Supply \(supply@acme\.example\)/);
      assert.ok(!body.includes('warehouse@acme.example'));
      await page.click('button[value=allow]');
      await page.waitForURL(`${REDIRECT}**`);
      assert.equal(callback?.searchParams.get('state'), 'staff');
      assert.ok(callback?.searchParams.get('code'));
      const audit = await db.owner`select 1 from audit_events where tenant_id = ${admin.tenantId} and event = 'auth.switch_account'`;
      assert.equal(audit.length, 1);

      // A customer, customer endpoint: their account named, no staff wording.
      await setSettings(db, admin.tenantId, { phase: 3 });
      await page.goto(authorizeUrl(issuer, { client_id: client.client_id, code_challenge: pkce().challenge, resource: resourceFor(svc.config, 'acme', 'customer'), state: 'customer' }));
      await signInAs(ACME_CUSTOMER.login, ACME_CUSTOMER.password);
      body = await page.locator('body').innerText();
      assert.match(body, new RegExp(`Signed in as .* \\(${ACME_CUSTOMER.login.replace(/[.]/g, '\\.')}\\)`));
      assert.ok(!/staff operations access/.test(body));
    } finally {
      await context.close();
    }
  });
