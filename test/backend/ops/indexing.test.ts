/**
 * Indexing and selection ops against hand computations and naive loops:
 * clone, where, gather (and its scatter-add gradient), indexSelect,
 * expand / broadcastTo, maxWithIndices / minWithIndices, topk; the method
 * forms; gradchecks; argument errors.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { Tensor, ShapeError, ValueError, tensor, randn, zeros, ones } from '../../../src/index.js';
import { clone, where, gather, indexSelect, expand, broadcastTo, maxWithIndices, minWithIndices, topk, max, sum, mul, softmax } from '../../../src/ops/index.js';
import { assertGradcheck, ok, seeded, throwsWith } from '../../helpers/index.js';

const { gen, rn } = seeded(4242);
const arr = (t: Tensor) => Array.from(t.data);

/** Backward of sum(fn(x) * r) for a fixed r: the gradient each op routes. */
function gradOf(x: Tensor, fn: (x: Tensor) => Tensor, r?: Tensor): number[] {
  const leaf = x.detach().requiresGrad_();
  const y = fn(leaf);
  sum(r ? mul(y, r) : y).backward();
  return arr(leaf.grad!);
}

describe('clone', () => {
  test('copies the values into new memory and passes the gradient through', () => {
    const x = tensor([[1, 2], [3, 4]]);
    const c = clone(x);
    assert.deepEqual(arr(c), [1, 2, 3, 4]);
    assert.deepEqual(c.shape, [2, 2]);
    c.data[0] = 100;
    assert.equal(x.data[0], 1);
    assert.deepEqual(gradOf(x, (t) => t.clone(), tensor([[1, 2], [3, 4]])), [1, 2, 3, 4]);
    assertGradcheck((t) => clone(t), [rn([3, 2])], { what: 'clone' });
  });
});

describe('where', () => {
  test('by hand, with broadcasting of all three operands and a number', () => {
    assert.deepEqual(arr(where(tensor([1, 0, 1]), tensor([1, 2, 3]), tensor([10, 20, 30]))), [1, 20, 3]);
    // cond [2, 1], a [3], b a number: row 0 all a, row 1 all b.
    const y = where(tensor([[1], [0]]), tensor([1, 2, 3]), -1);
    assert.deepEqual(y.shape, [2, 3]);
    assert.deepEqual(arr(y), [1, 2, 3, -1, -1, -1]);
    // A NaN or infinity in the branch not taken does not leak (no arithmetic mixing).
    assert.deepEqual(arr(where(tensor([1, 0]), tensor([5, NaN]), tensor([Infinity, 7]))), [5, 7]);
    // The method form is PyTorch's x.where(cond, other).
    assert.deepEqual(arr(tensor([1, 2]).where(tensor([0, 1]), 9)), [9, 2]);
  });

  test('gradient: dL/dy to a where the condition holds, to b elsewhere, summed over broadcast dims', () => {
    const cond = tensor([[1, 0, 1], [0, 0, 1]]);
    const r = tensor([[1, 2, 3], [4, 5, 6]]);
    // a [3] is broadcast over 2 rows: ga[j] = sum over rows of r where cond.
    assert.deepEqual(gradOf(tensor([0, 0, 0]), (a) => where(cond, a, zeros([2, 3])), r), [1, 0, 9]);
    assert.deepEqual(gradOf(zeros([2, 3]), (b) => where(cond, ones([3]), b), r), [0, 2, 0, 4, 5, 0]);
    const c = tensor([[1, 0, 0], [0, 1, 1]]);
    assertGradcheck((a, b) => where(c, a, b), [rn([2, 3]), rn([3])], { what: 'where' });
    assertGradcheck((a, b) => where(tensor([[1], [0]]), a, b), [rn([1, 3]), rn([2, 1])], { what: 'where broadcast' });
  });
});

