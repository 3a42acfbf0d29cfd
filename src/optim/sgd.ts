import { ValueError } from '../errors.js';
import { checkOptions } from '../validate.js';
import { kernelsFor } from '../backends/index.js';
import type { FloatArray, Tensor } from '../tensor/tensor.js';
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

  protected update(p: Tensor, grad: FloatArray, group: SGDParamGroup, state: ParamState): void {
    const { lr, momentum, dampening, nesterov, weightDecay } = group;
    const w = p.data;
    let buf: FloatArray | null = null;
    let first = false;
    if (momentum !== 0) {
      first = state.momentumBuffer === undefined;
      if (first) state.momentumBuffer = w instanceof Float64Array ? new Float64Array(w.length) : new Float32Array(w.length);
      buf = state.momentumBuffer as FloatArray;
    }
    // The backend of the parameter's dtype: wasm and native update large float32 parameters with SIMD.
    kernelsFor(p.dtype).sgdStep(w, grad, buf, { lr, momentum, dampening, weightDecay, nesterov, first });
  }
}
