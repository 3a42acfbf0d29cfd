import { ValueError } from '../../errors.js';
import { logSoftmax, softmax } from '../../ops/softmax.js';
import { elu, gelu, leakyRelu, relu, sigmoid, silu, softplus, tanh, type GeluOptions, type SoftplusOptions } from '../../ops/unary.js';
import type { Tensor } from '../../tensor/tensor.js';
import { alongDimCounts, type LayerCounts } from '../describe.js';
import { Module } from '../module.js';
import { checkOptions } from '../../validate.js';

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
    if (typeof negativeSlope !== 'number' || !Number.isFinite(negativeSlope)) {
      throw new ValueError(`LeakyReLU: negativeSlope must be a finite number, got ${negativeSlope}`);
    }
  }

  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }

  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** What Softmax and LogSoftmax hold: the dim they normalize along (default the last). */
export abstract class AlongDim extends Module {
  constructor(readonly dim = -1) {
    super();
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }

  /** Each output unit reads every unit along `dim` (alongDimCounts, describe.ts). */
  describeLayer(inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
    return alongDimCounts(inputShape, outputShape, this.dim);
  }
}

export class Softmax extends AlongDim {
  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
}

export class LogSoftmax extends AlongDim {
  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }
}

/** x for x > 0, alpha * (e^x - 1) otherwise. */
export class ELU extends Module {
  constructor(readonly alpha = 1) {
    super();
    if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new ValueError(`ELU: alpha must be a finite number, got ${alpha}`);
  }

  forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }

  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** log(1 + e^(beta x)) / beta, linear (x) where beta * x > threshold. */
export class Softplus extends Module {
  readonly beta: number;
  readonly threshold: number;

  constructor(options: SoftplusOptions = {}) {
    super();
    softplusCheck(options);
    this.beta = options.beta ?? 1;
    this.threshold = options.threshold ?? 20;
  }

  forward(x: Tensor): Tensor {
    return softplus(x, { beta: this.beta, threshold: this.threshold });
  }

  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

/** x * Phi(x) (approximate 'none', the default) or its tanh approximation. */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';

  constructor(options: GeluOptions = {}) {
    super();
    checkOptions('GELU', options, ['approximate']);
    this.approximate = options.approximate ?? 'none';
    if (this.approximate !== 'none' && this.approximate !== 'tanh') {
      throw new ValueError(`GELU: approximate must be 'none' or 'tanh', got ${JSON.stringify(this.approximate)}`);
    }
  }

  forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }

  override extraRepr(): string {
    return this.approximate === 'none' ? '' : `approximate='${this.approximate}'`;
  }
}

/** x * sigmoid(x) (also called swish). */
export class SiLU extends Module {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** Validates Softplus options at construction (same rules as the functional form). */
function softplusCheck(options: SoftplusOptions): void {
  if (options === null || typeof options !== 'object') throw new ValueError(`Softplus: options must be an object such as { beta: 1, threshold: 20 }, got ${JSON.stringify(options)}`);
  checkOptions('Softplus', options, ['beta', 'threshold']);
  const { beta = 1, threshold = 20 } = options;
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta === 0) throw new ValueError(`Softplus: beta must be a finite non-zero number, got ${beta}`);
  if (typeof threshold !== 'number' || Number.isNaN(threshold)) throw new ValueError(`Softplus: threshold must be a number, got ${threshold}`);
}
