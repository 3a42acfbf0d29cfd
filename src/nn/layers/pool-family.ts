/**
 * The rest of the pooling family as layers: LP (L2) pooling, adaptive and
 * global pooling, L2 pooling across channels, and max unpooling. None has
 * parameters; each forward calls the functional op of the same name.
 */
import { ValueError } from '../../errors.js';
import {
  adaptiveAvgPool2d, adaptiveMaxPool2d, globalAvgPool2d, globalMaxPool2d, type AdaptiveOutputSize, type GlobalPool2dOptions,
} from '../../ops/adaptive-pool2d.js';
import { channelL2Pool } from '../../ops/channel-l2-pool.js';
import { checkLpNorm, lpPool2d, type LpPool2dOptions } from '../../ops/lp-pool2d.js';
import { maxUnpool2d, type MaxUnpool2dOptions } from '../../ops/max-unpool2d.js';
import { checkInt, checkOptions, pair } from '../../validate.js';
import { Tensor, shapeSize } from '../../tensor/tensor.js';
import { transposedField, wholeAxisField, type LayerCounts } from '../describe.js';
import { Module } from '../module.js';
import { fmtSize, WindowPool2d } from './pool.js';

/** LP pooling y = (sum over the window of x^p)^(1/p); p = 2 is L2 pooling. Stride defaults to the kernel size. */
export class LPPool2d extends WindowPool2d<LpPool2dOptions> {
  readonly p: number;

  constructor(p: number, kernelSize: number | readonly [number, number], options: LpPool2dOptions = {}) {
    checkLpNorm('LPPool2d', p);
    super('LPPool2d', kernelSize, options, ['stride', 'ceilMode', 'mean']);
    this.p = p;
  }

  forward(x: Tensor): Tensor {
    return lpPool2d(x, this.p, this.kernelSize, this.options);
  }

  override extraRepr(): string {
    const o = this.options;
    return `p=${this.p}, kernelSize=${fmtSize(this.kernelSize)}, stride=${fmtSize(o.stride ?? this.kernelSize)}, ceilMode=${o.ceilMode ?? false}${o.mean ? ', mean=true' : ''}`;
  }
}

function checkOutputSize(where: string, outputSize: AdaptiveOutputSize): AdaptiveOutputSize {
  const parts = typeof outputSize === 'number' ? [outputSize] : Array.isArray(outputSize) && outputSize.length === 2 ? outputSize : null;
  if (parts === null) throw new ValueError(`${where}: outputSize must be a number or [h, w] (null keeps that axis), got ${JSON.stringify(outputSize)}`);
  for (const v of parts) if (v !== null) checkInt(where, 'outputSize', v, 1);
  return typeof outputSize === 'number' ? outputSize : [outputSize[0], outputSize[1]];
}

/** What the adaptive pooling layers hold: the output size, checked. */
export abstract class AdaptivePool2dLayer extends Module {
  readonly outputSize: AdaptiveOutputSize;

  protected constructor(where: string, outputSize: AdaptiveOutputSize) {
    super();
    this.outputSize = checkOutputSize(where, outputSize);
  }

  override extraRepr(): string {
    return `outputSize=${fmtSize(this.outputSize)}`;
  }

  /**
   * Output unit i along an axis of `in` units pooled to `out` covers
   * floor(i*in/out) .. ceil((i+1)*in/out) - 1: connections are the windows'
   * areas summed over the output (exact when out does not divide in and the
   * windows differ); the receptive field takes the widest window and a jump
   * of in/out input units (fractional then); pooled to one unit along an
   * axis, that unit sees the whole axis (jump 0, as a global pooling).
   */
  describeLayer(inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
    const inSize = (axis: 0 | 1) => inputShape[inputShape.length - 2 + axis];
    const outSize = (axis: 0 | 1) => outputShape[outputShape.length - 2 + axis];
    const windows = (axis: 0 | 1): number[] => {
      const [n, m] = [inSize(axis), outSize(axis)];
      return Array.from({ length: m }, (_, i) => Math.ceil(((i + 1) * n) / m) - Math.floor((i * n) / m));
    };
    const total = (axis: 0 | 1) => windows(axis).reduce((a, b) => a + b, 0);
    const planes = shapeSize(outputShape) / (outSize(0) * outSize(1));
    return {
      connections: planes * total(0) * total(1),
      macs: 0,
      field: (input, axis) =>
        outSize(axis) === 1
          ? wholeAxisField(input, inSize(axis))
          : { size: input.size + (Math.max(...windows(axis)) - 1) * input.jump, jump: (input.jump * inSize(axis)) / outSize(axis), start: input.start },
    };
  }
}

