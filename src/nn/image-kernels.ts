/**
 * The classic 3x3 image kernels of the lectures (identity, two edge detectors,
 * sharpen, box blur, 3x3 Gaussian blur, emboss) plus Sobel x / y, as data, as
 * conv weights, applied to images, and as a weight initializer.
 *
 * Every kernel is used the way conv2d uses weights: as a cross-correlation,
 *   out[i, j] = sum_{u, v} K[u][v] * image[i - 1 + u, j - 1 + v]   (padding 1),
 * i.e. K[0][0] weighs the top-left neighbour. This fixes the signs:
 *   sobelX > 0 where brightness grows to the right (dark left, bright right),
 *   sobelY > 0 where it grows downwards (row index = y, pointing down).
 * Sums of the entries tell what a kernel does to a flat region: 1 keeps it
 * (identity, sharpen, blurs, emboss), 0 maps it to 0 (edge detectors, Sobel).
 */
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { conv2d, type Conv2dPadding, type Conv2dPaddingMode } from '../ops/conv2d.js';
import { reshape } from '../ops/shape.js';
import { checkTensor } from '../ops/util.js';
import { checkInt, checkOptions } from '../validate.js';
import { Tensor, allocate, type DType } from '../tensor/tensor.js';

export type ImageKernelName =
  | 'identity' | 'edgeDetection4' | 'edgeDetection8' | 'sharpen'
  | 'boxBlur' | 'gaussianBlur' | 'emboss' | 'sobelX' | 'sobelY';

type Kernel3x3 = readonly [readonly [number, number, number], readonly [number, number, number], readonly [number, number, number]];

type Row3 = readonly [number, number, number];
const row = (r: Row3, scale: number): Row3 => Object.freeze([r[0] * scale, r[1] * scale, r[2] * scale] as const);
const k = (rows: readonly [Row3, Row3, Row3], scale = 1): Kernel3x3 => Object.freeze([row(rows[0], scale), row(rows[1], scale), row(rows[2], scale)] as const);

