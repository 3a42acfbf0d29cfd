import { ValueError } from '../../errors.js';
import { conv2d, resolvePadding, type Conv2dOptions, type Conv2dPadding } from '../../ops/conv2d.js';
import { checkInt, checkOptions, pair } from '../../validate.js';
import { shapeSize, type Tensor } from '../../tensor/tensor.js';
import type { Generator } from '../../tensor/random.js';
import type { LayerCounts } from '../describe.js';
import { defaultLayerParameters } from '../init.js';
import { Module } from '../module.js';
import { checkWindowFit, type LayerWindow } from '../window-fit.js';

export interface Conv2dLayerOptions extends Conv2dOptions {
  /** Learn a bias per output channel (default true). */
  bias?: boolean;
  generator?: Generator;
}

/**
 * A convolution layer: weight [outChannels, inChannels/groups, kH, kW] and bias
 * [outChannels], initialized as PyTorch does (U(-1/sqrt(fanIn), 1/sqrt(fanIn))).
 * paddingMode 'zeros' (default), 'reflect', 'replicate', 'circular' or
 * 'partial' (partial-convolution padding); see ops/conv2d.ts.
 * It has outC * (inC/groups * kH * kW + 1) parameters: ten 5x5x3 filters have 760.
 */
export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly options: Conv2dOptions;
  weight: Tensor;
  bias: Tensor | null;

  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly [number, number], options: Conv2dLayerOptions = {}) {
    super();
    checkOptions('Conv2d', options, ['stride', 'padding', 'dilation', 'groups', 'paddingMode', 'algorithm', 'bias', 'generator']);
    this.inChannels = checkInt('Conv2d', 'inChannels', inChannels, 1);
    this.outChannels = checkInt('Conv2d', 'outChannels', outChannels, 1);
    this.kernelSize = pair('Conv2d', 'kernelSize', kernelSize, 1);
    const groups = checkInt('Conv2d', 'groups', options.groups ?? 1, 1);
    if (inChannels % groups || outChannels % groups) {
      throw new ValueError(`Conv2d: groups ${groups} must divide both inChannels ${inChannels} and outChannels ${outChannels}`);
    }
    const modes = ['zeros', 'reflect', 'replicate', 'circular', 'partial'];
    if (options.paddingMode !== undefined && !modes.includes(options.paddingMode)) {
      throw new ValueError(`Conv2d: paddingMode must be one of ${modes.map((m) => `'${m}'`).join(', ')}; got ${JSON.stringify(options.paddingMode)}`);
    }
    const { bias = true, generator, ...convOptions } = options;
    this.options = convOptions;
    ({ weight: this.weight, bias: this.bias } = defaultLayerParameters([outChannels, inChannels / groups, ...this.kernelSize], bias ? outChannels : null, generator));
  }

  forward(x: Tensor): Tensor {
    const y = conv2d(x, this.weight, this.bias, this.options);
    checkWindowFit(this, x.shape); // warns once when the windows leave input unseen (window-fit.ts)
    return y;
  }

  /** The window, for the fit check. */
  windowOptions(): LayerWindow {
    const { stride, padding, dilation } = this.options;
    return { kind: 'conv', kernel: this.kernelSize, stride, padding, dilation };
  }

  /**
   * Each output unit sees inChannels/groups x kH x kW inputs, plus one with a
   * bias (the lectures' 5x5x3 filter: 76); the multiply-accumulates are the
   * same without the bias. Units at the border whose window reaches into the
   * padding are counted with their whole window, as the lectures count them.
   */
  describeLayer(inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
    const o = this.options;
    const stride = pair('Conv2d', 'stride', o.stride ?? 1, 1);
    const dilation = pair('Conv2d', 'dilation', o.dilation ?? 1, 1);
    const [kH, kW] = this.kernelSize;
    const [top, , left] = resolvePadding('Conv2d', o.padding ?? 0, inputShape[inputShape.length - 2], inputShape[inputShape.length - 1], kH, kW, stride, dilation);
    const perUnit = (this.inChannels / (o.groups ?? 1)) * kH * kW;
    const units = shapeSize(outputShape);
    return {
      connections: units * (perUnit + (this.bias ? 1 : 0)),
      macs: units * perUnit,
      window: { kernel: this.kernelSize, stride, padding: [top, left], dilation },
    };
  }

  override extraRepr(): string {
    const o = this.options;
    const parts = [`${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize.join(', ')}]`];
    const fmt = (v: number | readonly number[] | Conv2dPadding) => (typeof v === 'string' ? `'${v}'` : Array.isArray(v) ? `[${v.join(', ')}]` : `[${v}, ${v}]`);
    parts.push(`stride=${fmt(o.stride ?? 1)}`);
    if (o.padding !== undefined && o.padding !== 0) parts.push(`padding=${fmt(o.padding)}`);
    if (o.dilation !== undefined && o.dilation !== 1) parts.push(`dilation=${fmt(o.dilation)}`);
    if ((o.groups ?? 1) !== 1) parts.push(`groups=${o.groups}`);
    if (!this.bias) parts.push('bias=false');
    if (o.paddingMode && o.paddingMode !== 'zeros') parts.push(`paddingMode='${o.paddingMode}'`);
    return parts.join(', ');
  }
}
