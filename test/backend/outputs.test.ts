/**
 * Op outputs from uninitialized memory (allocateOutput in src/tensor/tensor.ts):
 * the Node allocator hands out arrays of the right size that own their
 * memory, the test setup poisons them with NaN (so every other test file
 * checks that kernels write all of their outputs), and that poison does catch
 * a kernel that skips elements, where zeroed memory would have hidden it.
 */
import { test, describe, afterEach } from 'node:test';

import { getBackend, registerBackend, setBackend, tensor, type Backend } from '../../src/index.js';
import { relu } from '../../src/ops/index.js';
import { allocateOutput, allocateOutputIndices, clearRecycledOutputs, setOutputPoison, setUninitializedAllocator } from '../../src/tensor/tensor.js';
import { uninitializedArrayBuffer } from '../../src/tensor/node.js';
import { ok } from '../helpers/index.js';

describe('output arrays', () => {
  afterEach(() => setOutputPoison(NaN));

  test('the suite runs with NaN-poisoned outputs, small and large', () => {
    for (const n of [3, 1023, 1024, 100_000]) {
      const a = allocateOutput('float32', n);
      ok(a instanceof Float32Array && a.length === n, `float32 output of ${n}: got ${a.constructor.name} of ${a.length}`);
      ok(a.every((v) => Number.isNaN(v)), `float32 output of ${n} is not all NaN`);
      const d = allocateOutput('float64', n);
      ok(d instanceof Float64Array && d.length === n && d.every((v) => Number.isNaN(v)), `float64 output of ${n} is not ${n} NaNs`);
      const idx = allocateOutputIndices(n);
      ok(idx.length === n && idx.every((v) => v === 1 << 30), `index output of ${n} is not filled with 2^30`);
    }
  });

  test('large outputs own exactly their bytes (no slice of a shared pool)', () => {
    setOutputPoison(null);
    const arrays = [allocateOutput('float32', 5000), allocateOutput('float32', 5000), allocateOutput('float64', 777)];
    for (const a of arrays) {
      ok(a.byteOffset === 0 && a.buffer.byteLength === a.byteLength, `a ${a.length}-value output is a view at ${a.byteOffset} of ${a.buffer.byteLength} bytes`);
    }
    ok(arrays[0].buffer !== arrays[1].buffer, 'two outputs share one ArrayBuffer');
    arrays[1].fill(2);
    arrays[0].fill(1);
    ok(arrays[1].every((v) => v === 2), 'writing one output changed another');
  });

  test('without an allocator and with nothing recycled, outputs are new zero-filled arrays (the browser path)', () => {
    clearRecycledOutputs(); // recycled gradient memory would hold old values, on every platform
    setOutputPoison(null);
    setUninitializedAllocator(null);
    try {
      const a = allocateOutput('float32', 50_000);
      ok(a.every((v) => v === 0), 'an output from new Float32Array is not zero');
    } finally {
      setUninitializedAllocator(uninitializedArrayBuffer);
    }
  });

  test('the poison exposes a kernel that leaves part of its output unwritten', () => {
    const base = getBackend();
    // A backend whose ReLU writes only the first half of its output.
    const lazy: Backend = {
      name: 'lazy-relu-test',
      kernels: {
        ...base.kernels,
        unary(op, x, out, params) {
          if (op !== 'relu') return base.kernels.unary(op, x, out, params);
          for (let i = 0; i < x.length >> 1; i++) out[i] = Math.max(0, x[i]);
        },
      },
    };
    registerBackend(lazy);
    setBackend('lazy-relu-test');
    try {
      const y = relu(tensor([1, -2, 3, -4]));
      const values = [...y.data];
      ok(values[0] === 1 && values[1] === 0, `the written half is wrong: ${values.join(', ')}`);
      ok(Number.isNaN(values[2]) && Number.isNaN(values[3]), `the unwritten half is not NaN: ${values.join(', ')}`);
    } finally {
      setBackend(base.name);
    }
  });
});
