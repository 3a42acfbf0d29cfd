/**
 * The kernel table: the closed set of numeric routines that every backend
 * provides. Kernels see typed arrays, shapes and attributes only, never tensors
 * or the autograd tape; they write into output arrays that the op allocated.
 * A kernel writes every element of its outputs: ops allocate them
 * uninitialized (allocateOutput in tensor.ts; NaN-filled under the tests), so
 * only kernels whose comment says they add into `out` (scatterAdd) may read it.
 *
 * `Backend['kernels']` is a mapped type over `KernelName`, so a backend that
 * lacks a kernel, or gives one the wrong signature, fails to type-check.
 */
/** The arrays kernels work on: float32 everywhere, float64 for gradient checks (on `ref` only). */
export type FloatArray = Float32Array | Float64Array;

/** Element-wise functions of one input. `alpha` is the op's scalar (leakyRelu slope, pow exponent, clamp bounds...). */
export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh'
  | 'powScalar' | 'clamp' | 'square' | 'reciprocal' | 'sign'
  // elu: alpha; softplus: alpha = beta (sharpness), beta = threshold; gelu = x*Phi(x) (erf form); geluTanh = the tanh approximation.
  | 'elu' | 'softplus' | 'gelu' | 'geluTanh' | 'silu';

/** Element-wise functions of two broadcast inputs. */
export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

export type ReduceOp = 'sum' | 'max' | 'min';

export interface UnaryParams {
  /** First scalar: leakyRelu slope, pow exponent, clamp min, elu alpha, softplus beta. */
  alpha?: number;
  /** Second scalar: clamp max, softplus threshold. */
  beta?: number;
}

/**
 * The layout of a batch-norm input viewed as [batch, channels, spatial]
 * (spatial = H * W for NCHW): statistics are per channel, over batch and spatial.
 */
export interface BatchNormGeometry {
  batch: number;
  channels: number;
  spatial: number;
}

/**
 * A sliding window over inH x inW planes giving outH x outW positions:
 * kernel size, stride, the top and left padding and dilation, resolved to
 * numbers. Convolution and pooling geometries extend it.
 */
export interface Window2dGeometry {
  inH: number;
  inW: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  dilationH: number;
  dilationW: number;
  outH: number;
  outW: number;
}

/**
 * The geometry of a 2-D convolution with every option resolved to numbers.
 * Padding may differ on all four sides. padBottom and padRight are the
 * padding the last window reaches, not the padding asked for:
 *   padBottom = (outH - 1)*strideH + (kH - 1)*dilationH + 1 - inH - padTop
 * (padRight likewise), so padTop + inH + padBottom is exactly the extent the
 * windows cover. Where the stride does not divide the padded extent, the
 * floor in outH leaves up to strideH - 1 rows of the requested bottom padding
 * unreached, and they are not counted; a negative value means the last
 * -padBottom input rows are never read (a floored output without padding,
 * convTranspose2d's outputPadding). The kernels need this number: the padded
 * buffers they build, oneDNN's right padding and the gradient's gather form
 * (gy padded by (kH - 1)*dilationH - padBottom below) all use it.
 */
export interface Conv2dGeometry extends Window2dGeometry {
  batch: number;
  inC: number;
  outC: number;
  padBottom: number;
  padRight: number;
  groups: number;
}

/** The geometry of a 2-D pooling window (max or average), one plane at a time. */
export interface Pool2dGeometry extends Window2dGeometry {
  /** batch * channels: pooling treats every plane alike. */
  planes: number;
}

/**
 * Adaptive pooling of `planes` inH x inW planes to outH x outW: output (i, j)
 * covers rows floor(i*inH/outH) .. ceil((i+1)*inH/outH) - 1 and likewise columns.
 */
export interface AdaptivePool2dGeometry {
  planes: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
}

/** Local response normalization: window of `size` channels, y = x / (k + alpha/size * sum x^2)^beta. */
export interface LocalResponseNormParams {
  size: number;
  alpha: number;
  beta: number;
  k: number;
}

/** How pad2d fills the border: a constant, the mirror image without the edge, the edge repeated, or the opposite side. */
export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/** The geometry of pad2d: each of `planes` inH x inW planes becomes (inH + padTop + padBottom) x (inW + padLeft + padRight). */
export interface Pad2dGeometry {
  planes: number;
  inH: number;
  inW: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
  outH: number;
  outW: number;
}

