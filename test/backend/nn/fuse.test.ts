/**
 * The inference path (nn/fuse.ts, ops conv2dFused and conv2dChain): folded
 * batch norms, fused ReLUs and residual additions, chains of convolutions in
 * one kernel call. Every check compares the fused result with the same
 * network or ops run one by one.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { F, Generator, ShapeError, ValueError, getBackend, models, noGrad, randn, summary, type Tensor } from '../../../src/index.js';
import { BasicBlock, BatchNorm2d, Conv2d, Module, ReLU, Sequential, foldBatchNorm, isInferenceFusionEnabled, setInferenceFusion } from '../../../src/nn/index.js';
import { resnetBlockNet } from '../../../src/cli/workloads.js';
import { assertClose, ok, throwsWith } from '../../helpers/index.js';

/** Random running statistics and affine parameters in every batch norm, so that folding them changes the weights. */
function randomizeBatchNorms(model: Module, seed: number): void {
  const g = new Generator(seed);
  for (const [, m] of model.namedModules()) {
    if (!(m instanceof BatchNorm2d)) continue;
    const c = m.numFeatures;
    m.runningMean?.data.set(randn([c], { generator: g }).data.map((v) => 0.3 * v));
    m.runningVar?.data.set(randn([c], { generator: g }).data.map((v) => 0.5 + Math.abs(v)));
    m.weight?.data.set(randn([c], { generator: g }).data.map((v) => 1 + 0.3 * v));
    m.bias?.data.set(randn([c], { generator: g }).data.map((v) => 0.2 * v));
  }
}

/** Runs fn with fusion set to `on`, restoring the setting after. */
function withFusion<T>(on: boolean, fn: () => T): T {
  const previous = setInferenceFusion(on);
  try {
    return fn();
  } finally {
    setInferenceFusion(previous);
  }
}

/** The forward pass in eval mode under noGrad, fused or not. */
function infer(model: Module, x: Tensor, fused: boolean): Tensor {
  return withFusion(fused, () => noGrad(() => model.forward(x)));
}

/** Counts the calls of the named kernels of the backend in use while fn runs. */
function countKernels<T>(names: readonly ('conv2dForward' | 'conv2dForwardFused' | 'conv2dChainForward')[], fn: () => T): { result: T; calls: Record<string, number>; chainSteps: number[] } {
  const kernels = getBackend().kernels as unknown as Record<string, (...args: unknown[]) => void>;
  const calls: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  const chainSteps: number[] = [];
  const originals = names.map((n) => kernels[n]);
  names.forEach((n, i) => {
    kernels[n] = (...args: unknown[]) => {
      calls[n]++;
      if (n === 'conv2dChainForward') chainSteps.push((args[1] as unknown[]).length);
      return originals[i](...args);
    };
  });
  try {
    return { result: fn(), calls, chainSteps };
  } finally {
    names.forEach((n, i) => (kernels[n] = originals[i]));
  }
}

