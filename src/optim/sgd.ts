import { ValueError } from '../errors.js';
import { checkOptions } from '../ops/util.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, checkLr, checkRange, type ParamGroup, type ParamState, type ParamsOrGroups } from './optimizer.js';

export interface SGDOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/** An SGD parameter group: its parameters and its own settings. */
export interface SGDParamGroup extends ParamGroup {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

const SGD_KEYS = ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay'] as const;

/**
 * Stochastic gradient descent, step for step as torch.optim.SGD (per group):
 *   g = grad + weightDecay * p
 *   buf = g (first step), else buf = momentum * buf + (1 - dampening) * g
 *   g = nesterov ? g + momentum * buf : buf        (when momentum > 0)
 *   p = p - lr * g
 *
 * `new SGD(model, { lr: 0.1, momentum: 0.9 })`, or with parameter groups
 * `new SGD([{ params: backbone.parameters(), lr: 0.01 }, { params: head }], { lr: 0.1, momentum: 0.9 })`:
 * each group's unset options come from the second argument.
 * State: a momentum buffer per parameter (`momentumBuffer` in stateDict()).
 */
export class SGD extends Optimizer<SGDParamGroup> {
  constructor(params: ParamsOrGroups<SGDOptions>, options: SGDOptions = {}) {
    checkOptions('SGD', options, SGD_KEYS);
    super('SGD', params, { ...options });
  }

  protected groupKeys(): readonly string[] {
    return SGD_KEYS;
  }

  protected resolveGroup(where: string, o: Record<string, unknown>): Omit<SGDParamGroup, 'params'> {
    const lr = checkLr(where, o.lr ?? 0.001);
    const momentum = checkRange(where, 'momentum', (o.momentum ?? 0) as number, 0, Infinity);
    const dampening = checkRange(where, 'dampening', (o.dampening ?? 0) as number, 0, 1);
    const weightDecay = checkRange(where, 'weightDecay', (o.weightDecay ?? 0) as number, 0, Infinity);
    const nesterov = o.nesterov ?? false;
    if (typeof nesterov !== 'boolean') throw new ValueError(`${where}: nesterov must be a boolean, got ${JSON.stringify(nesterov)}`);
    if (nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new ValueError(`${where}: nesterov needs momentum > 0 and dampening 0, got momentum ${momentum}, dampening ${dampening}`);
    }
    return { lr, momentum, dampening, nesterov, weightDecay };
  }

  /** The first group's momentum (each group may have its own: paramGroups[i].momentum). */
  get momentum(): number {
    return this.paramGroups[0].momentum;
  }

  get dampening(): number {
    return this.paramGroups[0].dampening;
  }

  get nesterov(): boolean {
    return this.paramGroups[0].nesterov;
  }

  get weightDecay(): number {
    return this.paramGroups[0].weightDecay;
  }

  protected update(p: Tensor, grad: ArrayLike<number>, group: SGDParamGroup, state: ParamState): void {
    const { lr, momentum, dampening, nesterov, weightDecay } = group;
    const w = p.data;
    const n = w.length;
    if (momentum === 0) {
      for (let i = 0; i < n; i++) w[i] -= lr * (grad[i] + weightDecay * w[i]);
      return;
    }
    const first = state.momentumBuffer === undefined;
    if (first) state.momentumBuffer = new (w.constructor as Float32ArrayConstructor)(n);
    const buf = state.momentumBuffer as Float32Array;
    if (w instanceof Float32Array && grad instanceof Float32Array && buf instanceof Float32Array) {
      momentumStep32(w, grad, buf, lr, momentum, dampening, weightDecay, nesterov, first);
      return;
    }
    for (let i = 0; i < n; i++) {
      const g = grad[i] + weightDecay * w[i];
      const b = first ? g : momentum * buf[i] + (1 - dampening) * g;
      buf[i] = b;
      w[i] -= lr * (nesterov ? g + momentum * b : b);
    }
  }
}

/**
 * The momentum update above for float32 arrays, in a function that only ever
 * sees Float32Array (the generic loop reads `ArrayLike<number>` and float32 or
 * float64 weights, which V8 compiles to polymorphic element access: LeNet-5's
 * 61,706 parameters took ~0.5 ms per step). Same expressions in the same
 * order, so the same float32 results.
 */
function momentumStep32(
  w: Float32Array, grad: Float32Array, buf: Float32Array,
  lr: number, momentum: number, dampening: number, weightDecay: number, nesterov: boolean, first: boolean,
): void {
  const n = w.length;
  const keep = 1 - dampening;
  if (first) {
    for (let i = 0; i < n; i++) {
      const g = grad[i] + weightDecay * w[i];
      buf[i] = g;
      w[i] -= lr * (nesterov ? g + momentum * g : g);
    }
    return;
  }
  if (nesterov) {
    for (let i = 0; i < n; i++) {
      const g = grad[i] + weightDecay * w[i];
      const b = momentum * buf[i] + keep * g;
      buf[i] = b;
      w[i] -= lr * (g + momentum * b);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const g = grad[i] + weightDecay * w[i];
    const b = momentum * buf[i] + keep * g;
    buf[i] = b;
    w[i] -= lr * b;
  }
}
