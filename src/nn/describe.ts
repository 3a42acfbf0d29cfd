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
  /** The type summary() shows for the layer (default: its class name; an imported graph's node: its op type). */
  readonly layerType?: string;
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

// ---------------------------------------------------------------------------
// Counts shared by the layers and by the nodes of an imported graph. Shapes
// are for one image, without the batch axis.

/** The geometry of a transposed convolution, each pair [height, width]. */
export interface TransposedGeometry {
  inChannels: number;
  outChannels: number;
  groups: number;
  kernel: readonly [number, number];
  stride: readonly [number, number];
  padding: readonly [number, number];
  dilation: readonly [number, number];
  bias: boolean;
}

/**
 * A transposed convolution, counted exactly: along each axis, the (input
 * unit, kernel tap) pairs that land inside the output (i*stride - padding +
 * k*dilation in [0, out)); each such pair in both axes is one
 * multiply-accumulate per input channel of the group and output channel, so
 * with padding 0 the count is inputs x outChannels/groups x kH x kW.
 * Connections add one per output unit with a bias. Receptive field:
 * transposedField.
 */
export function transposedConvCounts(g: TransposedGeometry, inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
  const taps = (axis: 0 | 1): number => {
    const inSize = inputShape[inputShape.length - 2 + axis];
    const outSize = outputShape[outputShape.length - 2 + axis];
    let n = 0;
    for (let i = 0; i < inSize; i++) {
      for (let k = 0; k < g.kernel[axis]; k++) {
        const at = i * g.stride[axis] - g.padding[axis] + k * g.dilation[axis];
        if (at >= 0 && at < outSize) n++;
      }
    }
    return n;
  };
  const macs = g.outChannels * (g.inChannels / g.groups) * taps(0) * taps(1);
  const units = outputShape.reduce((a, b) => a * b, 1);
  return {
    connections: macs + (g.bias ? units : 0),
    macs,
    field: (input, axis) => transposedField(input, g.kernel[axis], g.stride[axis], g.padding[axis], g.dilation[axis]),
  };
}

/**
 * Up-sampling: nearest reads one input unit per output unit, bilinear four
 * (two per axis). Receptive field: with a whole factor f (and alignCorners
 * false) up-sampling is a transposed window of stride f: nearest has kernel
 * f, bilinear the taps where its weight is not zero (f = 2: kernel 4, padding
 * 1, the classic bilinear kernel), read as if the image went on past its
 * border. Otherwise each unit sees one (nearest) or two (bilinear) input
 * units along the axis, 1/f of an input unit apart.
 */
export function upsampleCounts(inputShape: readonly number[], outputShape: readonly number[], bilinear: boolean, alignCorners: boolean): LayerCounts {
  const field = (input: AxisField, axis: 0 | 1): AxisField => {
    const f = outputShape[outputShape.length - 2 + axis] / inputShape[inputShape.length - 2 + axis];
    if (Number.isInteger(f) && !alignCorners) {
      if (!bilinear) return transposedField(input, f, f, 0, 1);
      // Output o reads input i where |o + 0.5 - f/2 - f*i| < f: o - f*i in the open interval (f/2 - 0.5 - f, f/2 - 0.5 + f).
      const first = Math.floor(f / 2 - 0.5 - f) + 1;
      const last = Math.ceil(f / 2 - 0.5 + f) - 1;
      return transposedField(input, last - first + 1, f, -first, 1);
    }
    return { size: input.size + (bilinear ? input.jump : 0), jump: input.jump / f, start: input.start };
  };
  return { connections: outputShape.reduce((a, b) => a * b, 1) * (bilinear ? 4 : 1), macs: 0, field };
}

/**
 * Local response normalization: channel c sees channels c - floor(size/2) ..
 * c + floor((size-1)/2) that exist (PyTorch's window, cut at the first and
 * last channel), at its own position: connections sum those windows over the
 * output.
 */
export function localResponseCounts(inputShape: readonly number[], size: number): LayerCounts {
  const channels = inputShape[0];
  const plane = inputShape.slice(1).reduce((a, b) => a * b, 1);
  let seen = 0;
  for (let c = 0; c < channels; c++) seen += Math.min(channels - 1, c + Math.floor((size - 1) / 2)) - Math.max(0, c - Math.floor(size / 2)) + 1;
  return { connections: seen * plane, macs: 0 };
}

/**
 * An op along one dim (softmax): each output unit reads every unit along
 * `dim` (counted with the batch axis, as the op's dim is). Along the channels
 * the field is kept; along height or width every unit sees the whole extent
 * of that axis (jump 0: they all see the same pixels).
 */
export function alongDimCounts(inputShape: readonly number[], outputShape: readonly number[], dim: number): LayerCounts {
  const rank = inputShape.length + 1;
  const d = dim < 0 ? dim + rank : dim;
  const along = inputShape[d - 1] ?? 1;
  const spatialAxis = rank >= 4 && d >= rank - 2 ? d - (rank - 2) : -1;
  return {
    connections: outputShape.reduce((a, b) => a * b, 1) * along,
    macs: 0,
    field: (input, axis, length) => (axis === spatialAxis ? wholeAxisField(input, length) : input),
  };
}

/**
 * A fully connected layer over the last axis (inFeatures inputs per unit,
 * plus the bias): every unit sees the whole input when the input is a
 * vector; over a feature map's rows it sees its own row and the whole width.
 */
export function linearCounts(inputShape: readonly number[], outputShape: readonly number[], inFeatures: number, bias: boolean): LayerCounts {
  const units = outputShape.reduce((a, b) => a * b, 1);
  const counts = { connections: units * (inFeatures + (bias ? 1 : 0)), macs: units * inFeatures };
  if (inputShape.length < 3) return { ...counts, global: true };
  return { ...counts, field: (input, axis, length) => (axis === 0 ? input : wholeAxisField(input, length)) };
}
