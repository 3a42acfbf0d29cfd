/**
 * 3x3 convolution, stride 1, by Winograd's minimal filtering F(2x2, 3x3)
 * (Lavin & Gray, 2015): each 2x2 block of outputs (a tile) comes from the 4x4
 * input patch d under it as
 *   Y = A^T [ (G g G^T) .* (B^T d B) ] A
 * so per tile and channel pair it takes 16 multiplications instead of 36. The
 * 16 element-wise products, summed over input channels, are 16 GEMMs:
 *   M_t[oc, tile] = sum_c U_t[oc, c] V_t[c, tile],  t = 0..15,
 * with U = G g G^T (the filter transform, once per call) and V = B^T d B (the
 * input transform). Matrices (rows listed):
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1]
 * The transforms work on four horizontally adjacent tiles at once (f32x4).
 * Geometry block `g`: Conv2dGeometry of geometry.ts (kH = kW = 3, stride 1, dilation 1, groups 1).
 */
import { sgemm, WORK_FLOATS } from './gemm';
import { Conv2dGeometry as G, gi } from './geometry';
import { imax, imin } from './simd';

/** Tiles per image and the images batched into one set of GEMMs (about 512 tiles). */
// @ts-ignore: decorator
@inline function tilesOf(g: usize): i32 {
  return ((gi(g, G.outH) + 1) >> 1) * ((gi(g, G.outW) + 1) >> 1);
}

function imagesPerGemm(g: usize): i32 {
  return imax(1, 512 / tilesOf(g));
}

/** Width of a zero-padded input row: four-tile groups (8 columns each) plus the patch overlap and the loads' reach. */
// @ts-ignore: decorator
@inline function padWidth(g: usize): i32 {
  const tw = (gi(g, G.outW) + 1) >> 1;
  return 2 * ((tw + 3) & ~3) + 4;
}

// @ts-ignore: decorator
@inline function align16(n: i32): i32 {
  return (n + 15) & ~15;
}

/** Floats of scratch per thread: V and M for a batch of images, a padded input plane, an output plane, GEMM packing. */
export function winogradWorkFloats(g: usize): i32 {
  const nb = imagesPerGemm(g);
  const t = tilesOf(g) * nb;
  const inC = gi(g, G.inC), outC = gi(g, G.outC);
  const th = (gi(g, G.outH) + 1) >> 1;
  const wp = padWidth(g);
  const plane = (2 * th + 2) * wp;
  const outPlane = 2 * th * (wp - 4);
  return align16(16 * inC * t) + align16(16 * outC * t) + align16(plane) + align16(outPlane) + WORK_FLOATS;
}

/**
 * U[t][r][s] = (G g G^T)[t] for every filter: with `flip` false, g = w[r, s]
 * (r = output channel, s = input channel: the forward convolution); with
 * `flip` true, g = w[s, r] rotated by 180 degrees (r = input channel: the
 * gradient to the input, a convolution of dL/dy with the flipped filters).
 */
