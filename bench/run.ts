// `npm run bench`: the customer order-status call through the whole stack (bearer check against
// the token table, RLS transaction, one-statement order query, audit entry with its hash chain), on
// both MCP revisions (2025-11-25 and 2026-07-28), against bare MCP SDK servers with one static tool
// and no auth or database: the v2 SDK's `createMcpHandler` (both revisions) and, for comparison,
// the v1 SDK's stateless server (2025-11-25 only), side by side in one run, with autocannon at 32
// connections (docs/DESIGN.md §7: ratio ≥ 1.0 against the bare v2 server, p99 ≤ 50 ms, RSS ≤ 200 MB).
// Each server runs in a child process of its own, so its peak RSS (VmHWM) is its own. CPU per call
// (node, and all processes of the embedded PostgreSQL cluster) from /proc/<pid>/stat deltas over the
// measured run, divided by the calls answered.
// Steady RSS: the median of VmRSS sampled every 250 ms over the measured run, beside the peak (VmHWM).
//   BENCH_DURATION (s, default 20), BENCH_CONNECTIONS (32), BENCH_ORDERS (10000), BENCH_WARMUP (s, 5)
//   BENCH_TSX=1: run the servers under tsx instead of compiled (tsc → .bench-build, as production runs)
//   BENCH_SCALE=1: also measure get_order (2026-07-28) on a second database of BENCH_SCALE_ORDERS
//     (1,000,000) orders, right after the 10 k one, with EXPLAIN (ANALYZE, BUFFERS) of the order query at
//     both sizes (target: p50 at 1 M ≤ +25 % of 10 k). Its database lives in BENCH_SCALE_DATA_DIR
//     (BENCH_DATA_DIR + '-1m') on BENCH_SCALE_PG_PORT (BENCH_PG_PORT + 10); it is built once (1 M:
//     531 s of PostgreSQL CPU, ≈ 4½ min on 2 idle cores, 13 min on a busy machine) and reused while
//     its order count and migrations match. Then the small database again in a fresh process (A/B/A).
//   BENCH_EXPLAIN=full: the EXPLAIN output with the RLS filter expressions
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { Sql } from 'postgres';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { recordAudit } from '../src/audit/record.js';
import { withContext } from '../src/db/context.js';
import { openAppPool } from '../src/db/database.js';
import { clusterCpuMs, cpuMs } from './proc.js';
import { loadOrderDetail } from '../src/servers/shared/order-detail.js';

const duration = Number(process.env.BENCH_DURATION ?? 20);
const warmup = Number(process.env.BENCH_WARMUP ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);

interface Child {
  proc: ChildProcess;
  info: Record<string, string | number>;
}

// Both servers run as compiled JavaScript, the way a deployment runs (Dockerfile): no TypeScript
// loader in the measured processes. BENCH_TSX=1 runs them through tsx instead.
const BUILD = '.bench-build';
const compiled = process.env.BENCH_TSX !== '1';
const MODE = compiled ? `compiled (tsc → ${BUILD}, node ${process.version})` : `under tsx (node ${process.version} --import tsx)`;
if (compiled) {
  process.stderr.write('compiling (tsc)…\n');
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.', '--outDir', BUILD, '--sourceMap', 'false'], { stdio: 'inherit' });
  // src/db/migrate.ts finds migrations/ two folders above its own file.
  cpSync('migrations', `${BUILD}/migrations`, { recursive: true });
}

function start(script: string, ...args: string[]): Promise<Child> {
  return startWith({}, script, ...args);
}

const dataDir = process.env.BENCH_DATA_DIR ?? '/tmp/commerce-mcp-bench';
const pgPort = Number(process.env.BENCH_PG_PORT ?? 55610);
const scale = process.env.BENCH_SCALE === '1';
const scaleOrders = Number(process.env.BENCH_SCALE_ORDERS ?? 1_000_000);
/** The large database's environment for bench/commerce-server.ts. */
const scaleEnv = {
  BENCH_DATA_DIR: process.env.BENCH_SCALE_DATA_DIR ?? `${dataDir}-1m`,
  BENCH_PG_PORT: process.env.BENCH_SCALE_PG_PORT ?? String(pgPort + 10),
  BENCH_ORDERS: String(scaleOrders),
};

