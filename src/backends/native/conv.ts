/**
 * Convolution on OpenBLAS.
 *
 * Stride 1 (every 3x3 / 5x5 "same" or "valid" conv of LeNet, VGG and ResNet
 * blocks) uses a *wide* layout that turns im2col into a few memcpys. A chunk
 * of nb images is copied, zero-padded, into
 *   xpad [cg, nb, Hp, Wp]   (Hp = inH + padTop + padBottom, Wp likewise),
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
 *   zero-padded by (k-1)*d - pad before (and as much as needed after), with
 *   the flipped kernel: gxwide [cg, L'] = Wr [cg, ocg*kH*kW] . colT with
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
 *
 * "Same-width" stride-1 convolutions (outW = inW: 3x3 pad 1, 5x5 pad 2...)
 * with enough work per image use a *flat* layout instead, which needs no
 * output copy at all: each image's channels get only their zero rows above
 * and below (xv [cg, Hv*W], Hv = padTop + inH + padBottom), and with
 * q = oh*W + ow the tap (i, j) reads xv[c, q + i*dH*W + j*dW - padLeft]. That
 * is right except where ow + j*dW - padLeft falls outside [0, W) and the flat
 * index wraps into the neighbouring row; those few im2col entries are zeroed.
 * The rows of tap (i, j) are those of tap (0, j) moved down i*dH rows, so
 * only cg*kW rows over all Hv rows are built (copyWithin inside one scratch
 * buffer) and each kernel row i is one GEMM reading them from column i*dH*W
 * on, accumulated straight into y's image (no output copy). A row of ones
 * after them carries the bias (forward) and the bias gradient (filter pass).
 * The gather form of the input pass is the same operation applied to gy.
 *
 * Other strides use the reference im2col / col2im per image with the GEMMs on
 * OpenBLAS.
 *
 * Scratch memory is kept between calls (grow-only), so a training loop does
 * not allocate or zero tens of megabytes per step.
 */
import type { Conv2dGeometry, FloatArray, KernelSignatures } from '../backend.js';
import {
  col2im, conv2dBackwardFilter as refBackwardFilter, conv2dBackwardInput as refBackwardInput,
  conv2dForward as refForward, im2col,
} from '../ref/conv.js';
import { from, makeSgemm } from './gemm.js';
import type { OpenBlas } from './openblas.js';

type ConvKernels = Pick<KernelSignatures, 'conv2dForward' | 'conv2dBackwardInput' | 'conv2dBackwardFilter'>;

/** Floats of im2col matrix per chunk; the chunk holds as many images as fit (at least one). */
let colBudget = 1536 * 1024;

/** Sets the im2col chunk budget in floats (for tuning and tests; default 1.5M floats = 6 MB). */
export function setColBudget(floats: number): void {
  colBudget = Math.max(1, Math.floor(floats));
}

/**
 * Row stride of an im2col matrix with n columns: n plus 16 floats when rows of
 * n floats would be a multiple of 1 KB apart, since power-of-two strides make
 * BLAS's packing reads collide in the cache (measured: a 64x1024x577 sgemm
 * takes 0.48 ms with rows 1024 floats apart, 0.39 ms with 1040).
 */
function colStride(n: number): number {
  return n % 256 === 0 ? n + 16 : n;
}

/** Multiply-adds per image and group above which the flat layout is used (a GEMM that size runs near BLAS speed). */
let FLAT_MIN_MACS = 1 << 20;

/** Sets the flat-layout threshold (for tuning and tests; 0 = always when it applies, Infinity = never). */
export function setFlatMinMacs(macs: number): void {
  FLAT_MIN_MACS = macs;
}

const scratch = new Map<string, Float32Array>();

/** A kept Float32Array of at least `n` floats (contents undefined). */
function buf(name: string, n: number): Float32Array {
  let a = scratch.get(name);
  if (!a || a.length < n) {
    a = new Float32Array(Math.max(n, Math.ceil((a?.length ?? 0) * 1.25)));
    scratch.set(name, a);
  }
  return a;
}

/** Frees the kept scratch memory (it is re-allocated on the next call). */
export function releaseScratch(): void {
  scratch.clear();
}

function isF32(...arrays: (FloatArray | null)[]): boolean {
  return arrays.every((a) => a === null || a instanceof Float32Array);
}

