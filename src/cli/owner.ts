// What the owner-role commands (npm run admin, npm run actions) share: the database the service
// would open (embedded under DATA_DIR, or DATABASE_URL), an owner connection, and one way to end
// (exit status 2 for a usage error, 1 for anything else).
import postgres from 'postgres';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { createLogger } from '../log.js';

/** A mistake in the command line: its message is the whole answer. */
export class UsageError extends Error {}

export type OwnerCommand = (owner: postgres.Sql, argv: string[]) => Promise<void>;

export async function runAsOwner(command: OwnerCommand, argv = process.argv.slice(2)): Promise<void> {
  try {
    const config = loadConfig();
    const db = await openDatabase(config, createLogger({ logLevel: 'warn' }));
    const owner = postgres(db.ownerUrl, { max: 1, onnotice: () => {} });
    try {
      await command(owner, argv);
    } finally {
      await owner.end();
      await db.close();
    }
  } catch (e) {
    console.error(e instanceof UsageError ? e.message : e);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  }
}

/** True when `moduleUrl` is the script node was started with (not imported by a test). */
export function isEntryPoint(moduleUrl: string): boolean {
  return moduleUrl === `file://${process.argv[1]}`;
}