function startWith(env: Record<string, string>, script: string, ...args: string[]): Promise<Child> {
  const entry = compiled ? [`${BUILD}/${script.replace(/\.ts$/, '.js')}`] : ['--import', 'tsx', script];
  const proc = spawn(process.execPath, [...(process.env.BENCH_NODE_OPTIONS?.split(' ').filter(Boolean) ?? []), ...entry, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    lines.once('line', (line) => resolve({ proc, info: JSON.parse(line) as Record<string, string | number> }));
    proc.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

function stop(child: Child): Promise<void> {
  return new Promise((resolve) => {
    child.proc.removeAllListeners('exit');
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) return resolve();
    child.proc.once('exit', () => resolve());
    child.proc.kill('SIGTERM');
  });
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

function currentRssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

interface Figures { rps: number; p50: number; p99: number; errors: number; non2xx: number; peakRssMb: number; steadyRssMb: number; rssAfterMb: number; nodeCpuMs: number; pgCpuMs: number; statements?: number; roundTrips?: number }

/** Samples a process's VmRSS every 250 ms until stopped; the median is its steady RSS. */
function sampleRss(pid: number): () => number {
  const samples: number[] = [];
  const timer = setInterval(() => { try { samples.push(currentRssMb(pid)); } catch { /* gone */ } }, 250);
  return () => {
    clearInterval(timer);
    const sorted = samples.filter(Number.isFinite).sort((a, b) => a - b);
    return sorted.length ? sorted[Math.floor(sorted.length / 2)]! : NaN;
  };
}

/** The commerce child's wire counters (bench/commerce-server.ts, on SIGUSR2). */
async function wireCounters(child: Child): Promise<{ writes: number; statements: number } | undefined> {
  if (!child.info.pgPort) return undefined;
  const file = `${child.info.dataDir ?? dataDir}/wire.json`;
  try { rmSync(file); } catch { /* first time */ }
  child.proc.kill('SIGUSR2');
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 20));
    try { return JSON.parse(readFileSync(file, 'utf8')) as { writes: number; statements: number }; } catch { /* not yet */ }
  }
  return undefined;
}

async function drive(url: string, headers: Record<string, string>, body: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({ url, method: 'POST', headers, body, connections, duration: seconds, pipelining: 1 });
}

interface Target { url: string; headers: Record<string, string>; body: string }

async function probe(name: string, t: Target): Promise<void> {
  // A single call first: it must succeed, or the figures mean nothing.
  const res = await fetch(t.url, { method: 'POST', headers: t.headers, body: t.body });
  const text = await res.text();
  if (res.status !== 200 || text.includes('"isError":true') || text.includes('"error"')) {
    throw new Error(`${name}: the probe call failed (${res.status}): ${text.slice(0, 300)}`);
  }
}

async function measure(name: string, child: Child, url: string, headers: Record<string, string>, body: string, split?: Target, warmupSeconds = warmup): Promise<Figures> {
  const warmup = warmupSeconds;
  await probe(name, { url, headers, body });
  if (split) await probe(`${name} (second tenant)`, split);
  process.stderr.write(`${name}: warm-up ${warmup}s, then ${duration}s at ${connections} connections…\n`);
  // Split: the same connections, half on each tenant's target.
  const load = async (seconds: number): Promise<autocannon.Result> => {
    if (!split) return drive(url, headers, body, seconds);
    const half = Math.max(1, Math.floor(connections / 2));
    const [a, b] = await Promise.all([
      autocannon({ url, method: 'POST', headers, body, connections: half, duration: seconds, pipelining: 1 }),
      autocannon({ url: split.url, method: 'POST', headers: split.headers, body: split.body, connections: connections - half, duration: seconds, pipelining: 1 }),
    ]);
    return {
      requests: { ...a.requests, average: a.requests.average + b.requests.average, total: a.requests.total + b.requests.total },
      latency: { ...a.latency, p50: Math.max(a.latency.p50, b.latency.p50), p99: Math.max(a.latency.p99, b.latency.p99) },
      errors: a.errors + b.errors, timeouts: a.timeouts + b.timeouts, non2xx: a.non2xx + b.non2xx,
    };
  };
  if (warmup > 0) await load(warmup);
  const databaseDir = child.info.databaseDir ? String(child.info.databaseDir) : undefined;
  const wire0 = await wireCounters(child);
  const node0 = cpuMs(child.proc.pid!);
  const pg0 = clusterCpuMs(databaseDir);
  const steadyRss = sampleRss(child.proc.pid!);
  const r = await load(duration);
  const steadyRssMb = steadyRss();
  const calls = Math.max(1, r.requests.total);
  const nodeCpuMs = (cpuMs(child.proc.pid!) - node0) / calls;
  const pgCpuMs = (clusterCpuMs(databaseDir) - pg0) / calls;
  const wire1 = await wireCounters(child);
  const statements = wire0 && wire1 ? (wire1.statements - wire0.statements) / calls : undefined;
  const roundTrips = wire0 && wire1 ? (wire1.writes - wire0.writes) / calls : undefined;
  return {
    nodeCpuMs, pgCpuMs, statements, roundTrips,
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    peakRssMb: peakRssMb(child.proc.pid!),
    steadyRssMb,
    rssAfterMb: currentRssMb(child.proc.pid!),
  };
}

