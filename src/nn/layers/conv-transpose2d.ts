import { ValueError } from '../../errors.js';
import { convTranspose2d, type ConvTranspose2dOptions } from '../../ops/conv-transpose2d.js';
import { checkInt, checkOptions, pair } from '../../validate.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Generator } from '../../tensor/random.js';
import { transposedConvCounts, type LayerCounts } from '../describe.js';
import { defaultLayerParameters } from '../init.js';
import { Module } from '../module.js';

export interface ConvTranspose2dLayerOptions extends ConvTranspose2dOptions {
  /** Learn a bias per output channel (default true). */
  bias?: boolean;
  generator?: Generator;
}

/**
 * A transposed convolution layer (learned up-sampling): weight
 * [inChannels, outChannels/groups, kH, kW] and bias [outChannels], initialized
 * as PyTorch's ConvTranspose2d: kaimingUniform(a = sqrt(5)) on that weight, whose
 * fan-in PyTorch reads from dim 1, so fanIn = outChannels/groups * kH * kW and
 * the bound is 1/sqrt(fanIn); the bias is U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
 * With kernelSize = stride = 2 it doubles the height and width.
 */
export class ConvTranspose2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly options: ConvTranspose2dOptions;
  weight: Tensor;
  bias: Tensor | null;

  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly [number, number], options: ConvTranspose2dLayerOptions = {}) {
    super();
    checkOptions('ConvTranspose2d', options, ['stride', 'padding', 'outputPadding', 'dilation', 'groups', 'bias', 'generator']);
    this.inChannels = checkInt('ConvTranspose2d', 'inChannels', inChannels, 1);
    this.outChannels = checkInt('ConvTranspose2d', 'outChannels', outChannels, 1);
    this.kernelSize = pair('ConvTranspose2d', 'kernelSize', kernelSize, 1);
    const groups = checkInt('ConvTranspose2d', 'groups', options.groups ?? 1, 1);
    if (inChannels % groups || outChannels % groups) {
      throw new ValueError(`ConvTranspose2d: groups ${groups} must divide both inChannels ${inChannels} and outChannels ${outChannels}`);
    }
    const stride = pair('ConvTranspose2d', 'stride', options.stride ?? 1, 1);
    const dilation = pair('ConvTranspose2d', 'dilation', options.dilation ?? 1, 1);
    const outputPadding = pair('ConvTranspose2d', 'outputPadding', options.outputPadding ?? 0, 0);
    pair('ConvTranspose2d', 'padding', options.padding ?? 0, 0);
    for (let a = 0; a < 2; a++) {
      if (outputPadding[a] >= stride[a] && outputPadding[a] >= dilation[a]) {
        throw new ValueError(`ConvTranspose2d: outputPadding ${outputPadding[a]} must be smaller than either stride ${stride[a]} or dilation ${dilation[a]} (on the ${a === 0 ? 'height' : 'width'} axis)`);
      }
    }
    const { bias = true, generator, ...convOptions } = options;
    this.options = convOptions;
    // PyTorch computes fanIn from dim 1 of [inC, outC/groups, kH, kW], i.e. outC/groups * kH * kW.
    ({ weight: this.weight, bias: this.bias } = defaultLayerParameters([inChannels, outChannels / groups, ...this.kernelSize], bias ? outChannels : null, generator));
  }

  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias, this.options);
  }

  /** Counted exactly (transposedConvCounts, describe.ts). */
  describeLayer(inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
    const o = this.options;
    return transposedConvCounts({
      inChannels: this.inChannels, outChannels: this.outChannels, groups: o.groups ?? 1, kernel: this.kernelSize,
      stride: pair('ConvTranspose2d', 'stride', o.stride ?? 1, 1),
      padding: pair('ConvTranspose2d', 'padding', o.padding ?? 0, 0),
      dilation: pair('ConvTranspose2d', 'dilation', o.dilation ?? 1, 1),
      bias: this.bias !== null,
    }, inputShape, outputShape);
  }

  override extraRepr(): string {
    const o = this.options;
    const fmt = (v: number | readonly number[]) => (Array.isArray(v) ? `[${v.join(', ')}]` : `[${v}, ${v}]`);
    const parts = [`${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize.join(', ')}]`];
    parts.push(`stride=${fmt(o.stride ?? 1)}`);
    if (o.padding !== undefined && o.padding !== 0) parts.push(`padding=${fmt(o.padding)}`);
    if (o.outputPadding !== undefined && o.outputPadding !== 0) parts.push(`outputPadding=${fmt(o.outputPadding)}`);
    if (o.dilation !== undefined && o.dilation !== 1) parts.push(`dilation=${fmt(o.dilation)}`);
    if ((o.groups ?? 1) !== 1) parts.push(`groups=${o.groups}`);
    if (!this.bias) parts.push('bias=false');
    return parts.join(', ');
  }
}