/**
 * The geometry of 2-D up-sampling, one plane at a time. `scaleH` / `scaleW` map
 * an output coordinate to the input (resolved by the op: 1/scaleFactor, in/out,
 * or (in-1)/(out-1) with alignCorners).
 */
export interface Upsample2dGeometry {
  planes: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  mode: 'nearest' | 'bilinear';
  alignCorners: boolean;
  scaleH: number;
  scaleW: number;
}

export interface KernelSignatures {
  /**
   * C = alpha * op(A) * op(B) + beta * C, row-major, where op(A) is M x K and
   * op(B) is K x N. A is stored M x K (or K x M when transA), B K x N (or N x K
   * when transB); offsets select a sub-array so batched callers need no copies.
   */
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    alpha: number, A: FloatArray, aOffset: number, B: FloatArray, bOffset: number,
    beta: number, C: FloatArray, cOffset: number,
  ): void;

  /** out[i] = f(x[i]). */
  unary(op: UnaryOp, x: FloatArray, out: FloatArray, params: UnaryParams): void;

  /**
   * gx[i] = gy[i] * f'(x[i]); `y` is the saved forward output (sigmoid and tanh
   * use it: sigma' = y(1-y), tanh' = 1-y^2).
   */
  unaryBackward(op: UnaryOp, x: FloatArray, y: FloatArray, gy: FloatArray, gx: FloatArray, params: UnaryParams): void;

  /** out = a (op) b with NumPy broadcasting; shapes are already right-aligned to outShape's rank. */
  binary(op: BinaryOp, a: FloatArray, aShape: readonly number[], b: FloatArray, bShape: readonly number[], out: FloatArray, outShape: readonly number[]): void;

  /** Reduces the middle axis of x viewed as [outer, size, inner] into out [outer, inner]. */
  reduce(op: ReduceOp, x: FloatArray, outer: number, size: number, inner: number, out: FloatArray): void;

  /** Index of the max (or min) along the middle axis of [outer, size, inner]; first occurrence wins. */
  argReduce(op: 'max' | 'min', x: FloatArray, outer: number, size: number, inner: number, out: Int32Array): void;

  /** Copies x of `shape` into out with its axes reordered by `perm` (out axis i = x axis perm[i]). */
  permute(x: FloatArray, shape: readonly number[], perm: readonly number[], out: FloatArray): void;

  /** Softmax (or log-softmax) along the middle axis of [outer, size, inner], max-subtracted for stability. */
  softmax(x: FloatArray, outer: number, size: number, inner: number, log: boolean, out: FloatArray): void;

  /**
   * Backward of softmax: gx = y * (gy - sum(gy * y)); of log-softmax:
   * gx = gy - exp(y) * sum(gy), along the middle axis.
   */
  softmaxBackward(y: FloatArray, gy: FloatArray, outer: number, size: number, inner: number, log: boolean, gx: FloatArray): void;

  /**
   * Per-channel mean and biased variance (divisor batch * spatial) of x, in two
   * passes (the mean, then the squared deviations from it) for accuracy.
   */
  batchNormStats(x: FloatArray, g: BatchNormGeometry, mean: FloatArray, variance: FloatArray): void;

  /** y = (x - mean[c]) * invstd[c] * weight[c] + bias[c]; a null weight means 1, a null bias 0. */
  batchNorm2dForward(x: FloatArray, mean: FloatArray, invstd: FloatArray, weight: FloatArray | null, bias: FloatArray | null, g: BatchNormGeometry, y: FloatArray): void;

  /**
   * Gradients of batchNorm2dForward, with xhat = (x - mean) * invstd and M = batch * spatial.
   * training (mean and invstd are the batch's own, so they depend on x):
   *   gx = weight * invstd / M * (M * gy - sum(gy) - xhat * sum(gy * xhat));
   * eval (mean and invstd are constants): gx = weight * invstd * gy.
   * Both: gweight = sum(gy * xhat), gbias = sum(gy), sums per channel.
   * Outputs given as null are skipped; the others are overwritten.
   */
  batchNorm2dBackward(
    x: FloatArray, gy: FloatArray, mean: FloatArray, invstd: FloatArray, weight: FloatArray | null, g: BatchNormGeometry,
    training: boolean, gx: FloatArray | null, gweight: FloatArray | null, gbias: FloatArray | null,
  ): void;

  /** y = conv2d(x, w) + bias (bias may be null), zero padding, groups; x NCHW, w [outC, inC/groups, kH, kW]. */
  conv2dForward(x: FloatArray, w: FloatArray, bias: FloatArray | null, g: Conv2dGeometry, y: FloatArray): void;

  /**
   * The inference path's convolution with its epilogue fused:
   *   y = conv2d(x, w) + bias, then + residual (y's shape) where residual is not null, then max(y, 0) where relu,
   * with ReLU as the `unary` kernel computes it (a NaN gives 0). A batch norm folded into the convolution arrives as w and bias.
   */
  conv2dForwardFused(x: FloatArray, w: FloatArray, bias: FloatArray | null, g: Conv2dGeometry, residual: FloatArray | null, relu: boolean, y: FloatArray): void;

  /**
   * A chain of fused convolutions and max pools run as one call: a convolution
   * step computes conv2dForwardFused of the output of step `input` (-1: the
   * chain's input x) with the output of step `residual` added where not null
   * (-1: x), a pooling step maxPool2dForward of its input's output; y
   * receives the last step's output. Nothing between the steps comes back to
   * the caller, so a backend may keep them in its own layout (oneDNN's
   * blocked one on `native`, the wasm memory on `wasm`). Steps read only
   * earlier steps.
   */
  conv2dChainForward(x: FloatArray, steps: readonly ChainStep[], y: FloatArray): void;

  /** gx = dL/dx given gy = dL/dy (overwrites gx). */
  conv2dBackwardInput(gy: FloatArray, w: FloatArray, g: Conv2dGeometry, gx: FloatArray): void;

  /** gw = dL/dw and, when gb is not null, gb = dL/dbias (overwrites both). */
  conv2dBackwardFilter(x: FloatArray, gy: FloatArray, g: Conv2dGeometry, gw: FloatArray, gb: FloatArray | null): void;

  /**
   * The same three results as conv2dForward / conv2dBackwardInput /
   * conv2dBackwardFilter, computed through FFTs (products of spectra on a
   * power-of-two grid); stride 1 and zero padding only (the op checks).
   */
  conv2dFFTForward(x: FloatArray, w: FloatArray, bias: FloatArray | null, g: Conv2dGeometry, y: FloatArray): void;
  conv2dFFTBackwardInput(gy: FloatArray, w: FloatArray, g: Conv2dGeometry, gx: FloatArray): void;
  conv2dFFTBackwardFilter(x: FloatArray, gy: FloatArray, g: Conv2dGeometry, gw: FloatArray, gb: FloatArray | null): void;

  /** Max pooling; padding counts as -infinity. `argmax` receives the flat in-plane index of each winner (-1 if none). */
  maxPool2dForward(x: FloatArray, g: Pool2dGeometry, y: FloatArray, argmax: Int32Array): void;

  /** Routes each gy to the input that won (accumulating where windows overlap). Overwrites gx. */
  maxPool2dBackward(gy: FloatArray, argmax: Int32Array, g: Pool2dGeometry, gx: FloatArray): void;

  /**
   * Average pooling. The divisor of each window is its size clipped to the
   * padded input (countIncludePad) or to the real input (not countIncludePad);
   * windows that ceilMode adds past the padding are always clipped.
   */
  avgPool2dForward(x: FloatArray, g: Pool2dGeometry, countIncludePad: boolean, y: FloatArray): void;

  /** Spreads gy / divisor over each window. Overwrites gx. */
  avgPool2dBackward(gy: FloatArray, g: Pool2dGeometry, countIncludePad: boolean, gx: FloatArray): void;

  /**
   * LP pooling without padding: y = v^(1/p) with v = sum over the window of x^p
   * times kH*kW / (window area clipped to the input), PyTorch's
   * avg_pool2d(x^p) * kH*kW; with `mean`, v = the mean of x^p over the clipped window.
   */
  lpPool2dForward(x: FloatArray, g: Pool2dGeometry, p: number, mean: boolean, y: FloatArray): void;

  /** gx = dL/dx of lpPool2dForward (0 for windows whose v is 0). Overwrites gx. */
  lpPool2dBackward(x: FloatArray, gy: FloatArray, g: Pool2dGeometry, p: number, mean: boolean, gx: FloatArray): void;

  /** Mean of each adaptive window (see AdaptivePool2dGeometry). */
  adaptiveAvgPool2dForward(x: FloatArray, g: AdaptivePool2dGeometry, y: FloatArray): void;

  /** Spreads gy / window area over each adaptive window. Overwrites gx. */
  adaptiveAvgPool2dBackward(gy: FloatArray, g: AdaptivePool2dGeometry, gx: FloatArray): void;

  /** Max of each adaptive window; `argmax` receives the flat in-plane index of each winner. */
  adaptiveMaxPool2dForward(x: FloatArray, g: AdaptivePool2dGeometry, y: FloatArray, argmax: Int32Array): void;

  /**
   * For each of `planes` planes: dst[p, index[p, i]] = src[p, i] (+= when
   * accumulate) for i < srcPlane; dst planes hold dstPlane values and are zeroed first.
   */
  scatterPlanes(src: FloatArray, index: Int32Array, planes: number, srcPlane: number, dstPlane: number, accumulate: boolean, dst: FloatArray): void;

  /** For each plane: dst[p, i] = src[p, index[p, i]] for i < dstPlane (0 where the index is negative); src planes hold srcPlane values. */
  gatherPlanes(src: FloatArray, index: Int32Array, planes: number, srcPlane: number, dstPlane: number, dst: FloatArray): void;

  /** x [batch, channels, inner] -> y [batch, channels/groupSize, inner]: y = sqrt(sum of x^2 over each group of channels). */
  channelL2PoolForward(x: FloatArray, batch: number, channels: number, groupSize: number, inner: number, y: FloatArray): void;

  /** gx = gy * x / y within each group (0 where y = 0). Overwrites gx. */
  channelL2PoolBackward(x: FloatArray, y: FloatArray, gy: FloatArray, batch: number, channels: number, groupSize: number, inner: number, gx: FloatArray): void;

  /** Local response normalization across channels of x [batch, channels, inner]; `scale` receives k + alpha/size * (window sum of x^2). */
  localResponseNormForward(x: FloatArray, batch: number, channels: number, inner: number, params: LocalResponseNormParams, y: FloatArray, scale: FloatArray): void;

  /** gx = dL/dx of localResponseNormForward, from its x, y and scale. Overwrites gx. */
  localResponseNormBackward(x: FloatArray, y: FloatArray, scale: FloatArray, gy: FloatArray, batch: number, channels: number, inner: number, params: LocalResponseNormParams, gx: FloatArray): void;

  /** Pads every plane of x by g's four widths, filling the border as `mode` says (`value` for 'constant'). */
  pad2d(x: FloatArray, g: Pad2dGeometry, mode: PadMode, value: number, y: FloatArray): void;

  /** The adjoint of pad2d: adds each gy back onto the input position it was copied from (several may share one). Overwrites gx. */
  pad2dBackward(gy: FloatArray, g: Pad2dGeometry, mode: PadMode, gx: FloatArray): void;

  /** Nearest or bilinear up-sampling (PyTorch's interpolate) of every plane. */
  upsample2d(x: FloatArray, g: Upsample2dGeometry, y: FloatArray): void;

  /** The adjoint of upsample2d: spreads each gy over the inputs it was read from, by the same weights. Overwrites gx. */
  upsample2dBackward(gy: FloatArray, g: Upsample2dGeometry, gx: FloatArray): void;

  /**
   * PyTorch's gather: out[p] = x[p with its coordinate along `dim` replaced by
   * index[p]]. out and index have indexShape (same rank as xShape, extents <=
   * x's outside `dim`); every index is in [0, xShape[dim]) (the op checks).
   */
  gather(x: FloatArray, xShape: readonly number[], dim: number, index: Int32Array, indexShape: readonly number[], out: FloatArray): void;

  /** The adjoint of gather: out[p with coordinate `dim` replaced by index[p]] += src[p] (repeats add up); out is not cleared first. */
  scatterAdd(src: FloatArray, index: Int32Array, indexShape: readonly number[], dim: number, out: FloatArray, outShape: readonly number[]): void;

  /** out = cond != 0 ? a : b with broadcasting, shapes right-aligned to outShape's rank (as `binary`). */
  where(
    cond: FloatArray, condShape: readonly number[], a: FloatArray, aShape: readonly number[], b: FloatArray, bShape: readonly number[],
    out: FloatArray, outShape: readonly number[],
  ): void;

  /**
   * The k largest (or smallest) values along the middle axis of [outer, size, inner], sorted
   * (most extreme first), and their indices, into [outer, k, inner]; ties keep the lower index
   * first and NaN counts as the largest value.
   */
  topk(x: FloatArray, outer: number, size: number, inner: number, k: number, largest: boolean, values: FloatArray, indices: Int32Array): void;

  /**
   * One SGD step on one parameter, in place (the one kernel that updates its
   * inputs: the weights and the momentum buffer are the optimizer's state):
   *   g = grad + weightDecay * w
   *   buf = first ? g : momentum * buf + (1 - dampening) * g     (momentum > 0; buf is null otherwise)
   *   w = w - lr * (momentum > 0 ? (nesterov ? g + momentum * buf : buf) : g)
   */
  sgdStep(w: FloatArray, grad: FloatArray, buf: FloatArray | null, p: SgdStepParams): void;

  /**
   * sgdStep on a list of parameters with the same settings, in one call (an optimizer's whole
   * parameter group): parameter i is w[i] with grad[i] and buf[i], and each ends exactly as
   * sgdStep would leave it. The three lists have one entry per parameter.
   */
  sgdStepMany(w: readonly FloatArray[], grad: readonly FloatArray[], buf: readonly (FloatArray | null)[], p: SgdStepParams): void;
}