/** The largest absolute value. */
const maxAbs = (t: Tensor) => Array.from(t.data).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe('the fused inference path equals the unfused one', () => {
  // Inputs small enough for the ref backend: each model at the smallest of 32x32, 64x64 and its own size it takes.
  for (const name of Object.keys(models)) {
    test(`zoo model ${name}`, () => {
      const spec = models[name];
      const [c, h, w] = spec.inputShape;
      const model = spec.create({ generator: new Generator(3) } as never);
      model.eval();
      randomizeBatchNorms(model, 4);
      let x: Tensor | null = null;
      let plain: Tensor | null = null;
      for (const size of [...[32, 64].filter((s) => s < h), h]) {
        x = randn(size === h ? [2, c, h, w] : [1, c, size, size], { generator: new Generator(5) });
        try {
          plain = infer(model, x, false);
          break;
        } catch (e) {
          if (!(e instanceof ShapeError) || size === h) throw e;
        }
      }
      ok(x && plain);
      const fused = infer(model, x, true);
      assert.deepEqual(fused.shape, plain.shape);
      // Folding rounds the weights once more, and a fused convolution may take another algorithm
      // (Winograd or direct): float32 differences relative to the output's scale.
      assertClose(fused.data, plain.data, { atol: 2e-4 * Math.max(1, maxAbs(plain)), rtol: 1e-3 }, name);
    });
  }

  test('the models with convolutions followed by batch norm or ReLU do fuse', () => {
    const fusing = ['lenet5', 'alexnet', 'vgg11', 'resnet18', 'resnet50', 'resnet20'].filter((n) => n in models);
    assert.ok(fusing.length >= 5, `expected the zoo to hold ${fusing.join(', ')}`);
    for (const name of fusing) {
      const spec = models[name];
      const [c, h, w] = spec.inputShape;
      const model = spec.create({} as never).eval();
      const x = randn(h > 64 ? [1, c, 64, 64] : [1, c, h, w]); // 64x64: AlexNet's smallest size is 63
      const { calls } = countKernels(['conv2dChainForward'], () => infer(model, x, true));
      assert.ok(calls.conv2dChainForward > 0, `${name}: no chain ran`);
    }
  });

  test('the ResNet-block net is one chain of 5 convolutions and no other convolution call', () => {
    const net = resnetBlockNet(new Generator(6)).eval();
    randomizeBatchNorms(net, 7);
    const x = randn([4, 3, 16, 16], { generator: new Generator(8) });
    const kinds = ['conv2dForward', 'conv2dForwardFused', 'conv2dChainForward'] as const;
    const fused = countKernels(kinds, () => infer(net, x, true));
    assert.deepEqual(fused.chainSteps, [5], 'stem conv + 2 blocks x 2 convs');
    assert.equal(fused.calls.conv2dForward, 0);
    const plain = countKernels(kinds, () => infer(net, x, false));
    assert.equal(plain.calls.conv2dChainForward, 0);
    assert.equal(plain.calls.conv2dForward, 5);
    assertClose(fused.result.data, plain.result.data, { atol: 1e-4 * Math.max(1, maxAbs(plain.result)), rtol: 1e-4 });
  });

  test('a block run by itself fuses each convolution with its epilogue', () => {
    for (const block of [new BasicBlock(4, 4), new BasicBlock(4, 8, { stride: 2 })]) {
      block.eval();
      randomizeBatchNorms(block, 9);
      const x = randn([2, 4, 7, 7], { generator: new Generator(10) });
      const fused = countKernels(['conv2dForward', 'conv2dForwardFused'], () => infer(block, x, true));
      assert.equal(fused.calls.conv2dForward, 0);
      assert.ok(fused.calls.conv2dForwardFused >= 2);
      const plain = infer(block, x, false);
      assertClose(fused.result.data, plain.data, { atol: 1e-5 * Math.max(1, maxAbs(plain)), rtol: 1e-4 });
      assert.ok(fused.result.data.every((v) => v >= 0), 'the block ends with ReLU');
    }
  });
});

