// The shape of one attack: a row of docs/ATTACK-CATALOGUE.md (or a group of rows), run against a
// deployment through its public interfaces only. Each module under rows/ exports one or more.
import type { CleanupReport } from './cleanup.js';
import type { AttackContext } from './context.js';

export type Verdict = 'pass' | 'fail' | 'n/a';

/** One observation behind a verdict: what was tried, whether it held, and what came back. */
export interface Evidence {
  check: string;
  ok: boolean;
  detail: string;
}

export interface RowResult {
  observed: string;
  pass: boolean;
  evidence: Evidence[];
  /** Set when the row cannot run against this deployment; the reason is shown instead of a verdict. */
  notApplicable?: string;
}

export interface AttackRow {
  /** Catalogue id (O1, M7, R6 …). */
  id: string;
  title: string;
  expected: string;
  /** Runs alongside the sequential rows and is awaited at the end (slow-client tests). */
  concurrent?: boolean;
  /** Floods a per-IP or per-account budget: runs after every other row. */
  flood?: boolean;
  /** Reads what all the other rows left behind (the service log): runs last of all. */
  final?: boolean;
  run(ctx: AttackContext): Promise<RowResult>;
}

export interface ReportRow {
  id: string;
  title: string;
  expected: string;
  verdict: Verdict;
  observed: string;
  evidence: Evidence[];
  durationMs: number;
}

export interface Report {
  tool: 'commerce-mcp attack suite';
  startedAt: string;
  durationMs: number;
  target: string;
  internal: string | null;
  tenant: string;
  otherTenant: string;
  summary: { pass: number; fail: number; notApplicable: number };
  rows: ReportRow[];
  /** The run was interrupted (Ctrl-C): the rows not reached are missing. */
  interrupted: boolean;
  /** What the run created and removed again, or left (attack/cleanup.ts). */
  cleanup: CleanupReport;
}

/** Collects sub-checks and turns them into a row result: the row passes when every check held. */
export class Checks {
  readonly evidence: Evidence[] = [];
  readonly notes: string[] = [];

  expect(check: string, ok: boolean, detail: string): boolean {
    this.evidence.push({ check, ok, detail });
    return ok;
  }

  /** Something the row could not try here, stated in the observed column (never counted as a pass). */
  note(text: string): void {
    this.notes.push(text);
  }

  result(): RowResult {
    const failed = this.evidence.filter((e) => !e.ok);
    const head = failed.length
      ? `FAILED ${failed.length}/${this.evidence.length}: ${failed.map((e) => `${e.check} → ${e.detail}`).join('; ')}`
      : `${this.evidence.length} checks held`;
    return {
      pass: failed.length === 0 && this.evidence.length > 0,
      observed: [head, ...this.notes].join('; '),
      evidence: this.evidence,
    };
  }
}

export function notApplicable(reason: string): RowResult {
  return { pass: true, observed: `not applicable: ${reason}`, evidence: [], notApplicable: reason };
}

/** A precondition of the attack failed (the flow it needs is broken): the row fails with the reason. */
export class SetupError extends Error {}
