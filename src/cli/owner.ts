// What the owner-role commands (npm run admin, npm run actions) share: a table of subcommands, each
// with its usage and --help, parsed before any database is touched; the database the service uses
// (DATABASE_URL, the running service's embedded server, or an embedded server of the command's own
// when none runs: src/db/database.ts openOwnerDatabase); listings with a header row or --json; and
// one way to end: 0 done, 1 failed or found a problem, 2 usage error (src/cli/terminal.ts).
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { pino } from 'pino';
import postgres from 'postgres';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { openOwnerDatabase } from '../db/database.js';
import { EXIT, OutputClosed, exitWith, printError, watchTerminal, writeLine } from './terminal.js';

/** A mistake in the command line (exit status 2): its message, then the command's usage. */
export class UsageError extends Error {}

/** The command ran and failed, or found what it looks for (exit status 1): its message is the answer. */
export class CommandFailed extends Error {}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** What a subcommand is given to run. */
export interface Call {
  /** The positional arguments after the subcommand's words, checked against its `args`. */
  args: string[];
  values: OptionValues;
  out: (line: string) => void;
  /** --json was given: print JSON (table and record do). */
  json: boolean;
  /** A listing: a header row then tab-separated rows; with --json one JSON array of the rows. */
  table<T extends object>(rows: readonly T[], columns: readonly (keyof T & string)[] | { readonly [header: string]: (row: T) => unknown }): void;
  /** One record: `key<TAB>value` lines; with --json one JSON object. */
  record(fields: Record<string, unknown>): void;
  /** The service's configuration (keys kept in DATA_DIR or configured), for commands that need it. */
  config(): Config;
}

export interface Subcommand {
  /** The words that name it: 'tenants list'. */
  name: string;
  /** Its arguments as usage shows them: '<tenant> [<action-id>] [--limit N]'. `<x>` is required, `[<x>]` optional, `[<x>...]` repeats. */
  args?: string;
  /** One line for the overview, more after it for --help. */
  summary: string;
  details?: string;
  options?: NonNullable<ParseArgsConfig['options']>;
  /** Accepts --json. */
  json?: boolean;
  /** Returns the exit status (nothing: 0). */
  run(owner: postgres.Sql, call: Call): Promise<number | void>;
}

export interface CommandSet {
  /** How it is started: 'npm run admin --'. */
  program: string;
  about: string;
  subcommands: readonly Subcommand[];
}

const EXIT_STATUS_NOTE = 'exit status: 0 done, 1 failed or found a problem, 2 usage error';

function usageLine(set: CommandSet, c: Subcommand): string {
  return `${set.program} ${c.name}${c.args ? ` ${c.args}` : ''}${c.json ? ' [--json]' : ''}`;
}

/** The overview (all subcommands, or those under `prefix`, e.g. 'tenants'). */
export function overview(set: CommandSet, prefix = ''): string {
  const shown = set.subcommands.filter((c) => !prefix || c.name === prefix || c.name.startsWith(`${prefix} `));
  const width = 44;
  const entries = shown.map((c) => {
    const usage = `${c.name}${c.args ? ` ${c.args}` : ''}${c.json ? ' [--json]' : ''}`;
    return usage.length < width - 2 ? `  ${usage.padEnd(width - 2)}${c.summary}` : `  ${usage}\n  ${' '.repeat(width - 2)}${c.summary}`;
  });
  return [
    `usage: ${set.program} <command> [arguments] [--help]`,
    set.about,
    '',
    ...entries,
    '',
    `${set.program} <command> --help for one command. ${EXIT_STATUS_NOTE}.`,
  ].join('\n');
}

function help(set: CommandSet, c: Subcommand): string {
  return [`usage: ${usageLine(set, c)}`, '', c.summary, ...(c.details ? [c.details] : []), '', EXIT_STATUS_NOTE].join('\n');
}

/**
 * `<x>` and `'<x>'` are required, `[<x>]` optional, `[<x>...]` any number more; option descriptions
 * (`[--x …]`) are not positionals.
 */
