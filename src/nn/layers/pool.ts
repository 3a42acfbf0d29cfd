import { avgPool2d, maxPool2d, type AvgPool2dOptions, type MaxPool2dOptions } from '../../ops/pool2d.js';
import { checkOptions, pair } from '../../validate.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';

const fmt = (v: number | readonly number[]) => (typeof v === 'number' ? `${v}` : `[${v.join(', ')}]`);

/** Max pooling; stride defaults to the kernel size. No parameters. */
export class MaxPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly options: MaxPool2dOptions;

  constructor(kernelSize: number | readonly [number, number], options: MaxPool2dOptions = {}) {
    super();
    checkOptions('MaxPool2d', options, ['stride', 'padding', 'dilation', 'ceilMode']);
    this.kernelSize = pair('MaxPool2d', 'kernelSize', kernelSize, 1);
    this.options = { ...options };
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.options);
  }

  override extraRepr(): string {
    const o = this.options;
    return `kernelSize=${fmt(this.kernelSize)}, stride=${fmt(o.stride ?? this.kernelSize)}, padding=${fmt(o.padding ?? 0)}, dilation=${fmt(o.dilation ?? 1)}, ceilMode=${o.ceilMode ?? false}`;
  }
}

/** Average pooling; stride defaults to the kernel size. No parameters. */
export class AvgPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly options: AvgPool2dOptions;

  constructor(kernelSize: number | readonly [number, number], options: AvgPool2dOptions = {}) {
    super();
    checkOptions('AvgPool2d', options, ['stride', 'padding', 'ceilMode', 'countIncludePad']);
    this.kernelSize = pair('AvgPool2d', 'kernelSize', kernelSize, 1);
    this.options = { ...options };
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }

  override extraRepr(): string {
    const o = this.options;
    return `kernelSize=${fmt(this.kernelSize)}, stride=${fmt(o.stride ?? this.kernelSize)}, padding=${fmt(o.padding ?? 0)}, ceilMode=${o.ceilMode ?? false}, countIncludePad=${o.countIncludePad ?? true}`;
  }
}
