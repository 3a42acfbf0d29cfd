/**
 * 2-D convolution through im2col + GEMM (see src/backends/ref/conv.ts for the
 * readable version): for one image and one group,
 *   col[(c*kH + i)*kW + j, oh*outW + ow] = x[c, oh*sH - pT + i*dH, ow*sW - pL + j*dW]  (0 outside)
 *   y_g = W_g . col,   dcol = W_g^T . gy_g (then col2im),   dW_g += gy_g . col^T.
 * A 1x1 kernel with stride 1 and no padding needs no im2col: col is x itself.
 * Small input-channel counts (LeNet's first layer: 1 channel) use a direct
 * kernel instead (conv2d_forward_direct).
 *
 * Each export works on the images n0 .. n1-1, so the host can split a batch
 * over threads; `work` is this thread's scratch (see convWorkFloats).
 * Geometry block `g`: Conv2dGeometry of geometry.ts.
 */
import { sgemm, WORK_FLOATS } from './gemm';
import { Conv2dGeometry as G, gi } from './geometry';
import { imin, imax, madd } from './simd';

/** True when col would equal x: a 1x1 kernel, stride 1, no padding, output as large as the input. */
function isPointwise(g: usize): bool {
  return gi(g, G.kH) == 1 && gi(g, G.kW) == 1 && gi(g, G.strideH) == 1 && gi(g, G.strideW) == 1 &&
    gi(g, G.padTop) == 0 && gi(g, G.padLeft) == 0 && gi(g, G.outH) == gi(g, G.inH) && gi(g, G.outW) == gi(g, G.inW);
}

/**
 * Output planes smaller than this are batched: one GEMM covers several images
 * (N = images * outH * outW), so the weights are packed once per batch rather
 * than per image. Measured on one thread, 32 images, 3x3: 512 channels on 4x4
 * planes 52 / 65 / 47 ms (forward / input grad / filter grad) per image vs
 * 46 / 46 / 47 ms batched; 8x8 planes equal; LeNet's 10x10 planes of 6 -> 16
 * channels 5% slower batched (the gather and scatter cost more than packing
 * the small weights).
 */
const WIDE_BELOW: i32 = 64;
/** Columns a batched GEMM aims at. */
const WIDE_COLUMNS: i32 = 1024;

/** Images per GEMM: 1, or enough small output planes to make about WIDE_COLUMNS columns. */
function wideImages(g: usize): i32 {
  const outHW = gi(g, G.outH) * gi(g, G.outW);
  if (isPointwise(g) || outHW >= WIDE_BELOW) return 1;
  return imax(1, WIDE_COLUMNS / outHW);
}

// @ts-ignore: decorator
@inline function align16(n: i32): i32 {
  return (n + 15) & ~15;
}

/**
 * Floats of scratch per thread: the columns of one image (or of a batch of
 * small images), a buffer of output-shaped values for batched GEMMs, and the
 * GEMM's packing space.
 */
export function convWorkFloats(g: usize): i32 {
  const cg = gi(g, G.inC) / gi(g, G.groups);
  const ocg = gi(g, G.outC) / gi(g, G.groups);
  const kk = cg * gi(g, G.kH) * gi(g, G.kW);
  const nb = wideImages(g);
  const cols = nb * gi(g, G.outH) * gi(g, G.outW);
  const col = isPointwise(g) ? 0 : kk * cols;
  const buf = nb > 1 ? ocg * cols : 0;
  return align16(col) + align16(buf) + WORK_FLOATS;
}

/** First output column ow whose tap at offset `off` (= j*dW - pL) lands inside [0, inW). */
// @ts-ignore: decorator
@inline function firstInside(off: i32, s: i32): i32 {
  return off >= 0 ? 0 : (-off + s - 1) / s;
}

/** One past the last output column whose tap lands inside [0, inW), at most outW. */
// @ts-ignore: decorator
@inline function endInside(off: i32, s: i32, inW: i32, outW: i32): i32 {
  const last = inW - 1 - off;
  return last < 0 ? 0 : imin(outW, last / s + 1);
}

/** Copies n floats (small runs with a loop: memory.copy is a call). */
// @ts-ignore: decorator
@inline function copyRun(dst: usize, src: usize, n: i32): void {
  if (n >= 32) {
    memory.copy(dst, src, <usize>n << 2);
    return;
  }
  let k = 0;
  for (; k + 4 <= n; k += 4) v128.store(dst + (<usize>k << 2), v128.load(src + (<usize>k << 2)));
  for (; k < n; k++) store<f32>(dst + (<usize>k << 2), load<f32>(src + (<usize>k << 2)));
}

