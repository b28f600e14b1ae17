// One upload: NDJSON lines in, a report out. Lines are read as they arrive and applied in chunks,
// one transaction per chunk in the tenant's RLS context as the service actor, so memory stays flat
// whatever the body size and a chunk is all there or not at all (with its own audit entry). The
// upload as a whole gets one more audit entry at the end: its counts and the SHA-256 of the body.
//
// The same function serves the HTTP endpoint (application role) and the admin command line (owner
// role): `sql` is whichever pool the caller has, the actor is always the tenant's service actor.
import { createHash } from 'node:crypto';
import { recordAudit } from '../audit/record.js';
import { withContext, type Actor, type Sql, type Tx } from '../db/context.js';
import { applyRecords, emptyCounts, type ChunkResult, type KindCounts, type Rejection } from './apply.js';
import type { Numbered } from './kinds.js';
import { BodyTooLarge, ndjsonLines, type FramingLimits } from './lines.js';
import { isKind, parseRecord, type AnyRecord, type Kind } from './records.js';

export type ServiceActor = Extract<Actor, { kind: 'service' }>;

export interface IngestLimits extends FramingLimits {
  /** Records per transaction. */
  chunkRecords: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = { maxBodyBytes: 200 * 1024 * 1024, maxLineBytes: 1024 * 1024, chunkRecords: 500 };

/** The report of an upload (docs/INGESTION.md). */
export interface IngestReport extends KindCounts {
  lines: number;
  bytes: number;
  sha256: string;
  byKind: Partial<Record<Kind, KindCounts>>;
  /** The first rejections, in line order (at most MAX_REPORTED). */
  rejections: Rejection[];
  rejectionsTruncated: boolean;
  /** Set when the upload stopped early: the body exceeded the limit (what came before is applied). */
  stopped?: 'body_too_large';
}

const MAX_REPORTED = 1000;

export interface UploadMeta {
  clientId: string;
  requestId?: string | null;
  tokenId?: string | null;
  via: 'http' | 'cli';
}

function add(into: KindCounts, c: KindCounts): void {
  into.accepted += c.accepted;
  into.updated += c.updated;
  into.unchanged += c.unchanged;
  into.rejected += c.rejected;
}

/** Parses one line into a record, or a rejection (with the kind, when the line names a known one). */
function parseLine(text: string): { ok: true; record: AnyRecord } | { ok: false; reason: string; kind?: Kind } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  const parsed = parseRecord(value);
  if (parsed.ok) return parsed;
  const kind = (value as { kind?: unknown } | null)?.kind;
  return { ...parsed, ...(isKind(kind) ? { kind } : {}) };
}

/** Applies a chunk in its own transaction with its audit entry. */
async function commitChunk(sql: Sql, actor: ServiceActor, items: Numbered<AnyRecord>[], firstLine: number, lastLine: number, meta: UploadMeta): Promise<ChunkResult> {
  return withContext(sql, actor, async (tx) => {
    const result = await applyRecords(tx, actor.tenantId, items);
    const counts = emptyCounts();
    for (const c of Object.values(result.byKind)) add(counts, c);
    await recordAudit(tx, {
      tenantId: actor.tenantId, event: 'ingest.chunk', outcome: counts.rejected ? 'partial' : 'ok', actorKind: 'service',
      clientId: meta.clientId, tokenId: meta.tokenId ?? null, requestId: meta.requestId ?? null,
      detail: { via: meta.via, lines: [firstLine, lastLine], ...counts },
    });
    return result;
  });
}

/** Streams `source` (NDJSON) into the tenant of `actor`; returns the report. */
export async function ingestNdjson(sql: Sql, actor: ServiceActor, source: AsyncIterable<Buffer | string>,
  limits: IngestLimits, meta: UploadMeta): Promise<IngestReport> {
  const hash = createHash('sha256');
  let bytes = 0;
  const digest = { update: (chunk: Buffer) => { bytes += chunk.length; hash.update(chunk); } };
  const report: IngestReport = {
    lines: 0, bytes: 0, sha256: '', ...emptyCounts(), byKind: {}, rejections: [], rejectionsTruncated: false,
  };
  const reject = (r: Rejection) => {
    report.rejected++;
    if (r.kind) (report.byKind[r.kind as Kind] ??= emptyCounts()).rejected++;
    if (report.rejections.length < MAX_REPORTED) report.rejections.push(r);
    else report.rejectionsTruncated = true;
  };
  let items: Numbered<AnyRecord>[] = [];
  let chunkStart = 1;
  const flush = async (upTo: number) => {
    if (items.length) {
      const result = await commitChunk(sql, actor, items, chunkStart, upTo, meta);
      // Rejections are counted by reject(), with their lines; the rest here.
      for (const [kind, c] of Object.entries(result.byKind)) {
        add((report.byKind[kind as Kind] ??= emptyCounts()), { ...c, rejected: 0 });
        report.accepted += c.accepted;
        report.updated += c.updated;
        report.unchanged += c.unchanged;
      }
      for (const r of result.rejections) reject(r);
    }
    items = [];
    chunkStart = upTo + 1;
  };
  try {
    for await (const line of ndjsonLines(source, limits, digest)) {
      report.lines = line.no;
      if ('tooLong' in line) reject({ line: line.no, reason: `line longer than ${limits.maxLineBytes} bytes` });
      else if (line.text.trim() !== '') {
        const parsed = parseLine(line.text);
        if (parsed.ok) items.push({ line: line.no, record: parsed.record });
        else reject({ line: line.no, ...(parsed.kind ? { kind: parsed.kind } : {}), reason: parsed.reason });
      }
      if (items.length >= limits.chunkRecords) await flush(line.no);
    }
    await flush(report.lines);
  } catch (error) {
    if (!(error instanceof BodyTooLarge)) throw error;
    // What came before the limit is applied; the partial chunk after the last commit is dropped.
    report.stopped = 'body_too_large';
    items = [];
  }
  report.rejections.sort((a, b) => a.line - b.line);
  report.sha256 = hash.digest('hex');
  report.bytes = bytes;
  await withContext(sql, actor, (tx) => auditUpload(tx, actor, report, meta));
  return report;
}

async function auditUpload(tx: Tx, actor: ServiceActor, report: IngestReport, meta: UploadMeta): Promise<void> {
  await recordAudit(tx, {
    tenantId: actor.tenantId, event: 'ingest.upload', outcome: report.stopped ? 'stopped' : report.rejected ? 'partial' : 'ok',
    actorKind: 'service', clientId: meta.clientId, tokenId: meta.tokenId ?? null, requestId: meta.requestId ?? null,
    detail: {
      via: meta.via, sha256: report.sha256, lines: report.lines, accepted: report.accepted, updated: report.updated,
      unchanged: report.unchanged, rejected: report.rejected, ...(report.stopped ? { stopped: report.stopped } : {}),
    },
  });
}
