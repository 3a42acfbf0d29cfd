/**
 * Learning-rate schedulers against their closed forms (PyTorch's formulas,
 * computed here): StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR,
 * LinearLR, OneCycleLR (lr and momentum); per-group base lrs; two schedulers
 * composing on one optimizer; a hand-set lr carrying on; fit driven by a
 * scheduler from its callbacks; state dicts; argument errors.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { Generator, Tensor, ValueError, tensor, fit, lrMultiplier } from '../../src/index.js';
import { type LRScheduler } from '../../src/optim/index.js';
import { Linear, Module } from '../../src/nn/index.js';
import { SGD, Adam, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR, OneCycleLR } from '../../src/optim/index.js';
import { assertClose, throwsWith } from '../helpers/index.js';

const param = () => tensor([0], undefined, { requiresGrad: true });
const sgd = (lr = 1, momentum = 0) => new SGD([param()], { lr, momentum });

/** The lr after the constructor and after each of `steps` step() calls: index e is epoch e. */
function trace(s: LRScheduler, steps: number, group = 0): number[] {
  const out = [s.getLastLr()[group]];
  for (let e = 1; e <= steps; e++) {
    s.step();
    out.push(s.getLastLr()[group]);
    assert.equal(s.optimizer.paramGroups[group].lr, out[e], 'getLastLr is the group lr');
  }
  return out;
}

const epochs = (n: number) => Array.from({ length: n + 1 }, (_, e) => e);

describe('schedulers follow their closed forms', () => {
  test('StepLR: base * gamma^floor(e / stepSize)', () => {
    assertClose(trace(new StepLR(sgd(0.5), { stepSize: 3 }), 10), epochs(10).map((e) => 0.5 * 0.1 ** Math.floor(e / 3)), 1e-12, 'StepLR');
    assertClose(trace(new StepLR(sgd(1), { stepSize: 1, gamma: 0.5 }), 4), [1, 0.5, 0.25, 0.125, 0.0625], 0, 'halving');
  });

  test('MultiStepLR: base * gamma^(milestones <= e); a repeated milestone counts twice', () => {
    const expected = epochs(8).map((e) => 0.5 ** [2, 5, 5].filter((m) => m <= e).length);
    assertClose(trace(new MultiStepLR(sgd(1), { milestones: [2, 5, 5], gamma: 0.5 }), 8), expected, 1e-12, 'MultiStepLR');
  });

  test('ExponentialLR: base * gamma^e', () => {
    assertClose(trace(new ExponentialLR(sgd(0.2), { gamma: 0.9 }), 12), epochs(12).map((e) => 0.2 * 0.9 ** e), 1e-12, 'ExponentialLR');
  });

  test('CosineAnnealingLR: etaMin + (base - etaMin)(1 + cos(pi e / tMax)) / 2, also past tMax (rising again)', () => {
    const expected = epochs(30).map((e) => 0.01 + (0.1 - 0.01) * (1 + Math.cos((Math.PI * e) / 10)) / 2);
    assertClose(trace(new CosineAnnealingLR(sgd(0.1), { tMax: 10, etaMin: 0.01 }), 30), expected, 1e-9, 'cosine');
    const half = trace(new CosineAnnealingLR(sgd(1), { tMax: 4 }), 4);
    assertClose(half, [1, (1 + Math.SQRT1_2) / 2, 0.5, (1 - Math.SQRT1_2) / 2, 0], 1e-12, 'by hand');
  });

  test('LinearLR: base * (start + (end - start) min(e, totalIters) / totalIters); defaults 1/3 -> 1 over 5', () => {
    assertClose(trace(new LinearLR(sgd(0.4), { startFactor: 0.25, totalIters: 4 }), 7), epochs(7).map((e) => 0.4 * (0.25 + 0.75 * Math.min(e, 4) / 4)), 1e-12, 'warm-up');
    assertClose(trace(new LinearLR(sgd(0.3)), 6), epochs(6).map((e) => 0.3 * (1 / 3 + (2 / 3) * Math.min(e, 5) / 5)), 1e-12, 'defaults');
    assertClose(trace(new LinearLR(sgd(1), { startFactor: 1, endFactor: 0, totalIters: 4 }), 5), [1, 0.75, 0.5, 0.25, 0, 0], 1e-12, 'decay to 0');
  });

  test("fit's 'linear' and 'cosine' multipliers are LinearLR's and CosineAnnealingLR's closed forms", () => {
    const T = 8;
    assertClose(epochs(T - 1).map((t) => lrMultiplier('linear')(t, T)), trace(new LinearLR(sgd(1), { startFactor: 1, endFactor: 0, totalIters: T }), T - 1), 1e-12, 'linear');
    assertClose(epochs(T - 1).map((t) => lrMultiplier('cosine')(t, T)), trace(new CosineAnnealingLR(sgd(1), { tMax: T }), T - 1), 1e-12, 'cosine');
  });
});

