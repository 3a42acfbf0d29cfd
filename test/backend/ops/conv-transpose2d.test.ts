/**
 * convTranspose2d: a hand-computed up-sampling, a naive scatter loop written
 * here, the output-size formula, the adjoint identity with conv2d, gradchecks
 * (groups, stride 2, outputPadding, dilation, bias), the errors, and the
 * ConvTranspose2d layer with PyTorch's initialization.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { Generator, ShapeError, Tensor, ValueError, gradcheck, ones, randn, tensor } from '../../../src/index.js';
import { ConvTranspose2d } from '../../../src/nn/index.js';
import { conv2d, convTranspose2d, type ConvTranspose2dOptions } from '../../../src/ops/index.js';
import { assertClose, seeded, throwsWith } from '../../helpers/index.js';

const { gen, rn } = seeded(4242);

const two = (v: number | readonly number[] | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** Every input pixel scatters w[c, o] scaled by its value; the borders `padding` wide are cut off. */
function naiveConvT(x: Tensor, w: Tensor, b: Tensor | null, o: ConvTranspose2dOptions): { shape: number[]; data: number[] } {
  const [N, C, H, W] = x.shape;
  const [, Og, kH, kW] = w.shape;
  const groups = o.groups ?? 1;
  const [sH, sW] = two(o.stride, 1);
  const [pH, pW] = two(o.padding, 0);
  const [opH, opW] = two(o.outputPadding, 0);
  const [dH, dW] = two(o.dilation, 1);
  const outH = (H - 1) * sH - 2 * pH + dH * (kH - 1) + opH + 1;
  const outW = (W - 1) * sW - 2 * pW + dW * (kW - 1) + opW + 1;
  const O = Og * groups;
  const Cg = C / groups;
  const y = new Array<number>(N * O * outH * outW).fill(0);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / Cg);
      for (let i = 0; i < H; i++) {
        for (let j = 0; j < W; j++) {
          const xv = x.data[((n * C + c) * H + i) * W + j];
          for (let oo = 0; oo < Og; oo++) {
            for (let u = 0; u < kH; u++) {
              for (let v = 0; v < kW; v++) {
                const oh = i * sH - pH + u * dH;
                const ow = j * sW - pW + v * dW;
                if (oh < 0 || oh >= outH || ow < 0 || ow >= outW) continue;
                y[((n * O + g * Og + oo) * outH + oh) * outW + ow] += xv * w.data[((c * Og + oo) * kH + u) * kW + v];
              }
            }
          }
        }
      }
    }
  }
  if (b) for (let k = 0; k < y.length; k++) y[k] += b.data[Math.floor(k / (outH * outW)) % O];
  return { shape: [N, O, outH, outW], data: y };
}

function dot(a: Tensor, b: Tensor): number {
  let s = 0;
  for (let i = 0; i < a.size; i++) s += a.data[i] * b.data[i];
  return s;
}

