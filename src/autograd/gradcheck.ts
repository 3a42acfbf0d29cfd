import { ValueError, fmtShape } from '../errors.js';
import { Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptions } from '../validate.js';
import { backward } from './backward.js';
import { enableGrad, noGrad } from './tape.js';

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
  /** Throw a ValueError describing the worst mismatch (default true); otherwise just report. */
  throwOnFailure?: boolean;
  /** Seed of the random projection of the output (default 0). */
  seed?: number;
}

export interface GradcheckInputReport {
  index: number;
  shape: readonly number[];
  maxAbsError: number;
  worst: { element: number; analytic: number; numeric: number } | null;
}

export interface GradcheckReport {
  passed: boolean;
  inputs: GradcheckInputReport[];
}

/**
 * Checks the analytic gradients of `fn` against central differences,
 * computed in float64:
 *   dL/dx_i ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps),
 * where L = sum(fn(inputs) * r) for a fixed random r, so every output element
 * takes part and one backward pass gives the whole analytic gradient.
 *
 * Inputs that require grad are checked (all inputs when none does). Inputs are
 * copied to float64; `fn` must build its result from its arguments only
 * (float32 constants inside it are promoted).
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): GradcheckReport {
  if (typeof fn !== 'function') throw new ValueError('gradcheck: fn must be a function of the input tensors');
  if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((t) => t instanceof Tensor)) {
    throw new ValueError('gradcheck: inputs must be a non-empty array of tensors');
  }
  checkOptions('gradcheck', options, ['eps', 'atol', 'rtol', 'throwOnFailure', 'seed']);
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-3;
  const anyMarked = inputs.some((t) => t.requiresGrad);
  const checked = inputs.map((t) => (anyMarked ? t.requiresGrad : true));
  const x64 = inputs.map((t, i) => {
    const c = new Tensor(new Float64Array(t.data), t.shape);
    if (checked[i]) c.requiresGrad = true;
    return c;
  });

  const out = enableGrad(() => fn(...x64));
  if (!(out instanceof Tensor)) throw new ValueError('gradcheck: fn must return a Tensor');
  const rng = new Generator(options.seed ?? 0);
  const r = new Tensor(new Float64Array(out.size).map(() => rng.uniform(-1, 1)), out.shape);
  if (!out.requiresGrad) {
    throw new ValueError('gradcheck: the output does not depend on any checked input (no gradFn); does fn use its arguments?');
  }
  backward(out, r);

  const project = (): number => {
    const y = noGrad(() => fn(...x64));
    let s = 0;
    for (let k = 0; k < y.size; k++) s += y.data[k] * r.data[k];
    return s;
  };

  const reports: GradcheckInputReport[] = [];
  let passed = true;
  let failure = '';
  for (let i = 0; i < x64.length; i++) {
    if (!checked[i]) continue;
    const x = x64[i];
    const analytic = x.grad ? x.grad.data : new Float64Array(x.size);
    let maxAbs = 0;
    let worst: GradcheckInputReport['worst'] = null;
    for (let e = 0; e < x.size; e++) {
      const orig = x.data[e];
      x.data[e] = orig + eps;
      const plus = project();
      x.data[e] = orig - eps;
      const minus = project();
      x.data[e] = orig;
      const numeric = (plus - minus) / (2 * eps);
      const err = Math.abs(analytic[e] - numeric);
      if (err > maxAbs) maxAbs = err;
      if (err > atol + rtol * Math.abs(numeric)) {
        if (passed || worst === null) {
          failure = `gradcheck: input ${i} (shape ${fmtShape(x.shape)}), element ${e}: analytic gradient ${analytic[e]} but finite differences give ${numeric} (|diff| ${err.toExponential(3)} > atol ${atol} + rtol ${rtol} * |numeric|)`;
        }
        passed = false;
        if (worst === null || err > Math.abs(worst.analytic - worst.numeric)) worst = { element: e, analytic: analytic[e], numeric };
      }
    }
    reports.push({ index: i, shape: x.shape, maxAbsError: maxAbs, worst });
  }
  if (!passed && (options.throwOnFailure ?? true)) throw new ValueError(failure);
  return { passed, inputs: reports };
}
