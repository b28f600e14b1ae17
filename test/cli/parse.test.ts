// The owner commands' parser (src/cli/owner.ts), without a database: which subcommand, how many
// arguments, --help at every level, and which mistakes are usage errors (exit status 2).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCommandLine, UsageError, type CommandSet } from '../../src/cli/owner.js';

const run = async () => {};
const SET: CommandSet = {
  program: 'npm run demo --',
  about: 'a demo',
  subcommands: [
    { name: 'things list', args: '<tenant>', summary: 'lists', json: true, run },
    { name: 'things', args: '<tenant> [<id>]', summary: 'one thing', run },
    { name: 'limits', args: "<tenant> ['<json>'...]", summary: 'sets limits', options: { all: { type: 'boolean' } }, run },
  ],
};

test('the longest matching name wins; positionals are counted (at the limit and one over)', () => {
  const list = parseCommandLine(SET, ['things', 'list', 'acme', '--json']);
  assert.ok(list.kind === 'run' && list.subcommand.name === 'things list' && list.json && list.args[0] === 'acme');
  const one = parseCommandLine(SET, ['things', 'acme', 'id-1']);
  assert.ok(one.kind === 'run' && one.subcommand.name === 'things' && one.args.length === 2);
  assert.throws(() => parseCommandLine(SET, ['things', 'acme', 'id-1', 'extra']), (e: Error) => e instanceof UsageError && /unexpected argument: extra/.test(e.message));
  assert.throws(() => parseCommandLine(SET, ['things', 'list']), (e: Error) => e instanceof UsageError && /missing <tenant>/.test(e.message));
  const many = parseCommandLine(SET, ['limits', 'acme', 'a=1', 'b=2', 'c=3', '--all']);
  assert.ok(many.kind === 'run' && many.args.length === 4 && many.values.all === true);
});

test('unknown commands and options, and --json where a command has none, are usage errors', () => {
  for (const argv of [[], ['nope'], ['things', 'list', 'acme', '--frob'], ['things', 'acme', '--json']]) {
    assert.throws(() => parseCommandLine(SET, argv), UsageError, argv.join(' '));
  }
});

test('--help: the overview, a group, one subcommand', () => {
  const all = parseCommandLine(SET, ['--help']);
  assert.ok(all.kind === 'help' && /things list/.test(all.text) && /limits/.test(all.text));
  const group = parseCommandLine(SET, ['things', '--help']);
  assert.ok(group.kind === 'help' && /usage: npm run demo -- things <tenant> \[<id>\]/.test(group.text));
  const one = parseCommandLine(SET, ['things', 'list', '-h']);
  assert.ok(one.kind === 'help' && one.text.startsWith('usage: npm run demo -- things list <tenant> [--json]'));
});
