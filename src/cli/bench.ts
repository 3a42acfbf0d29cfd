/**
 * `stride bench` and `stride info` as functions.
 *
 * The benchmark workloads (bench/workloads.json), the same in every engine that bench/run.mjs
 * compares (bench/peers/*): fixed random inputs, a fixed batch, `warmup`
 * untimed iterations, then `iterations` timed one by one; the reported time is
 * the median. GFLOPS are computed from the FLOPs each workload needs by the
 * formulas of workloads.ts (not measured), so every engine is credited the same work.
 */
import { backendInfo, getBackend, listBackends, type BackendInfo } from '../index.js';
import { nativeAvailable, nativeStatus, oneDnnAvailable, oneDnnStatus } from '../node.js';
import { consoleIO, type CliIO } from './io.js';
import { BACKEND_OPTIONS, integer, jsonOption, number, oneOf, option, type CliCommand, type OptionValues } from './options.js';
import { WORKLOADS, WORKLOAD_NAMES, buildWorkload, median, type WorkloadName } from './workloads.js';

/** The smallest and largest of a workload field over all workloads, for --help: "3-200". */
const rangeOf = (field: 'iterations' | 'warmup'): string => {
  const values = WORKLOAD_NAMES.map((n) => WORKLOADS[n][field]);
  return `${Math.min(...values)}-${Math.max(...values)}`;
};

/** The options of `stride bench` (without --backend, --threads, --json); the defaults are the workload's. */
export const BENCH_OPTIONS = {
  iterations: option({ flags: '--iterations <n>', help: 'timed iterations; the median is reported', parse: integer(1), defaultHelp: `per workload, ${rangeOf('iterations')}` }),
  warmup: option({ flags: '--warmup <n>', help: 'untimed iterations first', parse: integer(0, 'an integer >= 0'), defaultHelp: `per workload, ${rangeOf('warmup')}` }),
  maxSeconds: option({
    flags: '--max-seconds <s>', help: 'stop timing after this many seconds (at least one timed iteration runs)', parse: number((n) => n > 0, 'a number of seconds > 0'),
  }),
};

/** `stride bench`. */
export const BENCH_COMMAND = {
  name: 'bench',
  description: 'Time a workload of the benchmark (images/s, ms per iteration, GFLOPS); npm run bench compares engines',
  argument: { name: '<workload>', synopsis: 'WORKLOAD', help: `one of: ${WORKLOAD_NAMES.join(', ')}`, parse: oneOf(WORKLOAD_NAMES, 'workload') },
  options: { ...BENCH_OPTIONS, ...BACKEND_OPTIONS, json: jsonOption('workload, backend, threads, imagesPerSec, msPerIter, gflops, batch, iterations...') },
  afterHelp: `\nWorkloads:\n${WORKLOAD_NAMES.map((n) => `  ${n.padEnd(19)} ${WORKLOADS[n].description}`).join('\n')}`,
} satisfies CliCommand;

/** What runBench takes: the workload, the options, and the seed of its inputs (default 1). */
export type BenchCommandOptions = { workload: WorkloadName; seed?: number } & OptionValues<typeof BENCH_OPTIONS>;

export interface BenchSummary {
  engine: 'stride';
  workload: WorkloadName;
  backend: string;
  threads: number;
  imagesPerSec: number;
  msPerIter: number;
  gflops: number;
  batch: number;
  iterations: number;
  warmup: number;
  flopsPerIter: number;
  msMin: number;
  msMax: number;
  simd: BackendInfo['simd'];
}

