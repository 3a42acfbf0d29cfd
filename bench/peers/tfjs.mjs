/**
 * TensorFlow.js (the pure-JavaScript `cpu` backend or the WebAssembly `wasm`
 * backend) on the workloads of `stride bench`.
 *
 *   node bench/peers/tfjs.mjs --backend cpu|wasm [--iterations N] [--warmup N] [--max-seconds S] [workload ...]
 *
 * The nets and steps are those of tfjs-workloads.mjs (tf.layers models in
 * TF.js's NHWC layout; the browser benchmark builds the same ones). The wasm
 * backend's .wasm files are loaded from bench/node_modules (nothing is
 * downloaded); in Node it runs one thread (no SIMD-threaded build there). It has no Conv2DBackpropFilter kernel, so it
 * cannot train: such workloads are reported as unsupported with TF.js's error.
 */
import { dirname, join } from 'node:path';
import { benchRequire, packageVersion, parseArgs, runAll } from './common.mjs';
import { tfjsStep } from './tfjs-workloads.mjs';

const opts = parseArgs();
const backend = opts.backend ?? 'wasm';
if (backend !== 'cpu' && backend !== 'wasm') throw new Error(`--backend must be cpu or wasm, got ${backend}`);

// TF.js prints a hint about tfjs-node on load; keep stdout for the JSON lines.
const log = console.log;
console.log = (...a) => console.error(...a);
const tf = benchRequire('@tensorflow/tfjs');
let threads = 1;
if (backend === 'wasm') {
  const wasm = benchRequire('@tensorflow/tfjs-backend-wasm');
  const dist = dirname(benchRequire.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths(dist + '/');
  await tf.setBackend('wasm');
  threads = wasm.getThreadsCount?.() ?? 1;
} else {
  await tf.setBackend('cpu');
}
await tf.ready();
console.log = log;
const version = packageVersion('@tensorflow/tfjs');

await runAll({ engine: 'tfjs', backend, threads, version, opts, build: (workload) => tfjsStep(tf, workload) });
