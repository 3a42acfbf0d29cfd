/**
 * The Node platform of the wasm backend (Node-only: node:os, node:v8,
 * node:worker_threads). Importing this module installs it; the Node entry
 * points (src/index-node.ts, src/node.ts, the test setup) do so, and the
 * isomorphic core never imports it.
 *
 * - cores: os.availableParallelism();
 * - workers: worker_threads running worker-node, unref'd so they never keep
 *   the process alive;
 * - Node 20 has relaxed SIMD behind --experimental-wasm-relaxed-simd; the flag
 *   is turned on here before the kernels are compiled (Node >= 22 has it on).
 */
import os from 'node:os';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { setWasmPlatform, type WasmPlatform } from './platform.js';

const workerUrl = import.meta.url.endsWith('.ts') ? new URL('./worker-node.ts', import.meta.url) : new URL('./worker-node.js', import.meta.url);

export const nodePlatform: WasmPlatform = {
  name: 'node',
  cores() {
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  },
  sharedMemory() {
    return typeof SharedArrayBuffer === 'function';
  },
  startWorker(init) {
    let worker: Worker;
    if (workerUrl.pathname.endsWith('.ts')) {
      // Running from TypeScript sources (tsx): the loader hooks do not reach
      // worker threads, so the worker registers tsx before importing its entry.
      const api = import.meta.resolve('tsx/esm/api');
      const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(workerUrl.href)}); })`;
      worker = new Worker(boot, { eval: true, workerData: init });
    } else {
      worker = new Worker(workerUrl, { workerData: init });
    }
    // A worker that fails to start never reports ready, so it is never given work.
    worker.on('error', () => {});
    worker.unref();
    return worker;
  },
  prepare() {
    try {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      // an engine without the flag: the plain SIMD build is used
    }
  },
};

setWasmPlatform(nodePlatform);
