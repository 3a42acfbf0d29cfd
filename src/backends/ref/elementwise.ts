import type { BinaryOp, FloatArray, UnaryOp, UnaryParams } from '../backend.js';
import { normalCdf, normalPdf } from './erf.js';

/** sqrt(2/pi) and the cubic coefficient of GELU's tanh approximation (Hendrycks & Gimpel, 2016). */
const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/** 1 / (1 + e^-v), with two branches so exp never overflows. */
function sigmoidOf(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

/**
 * The scalars of the parameterised ops named by what they mean, with PyTorch's
 * defaults where the params leave them out (see UnaryParams).
 */
function scalarsOf(p: UnaryParams) {
  return {
    slope: p.alpha ?? 0.01, // leakyRelu
    exponent: p.alpha ?? 1, // powScalar
    min: p.alpha ?? -Infinity, // clamp
    max: p.beta ?? Infinity, // clamp
    eluAlpha: p.alpha ?? 1,
    softplusBeta: p.alpha ?? 1,
    threshold: p.beta ?? 20, // softplus
  };
}

/** out[i] = f(x[i]) for the element-wise functions of one input. */
export function unary(op: UnaryOp, x: FloatArray, out: FloatArray, p: UnaryParams): void {
  const n = x.length;
  const k = scalarsOf(p);
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++) out[i] = -x[i]; return;
    case 'exp': for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]); return;
    case 'log': for (let i = 0; i < n; i++) out[i] = Math.log(x[i]); return;
    case 'sqrt': for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]); return;
    case 'abs': for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]); return;
    case 'square': for (let i = 0; i < n; i++) out[i] = x[i] * x[i]; return;
    case 'reciprocal': for (let i = 0; i < n; i++) out[i] = 1 / x[i]; return;
    case 'sign': for (let i = 0; i < n; i++) out[i] = Math.sign(x[i]); return;
    case 'relu': for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? x[i] : 0; return;
    case 'leakyRelu': for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? x[i] : k.slope * x[i]; return;
    case 'sigmoid': for (let i = 0; i < n; i++) out[i] = sigmoidOf(x[i]); return;
    case 'tanh': for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]); return;
    case 'powScalar': for (let i = 0; i < n; i++) out[i] = Math.pow(x[i], k.exponent); return;
    case 'clamp':
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = v < k.min ? k.min : v > k.max ? k.max : v;
      }
      return;
    case 'elu':
      // x for x > 0, alpha * (e^x - 1) otherwise (expm1 keeps small |x| exact).
      for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? x[i] : k.eluAlpha * Math.expm1(x[i]);
      return;
    case 'softplus':
      // log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (PyTorch's linear region).
      // For beta x > 0 it is written as beta x + log1p(e^-(beta x)) so e^(beta x) never overflows.
      for (let i = 0; i < n; i++) {
        const z = k.softplusBeta * x[i];
        out[i] = z > k.threshold ? x[i] : (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) / k.softplusBeta;
      }
      return;
    case 'gelu': for (let i = 0; i < n; i++) out[i] = x[i] * normalCdf(x[i]); return; // x * Phi(x)
    case 'geluTanh':
      // x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
      for (let i = 0; i < n; i++) {
        const v = x[i];
        out[i] = 0.5 * v * (1 + Math.tanh(GELU_K * (v + GELU_C * v * v * v)));
      }
      return;
    case 'silu': for (let i = 0; i < n; i++) out[i] = x[i] * sigmoidOf(x[i]); return; // x * sigmoid(x)
  }
}

