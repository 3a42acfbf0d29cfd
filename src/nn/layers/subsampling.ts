import { ShapeError, fmtShape } from '../../errors.js';
import { add, mul } from '../../ops/binary.js';
import { avgPool2d } from '../../ops/pool2d.js';
import { reshape } from '../../ops/shape.js';
import { Tensor, zeros } from '../../tensor/tensor.js';
import type { Generator } from '../../tensor/random.js';
import { checkInt, checkOptions, pair } from '../../validate.js';
import type { LayerCounts } from '../describe.js';
import { uniform } from '../init.js';
import { Module, parameter } from '../module.js';

export interface Subsampling2dOptions {
  /** Step between windows (default: the kernel size, non-overlapping windows as in the paper). */
  stride?: number | readonly [number, number];
  generator?: Generator;
}

/**
 * The trainable subsampling of LeCun et al., 1998 ("Gradient-based learning
 * applied to document recognition", section II.B, layers S2 and S4): each
 * output unit of map c adds up the inputs of its window of map c, multiplies
 * the sum by the map's trainable coefficient weight[c] and adds the map's
 * trainable bias bias[c]:
 *   y[n, c, i, j] = weight[c] * sum over the window at (i, j) of x[n, c, ., .] + bias[c]
 * Two parameters per map (S2: 6 maps, 12 parameters). The squashing function
 * the paper applies next is a layer of its own (ScaledTanh). Initialized as
 * PyTorch initializes a convolution of the same fan-in (U(-1/sqrt(k), 1/sqrt(k))
 * with k = kH * kW); models set the paper's initialization themselves.
 * Computed as average pooling times kH * kW (a sum over the window), so the
 * backward pass is autograd's through the pooling.
 */
export class Subsampling2d extends Module {
  readonly channels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  weight: Tensor;
  bias: Tensor;

  constructor(channels: number, kernelSize: number | readonly [number, number] = 2, options: Subsampling2dOptions = {}) {
    super();
    checkOptions('Subsampling2d', options, ['stride', 'generator']);
    this.channels = checkInt('Subsampling2d', 'channels', channels, 1);
    this.kernelSize = pair('Subsampling2d', 'kernelSize', kernelSize, 1);
    this.stride = options.stride === undefined ? [...this.kernelSize] : pair('Subsampling2d', 'stride', options.stride, 1);
    const bound = 1 / Math.sqrt(this.kernelSize[0] * this.kernelSize[1]);
    this.weight = uniform(parameter(zeros([channels])), -bound, bound, options.generator);
    this.bias = uniform(parameter(zeros([channels])), -bound, bound, options.generator);
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor) || x.ndim !== 4 || x.shape[1] !== this.channels) {
      throw new ShapeError(`Subsampling2d: input must be [batch, ${this.channels}, height, width] (the layer has ${this.channels} maps), got ${x instanceof Tensor ? `shape ${fmtShape(x.shape)}` : typeof x}`);
    }
    const [kH, kW] = this.kernelSize;
    const windowSum = mul(avgPool2d(x, this.kernelSize, { stride: this.stride }), kH * kW);
    return add(mul(windowSum, reshape(this.weight, [1, this.channels, 1, 1])), reshape(this.bias, [1, this.channels, 1, 1]));
  }

  /** Each output unit sees kH * kW inputs and a bias: S2 (6 maps of 14x14, 2x2 windows) has 6 * 196 * 5 = 5,880 connections. */
  describeLayer(_inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
    const [kH, kW] = this.kernelSize;
    const units = outputShape.reduce((p, d) => p * d, 1);
    return {
      connections: units * (kH * kW + 1),
      macs: units * kH * kW,
      window: { kernel: this.kernelSize, stride: this.stride, padding: [0, 0], dilation: [1, 1] },
    };
  }

  override extraRepr(): string {
    return `${this.channels}, kernelSize=[${this.kernelSize.join(', ')}], stride=[${this.stride.join(', ')}]`;
  }
}
