/**
 * What every peer runner shares that needs no Node: the timing loop, the
 * median, the result line in the schema of `stride bench --json`, the labels
 * and the seeded inputs. bench/peers/common.mjs (the Node runners) re-exports
 * it; the browser benchmark's page (bench/browser/) imports it directly.
 */

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

/** The result of a measured workload (`spec`: its entry of bench/workloads.json). */
export function resultLine({ engine, workload, spec, backend, threads, times, warmup, version, extra = {} }) {
  const ms = median(times);
  return {
    engine, workload, backend, threads,
    imagesPerSec: r((spec.batch * 1000) / ms, 2), msPerIter: r(ms, 3), gflops: r(spec.flopsPerIter / (ms * 1e6), 3),
    batch: spec.batch, iterations: times.length, warmup, flopsPerIter: spec.flopsPerIter,
    msMin: r(Math.min(...times), 3), msMax: r(Math.max(...times), 3), version, ...extra,
  };
}

/** The result of a workload the engine cannot run: numbers null, the reason in `unsupported`. */
export function unsupportedLine({ engine, workload, spec, backend, threads, reason, version, extra = {} }) {
  return {
    engine, workload, backend, threads, imagesPerSec: null, msPerIter: null, gflops: null,
    batch: spec.batch, flopsPerIter: spec.flopsPerIter, unsupported: reason, version, ...extra,
  };
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
