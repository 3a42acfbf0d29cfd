#!/usr/bin/env -S node --initial-heap-size=128
/**
 * The `stride` executable (package.json "bin"). All the work is in program.ts;
 * this file only runs it and sets the exit code.
 *
 * Node runs it with V8's initial heap at 128 MiB (the first line; `npm start`
 * and the benchmarks pass the same flag). Training allocates its tensors'
 * memory outside the JavaScript heap, and with V8's default start (a few MiB)
 * that memory makes V8 run a full collection every few steps: one LeNet-5
 * epoch on MNIST took 6.0-7.1 s with 78-91 full collections per 20,000
 * images, and 3.0-3.1 s with 5-7 at 64 MiB or more. V8 takes the setting only
 * on its command line (not from NODE_OPTIONS, not at run time).
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
