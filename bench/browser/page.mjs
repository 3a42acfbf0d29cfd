/**
 * The browser benchmark's page: every engine asked for (?engines=...) in a
 * worker of its own, started one after the other; then, for each round, each
 * workload on each engine in turn (A B C A B C: other work on the machine
 * spreads over all of them). Each run is the workload's warm-up iterations
 * and its timed iterations (bench/workloads.json), reported as the median.
 * The results and the page's environment end up in `window.__bench`, which
 * bench/browser/run.mjs reads; progress goes to the console and the page.
 */
import workloads from '../workloads.json';
import { BROWSER_ENGINES, BROWSER_WORKLOADS } from './lists.mjs';

const q = new URLSearchParams(location.search);
const list = (name, fallback) => (q.get(name) ? q.get(name).split(',').filter(Boolean) : fallback);
const engineIds = list('engines', BROWSER_ENGINES);
const workloadNames = list('workloads', BROWSER_WORKLOADS);
const threads = Number(q.get('threads') ?? Math.min(2, navigator.hardwareConcurrency || 1));
const rounds = Number(q.get('rounds') ?? 3);
const maxSeconds = Number(q.get('maxSeconds') ?? 15);

const bench = {
  state: 'running',
  env: { crossOriginIsolated: self.crossOriginIsolated === true, hardwareConcurrency: navigator.hardwareConcurrency, userAgent: navigator.userAgent, threads, rounds, maxSeconds },
  engines: {},
  results: [],
  error: null,
};
window.__bench = bench;

const logBox = document.getElementById('log');
function log(line) {
  console.log(`bench: ${line}`);
  logBox.textContent += `${line}\n`;
}

/** A worker with request/reply by id; a worker that dies fails its pending request. */
function engineWorker() {
  const worker = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
  const pending = new Map();
  let next = 0;
  const failAll = (message) => {
    for (const p of pending.values()) p.reject(new Error(message));
    pending.clear();
  };
  worker.onmessage = (e) => {
    const p = pending.get(e.data.id);
    pending.delete(e.data.id);
    if (e.data.ok) p?.resolve(e.data.value);
    else p?.reject(new Error(e.data.message));
  };
  worker.onerror = (e) => failAll(`the worker failed: ${e.message || 'error loading it'}`);
  return {
    call: (kind, args) => new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, kind, args });
    }),
    terminate: () => worker.terminate(),
  };
}

async function main() {
  for (const w of workloadNames) if (!BROWSER_WORKLOADS.includes(w)) throw new Error(`unknown workload '${w}'; one of ${BROWSER_WORKLOADS.join(', ')}`);
  for (const id of engineIds) if (!BROWSER_ENGINES.includes(id)) throw new Error(`unknown engine '${id}'; one of ${BROWSER_ENGINES.join(', ')}`);
  log(`cross-origin isolated: ${bench.env.crossOriginIsolated}; ${navigator.hardwareConcurrency} cores; threads ${threads}; ${rounds} rounds`);
  const live = [];
  for (const id of engineIds) {
    const w = engineWorker();
    try {
      const info = await w.call('start', { id, threads, page: location.href });
      bench.engines[id] = { ...info, available: true };
      live.push({ id, w });
      log(`${id}: ${info.label}, ${info.threads} thread${info.threads === 1 ? '' : 's'} (${info.detail})`);
    } catch (e) {
      bench.engines[id] = { available: false, reason: e.message };
      w.terminate();
      log(`${id}: unavailable: ${e.message}`);
    }
  }
  for (let round = 1; round <= rounds; round++) {
    for (const workload of workloadNames) {
      for (const { id, w } of live) {
        if (bench.engines[id].failed) continue;
        let line;
        let busyBefore = null;
        try {
          // Built first, so that the wait for a quiet machine comes right before the timing, and only
          // where something is timed. The driver (bench/browser/run.mjs) waits; a page opened by hand does not.
          const reason = await w.call('prepare', { workload });
          if (!reason && window.__benchWaitQuiet) busyBefore = await window.__benchWaitQuiet();
          line = await w.call('run', { workload, spec: workloads[workload], maxSeconds });
        } catch (e) {
          // The worker died (out of memory, a crash): the engine's other runs are skipped.
          bench.engines[id].failed = e.message;
          line = { engine: id, workload, imagesPerSec: null, msPerIter: null, unsupported: `failed: ${e.message}` };
        }
        bench.results.push({ engineId: id, round, busyBefore, ...line });
        log(`[round ${round}/${rounds}] ${id} ${workload}: ${line.unsupported ? line.unsupported : `${Math.round(line.imagesPerSec).toLocaleString('en-US')} img/s, ${line.msPerIter} ms`}`);
      }
    }
  }
  for (const { w } of live) w.terminate();
}

main().then(
  () => {
    bench.state = 'done';
    log('done');
  },
  (e) => {
    bench.error = e instanceof Error ? e.message : String(e);
    bench.state = 'done';
    log(`error: ${bench.error}`);
  },
);
