/**
 * Losses against hand computations and naive loops written here from
 * PyTorch's definitions: crossEntropy with per-class weights, ignoreIndex,
 * label smoothing and N-D (per-pixel) logits; nllLoss; binary cross-entropy on
 * probabilities and on logits (posWeight, the -100 log clamp, large logits);
 * l1, smooth L1 and Huber; the loss layers; gradchecks; argument errors.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { Generator, Tensor, ShapeError, ValueError, tensor, randn, rand, zeros, nn } from '../../../src/index.js';
import { crossEntropy, nllLoss, binaryCrossEntropy, binaryCrossEntropyWithLogits, l1Loss, smoothL1Loss, huberLoss, mseLoss, logSoftmax, sigmoid, softmax, mul } from '../../../src/ops/index.js';
import { CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss } from '../../../src/nn/index.js';
import { assertClose, assertGradcheck, ok, seeded, throwsWith } from '../../helpers/index.js';

const { gen, rn, ru } = seeded(31337);

// ---------------------------------------------------------------------------
// A naive cross-entropy over positions, straight from PyTorch's definition.

/** logits as rows [position][class]; returns per-position losses and the mean's divisor. */
function naiveCE(rows: number[][], labels: number[], o: { weight?: number[]; ignoreIndex?: number; eps?: number } = {}) {
  const C = rows[0].length;
  const w = o.weight ?? new Array(C).fill(1);
  const ignore = o.ignoreIndex ?? -100;
  const eps = o.eps ?? 0;
  let divisor = 0;
  const per = rows.map((row, i) => {
    if (labels[i] === ignore) return 0;
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    const logp = row.map((v) => v - lse);
    divisor += w[labels[i]];
    let smooth = 0;
    for (let c = 0; c < C; c++) smooth -= w[c] * logp[c];
    return (1 - eps) * w[labels[i]] * -logp[labels[i]] + (eps / C) * smooth;
  });
  return { per, divisor, sum: per.reduce((a, b) => a + b, 0) };
}

/** Rows [position][class] of logits [N, C, ...spatial], positions in target order (n, then spatial). */
function positionRows(x: Tensor): number[][] {
  const [N, C] = x.shape;
  const S = x.size / (N * C);
  const rows: number[][] = [];
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const row: number[] = [];
      for (let c = 0; c < C; c++) row.push(x.data[(n * C + c) * S + s]);
      rows.push(row);
    }
  }
  return rows;
}

