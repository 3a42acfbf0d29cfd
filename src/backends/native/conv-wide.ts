/**
 * Stride-1 convolution on OpenBLAS in the *wide* layout, which turns im2col
 * into a few memcpys. A chunk of nb images is copied, zero-padded, into
 *   xpad [cg, nb, Hp, Wp]   (Hp = padTop + inH + padBottom, Wp likewise),
 * and its positions are numbered q = (n*Hp + h)*Wp + w along one axis of
 * length L = nb*Hp*Wp. Output (n, oh, ow) sits at the same q as its window's
 * top-left tap, and tap (i, j) of that window at q + off(i, j) with
 *   off(i, j) = i*dH*Wp + j*dW,
 * so every row of the im2col matrix is one contiguous slice of xpad:
 *   col[(c*kH + i)*kW + j, q] = xpad[c, q + off(i, j)].
 * One GEMM then gives the outputs on the wide grid,
 *   ywide [ocg, L] = W_g [ocg, cg*kH*kW] . col,
 * where positions with oh >= outH or ow >= outW are ignored when ywide is
 * copied out to NCHW. The backward passes are the other two products:
 * - input, "gather" form: dL/dx is the stride-1 correlation of gy,
 *   zero-padded by (k-1)*d - pad on each side, with the flipped kernel:
 *   gxwide [cg, L'] = Wr [cg, ocg*kH*kW] . colT with
 *   colT[(o*kH + i)*kW + j, q] = gypad[o, q + ((kH-1-i)*dH*Wq + (kW-1-j)*dW)]
 *   and Wr[c, (o, i, j)] = w[o, c, i, j];
 * - input, "scatter" form (the adjoint of the forward, used when it moves
 *   less memory: fewer input than output channels, as in LeNet's conv2):
 *   dcol [cg*kH*kW, L] = W_g^T . gywide, then each row is added back where
 *   im2col read it, gxpad[c, q + off(i, j)] += dcol[(c*kH + i)*kW + j, q]
 *   (one saxpy per row);
 * - filter: dL/dW_g [ocg, cg*kH*kW] = gywide [ocg, L] . col^T, with gy
 *   scattered onto the wide grid of x (zeros at the ignored positions so they
 *   add nothing), summed over chunks.
 */
import type { Conv2dGeometry, FloatArray } from '../backend.js';
import { conv2dBiasGradient } from '../ref/conv.js';
import { gatherInputGradient, type ConvLayout, type ConvScratch } from './conv-layout.js';
import { from, type Sgemm } from './gemm.js';
import type { OpenBlas } from './openblas.js';

/** Wide-grid geometry for the forward / filter passes, nb images per chunk within `colBudget` floats of im2col matrix. */
function wideGeometry(g: Conv2dGeometry, colBudget: number) {
  const Hp = g.padTop + g.inH + g.padBottom;
  const Wp = g.padLeft + g.inW + g.padRight;
  const plane = Hp * Wp;
  const maxOff = (g.kH - 1) * g.dilationH * Wp + (g.kW - 1) * g.dilationW;
  const cg = g.inC / g.groups;
  const ocg = g.outC / g.groups;
  const kk = cg * g.kH * g.kW;
  const nb = Math.max(1, Math.min(g.batch, Math.floor(colBudget / (kk * plane))));
  return { Hp, Wp, plane, maxOff, cg, ocg, kk, nb };
}

/**
 * The geometry of the gather form: gy as the input of a stride-1 convolution
 * with the flipped kernel whose output is gx, padded by (k-1)*d - pad on each side.
 */
function gatherGeometry(g: Conv2dGeometry): Conv2dGeometry {
  const eH = (g.kH - 1) * g.dilationH;
  const eW = (g.kW - 1) * g.dilationW;
  return {
    ...g, inC: g.outC, inH: g.outH, inW: g.outW, outC: g.inC, outH: g.inH, outW: g.inW,
    padTop: eH - g.padTop, padLeft: eW - g.padLeft, padBottom: eH - g.padBottom, padRight: eW - g.padRight,
  };
}