describe('convTranspose2d forward', () => {
  test('kernel 2, stride 2 of ones: each input becomes a 2x2 block', () => {
    const x = tensor([[1, 2], [3, 4]]).reshape([1, 1, 2, 2]);
    const y = convTranspose2d(x, ones([1, 1, 2, 2]), null, { stride: 2 });
    assert.deepEqual(y.shape, [1, 1, 4, 4]);
    assert.deepEqual([...y.data], [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  test('overlapping windows add: [1, 2] with kernel [1, 10, 100], stride 1 -> 1 12 120 200', () => {
    const y = convTranspose2d(tensor([1, 2], [1, 1, 1, 2]), tensor([1, 10, 100], [1, 1, 1, 3]));
    assert.deepEqual([...y.data], [1, 12, 120, 200]);
  });

  test('output size (in-1)*s - 2p + d(k-1) + outputPadding + 1: 7 -> 14 with k 3, s 2, p 1, outputPadding 1', () => {
    const y = convTranspose2d(randn([1, 2, 7, 5]), randn([2, 3, 3, 3]), null, { stride: 2, padding: 1, outputPadding: 1 });
    assert.deepEqual(y.shape, [1, 3, 14, 10]);
  });

  const CONFIGS: { name: string; x: number[]; w: number[]; o: ConvTranspose2dOptions }[] = [
    { name: 'stride 2, padding [1, 0], groups 2', x: [2, 4, 3, 4], w: [4, 3, 4, 3], o: { stride: 2, padding: [1, 0], groups: 2 } },
    { name: 'stride [2, 3], outputPadding [1, 2]', x: [1, 2, 3, 3], w: [2, 2, 3, 3], o: { stride: [2, 3], outputPadding: [1, 2] } },
    { name: 'outputPadding 1 allowed by dilation 2 at stride 1', x: [2, 1, 3, 4], w: [1, 2, 2, 3], o: { dilation: 2, outputPadding: 1, padding: [0, 1] } },
    { name: 'dilation [2, 1], padding 2, groups 3, stride 3, outputPadding 2', x: [1, 3, 4, 3], w: [3, 2, 3, 3], o: { dilation: [2, 1], padding: 2, groups: 3, stride: 3, outputPadding: 2 } },
  ];
  for (const c of CONFIGS) {
    test(`matches a naive scatter loop: ${c.name}`, () => {
      const x = rn(c.x);
      const w = rn(c.w);
      const b = rn([c.w[1] * (c.o.groups ?? 1)]);
      assertClose(convTranspose2d(x, w, b, c.o), naiveConvT(x, w, b, c.o), 1e-9);
      assertClose(convTranspose2d(x, w, null, c.o), naiveConvT(x, w, null, c.o), 1e-9);
    });
  }

  test('the adjoint of conv2d: <convT(x, w), y> = <x, conv2d(y, w)> with the same stride, padding, dilation, groups', () => {
    const o = { stride: [2, 3] as [number, number], padding: [1, 2] as [number, number], dilation: [1, 2] as [number, number], groups: 2 };
    const x = rn([2, 4, 3, 4]);
    const w = rn([4, 3, 3, 3]);
    const yT = convTranspose2d(x, w, null, o);
    const y = rn([...yT.shape]);
    const back = conv2d(y, w, null, o);
    assert.deepEqual(back.shape, x.shape);
    const lhs = dot(yT, y);
    assert.ok(Math.abs(lhs - dot(x, back)) < 1e-9 * (1 + Math.abs(lhs)));
  });

  test('3-D input (no batch)', () => {
    const x = rn([2, 3, 3]);
    const w = rn([2, 1, 2, 2]);
    const y = convTranspose2d(x, w, null, { stride: 2 });
    assert.deepEqual(y.shape, [1, 6, 6]);
    assertClose(y.reshape([1, 1, 6, 6]), naiveConvT(x.reshape([1, 2, 3, 3]), w, null, { stride: 2 }), 1e-9);
  });
});

describe('convTranspose2d backward', () => {
  test('bias gradient is the sum of dL/dy per output channel', () => {
    const b = tensor([0, 0], undefined, { requiresGrad: true });
    const y = convTranspose2d(ones([2, 1, 2, 2]), ones([1, 2, 2, 2]), b, { stride: 2 });
    const gy = new Tensor(new Float32Array(y.size).map((_, i) => (Math.floor(i / 16) % 2 === 0 ? 1 : 3)), y.shape);
    y.backward(gy);
    // 2 images x 16 positions per channel
    assert.deepEqual([...b.grad!.data], [32, 96]);
  });

  test('gradcheck: groups 2, stride 2, padding 1, with bias', () => {
    const r = gradcheck((x, w, b) => convTranspose2d(x, w, b, { stride: 2, padding: 1, groups: 2 }), [rn([2, 4, 3, 3]), rn([4, 2, 3, 3]), rn([4])]);
    assert.equal(r.passed, true);
    assert.equal(r.inputs.length, 3);
  });

  test('gradcheck: stride [2, 3], outputPadding [1, 2], dilation [2, 1]', () => {
    assert.equal(gradcheck((x, w, b) => convTranspose2d(x, w, b, { stride: [2, 3], outputPadding: [1, 2], dilation: [2, 1], padding: [1, 0] }), [rn([1, 2, 3, 2]), rn([2, 3, 2, 3]), rn([3])]).passed, true);
  });

  test('gradcheck: outputPadding >= stride, allowed by dilation', () => {
    assert.equal(gradcheck((x, w) => convTranspose2d(x, w, null, { dilation: 3, outputPadding: 2, groups: 3 }), [rn([2, 3, 2, 3]), rn([3, 1, 2, 2])]).passed, true);
  });
});

describe('convTranspose2d errors', () => {
  test('outputPadding must be smaller than the stride or the dilation', () => {
    throwsWith(() => convTranspose2d(randn([1, 1, 3, 3]), randn([1, 1, 3, 3]), null, { stride: 2, outputPadding: 2 }), ValueError,
      'convTranspose2d: outputPadding 2 must be smaller than either stride 2 or dilation 1');
  });

  test('groups must divide the input channels', () => {
    throwsWith(() => convTranspose2d(randn([1, 3, 3, 3]), randn([3, 1, 3, 3]), null, { groups: 2 }), ValueError,
      'convTranspose2d: groups 2 does not divide the 3 input channels');
  });

  test("the weight's first dim must be the input's channels", () => {
    throwsWith(() => convTranspose2d(randn([1, 4, 3, 3]), randn([3, 2, 3, 3])), ShapeError,
      'convTranspose2d: input has 4 channels but weight [3, 2, 3, 3] expects 3', '[inChannels, outChannels/groups, kH, kW]');
    throwsWith(() => convTranspose2d(randn([1, 4, 3, 3]), randn([4, 3, 3])), ShapeError, 'weight must be 4-D');
  });

  test('bias shape, input rank, an empty output', () => {
    throwsWith(() => convTranspose2d(randn([1, 2, 3, 3]), randn([2, 2, 3, 3]), randn([3]), { groups: 2 }), ShapeError, 'convTranspose2d: bias must have shape [4]');
    throwsWith(() => convTranspose2d(randn([3, 3]), randn([1, 1, 3, 3])), ShapeError, 'convTranspose2d: input must be 4-D');
    throwsWith(() => convTranspose2d(randn([1, 1, 1, 1]), randn([1, 1, 1, 1]), null, { padding: 1 }), ShapeError, 'the output would be -1x-1');
    throwsWith(() => convTranspose2d(randn([1, 1, 2, 2]), randn([1, 1, 1, 1]), null, { kernelSize: 3 } as never), ValueError, "unknown option 'kernelSize'");
  });
});

describe('ConvTranspose2d layer', () => {
  test('weight [inC, outC/groups, kH, kW], bias [outC], forward = the functional op', () => {
    const layer = new ConvTranspose2d(4, 6, [3, 2], { stride: 2, groups: 2, outputPadding: 1, generator: new Generator(1) });
    assert.deepEqual(layer.weight.shape, [4, 3, 3, 2]);
    assert.deepEqual(layer.bias!.shape, [6]);
    assert.equal(layer.parameters().length, 2);
    const x = randn([1, 4, 3, 3], { generator: gen });
    const y = layer.forward(x);
    assert.deepEqual(y.shape, [1, 6, 8, 7]);
    assertClose(y, naiveConvT(x, layer.weight, layer.bias, { stride: 2, groups: 2, outputPadding: 1 }), 1e-5);
    assert.equal(new ConvTranspose2d(2, 2, 2, { bias: false }).bias, null);
  });

  test("PyTorch's init: bound 1/sqrt(fanIn) with fanIn from dim 1 = outC/groups * kH * kW", () => {
    // inC 8, outC 2, k 3: fanIn = 2 * 9 = 18, bound 0.2357; a fan-in read from inC (8 * 9) would give 0.118
    const layer = new ConvTranspose2d(8, 2, 3, { generator: new Generator(5) });
    const bound = 1 / Math.sqrt(18);
    const maxW = Math.max(...[...layer.weight.data].map(Math.abs));
    assert.ok(maxW <= bound && maxW > 0.9 * bound, `max |w| ${maxW}, bound ${bound}`);
    for (const v of layer.bias!.data) assert.ok(Math.abs(v) <= bound);
  });

  test('constructor errors', () => {
    throwsWith(() => new ConvTranspose2d(2, 2, 3, { stride: 1, outputPadding: 1 }), ValueError, 'ConvTranspose2d: outputPadding 1 must be smaller than either stride 1 or dilation 1');
    throwsWith(() => new ConvTranspose2d(3, 4, 3, { groups: 2 }), ValueError, 'ConvTranspose2d: groups 2 must divide both inChannels 3 and outChannels 4');
  });
});