describe('crossEntropy: class weights, ignoreIndex, label smoothing', () => {
  test('weights by hand: p = (1/4, 3/4) in both rows, weights (2, 1), labels (0, 1)', () => {
    const x = tensor([[0, Math.log(3)], [0, Math.log(3)]]);
    const per = [2 * Math.log(4), Math.log(4 / 3)];
    assertClose(crossEntropy(x, [0, 1], { weight: [2, 1], reduction: 'none' }).data, per, 1e-6, 'none');
    assertClose([crossEntropy(x, [0, 1], { weight: [2, 1], reduction: 'sum' }).item()], [per[0] + per[1]], 1e-6, 'sum');
    // The mean divides by the weights of the targets (2 + 1), not by N = 2.
    assertClose([crossEntropy(x, [0, 1], { weight: tensor([2, 1]) }).item()], [(per[0] + per[1]) / 3], 1e-6, 'mean');
  });

  test('gradient with weights, by hand: w[y] (p - onehot) / sum of target weights', () => {
    const x = tensor([[0, Math.log(3)], [0, Math.log(3)]]).requiresGrad_();
    crossEntropy(x, [0, 1], { weight: [2, 1] }).backward();
    assertClose(x.grad!.data, [(2 * (0.25 - 1)) / 3, (2 * 0.75) / 3, (1 * 0.25) / 3, (1 * (0.75 - 1)) / 3], 1e-6, 'grad');
  });

  test('ignoreIndex: ignored rows add no loss, no gradient and nothing to the divisor (default -100)', () => {
    const rows = [[2, 1, 0.1], [0.5, 2.5, -1], [-0.3, 0.2, 3]];
    const x = tensor(rows).requiresGrad_();
    const loss = crossEntropy(x, [0, -100, 2]);
    const ref = naiveCE(rows, [0, -100, 2]);
    assert.equal(ref.divisor, 2);
    assertClose([loss.item()], [ref.sum / 2], 1e-6, 'mean over the two kept rows');
    loss.backward();
    assertClose(Array.from(x.grad!.data.slice(3, 6)), [0, 0, 0], 0, 'ignored row gradient');
    const none = crossEntropy(tensor(rows), [0, -100, 2], { reduction: 'none' });
    assert.equal(none.data[1], 0);
    // A valid class can be the ignored one.
    assertClose([crossEntropy(tensor(rows), [0, 1, 1], { ignoreIndex: 1 }).item()], [naiveCE(rows, [0, 1, 1], { ignoreIndex: 1 }).per[0]], 1e-6, 'ignoreIndex 1');
  });

  test('every target ignored: the mean is 0/0 = NaN, as PyTorch', () => {
    ok(Number.isNaN(crossEntropy(tensor([[1, 2]]), [-100]).item()), 'NaN');
    assert.equal(crossEntropy(tensor([[1, 2]]), [-100], { reduction: 'sum' }).item(), 0);
  });

  test('label smoothing with weights and ignored targets matches the PyTorch definition', () => {
    const rows = [[1.2, -0.4, 0.3, 2.0], [0.1, 0.1, -2, 1], [3, 0, 0, -1], [0.5, -0.5, 1.5, 0]];
    const labels = [3, 0, -100, 2];
    const weight = [0.5, 2, 1, 3];
    for (const eps of [0.1, 0.4]) {
      const ref = naiveCE(rows, labels, { weight, eps });
      const x = tensor(rows);
      assertClose(crossEntropy(x, labels, { weight, labelSmoothing: eps, reduction: 'none' }).data, ref.per, 1e-6, `none, eps ${eps}`);
      assertClose([crossEntropy(x, labels, { weight, labelSmoothing: eps, reduction: 'sum' }).item()], [ref.sum], 1e-6, `sum, eps ${eps}`);
      assertClose([crossEntropy(x, labels, { weight, labelSmoothing: eps }).item()], [ref.sum / ref.divisor], 1e-6, `mean, eps ${eps}`);
    }
  });

  test('gradcheck: weights, ignoreIndex and label smoothing, every reduction', () => {
    const labels = tensor([2, 0, -100, 3, 1]);
    const weight = tensor([0.3, 1.7, 1, 2.5]);
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      assertGradcheck((x) => crossEntropy(x, labels, { weight, reduction }), [rn([5, 4])], { what: `weights, ${reduction}` });
      assertGradcheck((x) => crossEntropy(x, labels, { weight, labelSmoothing: 0.2, reduction }), [rn([5, 4])], { what: `weights + smoothing, ${reduction}` });
      assertGradcheck((x) => crossEntropy(x, [1, 1, 0], { ignoreIndex: 0, labelSmoothing: 0.1, reduction }), [rn([3, 4])], { what: `ignoreIndex 0, ${reduction}` });
    }
  });
});

describe('crossEntropy on N-D logits (per-pixel classification)', () => {
  test('logits [2, 3, 2, 2] and targets [2, 2, 2] match the naive per-position loss', () => {
    const x = randn([2, 3, 2, 2], { generator: gen });
    const labels = tensor([0, 2, 1, 1, 2, 2, 0, -100], [2, 2, 2]);
    const ref = naiveCE(positionRows(x), Array.from(labels.data), { weight: [1, 2, 0.5] });
    const none = crossEntropy(x, labels, { weight: [1, 2, 0.5], reduction: 'none' });
    assert.deepEqual(none.shape, [2, 2, 2]);
    assertClose(none.data, ref.per, 1e-5, 'none');
    assertClose([crossEntropy(x, labels, { weight: [1, 2, 0.5] }).item()], [ref.sum / ref.divisor], 1e-5, 'mean');
  });

  test('3-D logits [N, C, L] (sequences): the same as moving C last and flattening', () => {
    const x = randn([2, 4, 3], { generator: gen });
    const labels = [3, 0, 1, 2, 2, 0];
    const flat = x.permute([0, 2, 1]).reshape([6, 4]);
    assertClose([crossEntropy(x, tensor(labels, [2, 3])).item()], [crossEntropy(flat, labels).item()], 1e-6, 'identity');
  });

  test('gradient by hand for one pixel: softmax - onehot at that pixel only, divided by the pixel count', () => {
    // [1, 2, 1, 2]: two pixels, two classes; pixel 0 logits (0, 0), pixel 1 logits (ln 3, 0).
    const x = tensor([0, Math.log(3), 0, 0], [1, 2, 1, 2]).requiresGrad_();
    crossEntropy(x, tensor([1, 0], [1, 1, 2])).backward();
    // pixel 0: p = (1/2, 1/2), label 1; pixel 1: p = (3/4, 1/4), label 0; layout [c][pixel].
    assertClose(x.grad!.data, [0.5 / 2, (0.75 - 1) / 2, (0.5 - 1) / 2, 0.25 / 2], 1e-6, 'grad');
  });

  test('gradcheck: [2, 3, 2, 3] logits with weights, ignoreIndex and smoothing', () => {
    const labels = tensor([0, 1, 2, 2, -100, 1, 1, 0, 0, 2, 2, 1], [2, 2, 3]);
    assertGradcheck((x) => crossEntropy(x, labels, { weight: [0.5, 1.5, 1], labelSmoothing: 0.15 }), [rn([2, 3, 2, 3])], { what: 'N-D mean' });
    assertGradcheck((x) => crossEntropy(x, labels, { reduction: 'none' }), [rn([2, 3, 2, 3])], { what: 'N-D none' });
  });

  test('fully convolutional segmentation: a 1x1 conv learns per-pixel labels', () => {
    const conv = new nn.Conv2d(1, 2, 1, { generator: new Generator(3) });
    // Label 1 where the pixel is positive.
    const x = tensor([-1, 2, 0.5, -3, 1, -0.5, 2, -2, 0.3], [1, 1, 3, 3]);
    const labels = tensor(Array.from(x.data, (v) => (v > 0 ? 1 : 0)), [1, 3, 3]);
    const lossFn = new CrossEntropyLoss();
    const first = lossFn.forward(conv.forward(x), labels).item();
    for (let i = 0; i < 100; i++) {
      conv.zeroGrad();
      lossFn.forward(conv.forward(x), labels).backward();
      for (const p of conv.parameters()) for (let j = 0; j < p.size; j++) p.data[j] -= 0.5 * p.grad!.data[j];
    }
    const out = conv.forward(x);
    const last = lossFn.forward(out, labels).item();
    ok(last < first / 4, `loss ${first} -> ${last}`);
    const pred = Array.from(out.argmax(1).data);
    assert.deepEqual(pred, Array.from(labels.data));
  });
});