/**
 * Copies channels c0 .. c0+channels-1 of images n0 .. n0+nb-1 of src
 * ([*, C, H, W]) onto the wide grid [channels, nb, Hp, Wp] at (top, left) of
 * each plane, zeros elsewhere, plus `tail` zeros: the inverse of unwide. Only
 * the first `rows` x `cols` of each source plane are copied.
 */
function toWide(
  src: Float32Array, n0: number, c0: number, C: number, H: number, W: number, rows: number, cols: number,
  wide: Float32Array, nb: number, channels: number, Hp: number, Wp: number, top: number, left: number, tail: number,
): void {
  const plane = Hp * Wp;
  const L = nb * plane;
  wide.fill(0, 0, channels * L + tail);
  for (let c = 0; c < channels; c++) {
    for (let nl = 0; nl < nb; nl++) {
      const src0 = ((n0 + nl) * C + c0 + c) * H * W;
      const dst0 = c * L + nl * plane + top * Wp + left;
      for (let h = 0; h < rows; h++) {
        const s = src0 + h * W;
        const d = dst0 + h * Wp;
        for (let w = 0; w < cols; w++) wide[d + w] = src[s + w];
      }
    }
  }
}

/**
 * Copies channels c0 .. c0+cg-1 of images n0 .. n0+nb-1 of x into xpad
 * [cg, nb, Hp, Wp] (Hp = padTop + inH + padBottom, Wp likewise) at
 * (padTop, padLeft), zeros elsewhere, plus `tail` zeros. Input rows and
 * columns the windows never reach (a negative padBottom / padRight) are dropped.
 */
function padChunk(x: Float32Array, g: Conv2dGeometry, n0: number, nb: number, c0: number, cg: number, tail: number, xpad: Float32Array): void {
  const { inC, inH, inW, padTop, padLeft } = g;
  toWide(x, n0, c0, inC, inH, inW, inH + Math.min(0, g.padBottom), inW + Math.min(0, g.padRight),
    xpad, nb, cg, padTop + inH + g.padBottom, padLeft + inW + g.padRight, padTop, padLeft, tail);
}

/** col[(c*kH + i)*kW + j, 0:L] = xpad[c, off(i,j) : off(i,j) + L], offsets on a grid of row stride Wq. */
function wideIm2col(
  xpad: Float32Array, channels: number, L: number, kH: number, kW: number, rowStep: number, colStep: number,
  flip: boolean, col: Float32Array,
): void {
  let r = 0;
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++) {
        const off = (flip ? kH - 1 - i : i) * rowStep + (flip ? kW - 1 - j : j) * colStep;
        const s = c * L + off;
        col.set(xpad.subarray(s, s + L), r * L);
        r++;
      }
    }
  }
}

/**
 * gy of images n0 .. n0+nb-1, channels o0 .. o0+ocg-1, on the wide grid
 * [ocg, nb, Hp, Wp] at (0, 0) of each plane, zeros elsewhere.
 */
function gyWide(gy: Float32Array, g: Conv2dGeometry, n0: number, nb: number, o0: number, ocg: number, Hp: number, Wp: number, out: Float32Array): void {
  toWide(gy, n0, o0, g.outC, g.outH, g.outW, g.outH, g.outW, out, nb, ocg, Hp, Wp, 0, 0, 0);
}

/**
 * The inverse of toWide: dst[n0+nl, c0+c, h, w] = wide[c, nl, top + h, left + w]
 * (+ add[c0 + c] when given) for the dst planes of `channels` channels of H x W.
 * Only h < copyH, w < copyW come from `wide` (the grid may not reach past
 * them when the convolution never reads the last rows or columns); the rest is 0.
 */
function unwide(
  wide: Float32Array, nb: number, channels: number, Hp: number, Wp: number, top: number, left: number,
  dst: Float32Array, n0: number, c0: number, C: number, H: number, W: number, add: FloatArray | null,
  copyH = H, copyW = W,
): void {
  const plane = Hp * Wp;
  const L = nb * plane;
  const HW = H * W;
  for (let c = 0; c < channels; c++) {
    const b = add ? add[c0 + c] : 0;
    for (let nl = 0; nl < nb; nl++) {
      const src0 = c * L + nl * plane + top * Wp + left;
      const dst0 = ((n0 + nl) * C + c0 + c) * HW;
      for (let h = 0; h < copyH; h++) {
        const s = src0 + h * Wp;
        const d = dst0 + h * W;
        for (let w = 0; w < copyW; w++) dst[d + w] = wide[s + w] + b;
        if (copyW < W) dst.fill(0, d + copyW, d + W);
      }
      if (copyH < H) dst.fill(0, dst0 + copyH * W, dst0 + HW);
    }
  }
}

