/**
 * What the loaders do with NaN and infinities in data: refuse them (the
 * default) or, when asked, replace them with 0.
 *
 * One NaN pixel is enough to ruin a run without a sign: it turns every
 * weight of the first convolution into NaN at the first step that sees it,
 * and a ReLU after it maps NaN to 0, so the loss stays finite while the
 * network has stopped learning. Data is therefore checked where floating-point
 * values enter it: float and double IDX files, tensors given to DataLoader,
 * fit and evaluate, and normalize's results. Bytes (8-bit IDX, CIFAR's
 * binary batches, PNG and JPEG images, decoded as byte / 255) cannot hold a
 * NaN.
 */
import { DataError, ValueError } from '../errors.js';
import { countNonFinite, describeNonFinite, formatIndex, hasNonFinite, type NumericArray } from '../tensor/finite.js';
import { Tensor, allocate } from '../tensor/tensor.js';

/** 'error': refuse data holding NaN or an infinity (a DataError naming the example and index); 'zero': replace those values with 0. */
export type NonFinitePolicy = 'error' | 'zero';

export const NON_FINITE_POLICIES: readonly NonFinitePolicy[] = ['error', 'zero'];

/** Checks a `nonFinite` option (undefined is 'error'). */
export function checkNonFinitePolicy(where: string, value: unknown): NonFinitePolicy {
  if (value === undefined) return 'error';
  if (value !== 'error' && value !== 'zero') {
    throw new ValueError(`${where}: nonFinite must be 'error' (refuse data holding NaN or an infinity) or 'zero' (replace those values with 0), got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Where the first non-finite value of `data` (examples of `shape`, the first
 * dimension counting them) is and how many there are:
 * 'NaN at example 17, index [0, 3, 4] (3 NaN in 2 of 600 examples)'.
 */
export function locateNonFinite(data: NumericArray, shape: readonly number[]): string {
  const count = countNonFinite(data);
  const examples = shape.length > 0 ? shape[0] : 1;
  const row = examples > 0 ? data.length / examples : 0;
  const example = row > 0 ? Math.floor(count.first / row) : 0;
  const within = count.first - example * row;
  let badExamples = 0;
  for (let k = 0; k < examples && row > 0; k++) if (hasNonFinite(data.subarray(k * row, (k + 1) * row))) badExamples++;
  const value = data[count.first];
  const kind = Number.isNaN(value) ? 'NaN' : value > 0 ? '+Infinity' : '-Infinity';
  const at = shape.length > 1 ? `example ${example}, index ${formatIndex(within, shape.slice(1))}` : `example ${example}`;
  return `${kind} at ${at} (${describeNonFinite(count)} in ${badExamples} of ${examples} example${examples === 1 ? '' : 's'})`;
}

/**
 * Arrays that the code running `fn` has just checked with finiteData and
 * checkFiniteLabels (or cleaned), so that those two pass them without a scan
 * while `fn` runs. fit and evaluate make their DataLoader right after their
 * own check, and the loader's check scanned the same values again: the
 * 47,040,000 values of MNIST's training images take 29-35 ms a scan. The
 * trust ends with `fn`; nothing but the loader's construction runs inside it.
 */
export function withCheckedData<T>(arrays: readonly NumericArray[], fn: () => T): T {
  const previous = checked;
  checked = arrays;
  try {
    return fn();
  } finally {
    checked = previous;
  }
}

let checked: readonly NumericArray[] = [];

/**
 * `images` as the policy wants them: the tensor itself when every value is
 * finite; else with 'error' a DataError naming the first bad example and
 * index, with 'zero' a copy whose NaN and infinities are 0 (`images` is not
 * changed). `what` names the data in the message, in the plural ('DataLoader: images').
 */
export function finiteData(what: string, images: Tensor, policy: NonFinitePolicy): Tensor {
  if (checked.includes(images.data) || !hasNonFinite(images.data)) return images;
  if (policy === 'error') {
    throw new DataError(
      `${what} hold a value that is not finite: ${locateNonFinite(images.data, images.shape)}. ` +
        "One such value turns the first layer's weights into NaN at the first step that sees it; clean the data, or pass nonFinite: 'zero' to replace them with 0",
    );
  }
  const out = allocate(images.dtype, images.size);
  const src = images.data;
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    out[i] = v - v === 0 ? v : 0;
  }
  return new Tensor(out, images.shape);
}

/** Labels (class indices or targets) must be finite whatever the policy: a NaN label has no class to replace it with. `what` is plural ('DataLoader: labels'). */
export function checkFiniteLabels(what: string, labels: Tensor): void {
  if (checked.includes(labels.data) || !hasNonFinite(labels.data)) return;
  throw new DataError(`${what} hold a value that is not finite: ${locateNonFinite(labels.data, labels.shape)}; a label has no value to stand in for it, so nonFinite: 'zero' does not apply: fix or drop those examples`);
}

/**
 * Checks the result of a standardization `(x - mean[c]) / std[c]` over
 * planes of `plane` values in `channels` channels: a value it made infinite
 * (x finite, std so small that the quotient overflows the dtype) is a
 * ValueError naming the std; a NaN or infinity already in `x` is passed on
 * for the loaders to report with its example.
 */
export function checkStandardized(where: string, x: NumericArray, out: NumericArray, channels: number, plane: number, std: readonly number[], mean: readonly number[]): void {
  if (!hasNonFinite(out)) return;
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    if (v - v === 0 || !Number.isFinite(x[i])) continue;
    const c = Math.floor(i / plane) % channels;
    const s = std.length === 1 ? std[0] : std[c];
    const m = mean.length === 1 ? mean[0] : mean[c];
    throw new ValueError(
      `${where}: (x - mean) / std overflows at element ${i}: (${x[i]} - ${m}) / ${s} is ${v} in ${out instanceof Float64Array ? 'float64' : 'float32'}; ` +
        `std${std.length === 1 ? '' : `[${c}]`} = ${s} is too small to divide by (a channel that is constant needs std 1, not its std of about 0)`,
    );
  }
}
