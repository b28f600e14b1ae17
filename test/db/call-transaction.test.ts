// One MCP call's transaction on a reserved connection with BEGIN … COMMIT pipelined
// (src/db/context.ts inCallTransaction, docs/HOT-PATH.md "Flights"). Attack catalogue R6: whatever
// happens in a call — success, an error, a caught statement error, a lost connection — the pooled
// connection never carries an open transaction or the call's RLS context to the next user, and
// nothing a call sends after its end runs outside its transaction. A pool of one connection makes
// "the next user" the same connection.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import postgres from 'postgres';
import { enterWithAccessToken, mintAccessToken } from '../../src/authz/tokens.js';
import { inCallTransaction, setRequestContext, TransactionEnded, TransactionRolledBack, withContext, type Actor, type Tx } from '../../src/db/context.js';
import { openAppPool } from '../../src/db/database.js';
import { isDatabaseUnavailable } from '../../src/db/errors.js';
import { createTestDatabase, onCleanup, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let sql: postgres.Sql;
let alice: Actor & { kind: 'customer' };

before(async () => {
  db = await createTestDatabase();
  sql = openAppPool(db.appUrl, 1);
  onCleanup(() => sql.end({ timeout: 1 }));
  const [row] = await db.owner<{ tenant_id: string; id: string }[]>`
    select c.tenant_id, c.id from customers c join tenants t on t.id = c.tenant_id where t.slug = 'acme' order by c.email limit 1`;
  alice = { kind: 'customer', tenantId: row!.tenant_id, customerId: row!.id };
});

/** An audit entry tagged `requestId`, written in the call's transaction (any write would do). */
function auditEntry(tx: Tx, requestId: string) {
  return tx`insert into audit_events (tenant_id, request_id, actor_kind, actor_id, event, outcome)
            values (${alice.tenantId}, ${requestId}, 'customer', ${alice.customerId}, 'test.call', 'ok')`;
}

async function committed(requestId: string): Promise<number> {
  const [row] = await db.owner<{ n: number }[]>`select count(*)::int as n from audit_events where request_id = ${requestId}`;
  return row!.n;
}

/** What the pool's (only) connection carries into the next statement made on it outside any call. */
async function leftOver(): Promise<{ inTransaction: boolean; tenant: string; synchronousCommit: string }> {
  // SAVEPOINT outside a transaction block fails (25P01); inside a leftover transaction it works.
  const inTransaction = await sql`savepoint probe`.then(() => true, (error: { code?: string }) => {
    if (error.code === '25P01') return false;
    throw error;
  });
  const [row] = await sql<{ tenant: string | null; sync: string }[]>`
    select current_setting('app.tenant_id', true) as tenant, current_setting('synchronous_commit') as sync`;
  return { inTransaction, tenant: row!.tenant ?? '', synchronousCommit: row!.sync };
}

const clean = { inTransaction: false, tenant: '', synchronousCommit: 'on' };

describe('R6 a call transaction on a reserved connection', () => {
  test('R6 commits the call\'s statements, and its context and settings end with it', async () => {
    const answer = await inCallTransaction(sql, alice.tenantId, async (tx) => {
      const entered = setRequestContext(tx, alice); // leaves with BEGIN, not after its answer
      const setting = tx`select set_config('synchronous_commit', 'off', true)`;
      const insert = auditEntry(tx, 'call-commit');
      await Promise.all([entered, setting, insert]);
      const [me] = await tx<{ subject: string }[]>`select current_setting('app.subject_id') as subject`;
      return me!.subject;
    });
    assert.equal(answer, alice.customerId);
    assert.equal(await committed('call-commit'), 1);
    assert.deepEqual(await leftOver(), clean);
  });

  test('R6 an error in the call rolls everything back before the connection is reused', async () => {
    await assert.rejects(inCallTransaction(sql, alice.tenantId, async (tx) => {
      await setRequestContext(tx, alice);
      await auditEntry(tx, 'call-error');
      throw new Error('the tool failed');
    }), /the tool failed/);
    assert.equal(await committed('call-error'), 0);
    assert.deepEqual(await leftOver(), clean);
  });

  test('R6 a failed statement whose error the call caught still rolls the call back (COMMIT answered ROLLBACK)', async () => {
    await assert.rejects(inCallTransaction(sql, alice.tenantId, async (tx) => {
      await setRequestContext(tx, alice);
      await auditEntry(tx, 'call-caught');
      await tx`select 1 / 0`.catch(() => 'ignored');
    }), TransactionRolledBack);
    assert.equal(await committed('call-caught'), 0);
    assert.deepEqual(await leftOver(), clean);
  });

  test('R6 a statement sent after the call ended is refused, never run on its own', async () => {
    let kept: Tx | undefined;
    await inCallTransaction(sql, alice.tenantId, async (tx) => {
      kept = tx;
      await setRequestContext(tx, alice);
    });
    assert.throws(() => auditEntry(kept!, 'call-late'), TransactionEnded);
    assert.equal(await committed('call-late'), 0);
    assert.deepEqual(await leftOver(), clean);
  });

  test('a savepoint rolls back its own part only', async () => {
    await inCallTransaction(sql, alice.tenantId, async (tx) => {
      await setRequestContext(tx, alice);
      await auditEntry(tx, 'call-outer');
      await assert.rejects(tx.savepoint(async (sp) => {
        await auditEntry(sp, 'call-inner');
        throw new Error('refused');
      }), /refused/);
    });
    assert.equal(await committed('call-outer'), 1);
    assert.equal(await committed('call-inner'), 0);
  });

  test('F1 a connection lost in the middle of a call: the call fails as unavailable (never hangs), and calls work again', async () => {
    const peer = postgres(db.appUrl, { max: 1, onnotice: () => {} }); // the same role may end its own sessions
    onCleanup(() => peer.end({ timeout: 1 }));
    const failure = await inCallTransaction(sql, alice.tenantId, async (tx) => {
      await setRequestContext(tx, alice);
      await auditEntry(tx, 'call-lost');
      const [me] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
      await peer`select pg_terminate_backend(${me!.pid})`;
      // A statement new to the connection (its description first), then one queued behind it on
      // the handle: both must settle when the connection closes.
      const first = tx`select ${1}::int as one`;
      const queued = tx`select 2 as two`;
      await Promise.all([first, queued]);
    }).then(() => undefined, (error: unknown) => error);
    assert.ok(failure, 'the call failed');
    assert.ok(isDatabaseUnavailable(failure), `a connection failure, not the deadline: ${String(failure)}`);
    assert.notEqual((failure as { message?: string }).message, 'database busy: no answer from the database before the deadline');
    assert.equal(await committed('call-lost'), 0);
    // The pool notices the loss by itself: the next call may still meet the dying connection and
    // fail cleanly as unavailable (F1: clean errors, recovery on its own), then calls work again.
    let again: string | undefined;
    for (let attempt = 0; attempt < 3 && again === undefined; attempt++) {
      again = await inCallTransaction(sql, alice.tenantId, async (tx) => {
        await setRequestContext(tx, alice);
        await auditEntry(tx, 'call-after-loss');
        return 'ok';
      }).catch((error: unknown) => {
        assert.ok(isDatabaseUnavailable(error), `only a clean "unavailable" while the pool recovers: ${String(error)}`);
        return undefined;
      });
    }
    assert.equal(again, 'ok');
    assert.equal(await committed('call-after-loss'), 1);
    assert.deepEqual(await leftOver(), clean);
  });
});

describe('the token check in one statement (migrations/023)', () => {
  const resource = 'https://shop.example/t/acme/mcp';
  let token: string;
  before(async () => {
    token = (await withContext(sql, { kind: 'auth', tenantId: alice.tenantId }, async (tx) => {
      await tx`insert into oauth_clients (tenant_id, client_id, name, redirect_uris, audience, source)
               values (${alice.tenantId}, 'call-test-client', 'Call test', '{http://127.0.0.1/callback}', 'customer', 'preregistered')`;
      return mintAccessToken(tx, { tenantId: alice.tenantId, familyId: null, clientId: 'call-test-client', subjectKind: 'customer',
        subjectId: alice.customerId, resource, scope: 'orders', ttlSeconds: 600 });
    })).token;
  });

  const enter = (entry: { resource: string; readOnly: boolean }) => inCallTransaction(sql, alice.tenantId, async (tx) => {
    const found = await enterWithAccessToken(tx, token, { tenantId: alice.tenantId, subjectKind: 'customer', ...entry });
    const [ctx] = await tx<{ actor: string; subject: string; sync: string }[]>`
      select current_setting('app.actor') as actor, current_setting('app.subject_id') as subject, current_setting('synchronous_commit') as sync`;
    return { found: found?.subjectId ?? null, ...ctx! };
  });

  test('a token for this endpoint enters its subject\'s context (a read: without the WAL flush), for this transaction only', async () => {
    assert.deepEqual(await enter({ resource, readOnly: true }), { found: alice.customerId, actor: 'customer', subject: alice.customerId, sync: 'off' });
    assert.deepEqual(await enter({ resource, readOnly: false }), { found: alice.customerId, actor: 'customer', subject: alice.customerId, sync: 'on' });
    assert.deepEqual(await leftOver(), clean);
  });

  test('O12 M1 a token for another endpoint comes back (the caller refuses it) but leaves the context at auth', async () => {
    assert.deepEqual(await enter({ resource: 'https://shop.example/t/acme/internal/mcp', readOnly: true }),
      { found: alice.customerId, actor: 'auth', subject: '', sync: 'on' });
  });

  test('M1 a revoked token: no row, the context stays auth (looked up on every call)', async () => {
    await db.owner`update oauth_access_tokens set revoked_at = now() where tenant_id = ${alice.tenantId} and client_id = 'call-test-client'`;
    assert.deepEqual(await enter({ resource, readOnly: true }), { found: null, actor: 'auth', subject: '', sync: 'on' });
  });
});
