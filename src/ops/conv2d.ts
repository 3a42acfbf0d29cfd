/**
 * 2-D convolution (cross-correlation, as in every deep-learning library):
 *   y[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] * x[n, g*C/G + c, i*sH - pT + u*dH, j*sW - pL + v*dW]
 * with zeros outside the input. Output size per axis (floored, as in PyTorch):
 *   out = floor((in + padBefore + padAfter - dilation*(k - 1) - 1) / stride) + 1.
 * Gradients: dL/dx is the transposed convolution of dL/dy with w; dL/dw the
 * correlation of x with dL/dy; dL/db the sum of dL/dy over n, i, j
 * (kernels conv2dBackwardInput / conv2dBackwardFilter).
 *
 * Padding modes (paddingMode), all with the same output size:
 * - 'zeros': the formula above.
 * - 'reflect', 'replicate', 'circular': as PyTorch, the input is first padded
 *   explicitly with the resolved [top, bottom, left, right] by `pad` in that
 *   mode, then convolved with no padding; the gradient flows back through the
 *   pad (its adjoint adds the border's gradient onto the inputs it copied).
 * - 'partial': partial-convolution-based padding (Liu et al. 2018, NVIDIA):
 *   zero-pad and convolve without bias, then rescale each output position by
 *     r[i, j] = (kH*kW) / (number of taps of window (i, j), dilation counted,
 *               that fall inside the real image)
 *   and add the bias:
 *     y = conv_zeros(x, w) * r + b.
 *   r depends on the position only, not the channel. A window entirely in
 *   the padding (padding >= the dilated kernel) sees nothing: there y = 0,
 *   bias included, as in NVIDIA's PartialConv2d (which multiplies by its
 *   0/1 update mask after adding the bias). Gradients: dL/dx and dL/dw are
 *   those of the zero-padded convolution for dL/dy * r; dL/db is the sum of
 *   dL/dy over the positions that see the image.
 *
 * padding 'same' makes out = ceil(in / stride). With stride 1 this is
 * PyTorch's 'same' (total padding dilation*(k-1), the odd unit after). PyTorch
 * refuses 'same' with stride > 1; here it follows TensorFlow:
 *   total = max((ceil(in/s) - 1)*s + (k-1)*d + 1 - in, 0), the odd unit bottom / right,
 * so the padding then depends on the input size (in 7, k 3, s 2: total 2, 1 + 1;
 * in 8: total 1, 0 + 1) and the windows sit asymmetrically. To reproduce such
 * a layer in PyTorch, pad explicitly with F.pad([left, right, top, bottom]) and
 * use padding 0. The padding modes above use the same resolved padding.
 */
