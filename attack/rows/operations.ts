// Operations surfaces: L1 secrets in the service log, L2 attacker-chosen metric labels, L4 forwarded
// headers believed from anyone.
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { AttackContext } from '../context.js';
import { TOKEN_SHAPE, csrfOf, formAction, rawRequest } from '../http.js';
import { MCP_HEADERS, asMetadataUrl, openLoginPage } from '../oauth.js';
import { Checks, notApplicable, type AttackRow } from '../types.js';
import { short } from './common.js';

const MAX_LOG_BYTES = 64 * 1024 * 1024;

/** The lines of the log written since `since` (pino's "time"); every line when they carry no time. */
function linesSince(text: string, since: Date): { lines: string[]; timed: boolean } {
  const all = text.split('\n').filter(Boolean);
  const timed = all.filter((l) => /"time":/.test(l));
  if (!timed.length) return { lines: all, timed: false };
  const from = since.getTime() - 1000;
  return {
    lines: timed.filter((l) => {
      const t = /"time":(?:"([^"]+)"|(\d+))/.exec(l);
      const ms = t?.[1] ? Date.parse(t[1]) : Number(t?.[2]);
      return Number.isFinite(ms) && ms >= from;
    }),
    timed: true,
  };
}

/** A secret in evidence: enough to recognise it, never enough to use it. */
function hint(secret: string): string {
  return `${secret.slice(0, Math.min(12, secret.length - 8))}…`;
}

export const l1: AttackRow = {
  id: 'L1',
  title: 'secrets in logs: tokens, codes, session cookies, CSRF values, passwords',
  expected: 'none in any log line',
  final: true,
  async run(ctx) {
    const file = ctx.options.logFile;
    if (!file) return notApplicable('needs the service log (--log-file PATH): what the service writes to its log cannot be seen from outside');
    const c = new Checks();
    const size = (await stat(file)).size;
    const buffer = await readFile(file);
    const text = buffer.subarray(Math.max(0, size - MAX_LOG_BYTES)).toString('utf8');
    const { lines, timed } = linesSince(text, ctx.startedAt);
    if (!timed) c.note('the log lines carry no "time": the whole file was scanned');
    if (!c.expect('the log has lines from this run', lines.length > 0, `${lines.length} lines since ${ctx.startedAt.toISOString()} in ${file}`)) return c.result();
    const log = lines.join('\n');
    const shaped = [...new Set(log.match(TOKEN_SHAPE) ?? [])];
    c.expect('no token-shaped string (cmcp_at_, cmcp_rt_, cmcp_code_, cmcp_csrf_ …)', shaped.length === 0,
      shaped.length ? `${shaped.length}, e.g. ${hint(shaped[0]!)}` : 'none');
    const received = [...ctx.http.received];
    const leaked = received.filter((s) => log.includes(s));
    c.expect('none of the tokens, codes and cookie values the service gave the suite', leaked.length === 0,
      leaked.length ? `${leaked.length} of ${received.length} found, e.g. ${hint(leaked[0]!)}` : `0 of ${received.length} found`);
    if (!received.length) c.note('the suite received no secrets in this run: run L1 together with the other rows');
    const passwords = [...new Set(Object.values(ctx.options.credentials).map((p) => p?.password).filter((p): p is string => Boolean(p && p.length >= 8)))];
    const told = passwords.filter((p) => log.includes(p));
    c.expect('no password the suite sent', told.length === 0, `${told.length} of ${passwords.length} found`);
    return c.result();
  },
};

/** Every series of a scrape, by name and labels (values left out). */
function seriesOf(text: string): string[] {
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.slice(0, l.lastIndexOf(' ')));
}

const ODD_METHODS = ['PROPFIND', 'MKCOL', 'PURGE', 'REPORT', 'LOCK', 'SEARCH'];
const L2_ROUNDS = 12;
/** New series tolerated during the flood: traffic of concurrent rows, not the attack (which, unbounded, adds >10 a request). */
const L2_TOLERANCE = 20;

