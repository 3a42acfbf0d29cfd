/**
 * Optimizer parameter groups (per-group hyper-parameters, as PyTorch's
 * param_groups), stateDict / loadStateDict (training resumes exactly), and
 * gradient clipping (clipGradNorm, clipGradValue), against hand computations
 * and the update rules written out here.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { Generator, Tensor, ShapeError, ValueError, tensor, randn, LeNet5 } from '../../../src/index.js';
import { type LRScheduler } from '../../../src/optim/index.js';
import { sum, mul, crossEntropy } from '../../../src/ops/index.js';
import { SGD, Adam, AdamW, StepLR, OneCycleLR, clipGradNorm, clipGradValue, type Optimizer } from '../../../src/optim/index.js';
import { Linear, Sequential, ReLU } from '../../../src/nn/index.js';
import { assertClose, ok, throwsWith } from '../../helpers/index.js';

const f64 = (values: number[]) => tensor(values, undefined, { dtype: 'float64', requiresGrad: true });
const arr = (t: Tensor) => Array.from(t.data);

/** One step on L = sum(p^2) / 2 over all params (so grad = p). */
function quadStep(opt: Optimizer, params: Tensor[]): void {
  opt.zeroGrad();
  let loss: Tensor = tensor(0, undefined, { dtype: 'float64' });
  for (const p of params) loss = loss.add(sum(mul(p, p)).mul(0.5));
  loss.backward();
  opt.step();
}

