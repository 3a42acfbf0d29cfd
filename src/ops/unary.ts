/**
 * Element-wise functions of one tensor and their derivatives (the formulas are
 * beside each case in backends/ref/elementwise.ts: f'(x) per op). The
 * activations relu, leakyRelu, sigmoid and tanh are here too: they are the same
 * kind of op.
 */
import { record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import type { UnaryOp, UnaryParams } from '../backends/backend.js';
import { ValueError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { checkTensor, output } from './util.js';
import { checkOptions } from '../validate.js';

function unaryOp(op: UnaryOp, x: Tensor, params: UnaryParams = {}, name: string = op): Tensor {
  checkTensor(name, 'input', x);
  const k = kernelsFor(x.dtype);
  const out = output(x.shape, x.dtype);
  k.unary(op, x.data, out.data, params);
  return record(out, name, [x], (g) => {
    const gx = output(x.shape, g.dtype);
    kernelsFor(g.dtype).unaryBackward(op, x.data, out.data, g.data, gx.data, params);
    return [gx];
  }, { op, params });
}

export const neg = (x: Tensor) => unaryOp('neg', x);
export const exp = (x: Tensor) => unaryOp('exp', x);
export const log = (x: Tensor) => unaryOp('log', x);
export const sqrt = (x: Tensor) => unaryOp('sqrt', x);
export const abs = (x: Tensor) => unaryOp('abs', x);
export const square = (x: Tensor) => unaryOp('square', x);
export const reciprocal = (x: Tensor) => unaryOp('reciprocal', x);
export const sign = (x: Tensor) => unaryOp('sign', x);

/** x ^ exponent for a number exponent (pow with a tensor exponent is in binary.ts). */
export function powScalar(x: Tensor, exponent: number): Tensor {
  if (typeof exponent !== 'number' || Number.isNaN(exponent)) throw new ValueError(`pow: exponent must be a number, got ${exponent}`);
  return unaryOp('powScalar', x, { alpha: exponent }, 'pow');
}

/** Limits values to [min, max]; either bound may be omitted. The gradient passes inside the bounds. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  if (Number.isNaN(lo) || Number.isNaN(hi)) throw new ValueError(`clamp: bounds must be numbers, got min ${min}, max ${max}`);
  if (lo > hi) throw new ValueError(`clamp: min ${lo} is greater than max ${hi}`);
  return unaryOp('clamp', x, { alpha: lo, beta: hi }, 'clamp');
}

/** max(x, 0). The derivative at 0 is taken as 0, as in PyTorch. */
export const relu = (x: Tensor) => unaryOp('relu', x);

/** x for x > 0, negativeSlope * x otherwise (default slope 0.01, as PyTorch). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  if (typeof negativeSlope !== 'number' || !Number.isFinite(negativeSlope)) {
    throw new ValueError(`leakyRelu: negativeSlope must be a finite number, got ${negativeSlope}`);
  }
  return unaryOp('leakyRelu', x, { alpha: negativeSlope });
}

/** 1 / (1 + e^-x). */
export const sigmoid = (x: Tensor) => unaryOp('sigmoid', x);

export const tanh = (x: Tensor) => unaryOp('tanh', x);

/** x for x > 0, alpha * (e^x - 1) otherwise (PyTorch's ELU; default alpha 1). */
export function elu(x: Tensor, alpha = 1): Tensor {
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) {
    throw new ValueError(`elu: alpha must be a finite number, got ${alpha}`);
  }
  return unaryOp('elu', x, { alpha });
}

export interface SoftplusOptions {
  /** Sharpness: y = log(1 + e^(beta x)) / beta (default 1). */
  beta?: number;
  /** Where beta * x > threshold the result is x itself, as PyTorch (default 20). */
  threshold?: number;
}

/**
 * A smooth relu: log(1 + e^(beta x)) / beta, and x where beta * x > threshold
 * (PyTorch's linear region, which also keeps exp from overflowing).
 */
export function softplus(x: Tensor, options: SoftplusOptions = {}): Tensor {
  checkOptions('softplus', options, ['beta', 'threshold']);
  const beta = options.beta ?? 1;
  const threshold = options.threshold ?? 20;
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta === 0) {
    throw new ValueError(`softplus: beta must be a finite non-zero number, got ${beta}`);
  }
  if (typeof threshold !== 'number' || Number.isNaN(threshold)) {
    throw new ValueError(`softplus: threshold must be a number, got ${threshold}`);
  }
  return unaryOp('softplus', x, { alpha: beta, beta: threshold });
}

export interface GeluOptions {
  /** 'none' (default): x * Phi(x) with the exact normal CDF (erf); 'tanh': x/2 (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))). */
  approximate?: 'none' | 'tanh';
}

/** Gaussian error linear unit, x * Phi(x) (Hendrycks & Gimpel, 2016), or its tanh approximation. */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  checkOptions('gelu', options, ['approximate']);
  const approximate = options.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new ValueError(`gelu: approximate must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`);
  }
  return unaryOp(approximate === 'tanh' ? 'geluTanh' : 'gelu', x, {}, 'gelu');
}

/** Sigmoid linear unit (swish): x * sigmoid(x). */
export const silu = (x: Tensor) => unaryOp('silu', x);
