import { ValueError } from '../errors.js';
import { checkOptions } from '../validate.js';
import type { FloatArray, Tensor } from '../tensor/tensor.js';
import { Optimizer, checkLr, checkRange, type ParamGroup, type ParamState, type ParamsOrGroups } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
}

/** An Adam / AdamW parameter group: its parameters and its own settings. */
export interface AdamParamGroup extends ParamGroup {
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
}

const ADAM_KEYS = ['lr', 'betas', 'eps', 'weightDecay'] as const;

/**
 * Adam, as torch.optim.Adam (weight decay added to the gradient, L2 style), per group:
 *   g = grad + weightDecay * p
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p = p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * AdamW (below) decays the weights directly instead: p = p (1 - lr * weightDecay).
 * State per parameter: `step` (t, counted per parameter: a parameter skipped
 * for lack of a gradient keeps its own count), `expAvg` (m), `expAvgSq` (v).
 */
export class Adam extends Optimizer<AdamParamGroup> {
  protected readonly decoupled: boolean;

  constructor(params: ParamsOrGroups<AdamOptions>, options: AdamOptions = {}, name = 'Adam', decoupled = false, defaultDecay = 0) {
    checkOptions(name, options, ADAM_KEYS);
    super(name, params, { ...options, weightDecay: options.weightDecay ?? defaultDecay });
    this.decoupled = decoupled;
  }

  protected groupKeys(): readonly string[] {
    return ADAM_KEYS;
  }

  protected resolveGroup(where: string, o: Record<string, unknown>): Omit<AdamParamGroup, 'params'> {
    const lr = checkLr(where, o.lr ?? 0.001);
    const betas = (o.betas ?? [0.9, 0.999]) as readonly number[];
    if (!Array.isArray(betas) || betas.length !== 2) throw new ValueError(`${where}: betas must be a pair [beta1, beta2], got ${JSON.stringify(betas)}`);
    checkRange(where, 'betas[0]', betas[0], 0, 1, true);
    checkRange(where, 'betas[1]', betas[1], 0, 1, true);
    const eps = checkRange(where, 'eps', (o.eps ?? 1e-8) as number, 0, Infinity);
    const weightDecay = checkRange(where, 'weightDecay', (o.weightDecay ?? 0) as number, 0, Infinity);
    return { lr, betas: [betas[0], betas[1]], eps, weightDecay };
  }

  /** The first group's settings (each group may have its own: paramGroups[i]). */
  get beta1(): number {
    return this.paramGroups[0].betas[0];
  }

  get beta2(): number {
    return this.paramGroups[0].betas[1];
  }

  get eps(): number {
    return this.paramGroups[0].eps;
  }

  get weightDecay(): number {
    return this.paramGroups[0].weightDecay;
  }

  protected update(p: Tensor, grad: FloatArray, group: AdamParamGroup, state: ParamState): void {
    const { lr, eps, weightDecay } = group;
    const [beta1, beta2] = group.betas;
    const decoupled = this.decoupled;
    const w = p.data;
    const n = w.length;
    const Ctor = w.constructor as Float32ArrayConstructor;
    const m = (state.expAvg ??= new Ctor(n)) as Float32Array;
    const v = (state.expAvgSq ??= new Ctor(n)) as Float32Array;
    const t = (state.step = ((state.step as number | undefined) ?? 0) + 1);
    const bc1 = 1 - Math.pow(beta1, t);
    const bc2 = Math.sqrt(1 - Math.pow(beta2, t));
    const stepSize = lr / bc1;
    if (w instanceof Float32Array && grad instanceof Float32Array) {
      adamStep32(w, grad, m, v, lr, weightDecay, decoupled, beta1, beta2, bc2, stepSize, eps);
      return;
    }
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
  constructor(params: ParamsOrGroups<AdamOptions>, options: AdamOptions = {}) {
    super(params, options, 'AdamW', true, 0.01);
  }
}

/**
 * The update above for float32 arrays, in a function that only ever sees
 * Float32Array (the generic loop's `ArrayLike<number>` and float32-or-float64
 * weights compile to polymorphic element access, ~3x slower; see sgd.ts).
 * Same expressions in the same order, so the same float32 results.
 */
function adamStep32(
  w: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, lr: number, weightDecay: number, decoupled: boolean,
  beta1: number, beta2: number, bc2: number, stepSize: number, eps: number,
): void {
  const n = w.length;
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
