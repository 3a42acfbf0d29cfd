/**
 * Classification metrics: top-k accuracy (ties broken by class index, NaN
 * first; against torch.topk on random logits), the confusion matrix
 * (scikit-learn's layout: rows true, columns predicted), per-class accuracy
 * and precision, and evaluate's accumulation of them over batches, which must
 * equal the metrics of all the logits at once.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import {
  F, Generator, ShapeError, Tensor, ValueError, accuracy, confusionMatrix, countCorrect, countTopKCorrect, evaluate, noGrad, perClassAccuracy, perClassPrecision, randn, tensor,
  topKAccuracy, nn,
} from '../../src/index.js';
import { throwsWith } from '../helpers/index.js';

// Four examples, four classes. Row by row, the classes in decreasing order of logit:
//   row 0: 2 (0.9), 0 (0.5), 1 (0.3), 3 (0.1)      label 0 -> rank 1
//   row 1: 1 (0.7), 3 (0.6), 0 (0.2), 2 (0.0)      label 2 -> rank 3
//   row 2: 3 (0.8), 0 (0.4), 1 (0.4), 2 (0.1)      label 1 -> rank 2 (tie with class 0, which has the lower index)
//   row 3: 3 (0.9), 2 (0.5), 1 (0.3), 0 (0.2)      label 3 -> rank 0
const logits = tensor([
  [0.5, 0.3, 0.9, 0.1],
  [0.2, 0.7, 0.0, 0.6],
  [0.4, 0.4, 0.1, 0.8],
  [0.2, 0.3, 0.5, 0.9],
]);
const labels = tensor([0, 2, 1, 3]);

describe('top-k accuracy', () => {
  test('counts the rows whose label ranks below k (hand-ranked example)', () => {
    assert.deepEqual([1, 2, 3, 4, 10].map((k) => countTopKCorrect(logits, labels, k)), [1, 2, 3, 4, 4]);
    assert.equal(topKAccuracy(logits, labels, 1), 0.25);
    assert.equal(topKAccuracy(logits, labels, 2), 0.5);
    assert.equal(topKAccuracy(logits, labels, 3), 0.75);
    assert.equal(topKAccuracy(logits, labels, 1), accuracy(logits, labels), 'top-1 is argmax accuracy');
  });

  test('ties: the lower class index ranks first, as argmax; a NaN ranks above every number', () => {
    const tied = tensor([[1, 1, 1]]);
    assert.deepEqual([0, 1, 2].map((c) => countTopKCorrect(tied, tensor([c]), 1)), [1, 0, 0]);
    assert.deepEqual([0, 1, 2].map((c) => countTopKCorrect(tied, tensor([c]), 2)), [1, 1, 0]);
    const nan = tensor([[5, NaN, 7, NaN]]);
    // Order: NaN (1), NaN (3), 7 (2), 5 (0).
    assert.deepEqual([0, 1, 2, 3].map((c) => countTopKCorrect(nan, tensor([c]), 1)), [0, 1, 0, 0]);
    assert.deepEqual([0, 1, 2, 3].map((c) => countTopKCorrect(nan, tensor([c]), 3)), [0, 1, 1, 1]);
    assert.equal(accuracy(nan, tensor([1])), 1, 'argmax takes the first NaN too');
  });

  test('equals torch.topk-based top-k accuracy on random logits (no ties)', (t) => {
    const x = randn([64, 10], { generator: new Generator(4) });
    const y = tensor(Array.from({ length: 64 }, (_, i) => (i * 7) % 10));
    const script = [
      'import json, sys, torch',
      'd = json.load(sys.stdin)',
      'x = torch.tensor(d["x"]).reshape(64, 10); y = torch.tensor(d["y"])',
      'out = {}',
      'for k in (1, 2, 3, 5, 10):',
      '    _, pred = x.topk(k, 1, True, True)',
      '    out[k] = pred.eq(y.view(-1, 1)).any(1).sum().item()',
      'print(json.dumps(out))',
    ].join('\n');
    const r = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify({ x: [...x.data], y: [...y.data] }), encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      t.skip(`python3 with torch is not available (${r.error?.message ?? r.stderr.trim().split('\n').pop()})`);
      return;
    }
    const theirs = JSON.parse(r.stdout) as Record<string, number>;
    for (const k of [1, 2, 3, 5, 10]) assert.equal(countTopKCorrect(x, y, k), theirs[k], `top-${k}`);
    assert.equal(countTopKCorrect(x, y, 10), 64);
  });

  test('bad arguments say what is wrong', () => {
    throwsWith(() => topKAccuracy(logits, labels, 0), ValueError, /k must be an integer >= 1, got 0/);
    throwsWith(() => topKAccuracy(logits, tensor([0, 1, 2]), 1), ShapeError, /labels must be \[N\] with N = 4/);
    throwsWith(() => topKAccuracy(logits, tensor([0, 1, 2, 4]), 1), ValueError, /labels\[3\] is 4, not a class index in \[0, 4\)/);
    throwsWith(() => topKAccuracy(tensor([1, 2]), tensor([0, 1]), 1), ShapeError, /logits must be \[N, classes\]/);
    throwsWith(() => topKAccuracy(tensor([[1]]).slice(0, 0, 0), tensor([0]).slice(0, 0, 0), 1), ValueError, /no examples/);
  });
});

describe('countCorrect', () => {
  test("reads the logits in place and counts what the argmax op's predictions count: ties, NaN, infinities, float64", () => {
    const g = new Generator(11);
    // Few distinct values, so rows tie often; NaN and infinities at random places; labels include ones no argmax gives.
    const values = [0, 1, -1, 2, Infinity, -Infinity, NaN];
    for (const [n, k, dtype] of [[300, 7, 'float32'], [200, 3, 'float64'], [50, 1, 'float32'], [40, 10, 'float32']] as const) {
      const x = Array.from({ length: n * k }, () => (g.random() < 0.2 ? values[Math.floor(g.random() * values.length)] : Math.floor(g.random() * 3)));
      const logits = new Tensor(dtype === 'float64' ? Float64Array.from(x) : Float32Array.from(x), [n, k]);
      const labels = tensor(Array.from({ length: n }, (_, i) => (i % 13 === 0 ? k + 1 : i % 17 === 0 ? 0.5 : Math.floor(g.random() * k))));
      const predicted = F.argmax(logits, 1).data;
      let expected = 0;
      for (let i = 0; i < n; i++) if (predicted[i] === labels.data[i]) expected++;
      assert.equal(countCorrect(logits, labels), expected, `[${n}, ${k}] ${dtype}`);
      assert.ok(expected > 0 && expected < n, `[${n}, ${k}]: some rows right and some wrong (${expected})`);
    }
    // By hand: the first of equal maxima, the first NaN, +Infinity above every number.
    assert.equal(countCorrect(tensor([[3, 5, 5], [NaN, 1, NaN], [1, NaN, 9], [-Infinity, Infinity, 1e38]]), tensor([1, 0, 1, 1])), 4);
    assert.equal(countCorrect(tensor([[3, 5, 5], [NaN, 1, NaN], [1, NaN, 9]]), tensor([2, 2, 2])), 0);
    assert.equal(countCorrect(new Tensor(new Float32Array(0), [0, 4]), new Tensor(new Float32Array(0), [0])), 0);
    assert.throws(() => countCorrect(new Tensor(new Float32Array(0), [2, 0]), tensor([0, 0])), (e: unknown) => e instanceof ShapeError && /logits \[2, 0\] have no classes/.test(e.message));
  });
});

describe('confusion matrix', () => {
  // Predictions (argmax of the rows above): 2, 1, 3, 3; truth: 0, 2, 1, 3.
  const expected = [
    [0, 0, 1, 0],
    [0, 0, 0, 1],
    [0, 1, 0, 0],
    [0, 0, 0, 1],
  ];

  test('rows are the true class, columns the prediction (from logits or from class indices)', () => {
    assert.deepEqual(confusionMatrix(logits, labels), expected);
    assert.deepEqual(confusionMatrix(logits, labels, 4), expected);
    assert.deepEqual(confusionMatrix(tensor([2, 1, 3, 3]), labels, 4), expected);
    // Three classes, scikit-learn's documented example: y_true [2, 0, 2, 2, 0, 1], y_pred [0, 0, 2, 2, 0, 2].
    assert.deepEqual(confusionMatrix(tensor([0, 0, 2, 2, 0, 2]), tensor([2, 0, 2, 2, 0, 1]), 3), [[2, 0, 0], [0, 0, 1], [1, 0, 2]]);
  });

  test('per-class accuracy (recall) and precision; NaN where a class has no examples or predictions', () => {
    const m = [[2, 0, 0], [0, 0, 1], [1, 0, 2]];
    assert.deepEqual(perClassAccuracy(m), [1, 0, 2 / 3]);
    assert.deepEqual(perClassPrecision(m), [2 / 3, NaN, 2 / 3]);
    assert.deepEqual(perClassAccuracy([[1, 0], [0, 0]]), [1, NaN]);
  });

  test('bad arguments say what is wrong', () => {
    throwsWith(() => confusionMatrix(tensor([0, 1]), tensor([0, 1])), ValueError, /numClasses is required/);
    throwsWith(() => confusionMatrix(logits, labels, 5), ShapeError, /4 classes but numClasses is 5/);
    throwsWith(() => confusionMatrix(tensor([0, 7]), tensor([0, 1]), 3), ValueError, /predictions\[1\] is 7/);
    throwsWith(() => confusionMatrix(tensor([0, 1]), tensor([0, 1.5]), 3), ValueError, /labels\[1\] is 1\.5/);
    throwsWith(() => confusionMatrix(tensor([0, 1]), tensor([0, 1, 1]), 3), ShapeError, /labels must be \[N\] with N = 2/);
    throwsWith(() => perClassAccuracy([[1, 2]]), ValueError, /square confusion matrix/);
  });
});

describe('evaluate with topK and confusion', () => {
  test('accumulated over batches equals the metrics of all the logits at once; the default result has no extras', () => {
    const model = new nn.Linear(6, 5, { generator: new Generator(3) });
    const images = randn([37, 6], { generator: new Generator(5) });
    const truth = tensor(Array.from({ length: 37 }, (_, i) => (i * 3) % 5));
    const all = noGrad(() => model.forward(images));
    const plain = evaluate(model, { images, labels: truth }, 8);
    assert.equal(plain.topK, undefined);
    assert.equal(plain.confusionMatrix, undefined);
    const full = evaluate(model, { images, labels: truth }, 8, { topK: [1, 2, 5], confusion: true });
    assert.equal(full.accuracy, plain.accuracy);
    assert.deepEqual(full.topK, { 1: accuracy(all, truth), 2: topKAccuracy(all, truth, 2), 5: 1 });
    const m = confusionMatrix(all, truth);
    assert.deepEqual(full.confusionMatrix, m);
    assert.equal(m.flat().reduce((s, v) => s + v, 0), 37);
    assert.equal(m.reduce((s, row, i) => s + row[i], 0), plain.correct, 'the diagonal holds the correct predictions');
    assert.deepEqual(full.perClassAccuracy, perClassAccuracy(m));
    assert.deepEqual(full.perClassPrecision, perClassPrecision(m));
  });

  test('bad options say what is wrong', () => {
    const model = new nn.Linear(2, 2, { generator: new Generator(0) });
    const data = { images: randn([3, 2], { generator: new Generator(1) }), labels: tensor([0, 1, 0]) };
    throwsWith(() => evaluate(model, data, 8, { topK: [0] }), ValueError, /topK must be a non-empty array of integers >= 1/);
    throwsWith(() => evaluate(model, data, 8, { topk: [1] } as never), ValueError, /unknown option 'topk'/);
    assert.ok(data.images instanceof Tensor);
  });
});
