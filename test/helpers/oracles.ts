/**
 * Definitions written out as loops, in float64: the oracles that several
 * backend tests compare fast kernels against (not a test file itself).
 */
import type { Conv2dGeometry } from '../../src/backends/backend.js';

/** y[n, o, i, j] = b[o] + sum over c, u, v of w[o, c, u, v] x[n, g*cg + c, i*sH - pT + u*dH, j*sW - pL + v*dW]. */
export function naiveConv(x: Float32Array, w: Float32Array, b: Float32Array | null, g: Conv2dGeometry): Float64Array {
  const cg = g.inC / g.groups;
  const ocg = g.outC / g.groups;
  const y = new Float64Array(g.batch * g.outC * g.outH * g.outW);
  for (let n = 0; n < g.batch; n++) {
    for (let o = 0; o < g.outC; o++) {
      const grp = Math.floor(o / ocg);
      for (let i = 0; i < g.outH; i++) {
        for (let j = 0; j < g.outW; j++) {
          let s = b ? b[o] : 0;
          for (let c = 0; c < cg; c++) {
            for (let u = 0; u < g.kH; u++) {
              for (let v = 0; v < g.kW; v++) {
                const ih = i * g.strideH - g.padTop + u * g.dilationH;
                const iw = j * g.strideW - g.padLeft + v * g.dilationW;
                if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW) continue;
                s += w[((o * cg + c) * g.kH + u) * g.kW + v] * x[((n * g.inC + grp * cg + c) * g.inH + ih) * g.inW + iw];
              }
            }
          }
          y[((n * g.outC + o) * g.outH + i) * g.outW + j] = s;
        }
      }
    }
  }
  return y;
}
