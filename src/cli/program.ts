/**
 * The `stride` command line (commander). Every option is parsed and checked
 * here; a bad value is one line on stderr naming the option, and exit code 2.
 * Library errors caused by the input (StrideError: unknown model, corrupt
 * checkpoint...) are also exit 2 without a stack; anything else is a bug: the
 * stack is printed and the exit code is 1.
 */
import { createRequire } from 'node:module';

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

import { LR_SCHEDULES, StrideError, getBackend, listBackends, models, setBackend, setThreads, type LrScheduleName } from '../index.js';
import { registerNativeBackend } from '../node.js';
import { WORKLOADS, WORKLOAD_NAMES, benchJson, runBench, runInfo, type WorkloadName } from './bench.js';
import { datasets } from './datasets.js';
import { evalJson, runEval } from './eval.js';
import { consoleIO, type CliIO } from './io.js';
import { TRAIN_DEFAULTS, runTrain, trainJson, type OptimizerName } from './train.js';

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

function integer(min: number, what = `an integer >= ${min}`) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`Expected ${what}.`);
    return n;
  };
}

function number(check: (n: number) => boolean, what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`Expected ${what}.`);
    return n;
  };
}

function oneOf(names: string[], kind: string) {
  return (value: string): string => {
    if (!names.includes(value)) throw new InvalidArgumentError(`Unknown ${kind}; available: ${names.join(', ')}.`);
    return value;
  };
}

/** Selects the backend named by --backend (if any) with --threads (if given) and waits until it can run. */
async function useBackend(name: string | undefined, threads?: number): Promise<void> {
  if (name !== undefined) setBackend(name, threads !== undefined ? { threads } : {});
  else if (threads !== undefined) setThreads(threads);
  // Backends that compile their kernels asynchronously (wasm in a browser) say when they are ready.
  await (getBackend() as { ready?: () => Promise<unknown> }).ready?.();
}

function backendOption(): Option {
  const names = listBackends();
  return new Option('--backend <name>', `compute backend: ${names.join(', ')} (default: ${getBackend().name} on this machine)`).argParser(oneOf(names, 'backend'));
}

function threadsOption(): Option {
  return new Option('--threads <n>', 'threads for the kernels, the calling one included (default: one per core)').argParser(integer(1));
}

interface TrainFlags {
  backend?: string;
  threads?: number;
  dataset: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  optimizer?: OptimizerName;
  momentum?: number;
  lrSchedule?: LrScheduleName;
  limit?: number;
  testLimit?: number;
  seed?: number;
  out?: string;
  save: boolean;
  progress: boolean;
  json?: boolean;
}

interface EvalFlags {
  backend?: string;
  threads?: number;
  model: string;
  dataset?: string;
  batchSize?: number;
  testLimit?: number;
  json?: boolean;
}

