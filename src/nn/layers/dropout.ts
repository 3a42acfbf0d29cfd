import { ValueError } from '../../errors.js';
import { dropout, dropout2d } from '../../ops/dropout.js';
import type { Generator } from '../../tensor/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkOptions } from '../../validate.js';
import { Module } from '../module.js';

/** What the dropout layers hold: the drop probability p, checked, and the generator of their masks. */
export abstract class DropoutLayer extends Module {
  protected readonly _generator: Generator | undefined;

  protected constructor(where: string, readonly p: number, options: { generator?: Generator }) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ValueError(`${where}: p must be a probability in [0, 1], got ${p}`);
    checkOptions(where, options, ['generator']);
    this._generator = options.generator;
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** Inverted dropout while training; the identity in eval mode. */
export class Dropout extends DropoutLayer {
  constructor(p = 0.5, options: { generator?: Generator } = {}) {
    super('Dropout', p, options);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, generator: this._generator });
  }
}

/** Channel dropout while training (whole [H, W] maps zeroed with probability p, the rest scaled by 1/(1-p)); the identity in eval mode. */
export class Dropout2d extends DropoutLayer {
  constructor(p = 0.5, options: { generator?: Generator } = {}) {
    super('Dropout2d', p, options);
  }

  forward(x: Tensor): Tensor {
    return dropout2d(x, this.p, { training: this.training, generator: this._generator });
  }
}