describe('parameter groups', () => {
  test('each group uses its own lr and momentum (hand computation on L = |p|^2 / 2)', () => {
    const a = f64([1, -2]);
    const b = f64([4]);
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.5, momentum: 0.9 }], { lr: 0.1 });
    quadStep(opt, [a, b]);
    quadStep(opt, [a, b]);
    // a: plain SGD lr 0.1 twice: a * 0.9^2.
    assertClose(arr(a), [0.81, -1.62], 1e-12, 'a');
    // b: buf1 = 4, b1 = 4 - 0.5 * 4 = 2; buf2 = 0.9 * 4 + 2 = 5.6, b2 = 2 - 0.5 * 5.6 = -0.8.
    assertClose(arr(b), [-0.8], 1e-12, 'b');
  });

  test('paramGroups holds every resolved setting; unset ones come from the defaults', () => {
    const a = f64([1]);
    const b = f64([2]);
    const opt = new SGD([{ params: [a], weightDecay: 0.01 }, { params: [b], lr: 0.2 }], { lr: 0.05, momentum: 0.9 });
    assert.equal(opt.paramGroups.length, 2);
    const [g0, g1] = opt.paramGroups;
    assert.deepEqual({ ...g0, params: g0.params.length }, { params: 1, lr: 0.05, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0.01 });
    assert.deepEqual({ ...g1, params: g1.params.length }, { params: 1, lr: 0.2, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0 });
    assert.deepEqual(opt.params, [a, b]);
    // lr reads the first group; setting it sets every group.
    assert.equal(opt.lr, 0.05);
    opt.lr = 0.3;
    assert.deepEqual(opt.paramGroups.map((g) => g.lr), [0.3, 0.3]);
    // A group's lr can be changed on its own between steps.
    opt.paramGroups[1].lr = 0;
    quadStep(opt, [a, b]);
    assert.equal(b.data[0], 2);
    ok(a.data[0] !== 1, 'a moved');
  });

  test('the old forms make one group: a module, a list of tensors', () => {
    const l = new Linear(3, 2);
    const opt = new SGD(l, { lr: 0.1 });
    assert.equal(opt.paramGroups.length, 1);
    assert.deepEqual(opt.paramGroups[0].params, [l.weight, l.bias]);
    assert.equal(new Adam(l.parameters()).paramGroups[0].lr, 0.001);
    assert.equal(new AdamW([l.weight]).paramGroups[0].weightDecay, 0.01);
  });

  test('fine-tuning: a frozen backbone at lr 0 next to a trained head, and a group added later', () => {
    const g = new Generator(5);
    const backbone = new Linear(4, 4, { generator: g });
    const head = new Linear(4, 2, { generator: g });
    const opt = new Adam([{ params: backbone, lr: 0 }, { params: head }], { lr: 0.01 });
    const before = arr(backbone.weight);
    const x = randn([3, 4], { generator: g });
    opt.zeroGrad();
    crossEntropy(head.forward(backbone.forward(x)), [0, 1, 1]).backward();
    opt.step();
    assert.deepEqual(arr(backbone.weight), before);
    const extra = new Linear(2, 2, { generator: g });
    const added = opt.addParamGroup({ params: extra, lr: 0.5, betas: [0.5, 0.9] });
    assert.equal(added.lr, 0.5);
    assert.deepEqual(added.betas, [0.5, 0.9]);
    assert.equal(added.eps, 1e-8);
    assert.equal(opt.paramGroups.length, 3);
  });

  test('Adam groups: weight decay in one group only, checked against the update rule', () => {
    const a = f64([1]);
    const b = f64([1]);
    const opt = new Adam([{ params: [a] }, { params: [b], weightDecay: 0.5 }], { lr: 0.1 });
    quadStep(opt, [a, b]);
    // First Adam step moves by lr * g / (|g| + eps) ~ lr whatever g is, so both move by 0.1 ...
    assertClose(arr(a), [0.9], 1e-6, 'a');
    assertClose(arr(b), [0.9], 1e-6, 'b');
    quadStep(opt, [a, b]);
    // ... the second differs: g_a = 0.9, g_b = 0.9 + 0.5 * 0.9 = 1.35.
    const adam2 = (g1: number, g2: number) => {
      const m = 0.9 * 0.1 * g1 + 0.1 * g2;
      const v = 0.999 * 0.001 * g1 * g1 + 0.001 * g2 * g2;
      return (0.1 / (1 - 0.81)) * m / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** 2) + 1e-8);
    };
    assertClose(arr(a), [0.9 - adam2(1, 0.9)], 1e-9, 'a step 2');
    assertClose(arr(b), [0.9 - adam2(1.5, 1.35)], 1e-9, 'b step 2');
  });

  test('a layer used twice is updated once per step', () => {
    const shared = new Linear(2, 2);
    const model = new Sequential(shared, new ReLU(), shared);
    const opt = new SGD(model, { lr: 1 });
    assert.equal(opt.params.length, 2);
    shared.weight.grad = new Tensor(new Float32Array([1, 1, 1, 1]), [2, 2]);
    const w0 = arr(shared.weight);
    opt.step();
    assertClose(arr(shared.weight), w0.map((v) => v - 1), 1e-6, 'one update');
  });

  test('errors name the group, the setting and the rule', () => {
    const a = f64([1]);
    throwsWith(() => new SGD([{ params: [a] }, { params: [a], lr: 0.1 }]), ValueError, /SGD \(param group 1\): parameter 0/, /already in another parameter group/);
    throwsWith(() => new SGD([{ params: [a], learningRate: 0.1 } as any]), ValueError, /SGD \(param group 0\): unknown option 'learningRate'/, /lr, momentum/);
    throwsWith(() => new SGD([{ params: [f64([1])] }, { params: [f64([2])], momentum: -1 }], { lr: 0.1 }), ValueError, /SGD \(param group 1\): momentum must be in \[0, Infinity\], got -1/);
    throwsWith(() => new Adam([{ params: [a], betas: [0.9, 1] }]), ValueError, /Adam \(param group 0\): betas\[1\] must be in \[0, 1\), got 1/);
    throwsWith(() => new SGD([{ params: [] }, { params: [] }]), ValueError, /empty parameter list/);
    throwsWith(() => new SGD([a], { lr: 0.1 }).addParamGroup({ params: [f64([1])], nesterov: true }), ValueError, /SGD \(param group 1\): nesterov needs momentum > 0/);
    throwsWith(() => { new SGD([a]).lr = -1; }, ValueError, /SGD: lr must be a finite number >= 0, got -1/);
  });
});

// ---------------------------------------------------------------------------
// Resuming

type Build = (model: LeNet5) => { opt: Optimizer; sched?: LRScheduler };

function batch(step: number): { x: Tensor; y: number[] } {
  const g = new Generator(100 + step);
  return { x: randn([4, 1, 28, 28], { generator: g }), y: [0, 1, 2, 3].map(() => g.randint(10)) };
}

function train(model: LeNet5, opt: Optimizer, sched: LRScheduler | undefined, from: number, to: number): void {
  for (let s = from; s < to; s++) {
    const { x, y } = batch(s);
    opt.zeroGrad();
    crossEntropy(model.forward(x), y).backward();
    opt.step();
    sched?.step();
  }
}

const snapshot = (state: Record<string, Tensor>) => Object.fromEntries(Object.entries(state).map(([k, t]) => [k, new Tensor(t.data.slice(), t.shape)]));

