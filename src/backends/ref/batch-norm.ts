/**
 * Batch normalization kernels. The input is viewed as [batch, channels,
 * spatial]; element (n, c, s) is at (n * channels + c) * spatial + s.
 * Statistics and gradient sums are per channel, over n and s
 * (M = batch * spatial values each). Sums accumulate in float64 (JS numbers).
 */
import type { BatchNormGeometry, FloatArray } from '../backend.js';

/** mean[c] = (1/M) sum x; variance[c] = (1/M) sum (x - mean[c])^2 (biased, as used to normalize). */
export function batchNormStats(x: FloatArray, g: BatchNormGeometry, mean: FloatArray, variance: FloatArray): void {
  const { batch, channels, spatial } = g;
  const m = batch * spatial;
  for (let c = 0; c < channels; c++) {
    let s = 0;
    for (let n = 0; n < batch; n++) {
      const base = (n * channels + c) * spatial;
      for (let i = 0; i < spatial; i++) s += x[base + i];
    }
    const mu = s / m;
    let ss = 0;
    for (let n = 0; n < batch; n++) {
      const base = (n * channels + c) * spatial;
      for (let i = 0; i < spatial; i++) {
        const d = x[base + i] - mu;
        ss += d * d;
      }
    }
    mean[c] = mu;
    variance[c] = ss / m;
  }
}

/** y = (x - mean[c]) * invstd[c] * weight[c] + bias[c]. */
export function batchNorm2dForward(
  x: FloatArray, mean: FloatArray, invstd: FloatArray, weight: FloatArray | null, bias: FloatArray | null,
  g: BatchNormGeometry, y: FloatArray,
): void {
  const { batch, channels, spatial } = g;
  for (let c = 0; c < channels; c++) {
    const mu = mean[c];
    const scale = invstd[c] * (weight ? weight[c] : 1);
    const shift = bias ? bias[c] : 0;
    for (let n = 0; n < batch; n++) {
      const base = (n * channels + c) * spatial;
      for (let i = 0; i < spatial; i++) y[base + i] = (x[base + i] - mu) * scale + shift;
    }
  }
}

/**
 * Training: y = w * xhat + b with xhat = (x - mean) * invstd and mean, invstd
 * functions of the whole channel, which gives
 *   gx = w * invstd / M * (M * gy - sum(gy) - xhat * sum(gy * xhat)).
 * Eval: mean and invstd are constants, so gx = w * invstd * gy.
 * gweight = sum(gy * xhat), gbias = sum(gy) in both modes.
 */
export function batchNorm2dBackward(
  x: FloatArray, gy: FloatArray, mean: FloatArray, invstd: FloatArray, weight: FloatArray | null, g: BatchNormGeometry,
  training: boolean, gx: FloatArray | null, gweight: FloatArray | null, gbias: FloatArray | null,
): void {
  const { batch, channels, spatial } = g;
  const m = batch * spatial;
  for (let c = 0; c < channels; c++) {
    const mu = mean[c];
    const is = invstd[c];
    let sumGy = 0;
    let sumGyXhat = 0;
    for (let n = 0; n < batch; n++) {
      const base = (n * channels + c) * spatial;
      for (let i = 0; i < spatial; i++) {
        const d = gy[base + i];
        sumGy += d;
        sumGyXhat += d * (x[base + i] - mu) * is;
      }
    }
    if (gweight) gweight[c] = sumGyXhat;
    if (gbias) gbias[c] = sumGy;
    if (!gx) continue;
    const w = weight ? weight[c] : 1;
    for (let n = 0; n < batch; n++) {
      const base = (n * channels + c) * spatial;
      if (training) {
        const k = (w * is) / m;
        for (let i = 0; i < spatial; i++) {
          const xhat = (x[base + i] - mu) * is;
          gx[base + i] = k * (m * gy[base + i] - sumGy - xhat * sumGyXhat);
        }
      } else {
        const k = w * is;
        for (let i = 0; i < spatial; i++) gx[base + i] = k * gy[base + i];
      }
    }
  }
}