export function winograd_filter(w: usize, U: usize, outC: i32, inC: i32, flip: bool): void {
  const rows = flip ? inC : outC;
  const cols = flip ? outC : inC;
  const plane = <usize>(rows * cols) << 2;
  for (let r = 0; r < rows; r++) {
    for (let s = 0; s < cols; s++) {
      const src = w + (<usize>((flip ? s * inC + r : r * inC + s) * 9) << 2);
      // g[i][j], flipped: g[i][j] = w[2 - i][2 - j]
      let g00: f32, g01: f32, g02: f32, g10: f32, g11: f32, g12: f32, g20: f32, g21: f32, g22: f32;
      if (flip) {
        g00 = load<f32>(src, 32); g01 = load<f32>(src, 28); g02 = load<f32>(src, 24);
        g10 = load<f32>(src, 20); g11 = load<f32>(src, 16); g12 = load<f32>(src, 12);
        g20 = load<f32>(src, 8); g21 = load<f32>(src, 4); g22 = load<f32>(src);
      } else {
        g00 = load<f32>(src); g01 = load<f32>(src, 4); g02 = load<f32>(src, 8);
        g10 = load<f32>(src, 12); g11 = load<f32>(src, 16); g12 = load<f32>(src, 20);
        g20 = load<f32>(src, 24); g21 = load<f32>(src, 28); g22 = load<f32>(src, 32);
      }
      // Gg: 4 rows of 3
      const a0 = g00, a1 = g01, a2 = g02;
      const b0 = (g00 + g10 + g20) * 0.5, b1 = (g01 + g11 + g21) * 0.5, b2 = (g02 + g12 + g22) * 0.5;
      const c0 = (g00 - g10 + g20) * 0.5, c1 = (g01 - g11 + g21) * 0.5, c2 = (g02 - g12 + g22) * 0.5;
      const d0 = g20, d1 = g21, d2 = g22;
      const dst = U + (<usize>(r * cols + s) << 2);
      // (Gg) G^T: each row [p, q, r] -> [p, (p+q+r)/2, (p-q+r)/2, r]
      store<f32>(dst, a0); store<f32>(dst + plane, (a0 + a1 + a2) * 0.5); store<f32>(dst + 2 * plane, (a0 - a1 + a2) * 0.5); store<f32>(dst + 3 * plane, a2);
      store<f32>(dst + 4 * plane, b0); store<f32>(dst + 5 * plane, (b0 + b1 + b2) * 0.5); store<f32>(dst + 6 * plane, (b0 - b1 + b2) * 0.5); store<f32>(dst + 7 * plane, b2);
      store<f32>(dst + 8 * plane, c0); store<f32>(dst + 9 * plane, (c0 + c1 + c2) * 0.5); store<f32>(dst + 10 * plane, (c0 - c1 + c2) * 0.5); store<f32>(dst + 11 * plane, c2);
      store<f32>(dst + 12 * plane, d0); store<f32>(dst + 13 * plane, (d0 + d1 + d2) * 0.5); store<f32>(dst + 14 * plane, (d0 - d1 + d2) * 0.5); store<f32>(dst + 15 * plane, d2);
    }
  }
}

/** Stores the first `n` (1..4) lanes of v at p. */
// @ts-ignore: decorator
@inline function storeLanes(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** Row r of four patches (columns 2x, 2x+1, 2x+2, 2x+3 of each) times B: [c0 - c2, c1 + c2, c2 - c1, c1 - c3]. */
// @ts-ignore: decorator
@inline function rowB(p: usize, out: usize): void {
  const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32);
  const c0 = v128.shuffle<f32>(v0, v1, 0, 2, 4, 6);
  const c1 = v128.shuffle<f32>(v0, v1, 1, 3, 5, 7);
  const c2 = v128.shuffle<f32>(v0, v128.shuffle<f32>(v1, v2, 0, 2, 4, 6), 2, 4, 5, 6);
  const c3 = v128.shuffle<f32>(v0, v128.shuffle<f32>(v1, v2, 1, 3, 5, 7), 3, 4, 5, 6);
  v128.store(out, f32x4.sub(c0, c2));
  v128.store(out, f32x4.add(c1, c2), 16);
  v128.store(out, f32x4.sub(c2, c1), 32);
  v128.store(out, f32x4.sub(c1, c3), 48);
}

/**
 * V_t[tile] = (B^T d B)[t] for every tile of one zero-padded input plane (rows
 * of wp floats; the patch of tile (ty, tx) starts at row 2ty, column 2tx).
 * `out` points at V_0's entry of this plane's first tile; V_t planes are
 * `ts` floats apart. `tmp` holds 16 f32x4 (the patch rows times B).
 */