describe('gather', () => {
  test("PyTorch's documented example, and the scatter-add gradient (repeats add up)", () => {
    const t = tensor([[1, 2], [3, 4]]);
    const index = tensor([[0, 0], [1, 0]]);
    assert.deepEqual(arr(gather(t, 1, index)), [1, 1, 4, 3]);
    assert.deepEqual(arr(t.gather(1, index)), [1, 1, 4, 3]);
    // dim 0: out[i][j] = t[index[i][j]][j].
    assert.deepEqual(arr(gather(t, 0, index)), [1, 2, 3, 2]);
    assert.deepEqual(gradOf(t, (x) => gather(x, 1, index)), [2, 0, 1, 1]);
    assert.deepEqual(gradOf(t, (x) => gather(x, 0, index)), [1, 2, 1, 0]);
  });

  test('3-D against a naive loop, index smaller than the input outside dim', () => {
    const x = randn([3, 4, 5], { generator: gen });
    const idxShape = [2, 6, 3];
    const idx = new Float32Array(2 * 6 * 3).map(() => gen.randint(4));
    const y = gather(x, 1, tensor(idx, idxShape));
    assert.deepEqual(y.shape, idxShape);
    const expected: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 6; j++) for (let k = 0; k < 3; k++) expected.push(x.data[(i * 4 + idx[(i * 6 + j) * 3 + k]) * 5 + k]);
    assert.deepEqual(arr(y), expected);
    assertGradcheck((t) => gather(t, 1, tensor(idx, idxShape)), [rn([3, 4, 5])], { what: 'gather dim 1' });
    assertGradcheck((t) => gather(t, -1, tensor([[4, 4, 0], [1, 2, 3]])), [rn([2, 5])], { what: 'gather dim -1' });
  });

  test('the classic use: pick each row\'s probability of its label', () => {
    const p = softmax(tensor([[1, 2, 3], [3, 2, 1]]), 1);
    const picked = gather(p, 1, tensor([[2], [0]]));
    assert.deepEqual(picked.shape, [2, 1]);
    assert.deepEqual(arr(picked), [p.data[2], p.data[3]]);
  });
});

describe('indexSelect', () => {
  test('rows and columns in any order with repeats; the gradient counts the repeats', () => {
    const x = tensor([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]);
    const cols = indexSelect(x, 1, [3, 0, 3]);
    assert.deepEqual(cols.shape, [3, 3]);
    assert.deepEqual(arr(cols), [4, 1, 4, 8, 5, 8, 12, 9, 12]);
    assert.deepEqual(arr(x.indexSelect(0, tensor([2, 0]))), [9, 10, 11, 12, 1, 2, 3, 4]);
    assert.deepEqual(gradOf(x, (t) => indexSelect(t, 1, [3, 0, 3])), [1, 0, 0, 2, 1, 0, 0, 2, 1, 0, 0, 2]);
    assert.deepEqual(indexSelect(x, 0, []).shape, [0, 4]);
    assertGradcheck((t) => indexSelect(t, 1, [2, 2, 0]), [rn([2, 3, 2])], { what: 'indexSelect' });
  });
});

describe('expand and broadcastTo', () => {
  test('size-1 dims and new leading dims are repeated; -1 keeps a size; the gradient sums back', () => {
    const x = tensor([[1], [2], [3]]);
    const y = expand(x, [2, 3, 4]);
    assert.deepEqual(y.shape, [2, 3, 4]);
    for (let b = 0; b < 2; b++) for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) assert.equal(y.data[(b * 3 + i) * 4 + j], i + 1);
    assert.deepEqual(x.expand([-1, 2]).shape, [3, 2]);
    assert.deepEqual(arr(broadcastTo(tensor([1, 2]), [2, 2])), [1, 2, 1, 2]);
    assert.deepEqual(arr(tensor([5]).expandAs(zeros([2, 2]))), [5, 5, 5, 5]);
    assert.deepEqual(gradOf(x, (t) => expand(t, [2, 3, 4])), [8, 8, 8]);
    // A copy: writing to the result leaves the input alone.
    y.data[0] = 50;
    assert.equal(x.data[0], 1);
    assert.ok(Object.is(expand(tensor([-0]), [2]).data[1], -0), 'negative zero is kept');
    assertGradcheck((t) => expand(t, [2, 3, 4]), [rn([3, 1])], { what: 'expand' });
    assertGradcheck((t) => broadcastTo(t, [3, 2, 2]), [rn([1, 2])], { what: 'broadcastTo' });
  });
});

