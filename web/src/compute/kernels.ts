/**
 * The compute worker's handlers of the #/kernels page: the catalogue of image
 * kernels (Stride's own presets, nn.imageKernels, plus the 5x5 blurs, Prewitt
 * and a few more this page adds) and one image filtered by one kernel with
 * F.conv2d, each colour channel on its own (groups = channels), in the border
 * mode the reader picks.
 */
import { F, nn, tensor } from 'stride';

/** How the border is handled: one of conv2d's padding modes, or 'valid' (no padding: the output is smaller). */
export type BorderMode = 'zeros' | 'reflect' | 'replicate' | 'circular' | 'partial' | 'valid';

export const BORDER_MODES: readonly BorderMode[] = ['zeros', 'reflect', 'replicate', 'circular', 'partial', 'valid'];

/** One preset of the catalogue. The kernel is `entries` (row-major, small integers where possible) divided by `divisor`. */
export interface KernelPreset {
  /** Stable id, as written in the URL (`kernel=sobel-x`). */
  id: string;
  /** Name in the preset list. */
  label: string;
  /** 3 or 5. */
  size: number;
  /** size*size numbers, row-major. */
  entries: number[];
  /** The kernel is entries / divisor (1 for most; 16 for the 3x3 Gaussian, ...). */
  divisor: number;
  /**
   * When true the page shows the gradient magnitude: the image is also
   * filtered with the transposed kernel, and the output is sqrt(a^2 + b^2).
   */
  magnitude: boolean;
  /** Where the numbers come from: 'stride' (nn.imageKernels) or 'page'. */
  source: 'stride' | 'page';
  /** What the kernel does, for the reader. */
  about: string;
}

/** The smallest divisor d <= 256 that makes every value * d an integer (values are k/d fractions). */
function commonDivisor(values: readonly number[]): number {
  for (let d = 1; d <= 256; d++) {
    if (values.every((v) => Math.abs(v * d - Math.round(v * d)) < 1e-9)) return d;
  }
  return 1;
}

/** A preset from Stride's own table (nn.imageKernels), written as integers over a divisor. */
function fromStride(id: string, name: nn.ImageKernelName, label: string, about: string, magnitude = false): KernelPreset {
  const values = nn.imageKernels[name].flat();
  const divisor = commonDivisor(values);
  return { id, label, size: 3, entries: values.map((v) => Math.round(v * divisor)), divisor, magnitude, source: 'stride', about };
}

/** A preset this page adds (Stride has 3x3 presets only, and no Prewitt). */
function own(id: string, label: string, rows: number[][], divisor: number, about: string): KernelPreset {
  return { id, label, size: rows.length, entries: rows.flat(), divisor, magnitude: false, source: 'page', about };
}

/** The outer product a^T b, as rows: how separable kernels (Gaussian, Sobel) are built. */
function outer(a: readonly number[], b: readonly number[]): number[][] {
  return a.map((x) => b.map((y) => x * y));
}

const BINOMIAL5 = [1, 4, 6, 4, 1];

