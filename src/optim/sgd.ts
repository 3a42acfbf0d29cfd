import { ValueError } from '../errors.js';
import { checkOptions } from '../validate.js';
import { kernelsFor } from '../backends/index.js';
import type { FloatArray, Tensor } from '../tensor/tensor.js';
import { Optimizer, checkLr, checkRange, type ParamGroup, type ParamsOrGroups } from './optimizer.js';

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

  /**
   * Applies one update from the current gradients, each parameter group in one kernel call
   * (sgdStepMany) per element type and per `first` (whether the momentum buffers start now):
   * a single call per group in the steady state. Parameters with no gradient are skipped.
   */
  override step(): void {
    // a subclass with an update() of its own gets the per-parameter loop that calls it
    if (this.update !== SGD.prototype.update) return super.step();
    this.stepCount++;
    for (const group of this.paramGroups) {
      const { lr, momentum, dampening, nesterov, weightDecay } = group;
      // four lists at most: float32 / float64 parameters (index 0 / 2), buffers already started or starting now (+0 / +1)
      const lists: { w: FloatArray[]; grad: FloatArray[]; buf: (FloatArray | null)[] }[] = [];
      for (const p of group.params) {
        if (!p.grad) continue;
        const first = this.startBuffer(p, group);
        const i = (p.data instanceof Float64Array ? 2 : 0) + (first ? 1 : 0);
        const list = (lists[i] ??= { w: [], grad: [], buf: [] });
        list.w.push(p.data);
        list.grad.push(p.grad.data);
        list.buf.push(momentum === 0 ? null : (this.state.get(p)!.momentumBuffer as FloatArray));
      }
      lists.forEach((list, i) => {
        // The backend of the parameters' dtype: wasm and native update large float32 parameters with SIMD.
        kernelsFor(i >= 2 ? 'float64' : 'float32').sgdStepMany(list.w, list.grad, list.buf, { lr, momentum, dampening, weightDecay, nesterov, first: i % 2 === 1 });
      });
    }
  }

  /** One parameter's update (sgdStep), as step() gives it within its group. */
  protected update(p: Tensor, grad: FloatArray, group: SGDParamGroup): void {
    const { lr, momentum, dampening, nesterov, weightDecay } = group;
    const first = this.startBuffer(p, group);
    const buf = momentum === 0 ? null : (this.state.get(p)!.momentumBuffer as FloatArray);
    kernelsFor(p.dtype).sgdStep(p.data, grad, buf, { lr, momentum, dampening, weightDecay, nesterov, first });
  }

  /** Creates the parameter's state, and its momentum buffer when the group has momentum; true when the buffer starts now. */
  private startBuffer(p: Tensor, group: SGDParamGroup): boolean {
    let state = this.state.get(p);
    if (state === undefined) this.state.set(p, (state = {}));
    if (group.momentum === 0 || state.momentumBuffer !== undefined) return false;
    state.momentumBuffer = p.data instanceof Float64Array ? new Float64Array(p.size) : new Float32Array(p.size);
    return true;
  }
}
