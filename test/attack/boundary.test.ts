// The attack suite is a tool for testers, not part of the service: it lives in attack/, and of the
// service's code it may use only the seed's fixtures (demo logins, canaries), the audit verifier, the
// command-line plumbing and the admin command line (the operator's interface, for rows that set a
// deployment up through --database-url). Anything of the request path would let the suite pass by sharing a bug
// with the code it attacks.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const ALLOWED = [/^src\/seed\/(demo|fixtures)\.js$/, /^src\/audit\/verify\.js$/, /^src\/cli\/terminal\.js$/, /^src\/cli\/admin\.js$/];

test('the attack suite imports nothing of the service but fixtures, the audit verifier and CLI plumbing', async () => {
  const root = resolve('attack');
  const files = (await readdir(root, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name));
  assert.ok(files.length > 20, `attack/ holds the suite (${files.length} files)`);
  const used: string[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/from '(\.[^']+)'/g)) {
      const target = relative(resolve('.'), resolve(join(file, '..'), m[1]!)).replaceAll('\\', '/');
      if (!target.startsWith('attack/')) used.push(`${relative(resolve('.'), file)} → ${target}`);
    }
  }
  const forbidden = used.filter((u) => !ALLOWED.some((a) => a.test(u.split(' → ')[1]!)));
  assert.deepEqual(forbidden, []);
  assert.ok(used.length > 0, 'the check sees the imports it allows');
});
