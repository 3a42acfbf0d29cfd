/**
 * Optimizers against a straightforward float64 reimplementation of the update
 * rules as PyTorch documents them (torch.optim.SGD, Adam, AdamW), step by
 * step; zeroGrad; skipping parameters without a gradient; and a LeNet-5 that
 * learns a fixed batch.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { Generator, Tensor, ValueError, tensor, randn, zeros, LeNet5, noGrad, getBackend } from '../../../src/index.js';
import { kernelsFor } from '../../../src/backends/index.js';
import type { FloatArray, SgdStepParams } from '../../../src/backends/backend.js';
import { add, mul, sum, crossEntropy } from '../../../src/ops/index.js';
import { SGD, Adam, AdamW } from '../../../src/optim/index.js';
import { Linear } from '../../../src/nn/index.js';
import { assertClose, ok, throwsWith, uniformArray } from '../../helpers/index.js';

// ---------------------------------------------------------------------------
// The objective: L(p) = sum(a * p^2) + sum(b * p) + (sum p)^2 over both parameters,
// so dL/dp_i = 2 a_i p_i + b_i + 2 S with S the sum of all entries (couples every entry).

const A = [0.5, 1.5, 2.0, 0.3, 1.1, 0.7, 2.5];
const B = [0.2, -0.4, 1.0, -1.2, 0.6, 0.1, -0.3];
const P0 = [0.8, -1.1, 0.4, 1.6, -0.5, 0.9, -2.0];

function makeParams(dtype: 'float32' | 'float64' = 'float64'): Tensor[] {
  return [
    tensor(P0.slice(0, 3), [3], { dtype, requiresGrad: true }),
    tensor(P0.slice(3), [2, 2], { dtype, requiresGrad: true }),
  ];
}

function lossOf(params: Tensor[]): Tensor {
  const a = [tensor(A.slice(0, 3), [3], { dtype: 'float64' }), tensor(A.slice(3), [2, 2], { dtype: 'float64' })];
  const b = [tensor(B.slice(0, 3), [3], { dtype: 'float64' }), tensor(B.slice(3), [2, 2], { dtype: 'float64' })];
  let total: Tensor = tensor(0, undefined, { dtype: 'float64' });
  let s: Tensor = tensor(0, undefined, { dtype: 'float64' });
  params.forEach((p, i) => {
    total = add(total, add(sum(mul(a[i], mul(p, p))), sum(mul(b[i], p))));
    s = add(s, sum(p));
  });
  return add(total, mul(s, s));
}

function refGrad(p: number[]): number[] {
  const S = p.reduce((x, y) => x + y, 0);
  return p.map((v, i) => 2 * A[i] * v + B[i] + 2 * S);
}

const flat = (params: Tensor[]) => params.flatMap((p) => Array.from(p.data));

// ---------------------------------------------------------------------------
// Reference updates (torch.optim documentation, amsgrad/maximize off).

interface SgdCfg { lr: number; momentum?: number; dampening?: number; nesterov?: boolean; weightDecay?: number }

function refSgd(cfg: SgdCfg, steps: number, lrAt: (t: number) => number = () => cfg.lr): number[][] {
  const mu = cfg.momentum ?? 0;
  const tau = cfg.dampening ?? 0;
  const wd = cfg.weightDecay ?? 0;
  const p = [...P0];
  let buf: number[] | null = null;
  const history: number[][] = [];
  for (let t = 1; t <= steps; t++) {
    let g = refGrad(p);
    if (wd !== 0) g = g.map((gi, i) => gi + wd * p[i]);
    if (mu !== 0) {
      buf = buf === null ? [...g] : buf.map((bi, i) => mu * bi + (1 - tau) * g[i]);
      g = cfg.nesterov ? g.map((gi, i) => gi + mu * buf![i]) : [...buf];
    }
    const lr = lrAt(t);
    for (let i = 0; i < p.length; i++) p[i] -= lr * g[i];
    history.push([...p]);
  }
  return history;
}

interface AdamCfg { lr: number; betas?: [number, number]; eps?: number; weightDecay?: number }

function refAdam(cfg: AdamCfg, steps: number, decoupled: boolean, defaultDecay: number): number[][] {
  const [b1, b2] = cfg.betas ?? [0.9, 0.999];
  const eps = cfg.eps ?? 1e-8;
  const wd = cfg.weightDecay ?? defaultDecay;
  const lr = cfg.lr;
  const p = [...P0];
  const m = new Array(p.length).fill(0);
  const v = new Array(p.length).fill(0);
  const history: number[][] = [];
  for (let t = 1; t <= steps; t++) {
    let g = refGrad(p);
    if (decoupled) for (let i = 0; i < p.length; i++) p[i] -= lr * wd * p[i];
    else if (wd !== 0) g = g.map((gi, i) => gi + wd * p[i]);
    for (let i = 0; i < p.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const mHat = m[i] / (1 - b1 ** t);
      const vHat = v[i] / (1 - b2 ** t);
      p[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
    history.push([...p]);
  }
  return history;
}

/** Runs `steps` optimizer steps on the objective, returning the parameters after each. */
function run(opt: { step(): void; zeroGrad(): void }, params: Tensor[], steps: number, beforeStep?: (t: number) => void): number[][] {
  const history: number[][] = [];
  for (let t = 1; t <= steps; t++) {
    opt.zeroGrad();
    lossOf(params).backward();
    beforeStep?.(t);
    opt.step();
    history.push(flat(params));
  }
  return history;
}