/** The catalogue, in the order of the preset list. */
export const KERNEL_PRESETS: readonly KernelPreset[] = [
  fromStride('identity', 'identity', 'Identity',
    'A single 1 in the centre: every output pixel is the input pixel under it, so the image comes out unchanged. ' +
    'A good baseline to compare the border modes: only the valid mode changes anything, by cutting off the frame the kernel cannot fully cover.'),
  fromStride('edge-8', 'edgeDetection8', 'Edge detection (8 neighbours)',
    'The centre pixel counts 8 times, minus each of its 8 neighbours once: a second derivative, like the Laplacian below but counting the diagonals too. ' +
    'The weights add up to 0, so a flat area gives 0; a pixel brighter than its surroundings gives a positive result, a darker one a negative result, ' +
    'so every edge is a positive line on its bright side next to a negative line on its dark side. ' +
    'Some demos call this kernel "outline"; it is not the gradient magnitude (Sobel) preset, which gives one line per edge and is never negative.'),
  fromStride('edge-4', 'edgeDetection4', 'Edge detection (4 neighbours, Laplacian)',
    'The discrete Laplacian: the sum of the 4 direct neighbours minus 4 times the centre, a second derivative. ' +
    'It is 0 on flat areas and also on smooth ramps of brightness, so only changes of slope (edges, lines, dots) remain. ' +
    'Its centre is negative, so the signs are the other way round from the 8-neighbour kernel: a bright line on a dark background comes out negative.'),
  fromStride('sharpen', 'sharpen', 'Sharpen',
    'The identity minus the Laplacian: the pixel plus how much it differs from its 4 neighbours. The weights add up to 1, ' +
    'so flat areas keep their brightness, while on each side of an edge the difference is pushed further apart. ' +
    'The result can go below 0 and above 255: clamping it (as most editors do) hides how much.'),
  fromStride('box-blur-3', 'boxBlur', 'Box blur (3×3)',
    'The plain mean of the 3×3 window. The weights add up to 1, so overall brightness is kept; details smaller than the window are averaged away. ' +
    'With zero padding the border darkens, since the zeros outside the image enter the mean: compare with reflect or replicate.'),
  own('box-blur-5', 'Box blur (5×5)', Array.from({ length: 5 }, () => [1, 1, 1, 1, 1]), 25,
    'The mean of a 5×5 window: a stronger blur than 3×3. Because every pixel of the square weighs the same, ' +
    'a small bright dot becomes a square and fine stripes can reappear with inverted contrast; the Gaussian avoids both.'),
  fromStride('gaussian-3', 'gaussianBlur', 'Gaussian blur (3×3)',
    'Binomial weights [1 2 1] times [1 2 1] over 16: a small approximation of a Gaussian. Near pixels count more than far ones, ' +
    'so it blurs more smoothly than the box of the same size, and it is separable (a 1-D blur along rows, then along columns).'),
  own('gaussian-5', 'Gaussian blur (5×5)', outer(BINOMIAL5, BINOMIAL5), 256,
    'Binomial weights [1 4 6 4 1] times [1 4 6 4 1] over 256, close to a Gaussian with a standard deviation of 1 pixel. ' +
    'A wider, smooth blur; edges fade out gradually instead of in a hard step.'),
  fromStride('emboss', 'emboss', 'Emboss',
    'The image plus a derivative along the diagonal: bottom-right neighbours count positive, top-left ones negative (the weights add up to 1). ' +
    'Where the picture gets brighter towards the bottom right the result rises, where it gets darker it sinks, as if lit from one side: a relief.'),
  fromStride('sobel-x', 'sobelX', 'Sobel x (left to right)',
    'The horizontal derivative: right column minus left column, the middle row counted twice ([1 2 1] smoothing along y). ' +
    'Positive where brightness grows to the right, negative where it falls; vertical edges stand out, horizontal ones vanish.'),
  fromStride('sobel-y', 'sobelY', 'Sobel y (top to bottom)',
    'The vertical derivative: bottom row minus top row, the middle column counted twice. ' +
    'Positive where brightness grows downwards, negative where it falls; horizontal edges stand out, vertical ones vanish.'),
  fromStride('sobel-magnitude', 'sobelX', 'Gradient magnitude (Sobel)',
    'Two convolutions: Sobel x (shown in the grid) and its transpose, Sobel y; each pixel gets the length of the gradient, sqrt(x² + y²). ' +
    'That is the edge strength in any direction, a first derivative and never negative: every edge is one light line whatever its orientation, ' +
    'where the 8-neighbour edge detector (a second derivative) gives a positive and a negative line side by side.', true),
  own('prewitt-x', 'Prewitt x', [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], 1,
    'Like Sobel x, the right column minus the left column, but every row counts the same: a slightly noisier estimate of the horizontal derivative.'),
  own('prewitt-y', 'Prewitt y', [[-1, -1, -1], [0, 0, 0], [1, 1, 1]], 1,
    'The bottom row minus the top row, each column counting the same: Prewitt\'s vertical derivative, the transpose of Prewitt x.'),
  own('log-5', 'Laplacian of Gaussian (5×5)',
    [[0, 0, -1, 0, 0], [0, -1, -2, -1, 0], [-1, -2, 16, -2, -1], [0, -1, -2, -1, 0], [0, 0, -1, 0, 0]], 1,
    'A blur and a Laplacian in one kernel (the "Mexican hat", here with a positive centre). The blur makes it ignore single-pixel noise ' +
    'that the 3×3 edge detectors amplify; edges are where the output crosses zero, between a positive band and a negative one.'),
  own('unsharp-5', 'Unsharp masking (5×5)',
    outer(BINOMIAL5, BINOMIAL5).map((r, i) => r.map((v, j) => (i === 2 && j === 2 ? 2 * 256 - v : -v))), 256,
    'Twice the image minus its 5×5 Gaussian blur: the photographer\'s unsharp mask. It adds back the detail the blur removes, ' +
    'sharpening over a wider area and more gently than the 3×3 sharpen kernel.'),
];

