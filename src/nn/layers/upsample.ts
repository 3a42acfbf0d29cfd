import { ValueError } from '../../errors.js';
import { upsample, type UpsampleOptions } from '../../ops/upsample.js';
import { checkOptions } from '../../validate.js';
import { shapeSize, type Tensor } from '../../tensor/tensor.js';
import { transposedField, type AxisField, type LayerCounts } from '../describe.js';
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

  /**
   * Nearest reads one input unit per output unit, bilinear four (two per
   * axis). Receptive field: with a whole factor f (and alignCorners false)
   * up-sampling is a transposed window of stride f: nearest has kernel f,
   * bilinear the taps where its weight is not zero (f = 2: kernel 4, padding
   * 1, the classic bilinear kernel), read as if the image went on past its
   * border. Otherwise each unit sees one (nearest) or two (bilinear) input
   * units along the axis, 1/f of an input unit apart.
   */
  describeLayer(inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
    const bilinear = this.options.mode === 'bilinear';
    const field = (input: AxisField, axis: 0 | 1): AxisField => {
      const f = outputShape[outputShape.length - 2 + axis] / inputShape[inputShape.length - 2 + axis];
      if (Number.isInteger(f) && !this.options.alignCorners) {
        if (!bilinear) return transposedField(input, f, f, 0, 1);
        // Output o reads input i where |o + 0.5 - f/2 - f*i| < f: o - f*i in the open interval (f/2 - 0.5 - f, f/2 - 0.5 + f).
        const first = Math.floor(f / 2 - 0.5 - f) + 1;
        const last = Math.ceil(f / 2 - 0.5 + f) - 1;
        return transposedField(input, last - first + 1, f, -first, 1);
      }
      return { size: input.size + (bilinear ? input.jump : 0), jump: input.jump / f, start: input.start };
    };
    return { connections: shapeSize(outputShape) * (bilinear ? 4 : 1), macs: 0, field };
  }

  override extraRepr(): string {
    const o = this.options;
    const fmt = (v: number | readonly number[]) => (typeof v === 'number' ? `${v}` : `[${v.join(', ')}]`);
    const what = o.size !== undefined && o.size !== null ? `size=${fmt(o.size)}` : `scaleFactor=${fmt(o.scaleFactor!)}`;
    return `${what}, mode='${o.mode}'${o.mode === 'bilinear' ? `, alignCorners=${o.alignCorners ?? false}` : ''}`;
  }
}
