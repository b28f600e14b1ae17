// The command lines as an operator runs them: child processes (node with tsx), a data folder of
// their own, free ports. Used by the tests of npm run admin / actions / seed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer().once('error', fail).listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => done(port));
    });
  });
}

export interface Environment {
  dataDir: string;
  env: NodeJS.ProcessEnv;
  remove(): Promise<void>;
}

/** A fresh DATA_DIR and ports; the test runner's own database settings are left out. */
export async function commandEnvironment(): Promise<Environment> {
  const dataDir = await mkdtemp(join(tmpdir(), 'commerce-mcp-cli-'));
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TEST_') || k.endsWith('DATABASE_URL') || k === 'NODE_TEST_CONTEXT') delete env[k];
  Object.assign(env, {
    DATA_DIR: dataDir, NODE_ENV: 'development', LOG_LEVEL: 'warn', SEED_DEMO: 'true', HOST: '127.0.0.1', INTERNAL_HOST: '127.0.0.1',
    PORT: String(await freePort()), INTERNAL_PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()),
  });
  return { dataDir, env, remove: () => rm(dataDir, { recursive: true, force: true }) };
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function finished(child: ChildProcess): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr?.on('data', (c: Buffer) => { stderr += c.toString(); });
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Runs a TypeScript file of the repository (node with tsx) to the end. */
export function runScript(env: NodeJS.ProcessEnv, path: string, ...args: string[]): Promise<Finished> {
  return finished(spawn(process.execPath, ['--import', 'tsx', path, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Runs `src/cli/<script>.ts …args` to the end. */
export function runCommand(env: NodeJS.ProcessEnv, script: 'admin' | 'actions' | 'seed', ...args: string[]): Promise<Finished> {
  return runScript(env, `src/cli/${script}.ts`, ...args);
}

/** Runs a shell pipeline (bash, pipefail: the status is the first failing command's). */
export function runPipeline(env: NodeJS.ProcessEnv, pipeline: string): Promise<Finished> {
  return finished(spawn('bash', ['-c', `set -o pipefail; ${pipeline}`], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

export interface RunningService {
  pid: number;
  /** SIGTERM, then waits for the process to end. */
  stop(): Promise<void>;
}

/** `npm start` (src/main.ts) on this environment; resolves once the banner is printed. */
export async function startService(env: NodeJS.ProcessEnv): Promise<RunningService> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ended = finished(child);
  let output = '';
  await new Promise<void>((ready, fail) => {
    child.stdout!.on('data', (c: Buffer) => {
      output += c.toString();
      if (output.includes('commerce-mcp is up')) ready();
    });
    void ended.then((r) => fail(new Error(`the service ended before it was up (status ${r.code}): ${r.stdout}${r.stderr}`)));
  });
  return {
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await ended;
    },
  };
}

/** A trace printed by node names frames as "    at fn (file:line)". */
export const STACK_FRAME = /^\s+at .+/m;