function positionalsOf(c: Subcommand): { required: string[]; optional: string[]; variadic: boolean } {
  const tokens = (c.args ?? '').match(/\[[^\]]*\]|'[^']*'|<[^>]+>|\S+/g) ?? [];
  return {
    required: tokens.filter((t) => /^'?<[^>]+>'?$/.test(t)),
    optional: tokens.filter((t) => /^\[<[^>]+>\]$/.test(t)),
    variadic: tokens.some((t) => /^\['?<[^>]+>'?(\.\.\.|…)\]$/.test(t)),
  };
}

export type Parsed =
  | { kind: 'help'; text: string }
  | { kind: 'run'; subcommand: Subcommand; args: string[]; values: OptionValues; json: boolean };

/** A usage error that knows which usage to show. */
class UsageIn extends UsageError {
  constructor(message: string, readonly usage: string) {
    super(message);
  }
}

function isParseArgsError(error: unknown): error is Error {
  return error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
}

/** Finds the subcommand (the longest name that argv starts with) and checks its arguments and options. */
export function parseCommandLine(set: CommandSet, argv: readonly string[]): Parsed {
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  const words = argv.filter((a) => a !== '--help' && a !== '-h');
  const subcommand = [...set.subcommands]
    .sort((a, b) => b.name.split(' ').length - a.name.split(' ').length)
    .find((c) => c.name.split(' ').every((w, i) => words[i] === w));
  if (!subcommand) {
    const prefix = words[0] && !words[0].startsWith('-') && set.subcommands.some((c) => c.name.startsWith(`${words[0]} `)) ? words[0] : '';
    if (wantsHelp && (words.length === 0 || (prefix && words.length === 1))) return { kind: 'help', text: overview(set, prefix) };
    const asked = words.filter((w) => !w.startsWith('-')).slice(0, 2).join(' ');
    throw new UsageIn(asked ? `unknown command: ${asked}` : 'a command is required', overview(set, prefix));
  }
  if (wantsHelp) return { kind: 'help', text: help(set, subcommand) };
  const usage = `usage: ${usageLine(set, subcommand)}\n(${set.program} ${subcommand.name} --help for more)`;
  const rest = argv.slice(subcommand.name.split(' ').length);
  let parsed;
  try {
    parsed = parseArgs({
      args: [...rest], allowPositionals: true, strict: true,
      options: { ...subcommand.options, ...(subcommand.json ? { json: { type: 'boolean', default: false } } : {}) },
    });
  } catch (error) {
    // node's message goes on about '--' after the first sentence.
    if (isParseArgsError(error)) throw new UsageIn(error.message.split(/(?<=\.) /)[0]!, usage);
    throw error;
  }
  const { required, optional, variadic } = positionalsOf(subcommand);
  if (parsed.positionals.length < required.length) throw new UsageIn(`missing ${required.slice(parsed.positionals.length).join(' ')}`, usage);
  if (!variadic && parsed.positionals.length > required.length + optional.length) {
    throw new UsageIn(`unexpected argument: ${parsed.positionals[required.length + optional.length]}`, usage);
  }
  return { kind: 'run', subcommand, args: parsed.positionals, values: parsed.values as OptionValues, json: parsed.values.json === true };
}

function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  // A tab or newline inside a value would break the columns.
  return String(value).replace(/[\t\r\n]+/g, ' ');
}

function callFor(parsed: Extract<Parsed, { kind: 'run' }>, out: (line: string) => void, config?: Config): Call {
  return {
    config: () => config ?? commandConfig(),
    args: parsed.args,
    values: parsed.values,
    out,
    json: parsed.json,
    table(rows, columns) {
      if (parsed.json) return out(JSON.stringify(rows, null, 2));
      const accessors: [string, (row: never) => unknown][] = Array.isArray(columns)
        ? columns.map((k) => [k, (row: Record<string, unknown>) => row[k]] as [string, (row: never) => unknown])
        : Object.entries(columns);
      out(accessors.map(([header]) => header).join('\t'));
      for (const row of rows) out(accessors.map(([, get]) => cell(get(row as never))).join('\t'));
    },
    record(fields) {
      if (parsed.json) return out(JSON.stringify(fields, null, 2));
      for (const [key, value] of Object.entries(fields)) out(`${key}\t${cell(value)}`);
    },
  };
}

