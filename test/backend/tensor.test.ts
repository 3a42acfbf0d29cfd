/**
 * Tensors: creation, random numbers, conversion, PyTorch-style printing, and
 * the array ops (broadcasting, reductions, matmul, movement) against naive
 * loops over explicit multi-indices written here.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { Generator, Tensor, ShapeError, ValueError, tensor, zeros, ones, full, rand, randn, arange, zerosLike, onesLike, manualSeed, noGrad, getBackend } from '../../src/index.js';
import { add, sub, mul, div, maximum, minimum, pow, sum, mean, max, min, argmax, argmin, variance, matmul, reshape, flatten, squeeze, unsqueeze, permute, transpose, slice, concat, stack } from '../../src/ops/index.js';
import { withAllocationLimit } from '../../src/tensor/tensor.js';
import { hasNonFinite } from '../../src/tensor/finite.js';
import { assertClose, ok, seeded } from '../helpers/index.js';

const { gen, rn } = seeded(4242, 'float32');

// ---------------------------------------------------------------------------
// Multi-index helpers for the naive references.

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = flat % shape[d];
    flat = Math.floor(flat / shape[d]);
  }
  return idx;
}

function ravel(idx: readonly number[], shape: readonly number[]): number {
  const st = stridesOf(shape);
  return idx.reduce((acc, v, d) => acc + v * st[d], 0);
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

// ---------------------------------------------------------------------------

describe('creation', () => {
  test('from nested arrays: shape inferred, row-major data, float32 by default', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(t.shape, [2, 3]);
    assert.equal(t.dtype, 'float32');
    ok(t.data instanceof Float32Array);
    assert.deepEqual(Array.from(t.data), [1, 2, 3, 4, 5, 6]);
    assert.equal(t.ndim, 2);
    assert.equal(t.size, 6);
    assert.deepEqual(tensor([[[1], [2]]]).shape, [1, 2, 1]);
  });
  test('a number gives a 0-d tensor', () => {
    const t = tensor(3.5);
    assert.deepEqual(t.shape, []);
    assert.equal(t.size, 1);
    assert.equal(t.item(), 3.5);
  });
  test('from typed arrays and flat arrays with a shape', () => {
    const f32 = tensor(new Float32Array([1, 2, 3, 4]), [2, 2]);
    assert.deepEqual(f32.toArray(), [[1, 2], [3, 4]]);
    assert.equal(f32.dtype, 'float32');
    const f64 = tensor(new Float64Array([0.1, 0.2]));
    assert.equal(f64.dtype, 'float64');
    assert.deepEqual(f64.shape, [2]);
    assert.equal(f64.data[0], 0.1); // float64 keeps the exact double
    assert.deepEqual(tensor([1, 2, 3, 4, 5, 6], [3, 2]).toArray(), [[1, 2], [3, 4], [5, 6]]);
    assert.equal(tensor([1, 2], undefined, { dtype: 'float64' }).dtype, 'float64');
    // The data is copied: changing the source does not change the tensor.
    const src = new Float32Array([1, 2]);
    const t = tensor(src);
    src[0] = 99;
    assert.equal(t.data[0], 1);
  });
  test('float32 rounding is applied to float32 tensors', () => {
    assert.equal(tensor([0.1]).data[0], Math.fround(0.1));
  });
  test('ragged nesting is a ShapeError that says where', () => {
    assert.throws(() => tensor([[1, 2], [3]]), (e: unknown) => e instanceof ShapeError && /ragged/.test(e.message) && /\[1\]/.test(e.message));
    assert.throws(() => tensor([[1, 2], 3] as any), ShapeError);
    assert.throws(() => tensor([1, [2, 3]] as any), ShapeError);
  });
  test('a shape that does not hold the values is a ShapeError', () => {
    assert.throws(() => tensor([1, 2, 3], [2, 2]), (e: unknown) => e instanceof ShapeError && /\[2, 2\]/.test(e.message) && /3/.test(e.message));
  });
  test('zeros, ones, full, zerosLike, onesLike', () => {
    const z = zeros([2, 3]);
    assert.deepEqual(z.shape, [2, 3]);
    ok(Array.from(z.data).every((v) => v === 0));
    ok(Array.from(ones([4]).data).every((v) => v === 1));
    assert.deepEqual(full([2, 2], 7).toArray(), [[7, 7], [7, 7]]);
    assert.deepEqual(zeros([]).shape, []);
    assert.equal(zeros([]).size, 1);
    assert.equal(zeros([3, 0]).size, 0);
    const d = full([3], 2, { dtype: 'float64' });
    assert.equal(zerosLike(d).dtype, 'float64');
    assert.deepEqual(Array.from(onesLike(d).data), [1, 1, 1]);
    assert.equal(zeros([2], { requiresGrad: true }).requiresGrad, true);
  });
  test('arange as torch.arange', () => {
    assert.deepEqual(Array.from(arange(5).data), [0, 1, 2, 3, 4]);
    assert.deepEqual(Array.from(arange(2, 8, 2).data), [2, 4, 6]);
    assert.deepEqual(Array.from(arange(1, 0, -0.25).data), [1, 0.75, 0.5, 0.25]);
    assert.equal(arange(0, 1, 0.1).size, 10);
    assert.equal(arange(3, 3).size, 0);
    assert.throws(() => arange(0, 1, 0), ValueError);
  });
  test('withAllocationLimit counts new arrays and op outputs; the one that would pass the limit throws before it is allocated', () => {
    const over = (needed: number) => new RangeError(`over: ${needed}`);
    const a = withAllocationLimit(10, () => zeros([4]), over);
    assert.equal(a.size, 4);
    assert.throws(() => withAllocationLimit(10, () => [zeros([4]), zeros([7])], over), /^RangeError: over: 11$/);
    // An op's output counts too: 6 + 6 values for x and 6 for x + x pass 12.
    assert.throws(() => withAllocationLimit(12, () => add(ones([2, 3]), ones([2, 3])), over), /over: 18/);
    assert.equal(withAllocationLimit(18, () => add(ones([2, 3]), ones([2, 3])), over).size, 6);
    // The innermost limit applies, and the outer one is back afterwards.
    assert.throws(() => withAllocationLimit(100, () => { withAllocationLimit(3, () => zeros([2]), over); return zeros([200]); }, over), /over: 200/);
    assert.equal(zeros([1000]).size, 1000, 'no limit outside');
    assert.throws(() => withAllocationLimit(-1, () => 0, over), ValueError);
  });
});

describe('random numbers', () => {
  test('a seeded generator reproduces rand and randn; other seeds differ', () => {
    const a = rand([100], { generator: new Generator(3) });
    const b = rand([100], { generator: new Generator(3) });
    const c = rand([100], { generator: new Generator(4) });
    assert.deepEqual(Array.from(a.data), Array.from(b.data));
    assert.notDeepEqual(Array.from(a.data), Array.from(c.data));
    const n1 = randn([50], { generator: new Generator(3) });
    const n2 = randn([50], { generator: new Generator(3) });
    assert.deepEqual(Array.from(n1.data), Array.from(n2.data));
  });
  test('manualSeed makes the default generator repeatable', () => {
    manualSeed(123);
    const a = randn([20]);
    const u = rand([5]);
    manualSeed(123);
    assert.deepEqual(Array.from(randn([20]).data), Array.from(a.data));
    assert.deepEqual(Array.from(rand([5]).data), Array.from(u.data));
  });
  test('rand is uniform on [low, high): range, mean and variance over 10k samples', () => {
    const x = rand([10000], { generator: new Generator(8), low: -2, high: 4 });
    let m = 0;
    for (const v of x.data) {
      ok(v >= -2 && v < 4);
      m += v;
    }
    m /= x.size;
    let s2 = 0;
    for (const v of x.data) s2 += (v - m) ** 2;
    s2 /= x.size - 1;
    // U(-2, 4): mean 1, variance 36/12 = 3. Standard error of the mean ~0.017.
    ok(Math.abs(m - 1) < 0.1, `mean ${m}`);
    ok(Math.abs(s2 - 3) < 0.2, `variance ${s2}`);
  });
  test('randn over 10k samples has mean ~0 and std ~1, and about 68% within one std', () => {
    const x = randn([10000], { generator: new Generator(9) });
    let m = 0;
    for (const v of x.data) m += v;
    m /= x.size;
    let s2 = 0;
    let within = 0;
    for (const v of x.data) {
      s2 += (v - m) ** 2;
      if (Math.abs(v) < 1) within++;
    }
    const sd = Math.sqrt(s2 / (x.size - 1));
    ok(Math.abs(m) < 0.05, `mean ${m}`);
    ok(Math.abs(sd - 1) < 0.05, `std ${sd}`);
    ok(Math.abs(within / x.size - 0.6827) < 0.02, `within 1 std: ${within / x.size}`);
  });
  test('randn with mean and std options', () => {
    const x = randn([10000], { generator: new Generator(10), mean: 5, std: 0.5 });
    const m = Array.from(x.data).reduce((a, b) => a + b) / x.size;
    const sd = Math.sqrt(Array.from(x.data).reduce((a, b) => a + (b - m) ** 2, 0) / (x.size - 1));
    ok(Math.abs(m - 5) < 0.03);
    ok(Math.abs(sd - 0.5) < 0.03);
  });
  test('Generator.shuffle is a permutation and randint stays in range', () => {
    const g = new Generator(1);
    const a = g.shuffle(Array.from({ length: 50 }, (_, i) => i));
    assert.deepEqual([...a].sort((p, q) => p - q), Array.from({ length: 50 }, (_, i) => i));
    assert.notDeepEqual(a, Array.from({ length: 50 }, (_, i) => i));
    for (let i = 0; i < 1000; i++) {
      const r = g.randint(7);
      ok(Number.isInteger(r) && r >= 0 && r < 7);
    }
  });
});

describe('conversion', () => {
  test('toArray nests like the shape; 0-d gives a number', () => {
    const t = arange(24).reshape([2, 3, 4]);
    const arr = t.toArray() as number[][][];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) assert.equal(arr[i][j][k], i * 12 + j * 4 + k);
    assert.equal(tensor(2).toArray(), 2);
    assert.deepEqual(zeros([0]).toArray(), []);
    assert.deepEqual(t.toFlatArray(), Array.from({ length: 24 }, (_, i) => i));
  });
  test('item works on any one-element tensor, and is a ShapeError otherwise', () => {
    assert.equal(tensor([[5]]).item(), 5);
    assert.throws(() => tensor([1, 2]).item(), (e: unknown) => e instanceof ShapeError && /\[2\]/.test(e.message));
  });
});

describe('printing like PyTorch', () => {
  test('integers print as "1." and rows align under "tensor("', () => {
    assert.equal(tensor([[1, 2], [3, 4]]).toString(), 'tensor([[1., 2.],\n        [3., 4.]])');
    assert.equal(tensor([1, -2, 10]).toString(), 'tensor([ 1., -2., 10.])');
    assert.equal(zeros([2]).toString(), 'tensor([0., 0.])');
  });
  test('non-integers print with four decimals, padded to a common width', () => {
    assert.equal(tensor([1.5, 2]).toString(), 'tensor([1.5000, 2.0000])');
    assert.equal(tensor([-1, 2.25]).toString(), 'tensor([-1.0000,  2.2500])');
    assert.equal(tensor([0.1, 0.25, 12.5]).toString(), 'tensor([ 0.1000,  0.2500, 12.5000])');
  });
  test('0-d tensors', () => {
    assert.equal(tensor(3).toString(), 'tensor(3.)');
    assert.equal(tensor(0.5).toString(), 'tensor(0.5000)');
  });
  test('3-D tensors separate the outer blocks with a blank line', () => {
    assert.equal(arange(8).reshape([2, 2, 2]).toString(), 'tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])');
  });
  test('scientific notation for tiny values, huge values, and a max/min ratio over 1000', () => {
    assert.equal(tensor([1e-5, 1]).toString(), 'tensor([1.0000e-05, 1.0000e+00])');
    assert.equal(tensor([0.5, 600]).toString(), 'tensor([5.0000e-01, 6.0000e+02])');
    assert.equal(tensor([1, 2000]).toString(), 'tensor([1.0000e+00, 2.0000e+03])');
    assert.equal(tensor([1.5e9]).toString(), 'tensor([1.5000e+09])');
    // A ratio of exactly 1000 or less stays fixed-point.
    assert.equal(tensor([1, 1000]).toString(), 'tensor([   1., 1000.])');
  });
  test('long rows wrap at 80 columns', () => {
    assert.equal(
      arange(20).toString(),
      'tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n        14., 15., 16., 17., 18., 19.])',
    );
  });
  test('empty tensors: 1-D prints tensor([]), others add the size', () => {
    assert.equal(zeros([0]).toString(), 'tensor([])');
    assert.equal(zeros([0, 3]).toString(), 'tensor([], size=(0, 3))');
  });
  test('non-finite values', () => {
    assert.equal(tensor([Infinity, -Infinity, 1]).toString(), 'tensor([inf, -inf, 1.])');
    assert.match(tensor([NaN, 0.5]).toString(), /^tensor\(\[\s*nan, 0\.5000\]\)$/);
  });
  test('suffixes: dtype=float64, requiresGrad, gradFn', () => {
    assert.equal(tensor([1, 2], undefined, { dtype: 'float64' }).toString(), 'tensor([1., 2.], dtype=float64)');
    const x = tensor([1, 2]).requiresGrad_();
    assert.equal(x.toString(), 'tensor([1., 2.], requiresGrad=true)');
    assert.match(x.mul(2).toString(), /^tensor\(\[2\., 4\.\], gradFn=<\w+Backward>\)$/);
  });
  test('more than 1000 elements are summarized with "..." (the shown values decide the format)', () => {
    // PyTorch formats from the edge values 0, 1, 2, 1997, 1998, 1999: a ratio over 1000, so scientific,
    // and six 10-character elements fit in a line.
    const s = arange(2000).toString();
    ok(
      s.startsWith('tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03]'),
      s,
    );
    const m = arange(1, 1201).reshape([30, 40]).toString();
    ok(m.split('\n').length < 40, 'rows are summarized too');
    assert.match(m, /\.\.\./);
  });
});

// ---------------------------------------------------------------------------

/** The array-op suites below run on the backend under test. */
function arraySuites(backend: string): void {
  test('the backend under test is in use', () => assert.equal(getBackend().name, backend));

  /** out[idx] = f(a[idx aligned right, 1-dims pinned to 0], b[...]). */
  function naiveBroadcast(a: Tensor, b: Tensor, f: (x: number, y: number) => number): { shape: number[]; data: number[] } {
    const rank = Math.max(a.ndim, b.ndim);
    const pa = [...new Array(rank - a.ndim).fill(1), ...a.shape];
    const pb = [...new Array(rank - b.ndim).fill(1), ...b.shape];
    const shape = pa.map((d, i) => Math.max(d, pb[i]));
    const data: number[] = [];
    for (let k = 0; k < size(shape); k++) {
      const idx = unravel(k, shape);
      const ia = idx.map((v, d) => (pa[d] === 1 ? 0 : v));
      const ib = idx.map((v, d) => (pb[d] === 1 ? 0 : v));
      data.push(f(a.data[ravel(ia, pa)], b.data[ravel(ib, pb)]));
    }
    return { shape, data };
  }

  describe('broadcasting vs a naive loop', () => {
    const pairs: [number[], number[]][] = [
      [[2, 3, 4], [3, 1]],
      [[4], [2, 1, 4]],
      [[2, 1, 3], [1, 4, 1]],
      [[], [2, 3]],
      [[5, 1, 1, 2], [3, 1]],
      [[3, 1], [3, 1]],
      [[1], [2, 2]],
    ];
    const ops: [string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number][] = [
      ['add', add, (x, y) => x + y],
      ['sub', sub, (x, y) => x - y],
      ['mul', mul, (x, y) => x * y],
      ['div', div, (x, y) => x / y],
      ['maximum', maximum, Math.max],
      ['minimum', minimum, Math.min],
    ];
    for (const [name, op, f] of ops) {
      test(name, () => {
        for (const [sa, sb] of pairs) {
          const a = rn(sa);
          const b = rn(sb);
          const got = op(a, b);
          const ref = naiveBroadcast(a, b, f);
          assert.deepEqual(got.shape, ref.shape, `${name} ${JSON.stringify(sa)} with ${JSON.stringify(sb)}`);
          assertClose(got.data, ref.data, 1e-5);
        }
      });
    }
    test('pow with broadcasting', () => {
      const a = rand([2, 3], { generator: gen, low: 0.5, high: 2 });
      const b = tensor([1, 2, 0.5]);
      const ref = naiveBroadcast(a, b, Math.pow);
      assertClose(pow(a, b).data, ref.data, 1e-5);
    });
    test('numbers broadcast as 0-d tensors, on either side', () => {
      const a = tensor([1, 2, 3]);
      assert.deepEqual(Array.from(sub(10, a).data), [9, 8, 7]);
      assert.deepEqual(Array.from(div(a, 2).data), [0.5, 1, 1.5]);
      assert.deepEqual(Array.from(a.add(1).data), [2, 3, 4]);
    });
    test('float64 wins over float32', () => {
      const r = add(tensor([1]), tensor([0.1], undefined, { dtype: 'float64' }));
      assert.equal(r.dtype, 'float64');
      assert.equal(r.data[0], 1.1);
    });
  });

  // ---------------------------------------------------------------------------

  /** Reduces `dims` of x with f (from the values of each group), as PyTorch. */
  function naiveReduce(x: Tensor, dims: number[], keepDims: boolean, f: (vals: number[]) => number): { shape: number[]; data: number[] } {
    const kept = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
    const groups: number[][] = Array.from({ length: size(kept) }, () => []);
    for (let k = 0; k < x.size; k++) {
      const idx = unravel(k, x.shape).map((v, d) => (dims.includes(d) ? 0 : v));
      groups[ravel(idx, kept)].push(x.data[k]);
    }
    const shape = keepDims ? kept : x.shape.filter((_, i) => !dims.includes(i));
    return { shape, data: groups.map(f) };
  }

  describe('reductions vs naive loops', () => {
    const x = rn([2, 3, 4, 5]);
    const dimSets = [[0], [1], [3], [0, 2], [1, 3], [0, 1, 2, 3]];
    const sumF = (v: number[]) => v.reduce((a, b) => a + b, 0);
    const meanF = (v: number[]) => sumF(v) / v.length;
    const varF = (corr: number) => (v: number[]) => {
      const m = meanF(v);
      return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - corr);
    };
    const cases: [string, (t: Tensor, d: number[], k: boolean) => Tensor, (v: number[]) => number][] = [
      ['sum', (t, d, k) => sum(t, d, { keepDims: k }), sumF],
      ['mean', (t, d, k) => mean(t, d, { keepDims: k }), meanF],
      ['max', (t, d, k) => max(t, d, { keepDims: k }), (v) => Math.max(...v)],
      ['min', (t, d, k) => min(t, d, { keepDims: k }), (v) => Math.min(...v)],
      ['variance (unbiased)', (t, d, k) => variance(t, d, { keepDims: k }), varF(1)],
      ['variance (correction 0)', (t, d, k) => variance(t, d, { keepDims: k, correction: 0 }), varF(0)],
    ];
    for (const [name, op, f] of cases) {
      test(name, () => {
        for (const dims of dimSets) {
          for (const keepDims of [false, true]) {
            const got = op(x, dims, keepDims);
            const ref = naiveReduce(x, dims, keepDims, f);
            assert.deepEqual(got.shape, ref.shape, `${name} dims ${dims} keepDims ${keepDims}`);
            assertClose(got.data, ref.data, 1e-4);
          }
        }
      });
    }
    test('negative dims and no dims', () => {
      assertClose(sum(x, -1).data, naiveReduce(x, [3], false, sumF).data, 1e-4);
      assert.deepEqual(sum(x).shape, []);
      assertClose([sum(x).item()], [sumF(Array.from(x.data))], 1e-4);
      assert.deepEqual(mean(x, undefined, { keepDims: true }).shape, [1, 1, 1, 1]);
    });
    test('argmax / argmin: first occurrence on ties, per dim and flattened', () => {
      const t = tensor([[1, 3, 3], [2, 2, 1], [0, -1, -1]]);
      assert.deepEqual(Array.from(argmax(t, 1).data), [1, 0, 0]);
      assert.deepEqual(Array.from(argmin(t, 1).data), [0, 2, 1]);
      assert.deepEqual(Array.from(argmax(t, 0).data), [1, 0, 0]);
      assert.deepEqual(Array.from(argmin(t, 0).data), [2, 2, 2]);
      assert.equal(argmax(t).item(), 1);
      assert.equal(argmin(t).item(), 7);
      assert.deepEqual(argmax(t, 1, { keepDims: true }).shape, [3, 1]);
    });
    test('argmax vs a naive scan on random data, along an inner dim', () => {
      const y = rn([3, 5, 2]);
      const got = argmax(y, 1);
      assert.deepEqual(got.shape, [3, 2]);
      for (let a = 0; a < 3; a++) for (let c = 0; c < 2; c++) {
        let best = 0;
        for (let b = 1; b < 5; b++) if (y.data[(a * 5 + b) * 2 + c] > y.data[(a * 5 + best) * 2 + c]) best = b;
        assert.equal(got.data[a * 2 + c], best);
      }
    });
  });

  // ---------------------------------------------------------------------------

  function naiveMatmul(a: number[], b: number[], M: number, K: number, N: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[i * K + k] * b[k * N + j];
      out.push(s);
    }
    return out;
  }

  describe('matmul vs a naive triple loop', () => {
    test('2-D', () => {
      const a = rn([3, 5]);
      const b = rn([5, 4]);
      const y = matmul(a, b);
      assert.deepEqual(y.shape, [3, 4]);
      assertClose(y.data, naiveMatmul(Array.from(a.data), Array.from(b.data), 3, 5, 4), 1e-5);
    });
    test('1-D operands: dot, vector-matrix, matrix-vector', () => {
      const v = rn([5]);
      const w = rn([5]);
      const m = rn([5, 3]);
      const dot = matmul(v, w);
      assert.deepEqual(dot.shape, []);
      assertClose([dot.item()], [Array.from(v.data).reduce((s, x, i) => s + x * w.data[i], 0)], 1e-5);
      const vm = matmul(v, m);
      assert.deepEqual(vm.shape, [3]);
      assertClose(vm.data, naiveMatmul(Array.from(v.data), Array.from(m.data), 1, 5, 3), 1e-5);
      const mt = transpose(m);
      const mv = matmul(mt, v);
      assert.deepEqual(mv.shape, [3]);
      assertClose(mv.data, naiveMatmul(Array.from(mt.data), Array.from(v.data), 3, 5, 1), 1e-5);
    });
    test('batched with broadcast batch dims: [2,1,3,4] @ [3,4,2] -> [2,3,3,2]', () => {
      const a = rn([2, 1, 3, 4]);
      const b = rn([3, 4, 2]);
      const y = matmul(a, b);
      assert.deepEqual(y.shape, [2, 3, 3, 2]);
      for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) {
        const am = Array.from(a.data.slice(i * 12, i * 12 + 12));
        const bm = Array.from(b.data.slice(j * 8, j * 8 + 8));
        const ref = naiveMatmul(am, bm, 3, 4, 2);
        assertClose(y.data.slice((i * 3 + j) * 6, (i * 3 + j) * 6 + 6), ref, 1e-5);
      }
    });
    test('NaN and inf propagate through a zero factor, as in IEEE arithmetic and PyTorch (0 * NaN = NaN)', () => {
      ok(Number.isNaN(matmul(tensor([[0, 1]]), tensor([[NaN], [1]])).data[0]));
      ok(Number.isNaN(matmul(tensor([[0, 1]]), tensor([[Infinity], [1]])).data[0]));
      ok(Number.isNaN(matmul(tensor([[NaN, 1]]), tensor([[0], [1]])).data[0]));
    });
    test('a 2-D operand broadcasts against a batch', () => {
      const a = rn([4, 3, 5]);
      const b = rn([5, 2]);
      const y = matmul(a, b);
      assert.deepEqual(y.shape, [4, 3, 2]);
      for (let i = 0; i < 4; i++) assertClose(y.data.slice(i * 6, i * 6 + 6), naiveMatmul(Array.from(a.data.slice(i * 15, i * 15 + 15)), Array.from(b.data), 3, 5, 2), 1e-5);
    });
  });

  // ---------------------------------------------------------------------------

  describe('movement ops vs naive index math', () => {
    test('permute: out[i0, i1, i2] = x[idx with perm applied]', () => {
      const x = rn([2, 3, 4]);
      for (const perm of [[2, 0, 1], [1, 2, 0], [0, 2, 1], [2, 1, 0]]) {
        const y = permute(x, perm);
        const outShape = perm.map((p) => x.shape[p]);
        assert.deepEqual(y.shape, outShape);
        for (let k = 0; k < y.size; k++) {
          const oi = unravel(k, outShape);
          const xi = new Array<number>(3);
          perm.forEach((p, i) => (xi[p] = oi[i]));
          assert.equal(y.data[k], x.data[ravel(xi, x.shape)]);
        }
      }
    });
    test('transpose swaps two dims (default: the last two)', () => {
      const x = rn([2, 3, 4]);
      const y = transpose(x, 0, 2);
      assert.deepEqual(y.shape, [4, 3, 2]);
      for (let k = 0; k < y.size; k++) {
        const [a, b, c] = unravel(k, y.shape);
        assert.equal(y.data[k], x.data[ravel([c, b, a], x.shape)]);
      }
      assert.deepEqual(transpose(tensor([[1, 2, 3], [4, 5, 6]])).toArray(), [[1, 4], [2, 5], [3, 6]]);
    });
    test('slice with start, end, step; negative and out-of-range bounds are clipped as Python', () => {
      const x = rn([3, 10, 2]);
      const cases: [number, number | undefined, number][] = [[1, 8, 3], [0, undefined, 2], [-4, undefined, 1], [2, 100, 4], [-100, 3, 1], [7, 2, 1]];
      for (const [s, e, st] of cases) {
        const idx: number[] = [];
        const n = 10;
        const norm = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
        for (let i = norm(s); i < norm(e ?? n); i += st) idx.push(i);
        const y = slice(x, 1, s, e, st);
        assert.deepEqual(y.shape, [3, idx.length, 2], `slice ${s}:${e}:${st}`);
        for (let a = 0; a < 3; a++) idx.forEach((src, j) => {
          for (let c = 0; c < 2; c++) assert.equal(y.data[(a * idx.length + j) * 2 + c], x.data[(a * 10 + src) * 2 + c]);
        });
      }
    });
    test('concat along each dim', () => {
      const a = rn([2, 3, 4]);
      const b = rn([2, 3, 4]);
      for (const d of [0, 1, 2]) {
        const y = concat([a, b], d);
        const shape = [...a.shape];
        shape[d] *= 2;
        assert.deepEqual(y.shape, shape);
        for (let k = 0; k < y.size; k++) {
          const idx = unravel(k, shape);
          const fromB = idx[d] >= a.shape[d];
          const src = [...idx];
          if (fromB) src[d] -= a.shape[d];
          assert.equal(y.data[k], (fromB ? b : a).data[ravel(src, a.shape)]);
        }
      }
      assert.deepEqual(concat([tensor([[1, 2]]), tensor([[3, 4], [5, 6]])], 0).toArray(), [[1, 2], [3, 4], [5, 6]]);
      assert.deepEqual(concat([tensor([[1], [2]]), tensor([[3, 4], [5, 6]])], -1).toArray(), [[1, 3, 4], [2, 5, 6]]);
    });
    test('stack along a new dim', () => {
      const ts = [rn([2, 3]), rn([2, 3]), rn([2, 3])];
      for (const d of [0, 1, 2]) {
        const y = stack(ts, d);
        const shape = [2, 3];
        shape.splice(d, 0, 3);
        assert.deepEqual(y.shape, shape);
        for (let k = 0; k < y.size; k++) {
          const idx = unravel(k, shape);
          const which = idx[d];
          const src = idx.filter((_, i) => i !== d);
          assert.equal(y.data[k], ts[which].data[ravel(src, [2, 3])]);
        }
      }
    });
    test('reshape (with -1), view, flatten, squeeze, unsqueeze keep row-major order', () => {
      const x = arange(24).reshape([2, 3, 4]);
      assert.deepEqual(reshape(x, [4, -1]).shape, [4, 6]);
      assert.deepEqual(Array.from(reshape(x, [6, 4]).data), Array.from({ length: 24 }, (_, i) => i));
      assert.deepEqual(x.view([-1]).shape, [24]);
      assert.deepEqual(flatten(x).shape, [24]);
      assert.deepEqual(flatten(x, 1).shape, [2, 12]);
      assert.deepEqual(flatten(x, 0, 1).shape, [6, 4]);
      const y = zeros([1, 3, 1, 2]);
      assert.deepEqual(squeeze(y).shape, [3, 2]);
      assert.deepEqual(squeeze(y, 2).shape, [1, 3, 2]);
      assert.deepEqual(squeeze(y, 1).shape, [1, 3, 1, 2]);
      assert.deepEqual(unsqueeze(tensor([1, 2]), 0).shape, [1, 2]);
      assert.deepEqual(unsqueeze(tensor([1, 2]), -1).shape, [2, 1]);
    });
    test('dimSize and negative dims', () => {
      const x = zeros([2, 3, 4]);
      assert.equal(x.dimSize(-1), 4);
      assert.equal(x.dimSize(0), 2);
    });
    test('ops inside noGrad do not record', () => {
      const x = tensor([1, 2]).requiresGrad_();
      const y = noGrad(() => add(x, 1));
      assert.equal(y.requiresGrad, false);
      assert.equal(y.gradFn, null);
    });
  });
}

