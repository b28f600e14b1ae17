// The attack command's exit statuses (issue 14 §2): --help is an answer (standard output, 0), a bad
// option is a usage error (standard error, 2). Rows failing (1) are in suite.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../../attack/cli.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('--help prints the options on standard output, exit status 0', async () => {
  const r = await run('--help');
  assert.equal(r.code, 0);
  assert.match(r.out, /^usage: npm run attack -- --target/);
  assert.equal(r.err, '');
});

test('an unknown option or a missing --target is a usage error, exit status 2', async () => {
  for (const argv of [['--frobnicate'], []]) {
    const r = await run(...argv);
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    assert.match(r.err, /usage: npm run attack/);
  }
});