export interface KernelsApplyArgs {
  /** The image, channel planes one after another (C*H*W, row-major), values 0..255. */
  image: Float32Array;
  /** 1 (grey) or 3 (RGB, each channel filtered on its own). */
  channels: number;
  height: number;
  width: number;
  /** kernelSize*kernelSize weights, row-major (the weight K[u][v] multiplies the neighbour at row offset u - r, column offset v - r). */
  kernel: number[];
  kernelSize: number;
  paddingMode: BorderMode;
  /** Also filter with the transposed kernel and return the gradient magnitude sqrt(a^2 + b^2). */
  magnitude: boolean;
}

export interface KernelsApplyResult {
  /** The filtered image, C*outHeight*outWidth (the magnitude when asked). */
  output: Float32Array;
  outHeight: number;
  outWidth: number;
  /** With magnitude: the responses to the kernel and to its transpose (each C*outHeight*outWidth). */
  first: Float32Array | null;
  second: Float32Array | null;
}

/** The kernel transposed (rows become columns): Sobel x becomes Sobel y. */
export function transposeKernel(kernel: readonly number[], size: number): number[] {
  const t = new Array<number>(size * size);
  for (let u = 0; u < size; u++) for (let v = 0; v < size; v++) t[v * size + u] = kernel[u * size + v];
  return t;
}

/**
 * Filters every channel of the image with the kernel: one conv2d with a
 * [C, 1, k, k] weight and groups = C (a depthwise convolution). The padding
 * is (k - 1) / 2 on every side, so the output has the input's size, except
 * in 'valid' mode (no padding: k - 1 fewer rows and columns).
 */
function filter(args: KernelsApplyArgs, kernel: readonly number[]): { data: Float32Array; outHeight: number; outWidth: number } {
  const { channels: c, height: h, width: w, kernelSize: k } = args;
  const x = tensor(args.image, [1, c, h, w]);
  const weights = new Float32Array(c * k * k);
  for (let ch = 0; ch < c; ch++) weights.set(kernel, ch * k * k);
  const weight = tensor(weights, [c, 1, k, k]);
  const mode = args.paddingMode;
  const y = F.conv2d(x, weight, null, mode === 'valid'
    ? { padding: 0, groups: c }
    : { padding: (k - 1) / 2, paddingMode: mode, groups: c });
  return { data: Float32Array.from(y.data), outHeight: y.shape[2], outWidth: y.shape[3] };
}

function checkArgs(a: KernelsApplyArgs): void {
  if (a.kernelSize !== 3 && a.kernelSize !== 5) throw new Error(`the kernel must be 3×3 or 5×5, got ${a.kernelSize}×${a.kernelSize}`);
  if (a.kernel.length !== a.kernelSize * a.kernelSize) throw new Error(`a ${a.kernelSize}×${a.kernelSize} kernel has ${a.kernelSize * a.kernelSize} weights, got ${a.kernel.length}`);
  if (!a.kernel.every(Number.isFinite)) throw new Error('every kernel weight must be a finite number');
  if (a.channels !== 1 && a.channels !== 3) throw new Error(`the image must have 1 or 3 channels, got ${a.channels}`);
  if (a.image.length !== a.channels * a.height * a.width) throw new Error(`the image holds ${a.image.length} values, not ${a.channels}×${a.height}×${a.width}`);
  if (!BORDER_MODES.includes(a.paddingMode)) throw new Error(`unknown border mode ${JSON.stringify(a.paddingMode)}; choose one of ${BORDER_MODES.join(', ')}`);
}

function kernelsApply(args: KernelsApplyArgs): KernelsApplyResult {
  checkArgs(args);
  const a = filter(args, args.kernel);
  if (!args.magnitude) return { output: a.data, outHeight: a.outHeight, outWidth: a.outWidth, first: null, second: null };
  const b = filter(args, transposeKernel(args.kernel, args.kernelSize));
  const m = F.sqrt(F.add(F.mul(tensor(a.data), tensor(a.data)), F.mul(tensor(b.data), tensor(b.data))));
  return { output: Float32Array.from(m.data), outHeight: a.outHeight, outWidth: a.outWidth, first: a.data, second: b.data };
}

export const kernelsHandlers = {
  /** The preset catalogue (numbers and explanations). */
  kernelPresets: (): KernelPreset[] => KERNEL_PRESETS.map((p) => ({ ...p, entries: [...p.entries] })),
  /** One image filtered by one kernel (see KernelsApplyArgs). */
  kernelsApply,
};
