/**
 * Rosenblatt's perceptron (F. Rosenblatt, 1958, "The perceptron: a
 * probabilistic model for information storage and organization in the
 * brain", Psychological Review 65(6)), in the form the literature has kept: one
 * threshold unit
 *   f(x) = 1 if w . x + b > 0, else 0,
 * trained by its own error-correction rule, one sample at a time, not by
 * gradients:
 *   y = f(x);  w <- w + alpha (d - y) x;  b <- b + alpha (d - y)
 * (d the desired output, 0 or 1; the weights change only on a mistake).
 * The perceptron convergence theorem (Novikoff, 1962): when some (w*, b*)
 * separates the two classes with margin gamma and every |x| <= R (x augmented
 * with a 1 for the bias), the rule makes at most (R / gamma)^2 mistakes, so
 * passes over the data end with one that makes none. When no hyperplane
 * separates them (XOR) every pass makes a mistake and the rule never settles.
 *
 * Deviations from the 1958 paper: Rosenblatt's machine is a photo-perceptron
 * (sensory units, random association units with fixed connections, response
 * units); this is the single trainable response unit on the input features
 * themselves (x are the pixels), with real-valued inputs and weights, a
 * learning rate alpha and a trainable bias, as the rule is stated today. The
 * weights start at zero. With zero initial weights any alpha > 0 gives the
 * same decisions (the weights are alpha times those of alpha = 1).
 * Scores are computed in double precision.
 */
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Module, parameter } from '../nn/module.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { Tensor, tensor, zeros } from '../tensor/tensor.js';
import { checkInt, checkOptions } from '../validate.js';

export interface PerceptronFitOptions {
  /** The most passes over the samples (default 100); fit stops after the first pass without a mistake. */
  epochs?: number;
  /** alpha, the learning rate (default 1). */
  lr?: number;
  /** Visit the samples in a new random order each pass (default false: in the given order). */
  shuffle?: boolean;
  /** Source of the shuffles (default: the global generator). */
  generator?: Generator;
}

export interface PerceptronFitResult {
  /** Passes made. */
  epochs: number;
  /** Mistakes (samples whose output was wrong, so the weights changed) in each pass. */
  mistakes: number[];
  /** Whether the last pass made no mistake: the weights separate the samples. */
  converged: boolean;
}

/** Rosenblatt's perceptron (see the file comment): weight [inFeatures], bias [1]. */
export class Perceptron extends Module {
  readonly inFeatures: number;
  weight: Tensor;
  bias: Tensor;

  constructor(inFeatures: number) {
    super();
    this.inFeatures = checkInt('Perceptron', 'inFeatures', inFeatures, 1);
    // Parameters: the values the model learns (saved in the state dict, counted by numParameters);
    // trainStep changes them, no optimizer does.
    this.weight = parameter(zeros([inFeatures]));
    this.bias = parameter(zeros([1]));
  }

  /** w . x + b for each sample of x [N, ...] (features after the first dim) or one sample [inFeatures]: a [N] tensor. */
  score(x: Tensor): Tensor {
    const { data, n } = this.samples('score', x);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.scoreOf(data, i * this.inFeatures);
    return tensor(out, [n]);
  }

  /** f(x): 1 where w . x + b > 0, else 0, for each sample: a [N] tensor of 0s and 1s (the perceptron's output). */
  forward(x: Tensor): Tensor {
    return tensor(Float32Array.from(this.predict(x)), [this.samples('forward', x).n]);
  }

  /** f(x) for each sample as plain numbers, 0 or 1. */
  predict(x: Tensor): number[] {
    const { data, n } = this.samples('predict', x);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = this.scoreOf(data, i * this.inFeatures) > 0 ? 1 : 0;
    return out;
  }

  /**
   * One step of the rule on one sample x (size inFeatures: [inFeatures] or [1, ...])
   * with desired output d (0 or 1): y = f(x), w += lr (d - y) x, b += lr (d - y).
   * Returns d - y: 0 when the output was right (nothing changes), 1 or -1 after a correction.
   */
  trainStep(x: Tensor, d: number, lr = 1): number {
    const { data, n } = this.samples('trainStep', x);
    if (n !== 1) throw new ShapeError(`Perceptron.trainStep: x must be one sample (${this.inFeatures} values), got shape ${fmtShape(x.shape)}; use fit for a batch`);
    return this.update(data, 0, checkDesired('trainStep', d), checkLr('Perceptron.trainStep', lr));
  }

