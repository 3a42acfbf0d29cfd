/**
 * Max and average pooling of planes p0 .. p1-1 (same semantics as
 * src/backends/ref/pool.ts). Geometry block `g`: Pool2dGeometry of geometry.ts.
 */
import { Pool2dGeometry as G, gi } from './geometry';
import { imax, imin } from './simd';

/** 2x2 windows with stride 2, no padding or dilation, inside the input: the case of most CNNs (LeNet-5, VGG). */
function isSimple2x2(g: usize): bool {
  const inH = gi(g, G.inH), inW = gi(g, G.inW), outH = gi(g, G.outH), outW = gi(g, G.outW);
  return gi(g, G.kH) == 2 && gi(g, G.kW) == 2 && gi(g, G.strideH) == 2 && gi(g, G.strideW) == 2 &&
    gi(g, G.padTop) == 0 && gi(g, G.padLeft) == 0 && gi(g, G.dilationH) == 1 && gi(g, G.dilationW) == 1 && 2 * outH <= inH && 2 * outW <= inW;
}

/**
 * Max pooling; padding is -infinity. The first maximum wins ties; a NaN wins
 * (and ends the window), as in PyTorch. argmax gets the in-plane index of the
 * winner, -1 for a window that sees no input.
 */
export function maxpool2d_forward(x: usize, y: usize, argmax: usize, g: usize, p0: i32, p1: i32): void {
  const inH = gi(g, G.inH), inW = gi(g, G.inW), kH = gi(g, G.kH), kW = gi(g, G.kW), sH = gi(g, G.strideH), sW = gi(g, G.strideW);
  const pT = gi(g, G.padTop), pL = gi(g, G.padLeft), dH = gi(g, G.dilationH), dW = gi(g, G.dilationW), outH = gi(g, G.outH), outW = gi(g, G.outW);
  const inHW = inH * inW, outHW = outH * outW;
  const simple2x2 = isSimple2x2(g);
  for (let p = p0; p < p1; p++) {
    const xb = x + (<usize>(p * inHW) << 2);
    const yb = y + (<usize>(p * outHW) << 2);
    const ab = argmax + (<usize>(p * outHW) << 2);
    if (simple2x2 && outW >= 4) {
      maxpool2x2Plane(xb, yb, ab, inW, outH, outW);
      continue;
    }
    for (let oh = 0; oh < outH; oh++) {
      const h0 = oh * sH - pT;
      for (let ow = 0; ow < outW; ow++) {
        const w0 = ow * sW - pL;
        let best: f32 = -Infinity;
        let idx = -1;
        for (let i = 0; i < kH; i++) {
          const ih = h0 + i * dH;
          if (ih < 0 || ih >= inH) continue;
          for (let j = 0; j < kW; j++) {
            const iw = w0 + j * dW;
            if (iw < 0 || iw >= inW) continue;
            const v = load<f32>(xb + (<usize>(ih * inW + iw) << 2));
            if (v > best || v != v || idx < 0) {
              best = v;
              idx = ih * inW + iw;
              if (v != v) break;
            }
          }
          if (best != best) break;
        }
        store<f32>(yb + (<usize>(oh * outW + ow) << 2), best);
        store<i32>(ab + (<usize>(oh * outW + ow) << 2), idx);
      }
    }
  }
}

/**
 * One plane of the 2x2, stride-2 max pool without padding, four windows per
 * step. A candidate c replaces the best b when b == b && !(c <= b), i.e. when
 * c > b or c is NaN while b is not: the scalar rule (the first NaN wins).
 * The last step starts at outW - 4 and overlaps the one before (the same
 * windows give the same values), so there is no scalar tail; outW >= 4.
 */
