// The admin and actions commands while `npm start` runs on the embedded database (issue 14 §1, §2):
// they use the service's server through its connection file instead of failing to start a second
// one; exit statuses 0 done, 1 failed or found a problem, 2 usage; --help; --json; header rows;
// one-line errors; R8: a chain tampered with by the owner is reported BROKEN with status 1; safe to
// pipe into head.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { commandEnvironment, runCommand, runPipeline, runScript, startService, STACK_FRAME, type Environment, type RunningService } from './support.js';

let environment: Environment;
let service: RunningService;
let env: NodeJS.ProcessEnv;
const connectionFile = () => join(environment.dataDir, 'connection.json');

before(async () => {
  environment = await commandEnvironment();
  env = environment.env;
  service = await startService(env);
}, { timeout: 60_000 });

after(async () => {
  await service?.stop();
  await environment?.remove();
});

test('the service writes its connection file (mode 0600, its pid) while it runs', async () => {
  assert.equal(statSync(connectionFile()).mode & 0o777, 0o600);
  const info = JSON.parse(await readFile(connectionFile(), 'utf8')) as { pid: number; port: number; ownerUrl: string };
  assert.equal(info.pid, service.pid);
  assert.equal(info.port, Number(env.EMBEDDED_PG_PORT));
  assert.match(info.ownerUrl, /^postgres:\/\/commerce_owner:/);
});

test('actions list and admin listings answer while the service runs: header rows, --json parses', async () => {
  const [pending, tenants, json, staff] = await Promise.all([
    runCommand(env, 'actions', 'list', 'acme', '--status', 'pending'),
    runCommand(env, 'admin', 'tenants', 'list'),
    runCommand(env, 'admin', 'tenants', 'list', '--json'),
    runCommand(env, 'actions', 'list', 'acme', '--json'),
  ]);
  for (const r of [pending, tenants, json, staff]) assert.equal(r.code, 0, r.stderr);
  assert.equal(pending.stderr, '');
  assert.equal(pending.stdout.split('\n')[0], 'action_id\tstatus\ttool\trequested_by\trequested_at\tsummary');
  assert.equal(tenants.stdout.split('\n')[0], 'slug\tname\tdisabled_at');
  assert.ok(tenants.stdout.split('\n').some((l) => l.startsWith('acme\t')));
  const slugs = (JSON.parse(json.stdout) as { slug: string }[]).map((t) => t.slug);
  assert.deepEqual(['acme', 'canary', 'globex'].filter((s) => slugs.includes(s)), ['acme', 'canary', 'globex']);
  assert.ok(Array.isArray(JSON.parse(staff.stdout)));
});

test('usage errors exit 2 with the usage; --help exits 0 on every level; an unknown tenant exits 1 in one line', async () => {
  const [unknownAdmin, unknownActions, missing, badOption, help, groupHelp, subHelp, actionsHelp, noTenant, noTenantActions] = await Promise.all([
    runCommand(env, 'admin', 'frobnicate'),
    runCommand(env, 'actions', 'frobnicate', 'acme'),
    runCommand(env, 'admin', 'staff', 'list'),
    runCommand(env, 'actions', 'list', 'acme', '--limit', '501'),
    runCommand(env, 'admin', '--help'),
    runCommand(env, 'admin', 'audit', '--help'),
    runCommand(env, 'admin', 'audit', 'verify', '--help'),
    runCommand(env, 'actions', 'list', '--help'),
    runCommand(env, 'admin', 'staff', 'list', 'no-such-tenant'),
    runCommand(env, 'actions', 'show', 'no-such-tenant'),
  ]);
  for (const r of [unknownAdmin, unknownActions, missing, badOption]) {
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /usage: npm run (admin|actions) --/);
    assert.doesNotMatch(r.stderr, STACK_FRAME);
  }
  assert.match(unknownAdmin.stderr, /unknown command: frobnicate/);
  assert.match(missing.stderr, /missing <tenant>/);
  assert.match(badOption.stderr, /--limit must be a whole number from 1 to 500/);
  for (const r of [help, groupHelp, subHelp, actionsHelp]) {
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^usage: /);
  }
  assert.match(help.stdout, /audit verify <tenant>/);
  assert.match(groupHelp.stdout, /audit export/);
  assert.doesNotMatch(groupHelp.stdout, /tenants list/);
  assert.match(subHelp.stdout, /exit status 1/);
  for (const r of [noTenant, noTenantActions]) {
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'no tenant no-such-tenant\n');
    assert.equal(r.stdout, '');
  }
});

test('R8: audit verify exits 0 on an intact chain, 1 and BROKEN after the owner changes an entry', async () => {
  const changed = await runCommand(env, 'actions', 'self-approval', 'canary', '0'); // an audited settings change
  assert.equal(changed.code, 0, changed.stderr);
  const intact = await runCommand(env, 'admin', 'audit', 'verify', 'canary');
  assert.equal(intact.code, 0, intact.stderr);
  assert.match(intact.stdout, /^ok: \d+ entries, chain intact/);

  const { ownerUrl } = JSON.parse(await readFile(connectionFile(), 'utf8')) as { ownerUrl: string };
  const owner = postgres(ownerUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await owner`update audit_events set outcome = 'denied'
      where tenant_id = (select id from tenants where slug = 'canary') and seq = 1 returning seq`;
    assert.equal(rows.length, 1);
  } finally {
    await owner.end();
  }
  const [broken, brokenJson] = await Promise.all([
    runCommand(env, 'admin', 'audit', 'verify', 'canary'),
    runCommand(env, 'admin', 'audit', 'verify', 'canary', '--json'),
  ]);
  assert.equal(broken.code, 1, broken.stderr);
  assert.match(broken.stdout, /^BROKEN at entry 1: content_changed/);
  assert.equal(brokenJson.code, 1);
  assert.deepEqual((JSON.parse(brokenJson.stdout) as { ok: boolean; firstBreak: unknown }).firstBreak, { seq: 1, problem: 'content_changed' });
});

test('piping into head ends the command quietly: status 0, no error output, one line', async () => {
  // Enough output (megabytes) that the command is still writing when head has gone.
  const { ownerUrl } = JSON.parse(await readFile(connectionFile(), 'utf8')) as { ownerUrl: string };
  const owner = postgres(ownerUrl, { max: 1, onnotice: () => {} });
  try {
    await owner`insert into audit_events (tenant_id, seq, actor_kind, event, outcome, detail, prev_hash, hash)
      select t.id, 0, 'system', 'test.filler', 'ok', jsonb_build_object('filler', repeat('x', 1000)), '', ''
      from tenants t, generate_series(1, 3000) where t.slug = 'globex'`;
  } finally {
    await owner.end();
  }
  const piped = await runPipeline(env, `${JSON.stringify(process.execPath)} --import tsx src/cli/admin.ts audit export globex | head -1`);
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stderr, '');
  assert.equal(piped.stdout.trimEnd().split('\n').length, 1);
  assert.ok(JSON.parse(piped.stdout));
});

test('a second npm start on the same DATA_DIR says the service already runs (exit status 1)', async () => {
  const second = await runScript(env, 'src/main.ts');
  assert.equal(second.code, 1);
  assert.match(second.stdout + second.stderr, new RegExp(`the service already runs on .* \\(pid ${service.pid}\\)`));
});

test('a clean stop removes the connection file', async () => {
  assert.ok(existsSync(connectionFile()));
  await service.stop();
  assert.equal(existsSync(connectionFile()), false);
});