describe('nllLoss', () => {
  test('by hand: -w[y] x[n, y], mean over the target weights', () => {
    const x = tensor([[-1, -2], [-3, -4]]);
    assertClose(nllLoss(x, [1, 0], { reduction: 'none' }).data, [2, 3], 0, 'none');
    assertClose([nllLoss(x, [1, 0]).item()], [2.5], 1e-7, 'mean');
    assertClose([nllLoss(x, [1, 0], { weight: [1, 10] }).item()], [(20 + 3) / 11], 1e-7, 'weighted mean');
    assertClose([nllLoss(x, [1, -100]).item()], [2], 1e-7, 'ignored');
  });

  test('gradient by hand: -w[y] / divisor at the target, 0 elsewhere', () => {
    const x = tensor([[-1, -2], [-3, -4]]).requiresGrad_();
    nllLoss(x, [1, 0], { weight: [1, 10] }).backward();
    assertClose(x.grad!.data, [0, -10 / 11, -1 / 11, 0], 1e-7, 'grad');
  });

  test('nllLoss(logSoftmax(x, 1)) equals crossEntropy(x) with weights and ignoreIndex, also N-D', () => {
    const x = randn([3, 4, 2], { generator: gen });
    const labels = tensor([0, 3, -100, 1, 2, 2], [3, 2]);
    const o = { weight: [1, 0.5, 2, 1.5] };
    assertClose([nllLoss(logSoftmax(x, 1), labels, o).item()], [crossEntropy(x, labels, o).item()], 1e-6, 'identity');
  });

  test('gradcheck: weights and ignoreIndex, 2-D and N-D', () => {
    assertGradcheck((x) => nllLoss(x, [2, 0, -100], { weight: [2, 1, 0.5] }), [rn([3, 3])], { what: '2-D' });
    assertGradcheck((x) => nllLoss(x, tensor([1, 0, 2, 1], [2, 2]), { reduction: 'sum' }), [rn([2, 3, 2])], { what: 'N-D' });
  });
});