function maxpool2x2Plane(xb: usize, yb: usize, ab: usize, inW: i32, outH: i32, outW: i32): void {
  const one = i32x4.splat(1);
  const down = i32x4.splat(inW);
  const downOne = i32x4.splat(inW + 1);
  for (let oh = 0; oh < outH; oh++) {
    const r0 = xb + (<usize>(2 * oh * inW) << 2);
    const r1 = r0 + (<usize>inW << 2);
    const yr = yb + (<usize>(oh * outW) << 2);
    const ar = ab + (<usize>(oh * outW) << 2);
    const rowBase = i32x4.add(i32x4.splat(2 * oh * inW), v128(0, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 6, 0, 0, 0));
    for (let ow = 0; ow < outW; ow += 4) {
      if (ow > outW - 4) ow = outW - 4;
      const c = <usize>(2 * ow) << 2;
      const u0 = v128.load(r0 + c), u1 = v128.load(r0 + c, 16);
      const l0 = v128.load(r1 + c), l1 = v128.load(r1 + c, 16);
      const idx = i32x4.add(rowBase, i32x4.splat(2 * ow));
      let best = v128.shuffle<f32>(u0, u1, 0, 2, 4, 6);
      let at = idx;
      let cand = v128.shuffle<f32>(u0, u1, 1, 3, 5, 7);
      let take = v128.andnot(f32x4.eq(best, best), f32x4.le(cand, best));
      best = v128.bitselect(cand, best, take);
      at = v128.bitselect(i32x4.add(idx, one), at, take);
      cand = v128.shuffle<f32>(l0, l1, 0, 2, 4, 6);
      take = v128.andnot(f32x4.eq(best, best), f32x4.le(cand, best));
      best = v128.bitselect(cand, best, take);
      at = v128.bitselect(i32x4.add(idx, down), at, take);
      cand = v128.shuffle<f32>(l0, l1, 1, 3, 5, 7);
      take = v128.andnot(f32x4.eq(best, best), f32x4.le(cand, best));
      best = v128.bitselect(cand, best, take);
      at = v128.bitselect(i32x4.add(idx, downOne), at, take);
      v128.store(yr + (<usize>ow << 2), best);
      v128.store(ar + (<usize>ow << 2), at);
    }
  }
}

/**
 * The backward of maxpool2x2Plane without a zero fill and a scatter: each
 * window writes all four of its inputs, gy where argmax points and +0
 * elsewhere ((gy & mask) + 0: NaN stays NaN), four windows per step with
 * the same overlapping last step. Rows and columns that no window covers
 * (an odd height or width) are zeroed. outW >= 4.
 */
function maxpool2x2BackwardPlane(gyb: usize, ab: usize, gxb: usize, inH: i32, inW: i32, outH: i32, outW: i32): void {
  const zero = f32x4.splat(0);
  const one = i32x4.splat(1);
  const down = i32x4.splat(inW);
  const downOne = i32x4.splat(inW + 1);
  for (let oh = 0; oh < outH; oh++) {
    const r0 = gxb + (<usize>(2 * oh * inW) << 2);
    const r1 = r0 + (<usize>inW << 2);
    const gr = gyb + (<usize>(oh * outW) << 2);
    const ar = ab + (<usize>(oh * outW) << 2);
    const rowBase = i32x4.add(i32x4.splat(2 * oh * inW), v128(0, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 6, 0, 0, 0));
    for (let ow = 0; ow < outW; ow += 4) {
      if (ow > outW - 4) ow = outW - 4;
      const a = v128.load(ar + (<usize>ow << 2));
      const g = v128.load(gr + (<usize>ow << 2));
      const idx = i32x4.add(rowBase, i32x4.splat(2 * ow));
      // + 0 as the scatter's 0 + gy: a -0 gradient lands as +0, like ref and PyTorch
      const tl = f32x4.add(v128.and(g, i32x4.eq(a, idx)), zero);
      const tr = f32x4.add(v128.and(g, i32x4.eq(a, i32x4.add(idx, one))), zero);
      const bl = f32x4.add(v128.and(g, i32x4.eq(a, i32x4.add(idx, down))), zero);
      const br = f32x4.add(v128.and(g, i32x4.eq(a, i32x4.add(idx, downOne))), zero);
      const c = <usize>(2 * ow) << 2;
      v128.store(r0 + c, v128.shuffle<f32>(tl, tr, 0, 4, 1, 5));
      v128.store(r0 + c, v128.shuffle<f32>(tl, tr, 2, 6, 3, 7), 16);
      v128.store(r1 + c, v128.shuffle<f32>(bl, br, 0, 4, 1, 5));
      v128.store(r1 + c, v128.shuffle<f32>(bl, br, 2, 6, 3, 7), 16);
    }
    if (2 * outW < inW) {
      for (let w = 2 * outW; w < inW; w++) {
        store<f32>(r0 + (<usize>w << 2), 0);
        store<f32>(r1 + (<usize>w << 2), 0);
      }
    }
  }
  if (2 * outH < inH) memory.fill(gxb + (<usize>(2 * outH * inW) << 2), 0, <usize>((inH - 2 * outH) * inW) << 2);
}

