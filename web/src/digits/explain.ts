/**
 * How one unit of the first convolution gets its value: the input patch under
 * the filter (zeros where the filter hangs over the padded edge), the
 * filter, their products, and the sum of the products plus the bias, which is
 * the unit's value. Pure functions (no DOM, no Stride), tested in Node.
 */

/** The window of one unit along both axes, in input pixels: rows start[0] + i*jump[0] .., likewise columns. */
export interface UnitWindow {
  start: [number, number];
  jump: [number, number];
}

export interface ConvUnitTerms {
  /** The input values under the filter, kh x kw row-major (0 outside the image: zero padding). */
  patch: Float32Array;
  /** patch x filter, element by element. */
  products: Float32Array;
  /** The sum of the products. */
  sum: number;
  /** sum + bias: the unit's value. */
  value: number;
}

/**
 * The terms of unit (i, j) of a convolution with one input channel: an
 * `size` x `size` input (row-major), the filter `kh` x `kw`, its bias, and
 * where the unit's window starts (`start` is minus the padding, `jump` the
 * stride: a receptive field as summary reports it for the first layer).
 */
export function convUnitTerms(
  input: ArrayLike<number>, height: number, width: number,
  filter: ArrayLike<number>, kh: number, kw: number, bias: number,
  window: UnitWindow, i: number, j: number,
): ConvUnitTerms {
  const patch = new Float32Array(kh * kw);
  const products = new Float32Array(kh * kw);
  const r0 = window.start[0] + i * window.jump[0];
  const c0 = window.start[1] + j * window.jump[1];
  let sum = 0;
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const r = r0 + a;
      const c = c0 + b;
      const v = r >= 0 && r < height && c >= 0 && c < width ? input[r * width + c] : 0;
      patch[a * kw + b] = v;
      products[a * kw + b] = v * filter[a * kw + b];
      sum += v * filter[a * kw + b];
    }
  }
  return { patch, products, sum, value: sum + bias };
}