const legacyHeaders = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-11-25' };
const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1.0.0' },
};
type Revision = '2025-11-25' | '2026-07-28';
/** One tools/call request of the given revision: body and headers (2026-07-28: `_meta`, Mcp-Method, Mcp-Name). */
function call(revision: Revision, name: string, args: Record<string, unknown>): { body: string; headers: Record<string, string> } {
  if (revision === '2025-11-25') return { body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }), headers: legacyHeaders };
  return {
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args, _meta: META } }),
    headers: { ...legacyHeaders, 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': name },
  };
}
const REVISIONS: Revision[] = ['2025-11-25', '2026-07-28'];

process.stderr.write('preparing the database (embedded PostgreSQL, demo seed + volume data)…\n');
// BENCH_PREPARE=0 reuses the database of an earlier run in BENCH_DATA_DIR.
if (process.env.BENCH_PREPARE !== '0') await stop(await start('bench/commerce-server.ts', 'prepare'));
let scaleFill: string | undefined;
if (scale) scaleFill = await prepareScale();

/** Builds the large database in a process of its own, unless the one there has the same orders and migrations. */
async function prepareScale(): Promise<string> {
  const marker = `${scaleEnv.BENCH_DATA_DIR}/prepared.json`;
  const migrations = readdirSync('migrations').filter((f) => f.endsWith('.sql')).sort();
  try {
    const m = JSON.parse(readFileSync(marker, 'utf8')) as { orders: number; migrations: string[]; fillSeconds: number; fillCpuSeconds?: number };
    if (m.orders === scaleOrders && JSON.stringify(m.migrations) === JSON.stringify(migrations)) {
      process.stderr.write(`reusing the ${scaleOrders}-order database in ${scaleEnv.BENCH_DATA_DIR} (built in ${m.fillSeconds} s)\n`);
      return `reused; its fill took ${m.fillSeconds} s${m.fillCpuSeconds ? `, ${m.fillCpuSeconds} s of PostgreSQL CPU` : ''}`;
    }
  } catch { /* none yet */ }
  process.stderr.write(`preparing the ${scaleOrders}-order database in ${scaleEnv.BENCH_DATA_DIR} (minutes)…\n`);
  const t0 = performance.now();
  await stop(await startWith(scaleEnv, 'bench/commerce-server.ts', 'prepare'));
  const m = JSON.parse(readFileSync(marker, 'utf8')) as { fillSeconds: number; fillCpuSeconds: number };
  return `built in ${((performance.now() - t0) / 1000).toFixed(0)} s (fill ${m.fillSeconds} s, ${m.fillCpuSeconds} s of PostgreSQL CPU; then vacuum analyze)`;
}

