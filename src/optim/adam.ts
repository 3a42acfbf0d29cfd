import { checkOptions } from '../ops/util.js';
import type { FloatArray, Tensor } from '../tensor/tensor.js';
import { Optimizer, checkRange, type ParamsLike } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
}

/**
 * Adam, as torch.optim.Adam (weight decay added to the gradient, L2 style):
 *   g = grad + weightDecay * p
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p = p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * AdamW (below) decays the weights directly instead: p = p (1 - lr * weightDecay).
 */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  protected readonly decoupled: boolean;
  private readonly m: (FloatArray | null)[];
  private readonly v: (FloatArray | null)[];
  private readonly steps: number[];

  constructor(params: ParamsLike, options: AdamOptions = {}, name = 'Adam', decoupled = false, defaultDecay = 0) {
    checkOptions(name, options, ['lr', 'betas', 'eps', 'weightDecay']);
    super(name, params, options.lr ?? 0.001);
    const betas = options.betas ?? [0.9, 0.999];
    this.beta1 = checkRange(name, 'betas[0]', betas[0], 0, 1, true);
    this.beta2 = checkRange(name, 'betas[1]', betas[1], 0, 1, true);
    this.eps = checkRange(name, 'eps', options.eps ?? 1e-8, 0, Infinity);
    this.weightDecay = checkRange(name, 'weightDecay', options.weightDecay ?? defaultDecay, 0, Infinity);
    this.decoupled = decoupled;
    this.m = this.params.map(() => null);
    this.v = this.params.map(() => null);
    this.steps = this.params.map(() => 0);
  }

  protected update(p: Tensor, grad: ArrayLike<number>, index: number): void {
    const { lr, beta1, beta2, eps, weightDecay, decoupled } = this;
    const w = p.data;
    const n = w.length;
    const Ctor = w.constructor as Float32ArrayConstructor;
    const m = (this.m[index] ??= new Ctor(n));
    const v = (this.v[index] ??= new Ctor(n));
    const t = ++this.steps[index];
    const bc1 = 1 - Math.pow(beta1, t);
    const bc2 = Math.sqrt(1 - Math.pow(beta2, t));
    const stepSize = lr / bc1;
    for (let i = 0; i < n; i++) {
      let g = grad[i];
      if (decoupled) w[i] *= 1 - lr * weightDecay;
      else if (weightDecay !== 0) g += weightDecay * w[i];
      const mi = beta1 * m[i] + (1 - beta1) * g;
      const vi = beta2 * v[i] + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      w[i] -= (stepSize * mi) / (Math.sqrt(vi) / bc2 + eps);
    }
  }
}

/** AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, default weightDecay 0.01 as PyTorch. */
export class AdamW extends Adam {
  constructor(params: ParamsLike, options: AdamOptions = {}) {
    super(params, options, 'AdamW', true, 0.01);
  }
}
