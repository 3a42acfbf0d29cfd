import { linear } from '../../ops/linear.js';
import { checkInt, checkOptions } from '../../validate.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Generator } from '../../tensor/random.js';
import { linearCounts, type LayerCounts } from '../describe.js';
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

  /** inFeatures inputs plus the bias per unit (linearCounts, describe.ts). */
  describeLayer(inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
    return linearCounts(inputShape, outputShape, this.inFeatures, this.bias !== null);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
