// Applies one chunk of parsed records in the caller's transaction (which carries the tenant's RLS
// context). Kinds go in dependency order (records.ts KINDS); within a kind, the whole group is
// written under one savepoint, set-based; if the database refuses it, each record is written again
// under a savepoint of its own, so the one bad record is rejected with its reason and the others
// are kept. A record is never half-written: an order and its lines share one savepoint.
import type { Tx } from '../db/context.js';
import { HANDLERS, References, Unresolved, type GroupResult, type KindHandler, type Numbered } from './kinds.js';
import { KINDS, type AnyRecord, type Kind } from './records.js';

export interface Rejection {
  line: number;
  kind?: string;
  external_id?: string;
  reason: string;
}

export interface KindCounts {
  accepted: number; // inserted
  updated: number;
  unchanged: number;
  rejected: number;
}

export interface ChunkResult {
  byKind: Partial<Record<Kind, KindCounts>>;
  rejections: Rejection[];
}

export function emptyCounts(): KindCounts {
  return { accepted: 0, updated: 0, unchanged: 0, rejected: 0 };
}

interface PgError { code?: string; constraint_name?: string }

/** The reason a database refusal gives the uploader: which rule, never SQL or another row's data. */
function refusalReason(error: unknown): string | null {
  if (error instanceof Unresolved) return error.message;
  const e = error as PgError;
  const rule = e.constraint_name ? ` (${e.constraint_name})` : '';
  switch (e.code) {
    case '23505': return `conflicts with another record of the tenant${rule}`;
    case '23503': return `refers to something that does not exist or is still referred to${rule}`;
    case '23514': case '23502': return `a value is out of range${rule}`;
    case '22001': case '22003': case '22007': case '22008': case '22P02': case '22023': return 'a value is not valid';
    case '42501': return 'not permitted';
    default: return null; // not the record's fault (connection lost, ...): the chunk fails whole
  }
}

function describe(item: Numbered): Rejection {
  const ext = (item.record as { external_id?: string }).external_id;
  return { line: item.line, kind: item.record.kind, ...(ext ? { external_id: ext } : {}), reason: '' };
}

async function writeGroup<K extends Kind>(tx: Tx, tenantId: string, handler: KindHandler<K>, items: Numbered<never>[],
  refs: References, counts: KindCounts, rejections: Rejection[]): Promise<void> {
  // References first: a record naming something unknown in this tenant is refused before any write.
  const wanted = new Map<string, Set<string>>();
  for (const it of items) for (const [kind, ref] of handler.refs(it.record)) {
    if (!wanted.has(kind)) wanted.set(kind, new Set());
    wanted.get(kind)!.add(ref);
  }
  for (const [kind, set] of wanted) await refs.load(kind as Parameters<References['load']>[0], set);
  const ready: Numbered<never>[] = [];
  for (const it of items) {
    const missing = handler.refs(it.record).find(([kind, ref]) => !refs.get(kind, ref));
    if (missing) {
      counts.rejected++;
      rejections.push({ ...describe(it), reason: `${missing[0]}: unknown ${missing[0]} "${missing[1]}"` });
    } else ready.push(it);
  }
  if (!ready.length) return;

  const tally = (res: GroupResult, n: number) => {
    counts.accepted += res.inserted.length;
    counts.updated += res.updated.length;
    counts.unchanged += n - res.inserted.length - res.updated.length;
  };
  // Two records with one key in a group are applied one by one, in file order.
  const keys = new Set(ready.map((it) => handler.key(it.record)));
  let written = false;
  if (keys.size === ready.length) {
    try {
      const res = await tx.savepoint((sp) => handler.write(sp, tenantId, ready, refs));
      tally(res, ready.length);
      written = true;
    } catch (error) {
      if (refusalReason(error) === null) throw error;
    }
  }
  if (!written) {
    for (const it of ready) {
      try {
        tally(await tx.savepoint((sp) => handler.write(sp, tenantId, [it], refs)), 1);
      } catch (error) {
        const reason = refusalReason(error);
        if (reason === null) throw error;
        counts.rejected++;
        rejections.push({ ...describe(it), reason });
      }
    }
  }
  if (handler.provides) refs.forget(handler.provides);
}

/** Applies parsed records (line numbers kept) for `tenantId` in `tx`; returns counts and rejections. */
export async function applyRecords(tx: Tx, tenantId: string, items: Numbered<AnyRecord>[]): Promise<ChunkResult> {
  const result: ChunkResult = { byKind: {}, rejections: [] };
  const groups = new Map<Kind, Numbered<AnyRecord>[]>();
  for (const it of items) {
    if (!groups.has(it.record.kind)) groups.set(it.record.kind, []);
    groups.get(it.record.kind)!.push(it);
  }
  const refs = new References(tx, tenantId);
  for (const kind of KINDS) {
    const group = groups.get(kind);
    if (!group) continue;
    const counts = (result.byKind[kind] ??= emptyCounts());
    await writeGroup(tx, tenantId, HANDLERS[kind] as KindHandler<Kind>, group as Numbered<never>[], refs, counts, result.rejections);
  }
  result.rejections.sort((a, b) => a.line - b.line);
  return result;
}