describe('binaryCrossEntropy and binaryCrossEntropyWithLogits', () => {
  test('BCE by hand, and log clamped at -100 at p = 0 and 1', () => {
    const p = tensor([0.5, 0.25, 0, 1, 1]);
    const t = tensor([1, 0, 1, 1, 0]);
    assertClose(binaryCrossEntropy(p, t, { reduction: 'none' }).data, [Math.log(2), Math.log(4 / 3), 100, 0, 100], 1e-6, 'none');
    assertClose([binaryCrossEntropy(p, t).item()], [(Math.log(2) + Math.log(4 / 3) + 200) / 5], 1e-6, 'mean');
  });

  test('BCE weight broadcast over rows, and the gradient by hand: w (p - t) / (p (1 - p))', () => {
    const p = tensor([[0.5, 0.25], [0.8, 0.1]]).requiresGrad_();
    const t = tensor([[1, 0], [0, 0]]);
    const w = tensor([2, 3]);
    const loss = binaryCrossEntropy(p, t, { weight: w, reduction: 'sum' });
    assertClose([loss.item()], [2 * Math.log(2) + 3 * Math.log(4 / 3) + 2 * -Math.log(0.2) + 3 * -Math.log(0.9)], 1e-6, 'sum');
    loss.backward();
    assertClose(p.grad!.data, [(2 * -0.5) / 0.25, (3 * 0.25) / (0.25 * 0.75), (2 * 0.8) / (0.8 * 0.2), (3 * 0.1) / (0.1 * 0.9)], 1e-5, 'grad');
  });

  test('BCE with soft targets: the gradient w.r.t. the target is log(1 - p) - log p', () => {
    const p = tensor([0.2, 0.6]);
    const t = tensor([0.3, 0.9]).requiresGrad_();
    binaryCrossEntropy(p, t, { reduction: 'sum' }).backward();
    assertClose(t.grad!.data, [Math.log(0.8 / 0.2), Math.log(0.4 / 0.6)], 1e-6, 'target grad');
  });

  test('with logits, by hand: x = 0 gives ln 2; posWeight multiplies the positive term', () => {
    const x = tensor([0, 0, 0]);
    const t = tensor([1, 0, 1]);
    assertClose(binaryCrossEntropyWithLogits(x, t, { reduction: 'none' }).data, [Math.log(2), Math.log(2), Math.log(2)], 1e-7, 'none');
    assertClose(binaryCrossEntropyWithLogits(x, t, { posWeight: tensor([3]), reduction: 'none' }).data, [3 * Math.log(2), Math.log(2), 3 * Math.log(2)], 1e-6, 'posWeight');
    assertClose(binaryCrossEntropyWithLogits(x, t, { weight: tensor([1, 2, 0.5]), reduction: 'none' }).data, [Math.log(2), 2 * Math.log(2), 0.5 * Math.log(2)], 1e-6, 'weight');
  });

  test('with logits: stable at |x| = 100 (loss 100 for the wrong side, ~0 for the right one)', () => {
    const l = binaryCrossEntropyWithLogits(tensor([100, -100, 100, -100]), tensor([0, 1, 1, 0]), { reduction: 'none' });
    assertClose(l.data, [100, 100, 0, 0], 1e-6, 'large logits');
  });

  test('with logits equals BCE of the sigmoid for moderate logits; gradient sigma(x) - t by hand', () => {
    const x = tensor([[-2, 0.5], [1.5, -0.3]]);
    const t = tensor([[0, 1], [0.7, 0.2]]);
    assertClose([binaryCrossEntropyWithLogits(x, t).item()], [binaryCrossEntropy(sigmoid(x), t).item()], 1e-6, 'identity');
    const xg = tensor([0, 2]).requiresGrad_();
    binaryCrossEntropyWithLogits(xg, tensor([1, 0]), { reduction: 'sum' }).backward();
    assertClose(xg.grad!.data, [0.5 - 1, 1 / (1 + Math.exp(-2))], 1e-6, 'grad');
  });

  test('gradcheck: BCE (input and target), BCE with logits (weight, posWeight, input and target)', () => {
    const w = tensor([0.5, 2, 1]);
    assertGradcheck((p, t) => binaryCrossEntropy(p, t, { weight: w }), [ru([2, 3], 0.1, 0.9), ru([2, 3], 0, 1)], { what: 'bce' });
    assertGradcheck((p, t) => binaryCrossEntropy(p, t, { reduction: 'none' }), [ru([4], 0.05, 0.95), ru([4], 0, 1)], { what: 'bce none' });
    const pw = tensor([3, 0.5, 1]);
    assertGradcheck((x, t) => binaryCrossEntropyWithLogits(x, t, { posWeight: pw, weight: w }), [rn([2, 3]), ru([2, 3], 0, 1)], { what: 'bce logits' });
    assertGradcheck((x, t) => binaryCrossEntropyWithLogits(x, t, { reduction: 'sum' }), [mul(rn([5]), 4), ru([5], 0, 1)], { what: 'bce logits sum' });
  });
});

