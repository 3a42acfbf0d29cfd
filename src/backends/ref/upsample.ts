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

export function axisTaps(inSize: number, outSize: number, scale: number, mode: 'nearest' | 'bilinear', alignCorners: boolean): AxisTaps {
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

function taps(g: Upsample2dGeometry): { h: AxisTaps; w: AxisTaps } {
  return {
    h: axisTaps(g.inH, g.outH, g.scaleH, g.mode, g.alignCorners),
    w: axisTaps(g.inW, g.outW, g.scaleW, g.mode, g.alignCorners),
  };
}

/** y[p, oh, ow] = sum over the (up to) four taps of lh * lw * x[p, ih, iw]. */
export function upsample2d(x: FloatArray, g: Upsample2dGeometry, y: FloatArray): void {
  const { planes, inH, inW, outH, outW } = g;
  const { h, w } = taps(g);
  for (let p = 0; p < planes; p++) {
    const xBase = p * inH * inW;
    const yBase = p * outH * outW;
    for (let oh = 0; oh < outH; oh++) {
      const r0 = xBase + h.i0[oh] * inW;
      if (g.mode === 'nearest') {
        // a copy, so an infinity stays an infinity (0 * inf would give NaN)
        for (let ow = 0; ow < outW; ow++) y[yBase + oh * outW + ow] = x[r0 + w.i0[ow]];
        continue;
      }
      const r1 = xBase + h.i1[oh] * inW;
      const a0 = h.l0[oh];
      const a1 = h.l1[oh];
      for (let ow = 0; ow < outW; ow++) {
        const c0 = w.i0[ow];
        const c1 = w.i1[ow];
        const b0 = w.l0[ow];
        const b1 = w.l1[ow];
        y[yBase + oh * outW + ow] = a0 * (b0 * x[r0 + c0] + b1 * x[r0 + c1]) + a1 * (b0 * x[r1 + c0] + b1 * x[r1 + c1]);
      }
    }
  }
}

/** gx[p, ih, iw] += lh * lw * gy[p, oh, ow] for each tap of each output. */
export function upsample2dBackward(gy: FloatArray, g: Upsample2dGeometry, gx: FloatArray): void {
  const { planes, inH, inW, outH, outW } = g;
  const { h, w } = taps(g);
  gx.fill(0);
  for (let p = 0; p < planes; p++) {
    const xBase = p * inH * inW;
    const yBase = p * outH * outW;
    for (let oh = 0; oh < outH; oh++) {
      const r0 = xBase + h.i0[oh] * inW;
      if (g.mode === 'nearest') {
        for (let ow = 0; ow < outW; ow++) gx[r0 + w.i0[ow]] += gy[yBase + oh * outW + ow];
        continue;
      }
      const r1 = xBase + h.i1[oh] * inW;
      const a0 = h.l0[oh];
      const a1 = h.l1[oh];
      for (let ow = 0; ow < outW; ow++) {
        const v = gy[yBase + oh * outW + ow];
        const c0 = w.i0[ow];
        const c1 = w.i1[ow];
        const b0 = w.l0[ow];
        const b1 = w.l1[ow];
        gx[r0 + c0] += a0 * b0 * v;
        gx[r0 + c1] += a0 * b1 * v;
        gx[r1 + c0] += a1 * b0 * v;
        gx[r1 + c1] += a1 * b1 * v;
      }
    }
  }
}
