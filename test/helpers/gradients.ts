/**
 * Gradient checks: gradcheck (float64 central differences) must pass with
 * every checked input's largest error below maxError; and an op's float32
 * gradients on the backend under test must equal its float64 gradients.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradcheck, tensor, type Tensor } from '../../src/index.js';
import { assertClose } from './close.js';
import { ok } from './ok.js';

export interface GradcheckExpectation {
  /** Bound on each input's largest |analytic - numeric| (1e-5 unless given). */
  readonly maxError?: number;
  /** How many inputs gradcheck must have checked (all of them unless given). */
  readonly checked?: number;
  /** Names the case in a failure. */
  readonly what?: string;
}

/** Runs gradcheck on fn at inputs and asserts that it passed, on the expected inputs, within maxError. */
export function assertGradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], expect: GradcheckExpectation = {}): void {
  const { maxError = 1e-5, checked = inputs.length, what = 'gradcheck' } = expect;
  const report = gradcheck(fn, inputs);
  ok(report.passed, `${what}: gradcheck failed`);
  assert.equal(report.inputs.length, checked, `${what}: inputs checked`);
  for (const r of report.inputs) ok(r.maxAbsError < maxError, `${what}: input ${r.index} max error ${r.maxAbsError}`);
}

/** Gradients of sum(f(inputs) * r) w.r.t. every input, in the given dtype. */
function gradsIn(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], r: Tensor, dtype: 'float32' | 'float64'): number[][] {
  const xs = inputs.map((t) => tensor(t.data, t.shape, { dtype, requiresGrad: true }));
  const y = f(...xs);
  y.backward(tensor(r.data, r.shape, { dtype }));
  return xs.map((x) => Array.from(x.grad!.data));
}

/**
 * A test that the float32 gradients of f on the backend under test equal the
 * float64 gradients (which gradcheck checks), within 1e-4 * (1 + |g64|).
 */
export function float32GradientsMatch(name: string, f: (...xs: Tensor[]) => Tensor, shapes: number[][], rn: (shape: number[]) => Tensor): void {
  test(`float32 gradients equal the float64 gradients: ${name}`, () => {
    const inputs = shapes.map((s) => rn(s));
    const outShape = f(...inputs).shape as number[];
    const r = rn(outShape);
    const g32 = gradsIn(f, inputs, r, 'float32');
    const g64 = gradsIn(f, inputs, r, 'float64');
    g32.forEach((g, i) => assertClose(g, g64[i], 1e-4, `${name}: input ${i}`));
  });
}
