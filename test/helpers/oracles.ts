/**
 * Definitions written out as loops, in float64: the oracles that several
 * backend tests compare fast kernels against (not a test file itself).
 */
import type { Conv2dGeometry } from '../../src/backends/backend.js';
import type { Tensor } from '../../src/tensor/tensor.js';

/**
 * Calls f(xi, wi, yi) for every product x[xi] * w[wi] of the convolution that
 * adds to y[yi]: y[n, o, i, j] takes w[o, c, u, v] x[n, g*cg + c, i*sH - pT + u*dH, j*sW - pL + v*dW]
 * for every c, u, v, in that order; taps in the zero padding are skipped.
 */
function forEachProduct(g: Conv2dGeometry, f: (xi: number, wi: number, yi: number) => void): void {
  const cg = g.inC / g.groups;
  const ocg = g.outC / g.groups;
  for (let n = 0; n < g.batch; n++) {
    for (let o = 0; o < g.outC; o++) {
      const grp = Math.floor(o / ocg);
      for (let i = 0; i < g.outH; i++) {
        for (let j = 0; j < g.outW; j++) {
          const yi = ((n * g.outC + o) * g.outH + i) * g.outW + j;
          for (let c = 0; c < cg; c++) {
            for (let u = 0; u < g.kH; u++) {
              for (let v = 0; v < g.kW; v++) {
                const ih = i * g.strideH - g.padTop + u * g.dilationH;
                const iw = j * g.strideW - g.padLeft + v * g.dilationW;
                if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW) continue;
                f(((n * g.inC + grp * cg + c) * g.inH + ih) * g.inW + iw, ((o * cg + c) * g.kH + u) * g.kW + v, yi);
              }
            }
          }
        }
      }
    }
  }
}

/** y[n, o, i, j] = b[o] + sum over c, u, v of w[o, c, u, v] x[n, g*cg + c, i*sH - pT + u*dH, j*sW - pL + v*dW]. */
export function naiveConv(x: Float32Array, w: Float32Array, b: Float32Array | null, g: Conv2dGeometry): Float64Array {
  const y = new Float64Array(g.batch * g.outC * g.outH * g.outW);
  const hw = g.outH * g.outW;
  if (b) for (let yi = 0; yi < y.length; yi++) y[yi] = b[Math.floor(yi / hw) % g.outC];
  forEachProduct(g, (xi, wi, yi) => {
    y[yi] += w[wi] * x[xi];
  });
  return y;
}

/**
 * The input and weight gradients of naiveConv for the output gradient gy, by
 * the same products, each sending gy back to its two factors:
 * dL/dx[xi] += w[wi] * gy[yi], dL/dw[wi] += x[xi] * gy[yi].
 */
export function naiveConvBackward(x: Float32Array, w: Float32Array, gy: Float32Array, g: Conv2dGeometry): { gx: Float64Array; gw: Float64Array } {
  const gx = new Float64Array(x.length);
  const gw = new Float64Array(w.length);
  forEachProduct(g, (xi, wi, yi) => {
    gx[xi] += w[wi] * gy[yi];
    gw[wi] += x[xi] * gy[yi];
  });
  return { gx, gw };
}

/** How the padding is filled: conv2d's paddingMode. */
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular' | 'partial';

/** Where padded coordinate i (relative to the input, may be negative) reads from; -1 = outside. */
function paddedSource(i: number, n: number, mode: PaddingMode): number {
  if (i >= 0 && i < n) return i;
  if (mode === 'zeros' || mode === 'partial') return -1;
  if (mode === 'replicate') return i < 0 ? 0 : n - 1;
  if (mode === 'circular') return ((i % n) + n) % n;
  return i < 0 ? -i : 2 * (n - 1) - i;
}

/** naiveConvTensor's options: pads [top, bottom, left, right]; stride, dilation and groups default to 1, the mode to zeros. */
export interface NaiveConvOptions {
  pads: [number, number, number, number];
  stride?: [number, number];
  dilation?: [number, number];
  groups?: number;
  mode?: PaddingMode;
}

/**
 * conv2d on tensors as the textbook loop, in float64: y[n,o,i,j] = b[o] + sum_{c,u,v} w[o,c,u,v] x[n, group c,
 * i*s - pT + u*d, ...], the border filled as the mode says (partial: scaled by taps / taps inside, bias after).
 */
export function naiveConvTensor(x: Tensor, w: Tensor, b: Tensor | null, options: NaiveConvOptions): { shape: number[]; data: number[] } {
  const o = { pads: options.pads, stride: options.stride ?? [1, 1], dilation: options.dilation ?? [1, 1], groups: options.groups ?? 1, mode: options.mode ?? 'zeros' };
  const [N, C, H, W] = x.shape;
  const [O, Cg, kH, kW] = w.shape;
  const [sH, sW] = o.stride;
  const [pT, pB, pL, pR] = o.pads;
  const [dH, dW] = o.dilation;
  const outH = Math.floor((H + pT + pB - dH * (kH - 1) - 1) / sH) + 1;
  const outW = Math.floor((W + pL + pR - dW * (kW - 1) - 1) / sW) + 1;
  const Og = O / o.groups;
  const data: number[] = [];
  for (let n = 0; n < N; n++) {
    for (let oc = 0; oc < O; oc++) {
      const g = Math.floor(oc / Og);
      for (let i = 0; i < outH; i++) {
        for (let j = 0; j < outW; j++) {
          let s = 0;
          let inside = 0;
          for (let u = 0; u < kH; u++) {
            for (let v = 0; v < kW; v++) {
              const ihRaw = i * sH - pT + u * dH;
              const iwRaw = j * sW - pL + v * dW;
              if (ihRaw >= 0 && ihRaw < H && iwRaw >= 0 && iwRaw < W) inside++;
              const ih = paddedSource(ihRaw, H, o.mode);
              const iw = paddedSource(iwRaw, W, o.mode);
              if (ih < 0 || iw < 0) continue;
              for (let c = 0; c < Cg; c++) {
                s += w.data[((oc * Cg + c) * kH + u) * kW + v] * x.data[((n * C + g * Cg + c) * H + ih) * W + iw];
              }
            }
          }
          if (o.mode === 'partial') {
            data.push(inside === 0 ? 0 : s * (kH * kW) / inside + (b ? b.data[oc] : 0));
          } else {
            data.push(s + (b ? b.data[oc] : 0));
          }
        }
      }
    }
  }
  return { shape: [N, O, outH, outW], data };
}
