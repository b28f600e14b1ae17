// The printed table: id | attack | expected | observed | verdict, wrapped to a terminal width.
import type { CleanupEntry } from './cleanup.js';
import type { Report } from './types.js';

/** Entries of one kind together; a kind with many entries (clients, sign-ins) shows a few and a count. */
function grouped(entries: CleanupEntry[], perKind: number): string[] {
  const kinds = [...new Set(entries.map((e) => e.kind))];
  return kinds.flatMap((kind) => {
    const of = entries.filter((e) => e.kind === kind);
    const shown = of.length > perKind + 1 ? of.slice(0, perKind) : of;
    const lines = shown.map((e) => `${e.item}: ${e.detail}`);
    if (shown.length < of.length) lines.push(`… and ${of.length - shown.length} more of kind "${kind}" (all in --json)`);
    return lines;
  });
}

function clip(s: string, width: number): string {
  return s.length <= width ? s.padEnd(width) : `${s.slice(0, width - 1)}…`;
}

export function formatTable(report: Report, { width = 200 }: { width?: number } = {}): string {
  const cols = { id: 4, verdict: 4 };
  const rest = Math.max(60, width - cols.id - cols.verdict - 12);
  const attack = Math.floor(rest * 0.25);
  const expected = Math.floor(rest * 0.3);
  const observed = rest - attack - expected;
  const line = (a: string, b: string, c: string, d: string, e: string) =>
    `${clip(a, cols.id)} | ${clip(b, attack)} | ${clip(c, expected)} | ${clip(d, observed)} | ${e}`;
  const out = [line('id', 'attack', 'expected', 'observed', 'pass/fail'), '-'.repeat(Math.min(width, cols.id + attack + expected + observed + 22))];
  for (const r of report.rows) out.push(line(r.id, r.title, r.expected, r.observed, r.verdict === 'n/a' ? 'n/a' : r.verdict.toUpperCase()));
  const s = report.summary;
  out.push('', `${s.pass} passed, ${s.fail} failed, ${s.notApplicable} not applicable — ${report.target} in ${(report.durationMs / 1000).toFixed(1)} s${report.interrupted ? ' (interrupted: rows not finished are left out)' : ''}`);
  const c = report.cleanup;
  out.push('', `Clean-up — ${c.access}: ${c.removed.length} removed or put back, ${c.left.length} left`);
  for (const line of grouped(c.removed, 4)) out.push(`  removed: ${line}`);
  for (const line of c.kept) out.push(`  kept:    ${line}`);
  if (c.left.length) {
    out.push('', 'Left behind on the deployment:');
    for (const line of c.left.map((e) => `${e.item}: ${e.detail}`)) out.push(`  - ${line}`);
    if (c.howToClean) out.push('', `To clean up: ${c.howToClean}.`);
  }
  return out.join('\n');
}