/** Latency without queueing: one connection, one call at a time (mean has sub-millisecond resolution, p50 does not). */
async function serialLatency(t: Target): Promise<{ mean: number; p50: number }> {
  const r = await autocannon({ url: t.url, method: 'POST', headers: t.headers, body: t.body, connections: 1, duration: Math.min(duration, 10), pipelining: 1 });
  return { mean: r.latency.average, p50: r.latency.p50 };
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of get_order's order query, as the application role under the
 * customer's RLS context: the statement text and parameters are the tool's own (loadOrderDetail),
 * captured through the driver's debug hook, then explained in the same kind of transaction.
 */
async function explainOrderDetail(info: Child['info']): Promise<string[]> {
  const sql = openAppPool(String(info.appUrl), 2);
  let captured: { text: string; params: unknown[] } | undefined;
  (sql.options as { debug?: unknown }).debug = (_c: number, text: string, params: unknown[]) => {
    if (text.includes('from orders o')) captured = { text, params };
  };
  const actor = { kind: 'customer' as const, tenantId: String(info.tenantId), customerId: String(info.customerId) };
  try {
    await withContext(sql, actor, (tx) => loadOrderDetail(tx, actor.tenantId, actor.customerId, String(info.orderNumber)));
    if (!captured) return ['(order query not captured)'];
    const q = captured;
    (sql.options as { debug?: unknown }).debug = undefined;
    // 21 runs on a warm connection: the last plan is shown, planning and execution times as medians
    // (one EXPLAIN on a busy machine is noise).
    let plan: string[] = [];
    const planning: number[] = [];
    const execution: number[] = [];
    for (let i = 0; i < 21; i++) {
      const rows = await withContext(sql, actor, (tx) => (tx as unknown as Sql).unsafe(`explain (analyze, buffers) ${q.text}`, q.params as never[]));
      plan = rows.map((r) => String((r as Record<string, unknown>)['QUERY PLAN']));
      for (const l of plan) {
        const m = /(Planning|Execution) Time: ([\d.]+) ms/.exec(l);
        if (m) (m[1] === 'Planning' ? planning : execution).push(Number(m[2]));
      }
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    // BENCH_EXPLAIN=full prints it whole; by default without the (long) RLS filter expressions.
    const shown = process.env.BENCH_EXPLAIN === 'full' ? plan : plan.filter((l) => !/^\s*(Filter|One-Time Filter|Join Filter|Index Searches|Sort Method|Rows Removed)/.test(l));
    return [`order ${String(info.orderNumber)}; median of 21: planning ${median(planning).toFixed(3)} ms, execution ${median(execution).toFixed(3)} ms`, ...shown];
  } finally {
    await sql.end();
  }
}

process.stderr.write(`starting commerce-mcp (${MODE})…\n`);
const commerce = await start('bench/commerce-server.ts');
const ours = {} as Record<Revision, Figures>;
let twoTenants: Figures | undefined;
let plan10k: string[] | undefined;
let serial10k: { mean: number; p50: number } | undefined;
try {
  for (const revision of REVISIONS) {
    const c = call(revision, 'get_order', { order_number: commerce.info.orderNumber });
    ours[revision] = await measure(`commerce-mcp ${revision}`, commerce, String(commerce.info.url), { ...c.headers, Authorization: `Bearer ${commerce.info.token}` }, c.body);
  }
  // The same load (2026-07-28), split over two tenants: what one tenant's hot rows cost.
  const a = call('2026-07-28', 'get_order', { order_number: commerce.info.orderNumber });
  const b = call('2026-07-28', 'get_order', { order_number: commerce.info.orderNumber2 });
  twoTenants = await measure('commerce-mcp 2026-07-28, two tenants', commerce, String(commerce.info.url), { ...a.headers, Authorization: `Bearer ${commerce.info.token}` }, a.body,
    { url: String(commerce.info.url2), headers: { ...b.headers, Authorization: `Bearer ${commerce.info.token2}` }, body: b.body });
  if (scale) {
    const c = call('2026-07-28', 'get_order', { order_number: commerce.info.orderNumber });
    serial10k = await serialLatency({ url: String(commerce.info.url), headers: { ...c.headers, Authorization: `Bearer ${commerce.info.token}` }, body: c.body });
    plan10k = await explainOrderDetail(commerce.info);
  }
} finally {
  await stop(commerce);
}

// The same call on the large database, right after the small one (the data-volume target).
let atScale: { figures: Figures; orders: number; plan: string[]; serial: { mean: number; p50: number }; smallAgain: Figures; serialAgain: { mean: number; p50: number } } | undefined;
if (scale) {
  process.stderr.write(`starting commerce-mcp on the ${scaleOrders}-order database…\n`);
  const big = await startWith(scaleEnv, 'bench/commerce-server.ts');
  try {
    const c = call('2026-07-28', 'get_order', { order_number: big.info.orderNumber });
    // A fresh process: warmed as long as the small database's process had run before its 2026-07-28
    // phase (JIT, caches), so the two compare like for like.
    const figures = await measure(`commerce-mcp 2026-07-28, ${big.info.orders} orders`, big, String(big.info.url), { ...c.headers, Authorization: `Bearer ${big.info.token}` }, c.body,
      undefined, 2 * warmup + duration);
    const serial = await serialLatency({ url: String(big.info.url), headers: { ...c.headers, Authorization: `Bearer ${big.info.token}` }, body: c.body });
    const plan = await explainOrderDetail(big.info);
    await stop(big);
    // And the small database once more, in a fresh process warmed the same way (A/B/A: on a shared
    // machine the load moves between phases; the target is judged against this like-for-like one).
    process.stderr.write('starting commerce-mcp on the small database again (A/B/A)…\n');
    const again = await start('bench/commerce-server.ts');
    try {
      const a = call('2026-07-28', 'get_order', { order_number: again.info.orderNumber });
      const target = { url: String(again.info.url), headers: { ...a.headers, Authorization: `Bearer ${again.info.token}` }, body: a.body };
      const smallAgain = await measure(`commerce-mcp 2026-07-28, ${again.info.orders} orders, fresh process`, again, target.url, target.headers, target.body, undefined, 2 * warmup + duration);
      atScale = { figures, orders: Number(big.info.orders), serial, plan, smallAgain, serialAgain: await serialLatency(target) };
    } finally {
      await stop(again);
    }
  } finally {
    await stop(big);
  }
}

const bareV2 = {} as Record<Revision, Figures>;
for (const revision of REVISIONS) {
  // A fresh process per revision: each figure's peak RSS is its own.
  const bare = await start('bench/bare-v2-server.ts');
  try {
    const c = call(revision, 'get_order_status', { order_number: 'ORD-1001' });
    bareV2[revision] = await measure(`bare SDK v2 ${revision}`, bare, String(bare.info.url), c.headers, c.body);
  } finally {
    await stop(bare);
  }
}

// The v1 SDK (devDependency, comparison only): 2025-11-25 is the newest revision it speaks.
let bareV1: Figures | undefined;
if (process.env.BENCH_V1 !== '0') {
  const bare = await start('bench/bare-v1-server.ts');
  try {
    const c = call('2025-11-25', 'get_order_status', { order_number: 'ORD-1001' });
    bareV1 = await measure('bare SDK v1 2025-11-25', bare, String(bare.info.url), c.headers, c.body);
  } finally {
    await stop(bare);
  }
}

/**
 * What the audit entry costs on the hot path, measured in isolation: the same RLS transaction
 * (context, one indexed read) with and without the hash-chained audit insert, 32 in flight.
 */
async function auditCost(info: Child['info'], seconds: number): Promise<{ without: number; with: number }> {
  const sql = openAppPool(String(info.appUrl), 20);
  const actor = { kind: 'customer' as const, tenantId: String(info.tenantId), customerId: String(info.customerId) };
  const rate = async (audited: boolean) => {
    let done = 0;
    const until = performance.now() + seconds * 1000;
    await Promise.all(Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        await withContext(sql, actor, async (tx) => {
          await tx`select o.number, o.status from orders o where o.number = ${String(info.orderNumber)}`;
          if (audited) {
            await recordAudit(tx, { tenantId: actor.tenantId, event: 'tool.call', outcome: 'ok', actorKind: 'customer',
              actorId: actor.customerId, tool: 'get_order', arguments: { order_number: info.orderNumber } });
          }
        });
        done++;
      }
    }));
    return Math.round(done / seconds);
  };
  try {
    await rate(false); // warm-up
    return { without: await rate(false), with: await rate(true) };
  } finally {
    await sql.end();
  }
}