export type KernelName = keyof KernelSignatures;

/** One step of conv2dChainForward. */
export type ChainStep = ConvChainStep | MaxPoolChainStep;

/** A convolution of conv2dChainForward. */
export interface ConvChainStep {
  kind: 'conv';
  g: Conv2dGeometry;
  w: FloatArray;
  bias: FloatArray | null;
  /** The step whose output this one convolves; -1 for the chain's input. */
  input: number;
  /** The step whose output is added before the ReLU (-1: the chain's input), or null. */
  residual: number | null;
  relu: boolean;
}

/** A max pool of conv2dChainForward (g.planes = batch * channels). */
export interface MaxPoolChainStep {
  kind: 'maxPool';
  g: Pool2dGeometry;
  /** Channels per image (g.planes / channels images). */
  channels: number;
  input: number;
}

/**
 * A complete kernel table written as an object literal: a missing kernel, an
 * extra one, or one with the wrong signature is a type error. The entries are
 * function types, not KernelSignatures' method types, so parameters are checked
 * both ways: a kernel that accepts only Float32Array where the signature passes
 * a FloatArray fails too (methods are compared bivariantly).
 */
export type KernelTable = {
  readonly [K in KernelName]: (...args: Parameters<KernelSignatures[K]>) => ReturnType<KernelSignatures[K]>;
};