function resumes(name: string, build: Build): void {
  test(`${name}: 4 steps equal 2 steps, save, load into fresh objects, 2 more (bit for bit)`, () => {
    const straight = new LeNet5({ generator: new Generator(1) });
    const a = build(straight);
    train(straight, a.opt, a.sched, 0, 4);

    const first = new LeNet5({ generator: new Generator(1) });
    const b = build(first);
    train(first, b.opt, b.sched, 0, 2);
    const saved = { model: snapshot(first.stateDict()), opt: b.opt.stateDict(), sched: b.sched?.stateDict() };
    // More training on the first objects must not change what was saved (a snapshot).
    train(first, b.opt, b.sched, 2, 3);

    const resumed = new LeNet5({ generator: new Generator(77) });
    const c = build(resumed);
    resumed.loadStateDict(saved.model);
    c.opt.loadStateDict(saved.opt);
    if (c.sched && saved.sched) c.sched.loadStateDict(saved.sched);
    train(resumed, c.opt, c.sched, 2, 4);

    for (const [k, t] of Object.entries(straight.stateDict())) {
      assert.deepEqual(arr(resumed.stateDict()[k]), arr(t), `${k} differs`);
    }
    assert.equal(c.opt.stepCount, 4);
    assert.deepEqual(c.opt.paramGroups.map((g) => g.lr), a.opt.paramGroups.map((g) => g.lr));
    // Without loading the optimizer state the result differs (the state matters).
    const fresh = new LeNet5({ generator: new Generator(77) });
    const d = build(fresh);
    fresh.loadStateDict(saved.model);
    train(fresh, d.opt, d.sched, 2, 4);
    ok(arr(fresh.stateDict()['fc3.weight']).some((v, i) => v !== straight.stateDict()['fc3.weight'].data[i]), 'fresh optimizer state gives a different result');
  });
}

describe('stateDict / loadStateDict: training resumes exactly', () => {
  resumes('SGD with momentum, nesterov and weight decay, two groups', (m) => ({
    opt: new SGD([{ params: [m.conv1.weight, m.conv1.bias!] , lr: 0.02 }, { params: m.parameters().slice(2), nesterov: true }], { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 }),
  }));
  resumes('Adam', (m) => ({ opt: new Adam(m, { lr: 2e-3 }) }));
  resumes('AdamW with a StepLR scheduler stepped per batch', (m) => {
    const opt = new AdamW(m, { lr: 3e-3 });
    return { opt, sched: new StepLR(opt, { stepSize: 2, gamma: 0.5 }) };
  });
  resumes('SGD with OneCycleLR (lr and momentum cycled)', (m) => {
    const opt = new SGD(m, { lr: 0.01, momentum: 0.9 });
    return { opt, sched: new OneCycleLR(opt, { maxLr: 0.05, totalSteps: 6 }) };
  });

  test('the dictionary: state per parameter position, group settings with positions, step count', () => {
    const a = f64([1, 2]);
    const b = f64([3]);
    const opt = new Adam([{ params: [a] }, { params: [b], lr: 0.5 }]);
    a.grad = new Tensor(new Float64Array([1, 1]), [2]);
    opt.step();
    const sd = opt.stateDict();
    assert.deepEqual(Object.keys(sd.state), ['0']);
    assert.equal(sd.state[0].step, 1);
    ok(sd.state[0].expAvg instanceof Tensor, 'expAvg is a tensor');
    assertClose(arr(sd.state[0].expAvg as Tensor), [0.1, 0.1], 1e-12, 'expAvg');
    assertClose(arr(sd.state[0].expAvgSq as Tensor), [0.001, 0.001], 1e-12, 'expAvgSq');
    assert.deepEqual(sd.paramGroups, [
      { lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, params: [0] },
      { lr: 0.5, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, params: [1] },
    ]);
    assert.equal(sd.stepCount, 1);
    // Loading sets the group settings from the dictionary.
    const other = new Adam([{ params: [f64([0, 0])] }, { params: [f64([0])] }], { lr: 0.2 });
    other.loadStateDict(sd);
    assert.deepEqual(other.paramGroups.map((g) => g.lr), [0.001, 0.5]);
  });

  test('loadStateDict errors: group and parameter counts, shapes, another optimizer kind', () => {
    const a = f64([1, 2]);
    const opt = new SGD([a], { lr: 0.1, momentum: 0.9 });
    a.grad = new Tensor(new Float64Array([1, 1]), [2]);
    opt.step();
    const sd = opt.stateDict();
    throwsWith(() => new SGD([{ params: [f64([1, 2])] }, { params: [f64([1])] }]).loadStateDict(sd), ValueError, /1 parameter group\(s\) but this optimizer has 2/);
    throwsWith(() => new SGD([f64([1, 2]), f64([3])]).loadStateDict(sd), ValueError, /parameter group 0 holds 1 parameter\(s\) in the state but 2 here/);
    throwsWith(() => new SGD([f64([1, 2, 3])]).loadStateDict(sd), ShapeError, /state 'momentumBuffer' of parameter 0 has shape \[2\] but the parameter has \[3\]/);
    throwsWith(() => new Adam([f64([1, 2])]).loadStateDict(sd), ValueError, /unknown option 'momentum'/);
    throwsWith(() => new SGD([f64([1, 2])]).loadStateDict({} as any), ValueError, /expected \{ state, paramGroups, stepCount \}/);
  });
});