describe('l1Loss, smoothL1Loss, huberLoss', () => {
  const x = tensor([1.5, 3, -3, 0.2]);
  const t = tensor([1, 1, 0, 0.2]);
  // z = x - t = 0.5, 2, -3, 0

  test('l1 by hand', () => {
    assertClose(l1Loss(x, t, { reduction: 'none' }).data, [0.5, 2, 3, 0], 1e-7, 'none');
    assertClose([l1Loss(x, t).item()], [5.5 / 4], 1e-7, 'mean');
    const xg = x.detach().requiresGrad_();
    l1Loss(xg, t, { reduction: 'sum' }).backward();
    assert.deepEqual(Array.from(xg.grad!.data), [1, 1, -1, 0]);
  });

  test('smooth L1 by hand: 0.5 z^2 / beta inside |z| < beta, |z| - beta / 2 outside', () => {
    assertClose(smoothL1Loss(x, t, { reduction: 'none' }).data, [0.125, 1.5, 2.5, 0], 1e-7, 'beta 1');
    assertClose(smoothL1Loss(x, t, { beta: 4, reduction: 'none' }).data, [0.5 * 0.25 / 4, 0.5 * 4 / 4, 0.5 * 9 / 4, 0], 1e-7, 'beta 4');
    assertClose(smoothL1Loss(x, t, { beta: 0, reduction: 'none' }).data, l1Loss(x, t, { reduction: 'none' }).data, 0, 'beta 0 is L1');
    const xg = x.detach().requiresGrad_();
    smoothL1Loss(xg, t, { reduction: 'sum' }).backward();
    assertClose(xg.grad!.data, [0.5, 1, -1, 0], 1e-7, 'grad');
  });

  test('Huber by hand, and huber(delta) = delta * smoothL1(beta = delta)', () => {
    assertClose(huberLoss(x, t, { delta: 2, reduction: 'none' }).data, [0.125, 2 * (2 - 1), 2 * (3 - 1), 0], 1e-7, 'delta 2');
    const a = huberLoss(x, t, { delta: 0.7, reduction: 'none' }).data;
    const b = smoothL1Loss(x, t, { beta: 0.7, reduction: 'none' }).data;
    assertClose(a, Array.from(b, (v) => 0.7 * v), 1e-6, 'identity');
    const xg = x.detach().requiresGrad_();
    huberLoss(xg, t, { delta: 2, reduction: 'sum' }).backward();
    assertClose(xg.grad!.data, [0.5, 2, -2, 0], 1e-7, 'grad');
  });

  test('huberLoss is PyTorch\'s formula to the bit: 0.5 z^2 and z inside delta (not delta * smooth L1\'s 0.5 z^2 / delta)', () => {
    const z = [0.3, -0.1, 0.45, 0.6999];
    const x = tensor(z, undefined, { dtype: 'float64' }).requiresGrad_();
    const t = zeros([4], { dtype: 'float64' });
    const l = huberLoss(x, t, { delta: 0.7, reduction: 'none' });
    assert.deepEqual([...l.data], z.map((v) => 0.5 * v * v));
    l.sum().backward();
    assert.deepEqual([...x.grad!.data], z);
    const s = smoothL1Loss(tensor(z, undefined, { dtype: 'float64' }), t, { beta: 0.7, reduction: 'none' });
    assert.deepEqual([...s.data], z.map((v) => (0.5 * Math.abs(v) * Math.abs(v)) / 0.7));
  });

  test('gradcheck: input and target, away from the kinks', () => {
    const a = tensor([0.3, -1.2, 2.5, -0.1, 0.8, 4], undefined, { dtype: 'float64' });
    const b = tensor([0, 0.4, 0.1, -1.5, 0.2, 1.1], undefined, { dtype: 'float64' });
    assertGradcheck((p, q) => l1Loss(p, q), [a, b], { what: 'l1' });
    assertGradcheck((p, q) => smoothL1Loss(p, q, { beta: 1 }), [a, b], { what: 'smoothL1' });
    assertGradcheck((p, q) => smoothL1Loss(p, q, { beta: 0.5, reduction: 'none' }), [a, b], { what: 'smoothL1 none' });
    assertGradcheck((p, q) => huberLoss(p, q, { delta: 1.3, reduction: 'sum' }), [a, b], { what: 'huber' });
  });
});

