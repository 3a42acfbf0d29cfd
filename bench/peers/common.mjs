/**
 * What the JavaScript peer runners share: the workload table
 * (bench/workloads.json: batch, FLOPs per iteration, default iterations),
 * their command line, the timing loop and the JSON line in the schema of
 * `stride bench --json`.
 *
 *   node bench/peers/<peer>.mjs [--backend B] [--threads N] [--iterations N]
 *        [--warmup N] [--max-seconds S] [workload ...]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Runs `step` (sync or async) `warmup` times, then up to `iterations` timed
 * times (stopping after maxSeconds, with at least one); returns the times in ms.
 */
export async function timeSteps(step, { iterations, warmup, maxSeconds }) {
  for (let i = 0; i < warmup; i++) await step();
  const times = [];
  const start = performance.now();
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await step();
    const now = performance.now();
    times.push(now - t);
    if (maxSeconds !== undefined && now - start > maxSeconds * 1000) break;
  }
  return times;
}

const r = (x, d) => Number(x.toFixed(d));

/** Prints the JSON line of a measured workload. */
export function report({ engine, workload, backend, threads, times, warmup, version, extra = {} }) {
  const w = WORKLOADS[workload];
  const ms = median(times);
  console.log(JSON.stringify({
    engine, workload, backend, threads,
    imagesPerSec: r((w.batch * 1000) / ms, 2), msPerIter: r(ms, 3), gflops: r(w.flopsPerIter / (ms * 1e6), 3),
    batch: w.batch, iterations: times.length, warmup, flopsPerIter: w.flopsPerIter,
    msMin: r(Math.min(...times), 3), msMax: r(Math.max(...times), 3), version, node: process.version, ...extra,
  }));
}

/** Prints the JSON line of a workload the engine cannot run (numbers null, the reason in `unsupported`). */
export function reportUnsupported({ engine, workload, backend, threads, reason, version }) {
  const w = WORKLOADS[workload];
  console.log(JSON.stringify({
    engine, workload, backend, threads, imagesPerSec: null, msPerIter: null, gflops: null,
    batch: w.batch, flopsPerIter: w.flopsPerIter, unsupported: reason, version, node: process.version,
  }));
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

export function firstLine(e) {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}

/** Labels 0..9 in the fixed order every engine uses. */
export function labels(n) {
  return Array.from({ length: n }, (_, i) => (i * 7) % 10);
}

/** A seeded uniform [-1, 1) generator (mulberry32), for inputs. */
export function rng(seed = 1) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

export function randomArray(n, seed = 1) {
  const g = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = g();
  return a;
}
