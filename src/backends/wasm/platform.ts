/**
 * What the wasm backend needs from its host that differs between Node and
 * browsers: the core count, worker threads, and whether shared memory and
 * blocking waits are allowed. This file is isomorphic; the default platform
 * uses only web APIs (navigator, Worker, crossOriginIsolated). Node installs
 * its own with `import './node.js'` (a Node-only module: worker_threads, os,
 * v8 flags), which the Node entry points do.
 */

/** Everything a worker needs to join: the compiled kernels, the shared memory and its slot. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte address of the control block in `memory`. */
  ctrl: number;
  /** Worker number, 1 .. threads-1 (0 is the calling thread). */
  index: number;
}

export interface WorkerHandle {
  terminate(): void;
}

export interface WasmPlatform {
  readonly name: string;
  /** Logical cores available to this process. */
  cores(): number;
  /** True when a shared WebAssembly.Memory can be created and passed to workers. */
  sharedMemory(): boolean;
  /** Starts a worker that runs the worker loop (worker-core.ts) for `init`; null if workers are unavailable. */
  startWorker(init: WorkerInit): WorkerHandle | null;
  /** Called once before the kernels are compiled (Node 20: turns on relaxed SIMD). */
  prepare?(): void;
}

/** The platform of browsers and Web Workers (and the fallback anywhere else). */
export const webPlatform: WasmPlatform = {
  name: 'web',
  cores() {
    const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
    return typeof n === 'number' && n >= 1 ? Math.floor(n) : 1;
  },
  sharedMemory() {
    // Pages need cross-origin isolation (COOP + COEP) for SharedArrayBuffer.
    return typeof SharedArrayBuffer === 'function' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  },
  startWorker(init) {
    if (typeof Worker !== 'function') return null;
    // The literal `new Worker(new URL('./x.js', import.meta.url), { type: 'module' })` form is the one
    // bundlers (Vite, webpack 5) recognise and bundle as a worker entry; '.js' resolves to the
    // TypeScript source under a bundler and is the compiled file in dist/. An app that serves the
    // worker some other way installs its own platform with setWasmPlatform.
    const worker = new Worker(new URL('./worker-browser.js', import.meta.url), { type: 'module' });
    worker.postMessage(init);
    return worker;
  },
};

let platform: WasmPlatform = webPlatform;
const listeners: (() => void)[] = [];

/** Installs the platform (Node's entry does this); backends built on it re-check their threads. */
export function setWasmPlatform(p: WasmPlatform): void {
  platform = p;
  for (const f of listeners) f();
}

export function getWasmPlatform(): WasmPlatform {
  return platform;
}

/** Called after each setWasmPlatform. */
export function onWasmPlatformChange(f: () => void): void {
  listeners.push(f);
}