/** Average pooling to a fixed output size, whatever the input size (PyTorch's windows). */
export class AdaptiveAvgPool2d extends AdaptivePool2dLayer {
  constructor(outputSize: AdaptiveOutputSize) {
    super('AdaptiveAvgPool2d', outputSize);
  }

  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}

/** Max pooling to a fixed output size, whatever the input size (PyTorch's windows). */
export class AdaptiveMaxPool2d extends AdaptivePool2dLayer {
  constructor(outputSize: AdaptiveOutputSize) {
    super('AdaptiveMaxPool2d', outputSize);
  }

  forward(x: Tensor): Tensor {
    return adaptiveMaxPool2d(x, this.outputSize);
  }
}

/** What the global pooling layers hold: a copy of the options. */
export abstract class GlobalPool2dLayer extends Module {
  readonly options: GlobalPool2dOptions;

  protected constructor(where: string, options: GlobalPool2dOptions) {
    super();
    checkOptions(where, options, ['keepDims']);
    this.options = { ...options };
  }

  override extraRepr(): string {
    return `keepDims=${this.options.keepDims ?? true}`;
  }

  /** Each output unit sees its whole input plane. */
  describeLayer(inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
    const plane = inputShape[inputShape.length - 2] * inputShape[inputShape.length - 1];
    return { connections: shapeSize(outputShape) * plane, macs: 0, global: true };
  }
}

/** The mean of each feature map: [N, C, H, W] -> [N, C, 1, 1], or [N, C] with keepDims false. */
export class GlobalAvgPool2d extends GlobalPool2dLayer {
  constructor(options: GlobalPool2dOptions = {}) {
    super('GlobalAvgPool2d', options);
  }

  forward(x: Tensor): Tensor {
    return globalAvgPool2d(x, this.options);
  }
}

/** The max of each feature map: [N, C, H, W] -> [N, C, 1, 1], or [N, C] with keepDims false. */
export class GlobalMaxPool2d extends GlobalPool2dLayer {
  constructor(options: GlobalPool2dOptions = {}) {
    super('GlobalMaxPool2d', options);
  }

  forward(x: Tensor): Tensor {
    return globalMaxPool2d(x, this.options);
  }
}

/** L2 pooling across groups of `groupSize` consecutive channels: [N, C, ...] -> [N, C/groupSize, ...]. */
export class ChannelL2Pool extends Module {
  readonly groupSize: number;

  constructor(groupSize: number) {
    super();
    this.groupSize = checkInt('ChannelL2Pool', 'groupSize', groupSize, 1);
  }

  forward(x: Tensor): Tensor {
    return channelL2Pool(x, this.groupSize);
  }

  override extraRepr(): string {
    return `groupSize=${this.groupSize}`;
  }

  /** Each output unit sees groupSize channels at its own position. */
  describeLayer(_inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
    return { connections: shapeSize(outputShape) * this.groupSize, macs: 0 };
  }
}

/**
 * Max unpooling: forward(x, indices) puts each value back where
 * maxPool2dWithIndices found it, zeros elsewhere. Pass `outputSize` (the
 * pooled input's [H, W] or shape, or the pooled input itself) to forward when
 * the pooling dropped rows or columns.
 */
export class MaxUnpool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];

  constructor(kernelSize: number | readonly [number, number], options: Omit<MaxUnpool2dOptions, 'outputSize'> = {}) {
    super();
    checkOptions('MaxUnpool2d', options, ['stride', 'padding']);
    this.kernelSize = pair('MaxUnpool2d', 'kernelSize', kernelSize, 1);
    this.stride = pair('MaxUnpool2d', 'stride', options.stride ?? this.kernelSize, 1);
    this.padding = pair('MaxUnpool2d', 'padding', options.padding ?? 0, 0);
  }

  /** `outputSize`: the output's [H, W], its whole shape, or a tensor of that shape (the input of the pooling). */
  forward(x: Tensor, indices: Tensor, outputSize?: readonly number[] | Tensor): Tensor {
    const size = outputSize instanceof Tensor ? outputSize.shape : outputSize;
    return maxUnpool2d(x, indices, this.kernelSize, { stride: this.stride, padding: this.padding, outputSize: size });
  }

  override extraRepr(): string {
    return `kernelSize=${fmtSize(this.kernelSize)}, stride=${fmtSize(this.stride)}, padding=${fmtSize(this.padding)}`;
  }

  /**
   * Each input value goes to one output unit (connections: the input's size);
   * an output unit may receive from any input unit whose window held it,
   * the transposed window of the pooling.
   */
  describeLayer(inputShape: readonly number[]): LayerCounts {
    return {
      connections: shapeSize(inputShape),
      macs: 0,
      field: (input, axis) => transposedField(input, this.kernelSize[axis], this.stride[axis], this.padding[axis], 1),
    };
  }
}
