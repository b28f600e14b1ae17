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

// Pipelined BEGIN (docs/HOT-PATH.md): `sql.begin` waits for BEGIN's answer before it runs the
// callback, one round trip for nothing. Patched: it waits only until BEGIN has its connection
// (reserved for the transaction, BEGIN first on it), so BEGIN leaves in the same write as the
// transaction's first statements. BEGIN is still awaited before COMMIT: should it have failed, the
// callback's work is rolled back and the error thrown, never committed. (`onexecute` returning
// true keeps the connection in the reserved queue; returning nothing would park the callback's
// statements until BEGIN answers, one per round trip.)
const BEGIN_MARK = '/* commerce-mcp: pipelined begin */';
for (const file of ['src/index.js', 'cjs/src/index.js']) {
  const path = join(root, file);
  let text = readFileSync(path, 'utf8');
  if (text.includes(BEGIN_MARK)) continue;
  const before = text;
  text = text.replace(
    "      await sql.unsafe('begin ' + options.replace(/[^a-z ]/ig, ''), [], { onexecute }).execute()\n      return await Promise.race([",
    `      ${BEGIN_MARK}\n      let assigned\n      const onConnection = new Promise(r => assigned = r)\n      began = sql.unsafe('begin ' + options.replace(/[^a-z ]/ig, ''), [], { onexecute: c => { onexecute(c); assigned(); return true } }).execute()\n      began.catch(() => {})\n      await Promise.race([onConnection, began])\n      return await Promise.race([`,
  );
  text = text.replace(
    "    let savepoints = 0\n      , connection\n      , prepare = null\n",
    "    let savepoints = 0\n      , connection\n      , prepare = null\n      , began\n",
  );
  text = text.replace(
    "          Promise.resolve(Array.isArray(x) ? Promise.all(x) : x).then(resolve, reject)\n        })\n",
    "          Promise.resolve(Array.isArray(x) ? Promise.all(x) : x).then(resolve, reject)\n        })\n        name || await began\n",
  );
  if (text === before || (text.match(/began/g) ?? []).length < 5) {
    console.error(`patch-postgres: postgres@${version} ${file} begin() no longer matches; check the pipelined-begin patch`);
    process.exit(1);
  }
  writeFileSync(path, text);
}
