// Migrations apply in order on an empty database, are recorded, and are idempotent.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, readdir, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { migrate, MIGRATIONS_DIR } from '../../src/db/migrate.js';
import { createEmptyDatabase } from '../support/database.js';

test('migrations apply on an empty database, then are idempotent', async () => {
  const db = await createEmptyDatabase();
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
  const first = await migrate(db.ownerUrl);
  assert.deepEqual(first.applied, files);
  const second = await migrate(db.ownerUrl);
  assert.deepEqual(second.applied, []);
  assert.deepEqual(second.skipped, files);
  const recorded = await db.owner<{ version: string }[]>`select version from schema_migrations order by version`;
  assert.deepEqual(recorded.map((r) => r.version), files);
});

test('an applied migration edited afterwards stops the migrator', async () => {
  const db = await createEmptyDatabase();
  const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
  for (const f of await readdir(MIGRATIONS_DIR)) if (f.endsWith('.sql')) await copyFile(join(MIGRATIONS_DIR, f), join(dir, f));
  await migrate(db.ownerUrl, dir);
  await writeFile(join(dir, '001_context.sql'), '-- edited\n', { flag: 'a' });
  await assert.rejects(migrate(db.ownerUrl, dir), /was edited after it was applied/);
});
