/**
 * What the JavaScript peer runners share in Node: the workload table
 * (bench/workloads.json: batch, FLOPs per iteration, default iterations),
 * their command line, and the JSON lines (in the schema of `stride bench
 * --json`) printed; the timing loop, the inputs and the result lines are in
 * steps.mjs, which the browser benchmark's page loads too.
 *
 *   node bench/peers/<peer>.mjs [--backend B] [--threads N] [--iterations N]
 *        [--warmup N] [--max-seconds S] [workload ...]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstLine, resultLine, timeSteps, unsupportedLine } from './steps.mjs';

export { firstLine, labels, randomArray } from './steps.mjs';

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WORKLOADS = JSON.parse(readFileSync(join(BENCH_DIR, 'workloads.json'), 'utf8'));
/** require() resolving from bench/ (its node_modules), whatever the working directory. */
export const benchRequire = createRequire(join(BENCH_DIR, 'package.json'));

/** The version of a package installed in bench/node_modules. */
export function packageVersion(name) {
  return JSON.parse(readFileSync(join(BENCH_DIR, 'node_modules', ...name.split('/'), 'package.json'), 'utf8')).version;
}

export function parseArgs(argv = process.argv.slice(2)) {
  const opts = { backend: undefined, threads: undefined, iterations: undefined, warmup: undefined, maxSeconds: undefined, workloads: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--backend') opts.backend = value();
    else if (a === '--threads') opts.threads = Number(value());
    else if (a === '--iterations') opts.iterations = Number(value());
    else if (a === '--warmup') opts.warmup = Number(value());
    else if (a === '--max-seconds') opts.maxSeconds = Number(value());
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else if (!(a in WORKLOADS)) throw new Error(`unknown workload '${a}'; one of ${Object.keys(WORKLOADS).join(', ')}`);
    else opts.workloads.push(a);
  }
  if (opts.workloads.length === 0) opts.workloads = Object.keys(WORKLOADS);
  return opts;
}

/** Prints the JSON line of a measured workload. */
export function report({ engine, workload, backend, threads, times, warmup, version, extra = {} }) {
  console.log(JSON.stringify(resultLine({ engine, workload, spec: WORKLOADS[workload], backend, threads, times, warmup, version, extra: { node: process.version, ...extra } })));
}

/** Prints the JSON line of a workload the engine cannot run (numbers null, the reason in `unsupported`). */
export function reportUnsupported({ engine, workload, backend, threads, reason, version }) {
  console.log(JSON.stringify(unsupportedLine({ engine, workload, spec: WORKLOADS[workload], backend, threads, reason, version, extra: { node: process.version } })));
}

/** Runs every requested workload: build(name) returns a step, or a string saying why it cannot run. */
export async function runAll({ engine, backend, threads, version, opts, build }) {
  for (const workload of opts.workloads) {
    const w = WORKLOADS[workload];
    let step;
    try {
      step = await build(workload);
    } catch (e) {
      step = `failed to build: ${firstLine(e)}`;
    }
    if (typeof step === 'string') {
      reportUnsupported({ engine, workload, backend, threads, reason: step, version });
      continue;
    }
    const warmup = opts.warmup ?? w.warmup;
    let times;
    try {
      times = await timeSteps(step, { iterations: opts.iterations ?? w.iterations, warmup, maxSeconds: opts.maxSeconds });
    } catch (e) {
      reportUnsupported({ engine, workload, backend, threads, reason: firstLine(e), version });
      continue;
    }
    report({ engine, workload, backend, threads, times, warmup, version });
  }
}