const STEPS = 8;

describe('SGD vs the documented update rule', () => {
  const configs: [string, SgdCfg][] = [
    ['plain', { lr: 0.05 }],
    ['momentum', { lr: 0.02, momentum: 0.9 }],
    ['momentum with dampening', { lr: 0.02, momentum: 0.9, dampening: 0.3 }],
    ['nesterov', { lr: 0.02, momentum: 0.9, nesterov: true }],
    ['weight decay', { lr: 0.05, weightDecay: 0.1 }],
    ['momentum + weight decay + nesterov', { lr: 0.02, momentum: 0.8, weightDecay: 0.05, nesterov: true }],
  ];
  for (const [name, cfg] of configs) {
    test(name, () => {
      const params = makeParams();
      const got = run(new SGD(params, cfg), params, STEPS);
      const ref = refSgd(cfg, STEPS);
      for (let t = 0; t < STEPS; t++) assertClose(got[t], ref[t], 1e-12, `${name}, step ${t + 1}`);
      // The objective is convex with a minimum away from P0, so the parameters did move.
      ok(Math.abs(got[STEPS - 1][0] - P0[0]) > 1e-3);
    });
  }
  test('float32 parameters follow the same path to float32 accuracy', () => {
    const params = makeParams('float32');
    const cfg = { lr: 0.02, momentum: 0.9 };
    const got = run(new SGD(params, cfg), params, STEPS);
    const ref = refSgd(cfg, STEPS);
    assertClose(got[STEPS - 1], ref[STEPS - 1], 1e-4, 'float32');
  });
  test('a learning rate changed between steps takes effect at the next step (schedules)', () => {
    const params = makeParams();
    const cfg = { lr: 0.02, momentum: 0.9 };
    const opt = new SGD(params, cfg);
    const lrAt = (t: number) => (t <= 3 ? 0.02 : 0.005);
    const got = run(opt, params, STEPS, (t) => { opt.lr = lrAt(t); });
    const ref = refSgd(cfg, STEPS, lrAt);
    for (let t = 0; t < STEPS; t++) assertClose(got[t], ref[t], 1e-12, `step ${t + 1}`);
  });
  test('the default learning rate is 0.001 and momentum 0', () => {
    const params = makeParams();
    run(new SGD(params), params, 1);
    assertClose(flat(params), refSgd({ lr: 0.001 }, 1)[0], 1e-12, 'defaults');
  });
});

