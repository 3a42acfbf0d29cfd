/**
 * The `wasm` backend: AssemblyScript kernels compiled to WebAssembly SIMD
 * (kernels/, built by `npm run build:wasm`), threads through a shared memory.
 *
 * Initialization is lazy and, where the engine allows it (Node, Web Workers),
 * synchronous: the first kernel call compiles the module. A browser's main
 * thread may refuse synchronous compilation; there the reference kernels run
 * until the asynchronous compile that `ready()` awaits has finished.
 */
import type { Backend, BackendInfo } from '../backend.js';
import { wasmKernels } from './kernels.js';
import { getWasmPlatform, onWasmPlatformChange, type WasmPlatform } from './platform.js';
import { compileAsync, compileSync, kernelsSupported, WasmRuntime, type CompiledKernels } from './runtime.js';

let runtime: WasmRuntime | null = null;
let state: 'idle' | 'pending' | 'ready' | 'unavailable' = 'idle';
let pending: Promise<void> | null = null;
/** Threads asked for with setThreads; null = one per core. */
let wantThreads: number | null = null;

function install(c: CompiledKernels | null): void {
  if (!c) {
    state = 'unavailable';
    return;
  }
  runtime = new WasmRuntime(c, getWasmPlatform());
  runtime.setThreads(wantThreads ?? getWasmPlatform().cores());
  state = 'ready';
}

/** The runtime, initializing it on first use; null while unavailable or still compiling. */
export function wasmRuntime(): WasmRuntime | null {
  if (runtime) return runtime;
  if (state !== 'idle') return null;
  try {
    install(compileSync(getWasmPlatform()));
  } catch {
    // synchronous compilation refused (a browser's main thread): compile in the background
    state = 'pending';
    pending = compileAsync(getWasmPlatform()).then(install, () => {
      state = 'unavailable';
    });
  }
  return runtime;
}

/**
 * Resolves once the kernels are compiled (or known to be unavailable) and the
 * worker threads have started (they start asynchronously; until then every
 * kernel runs on the calling thread).
 */
export async function wasmReady(): Promise<boolean> {
  wasmRuntime();
  if (pending) await pending;
  if (runtime) await runtime.workersStarted();
  return runtime !== null;
}

let supported: boolean | null = null;

/** True when this engine can run the kernels (WebAssembly with SIMD); compiles nothing and starts no worker. */
export function wasmAvailable(): boolean {
  if (state === 'ready' || state === 'pending') return true;
  if (state === 'unavailable') return false;
  if (supported === null) supported = kernelsSupported();
  return supported;
}

/** Uses n threads (the calling one included); null goes back to one per core. */
export function setWasmThreads(n: number | null): void {
  wantThreads = n;
  runtime?.setThreads(n ?? getWasmPlatform().cores());
}

let callerRuntime: WasmRuntime | null = null;
/** True once building the caller runtime failed (no synchronous compile, no SIMD). */
let callerUnavailable = false;

/**
 * A second runtime of the same kernels on an unshared memory, for a caller
 * that runs every kernel on its own thread (the native backend, whose
 * OpenMP threads own the cores): copies into an unshared memory are a plain
 * memcpy, into a SharedArrayBuffer a slower relaxed-atomic copy (1.2 MB:
 * 27 us against 44-76 us; LeNet-5's first max pool, forward and backward,
 * 360 -> 300 us). Null where the kernels cannot compile synchronously
 * (a browser's main thread, no SIMD) or have not compiled yet.
 */
export function wasmCallerRuntime(): WasmRuntime | null {
  if (callerRuntime || callerUnavailable) return callerRuntime;
  try {
    const platform = getWasmPlatform();
    const unshared: WasmPlatform = { ...platform, sharedMemory: () => false, startWorker: () => null };
    const compiled = compileSync(unshared);
    if (compiled) callerRuntime = new WasmRuntime(compiled, unshared);
    else callerUnavailable = true;
  } catch {
    callerUnavailable = true;
  }
  return callerRuntime;
}

// A platform installed after the first use (Node's, which enables relaxed SIMD
// and workers) takes effect: the runtime is rebuilt on next use.
onWasmPlatformChange(() => {
  runtime?.dispose();
  runtime = null;
  callerRuntime = null;
  callerUnavailable = false;
  if (state !== 'pending') state = 'idle';
});

export const wasmBackend: Backend = {
  name: 'wasm',
  kernels: wasmKernels(wasmRuntime),
  info(): BackendInfo {
    const r = wasmRuntime();
    return {
      name: 'wasm',
      threads: r ? r.threads : 1,
      simd: r ? r.flavour : 'none',
      sharedMemory: r ? r.shared : false,
      detail: r
        ? `WebAssembly ${r.flavour === 'relaxed' ? 'relaxed SIMD (fused multiply-add)' : 'SIMD (multiply + add)'}, ${r.threads} thread${r.threads === 1 ? '' : 's'}${r.shared ? '' : ' (no shared memory)'}, platform ${getWasmPlatform().name}`
        : state === 'pending' ? 'WebAssembly kernels still compiling' : 'WebAssembly SIMD unavailable; the reference kernels run',
    };
  },
  setThreads(n: number | null): void {
    setWasmThreads(n);
  },
  async ready(): Promise<void> {
    await wasmReady();
  },
};
