// Import then export round-trips; re-import is a no-op; a file with bad lines gets its report and
// loses nothing else; an order with an unknown product is rejected whole (docs/INGESTION.md).
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { before, describe, test } from 'node:test';
import { runAdmin } from '../../src/cli/admin.js';
import { exportNdjson } from '../../src/ingest/export.js';
import { DEFAULT_INGEST_LIMITS, ingestNdjson, type ServiceActor } from '../../src/ingest/upload.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
const actorFor = async (slug: string): Promise<ServiceActor> => {
  const [t] = await db.owner<{ id: string }[]>`select id from tenants where slug = ${slug}`;
  return { kind: 'service', tenantId: t!.id, clientId: 'test' };
};
const exportOf = async (slug: string) => {
  const lines: string[] = [];
  await exportNdjson(db.owner, await actorFor(slug), [], (l) => { lines.push(l); });
  return lines;
};
const upload = async (slug: string, lines: string[], sql = db.owner) =>
  ingestNdjson(sql, await actorFor(slug), Readable.from([lines.join('\n') + '\n']), DEFAULT_INGEST_LIMITS, { clientId: 'test', via: 'cli' });

before(async () => {
  db = await createTestDatabase();
  await runAdmin(db.owner, ['tenants', 'create', 'copyshop', 'Copy Shop'], () => {});
});

describe('round trip', () => {
  test('the demo tenant re-imported into itself changes nothing (its seed came through ingestion)', async () => {
    const lines = await exportOf('acme');
    assert.ok(lines.length > 500, `export has ${lines.length} lines`);
    const report = await upload('acme', lines);
    assert.deepEqual(report.rejections, []);
    assert.equal(report.accepted + report.updated, 0, JSON.stringify(report.byKind));
    assert.equal(report.unchanged, lines.length);
  });

  test('export of acme imported into a new tenant, exported again: the same records; again: all unchanged', async () => {
    const lines = await exportOf('acme');
    const first = await upload('copyshop', lines);
    assert.deepEqual(first.rejections, []);
    assert.equal(first.rejected, 0);
    const copy = await exportOf('copyshop');
    assert.equal(copy.length, lines.length);
    const differing = copy.findIndex((l, i) => l !== lines[i]);
    assert.equal(differing, -1, `first difference at line ${differing + 1}:\n${lines[differing]}\n${copy[differing]}`);
    const again = await upload('copyshop', copy);
    assert.equal(again.unchanged, copy.length, JSON.stringify(again.byKind));
  });
});