/** The wide layout; it takes every stride-1 geometry. `colBudget`: floats of im2col matrix per chunk (at least one image). */
export function makeWideLayout(blas: OpenBlas, sgemm: Sgemm, scratch: ConvScratch, colBudget: number): ConvLayout {
  const saxpy = blas.saxpy;

  /**
   * The im2col matrix [channels*kH*kW, L] (in the 'col' buffer) of channels
   * c0 .. c0+channels-1 of images n0 .. n0+nb-1 of src, the input of g, over
   * its padded wide grid (planes of `plane` floats, rows Wp apart; taps up to
   * maxOff past a position); `flip` mirrors the taps (the gather form).
   */
  function chunkIm2col(
    src: Float32Array, g: Conv2dGeometry, n0: number, nb: number, c0: number, channels: number,
    Wp: number, plane: number, maxOff: number, flip: boolean,
  ): Float32Array {
    const L = nb * plane;
    const xpad = scratch.get('xpad', channels * L + maxOff);
    padChunk(src, g, n0, nb, c0, channels, maxOff, xpad);
    const col = scratch.get('col', channels * g.kH * g.kW * L);
    wideIm2col(xpad, channels, L, g.kH, g.kW, g.dilationH * Wp, g.dilationW, flip, col);
    return col;
  }

  function forward(x: Float32Array, w: Float32Array, bias: Float32Array | null, g: Conv2dGeometry, y: Float32Array): void {
    const { Hp, Wp, plane, maxOff, cg, ocg, kk, nb } = wideGeometry(g, colBudget);
    const { batch, outC, outH, outW, groups } = g;
    for (let n0 = 0; n0 < batch; n0 += nb) {
      const nbc = Math.min(nb, batch - n0);
      const L = nbc * plane;
      for (let gi = 0; gi < groups; gi++) {
        const col = chunkIm2col(x, g, n0, nbc, gi * cg, cg, Wp, plane, maxOff, false);
        const ywide = scratch.get('out', ocg * L);
        sgemm(false, false, ocg, L, kk, 1, w, gi * ocg * kk, kk, col, 0, L, 0, ywide, 0, L);
        // Copy the valid positions out to NCHW, adding the bias.
        unwide(ywide, nbc, ocg, Hp, Wp, 0, 0, y, n0, gi * ocg, outC, outH, outW, bias);
      }
    }
  }

  function backwardInput(gy: Float32Array, w: Float32Array, g: Conv2dGeometry, gx: Float32Array): void {
    if (gatherInputGradient(g)) gatherBackwardInput(gy, w, g, gx);
    else scatterBackwardInput(gy, w, g, gx);
  }

  /** gxwide = Wr . colT over gy padded by (k-1)*d - pad (see the file comment). */
  function gatherBackwardInput(gy: Float32Array, w: Float32Array, g: Conv2dGeometry, gx: Float32Array): void {
    const { batch, inC, inH, inW, outC, kH, kW, dilationH, dilationW, groups } = g;
    // gy viewed as an "input" of outC channels, outH x outW, padded to Hq x Wq.
    const gyGeom = gatherGeometry(g);
    const Hq = inH + (kH - 1) * dilationH;
    const Wq = inW + (kW - 1) * dilationW;
    const cg = inC / groups;
    const ocg = outC / groups;
    const kk = ocg * kH * kW;
    const plane = Hq * Wq;
    const maxOff = (kH - 1) * dilationH * Wq + (kW - 1) * dilationW;
    const nb = Math.max(1, Math.min(batch, Math.floor(colBudget / (kk * plane))));
    for (let gi = 0; gi < groups; gi++) {
      // Wr[c, (o, i, j)] = w[gi*ocg + o, c, i, j]
      const wr = scratch.get('gatherWeights', cg * kk);
      for (let c = 0; c < cg; c++) {
        for (let o = 0; o < ocg; o++) {
          const src = ((gi * ocg + o) * cg + c) * kH * kW;
          const dst = c * kk + o * kH * kW;
          for (let t = 0; t < kH * kW; t++) wr[dst + t] = w[src + t];
        }
      }
      for (let n0 = 0; n0 < batch; n0 += nb) {
        const nbc = Math.min(nb, batch - n0);
        const L = nbc * plane;
        const col = chunkIm2col(gy, gyGeom, n0, nbc, gi * ocg, ocg, Wq, plane, maxOff, true);
        const gxwide = scratch.get('out', cg * L);
        sgemm(false, false, cg, L, kk, 1, wr, 0, kk, col, 0, L, 0, gxwide, 0, L);
        unwide(gxwide, nbc, cg, Hq, Wq, 0, 0, gx, n0, gi * cg, inC, inH, inW, null);
      }
    }
  }

  /** dcol = W_g^T . gywide, then each dcol row added back onto the wide grid of x (see the file comment). */
  function scatterBackwardInput(gy: Float32Array, w: Float32Array, g: Conv2dGeometry, gx: Float32Array): void {
    const { Hp, Wp, plane, maxOff, cg, ocg, kk, nb } = wideGeometry(g, colBudget);
    const { batch, inC, inH, inW, groups, kH, kW, dilationH, dilationW, padTop, padLeft } = g;
    for (let n0 = 0; n0 < batch; n0 += nb) {
      const nbc = Math.min(nb, batch - n0);
      const L = nbc * plane;
      for (let gi = 0; gi < groups; gi++) {
        const gyw = scratch.get('out', ocg * L);
        gyWide(gy, g, n0, nbc, gi * ocg, ocg, Hp, Wp, gyw);
        const dcol = scratch.get('col', kk * L);
        sgemm(true, false, kk, L, ocg, 1, w, gi * ocg * kk, kk, gyw, 0, L, 0, dcol, 0, L);
        // Positions q past the valid outputs hold W^T . 0 = 0, so rows that
        // run into the next channel's block (q + off >= L) add nothing there.
        const gxpad = scratch.get('xpad', cg * L + maxOff);
        gxpad.fill(0, 0, cg * L + maxOff);
        // One thread: OpenBLAS threads saxpy from n = 10000 on, and waking the
        // second thread for each of these rows costs more than the adds.
        blas.withThreads(1, () => {
          let r = 0;
          for (let c = 0; c < cg; c++) {
            for (let i = 0; i < kH; i++) {
              for (let j = 0; j < kW; j++) {
                saxpy(L, 1, from(dcol, r * L), 1, from(gxpad, c * L + i * dilationH * Wp + j * dilationW), 1);
                r++;
              }
            }
          }
        });
        // Input rows and columns the windows never reach get no gradient.
        unwide(gxpad, nbc, cg, Hp, Wp, padTop, padLeft, gx, n0, gi * cg, inC, inH, inW, null, inH + Math.min(0, g.padBottom), inW + Math.min(0, g.padRight));
      }
    }
  }

  function backwardFilter(x: Float32Array, gy: Float32Array, g: Conv2dGeometry, gw: Float32Array, gb: Float32Array | null): void {
    if (gb) conv2dBiasGradient(gy, g, gb);
    const { Hp, Wp, plane, maxOff, cg, ocg, kk, nb } = wideGeometry(g, colBudget);
    const { batch, groups } = g;
    for (let n0 = 0; n0 < batch; n0 += nb) {
      const nbc = Math.min(nb, batch - n0);
      const L = nbc * plane;
      for (let gi = 0; gi < groups; gi++) {
        const col = chunkIm2col(x, g, n0, nbc, gi * cg, cg, Wp, plane, maxOff, false);
        // gy on the wide grid, zeros at the positions no output owns.
        const gyw = scratch.get('out', ocg * L);
        gyWide(gy, g, n0, nbc, gi * ocg, ocg, Hp, Wp, gyw);
        sgemm(false, true, ocg, kk, L, 1, gyw, 0, L, col, 0, L, n0 === 0 ? 0 : 1, gw, gi * ocg * kk, kk);
      }
    }
  }

  return {
    applies: (_pass, g) => g.strideH === 1 && g.strideW === 1,
    forward, backwardInput, backwardFilter,
  };
}