/** Fills n floats with 0. */
// @ts-ignore: decorator
@inline function zeroRun(dst: usize, n: i32): void {
  if (n >= 32) {
    memory.fill(dst, 0, <usize>n << 2);
    return;
  }
  const z = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) v128.store(dst + (<usize>k << 2), z);
  for (; k < n; k++) store<f32>(dst + (<usize>k << 2), 0);
}

/** col (rows of length ldcol) from the cg channel planes starting at x. */
function im2col(x: usize, cg: i32, g: usize, col: usize, ldcol: i32): void {
  const inH = gi(g, G.inH), inW = gi(g, G.inW), kH = gi(g, G.kH), kW = gi(g, G.kW);
  const sH = gi(g, G.strideH), sW = gi(g, G.strideW), pT = gi(g, G.padTop), pL = gi(g, G.padLeft);
  const dH = gi(g, G.dilationH), dW = gi(g, G.dilationW), outH = gi(g, G.outH), outW = gi(g, G.outW);
  const flat = sH == 1 && sW == 1 && outW == inW;
  // Rows of col are contiguous (one image): runs are written in increasing address order, so a
  // short run may be copied in whole vectors, spilling up to 3 values into what is written next
  // (past the last row: into scratch that follows col).
  const loose = ldcol == outH * outW;
  // no padding and stride 1: every tap's window lies inside the input
  const inside = sH == 1 && sW == 1 && pT == 0 && pL == 0 && outH + (kH - 1) * dH <= inH && outW + (kW - 1) * dW <= inW && !flat;
  for (let c = 0; c < cg; c++) {
    const plane = x + (<usize>(c * inH * inW) << 2);
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++) {
        const row = col + (<usize>(((c * kH + i) * kW + j) * ldcol) << 2);
        const off = j * dW - pL;
        if (inside) {
          // no padding, stride 1: every run is a plain copy of outW values
          let src = plane + (<usize>(i * dH * inW + off) << 2);
          let dst = row;
          const rs = <usize>inW << 2;
          const ds = <usize>outW << 2;
          if (loose && outW < 32) {
            for (let oh = 0; oh < outH; oh++) {
              for (let k = 0; k < outW; k += 4) v128.store(dst + (<usize>k << 2), v128.load(src + (<usize>k << 2)));
              src += rs;
              dst += ds;
            }
          } else {
            for (let oh = 0; oh < outH; oh++) {
              copyRun(dst, src, outW);
              src += rs;
              dst += ds;
            }
          }
          continue;
        }
        if (flat) {
          // Output rows as wide as input rows, stride 1: the rows that see the input are one
          // contiguous stretch of the plane shifted by `off`; one copy, then zero the padding
          // rows and the columns that wrapped around into the neighbouring row.
          const ohLo = imin(outH, imax(0, pT - i * dH));
          const ohHi = imax(ohLo, imin(outH, inH + pT - i * dH));
          if (ohLo > 0) zeroRun(row, ohLo * outW);
          if (ohHi > ohLo) {
            const start = (ohLo - pT + i * dH) * inW + off; // may be negative: those values are zeroed below
            memory.copy(row + (<usize>(ohLo * outW) << 2), plane + <usize>(start << 2), <usize>((ohHi - ohLo) * outW) << 2);
            if (off != 0) {
              const z = imin(off < 0 ? -off : off, outW);
              const first = off < 0 ? 0 : outW - z;
              for (let oh = ohLo; oh < ohHi; oh++) zeroRun(row + (<usize>(oh * outW + first) << 2), z);
            }
          }
          if (ohHi < outH) zeroRun(row + (<usize>(ohHi * outW) << 2), (outH - ohHi) * outW);
          continue;
        }
        const lo = imin(firstInside(off, sW), outW);
        const hi = imax(lo, endInside(off, sW, inW, outW));
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * sH - pT + i * dH;
          const dst = row + (<usize>(oh * outW) << 2);
          if (ih < 0 || ih >= inH) {
            zeroRun(dst, outW);
            continue;
          }
          const src = plane + (<usize>(ih * inW) << 2);
          if (lo > 0) zeroRun(dst, lo);
          if (sW == 1) {
            const n = hi - lo;
            if (loose && n < 32) {
              // whole vectors: the up to 3 values written past the run are rewritten later
              // (by the zero suffix, the next run or the next row of col), see `loose`
              const d = dst + (<usize>lo << 2);
              const s = src + (<usize>(lo + off) << 2);
              for (let k = 0; k < n; k += 4) v128.store(d + (<usize>k << 2), v128.load(s + (<usize>k << 2)));
            } else {
              copyRun(dst + (<usize>lo << 2), src + (<usize>(lo + off) << 2), n);
            }
          } else {
            for (let ow = lo; ow < hi; ow++) {
              store<f32>(dst + (<usize>ow << 2), load<f32>(src + (<usize>(ow * sW + off) << 2)));
            }
          }
          if (hi < outW) zeroRun(dst + (<usize>hi << 2), outW - hi);
        }
      }
    }
  }
}

