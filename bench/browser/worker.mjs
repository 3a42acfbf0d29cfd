/**
 * One engine of the browser benchmark, in a worker of its own (as the web app
 * runs Stride): `start` loads and configures the engine; `prepare` builds a
 * workload (once; later rounds reuse it) or says why the engine cannot run
 * it; `run` runs its warm-up iterations, times its iterations and replies
 * with the result line (bench/peers/steps.mjs).
 */
import { loaders } from 'virtual:bench-engines';
import { firstLine, resultLine, timeSteps, unsupportedLine } from '../peers/steps.mjs';

const ENGINES = {
  'stride-wasm': { engine: 'stride', module: 'stride', options: {} },
  'tfjs-wasm': { engine: 'tfjs', module: 'tfjs', options: { backend: 'wasm' } },
  'tfjs-webgl': { engine: 'tfjs', module: 'tfjs', options: { backend: 'webgl' } },
  'onnxruntime-web': { engine: 'onnxruntime-web', module: 'onnxruntime', options: {} },
};

let engine = null;
let name = '';
let info = null;
const steps = new Map();

async function start({ id, threads, page }) {
  const e = ENGINES[id];
  if (!e) throw new Error(`unknown engine ${id}`);
  name = e.engine;
  engine = await loaders[e.module]();
  info = await engine.start({ ...e.options, threads, page });
  return info;
}

/** Builds the workload (once; later rounds reuse it); returns null, or why the engine cannot run it. */
async function prepare({ workload }) {
  if (!steps.has(workload)) {
    let step;
    try {
      step = await engine.build(workload);
    } catch (e) {
      step = `failed to build: ${firstLine(e)}`;
    }
    steps.set(workload, step);
  }
  const step = steps.get(workload);
  return typeof step === 'string' ? step : null;
}

/** Runs the prepared workload's warm-up iterations, times its iterations, returns the result line. */
async function run({ workload, spec, maxSeconds }) {
  const base = { engine: name, workload, spec, backend: info.backend, threads: info.threads, version: info.version };
  const reason = await prepare({ workload });
  if (reason) return unsupportedLine({ ...base, reason });
  try {
    const times = await timeSteps(steps.get(workload), { iterations: spec.iterations, warmup: spec.warmup, maxSeconds });
    return resultLine({ ...base, times, warmup: spec.warmup });
  } catch (e) {
    return unsupportedLine({ ...base, reason: `failed: ${firstLine(e)}` });
  }
}

self.onmessage = async (e) => {
  const { kind, id, args } = e.data;
  try {
    const value = kind === 'start' ? await start(args) : kind === 'prepare' ? await prepare(args) : await run(args);
    self.postMessage({ id, ok: true, value });
  } catch (err) {
    self.postMessage({ id, ok: false, message: firstLine(err) });
  }
};