describe('loss layers', () => {
  test('each layer equals its functional form with the same options', () => {
    const logits = randn([4, 3], { generator: gen });
    const labels = tensor([2, 0, 1, -100]);
    const w = tensor([1, 2, 3]);
    assert.equal(new CrossEntropyLoss({ weight: w, labelSmoothing: 0.1 }).forward(logits, labels).item(), crossEntropy(logits, labels, { weight: w, labelSmoothing: 0.1 }).item());
    const labels2 = [2, 0, 1, 1];
    assert.equal(new NLLLoss({ weight: [1, 2, 3], ignoreIndex: 0, reduction: 'sum' }).forward(logits, labels2).item(), nllLoss(logits, labels2, { weight: w, ignoreIndex: 0, reduction: 'sum' }).item());
    const p = softmax(logits, 1);
    const t = rand([4, 3], { generator: gen });
    assert.equal(new BCELoss({ weight: w }).forward(p, t).item(), binaryCrossEntropy(p, t, { weight: w }).item());
    assert.equal(new BCEWithLogitsLoss({ posWeight: w }).forward(logits, t).item(), binaryCrossEntropyWithLogits(logits, t, { posWeight: w }).item());
    assert.equal(new MSELoss({ reduction: 'sum' }).forward(logits, t).item(), mseLoss(logits, t, { reduction: 'sum' }).item());
    assert.equal(new L1Loss().forward(logits, t).item(), l1Loss(logits, t).item());
    assert.equal(new SmoothL1Loss({ beta: 0.3 }).forward(logits, t).item(), smoothL1Loss(logits, t, { beta: 0.3 }).item());
    assert.equal(new HuberLoss({ delta: 0.3 }).forward(logits, t).item(), huberLoss(logits, t, { delta: 0.3 }).item());
  });

  test('class weights are buffers (in the state dict, not parameters), as PyTorch', () => {
    const l = new CrossEntropyLoss({ weight: [1, 2] });
    assert.deepEqual(Object.keys(l.stateDict()), ['weight']);
    assert.equal(l.parameters().length, 0);
    assert.deepEqual(Object.keys(new CrossEntropyLoss().stateDict()), []);
    assert.deepEqual(Object.keys(new BCEWithLogitsLoss({ posWeight: tensor([2]) }).stateDict()), ['posWeight']);
    assert.equal(new CrossEntropyLoss({ ignoreIndex: 0, reduction: 'sum' }).toString(), "CrossEntropyLoss(ignoreIndex=0, reduction='sum')");
  });

  test('a loss layer inside a training step: the gradient reaches the model', () => {
    const model = new nn.Linear(3, 2, { generator: new Generator(1) });
    const loss = new BCEWithLogitsLoss().forward(model.forward(tensor([[1, 2, 3]])), tensor([[1, 0]]));
    loss.backward();
    ok(model.weight.grad !== null && model.weight.grad.data.some((v) => v !== 0), 'weight gradient');
  });
});