/** The adjoint of im2col: adds every col entry onto the input position it came from (x planes accumulate). */
function col2im(col: usize, ldcol: i32, cg: i32, g: usize, x: usize): void {
  const inH = gi(g, G.inH), inW = gi(g, G.inW), kH = gi(g, G.kH), kW = gi(g, G.kW);
  const sH = gi(g, G.strideH), sW = gi(g, G.strideW), pT = gi(g, G.padTop), pL = gi(g, G.padLeft);
  const dH = gi(g, G.dilationH), dW = gi(g, G.dilationW), outH = gi(g, G.outH), outW = gi(g, G.outW);
  // no padding and stride 1: every run lands inside the input (as in im2col)
  const inside = sH == 1 && sW == 1 && pT == 0 && pL == 0 && outH + (kH - 1) * dH <= inH && outW + (kW - 1) * dW <= inW;
  const vecW = outW & ~3;
  for (let c = 0; c < cg; c++) {
    const plane = x + (<usize>(c * inH * inW) << 2);
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++) {
        const row = col + (<usize>(((c * kH + i) * kW + j) * ldcol) << 2);
        const off = j * dW - pL;
        if (inside) {
          let d = plane + (<usize>(i * dH * inW + off) << 2);
          let sp = row;
          for (let oh = 0; oh < outH; oh++) {
            let k = 0;
            for (; k < vecW; k += 4) {
              const o = <usize>k << 2;
              v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(sp + o)));
            }
            for (; k < outW; k++) {
              const o = <usize>k << 2;
              store<f32>(d + o, load<f32>(d + o) + load<f32>(sp + o));
            }
            d += <usize>inW << 2;
            sp += <usize>outW << 2;
          }
          continue;
        }
        const lo = firstInside(off, sW);
        const hi = endInside(off, sW, inW, outW);
        if (hi <= lo) continue;
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * sH - pT + i * dH;
          if (ih < 0 || ih >= inH) continue;
          const src = row + (<usize>(oh * outW) << 2);
          const dst = plane + (<usize>(ih * inW) << 2);
          if (sW == 1) {
            const d = dst + (<usize>(lo + off) << 2);
            const s = src + (<usize>lo << 2);
            const n = hi - lo;
            let k = 0;
            for (; k + 4 <= n; k += 4) {
              const o = <usize>k << 2;
              v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(s + o)));
            }
            for (; k < n; k++) {
              const o = <usize>k << 2;
              store<f32>(d + o, load<f32>(d + o) + load<f32>(s + o));
            }
          } else {
            for (let ow = lo; ow < hi; ow++) {
              const p = dst + (<usize>(ow * sW + off) << 2);
              store<f32>(p, load<f32>(p) + load<f32>(src + (<usize>ow << 2)));
            }
          }
        }
      }
    }
  }
}

/** Copies, for images i < cnt and channels o < ocg, the planes t[n0+i, c0+o] <-> buf[o, i*hw ..] (toBuf: gather into buf). */
function shuffleBatch(t: usize, buf: usize, n0: i32, cnt: i32, channels: i32, c0: i32, ocg: i32, hw: i32, toBuf: bool): void {
  const cols = cnt * hw;
  for (let i = 0; i < cnt; i++) {
    for (let o = 0; o < ocg; o++) {
      const tp = t + (<usize>(((n0 + i) * channels + c0 + o) * hw) << 2);
      const bp = buf + (<usize>(o * cols + i * hw) << 2);
      if (toBuf) copyRun(bp, tp, hw);
      else copyRun(tp, bp, hw);
    }
  }
}

/**
 * y[n] = conv(x[n], w) + bias for n in n0 .. n1-1 (bias 0 = none). Small
 * output planes are batched: the columns of several images side by side make
 * one wider GEMM, whose result is then scattered to the images.
 */
