import { Writable } from 'node:stream';

/** Where the command line writes: results to stdout, progress and errors to stderr. Tests pass their own. */
export interface CliIO {
  /** One line of results (stdout). */
  out(line: string): void;
  /** One line of diagnostics (stderr). */
  err(line: string): void;
  /** Where the progress bar is drawn; it is drawn only when this is a TTY. */
  progressStream: NodeJS.WritableStream & { isTTY?: boolean };
}

export function consoleIO(): CliIO {
  return {
    out: (line) => void process.stdout.write(line + '\n'),
    err: (line) => void process.stderr.write(line + '\n'),
    progressStream: process.stderr,
  };
}

/** An IO that keeps the lines (for tests and quiet runs); no bar. */
export function memoryIO(): CliIO & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  // A stream that drops what it is given and is not a terminal, so no bar is drawn.
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  return { lines, errors, out: (l) => void lines.push(l), err: (l) => void errors.push(l), progressStream: sink };
}