// The runner runs this file once per backend (STRIDE_BACKEND); the default backend otherwise.
arraySuites(process.env.STRIDE_BACKEND ?? getBackend().name);

describe('hasNonFinite', () => {
  test('finds a NaN or an infinity at every position of the unrolled loop and its tail, in float32 and float64', () => {
    for (const Ctor of [Float32Array, Float64Array]) {
      for (const n of [1, 7, 8, 9, 16, 23]) {
        for (let at = 0; at < n; at++) {
          for (const bad of [NaN, Infinity, -Infinity]) {
            const a = new Ctor(n).fill(0.5);
            a[at] = bad;
            assert.equal(hasNonFinite(a), true, `${Ctor.name} of ${n}, ${bad} at ${at}`);
          }
        }
      }
    }
  });

  test('finite data, however large, negative zeros and empty arrays are finite; integer arrays never hold a NaN', () => {
    const big = new Float32Array(19).fill(3.4e38);
    big[5] = -3.4e38;
    assert.equal(hasNonFinite(big), false);
    assert.equal(hasNonFinite(new Float64Array(17).fill(1.7e308)), false);
    assert.equal(hasNonFinite(new Float32Array([-0, 0, -1e-45, 1e-45])), false);
    assert.equal(hasNonFinite(new Float64Array(0)), false);
    assert.equal(hasNonFinite(new Uint8Array([255, 0, 1])), false);
    assert.equal(hasNonFinite(new Int32Array([-1, 2 ** 31 - 1])), false);
  });
});