  /**
   * Applies the rule over the samples x [N, ...] with desired outputs d [N]
   * (0 or 1), pass after pass, until a pass makes no mistake or `epochs`
   * passes are done.
   */
  fit(x: Tensor, d: Tensor | ArrayLike<number>, options: PerceptronFitOptions = {}): PerceptronFitResult {
    checkOptions('Perceptron.fit', options, ['epochs', 'lr', 'shuffle', 'generator']);
    const { data, n } = this.samples('fit', x);
    const desired = checkDesiredList('fit', d, n);
    const epochs = checkInt('Perceptron.fit', 'epochs', options.epochs ?? 100, 1);
    const lr = checkLr('Perceptron.fit', options.lr ?? 1);
    const generator = options.generator ?? defaultGenerator;
    const order = Array.from({ length: n }, (_, i) => i);
    const mistakes: number[] = [];
    while (mistakes.length < epochs) {
      if (options.shuffle) generator.shuffle(order);
      let wrong = 0;
      for (const i of order) if (this.update(data, i * this.inFeatures, desired[i], lr) !== 0) wrong++;
      mistakes.push(wrong);
      if (wrong === 0) break;
    }
    return { epochs: mistakes.length, mistakes, converged: mistakes[mistakes.length - 1] === 0 };
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}`;
  }

  private scoreOf(data: ArrayLike<number>, offset: number): number {
    const w = this.weight.data;
    let s = this.bias.data[0];
    for (let j = 0; j < this.inFeatures; j++) s += w[j] * data[offset + j];
    return s;
  }

  private update(data: ArrayLike<number>, offset: number, d: number, lr: number): number {
    const error = d - (this.scoreOf(data, offset) > 0 ? 1 : 0);
    if (error !== 0) {
      const w = this.weight.data;
      const step = lr * error;
      for (let j = 0; j < this.inFeatures; j++) w[j] += step * data[offset + j];
      this.bias.data[0] += step;
    }
    return error;
  }

  /** The samples of x as rows of inFeatures values: x is [N, ...] with inFeatures values per sample, or one sample [inFeatures]. */
  private samples(method: string, x: Tensor): { data: ArrayLike<number>; n: number } {
    if (!(x instanceof Tensor)) throw new ValueError(`Perceptron.${method}: x must be a Tensor, got ${typeof x}`);
    const single = x.ndim === 1 && x.shape[0] === this.inFeatures;
    const n = single ? 1 : x.shape[0];
    if (!single && (x.ndim < 2 || x.size !== n * this.inFeatures)) {
      throw new ShapeError(`Perceptron.${method}: x must be [N, ...] with ${this.inFeatures} values per sample (or one sample [${this.inFeatures}]), got shape ${fmtShape(x.shape)}`);
    }
    return { data: x.data, n };
  }
}

function checkDesired(method: string, d: unknown): number {
  if (d !== 0 && d !== 1) throw new ValueError(`Perceptron.${method}: the desired output must be 0 or 1, got ${JSON.stringify(d)}`);
  return d;
}

function checkDesiredList(method: string, d: Tensor | ArrayLike<number>, n: number): number[] {
  const values = d instanceof Tensor ? d.data : d;
  if (!values || typeof values.length !== 'number' || typeof values === 'string') throw new ValueError(`Perceptron.${method}: d must be a Tensor or an array of 0s and 1s`);
  if (values.length !== n) throw new ShapeError(`Perceptron.${method}: d has ${values.length} desired outputs for ${n} samples`);
  return Array.from(values, (v, i) => {
    if (v !== 0 && v !== 1) throw new ValueError(`Perceptron.${method}: desired outputs must be 0 or 1; d[${i}] is ${v}`);
    return v;
  });
}

/** Throws unless lr is a finite number > 0 (the rule's alpha). */
export function checkLr(where: string, lr: unknown): number {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0) throw new ValueError(`${where}: lr must be a finite number > 0, got ${JSON.stringify(lr)}`);
  return lr;
}
