import { Tensor } from '../tensor/tensor.js';
import { checkForward, isAnomalyEnabled, notePlace } from './anomaly.js';

let gradEnabled = true;

/** True unless inside noGrad(). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn with recording set to `enabled`, then restores the setting it found. */
function withGradEnabled<T>(enabled: boolean, fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Runs fn with recording off: results of ops inside have no gradFn and do not
 * require grad (inference, optimizer updates, metric computation).
 */
export function noGrad<T>(fn: () => T): T {
  return withGradEnabled(false, fn);
}

/** Runs fn with recording on, even inside noGrad (used by gradcheck). */
export function enableGrad<T>(fn: () => T): T {
  return withGradEnabled(true, fn);
}

/** True when an op on these inputs must be recorded. */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

/**
 * Records `out` as computed by op `name` from `inputs`, when any input requires
 * grad. `backward(gy)` returns dL/dinput for each input (null to skip one); it
 * is only called for graphs that need it, with recording off. It must not keep
 * `gy` or what it returns after it returns: the engine recycles gradient
 * memory it knows to be free (backward.ts). `attrs` keeps what the op was
 * asked to do beyond its inputs, for exporters (GradFn.attrs). In anomaly
 * mode (anomaly.ts) `out` is checked for NaN and infinities first, recorded
 * or not. Internal: ops only, not exported from the package.
 */
export function record(
  out: Tensor,
  name: string,
  inputs: (Tensor | null | undefined)[],
  backward: (gradOutput: Tensor) => (Tensor | null)[],
  attrs?: object,
): Tensor {
  const place = isAnomalyEnabled() ? checkForward(out, name, inputs) : null;
  if (!needsGrad(...inputs)) return out;
  const kept = inputs.map((t) => t ?? PLACEHOLDER);
  out.requiresGrad = true;
  out.gradFn = attrs === undefined ? { name, inputs: kept, backward } : { name, inputs: kept, backward, attrs };
  if (place !== null) notePlace(out.gradFn, place);
  return out;
}

/** Whether `t` stands for an absent optional input in a GradFn's inputs (a missing bias). */
export function isPlaceholder(t: Tensor): boolean {
  return t === PLACEHOLDER;
}

/** Stands in for an absent optional input (a missing bias) so indices line up. */
const PLACEHOLDER = new Tensor(new Float32Array(0), [0]);