describe('SGD over a whole parameter group in one kernel call (sgdStepMany)', () => {
  // Sizes on both sides of the wasm kernel's threshold (4,096 elements; smaller ones take the reference loop there).
  const SIZES = [1, 7, 64, 4095, 4096, 36_864, 10_003];
  const CONFIGS: Omit<SgdStepParams, 'first'>[] = [
    { lr: 0.05, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
    { lr: 0.02, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false },
    { lr: 0.02, momentum: 0.9, dampening: 0.3, weightDecay: 0, nesterov: false },
    { lr: 0.02, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: true },
    { lr: 0.05, momentum: 0, dampening: 0, weightDecay: 0.1, nesterov: false },
    { lr: 0.01, momentum: 0.8, dampening: 0, weightDecay: 5e-4, nesterov: true },
  ];
  const copy = (arrays: (FloatArray | null)[]) => arrays.map((a) => (a === null ? null : a.slice()));

  for (const dtype of ['float32', 'float64'] as const) {
    test(`${getBackend().name}, ${dtype}: each parameter ends bit for bit as sgdStep leaves it, over 5 steps of every setting`, () => {
      const k = kernelsFor(dtype);
      const make = (n: number, seed: number) => (dtype === 'float64' ? Float64Array.from(uniformArray(n, seed)) : uniformArray(n, seed));
      for (const [c, cfg] of CONFIGS.entries()) {
        const w0 = SIZES.map((n, i) => make(n, 10 * c + i));
        const many = { w: copy(w0) as FloatArray[], buf: SIZES.map((n) => (cfg.momentum === 0 ? null : make(n, 0).fill(0))) };
        const one = { w: copy(w0) as FloatArray[], buf: copy(many.buf) };
        for (let step = 0; step < 5; step++) {
          const grads = SIZES.map((n, i) => make(n, 1000 * (step + 1) + i));
          const p = { ...cfg, first: step === 0 };
          k.sgdStepMany(many.w, grads, many.buf, p);
          for (let i = 0; i < SIZES.length; i++) k.sgdStep(one.w[i], grads[i], one.buf[i], p);
          for (let i = 0; i < SIZES.length; i++) {
            assert.deepEqual(many.w[i], one.w[i], `weights of parameter ${i} (${SIZES[i]} elements), step ${step + 1} of ${JSON.stringify(cfg)}`);
            assert.deepEqual(many.buf[i], one.buf[i], `momentum buffer of parameter ${i}, step ${step + 1} of ${JSON.stringify(cfg)}`);
          }
        }
        // the steps moved every parameter (a kernel that did nothing would match one that did nothing too)
        for (let i = 0; i < SIZES.length; i++) ok(many.w[i].some((v, j) => v !== w0[i][j]), `parameter ${i} did not move under ${JSON.stringify(cfg)}`);
      }
    });
  }

  test(`${getBackend().name}: SGD.step over float32 layers equals the per-parameter update bit for bit, with momentum, nesterov and weight decay, a parameter joining late`, () => {
    // A subclass with an update() of its own takes the per-parameter loop (one sgdStep per parameter).
    class PerParameterSGD extends SGD {
      protected override update(p: Tensor, grad: FloatArray, group: SGD['paramGroups'][number]): void {
        super.update(p, grad, group);
      }
    }
    for (const cfg of [{ lr: 0.01, momentum: 0.9 }, { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 5e-4 }, { lr: 0.03, momentum: 0.5, dampening: 0.2 }, { lr: 0.05 }]) {
      const shapes = [[64, 64, 3, 3], [64], [10, 64], [10], [3, 3]];
      const build = () => shapes.map((s, i) => tensor(uniformArray(s.reduce((a, b) => a * b, 1), 50 + i), s, { requiresGrad: true }));
      const a = build();
      const b = build();
      const optA = new SGD(a, cfg);
      const optB = new PerParameterSGD(b, cfg);
      for (let step = 0; step < 4; step++) {
        for (const [params, opt] of [[a, optA], [b, optB]] as const) {
          opt.zeroGrad();
          params.forEach((p, i) => {
            // the last parameter has no gradient at the first step: its momentum buffer starts one step late
            if (i === params.length - 1 && step === 0) return;
            p.grad = tensor(uniformArray(p.size, 900 + 10 * step + i), p.shape);
          });
          opt.step();
        }
        a.forEach((p, i) => assert.deepEqual(p.data, b[i].data, `parameter ${i} after step ${step + 1} of ${JSON.stringify(cfg)}`));
      }
      assert.deepEqual(optA.stateDict(), optB.stateDict(), `optimizer state of ${JSON.stringify(cfg)}`);
    }
  });
});

describe('Adam and AdamW vs the documented update rules', () => {
  const configs: [string, AdamCfg][] = [
    ['lr 0.05, default betas', { lr: 0.05 }],
    ['custom betas and eps', { lr: 0.03, betas: [0.8, 0.9], eps: 1e-4 }],
    ['weight decay', { lr: 0.05, weightDecay: 0.1 }],
  ];
  for (const [name, cfg] of configs) {
    test(`Adam: ${name} (L2 weight decay added to the gradient)`, () => {
      const params = makeParams();
      const got = run(new Adam(params, cfg), params, STEPS);
      const ref = refAdam(cfg, STEPS, false, 0);
      for (let t = 0; t < STEPS; t++) assertClose(got[t], ref[t], 1e-12, `${name}, step ${t + 1}`);
    });
    test(`AdamW: ${name} (decoupled weight decay, default 0.01)`, () => {
      const params = makeParams();
      const got = run(new AdamW(params, cfg), params, STEPS);
      const ref = refAdam(cfg, STEPS, true, 0.01);
      for (let t = 0; t < STEPS; t++) assertClose(got[t], ref[t], 1e-12, `${name}, step ${t + 1}`);
    });
  }
  test('Adam and AdamW differ when weight decay is on', () => {
    const p1 = makeParams();
    const p2 = makeParams();
    run(new Adam(p1, { lr: 0.05, weightDecay: 0.5 }), p1, 3);
    run(new AdamW(p2, { lr: 0.05, weightDecay: 0.5 }), p2, 3);
    assert.notDeepEqual(flat(p1), flat(p2));
  });
  test("Adam's first step moves each entry by about lr (bias correction)", () => {
    const params = makeParams();
    run(new Adam(params, { lr: 0.01 }), params, 1);
    const g = refGrad(P0);
    flat(params).forEach((v, i) => ok(Math.abs(v - (P0[i] - 0.01 * Math.sign(g[i]))) < 1e-7));
  });
});

describe('zeroGrad and parameters without gradients', () => {
  test('zeroGrad clears every gradient', () => {
    const params = makeParams();
    const opt = new SGD(params, { lr: 0.1 });
    lossOf(params).backward();
    ok(params.every((p) => p.grad !== null));
    opt.zeroGrad();
    ok(params.every((p) => p.grad === null));
  });
  test('without zeroGrad gradients accumulate, and the step uses the sum', () => {
    const params = makeParams();
    const opt = new SGD(params, { lr: 0.01 });
    lossOf(params).backward();
    lossOf(params).backward();
    opt.step();
    const g = refGrad(P0);
    assertClose(flat(params), P0.map((v, i) => v - 0.01 * 2 * g[i]), 1e-12, 'accumulated');
  });
  test('SGD with momentum: a parameter without .grad is left alone and its buffer not started', () => {
    const a = tensor([1, 2], undefined, { dtype: 'float64', requiresGrad: true });
    const b = tensor([3], undefined, { dtype: 'float64', requiresGrad: true });
    const opt = new SGD([a, b], { lr: 0.1, momentum: 0.9 });
    // Steps 1-2: only a has a gradient (d/da sum(a^2) = 2a).
    for (let t = 0; t < 2; t++) {
      opt.zeroGrad();
      sum(mul(a, a)).backward();
      opt.step();
    }
    assert.deepEqual(Array.from(b.data), [3]);
    // Step 3: b gets its first gradient, 2b = 6; its buffer starts at that gradient: b = 3 - 0.1 * 6.
    opt.zeroGrad();
    sum(mul(b, b)).backward();
    opt.step();
    ok(Math.abs(b.data[0] - 2.4) < 1e-12);
  });
  test('Adam: a skipped parameter keeps its own step count for bias correction', () => {
    const a = tensor([1], undefined, { dtype: 'float64', requiresGrad: true });
    const b = tensor([3], undefined, { dtype: 'float64', requiresGrad: true });
    const opt = new Adam([a, b], { lr: 0.1 });
    for (let t = 0; t < 3; t++) {
      opt.zeroGrad();
      sum(mul(a, a)).backward();
      opt.step();
    }
    assert.equal(b.data[0], 3);
    opt.zeroGrad();
    sum(mul(b, b)).backward();
    opt.step();
    // b's first update is bias-corrected as step 1: it moves by lr * g / (|g| + eps) ~ 0.1.
    ok(Math.abs(b.data[0] - (3 - 0.1)) < 1e-6, `b = ${b.data[0]}`);
  });
  test('an optimizer can be given a module', () => {
    const l = new Linear(2, 1);
    const opt = new SGD(l, { lr: 0.5 });
    assert.deepEqual(opt.params, [l.weight, l.bias]);
  });
});

describe('training LeNet-5', () => {
  test('the loss on a fixed random batch falls over 20 SGD steps, below what the label frequencies alone give', () => {
    const g = new Generator(2024);
    const model = new LeNet5({ generator: g });
    const x = randn([16, 1, 28, 28], { generator: g });
    const labels = Array.from({ length: 16 }, () => g.randint(10));
    const opt = new SGD(model, { lr: 0.05, momentum: 0.9 });
    const losses: number[] = [];
    for (let step = 0; step < 20; step++) {
      opt.zeroGrad();
      const loss = crossEntropy(model.forward(x), labels);
      losses.push(loss.item());
      loss.backward();
      opt.step();
    }
    const final = noGrad(() => crossEntropy(model.forward(x), labels).item());
    // Ten classes: the untrained loss is near log(10) ~ 2.30.
    ok(Math.abs(losses[0] - Math.log(10)) < 0.3, `initial loss ${losses[0]}`);
    // Early steps go steadily down (momentum builds up along a consistent gradient).
    for (let i = 1; i < 8; i++) ok(losses[i] < losses[i - 1], `step ${i}: ${losses[i - 1]} -> ${losses[i]}`);
    // Predicting the label frequencies alone gives their entropy; the network does better:
    // it tells the inputs apart.
    const counts = new Map<number, number>();
    for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    let entropy = 0;
    for (const c of counts.values()) entropy -= (c / 16) * Math.log(c / 16);
    ok(final < entropy, `final loss ${final}, label entropy ${entropy}`);
    ok(final < 0.85 * losses[0], `loss ${losses[0]} -> ${final}`);
  });
  test('one small step along the gradient lowers the loss of a linear model (first-order check)', () => {
    const g = new Generator(7);
    const l = new Linear(5, 3, { generator: g });
    const x = randn([10, 5], { generator: g });
    const labels = Array.from({ length: 10 }, () => g.randint(3));
    const loss0 = crossEntropy(l.forward(x), labels);
    loss0.backward();
    let gradNorm2 = 0;
    for (const p of l.parameters()) for (const v of p.grad!.data) gradNorm2 += v * v;
    const lr = 1e-3;
    new SGD(l, { lr }).step();
    const loss1 = noGrad(() => crossEntropy(l.forward(x), labels).item());
    // L(p - lr g) ~ L(p) - lr |g|^2.
    const predicted = loss0.item() - lr * gradNorm2;
    ok(Math.abs(loss1 - predicted) < 0.05 * lr * gradNorm2 + 1e-6, `${loss1} vs ${predicted}`);
  });
});

describe('optimizers', () => {
  const p = () => zeros([2], { requiresGrad: true });
  test('negative or non-finite learning rate', () => {
    throwsWith(() => new SGD([p()], { lr: -0.1 }), ValueError, /SGD: lr must be a finite number >= 0, got -0\.1/);
    throwsWith(() => new Adam([p()], { lr: NaN }), ValueError, /Adam: lr/, /NaN/);
  });
  test('other hyperparameters out of range', () => {
    throwsWith(() => new Adam([p()], { betas: [1, 0.999] }), ValueError, /betas\[0\] must be in \[0, 1\), got 1/);
    throwsWith(() => new AdamW([p()], { eps: -1 }), ValueError, /AdamW: eps/, /-1/);
    throwsWith(() => new SGD([p()], { lr: 0.1, momentum: -0.5 }), ValueError, /momentum/, /-0\.5/);
    throwsWith(() => new SGD([p()], { lr: 0.1, nesterov: true }), ValueError, /nesterov needs momentum > 0 and dampening 0/);
    throwsWith(() => new SGD([p()], { lr: 0.1, weight_decay: 0.1 } as any), ValueError, /unknown option 'weight_decay'/, /weightDecay/);
  });
  test('empty parameter lists and non-leaf parameters (frozen leaves are accepted, as in PyTorch)', () => {
    throwsWith(() => new SGD([], { lr: 0.1 }), ValueError, /empty parameter list/);
    const computed = zeros([3, 2], { requiresGrad: true }).mul(2);
    throwsWith(() => new SGD([computed], { lr: 0.1 }), ValueError, /parameter 0/, /\[3, 2\]/, /not a leaf/);
    const frozen = zeros([3, 2]);
    const opt = new SGD([frozen], { lr: 0.1 });
    opt.step();
    assert.deepEqual(Array.from(frozen.data), [0, 0, 0, 0, 0, 0]);
  });
});
