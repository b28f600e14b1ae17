// A database of its own for each test file: a clone of the migrated, demo-seeded template that
// scripts/test.ts prepares. Real PostgreSQL, never a mock.
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import postgres from 'postgres';
import { openAppPool } from '../../src/db/database.js';
import { APP_ROLE, OWNER_ROLE } from '../../src/db/roles.js';

export interface TestDatabase {
  name: string;
  superuserUrl: string;
  ownerUrl: string;
  appUrl: string;
  /** The application role's pool (what the service uses). */
  app: postgres.Sql;
  /** The owner role (migrations, seed, admin). */
  owner: postgres.Sql;
}

// Cleanups run once the whole test file is done, newest first. Registered at import time, so the
// hook belongs to the file's root (an after() inside a before() hook would run right after it).
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

/** Runs `fn` when the test file ends (after everything registered later). */
export function onCleanup(fn: () => Promise<unknown>): void {
  cleanups.push(fn);
}

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests with "npm test" (scripts/test.ts prepares the database)`);
  return v;
}

function withUser(url: string, user: string, password: string, database: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  u.pathname = `/${database}`;
  return u.toString();
}

/** Clones the template into a fresh database, dropped when the test file ends. */
export async function createTestDatabase(options: { template?: string } = {}): Promise<TestDatabase> {
  const superuserUrl = env('TEST_PG_SUPERUSER_URL');
  const template = options.template ?? env('TEST_TEMPLATE_DB');
  const password = env('TEST_APP_PASSWORD');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(superuserUrl, { max: 1, onnotice: () => {} });
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.unsafe(`create database ${name} template ${template} owner ${OWNER_ROLE}`);
      break;
    } catch (error) {
      // Two files cloning the template at the same instant: try again shortly.
      if (attempt >= 20 || !String((error as Error).message).includes('being accessed')) throw error;
      await new Promise((r) => setTimeout(r, 100 + attempt * 50));
    }
  }
  await admin.unsafe(`grant connect on database ${name} to ${APP_ROLE}`);
  const ownerUrl = withUser(superuserUrl, OWNER_ROLE, password + '-owner', name);
  const appUrl = withUser(superuserUrl, APP_ROLE, password, name);
  const db: TestDatabase = {
    name, superuserUrl, ownerUrl, appUrl,
    app: openAppPool(appUrl, 10),
    owner: postgres(ownerUrl, { max: 2, onnotice: () => {} }),
  };
  onCleanup(async () => {
    await Promise.all([db.app.end({ timeout: 1 }), db.owner.end({ timeout: 1 })]);
    await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
    await admin.end();
  });
  return db;
}

/** An empty database (no migrations) for migration tests. */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  return createTestDatabase({ template: 'template0' });
}

/** The first row of a result that must have one. */
export function first<T>(rows: readonly T[]): T {
  if (rows.length === 0) throw new Error('expected a row, got none');
  return rows[0]!;
}
