/**
 * Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_.
 * Call between backward() and optimizer.step(); gradients are rescaled in
 * place (they are plain buffers outside the autograd graph). Parameters
 * without a gradient are skipped.
 */
import { ValueError } from '../errors.js';
import { checkOptions } from '../validate.js';
import { Tensor } from '../tensor/tensor.js';
import type { ParamsLike } from './optimizer.js';

export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or infinite instead of scaling by it (default false, as PyTorch). */
  errorIfNonfinite?: boolean;
}

function gradients(where: string, params: ParamsLike | Tensor): Tensor[] {
  let list: unknown[];
  if (params instanceof Tensor) list = [params];
  else if (params && typeof (params as { parameters?: unknown }).parameters === 'function') list = (params as { parameters(): Tensor[] }).parameters();
  else if (params && typeof (params as Iterable<Tensor>)[Symbol.iterator] === 'function') list = [...(params as Iterable<Tensor>)];
  else throw new ValueError(`${where}: params must be a Tensor, a list of tensors or a Module, got ${params === null ? 'null' : typeof params}`);
  const grads: Tensor[] = [];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new ValueError(`${where}: parameter ${i} is not a Tensor`);
    if (p.grad) grads.push(p.grad);
  });
  return grads;
}

/**
 * Rescales the gradients of `params` so that their joint p-norm (the norm of
 * all gradients concatenated) is at most maxNorm, and returns that norm as it
 * was before clipping:
 *   total = (sum over every gradient entry of |g|^p)^(1/p)   (p = Infinity: max |g|)
 *   g = g * min(1, maxNorm / (total + 1e-6))
 * normType is p (default 2; Infinity for the max norm).
 */
export function clipGradNorm(params: ParamsLike | Tensor, maxNorm: number, normType = 2, options: ClipGradNormOptions = {}): number {
  checkOptions('clipGradNorm', options, ['errorIfNonfinite']);
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0) || Number.isNaN(maxNorm)) {
    throw new ValueError(`clipGradNorm: maxNorm must be a number >= 0, got ${maxNorm}`);
  }
  if (typeof normType !== 'number' || !(normType > 0)) {
    throw new ValueError(`clipGradNorm: normType must be a number > 0 or Infinity (the max norm), got ${normType}`);
  }
  const grads = gradients('clipGradNorm', params);
  if (grads.length === 0) return 0;
  let total: number;
  if (normType === Infinity) {
    total = 0;
    for (const g of grads) {
      for (let i = 0; i < g.size; i++) {
        const a = Math.abs(g.data[i]);
        if (a > total || a !== a) total = a;
      }
    }
  } else {
    let s = 0;
    for (const g of grads) for (let i = 0; i < g.size; i++) s += Math.pow(Math.abs(g.data[i]), normType);
    total = Math.pow(s, 1 / normType);
  }
  if (!Number.isFinite(total) && options.errorIfNonfinite) {
    throw new ValueError(`clipGradNorm: the total norm of order ${normType} of the gradients is ${total}, so they cannot be clipped; check the loss and the inputs for NaN or inf (or pass errorIfNonfinite: false to scale anyway)`);
  }
  // min(coef, 1), NaN when the norm is NaN: as PyTorch, a non-finite norm spreads into the gradients (NaN, or 0 * inf).
  const coef = Math.min(maxNorm / (total + 1e-6), 1);
  if (coef !== 1) {
    for (const g of grads) for (let i = 0; i < g.size; i++) g.data[i] *= coef;
  }
  return total;
}

/** Clamps every gradient entry of `params` to [-clipValue, clipValue] in place. */
export function clipGradValue(params: ParamsLike | Tensor, clipValue: number): void {
  if (typeof clipValue !== 'number' || !(clipValue >= 0)) {
    throw new ValueError(`clipGradValue: clipValue must be a number >= 0 (gradients are clamped to [-clipValue, clipValue]), got ${clipValue}`);
  }
  for (const g of gradients('clipGradValue', params)) {
    for (let i = 0; i < g.size; i++) {
      const v = g.data[i];
      if (v > clipValue) g.data[i] = clipValue;
      else if (v < -clipValue) g.data[i] = -clipValue;
    }
  }
}
