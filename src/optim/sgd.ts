import { ValueError } from '../errors.js';
import { checkOptions } from '../ops/util.js';
import type { FloatArray } from '../tensor/tensor.js';
import { Tensor } from '../tensor/tensor.js';
import { Optimizer, checkRange, type ParamsLike } from './optimizer.js';

export interface SGDOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/**
 * Stochastic gradient descent, step for step as torch.optim.SGD:
 *   g = grad + weightDecay * p
 *   buf = g (first step), else buf = momentum * buf + (1 - dampening) * g
 *   g = nesterov ? g + momentum * buf : buf        (when momentum > 0)
 *   p = p - lr * g
 */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  private readonly buffers: (FloatArray | null)[];

  constructor(params: ParamsLike, options: SGDOptions = {}) {
    checkOptions('SGD', options, ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay']);
    super('SGD', params, options.lr ?? 0.001);
    this.momentum = checkRange('SGD', 'momentum', options.momentum ?? 0, 0, Infinity);
    this.dampening = checkRange('SGD', 'dampening', options.dampening ?? 0, 0, 1);
    this.weightDecay = checkRange('SGD', 'weightDecay', options.weightDecay ?? 0, 0, Infinity);
    this.nesterov = options.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new ValueError(`SGD: nesterov needs momentum > 0 and dampening 0, got momentum ${this.momentum}, dampening ${this.dampening}`);
    }
    this.buffers = this.params.map(() => null);
  }

  protected update(p: Tensor, grad: ArrayLike<number>, index: number): void {
    const { lr, momentum, dampening, nesterov, weightDecay } = this;
    const w = p.data;
    const n = w.length;
    if (momentum === 0) {
      for (let i = 0; i < n; i++) w[i] -= lr * (grad[i] + weightDecay * w[i]);
      return;
    }
    let buf = this.buffers[index];
    const first = buf === null;
    if (buf === null) buf = this.buffers[index] = new (w.constructor as Float32ArrayConstructor)(n);
    for (let i = 0; i < n; i++) {
      const g = grad[i] + weightDecay * w[i];
      const b = first ? g : momentum * buf[i] + (1 - dampening) * g;
      buf[i] = b;
      w[i] -= lr * (nesterov ? g + momentum * b : b);
    }
  }
}