export const l2: AttackRow = {
  id: 'L2',
  title: 'unbounded telemetry: attacker-chosen paths, methods, tool names as metric labels',
  expected: 'labels from a closed set; the series count stays flat under random requests',
  async run(ctx) {
    const internal = ctx.options.internal;
    if (!internal) return notApplicable('needs the internal listener (--internal), where /metrics is served');
    const scrape = async (): Promise<string[] | undefined> => {
      const res = await ctx.http.fetch(`${internal}/metrics`);
      const text = await res.text();
      return res.status === 200 && /^# (HELP|TYPE) /m.test(text) ? seriesOf(text) : undefined;
    };
    if (!(await scrape())) return notApplicable(`${internal}/metrics does not answer with Prometheus text from here`);
    const c = new Checks();
    const token = await ctx.accessToken('customer');
    const chosen: string[] = [];
    let requests = 0;
    const round = async () => {
      const n = `l2${randomBytes(5).toString('hex')}`;
      chosen.push(n);
      const paths = [
        `/.well-known/${n}`, `/.well-known/oauth-authorization-server/t/${n}`, `/.well-known/oauth-protected-resource/t/${n}/mcp`,
        `/.well-known/openid-configuration/${n}`, `/t/${n}/mcp`, `/t/${ctx.options.tenant}/${n}`, `/${n}`,
      ];
      for (const p of paths) await (await ctx.http.fetch(`${ctx.options.target}${p}?${n}=${n}`, { headers: { [`x-${n}`]: n } })).arrayBuffer();
      await rawRequest(`${ctx.options.target}/${n}`, { method: ODD_METHODS[requests % ODD_METHODS.length]!, timeoutMs: ctx.options.timeoutMs });
      await (await ctx.http.fetch(`${internal}/console/${n}`)).arrayBuffer();
      await (await ctx.http.fetch(ctx.customerUrl(), {
        method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: `tool_${n}`, arguments: {} } }),
      })).arrayBuffer();
      requests += paths.length + 3;
    };
    // Warm-up: one request of each kind (their "other" series appear now), and a scrape of its own.
    await round();
    await scrape();
    const before = (await scrape())!;
    for (let i = 0; i < L2_ROUNDS; i++) await round();
    const after = await scrape();
    if (!c.expect('metrics still answer', Boolean(after), after ? 'scraped' : 'no answer')) return c.result();
    const known = new Set(before);
    const added = after!.filter((s) => !known.has(s));
    const carrying = after!.filter((s) => chosen.some((n) => s.includes(n)) || ODD_METHODS.some((m) => s.includes(`"${m}"`)));
    c.expect('no series carries a path, method or tool name the client chose', carrying.length === 0,
      carrying.length ? `${carrying.length}, e.g. ${short(carrying[0], 120)}` : 'none');
    c.expect('series count flat under random requests', added.length <= L2_TOLERANCE,
      `${before.length} → ${after!.length} series after ${requests} random requests${added.length ? ` (new: ${short(added.slice(0, 3).join(' '), 160)})` : ''}`);
    return c.result();
  },
};

const SPOOF = { 'x-forwarded-host': 'attacker.invalid', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.77' };
const L4_ATTEMPTS = 80;

export const l4: AttackRow = {
  id: 'L4',
  title: 'forwarded headers (X-Forwarded-For, -Host, -Proto) believed from anyone',
  expected: 'believed only from proxies the operator configured; the default trusts none',
  // Exhausts this address's sign-in budget for a minute (probe accounts, no real user is locked).
  flood: true,
  async run(ctx) {
    const c = new Checks();
    const r = await ctx.authorizationRequest('customer', ctx.options.tenant, AttackContext.CUSTOMER_SCOPE);
    const as = r.discovery.as;
    // -Host and -Proto: the issuer and the resource identifier are configuration, not request data.
    const meta = await ctx.http.json(asMetadataUrl(as.issuer), { headers: SPOOF });
    c.expect('X-Forwarded-Host/-Proto do not move the issuer', meta.status === 200 && meta.body.issuer === as.issuer && !meta.text.includes('attacker.invalid'),
      `${meta.status} issuer ${String(meta.body.issuer)}`);
    const prm = await ctx.http.json(r.discovery.resourceMetadataUrl, { headers: SPOOF });
    c.expect('… nor the protected resource metadata', prm.status === 200 && !prm.text.includes('attacker.invalid'), `${prm.status} resource ${String(prm.body.resource)}`);
    // -For: a new claimed address on every sign-in attempt must not buy a new per-IP budget.
    const page = await openLoginPage(ctx.http, as, r);
    const action = formAction(page.html);
    const csrf = csrfOf(page.html);
    if (!c.expect('sign-in form', Boolean(action && csrf), action ?? 'no form')) return c.result();
    let limited: number | undefined;
    const statuses = new Map<number, number>();
    for (let i = 0; i < L4_ATTEMPTS && limited === undefined; i++) {
      // A new unknown probe account each time: only the per-IP limit can answer 429.
      const res = await page.browser.post(action!, { csrf: csrf!, email: `l4-probe-${i}-${ctx.runId}@example.invalid`, password: 'x' },
        { 'x-forwarded-for': `203.0.113.${(i % 250) + 1}` });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 429) limited = i + 1;
    }
    c.expect('a new X-Forwarded-For on every attempt does not escape the per-IP sign-in limit', limited !== undefined,
      limited !== undefined
        ? `429 after ${limited} attempts, each claiming another address`
        : `no 429 in ${L4_ATTEMPTS} attempts (${[...statuses].map(([s, n]) => `${n}× ${s}`).join(', ')}): the claimed addresses were believed`);
    return c.result();
  },
};
