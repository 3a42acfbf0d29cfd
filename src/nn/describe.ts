/**
 * What a layer tells summary() about itself beyond its parameters and its
 * output shape: the lectures' counts (connections, multiply-accumulates) and,
 * for a layer that slides a window, the window, from which receptive fields
 * follow. Layers implement `describeLayer`; a layer without it is read as
 * element-wise (each output sees the input at its own position, no
 * connections counted) when its output has the input's shape.
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
}

/** A layer that describes itself to summary(). Shapes are for one image, without the batch axis. */
export interface DescribedLayer {
  describeLayer(inputShape: readonly number[], outputShape: readonly number[]): LayerCounts;
}

export function isDescribedLayer(value: unknown): value is DescribedLayer {
  return typeof value === 'object' && value !== null && typeof (value as { describeLayer?: unknown }).describeLayer === 'function';
}
