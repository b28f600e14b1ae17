// Server secrets that every instance of a deployment must share (HMAC keys): taken from the
// configuration when set, else a random key kept in DATA_DIR (mode 0600), made on first use and
// never overwritten. A single-host deployment (one DATA_DIR) then needs no configuration; several
// hosts set the same configured value on each.
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const keys = new Map<string, Promise<Buffer>>();

/**
 * A 32-byte key: SHA-256 of the configured secret, or of DATA_DIR/<fileName>'s random contents;
 * with a `purpose`, of `<purpose>\n<secret>`, so one configured value never yields the same key for
 * two uses.
 */
export function dataDirKey(dataDir: string, fileName: string, configured: string | undefined, purpose?: string): Promise<Buffer> {
  const derive = (secret: string) => createHash('sha256').update(purpose ? `${purpose}\n${secret}` : secret).digest();
  if (configured) return Promise.resolve(derive(configured));
  const file = join(dataDir, fileName);
  let key = keys.get(file);
  if (!key) {
    key = (async () => {
      await mkdir(dataDir, { recursive: true });
      // Written aside, then linked into place: atomic, and the first of several starting
      // processes wins without another ever reading a half-written file.
      const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
      await writeFile(aside, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
      try {
        await link(aside, file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      } finally {
        await unlink(aside).catch(() => {});
      }
      const text = (await readFile(file, 'utf8')).trim();
      if (text.length < 32) throw new Error(`${file} holds no usable key`);
      return derive(text);
    })();
    key.catch(() => keys.delete(file));
    keys.set(file, key);
  }
  return key;
}
