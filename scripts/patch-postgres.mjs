// postgres@3.4.9 can crash the process when PostgreSQL goes away under load (docs/ATTACK-CATALOGUE.md F1):
// a small write scheduled with setImmediate runs after the connection closed and calls
// `socket.write` on null, an uncaught TypeError (porsager/postgres#1154, #1208; fix proposed in
// PRs #1168/#1209, unreleased). Teardown also leaves a stale write timer behind. This applies the
// proposed guard — settle the query with CONNECTION_CLOSED instead of crashing — to both builds.
// Idempotent; runs on `npm install` (our own postinstall) and fails loudly if the source moved.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MARK = '/* commerce-mcp: null-socket guard */';
const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'postgres');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

for (const file of ['src/connection.js', 'cjs/src/connection.js']) {
  const path = join(root, file);
  let text = readFileSync(path, 'utf8');
  if (text.includes(MARK)) continue;
  const before = text;
  text = text.replace(
    '  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)',
    `  function nextWrite(fn) {\n    ${MARK}\n    if (!socket) {\n      nextWriteTimer !== null && clearImmediate(nextWriteTimer)\n      chunk = nextWriteTimer = null\n      error(Errors.connection('CONNECTION_CLOSED', options))\n      return false\n    }\n    const x = socket.write(chunk, fn)`,
  );
  text = text.replaceAll('    clearImmediate(nextWriteTimer)\n', '    clearImmediate(nextWriteTimer)\n    nextWriteTimer = null\n    chunk = null\n');
  if (text === before || !text.includes(MARK)) {
    console.error(`patch-postgres: postgres@${version} ${file} no longer matches; check whether the upstream fix landed`);
    process.exit(1);
  }
  writeFileSync(path, text);
}