describe('OneCycleLR', () => {
  // totalSteps 10, pctStart 0.3: phase 1 ends at step 0.3 * 10 - 1 = 2, phase 2 at 9.
  const cosAnneal = (a: number, b: number, pct: number) => b + ((a - b) / 2) * (1 + Math.cos(Math.PI * pct));
  const initial = 1 / 25;
  const final = initial / 1e4;

  test('lr: up from maxLr / 25 to maxLr over 30% of the steps, then down to that / 1e4 (cosine)', () => {
    const expected = epochs(9).map((e) => (e <= 2 ? cosAnneal(initial, 1, e / 2) : cosAnneal(1, final, (e - 2) / 7)));
    const s = new OneCycleLR(sgd(0.123, 0.9), { maxLr: 1, totalSteps: 10 });
    assertClose(trace(s, 9), expected, 1e-12, 'lr');
    assert.equal(s.optimizer.paramGroups[0].initialLr, initial);
  });

  test('momentum cycles inversely (SGD momentum, Adam beta1), 0.95 -> 0.85 -> 0.95', () => {
    const expected = epochs(9).map((e) => (e <= 2 ? cosAnneal(0.95, 0.85, e / 2) : cosAnneal(0.85, 0.95, (e - 2) / 7)));
    const opt = sgd(0.1, 0.9);
    const s = new OneCycleLR(opt, { maxLr: 1, totalSteps: 10 });
    const seen = [opt.paramGroups[0].momentum];
    for (let e = 1; e <= 9; e++) {
      s.step();
      seen.push(opt.paramGroups[0].momentum);
    }
    assertClose(seen, expected, 1e-12, 'SGD momentum');
    const adam = new Adam([param()], { betas: [0.9, 0.99] });
    new OneCycleLR(adam, { maxLr: 1, totalSteps: 10 });
    assert.deepEqual(adam.paramGroups[0].betas, [0.95, 0.99]);
    const still = sgd(0.1, 0.5);
    new OneCycleLR(still, { maxLr: 1, totalSteps: 10, cycleMomentum: false });
    assert.equal(still.paramGroups[0].momentum, 0.5);
  });

  test("linear annealing, epochs * stepsPerEpoch, three phases", () => {
    const lin = (a: number, b: number, pct: number) => a + (b - a) * pct;
    const expected = epochs(9).map((e) => (e <= 2 ? lin(initial, 1, e / 2) : lin(1, final, (e - 2) / 7)));
    assertClose(trace(new OneCycleLR(sgd(), { maxLr: 1, epochs: 2, stepsPerEpoch: 5, annealStrategy: 'linear' }), 9), expected, 1e-12, 'linear');
    // Three phases: up to step 2, back down to the start by step 2 * 3 - 2 = 4, then to the final lr at 9.
    const three = epochs(9).map((e) => (e <= 2 ? cosAnneal(initial, 1, e / 2) : e <= 4 ? cosAnneal(1, initial, (e - 2) / 2) : cosAnneal(initial, final, (e - 4) / 5)));
    assertClose(trace(new OneCycleLR(sgd(), { maxLr: 1, totalSteps: 10, threePhase: true }), 9), three, 1e-12, 'three phases');
  });

  test('one maxLr per group; stepping past totalSteps is an error', () => {
    const opt = new SGD([{ params: [param()] }, { params: [param()] }], { lr: 1, momentum: 0.9 });
    const s = new OneCycleLR(opt, { maxLr: [1, 0.1], totalSteps: 4, pctStart: 0.5 });
    assertClose(s.getLastLr(), [1 / 25, 0.1 / 25], 1e-12, "per-group start");
    for (let i = 0; i < 4; i++) s.step();
    throwsWith(() => s.step(), ValueError, /tried to step 5 times, but the cycle has 4 steps/);
  });
});

