import { ShapeError, ValueError, fmtShape } from '../../errors.js';
import { sub } from '../../ops/binary.js';
import { sum } from '../../ops/reduce.js';
import { unsqueeze } from '../../ops/shape.js';
import { neg, square } from '../../ops/unary.js';
import { Tensor, tensor } from '../../tensor/tensor.js';
import { checkOptions } from '../../validate.js';
import type { LayerCounts } from '../describe.js';
import { Module, parameter } from '../module.js';

export interface EuclideanRBFOptions {
  /** Train the centres as parameters (default false: they are a buffer, saved but never trained, as in the paper). */
  trainable?: boolean;
  /**
   * Return -y, the negated distances, so that larger means closer and the
   * output can be read as logits (cross-entropy, argmax). Default false.
   */
  negate?: boolean;
}

/**
 * Euclidean radial basis function units, the output layer of LeNet-5 (LeCun
 * et al., 1998, "Gradient-based learning applied to document recognition",
 * section II.B, eq. 7): for input x [N, in] and centres weight [out, in],
 *   y[n, i] = sum_j (x[n, j] - weight[i, j])^2,
 * the squared distance from x to centre i (smaller is a better match). No
 * bias. The centres are given (the paper fixes them by hand) and are a buffer
 * unless `trainable`. With `negate` the layer returns -y. Backward by
 * autograd: dy_i/dx_j = 2 (x_j - w_ij).
 */
export class EuclideanRBF extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly trainable: boolean;
  readonly negate: boolean;
  declare weight: Tensor;

  constructor(centers: Tensor, options: EuclideanRBFOptions = {}) {
    super();
    checkOptions('EuclideanRBF', options, ['trainable', 'negate']);
    if (!(centers instanceof Tensor) || centers.ndim !== 2 || centers.size === 0) {
      throw new ShapeError(`EuclideanRBF: centers must be a non-empty 2-D tensor [outFeatures, inFeatures] (one centre per row), got ${centers instanceof Tensor ? `shape ${fmtShape(centers.shape)}` : typeof centers}`);
    }
    if (![...centers.data].every(Number.isFinite)) throw new ValueError('EuclideanRBF: centers must be finite numbers');
    for (const [name, value] of Object.entries({ trainable: options.trainable, negate: options.negate })) {
      if (value !== undefined && typeof value !== 'boolean') throw new ValueError(`EuclideanRBF: ${name} must be a boolean, got ${JSON.stringify(value)}`);
    }
    [this.outFeatures, this.inFeatures] = centers.shape;
    this.trainable = options.trainable ?? false;
    this.negate = options.negate ?? false;
    const own = tensor(Float32Array.from(centers.data), centers.shape);
    if (this.trainable) this.weight = parameter(own);
    else this.registerBuffer('weight', own);
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor) || x.ndim !== 2 || x.shape[1] !== this.inFeatures) {
      throw new ShapeError(`EuclideanRBF: input must be [batch, ${this.inFeatures}], got ${x instanceof Tensor ? `shape ${fmtShape(x.shape)}` : typeof x}; flatten it first`);
    }
    const y = sum(square(sub(unsqueeze(x, 1), this.weight)), 2);
    return this.negate ? neg(y) : y;
  }

  /** Each output unit sees every input (no bias): out * in connections, one squared difference accumulated each. */
  describeLayer(): LayerCounts {
    const n = this.outFeatures * this.inFeatures;
    return { connections: n, macs: n, global: true };
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, trainable=${this.trainable}, negate=${this.negate}`;
  }
}
