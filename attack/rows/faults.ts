// F1–F3, F5: reliability under faults, the parts that are safe against a running deployment. F1 and
// F2 need control of PostgreSQL and are fault tests of their own (bounded, 127.0.0.1 only).
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { Checks, notApplicable, type AttackRow } from '../types.js';
import { sleep } from './common.js';
import { csrfOf, formAction } from '../http.js';
import { AttackContext } from '../context.js';
import { openLoginPage } from '../oauth.js';

export const f1: AttackRow = {
  id: 'F1', title: 'PostgreSQL restarted under load', expected: 'no crash, no hang; 503 while down; recovers on its own; no half-applied action',
  async run() {
    return notApplicable('needs control of the deployment\'s PostgreSQL: a fault test against 127.0.0.1 (issue 7 part 2), not a remote attack');
  },
};

export const f2: AttackRow = {
  id: 'F2', title: 'pool exhausted by slow queries', expected: 'bounded wait, 503 with Retry-After; other tenants and health unaffected',
  async run() {
    return notApplicable('needs slow queries inside the deployment: a fault test against 127.0.0.1 (issue 7 part 2), not a remote attack');
  },
};

const SLOW_SOCKETS = 5;
const F3_BOUND_MS = 45_000; // headers timeout + node's connection-check interval, with a margin

export const f3: AttackRow = {
  id: 'F3', title: 'slow clients (slowloris)', expected: 'header/request timeouts close them; normal traffic unaffected',
  concurrent: true,
  async run(ctx) {
    const c = new Checks();
    const target = new URL(ctx.options.target);
    const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
    const open = (): Socket => target.protocol === 'https:'
      ? tlsConnect({ host: target.hostname, port, servername: target.hostname, rejectUnauthorized: false })
      : connect({ host: target.hostname, port });
    const t0 = performance.now();
    const closedAt: (number | undefined)[] = [];
    const sockets = Array.from({ length: SLOW_SOCKETS }, (_, i) => {
      const s = open();
      s.on('error', () => {});
      s.on('close', () => { closedAt[i] = performance.now() - t0; });
      s.write(`GET /health HTTP/1.1\r\nHost: ${target.host}\r\n`);
      return s;
    });
    const drip = setInterval(() => { for (const s of sockets) if (!s.destroyed) s.write(`X-Slow-${Math.random().toString(36).slice(2, 6)}: 1\r\n`); }, 1000);
    try {
      // Normal traffic while the slow sockets hang on.
      await sleep(2000);
      const probes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const p0 = performance.now();
        const res = await ctx.http.fetch(`${ctx.options.target}/.well-known/oauth-authorization-server/t/${ctx.options.tenant}`);
        await res.arrayBuffer();
        probes.push(res.status === 200 ? performance.now() - p0 : Infinity);
      }
      c.expect('normal traffic answered promptly meanwhile', probes.every((ms) => ms < 2000), probes.map((ms) => `${ms.toFixed(0)} ms`).join(', '));
      while (performance.now() - t0 < F3_BOUND_MS && closedAt.filter((x) => x !== undefined).length < SLOW_SOCKETS) await sleep(250);
      const closed = closedAt.filter((x): x is number => x !== undefined);
      c.expect(`the server closed all ${SLOW_SOCKETS} slow sockets within ${F3_BOUND_MS / 1000} s`, closed.length === SLOW_SOCKETS,
        `${closed.length} closed, after ${closed.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s`);
    } finally {
      clearInterval(drip);
      for (const s of sockets) s.destroy();
    }
    return c.result();
  },
};

export const f5: AttackRow = {
  id: 'F5', title: 'two instances, one rate-limit budget', expected: 'at most the limit accepted across both',
  async run(ctx) {
    const second = ctx.options.target2;
    if (!second) return notApplicable('needs a second instance of the deployment (--target2)');
    const c = new Checks();
    // Per-account sign-in failures, alternating instances: the lock must come after the same
    // number of failures as on one instance.
    const r = await ctx.authorizationRequest('customer', ctx.options.tenant, AttackContext.CUSTOMER_SCOPE);
    const pages = await Promise.all([ctx.options.target, second].map(async (base) => {
      const as = { ...r.discovery.as, authorization_endpoint: r.discovery.as.authorization_endpoint.replace(ctx.options.target, base) };
      const page = await openLoginPage(ctx.http, as, r);
      return { page, action: formAction(page.html)!, csrf: csrfOf(page.html)! };
    }));
    const probe = `f5-${ctx.runId}@example.invalid`;
    const accepted: number[] = [];
    let locked = false;
    for (let i = 0; i < 12 && !locked; i++) {
      const p = pages[i % 2]!;
      const res = await p.page.browser.post(p.action.startsWith('http') ? p.action : new URL(p.action, p.page.pageUrl).toString(), { csrf: p.csrf, email: probe, password: `x${i}` });
      await res.arrayBuffer();
      if (res.status === 429) locked = true;
      else accepted.push(i);
    }
    c.expect('per-account failure budget shared by both instances', locked && accepted.length <= 5, `${accepted.length} attempts judged before the lock${locked ? '' : ' (never locked)'}`);
    return c.result();
  },
};
