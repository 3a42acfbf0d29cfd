/**
 * Convolution of any stride on OpenBLAS: the reference im2col / col2im per
 * image and group, with the GEMMs on OpenBLAS:
 *   forward  y_g [ocg, outH*outW]   = W_g [ocg, cg*kH*kW] . col
 *   input    dcol [cg*kH*kW, outHW] = W_g^T . gy_g, then col2im adds it onto gx
 *   filter   dL/dW_g               += gy_g . col^T over the images
 * The last layout of the table: it takes every geometry.
 */
import type { Conv2dGeometry } from '../backend.js';
import { conv2dAddBias, col2im, conv2dBiasGradient, convSizes, im2col } from '../ref/conv.js';
import type { ConvLayout, ConvScratch } from './conv-layout.js';
import type { Sgemm } from './gemm.js';

export function makeIm2colLayout(sgemm: Sgemm, scratch: ConvScratch): ConvLayout {
  function forward(x: Float32Array, w: Float32Array, bias: Float32Array | null, g: Conv2dGeometry, y: Float32Array): void {
    const { cg, ocg, kk, outHW } = convSizes(g);
    const col = scratch.get('col', kk * outHW);
    for (let n = 0; n < g.batch; n++) {
      for (let gi = 0; gi < g.groups; gi++) {
        im2col(x, n, gi * cg, cg, g, col);
        sgemm(false, false, ocg, outHW, kk, 1, w, gi * ocg * kk, kk, col, 0, outHW, 0, y, (n * g.outC + gi * ocg) * outHW, outHW);
      }
      if (bias) conv2dAddBias(y, n, bias, g);
    }
  }

  function backwardInput(gy: Float32Array, w: Float32Array, g: Conv2dGeometry, gx: Float32Array): void {
    const { cg, ocg, kk, outHW } = convSizes(g);
    const dcol = scratch.get('col', kk * outHW);
    gx.fill(0);
    for (let n = 0; n < g.batch; n++) {
      for (let gi = 0; gi < g.groups; gi++) {
        sgemm(true, false, kk, outHW, ocg, 1, w, gi * ocg * kk, kk, gy, (n * g.outC + gi * ocg) * outHW, outHW, 0, dcol, 0, outHW);
        col2im(dcol, n, gi * cg, cg, g, gx);
      }
    }
  }

  function backwardFilter(x: Float32Array, gy: Float32Array, g: Conv2dGeometry, gw: Float32Array, gb: Float32Array | null): void {
    if (gb) conv2dBiasGradient(gy, g, gb);
    const { cg, ocg, kk, outHW } = convSizes(g);
    const col = scratch.get('col', kk * outHW);
    for (let n = 0; n < g.batch; n++) {
      for (let gi = 0; gi < g.groups; gi++) {
        im2col(x, n, gi * cg, cg, g, col);
        sgemm(false, true, ocg, kk, outHW, 1, gy, (n * g.outC + gi * ocg) * outHW, outHW, col, 0, outHW, n === 0 ? 0 : 1, gw, gi * ocg * kk, kk);
      }
    }
  }

  return { applies: () => true, forward, backwardInput, backwardFilter };
}
