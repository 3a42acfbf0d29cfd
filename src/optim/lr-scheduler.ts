/**
 * Learning-rate schedulers, as torch.optim.lr_scheduler: each owns an
 * optimizer and sets the lr of every parameter group when `step()` is called
 * (after optimizer.step(), once per epoch or once per batch, as the schedule
 * is meant). Constructing one sets the lr for epoch 0, as PyTorch does.
 *
 * With e = lastEpoch (the number of step() calls so far) and base the group's
 * initial lr, the closed forms are:
 *   StepLR:            base * gamma^floor(e / stepSize)
 *   MultiStepLR:       base * gamma^(number of milestones <= e)
 *   ExponentialLR:     base * gamma^e
 *   CosineAnnealingLR: etaMin + (base - etaMin) (1 + cos(pi e / tMax)) / 2
 *   LinearLR:          base * (startFactor + (endFactor - startFactor) min(e, totalIters) / totalIters)
 *   OneCycleLR:        warm up from maxLr / divFactor to maxLr over pctStart of totalSteps, then anneal to
 *                      maxLr / (divFactor * finalDivFactor) (cosine or linear), cycling momentum inversely
 * Like PyTorch, all but OneCycleLR update the current lr recursively (lr_e from lr_(e-1)),
 * so two schedulers on one optimizer compose, and an lr changed by hand carries on from
 * its new value; without such interference the values are the closed forms above.
 *
 * Resuming: build the model, the optimizer and the scheduler as before, then
 * load the three state dictionaries (the optimizer's restores every group's lr,
 * the scheduler's its epoch count).
 */
import { ValueError } from '../errors.js';
import { checkOptions } from '../validate.js';
import { Optimizer, type ParamGroup } from './optimizer.js';

/** What LRScheduler.stateDict() returns: plain numbers (JSON data, as a checkpoint's header holds it). */
export type LRSchedulerStateDict = {
  lastEpoch: number;
  baseLrs: number[];
  lastLr: number[];
  stepCount: number;
};

/** PyTorch's closed form of cosine annealing: etaMin + (base - etaMin) (1 + cos(pi t / tMax)) / 2. */
export function cosineAnnealingLr(base: number, etaMin: number, t: number, tMax: number): number {
  return etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2;
}

/** LinearLR's multiplier at step t: startFactor + (endFactor - startFactor) min(t, totalIters) / totalIters. */
export function linearLrFactor(startFactor: number, endFactor: number, t: number, totalIters: number): number {
  return startFactor + ((endFactor - startFactor) * Math.min(t, totalIters)) / totalIters;
}

function checkNumber(where: string, name: string, v: unknown, ok: (n: number) => boolean, rule: string): number {
  if (typeof v !== 'number' || !ok(v)) throw new ValueError(`${where}: ${name} must be ${rule}, got ${JSON.stringify(v) ?? String(v)}`);
  return v;
}

/** v if it is an integer >= 1 (`when`: the case the rule applies in, in brackets), else a ValueError. */
function checkPositiveInt(where: string, name: string, v: unknown, when = ''): number {
  return checkNumber(where, name, v, (n) => Number.isInteger(n) && n > 0, `an integer >= 1${when}`);
}

/** v if it is a finite number >= 0 (a decay factor, a floor), else a ValueError. */
function checkNonNegative(where: string, name: string, v: unknown): number {
  return checkNumber(where, name, v, (n) => Number.isFinite(n) && n >= 0, 'a finite number >= 0');
}