describe('loss argument errors', () => {
  test('crossEntropy: weight length and shape, ignoreIndex, N-D target shape', () => {
    throwsWith(() => crossEntropy(zeros([2, 3]), [0, 1], { weight: [1, 2] }), ShapeError, /weight has 2 entries/, /3 classes/);
    throwsWith(() => crossEntropy(zeros([2, 3]), [0, 1], { weight: zeros([3, 1]) }), ShapeError, /weight must be 1-D/, /\[3, 1\]/);
    throwsWith(() => crossEntropy(zeros([2, 3]), [0, 1], { weight: [1, NaN, 1] }), ValueError, /weight\[1\] is NaN/);
    throwsWith(() => crossEntropy(zeros([2, 3]), [0, 1], { ignoreIndex: 0.5 }), ValueError, /ignoreIndex must be an integer/, /0\.5/);
    throwsWith(() => crossEntropy(zeros([2, 3, 4, 4]), zeros([2, 4, 5])), ShapeError, /labels must have shape \[2, 4, 4\]/, /\[2, 3, 4, 4\]/, /\[2, 4, 5\]/);
    throwsWith(() => crossEntropy(zeros([2, 3, 4]), [0, 1]), ShapeError, /2 labels for 8 positions/);
    throwsWith(() => crossEntropy(zeros([2, 3]), [0, -1]), ValueError, /label -1 at index 1/, /ignoreIndex -100/);
    throwsWith(() => crossEntropy(zeros([2, 3]), [0, 1], { weights: [1, 1, 1] } as any), ValueError, /unknown option 'weights'/);
  });

  test('nllLoss: rank, reduction, labels', () => {
    throwsWith(() => nllLoss(zeros([3]), [0]), ShapeError, /nllLoss: input must be 2-D/);
    throwsWith(() => nllLoss(zeros([2, 3]), [0, 1], { reduction: 'mean_' as any }), ValueError, /reduction must be 'mean', 'sum' or 'none'/, /mean_/);
    throwsWith(() => nllLoss(zeros([2, 3]), [0, 3]), ValueError, /label 3 at index 1 is out of range for 3 classes/);
  });

  test('binary cross-entropy: probabilities outside [0, 1], shapes, weights that do not broadcast', () => {
    throwsWith(() => binaryCrossEntropy(tensor([0.5, 1.2]), tensor([1, 0])), ValueError, /input 1\.2.* at index 1 is not a probability/, /sigmoid/, /WithLogits/);
    throwsWith(() => binaryCrossEntropy(tensor([0.5, NaN]), tensor([1, 0])), ValueError, /NaN at index 1/);
    throwsWith(() => binaryCrossEntropy(zeros([4, 1]), zeros([4])), ShapeError, /input \[4, 1\] and target \[4\] must have the same shape/);
    throwsWith(() => binaryCrossEntropyWithLogits(zeros([2, 3]), zeros([2, 3]), { posWeight: zeros([2]) }), ShapeError, /cannot be broadcast/);
    throwsWith(() => binaryCrossEntropyWithLogits(zeros([3]), zeros([3]), { weight: zeros([2, 3]) }), ShapeError, /weight \[2, 3\] must broadcast to the input's shape \[3\]/);
    throwsWith(() => binaryCrossEntropyWithLogits(zeros([3]), zeros([3]), { pos_weight: zeros([3]) } as any), ValueError, /unknown option 'pos_weight'/);
  });

  test('smooth L1 beta, Huber delta, l1 shapes, layer options', () => {
    throwsWith(() => smoothL1Loss(zeros([2]), zeros([2]), { beta: -1 }), ValueError, /beta must be a finite number >= 0/, /-1/);
    throwsWith(() => huberLoss(zeros([2]), zeros([2]), { delta: 0 }), ValueError, /delta must be a finite number > 0/, /got 0/);
    throwsWith(() => l1Loss(zeros([2]), zeros([3])), ShapeError, /l1Loss: input \[2\] and target \[3\]/);
    throwsWith(() => new CrossEntropyLoss({ labelSmoothing: 2 }), ValueError, /CrossEntropyLoss: labelSmoothing must be in \[0, 1\]/);
    throwsWith(() => new SmoothL1Loss({ beta: -0.5 }), ValueError, /SmoothL1Loss: beta/);
    throwsWith(() => new MSELoss({ reduction: 'avg' as any }), ValueError, /MSELoss: reduction must be/, /'avg'/);
    throwsWith(() => new L1Loss().forward(zeros([2]), [1, 2]), ValueError, /L1Loss: target must be a Tensor/);
  });
});

describe('crossEntropy and mseLoss', () => {
  /** -log softmax(row)[label], computed naively in float64. */
  function naiveCE(logits: number[][], labels: number[], eps = 0): number[] {
    return logits.map((row, i) => {
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      const logp = row.map((v) => v - lse);
      const K = row.length;
      // PyTorch: (1 - eps) * nll + eps * mean over classes of -log p.
      return (1 - eps) * -logp[labels[i]] + (eps / K) * logp.reduce((s, v) => s - v, 0);
    });
  }
  const logits = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [-0.3, 0.2, 3.0], [1.0, 1.0, 1.0]];
  const labels = [0, 1, 1, 2];

  test('mean, sum and none match the naive per-sample loss', () => {
    const x = tensor(logits);
    const per = naiveCE(logits, labels);
    assertClose(crossEntropy(x, labels, { reduction: 'none' }).data, per, 1e-5);
    assert.deepEqual(crossEntropy(x, labels, { reduction: 'none' }).shape, [4]);
    assertClose([crossEntropy(x, labels, { reduction: 'sum' }).item()], [per.reduce((a, b) => a + b)], 1e-5);
    const m = crossEntropy(x, labels);
    assert.deepEqual(m.shape, []);
    assertClose([m.item()], [per.reduce((a, b) => a + b) / 4], 1e-5);
  });
  test('uniform logits give log(K)', () => {
    assertClose([crossEntropy(tensor([[3, 3, 3, 3, 3]]), [4]).item()], [Math.log(5)], 1e-5);
  });
  test('label smoothing follows PyTorch: (1 - eps) nll + eps * mean_k(-log p_k)', () => {
    const x = tensor(logits);
    for (const eps of [0.1, 0.5, 1]) {
      assertClose(crossEntropy(x, labels, { labelSmoothing: eps, reduction: 'none' }).data, naiveCE(logits, labels, eps), 1e-5, `eps ${eps}`);
    }
  });
  test('labels as a tensor or a typed array give the same loss', () => {
    const x = tensor(logits);
    const a = crossEntropy(x, labels).item();
    assert.equal(crossEntropy(x, tensor(labels)).item(), a);
    assert.equal(crossEntropy(x, Int32Array.from(labels)).item(), a);
  });
  test('gradient of the mean loss is (softmax - onehot) / N', () => {
    const x = tensor(logits).requiresGrad_();
    crossEntropy(x, labels).backward();
    const s = softmax(tensor(logits), 1);
    const expected = Array.from(s.data, (v, i) => (v - (labels[Math.floor(i / 3)] === i % 3 ? 1 : 0)) / 4);
    assertClose(x.grad!.data, expected, 1e-5);
  });
  test('no overflow with huge logits', () => {
    const l = crossEntropy(tensor([[1000, 0], [0, 1000]]), [0, 0], { reduction: 'none' });
    ok(Math.abs(l.data[0]) < 1e-6);
    ok(Math.abs(l.data[1] - 1000) < 1e-3);
  });
  test('mseLoss: mean, sum, none', () => {
    const a = tensor([[1, 2], [3, 4]]);
    const b = tensor([[1.5, 0], [3, 7]]);
    const sq = [0.25, 4, 0, 9];
    assertClose(mseLoss(a, b, { reduction: 'none' }).data, sq, 1e-5);
    assertClose([mseLoss(a, b, { reduction: 'sum' }).item()], [13.25], 1e-5);
    assertClose([mseLoss(a, b).item()], [13.25 / 4], 1e-5);
  });
});