/** gx = 0, then gx[winner] += gy for every window (planes p0 .. p1-1). */
export function maxpool2d_backward(gy: usize, argmax: usize, gx: usize, g: usize, p0: i32, p1: i32): void {
  const inH = gi(g, G.inH), inW = gi(g, G.inW), outH = gi(g, G.outH), outW = gi(g, G.outW);
  const inHW = inH * inW, outHW = outH * outW;
  if (isSimple2x2(g) && outW >= 4) {
    for (let p = p0; p < p1; p++) {
      maxpool2x2BackwardPlane(gy + (<usize>(p * outHW) << 2), argmax + (<usize>(p * outHW) << 2), gx + (<usize>(p * inHW) << 2), inH, inW, outH, outW);
    }
    return;
  }
  memory.fill(gx + (<usize>(p0 * inHW) << 2), 0, <usize>((p1 - p0) * inHW) << 2);
  for (let p = p0; p < p1; p++) {
    const xb = gx + (<usize>(p * inHW) << 2);
    const yb = gy + (<usize>(p * outHW) << 2);
    const ab = argmax + (<usize>(p * outHW) << 2);
    for (let o = 0; o < outHW; o++) {
      const idx = load<i32>(ab + (<usize>o << 2));
      if (idx >= 0) {
        const q = xb + (<usize>idx << 2);
        store<f32>(q, load<f32>(q) + load<f32>(yb + (<usize>o << 2)));
      }
    }
  }
}

/**
 * Average pooling. Each window is clipped first to the padded input (its size
 * then is the countIncludePad divisor), then to the input.
 */
export function avgpool2d_forward(x: usize, y: usize, g: usize, countIncludePad: bool, p0: i32, p1: i32): void {
  const inH = gi(g, G.inH), inW = gi(g, G.inW), kH = gi(g, G.kH), kW = gi(g, G.kW), sH = gi(g, G.strideH), sW = gi(g, G.strideW);
  const pT = gi(g, G.padTop), pL = gi(g, G.padLeft), outH = gi(g, G.outH), outW = gi(g, G.outW);
  const inHW = inH * inW, outHW = outH * outW;
  for (let p = p0; p < p1; p++) {
    const xb = x + (<usize>(p * inHW) << 2);
    const yb = y + (<usize>(p * outHW) << 2);
    for (let oh = 0; oh < outH; oh++) {
      let h0 = oh * sH - pT;
      let h1 = imin(h0 + kH, inH + pT);
      const ph = h1 - h0;
      h0 = imax(h0, 0);
      h1 = imin(h1, inH);
      for (let ow = 0; ow < outW; ow++) {
        let w0 = ow * sW - pL;
        let w1 = imin(w0 + kW, inW + pL);
        const padded = ph * (w1 - w0);
        w0 = imax(w0, 0);
        w1 = imin(w1, inW);
        const divisor = countIncludePad ? padded : (h1 - h0) * (w1 - w0);
        let s: f64 = 0;
        for (let ih = h0; ih < h1; ih++) {
          const r = xb + (<usize>(ih * inW) << 2);
          for (let iw = w0; iw < w1; iw++) s += <f64>load<f32>(r + (<usize>iw << 2));
        }
        store<f32>(yb + (<usize>(oh * outW + ow) << 2), divisor > 0 ? <f32>(s / <f64>divisor) : 0);
      }
    }
  }
}

