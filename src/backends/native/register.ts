/**
 * Registration of the `native` backend, called where Node programs start: the
 * Node entry point (src/node.ts), the CLI's main, the conformance runner.
 * Kept apart from ./index.ts so that merely importing the backend's helpers
 * (nativeStatus, setNativeThreads) loads nothing.
 */
import { getBackend, listBackends, preferBackend, registerBackend, registerDefaultBackends } from '../index.js';
import { nativeBackend } from './index.js';

/**
 * Loads OpenBLAS (once) and, when it is found, registers `native` and makes it
 * the default unless a backend was already chosen with setBackend (or
 * `makeDefault: false`). Returns whether `native` is registered. Never throws:
 * without koffi or OpenBLAS the backend is simply absent and nativeStatus()
 * says why.
 *
 * The non-BLAS kernels come from the backend in use when `native` is first
 * built, so the default backends are registered first: `wasm` wherever it
 * runs, else `ref`.
 */
export function registerNativeBackend(options: { makeDefault?: boolean } = {}): boolean {
  if (listBackends().includes('native')) return true;
  registerDefaultBackends();
  const current = getBackend();
  const backend = nativeBackend(current.name === 'native' ? undefined : current);
  if (!backend) return false;
  registerBackend(backend);
  if (options.makeDefault ?? true) preferBackend('native');
  return true;
}