describe('maxWithIndices and minWithIndices (torch.max(x, dim))', () => {
  test('values and indices by hand, first occurrence on ties; keepDims', () => {
    const x = tensor([[1, 5, 5], [7, 2, 7]]);
    const m = maxWithIndices(x, 1);
    assert.deepEqual(arr(m.values), [5, 7]);
    assert.deepEqual(arr(m.indices), [1, 0]);
    assert.deepEqual(m.values.shape, [2]);
    const k = x.maxWithIndices(0, { keepDims: true });
    assert.deepEqual(k.values.shape, [1, 3]);
    assert.deepEqual(arr(k.values), [7, 5, 7]);
    assert.deepEqual(arr(k.indices), [1, 0, 1]);
    const n = minWithIndices(x, -1);
    assert.deepEqual(arr(n.values), [1, 2]);
    assert.deepEqual(arr(n.indices), [0, 1]);
    assert.equal(m.indices.dtype, 'float32');
  });

  test('a 0-d tensor takes dim 0 or -1 (PyTorch), giving itself and index 0', () => {
    const s = tensor(5);
    for (const d of [0, -1]) {
      const m = maxWithIndices(s, d);
      assert.deepEqual([m.values.shape, m.values.item(), m.indices.item()], [[], 5, 0]);
      const t = topk(s, 1, d);
      assert.deepEqual([t.values.shape, t.values.item(), t.indices.item()], [[], 5, 0]);
    }
    assert.equal(gather(s, -1, tensor(0)).item(), 5);
  });

  test('NaN is the maximum and the minimum, as PyTorch', () => {
    const m = maxWithIndices(tensor([1, NaN, 3]), 0);
    ok(Number.isNaN(m.values.item()), 'NaN value');
    assert.equal(m.indices.item(), 1);
    assert.equal(minWithIndices(tensor([1, NaN, 3]), 0).indices.item(), 1);
  });

  test('the gradient goes to the indexed element only (max(x) without dim splits ties instead)', () => {
    const x = tensor([[1, 5, 5], [7, 2, 7]]);
    assert.deepEqual(gradOf(x, (t) => maxWithIndices(t, 1).values), [0, 1, 0, 1, 0, 0]);
    assert.deepEqual(gradOf(x, (t) => max(t, 1)), [0, 0.5, 0.5, 0.5, 0, 0.5]);
    assert.deepEqual(gradOf(x, (t) => minWithIndices(t, 0, { keepDims: true }).values, tensor([[1, 2, 3]])), [1, 0, 3, 0, 2, 0]);
    assertGradcheck((t) => maxWithIndices(t, 1).values, [rn([3, 4, 2])], { what: 'max dim 1' });
    assertGradcheck((t) => minWithIndices(t, 0, { keepDims: true }).values, [rn([3, 4])], { what: 'min dim 0' });
  });
});

describe('topk', () => {
  test('first and second guess of a classifier, by hand; ties keep index order', () => {
    const p = tensor([[0.1, 0.7, 0.2], [0.5, 0.4, 0.9], [0.3, 0.3, 0.3]]);
    const { values, indices } = topk(p, 2);
    assert.deepEqual(values.shape, [3, 2]);
    assert.deepEqual(arr(values), arr(tensor([0.7, 0.2, 0.9, 0.5, 0.3, 0.3])));
    assert.deepEqual(arr(indices), [1, 2, 2, 0, 0, 1]);
    const small = p.topk(1, -1, { largest: false });
    assert.deepEqual(arr(small.indices), [0, 1, 0]);
    const cols = topk(p, 3, 0);
    // Columns (0.1, 0.5, 0.3), (0.7, 0.4, 0.3), (0.2, 0.9, 0.3); row r of the result holds each column's rank-r index.
    assert.deepEqual(arr(cols.indices), [1, 0, 1, 2, 1, 2, 0, 2, 0]);
    assert.deepEqual(topk(p, 0).values.shape, [3, 0]);
  });

  test('against sorting each row (naive), with NaN counted as the largest', () => {
    const x = randn([4, 7], { generator: gen });
    x.data[9] = NaN;
    const { values, indices } = topk(x, 3, 1);
    for (let r = 0; r < 4; r++) {
      const row = Array.from(x.data.slice(r * 7, r * 7 + 7)).map((v, i) => [v, i]);
      row.sort((a, b) => (Number.isNaN(a[0]) ? -1 : Number.isNaN(b[0]) ? 1 : b[0] - a[0]));
      for (let j = 0; j < 3; j++) {
        assert.equal(indices.data[r * 3 + j], row[j][1], `row ${r}, rank ${j}`);
        ok(Object.is(values.data[r * 3 + j], x.data[r * 7 + row[j][1]]), `row ${r}, rank ${j} value`);
      }
    }
  });

  test('the gradient goes to the selected elements', () => {
    const x = tensor([[3, 1, 2], [0, 5, 4]]);
    assert.deepEqual(gradOf(x, (t) => topk(t, 2).values, tensor([[10, 20], [30, 40]])), [10, 0, 20, 0, 30, 40]);
    assertGradcheck((t) => topk(t, 2, 1).values, [rn([3, 5])], { what: 'topk dim 1' });
    assertGradcheck((t) => topk(t, 2, 0, { largest: false }).values, [rn([4, 3])], { what: 'topk smallest dim 0' });
  });
});