/** Parses and runs one command on an owner connection (tests call this); returns the exit status. */
export async function runSubcommand(set: CommandSet, owner: postgres.Sql, argv: readonly string[], out: (line: string) => void, config?: Config): Promise<number> {
  const parsed = parseCommandLine(set, argv);
  if (parsed.kind === 'help') {
    out(parsed.text);
    return EXIT.ok;
  }
  return runParsed(set, parsed, owner, out, config);
}

async function runParsed(set: CommandSet, parsed: Extract<Parsed, { kind: 'run' }>, owner: postgres.Sql, out: (line: string) => void, config?: Config): Promise<number> {
  try {
    return (await parsed.subcommand.run(owner, callFor(parsed, out, config))) ?? EXIT.ok;
  } catch (error) {
    // A value the subcommand refused: show its usage with the message.
    if (error instanceof UsageError && !(error instanceof UsageIn)) throw new UsageIn(error.message, `usage: ${usageLine(set, parsed.subcommand)}`);
    throw error;
  }
}

function commandLogger(config: Config) {
  // Standard output is the command's answer (and may be JSON): the log goes to standard error.
  const level = config.logLevel === 'debug' || config.logLevel === 'trace' ? config.logLevel : 'error';
  return pino({ level, base: { service: 'commerce-mcp' } }, pino.destination(2));
}

/** Runs `fn` with an owner connection to the database the service uses (see openOwnerDatabase). */
export async function withOwnerDatabase<T>(config: Config, fn: (owner: postgres.Sql) => Promise<T>, max = 1): Promise<T> {
  const db = await openOwnerDatabase(config, commandLogger(config));
  const owner = postgres(db.ownerUrl, { max, onnotice: () => {} });
  try {
    return await fn(owner);
  } finally {
    await owner.end({ timeout: 5 }).catch(() => {});
    await db.close();
  }
}

/** Loads the configuration for a command line, or explains why it cannot (exit status 2). */
export function commandConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageIn(error.message, '');
    throw error;
  }
}

/** The exit status for an error, after saying it on standard error in one line (a stack only when debugging). */
export function reportError(error: unknown, showStack: boolean): number {
  if (error instanceof OutputClosed) return EXIT.ok;
  if (error instanceof UsageError || isParseArgsError(error)) {
    printError(error, false);
    if (error instanceof UsageIn && error.usage) process.stderr.write(`${error.usage}\n`);
    return EXIT.usage;
  }
  printError(error instanceof CommandFailed ? error.message : error, showStack && !(error instanceof CommandFailed));
  return EXIT.failed;
}

/** The entry point of an owner command: parse, --help without a database, run, exit with the status. */
export async function runCommandLine(set: CommandSet, argv: readonly string[] = process.argv.slice(2)): Promise<never> {
  let showStack = false;
  watchTerminal(() => showStack);
  let code: number;
  try {
    const parsed = parseCommandLine(set, argv);
    if (parsed.kind === 'help') {
      writeLine(parsed.text);
      code = EXIT.ok;
    } else {
      const config = commandConfig();
      showStack = config.logLevel === 'debug' || config.logLevel === 'trace';
      code = await withOwnerDatabase(config, (owner) => runParsed(set, parsed, owner, writeLine, config));
    }
  } catch (error) {
    code = reportError(error, showStack);
  }
  exitWith(code);
}

/** True when `moduleUrl` is the script node was started with (not imported by a test). */
export function isEntryPoint(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && moduleUrl === pathToFileURL(process.argv[1]).href;
}
