/**
 * Registration of the `native` backend, called by the Node entry point
 * (src/node.ts). Kept apart from ./index.ts so that merely importing the
 * backend's helpers (nativeStatus, setNativeThreads) loads nothing.
 */
import { getBackend, listBackends, preferBackend, registerBackend } from '../index.js';
import { nativeBackend } from './index.js';

/**
 * Loads OpenBLAS (once) and, when it is found, registers `native` and makes it
 * the default unless a backend was already chosen with setBackend. Returns
 * whether `native` is registered. Never throws: without koffi or OpenBLAS the
 * backend is simply absent and nativeStatus() says why.
 *
 * The non-BLAS kernels come from the backend in use when `native` is first
 * built: `wasm`, the default wherever it runs, else `ref`.
 */
export function registerNativeBackend(options: { makeDefault?: boolean } = {}): boolean {
  if (listBackends().includes('native')) return true;
  const current = getBackend();
  const backend = nativeBackend(current.name === 'native' ? undefined : current);
  if (!backend) return false;
  registerBackend(backend);
  if (options.makeDefault ?? true) preferBackend('native');
  return true;
}