/** Runs one workload on the backend in use and prints what it measured. */
export function runBench(options: BenchCommandOptions, io: CliIO = consoleIO()): BenchSummary {
  const w = WORKLOADS[options.workload];
  const iterations = options.iterations ?? w.iterations;
  const warmup = options.warmup ?? w.warmup;
  const info = backendInfo();
  io.out(`${w.name}: ${w.description}`);
  io.out(`backend ${info.name}, ${info.threads} thread${info.threads === 1 ? '' : 's'}, SIMD ${info.simd}; ${warmup} warm-up + ${iterations} timed iterations`);
  const step = buildWorkload(w.name, options.seed ?? 1);
  for (let i = 0; i < warmup; i++) step();
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    step();
    const now = performance.now();
    times.push(now - t);
    if (options.maxSeconds !== undefined && now - start > options.maxSeconds * 1000) break;
  }
  const ms = median(times);
  const summary: BenchSummary = {
    engine: 'stride', workload: w.name, backend: info.name, threads: info.threads,
    imagesPerSec: (w.batch * 1000) / ms, msPerIter: ms, gflops: w.flopsPerIter / (ms * 1e6),
    batch: w.batch, iterations: times.length, warmup, flopsPerIter: w.flopsPerIter,
    msMin: Math.min(...times), msMax: Math.max(...times), simd: info.simd,
  };
  if (times.length < iterations) io.out(`stopped after ${times.length} timed iterations (--max-seconds ${options.maxSeconds})`);
  io.out(`${fmt(ms, 2)} ms per iteration (median of ${times.length}; min ${fmt(summary.msMin, 2)}, max ${fmt(summary.msMax, 2)})`);
  io.out(`${fmt(summary.imagesPerSec, summary.imagesPerSec < 100 ? 1 : 0)} images/s, ${fmt(summary.gflops, 2)} GFLOPS (${fmt(w.flopsPerIter / 1e6, 1)} MFLOP per iteration)`);
  return summary;
}

function fmt(x: number, digits: number): string {
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The --json line: rounded numbers, same keys as the peers' runners in bench/peers/. */
export function benchJson(s: BenchSummary): string {
  const r = (x: number, d: number) => Number(x.toFixed(d));
  return JSON.stringify({
    ...s, imagesPerSec: r(s.imagesPerSec, 2), msPerIter: r(s.msPerIter, 3), gflops: r(s.gflops, 3),
    msMin: r(s.msMin, 3), msMax: r(s.msMax, 3), node: process.version,
  });
}

// ---------------------------------------------------------------------------
// stride info
// ---------------------------------------------------------------------------

/** `stride info`. */
export const INFO_COMMAND = {
  name: 'info',
  description: 'Print the backend in use, its threads and SIMD flavour, and whether OpenBLAS was found',
  options: { ...BACKEND_OPTIONS, json: jsonOption('backend, threads, simd, backends, openblas...') },
} satisfies CliCommand;

export interface InfoSummary {
  backend: string;
  threads: number;
  simd: BackendInfo['simd'];
  sharedMemory: boolean | null;
  backends: string[];
  openblas: boolean;
  openblasStatus: string;
  onednn: boolean;
  onednnStatus: string;
  detail: string | null;
}

/** Prints the backend in use, its threads and SIMD flavour, and whether OpenBLAS was found. */
export function runInfo(io: CliIO = consoleIO()): InfoSummary {
  const info = backendInfo();
  const openblas = nativeAvailable();
  const status = nativeStatus();
  const summary: InfoSummary = {
    backend: info.name, threads: info.threads, simd: info.simd, sharedMemory: info.sharedMemory ?? null,
    backends: listBackends(), openblas, openblasStatus: status, onednn: openblas && oneDnnAvailable(), onednnStatus: openblas ? oneDnnStatus() : 'not used: the native backend needs OpenBLAS', detail: info.detail ?? null,
  };
  const simd = { relaxed: 'WebAssembly relaxed SIMD (fused multiply-add)', plain: 'WebAssembly SIMD (no relaxed fused multiply-add)', none: 'none (plain JavaScript)' }[info.simd];
  io.out(`backend:   ${info.name}${getBackend().name !== info.name ? ` (${getBackend().name})` : ''}`);
  io.out(`threads:   ${info.threads}${info.sharedMemory === false ? ' (no shared memory: single-threaded)' : ''}`);
  io.out(`SIMD:      ${simd}`);
  io.out(`available: ${summary.backends.join(', ')}`);
  // nativeStatus() names the library and its kernels, or says why it is missing and the command that installs it.
  io.out(`OpenBLAS:  ${openblas ? 'found' : 'not found'}; ${status}`);
  io.out(`oneDNN:    ${summary.onednnStatus}`);
  // The native backend's detail starts with the OpenBLAS and oneDNN lines printed above.
  const both = `${status}; oneDNN ${summary.onednnStatus}`;
  const detail = info.detail?.startsWith(both) ? info.detail.slice(both.length).replace(/^[;,]\s*/, '') : info.detail;
  if (detail) io.out(`detail:    ${detail}`);
  return summary;
}
