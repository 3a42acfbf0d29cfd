/**
 * LeNet-5 as published: LeCun, Bottou, Bengio and Haffner, 1998, "Gradient-
 * based learning applied to document recognition", Proc. IEEE 86(11),
 * section II.B, Table I and appendix A. On a 32x32 input:
 *   c1  convolution 6@5x5                               -> 6x28x28   156 parameters, 122,304 connections
 *   s2  trainable 2x2 subsampling (coefficient + bias)  -> 6x14x14    12 parameters,   5,880 connections
 *   c3  convolution 16@5x5 with Table I's sparse table  -> 16x10x10 1,516 parameters, 151,600 connections
 *   s4  trainable 2x2 subsampling                       -> 16x5x5     32 parameters,   2,000 connections
 *   c5  convolution 120@5x5 (each sees all 16 maps)     -> 120x1x1 48,120 parameters
 *   f6  linear 120 -> 84                                -> 84      10,164 parameters
 *   output  10 Euclidean RBF units, centres fixed       -> 10           0 trainable parameters
 * 60,000 trainable parameters. Every layer up to F6 is followed by the
 * squashing function f(a) = 1.7159 tanh(2a/3) (appendix A: "units in layers up
 * to F6" pass their weighted sum through it), named squash1 ... squash6 after
 * the layer it follows. State-dict names: c1.weight, s2.weight (the 6
 * coefficients), c3.weight ([60, 5, 5]: one kernel per X of Table I, output map
 * by output map), output.weight (the RBF centres, a buffer)...
 *
 * Initialization as the paper's section II.B and appendix: every weight and
 * bias of a unit uniform in +-2.4/F, F the unit's fan-in (its inputs, the bias
 * not counted: 25 for C1, 4 for S2 and S4, 75/100/150 for C3's maps of 3/4/6
 * inputs, 400 for C5, 120 for F6), drawn from the generator.
 *
 * What forward returns, and the loss. The RBF units give distances y_i
 * (smaller is better); forward returns -y, so that larger means more likely
 * and Stride's cross-entropy and argmax accuracy apply as to any classifier.
 * The paper's criterion (section II.C, eq. 9) is
 *   E = mean over samples of [ y_D + log(e^-j + sum_i e^-y_i) ]
 * and cross-entropy on the scores -y is -log softmax(-y)_D = y_D + log sum_i e^-y_i:
 * the same criterion without the e^-j term (j -> infinity). lenet1998Criterion
 * computes eq. 9 with its j.
 *
 * Deviations from the paper, each deliberate:
 * - The RBF centres: the paper draws each class's 84 components as a stylized
 *   7x12 bitmap of its character with values -1/+1, which the paper does not
 *   print. Here class i's centre is row i + 1 of the 84x84 Hadamard matrix of
 *   Paley's construction (q = 83), a -1/+1 code the paper itself names as an
 *   alternative ("an error correcting code"): every centre has 42 components of
 *   +1 and 42 of -1, and any two centres differ in exactly 42 places (their
 *   distance is 168 for every pair, the largest a set of 84-component codes of
 *   this size can have for all pairs). Up to 83 classes with the RBF output.
 * - The 28x28 input (inputSize 28, what `lenet5-1998` in the registry and
 *   `stride train lenet5-1998 --dataset mnist` use): the paper places MNIST's
 *   28x28 digits in a 32x32 field padded with background. Here c1 zero-pads by 2
 *   on every side, which is the same 32x32 field with a zero border; after
 *   Stride's MNIST normalization (mean 0.1307, std 0.3081) the background is
 *   -0.42, not 0, so the border is slightly lighter than the background (the
 *   paper's own normalization puts the background at -0.1). The weights are the
 *   same tensors for both input sizes.
 * - The optimizer: the paper trains with a stochastic diagonal Levenberg-
 *   Marquardt method (appendix C); Stride trains it with its own optimizers.
 *   The distances make large scores (about -84 at the start), and SGD at
 *   `stride train`'s default rate 0.05 with momentum 0.9 diverges; measured,
 *   one epoch of all 60,000 MNIST images: --lr 0.01 (SGD, momentum 0.9,
 *   cosine, batch 64, seed 0) reaches test accuracy 0.9676.
 * - `output: 'linear'` (an option, not the paper's): a trainable linear layer
 *   84 -> numClasses in place of the RBF units, 60,850 parameters for 10 classes.
 */
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { EuclideanRBF } from '../nn/layers/euclidean-rbf.js';
import { Flatten } from '../nn/layers/flatten.js';
import { Linear } from '../nn/layers/linear.js';
import { ScaledTanh } from '../nn/layers/scaled-tanh.js';
import { Sequential } from '../nn/layers/sequential.js';
import { SparseConv2d } from '../nn/layers/sparse-conv2d.js';
import { Subsampling2d } from '../nn/layers/subsampling.js';
import type { Module } from '../nn/module.js';
import { crossEntropy } from '../ops/cross-entropy.js';
import { concat } from '../ops/shape.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { Tensor, full, tensor } from '../tensor/tensor.js';
import { checkInt, checkOptions } from '../validate.js';
import { classifierOptions } from './classifier-options.js';