export function conv2d_forward(x: usize, w: usize, bias: usize, y: usize, g: usize, n0: i32, n1: i32, work: usize): void {
  const inC = gi(g, G.inC), inHW = gi(g, G.inH) * gi(g, G.inW), outC = gi(g, G.outC), groups = gi(g, G.groups);
  const outHW = gi(g, G.outH) * gi(g, G.outW);
  const cg = inC / groups, ocg = outC / groups;
  const kk = cg * gi(g, G.kH) * gi(g, G.kW);
  const pointwise = isPointwise(g);
  const nb = wideImages(g);
  const col = work;
  const buf = col + (<usize>(pointwise ? <i32>0 : align16(kk * nb * outHW)) << 2);
  const gemmWork = buf + (<usize>(nb > 1 ? align16(ocg * nb * outHW) : <i32>0) << 2);
  for (let nc = n0; nc < n1; nc += nb) {
    const cnt = imin(nb, n1 - nc);
    const cols = cnt * outHW;
    for (let gr = 0; gr < groups; gr++) {
      const wg = w + (<usize>(gr * ocg * kk) << 2);
      if (nb == 1) {
        const xg = x + (<usize>((nc * inC + gr * cg) * inHW) << 2);
        let b = xg;
        if (!pointwise) {
          im2col(xg, cg, g, col, outHW);
          b = col;
        }
        const yg = y + (<usize>((nc * outC + gr * ocg) * outHW) << 2);
        sgemm(false, false, ocg, outHW, kk, 1, wg, kk, b, outHW, 0, yg, outHW, 0, ocg, 0, outHW, gemmWork);
      } else {
        for (let i = 0; i < cnt; i++) {
          im2col(x + (<usize>(((nc + i) * inC + gr * cg) * inHW) << 2), cg, g, col + (<usize>(i * outHW) << 2), cols);
        }
        sgemm(false, false, ocg, cols, kk, 1, wg, kk, col, cols, 0, buf, cols, 0, ocg, 0, cols, gemmWork);
        shuffleBatch(y, buf, nc, cnt, outC, gr * ocg, ocg, outHW, false);
      }
    }
    if (bias) for (let i = 0; i < cnt; i++) addBias(y + (<usize>((nc + i) * outC * outHW) << 2), bias, outC, outHW);
  }
}

/** y[oc, p] += bias[oc] over outC planes of hw values. */
function addBias(y: usize, bias: usize, outC: i32, hw: i32): void {
  for (let oc = 0; oc < outC; oc++) {
    const b = load<f32>(bias + (<usize>oc << 2));
    const vb = f32x4.splat(b);
    const p = y + (<usize>(oc * hw) << 2);
    let k = 0;
    for (; k + 4 <= hw; k += 4) v128.store(p + (<usize>k << 2), f32x4.add(v128.load(p + (<usize>k << 2)), vb));
    for (; k < hw; k++) store<f32>(p + (<usize>k << 2), load<f32>(p + (<usize>k << 2)) + b);
  }
}

/** Width of a zero-padded input row of the direct kernels: whole 16-column blocks plus the kernel's reach. */
function directPadW(g: usize): i32 {
  return ((gi(g, G.outW) + 15) & ~15) + gi(g, G.kW) - 1;
}

/** Floats of scratch per thread for conv2d_forward_direct: the zero-padded channels of one group, two rows, the taps' offsets. */
export function directWorkFloats(g: usize): i32 {
  const cg = gi(g, G.inC) / gi(g, G.groups);
  const hp = gi(g, G.outH) + gi(g, G.kH) - 1;
  return cg * hp * directPadW(g) + 2 * ((gi(g, G.outW) + 15) & ~15) + cg * gi(g, G.kH) * gi(g, G.kW) + 16;
}

/**
 * Direct convolution for few input channels per group (LeNet's 1-channel
 * first layer, an RGB stem), stride 1 and no dilation. The group's channels
 * are copied into zero-padded planes (so no tap needs a bounds check), then
 * each output row is computed 16 columns at a time in four f32x4
 * accumulators over every tap (c, i, j) in the order of the GEMM path's
 * reduction, and the bias is added last, so both paths round alike.
 */
