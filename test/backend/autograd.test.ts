/**
 * The tape: fan-out accumulation, accumulation across backward calls, noGrad,
 * detach, requiresGrad_, errors of backward, which tensors keep a .grad, and
 * anomaly mode (detectAnomaly).
 * Expected gradients are derived by hand in the comments.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { Tensor, ShapeError, ValueError, tensor, ones, zeros, noGrad, enableGrad, isGradEnabled, backward, gradcheck, detectAnomaly, isAnomalyEnabled, full } from '../../src/index.js';
import { add, mul, div, sum, exp, log, sqrt, reshape, conv2d, relu, maxPool2d, flatten, linear, crossEntropy, matmul } from '../../src/ops/index.js';
import { record } from '../../src/autograd/index.js';
import { assertClose, assertGradcheck, ok, seeded, throwsWith } from '../helpers/index.js';
import { allocateOutput, clearRecycledOutputs, recycleOutput, recycledOutputBytes } from '../../src/tensor/tensor.js';

const arr = (t: Tensor | null) => {
  ok(t, 'expected a gradient');
  return Array.from(t.data);
};

describe('fan-out', () => {
  test('x used twice in one op: d(x*x)/dx = 2x', () => {
    const x = tensor([1, -2, 3]).requiresGrad_();
    sum(mul(x, x)).backward();
    assert.deepEqual(arr(x.grad), [2, -4, 6]);
  });
  test('x reaching the loss along several paths: y = (2x)(3x) + x -> dy/dx = 12x + 1', () => {
    const x = tensor([0.5, 1, -1]).requiresGrad_();
    const a = mul(x, 2);
    const b = mul(x, 3);
    sum(add(mul(a, b), x)).backward();
    assertClose(arr(x.grad), [7, 13, -11], 1e-6);
  });
  test('a diamond: h = exp(x); y = h * h + h -> dy/dx = (2h + 1) h', () => {
    const x = tensor([0, 0.5]).requiresGrad_();
    const h = exp(x);
    sum(add(mul(h, h), h)).backward();
    const e = [1, Math.exp(0.5)];
    assertClose(arr(x.grad), e.map((v) => (2 * v + 1) * v), 1e-6);
  });
  test('a long chain (20,000 ops) does not overflow the stack', () => {
    const x = tensor([1]).requiresGrad_();
    let y = x;
    for (let i = 0; i < 20000; i++) y = add(y, 1);
    y.backward();
    assert.deepEqual(arr(x.grad), [1]);
  });
});

describe('accumulation', () => {
  test('two backward passes add into .grad, as in PyTorch; clearing resets it', () => {
    const x = tensor([1, 2]).requiresGrad_();
    sum(mul(x, 3)).backward();
    assert.deepEqual(arr(x.grad), [3, 3]);
    sum(mul(x, x)).backward();
    assert.deepEqual(arr(x.grad), [3 + 2, 3 + 4]);
    x.grad = null;
    sum(mul(x, 5)).backward();
    assert.deepEqual(arr(x.grad), [5, 5]);
  });
  test('backward twice on the same graph accumulates twice', () => {
    const x = tensor([2]).requiresGrad_();
    const y = mul(x, x);
    y.backward();
    y.backward();
    assert.deepEqual(arr(x.grad), [8]);
  });
  test("each leaf owns its .grad: writing to one does not change another's or the upstream gradient", () => {
    const a = tensor([1, 2]).requiresGrad_();
    const b = tensor([3, 4]).requiresGrad_();
    const g = tensor([10, 20]);
    add(a, b).backward(g);
    assert.deepEqual(arr(a.grad), [10, 20]);
    assert.deepEqual(arr(b.grad), [10, 20]);
    a.grad!.data[0] = -1;
    assert.equal(b.grad!.data[0], 10);
    assert.equal(g.data[0], 10);
  });
  test('the gradient has the shape and dtype of its leaf', () => {
    const x = zeros([2, 3], { requiresGrad: true });
    sum(reshape(x, [3, 2])).backward();
    assert.deepEqual(x.grad!.shape, [2, 3]);
    assert.equal(x.grad!.dtype, 'float32');
    const d = zeros([2], { dtype: 'float64', requiresGrad: true });
    sum(mul(d, 2)).backward();
    assert.equal(d.grad!.dtype, 'float64');
  });
});

describe('which tensors get gradients', () => {
  test('non-leaf tensors do not keep .grad; leaves that require grad do', () => {
    const x = tensor([1, 2]).requiresGrad_();
    const h = mul(x, 2);
    sum(h).backward();
    assert.equal(h.grad, null);
    assert.equal(h.isLeaf, false);
    assert.equal(x.isLeaf, true);
    assert.deepEqual(arr(x.grad), [2, 2]);
  });
  test('inputs that do not require grad get none', () => {
    const x = tensor([1, 2]).requiresGrad_();
    const c = tensor([5, 7]);
    sum(mul(x, c)).backward();
    assert.equal(c.grad, null);
    assert.deepEqual(arr(x.grad), [5, 7]);
  });
  test('an op records only when an input requires grad', () => {
    const a = tensor([1]);
    const y = mul(a, 2);
    assert.equal(y.requiresGrad, false);
    assert.equal(y.gradFn, null);
    const z = mul(tensor([1]).requiresGrad_(), 2);
    assert.equal(z.requiresGrad, true);
    ok(z.gradFn);
    assert.equal(z.gradFn!.inputs.length, 2);
  });
});

describe('noGrad, enableGrad', () => {
  test('inside noGrad results have no gradFn and do not require grad; the flag is restored', () => {
    const x = tensor([1, 2]).requiresGrad_();
    assert.equal(isGradEnabled(), true);
    const y = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      return mul(x, 2);
    });
    assert.equal(isGradEnabled(), true);
    assert.equal(y.gradFn, null);
    assert.equal(y.requiresGrad, false);
    assert.throws(() => y.backward(ones([2])), ValueError);
  });
  test('the flag is restored when the function throws, and nesting works', () => {
    assert.throws(() => noGrad(() => { throw new Error('boom'); }));
    assert.equal(isGradEnabled(), true);
    noGrad(() => {
      noGrad(() => undefined);
      assert.equal(isGradEnabled(), false);
      const x = tensor([3]).requiresGrad_();
      const y = enableGrad(() => mul(x, x));
      assert.equal(isGradEnabled(), false);
      ok(y.gradFn, 'enableGrad records even inside noGrad');
    });
    assert.equal(isGradEnabled(), true);
  });
});

describe('detach and requiresGrad_', () => {
  test('detach shares the data but leaves the graph: y = x * detach(x) -> dy/dx = x', () => {
    const x = tensor([2, -3]).requiresGrad_();
    const d = x.detach();
    assert.equal(d.requiresGrad, false);
    assert.equal(d.gradFn, null);
    assert.equal(d.data, x.data);
    sum(mul(x, d)).backward();
    assert.deepEqual(arr(x.grad), [2, -3]);
  });
  test('requiresGrad_ turns gradients on for a leaf and returns the same tensor', () => {
    const x = tensor([1]);
    assert.equal(x.requiresGrad_(), x);
    assert.equal(x.requiresGrad, true);
    x.requiresGrad_(false);
    assert.equal(x.requiresGrad, false);
  });
  test('requiresGrad_(false) on a non-leaf is a ValueError pointing to detach', () => {
    const y = mul(tensor([1]).requiresGrad_(), 2);
    assert.throws(() => y.requiresGrad_(false), (e: unknown) => e instanceof ValueError && /detach/.test(e.message));
  });
});

describe('errors of backward', () => {
  test('a non-scalar output needs an explicit gradient (ShapeError naming the shape)', () => {
    const y = mul(tensor([1, 2, 3]).requiresGrad_(), 2);
    assert.throws(() => y.backward(), (e: unknown) => e instanceof ShapeError && /\[3\]/.test(e.message) && /gradient/.test(e.message));
  });
  test('an explicit gradient of the wrong shape is a ShapeError', () => {
    const y = mul(tensor([1, 2, 3]).requiresGrad_(), 2);
    assert.throws(() => y.backward(ones([2])), (e: unknown) => e instanceof ShapeError && /\[2\]/.test(e.message) && /\[3\]/.test(e.message));
  });
  test('backward from a tensor that does not require grad is a ValueError', () => {
    assert.throws(() => tensor([1]).backward(), (e: unknown) => e instanceof ValueError && /requiresGrad/.test(e.message));
  });
  test('an explicit upstream gradient scales the result: y = 3x, dL/dy = g -> dL/dx = 3g', () => {
    const x = tensor([[1, 2], [3, 4]]).requiresGrad_();
    backward(mul(x, 3), tensor([[1, -1], [0.5, 2]]));
    assert.deepEqual(arr(x.grad), [3, -3, 1.5, 6]);
  });
  test('a one-element non-0-d output can be backpropagated implicitly', () => {
    const x = tensor([[2]]).requiresGrad_();
    mul(x, x).backward();
    assert.deepEqual(arr(x.grad), [4]);
  });
});

describe('recycled gradient memory', () => {
  // Sizes of at least 1,024 float32 values, so the engine's gradients are recycled (tensor.ts).
  const N = 4096;
  const ramp = (scale: number) => tensor(Array.from({ length: N }, (_, i) => scale * ((i % 97) - 48) / 48));

  test('gradients through fan-out, views and sums are exact, and the same again on recycled memory', () => {
    clearRecycledOutputs();
    const x = ramp(1).requiresGrad_();
    const w = ramp(0.5).requiresGrad_();
    const run = () => {
      x.grad = null;
      w.grad = null;
      // y = sum(exp(x) * w + reshape(x + x, ...) * x): add's backward hands one tensor to both of
      // its inputs, reshape's a view of its gradient, and x is reached three ways.
      const a = mul(exp(x), w);
      const b = mul(reshape(reshape(add(x, x), [64, 64]), [N]), x);
      backward(sum(add(a, b)));
      return [arr(x.grad), arr(w.grad)];
    };
    const [gx1, gw1] = run();
    ok(recycledOutputBytes() > 0, 'backward recycled nothing');
    const gx2 = run()[0];
    const gw2 = arr(w.grad);
    // d/dx = exp(x) w + 4x, d/dw = exp(x)
    const xs = Array.from(x.data);
    const ws = Array.from(w.data);
    assertClose(gx1, xs.map((v, i) => Math.exp(v) * ws[i] + 4 * v), 1e-5);
    assertClose(gw1, xs.map((v) => Math.exp(v)), 1e-5);
    assert.deepEqual(gx2, gx1, 'the second pass, on recycled buffers, must give the same gradient');
    assert.deepEqual(gw2, gw1);
  });

  test('the pool is bounded (64 MiB), hands back its buffers, and drops the sizes used longest ago first', () => {
    clearRecycledOutputs();
    const MiB = 2 ** 20;
    const buffers = (bytes: number, n: number) => Array.from({ length: n }, () => new ArrayBuffer(bytes));
    // two buffers of one size: both are handed back, the last recycled first
    const [a, b] = buffers(16 * 1024, 2);
    recycleOutput(a);
    recycleOutput(b);
    assert.equal(allocateOutput('float32', 4096).buffer, b);
    assert.equal(allocateOutput('float32', 4096).buffer, a);
    assert.equal(recycledOutputBytes(), 0);
    // 60 MiB of one size (the old shapes), then 16 MiB of another: the old size makes room, the pool stays within its bound
    for (const buf of buffers(4 * MiB, 15)) recycleOutput(buf);
    assert.equal(recycledOutputBytes(), 60 * MiB);
    const fresh = buffers(2 * MiB, 8);
    for (const buf of fresh) recycleOutput(buf);
    assert.equal(recycledOutputBytes(), 16 * MiB + 12 * 4 * MiB);
    ok(recycledOutputBytes() <= 64 * MiB);
    for (let k = 7; k >= 0; k--) assert.equal(allocateOutput('float32', (2 * MiB) / 4).buffer, fresh[k], 'every buffer of the new size is kept');
    clearRecycledOutputs();
  });

  test('a gradient adopted as .grad is never handed out again', () => {
    clearRecycledOutputs();
    const x = ramp(1).requiresGrad_();
    backward(sum(mul(exp(x), ramp(2))));
    const kept = arr(x.grad);
    // more passes of the same sizes: recycled buffers get reused and overwritten
    for (let k = 0; k < 3; k++) {
      const z = ramp(1).requiresGrad_();
      backward(sum(mul(exp(z), ramp(-3))));
    }
    assert.deepEqual(arr(x.grad), kept, 'x.grad changed after later backward passes');
  });

  test('the seed gradient given to backward is the caller\'s and is left alone', () => {
    clearRecycledOutputs();
    const x = ramp(1).requiresGrad_();
    const y = exp(x);
    const seed = ramp(0.25);
    const before = Array.from(seed.data);
    backward(y, seed);
    for (let k = 0; k < 2; k++) backward(sum(mul(exp(ramp(1).requiresGrad_()), ramp(1))));
    assert.deepEqual(Array.from(seed.data), before, 'the seed gradient was recycled and overwritten');
    // backward straight from a leaf: .grad is a copy of the seed, not the seed's memory
    const leaf = ramp(1).requiresGrad_();
    backward(leaf, seed);
    seed.data[0] = 12345;
    ok(leaf.grad !== null && leaf.grad.data[0] === before[0], `the leaf's .grad shares memory with the seed (${leaf.grad?.data[0]})`);
  });
});

describe('gradcheck: compositions', () => {
  const { rn } = seeded(20240611);
  test('fan-out: x used by several ops', () => {
    assertGradcheck((x) => add(mul(x, x), mul(exp(x), sum(x))), [rn([3, 2])]);
  });
  test('a small CNN: conv -> relu -> maxpool -> flatten -> linear -> crossEntropy, w.r.t. every weight', () => {
    const x = rn([2, 1, 6, 6]);
    const labels = [1, 2];
    const fn = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor) => {
      const h = maxPool2d(relu(conv2d(x, w1, b1, { padding: 1 })), 2);
      return crossEntropy(linear(flatten(h, 1), w2, b2), labels);
    };
    const inputs = [rn([2, 1, 3, 3]), rn([2]), rn([3, 18]), rn([3])];
    for (const t of inputs) t.requiresGrad = true;
    assertGradcheck(fn, inputs);
  });
  test('only the inputs marked requiresGrad are checked', () => {
    const a = rn([2, 2]).requiresGrad_();
    const b = rn([2, 2]);
    const report = gradcheck((p, q) => mul(p, q), [a, b]);
    assert.equal(report.passed, true);
    assert.deepEqual(report.inputs.map((r) => r.index), [0]);
  });
});

describe('gradcheck itself', () => {
  const { rn, awayFromZero } = seeded(20240611);
  /** x^2 with a deliberately wrong derivative (x instead of 2x). */
  function badSquare(x: Tensor): Tensor {
    const out = new Tensor(new Float64Array(x.size), x.shape);
    for (let i = 0; i < x.size; i++) out.data[i] = x.data[i] * x.data[i];
    return record(out, 'badSquare', [x], (g) => [mul(g, x)]);
  }
  /** The same op with the right derivative, to show the harness accepts a correct custom op. */
  function goodSquare(x: Tensor): Tensor {
    const out = new Tensor(new Float64Array(x.size), x.shape);
    for (let i = 0; i < x.size; i++) out.data[i] = x.data[i] * x.data[i];
    return record(out, 'goodSquare', [x], (g) => [mul(g, mul(x, 2))]);
  }

  test('fails (throws ValueError naming the input and element) for a wrong backward', () => {
    assert.throws(() => gradcheck(badSquare, [awayFromZero([3])]), (err: unknown) => {
      ok(err instanceof ValueError);
      assert.match(err.message, /input 0/);
      assert.match(err.message, /element \d/);
      assert.match(err.message, /analytic gradient .* finite differences give/);
      return true;
    });
  });
  test('reports passed false with the worst element when not throwing', () => {
    const x = tensor([0.01, -0.02, 3], [3], { dtype: 'float64' });
    const report = gradcheck(badSquare, [x], { throwOnFailure: false });
    assert.equal(report.passed, false);
    const worst = report.inputs[0].worst!;
    // The analytic gradient is r*x but the true one is 2*r*x: the worst error is at |x| = 3.
    assert.equal(worst.element, 2);
    ok(Math.abs(worst.numeric - 2 * worst.analytic) < 1e-6);
  });
  test('passes for the correct custom op', () => {
    assertGradcheck(goodSquare, [rn([4])]);
  });
  test('a backward that drops the gradient of one input is caught', () => {
    const wrong = (a: Tensor, b: Tensor) => {
      const out = new Tensor(new Float64Array(a.size), a.shape);
      for (let i = 0; i < a.size; i++) out.data[i] = a.data[i] * b.data[i];
      return record(out, 'mulMissingB', [a, b], (g) => [mul(g, b), null]);
    };
    const report = gradcheck(wrong, [rn([3]), rn([3])], { throwOnFailure: false });
    assert.equal(report.passed, false);
    assert.equal(report.inputs[0].worst, null);
    assert.notEqual(report.inputs[1].worst, null);
  });
  test('rejects a function that ignores its inputs', () => {
    assert.throws(() => gradcheck(() => zeros([2]), [rn([2])]), ValueError);
  });
});

