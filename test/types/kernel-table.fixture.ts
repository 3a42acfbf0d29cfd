/**
 * Typecheck fixture, not a test file: `npm run typecheck` checks it and nothing
 * runs it. It proves that KernelTable (src/backends/backend.ts), the type of
 * every backend's table (`Backend['kernels']`: ref, wasm, native), rejects an
 * incomplete or misshaped table: each mistake below sits under `@ts-expect-error`, so if the type
 * stopped catching it the directive would be unused and the typecheck would
 * fail ("Unused '@ts-expect-error' directive").
 */
import type { FloatArray, KernelTable } from '../../src/backends/backend.js';
import { refBackend } from '../../src/backends/ref/index.js';

const ref = refBackend.kernels;

/** Every kernel, as a complete table has them. */
export const complete: KernelTable = { ...ref };

const { argReduce: _argReduce, ...withoutArgReduce } = ref;
// @ts-expect-error a table without argReduce
export const missing: KernelTable = withoutArgReduce;

// @ts-expect-error a kernel that is not in KernelSignatures
export const extra: KernelTable = { ...ref, argMax: ref.argReduce };

// @ts-expect-error softmax given softmaxBackward's signature
export const swapped: KernelTable = { ...ref, softmax: ref.softmaxBackward };

function softmaxFloat32(x: Float32Array, outer: number, size: number, inner: number, log: boolean, out: FloatArray): void {
  ref.softmax(x, outer, size, inner, log, out);
}
// @ts-expect-error softmax accepting only Float32Array where the signature passes any FloatArray
export const narrowed: KernelTable = { ...ref, softmax: softmaxFloat32 };
