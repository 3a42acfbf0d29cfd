/**
 * Losses. crossEntropy is fused (log-softmax + negative log-likelihood) because
 * the fused gradient is both cheaper and exact:
 *   loss_n = -sum_k q_nk log p_nk,  p = softmax(logits_n),
 *   q = (1 - eps) onehot(label_n) + eps / K        (label smoothing eps)
 *   dloss_n / dlogits_n = p_n - q_n
 * reduction 'mean' divides by N, 'sum' adds, 'none' keeps [N].
 */
import { record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { sub } from './binary.js';
import { mean, sum } from './reduce.js';
import { square } from './unary.js';
import { checkOptions, checkTensor, empty } from './util.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface CrossEntropyOptions {
  reduction?: Reduction;
  /** eps in [0, 1]: the target puts 1 - eps on the label and eps spread over all K classes. */
  labelSmoothing?: number;
}

/** Reads class indices from a tensor or array and checks them against K classes. */
function readLabels(where: string, target: Tensor | ArrayLike<number>, n: number, k: number): Int32Array {
  const values: ArrayLike<number> = target instanceof Tensor ? target.data : target;
  if (target instanceof Tensor && target.ndim !== 1) {
    throw new ShapeError(`${where}: labels must be 1-D [N] class indices, got shape ${fmtShape(target.shape)}`);
  }
  if (!values || typeof values.length !== 'number') throw new ValueError(`${where}: labels must be a Tensor or an array of class indices`);
  if (values.length !== n) throw new ShapeError(`${where}: ${values.length} labels for a batch of ${n} logits rows; give one label per row`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v >= k) {
      throw new ValueError(`${where}: label ${v} at index ${i} is out of range for ${k} classes; labels must be integers in [0, ${k - 1}]`);
    }
    out[i] = v;
  }
  return out;
}

/** Cross-entropy of logits [N, K] against class indices [N] (PyTorch's F.cross_entropy). */
export function crossEntropy(logits: Tensor, target: Tensor | ArrayLike<number>, options: CrossEntropyOptions = {}): Tensor {
  checkTensor('crossEntropy', 'logits', logits);
  checkOptions('crossEntropy', options, ['reduction', 'labelSmoothing']);
  const reduction = options.reduction ?? 'mean';
  if (!['mean', 'sum', 'none'].includes(reduction)) throw new ValueError(`crossEntropy: reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
  const eps = options.labelSmoothing ?? 0;
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) throw new ValueError(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  if (logits.ndim !== 2) throw new ShapeError(`crossEntropy: logits must be 2-D [batch, classes], got shape ${fmtShape(logits.shape)}; flatten the model output first`);
  const [n, k] = logits.shape;
  if (k < 1) throw new ShapeError('crossEntropy: logits have zero classes');
  const labels = readLabels('crossEntropy', target, n, k);

  const logp = empty(logits.shape, logits.dtype);
  kernelsFor(logits.dtype).softmax(logits.data, n, k, 1, true, logp.data);
  const perSample = empty([n], logits.dtype);
  for (let i = 0; i < n; i++) {
    let smooth = 0;
    if (eps > 0) for (let j = 0; j < k; j++) smooth += logp.data[i * k + j];
    perSample.data[i] = -(1 - eps) * logp.data[i * k + labels[i]] - (eps / k) * smooth;
  }
  let loss: Tensor;
  if (reduction === 'none') loss = perSample;
  else {
    let s = 0;
    for (let i = 0; i < n; i++) s += perSample.data[i];
    loss = empty([], logits.dtype);
    loss.data[0] = reduction === 'mean' ? (n > 0 ? s / n : NaN) : s;
  }
  return record(loss, 'crossEntropy', [logits], (g) => {
    const gx = empty(logits.shape, g.dtype);
    for (let i = 0; i < n; i++) {
      const scale = reduction === 'none' ? g.data[i] : reduction === 'mean' ? g.data[0] / n : g.data[0];
      for (let j = 0; j < k; j++) {
        const q = (j === labels[i] ? 1 - eps : 0) + eps / k;
        gx.data[i * k + j] = scale * (Math.exp(logp.data[i * k + j]) - q);
      }
    }
    return [gx];
  });
}

/** Mean squared error: reduce((input - target)^2). */
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  checkTensor('mseLoss', 'input', input);
  checkTensor('mseLoss', 'target', target);
  if (input.shape.join() !== target.shape.join()) {
    throw new ShapeError(`mseLoss: input ${fmtShape(input.shape)} and target ${fmtShape(target.shape)} must have the same shape`);
  }
  const reduction = options.reduction ?? 'mean';
  const sq = square(sub(input, target));
  if (reduction === 'none') return sq;
  if (reduction === 'sum') return sum(sq);
  if (reduction === 'mean') return mean(sq);
  throw new ValueError(`mseLoss: reduction must be 'mean', 'sum' or 'none', got '${reduction}'`);
}