function inputTransform(pad: usize, wp: i32, th: i32, tw: i32, out: usize, ts: i32, tmp: usize): void {
  const step = <usize>ts << 2;
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx += 4) {
      const n = imin(4, tw - tx);
      const p = pad + (<usize>(2 * ty * wp + 2 * tx) << 2);
      const row = <usize>wp << 2;
      rowB(p, tmp);
      rowB(p + row, tmp + 64);
      rowB(p + 2 * row, tmp + 128);
      rowB(p + 3 * row, tmp + 192);
      const o = out + (<usize>(ty * tw + tx) << 2);
      for (let j = 0; j < 4; j++) {
        const q = tmp + (<usize>j << 4);
        const r0 = v128.load(q), r1 = v128.load(q, 64), r2 = v128.load(q, 128), r3 = v128.load(q, 192);
        // B^T down the columns: [R0 - R2, R1 + R2, R2 - R1, R1 - R3]
        storeLanes(o + <usize>j * step, f32x4.sub(r0, r2), n);
        storeLanes(o + <usize>(4 + j) * step, f32x4.add(r1, r2), n);
        storeLanes(o + <usize>(8 + j) * step, f32x4.sub(r2, r1), n);
        storeLanes(o + <usize>(12 + j) * step, f32x4.sub(r1, r3), n);
      }
    }
  }
}

/**
 * The 2x2 outputs of every tile of one output plane, Y = A^T M A + bias, into
 * `ob` (rows of obw floats, 2 th rows). `m` points at M_0's entry of this
 * plane's first tile; M_t planes are `ts` floats apart. Lanes past the last
 * tile of a row compute garbage into columns past 2 tw, which are never copied.
 */
function outputTransform(m: usize, ts: i32, th: i32, tw: i32, ob: usize, obw: i32, bias: f32): void {
  const step = <usize>ts << 2;
  const vb = f32x4.splat(bias);
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx += 4) {
      const o = m + (<usize>(ty * tw + tx) << 2);
      // A^T down the columns: q0j = m0j + m1j + m2j, q1j = m1j - m2j - m3j
      let q00: v128, q01: v128, q02: v128, q03: v128, q10: v128, q11: v128, q12: v128, q13: v128;
      {
        const a = v128.load(o), b = v128.load(o + 4 * step), c = v128.load(o + 8 * step), d = v128.load(o + 12 * step);
        q00 = f32x4.add(f32x4.add(a, b), c); q10 = f32x4.sub(f32x4.sub(b, c), d);
      }
      {
        const a = v128.load(o + step), b = v128.load(o + 5 * step), c = v128.load(o + 9 * step), d = v128.load(o + 13 * step);
        q01 = f32x4.add(f32x4.add(a, b), c); q11 = f32x4.sub(f32x4.sub(b, c), d);
      }
      {
        const a = v128.load(o + 2 * step), b = v128.load(o + 6 * step), c = v128.load(o + 10 * step), d = v128.load(o + 14 * step);
        q02 = f32x4.add(f32x4.add(a, b), c); q12 = f32x4.sub(f32x4.sub(b, c), d);
      }
      {
        const a = v128.load(o + 3 * step), b = v128.load(o + 7 * step), c = v128.load(o + 11 * step), d = v128.load(o + 15 * step);
        q03 = f32x4.add(f32x4.add(a, b), c); q13 = f32x4.sub(f32x4.sub(b, c), d);
      }
      // then along the rows: y_i0 = q_i0 + q_i1 + q_i2, y_i1 = q_i1 - q_i2 - q_i3
      const y00 = f32x4.add(f32x4.add(f32x4.add(q00, q01), q02), vb);
      const y01 = f32x4.add(f32x4.sub(f32x4.sub(q01, q02), q03), vb);
      const y10 = f32x4.add(f32x4.add(f32x4.add(q10, q11), q12), vb);
      const y11 = f32x4.add(f32x4.sub(f32x4.sub(q11, q12), q13), vb);
      const r0 = ob + (<usize>(2 * ty * obw + 2 * tx) << 2);
      const r1 = r0 + (<usize>obw << 2);
      v128.store(r0, v128.shuffle<f32>(y00, y01, 0, 4, 1, 5));
      v128.store(r0, v128.shuffle<f32>(y00, y01, 2, 6, 3, 7), 16);
      v128.store(r1, v128.shuffle<f32>(y10, y11, 0, 4, 1, 5));
      v128.store(r1, v128.shuffle<f32>(y10, y11, 2, 6, 3, 7), 16);
    }
  }
}

