import { linear } from '../../ops/linear.js';
import { checkInt, checkOptions } from '../../validate.js';
import { shapeSize, type Tensor } from '../../tensor/tensor.js';
import type { Generator } from '../../tensor/random.js';
import { wholeAxisField, type LayerCounts } from '../describe.js';
import { defaultLayerParameters } from '../init.js';
import { Module } from '../module.js';

/**
 * Fully connected layer y = x W^T + b with W [out, in], initialized as PyTorch
 * (U(-1/sqrt(in), 1/sqrt(in)) for weight and bias). out * (in + 1) parameters.
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Tensor;
  bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, options: { bias?: boolean; generator?: Generator } = {}) {
    super();
    checkOptions('Linear', options, ['bias', 'generator']);
    this.inFeatures = checkInt('Linear', 'inFeatures', inFeatures, 1);
    this.outFeatures = checkInt('Linear', 'outFeatures', outFeatures, 1);
    ({ weight: this.weight, bias: this.bias } = defaultLayerParameters([outFeatures, inFeatures], options.bias ?? true ? outFeatures : null, options.generator));
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  /**
   * Each output unit sees all inFeatures inputs, plus one with a bias;
   * inFeatures multiply-accumulates per unit. On a flat input every unit sees
   * the whole image; applied to the last axis of an image it sees one whole
   * row: the field spans the width and is the same for every unit along it
   * (jump 0), the height is kept.
   */
  describeLayer(inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
    const units = shapeSize(outputShape);
    const counts = { connections: units * (this.inFeatures + (this.bias ? 1 : 0)), macs: units * this.inFeatures };
    if (inputShape.length < 3) return { ...counts, global: true };
    return { ...counts, field: (input, axis, length) => (axis === 0 ? input : wholeAxisField(input, length)) };
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