describe('clipGradNorm and clipGradValue', () => {
  function withGrads(...grads: number[][]): Tensor[] {
    return grads.map((g) => {
      const p = tensor(new Array(g.length).fill(0), undefined, { requiresGrad: true, dtype: 'float64' });
      p.grad = tensor(g, undefined, { dtype: 'float64' });
      return p;
    });
  }

  test('the 2-norm over all gradients: (3, 4) and (12) have norm 13; scaled to maxNorm', () => {
    const ps = withGrads([3, 4], [12]);
    assert.equal(clipGradNorm(ps, 6.5), 13);
    const c = 6.5 / (13 + 1e-6);
    assertClose(arr(ps[0].grad!), [3 * c, 4 * c], 1e-12, 'first');
    assertClose(arr(ps[1].grad!), [12 * c], 1e-12, 'second');
    // Below the limit nothing changes.
    const qs = withGrads([3, 4], [12]);
    assert.equal(clipGradNorm(qs, 20), 13);
    assert.deepEqual(arr(qs[0].grad!), [3, 4]);
  });

  test('other norms: 1-norm 19, max norm 12; parameters without gradients are skipped', () => {
    assert.equal(clipGradNorm(withGrads([3, -4], [12]), 100, 1), 19);
    const ps = withGrads([3, -4], [12]);
    ps.push(tensor([5], undefined, { requiresGrad: true }));
    assert.equal(clipGradNorm(ps, 6, Infinity), 12);
    assertClose(arr(ps[0].grad!), [3 * (6 / (12 + 1e-6)), -4 * (6 / (12 + 1e-6))], 1e-12, 'inf-norm scaling');
    assert.equal(clipGradNorm([tensor([1], undefined, { requiresGrad: true })], 1), 0);
    // A module works too.
    const l = new Linear(2, 1);
    l.weight.grad = tensor([[6, 8]]);
    l.bias!.grad = tensor([0]);
    assert.equal(clipGradNorm(l, 1), 10);
    assertClose(arr(l.weight.grad), [0.6, 0.8], 1e-6, 'module');
  });

  test('a non-finite norm: NaN gradients as PyTorch, or an error with errorIfNonfinite', () => {
    const ps = withGrads([NaN, 1]);
    ok(Number.isNaN(clipGradNorm(ps, 1)), 'NaN norm');
    ok(Number.isNaN(ps[0].grad!.data[1]), 'NaN spreads');
    throwsWith(() => clipGradNorm(withGrads([Infinity]), 1, 2, { errorIfNonfinite: true }), ValueError, /total norm of order 2 of the gradients is Infinity/);
  });

  test('clipGradValue clamps each entry', () => {
    const ps = withGrads([-3, 0.5, 2]);
    clipGradValue(ps, 1);
    assert.deepEqual(arr(ps[0].grad!), [-1, 0.5, 1]);
  });

  test('argument errors', () => {
    throwsWith(() => clipGradNorm(withGrads([1]), -1), ValueError, /maxNorm must be a number >= 0, got -1/);
    throwsWith(() => clipGradNorm(withGrads([1]), 1, 0), ValueError, /normType must be a number > 0 or Infinity/, /got 0/);
    throwsWith(() => clipGradValue(withGrads([1]), -0.5), ValueError, /clipValue must be a number >= 0/, /-0\.5/);
    throwsWith(() => clipGradValue(42 as any, 1), ValueError, /params must be a Tensor, a list of tensors or a Module/);
    throwsWith(() => clipGradNorm([1] as any, 1), ValueError, /parameter 0 is not a Tensor/);
  });
});