let noLimits: Figures | undefined;
let audit: { without: number; with: number } | undefined;
if (process.env.BENCH_COSTS !== '0') {
  const unlimited = await startWith({ BENCH_RATE_LIMIT_STORE: 'off' }, 'bench/commerce-server.ts');
  try {
    const c = call('2026-07-28', 'get_order', { order_number: unlimited.info.orderNumber });
    noLimits = await measure('commerce-mcp 2026-07-28 without rate limits', unlimited, String(unlimited.info.url), { ...c.headers, Authorization: `Bearer ${unlimited.info.token}` }, c.body);
    process.stderr.write('audit cost: RLS transactions with and without the audit insert…\n');
    audit = await auditCost(unlimited.info, Math.min(duration, 10));
  } finally {
    await stop(unlimited);
  }
}

const row = (name: string, f: Figures) =>
  `${name.padEnd(50)} ${String(f.rps).padStart(7)} ${String(f.p50).padStart(7)} ${String(f.p99).padStart(7)} ${String(f.steadyRssMb).padStart(8)} ${String(f.peakRssMb).padStart(9)} ${f.nodeCpuMs.toFixed(2).padStart(9)} ${f.pgCpuMs.toFixed(2).padStart(9)} ${(f.statements?.toFixed(1) ?? '-').padStart(6)} ${(f.roundTrips?.toFixed(1) ?? '-').padStart(6)} ${String(f.errors + f.non2xx).padStart(7)}`;
