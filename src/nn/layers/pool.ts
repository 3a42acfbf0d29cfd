import { avgPool2d, maxPool2d, type AvgPool2dOptions, type MaxPool2dOptions } from '../../ops/pool2d.js';
import { checkOptions, pair } from '../../validate.js';
import { shapeSize, type Tensor } from '../../tensor/tensor.js';
import type { LayerCounts } from '../describe.js';
import { Module } from '../module.js';
import { checkWindowFit, type LayerWindow } from '../window-fit.js';

/** A size, a pair or an [h, w] with nulls as a layer's repr shows it: 2, [2, 3], [null, 4]. */
export const fmtSize = (v: number | null | readonly (number | null)[]) => (Array.isArray(v) ? `[${v.map(String).join(', ')}]` : `${v}`);

/** The window options a pooling layer may have (stride defaults to the kernel size, padding to 0, dilation to 1). */
export interface PoolWindowOptions {
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
  dilation?: number | readonly [number, number];
}

/** What the pooling layers over kernelSize windows hold: the kernel size as a pair and a copy of the options. */
export abstract class WindowPool2d<O extends PoolWindowOptions> extends Module {
  readonly kernelSize: [number, number];
  readonly options: O;

  protected constructor(where: string, kernelSize: number | readonly [number, number], options: O, known: readonly string[]) {
    super();
    checkOptions(where, options, known);
    this.kernelSize = pair(where, 'kernelSize', kernelSize, 1);
    this.options = { ...options };
  }

  /** Each output unit sees kH x kW inputs of its own channel; no parameters, no multiply-accumulates. */
  describeLayer(_inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
    const where = this.constructor.name;
    const [kH, kW] = this.kernelSize;
    return {
      connections: shapeSize(outputShape) * kH * kW,
      macs: 0,
      window: {
        kernel: this.kernelSize,
        stride: pair(where, 'stride', this.options.stride ?? this.kernelSize, 1),
        padding: pair(where, 'padding', this.options.padding ?? 0, 0),
        dilation: pair(where, 'dilation', this.options.dilation ?? 1, 1),
      },
    };
  }
}

/** Max pooling; stride defaults to the kernel size. No parameters. */
export class MaxPool2d extends WindowPool2d<MaxPool2dOptions> {
  constructor(kernelSize: number | readonly [number, number], options: MaxPool2dOptions = {}) {
    super('MaxPool2d', kernelSize, options, ['stride', 'padding', 'dilation', 'ceilMode']);
  }

  forward(x: Tensor): Tensor {
    const y = maxPool2d(x, this.kernelSize, this.options);
    checkWindowFit(this, x.shape); // warns once when the windows leave input unseen (window-fit.ts)
    return y;
  }

  /** The window, for the fit check. */
  windowOptions(): LayerWindow {
    const { stride, padding, dilation, ceilMode } = this.options;
    return { kind: 'pool', kernel: this.kernelSize, stride: stride ?? this.kernelSize, padding, dilation, ceilMode };
  }

  override extraRepr(): string {
    const o = this.options;
    return `kernelSize=${fmtSize(this.kernelSize)}, stride=${fmtSize(o.stride ?? this.kernelSize)}, padding=${fmtSize(o.padding ?? 0)}, dilation=${fmtSize(o.dilation ?? 1)}, ceilMode=${o.ceilMode ?? false}`;
  }
}

/** Average pooling; stride defaults to the kernel size. No parameters. */
export class AvgPool2d extends WindowPool2d<AvgPool2dOptions> {
  constructor(kernelSize: number | readonly [number, number], options: AvgPool2dOptions = {}) {
    super('AvgPool2d', kernelSize, options, ['stride', 'padding', 'ceilMode', 'countIncludePad']);
  }

  forward(x: Tensor): Tensor {
    const y = avgPool2d(x, this.kernelSize, this.options);
    checkWindowFit(this, x.shape); // warns once when the windows leave input unseen (window-fit.ts)
    return y;
  }

  /** The window, for the fit check. */
  windowOptions(): LayerWindow {
    const { stride, padding, ceilMode } = this.options;
    return { kind: 'pool', kernel: this.kernelSize, stride: stride ?? this.kernelSize, padding, ceilMode };
  }

  override extraRepr(): string {
    const o = this.options;
    return `kernelSize=${fmtSize(this.kernelSize)}, stride=${fmtSize(o.stride ?? this.kernelSize)}, padding=${fmtSize(o.padding ?? 0)}, ceilMode=${o.ceilMode ?? false}, countIncludePad=${o.countIncludePad ?? true}`;
  }
}
