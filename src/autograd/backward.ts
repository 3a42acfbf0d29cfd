import { kernelsFor } from '../backends/index.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor, allocateOutput, onesLike, recycleOutput, trackOutputs } from '../tensor/tensor.js';
import { checkBackward, inBackwardPass, isAnomalyEnabled } from './anomaly.js';
import { isPlaceholder, noGrad } from './tape.js';

/**
 * Reverse-mode differentiation from `root`. Nodes are visited in reverse
 * topological order, so each node's gradient is complete (every fan-out branch
 * summed) before it is passed on. Leaves that require grad accumulate into
 * `.grad` (call optimizer.zeroGrad() between steps, as in PyTorch). In
 * anomaly mode (anomaly.ts) each op's gradients are checked for NaN and
 * infinities as its backward function returns them.
 */
export function backward(root: Tensor, gradient?: Tensor): void {
  if (!root.requiresGrad) {
    throw new ValueError('backward: this tensor does not require grad and has no gradFn; make an input require grad (requiresGrad_()) before computing it');
  }
  if (gradient === undefined) {
    if (root.size !== 1) {
      throw new ShapeError(`backward: gradient can be implicit only for a one-element output, this one has shape ${fmtShape(root.shape)}; pass the upstream gradient, e.g. y.backward(onesLike(y))`);
    }
    gradient = onesLike(root);
  } else if (gradient.shape.join() !== root.shape.join()) {
    throw new ShapeError(`backward: gradient shape ${fmtShape(gradient.shape)} does not match the output shape ${fmtShape(root.shape)}`);
  }

  // Topological order by iterative depth-first search (deep nets would overflow recursion).
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.gradFn ? t.gradFn.inputs : [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i];
      if (child.requiresGrad && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }

  // Gradients made during this pass (their buffers, as allocateOutput tracks them) are recycled
  // once consumed and no longer held: `holders` counts, per buffer, the entries of `grads` that
  // hold it (add's backward returns one tensor for both inputs, reshape's a view of its gradient).
  // A node's consumed buffers are checked after all of its input gradients are stored, so one
  // that is passed on is never released. Backward functions do not keep the gradient they are
  // given, nor anything they return (tape.ts).
  // Weak, so that temporaries a backward function allocated and dropped are collectable at once.
  const made = new WeakSet<ArrayBufferLike>();
  const holders = new WeakMap<ArrayBufferLike, number>();
  const hold = (gt: Tensor, delta: number) => {
    const b = gt.data.buffer;
    if (made.has(b)) holders.set(b, (holders.get(b) ?? 0) + delta);
  };
  const consumed: Tensor[] = [];
  const releaseConsumed = () => {
    for (const gt of consumed) {
      const b = gt.data.buffer;
      if (made.has(b) && !holders.get(b)) {
        made.delete(b);
        holders.delete(b);
        recycleOutput(b);
      }
    }
    consumed.length = 0;
  };
  const grads = new Map<Tensor, Tensor>();
  grads.set(root, gradient);
  const previousTracker = trackOutputs(made);
  const anomaly = isAnomalyEnabled();
  try {
    const pass = () => noGrad(() => {
      for (let k = order.length - 1; k >= 0; k--) {
        const t = order[k];
        const g = grads.get(t);
        if (!g) continue;
        grads.delete(t);
        hold(g, -1);
        consumed.push(g);
        if (!t.gradFn) {
          const b = g.data.buffer;
          if (t.grad === null && made.has(b) && !holders.get(b) && g.dtype === t.dtype && g.data.byteLength === b.byteLength) {
            // a gradient made here and held by nothing else becomes .grad as it is (no copy); never recycled
            made.delete(b);
            t.grad = new Tensor(g.data, t.shape);
          } else {
            accumulateLeaf(t, g); // copies g (or adds it into .grad)
          }
          releaseConsumed();
          continue;
        }
        const inputGrads = t.gradFn.backward(g);
        if (anomaly) checkBackward(t.gradFn, g, inputGrads, isPlaceholder);
        const inputs = t.gradFn.inputs;
        for (let i = 0; i < inputs.length; i++) {
          const input = inputs[i];
          const gi = inputGrads[i];
          if (!gi || !input.requiresGrad) continue;
          if (gi.size !== input.size) {
            throw new ShapeError(`backward of ${t.gradFn.name}: gradient for input ${i} has shape ${fmtShape(gi.shape)} but the input has ${fmtShape(input.shape)} (a bug in the op)`);
          }
          const prev = grads.get(input);
          const next = prev ? addInto(prev, gi) : gi;
          if (prev) {
            hold(prev, -1);
            consumed.push(prev, gi);
          }
          hold(next, 1);
          grads.set(input, next);
        }
        releaseConsumed();
      }
    });
    if (anomaly) inBackwardPass(pass);
    else pass();
  } finally {
    trackOutputs(previousTracker);
  }
}

function accumulateLeaf(t: Tensor, g: Tensor): void {
  if (t.grad === null) {
    // Own the buffer: g may be shared with another node's data.
    const data = t.dtype === 'float64' ? new Float64Array(g.data) : new Float32Array(g.data);
    t.grad = new Tensor(data, t.shape);
  } else {
    const d = t.grad.data;
    const s = g.data;
    for (let i = 0; i < d.length; i++) d[i] += s[i];
  }
}

/**
 * a + b into a fresh tensor shaped like a (gradients of fan-out sum), on the
 * backend's `binary` kernel: residual blocks sum two activation-sized
 * gradients per block, which a fast backend does without a JavaScript loop.
 */
function addInto(a: Tensor, b: Tensor): Tensor {
  const dtype = a.dtype === 'float64' || b.dtype === 'float64' ? 'float64' : 'float32';
  const data = allocateOutput(dtype, a.size);
  if (a.dtype === dtype && b.dtype === dtype) {
    kernelsFor(dtype).binary('add', a.data, a.shape, b.data, a.shape, data, a.shape);
  } else {
    for (let i = 0; i < data.length; i++) data[i] = a.data[i] + b.data[i];
  }
  return new Tensor(data, a.shape);
}