/** gx[i] = gy[i] * f'(x[i]), using the saved output y where that is cheaper. */
export function unaryBackward(op: UnaryOp, x: FloatArray, y: FloatArray, gy: FloatArray, gx: FloatArray, p: UnaryParams): void {
  const n = x.length;
  const k = scalarsOf(p);
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++) gx[i] = -gy[i]; return;
    case 'exp': for (let i = 0; i < n; i++) gx[i] = gy[i] * y[i]; return; // (e^x)' = e^x
    case 'log': for (let i = 0; i < n; i++) gx[i] = gy[i] / x[i]; return; // (ln x)' = 1/x
    case 'sqrt': for (let i = 0; i < n; i++) gx[i] = gy[i] / (2 * y[i]); return; // (sqrt x)' = 1/(2 sqrt x)
    case 'abs': for (let i = 0; i < n; i++) gx[i] = gy[i] * Math.sign(x[i]); return; // 0 at 0, as PyTorch
    case 'square': for (let i = 0; i < n; i++) gx[i] = 2 * x[i] * gy[i]; return;
    case 'reciprocal': for (let i = 0; i < n; i++) gx[i] = -gy[i] * y[i] * y[i]; return; // (1/x)' = -1/x^2
    case 'sign': gx.fill(0); return;
    case 'relu': for (let i = 0; i < n; i++) gx[i] = x[i] > 0 ? gy[i] : 0; return; // 0 at 0, as PyTorch
    case 'leakyRelu': for (let i = 0; i < n; i++) gx[i] = x[i] > 0 ? gy[i] : k.slope * gy[i]; return;
    case 'sigmoid': for (let i = 0; i < n; i++) gx[i] = gy[i] * y[i] * (1 - y[i]); return; // s' = s(1-s)
    case 'tanh': for (let i = 0; i < n; i++) gx[i] = gy[i] * (1 - y[i] * y[i]); return; // tanh' = 1 - tanh^2
    case 'powScalar': {
      const e = k.exponent;
      for (let i = 0; i < n; i++) gx[i] = e === 0 ? 0 : gy[i] * e * Math.pow(x[i], e - 1); // (x^e)' = e x^(e-1)
      return;
    }
    case 'clamp':
      // Gradient passes where the input was inside [min, max] (boundaries included, as PyTorch).
      for (let i = 0; i < n; i++) gx[i] = x[i] >= k.min && x[i] <= k.max ? gy[i] : 0;
      return;
    case 'elu':
      // 1 for x > 0, alpha e^x = y + alpha otherwise (alpha at x = 0, as PyTorch).
      for (let i = 0; i < n; i++) gx[i] = x[i] > 0 ? gy[i] : gy[i] * k.eluAlpha * Math.exp(x[i]);
      return;
    case 'softplus':
      // d/dx log(1 + e^(beta x)) / beta = sigmoid(beta x); 1 in the linear region beta x > threshold.
      for (let i = 0; i < n; i++) {
        const z = k.softplusBeta * x[i];
        gx[i] = z > k.threshold ? gy[i] : gy[i] * sigmoidOf(z);
      }
      return;
    case 'gelu':
      // (x Phi(x))' = Phi(x) + x phi(x), phi the standard normal density.
      for (let i = 0; i < n; i++) gx[i] = gy[i] * (normalCdf(x[i]) + x[i] * normalPdf(x[i]));
      return;
    case 'geluTanh':
      // With u = sqrt(2/pi)(x + 0.044715 x^3), t = tanh u:
      // d/dx [x/2 (1 + t)] = (1 + t)/2 + x/2 (1 - t^2) sqrt(2/pi)(1 + 3*0.044715 x^2).
      for (let i = 0; i < n; i++) {
        const v = x[i];
        const t = Math.tanh(GELU_K * (v + GELU_C * v * v * v));
        gx[i] = gy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_K * (1 + 3 * GELU_C * v * v));
      }
      return;
    case 'silu':
      // (x s(x))' = s(x) + x s(x)(1 - s(x)) = s(x)(1 + x(1 - s(x))).
      for (let i = 0; i < n; i++) {
        const s = sigmoidOf(x[i]);
        gx[i] = gy[i] * s * (1 + x[i] * (1 - s));
      }
      return;
  }
}

function binaryScalar(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case 'add': return (a, b) => a + b;
    case 'sub': return (a, b) => a - b;
    case 'mul': return (a, b) => a * b;
    case 'div': return (a, b) => a / b;
    case 'pow': return Math.pow;
    case 'maximum': return (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b);
    case 'minimum': return (a, b) => (a !== a || b !== b ? NaN : a < b ? a : b);
    case 'eq': return (a, b) => (a === b ? 1 : 0);
    case 'ne': return (a, b) => (a !== b ? 1 : 0);
    case 'lt': return (a, b) => (a < b ? 1 : 0);
    case 'le': return (a, b) => (a <= b ? 1 : 0);
    case 'gt': return (a, b) => (a > b ? 1 : 0);
    case 'ge': return (a, b) => (a >= b ? 1 : 0);
  }
}

/**
 * Broadcasting element-wise op. Each operand is walked with its own strides,
 * where a dimension of extent 1 gets stride 0 so the same value repeats.
 * Common cases (same shape, scalar on either side) get straight loops.
 */
export function binary(op: BinaryOp, a: FloatArray, aShape: readonly number[], b: FloatArray, bShape: readonly number[], out: FloatArray, outShape: readonly number[]): void {
  const f = binaryScalar(op);
  const n = out.length;
  if (a.length === n && b.length === n) {
    if (op === 'add') for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
    else if (op === 'mul') for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
    else if (op === 'sub') for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
    else for (let i = 0; i < n; i++) out[i] = f(a[i], b[i]);
    return;
  }
  if (b.length === 1 && a.length === n) {
    const bv = b[0];
    for (let i = 0; i < n; i++) out[i] = f(a[i], bv);
    return;
  }
  if (a.length === 1 && b.length === n) {
    const av = a[0];
    for (let i = 0; i < n; i++) out[i] = f(av, b[i]);
    return;
  }
  const rank = outShape.length;
  const aStr = broadcastStrides(aShape, outShape);
  const bStr = broadcastStrides(bShape, outShape);
  const idx = new Array<number>(rank).fill(0);
  const last = rank - 1;
  const innerN = outShape[last];
  const aIn = aStr[last];
  const bIn = bStr[last];
  let ai = 0;
  let bi = 0;
  for (let o = 0; o < n; o += innerN) {
    for (let j = 0; j < innerN; j++) out[o + j] = f(a[ai + j * aIn], b[bi + j * bIn]);
    // Advance the multi-index over all but the last dimension.
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      ai += aStr[d];
      bi += bStr[d];
      if (idx[d] < outShape[d]) break;
      ai -= aStr[d] * outShape[d];
      bi -= bStr[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

/** Strides of `shape` inside `outShape` (same rank), 0 where the operand is broadcast. */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const s = new Array<number>(rank).fill(0);
  let acc = 1;
  for (let d = rank - 1; d >= 0; d--) {
    s[d] = shape[d] === 1 && outShape[d] !== 1 ? 0 : acc;
    acc *= shape[d];
  }
  return s;
}