describe('indexing argument errors', () => {
  test('gather', () => {
    throwsWith(() => gather(zeros([2, 3]), 1, tensor([0, 1])), ShapeError, /index must have the input's number of dimensions \(2\)/, /unsqueeze/);
    throwsWith(() => gather(zeros([2, 3]), 1, tensor([[0, 3]])), ValueError, /index 3 at position 1 is out of range for dimension 1 of size 3/, /\[0, 2\]/);
    throwsWith(() => gather(zeros([2, 3]), 1, tensor([[0, -1]])), ValueError, /index -1/);
    throwsWith(() => gather(zeros([2, 3]), 1, tensor([[0.5]])), ValueError, /index 0\.5/);
    throwsWith(() => gather(zeros([2, 3]), 1, zeros([3, 1])), ShapeError, /larger than input \[2, 3\] in dimension 0 \(3 > 2\)/);
    throwsWith(() => gather(zeros([2, 3]), 2, zeros([2, 3])), ValueError, /dim 2 is out of range/);
  });

  test('indexSelect, expand, where', () => {
    throwsWith(() => indexSelect(zeros([2, 3]), 0, zeros([1, 1])), ShapeError, /indices must be 1-D/, /\[1, 1\]/);
    throwsWith(() => indexSelect(zeros([2, 3]), 0, [2]), ValueError, /index 2 at position 0 is out of range for dimension 0 of size 2/);
    throwsWith(() => expand(zeros([3, 2]), [4, 3]), ShapeError, /cannot expand \[3, 2\] to \[4, 3\]: dimension 0 is 3, not 1, and the target is 4/);
    throwsWith(() => expand(zeros([3]), [-1, 3]), ValueError, /-1 .* at new leading dimension 0/);
    throwsWith(() => broadcastTo(zeros([2, 3]), [3]), ShapeError, /broadcastTo: the target \[3\] has fewer dimensions than the input \[2, 3\]/);
    throwsWith(() => where(tensor([1, 0]), zeros([3]), 0), ShapeError, /where: shapes \[2\] and \[3\] cannot be broadcast/);
    throwsWith(() => where(tensor([1]), [1] as any, 0), ValueError, /a must be a Tensor or a number, got an array/);
  });

  test('maxWithIndices and topk', () => {
    throwsWith(() => maxWithIndices(zeros([2]), undefined as any), ValueError, /dim must be a number/, /max\(x\)/);
    throwsWith(() => minWithIndices(zeros([2, 0]), 1), ValueError, /dimension 1 of \[2, 0\] is empty/);
    throwsWith(() => maxWithIndices(zeros([2]), 0, { keepdim: true } as any), ValueError, /unknown option 'keepdim'/);
    throwsWith(() => topk(zeros([2, 3]), 4), ValueError, /k = 4 is larger than dimension 1 of \[2, 3\] \(size 3\)/);
    throwsWith(() => topk(zeros([2, 3]), 1.5), ValueError, /k must be an integer >= 0/);
    throwsWith(() => topk(zeros([3]), 1, 0, { largest: 'yes' as any }), ValueError, /largest must be a boolean/);
  });
});
