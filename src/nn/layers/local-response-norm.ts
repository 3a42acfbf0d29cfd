import { localResponseNorm, type LocalResponseNormOptions } from '../../ops/local-response-norm.js';
import { checkInt, checkOptions } from '../../validate.js';
import type { Tensor } from '../../tensor/tensor.js';
import { localResponseCounts, type LayerCounts } from '../describe.js';
import { Module } from '../module.js';

/**
 * Local response normalization across `size` neighbouring channels (AlexNet):
 * y_c = x_c / (k + alpha/size * sum of x^2 over the window)^beta. No parameters.
 * AlexNet: new LocalResponseNorm(5, { alpha: 1e-4, beta: 0.75, k: 2 }).
 */
export class LocalResponseNorm extends Module {
  readonly size: number;
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;

  constructor(size: number, options: LocalResponseNormOptions = {}) {
    super();
    checkOptions('LocalResponseNorm', options, ['alpha', 'beta', 'k']);
    this.size = checkInt('LocalResponseNorm', 'size', size, 1);
    this.alpha = options.alpha ?? 1e-4;
    this.beta = options.beta ?? 0.75;
    this.k = options.k ?? 1;
  }

  forward(x: Tensor): Tensor {
    return localResponseNorm(x, this.size, { alpha: this.alpha, beta: this.beta, k: this.k });
  }

  /** Each channel sees its window of neighbouring channels at its own position (localResponseCounts, describe.ts). */
  describeLayer(inputShape: readonly number[]): LayerCounts {
    return localResponseCounts(inputShape, this.size);
  }

  override extraRepr(): string {
    return `${this.size}, alpha=${this.alpha}, beta=${this.beta}, k=${this.k}`;
  }
}
