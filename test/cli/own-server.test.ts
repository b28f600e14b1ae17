// The commands with no service running (issue 14 §1): they start an embedded server of their own on
// DATA_DIR and stop it when they end, also when they fail (exit status 1, not the exit hook's 0);
// a stale connection file (its process gone, or its server refusing connections) is ignored.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { commandEnvironment, freePort, runCommand, STACK_FRAME, type Environment } from './support.js';

let environment: Environment;
before(async () => { environment = await commandEnvironment(); });
after(async () => { await environment?.remove(); });

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); done(false); });
    socket.once('error', () => done(true));
  });
}

async function assertServerStopped(): Promise<void> {
  assert.equal(existsSync(join(environment.dataDir, 'pg', 'postmaster.pid')), false, 'no server left running on the data folder');
  assert.ok(await refusesConnections(Number(environment.env.EMBEDDED_PG_PORT)));
}

async function writeStaleFile(pid: number): Promise<void> {
  const port = await freePort();
  await writeFile(join(environment.dataDir, 'connection.json'), JSON.stringify({
    pid, port, ownerUrl: `postgres://commerce_owner:stale@127.0.0.1:${port}/commerce`, databaseDir: join(environment.dataDir, 'pg'), startedAt: new Date().toISOString(),
  }), { mode: 0o600 });
}

test('seed, then admin with a stale connection file (process gone): each starts its own server and stops it', { timeout: 60_000 }, async () => {
  const gone = spawnSync(process.execPath, ['-e', '0']).pid; // a process that has ended
  await writeStaleFile(gone);
  const seeded = await runCommand(environment.env, 'seed');
  assert.equal(seeded.code, 0, seeded.stderr);
  assert.match(seeded.stdout, /demo tenants seeded/);
  await assertServerStopped();

  const listed = await runCommand(environment.env, 'admin', 'tenants', 'list', '--json');
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok((JSON.parse(listed.stdout) as { slug: string }[]).some((t) => t.slug === 'acme'));
  await assertServerStopped();
});

test('a connection file whose server refuses connections is stale too; a failure still exits 1 and stops the server', { timeout: 60_000 }, async () => {
  await writeStaleFile(process.pid); // alive, but nothing listens on its port
  const failed = await runCommand(environment.env, 'admin', 'audit', 'verify', 'no-such-tenant');
  assert.equal(failed.code, 1, failed.stderr);
  assert.equal(failed.stderr, 'no tenant no-such-tenant\n');
  assert.doesNotMatch(failed.stderr, STACK_FRAME);
  await assertServerStopped();

  const ok = await runCommand(environment.env, 'admin', 'audit', 'verify', 'acme');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /chain intact/);
  await assertServerStopped();
});
