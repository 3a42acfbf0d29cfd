import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor, type FloatArray } from '../tensor/tensor.js';
import { unknownOptionMessage } from '../validate.js';

/** What optimizers accept: a list of tensors or anything with parameters() (a Module). */
export type ParamsLike = Iterable<Tensor> | { parameters(): Tensor[] };

/**
 * One parameter group as given to an optimizer: its parameters and any
 * hyper-parameters that differ from the optimizer's defaults (PyTorch's
 * `[{ 'params': ..., 'lr': ... }, ...]`).
 */
export type ParamGroupSpec<O> = { params: ParamsLike } & O;

/** Parameters (one group with the defaults) or a list of parameter groups. */
export type ParamsOrGroups<O> = ParamsLike | readonly ParamGroupSpec<O>[];

/** A parameter group as the optimizer holds it: the parameters and every hyper-parameter resolved. */
export interface ParamGroup {
  params: Tensor[];
  /** Learning rate of this group; may be changed between steps (what schedulers do). */
  lr: number;
  /** The learning rate a scheduler started from (PyTorch's `initial_lr`); set by the first scheduler attached. */
  initialLr?: number;
}

/** What addParamGroup takes for groups of type G: the parameters and any of G's settings. */
export type GroupSpecOf<G extends ParamGroup> = ParamGroupSpec<Partial<Omit<G, 'params' | 'initialLr'>>>;

/** A parameter's optimizer state: buffers shaped like the parameter, and counters. */
export type ParamState = Record<string, FloatArray | number>;

/**
 * An optimizer's state as plain data (PyTorch's `optimizer.state_dict()`):
 * per-parameter state keyed by the parameter's position in the groups
 * (counted over all groups, in order), each group's hyper-parameters with the
 * positions of its parameters, and the number of steps taken. The tensors are
 * copies: the dictionary stays as it was when taken, whatever training follows.
 */
export interface OptimizerStateDict {
  state: Record<number, Record<string, Tensor | number>>;
  paramGroups: (Record<string, unknown> & { params: number[] })[];
  stepCount: number;
}

function isGroupList(params: unknown): params is readonly { params: ParamsLike }[] {
  return Array.isArray(params) && params.length > 0 && params.every((g) => g !== null && typeof g === 'object' && !(g instanceof Tensor) && 'params' in g);
}

function toList(params: ParamsLike, where: string): Tensor[] {
  if (params && typeof (params as { parameters?: unknown }).parameters === 'function') return (params as { parameters(): Tensor[] }).parameters();
  if (params === null || typeof params !== 'object' || typeof (params as Iterable<Tensor>)[Symbol.iterator] !== 'function') {
    // A lone tensor is a list of one; anything else is not a parameter.
    if (params instanceof Tensor) return [params];
    throw new ValueError(`${where}: parameter 0 is not a Tensor`);
  }
  return [...(params as Iterable<Tensor>)];
}

/**
 * The common part of every optimizer: parameter groups, each with its own
 * hyper-parameters (`new SGD([{ params: backbone, lr: 1e-4 }, { params: head }], { lr: 1e-2 })`),
 * zeroGrad, step, and the state dictionary for resuming training exactly.
 */
export abstract class Optimizer<G extends ParamGroup = ParamGroup> {
  /** The parameter groups, in order (PyTorch's `param_groups`); change a group's lr or other settings between steps freely. */
  readonly paramGroups: G[] = [];
  /** Steps taken so far. */
  stepCount = 0;
  /** Per-parameter state (momentum buffers, moments, step counts), created at a parameter's first update. */
  protected readonly state = new Map<Tensor, ParamState>();
  /** The class name errors and checkpoints use: SGD, Adam, AdamW. */
  readonly name: string;
  private readonly defaults: Readonly<Record<string, unknown>>;
  /** Whether errors name the group (the optimizer was given groups, or a group is added later). */
  private namedGroups = false;

  /**
   * `defaults` holds the hyper-parameters given to the constructor (unset ones
   * are filled by `resolveGroup`); every group starts from them.
   */
  constructor(name: string, params: ParamsOrGroups<object>, defaults: Record<string, unknown>) {
    this.name = name;
    this.defaults = { ...defaults };
    if (isGroupList(params)) {
      this.namedGroups = true;
      params.forEach((g) => this.addParamGroup(g as GroupSpecOf<G>));
    } else {
      const list = toList(params as ParamsLike, name);
      if (list.length === 0) throw new ValueError(`${name}: got an empty parameter list; pass model.parameters() or the model`);
      const group: ParamGroupSpec<object> = { params: list };
      this.addParamGroup(group as GroupSpecOf<G>);
    }
    if (this.params.length === 0) throw new ValueError(`${name}: got an empty parameter list (every group is empty); pass model.parameters() or the model`);
    this.namedGroups = true;
  }

