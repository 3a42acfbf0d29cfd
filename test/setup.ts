/**
 * Test setup (node --import ./test/setup.ts): installs the Node platform of
 * the wasm backend (worker threads, relaxed SIMD) and selects the backend
 * named in STRIDE_BACKEND (ref, wasm, native); without it the library's
 * default stays. scripts/test-all-backends.mjs runs the suite once per backend.
 */
import '../src/backends/wasm/node.js';
import { listBackends, setBackend } from '../src/backends/index.js';

const name = process.env.STRIDE_BACKEND;
if (name === 'native' && !listBackends().includes('native')) {
  // The native backend registers itself from the Node entry; load just its registration.
  const register: string = '../src/backends/native/register.js';
  const m = (await import(register)) as { registerNativeBackend(o: { makeDefault: boolean }): boolean };
  m.registerNativeBackend({ makeDefault: false });
}
if (name) setBackend(name);