describe('groups, composition, hand-set lrs, state', () => {
  test('each group decays from its own base lr', () => {
    const opt = new SGD([{ params: [param()], lr: 1 }, { params: [param()], lr: 0.01 }]);
    const s = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
    assertClose(trace(s, 4, 1), [0.01, 0.01, 0.005, 0.005, 0.0025], 1e-12, 'group 1');
    assert.deepEqual(s.baseLrs, [1, 0.01]);
  });

  test('two schedulers on one optimizer compose (warm-up times exponential decay), as PyTorch', () => {
    const opt = sgd(1);
    const warm = new LinearLR(opt, { startFactor: 0.5, totalIters: 2 });
    const decay = new ExponentialLR(opt, { gamma: 0.9 });
    const seen = [opt.lr];
    for (let e = 1; e <= 5; e++) {
      warm.step();
      decay.step();
      seen.push(opt.lr);
    }
    assertClose(seen, epochs(5).map((e) => (0.5 + 0.5 * Math.min(e, 2) / 2) * 0.9 ** e), 1e-12, 'chained');
  });

  test('an lr set by hand carries on (recursive forms)', () => {
    const opt = sgd(1);
    const s = new StepLR(opt, { stepSize: 2, gamma: 0.1 });
    s.step();
    opt.lr = 0.5;
    s.step();
    assert.equal(opt.lr, 0.05);
  });

  test('state dicts resume a schedule: stateDict after 3 steps, a fresh scheduler continues identically', () => {
    const a = sgd(0.1);
    const sa = new CosineAnnealingLR(a, { tMax: 6, etaMin: 0.001 });
    for (let i = 0; i < 3; i++) sa.step();
    const saved = { opt: a.stateDict(), sched: sa.stateDict() };
    assert.deepEqual(Object.keys(saved.sched).sort(), ['baseLrs', 'lastEpoch', 'lastLr', 'stepCount']);
    const b = sgd(0.1);
    const sb = new CosineAnnealingLR(b, { tMax: 6, etaMin: 0.001 });
    b.loadStateDict(saved.opt);
    sb.loadStateDict(saved.sched);
    for (let i = 0; i < 5; i++) {
      sa.step();
      sb.step();
      assert.equal(b.lr, a.lr, `step ${i}`);
    }
    // lastEpoch > -1 resumes from the closed form (the groups need their initialLr).
    const c = sgd(0.1);
    c.paramGroups[0].initialLr = 0.1;
    const sc = new CosineAnnealingLR(c, { tMax: 6, lastEpoch: 2 });
    assertClose([sc.getLastLr()[0]], [0.05 * (1 + Math.cos(Math.PI * 3 / 6))], 1e-12, 'resumed at epoch 3');
    throwsWith(() => new StepLR(sgd(), { stepSize: 1, lastEpoch: 4 }), ValueError, /lastEpoch is 4 but param group 0 has no initialLr/);
  });
});

