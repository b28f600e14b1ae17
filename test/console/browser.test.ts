// The approval console in a real browser (headless Chromium via playwright-core, JavaScript off):
// sign in, approve one action, reject another, and the status the agent reads reflects both.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import { chromium } from 'playwright-core';
import { getActionStatus } from '../../src/actions/status.js';
import { DEMO_PASSWORDS } from '../../src/seed/fixtures.js';
import { startTestService } from '../support/service.js';
import { asStaff, refundableOrder, request, staffOf } from '../actions/helpers.js';

const CHROMIUM = '/usr/bin/chromium';

test('console in headless Chromium: sign in, approve one action, reject another; getActionStatus reflects it',
  { skip: !existsSync(CHROMIUM) && 'no /usr/bin/chromium' }, async () => {
    const svc = await startTestService();
    const db = svc.database;
    const returns = await staffOf(db, 'acme', 'returns@acme.example');
    const admin = await staffOf(db, 'acme', 'admin@acme.example');
    const order = await refundableOrder(db, returns.tenantId, 20_000);
    // Above the refund guardrail (5,000): both wait.
    const toApprove = await request(db, returns, 'issue_refund', { order_number: order.number, amount_cents: 6_000, reason: 'browser approve' },
      { justification: 'Parcel arrived <b>damaged</b>' });
    const toReject = await request(db, returns, 'issue_refund', { order_number: order.number, amount_cents: 7_000, reason: 'browser reject' });
    assert.equal(toApprove.status, 'pending');
    assert.equal(toReject.status, 'pending');

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    after(() => browser.close());
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();

    // Not signed in: sent to the sign-in page.
    await page.goto(`${svc.internalUrl}/console/t/acme`);
    assert.match(await page.title(), /Sign in/);
    await page.fill('#email', 'admin@acme.example');
    await page.fill('#password', 'not-the-password');
    await page.click('button[type=submit]');
    assert.match(await page.textContent('body') ?? '', /incorrect/);
    await page.fill('#email', 'admin@acme.example');
    await page.fill('#password', DEMO_PASSWORDS.staff);
    await page.click('button[type=submit]');
    await page.waitForSelector(`#action-${toApprove.action_id}`);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'cmcp_console');
    assert.ok(session?.httpOnly && session.sameSite === 'Strict', 'HttpOnly, SameSite=Strict session cookie');

    // Full context: summary, requester, client, and the assistant's text shown escaped, as unverified.
    const card = page.locator(`#action-${toApprove.action_id}`);
    const text = (await card.textContent()) ?? '';
    assert.match(text, /Refund 60\.00 EUR on order/);
    assert.match(text, /returns@acme\.example/);
    assert.match(text, /test-client/);
    assert.match(text, /Parcel arrived <b>damaged<\/b>/, 'markup in the justification is shown as text');
    assert.match(text, /unverified/);
    assert.equal(await card.locator('b').count(), 0);

    await card.locator('textarea').fill('Photos checked');
    await card.locator('button[value=approve]').click();
    await page.waitForSelector('.notice');
    assert.match(await page.textContent('.notice') ?? '', /Approved: the action ran/);

    const second = page.locator(`#action-${toReject.action_id}`);
    await second.locator('textarea').fill('Duplicate of the approved refund');
    await second.locator('button[value=reject]').click();
    await page.waitForSelector('.notice');
    assert.match(await page.textContent('.notice') ?? '', /Rejected/);
    assert.equal(await page.locator(`#action-${toReject.action_id}`).count(), 0, 'no longer pending');

    const [a, b] = await asStaff(db.app, returns, async (tx) => [
      await getActionStatus(tx, returns.tenantId, toApprove.action_id),
      await getActionStatus(tx, returns.tenantId, toReject.action_id),
    ]);
    assert.equal(a?.status, 'executed');
    assert.equal(a?.decided_by?.id, admin.staffId);
    assert.equal(a?.decision_reason, 'Photos checked');
    assert.equal((a?.result as { amount: { amount_cents: number } }).amount.amount_cents, 6_000);
    assert.equal(b?.status, 'rejected');
    assert.equal(b?.decision_reason, 'Duplicate of the approved refund');
    assert.match(b?.message ?? '', /^rejected \(action .*\): Duplicate of the approved refund$/);
  });
