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
 * Visits every output row of every plane with its row taps: yRow is the row's
 * offset in y, r0 and r1 the offsets in x of the two input rows it reads, a0
 * and a1 their weights; w holds the column taps, shared by every row.
 */
function forEachRow(g: Upsample2dGeometry, visit: (yRow: number, r0: number, r1: number, a0: number, a1: number, w: AxisTaps) => void): void {
  const { planes, inH, inW, outH, outW } = g;
  const h = axisTaps(inH, outH, g.scaleH, g.mode, g.alignCorners);
  const w = axisTaps(inW, outW, g.scaleW, g.mode, g.alignCorners);
  for (let p = 0; p < planes; p++) {
    const xBase = p * inH * inW;
    const yBase = p * outH * outW;
    for (let oh = 0; oh < outH; oh++) visit(yBase + oh * outW, xBase + h.i0[oh] * inW, xBase + h.i1[oh] * inW, h.l0[oh], h.l1[oh], w);
  }
}

/** y[p, oh, ow] = sum over the (up to) four taps of lh * lw * x[p, ih, iw]. */
export function upsample2d(x: FloatArray, g: Upsample2dGeometry, y: FloatArray): void {
  const { outW } = g;
  forEachRow(g, (yRow, r0, r1, a0, a1, w) => {
    if (g.mode === 'nearest') {
      // a copy, so an infinity stays an infinity (0 * inf would give NaN)
      for (let ow = 0; ow < outW; ow++) y[yRow + ow] = x[r0 + w.i0[ow]];
      return;
    }
    for (let ow = 0; ow < outW; ow++) {
      const c0 = w.i0[ow];
      const c1 = w.i1[ow];
      const b0 = w.l0[ow];
      const b1 = w.l1[ow];
      y[yRow + ow] = a0 * (b0 * x[r0 + c0] + b1 * x[r0 + c1]) + a1 * (b0 * x[r1 + c0] + b1 * x[r1 + c1]);
    }
  });
}

/** gx[p, ih, iw] += lh * lw * gy[p, oh, ow] for each tap of each output. */
export function upsample2dBackward(gy: FloatArray, g: Upsample2dGeometry, gx: FloatArray): void {
  const { outW } = g;
  gx.fill(0);
  forEachRow(g, (yRow, r0, r1, a0, a1, w) => {
    if (g.mode === 'nearest') {
      for (let ow = 0; ow < outW; ow++) gx[r0 + w.i0[ow]] += gy[yRow + ow];
      return;
    }
    for (let ow = 0; ow < outW; ow++) {
      const v = gy[yRow + ow];
      const c0 = w.i0[ow];
      const c1 = w.i1[ow];
      const b0 = w.l0[ow];
      const b1 = w.l1[ow];
      gx[r0 + c0] += a0 * b0 * v;
      gx[r0 + c1] += a0 * b1 * v;
      gx[r1 + c0] += a1 * b0 * v;
      gx[r1 + c1] += a1 * b1 * v;
    }
  });
}
