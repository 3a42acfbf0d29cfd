/**
 * Weight initializers, in place, with PyTorch's definitions:
 *   fanIn = inFeatures (Linear) or inC/groups * kH * kW (Conv2d); fanOut likewise with outputs
 *   kaimingUniform(a): bound = gain * sqrt(3 / fan), gain = sqrt(2 / (1 + a^2))
 *   kaimingNormal(a):  std = gain / sqrt(fan)
 *   xavierUniform:     bound = gain * sqrt(6 / (fanIn + fanOut))
 *   xavierNormal:      std = gain * sqrt(2 / (fanIn + fanOut))
 * PyTorch's default for Conv2d and Linear is kaimingUniform with a = sqrt(5),
 * i.e. U(-1/sqrt(fanIn), 1/sqrt(fanIn)), and the bias U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
 */
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { zeros as zerosTensor, type Tensor } from '../tensor/tensor.js';
import { checkOptions } from '../validate.js';
import { parameter } from './module.js';

export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) throw new ShapeError(`init: fan in and fan out need a tensor with at least 2 dims, got ${fmtShape(t.shape)}`);
  const receptive = t.shape.slice(2).reduce((p, d) => p * d, 1);
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

export function uniform(t: Tensor, low = 0, high = 1, generator: Generator = defaultGenerator): Tensor {
  if (!(low <= high)) throw new ValueError(`init.uniform: low ${low} must not exceed high ${high}`);
  generator.fillUniform(t.data.subarray(0, t.size), low, high);
  return t;
}

export function normal(t: Tensor, mean = 0, std = 1, generator: Generator = defaultGenerator): Tensor {
  if (!(std >= 0)) throw new ValueError(`init.normal: std must be >= 0, got ${std}`);
  generator.fillNormal(t.data.subarray(0, t.size), mean, std);
  return t;
}

export function constant(t: Tensor, value: number): Tensor {
  t.data.fill(value);
  return t;
}

export const zeros = (t: Tensor) => constant(t, 0);
export const ones = (t: Tensor) => constant(t, 1);

export type Nonlinearity = 'linear' | 'relu' | 'leakyRelu' | 'tanh' | 'sigmoid';

/** PyTorch's calculate_gain. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'sigmoid': return 1;
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leakyRelu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    default: throw new ValueError(`calculateGain: unknown nonlinearity '${String(nonlinearity)}'; use linear, relu, leakyRelu, tanh or sigmoid`);
  }
}

export interface KaimingOptions {
  a?: number;
  mode?: 'fanIn' | 'fanOut';
  nonlinearity?: Nonlinearity;
  generator?: Generator;
}

function kaimingStd(t: Tensor, o: KaimingOptions): number {
  const { fanIn, fanOut } = fans(t);
  const fan = (o.mode ?? 'fanIn') === 'fanIn' ? fanIn : fanOut;
  const gain = calculateGain(o.nonlinearity ?? 'leakyRelu', o.a ?? 0);
  return gain / Math.sqrt(fan);
}

const KAIMING_OPTIONS = ['a', 'mode', 'nonlinearity', 'generator'];

export function kaimingUniform(t: Tensor, options: KaimingOptions = {}): Tensor {
  checkOptions('kaimingUniform', options, KAIMING_OPTIONS);
  const bound = Math.sqrt(3) * kaimingStd(t, options);
  return uniform(t, -bound, bound, options.generator);
}

export function kaimingNormal(t: Tensor, options: KaimingOptions = {}): Tensor {
  checkOptions('kaimingNormal', options, KAIMING_OPTIONS);
  return normal(t, 0, kaimingStd(t, options), options.generator);
}

export function xavierUniform(t: Tensor, gain = 1, generator: Generator = defaultGenerator): Tensor {
  const { fanIn, fanOut } = fans(t);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, -bound, bound, generator);
}

export function xavierNormal(t: Tensor, gain = 1, generator: Generator = defaultGenerator): Tensor {
  const { fanIn, fanOut } = fans(t);
  return normal(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), generator);
}

/**
 * The weight and bias of a Linear, Conv2d or ConvTranspose2d layer with
 * PyTorch's default initialization: weight kaimingUniform(a = sqrt(5)), i.e.
 * U(-1/sqrt(fanIn), 1/sqrt(fanIn)) with fanIn from dims 1.. of the weight,
 * and the bias (`biasSize` values, or none when null) from the same interval.
 * Both are marked as module parameters.
 */
export function defaultLayerParameters(weightShape: readonly number[], biasSize: number | null, generator?: Generator): { weight: Tensor; bias: Tensor | null } {
  const weight = parameter(zerosTensor(weightShape));
  kaimingUniform(weight, { a: Math.sqrt(5), generator });
  let bias: Tensor | null = null;
  if (biasSize !== null) {
    bias = parameter(zerosTensor([biasSize]));
    const bound = 1 / Math.sqrt(fans(weight).fanIn);
    uniform(bias, -bound, bound, generator);
  }
  return { weight, bias };
}
