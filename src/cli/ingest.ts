// npm run admin -- import <tenant> <file.ndjson> | export <tenant> [<kind>...]: the ingestion code
// path (src/ingest) from the command line. The command runs as the owner role, but every record
// goes through the same validation, upserts and audit as an upload on the internal listener, in
// the tenant's service context ('service' actor, client "admin-cli").
import { createReadStream } from 'node:fs';
import { CommandFailed, UsageError, type Subcommand } from './owner.js';
import { exportNdjson } from '../ingest/export.js';
import { isKind, KINDS, type Kind } from '../ingest/records.js';
import { DEFAULT_INGEST_LIMITS, ingestNdjson, type IngestReport, type ServiceActor } from '../ingest/upload.js';
import type postgres from 'postgres';

const CLI_CLIENT = 'admin-cli';

async function serviceActor(sql: postgres.Sql, slug: string | undefined): Promise<ServiceActor> {
  if (!slug) throw new UsageError('tenant slug required');
  const [t] = await sql<{ id: string }[]>`select id from tenants where slug = ${slug}`;
  if (!t) throw new CommandFailed(`no tenant ${slug}`);
  return { kind: 'service', tenantId: t.id, clientId: CLI_CLIENT };
}

/** The report as lines for a person: counts, then one line per rejected record. */
export function reportLines(r: IngestReport): string[] {
  const lines = [
    `lines\t${r.lines}`, `accepted\t${r.accepted}`, `updated\t${r.updated}`, `unchanged\t${r.unchanged}`, `rejected\t${r.rejected}`,
    `sha256\t${r.sha256}`,
  ];
  if (r.stopped) lines.push(`stopped\t${r.stopped}`);
  for (const x of r.rejections) lines.push(`line ${x.line}${x.kind ? ` (${x.kind}${x.external_id ? ` ${x.external_id}` : ''})` : ''}: ${x.reason}`);
  if (r.rejectionsTruncated) lines.push(`… more rejections not listed`);
  return lines;
}

export const INGEST_SUBCOMMANDS: Subcommand[] = [
  {
    name: 'import', args: '<tenant> <file.ndjson>', json: true,
    summary: "loads an NDJSON file into a tenant (upserts by external id); exit status 1 if any record was rejected",
    details: `kinds: ${KINDS.join(', ')} (docs/INGESTION.md). "-" reads standard input. Sending the same file twice changes nothing.`,
    async run(sql, { args: [slug, file], json, out }) {
      const actor = await serviceActor(sql, slug);
      const source = file === '-' ? process.stdin : createReadStream(file!);
      const opened = new Promise<void>((resolve, reject) => {
        if (file === '-') return resolve();
        source.once('open', () => resolve()).once('error', reject);
      });
      await opened.catch((e: NodeJS.ErrnoException) => { throw new CommandFailed(`cannot read ${file}: ${e.code ?? e.message}`); });
      const report = await ingestNdjson(sql, actor, source, { ...DEFAULT_INGEST_LIMITS, maxBodyBytes: Number.MAX_SAFE_INTEGER }, { clientId: CLI_CLIENT, via: 'cli' });
      if (json) out(JSON.stringify(report, null, 2));
      else for (const line of reportLines(report)) out(line);
      return report.rejected ? 1 : 0;
    },
  },
  {
    name: 'export', args: '<tenant> [<kind>...]',
    summary: "a tenant's data as NDJSON on standard output (all kinds, or those named); importing it again changes nothing",
    details: `kinds: ${KINDS.join(', ')}`,
    async run(sql, { args: [slug, ...kinds], out }) {
      const unknown = kinds.filter((k) => !isKind(k));
      if (unknown.length) throw new UsageError(`unknown kind ${unknown.join(', ')} (kinds: ${KINDS.join(', ')})`);
      const actor = await serviceActor(sql, slug);
      await exportNdjson(sql, actor, kinds as Kind[], out);
    },
  },
];
