/**
 * The `stride` command line (commander). Each command declares its options
 * next to its run function (TRAIN_COMMAND in train.ts, ...; see options.ts);
 * here they become commander commands, and the help's synopsis is derived from
 * them. A bad value is one line on stderr naming the option, and exit code 2.
 * Library errors caused by the input (StrideError: unknown model, corrupt
 * checkpoint...) are also exit 2 without a stack; anything else is a bug: the
 * stack is printed and the exit code is 1.
 */
import { createRequire } from 'node:module';

import { Command, CommanderError, InvalidArgumentError } from 'commander';

import { StrideError, getBackend, setBackend, setThreads, type WindowKind } from '../index.js';
import { registerNativeBackend } from '../node.js';
import { BENCH_COMMAND, INFO_COMMAND, benchJson, runBench, runInfo } from './bench.js';
import type { WorkloadName } from './workloads.js';
import { EVAL_COMMAND, evalJson, runEval } from './eval.js';
import { EXPLAIN_COMMAND, explainJson, runExplain } from './explain.js';
import { EXPORT_COMMAND, runExport } from './export.js';
import { consoleIO, type CliIO } from './io.js';
import { addCommand, synopsis, type CliCommand } from './options.js';
import { SHOW_BATCH_COMMAND, runShowBatch } from './show-batch.js';
import { STATS_COMMAND, runStats } from './stats.js';
import { SUMMARY_COMMAND, runSummary } from './summary.js';
import { TRAIN_COMMAND, TrainingInterrupted, runTrain, trainJson } from './train.js';

/** The package version (package.json is two folders up from both src/cli and dist/cli). */
function packageVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Exit codes. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** Stopped by Ctrl-C (128 + SIGINT's number, as shells report it). */
export const EXIT_INTERRUPTED = 130;

/** The commands, in the order `stride --help` lists them. */
export const COMMANDS: readonly CliCommand[] = [TRAIN_COMMAND, EVAL_COMMAND, SHOW_BATCH_COMMAND, STATS_COMMAND, EXPORT_COMMAND, SUMMARY_COMMAND, EXPLAIN_COMMAND, BENCH_COMMAND, INFO_COMMAND];

/** The synopsis of every command, as `stride --help` and the README's "The command line" print it. */
export function commandSynopsis(): string {
  return COMMANDS.flatMap((c) => synopsis(c)).join('\n');
}

/** Selects the backend named by --backend (if any) with --threads (if given) and waits until it can run. */
async function useBackend(name: string | undefined, threads?: number): Promise<void> {
  if (name !== undefined) setBackend(name, threads !== undefined ? { threads } : {});
  else if (threads !== undefined) setThreads(threads);
  // Backends that compile their kernels asynchronously (wasm in a browser) say when they are ready.
  await (getBackend() as { ready?: () => Promise<unknown> }).ready?.();
}

/** Builds the program; `io` receives the output of the commands. */
export function createProgram(io: CliIO = consoleIO()): Command {
  const program = new Command('stride');
  program
    .description('Stride: convolutional neural networks in TypeScript with PyTorch semantics. Train and evaluate CNNs from the command line.')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help for a command')
    .helpCommand('help [command]', 'show help for a command')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) })
    .addHelpText(
      'after',
      `
Commands and their options (stride <command> --help explains each):
${commandSynopsis().replace(/^/gm, '  ')}

Examples:
  $ stride train lenet5 --dataset mnist
      one epoch on all 60,000 MNIST images (>= 0.98 test accuracy), saved
      to runs/lenet5-mnist/model.stride
  $ stride train lenet5 --dataset mnist --epochs 3 --optimizer adam --out runs/adam/
  $ stride eval --model runs/lenet5-mnist/
      reload the weights and measure the test accuracy
  $ stride train lenet5 --dataset folder --data-dir photos --input 3x64x64 --augment
      a folder of PNG/JPEG images, one sub-folder per class, each image
      resized to 3x64x64, training batches flipped and cropped
  $ stride show-batch --dataset mnist --augment --out batch.png
      a grid of 16 augmented training images (before normalization), labelled
  $ stride summary alexnet
      per layer: parameters, connections, multiply-accumulates, receptive field

Exit codes: 0 success; 2 invalid arguments or input files (one line naming
the problem); 1 anything else: the system refused (e.g. --out not writable;
one line) or an unexpected error (a bug: the stack is printed).`,
    );

  addCommand(program, TRAIN_COMMAND, async (flags, model) => {
    await useBackend(flags.backend, flags.threads);
    const summary = await runTrain({ ...flags, model, progress: flags.progress !== false && io.progressStream.isTTY === true }, io);
    if (flags.json) io.out(trainJson(summary));
  });

  addCommand(program, EVAL_COMMAND, async (flags) => {
    await useBackend(flags.backend, flags.threads);
    // --model is a mandatory option: commander has refused a command line without it.
    const summary = await runEval({ ...flags, model: flags.model! }, io);
    if (flags.json) io.out(evalJson(summary));
  });

  addCommand(program, SHOW_BATCH_COMMAND, async (flags) => {
    await runShowBatch(flags, io);
  });

  addCommand(program, STATS_COMMAND, async (flags) => {
    // Sums over the images: no backend to wait for.
    await runStats(flags, io);
  });

  addCommand(program, EXPORT_COMMAND, async (flags) => {
    await useBackend(flags.backend, flags.threads);
    const summary = await runExport(flags, io);
    if (flags.json) io.out(JSON.stringify(summary));
  });

  addCommand(program, SUMMARY_COMMAND, async (flags, model) => {
    await useBackend(flags.backend, flags.threads);
    await runSummary({ ...flags, model }, io);
  });

  addCommand(program, EXPLAIN_COMMAND, async (flags, kind) => {
    // Pure arithmetic: no backend to wait for.
    const explanation = runExplain({ ...flags, kind: kind as WindowKind }, io);
    if (flags.json) io.out(explainJson(explanation));
  });

  addCommand(program, BENCH_COMMAND, async (flags, workload) => {
    await useBackend(flags.backend, flags.threads);
    const summary = runBench({ ...flags, workload: workload as WorkloadName }, io);
    if (flags.json) io.out(benchJson(summary));
  });

  addCommand(program, INFO_COMMAND, async (flags) => {
    await useBackend(flags.backend, flags.threads);
    const summary = runInfo(io);
    if (flags.json) io.out(JSON.stringify(summary));
  });

  return program;
}

/** An error from a system call (fs, net): it has an errno code like 'EACCES' and the call's name. */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/** Runs the command line on `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[], io: CliIO = consoleIO()): Promise<number> {
  // The backends --backend offers: ref, wasm, and native when OpenBLAS is found, which is then the default.
  registerNativeBackend();
  const program = createProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed the message (or the help) already.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
      if (err.code === 'commander.help') return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
      if (err instanceof InvalidArgumentError && !err.message.startsWith('error:')) io.err(`error: ${err.message}`); // thrown by an action
      return EXIT_USAGE;
    }
    if (err instanceof StrideError) {
      io.err(`error: ${err.message}`);
      return EXIT_USAGE;
    }
    if (err instanceof TrainingInterrupted) {
      io.err(err.message);
      return EXIT_INTERRUPTED;
    }
    if (isSystemError(err)) {
      // The operating system refused (a folder that cannot be written, a full disk...): not a bug, no stack.
      io.err(`error: ${err.message}`);
      return EXIT_FAILURE;
    }
    io.err(`stride: unexpected error (please report it):\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return EXIT_FAILURE;
  }
}