export function conv2d_forward_direct(x: usize, w: usize, bias: usize, y: usize, g: usize, n0: i32, n1: i32, work: usize): void {
  const inC = gi(g, G.inC), inH = gi(g, G.inH), inW = gi(g, G.inW), outC = gi(g, G.outC), groups = gi(g, G.groups);
  const kH = gi(g, G.kH), kW = gi(g, G.kW), pT = gi(g, G.padTop), pL = gi(g, G.padLeft);
  const outH = gi(g, G.outH), outW = gi(g, G.outW);
  const cg = inC / groups, ocg = outC / groups;
  const outHW = outH * outW;
  const hp = outH + kH - 1;
  const wp = directPadW(g);
  const planeP = hp * wp;
  const row = work + (<usize>(cg * planeP) << 2);
  const blocks = (outW + 15) >> 4;
  // the byte offset of every tap (c, i, j) in the padded planes, in the order of the weights: one
  // loop over the taps (nested loops over c, i, j paid an exit of the short j loop every kW taps)
  const taps = cg * kH * kW;
  const tapOff = row + (<usize>(2 * (blocks << 4)) << 2);
  for (let c = 0, t = 0; c < cg; c++) {
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++, t++) store<i32>(tapOff + (<usize>t << 2), (c * planeP + i * wp + j) << 2);
    }
  }
  const tapEnd = tapOff + (<usize>taps << 2);
  for (let n = n0; n < n1; n++) {
    for (let gr = 0; gr < groups; gr++) {
      padPlanes(x, g, n, gr, cg, hp, wp, work);
      // two output channels at a time share every load of the input
      let o = 0;
      for (; o + 2 <= ocg; o += 2) {
        const oc = gr * ocg + o;
        const wo = w + (<usize>(oc * cg * kH * kW) << 2);
        const wstep = <usize>(cg * kH * kW) << 2;
        const yp = y + (<usize>((n * outC + oc) * outHW) << 2);
        const vb = f32x4.splat(bias ? load<f32>(bias + (<usize>oc << 2)) : 0);
        const vb2 = f32x4.splat(bias ? load<f32>(bias + (<usize>(oc + 1) << 2)) : 0);
        const row2 = row + (<usize>(blocks << 4) << 2);
        for (let oh = 0; oh < outH; oh++) {
          for (let blk = 0; blk < blocks; blk++) {
            let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
            let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
            let wq = wo;
            const base = work + (<usize>(oh * wp + (blk << 4)) << 2);
            for (let tp = tapOff; tp < tapEnd; tp += 4) {
              const src = base + <usize>load<i32>(tp);
              const wv = v128.load32_splat(wq);
              const wv2 = v128.load32_splat(wq + wstep);
              const x0 = v128.load(src), x1 = v128.load(src, 16), x2 = v128.load(src, 32), x3 = v128.load(src, 48);
              a0 = madd(x0, wv, a0); a1 = madd(x1, wv, a1); a2 = madd(x2, wv, a2); a3 = madd(x3, wv, a3);
              b0 = madd(x0, wv2, b0); b1 = madd(x1, wv2, b1); b2 = madd(x2, wv2, b2); b3 = madd(x3, wv2, b3);
              wq += 4;
            }
            const d = row + (<usize>(blk << 4) << 2);
            v128.store(d, f32x4.add(a0, vb));
            v128.store(d, f32x4.add(a1, vb), 16);
            v128.store(d, f32x4.add(a2, vb), 32);
            v128.store(d, f32x4.add(a3, vb), 48);
            const d2 = row2 + (<usize>(blk << 4) << 2);
            v128.store(d2, f32x4.add(b0, vb2));
            v128.store(d2, f32x4.add(b1, vb2), 16);
            v128.store(d2, f32x4.add(b2, vb2), 32);
            v128.store(d2, f32x4.add(b3, vb2), 48);
          }
          copyRun(yp + (<usize>(oh * outW) << 2), row, outW);
          copyRun(yp + (<usize>(outHW + oh * outW) << 2), row2, outW);
        }
      }
      for (; o < ocg; o++) {
        const oc = gr * ocg + o;
        const wo = w + (<usize>(oc * cg * kH * kW) << 2);
        const yp = y + (<usize>((n * outC + oc) * outHW) << 2);
        const b: f32 = bias ? load<f32>(bias + (<usize>oc << 2)) : 0;
        const vb = f32x4.splat(b);
        for (let oh = 0; oh < outH; oh++) {
          for (let blk = 0; blk < blocks; blk++) {
            let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
            let wq = wo;
            const base = work + (<usize>(oh * wp + (blk << 4)) << 2);
            for (let tp = tapOff; tp < tapEnd; tp += 4) {
              const src = base + <usize>load<i32>(tp);
              const wv = v128.load32_splat(wq);
              a0 = madd(v128.load(src), wv, a0);
              a1 = madd(v128.load(src, 16), wv, a1);
              a2 = madd(v128.load(src, 32), wv, a2);
              a3 = madd(v128.load(src, 48), wv, a3);
              wq += 4;
            }
            const d = row + (<usize>(blk << 4) << 2);
            v128.store(d, f32x4.add(a0, vb));
            v128.store(d, f32x4.add(a1, vb), 16);
            v128.store(d, f32x4.add(a2, vb), 32);
            v128.store(d, f32x4.add(a3, vb), 48);
          }
          copyRun(yp + (<usize>(oh * outW) << 2), row, outW);
        }
      }
    }
  }
}

