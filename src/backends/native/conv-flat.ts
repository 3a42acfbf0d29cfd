/**
 * Stride-1 "same-width" convolution on OpenBLAS (outW = inW: 3x3 pad 1, 5x5
 * pad 2...) in the *flat* layout, which needs no output copy at all: each
 * image's channels get only their zero rows above and below (xv [cg, Hv*W],
 * Hv = padTop + inH + padBottom), and with q = oh*W + ow the tap (i, j) reads
 * xv[c, q + i*dH*W + j*dW - padLeft]. That is right except where
 * ow + j*dW - padLeft falls outside [0, W) and the flat index wraps into the
 * neighbouring row; those few im2col entries are zeroed. The rows of tap
 * (i, j) are those of tap (0, j) moved down i*dH rows, so only cg*kW rows
 * over all Hv rows are built (copyWithin inside one scratch buffer) and each
 * kernel row i is one GEMM reading them from column i*dH*W on, accumulated
 * straight into y's image (no output copy). A row of ones after them carries
 * the bias (forward) and the bias gradient (filter pass). The gather form of
 * the input pass is the same operation applied to gy.
 *
 * It takes a geometry only with enough work per image (flatMinMacs); smaller
 * ones go to the wide layout (conv-wide.ts).
 */
import type { Conv2dGeometry } from '../backend.js';
import { gatherInputGradient, type ConvLayout, type ConvScratch } from './conv-layout.js';
import type { Sgemm } from './gemm.js';

/**
 * Row stride of an im2col matrix with n columns: n plus 16 floats when rows of
 * n floats would be a multiple of 1 KB apart, since power-of-two strides make
 * BLAS's packing reads collide in the cache (measured: a 64x1024x577 sgemm
 * takes 0.48 ms with rows 1024 floats apart, 0.39 ms with 1040).
 */
function colStride(n: number): number {
  return n % 256 === 0 ? n + 16 : n;
}

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

/**
 * The flat layout. `flatMinMacs`: multiply-adds per image and group from which
 * it takes a geometry (a GEMM that size runs near BLAS speed; 0 = always when
 * it applies, Infinity = never).
 */
export function makeFlatLayout(sgemm: Sgemm, scratch: ConvScratch, flatMinMacs: number): ConvLayout {
  /** Whether the flat layout applies to the forward (and filter) pass, and pays: stride 1, outW = inW, a big enough GEMM per image. */
  function pays(g: Conv2dGeometry): boolean {
    const kk = (g.inC / g.groups) * g.kH * g.kW;
    return g.strideH === 1 && g.strideW === 1 && g.outW === g.inW && g.padLeft <= g.inW && g.padRight <= g.inW && g.padBottom >= 0
      && (g.outC / g.groups) * kk * g.outH * g.outW >= flatMinMacs;
  }

  /**
   * The forward and filter passes' sizes and buffers: per image and group,
   * K = cg*kW im2col rows (K1 with the ones row) of N = outH*inW columns, ld
   * floats apart, after the xvSize floats of the padded image in `sc`;
   * `weights` holds kH blocks of [ocg, K1], one per kernel row.
   */
  function sizes(g: Conv2dGeometry) {
    const cg = g.inC / g.groups;
    const ocg = g.outC / g.groups;
    const K = cg * g.kW;
    const K1 = K + 1;
    const Hv = g.padTop + g.inH + g.padBottom;
    const N = g.outH * g.inW;
    const ld = colStride(Hv * g.inW);
    const xvSize = (cg * Hv + 2) * g.inW;
    return { cg, ocg, K, K1, N, ld, xvSize, sc: scratch.get('flat', xvSize + K1 * ld), weights: scratch.get('flatWeights', g.kH * ocg * K1) };
  }

  function forward(x: Float32Array, w: Float32Array, bias: Float32Array | null, g: Conv2dGeometry, y: Float32Array): void {
    const { batch, inC, inH, inW, outC, kH, kW, dilationH, dilationW, padTop, padLeft, padBottom, groups } = g;
    const { cg, ocg, K, K1, N, ld, xvSize, sc, weights: wi } = sizes(g);
    // wi[i][o][c*kW + j] = w[o, c, i, j]; block 0 has the bias as column K.
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
        rowIm2col(x, n, inC, gi * cg, cg, inH, inW, padTop, padBottom, padLeft, kW, dilationW, false, sc, 0, xvSize, ld, n === 0);
        for (let i = 0; i < kH; i++) {
          sgemm(false, false, ocg, N, i === 0 ? K1 : K, 1, wi, i * ocg * K1, K1, sc, xvSize + i * dilationH * inW, ld,
            i === 0 ? 0 : 1, y, (n * outC + gi * ocg) * N, N);
        }
      }
    }
  }

  function backwardFilter(x: Float32Array, gy: Float32Array, g: Conv2dGeometry, gw: Float32Array, gb: Float32Array | null): void {
    const { batch, inC, inH, inW, outC, kH, kW, dilationH, dilationW, padTop, padLeft, padBottom, groups } = g;
    const { cg, ocg, K, K1, N, ld, xvSize, sc, weights: gi3 } = sizes(g);
    for (let gi = 0; gi < groups; gi++) {
      for (let n = 0; n < batch; n++) {
        rowIm2col(x, n, inC, gi * cg, cg, inH, inW, padTop, padBottom, padLeft, kW, dilationW, false, sc, 0, xvSize, ld, n === 0);
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

  function backwardInput(gy: Float32Array, w: Float32Array, g: Conv2dGeometry, gx: Float32Array): void {
    const { batch, inC, inH, inW, outC, outH, kH, kW, dilationH, dilationW, padTop, padLeft, groups } = g;
    const cg = inC / groups;
    const ocg = outC / groups;
    const K = ocg * kW;
    // gy padded by (k-1)*d - pad on each side (the gather form)
    const pT = (kH - 1) * dilationH - padTop;
    const pL = (kW - 1) * dilationW - padLeft;
    const pB = (kH - 1) * dilationH - g.padBottom;
    const Hv = pT + outH + pB;
    const N = inH * inW;
    const ld = colStride(Hv * inW);
    const xvSize = (ocg * Hv + 2) * inW;
    const sc = scratch.get('flat', xvSize + K * ld);
    // wr[i][c][o*kW + j] = w[o, c, i, j]; tap row i reads gy rows shifted by (kH-1-i)*dH.
    const wr = scratch.get('gatherWeights', kH * cg * K);
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

  return {
    // The input pass in the gather form, with gy padded by >= 0 rows below.
    applies: (pass, g) => pays(g) && (pass !== 'backwardInput' || (gatherInputGradient(g) && g.padBottom <= (g.kH - 1) * g.dilationH)),
    forward, backwardInput, backwardFilter,
  };
}