/**
 * y[n] = conv3x3(x[n]) + bias for n in n0 .. n1-1, from the transformed
 * filters U (winograd_filter). Geometry g as in conv.ts; any zero padding of
 * at most 2 on the top and left (the bottom and right follow from outH, outW).
 */
export function conv2d_winograd(x: usize, U: usize, bias: usize, y: usize, g: usize, n0: i32, n1: i32, work: usize): void {
  const inC = gi(g, G.inC), inH = gi(g, G.inH), inW = gi(g, G.inW), outC = gi(g, G.outC);
  const pT = gi(g, G.padTop), pL = gi(g, G.padLeft), outH = gi(g, G.outH), outW = gi(g, G.outW);
  const th = (outH + 1) >> 1, tw = (outW + 1) >> 1, T = th * tw;
  const nb = imagesPerGemm(g);
  const wp = padWidth(g);
  const hp = 2 * th + 2;
  const obw = wp - 4;
  const V = work;
  const M = V + (<usize>align16(16 * inC * nb * T) << 2);
  const pad = M + (<usize>align16(16 * outC * nb * T) << 2);
  const ob = pad + (<usize>align16(hp * wp) << 2);
  const gemmWork = ob + (<usize>align16(2 * th * obw) << 2);
  const tmp = gemmWork; // 64 floats, free until the GEMMs run
  const r0 = imax(0, pT), r1 = imin(hp, inH + pT);
  const q0 = imax(0, pL), q1 = imin(wp, inW + pL);
  for (let nc = n0; nc < n1; nc += nb) {
    const cnt = imin(nb, n1 - nc);
    const tt = cnt * T;
    for (let i = 0; i < cnt; i++) {
      for (let c = 0; c < inC; c++) {
        memory.fill(pad, 0, <usize>(hp * wp) << 2);
        const src = x + (<usize>(((nc + i) * inC + c) * inH * inW) << 2);
        if (q1 > q0) {
          for (let r = r0; r < r1; r++) {
            memory.copy(pad + (<usize>(r * wp + q0) << 2), src + (<usize>((r - pT) * inW + q0 - pL) << 2), <usize>(q1 - q0) << 2);
          }
        }
        inputTransform(pad, wp, th, tw, V + (<usize>(c * tt + i * T) << 2), inC * tt, tmp);
      }
    }
    for (let t = 0; t < 16; t++) {
      sgemm(false, false, outC, tt, inC, 1, U + (<usize>(t * outC * inC) << 2), inC, V + (<usize>(t * inC * tt) << 2), tt,
        0, M + (<usize>(t * outC * tt) << 2), tt, 0, outC, 0, tt, gemmWork);
    }
    for (let i = 0; i < cnt; i++) {
      for (let oc = 0; oc < outC; oc++) {
        const b: f32 = bias ? load<f32>(bias + (<usize>oc << 2)) : 0;
        outputTransform(M + (<usize>(oc * tt + i * T) << 2), outC * tt, th, tw, ob, obw, b);
        const dst = y + (<usize>(((nc + i) * outC + oc) * outH * outW) << 2);
        for (let r = 0; r < outH; r++) memory.copy(dst + (<usize>(r * outW) << 2), ob + (<usize>(r * obw) << 2), <usize>outW << 2);
      }
    }
  }
}