/** Copies the cg channels of image n, group gr into zero-padded planes at `pad` (hp rows of wp floats each). */
function padPlanes(x: usize, g: usize, n: i32, gr: i32, cg: i32, hp: i32, wp: i32, pad: usize): void {
  const inC = gi(g, G.inC), inH = gi(g, G.inH), inW = gi(g, G.inW), pT = gi(g, G.padTop), pL = gi(g, G.padLeft);
  const planeP = hp * wp;
  memory.fill(pad, 0, <usize>(cg * planeP) << 2);
  const r0 = imax(0, pT), r1 = imin(hp, inH + pT);
  const q0 = imax(0, pL), q1 = imin(wp, inW + pL);
  if (q1 <= q0) return;
  for (let c = 0; c < cg; c++) {
    const src = x + (<usize>((n * inC + gr * cg + c) * inH * inW) << 2);
    const dst = pad + (<usize>(c * planeP) << 2);
    for (let r = r0; r < r1; r++) {
      copyRun(dst + (<usize>(r * wp + q0) << 2), src + (<usize>((r - pT) * inW + q0 - pL) << 2), q1 - q0);
    }
  }
}

/**
 * dL/dw for few input channels per group (stride 1, no dilation), without
 * im2col: gw[o, c, i, j] = sum over n, oh, ow of gy[n, o, oh, ow] * xpad[n, c, oh + i, ow + j],
 * two output channels and up to five taps j per pass, so each load of x and of gy
 * feeds several multiply-adds. Same scratch as the direct forward.
 */
export function conv2d_backward_filter_direct(x: usize, gy: usize, gw: usize, g: usize, n0: i32, n1: i32, work: usize, accumulate: bool): void {
  const outC = gi(g, G.outC), groups = gi(g, G.groups), inC = gi(g, G.inC);
  const kH = gi(g, G.kH), kW = gi(g, G.kW), outH = gi(g, G.outH), outW = gi(g, G.outW);
  const cg = inC / groups, ocg = outC / groups;
  const outHW = outH * outW;
  const hp = outH + kH - 1;
  const wp = directPadW(g);
  const planeP = hp * wp;
  const taps = cg * kH * kW;
  if (!accumulate) memory.fill(gw, 0, <usize>(outC * taps) << 2);
  const vecW = outW & ~3;
  for (let n = n0; n < n1; n++) {
    for (let gr = 0; gr < groups; gr++) {
      padPlanes(x, g, n, gr, cg, hp, wp, work);
      // two output channels per pass share the loads of x; up to five taps j per pass
      for (let o = 0; o < ocg; o += 2) {
        const pair = o + 1 < ocg;
        const oc = gr * ocg + o;
        const gyp = gy + (<usize>((n * outC + oc) * outHW) << 2);
        const gyq = pair ? gyp + (<usize>outHW << 2) : gyp;
        const gwo = gw + (<usize>(oc * taps) << 2);
        for (let c = 0; c < cg; c++) {
          for (let i = 0; i < kH; i++) {
            for (let j0 = 0; j0 < kW; j0 += 5) {
              const nj = imin(5, kW - j0);
              let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0), a4 = f32x4.splat(0);
              let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0), b4 = f32x4.splat(0);
              for (let oh = 0; oh < outH; oh++) {
                const xr = work + (<usize>(c * planeP + (oh + i) * wp + j0) << 2);
                const go = <usize>(oh * outW) << 2;
                let ow = 0;
                for (; ow < vecW; ow += 4) {
                  const o4 = <usize>ow << 2;
                  const gv = v128.load(gyp + go + o4);
                  const gv2 = v128.load(gyq + go + o4);
                  const xp = xr + o4;
                  let xv = v128.load(xp);
                  a0 = madd(xv, gv, a0); b0 = madd(xv, gv2, b0);
                  if (nj > 1) { xv = v128.load(xp, 4); a1 = madd(xv, gv, a1); b1 = madd(xv, gv2, b1); }
                  if (nj > 2) { xv = v128.load(xp, 8); a2 = madd(xv, gv, a2); b2 = madd(xv, gv2, b2); }
                  if (nj > 3) { xv = v128.load(xp, 12); a3 = madd(xv, gv, a3); b3 = madd(xv, gv2, b3); }
                  if (nj > 4) { xv = v128.load(xp, 16); a4 = madd(xv, gv, a4); b4 = madd(xv, gv2, b4); }
                }
                // the tail columns, one at a time (lane 0 of the same accumulators)
                for (; ow < outW; ow++) {
                  const o4 = <usize>ow << 2;
                  const gv = f32x4.replace_lane(f32x4.splat(0), 0, load<f32>(gyp + go + o4));
                  const gv2 = f32x4.replace_lane(f32x4.splat(0), 0, load<f32>(gyq + go + o4));
                  const xp = xr + o4;
                  for (let t = 0; t < nj; t++) {
                    const xv = f32x4.replace_lane(f32x4.splat(0), 0, load<f32>(xp + (<usize>t << 2))); // other lanes 0 * 0
                    if (t == 0) { a0 = madd(xv, gv, a0); b0 = madd(xv, gv2, b0); }
                    else if (t == 1) { a1 = madd(xv, gv, a1); b1 = madd(xv, gv2, b1); }
                    else if (t == 2) { a2 = madd(xv, gv, a2); b2 = madd(xv, gv2, b2); }
                    else if (t == 3) { a3 = madd(xv, gv, a3); b3 = madd(xv, gv2, b3); }
                    else { a4 = madd(xv, gv, a4); b4 = madd(xv, gv2, b4); }
                  }
                }
              }
              const dst = gwo + (<usize>((c * kH + i) * kW + j0) << 2);
              addTaps(dst, nj, a0, a1, a2, a3, a4);
              if (pair) addTaps(dst + (<usize>taps << 2), nj, b0, b1, b2, b3, b4);
            }
          }
        }
      }
    }
  }
}

