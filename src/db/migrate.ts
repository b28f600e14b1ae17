// Applies migrations/*.sql in name order, each in its own transaction, as the owner role. Applied
// files are recorded with a checksum; an edited, already-applied file stops start-up.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));
const LOCK_KEY = 727_001; // pg_advisory_lock key: one migrator at a time across instances

export interface MigrationResult {
  applied: string[];
  skipped: string[];
}

export async function migrate(ownerUrl: string, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const files = (await readdir(dir)).filter((f) => /^\d{3,}_[\w-]+\.sql$/.test(f)).sort();
  const sql = postgres(ownerUrl, { max: 1, onnotice: () => {} });
  const result: MigrationResult = { applied: [], skipped: [] };
  try {
    await sql`select pg_advisory_lock(${LOCK_KEY})`;
    await sql`create table if not exists schema_migrations (
      version text primary key, checksum text not null, applied_at timestamptz not null default now())`;
    const done = new Map((await sql<{ version: string; checksum: string }[]>`select version, checksum from schema_migrations`).map((r) => [r.version, r.checksum]));
    for (const file of files) {
      const text = await readFile(`${dir}/${file}`, 'utf8');
      const checksum = createHash('sha256').update(text).digest('hex');
      const previous = done.get(file);
      if (previous) {
        if (previous !== checksum) throw new Error(`migration ${file} was edited after it was applied`);
        result.skipped.push(file);
        continue;
      }
      await sql.begin(async (tx) => {
        await tx.unsafe(text);
        await tx`insert into schema_migrations (version, checksum) values (${file}, ${checksum})`;
      });
      result.applied.push(file);
    }
  } finally {
    await sql`select pg_advisory_unlock(${LOCK_KEY})`.catch(() => {});
    await sql.end();
  }
  return result;
}
