// Runs the rows against one deployment and collects the report. Sequential rows first, the rows
// that flood a per-IP or per-account budget after them, slow-client rows alongside, and the rows
// that read what the others left behind (L1: the service log) last of all; each row bounded. At the
// end, also after a crash or an interruption (Ctrl-C), what the run created is removed
// (attack/cleanup.ts) and the report says what was removed and what was left.
import { Cleaner, leftBehind, type CleanupReport } from './cleanup.js';
import { AttackContext, type AttackOptions } from './context.js';
import { DatabaseProbe } from './database.js';
import { Http, isLoopbackUrl } from './http.js';
import { describeCreated } from './ledger.js';
import { SetupError, type AttackRow, type Report, type ReportRow, type RowResult } from './types.js';
import { ALL_ROWS } from './rows/index.js';

const ROW_TIME_LIMIT_MS = 60_000;
/** After an interruption, how long the clean-up waits for rows in flight. */
const GRACE_MS = 15_000;

/** The row's result; undefined when the run was interrupted before the row finished (it is left out of the report). */
function withinLimit(row: AttackRow, ctx: AttackContext, inFlight: Set<Promise<unknown>>): Promise<RowResult | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const signal = ctx.options.signal;
  const limit = new Promise<RowResult | undefined>((resolve) => {
    timer = setTimeout(() => resolve({ pass: false, observed: `row did not finish within ${ROW_TIME_LIMIT_MS / 1000} s`, evidence: [] }), ROW_TIME_LIMIT_MS);
    if (signal?.aborted) resolve(undefined);
    signal?.addEventListener('abort', () => resolve(undefined), { once: true });
  });
  const run: Promise<RowResult | undefined> = row.run(ctx).catch((error: unknown): RowResult => ({
    pass: false,
    observed: `${error instanceof SetupError ? 'setup failed' : 'error'}: ${(error as Error)?.message ?? String(error)}`,
    evidence: [],
  }));
  inFlight.add(run);
  void run.finally(() => inFlight.delete(run));
  return Promise.race([run, limit]).finally(() => clearTimeout(timer));
}

function toReportRow(row: AttackRow, r: RowResult, durationMs: number): ReportRow {
  return {
    id: row.id, title: row.title, expected: row.expected,
    verdict: r.notApplicable !== undefined ? 'n/a' : r.pass ? 'pass' : 'fail',
    observed: r.observed, evidence: r.evidence, durationMs: Math.round(durationMs),
  };
}