/**
 * Table I of the paper: LENET5_C3_TABLE[o] lists the S2 maps that C3's map o
 * sees. Maps 0-5 see 3 contiguous maps, 6-11 see 4 contiguous maps, 12-14
 * see 4 non-contiguous maps, 15 sees all 6 (contiguous wraps around 5 -> 0).
 */
export const LENET5_C3_TABLE: readonly (readonly number[])[] = Object.freeze([
  [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [0, 4, 5], [0, 1, 5],
  [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [0, 3, 4, 5], [0, 1, 4, 5], [0, 1, 2, 5],
  [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5],
  [0, 1, 2, 3, 4, 5],
].map((maps) => Object.freeze(maps)));

/** The order of Paley's Hadamard matrix that gives the RBF centres (q + 1 with q = 83, a prime = 3 mod 4), also F6's width. */
const CODE_LENGTH = 84;

/**
 * The RBF centres: rows 1 .. numClasses of the 84x84 Hadamard matrix
 * H = I + [[0, 1^T], [-1, Q]] of Paley's first construction, Q[a][b] the
 * quadratic character of (b - a) mod 83. Each row is -1/+1 with 42 of each,
 * and any two rows are orthogonal (they differ in 42 places).
 */
export function lenet1998Centers(numClasses: number): Tensor {
  checkInt('lenet1998Centers', 'numClasses', numClasses, 1);
  const q = CODE_LENGTH - 1;
  if (numClasses > q) {
    throw new ValueError(`lenet1998Centers: the code has ${q} balanced rows, so at most ${q} classes, got numClasses ${numClasses}; use LeNet1998's output 'linear' for more classes`);
  }
  const isSquare = new Array<boolean>(q).fill(false);
  for (let a = 1; a < q; a++) isSquare[(a * a) % q] = true;
  const chi = (a: number) => (a % q === 0 ? 0 : isSquare[((a % q) + q) % q] ? 1 : -1);
  const data = new Float32Array(numClasses * CODE_LENGTH);
  for (let i = 0; i < numClasses; i++) {
    const r = i + 1; // Row 0 is all ones; rows 1..83 are balanced.
    const row = data.subarray(i * CODE_LENGTH, (i + 1) * CODE_LENGTH);
    row[0] = -1;
    for (let c = 1; c < CODE_LENGTH; c++) row[c] = c === r ? 1 : chi(c - r);
  }
  return tensor(data, [numClasses, CODE_LENGTH]);
}

export interface LeNet1998Options {
  /** Input channels (default 1: the paper's grey-level images). */
  inChannels?: number;
  /** Classes (default 10). At most 83 with the RBF output. */
  numClasses?: number;
  /** 'rbf' (default, the paper's fixed Euclidean RBF units) or 'linear' (a trainable linear layer 84 -> numClasses). */
  output?: 'rbf' | 'linear';
  /** 32 (default, the paper's input) or 28 (MNIST's digits; c1 zero-pads by 2, making the paper's 32x32 field). */
  inputSize?: 28 | 32;
  generator?: Generator;
}

/** LeNet-5 as published in 1998 (see the file comment for the layers and the deviations). */
export class LeNet1998 extends Sequential {
  declare c1: Conv2d;
  declare s2: Subsampling2d;
  declare c3: SparseConv2d;
  declare s4: Subsampling2d;
  declare c5: Conv2d;
  declare f6: Linear;
  declare output: EuclideanRBF | Linear;
  readonly inputSize: 28 | 32;
  readonly inChannels: number;

  constructor(options: LeNet1998Options = {}) {
    const { numClasses, inChannels } = classifierOptions('LeNet1998', options, { numClasses: 10, inChannels: 1 }, ['output', 'inputSize']);
    const output = options.output ?? 'rbf';
    if (output !== 'rbf' && output !== 'linear') throw new ValueError(`LeNet1998: output must be 'rbf' (the paper's) or 'linear', got ${JSON.stringify(output)}`);
    const inputSize = options.inputSize ?? 32;
    if (inputSize !== 32 && inputSize !== 28) {
      throw new ValueError(`LeNet1998: inputSize must be 32 (the paper's input) or 28 (MNIST's, zero-padded to 32 by c1), got ${JSON.stringify(inputSize)}`);
    }
    if (output === 'rbf' && numClasses > CODE_LENGTH - 1) {
      throw new ValueError(`LeNet1998: the RBF output has codes for at most ${CODE_LENGTH - 1} classes, got numClasses ${numClasses}; use output 'linear'`);
    }
    const { generator } = options;
    super({
      c1: new Conv2d(inChannels, 6, 5, { padding: (32 - inputSize) / 2, generator }),
      squash1: new ScaledTanh(),
      s2: new Subsampling2d(6, 2, { generator }),
      squash2: new ScaledTanh(),
      c3: new SparseConv2d(6, LENET5_C3_TABLE, 5, { generator }),
      squash3: new ScaledTanh(),
      s4: new Subsampling2d(16, 2, { generator }),
      squash4: new ScaledTanh(),
      c5: new Conv2d(16, 120, 5, { generator }),
      squash5: new ScaledTanh(),
      flatten: new Flatten(),
      f6: new Linear(120, CODE_LENGTH, { generator }),
      squash6: new ScaledTanh(),
      output: output === 'rbf' ? new EuclideanRBF(lenet1998Centers(numClasses), { negate: true }) : new Linear(CODE_LENGTH, numClasses, { generator }),
    });
    this.inputSize = inputSize;
    this.inChannels = inChannels;
    lecun1998Init(this, generator);
  }

  /** Scores [N, numClasses] (the negated RBF distances, or the linear output) for images [N, inChannels, inputSize, inputSize]. */
  override forward(x: Tensor): Tensor {
    const s = this.inputSize;
    if (!(x instanceof Tensor) || x.ndim !== 4 || x.shape[1] !== this.inChannels || x.shape[2] !== s || x.shape[3] !== s) {
      const other = s === 32 ? 28 : 32;
      throw new ShapeError(`LeNet1998: input must be [batch, ${this.inChannels}, ${s}, ${s}], got ${x instanceof Tensor ? `shape ${fmtShape(x.shape)}` : typeof x}; for ${other}x${other} images build it with inputSize ${other}`);
    }
    return super.forward(x);
  }
}

/**
 * The paper's initialization (section II.B): each weight and bias of a unit
 * uniform in +-2.4/F, F the unit's fan-in without the bias. Applies to the
 * Conv2d, SparseConv2d, Subsampling2d and Linear layers below `root`.
 */
export function lecun1998Init(root: Module, generator: Generator = defaultGenerator): void {
  const fill = (t: Tensor, start: number, end: number, fanIn: number) => {
    const bound = 2.4 / fanIn;
    for (let k = start; k < end; k++) t.data[k] = generator.uniform(-bound, bound);
  };
  for (const [, m] of root.namedModules()) {
    if (m instanceof SparseConv2d) {
      const area = m.kernelSize[0] * m.kernelSize[1];
      m.table.forEach((maps, o) => {
        const { start, end } = m.kernelsOf(o);
        fill(m.weight, start, end, maps.length * area);
        if (m.bias) fill(m.bias, o, o + 1, maps.length * area);
      });
    } else if (m instanceof Conv2d || m instanceof Linear || m instanceof Subsampling2d) {
      const fanIn = m instanceof Conv2d ? m.weight.size / m.weight.shape[0] : m instanceof Linear ? m.inFeatures : m.kernelSize[0] * m.kernelSize[1];
      fill(m.weight, 0, m.weight.size, fanIn);
      if (m.bias) fill(m.bias, 0, m.bias.size, fanIn);
    }
  }
}

/**
 * The paper's training criterion (section II.C, eq. 9) on LeNet1998's scores
 * s = -y (the negated RBF distances) and labels D [N]:
 *   E = mean over samples of [ y_D + log(e^-j + sum_i e^-y_i) ]
 * computed as cross-entropy over the scores with one more score, -j, that no
 * label names. j > 0 (the paper gives no value); as j grows E tends to plain
 * cross-entropy on the scores.
 */
export function lenet1998Criterion(scores: Tensor, labels: Tensor | ArrayLike<number>, options: { j: number }): Tensor {
  checkOptions('lenet1998Criterion', options, ['j']);
  const j = options?.j;
  if (typeof j !== 'number' || !Number.isFinite(j) || j <= 0) throw new ValueError(`lenet1998Criterion: j must be a finite number > 0 (the penalty constant of eq. 9), got ${JSON.stringify(j)}`);
  if (!(scores instanceof Tensor) || scores.ndim !== 2) {
    throw new ShapeError(`lenet1998Criterion: scores must be [batch, classes], got ${scores instanceof Tensor ? `shape ${fmtShape(scores.shape)}` : typeof scores}`);
  }
  return crossEntropy(concat([scores, full([scores.shape[0], 1], -j, { dtype: scores.dtype })], 1), labels);
}