/** Wide-grid geometry for the forward / filter passes. */
function wideGeometry(g: Conv2dGeometry) {
  const Hp = g.outH + (g.kH - 1) * g.dilationH;
  const Wp = g.outW + (g.kW - 1) * g.dilationW;
  const plane = Hp * Wp;
  const maxOff = (g.kH - 1) * g.dilationH * Wp + (g.kW - 1) * g.dilationW;
  const cg = g.inC / g.groups;
  const ocg = g.outC / g.groups;
  const kk = cg * g.kH * g.kW;
  const nb = Math.max(1, Math.min(g.batch, Math.floor(colBudget / (kk * plane))));
  return { Hp, Wp, plane, maxOff, cg, ocg, kk, nb };
}

/**
 * Copies channels c0 .. c0+cg-1 of images n0 .. n0+nb-1 of x into xpad
 * [cg, nb, Hp, Wp] at (padTop, padLeft), zeros elsewhere, plus `tail` zeros.
 * Rows of the input that fall outside Hp (only when padBottom < 0) are dropped.
 */
function padChunk(
  x: Float32Array, g: Conv2dGeometry, n0: number, nb: number, c0: number, cg: number,
  Hp: number, Wp: number, tail: number, xpad: Float32Array,
): void {
  const { inC, inH, inW, padTop, padLeft } = g;
  const plane = Hp * Wp;
  const L = nb * plane;
  xpad.fill(0, 0, cg * L + tail);
  const rows = Math.min(inH, Hp - padTop);
  const cols = Math.min(inW, Wp - padLeft);
  for (let c = 0; c < cg; c++) {
    for (let nl = 0; nl < nb; nl++) {
      const src0 = ((n0 + nl) * inC + c0 + c) * inH * inW;
      const dst0 = c * L + nl * plane + padTop * Wp + padLeft;
      for (let h = 0; h < rows; h++) {
        const s = src0 + h * inW;
        const d = dst0 + h * Wp;
        for (let w = 0; w < cols; w++) xpad[d + w] = x[s + w];
      }
    }
  }
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
  const { outC, outH, outW } = g;
  const plane = Hp * Wp;
  const L = nb * plane;
  const outHW = outH * outW;
  out.fill(0, 0, ocg * L);
  for (let o = 0; o < ocg; o++) {
    for (let nl = 0; nl < nb; nl++) {
      const src0 = ((n0 + nl) * outC + o0 + o) * outHW;
      const dst0 = o * L + nl * plane;
      for (let oh = 0; oh < outH; oh++) {
        const s = src0 + oh * outW;
        const d = dst0 + oh * Wp;
        for (let ow = 0; ow < outW; ow++) out[d + ow] = gy[s + ow];
      }
    }
  }
}

/**
 * The inverse of padChunk: dst[n0+nl, c0+c, h, w] = wide[c, nl, top + h, left + w]
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

/**
 * The three convolution kernels on OpenBLAS. With `direct` (the wasm
 * backend's kernels), convolutions of one input channel per group (LeNet's
 * first layer, depthwise) go to it instead: an im2col GEMM with K = kH*kW is
 * mostly copying there, and wasm's direct kernel measured 1.4-1.8x faster.
 */
export function makeConvKernels(blas: OpenBlas, direct: ConvKernels | null = null, singleThread = false): ConvKernels {
  const own = makeBlasConvKernels(blas, singleThread);
  if (!direct) return own;
  const d = direct;
  const single = (g: Conv2dGeometry) => g.inC === g.groups;
  return {
    conv2dForward: (x, w, b, g, y) => (single(g) ? d : own).conv2dForward(x, w, b, g, y),
    conv2dBackwardInput: (gy, w, g, gx) => (single(g) ? d : own).conv2dBackwardInput(gy, w, g, gx),
    conv2dBackwardFilter: (x, gy, g, gw, gb) => (single(g) ? d : own).conv2dBackwardFilter(x, gy, g, gw, gb),
  };
}