  /**
   * Checks one group's hyper-parameters (the defaults overlaid with the
   * group's own) and returns them resolved; `where` names the group in errors.
   */
  protected abstract resolveGroup(where: string, options: Record<string, unknown>): Omit<G, 'params'>;

  /** The hyper-parameters a group may set besides `params` (for typo errors). A method, so the base constructor can call it. */
  protected abstract groupKeys(): readonly string[];

  /**
   * Adds a group (PyTorch's add_param_group), e.g. layers unfrozen for fine-tuning.
   * Its unset hyper-parameters come from the optimizer's defaults; a parameter may
   * belong to one group only (repeats inside a group are kept once).
   */
  addParamGroup(group: GroupSpecOf<G>): G {
    const index = this.paramGroups.length;
    const where = this.namedGroups ? `${this.name} (param group ${index})` : this.name;
    if (group === null || typeof group !== 'object' || !('params' in group)) {
      throw new ValueError(`${this.name}: a parameter group must be an object { params, ...options }, got ${group === null ? 'null' : typeof group}`);
    }
    this.checkKeys(where, Object.keys(group).filter((k) => k !== 'params'));
    const list = toList(group.params, where);
    const seen = new Set<Tensor>();
    const owned = new Set(this.params);
    const params: Tensor[] = [];
    list.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new ValueError(`${where}: parameter ${i} is not a Tensor`);
      // Frozen parameters (requiresGrad false) are accepted and skipped while they have no gradient, as in PyTorch.
      if (!p.isLeaf) throw new ValueError(`${where}: parameter ${i} (shape ${fmtShape(p.shape)}) is not a leaf tensor (it was computed by ${p.gradFn!.name}); optimizers update leaves such as layer weights`);
      if (owned.has(p)) throw new ValueError(`${where}: parameter ${i} (shape ${fmtShape(p.shape)}) is already in another parameter group; each parameter may belong to one group only`);
      if (seen.has(p)) return;
      seen.add(p);
      params.push(p);
    });
    const { params: _omit, ...own } = group as { params: unknown } & Record<string, unknown>;
    const settings: Record<string, unknown> = { ...this.defaults };
    for (const [k, v] of Object.entries(own)) if (v !== undefined) settings[k] = v;
    const resolved = this.resolveGroup(where, settings);
    const g = { params, ...resolved } as G;
    this.paramGroups.push(g);
    return g;
  }

  private checkKeys(where: string, keys: string[]): void {
    const known = this.groupKeys();
    for (const key of keys) {
      if (!known.includes(key)) throw new ValueError(unknownOptionMessage(where, key, known));
    }
  }

  /** Every parameter, group after group. */
  get params(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /**
   * The learning rate of the first group. Setting it sets every group's lr
   * (for per-group rates, set `paramGroups[i].lr`).
   */
  get lr(): number {
    return this.paramGroups[0].lr;
  }

  set lr(value: number) {
    checkLr(this.name, value);
    for (const g of this.paramGroups) g.lr = value;
  }

  /** Clears the gradients (sets .grad to null, as PyTorch's default set_to_none). */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** Applies one update from the current gradients; parameters with no gradient are skipped. */
  step(): void {
    this.stepCount++;
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (!p.grad) continue;
        let s = this.state.get(p);
        if (s === undefined) this.state.set(p, (s = {}));
        this.update(p, p.grad.data, group, s);
      }
    }
  }

  /** Updates one parameter in place given its gradient, its group's settings and its state (empty at the first update). */
  protected abstract update(p: Tensor, grad: FloatArray, group: G, state: ParamState): void;

  /** A snapshot of the optimizer's state (see OptimizerStateDict); save it with the model's to resume training exactly. */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    this.params.forEach((p, i) => index.set(p, i));
    const state: OptimizerStateDict['state'] = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i === undefined) continue;
      const entry: Record<string, Tensor | number> = {};
      for (const [key, value] of Object.entries(s)) {
        entry[key] = typeof value === 'number' ? value : new Tensor(value.slice(), p.shape);
      }
      state[i] = entry;
    }
    let offset = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...settings } = g;
      const positions = params.map((_, j) => offset + j);
      offset += params.length;
      return { ...cloneSettings(settings), params: positions };
    });
    return { state, paramGroups, stepCount: this.stepCount };
  }

  /**
   * Restores a state taken with stateDict() from an optimizer of the same kind
   * over parameters of the same shapes, in the same groups: the buffers are
   * copied, and each group's hyper-parameters are set from the dictionary.
   */
  loadStateDict(dict: OptimizerStateDict): void {
    const where = `${this.name}.loadStateDict`;
    if (dict === null || typeof dict !== 'object' || typeof dict.state !== 'object' || !Array.isArray(dict.paramGroups)) {
      throw new ValueError(`${where}: expected { state, paramGroups, stepCount } as returned by stateDict()`);
    }
    if (dict.paramGroups.length !== this.paramGroups.length) {
      throw new ValueError(`${where}: the state has ${dict.paramGroups.length} parameter group(s) but this optimizer has ${this.paramGroups.length}`);
    }
    dict.paramGroups.forEach((g, i) => {
      const n = this.paramGroups[i].params.length;
      if (!Array.isArray(g.params) || g.params.length !== n) {
        throw new ValueError(`${where}: parameter group ${i} holds ${Array.isArray(g.params) ? g.params.length : 'no'} parameter(s) in the state but ${n} here; build the optimizer over the same parameters`);
      }
    });
    const params = this.params;
    const loaded = new Map<Tensor, ParamState>();
    for (const [key, entry] of Object.entries(dict.state)) {
      const i = Number(key);
      const p = params[i];
      if (!Number.isInteger(i) || p === undefined) throw new ValueError(`${where}: state for parameter ${key}, but there are ${params.length} parameters`);
      loaded.set(p, this.readState(where, i, p, entry));
    }
    // Hyper-parameters: checked like the constructor's, then applied.
    const settings = dict.paramGroups.map((g, i) => {
      const { params: _p, initialLr, ...own } = g as Record<string, unknown>;
      this.checkKeys(`${where} (param group ${i})`, Object.keys(own));
      const resolved = this.resolveGroup(`${where} (param group ${i})`, own);
      return initialLr === undefined ? resolved : { ...resolved, initialLr };
    });
    settings.forEach((s, i) => Object.assign(this.paramGroups[i], s));
    this.state.clear();
    for (const [p, s] of loaded) this.state.set(p, s);
    this.stepCount = Number.isInteger(dict.stepCount) ? dict.stepCount : 0;
  }

  /** Checks and copies one parameter's saved state (tensors shaped like the parameter, finite counters). */
  private readState(where: string, i: number, p: Tensor, entry: Record<string, Tensor | number>): ParamState {
    if (entry === null || typeof entry !== 'object') throw new ValueError(`${where}: state of parameter ${i} must be an object`);
    const out: ParamState = {};
    for (const [key, value] of Object.entries(entry)) {
      if (typeof value === 'number') {
        if (!Number.isFinite(value)) throw new ValueError(`${where}: state '${key}' of parameter ${i} is ${value}; expected a finite number`);
        out[key] = value;
      } else if (value instanceof Tensor) {
        if (value.size !== p.size) {
          throw new ShapeError(`${where}: state '${key}' of parameter ${i} has shape ${fmtShape(value.shape)} but the parameter has ${fmtShape(p.shape)}`);
        }
        out[key] = p.dtype === 'float64' ? Float64Array.from(value.data) : Float32Array.from(value.data);
      } else {
        throw new ValueError(`${where}: state '${key}' of parameter ${i} must be a Tensor or a number`);
      }
    }
    return out;
  }
}

/** Copies group settings so the snapshot does not share arrays (betas) with the live groups. */
function cloneSettings(settings: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(settings)) out[k] = Array.isArray(v) ? [...v] : v;
  return out;
}

export function checkLr(where: string, lr: unknown): number {
  if (typeof lr !== 'number' || !(lr >= 0) || !Number.isFinite(lr)) throw new ValueError(`${where}: lr must be a finite number >= 0, got ${lr}`);
  return lr;
}

export function checkRange(where: string, name: string, value: number, lo: number, hi: number, hiOpen = false): number {
  if (typeof value !== 'number' || !(value >= lo) || (hiOpen ? !(value < hi) : !(value <= hi))) {
    throw new ValueError(`${where}: ${name} must be in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${value}`);
  }
  return value;
}