/**
 * The filter gradient by Winograd's F(3x3, 2x2): for one 2x2 tile g of dL/dy
 * and the 4x4 patch d of x under it, the tile's contribution to the 3x3
 * gradient is A'^T [ (G' g G'^T) .* (B'^T d B') ] A' with
 *   B'^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 -1 0 1]
 *   G'   = [1 0; 1/2 1/2; 1/2 -1/2; 0 1]
 *   A'^T = [1 1 1 0; 0 1 -1 0; 0 1 1 1]
 * (1-D: y_i = sum_k g_k d_(i+k) for i < 3, k < 2). Summed over tiles and
 * images, the 16 products are 16 GEMMs with the tiles as the reduction:
 *   M_t[oc, c] = sum_tiles Gy_t[oc, tile] X_t[c, tile].
 */

/** Row r of four patches times B': [c0 - c2, c1 + c2, c2 - c1, c3 - c1]. */
// @ts-ignore: decorator
@inline function rowB2(p: usize, out: usize): void {
  const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32);
  const c0 = v128.shuffle<f32>(v0, v1, 0, 2, 4, 6);
  const c1 = v128.shuffle<f32>(v0, v1, 1, 3, 5, 7);
  const c2 = v128.shuffle<f32>(v0, v128.shuffle<f32>(v1, v2, 0, 2, 4, 6), 2, 4, 5, 6);
  const c3 = v128.shuffle<f32>(v0, v128.shuffle<f32>(v1, v2, 1, 3, 5, 7), 3, 4, 5, 6);
  v128.store(out, f32x4.sub(c0, c2));
  v128.store(out, f32x4.add(c1, c2), 16);
  v128.store(out, f32x4.sub(c2, c1), 32);
  v128.store(out, f32x4.sub(c3, c1), 48);
}

/** X_t[tile] = (B'^T d B')[t] for every tile of one zero-padded x plane (as inputTransform). */
function inputTransform2(pad: usize, wp: i32, th: i32, tw: i32, out: usize, ts: i32, tmp: usize): void {
  const step = <usize>ts << 2;
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx += 4) {
      const n = imin(4, tw - tx);
      const p = pad + (<usize>(2 * ty * wp + 2 * tx) << 2);
      const row = <usize>wp << 2;
      rowB2(p, tmp);
      rowB2(p + row, tmp + 64);
      rowB2(p + 2 * row, tmp + 128);
      rowB2(p + 3 * row, tmp + 192);
      const o = out + (<usize>(ty * tw + tx) << 2);
      for (let j = 0; j < 4; j++) {
        const q = tmp + (<usize>j << 4);
        const r0 = v128.load(q), r1 = v128.load(q, 64), r2 = v128.load(q, 128), r3 = v128.load(q, 192);
        storeLanes(o + <usize>j * step, f32x4.sub(r0, r2), n);
        storeLanes(o + <usize>(4 + j) * step, f32x4.add(r1, r2), n);
        storeLanes(o + <usize>(8 + j) * step, f32x4.sub(r2, r1), n);
        storeLanes(o + <usize>(12 + j) * step, f32x4.sub(r3, r1), n);
      }
    }
  }
}

/**
 * Gy_t[tile] = (G' g G'^T)[t] for every 2x2 tile of one zero-padded dL/dy
 * plane (rows of wg floats): rows [g0; (g0+g1)/2; (g0-g1)/2; g1], then each
 * row [p, q] -> [p, (p+q)/2, (p-q)/2, q].
 */
