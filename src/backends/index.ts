import { ValueError } from '../errors.js';
import { checkOptions } from '../validate.js';
import type { Backend, BackendInfo } from './backend.js';
import { refBackend } from './ref/index.js';
import { wasmAvailable, wasmBackend } from './wasm/index.js';
import { getWasmPlatform } from './wasm/platform.js';

export type { Backend, BackendInfo, KernelName, KernelSignatures, Conv2dGeometry, Pool2dGeometry, UnaryOp, BinaryOp, ReduceOp } from './backend.js';

/**
 * The backends that can be selected. Importing this module registers only
 * `ref`, the plain-TypeScript oracle that runs everywhere; the entry points
 * register the others explicitly: registerDefaultBackends (src/index.ts) adds
 * `wasm`, registerNativeBackend (src/node.ts) adds `native`.
 */
const registry = new Map<string, Backend>([[refBackend.name, refBackend]]);
let current: Backend = refBackend;
/** True once setBackend was called: an explicit choice that preferBackend never overrides. */
let chosenExplicitly = false;

/**
 * Registers the backends of every platform: `wasm` wherever the engine has
 * WebAssembly SIMD, made the default unless setBackend already chose (it
 * runs the same kernels as `ref`, several times faster). Without SIMD `ref`
 * stays. Called by the entry points and the tools that start the
 * library (the CLI, the conformance runner, the test setup); calling it again
 * does nothing.
 */
export function registerDefaultBackends(): void {
  if (registry.has(wasmBackend.name) || !wasmAvailable()) return;
  registry.set(wasmBackend.name, wasmBackend);
  preferBackend(wasmBackend.name);
}

/** Makes a backend available to `setBackend` by its name. */
export function registerBackend(backend: Backend): void {
  registry.set(backend.name, backend);
}

/** Names of the backends that can be selected now. */
export function listBackends(): string[] {
  return [...registry.keys()];
}

/** Options of setBackend. */
export interface BackendOptions {
  /** Threads for the backend's kernels, the calling one included (default: one per core). */
  threads?: number;
}

/** Selects the backend every op uses from now on (and, with `threads`, how many threads it uses). */
export function setBackend(name: string, options: BackendOptions = {}): Backend {
  const b = registry.get(name);
  if (!b) throw new ValueError(`setBackend: unknown backend '${name}'; available: ${listBackends().join(', ')}`);
  checkOptions('setBackend', options, ['threads']);
  if (options.threads !== undefined) checkThreads('setBackend', options.threads);
  current = b;
  if (options.threads !== undefined) b.setThreads?.(options.threads);
  chosenExplicitly = true;
  return b;
}

/**
 * Makes a registered backend the one in use unless a backend was chosen with
 * setBackend: how an entry point installs a better default (the Node entry
 * prefers `native` when OpenBLAS is found) without overriding the user.
 * Returns whether it switched.
 */
export function preferBackend(name: string): boolean {
  const b = registry.get(name);
  if (!b || chosenExplicitly) return false;
  current = b;
  return true;
}

/** The backend in use. */
export function getBackend(): Backend {
  return current;
}

function checkThreads(where: string, n: unknown): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new ValueError(`${where}: threads must be an integer >= 1, got ${String(n)}; use 1 for single-threaded kernels`);
  }
  // more threads than cores only take turns on them: every kernel's split would wait for the slowest share
  const cores = getWasmPlatform().cores();
  if (n > cores) throw new ValueError(`${where}: threads must be at most the ${cores} logical core${cores === 1 ? '' : 's'} this process has, got ${n}; leave it out for one per core`);
}

/** Uses n threads (the calling one included) in every backend that has threads; null restores one per core. */
export function setThreads(n: number | null): void {
  if (n !== null) checkThreads('setThreads', n);
  for (const b of registry.values()) b.setThreads?.(n);
}

/** The backend in use: its name, threads, SIMD flavour (what `stride info` prints). */
export function backendInfo(): BackendInfo {
  return current.info?.() ?? { name: current.name, threads: 1, simd: 'none' };
}

/** Resolves once the backend in use runs its own kernels (in a browser's main thread the wasm kernels compile asynchronously). */
export async function ready(): Promise<BackendInfo> {
  await current.ready?.();
  return backendInfo();
}

/**
 * The kernels for arrays of this element type. Fast backends are float32 only;
 * float64 work (gradient checks) always runs on `ref`.
 */
export function kernelsFor(dtype: 'float32' | 'float64'): Backend['kernels'] {
  return dtype === 'float64' ? refBackend.kernels : current.kernels;
}