/** dst[t] += the lane sum of accumulator t, for t < nj (at most 5). */
// @ts-ignore: decorator
@inline function addTaps(dst: usize, nj: i32, a0: v128, a1: v128, a2: v128, a3: v128, a4: v128): void {
  store<f32>(dst, load<f32>(dst) + hsum(a0));
  if (nj > 1) store<f32>(dst, load<f32>(dst, 4) + hsum(a1), 4);
  if (nj > 2) store<f32>(dst, load<f32>(dst, 8) + hsum(a2), 8);
  if (nj > 3) store<f32>(dst, load<f32>(dst, 12) + hsum(a3), 12);
  if (nj > 4) store<f32>(dst, load<f32>(dst, 16) + hsum(a4), 16);
}

/** The sum of the four lanes. */
// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** gx[n] = dL/dx[n] for n in n0 .. n1-1 (overwritten); small planes batched as in conv2d_forward. */
export function conv2d_backward_input(gy: usize, w: usize, gx: usize, g: usize, n0: i32, n1: i32, work: usize): void {
  const inC = gi(g, G.inC), inHW = gi(g, G.inH) * gi(g, G.inW), outC = gi(g, G.outC), groups = gi(g, G.groups);
  const outHW = gi(g, G.outH) * gi(g, G.outW);
  const cg = inC / groups, ocg = outC / groups;
  const kk = cg * gi(g, G.kH) * gi(g, G.kW);
  const pointwise = isPointwise(g);
  const nb = wideImages(g);
  const col = work;
  const buf = col + (<usize>(pointwise ? <i32>0 : align16(kk * nb * outHW)) << 2);
  const gemmWork = buf + (<usize>(nb > 1 ? align16(ocg * nb * outHW) : <i32>0) << 2);
  for (let nc = n0; nc < n1; nc += nb) {
    const cnt = imin(nb, n1 - nc);
    const cols = cnt * outHW;
    const gxn = x_at(gx, nc * inC * inHW);
    if (!pointwise) memory.fill(gxn, 0, <usize>(cnt * inC * inHW) << 2);
    for (let gr = 0; gr < groups; gr++) {
      const wg = w + (<usize>(gr * ocg * kk) << 2);
      if (nb == 1) {
        const gyg = gy + (<usize>((nc * outC + gr * ocg) * outHW) << 2);
        const gxg = gxn + (<usize>(gr * cg * inHW) << 2);
        if (pointwise) {
          sgemm(true, false, kk, outHW, ocg, 1, wg, kk, gyg, outHW, 0, gxg, outHW, 0, kk, 0, outHW, gemmWork);
        } else {
          sgemm(true, false, kk, outHW, ocg, 1, wg, kk, gyg, outHW, 0, col, outHW, 0, kk, 0, outHW, gemmWork);
          col2im(col, outHW, cg, g, gxg);
        }
      } else {
        shuffleBatch(gy, buf, nc, cnt, outC, gr * ocg, ocg, outHW, true);
        sgemm(true, false, kk, cols, ocg, 1, wg, kk, buf, cols, 0, col, cols, 0, kk, 0, cols, gemmWork);
        for (let i = 0; i < cnt; i++) {
          col2im(col + (<usize>(i * outHW) << 2), cols, cg, g, gx + (<usize>(((nc + i) * inC + gr * cg) * inHW) << 2));
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline function x_at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/**
 * gw = sum over n in n0 .. n1-1 of dL/dw for image n; added onto gw when
 * `accumulate`, otherwise gw is overwritten. Small planes batched as in
 * conv2d_forward (the batch's columns make one longer reduction).
 */
export function conv2d_backward_filter(x: usize, gy: usize, gw: usize, g: usize, n0: i32, n1: i32, work: usize, accumulate: bool): void {
  const inC = gi(g, G.inC), inHW = gi(g, G.inH) * gi(g, G.inW), outC = gi(g, G.outC), groups = gi(g, G.groups);
  const outHW = gi(g, G.outH) * gi(g, G.outW);
  const cg = inC / groups, ocg = outC / groups;
  const kk = cg * gi(g, G.kH) * gi(g, G.kW);
  const pointwise = isPointwise(g);
  const nb = wideImages(g);
  const col = work;
  const buf = col + (<usize>(pointwise ? <i32>0 : align16(kk * nb * outHW)) << 2);
  const gemmWork = buf + (<usize>(nb > 1 ? align16(ocg * nb * outHW) : <i32>0) << 2);
  if (n1 <= n0) {
    if (!accumulate) memory.fill(gw, 0, <usize>(outC * kk) << 2);
    return;
  }
  for (let nc = n0; nc < n1; nc += nb) {
    const cnt = imin(nb, n1 - nc);
    const cols = cnt * outHW;
    const beta: f32 = nc == n0 && !accumulate ? 0 : 1;
    for (let gr = 0; gr < groups; gr++) {
      const gwg = gw + (<usize>(gr * ocg * kk) << 2);
      if (nb == 1) {
        const xg = x + (<usize>((nc * inC + gr * cg) * inHW) << 2);
        let b = xg;
        if (!pointwise) {
          im2col(xg, cg, g, col, outHW);
          b = col;
        }
        const gyg = gy + (<usize>((nc * outC + gr * ocg) * outHW) << 2);
        sgemm(false, true, ocg, kk, outHW, 1, gyg, outHW, b, outHW, beta, gwg, kk, 0, ocg, 0, kk, gemmWork);
      } else {
        for (let i = 0; i < cnt; i++) {
          im2col(x + (<usize>(((nc + i) * inC + gr * cg) * inHW) << 2), cg, g, col + (<usize>(i * outHW) << 2), cols);
        }
        shuffleBatch(gy, buf, nc, cnt, outC, gr * ocg, ocg, outHW, true);
        sgemm(false, true, ocg, kk, cols, 1, buf, cols, col, cols, beta, gwg, kk, 0, ocg, 0, kk, gemmWork);
      }
    }
  }
}

/** gb[oc] = sum over n, p of gy[n, oc, p] (sums of each plane in f32x4, accumulated in f64). */
export function conv2d_bias_grad(gy: usize, batch: i32, outC: i32, hw: i32, gb: usize): void {
  for (let oc = 0; oc < outC; oc++) {
    let total: f64 = 0;
    for (let n = 0; n < batch; n++) {
      const p = gy + (<usize>((n * outC + oc) * hw) << 2);
      let acc = f32x4.splat(0);
      let k = 0;
      for (; k + 4 <= hw; k += 4) acc = f32x4.add(acc, v128.load(p + (<usize>k << 2)));
      let s: f64 = <f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1) +
        <f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3);
      for (; k < hw; k++) s += <f64>load<f32>(p + (<usize>k << 2));
      total += s;
    }
    store<f32>(gb + (<usize>oc << 2), <f32>total);
  }
}

/** dst[i] += src[i] for i < n. */
export function add_into(dst: usize, src: usize, n: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const o = <usize>k << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; k < n; k++) {
    const o = <usize>k << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}
