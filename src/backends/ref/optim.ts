/**
 * Optimizer updates (reference): SGD with momentum, dampening, Nesterov and
 * weight decay, as torch.optim.SGD. Each expression is evaluated in float64
 * and stored into the parameter's own type.
 */
import type { FloatArray, SgdStepParams } from '../backend.js';

/** sgdStep on each parameter of a list in turn (the kernel's contract: each ends as sgdStep leaves it). */
export function sgdStepMany(w: readonly FloatArray[], grad: readonly FloatArray[], buf: readonly (FloatArray | null)[], p: SgdStepParams): void {
  for (let i = 0; i < w.length; i++) sgdStep(w[i], grad[i], buf[i], p);
}

export function sgdStep(w: FloatArray, grad: FloatArray, buf: FloatArray | null, p: SgdStepParams): void {
  const { lr, momentum, dampening, weightDecay, nesterov, first } = p;
  const n = w.length;
  if (momentum === 0 || buf === null) {
    for (let i = 0; i < n; i++) w[i] -= lr * (grad[i] + weightDecay * w[i]);
    return;
  }
  if (w instanceof Float32Array && grad instanceof Float32Array && buf instanceof Float32Array) {
    momentumStep32(w, grad, buf, lr, momentum, dampening, weightDecay, nesterov, first);
    return;
  }
  for (let i = 0; i < n; i++) {
    const g = grad[i] + weightDecay * w[i];
    const b = first ? g : momentum * buf[i] + (1 - dampening) * g;
    buf[i] = b;
    w[i] -= lr * (nesterov ? g + momentum * b : b);
  }
}

/**
 * The momentum update above for float32 arrays, in a function that only ever
 * sees Float32Array (the generic loop reads float32 or float64 arrays, which
 * V8 compiles to polymorphic element access: LeNet-5's 61,706 parameters took
 * ~0.5 ms per step). Same expressions in the same order, so the same float32
 * results.
 */
function momentumStep32(
  w: Float32Array, grad: Float32Array, buf: Float32Array,
  lr: number, momentum: number, dampening: number, weightDecay: number, nesterov: boolean, first: boolean,
): void {
  const n = w.length;
  const keep = 1 - dampening;
  if (first) {
    for (let i = 0; i < n; i++) {
      const g = grad[i] + weightDecay * w[i];
      buf[i] = g;
      w[i] -= lr * (nesterov ? g + momentum * g : g);
    }
    return;
  }
  if (nesterov) {
    for (let i = 0; i < n; i++) {
      const g = grad[i] + weightDecay * w[i];
      const b = momentum * buf[i] + keep * g;
      buf[i] = b;
      w[i] -= lr * (g + momentum * b);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const g = grad[i] + weightDecay * w[i];
    const b = momentum * buf[i] + keep * g;
    buf[i] = b;
    w[i] -= lr * b;
  }
}
