#!/usr/bin/env node
/**
 * The `stride` executable (package.json "bin"). All the work is in program.ts;
 * this file only runs it and sets the exit code.
 */
import { main } from './program.js';

// `stride ... | head` closes the pipe early; that is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

process.exitCode = await main(process.argv.slice(2));
