import { ValueError } from '../../errors.js';
import { mul } from '../../ops/binary.js';
import { tanh } from '../../ops/unary.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkOptions } from '../../validate.js';
import type { LayerCounts } from '../describe.js';
import { Module } from '../module.js';

export interface ScaledTanhOptions {
  /** A, the output's bound (default 1.7159). */
  amplitude?: number;
  /** S, the slope at the origin divided by A (default 2/3). */
  slope?: number;
}

/**
 * The squashing function of LeCun et al., 1998 ("Gradient-based learning
 * applied to document recognition", appendix A): f(a) = A tanh(S a) with
 * A = 1.7159 and S = 2/3, chosen so that f(1) = 1 and f(-1) = -1 (to four
 * decimals: f(1) = 1.7159 tanh(2/3) = 1.00002), the second derivative is
 * largest at +-1 and the gain near the origin is close to 1. Element-wise, no
 * parameters. Backward by autograd: A S (1 - tanh^2(S a)).
 */
export class ScaledTanh extends Module {
  readonly amplitude: number;
  readonly slope: number;

  constructor(options: ScaledTanhOptions = {}) {
    super();
    checkOptions('ScaledTanh', options, ['amplitude', 'slope']);
    this.amplitude = finiteNonZero('amplitude', options.amplitude ?? 1.7159);
    this.slope = finiteNonZero('slope', options.slope ?? 2 / 3);
  }

  forward(x: Tensor): Tensor {
    return mul(tanh(mul(x, this.slope)), this.amplitude);
  }

  /** Element-wise: each output sees its own input position (a 1x1 window), no connections. */
  describeLayer(): LayerCounts {
    return { connections: 0, macs: 0, window: { kernel: [1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1] } };
  }

  override extraRepr(): string {
    return `amplitude=${this.amplitude}, slope=${this.slope}`;
  }
}

function finiteNonZero(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value === 0) {
    throw new ValueError(`ScaledTanh: ${name} must be a finite non-zero number, got ${JSON.stringify(value)}`);
  }
  return value;
}
