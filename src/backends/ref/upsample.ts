import type { FloatArray, Upsample2dGeometry } from '../backend.js';

/**
 * Up-sampling as PyTorch's interpolate computes it, one axis at a time. Each
 * output coordinate d reads two input coordinates i0, i1 with weights l0, l1
 * (nearest: one input, weight 1):
 *   nearest:  i0 = min(floor(d * scale), in - 1)
 *   bilinear: src = d * scale                          (alignCorners)
 *             src = max((d + 0.5) * scale - 0.5, 0)     (otherwise)
 *             i0 = floor(src), i1 = min(i0 + 1, in - 1), l1 = src - i0, l0 = 1 - l1
 * and a 2-D output is the product of the two axes' weights.
 */
interface AxisTaps {
  i0: Int32Array;
  i1: Int32Array;
  l0: Float64Array;
  l1: Float64Array;
}

function axisTaps(inSize: number, outSize: number, scale: number, mode: 'nearest' | 'bilinear', alignCorners: boolean): AxisTaps {
  const t: AxisTaps = { i0: new Int32Array(outSize), i1: new Int32Array(outSize), l0: new Float64Array(outSize), l1: new Float64Array(outSize) };
  for (let d = 0; d < outSize; d++) {
    if (mode === 'nearest') {
      const i = Math.min(Math.floor(d * scale), inSize - 1);
      t.i0[d] = i;
      t.i1[d] = i;
      t.l0[d] = 1;
      t.l1[d] = 0;
      continue;
    }
    const src = alignCorners ? d * scale : Math.max((d + 0.5) * scale - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const l1 = src - i0;
    t.i0[d] = i0;
    t.i1[d] = i0 < inSize - 1 ? i0 + 1 : i0;
    t.l0[d] = 1 - l1;
    t.l1[d] = l1;
  }
  return t;
}

/**
 * One output's taps: rows r0, r1 (offsets of their starts in x) with weights
 * a0, a1, columns c0, c1 with weights b0, b1; yAt is the output's offset in y.
 */
interface OutputTaps {
  yAt: number;
  r0: number;
  r1: number;
  a0: number;
  a1: number;
  c0: number;
  c1: number;
  b0: number;
  b1: number;
}

/** Visits every output of every plane with its taps (one object, updated in place between calls). */
function forEachOutput(g: Upsample2dGeometry, visit: (t: OutputTaps) => void): void {
  const { planes, inH, inW, outH, outW } = g;
  const h = axisTaps(inH, outH, g.scaleH, g.mode, g.alignCorners);
  const w = axisTaps(inW, outW, g.scaleW, g.mode, g.alignCorners);
  const t: OutputTaps = { yAt: 0, r0: 0, r1: 0, a0: 0, a1: 0, c0: 0, c1: 0, b0: 0, b1: 0 };
  for (let p = 0; p < planes; p++) {
    const xBase = p * inH * inW;
    const yBase = p * outH * outW;
    for (let oh = 0; oh < outH; oh++) {
      t.r0 = xBase + h.i0[oh] * inW;
      t.r1 = xBase + h.i1[oh] * inW;
      t.a0 = h.l0[oh];
      t.a1 = h.l1[oh];
      for (let ow = 0; ow < outW; ow++) {
        t.yAt = yBase + oh * outW + ow;
        t.c0 = w.i0[ow];
        t.c1 = w.i1[ow];
        t.b0 = w.l0[ow];
        t.b1 = w.l1[ow];
        visit(t);
      }
    }
  }
}

/** y[p, oh, ow] = sum over the (up to) four taps of lh * lw * x[p, ih, iw]. */
export function upsample2d(x: FloatArray, g: Upsample2dGeometry, y: FloatArray): void {
  forEachOutput(g, ({ yAt, r0, r1, a0, a1, c0, c1, b0, b1 }) => {
    // nearest: a copy, so an infinity stays an infinity (0 * inf would give NaN)
    if (g.mode === 'nearest') y[yAt] = x[r0 + c0];
    else y[yAt] = a0 * (b0 * x[r0 + c0] + b1 * x[r0 + c1]) + a1 * (b0 * x[r1 + c0] + b1 * x[r1 + c1]);
  });
}

/** gx[p, ih, iw] += lh * lw * gy[p, oh, ow] for each tap of each output. */
export function upsample2dBackward(gy: FloatArray, g: Upsample2dGeometry, gx: FloatArray): void {
  gx.fill(0);
  forEachOutput(g, ({ yAt, r0, r1, a0, a1, c0, c1, b0, b1 }) => {
    const v = gy[yAt];
    if (g.mode === 'nearest') {
      gx[r0 + c0] += v;
      return;
    }
    gx[r0 + c0] += a0 * b0 * v;
    gx[r0 + c1] += a0 * b1 * v;
    gx[r1 + c0] += a1 * b0 * v;
    gx[r1 + c1] += a1 * b1 * v;
  });
}