/** gx = 0, then gy / divisor spread over each window. */
export function avgpool2d_backward(gy: usize, gx: usize, g: usize, countIncludePad: bool, p0: i32, p1: i32): void {
  const inH = gi(g, G.inH), inW = gi(g, G.inW), kH = gi(g, G.kH), kW = gi(g, G.kW), sH = gi(g, G.strideH), sW = gi(g, G.strideW);
  const pT = gi(g, G.padTop), pL = gi(g, G.padLeft), outH = gi(g, G.outH), outW = gi(g, G.outW);
  const inHW = inH * inW, outHW = outH * outW;
  memory.fill(gx + (<usize>(p0 * inHW) << 2), 0, <usize>((p1 - p0) * inHW) << 2);
  for (let p = p0; p < p1; p++) {
    const xb = gx + (<usize>(p * inHW) << 2);
    const yb = gy + (<usize>(p * outHW) << 2);
    for (let oh = 0; oh < outH; oh++) {
      let h0 = oh * sH - pT;
      let h1 = imin(h0 + kH, inH + pT);
      const ph = h1 - h0;
      h0 = imax(h0, 0);
      h1 = imin(h1, inH);
      for (let ow = 0; ow < outW; ow++) {
        let w0 = ow * sW - pL;
        let w1 = imin(w0 + kW, inW + pL);
        const padded = ph * (w1 - w0);
        w0 = imax(w0, 0);
        w1 = imin(w1, inW);
        const divisor = countIncludePad ? padded : (h1 - h0) * (w1 - w0);
        if (divisor <= 0) continue;
        const share = <f32>(<f64>load<f32>(yb + (<usize>(oh * outW + ow) << 2)) / <f64>divisor);
        for (let ih = h0; ih < h1; ih++) {
          const r = xb + (<usize>(ih * inW) << 2);
          for (let iw = w0; iw < w1; iw++) {
            const q = r + (<usize>iw << 2);
            store<f32>(q, load<f32>(q) + share);
          }
        }
      }
    }
  }
}

/**
 * y[p] = mean of plane p (global average pooling), summed in f64: four f64x2
 * partial sums over the plane, then the scalar tail.
 */
export function plane_mean(x: usize, y: usize, hw: i32, p0: i32, p1: i32): void {
  for (let p = p0; p < p1; p++) {
    const b = x + (<usize>(p * hw) << 2);
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
    let k = 0;
    for (; k + 8 <= hw; k += 8) {
      const v = v128.load(b + (<usize>k << 2)), w = v128.load(b + (<usize>k << 2), 16);
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
      a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
      a2 = f64x2.add(a2, f64x2.promote_low_f32x4(w));
      a3 = f64x2.add(a3, f64x2.promote_low_f32x4(v128.shuffle<f32>(w, w, 2, 3, 0, 1)));
    }
    const t = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
    let s: f64 = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
    for (; k < hw; k++) s += <f64>load<f32>(b + (<usize>k << 2));
    store<f32>(y + (<usize>p << 2), <f32>(s / <f64>hw));
  }
}

/** gx[p, k] = gy[p] / hw: the adjoint of plane_mean. */
export function plane_mean_backward(gy: usize, gx: usize, hw: i32, p0: i32, p1: i32): void {
  for (let p = p0; p < p1; p++) {
    const v = <f32>(<f64>load<f32>(gy + (<usize>p << 2)) / <f64>hw);
    const vv = f32x4.splat(v);
    const b = gx + (<usize>(p * hw) << 2);
    let k = 0;
    for (; k + 4 <= hw; k += 4) v128.store(b + (<usize>k << 2), vv);
    for (; k < hw; k++) store<f32>(b + (<usize>k << 2), v);
  }
}