import { isAnomalyEnabled } from '../autograd/anomaly.js';
import { needsGrad, record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import type { ChainStep, Conv2dGeometry } from '../backends/backend.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor, allocate, resultDType } from '../tensor/tensor.js';
import { add, mul } from './binary.js';
import { pad2dGeometry, pad2dResolved } from './pad.js';
import { maxPool2d, maxPool2dGeometry, type MaxPool2dOptions } from './pool2d.js';
import { reshape } from './shape.js';
import { relu } from './unary.js';
import { checkImageShape, checkTensor, output } from './util.js';
import { checkInt, checkOptions, pair } from '../validate.js';

/** Padding: one number for all sides, [ph, pw] per axis, [top, bottom, left, right], or 'same' / 'valid'. */
export type Conv2dPadding = number | readonly [number, number] | readonly [number, number, number, number] | 'same' | 'valid';

export interface Conv2dOptions {
  stride?: number | readonly [number, number];
  padding?: Conv2dPadding;
  dilation?: number | readonly [number, number];
  groups?: number;
  /** How the border is filled (default 'zeros'); see the file comment. */
  paddingMode?: Conv2dPaddingMode;
  /**
   * How it is computed: 'direct' (default, im2col + GEMM) or 'fft' (products of
   * spectra; stride 1 and paddingMode 'zeros' only; see conv2d-fft.ts).
   */
  algorithm?: 'direct' | 'fft';
}

export type Conv2dPaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular' | 'partial';

const PADDING_MODES: readonly Conv2dPaddingMode[] = ['zeros', 'reflect', 'replicate', 'circular', 'partial'];

const OPTIONS = ['stride', 'padding', 'dilation', 'groups', 'paddingMode', 'algorithm'] as const;

/**
 * Algorithms other than 'direct' register here when their module loads
 * (conv2d-fft.ts registers 'fft'; the package index loads it). conv2d.ts imports
 * none of them, so imports stay one-way (conv2d-fft.ts -> conv2d.ts for
 * conv2dGeometry) and there is no import cycle.
 */
type Conv2dAlgorithm = (x: Tensor, weight: Tensor, bias: Tensor | null | undefined, options: Conv2dOptions) => Tensor;
const ALGORITHMS = new Map<string, Conv2dAlgorithm>();

export function registerConv2dAlgorithm(name: Exclude<NonNullable<Conv2dOptions['algorithm']>, 'direct'>, impl: Conv2dAlgorithm): void {
  ALGORITHMS.set(name, impl);
}

/**
 * 'same' padding, TensorFlow's rule (also for stride > 1): the total padding
 * makes out = ceil(in / stride),
 *   total = max((ceil(in/s) - 1)*s + (k - 1)*d + 1 - in, 0),
 * and the odd unit goes after (bottom / right). PyTorch refuses 'same' with
 * stride > 1; for stride 1 both agree.
 */
export function samePadding(inSize: number, kernel: number, stride: number, dilation: number): [number, number] {
  const total = Math.max((Math.ceil(inSize / stride) - 1) * stride + (kernel - 1) * dilation + 1 - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** Resolves a padding option to [top, bottom, left, right]. */
export function resolvePadding(
  where: string, padding: Conv2dPadding, inH: number, inW: number, kH: number, kW: number,
  stride: [number, number], dilation: [number, number],
): [number, number, number, number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') return [...samePadding(inH, kH, stride[0], dilation[0]), ...samePadding(inW, kW, stride[1], dilation[1])];
  if (typeof padding === 'number') {
    checkInt(where, 'padding', padding, 0);
    return [padding, padding, padding, padding];
  }
  if (Array.isArray(padding) && padding.length === 2) {
    const [ph, pw] = pair(where, 'padding', padding, 0);
    return [ph, ph, pw, pw];
  }
  if (Array.isArray(padding) && padding.length === 4) {
    padding.forEach((p) => checkInt(where, 'padding', p, 0));
    return [padding[0], padding[1], padding[2], padding[3]];
  }
  throw new ValueError(`${where}: padding must be a number, [ph, pw], [top, bottom, left, right], 'same' or 'valid'; got ${JSON.stringify(padding)}`);
}

/** Output extent along one axis: floor((in + pads - d*(k-1) - 1) / s) + 1. */
export function convOutputSize(inSize: number, kernel: number, stride: number, padBefore: number, padAfter: number, dilation: number): number {
  return Math.floor((inSize + padBefore + padAfter - dilation * (kernel - 1) - 1) / stride) + 1;
}

/**
 * The padding after the input along one axis that the last window reaches:
 * (out - 1)*stride + dilation*(k - 1) + 1 - in - padBefore (Conv2dGeometry.padBottom / padRight).
 */
export function reachedPadding(inSize: number, kernel: number, stride: number, padBefore: number, dilation: number, outSize: number): number {
  return (outSize - 1) * stride + dilation * (kernel - 1) + 1 - inSize - padBefore;
}

/** Validates the arguments of conv2d and resolves the geometry (as if zero-padded; every padding mode has this output size). */
export function conv2dGeometry(xShape: readonly number[], wShape: readonly number[], options: Conv2dOptions, where = 'conv2d'): Conv2dGeometry {
  return conv2dSetup(xShape, wShape, options, where).g;
}

/**
 * The checks convolutions share: x is 4-D [batch, channels, height, width],
 * the weight 4-D as `weightLayout` names its axes; groups, stride and dilation
 * resolved to numbers (defaults 1).
 */
export function convArguments(
  where: string, xShape: readonly number[], wShape: readonly number[], weightLayout: string,
  options: { groups?: number; stride?: number | readonly number[]; dilation?: number | readonly number[] },
): { groups: number; stride: [number, number]; dilation: [number, number] } {
  checkImageShape(where, xShape);
  if (wShape.length !== 4) throw new ShapeError(`${where}: weight must be 4-D [${weightLayout}], got shape ${fmtShape(wShape)}`);
  return {
    groups: checkInt(where, 'groups', options.groups ?? 1, 1),
    stride: pair(where, 'stride', options.stride ?? 1, 1),
    dilation: pair(where, 'dilation', options.dilation ?? 1, 1),
  };
}

/** conv2dGeometry plus the resolved [top, bottom, left, right] padding and the padding mode. */
export function conv2dSetup(
  xShape: readonly number[], wShape: readonly number[], options: Conv2dOptions, where = 'conv2d',
): { g: Conv2dGeometry; pads: [number, number, number, number]; mode: Conv2dPaddingMode } {
  checkOptions(where, options, OPTIONS);
  const mode = options.paddingMode ?? 'zeros';
  if (!PADDING_MODES.includes(mode)) {
    throw new ValueError(`${where}: paddingMode must be one of ${PADDING_MODES.map((m) => `'${m}'`).join(', ')}; got ${JSON.stringify(mode)}`);
  }
  const { groups, stride, dilation } = convArguments(where, xShape, wShape, 'outChannels, inChannels/groups, kH, kW', options);
  const [batch, inC, inH, inW] = xShape;
  const [outC, cPerGroup, kH, kW] = wShape;
  if (inC % groups !== 0) throw new ValueError(`${where}: groups ${groups} does not divide the ${inC} input channels; use a group count that divides both channel counts`);
  if (outC % groups !== 0) throw new ValueError(`${where}: groups ${groups} does not divide the ${outC} output channels (weight ${fmtShape(wShape)}); use a group count that divides both channel counts`);
  if (cPerGroup * groups !== inC) {
    throw new ShapeError(`${where}: input has ${inC} channels but weight ${fmtShape(wShape)} with groups ${groups} expects ${cPerGroup * groups} (inChannels/groups = ${cPerGroup}); check the input's channel dim or the layer's inChannels`);
  }
  if (kH < 1 || kW < 1) throw new ShapeError(`${where}: kernel size must be at least 1x1, weight has shape ${fmtShape(wShape)}`);
  const [padTop, padBottom, padLeft, padRight] = resolvePadding(where, options.padding ?? 0, inH, inW, kH, kW, stride, dilation);
  const effH = dilation[0] * (kH - 1) + 1;
  const effW = dilation[1] * (kW - 1) + 1;
  const paddedH = inH + padTop + padBottom;
  const paddedW = inW + padLeft + padRight;
  if (effH > paddedH || effW > paddedW) {
    const dil = effH !== kH || effW !== kW ? ` (dilated ${effH}x${effW})` : '';
    throw new ShapeError(`${where}: kernel ${kH}x${kW}${dil} is larger than the padded input ${paddedH}x${paddedW}; use more padding or a smaller kernel`);
  }
  const outH = convOutputSize(inH, kH, stride[0], padTop, padBottom, dilation[0]);
  const outW = convOutputSize(inW, kW, stride[1], padLeft, padRight, dilation[1]);
  const g: Conv2dGeometry = {
    batch, inC, inH, inW, outC, kH, kW,
    strideH: stride[0], strideW: stride[1],
    padTop, padLeft,
    padBottom: reachedPadding(inH, kH, stride[0], padTop, dilation[0], outH),
    padRight: reachedPadding(inW, kW, stride[1], padLeft, dilation[1], outW),
    dilationH: dilation[0], dilationW: dilation[1],
    groups, outH, outW,
  };
  if (mode === 'reflect' || mode === 'replicate' || mode === 'circular') {
    pad2dGeometry(where, xShape, [padTop, padBottom, padLeft, padRight], mode);
  }
  return { g, pads: [padTop, padBottom, padLeft, padRight], mode };
}

/**
 * The partial-convolution scale of each output position, [outH * outW]:
 * (kH*kW) / (taps inside the image), 0 where no tap is inside (conv2d then
 * leaves out the bias there too). The count
 * factors into rows times columns because the window is a product of ranges.
 */
export function partialConvRatio(g: Conv2dGeometry): number[] {
  const inside = (o: number, s: number, p: number, k: number, d: number, n: number) => {
    let c = 0;
    for (let t = 0; t < k; t++) {
      const i = o * s - p + t * d;
      if (i >= 0 && i < n) c++;
    }
    return c;
  };
  const ratio = new Array<number>(g.outH * g.outW);
  for (let oh = 0; oh < g.outH; oh++) {
    const ch = inside(oh, g.strideH, g.padTop, g.kH, g.dilationH, g.inH);
    for (let ow = 0; ow < g.outW; ow++) {
      const count = ch * inside(ow, g.strideW, g.padLeft, g.kW, g.dilationW, g.inW);
      ratio[oh * g.outW + ow] = count === 0 ? 0 : (g.kH * g.kW) / count;
    }
  }
  return ratio;
}

/** A convolution's bias: null, or one value per output channel. */
function checkConvBias(where: string, bias: Tensor | null | undefined, g: Conv2dGeometry): void {
  if (bias == null) return;
  checkTensor(where, 'bias', bias);
  if (bias.ndim !== 1 || bias.shape[0] !== g.outC) {
    throw new ShapeError(`${where}: bias must have shape [${g.outC}] (one per output channel), got ${fmtShape(bias.shape)}`);
  }
}

/** What conv2dFused adds after the convolution. */
export interface Conv2dEpilogue {
  /** Added to the convolution's output (with broadcasting, as `add`). */
  residual?: Tensor | null;
  /** Then max(y, 0), as `relu` (default false). */
  relu?: boolean;
}

/**
 * relu(conv2d(x, weight, bias, options) + residual), the residual and the ReLU
 * each optional: a convolution with its epilogue. Where nothing needs a
 * gradient (inside noGrad, or no input requires one), the padding mode is
 * 'zeros', the algorithm 'direct' and the residual has the output's shape and
 * type, it is one kernel call (conv2dForwardFused), which adds the residual
 * and applies the ReLU while the output is still in the backend's hands
 * (oneDNN's post-ops on `native`, the wasm memory on `wasm`). Otherwise it is
 * conv2d, add and relu recorded one by one, so gradients flow as through those
 * ops. The inference path of the network modules (nn/fuse.ts) runs on it.
 */
export function conv2dFused(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}, epilogue: Conv2dEpilogue = {}): Tensor {
  checkOptions('conv2dFused', epilogue, ['residual', 'relu']);
  const residual = epilogue.residual ?? null;
  const withRelu = epilogue.relu ?? false;
  if (typeof withRelu !== 'boolean') throw new ValueError(`conv2dFused: relu must be true or false, got ${JSON.stringify(withRelu)}`);
  if (residual !== null) checkTensor('conv2dFused', 'residual', residual);
  checkTensor('conv2dFused', 'input', x);
  checkTensor('conv2dFused', 'weight', weight);
  const mode = options?.paddingMode ?? 'zeros';
  const algorithm = options?.algorithm ?? 'direct';
  if (x.ndim === 4 && mode === 'zeros' && algorithm === 'direct' && !needsGrad(x, weight, bias, residual) && !isAnomalyEnabled()) {
    const { g } = conv2dSetup(x.shape, weight.shape, options, 'conv2dFused');
    checkConvBias('conv2dFused', bias, g);
    const dtype = bias ? resultDType(x, weight, bias) : resultDType(x, weight);
    const shape = [g.batch, g.outC, g.outH, g.outW];
    if (residual === null || (residual.dtype === dtype && residual.shape.length === 4 && residual.shape.every((d, i) => d === shape[i]))) {
      const y = output(shape, dtype);
      kernelsFor(dtype).conv2dForwardFused(x.data, weight.data, bias ? bias.data : null, g, residual ? residual.data : null, withRelu, y.data);
      return y;
    }
  }
  let y = conv2d(x, weight, bias, options);
  if (residual !== null) y = add(y, residual);
  return withRelu ? relu(y) : y;
}

/** One step of conv2dChain: a convolution with its epilogue, or a max pool. */
export type Conv2dChainStep = Conv2dChainConv | Conv2dChainMaxPool;

/** A convolution of conv2dChain (kind may be left out). */
export interface Conv2dChainConv {
  kind?: 'conv';
  weight: Tensor;
  bias: Tensor | null;
  options: Conv2dOptions;
  /** The step whose output this one convolves; -1 for the chain's input. */
  input: number;
  /** The step whose output is added before the ReLU (-1: the chain's input), or null. */
  residual: number | null;
  relu: boolean;
}

/** A max pool of conv2dChain (maxPool2d of the output of step `input`, -1: the chain's input). */
export interface Conv2dChainMaxPool {
  kind: 'maxPool';
  kernelSize: number | readonly [number, number];
  options: MaxPool2dOptions;
  input: number;
}

/**
 * A chain of fused convolutions and max pools: a convolution step is
 * conv2dFused of the output of step `input` (-1: x) with the output of step
 * `residual` (-1: x) as its residual, a pooling step maxPool2d of its input's
 * output, and the result is the last step's output. Where nothing needs a gradient and
 * every step has zero padding and the direct algorithm, it is one kernel call
 * (conv2dChainForward), in which a backend keeps the values between the steps
 * in its own layout (oneDNN's blocked one on `native`); otherwise the steps
 * run one by one as conv2dFused. The inference path of Sequential runs its
 * convolutions, batch norms (folded), ReLUs and residual blocks on it (nn/fuse.ts).
 */
export function conv2dChain(x: Tensor, steps: readonly Conv2dChainStep[]): Tensor {
  checkTensor('conv2dChain', 'input', x);
  if (!Array.isArray(steps) || steps.length === 0) throw new ValueError(`conv2dChain: steps must be a non-empty array of steps, got ${Array.isArray(steps) ? 'an empty array' : typeof steps}`);
  const shapes: (readonly number[])[] = [];
  const shapeOf = (i: number) => (i === -1 ? x.shape : shapes[i]);
  const kernelSteps: ChainStep[] = [];
  let fusable = x.ndim === 4 && !isAnomalyEnabled() && !needsGrad(x);
  steps.forEach((s, i) => {
    if (s === null || typeof s !== 'object') throw new ValueError(`conv2dChain: step ${i} must be an object, got ${JSON.stringify(s)}`);
    if (s.kind === 'maxPool') {
      checkOptions(`conv2dChain: step ${i}`, s, ['kind', 'kernelSize', 'options', 'input']);
      if (!(Number.isInteger(s.input) && s.input >= -1 && s.input < i)) {
        throw new ValueError(`conv2dChain: step ${i}'s input is ${JSON.stringify(s.input)}; it must be -1 (the chain's input) or an earlier step, 0 to ${i - 1}`);
      }
      const inShape = shapeOf(s.input);
      const g = maxPool2dGeometry(inShape, s.kernelSize, s.options ?? {}, `conv2dChain: step ${i}`);
      shapes.push([inShape[0], inShape[1], g.outH, g.outW]);
      kernelSteps.push({ kind: 'maxPool', g, channels: inShape[1], input: s.input });
      return;
    }
    if (s.kind !== undefined && s.kind !== 'conv') throw new ValueError(`conv2dChain: step ${i}'s kind is ${JSON.stringify(s.kind)}; it must be 'conv' (or left out) or 'maxPool'`);
    checkOptions(`conv2dChain: step ${i}`, s, ['kind', 'weight', 'bias', 'options', 'input', 'residual', 'relu']);
    for (const [name, v] of [['input', s.input], ['residual', s.residual]] as const) {
      if (v !== null && !(Number.isInteger(v) && v >= -1 && v < i)) {
        throw new ValueError(`conv2dChain: step ${i}'s ${name} is ${JSON.stringify(v)}; it must be -1 (the chain's input) or an earlier step, 0 to ${i - 1}${name === 'residual' ? ', or null' : ''}`);
      }
    }
    if (s.input === null) throw new ValueError(`conv2dChain: step ${i}'s input is null; it must be -1 (the chain's input) or an earlier step`);
    checkTensor('conv2dChain', `step ${i}'s weight`, s.weight);
    const { g } = conv2dSetup(shapeOf(s.input), s.weight.shape, s.options ?? {}, `conv2dChain: step ${i}`);
    checkConvBias(`conv2dChain: step ${i}`, s.bias, g);
    const out = [g.batch, g.outC, g.outH, g.outW];
    if (s.residual !== null && shapeOf(s.residual).join() !== out.join()) {
      throw new ShapeError(`conv2dChain: step ${i} gives ${fmtShape(out)} but its residual (step ${s.residual}) is ${fmtShape(shapeOf(s.residual))}; a residual must have the step's output shape`);
    }
    shapes.push(out);
    const mode = s.options?.paddingMode ?? 'zeros';
    const algorithm = s.options?.algorithm ?? 'direct';
    if (mode !== 'zeros' || algorithm !== 'direct' || needsGrad(s.weight, s.bias) || s.weight.dtype !== x.dtype || (s.bias && s.bias.dtype !== x.dtype)) fusable = false;
    kernelSteps.push({ kind: 'conv', g, w: s.weight.data, bias: s.bias ? s.bias.data : null, input: s.input, residual: s.residual, relu: s.relu === true });
  });
  if (fusable) {
    const y = output(shapes[shapes.length - 1], x.dtype);
    kernelsFor(x.dtype).conv2dChainForward(x.data, kernelSteps, y.data);
    return y;
  }
  const values: Tensor[] = [];
  const valueOf = (i: number) => (i === -1 ? x : values[i]);
  for (const s of steps) {
    if (s.kind === 'maxPool') values.push(maxPool2d(valueOf(s.input), s.kernelSize, s.options ?? {}));
    else values.push(conv2dFused(valueOf(s.input), s.weight, s.bias, s.options ?? {}, { residual: s.residual === null ? null : valueOf(s.residual), relu: s.relu === true }));
  }
  return values[values.length - 1];
}

/**
 * conv2d(x [N, C, H, W] or [C, H, W], weight [outC, C/groups, kH, kW], bias [outC] | null, options).
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const algorithm = options?.algorithm ?? 'direct';
  if (algorithm !== 'direct') {
    const impl = ALGORITHMS.get(algorithm);
    if (impl) return impl(x, weight, bias, options);
    if (algorithm === 'fft') throw new ValueError("conv2d: algorithm 'fft' is not loaded; import conv2dFFT (src/ops/conv2d-fft.ts) or the package index, which loads it");
    throw new ValueError(`conv2d: algorithm must be 'direct' or 'fft', got ${JSON.stringify(algorithm)}`);
  }
  checkTensor('conv2d', 'input', x);
  checkTensor('conv2d', 'weight', weight);
  if (x.ndim === 3) {
    const y = conv2d(reshape(x, [1, ...x.shape]), weight, bias, options);
    return reshape(y, y.shape.slice(1));
  }
  const { g, pads, mode } = conv2dSetup(x.shape, weight.shape, options);
  checkConvBias('conv2d', bias, g);
  if (mode === 'reflect' || mode === 'replicate' || mode === 'circular') {
    // PyTorch's way: pad explicitly in the mode, then a convolution without padding.
    const xp = pad2dResolved('conv2d', x, pads, mode);
    const [inH, inW] = [xp.shape[2], xp.shape[3]];
    const gp: Conv2dGeometry = {
      ...g, inH, inW, padTop: 0, padLeft: 0,
      padBottom: reachedPadding(inH, g.kH, g.strideH, 0, g.dilationH, g.outH),
      padRight: reachedPadding(inW, g.kW, g.strideW, 0, g.dilationW, g.outW),
    };
    return conv2dZeros(xp, weight, bias ?? null, gp);
  }
  if (mode === 'partial') {
    // y = conv_zeros(x, w) * r + b; mul and add carry the gradient (dL/dy * r to the conv, sum of dL/dy to b).
    const dtype = bias ? resultDType(x, weight, bias) : resultDType(x, weight);
    const ratio = new Tensor(allocate(dtype, g.outH * g.outW), [1, 1, g.outH, g.outW]);
    ratio.data.set(partialConvRatio(g));
    const scaled = mul(conv2dZeros(x, weight, null, g), ratio);
    if (!bias) return scaled;
    const b4 = reshape(bias, [1, g.outC, 1, 1]);
    if (!ratio.data.includes(0)) return add(scaled, b4);
    // some windows see no input: their output is 0, bias included (mask = [r > 0])
    const mask = new Tensor(ratio.data.map((r) => (r > 0 ? 1 : 0)), ratio.shape);
    return add(scaled, mul(b4, mask));
  }
  return conv2dZeros(x, weight, bias ?? null, g);
}

/**
 * The kernels of one way of computing a zero-padded convolution: forward,
 * dL/dx (the transposed convolution of gy with w) and dL/dw with dL/db (the
 * correlation of x with gy). Direct (im2col + GEMM) and FFT share the geometry
 * and the signatures.
 */
export const CONV2D_KERNELS = {
  direct: { name: 'conv2d', forward: 'conv2dForward', backwardInput: 'conv2dBackwardInput', backwardFilter: 'conv2dBackwardFilter' },
  fft: { name: 'conv2dFFT', forward: 'conv2dFFTForward', backwardInput: 'conv2dFFTBackwardInput', backwardFilter: 'conv2dFFTBackwardFilter' },
} as const;

/** The zero-padded convolution of a 4-D x with a checked geometry, recorded for autograd. */
export function conv2dZeros(x: Tensor, weight: Tensor, bias: Tensor | null, g: Conv2dGeometry, algorithm: keyof typeof CONV2D_KERNELS = 'direct'): Tensor {
  const kernels = CONV2D_KERNELS[algorithm];
  const dtype = bias ? resultDType(x, weight, bias) : resultDType(x, weight);
  const y = output([g.batch, g.outC, g.outH, g.outW], dtype);
  kernelsFor(dtype)[kernels.forward](x.data, weight.data, bias ? bias.data : null, g, y.data);
  return record(y, kernels.name, [x, weight, bias], (gy) => {
    const kg = kernelsFor(gy.dtype);
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    let gb: Tensor | null = null;
    if (x.requiresGrad) {
      gx = output(x.shape, gy.dtype);
      kg[kernels.backwardInput](gy.data, weight.data, g, gx.data);
    }
    const wantBias = !!bias && bias.requiresGrad;
    if (weight.requiresGrad || wantBias) {
      const gwTmp = output(weight.shape, gy.dtype);
      gb = wantBias ? output(bias!.shape, gy.dtype) : null;
      kg[kernels.backwardFilter](x.data, gy.data, g, gwTmp.data, gb ? gb.data : null);
      if (weight.requiresGrad) gw = gwTmp;
    }
    return [gx, gw, gb];
  }, g);
}
