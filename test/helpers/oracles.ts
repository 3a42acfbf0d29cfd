/**
 * Definitions written out as loops, in float64: the oracles that several
 * backend tests compare fast kernels against (not a test file itself).
 */
import type { Conv2dGeometry } from '../../src/backends/backend.js';

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