function gradTransform(pad: usize, wg: i32, th: i32, tw: i32, out: usize, ts: i32): void {
  const step = <usize>ts << 2;
  const half = f32x4.splat(0.5);
  for (let ty = 0; ty < th; ty++) {
    for (let tx = 0; tx < tw; tx += 4) {
      const n = imin(4, tw - tx);
      const p = pad + (<usize>(2 * ty * wg + 2 * tx) << 2);
      const u0 = v128.load(p), u1 = v128.load(p, 16);
      const l0 = v128.load(p + (<usize>wg << 2)), l1 = v128.load(p + (<usize>wg << 2), 16);
      const a0 = v128.shuffle<f32>(u0, u1, 0, 2, 4, 6), a1 = v128.shuffle<f32>(u0, u1, 1, 3, 5, 7); // g00, g01
      const b0 = v128.shuffle<f32>(l0, l1, 0, 2, 4, 6), b1 = v128.shuffle<f32>(l0, l1, 1, 3, 5, 7); // g10, g11
      // G' g: rows r0 = g0, r1 = (g0 + g1) / 2, r2 = (g0 - g1) / 2, r3 = g1 (g0, g1 the rows of g)
      const r10 = f32x4.mul(f32x4.add(a0, b0), half), r11 = f32x4.mul(f32x4.add(a1, b1), half);
      const r20 = f32x4.mul(f32x4.sub(a0, b0), half), r21 = f32x4.mul(f32x4.sub(a1, b1), half);
      const o = out + (<usize>(ty * tw + tx) << 2);
      // each row [p, q] -> [p, (p + q) / 2, (p - q) / 2, q]
      storeLanes(o, a0, n);
      storeLanes(o + step, f32x4.mul(f32x4.add(a0, a1), half), n);
      storeLanes(o + 2 * step, f32x4.mul(f32x4.sub(a0, a1), half), n);
      storeLanes(o + 3 * step, a1, n);
      storeLanes(o + 4 * step, r10, n);
      storeLanes(o + 5 * step, f32x4.mul(f32x4.add(r10, r11), half), n);
      storeLanes(o + 6 * step, f32x4.mul(f32x4.sub(r10, r11), half), n);
      storeLanes(o + 7 * step, r11, n);
      storeLanes(o + 8 * step, r20, n);
      storeLanes(o + 9 * step, f32x4.mul(f32x4.add(r20, r21), half), n);
      storeLanes(o + 10 * step, f32x4.mul(f32x4.sub(r20, r21), half), n);
      storeLanes(o + 11 * step, r21, n);
      storeLanes(o + 12 * step, b0, n);
      storeLanes(o + 13 * step, f32x4.mul(f32x4.add(b0, b1), half), n);
      storeLanes(o + 14 * step, f32x4.mul(f32x4.sub(b0, b1), half), n);
      storeLanes(o + 15 * step, b1, n);
    }
  }
}

/** Floats of scratch per thread for conv2d_winograd_filter. */
export function winogradFilterWorkFloats(g: usize): i32 {
  const nb = imagesPerGemm(g);
  const t = tilesOf(g) * nb;
  const inC = gi(g, G.inC), outC = gi(g, G.outC);
  const th = (gi(g, G.outH) + 1) >> 1;
  const wp = padWidth(g);
  return align16(16 * inC * t) + align16(16 * outC * t) + align16(16 * outC * inC) + align16((2 * th + 2) * wp) + WORK_FLOATS;
}

/**
 * gw = sum over n in n0 .. n1-1 of dL/dw for image n (overwritten, or added
 * onto gw when `accumulate`), for a 3x3 stride-1 convolution, by F(3x3, 2x2).
 */
