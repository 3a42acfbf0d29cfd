import { localResponseNorm, type LocalResponseNormOptions } from '../../ops/local-response-norm.js';
import { checkInt, checkOptions } from '../../validate.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LayerCounts } from '../describe.js';
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

  /**
   * Channel c sees channels c - floor(size/2) .. c + floor((size-1)/2) that
   * exist (PyTorch's window, cut at the first and last channel), at its own
   * position: connections sum those windows over the output.
   */
  describeLayer(inputShape: readonly number[]): LayerCounts {
    const channels = inputShape[0];
    const plane = inputShape.slice(1).reduce((a, b) => a * b, 1);
    let seen = 0;
    for (let c = 0; c < channels; c++) seen += Math.min(channels - 1, c + Math.floor((this.size - 1) / 2)) - Math.max(0, c - Math.floor(this.size / 2)) + 1;
    return { connections: seen * plane, macs: 0 };
  }

  override extraRepr(): string {
    return `${this.size}, alpha=${this.alpha}, beta=${this.beta}, k=${this.k}`;
  }
}