/** The presets, name -> 3x3 rows (frozen). */
export const imageKernels: Readonly<Record<ImageKernelName, Kernel3x3>> = Object.freeze({
  identity: k([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
  /** 4-neighbour Laplacian: 0 on flat regions and linear ramps. */
  edgeDetection4: k([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
  /** 8-neighbour Laplacian (sign flipped: centre positive). */
  edgeDetection8: k([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
  /** identity + (-1) * 4-neighbour Laplacian. */
  sharpen: k([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
  boxBlur: k([[1, 1, 1], [1, 1, 1], [1, 1, 1]], 1 / 9),
  /** Binomial approximation of a Gaussian: [1, 2, 1]^T [1, 2, 1] / 16. */
  gaussianBlur: k([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16),
  emboss: k([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
  /** d/dx smoothed along y: [1, 2, 1]^T [-1, 0, 1]. */
  sobelX: k([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
  /** d/dy smoothed along x: [-1, 0, 1]^T [1, 2, 1]. */
  sobelY: k([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
});

const NAMES = Object.keys(imageKernels) as ImageKernelName[];

/** The 3x3 rows of a preset; unknown names get an error listing the known ones. */
export function getImageKernel(name: string, where = 'imageKernels'): Kernel3x3 {
  if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(imageKernels, name)) {
    throw new ValueError(`${where}: unknown image kernel ${JSON.stringify(name)}; known kernels: ${NAMES.join(', ')}`);
  }
  return imageKernels[name as ImageKernelName];
}

export interface KernelTensorOptions {
  /** Input channels of the weight (default 1). */
  inChannels?: number;
  /** Output channels of the weight (default 1). */
  outChannels?: number;
  /**
   * false (default): every [o, c] slice holds the kernel, so each output
   * channel is the kernel's response summed over all input channels.
   * true: a diagonal weight (slice [c, c] holds the kernel, the others 0), so
   * channel c of the output filters channel c of the input alone, with a plain
   * (groups 1) conv2d; needs inChannels === outChannels. For the depthwise form
   * (groups = C) use { inChannels: 1, outChannels: C }, which gives [C, 1, 3, 3].
   */
  perChannel?: boolean;
  dtype?: DType;
}

/** Writes the kernel into weight data of shape [outC, inC, 3, 3]: every slice, or the diagonal only. */
function fillWeight(data: Float32Array | Float64Array, outC: number, inC: number, kernel: Kernel3x3, perChannel: boolean): void {
  data.fill(0);
  for (let o = 0; o < outC; o++) {
    for (let c = 0; c < inC; c++) {
      if (perChannel && o !== c) continue;
      const base = (o * inC + c) * 9;
      for (let u = 0; u < 3; u++) for (let v = 0; v < 3; v++) data[base + u * 3 + v] = kernel[u][v];
    }
  }
}

/** A conv weight [outChannels, inChannels, 3, 3] holding preset `name` (see KernelTensorOptions). */
export function kernelTensor(name: ImageKernelName, options: KernelTensorOptions = {}): Tensor {
  checkOptions('kernelTensor', options, ['inChannels', 'outChannels', 'perChannel', 'dtype']);
  const kernel = getImageKernel(name, 'kernelTensor');
  const inC = checkInt('kernelTensor', 'inChannels', options.inChannels ?? 1, 1);
  const outC = checkInt('kernelTensor', 'outChannels', options.outChannels ?? 1, 1);
  const perChannel = options.perChannel ?? false;
  if (perChannel && inC !== outC) {
    throw new ValueError(`kernelTensor: perChannel needs inChannels === outChannels (channel c filters channel c), got ${inC} and ${outC}; for a depthwise weight use { inChannels: 1, outChannels: ${inC} } with groups ${inC}`);
  }
  const data = allocate(options.dtype ?? 'float32', outC * inC * 9);
  fillWeight(data, outC, inC, kernel, perChannel);
  return new Tensor(data, [outC, inC, 3, 3]);
}

export interface ApplyImageKernelOptions {
  /** conv2d padding (default 1: the output has the input's size). */
  padding?: Conv2dPadding;
  /** How the border is filled (default 'zeros'); 'replicate' or 'reflect' avoid dark borders on blurs. */
  paddingMode?: Conv2dPaddingMode;
}

/**
 * Filters an image [H, W], [C, H, W] or [N, C, H, W] with preset `name`, each
 * channel on its own (a depthwise conv2d, groups = C), as an image editor does
 * for RGB. The result has the input's rank; it is differentiable in the image.
 */
export function applyImageKernel(image: Tensor, name: ImageKernelName, options: ApplyImageKernelOptions = {}): Tensor {
  checkTensor('applyImageKernel', 'image', image);
  checkOptions('applyImageKernel', options, ['padding', 'paddingMode']);
  getImageKernel(name, 'applyImageKernel');
  if (image.ndim < 2 || image.ndim > 4) {
    throw new ShapeError(`applyImageKernel: image must be [H, W], [C, H, W] or [N, C, H, W], got shape ${fmtShape(image.shape)}`);
  }
  const x = image.ndim === 4 ? image : reshape(image, [...new Array<number>(4 - image.ndim).fill(1), ...image.shape]);
  const channels = x.shape[1];
  const weight = kernelTensor(name, { inChannels: 1, outChannels: channels, dtype: image.dtype });
  const y = conv2d(x, weight, null, { padding: options.padding ?? 1, paddingMode: options.paddingMode ?? 'zeros', groups: channels });
  return image.ndim === 4 ? y : reshape(y, y.shape.slice(4 - image.ndim));
}

/**
 * Initializer: fills a conv weight [outC, inC/groups, 3, 3] in place with preset
 * `name` (every [o, c] slice, or with perChannel only the diagonal [c, c]) and
 * returns it. Reached as init.imageKernel(layer.weight, 'sobelX').
 */
export function imageKernel(weight: Tensor, name: ImageKernelName, options: { perChannel?: boolean } = {}): Tensor {
  checkTensor('init.imageKernel', 'weight', weight);
  checkOptions('init.imageKernel', options, ['perChannel']);
  const kernel = getImageKernel(name, 'init.imageKernel');
  if (weight.ndim !== 4 || weight.shape[2] !== 3 || weight.shape[3] !== 3) {
    throw new ShapeError(`init.imageKernel: the image kernels are 3x3, so the weight must have shape [outC, inC/groups, 3, 3], got ${fmtShape(weight.shape)}; use kernelSize 3`);
  }
  const [outC, inC] = weight.shape;
  const perChannel = options.perChannel ?? false;
  if (perChannel && inC !== outC) {
    throw new ValueError(`init.imageKernel: perChannel needs as many output as input channels per group, weight has shape ${fmtShape(weight.shape)}`);
  }
  fillWeight(weight.data, outC, inC, kernel, perChannel);
  return weight;
}