/** The base of every scheduler: the optimizer, the epoch counter, the last lrs set. */
export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  /** step() calls since epoch 0 (-1 before the constructor's initial step). */
  lastEpoch: number;
  /** Each group's lr at epoch 0 (its initialLr). */
  readonly baseLrs: number[];
  protected lastLr: number[] = [];
  /** step() calls including the constructor's (PyTorch's _step_count). */
  protected stepCount = 0;
  protected readonly where: string;

  constructor(where: string, optimizer: Optimizer, lastEpoch: number | undefined, options: object | undefined, known: readonly string[]) {
    this.where = where;
    if (!(optimizer instanceof Optimizer)) throw new ValueError(`${where}: the first argument must be an Optimizer (e.g. new SGD(model, { lr: 0.1 })), got ${optimizer === null ? 'null' : typeof optimizer}`);
    checkOptions(where, options, known);
    const last = lastEpoch ?? -1;
    if (!Number.isInteger(last) || last < -1) throw new ValueError(`${where}: lastEpoch must be an integer >= -1 (-1 starts a new schedule), got ${last}`);
    this.optimizer = optimizer;
    if (last === -1) {
      for (const g of optimizer.paramGroups) g.initialLr ??= g.lr;
    } else {
      optimizer.paramGroups.forEach((g, i) => {
        if (g.initialLr === undefined) {
          throw new ValueError(`${where}: lastEpoch is ${last} but param group ${i} has no initialLr; resume by loading the optimizer's and the scheduler's state dicts, or start with lastEpoch -1`);
        }
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.lastEpoch = last;
  }

  /** The lr of every group for epoch lastEpoch (called after lastEpoch is advanced). */
  protected abstract computeLr(): number[];

  /** Subclasses call this at the end of their constructors: epoch 0's lr, as PyTorch's initial step. */
  protected initialStep(): void {
    this.step();
  }

  /** Advances one epoch (or batch) and sets each group's lr. */
  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    const lrs = this.computeLr();
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = lrs[i]));
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The lr of each group as last set by this scheduler (PyTorch's get_last_lr()). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The counters needed to resume (the settings come from the constructor). */
  stateDict(): LRSchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], lastLr: [...this.lastLr], stepCount: this.stepCount };
  }

  loadStateDict(state: LRSchedulerStateDict): void {
    const where = `${this.where}.loadStateDict`;
    if (state === null || typeof state !== 'object' || !Number.isInteger(state.lastEpoch) || !Array.isArray(state.baseLrs) || !Array.isArray(state.lastLr)) {
      throw new ValueError(`${where}: expected { lastEpoch, baseLrs, lastLr, stepCount } as returned by stateDict()`);
    }
    if (state.baseLrs.length !== this.baseLrs.length) {
      throw new ValueError(`${where}: the state has ${state.baseLrs.length} group(s) but the optimizer has ${this.baseLrs.length}`);
    }
    this.lastEpoch = state.lastEpoch;
    this.baseLrs.splice(0, this.baseLrs.length, ...state.baseLrs);
    this.lastLr = [...state.lastLr];
    this.stepCount = Number.isInteger(state.stepCount) ? state.stepCount : this.stepCount;
  }

  protected groups(): ParamGroup[] {
    return this.optimizer.paramGroups;
  }
}

export interface StepLROptions {
  /** Epochs between decays (required). */
  stepSize: number;
  /** Multiplier at each decay (default 0.1). */
  gamma?: number;
  lastEpoch?: number;
}

/** Multiplies the lr by gamma every stepSize epochs: base * gamma^floor(e / stepSize). */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Optimizer, options: StepLROptions) {
    super('StepLR', optimizer, options?.lastEpoch, options, ['stepSize', 'gamma', 'lastEpoch']);
    this.stepSize = checkPositiveInt(this.where, 'stepSize', options?.stepSize);
    this.gamma = checkNonNegative(this.where, 'gamma', options.gamma ?? 0.1);
    this.initialStep();
  }

  protected computeLr(): number[] {
    const e = this.lastEpoch;
    return this.groups().map((g) => (e === 0 || e % this.stepSize !== 0 ? g.lr : g.lr * this.gamma));
  }
}

export interface MultiStepLROptions {
  /** Epochs at which the lr is multiplied by gamma (increasing; a repeated milestone applies gamma twice). */
  milestones: readonly number[];
  gamma?: number;
  lastEpoch?: number;
}

/** Multiplies the lr by gamma at each milestone: base * gamma^(milestones <= e). */
export class MultiStepLR extends LRScheduler {
  readonly milestones: readonly number[];
  readonly gamma: number;

  constructor(optimizer: Optimizer, options: MultiStepLROptions) {
    super('MultiStepLR', optimizer, options?.lastEpoch, options, ['milestones', 'gamma', 'lastEpoch']);
    const m = options?.milestones;
    if (!Array.isArray(m) || !m.every((v) => Number.isInteger(v) && v >= 0)) {
      throw new ValueError(`MultiStepLR: milestones must be an array of integer epochs >= 0, got ${JSON.stringify(m)}`);
    }
    for (let i = 1; i < m.length; i++) {
      if (m[i] < m[i - 1]) throw new ValueError(`MultiStepLR: milestones must be increasing, got ${JSON.stringify(m)}`);
    }
    this.milestones = [...m];
    this.gamma = checkNonNegative(this.where, 'gamma', options.gamma ?? 0.1);
    this.initialStep();
  }