function makeBlasConvKernels(blas: OpenBlas, singleThread: boolean): ConvKernels {
  const sgemm = makeSgemm(blas, singleThread);
  const saxpy = blas.saxpy;
  /**
   * Flat im2col of one image (channels c0 .. c0+cg-1 of image n of `src`,
   * [*, srcC, H, W]), copied first to sc at xvAt with pT zero rows above and
   * pB below (xv), with row reuse: the rows of tap (i, j) for i > 0 are
   * those of tap (0, j) moved i*dH rows down, so only the kW "column" rows per
   * channel are built, each over all Hv rows of the padded image:
   *   colX[c*kW + j, p] = xv[c, p + j*dW - padLeft]   (wrapped entries zeroed), p < Hv*W,
   * and the GEMM for tap row i reads them from column i*dH*W on (B = colX + i*dH*W,
   * same row stride): one product per kernel row, a kH-th of the copying
   * (measured 3-5% faster than building all kH*kW rows). `flip` mirrors the
   * taps (the gather form of the input gradient); with `onesRow` a row of
   * ones follows the cg*kW rows (bias and bias gradient).
   */
  function rowIm2col(
    src: Float32Array, n: number, srcC: number, c0: number, cg: number, H: number, W: number,
    pT: number, pB: number, pL: number, kW: number, dW: number, flip: boolean,
    sc: Float32Array, xvAt: number, colAt: number, ld: number, onesRow: boolean,
  ): void {
    const Hv = pT + H + pB;
    const cs = Hv * W;
    const m = xvAt + W;
    sc.fill(0, xvAt, m);
    const srcBase = (n * srcC + c0) * H * W;
    if (pT === 0 && pB === 0) {
      sc.set(src.subarray(srcBase, srcBase + cg * cs), m);
    } else {
      for (let c = 0; c < cg; c++) {
        const d = m + c * cs;
        sc.fill(0, d, d + pT * W);
        sc.set(src.subarray(srcBase + c * H * W, srcBase + (c + 1) * H * W), d + pT * W);
        sc.fill(0, d + (pT + H) * W, d + cs);
      }
    }
    sc.fill(0, m + cg * cs, m + cg * cs + W);
    let r = 0;
    for (let c = 0; c < cg; c++) {
      for (let j = 0; j < kW; j++) {
        const dj = (flip ? kW - 1 - j : j) * dW - pL;
        const from0 = m + c * cs + dj;
        const row = colAt + r * ld;
        sc.copyWithin(row, from0, from0 + cs);
        if (dj < 0) {
          for (let h = 0; h < Hv; h++) {
            const b = row + h * W;
            for (let ow = 0; ow < -dj && ow < W; ow++) sc[b + ow] = 0;
          }
        } else if (dj > 0) {
          for (let h = 0; h < Hv; h++) {
            const b = row + h * W;
            for (let ow = Math.max(0, W - dj); ow < W; ow++) sc[b + ow] = 0;
          }
        }
        r++;
      }
    }
    if (onesRow) sc.fill(1, colAt + r * ld, colAt + r * ld + cs);
  }

  function rowConvForward(x: Float32Array, w: Float32Array, bias: Float32Array | null, g: Conv2dGeometry, y: Float32Array): void {
    const { batch, inC, inH, inW, outC, outH, kH, kW, dilationH, dilationW, padTop, padLeft, groups } = g;
    const cg = inC / groups;
    const ocg = outC / groups;
    const K = cg * kW;
    const K1 = K + 1;
    const pB = outH + (kH - 1) * dilationH - inH - padTop;
    const Hv = padTop + inH + pB;
    const N = outH * inW;
    const ld = colStride(Hv * inW);
    const xvSize = (cg * Hv + 2) * inW;
    const sc = buf('flat', xvSize + K1 * ld);
    // wi[i][o][c*kW + j] = w[o, c, i, j]; block 0 has the bias as column K.
    const wi = buf('wext', kH * ocg * K1);
    for (let gi = 0; gi < groups; gi++) {
      for (let i = 0; i < kH; i++) {
        for (let o = 0; o < ocg; o++) {
          const dst = (i * ocg + o) * K1;
          for (let c = 0; c < cg; c++) {
            const src = (((gi * ocg + o) * cg + c) * kH + i) * kW;
            for (let j = 0; j < kW; j++) wi[dst + c * kW + j] = w[src + j];
          }
          wi[dst + K] = i === 0 && bias ? bias[gi * ocg + o] : 0;
        }
      }
      for (let n = 0; n < batch; n++) {
        rowIm2col(x, n, inC, gi * cg, cg, inH, inW, padTop, pB, padLeft, kW, dilationW, false, sc, 0, xvSize, ld, n === 0);
        for (let i = 0; i < kH; i++) {
          sgemm(false, false, ocg, N, i === 0 ? K1 : K, 1, wi, i * ocg * K1, K1, sc, xvSize + i * dilationH * inW, ld,
            i === 0 ? 0 : 1, y, (n * outC + gi * ocg) * N, N);
        }
      }
    }
  }

  function rowConvBackwardFilter(x: Float32Array, gy: Float32Array, g: Conv2dGeometry, gw: Float32Array, gb: FloatArray | null): void {
    const { batch, inC, inH, inW, outC, outH, kH, kW, dilationH, dilationW, padTop, padLeft, groups } = g;
    const cg = inC / groups;
    const ocg = outC / groups;
    const K = cg * kW;
    const K1 = K + 1;
    const pB = outH + (kH - 1) * dilationH - inH - padTop;
    const Hv = padTop + inH + pB;
    const N = outH * inW;
    const ld = colStride(Hv * inW);
    const xvSize = (cg * Hv + 2) * inW;
    const sc = buf('flat', xvSize + K1 * ld);
    const gi3 = buf('wext', kH * ocg * K1);
    for (let gi = 0; gi < groups; gi++) {
      for (let n = 0; n < batch; n++) {
        rowIm2col(x, n, inC, gi * cg, cg, inH, inW, padTop, pB, padLeft, kW, dilationW, false, sc, 0, xvSize, ld, n === 0);
        for (let i = 0; i < kH; i++) {
          sgemm(false, true, ocg, i === 0 ? K1 : K, N, 1, gy, (n * outC + gi * ocg) * N, N, sc, xvSize + i * dilationH * inW, ld,
            n === 0 ? 0 : 1, gi3, i * ocg * K1, K1);
        }
      }
      // gw[o, c, i, j] = gi3[i][o][c*kW + j]; gb[o] = gi3[0][o][K]
      for (let o = 0; o < ocg; o++) {
        for (let c = 0; c < cg; c++) {
          const dst = (((gi * ocg + o) * cg + c) * kH) * kW;
          for (let i = 0; i < kH; i++) {
            const src = (i * ocg + o) * K1 + c * kW;
            for (let j = 0; j < kW; j++) gw[dst + i * kW + j] = gi3[src + j];
          }
        }
        if (gb) gb[gi * ocg + o] = gi3[o * K1 + K];
      }
    }
  }

  function rowConvBackwardInput(gy: Float32Array, w: Float32Array, g: Conv2dGeometry, gx: Float32Array): void {
    const { batch, inC, inH, inW, outC, outH, kH, kW, dilationH, dilationW, padTop, padLeft, groups } = g;
    const cg = inC / groups;
    const ocg = outC / groups;
    const K = ocg * kW;
    const pT = (kH - 1) * dilationH - padTop;
    const pL = (kW - 1) * dilationW - padLeft;
    const pB = inH + (kH - 1) * dilationH - outH - pT;
    const Hv = pT + outH + pB;
    const N = inH * inW;
    const ld = colStride(Hv * inW);
    const xvSize = (ocg * Hv + 2) * inW;
    const sc = buf('flat', xvSize + K * ld);
    // wr[i][c][o*kW + j] = w[o, c, i, j]; tap row i reads gy rows shifted by (kH-1-i)*dH.
    const wr = buf('wr', kH * cg * K);
    for (let gi = 0; gi < groups; gi++) {
      for (let i = 0; i < kH; i++) {
        for (let c = 0; c < cg; c++) {
          for (let o = 0; o < ocg; o++) {
            const src = (((gi * ocg + o) * cg + c) * kH + i) * kW;
            const dst = (i * cg + c) * K + o * kW;
            for (let j = 0; j < kW; j++) wr[dst + j] = w[src + j];
          }
        }
      }
      for (let n = 0; n < batch; n++) {
        rowIm2col(gy, n, outC, gi * ocg, ocg, outH, inW, pT, pB, pL, kW, dilationW, true, sc, 0, xvSize, ld, false);
        for (let i = 0; i < kH; i++) {
          sgemm(false, false, cg, N, K, 1, wr, i * cg * K, K, sc, xvSize + (kH - 1 - i) * dilationH * inW, ld,
            i === 0 ? 0 : 1, gx, (n * inC + gi * cg) * N, N);
        }
      }
    }
  }

  /** Whether the flat layout applies to the forward (and filter) pass, and pays: stride 1, outW = inW, a big enough GEMM per image. */
  function flatForward(g: Conv2dGeometry): boolean {
    const kk = (g.inC / g.groups) * g.kH * g.kW;
    const pR = (g.kW - 1) * g.dilationW - g.padLeft;
    const pB = g.outH + (g.kH - 1) * g.dilationH - g.inH - g.padTop;
    return g.strideH === 1 && g.strideW === 1 && g.outW === g.inW && g.padLeft <= g.inW && pR <= g.inW && pB >= 0
      && (g.outC / g.groups) * kk * g.outH * g.outW >= FLAT_MIN_MACS;
  }

  function conv2dForward(x: FloatArray, w: FloatArray, bias: FloatArray | null, g: Conv2dGeometry, y: FloatArray): void {
    if (!(x instanceof Float32Array && w instanceof Float32Array && y instanceof Float32Array && isF32(bias))) {
      refForward(x, w, bias, g, y);
      return;
    }
    if (g.strideH !== 1 || g.strideW !== 1) {
      generalForward(x, w, bias as Float32Array | null, g, y);
      return;
    }
    if (flatForward(g)) {
      rowConvForward(x, w, bias as Float32Array | null, g, y);
      return;
    }
    const { Hp, Wp, plane, maxOff, cg, ocg, kk, nb } = wideGeometry(g);
    const { batch, outC, outH, outW, groups, kH, kW, dilationH, dilationW } = g;
    for (let n0 = 0; n0 < batch; n0 += nb) {
      const nbc = Math.min(nb, batch - n0);
      const L = nbc * plane;
      for (let gi = 0; gi < groups; gi++) {
        const xpad = buf('xpad', cg * L + maxOff);
        padChunk(x, g, n0, nbc, gi * cg, cg, Hp, Wp, maxOff, xpad);
        const col = buf('col', kk * L);
        wideIm2col(xpad, cg, L, kH, kW, dilationH * Wp, dilationW, false, col);
        const ywide = buf('out', ocg * L);
        sgemm(false, false, ocg, L, kk, 1, w, gi * ocg * kk, kk, col, 0, L, 0, ywide, 0, L);
        // Copy the valid positions out to NCHW, adding the bias.
        unwide(ywide, nbc, ocg, Hp, Wp, 0, 0, y, n0, gi * ocg, outC, outH, outW, bias);
      }
    }
  }

  function conv2dBackwardInput(gy: FloatArray, w: FloatArray, g: Conv2dGeometry, gx: FloatArray): void {
    if (!(gy instanceof Float32Array && w instanceof Float32Array && gx instanceof Float32Array)) {
      refBackwardInput(gy, w, g, gx);
      return;
    }
    if (g.strideH !== 1 || g.strideW !== 1) {
      generalBackwardInput(gy, w, g, gx);
      return;
    }
    const { kH, kW, dilationH, dilationW, padTop, padLeft, inH, inW } = g;
    // Gather form: gy padded by (k-1)*d - pad before; needs that to be >= 0.
    const pT = (kH - 1) * dilationH - padTop;
    const pL = (kW - 1) * dilationW - padLeft;
    const gatherRows = (g.outC / g.groups) * kH * kW * (inH + (kH - 1) * dilationH) * (inW + (kW - 1) * dilationW);
    const scatterRows = (g.inC / g.groups) * kH * kW * (g.outH + (kH - 1) * dilationH) * (g.outW + (kW - 1) * dilationW);
    const pB = inH + (kH - 1) * dilationH - g.outH - pT;
    // The gather GEMM has cg rows: with fewer input than output channels the scatter form moves less.
    if (pT < 0 || pL < 0 || scatterRows < gatherRows) scatterBackwardInput(gy, w, g, gx);
    else if (pB >= 0 && g.outW === inW && flatForward(g)) rowConvBackwardInput(gy, w, g, gx);
    else gatherBackwardInput(gy, w, g, gx, pT, pL);
  }

  /** gxwide = Wr . colT over gy padded by (pT, pL) (see the file comment). */
  function gatherBackwardInput(gy: Float32Array, w: Float32Array, g: Conv2dGeometry, gx: Float32Array, pT: number, pL: number): void {
    const { batch, inC, inH, inW, outC, kH, kW, dilationH, dilationW, groups } = g;
    const Hq = inH + (kH - 1) * dilationH;
    const Wq = inW + (kW - 1) * dilationW;
    const cg = inC / groups;
    const ocg = outC / groups;
    const kk = ocg * kH * kW;
    const plane = Hq * Wq;
    const maxOff = (kH - 1) * dilationH * Wq + (kW - 1) * dilationW;
    const nb = Math.max(1, Math.min(batch, Math.floor(colBudget / (kk * plane))));
    // gy viewed as an "input" of outC channels, outH x outW, padded to Hq x Wq.
    const gyGeom: Conv2dGeometry = { ...g, inC: outC, inH: g.outH, inW: g.outW, padTop: pT, padLeft: pL };
    for (let gi = 0; gi < groups; gi++) {
      // Wr[c, (o, i, j)] = w[gi*ocg + o, c, i, j]
      const wr = buf('wr', cg * kk);
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
        const gpad = buf('xpad', ocg * L + maxOff);
        padChunk(gy, gyGeom, n0, nbc, gi * ocg, ocg, Hq, Wq, maxOff, gpad);
        const col = buf('col', kk * L);
        wideIm2col(gpad, ocg, L, kH, kW, dilationH * Wq, dilationW, true, col);
        const gxwide = buf('out', cg * L);
        sgemm(false, false, cg, L, kk, 1, wr, 0, kk, col, 0, L, 0, gxwide, 0, L);
        unwide(gxwide, nbc, cg, Hq, Wq, 0, 0, gx, n0, gi * cg, inC, inH, inW, null);
      }
    }
  }

  /** dcol = W_g^T . gywide, then each dcol row added back onto the wide grid of x (see the file comment). */
  function scatterBackwardInput(gy: Float32Array, w: Float32Array, g: Conv2dGeometry, gx: Float32Array): void {
    const { Hp, Wp, plane, maxOff, cg, ocg, kk, nb } = wideGeometry(g);
    const { batch, inC, inH, inW, groups, kH, kW, dilationH, dilationW, padTop, padLeft } = g;
    for (let n0 = 0; n0 < batch; n0 += nb) {
      const nbc = Math.min(nb, batch - n0);
      const L = nbc * plane;
      for (let gi = 0; gi < groups; gi++) {
        const gyw = buf('out', ocg * L);
        gyWide(gy, g, n0, nbc, gi * ocg, ocg, Hp, Wp, gyw);
        const dcol = buf('col', kk * L);
        sgemm(true, false, kk, L, ocg, 1, w, gi * ocg * kk, kk, gyw, 0, L, 0, dcol, 0, L);
        // Positions q past the valid outputs hold W^T . 0 = 0, so rows that
        // run into the next channel's block (q + off >= L) add nothing there.
        const gxpad = buf('xpad', cg * L + maxOff);
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
        unwide(gxpad, nbc, cg, Hp, Wp, padTop, padLeft, gx, n0, gi * cg, inC, inH, inW, null, Math.min(inH, Hp - padTop), Math.min(inW, Wp - padLeft));
      }
    }
  }

  function conv2dBackwardFilter(x: FloatArray, gy: FloatArray, g: Conv2dGeometry, gw: FloatArray, gb: FloatArray | null): void {
    if (!(x instanceof Float32Array && gy instanceof Float32Array && gw instanceof Float32Array && isF32(gb))) {
      refBackwardFilter(x, gy, g, gw, gb);
      return;
    }
    if (g.batch === 0) {
      gw.fill(0);
      gb?.fill(0);
      return;
    }
    if (g.strideH === 1 && g.strideW === 1 && flatForward(g)) {
      rowConvBackwardFilter(x, gy, g, gw, gb);
      return;
    }
    if (gb) biasGrad(gy, g, gb);
    if (g.strideH !== 1 || g.strideW !== 1) {
      generalBackwardFilter(x, gy, g, gw);
      return;
    }
    const { Hp, Wp, plane, maxOff, cg, ocg, kk, nb } = wideGeometry(g);
    const { batch, groups, kH, kW, dilationH, dilationW } = g;
    for (let n0 = 0; n0 < batch; n0 += nb) {
      const nbc = Math.min(nb, batch - n0);
      const L = nbc * plane;
      for (let gi = 0; gi < groups; gi++) {
        const xpad = buf('xpad', cg * L + maxOff);
        padChunk(x, g, n0, nbc, gi * cg, cg, Hp, Wp, maxOff, xpad);
        const col = buf('col', kk * L);
        wideIm2col(xpad, cg, L, kH, kW, dilationH * Wp, dilationW, false, col);
        // gy on the wide grid, zeros at the positions no output owns.
        const gyw = buf('out', ocg * L);
        gyWide(gy, g, n0, nbc, gi * ocg, ocg, Hp, Wp, gyw);
        sgemm(false, true, ocg, kk, L, 1, gyw, 0, L, col, 0, L, n0 === 0 ? 0 : 1, gw, gi * ocg * kk, kk);
      }
    }
  }

  /** Any stride: im2col per image (reference), GEMM on OpenBLAS. */
  function generalForward(x: Float32Array, w: Float32Array, bias: Float32Array | null, g: Conv2dGeometry, y: Float32Array): void {
    const cg = g.inC / g.groups;
    const ocg = g.outC / g.groups;
    const kk = cg * g.kH * g.kW;
    const outHW = g.outH * g.outW;
    const col = buf('col', kk * outHW);
    for (let n = 0; n < g.batch; n++) {
      for (let gi = 0; gi < g.groups; gi++) {
        im2col(x, n, gi * cg, cg, g, col);
        sgemm(false, false, ocg, outHW, kk, 1, w, gi * ocg * kk, kk, col, 0, outHW, 0, y, (n * g.outC + gi * ocg) * outHW, outHW);
      }
      if (bias) {
        for (let oc = 0; oc < g.outC; oc++) {
          const b = bias[oc];
          const base = (n * g.outC + oc) * outHW;
          for (let p = 0; p < outHW; p++) y[base + p] += b;
        }
      }
    }
  }

  function generalBackwardInput(gy: Float32Array, w: Float32Array, g: Conv2dGeometry, gx: Float32Array): void {
    const cg = g.inC / g.groups;
    const ocg = g.outC / g.groups;
    const kk = cg * g.kH * g.kW;
    const outHW = g.outH * g.outW;
    const dcol = buf('col', kk * outHW);
    gx.fill(0);
    for (let n = 0; n < g.batch; n++) {
      for (let gi = 0; gi < g.groups; gi++) {
        sgemm(true, false, kk, outHW, ocg, 1, w, gi * ocg * kk, kk, gy, (n * g.outC + gi * ocg) * outHW, outHW, 0, dcol, 0, outHW);
        col2im(dcol, n, gi * cg, cg, g, gx);
      }
    }
  }

  function generalBackwardFilter(x: Float32Array, gy: Float32Array, g: Conv2dGeometry, gw: Float32Array): void {
    const cg = g.inC / g.groups;
    const ocg = g.outC / g.groups;
    const kk = cg * g.kH * g.kW;
    const outHW = g.outH * g.outW;
    const col = buf('col', kk * outHW);
    for (let n = 0; n < g.batch; n++) {
      for (let gi = 0; gi < g.groups; gi++) {
        im2col(x, n, gi * cg, cg, g, col);
        sgemm(false, true, ocg, kk, outHW, 1, gy, (n * g.outC + gi * ocg) * outHW, outHW, col, 0, outHW, n === 0 ? 0 : 1, gw, gi * ocg * kk, kk);
      }
    }
  }

  return { conv2dForward, conv2dBackwardInput, conv2dBackwardFilter };
}

/** gb[oc] = sum over n, oh, ow of gy[n, oc, oh, ow]. */
function biasGrad(gy: Float32Array, g: Conv2dGeometry, gb: FloatArray): void {
  const outHW = g.outH * g.outW;
  gb.fill(0);
  for (let n = 0; n < g.batch; n++) {
    for (let oc = 0; oc < g.outC; oc++) {
      const base = (n * g.outC + oc) * outHW;
      let s = 0;
      for (let p = 0; p < outHW; p++) s += gy[base + p];
      gb[oc] += s;
    }
  }
}