console.log(`\nautocannon, ${connections} connections, ${duration}s (after ${warmup}s warm-up); ${commerce.info.orders} orders in the database; servers ${MODE}`);
console.log(`RSS in MB: steady = median of VmRSS sampled every 250 ms over the measured run, peak = VmHWM`);
console.log(`${'server'.padEnd(50)} ${'req/s'.padStart(7)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'RSS med'.padStart(8)} ${'peak RSS'.padStart(9)} ${'node ms'.padStart(9)} ${'pg ms'.padStart(9)} ${'stmts'.padStart(6)} ${'trips'.padStart(6)} ${'errors'.padStart(7)}`);
for (const r of REVISIONS) console.log(row(`commerce-mcp get_order, ${r} (whole stack)`, ours[r]));
if (atScale) {
  console.log(row(`commerce-mcp get_order, 2026-07-28, ${atScale.orders} orders`, atScale.figures));
  console.log(row(`commerce-mcp get_order, 2026-07-28, ${commerce.info.orders}, again`, atScale.smallAgain));
}
if (twoTenants) console.log(row('commerce-mcp get_order, 2026-07-28, two tenants', twoTenants));
for (const r of REVISIONS) console.log(row(`bare SDK v2 createMcpHandler, ${r}`, bareV2[r]));
if (bareV1) console.log(row('bare SDK v1 stateless, 2025-11-25 (comparison)', bareV1));
if (noLimits) console.log(row('commerce-mcp 2026-07-28 without rate limits (cost)', noLimits));
console.log('');
for (const r of REVISIONS) {
  const ratio = ours[r].rps / bareV2[r].rps;
  console.log(`ratio ${r} (commerce-mcp / bare SDK v2): ${ratio.toFixed(2)}   target ≥ 1.00 ${ratio >= 1 ? 'met' : 'NOT met'}`);
}
if (bareV1) console.log(`bare SDK v2 / v1 on 2025-11-25: ${(bareV2['2025-11-25'].rps / bareV1.rps).toFixed(2)}; commerce-mcp 2025-11-25 / bare v1: ${(ours['2025-11-25'].rps / bareV1.rps).toFixed(2)}`);
for (const r of REVISIONS) {
  console.log(`commerce-mcp ${r} p99: ${ours[r].p99} ms   target ≤ 50 ms ${ours[r].p99 <= 50 ? 'met' : 'NOT met'}`);
  console.log(`commerce-mcp ${r} steady RSS: ${ours[r].steadyRssMb} MB, peak ${ours[r].peakRssMb} MB (node process, ${compiled ? 'compiled' : 'tsx'}; PostgreSQL runs in its own processes)   target steady ≤ 200 MB ${ours[r].steadyRssMb <= 200 ? 'met' : 'NOT met'}`);
}
for (const r of REVISIONS) {
  const o = ours[r];
  if (o.roundTrips !== undefined) console.log(`commerce-mcp ${r}: ${o.statements!.toFixed(1)} statements in ${o.roundTrips.toFixed(1)} round trips (socket writes to PostgreSQL) per call   target ≤ 2 round trips ${o.roundTrips <= 2 ? 'met' : 'NOT met'}`);
}
if (twoTenants) {
  const ratio = ours['2026-07-28'].rps / twoTenants.rps;
  console.log(`one tenant / the same load over two tenants (2026-07-28): ${ours['2026-07-28'].rps} / ${twoTenants.rps} = ${ratio.toFixed(2)}   target ≥ 0.90 ${ratio >= 0.9 ? 'met' : 'NOT met'}`);
}
if (noLimits) {
  const o = ours['2026-07-28'];
  console.log(`\ncost of the shared rate limits: ${o.rps} vs ${noLimits.rps} req/s without them (${Math.round((1 - o.rps / noLimits.rps) * 100)} % of throughput)`);
}
if (audit) {
  console.log(`cost of the audit entry: RLS transaction (context + indexed read) ${audit.without} tx/s without, ${audit.with} tx/s with the audit insert (${Math.round((1 - audit.with / audit.without) * 100)} % fewer; the sealer links them after commit)`);
  console.log(`audited writes of one tenant (micro-benchmark, ${connections} in flight): ${audit.with}/s   target ≥ 1500/s ${audit.with >= 1500 ? 'met' : 'NOT met'}`);
}
for (const r of REVISIONS) {
  const o = ours[r];
  const b = bareV2[r];
  console.log(`commerce-mcp ${r} CPU per call: node ${o.nodeCpuMs.toFixed(2)} ms (bare v2 ${b.nodeCpuMs.toFixed(2)} ms; target ≤ bare ${o.nodeCpuMs <= b.nodeCpuMs ? 'met' : 'NOT met'}), PostgreSQL ${o.pgCpuMs.toFixed(2)} ms (target ≤ 1.00 ${o.pgCpuMs <= 1 ? 'met' : 'NOT met'})`);
}
function signedPercent(x: number): string {
  return `${x >= 0 ? '+' : ''}${Math.round(x * 100)} %`;
}
if (atScale) {
  const first = ours['2026-07-28'];
  const small = atScale.smallAgain; // fresh process, warmed like the large one's
  const big = atScale.figures;
  const growth = big.p50 / small.p50 - 1;
  console.log(`\ndata volume (2026-07-28 get_order, ${commerce.info.orders} → ${atScale.orders} orders; large database ${scaleFill}):`);
  console.log(`  order: small (main phase) → large → small again (fresh process, warmed ${2 * warmup + duration} s like the large one)`);
  console.log(`  p50 ${first.p50} → ${big.p50} → ${small.p50} ms: ${signedPercent(growth)} against the fresh small one (${signedPercent(big.p50 / first.p50 - 1)} against the main phase)   target ≤ +25 % ${growth <= 0.25 ? 'met' : 'NOT met'}`);
  console.log(`  p99 ${first.p99} → ${big.p99} → ${small.p99} ms; req/s ${first.rps} → ${big.rps} → ${small.rps}`);
  console.log(`  CPU per call: node ${first.nodeCpuMs.toFixed(2)} → ${big.nodeCpuMs.toFixed(2)} → ${small.nodeCpuMs.toFixed(2)} ms, PostgreSQL ${first.pgCpuMs.toFixed(2)} → ${big.pgCpuMs.toFixed(2)} → ${small.pgCpuMs.toFixed(2)} ms`);
  if (serial10k) console.log(`  one connection, one call at a time: mean ${serial10k.mean.toFixed(2)} → ${atScale.serial.mean.toFixed(2)} → ${atScale.serialAgain.mean.toFixed(2)} ms, p50 ${serial10k.p50} → ${atScale.serial.p50} → ${atScale.serialAgain.p50} ms`);
  console.log(`  EXPLAIN (ANALYZE, BUFFERS) of get_order's order query (application role, customer RLS context) at ${commerce.info.orders} orders:`);
  for (const l of plan10k ?? []) console.log(`    ${l}`);
  console.log(`  … and at ${atScale.orders} orders:`);
  for (const l of atScale.plan) console.log(`    ${l}`);
}