  protected computeLr(): number[] {
    const hits = this.milestones.filter((m) => m === this.lastEpoch).length;
    return this.groups().map((g) => (hits === 0 ? g.lr : g.lr * Math.pow(this.gamma, hits)));
  }
}

export interface ExponentialLROptions {
  /** Multiplier per epoch (required). */
  gamma: number;
  lastEpoch?: number;
}

/** Multiplies the lr by gamma every epoch: base * gamma^e. */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;

  constructor(optimizer: Optimizer, options: ExponentialLROptions) {
    super('ExponentialLR', optimizer, options?.lastEpoch, options, ['gamma', 'lastEpoch']);
    this.gamma = checkNonNegative(this.where, 'gamma', options?.gamma);
    this.initialStep();
  }

  protected computeLr(): number[] {
    return this.groups().map((g) => (this.lastEpoch === 0 ? g.lr : g.lr * this.gamma));
  }
}

export interface CosineAnnealingLROptions {
  /** Epochs (or batches) of the half cosine from the base lr down to etaMin (required). */
  tMax: number;
  /** The lr at e = tMax (default 0). */
  etaMin?: number;
  lastEpoch?: number;
}

/**
 * Cosine annealing (Loshchilov & Hutter, SGDR without restarts):
 * etaMin + (base - etaMin) (1 + cos(pi e / tMax)) / 2; past tMax it rises again, as PyTorch's.
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    super('CosineAnnealingLR', optimizer, options?.lastEpoch, options, ['tMax', 'etaMin', 'lastEpoch']);
    this.tMax = checkPositiveInt(this.where, 'tMax', options?.tMax);
    this.etaMin = checkNonNegative(this.where, 'etaMin', options.etaMin ?? 0);
    this.initialStep();
  }

  protected computeLr(): number[] {
    const e = this.lastEpoch;
    const T = this.tMax;
    const etaMin = this.etaMin;
    return this.groups().map((g, i) => {
      const base = this.baseLrs[i];
      if (e === 0) return g.lr;
      // Resumed with lastEpoch > 0: the closed form.
      if (this.stepCount === 1 && e > 0) return cosineAnnealingLr(base, etaMin, e, T);
      // The step out of the trough (e - 1 = T, 3T, ...), where the ratio below would divide by 0.
      if ((((e - 1 - T) % (2 * T)) + 2 * T) % (2 * T) === 0) return g.lr + ((base - etaMin) * (1 - Math.cos(Math.PI / T))) / 2;
      // lr_e - etaMin = (lr_(e-1) - etaMin) * (1 + cos(pi e / T)) / (1 + cos(pi (e - 1) / T)).
      return ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) + etaMin;
    });
  }
}

export interface LinearLROptions {
  /** Multiplier of the base lr at epoch 0, in (0, 1] (default 1/3). */
  startFactor?: number;
  /** Multiplier reached at totalIters and kept after, in [0, 1] (default 1). */
  endFactor?: number;
  /** Epochs (or batches) of the ramp (default 5). */
  totalIters?: number;
  lastEpoch?: number;
}

/** Linear warm-up (or decay): base * (startFactor + (endFactor - startFactor) min(e, totalIters) / totalIters). */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;

  constructor(optimizer: Optimizer, options: LinearLROptions = {}) {
    super('LinearLR', optimizer, options?.lastEpoch, options, ['startFactor', 'endFactor', 'totalIters', 'lastEpoch']);
    this.startFactor = checkNumber(this.where, 'startFactor', options.startFactor ?? 1 / 3, (n) => n > 0 && n <= 1, 'in (0, 1]');
    this.endFactor = checkNumber(this.where, 'endFactor', options.endFactor ?? 1, (n) => n >= 0 && n <= 1, 'in [0, 1]');
    this.totalIters = checkPositiveInt(this.where, 'totalIters', options.totalIters ?? 5);
    this.initialStep();
  }

  protected computeLr(): number[] {
    const e = this.lastEpoch;
    const { startFactor: s, endFactor: f, totalIters: n } = this;
    return this.groups().map((g) => {
      if (e === 0) return g.lr * s;
      if (e > n) return g.lr;
      // lr_e / lr_(e-1) = factor(e) / factor(e - 1).
      return g.lr * (1 + (f - s) / (n * s + (e - 1) * (f - s)));
    });
  }
}

