/**
 * What a layer tells summary() about itself beyond its parameters and its
 * output shape: the lectures' counts (connections, multiply-accumulates) and,
 * for a layer that slides a window, the window, from which receptive fields
 * follow. Layers implement `describeLayer`; a layer without it is read as
 * element-wise (each output sees the input at its own position, no
 * connections counted) when its output has the input's height and width.
 * A described layer with none of `window`, `global` and `field` keeps each
 * unit's spatial position too, whatever it does across channels (batch norm,
 * local response norm, activations).
 */

/** A sliding window over the two spatial axes, each pair [height, width]. */
export interface WindowGeometry {
  kernel: readonly [number, number];
  stride: readonly [number, number];
  /** Implicit padding before the first row and column (top, left). */
  padding: readonly [number, number];
  dilation: readonly [number, number];
}

export interface LayerCounts {
  /**
   * The lectures' connections: summed over the output units, the inputs each
   * one sees plus one when it has a bias (a 5x5x3 filter with a bias: 76 per
   * output unit).
   */
  connections: number;
  /** Multiply-accumulates for one image; bias additions are not counted. */
  macs: number;
  /** The window the layer slides over its input, when it has one (convolution, pooling, subsampling). */
  window?: WindowGeometry;
  /** Each output unit sees every input unit (linear layers, global pooling): its receptive field is the union of the input's. */
  global?: boolean;
  /**
   * For a layer that is neither a window nor global (transposed convolution,
   * up-sampling, a softmax along a spatial axis): its output units' field
   * along spatial axis `axis` (0 height, 1 width) from its input units',
   * `length` being the input's extent along that axis.
   */
  field?: (input: AxisField, axis: 0 | 1, length: number) => AxisField;
}

/** A layer that describes itself to summary(). Shapes are for one image, without the batch axis. */
export interface DescribedLayer {
  describeLayer(inputShape: readonly number[], outputShape: readonly number[]): LayerCounts;
}

export function isDescribedLayer(value: unknown): value is DescribedLayer {
  return typeof value === 'object' && value !== null && typeof (value as { describeLayer?: unknown }).describeLayer === 'function';
}

/**
 * The receptive field of a tensor's units along one spatial axis, in input
 * image pixels. Unit i of the axis sees the pixels
 *   start + i*jump  ..  start + i*jump + size - 1   (inclusive),
 * so `start` is the first pixel of the first unit's field (negative where the
 * field reaches into padding) and its centre is start + (size - 1)/2. An input
 * pixel is { size: 1, jump: 1, start: 0 }. A 3x3 stride-1 convolution then a
 * 2x2 pooling: size 1 + 2 = 3, then 3 + 1 = 4 = P + K - 1.
 */
export interface AxisField {
  size: number;
  jump: number;
  start: number;
}

/**
 * A sliding window's output field along one axis, from its input's (Araujo et
 * al., 2019, "Computing Receptive Fields of Convolutional Neural Networks"):
 *   size  = size_in + (k - 1)*dilation*jump_in
 *   jump  = jump_in * stride
 *   start = start_in - padding*jump_in
 */
export function windowField(input: AxisField, kernel: number, stride: number, padding: number, dilation: number): AxisField {
  return {
    size: input.size + (kernel - 1) * dilation * input.jump,
    jump: input.jump * stride,
    start: input.start - padding * input.jump,
  };
}

/**
 * The field of a unit that sees all `length` input units along the axis
 * (linear and global layers): their union, the same for every output unit
 * along it (jump 0).
 */
export function wholeAxisField(input: AxisField, length: number): AxisField {
  return { size: input.size + (length - 1) * input.jump, jump: 0, start: input.start };
}

/**
 * A transposed window's output field along one axis (transposed convolution,
 * and up-sampling read as one): input unit i reaches output units
 * i*stride - padding + k*dilation for k = 0 .. kernel - 1, so output unit o
 * sees the input units i with o + padding - i*stride in {0, dilation, ...,
 * (kernel - 1)*dilation}. Output units are jump_in/stride apart; the size is
 * the widest span of input units any output unit sees (all residues of o
 * modulo stride*dilation are tried), and the start is output unit 0's first
 * input unit (the nearest one that would reach it when none does).
 * `stride` must be a whole number here.
 */
export function transposedField(input: AxisField, kernel: number, stride: number, padding: number, dilation: number): AxisField {
  const seen = (o: number): number[] => {
    const units: number[] = [];
    for (let k = 0; k < kernel; k++) {
      const t = o + padding - k * dilation;
      if (t % stride === 0) units.push(t / stride);
    }
    return units;
  };
  let span = 0;
  for (let o = 0; o < stride * dilation; o++) {
    const units = seen(o);
    if (units.length) span = Math.max(span, Math.max(...units) - Math.min(...units));
  }
  const first = seen(0);
  const firstUnit = first.length ? Math.min(...first) : Math.floor((padding - (kernel - 1) * dilation) / stride);
  return { size: input.size + span * input.jump, jump: input.jump / stride, start: input.start + firstUnit * input.jump };
}
