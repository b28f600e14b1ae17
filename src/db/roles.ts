// The two database roles (docs/DESIGN.md §3): the owner runs migrations and owns every table; the
// application role is not superuser, not BYPASSRLS, and owns nothing.
import postgres from 'postgres';

export const OWNER_ROLE = 'commerce_owner';
export const APP_ROLE = 'commerce_app';

function withCredentials(base: string, user: string, password: string, database?: string): string {
  const u = new URL(base);
  u.username = user;
  u.password = password;
  if (database) u.pathname = `/${database}`;
  return u.toString();
}

/**
 * On a cluster we administer (the embedded one, or a test cluster): create the owner role, the
 * application role and a database owned by the owner. Idempotent.
 */
export async function provisionDatabase(
  superuserUrl: string,
  database: string,
  passwords: { owner: string; app: string },
): Promise<{ ownerUrl: string; appUrl: string }> {
  const sql = postgres(superuserUrl, { max: 1, onnotice: () => {} });
  try {
    await ensureRole(sql, OWNER_ROLE, passwords.owner, 'NOSUPERUSER NOBYPASSRLS');
    await ensureRole(sql, APP_ROLE, passwords.app, 'NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT');
    const [exists] = await sql`select 1 from pg_database where datname = ${database}`;
    if (!exists) await sql.unsafe(`create database "${database}" owner ${OWNER_ROLE}`);
    await sql.unsafe(`revoke all on database "${database}" from public`);
    await sql.unsafe(`grant connect on database "${database}" to ${APP_ROLE}`);
  } finally {
    await sql.end();
  }
  return {
    ownerUrl: withCredentials(superuserUrl, OWNER_ROLE, passwords.owner, database),
    appUrl: withCredentials(superuserUrl, APP_ROLE, passwords.app, database),
  };
}

async function ensureRole(sql: postgres.Sql, role: string, password: string, attributes: string) {
  const [exists] = await sql`select 1 from pg_roles where rolname = ${role}`;
  const verb = exists ? 'alter' : 'create';
  // Identifiers are our constants; the password goes through format() to be quoted by the server.
  const [row] = await sql<{ stmt: string }[]>`select format(${`${verb} role ${role} with login ${attributes} password %L`}, ${password}::text) as stmt`;
  await sql.unsafe(row!.stmt);
}

/**
 * On an external server (DATABASE_URL): the application connects as APP_ROLE on the same host and
 * database, unless APP_DATABASE_URL says otherwise. The role is created if the owner may.
 */
export async function ensureAppRoleExternal(ownerUrl: string, appPassword: string): Promise<string> {
  const sql = postgres(ownerUrl, { max: 1, onnotice: () => {} });
  try {
    const [exists] = await sql`select 1 from pg_roles where rolname = ${APP_ROLE}`;
    if (!exists) {
      await ensureRole(sql, APP_ROLE, appPassword, 'NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT');
    }
    const [row] = await sql<{ db: string }[]>`select current_database() as db`;
    await sql.unsafe(`grant connect on database "${row!.db}" to ${APP_ROLE}`);
  } finally {
    await sql.end();
  }
  return withCredentials(ownerUrl, APP_ROLE, appPassword);
}