interface BenchFlags {
  backend?: string;
  threads?: number;
  iterations?: number;
  warmup?: number;
  maxSeconds?: number;
  json?: boolean;
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
  stride train <model> [--dataset NAME] [--epochs N] [--batch-size N]
               [--optimizer sgd|adam] [--lr X] [--momentum X]
               [--lr-schedule constant|linear|cosine] [--limit N]
               [--test-limit N] [--seed N] [--out DIR | --no-save]
               [--backend NAME] [--threads N] [--no-progress] [--json]
  stride eval --model DIR [--dataset NAME] [--batch-size N] [--test-limit N]
              [--backend NAME] [--threads N] [--json]
  stride bench WORKLOAD [--backend NAME] [--threads N] [--iterations N]
               [--warmup N] [--max-seconds S] [--json]
  stride info [--backend NAME] [--threads N] [--json]

Examples:
  $ stride train lenet5 --dataset mnist
      one epoch on all 60,000 MNIST images (>= 0.98 test accuracy), saved
      to runs/lenet5-mnist/model.stride
  $ stride train lenet5 --dataset mnist --epochs 3 --optimizer adam --out runs/adam/
  $ stride eval --model runs/lenet5-mnist/
      reload the weights and measure the test accuracy

Exit codes: 0 success; 2 invalid arguments or input files (one line naming
the problem); 1 anything else: the system refused (e.g. --out not writable;
one line) or an unexpected error (a bug: the stack is printed).`,
    );

  const modelNames = Object.keys(models);
  const datasetNames = Object.keys(datasets);

  program
    .command('train')
    .description('Train a model on a dataset, print the test accuracy and save the weights')
    .argument('<model>', `model to train: ${modelNames.join(', ')}`, oneOf(modelNames, 'model'))
    .addOption(new Option('--dataset <name>', `dataset to train on: ${datasetNames.join(', ')}`).argParser(oneOf(datasetNames, 'dataset')).default('mnist'))
    .option('--epochs <n>', `passes over the training set (default: ${TRAIN_DEFAULTS.epochs})`, integer(1, 'a whole number of epochs >= 1'))
    .option('--batch-size <n>', `training examples per step (default: ${TRAIN_DEFAULTS.batchSize})`, integer(1, 'an integer >= 1'))
    .addOption(new Option('--optimizer <name>', `sgd (with momentum) or adam (default: ${TRAIN_DEFAULTS.optimizer})`).argParser(oneOf(['sgd', 'adam'], 'optimizer')))
    .option('--lr <x>', `learning rate > 0 (default: ${TRAIN_DEFAULTS.lr.sgd} for sgd, ${TRAIN_DEFAULTS.lr.adam} for adam)`, number((n) => n > 0, 'a learning rate > 0'))
    .option('--momentum <x>', `SGD momentum in [0, 1) (default: ${TRAIN_DEFAULTS.momentum}; sgd only)`, number((n) => n >= 0 && n < 1, 'a momentum in [0, 1)'))
    .addOption(
      new Option('--lr-schedule <name>', `learning rate over the run: constant, linear or cosine decay to 0, per step (default: ${TRAIN_DEFAULTS.lrSchedule})`).argParser(
        oneOf([...LR_SCHEDULES], 'schedule'),
      ),
    )
    .option('--limit <n>', 'train on the first N training images only (default: all)', integer(1))
    .option('--test-limit <n>', 'evaluate on the first N test images only (default: all)', integer(1))
    .option('--seed <n>', `seed for initialization and shuffling (default: ${TRAIN_DEFAULTS.seed})`, integer(0, 'an integer >= 0'))
    .option('--out <dir>', 'folder for the checkpoint model.stride, written atomically (default: runs/<model>-<dataset>/)')
    .option('--no-save', 'do not save the weights')
    .addOption(backendOption())
    .addOption(threadsOption())
    .option('--no-progress', 'no progress bar, even on a terminal (one line per epoch is always printed)')
    .option('--json', 'end the output with one JSON line: testAccuracy, trainImagesPerSec, seconds, model, epochs, batchSize, lr, optimizer, seed, backend, rssMiB (per epoch)...')
    .addHelpText(
      'after',
      `
On a terminal a progress bar shows epoch, batch k/K, the running mean loss,
images/s and the ETA; otherwise one line per epoch is printed. Inputs are
normalized with the dataset's mean and std (MNIST: 0.1307, 0.3081). The test
accuracy and the checkpoint's path end the output (before the --json line):
  test accuracy: 0.9871
  saved weights to runs/lenet5-mnist/model.stride`,
    )
    .action(async (model: string, flags: TrainFlags) => {
      if (flags.out !== undefined && !flags.save) throw new InvalidArgumentError('--out and --no-save contradict each other; pass one of them');
      await useBackend(flags.backend, flags.threads);
      const summary = await runTrain(
        {
          model, dataset: flags.dataset, epochs: flags.epochs, batchSize: flags.batchSize, optimizer: flags.optimizer, lr: flags.lr,
          momentum: flags.momentum, lrSchedule: flags.lrSchedule, limit: flags.limit, testLimit: flags.testLimit, seed: flags.seed,
          out: flags.save ? flags.out : null, progress: flags.progress && io.progressStream.isTTY === true,
        },
        io,
      );
      if (flags.json) io.out(trainJson(summary));
    });

  program
    .command('eval')
    .description('Reload saved weights and print the test accuracy')
    .requiredOption('--model <path>', 'checkpoint folder (holding model.stride, as written by train --out) or a .stride file')
    .addOption(new Option('--dataset <name>', `evaluate on this dataset (default: the one recorded in the checkpoint): ${datasetNames.join(', ')}`).argParser(oneOf(datasetNames, 'dataset')))
    .option('--batch-size <n>', 'examples per forward pass (default: 1000)', integer(1))
    .option('--test-limit <n>', 'evaluate on the first N test images only (default: all)', integer(1))
    .addOption(backendOption())
    .addOption(threadsOption())
    .option('--json', 'end the output with one JSON line: testAccuracy, testLoss, testImages, seconds, model, checkpoint, dataset, backend')
    .action(async (flags: EvalFlags) => {
      await useBackend(flags.backend, flags.threads);
      const summary = await runEval({ model: flags.model, dataset: flags.dataset, batchSize: flags.batchSize, testLimit: flags.testLimit }, io);
      if (flags.json) io.out(evalJson(summary));
    });

  program
    .command('bench')
    .description('Time a workload of the benchmark (images/s, ms per iteration, GFLOPS); npm run bench compares engines')
    .argument('<workload>', `one of: ${WORKLOAD_NAMES.join(', ')}`, oneOf(WORKLOAD_NAMES, 'workload'))
    .addOption(backendOption())
    .addOption(threadsOption())
    .option('--iterations <n>', 'timed iterations; the median is reported (default: per workload, 5-30)', integer(1))
    .option('--warmup <n>', 'untimed iterations first (default: per workload, 1-5)', integer(0, 'an integer >= 0'))
    .option('--max-seconds <s>', 'stop timing after this many seconds (at least one timed iteration runs)', number((n) => n > 0, 'a number of seconds > 0'))
    .option('--json', 'end the output with one JSON line: workload, backend, threads, imagesPerSec, msPerIter, gflops, batch, iterations...')
    .addHelpText('after', `\nWorkloads:\n${WORKLOAD_NAMES.map((n) => `  ${n.padEnd(19)} ${WORKLOADS[n].description}`).join('\n')}`)
    .action(async (workload: WorkloadName, flags: BenchFlags) => {
      await useBackend(flags.backend, flags.threads);
      const summary = runBench({ workload, iterations: flags.iterations, warmup: flags.warmup, maxSeconds: flags.maxSeconds }, io);
      if (flags.json) io.out(benchJson(summary));
    });

  program
    .command('info')
    .description('Print the backend in use, its threads and SIMD flavour, and whether OpenBLAS was found')
    .addOption(backendOption())
    .addOption(threadsOption())
    .option('--json', 'end the output with one JSON line: backend, threads, simd, backends, openblas...')
    .action(async (flags: { backend?: string; threads?: number; json?: boolean }) => {
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
    if (isSystemError(err)) {
      // The operating system refused (a folder that cannot be written, a full disk...): not a bug, no stack.
      io.err(`error: ${err.message}`);
      return EXIT_FAILURE;
    }
    io.err(`stride: unexpected error (please report it):\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return EXIT_FAILURE;
  }
}