export function conv2d_winograd_filter(x: usize, gy: usize, gw: usize, g: usize, n0: i32, n1: i32, work: usize, accumulate: bool): void {
  const inC = gi(g, G.inC), inH = gi(g, G.inH), inW = gi(g, G.inW), outC = gi(g, G.outC);
  const pT = gi(g, G.padTop), pL = gi(g, G.padLeft), outH = gi(g, G.outH), outW = gi(g, G.outW);
  const th = (outH + 1) >> 1, tw = (outW + 1) >> 1, T = th * tw;
  const nb = imagesPerGemm(g);
  const wp = padWidth(g);
  const hp = 2 * th + 2;
  const X = work;
  const Gy = X + (<usize>align16(16 * inC * nb * T) << 2);
  const M = Gy + (<usize>align16(16 * outC * nb * T) << 2);
  const pad = M + (<usize>align16(16 * outC * inC) << 2);
  const gemmWork = pad + (<usize>align16(hp * wp) << 2);
  const tmp = gemmWork;
  const r0 = imax(0, pT), r1 = imin(hp, inH + pT);
  const q0 = imax(0, pL), q1 = imin(wp, inW + pL);
  let first = true;
  for (let nc = n0; nc < n1; nc += nb) {
    const cnt = imin(nb, n1 - nc);
    const tt = cnt * T;
    for (let i = 0; i < cnt; i++) {
      for (let c = 0; c < inC; c++) {
        memory.fill(pad, 0, <usize>(hp * wp) << 2);
        const src = x + (<usize>(((nc + i) * inC + c) * inH * inW) << 2);
        if (q1 > q0) {
          for (let r = r0; r < r1; r++) {
            memory.copy(pad + (<usize>(r * wp + q0) << 2), src + (<usize>((r - pT) * inW + q0 - pL) << 2), <usize>(q1 - q0) << 2);
          }
        }
        inputTransform2(pad, wp, th, tw, X + (<usize>(c * tt + i * T) << 2), inC * tt, tmp);
      }
      for (let oc = 0; oc < outC; oc++) {
        // dL/dy zero-padded to whole tiles (rows of wp floats are wide enough)
        memory.fill(pad, 0, <usize>(2 * th * wp) << 2);
        const src = gy + (<usize>(((nc + i) * outC + oc) * outH * outW) << 2);
        for (let r = 0; r < outH; r++) memory.copy(pad + (<usize>(r * wp) << 2), src + (<usize>(r * outW) << 2), <usize>outW << 2);
        gradTransform(pad, wp, th, tw, Gy + (<usize>(oc * tt + i * T) << 2), outC * tt);
      }
    }
    for (let t = 0; t < 16; t++) {
      sgemm(false, true, outC, inC, tt, 1, Gy + (<usize>(t * outC * tt) << 2), tt, X + (<usize>(t * inC * tt) << 2), tt,
        first ? 0 : 1, M + (<usize>(t * outC * inC) << 2), inC, 0, outC, 0, inC, gemmWork);
    }
    first = false;
  }
  if (first) {
    if (!accumulate) memory.fill(gw, 0, <usize>(outC * inC * 9) << 2);
    return;
  }
  // gw[oc, c] (+)= A'^T M A' with A'^T = [1 1 1 0; 0 1 -1 0; 0 1 1 1]
  const plane = <usize>(outC * inC) << 2;
  for (let oc = 0; oc < outC; oc++) {
    for (let c = 0; c < inC; c++) {
      const m = M + (<usize>(oc * inC + c) << 2);
      const dst = gw + (<usize>((oc * inC + c) * 9) << 2);
      for (let jcol = 0; jcol < 4; jcol++) {
        // column j of A'^T M: rows s0 = m0j + m1j + m2j, s1 = m1j - m2j, s2 = m1j + m2j + m3j
        const a = load<f32>(m + <usize>jcol * plane), b = load<f32>(m + <usize>(4 + jcol) * plane);
        const cc = load<f32>(m + <usize>(8 + jcol) * plane), d = load<f32>(m + <usize>(12 + jcol) * plane);
        store<f32>(tmp + (<usize>jcol << 2), a + b + cc);
        store<f32>(tmp + (<usize>(4 + jcol) << 2), b - cc);
        store<f32>(tmp + (<usize>(8 + jcol) << 2), b + cc + d);
      }
      for (let r = 0; r < 3; r++) {
        const s = tmp + (<usize>(4 * r) << 2);
        const e0 = load<f32>(s), e1 = load<f32>(s, 4), e2 = load<f32>(s, 8), e3 = load<f32>(s, 12);
        const v0 = e0 + e1 + e2, v1 = e1 - e2, v2 = e1 + e2 + e3;
        const o = dst + (<usize>(3 * r) << 2);
        if (accumulate) {
          store<f32>(o, load<f32>(o) + v0); store<f32>(o, load<f32>(o, 4) + v1, 4); store<f32>(o, load<f32>(o, 8) + v2, 8);
        } else {
          store<f32>(o, v0); store<f32>(o, v1, 4); store<f32>(o, v2, 8);
        }
      }
    }
  }
}