/** The settings of one SGD step (torch.optim.SGD's, per parameter group). */
export interface SgdStepParams {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  /** The momentum buffer's first step: it starts as the gradient itself. */
  first: boolean;
}

/** What backendInfo() reports about a backend. */
export interface BackendInfo {
  name: string;
  /** Threads the backend's kernels use (the calling one included). */
  threads: number;
  /** WebAssembly SIMD flavour: relaxed (fused multiply-add), plain, or none (not a wasm backend). */
  simd: 'relaxed' | 'plain' | 'none';
  /** Whether the threads share memory (wasm: SharedArrayBuffer available). */
  sharedMemory?: boolean;
  /** One line for humans (`stride info`). */
  detail?: string;
}

export interface Backend {
  readonly name: string;
  /** One entry per kernel name with its exact signature (function types, checked both ways): a missing, extra or misshaped kernel is a type error. */
  readonly kernels: KernelTable;
  /** Describes the backend as it runs now; absent means one thread, no SIMD. */
  info?(): BackendInfo;
  /** Uses n threads (the calling one included); null restores the default (one per core). */
  setThreads?(n: number | null): void;
  /** Resolves once the backend can run its own kernels (the wasm backend compiles asynchronously in a browser's main thread and starts its workers asynchronously everywhere). */
  ready?(): Promise<void>;
}