describe('gradcheck: losses', () => {
  const { rn } = seeded(20240611);
  test('crossEntropy: mean, sum, none', () => {
    const labels = [2, 0, 3];
    assertGradcheck((x) => crossEntropy(x, labels), [rn([3, 4])]);
    assertGradcheck((x) => crossEntropy(x, labels, { reduction: 'sum' }), [rn([3, 4])]);
    assertGradcheck((x) => crossEntropy(x, labels, { reduction: 'none' }), [rn([3, 4])]);
  });
  test('crossEntropy with label smoothing (all reductions), labels given as a tensor', () => {
    const labels = tensor([1, 1, 4, 0]);
    assertGradcheck((x) => crossEntropy(x, labels, { labelSmoothing: 0.1 }), [rn([4, 5])]);
    assertGradcheck((x) => crossEntropy(x, labels, { labelSmoothing: 0.3, reduction: 'sum' }), [rn([4, 5])]);
    assertGradcheck((x) => crossEntropy(x, labels, { labelSmoothing: 0.2, reduction: 'none' }), [rn([4, 5])]);
  });
  test('mseLoss: both operands, all reductions', () => {
    assertGradcheck((a, b) => mseLoss(a, b), [rn([3, 4]), rn([3, 4])]);
    assertGradcheck((a, b) => mseLoss(a, b, { reduction: 'sum' }), [rn([3, 4]), rn([3, 4])]);
    assertGradcheck((a, b) => mseLoss(a, b, { reduction: 'none' }), [rn([2, 3]), rn([2, 3])]);
  });
});

describe('losses', () => {
  test('crossEntropy: a label out of range names its index, its value and the valid range', () => {
    throwsWith(() => crossEntropy(zeros([3, 3]), [0, 5, 1]), ValueError, /label 5 at index 1/, /3 classes/, /\[0, 2\]/);
    throwsWith(() => crossEntropy(zeros([2, 3]), [-1, 0]), ValueError, /label -1 at index 0/);
    throwsWith(() => crossEntropy(zeros([2, 3]), [0, 1.5]), ValueError, /label 1\.5 at index 1/);
    throwsWith(() => crossEntropy(zeros([2, 3]), tensor([0, 3])), ValueError, /label 3 at index 1/);
  });
  test('crossEntropy: label count, logits rank, options', () => {
    throwsWith(() => crossEntropy(zeros([3, 4]), [0, 1]), ShapeError, /2 labels/, /3/);
    throwsWith(() => crossEntropy(zeros([4]), [0]), ShapeError, /logits must be 2-D/, /\[4\]/);
    throwsWith(() => crossEntropy(zeros([2, 3]), [0, 1], { reduction: 'avg' as any }), ValueError, /reduction/, /'avg'/);
    throwsWith(() => crossEntropy(zeros([2, 3]), [0, 1], { labelSmoothing: 1.5 }), ValueError, /labelSmoothing/, /1\.5/);
    throwsWith(() => crossEntropy(zeros([2, 3]), [0, 1], { label_smoothing: 0.1 } as any), ValueError, /unknown option 'label_smoothing'/);
    throwsWith(() => crossEntropy(zeros([2, 3]), tensor([[0], [1]])), ShapeError, /labels must be 1-D/, /\[2, 1\]/);
  });
  test('mseLoss: shapes must match', () => {
    throwsWith(() => mseLoss(zeros([2, 3]), zeros([3, 2])), ShapeError, /\[2, 3\]/, /\[3, 2\]/);
    throwsWith(() => mseLoss(zeros([2]), zeros([2]), { reduction: 'avg' as any }), ValueError, /'avg'/);
  });
});