/** Whether requests to the target can be made from `address`. */
async function canBind(ctx: AttackContext, address: string): Promise<boolean> {
  const probe = new Http({ timeoutMs: ctx.options.timeoutMs, sourceAddress: address });
  try {
    await (await probe.fetch(`${ctx.options.target}/healthz`)).arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

export async function runSuite(options: AttackOptions, rows: readonly AttackRow[] = ALL_ROWS): Promise<Report> {
  const started = performance.now();
  const ctx = new AttackContext(options);
  const selected = rows.filter((r) => !options.only.length || options.only.includes(r.id));
  let databaseError: string | undefined;
  if (options.databaseUrl) {
    try {
      ctx.database = await DatabaseProbe.open(options.databaseUrl, options.appDatabaseUrl, options.appRole);
    } catch (error) {
      databaseError = (error as Error).message;
    }
  }
  if (databaseError) ctx.shared.set('databaseError', databaseError);
  // Owner access for the clean-up: a baseline (clock, carts, stock reservations) before any row.
  let cleaner: Cleaner | undefined;
  let noCleanup = 'no owner access to the database (neither --database-url nor --data-dir)';
  if (options.cleanupDatabase) {
    try {
      cleaner = await Cleaner.open(options.cleanupDatabase.url, options.cleanupDatabase.source);
      const customers = (['customer', 'otherCustomer', 'otherTenantCustomer'] as const)
        .flatMap((who) => options.credentials[who] ? [{ tenant: ctx.tenantOf(who), login: options.credentials[who]!.login }] : []);
      await cleaner.baseline([options.tenant, options.otherTenant], customers);
    } catch (error) {
      await cleaner?.close().catch(() => {});
      cleaner = undefined;
      noCleanup = `no owner access to the database (${options.cleanupDatabase.source}): ${(error as Error).message}`;
    }
  }
  // Requests without a source address of their own (concurrent rows, or no rotation) come from the default one.
  if (isLoopbackUrl(options.target)) for (const a of ['127.0.0.1', '::1']) ctx.addresses.add(a);
  // Each row its own loopback source address (127.<run>.<row>.1), different on every run, when this
  // machine lets the suite bind one (Linux routes all of 127/8 to loopback).
  const sourcePrefix = `127.${(parseInt(ctx.runId.slice(0, 2), 16) % 254) + 1}`;
  const rotate = options.rotateSourceAddress && await canBind(ctx, `${sourcePrefix}.250.1`);
  if (options.rotateSourceAddress && !rotate) options.log('note: cannot bind a loopback source address of its own here; every row shares one address');
  const results = new Map<AttackRow, ReportRow>();
  /** Rows still running (after an interruption, the clean-up gives them a moment to finish what they create). */
  const inFlight = new Set<Promise<unknown>>();
  const runOne = async (row: AttackRow, index: number) => {
    if (options.signal?.aborted) return;
    if (rotate && !row.concurrent) {
      ctx.http.config.sourceAddress = `${sourcePrefix}.${index + 1}.1`;
      ctx.addresses.add(ctx.http.config.sourceAddress);
    }
    const t0 = performance.now();
    const r = await withinLimit(row, ctx, inFlight);
    if (!r) return options.log(`---- ${row.id.padEnd(4)} ${row.title} (interrupted: not reported)`);
    const reportRow = toReportRow(row, r, performance.now() - t0);
    results.set(row, reportRow);
    options.log(`${reportRow.verdict.toUpperCase().padEnd(4)} ${row.id.padEnd(4)} ${row.title} (${reportRow.durationMs} ms)`);
  };
  let cleanup: CleanupReport | undefined;
  try {
    const background = selected.filter((r) => r.concurrent).map((r) => runOne(r, selected.indexOf(r)));
    for (const row of selected.filter((r) => !r.concurrent && !r.flood && !r.final)) {
      await ctx.renewTokens().catch(() => {});
      await runOne(row, selected.indexOf(row));
    }
    for (const row of selected.filter((r) => !r.concurrent && r.flood && !r.final)) {
      await ctx.renewTokens().catch(() => {});
      await runOne(row, selected.indexOf(row));
    }
    await Promise.all(background);
    for (const row of selected.filter((r) => !r.concurrent && r.final)) await runOne(row, selected.indexOf(row));
  } finally {
    await ctx.database?.close();
    if (inFlight.size) {
      options.log(`waiting up to ${GRACE_MS / 1000} s for ${inFlight.size} interrupted row(s) to finish their requests`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => { timer = setTimeout(resolve, GRACE_MS); })]);
      clearTimeout(timer);
    }
    if (cleaner) {
      options.log(`clean-up: ${ctx.created.size} record(s) of this run`);
      const seen = new Set(ctx.created.all());
      cleanup = await cleaner.clean(ctx.created, [...ctx.addresses], ctx.runId)
        .catch((error: unknown) => leftBehind(ctx.created, `clean-up failed: ${(error as Error).message}`));
      await cleaner.close().catch(() => {});
      // A row still running when the clean-up began may record more: those are left, and said so.
      for (const r of ctx.created.all().filter((x) => !seen.has(x))) {
        cleanup.left.push({ kind: r.kind, item: describeCreated(r), detail: 'recorded by a row still running when the clean-up began: stays' });
      }
    } else cleanup = leftBehind(ctx.created, noCleanup);
  }
  const ordered = selected.filter((r) => results.has(r)).map((r) => results.get(r)!);
  return {
    tool: 'commerce-mcp attack suite',
    startedAt: ctx.startedAt.toISOString(),
    durationMs: Math.round(performance.now() - started),
    target: options.target,
    internal: options.internal ?? null,
    tenant: options.tenant,
    otherTenant: options.otherTenant,
    summary: {
      pass: ordered.filter((r) => r.verdict === 'pass').length,
      fail: ordered.filter((r) => r.verdict === 'fail').length,
      notApplicable: ordered.filter((r) => r.verdict === 'n/a').length,
    },
    rows: ordered,
    interrupted: Boolean(options.signal?.aborted),
    cleanup,
  };
}