describe('anomaly mode (detectAnomaly)', () => {
  /** A layer's parameters, named as a model names them: fc1.weight [3, 2] and fc1.bias [3]. */
  const fc1 = () => {
    const weight = tensor([[1, 0], [0, 1], [-1, -1]]).requiresGrad_();
    const bias = tensor([0, 0, 0]).requiresGrad_();
    return { weight, bias, parameters: [['fc1.weight', weight], ['fc1.bias', bias]] as [string, Tensor][] };
  };
  const x = tensor([[1, 2], [3, 1]]);

  test('a log of a negative number: the op, its layer, the pass and the input shapes are named', () => {
    const { weight, bias, parameters } = fc1();
    // fc1's third output is -(x0 + x1) < 0 for both rows: its log is NaN.
    const run = () => sum(log(linear(x, weight, bias))).backward();
    throwsWith(
      () => detectAnomaly(run, { parameters }),
      ValueError,
      'detectAnomaly: log (after layer fc1) produced a non-finite value in the forward pass: its output [2, 3] holds 2 NaN of 6 values (the first at [0, 2]); input shapes [2, 3]. Its inputs were all finite, so log made them',
    );
    assert.equal(isAnomalyEnabled(), false, 'the mode is off again after the throw');
    // Off (the default) nothing is checked: the same computation runs to its NaN.
    weight.grad = null;
    const y = sum(log(linear(x, weight, bias)));
    assert.ok(Number.isNaN(y.item()));
    y.backward();
  });

  test('a 0/0 division is named with its layer, whichever op made it', () => {
    const scale = tensor([0, 2]).requiresGrad_();
    const numerator = tensor([0, 1]);
    throwsWith(
      () => detectAnomaly(() => div(numerator, scale), { parameters: [['norm.scale', scale]] }),
      ValueError, 'detectAnomaly: div (layer norm) produced a non-finite value in the forward pass: its output [2] holds 1 NaN of 2 values (the first at [0]); input shapes [2], [2]',
    );
    // Overflow in other ops goes through the same check.
    throwsWith(() => detectAnomaly(() => exp(tensor([1, 100]))), ValueError, 'detectAnomaly: exp produced a non-finite value in the forward pass: its output [2] holds 1 +Infinity of 2 values (the first at [1])');
    throwsWith(() => detectAnomaly(() => matmul(full([2, 2], 3e19), full([2, 2], 3e19))), ValueError, 'detectAnomaly: matmul produced', 'holds 4 +Infinity of 4 values');
    const w = full([1, 1, 2, 2], -2e38).requiresGrad_();
    throwsWith(
      () => detectAnomaly(() => conv2d(full([1, 1, 3, 3], 1), w), { parameters: [['conv1.weight', w]] }),
      ValueError, 'detectAnomaly: conv2d (layer conv1) produced a non-finite value in the forward pass: its output [1, 1, 2, 2] holds 4 -Infinity of 4 values',
    );
  });

  test('a non-finite gradient is named in the backward pass: sqrt at 0', () => {
    const { weight, bias, parameters } = fc1();
    bias.data.set([-1, -1, 0]);
    // fc1(x)[0, 0] = 1 - 1 = 0: sqrt is 0 there (finite) but its derivative 1 / (2 sqrt(0)) is infinite.
    throwsWith(
      () => detectAnomaly(() => sum(sqrt(relu(linear(x, weight, bias)))).backward(), { parameters }),
      ValueError,
      'detectAnomaly: the backward of sqrt (after layer fc1) produced a non-finite value in the backward pass: the gradient of its input 0 [2, 3] holds',
      'input shapes [2, 3]. The gradient it was given [2, 3] was finite, so the backward of sqrt made them',
    );
  });

  test('bad values that came in with an input are told apart from those an op makes', () => {
    const { weight, bias, parameters } = fc1();
    const data = tensor([[1, NaN]]);
    throwsWith(
      () => detectAnomaly(() => linear(data, weight, bias), { parameters }),
      ValueError,
      'detectAnomaly: linear (layer fc1) produced a non-finite value in the forward pass',
      'Its input 0 [1, 2] (a leaf tensor: the data, or a tensor made or changed outside the ops) already holds 1 NaN of 2 values (the first at [0, 1]), so linear only passed them on',
    );
    weight.data[3] = Infinity;
    throwsWith(() => detectAnomaly(() => linear(x, weight, bias), { parameters }), ValueError, 'Its input 1 [3, 2] (parameter fc1.weight) already holds 1 +Infinity of 6 values (the first at [1, 1])');
  });

  test('the mode nests, is restored after each call, and checks its arguments', () => {
    assert.equal(isAnomalyEnabled(), false);
    const inner = detectAnomaly(() => detectAnomaly(() => isAnomalyEnabled()) && isAnomalyEnabled());
    assert.equal(inner, true);
    assert.equal(isAnomalyEnabled(), false);
    throwsWith(() => detectAnomaly(() => 1, { names: [] } as never), ValueError, "unknown option 'names'");
    throwsWith(() => detectAnomaly(() => 1, { parameters: [['w', 3]] } as never), ValueError, 'parameters must be [name, tensor] pairs');
    throwsWith(() => detectAnomaly(3 as never), ValueError, 'fn must be a function');
  });
});