describe('fit with a scheduler stepped from its callbacks', () => {
  class Tiny extends Module {
    fc = new Linear(2, 2, { generator: new Generator(0) });
    forward(x: Tensor): Tensor {
      return this.fc.forward(x);
    }
  }
  const data = { images: tensor([[1, 0], [-1, 0], [2, 1], [-2, 1]]), labels: tensor([0, 1, 0, 1]) };

  test("StepLR per epoch in onEpoch: fit leaves the lr to it (lrSchedule 'constant') and keeps its value at the end", () => {
    const model = new Tiny();
    const optimizer = new SGD(model, { lr: 0.4 });
    const sched = new StepLR(optimizer, { stepSize: 1, gamma: 0.5 });
    const lrs: number[] = [];
    fit(model, { train: data, epochs: 3, batchSize: 2, optimizer, shuffle: false, onBatch: (b) => lrs.push(b.lr), onEpoch: () => sched.step() });
    assert.deepEqual(lrs, [0.4, 0.4, 0.2, 0.2, 0.1, 0.1]);
    assert.equal(optimizer.lr, 0.05);
  });

  test('OneCycleLR per batch in onBatch', () => {
    const model = new Tiny();
    const optimizer = new SGD(model, { lr: 0.1, momentum: 0.9 });
    const sched = new OneCycleLR(optimizer, { maxLr: 1, epochs: 2, stepsPerEpoch: 2, pctStart: 0.5 });
    const lrs: number[] = [];
    fit(model, { train: data, epochs: 2, batchSize: 2, optimizer, shuffle: false, onBatch: (b) => { lrs.push(b.lr); sched.step(); } });
    // 4 steps, phase 1 ends at 0.5 * 4 - 1 = 1: lrs at steps 0..3.
    const cos = (a: number, b: number, pct: number) => b + ((a - b) / 2) * (1 + Math.cos(Math.PI * pct));
    assertClose(lrs, [0.04, 1, cos(1, 0.04 / 1e4, 1 / 2), cos(1, 0.04 / 1e4, 2 / 2)], 1e-12, 'lrs');
  });

  test('a named lrSchedule scales every group from its own lr and restores them', () => {
    const model = new Tiny();
    const optimizer = new SGD([{ params: [model.fc.weight], lr: 0.2 }, { params: [model.fc.bias!], lr: 0.02 }]);
    const seen: number[][] = [];
    fit(model, { train: data, epochs: 1, batchSize: 2, optimizer, lrSchedule: 'linear', onBatch: () => seen.push(optimizer.paramGroups.map((g) => g.lr)) });
    assertClose(seen.flat(), [0.2, 0.02, 0.1, 0.01], 1e-12, 'per group');
    assert.deepEqual(optimizer.paramGroups.map((g) => g.lr), [0.2, 0.02]);
  });
});

describe('scheduler argument errors', () => {
  test('each states the rule and the value', () => {
    throwsWith(() => new StepLR(sgd(), { stepSize: 0 }), ValueError, /StepLR: stepSize must be an integer >= 1, got 0/);
    throwsWith(() => new StepLR(sgd(), {} as any), ValueError, /StepLR: stepSize must be an integer >= 1/);
    throwsWith(() => new StepLR(sgd(), { stepSize: 2, step_size: 2 } as any), ValueError, /unknown option 'step_size'/);
    throwsWith(() => new StepLR({} as any, { stepSize: 2 }), ValueError, /StepLR: the first argument must be an Optimizer/);
    throwsWith(() => new MultiStepLR(sgd(), { milestones: [5, 2] }), ValueError, /milestones must be increasing/, /\[5,2\]/);
    throwsWith(() => new ExponentialLR(sgd(), { gamma: -1 }), ValueError, /gamma must be a finite number >= 0, got -1/);
    throwsWith(() => new CosineAnnealingLR(sgd(), { tMax: 2.5 }), ValueError, /tMax must be an integer >= 1, got 2\.5/);
    throwsWith(() => new LinearLR(sgd(), { startFactor: 0 }), ValueError, /startFactor must be in \(0, 1\], got 0/);
    throwsWith(() => new OneCycleLR(sgd(), { maxLr: 1 }), ValueError, /give totalSteps, or epochs and stepsPerEpoch/);
    throwsWith(() => new OneCycleLR(sgd(), { maxLr: [1, 2], totalSteps: 5 }), ValueError, /maxLr must be a finite number >= 0 or one per parameter group \(1\)/);
    throwsWith(() => new OneCycleLR(sgd(), { maxLr: 1, totalSteps: 10, pctStart: 0.1 }), ValueError, /phase 1 of the cycle has no steps/);
    throwsWith(() => new OneCycleLR(sgd(), { maxLr: 1, totalSteps: 10, annealStrategy: 'cosine' as any }), ValueError, /annealStrategy must be 'cos' or 'linear'/);
  });
});