describe('where the inference path does not fuse', () => {
  const net = () => {
    const m = new Sequential(new Conv2d(3, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new BasicBlock(4, 4));
    randomizeBatchNorms(m, 11);
    return m;
  };
  const x = randn([2, 3, 6, 6], { generator: new Generator(12) });

  test('training mode: batch norm uses the batch statistics, every module runs', () => {
    const m = net().train();
    const fused = countKernels(['conv2dChainForward', 'conv2dForwardFused'], () => withFusion(true, () => noGrad(() => m.forward(x))));
    assert.equal(fused.calls.conv2dChainForward + fused.calls.conv2dForwardFused, 0);
  });

  test('with gradients: the output is recorded and nothing is folded', () => {
    const m = net().eval();
    const { result, calls } = countKernels(['conv2dChainForward', 'conv2dForwardFused'], () => withFusion(true, () => m.forward(x)));
    assert.equal(calls.conv2dChainForward + calls.conv2dForwardFused, 0);
    assert.ok(result.requiresGrad && result.gradFn, 'recorded for backward');
  });

  test('a watched module (a replaced forward) runs by itself, and summary() sees every layer', () => {
    const m = net().eval();
    const conv = m.at(0) as Conv2d;
    let seen = 0;
    const own = conv.forward.bind(conv);
    conv.forward = (t: Tensor) => {
      seen++;
      return own(t);
    };
    const { calls } = countKernels(['conv2dChainForward'], () => infer(m, x, true));
    assert.equal(seen, 1, 'the watcher saw its convolution');
    assert.equal(calls.conv2dChainForward, 1, 'the block after it still fuses');
    delete (conv as { forward?: unknown }).forward;
    const rows = withFusion(true, () => noGrad(() => summary(net().eval(), [3, 6, 6])));
    const kinds = rows.layers.map((r) => r.type).filter((t) => t === 'Conv2d' || t === 'BatchNorm2d');
    assert.equal(kinds.length, 6, `summary lists the 3 convolutions and 3 batch norms; got ${kinds.join(', ')}`);
  });

  test('setInferenceFusion(false) runs every module; the setting is returned and checked', () => {
    const m = net().eval();
    assert.equal(isInferenceFusionEnabled(), true, 'on by default');
    const { calls } = countKernels(['conv2dChainForward', 'conv2dForwardFused'], () => infer(m, x, false));
    assert.equal(calls.conv2dChainForward + calls.conv2dForwardFused, 0);
    assert.equal(setInferenceFusion(false), true);
    assert.equal(setInferenceFusion(true), false);
    throwsWith(() => setInferenceFusion('no' as never), ValueError, 'setInferenceFusion', 'true or false');
  });
});

describe('conv2dFused', () => {
  const g = new Generator(13);
  const cases: [string, number[], number[], F.Conv2dOptions][] = [
    ['3x3 pad 1, 16 channels (Winograd where the backend has it)', [2, 16, 8, 8], [16, 16, 3, 3], { padding: 1 }],
    ['stride 2', [2, 3, 9, 9], [5, 3, 3, 3], { stride: 2, padding: 1 }],
    ['groups 2, dilation 2', [1, 4, 9, 9], [6, 2, 3, 3], { groups: 2, dilation: 2, padding: 2 }],
    ['one input channel per group', [2, 1, 12, 12], [6, 1, 5, 5], {}],
  ];
  for (const [what, xs, ws, options] of cases) {
    test(`equals conv2d, add and relu: ${what}`, () => {
      const x = randn(xs, { generator: g });
      const w = randn(ws, { generator: g });
      const b = randn([ws[0]], { generator: g });
      const plain = F.conv2d(x, w, b, options);
      const r = randn(plain.shape, { generator: g });
      for (const [residual, relu] of [[null, true], [r, false], [r, true]] as const) {
        const want = noGrad(() => {
          const y = residual ? F.add(F.conv2d(x, w, b, options), residual) : F.conv2d(x, w, b, options);
          return relu ? F.relu(y) : y;
        });
        const got = noGrad(() => F.conv2dFused(x, w, b, options, { residual, relu }));
        assertClose(got.data, want.data, { atol: 1e-4, rtol: 1e-4 }, `${what}, residual ${!!residual}, relu ${relu}`);
      }
    });
  }

  test('with gradients it records conv2d, add and relu: the same gradients as those ops', () => {
    const x = randn([1, 2, 5, 5], { generator: g, requiresGrad: true });
    const w = randn([3, 2, 3, 3], { generator: g, requiresGrad: true });
    const r = randn([1, 3, 5, 5], { generator: g });
    const y = F.conv2dFused(x, w, null, { padding: 1 }, { residual: r, relu: true });
    F.sum(y).backward();
    const [gx, gw] = [x.grad!.data.slice(), w.grad!.data.slice()];
    x.grad = null;
    w.grad = null;
    F.sum(F.relu(F.add(F.conv2d(x, w, null, { padding: 1 }), r))).backward();
    assertClose(gx, x.grad!.data, 1e-6);
    assertClose(gw, w.grad!.data, 1e-6);
  });

  test('a residual that broadcasts is added as add does', () => {
    const x = randn([2, 2, 4, 4], { generator: g });
    const w = randn([3, 2, 1, 1], { generator: g });
    const r = randn([3, 1, 1], { generator: g });
    const got = noGrad(() => F.conv2dFused(x, w, null, {}, { residual: r }));
    assertClose(got.data, noGrad(() => F.add(F.conv2d(x, w), r)).data, 1e-5);
  });

  test('a NaN before the ReLU gives 0, as relu does, fused or chained', () => {
    const x = randn([1, 16, 6, 6], { generator: g });
    x.data[10] = NaN;
    const w = randn([16, 16, 3, 3], { generator: g });
    const want = F.relu(F.conv2d(x, w, null, { padding: 1 }));
    const fused = noGrad(() => F.conv2dFused(x, w, null, { padding: 1 }, { relu: true }));
    const chained = noGrad(() => F.conv2dChain(x, [{ weight: w, bias: null, options: { padding: 1 }, input: -1, residual: null, relu: true }]));
    assert.ok(F.conv2d(x, w, null, { padding: 1 }).data.some((v) => Number.isNaN(v)), 'the convolution spreads the NaN');
    for (const got of [fused, chained]) {
      assert.ok(got.data.every((v) => !Number.isNaN(v)));
      assertClose(got.data, want.data, { atol: 1e-4, rtol: 1e-4 });
    }
  });

  test('bad epilogues are refused with what was wrong', () => {
    const x = randn([1, 1, 4, 4]);
    const w = randn([1, 1, 3, 3]);
    throwsWith(() => F.conv2dFused(x, w, null, {}, { relu: 1 as never }), ValueError, 'conv2dFused', 'relu must be true or false');
    throwsWith(() => F.conv2dFused(x, w, null, {}, { rleu: true } as never), ValueError, 'conv2dFused', "'rleu'", "'relu'");
    throwsWith(() => noGrad(() => F.conv2dFused(x, w, null, {}, { residual: randn([1, 1, 3, 3]) })), ShapeError);
  });
});

describe('conv2dChain', () => {
  const g = new Generator(14);
  const x = randn([2, 4, 8, 8], { generator: g });
  const w3 = () => randn([4, 4, 3, 3], { generator: g });
  const steps: F.Conv2dChainConv[] = [
    { weight: w3(), bias: randn([4], { generator: g }), options: { padding: 1 }, input: -1, residual: null, relu: true },
    { weight: w3(), bias: null, options: { padding: 1 }, input: 0, residual: -1, relu: true },
    { weight: randn([6, 4, 1, 1], { generator: g }), bias: null, options: { stride: 2 }, input: -1, residual: null, relu: false },
    { weight: randn([6, 4, 3, 3], { generator: g }), bias: null, options: { stride: 2, padding: 1 }, input: 1, residual: 2, relu: true },
  ];

  test('equals its steps run one by one as conv2dFused, the last step the result', () => {
    const values: Tensor[] = [];
    const valueOf = (i: number) => (i === -1 ? x : values[i]);
    for (const s of steps) values.push(noGrad(() => F.conv2dFused(valueOf(s.input), s.weight, s.bias, s.options, { residual: s.residual === null ? null : valueOf(s.residual), relu: s.relu })));
    const { result, calls } = countKernels(['conv2dChainForward'], () => noGrad(() => F.conv2dChain(x, steps)));
    assert.equal(calls.conv2dChainForward, 1);
    assert.deepEqual(result.shape, [2, 6, 4, 4]);
    assertClose(result.data, values[3].data, { atol: 1e-4, rtol: 1e-4 });
  });

  test('a max pool in a chain equals maxPool2d of its input', () => {
    const chain: F.Conv2dChainStep[] = [
      steps[0],
      { kind: 'maxPool', kernelSize: 3, options: { stride: 2, padding: 1 }, input: 0 },
      { weight: w3(), bias: null, options: { padding: 1 }, input: 1, residual: 1, relu: true },
      { kind: 'maxPool', kernelSize: 2, options: { ceilMode: true }, input: 2 },
    ];
    const s0 = noGrad(() => F.conv2dFused(x, steps[0].weight, steps[0].bias, steps[0].options, { relu: true }));
    const p1 = F.maxPool2d(s0, 3, { stride: 2, padding: 1 });
    const c2 = chain[2] as F.Conv2dChainConv;
    const s2 = noGrad(() => F.conv2dFused(p1, c2.weight, null, c2.options, { residual: p1, relu: true }));
    const want = F.maxPool2d(s2, 2, { ceilMode: true });
    const { result, calls } = countKernels(['conv2dChainForward'], () => noGrad(() => F.conv2dChain(x, chain)));
    assert.equal(calls.conv2dChainForward, 1);
    assert.deepEqual(result.shape, [2, 4, 2, 2]);
    assertClose(result.data, want.data, { atol: 1e-4, rtol: 1e-4 });
  });

  test('with gradients the steps are recorded one by one', () => {
    const xg = randn([1, 4, 8, 8], { generator: g, requiresGrad: true });
    const { result, calls } = countKernels(['conv2dChainForward'], () => F.conv2dChain(xg, steps));
    assert.equal(calls.conv2dChainForward, 0);
    F.sum(result).backward();
    assert.ok(xg.grad && xg.grad.data.some((v) => v !== 0));
  });

  test('steps that read later steps, or residuals of another shape, are refused', () => {
    const s0 = steps[0];
    throwsWith(() => F.conv2dChain(x, [{ ...s0, input: 0 }]), ValueError, 'conv2dChain', "step 0's input is 0", '-1');
    throwsWith(() => F.conv2dChain(x, [s0, steps[2], { ...s0, input: 0, residual: 1 }]), ShapeError, 'conv2dChain', 'step 2 gives [2, 4, 8, 8]', 'residual (step 1) is [2, 6, 4, 4]');
    throwsWith(() => F.conv2dChain(x, []), ValueError, 'conv2dChain', 'non-empty');
    throwsWith(() => F.conv2dChain(x, [{ kind: 'avgPool' } as never]), ValueError, 'conv2dChain', "step 0's kind", "'maxPool'");
    throwsWith(() => F.conv2dChain(x, [{ kind: 'maxPool', kernelSize: 2, options: { strid: 2 } as never, input: -1 }]), ValueError, 'conv2dChain: step 0', "'strid'", "'stride'");
  });
});

describe('foldBatchNorm', () => {
  test('conv with the folded weight and bias equals batch norm (eval) after the conv', () => {
    const conv = new Conv2d(3, 5, 3, { padding: 1 });
    const bn = new BatchNorm2d(5);
    const m = new Sequential(conv, bn).eval();
    randomizeBatchNorms(m, 15);
    const x = randn([2, 3, 6, 6], { generator: new Generator(16) });
    const want = infer(m, x, false);
    const { weight, bias } = foldBatchNorm(conv, bn);
    assertClose(noGrad(() => F.conv2d(x, weight, bias, { padding: 1 })).data, want.data, { atol: 1e-5, rtol: 1e-5 });
  });

  test('refuses a batch norm without running statistics or of another width', () => {
    throwsWith(() => foldBatchNorm(new Conv2d(1, 2, 1), new BatchNorm2d(2, { trackRunningStats: false })), ValueError, 'foldBatchNorm', 'running statistics');
    throwsWith(() => foldBatchNorm(new Conv2d(1, 2, 1), new BatchNorm2d(3)), ValueError, 'foldBatchNorm', '3 channels', '2');
  });
});
