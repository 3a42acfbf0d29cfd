import { ValueError } from '../../errors.js';
import { upsample, type UpsampleOptions } from '../../ops/upsample.js';
import { checkOptions } from '../../validate.js';
import type { Tensor } from '../../tensor/tensor.js';
import { upsampleCounts, type LayerCounts } from '../describe.js';
import { Module } from '../module.js';

/**
 * Up-sampling by a scale factor or to a fixed size, 'nearest' (default) or
 * 'bilinear', as PyTorch's nn.Upsample. No parameters.
 */
export class Upsample extends Module {
  readonly options: UpsampleOptions;

  constructor(options: UpsampleOptions) {
    super();
    if (options === undefined || options === null || typeof options !== 'object') {
      throw new ValueError(`Upsample: options { scaleFactor or size, mode } are required, got ${JSON.stringify(options)}`);
    }
    checkOptions('Upsample', options, ['scaleFactor', 'size', 'mode', 'alignCorners']);
    const hasSize = options.size !== undefined && options.size !== null;
    const hasScale = options.scaleFactor !== undefined && options.scaleFactor !== null;
    if (hasSize === hasScale) {
      throw new ValueError(`Upsample: give exactly one of size and scaleFactor (got ${hasSize ? 'both' : 'neither'})`);
    }
    const mode = options.mode ?? 'nearest';
    if (mode !== 'nearest' && mode !== 'bilinear') {
      throw new ValueError(`Upsample: mode must be 'nearest' or 'bilinear', got ${JSON.stringify(mode)}`);
    }
    if (options.alignCorners && mode === 'nearest') {
      throw new ValueError(`Upsample: alignCorners applies to mode 'bilinear' only; nearest has no corners to align (drop alignCorners or use mode 'bilinear')`);
    }
    this.options = { ...options, mode };
  }

  forward(x: Tensor): Tensor {
    return upsample(x, this.options);
  }

  /** Nearest reads one input unit, bilinear four; the field is a transposed window (upsampleCounts, describe.ts). */
  describeLayer(inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
    return upsampleCounts(inputShape, outputShape, this.options.mode === 'bilinear', this.options.alignCorners ?? false);
  }

  override extraRepr(): string {
    const o = this.options;
    const fmt = (v: number | readonly number[]) => (typeof v === 'number' ? `${v}` : `[${v.join(', ')}]`);
    const what = o.size !== undefined && o.size !== null ? `size=${fmt(o.size)}` : `scaleFactor=${fmt(o.scaleFactor!)}`;
    return `${what}, mode='${o.mode}'${o.mode === 'bilinear' ? `, alignCorners=${o.alignCorners ?? false}` : ''}`;
  }
}
