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

// A reserved connection that can end safely (docs/HOT-PATH.md "Flights"; R6, F1). The MCP calls
// run their transaction on `sql.reserve()` with BEGIN, statements and COMMIT pipelined
// (src/db/context.ts inCallTransaction). postgres@3.4.9's reserve() has four holes there:
//   - when the connection closes, the pool takes it back (closed queue, reconnected for others),
//     but the reserved handle still executes on it: a late statement (a ROLLBACK, an audit
//     insert) could land on the reconnected connection, in another caller's transaction;
//   - statements queued on the handle (while the connection was full) are never settled when it
//     closes: the caller hangs (the F1 hang, on our side of the deadline);
//   - release() after such a close puts the dead connection in the open queue;
//   - a reserve() whose connection attempt failed stays in the pool's queue and is "granted" a
//     connection later that nobody uses: one connection lost per failed reserve.
// Patched: the handle is bound to its reservation (refuses with CONNECTION_CLOSED once the pool
// took the connection back), rejects its queued statements when the connection closes, release()
// after that is a no-op, and a failed reserve() leaves the queue.
const RESERVE_MARK = '/* commerce-mcp: reservation bound to its connection */';
for (const file of ['src/index.js', 'cjs/src/index.js']) {
  const path = join(root, file);
  let text = readFileSync(path, 'utf8');
  if (text.includes(RESERVE_MARK)) continue;
  const before = text;
  text = text.replace(
    `        const query = { reserve: resolve, reject }
        queries.push(query)`,
    `        ${RESERVE_MARK}
        const query = { reserve: resolve, reject: e => (queries.remove(query), reject(e)) }
        queries.push(query)`,
  );
  text = text.replace(
    `    move(c, reserved)
    c.reserved = () => queue.length
      ? c.execute(queue.shift())
      : move(c, reserved)
    c.reserved.release = true

    const sql = Sql(handler)
    sql.release = () => {
      c.reserved = null
      onopen(c)
    }

    return sql

    function handler(q) {
      c.queue === full`,
    `    move(c, reserved)
    const reservation = c.reserved = () => queue.length
      ? c.execute(queue.shift())
      : move(c, reserved)
    c.reserved.release = true
    c.onclose = e => { while (queue.length) queue.shift().reject(e) }

    const sql = Sql(handler)
    sql.release = () => {
      if (c.reserved !== reservation)
        return
      c.reserved = null
      c.onclose = null
      onopen(c)
    }

    return sql

    function handler(q) {
      if (c.reserved !== reservation)
        return q.reject(Errors.connection('CONNECTION_CLOSED', options))
      c.queue === full`,
  );
  if (text === before || (text.match(/reservation/g) ?? []).length < 4 || !text.includes('queries.remove(query)')) {
    console.error(`patch-postgres: postgres@${version} ${file} reserve() no longer matches; check the reservation patch`);
    process.exit(1);
  }
  writeFileSync(path, text);
}
