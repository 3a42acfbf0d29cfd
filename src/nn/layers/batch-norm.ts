import { ShapeError, ValueError, fmtShape } from '../../errors.js';
import { batchNorm2d } from '../../ops/batch-norm.js';
import { checkInt, checkOptions } from '../../validate.js';
import { Tensor, ones, shapeSize, zeros } from '../../tensor/tensor.js';
import type { LayerCounts } from '../describe.js';
import { Module, parameter } from '../module.js';

export interface BatchNorm2dLayerOptions {
  /** Added to the variance before the square root, > 0 (default 1e-5). */
  eps?: number;
  /**
   * Running-average momentum in [0, 1], read per `momentumConvention`
   * (default 0.1 for 'pytorch', 0.99 for 'keras'). null: a cumulative moving
   * average, running = mean of all batches seen so far (weight 1/numBatchesTracked).
   */
  momentum?: number | null;
  /** Learn a per-channel scale (weight, ones) and shift (bias, zeros) (default true). */
  affine?: boolean;
  /** Keep running statistics for eval mode (default true); if false, batch statistics are used in eval mode too. */
  trackRunningStats?: boolean;
  /**
   * How `momentum` is read. 'pytorch' (default): m is the weight of the new
   * batch, running = (1 - m) * running + m * batch. 'keras': m is the weight of
   * the old value, running = m * running + (1 - m) * batch, i.e. PyTorch
   * momentum 1 - m (Keras' momentum 0.99 is PyTorch's 0.01).
   */
  momentumConvention?: 'pytorch' | 'keras';
}

const OPTIONS = ['eps', 'momentum', 'affine', 'trackRunningStats', 'momentumConvention'] as const;

/**
 * Batch normalization of [N, C, H, W] inputs per channel (PyTorch's
 * nn.BatchNorm2d). Parameters: weight [C] (ones) and bias [C] (zeros) when
 * affine. Buffers (saved in the state dict, not trained): runningMean [C]
 * (zeros), runningVar [C] (ones) and numBatchesTracked (a scalar count of
 * training batches; float32, exact up to 2^24 batches).
 *
 * State-dict names: Stride's runningMean / runningVar / numBatchesTracked are
 * PyTorch's running_mean / running_var / num_batches_tracked; pytorchName and
 * fromPytorchName (nn/pytorch-names.ts) convert between them.
 *
 * Training: normalizes with the batch statistics and updates the running ones
 * (unbiased variance); eval: normalizes with the running statistics.
 */
export class BatchNorm2d extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  /** The momentum as given, in the `momentumConvention` it was given in. */
  readonly momentum: number | null;
  readonly momentumConvention: 'pytorch' | 'keras';
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  weight: Tensor | null = null;
  bias: Tensor | null = null;
  runningMean: Tensor | null = null;
  runningVar: Tensor | null = null;
  numBatchesTracked: Tensor | null = null;

  constructor(numFeatures: number, options: BatchNorm2dLayerOptions = {}) {
    super();
    checkOptions('BatchNorm2d', options, OPTIONS);
    this.numFeatures = checkInt('BatchNorm2d', 'numFeatures', numFeatures, 1);
    const convention = options.momentumConvention ?? 'pytorch';
    if (convention !== 'pytorch' && convention !== 'keras') {
      throw new ValueError(`BatchNorm2d: momentumConvention must be 'pytorch' or 'keras', got ${JSON.stringify(convention)}`);
    }
    this.momentumConvention = convention;
    const eps = options.eps ?? 1e-5;
    if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) {
      throw new ValueError(`BatchNorm2d: eps must be a finite number > 0 (it keeps 1/sqrt(var + eps) finite), got ${eps}`);
    }
    this.eps = eps;
    const momentum = options.momentum === undefined ? (convention === 'keras' ? 0.99 : 0.1) : options.momentum;
    if (momentum !== null && (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1))) {
      throw new ValueError(`BatchNorm2d: momentum must be a number in [0, 1] or null (cumulative average), got ${momentum}`);
    }
    this.momentum = momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    if (typeof this.affine !== 'boolean') throw new ValueError(`BatchNorm2d: affine must be a boolean, got ${JSON.stringify(this.affine)}`);
    if (typeof this.trackRunningStats !== 'boolean') {
      throw new ValueError(`BatchNorm2d: trackRunningStats must be a boolean, got ${JSON.stringify(this.trackRunningStats)}`);
    }
    if (this.affine) {
      this.weight = parameter(ones([numFeatures]));
      this.bias = parameter(zeros([numFeatures]));
    }
    if (this.trackRunningStats) {
      this.registerBuffer('runningMean', zeros([numFeatures]));
      this.registerBuffer('runningVar', ones([numFeatures]));
      this.registerBuffer('numBatchesTracked', zeros([]));
    }
  }

  /** The momentum in PyTorch's convention (weight of the new batch), or null for the cumulative average. */
  get pytorchMomentum(): number | null {
    if (this.momentum === null) return null;
    return this.momentumConvention === 'keras' ? 1 - this.momentum : this.momentum;
  }

  /** Resets the running statistics to mean 0, variance 1 and the batch count to 0. */
  resetRunningStats(): void {
    this.runningMean?.data.fill(0);
    this.runningVar?.data.fill(1);
    this.numBatchesTracked?.data.fill(0);
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor) || x.ndim !== 4) {
      throw new ShapeError(`BatchNorm2d: input must be 4-D [batch, channels, height, width], got ${x instanceof Tensor ? `shape ${fmtShape(x.shape)}` : typeof x}`);
    }
    if (x.shape[1] !== this.numFeatures) {
      throw new ShapeError(`BatchNorm2d: input has ${x.shape[1]} channels (shape ${fmtShape(x.shape)}) but the layer was built for numFeatures ${this.numFeatures}; match the previous layer's output channels`);
    }
    const useBatchStats = this.training || !this.trackRunningStats;
    let factor = 0;
    if (this.training && this.trackRunningStats) {
      const n = this.numBatchesTracked!;
      n.data[0] += 1;
      // momentum null: the cumulative moving average, weight 1/n for the n-th batch.
      factor = this.pytorchMomentum ?? 1 / n.data[0];
    }
    const track = this.training && this.trackRunningStats;
    return batchNorm2d(
      x,
      track || !useBatchStats ? this.runningMean : null,
      track || !useBatchStats ? this.runningVar : null,
      this.weight,
      this.bias,
      { training: useBatchStats, momentum: factor, eps: this.eps },
    );
  }

  /** Each output unit sees its own input, plus one (the shift) when affine; not counted as multiply-accumulates. */
  describeLayer(_inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
    return { connections: shapeSize(outputShape) * (this.affine ? 2 : 1), macs: 0 };
  }

  override extraRepr(): string {
    const parts = [`${this.numFeatures}`, `eps=${this.eps}`, `momentum=${this.momentum}`];
    if (this.momentumConvention !== 'pytorch') parts.push(`momentumConvention='${this.momentumConvention}'`);
    parts.push(`affine=${this.affine}`, `trackRunningStats=${this.trackRunningStats}`);
    return parts.join(', ');
  }
}
