import { ValueError } from '../../errors.js';
import { dropout, dropout2d } from '../../ops/dropout.js';
import type { Generator } from '../../tensor/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';

/** Inverted dropout while training; the identity in eval mode. */
export class Dropout extends Module {
  private readonly _generator: Generator | undefined;

  constructor(readonly p = 0.5, options: { generator?: Generator } = {}) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ValueError(`Dropout: p must be a probability in [0, 1], got ${p}`);
    this._generator = options.generator;
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, generator: this._generator });
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** Channel dropout while training (whole [H, W] maps zeroed with probability p, the rest scaled by 1/(1-p)); the identity in eval mode. */
export class Dropout2d extends Module {
  private readonly _generator: Generator | undefined;

  constructor(readonly p = 0.5, options: { generator?: Generator } = {}) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ValueError(`Dropout2d: p must be a probability in [0, 1], got ${p}`);
    this._generator = options.generator;
  }

  forward(x: Tensor): Tensor {
    return dropout2d(x, this.p, { training: this.training, generator: this._generator });
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
