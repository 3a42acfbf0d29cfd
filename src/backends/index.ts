import { ValueError } from '../errors.js';
import type { Backend } from './backend.js';
import { refBackend } from './ref/index.js';

export type { Backend, KernelName, KernelSignatures, Conv2dGeometry, Pool2dGeometry, UnaryOp, BinaryOp, ReduceOp } from './backend.js';

const registry = new Map<string, Backend>([[refBackend.name, refBackend]]);
let current: Backend = refBackend;
/** True once setBackend was called: an explicit choice that preferBackend never overrides. */
let chosenExplicitly = false;

/** Makes a backend available to `setBackend` by its name. */
export function registerBackend(backend: Backend): void {
  registry.set(backend.name, backend);
}

/** Names of the backends that can be selected now. */
export function listBackends(): string[] {
  return [...registry.keys()];
}

/** Selects the backend every op uses from now on. */
export function setBackend(name: string): Backend {
  const b = registry.get(name);
  if (!b) throw new ValueError(`setBackend: unknown backend '${name}'; available: ${listBackends().join(', ')}`);
  current = b;
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

/**
 * The kernels for arrays of this element type. Fast backends are float32 only;
 * float64 work (gradient checks) always runs on `ref`.
 */
export function kernelsFor(dtype: 'float32' | 'float64'): Backend['kernels'] {
  return dtype === 'float64' ? refBackend.kernels : current.kernels;
}
