/**
 * explainWindow, its text and `stride explain`: every window-arithmetic
 * example of the lecture decks (numbers copied by hand from the slides), the
 * JSON shape for one and two axes, the unseen inputs, the padding that fits
 * (checked by explaining again with it), parameters, errors, the layers'
 * one-time warning, the CLI, and the output sizes and unseen inputs of a grid
 * of settings against PyTorch (generated here by /usr/bin/python3; skipped
 * with the reason when torch is missing).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';

import {
  ShapeError, ValueError, explainWindow, formatWindowExplanation, nn, setWarningHandler, windowPicture, zeros,
  type ExplainWindowOptions, type StrideWarning, type WindowExplanation1d, type WindowExplanation2d,
} from '../../src/index.js';
import { ok, stride, throwsWith } from '../helpers/index.js';

const conv1 = (o: Omit<ExplainWindowOptions, 'kind' | 'input'> & { input: number }): WindowExplanation1d => explainWindow({ kind: 'conv', ...o });
const conv2 = (o: Omit<ExplainWindowOptions, 'kind' | 'input'> & { input: readonly [number, number] }): WindowExplanation2d => explainWindow({ kind: 'conv', ...o });
const pool2 = (o: Omit<ExplainWindowOptions, 'kind' | 'input'> & { input: readonly [number, number] }): WindowExplanation2d => explainWindow({ kind: 'pool', ...o });

describe('the decks\' examples', () => {
  test('7x7 input, 3x3 filter: stride 1 -> 5x5, stride 2 -> 3x3, stride 3 does not fit', () => {
    assert.deepEqual(conv2({ input: [7, 7], kernel: 3, stride: 1 }).outputSize, { height: 5, width: 5 });
    assert.deepEqual(conv2({ input: [7, 7], kernel: 3, stride: 2 }).outputSize, { height: 3, width: 3 });
    const s3 = conv2({ input: [7, 7], kernel: 3, stride: 3 });
    assert.deepEqual(s3.exact, { height: false, width: false });
    // (7 - 3)/3 + 1 = 2.33: floored to 2 windows, over 0-2 and 3-5; row and column 6 unseen.
    assert.deepEqual(s3.outputSize, { height: 2, width: 2 });
    assert.deepEqual(s3.uncoveredInput, { height: [6], width: [6] });
    assert.deepEqual(s3.axes[0].windows, [{ start: 0, end: 2 }, { start: 3, end: 5 }]);
  });

  test('(N - F)/stride + 1 with N = 7, F = 3: 5, 3 and 2.33 (shown floored)', () => {
    assert.equal(conv1({ input: 7, kernel: 3, stride: 1 }).formula, '(7 + 2*0 - 1*(3-1) - 1)/1 + 1 = 4/1 + 1 = 5');
    assert.equal(conv1({ input: 7, kernel: 3, stride: 2 }).formula, '(7 + 2*0 - 1*(3-1) - 1)/2 + 1 = 4/2 + 1 = 3');
    const s3 = conv1({ input: 7, kernel: 3, stride: 3 });
    assert.equal(s3.formula, '(7 + 2*0 - 1*(3-1) - 1)/3 + 1 = 4/3 + 1 = floor(1.33) + 1 = 2');
    assert.equal(s3.exact, false);
  });

  test('7x7 input, 3x3 filter, stride 1, zero padding 1 -> 7x7', () => {
    const e = conv2({ input: [7, 7], kernel: 3, stride: 1, padding: 1 });
    assert.deepEqual(e.outputSize, { height: 7, width: 7 });
    assert.deepEqual(e.exact, { height: true, width: true });
  });

  test('stride 1 and zero padding (F-1)/2 preserve the size: F = 3 pad 1, F = 5 pad 2, F = 7 pad 3', () => {
    for (const [f, p] of [[3, 1], [5, 2], [7, 3]]) {
      assert.equal(conv1({ input: 32, kernel: f, padding: p }).outputSize, 32, `F = ${f}, P = ${p}`);
      assert.equal(conv1({ input: 7, kernel: f, padding: p }).outputSize, 7, `F = ${f}, P = ${p} on 7`);
    }
  });

  test('32x32 convolved with 5x5 filters shrinks 32 -> 28 -> 24; six of them on 32x32x3 give 28x28x6', () => {
    assert.equal(conv1({ input: 32, kernel: 5 }).outputSize, 28);
    assert.equal(conv1({ input: 28, kernel: 5 }).outputSize, 24);
    assert.deepEqual(conv2({ input: [32, 32], kernel: 5, channels: 3, filters: 6 }).outputShape, [6, 28, 28]);
  });

  test('32x32x3, ten 5x5 filters, stride 1, pad 2: (32 + 2*2 - 5)/1 + 1 = 32, 32x32x10, 76 parameters each, 760', () => {
    const e = conv2({ input: [32, 32], kernel: 5, stride: 1, padding: 2, channels: 3, filters: 10 });
    assert.deepEqual(e.outputSize, { height: 32, width: 32 });
    assert.deepEqual(e.outputShape, [10, 32, 32]);
    assert.equal(e.params, 760);
    assert.match(formatWindowExplanation(e), /parameters: 10 filters \* \(75 weights \(channels \* 5\*5\) \+ 1 bias\) = 760/);
  });

  test('common settings F = 5, S = 2, P = "whatever fits": on 32 no padding the same on both sides fits (32 + 2P - 5 is odd); on 31, P = 0 or 1 does', () => {
    const on32 = conv1({ input: 32, kernel: 5, stride: 2 });
    assert.equal(on32.exact, false);
    assert.equal(on32.suggestedPadding!.symmetricPadding, null);
    assert.equal(on32.suggestedPadding!.extra, 1);
    assert.equal(conv1({ input: 31, kernel: 5, stride: 2 }).exact, true);
    assert.equal(conv1({ input: 31, kernel: 5, stride: 2, padding: 1 }).exact, true);
  });

  test('max pooling 2x2, stride 2 on the 4x4 slice -> 2x2, no parameters; F = 3, S = 2 on 55 -> 27 (AlexNet\'s overlapping pooling)', () => {
    const e = pool2({ input: [4, 4], kernel: 2, stride: 2, channels: 1 });
    assert.deepEqual(e.outputSize, { height: 2, width: 2 });
    assert.equal(e.params, 0);
    assert.deepEqual(e.exact, { height: true, width: true });
    const alex = explainWindow({ kind: 'pool', input: 55, kernel: 3, stride: 2 });
    assert.equal(alex.outputSize, 27);
    assert.equal(alex.formula, '(55 + 2*0 - 1*(3-1) - 1)/2 + 1 = 52/2 + 1 = 27');
    assert.equal(alex.params, 0);
  });

  test('pool stride defaults to the kernel (PyTorch): 2x2 on 4x4 -> 2x2', () => {
    assert.deepEqual(pool2({ input: [4, 4], kernel: 2 }).outputSize, { height: 2, width: 2 });
  });

  test('LeNet: 32 + 1 - 5 = 28; six 5x5x3 filters: 76 weights each, 28x28x6 = 4,704 neurons, 456 parameters', () => {
    const e = conv2({ input: [32, 32], kernel: 5, channels: 3, filters: 6 });
    assert.equal(e.params, 456);
    assert.equal(e.outputShape!.reduce((a, b) => a * b, 1), 4704);
  });

  test('stride 2 with a 3x3 filter on 7x9: (1 + (7 - 3)/2) x (1 + (9 - 3)/2) = 3x4', () => {
    assert.deepEqual(conv2({ input: [7, 9], kernel: 3, stride: 2 }).outputSize, { height: 3, width: 4 });
  });

  test('AlexNet conv1: 227, 11, stride 4 -> 55; 224 with padding 2 -> 55 (floor of 54.25 + 1); 96 filters on 3 channels: 364 each, 34,944', () => {
    const e227 = conv2({ input: [227, 227], kernel: 11, stride: 4, channels: 3, filters: 96 });
    assert.deepEqual(e227.outputSize, { height: 55, width: 55 });
    assert.deepEqual(e227.exact, { height: true, width: true });
    assert.equal(e227.params, 34944);
    assert.equal(e227.outputShape!.reduce((a, b) => a * b, 1), 290400);
    const e224 = conv2({ input: [224, 224], kernel: 11, stride: 4, padding: 2 });
    assert.deepEqual(e224.outputSize, { height: 55, width: 55 });
    assert.equal(e224.formula.height, '(224 + 2*2 - 1*(11-1) - 1)/4 + 1 = 217/4 + 1 = floor(54.25) + 1 = 55');
    // The remainder 1 is padding: every input row is seen; padding 2 before and 1 after fits with the same 55.
    assert.deepEqual(e224.uncoveredInput, { height: [], width: [] });
    assert.deepEqual(e224.suggestedPadding.height!.trimmed, [2, 1]);
    assert.equal(e224.suggestedPadding.height!.symmetricPadding, null);
  });

  test("tf deck: 'VALID' on w = 4 with f = 3, s = 1 -> 2; 'SAME' pads 1 -> 4", () => {
    assert.equal(conv1({ input: 4, kernel: 3, padding: 'valid' }).outputSize, 2);
    const same = conv1({ input: 4, kernel: 3, padding: 'same' });
    assert.equal(same.outputSize, 4);
    assert.deepEqual(same.axes[0].padding, [1, 1]);
  });

  test("Torch's SpatialConvolution floor((width + 2*padW - kW)/dW + 1): width 7, kW 3, dW 3 -> floor(2.33) = 2; padW = (kW - 1)/2 keeps the width", () => {
    assert.equal(conv1({ input: 7, kernel: 3, stride: 3 }).outputSize, 2);
    assert.equal(conv1({ input: 10, kernel: 5, padding: 2 }).outputSize, 10);
  });

  test('dilated convolution: 7x7 input, 3x3 filter, stride 1, dilation 2 -> 3x3 (the window spans 5)', () => {
    const e = conv2({ input: [7, 7], kernel: 3, stride: 1, dilation: 2 });
    assert.deepEqual(e.outputSize, { height: 3, width: 3 });
    assert.equal(e.axes[0].span, 5);
    assert.deepEqual(e.uncoveredInput, { height: [], width: [] });
  });

  test('5x5 image with a 3x3 filter -> 3x3', () => {
    assert.deepEqual(conv2({ input: [5, 5], kernel: 3 }).outputSize, { height: 3, width: 3 });
  });
});

describe('the shape of the answer', () => {
  test('one axis: plain fields, the contract\'s keys', () => {
    const e = conv1({ input: 7, kernel: 3, stride: 3 });
    for (const key of ['outputSize', 'formula', 'exact', 'uncoveredInput', 'suggestedPadding', 'params']) ok(key in e, `missing ${key}`);
    assert.equal(e.dims, 1);
    assert.equal(e.outputSize, 2);
    assert.deepEqual(e.uncoveredInput, [6]);
    assert.equal(e.params, null);
    assert.deepEqual(e.suggestedPadding!.padding, [1, 1]);
  });

  test('two axes: every per-axis field is { height, width }; params one number', () => {
    const e = conv2({ input: [7, 8], kernel: [3, 2], stride: [3, 2], channels: 2, filters: 4 });
    assert.deepEqual(e.outputSize, { height: 2, width: 4 });
    assert.deepEqual(Object.keys(e.formula), ['height', 'width']);
    assert.deepEqual(e.exact, { height: false, width: true });
    assert.deepEqual(e.uncoveredInput, { height: [6], width: [] });
    assert.equal(e.suggestedPadding.width!.extra, 0);
    assert.deepEqual(Object.keys(e.suggestedPadding), ['height', 'width']);
    assert.equal(e.params, 4 * (2 * 3 * 2 + 1));
  });

  test('gaps between windows: stride 4 over a 2-cell window leaves 2-3 and 6-7 unseen; a dilation 2 kernel with stride 2 never reads the odd inputs', () => {
    const wide = conv1({ input: 10, kernel: 2, stride: 4 });
    assert.deepEqual(wide.uncoveredInput, [2, 3, 6, 7]);
    assert.deepEqual(wide.axes[0].uncoveredAtEnd, []);
    const holes = conv1({ input: 7, kernel: 3, stride: 2, dilation: 2 });
    assert.equal(holes.exact, true);
    assert.deepEqual(holes.uncoveredInput, [1, 3, 5]);
    assert.match(formatWindowExplanation(holes), /no padding closes these gaps/);
  });

  test('the picture of 7/3/3: two windows of three cells and input 6 flagged', () => {
    const picture = windowPicture(conv1({ input: 7, kernel: 3, stride: 3 }).axes[0])!;
    assert.deepEqual(picture, [
      'index     0  1  2  3  4  5  6',
      'window 0 ## ## ##',
      'window 1          ## ## ##',
      'unseen                     ^^',
    ]);
    // Padding cells are labelled p; dilation holes drawn as dots.
    const padded = windowPicture(conv1({ input: 3, kernel: 3, padding: 1, dilation: 1 }).axes[0])!;
    assert.equal(padded[0], 'index     p  0  1  2  p');
    assert.equal(windowPicture(conv1({ input: 5, kernel: 2, dilation: 3 }).axes[0])![1], 'window 0 ## .. .. ##');
  });
});

describe('the padding that fits', () => {
  // A grid of settings; for each that does not fit, the suggestions are explained again and must fit.
  const cases: { n: number; k: number; s: number; p: number; d: number }[] = [];
  for (let n = 1; n <= 12; n++) for (let k = 1; k <= 4; k++) for (let s = 1; s <= 4; s++) for (let p = 0; p <= 2; p++) for (const d of [1, 2]) {
    if (d * (k - 1) + 1 <= n + 2 * p) cases.push({ n, k, s, p, d });
  }

  test(`the suggested padding, the symmetric one, the trimmed one and the crop fit exactly (${cases.length} settings)`, () => {
    let checked = 0;
    for (const { n, k, s, p, d } of cases) {
      const e = conv1({ input: n, kernel: k, stride: s, padding: p, dilation: d });
      const sp = e.suggestedPadding!;
      const label = `n ${n} k ${k} s ${s} p ${p} d ${d}`;
      if (e.exact) {
        assert.equal(sp.extra, 0, label);
        continue;
      }
      checked++;
      ok(sp.extra > 0 && sp.extra < s, `${label}: extra ${sp.extra}`);
      // The smallest: no smaller extra fits.
      for (let x = 0; x < sp.extra; x++) assert.equal(conv1({ input: n, kernel: k, stride: s, padding: [p, p + x], dilation: d }).exact, false, `${label}: extra ${x} fits`);
      const again = conv1({ input: n, kernel: k, stride: s, padding: sp.padding, dilation: d });
      // Without dilation the last window then ends on the last padded cell, so no input is left after it.
      ok(again.exact && (d > 1 || again.axes[0].uncoveredAtEnd.length === 0), `${label}: padding ${sp.padding} does not fit`);
      assert.equal(again.outputSize, sp.outputSize, label);
      assert.equal(sp.symmetric, sp.padding[0] - p === sp.padding[1] - p, label);
      if (sp.symmetricPadding !== null) {
        const sym = conv1({ input: n, kernel: k, stride: s, padding: sp.symmetricPadding, dilation: d });
        ok(sym.exact, `${label}: symmetric ${sp.symmetricPadding} does not fit`);
        assert.equal(sym.outputSize, sp.symmetricOutputSize, label);
      } else {
        // None exists: an even stride and an odd remainder.
        ok(s % 2 === 0 && sp.extra % 2 === 1, `${label}: no symmetric padding found`);
      }
      if (sp.trimmed) {
        const trimmed = conv1({ input: n, kernel: k, stride: s, padding: sp.trimmed, dilation: d });
        ok(trimmed.exact && trimmed.outputSize === e.outputSize && trimmed.uncoveredInput.length === e.uncoveredInput.length, `${label}: trimmed ${sp.trimmed}`);
      }
      if (n - sp.crop >= 1) ok(conv1({ input: n - sp.crop, kernel: k, stride: s, padding: p, dilation: d }).exact, `${label}: crop ${sp.crop}`);
    }
    ok(checked > 100, `only ${checked} settings that do not fit`);
  });

  test('7/3/3: 2 more (1 on each side) fit, output 3; crop 1', () => {
    const sp = conv1({ input: 7, kernel: 3, stride: 3 }).suggestedPadding!;
    assert.deepEqual({ extra: sp.extra, padding: sp.padding, outputSize: sp.outputSize, symmetric: sp.symmetric, symmetricPadding: sp.symmetricPadding, crop: sp.crop },
      { extra: 2, padding: [1, 1], outputSize: 3, symmetric: true, symmetricPadding: 1, crop: 1 });
  });

  test('pooling: a suggestion PyTorch would refuse is marked not allowed', () => {
    // 8 with kernel 3, stride 2: remainder 1, one more cell fits, but only on one side.
    const e = explainWindow({ kind: 'pool', input: 8, kernel: 3, stride: 2 });
    assert.equal(e.suggestedPadding!.allowed, false);
    assert.equal(explainWindow({ kind: 'pool', input: 7, kernel: 3, stride: 3 }).suggestedPadding!.allowed, true);
  });
});

describe('padding rules', () => {
  test("'same' with an even kernel pads 1 before and 2 after (PyTorch's rule, checked against PyTorch below) and says so", () => {
    const e = conv2({ input: [7, 7], kernel: 4, padding: 'same' });
    assert.deepEqual(e.axes.map((a) => a.padding), [[1, 2], [1, 2]]);
    assert.deepEqual(e.outputSize, { height: 7, width: 7 });
    ok(e.notes.some((n) => n.includes('1 before and 2 after')), e.notes.join('\n'));
  });

  test("'same' with stride 2 follows TensorFlow (ceil(7/2) = 4) and notes that PyTorch refuses it", () => {
    const e = conv1({ input: 7, kernel: 3, stride: 2, padding: 'same' });
    assert.equal(e.outputSize, 4);
    ok(e.notes.some((n) => n.includes('PyTorch refuses')), e.notes.join('\n'));
  });

  test('ceilMode: 5, kernel 2, stride 2, padding 1: ceil(5/2) + 1 = 4 windows, but the last would start at 6 >= 5 + 1, so 3', () => {
    const e = explainWindow({ kind: 'pool', input: 5, kernel: 2, stride: 2, padding: 1, ceilMode: true });
    assert.equal(e.outputSize, 3);
    assert.match(e.formula, /ceil\(2\.5\) \+ 1 = 4, less the last window, which would start at 6 >= input \+ left padding = 6: 3$/);
    // 7, kernel 3, stride 3: ceil(4/3) + 1 = 3, a last window over input 6.
    const c = explainWindow({ kind: 'pool', input: 7, kernel: 3, stride: 3, ceilMode: true });
    assert.equal(c.outputSize, 3);
    assert.deepEqual(c.uncoveredInput, []);
    ok(c.axes[0].roundedUp, 'rounded up');
  });

  test('transposed convolution: (7 - 1)*2 - 2*1 + 1*(3 - 1) + 1 + 1 = 14; stride 2 with a 1-cell kernel leaves every other output without input', () => {
    const e = explainWindow({ kind: 'conv-transpose', input: 7, kernel: 3, stride: 2, padding: 1, outputPadding: 1, channels: 4, filters: 2 });
    assert.equal(e.outputSize, 14);
    assert.equal(e.params, 2 * (4 * 3 + 1));
    assert.deepEqual(explainWindow({ kind: 'conv-transpose', input: 3, kernel: 1, stride: 2 }).axes[0].uncoveredOutput, [1, 3]);
  });
});

describe('errors name the values and the fix', () => {
  test('a kernel larger than the padded input', () => {
    throwsWith(() => conv1({ input: 3, kernel: 5 }), ShapeError, 'kernel 5', 'padded input', '3 (3 + 0 + 0)', 'padding >= 1');
    throwsWith(() => conv2({ input: [7, 2], kernel: 3, dilation: 1 }), ShapeError, 'along the width', 'padding >= 1');
    throwsWith(() => conv1({ input: 7, kernel: 3, dilation: 4 }), ShapeError, 'dilated: 9 cells', 'padding >= 1');
  });

  test('negative, zero and fractional settings', () => {
    throwsWith(() => conv1({ input: 7, kernel: 3, stride: 0 }), ValueError, 'stride must be an integer >= 1, got 0');
    throwsWith(() => conv1({ input: -7, kernel: 3 }), ValueError, 'input must be an integer >= 1, got -7');
    throwsWith(() => conv1({ input: 7, kernel: 3, padding: -1 }), ValueError, 'padding must be an integer >= 0, got -1');
    throwsWith(() => conv1({ input: 7, kernel: 2.5 }), ValueError, 'kernel must be an integer >= 1, got 2.5');
  });

  test('pooling padding more than half the window, as PyTorch refuses it', () => {
    throwsWith(() => explainWindow({ kind: 'pool', input: 7, kernel: 3, padding: 2 }), ValueError, 'more than half the window 3', 'padding <= 1');
  });

  test('options that do not belong to the kind, or to the input\'s axes', () => {
    throwsWith(() => explainWindow({ kind: 'pool', input: 7, kernel: 3, padding: 'same' }), ValueError, "'same' is for convolutions");
    throwsWith(() => conv1({ input: 7, kernel: 3, ceilMode: true }), ValueError, 'ceilMode is a pooling option');
    throwsWith(() => explainWindow({ kind: 'pool', input: 7, kernel: 3, filters: 4 }), ValueError, 'pooling has no filters');
    throwsWith(() => conv1({ input: 7, kernel: 3, channels: 3 }), ValueError, 'give both channels and filters');
    throwsWith(() => conv1({ input: 7, kernel: [3, 3] }), ValueError, 'kernel must be a number (the input is 1-D)');
    throwsWith(() => explainWindow({ kind: 'conv', input: 7, kernel: 3, strides: 2 } as ExplainWindowOptions), ValueError, "unknown option 'strides'");
    throwsWith(() => explainWindow({ kind: 'deconv', input: 7, kernel: 3 } as unknown as ExplainWindowOptions), ValueError, "kind must be 'conv', 'pool', 'conv-transpose'");
  });
});

describe('the layers warn once when their windows leave input unseen', () => {
  function collect(fn: () => void): StrideWarning[] {
    const seen: StrideWarning[] = [];
    const previous = setWarningHandler((w) => seen.push(w));
    try {
      fn();
    } finally {
      setWarningHandler(previous);
    }
    return seen;
  }

  test('Conv2d 3x3 stride 3 on 7x7: one warning over three forwards, naming the layer, the input, row and column 6 and the padding that fits', () => {
    const layer = new nn.Conv2d(1, 2, 3, { stride: 3 });
    const warnings = collect(() => {
      for (let i = 0; i < 3; i++) layer.forward(zeros([1, 1, 7, 7]));
    });
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].code, 'STRIDE_WINDOW_UNCOVERED');
    for (const part of ['Conv2d(1, 2, kernelSize=[3, 3], stride=[3, 3])', '7x7 input', 'input row 6', 'input column 6', 'padding 1 would fit (output 3)']) {
      ok(warnings[0].message.includes(part), `"${warnings[0].message}" lacks "${part}"`);
    }
  });

  test('windows that fit do not warn, nor gaps by design (ResNet\'s 1x1 stride-2 shortcut); each instance warns once; a new input size is checked again', () => {
    const fitting = new nn.Conv2d(1, 1, 3, { stride: 2 });
    const shortcut = new nn.Conv2d(1, 1, 1, { stride: 2 });
    const a = new nn.MaxPool2d(3);
    const b = new nn.MaxPool2d(3);
    const warnings = collect(() => {
      fitting.forward(zeros([1, 1, 7, 7]));
      shortcut.forward(zeros([1, 1, 8, 8])); // odd rows and columns fall between the windows
      a.forward(zeros([1, 1, 9, 9])); // fits: 0-2, 3-5, 6-8
      a.forward(zeros([1, 1, 7, 7])); // 6 unseen
      a.forward(zeros([1, 1, 8, 8])); // 6, 7 unseen, but a has warned
      b.forward(zeros([1, 1, 7, 7]));
    });
    assert.equal(warnings.length, 2);
    ok(warnings.every((w) => w.message.startsWith('MaxPool2d(kernelSize=[3, 3]') && w.message.includes('input row 6')), warnings.map((w) => w.message).join('\n'));
  });

  test('AvgPool2d warns too; ceilMode covers the remainder and does not warn', () => {
    const warnings = collect(() => {
      new nn.AvgPool2d(2).forward(zeros([1, 1, 5, 4]));
      new nn.MaxPool2d(2, { ceilMode: true }).forward(zeros([1, 1, 5, 5]));
    });
    assert.equal(warnings.length, 1);
    ok(warnings[0].message.includes('input row 4') && !warnings[0].message.includes('column'), warnings[0].message);
  });

  test('setWarningHandler(null) silences; the default in Node is process.emitWarning with the code', async () => {
    const previous = setWarningHandler(null);
    new nn.Conv2d(1, 1, 3, { stride: 3 }).forward(zeros([1, 1, 7, 7]));
    setWarningHandler('default');
    const emitted = new Promise<Error & { code?: string }>((resolve) => process.once('warning', resolve));
    new nn.Conv2d(1, 1, 3, { stride: 3 }).forward(zeros([1, 1, 7, 7]));
    const w = await emitted;
    assert.equal(w.name, 'StrideWarning');
    assert.equal(w.code, 'STRIDE_WINDOW_UNCOVERED');
    setWarningHandler(previous);
    throwsWith(() => setWarningHandler('off' as unknown as null), ValueError, "a function, null (silence warnings) or 'default'");
  });
});

describe('stride explain', () => {
  test('conv --input 7 --kernel 3 --stride 3 --json: the text, then the JSON line', async () => {
    const r = await stride('explain', 'conv', '--input', '7', '--kernel', '3', '--stride', '3', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /floor\(1\.33\) \+ 1 = 2/);
    assert.match(r.stdout, /input 6 is never seen/);
    const json = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.equal(json.outputSize, 2);
    assert.equal(json.exact, false);
    assert.deepEqual(json.uncoveredInput, [6]);
    assert.deepEqual(json.suggestedPadding.padding, [1, 1]);
    assert.equal(json.params, null);
  });

  test('conv --input 32x32 --kernel 5 --padding 2 --channels 3 --filters 10 --json: 32x32, 760 parameters', async () => {
    const r = await stride('explain', 'conv', '--input', '32x32', '--kernel', '5', '--padding', '2', '--channels', '3', '--filters', '10', '--json');
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.deepEqual(json.outputSize, { height: 32, width: 32 });
    assert.equal(json.params, 760);
  });

  test('an impossible setting is exit 2 with the message; a malformed size is refused', async () => {
    const r = await stride('explain', 'pool', '--input', '7', '--kernel', '9');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error: explainWindow: kernel 9 is larger than the padded input, 7/);
    const bad = await stride('explain', 'conv', '--input', '7x', '--kernel', '3');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--input/);
  });
});

describe('against PyTorch', () => {
  interface Case { kind: 'conv' | 'pool' | 'conv-transpose'; n: number; k: number; s: number; p: number; d: number; ceil: boolean; op: number }
  const cases: Case[] = [];
  for (const n of [1, 2, 3, 5, 7, 8, 11]) for (const k of [1, 2, 3, 4]) for (const s of [1, 2, 3]) for (const p of [0, 1, 2]) for (const d of [1, 2]) {
    cases.push({ kind: 'conv', n, k, s, p, d, ceil: false, op: 0 });
    for (const ceil of [false, true]) cases.push({ kind: 'pool', n, k, s, p, d, ceil, op: 0 });
    for (const op of [0, 1]) cases.push({ kind: 'conv-transpose', n, k, s, p, d, ceil: false, op });
  }

  /**
   * PyTorch's output size for each case, and the inputs whose gradient is 0
   * when the output's sum is differentiated through a window of ones (conv,
   * transposed conv) or through average pooling (pooling without dilation):
   * the inputs no window sees. 'error' when PyTorch refuses the setting.
   */
  function torchResults(): ({ size: number; unseen: number[] | null } | 'error')[] | string {
    const script = `
import json, sys, torch, torchvision
import torch.nn.functional as F
out = []
for c in json.load(sys.stdin):
    x = torch.zeros(1, 1, c['n'], requires_grad=True)
    try:
        if c['kind'] == 'conv':
            y = F.conv1d(x, torch.ones(1, 1, c['k']), stride=c['s'], padding=c['p'], dilation=c['d'])
        elif c['kind'] == 'conv-transpose':
            y = F.conv_transpose1d(x, torch.ones(1, 1, c['k']), stride=c['s'], padding=c['p'], output_padding=c['op'], dilation=c['d'])
        elif c['d'] == 1:
            y = F.avg_pool1d(x, c['k'], c['s'], c['p'], ceil_mode=c['ceil'])
        else:
            y = F.max_pool1d(x, c['k'], c['s'], c['p'], c['d'], ceil_mode=c['ceil'])
    except RuntimeError:
        out.append('error')
        continue
    unseen = None
    if c['kind'] != 'pool' or c['d'] == 1:
        y.sum().backward()
        unseen = [i for i, g in enumerate(x.grad[0, 0].tolist()) if g == 0]
    out.append({'size': y.shape[-1], 'unseen': unseen})
print(json.dumps(out))
`;
    const r = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.error || r.status !== 0) return `python3 with torch and torchvision is not available (${r.error?.message ?? r.stderr.trim().split('\n').pop()})`;
    return JSON.parse(r.stdout) as ({ size: number; unseen: number[] | null } | 'error')[];
  }

  test(`output sizes and unseen inputs of ${cases.length} settings (conv, pool with and without ceilMode, conv-transpose) equal PyTorch's`, (t) => {
    const theirs = torchResults();
    if (typeof theirs === 'string') {
      t.skip(theirs);
      return;
    }
    let compared = 0;
    let refusedByBoth = 0;
    cases.forEach((c, i) => {
      const label = JSON.stringify(c);
      let ours: WindowExplanation1d | null = null;
      let refusal = '';
      try {
        ours = explainWindow({
          kind: c.kind, input: c.n, kernel: c.k, stride: c.s, padding: c.p, dilation: c.d,
          ...(c.kind === 'pool' && { ceilMode: c.ceil }), ...(c.kind === 'conv-transpose' && { outputPadding: c.op }),
        });
      } catch (err) {
        ok(err instanceof ShapeError || err instanceof ValueError, `${label}: ${String(err)}`);
        refusal = err.message;
      }
      const t = theirs[i];
      if (t === 'error') {
        // Stride's pooling allows padding up to half the dilated window; PyTorch up to half the kernel size.
        const strideOnly = c.kind === 'pool' && c.d > 1 && c.p > Math.floor(c.k / 2) && ours !== null;
        ok(ours === null || strideOnly, `${label}: PyTorch refuses it, explainWindow gives ${ours?.outputSize}`);
        if (strideOnly) ok(ours!.notes.some((n) => n.includes('PyTorch refuses this padding')), `${label}: no note`);
        else refusedByBoth++;
        return;
      }
      if (ours === null && c.kind === 'pool' && c.ceil && c.d * (c.k - 1) + 1 > c.n + 2 * c.p) {
        // Stride's pooling refuses a window larger than the padded input; PyTorch's ceil_mode takes it when one window results.
        ok(refusal.includes('larger than the padded input'), `${label}: ${refusal}`);
        return;
      }
      ok(ours !== null, `${label}: PyTorch gives ${t.size}, explainWindow refuses it (${refusal})`);
      assert.equal(ours!.outputSize, t.size, label);
      if (t.unseen) assert.deepEqual(ours!.uncoveredInput, t.unseen, `${label}: unseen inputs`);
      compared++;
    });
    ok(compared > 500 && refusedByBoth > 20, `compared ${compared}, refused by both ${refusedByBoth}`);
  });

  test("'same' places the odd unit of padding after, as PyTorch (first tap of window 0 reads input -left)", (t) => {
    const script = `
import json, torch, torchvision
import torch.nn.functional as F
out = []
for n, k, d in [(7, 2, 1), (7, 3, 1), (7, 4, 1), (8, 5, 1), (6, 4, 2), (9, 6, 1)]:
    x = torch.arange(1., n + 1).reshape(1, 1, n)
    w = torch.zeros(1, 1, k); w[0, 0, 0] = 1
    y = F.conv1d(x, w, padding='same', dilation=d)[0, 0].tolist()
    out.append([n, k, d, y.index(1.0)])
print(json.dumps(out))
`;
    const r = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
    if (r.error || r.status !== 0) {
      t.skip(`python3 with torch and torchvision is not available (${r.error?.message ?? r.stderr.trim().split('\n').pop()})`);
      return;
    }
    for (const [n, k, d, left] of JSON.parse(r.stdout) as number[][]) {
      const e = conv1({ input: n, kernel: k, dilation: d, padding: 'same' });
      assert.deepEqual(e.axes[0].padding, [left, d * (k - 1) - left], `n ${n} k ${k} d ${d}`);
      assert.equal(e.outputSize, n);
    }
  });
});