export interface OneCycleLROptions {
  /** The peak lr: one number, or one per parameter group (required). */
  maxLr: number | readonly number[];
  /** Steps in the cycle; or give epochs and stepsPerEpoch. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** Fraction of the steps spent raising the lr (default 0.3). */
  pctStart?: number;
  /** 'cos' (default) or 'linear'. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle SGD's momentum (or Adam's beta1) inversely to the lr, between baseMomentum and maxMomentum (default true). */
  cycleMomentum?: boolean;
  baseMomentum?: number;
  maxMomentum?: number;
  /** The starting lr is maxLr / divFactor (default 25). */
  divFactor?: number;
  /** The final lr is the starting lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, back down to the start, then to the final lr) instead of two (default false). */
  threePhase?: boolean;
  lastEpoch?: number;
}

interface Phase {
  endStep: number;
  startLr: 'initial' | 'max' | 'min';
  endLr: 'initial' | 'max' | 'min';
  startMomentum: 'max' | 'base';
  endMomentum: 'max' | 'base';
}

/**
 * The 1cycle policy (Smith & Toporkov, 2018), stepped once per batch:
 * phase 1 (steps 0 .. pctStart * totalSteps - 1) anneals from maxLr / divFactor
 * up to maxLr, phase 2 (to totalSteps - 1) down to maxLr / (divFactor * finalDivFactor);
 * anneal(a, b, pct) = b + (a - b) (1 + cos(pi pct)) / 2, or a + (b - a) pct for 'linear'.
 * Stepping more than totalSteps times is an error, as in PyTorch.
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly maxLrs: number[];
  readonly initialLrs: number[];
  readonly minLrs: number[];
  readonly annealStrategy: 'cos' | 'linear';
  readonly cycleMomentum: boolean;
  readonly baseMomentum: number;
  readonly maxMomentum: number;
  private readonly phases: Phase[];

  constructor(optimizer: Optimizer, options: OneCycleLROptions) {
    const known = ['maxLr', 'totalSteps', 'epochs', 'stepsPerEpoch', 'pctStart', 'annealStrategy', 'cycleMomentum', 'baseMomentum', 'maxMomentum', 'divFactor', 'finalDivFactor', 'threePhase', 'lastEpoch'];
    // The initial lrs must be in the groups before the base constructor reads them.
    const { initial, max, min } = OneCycleLR.lrs(optimizer, options);
    if (optimizer instanceof Optimizer && (options?.lastEpoch ?? -1) === -1) optimizer.paramGroups.forEach((g, i) => (g.initialLr = initial[i]));
    super('OneCycleLR', optimizer, options?.lastEpoch, options, known);
    const where = 'OneCycleLR';
    if (options.totalSteps !== undefined) {
      this.totalSteps = checkPositiveInt(where, 'totalSteps', options.totalSteps);
    } else if (options.epochs !== undefined || options.stepsPerEpoch !== undefined) {
      const epochs = checkPositiveInt(where, 'epochs', options.epochs, ' (with stepsPerEpoch, when totalSteps is not given)');
      const per = checkPositiveInt(where, 'stepsPerEpoch', options.stepsPerEpoch, ' (with epochs, when totalSteps is not given)');
      this.totalSteps = epochs * per;
    } else {
      throw new ValueError(`${where}: give totalSteps, or epochs and stepsPerEpoch`);
    }
    const pct = checkNumber(where, 'pctStart', options.pctStart ?? 0.3, (n) => n >= 0 && n <= 1, 'in [0, 1]');
    this.annealStrategy = options.annealStrategy ?? 'cos';
    if (this.annealStrategy !== 'cos' && this.annealStrategy !== 'linear') {
      throw new ValueError(`${where}: annealStrategy must be 'cos' or 'linear', got ${JSON.stringify(this.annealStrategy)}`);
    }
    this.maxLrs = max;
    this.initialLrs = initial;
    this.minLrs = min;
    const T = this.totalSteps;
    this.phases = options.threePhase
      ? [
          { endStep: pct * T - 1, startLr: 'initial', endLr: 'max', startMomentum: 'max', endMomentum: 'base' },
          { endStep: 2 * pct * T - 2, startLr: 'max', endLr: 'initial', startMomentum: 'base', endMomentum: 'max' },
          { endStep: T - 1, startLr: 'initial', endLr: 'min', startMomentum: 'max', endMomentum: 'max' },
        ]
      : [
          { endStep: pct * T - 1, startLr: 'initial', endLr: 'max', startMomentum: 'max', endMomentum: 'base' },
          { endStep: T - 1, startLr: 'max', endLr: 'min', startMomentum: 'base', endMomentum: 'max' },
        ];
    let phaseStart = 0;
    this.phases.forEach((p, k) => {
      // A phase of length 0 would divide by zero in the anneal fraction (PyTorch raises ZeroDivisionError there).
      if (p.endStep === phaseStart) {
        throw new ValueError(`${where}: phase ${k + 1} of the cycle has no steps (pctStart ${pct}, totalSteps ${T}); change pctStart or totalSteps`);
      }
      phaseStart = p.endStep;
    });
    this.cycleMomentum = options.cycleMomentum ?? true;
    this.baseMomentum = checkNumber(where, 'baseMomentum', options.baseMomentum ?? 0.85, (n) => n >= 0 && n < 1, 'in [0, 1)');
    this.maxMomentum = checkNumber(where, 'maxMomentum', options.maxMomentum ?? 0.95, (n) => n >= 0 && n < 1, 'in [0, 1)');
    if (this.cycleMomentum) {
      optimizer.paramGroups.forEach((g, i) => {
        if (!('momentum' in g) && !('betas' in g)) {
          throw new ValueError(`${where}: param group ${i} has neither momentum (SGD) nor betas (Adam) to cycle; pass cycleMomentum: false`);
        }
      });
      if ((options.lastEpoch ?? -1) === -1) for (const g of optimizer.paramGroups) this.setMomentum(g, this.maxMomentum);
    }
    this.initialStep();
  }

  /** The initial, peak and final lr of each group. */
  private static lrs(optimizer: Optimizer, options: OneCycleLROptions): { initial: number[]; max: number[]; min: number[] } {
    const where = 'OneCycleLR';
    if (!(optimizer instanceof Optimizer)) return { initial: [], max: [], min: [] }; // the base constructor reports it
    if (options === null || typeof options !== 'object') throw new ValueError(`${where}: options must be an object { maxLr, totalSteps, ... }`);
    const n = optimizer.paramGroups.length;
    const given = options.maxLr;
    const max = typeof given === 'number' ? new Array<number>(n).fill(given) : Array.isArray(given) ? [...given] : null;
    if (max === null || max.length !== n || !max.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
      throw new ValueError(`${where}: maxLr must be a finite number >= 0 or one per parameter group (${n}), got ${JSON.stringify(given)}`);
    }
    const div = checkNumber(where, 'divFactor', options.divFactor ?? 25, (v) => Number.isFinite(v) && v > 0, 'a finite number > 0');
    const finalDiv = checkNumber(where, 'finalDivFactor', options.finalDivFactor ?? 1e4, (v) => Number.isFinite(v) && v > 0, 'a finite number > 0');
    const initial = max.map((m) => m / div);
    return { initial, max, min: initial.map((v) => v / finalDiv) };
  }

  private setMomentum(g: ParamGroup, m: number): void {
    const group = g as ParamGroup & { momentum?: number; betas?: readonly [number, number] };
    if (group.betas !== undefined) group.betas = [m, group.betas[1]];
    else group.momentum = m;
  }

  private anneal(start: number, end: number, pct: number): number {
    return this.annealStrategy === 'cos' ? end + ((start - end) / 2) * (1 + Math.cos(Math.PI * pct)) : (end - start) * pct + start;
  }

  protected computeLr(): number[] {
    const step = this.lastEpoch;
    if (step > this.totalSteps) {
      throw new ValueError(`OneCycleLR: tried to step ${step} times, but the cycle has ${this.totalSteps} steps (totalSteps, or epochs * stepsPerEpoch); make the cycle longer or stop stepping`);
    }
    return this.groups().map((g, i) => {
      const lr = { initial: this.initialLrs[i], max: this.maxLrs[i], min: this.minLrs[i] };
      const mom = { max: this.maxMomentum, base: this.baseMomentum };
      let start = 0;
      for (let k = 0; k < this.phases.length; k++) {
        const p = this.phases[k];
        if (step <= p.endStep || k === this.phases.length - 1) {
          const pct = (step - start) / (p.endStep - start);
          if (this.cycleMomentum) this.setMomentum(g, this.anneal(mom[p.startMomentum], mom[p.endMomentum], pct));
          return this.anneal(lr[p.startLr], lr[p.endLr], pct);
        }
        start = p.endStep;
      }
      return g.lr;
    });
  }
}
