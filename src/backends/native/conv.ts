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
 * - input: dL/dx is the stride-1 correlation of gy, zero-padded by
 *   (k-1)*d - pad before (and as much as needed after), with the flipped
 *   kernel: gxwide [cg, L'] = Wr [cg, ocg*kH*kW] . colT with
 *   colT[(o*kH + i)*kW + j, q] = gypad[o, q + ((kH-1-i)*dH*Wq + (kW-1-j)*dW)]
 *   and Wr[c, (o, i, j)] = w[o, c, i, j];
 * - filter: dL/dW_g [ocg, cg*kH*kW] = gywide [ocg, L] . col^T, with gy
 *   scattered onto the wide grid of x (zeros at the ignored positions so they
 *   add nothing), summed over chunks.
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
import type { Sgemm } from './gemm.js';

type ConvKernels = Pick<KernelSignatures, 'conv2dForward' | 'conv2dBackwardInput' | 'conv2dBackwardFilter'>;

/** Floats of im2col matrix per chunk; the chunk holds as many images as fit (at least one). */
let colBudget = 4 * 1024 * 1024;

/** Sets the im2col chunk budget in floats (for tuning and tests; default 4M floats = 16 MB). */
export function setColBudget(floats: number): void {
  colBudget = Math.max(1, Math.floor(floats));
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

export function makeConvKernels(sgemm: Sgemm): ConvKernels {
  function conv2dForward(x: FloatArray, w: FloatArray, bias: FloatArray | null, g: Conv2dGeometry, y: FloatArray): void {
    if (!(x instanceof Float32Array && w instanceof Float32Array && y instanceof Float32Array && isF32(bias))) {
      refForward(x, w, bias, g, y);
      return;
    }
    if (g.strideH !== 1 || g.strideW !== 1) {
      generalForward(x, w, bias as Float32Array | null, g, y);
      return;
    }
    const { Hp, Wp, plane, maxOff, cg, ocg, kk, nb } = wideGeometry(g);
    const { batch, outC, outH, outW, groups, kH, kW, dilationH, dilationW } = g;
    const outHW = outH * outW;
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
        for (let o = 0; o < ocg; o++) {
          const oc = gi * ocg + o;
          const b = bias ? bias[oc] : 0;
          for (let nl = 0; nl < nbc; nl++) {
            const src0 = o * L + nl * plane;
            const dst0 = ((n0 + nl) * outC + oc) * outHW;
            for (let oh = 0; oh < outH; oh++) {
              const s = src0 + oh * Wp;
              const d = dst0 + oh * outW;
              for (let ow = 0; ow < outW; ow++) y[d + ow] = ywide[s + ow] + b;
            }
          }
        }
      }
    }
  }

  function conv2dBackwardInput(gy: FloatArray, w: FloatArray, g: Conv2dGeometry, gx: FloatArray): void {
    if (!(gy instanceof Float32Array && w instanceof Float32Array && gx instanceof Float32Array)) {
      refBackwardInput(gy, w, g, gx);
      return;
    }
    const { batch, inC, inH, inW, outC, outH, outW, kH, kW, dilationH, dilationW, groups, padTop, padLeft } = g;
    // Padding of gy so that the flipped kernel sees it: (k-1)*d - pad before.
    const pT = (kH - 1) * dilationH - padTop;
    const pL = (kW - 1) * dilationW - padLeft;
    const Hq = inH + (kH - 1) * dilationH;
    const Wq = inW + (kW - 1) * dilationW;
    if (g.strideH !== 1 || g.strideW !== 1 || pT < 0 || pL < 0) {
      generalBackwardInput(gy, w, g, gx);
      return;
    }
    const cg = inC / groups;
    const ocg = outC / groups;
    const kk = ocg * kH * kW;
    const plane = Hq * Wq;
    const maxOff = (kH - 1) * dilationH * Wq + (kW - 1) * dilationW;
    const nb = Math.max(1, Math.min(batch, Math.floor(colBudget / (kk * plane))));
    const inHW = inH * inW;
    // gy viewed as an "input" of ocg channels, outH x outW, padded to Hq x Wq.
    const gyGeom: Conv2dGeometry = { ...g, inC: outC, inH: outH, inW: outW, padTop: pT, padLeft: pL };
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
        for (let c = 0; c < cg; c++) {
          for (let nl = 0; nl < nbc; nl++) {
            const src0 = c * L + nl * plane;
            const dst0 = ((n0 + nl) * inC + gi * cg + c) * inHW;
            for (let ih = 0; ih < inH; ih++) {
              const s = src0 + ih * Wq;
              const d = dst0 + ih * inW;
              for (let iw = 0; iw < inW; iw++) gx[d + iw] = gxwide[s + iw];
            }
          }
        }
      }
    }
  }

  function conv2dBackwardFilter(x: FloatArray, gy: FloatArray, g: Conv2dGeometry, gw: FloatArray, gb: FloatArray | null): void {
    if (!(x instanceof Float32Array && gy instanceof Float32Array && gw instanceof Float32Array && isF32(gb))) {
      refBackwardFilter(x, gy, g, gw, gb);
      return;
    }
    if (gb) biasGrad(gy, g, gb);
    if (g.batch === 0) {
      gw.fill(0);
      return;
    }
    if (g.strideH !== 1 || g.strideW !== 1) {
      generalBackwardFilter(x, gy, g, gw);
      return;
    }
    const { Hp, Wp, plane, maxOff, cg, ocg, kk, nb } = wideGeometry(g);
    const { batch, outC, outH, outW, groups, kH, kW, dilationH, dilationW } = g;
    const outHW = outH * outW;
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
        gyw.fill(0, 0, ocg * L);
        for (let o = 0; o < ocg; o++) {
          for (let nl = 0; nl < nbc; nl++) {
            const src0 = ((n0 + nl) * outC + gi * ocg + o) * outHW;
            const dst0 = o * L + nl * plane;
            for (let oh = 0; oh < outH; oh++) {
              const s = src0 + oh * outW;
              const d = dst0 + oh * Wp;
              for (let ow = 0; ow < outW; ow++) gyw[d + ow] = gy[s + ow];
            }
          }
        }
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
