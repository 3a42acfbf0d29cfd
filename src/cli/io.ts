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
  const sink = { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream & { isTTY?: boolean };
  return { lines, errors, out: (l) => void lines.push(l), err: (l) => void errors.push(l), progressStream: sink };
}
