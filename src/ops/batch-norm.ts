/**
 * Batch normalization over the channels of an NCHW tensor (Ioffe & Szegedy,
 * 2015), with PyTorch's F.batch_norm semantics:
 *   y[n, c, h, w] = (x[n, c, h, w] - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c].
 * Training: mean and var are the batch's own, over (N, H, W), var biased
 * (divisor M = N*H*W). The running statistics, when given, are updated in
 * place (they are buffers, never differentiated):
 *   running = (1 - momentum) * running + momentum * batchStat,
 * with the UNBIASED batch variance var * M / (M - 1) for runningVar.
 * Eval: mean and var are the running statistics.
 *
 * Gradients, with xhat = (x - mean) * invstd, invstd = 1/sqrt(var + eps):
 *   training: dx = weight * invstd / M * (M*dy - sum(dy) - xhat * sum(dy * xhat))
 *             (mean and var depend on x; the sums are per channel);
 *   eval:     dx = weight * invstd * dy (a per-channel affine map);
 *   both:     dweight = sum(dy * xhat), dbias = sum(dy).
 */
import { record } from '../autograd/tape.js';
import type { BatchNormGeometry } from '../backends/backend.js';
import { kernelsFor } from '../backends/index.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor, allocate, resultDType } from '../tensor/tensor.js';
import { checkTensor, output } from './util.js';
import { checkOptions } from '../validate.js';

export interface BatchNorm2dOptions {
  /** Normalize with the batch's statistics and update the running ones (default false, as F.batch_norm). */
  training?: boolean;
  /**
   * Weight of the new batch statistic in the running average, in [0, 1]
   * (PyTorch convention, default 0.1). The layer passes 1/numBatchesTracked
   * for a cumulative average and converts Keras' convention.
   */
  momentum?: number;
  /** Added to the variance before the square root; must be > 0 (default 1e-5). */
  eps?: number;
}

const OPTIONS = ['training', 'momentum', 'eps'] as const;

function checkChannelVector(name: string, t: Tensor | null | undefined, channels: number, xShape: readonly number[], fix: string): void {
  if (t == null) return;
  checkTensor('batchNorm2d', name, t);
  if (t.ndim !== 1 || t.shape[0] !== channels) {
    throw new ShapeError(`batchNorm2d: ${name} must have shape [${channels}] (one value per channel of the input ${fmtShape(xShape)}), got ${fmtShape(t.shape)}; ${fix}`);
  }
}

/**
 * batchNorm2d(x [N, C, H, W], runningMean [C] | null, runningVar [C] | null,
 * weight [C] | null, bias [C] | null, { training, momentum, eps }).
 * Running statistics may be null only in training (then nothing is tracked).
 */
export function batchNorm2d(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight?: Tensor | null,
  bias?: Tensor | null,
  options: BatchNorm2dOptions = {},
): Tensor {
  checkTensor('batchNorm2d', 'input', x);
  checkOptions('batchNorm2d', options, OPTIONS);
  const training = options.training ?? false;
  const momentum = options.momentum === undefined ? 0.1 : options.momentum; // null is an error below, not the default
  const eps = options.eps ?? 1e-5;
  if (typeof training !== 'boolean') throw new ValueError(`batchNorm2d: training must be a boolean, got ${JSON.stringify(training)}`);
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) {
    throw new ValueError(`batchNorm2d: momentum must be a number in [0, 1] (the weight of the new batch in the running average), got ${momentum}; for a cumulative average use the BatchNorm2d layer with momentum null`);
  }
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) {
    throw new ValueError(`batchNorm2d: eps must be a finite number > 0 (it keeps 1/sqrt(var + eps) finite), got ${eps}`);
  }
  if (x.ndim !== 4) {
    throw new ShapeError(`batchNorm2d: input must be 4-D [batch, channels, height, width], got shape ${fmtShape(x.shape)}; add the batch dimension with unsqueeze(x, 0)`);
  }
  const [batch, channels, h, w] = x.shape;
  if ((runningMean == null) !== (runningVar == null)) {
    throw new ValueError(`batchNorm2d: give both runningMean and runningVar or neither (got ${runningMean == null ? 'runningVar only' : 'runningMean only'})`);
  }
  const fix = 'the running statistics and the affine parameters need one value per input channel';
  checkChannelVector('runningMean', runningMean, channels, x.shape, fix);
  checkChannelVector('runningVar', runningVar, channels, x.shape, fix);
  checkChannelVector('weight', weight, channels, x.shape, fix);
  checkChannelVector('bias', bias, channels, x.shape, fix);
  if (!training && runningMean == null) {
    throw new ValueError('batchNorm2d: eval mode (training false) normalizes with the running statistics, but runningMean and runningVar are null; pass them or use training: true');
  }
  const g: BatchNormGeometry = { batch, channels, spatial: h * w };
  const count = batch * g.spatial;
  if (training && count <= 1) {
    throw new ValueError(`batchNorm2d: training needs more than 1 value per channel to compute a variance, got input ${fmtShape(x.shape)} (N*H*W = ${count}); use a larger batch or eval mode`);
  }

  const dtype = resultDType(...[x, weight, bias].filter((t): t is Tensor => t != null));
  const k = kernelsFor(dtype);
  // The mean and 1/sqrt(var + eps) used to normalize, saved for the backward pass.
  const mean = allocate(dtype, channels);
  const invstd = allocate(dtype, channels);
  if (training) {
    const variance = allocate(dtype, channels);
    k.batchNormStats(x.data, g, mean, variance);
    for (let c = 0; c < channels; c++) invstd[c] = 1 / Math.sqrt(variance[c] + eps);
    if (runningMean && runningVar) {
      // In place, no autograd: running = (1 - momentum) * running + momentum * batch, unbiased variance.
      const unbias = count / (count - 1);
      for (let c = 0; c < channels; c++) {
        runningMean.data[c] = (1 - momentum) * runningMean.data[c] + momentum * mean[c];
        runningVar.data[c] = (1 - momentum) * runningVar.data[c] + momentum * variance[c] * unbias;
      }
    }
  } else {
    for (let c = 0; c < channels; c++) {
      mean[c] = runningMean!.data[c];
      invstd[c] = 1 / Math.sqrt(runningVar!.data[c] + eps);
    }
  }

  const y = output(x.shape, dtype);
  k.batchNorm2dForward(x.data, mean, invstd, weight ? weight.data : null, bias ? bias.data : null, g, y.data);
  const attrs = { training, eps, runningMean: runningMean ?? null, runningVar: runningVar ?? null };
  return record(y, 'batchNorm2d', [x, weight, bias], (gy) => {
    const kg = kernelsFor(gy.dtype);
    const gx = x.requiresGrad ? output(x.shape, gy.dtype) : null;
    const gw = weight && weight.requiresGrad ? output(weight.shape, gy.dtype) : null;
    const gb = bias && bias.requiresGrad ? output(bias.shape, gy.dtype) : null;
    kg.batchNorm2dBackward(x.data, gy.data, mean, invstd, weight ? weight.data : null, g, training, gx && gx.data, gw && gw.data, gb && gb.data);
    return [gx, gw, gb];
  }, attrs);
}
