/**
 * Test setup (node --import ./test/setup.ts): installs the Node platform of
 * the wasm backend (worker threads, relaxed SIMD), registers the backends as
 * the entry points do (wasm; native when asked for) and selects the backend
 * named in STRIDE_BACKEND (ref, wasm, native); without it the library's
 * default stays. scripts/test-all-backends.mjs runs test/backend/ once per
 * backend and test/once/ once, every file under this setup.
 *
 * Op outputs come from uninitialized memory, as in every Node entry, and are
 * filled with NaN first: a kernel that leaves part of its output unwritten
 * fails the tests instead of passing on memory that happened to be zero.
 */
import '../src/backends/wasm/node.js';
import '../src/tensor/node.js';
import { setOutputPoison } from '../src/tensor/tensor.js';
import { listBackends, registerDefaultBackends, setBackend } from '../src/backends/index.js';

registerDefaultBackends();
const name = process.env.STRIDE_BACKEND;
if (name === 'native' && !listBackends().includes('native')) {
  // The Node entry registers the native backend; load just its registration.
  const register: string = '../src/backends/native/register.js';
  const m = (await import(register)) as { registerNativeBackend(o: { makeDefault: boolean }): boolean };
  m.registerNativeBackend({ makeDefault: false });
}
if (name) setBackend(name);
setOutputPoison(NaN);
