/**
 * 3x3 convolution, stride 1, by Winograd's minimal filtering F(2x2, 3x3)
 * (Lavin & Gray, 2015): each 2x2 block of outputs (a tile) comes from the 4x4
 * input patch d under it as
 *   Y = A^T [ (G g G^T) .* (B^T d B) ] A
 * so per tile and channel pair it takes 16 multiplications instead of 36. The
 * 16 element-wise products, summed over input channels, are 16 matrix products:
 *   M_t[oc, tile] = sum_c U_t[oc, c] V_t[c, tile],  t = 0..15,
 * with U = G g G^T (the filter transform, once per call) and V = B^T d B (the
 * input transform). Matrices (rows listed):
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1]
 *
 * The transforms work on four horizontally adjacent tiles at once (f32x4);
 * each tile row is padded to whole groups of four tiles (tw4), the tiles past
 * the output computing values that are never stored. The tiles are taken in
 * batches of whole tile rows (of one or several images) sized so that a
 * batch's transformed inputs stay in the L2 cache. The forward pass writes U
 * and V straight in the layouts of the GEMM micro-kernel (gemm.ts): U in
 * panels of 4 output channels, V in panels of 8 tiles, so the products need
 * no packing; for each 4 channels x 8 tiles the 16 products land in a small
 * buffer and the output transform writes y from it at once, so M is never
 * stored whole.
 * Geometry block `g`: Conv2dGeometry of geometry.ts (kH = kW = 3, stride 1, dilation 1, groups 1).
 */
import { micro } from './gemm';
import { Conv2dGeometry as G, gi } from './geometry';
import { imax, imin, zeroFloats } from './simd';

/** Tile rows of an output plane. */
// @ts-ignore: decorator
@inline function tileRows(g: usize): i32 {
  return (gi(g, G.outH) + 1) >> 1;
}

/** Tiles per tile row, rounded up to whole groups of four. */
// @ts-ignore: decorator
@inline function tileRow4(g: usize): i32 {
  return ((((gi(g, G.outW) + 1) >> 1) + 3) & ~3);
}

/** Width of a zero-padded input row: the tile groups (8 columns each) plus the patch overlap and the loads' reach. */
// @ts-ignore: decorator
@inline function padWidth(g: usize): i32 {
  return 2 * tileRow4(g) + 4;
}

// @ts-ignore: decorator
@inline export function align16(n: i32): i32 {
  return (n + 15) & ~15;
}

/** Floats of transformed inputs a forward batch keeps (16 x channels x tiles): 512 KB, about half of an L2 cache. */
export const BATCH_FLOATS: i32 = 131072;
/**
 * Tiles a forward batch has at least, even past BATCH_FLOATS: each pass over U
 * serves the batch's panels, and with many channels U is large (16 MB for
 * 512 -> 512) while an image is small (16 tiles at 7x7): one image a batch
 * read U once per image. 512 channels on 7x7, 8 images, one thread: 26.9 ms
 * with the GEMMs of before, 27.9 with one image a batch, 24.0 with 64 tiles.
 */
export const MIN_BATCH_TILES: i32 = 64;
/** Floats of U one pass over the tiles reads (16 x 4 x channels per block of 4 output channels): 256 KB. */
export const U_GROUP_FLOATS: i32 = 65536;
/** Floats of one transform's inputs and gradients the filter gradient reduces at once (channels x tiles): 512 KB. */
export const FILTER_BATCH_FLOATS: i32 = 131072;
/**
 * Bytes added between consecutive transforms t of V, Gy and X: a transform's
 * array is often a multiple of 4 KiB, and the 16 streams that a transform of
 * four tiles writes would then fall on the same L1 cache sets (16 streams on
 * an 8-way cache). 272 bytes apart they spread over the sets.
 */
export const SKEW: usize = 272;
export const SKEW_FLOATS: i32 = 68;
/** Tiles a filter-gradient batch sums at most (each of the four lanes a quarter of them, in order). */
export const FILTER_BATCH_TILES: i32 = 512;

/**
 * Batches are whole images when an image's tile rows fit the budget `want`
 * (as many images as fit), else bands of `want` rows of one image: a batch
 * never straddles two images, so the filter gradient sums the same batches
 * whichever images a thread was given.
 */
// @ts-ignore: decorator
@inline export function batchRows(want: i32, th: i32): i32 {
  return want >= th ? (want / th) * th : imax(1, want);
}

/** Tile rows of the batch starting at tile row r0 (rows of all images in a row) before rEnd. */
// @ts-ignore: decorator
@inline export function batchAt(r0: i32, rEnd: i32, rb: i32, th: i32): i32 {
  return rb >= th ? imin(rb, rEnd - r0) : imin(rb, (r0 / th + 1) * th - r0);
}

/** Tile rows per forward batch. */
function rowsPerBatch(g: usize): i32 {
  const tw4 = tileRow4(g);
  return batchRows(imax(BATCH_FLOATS / (16 * gi(g, G.inC) * tw4), (MIN_BATCH_TILES + tw4 - 1) / tw4), tileRows(g));
}

/** Floats of U for the geometry: 16 transforms of outC (rounded up to 4) x inC. */
export function winogradFilterFloats(g: usize): i32 {
  return 16 * ((gi(g, G.outC) + 3) & ~3) * gi(g, G.inC);
}

/** Blocks of 4 output channels whose U one pass over the tiles reads (at most U_GROUP_FLOATS of U). */
function groupBlocks(g: usize): i32 {
  return imin((gi(g, G.outC) + 3) >> 2, imax(1, U_GROUP_FLOATS / (64 * gi(g, G.inC))));
}

/** Floats of scratch per thread of conv2d_winograd: a batch's V, a padded input band, the 16 4x8 products of a group's blocks, a tail buffer. */
export function winogradWorkFloats(g: usize): i32 {
  const rb = rowsPerBatch(g);
  const tiles = (rb * tileRow4(g) + 7) & ~7;
  return align16(16 * (gi(g, G.inC) * tiles + SKEW_FLOATS)) + align16((2 * rb + 2) * padWidth(g)) + groupBlocks(g) * 512 + 64;
}

/**
 * U = (G g G^T) for every filter, in the forward pass's panel layout: transform t,
 * block of 4 rows r, column s, row r % 4 at ((t * blocks + r / 4) * cols + s) * 4 + r % 4
 * (rows past the last are zero). With `flip` false, g = w[r, s] (r = output
 * channel, s = input channel: the forward convolution); with `flip` true,
 * g = w[s, r] rotated by 180 degrees (r = input channel: the gradient to the
 * input, a convolution of dL/dy with the flipped filters).
 */
export function winograd_filter(w: usize, U: usize, outC: i32, inC: i32, flip: bool): void {
  const rows = flip ? inC : outC;
  const cols = flip ? outC : inC;
  const blocks = (rows + 3) >> 2;
  const plane = <usize>(blocks * 4 * cols) << 2;
  if (rows & 3) memory.fill(U, 0, 16 * plane);
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
      const dst = U + (<usize>(((r >> 2) * cols + s) * 4 + (r & 3)) << 2);
      // (Gg) G^T: each row [p, q, r] -> [p, (p+q+r)/2, (p-q+r)/2, r]
      store<f32>(dst, a0); store<f32>(dst + plane, (a0 + a1 + a2) * 0.5); store<f32>(dst + 2 * plane, (a0 - a1 + a2) * 0.5); store<f32>(dst + 3 * plane, a2);
      store<f32>(dst + 4 * plane, b0); store<f32>(dst + 5 * plane, (b0 + b1 + b2) * 0.5); store<f32>(dst + 6 * plane, (b0 - b1 + b2) * 0.5); store<f32>(dst + 7 * plane, b2);
      store<f32>(dst + 8 * plane, c0); store<f32>(dst + 9 * plane, (c0 + c1 + c2) * 0.5); store<f32>(dst + 10 * plane, (c0 - c1 + c2) * 0.5); store<f32>(dst + 11 * plane, c2);
      store<f32>(dst + 12 * plane, d0); store<f32>(dst + 13 * plane, (d0 + d1 + d2) * 0.5); store<f32>(dst + 14 * plane, (d0 - d1 + d2) * 0.5); store<f32>(dst + 15 * plane, d2);
    }
  }
}

/**
 * The input transform of four tiles of a zero-padded band whose rows are
 * split into even and odd columns (padBand): rows `row` bytes apart, the odd
 * columns `half` bytes after the even ones, the first of the four patches at
 * p (the patch of tile tx starts at even column tx). (B^T d B)[t] (`filter`
 * false) or (B'^T d B')[t] of the filter gradient, B'^T being B^T with its
 * last row negated. Down the columns first (rows e_i of B^T d), then along
 * each row e_i times B: [c0 - c2, c1 + c2, c2 - c1, c1 - c3] (B':
 * [.., .., .., c3 - c1]) of its columns c0..c3, which for four tiles are the
 * even columns from tx, the odd ones from tx, the even and odd ones from tx + 1.
 * Transform t of the four tiles (one f32x4) is stored at o + t * tstep.
 */
// @ts-ignore: decorator
@inline function transformGroup(p: usize, row: usize, half: usize, o: usize, tstep: usize, filter: bool): void {
  // e_0 = d0 - d2, e_1 = d1 + d2, e_2 = d2 - d1, e_3 = d1 - d3 (B'^T: d3 - d1), written out (a loop over
  // the rows with its choices made at run time was not unrolled, and cost a branch per row)
  transformRow(p, p + 2 * row, half, false, o, tstep, filter);
  transformRow(p + row, p + 2 * row, half, true, o + 4 * tstep, tstep, filter);
  transformRow(p + 2 * row, p + row, half, false, o + 8 * tstep, tstep, filter);
  if (filter) transformRow(p + 3 * row, p + row, half, false, o + 12 * tstep, tstep, true);
  else transformRow(p + row, p + 3 * row, half, false, o + 12 * tstep, tstep, false);
}

/** One row e = ra + rb (`plus`) or ra - rb of B^T d for four tiles, times B (B'), into transforms q, q + tstep, .. */
// @ts-ignore: decorator
@inline function transformRow(ra: usize, rb: usize, half: usize, plus: bool, q: usize, tstep: usize, filter: bool): void {
  const c0 = plus ? f32x4.add(v128.load(ra), v128.load(rb)) : f32x4.sub(v128.load(ra), v128.load(rb));
  const c2 = plus ? f32x4.add(v128.load(ra, 4), v128.load(rb, 4)) : f32x4.sub(v128.load(ra, 4), v128.load(rb, 4));
  const oa = ra + half, ob = rb + half;
  const c1 = plus ? f32x4.add(v128.load(oa), v128.load(ob)) : f32x4.sub(v128.load(oa), v128.load(ob));
  const c3 = plus ? f32x4.add(v128.load(oa, 4), v128.load(ob, 4)) : f32x4.sub(v128.load(oa, 4), v128.load(ob, 4));
  v128.store(q, f32x4.sub(c0, c2));
  v128.store(q + tstep, f32x4.add(c1, c2));
  v128.store(q + 2 * tstep, f32x4.sub(c2, c1));
  v128.store(q + 3 * tstep, filter ? f32x4.sub(c3, c1) : f32x4.sub(c1, c3));
}

/**
 * transformGroup for every group of four tiles of `rows` tile rows of a band
 * into the 8-tile panels of the GEMM: tile j = j0 + ty * tw4 + tx of the batch
 * at out + (j / 8) * pstep + (j % 8) * 4 bytes (+ t * tstep).
 */
function transformBand(pad: usize, wp: i32, rows: i32, tw4: i32, j0: i32, out: usize, tstep: usize, pstep: usize): void {
  const row = <usize>wp << 2;
  const half = <usize>(wp >> 1) << 2;
  for (let ty = 0; ty < rows; ty++) {
    for (let tx = 0; tx < tw4; tx += 4) {
      const j = j0 + ty * tw4 + tx;
      transformGroup(pad + (<usize>(2 * ty * wp + tx) << 2), row, half, out + <usize>(j >> 3) * pstep + (<usize>(j & 7) << 2), tstep, false);
    }
  }
}

/**
 * Copies the padded rows pr0 .. pr0+count-1 of one input plane (padded row pr
 * is input row pr - pT, shifted right by pL <= 2) into `pad`, zero elsewhere,
 * each row of wp floats split into its even columns (the first wp / 2 floats)
 * and its odd columns (the next wp / 2), so the transforms load the columns of
 * four tiles without shuffles. wp >= inW + pL.
 */
function padBand(src: usize, inH: i32, inW: i32, pT: i32, pL: i32, pr0: i32, count: i32, pad: usize, wp: i32): void {
  const hw = wp >> 1;
  const half = <usize>hw << 2;
  const r0 = imin(count, imax(0, pT - pr0)), r1 = imax(r0, imin(count, inH + pT - pr0));
  // padded column q = c + pL: even columns q = 2k hold input columns for k in [e0, e1), odd ones q = 2k + 1 for k in [o0, o1)
  const e0 = (pL + 1) >> 1, e1 = (inW + pL + 1) >> 1;
  const o0 = pL >> 1, o1 = (inW + pL) >> 1;
  if (r0 > 0) zeroFloats(pad, r0 * wp);
  for (let i = r0; i < r1; i++) {
    const s = src + (<usize>((pr0 + i - pT) * inW) << 2);
    const even = pad + (<usize>(i * wp) << 2);
    const odd = even + half;
    // only the columns no input lands on are zeroed
    for (let k = 0; k < e0; k++) store<f32>(even + (<usize>k << 2), 0);
    zeroFloats(even + (<usize>e1 << 2), hw - e1);
    for (let k = 0; k < o0; k++) store<f32>(odd + (<usize>k << 2), 0);
    zeroFloats(odd + (<usize>o1 << 2), hw - o1);
    // input column c lands on padded column c + pL: the input's even columns go to the even
    // half when pL is even, to the odd half when it is odd
    const de = (pL & 1) == 0 ? even + (<usize>(pL >> 1) << 2) : odd + (<usize>((pL - 1) >> 1) << 2);
    const dd = (pL & 1) == 0 ? odd + (<usize>(pL >> 1) << 2) : even + (<usize>((pL + 1) >> 1) << 2);
    let c = 0;
    for (; c + 8 <= inW; c += 8) {
      const v0 = v128.load(s + (<usize>c << 2)), v1 = v128.load(s + (<usize>c << 2), 16);
      v128.store(de + (<usize>(c >> 1) << 2), v128.shuffle<f32>(v0, v1, 0, 2, 4, 6));
      v128.store(dd + (<usize>(c >> 1) << 2), v128.shuffle<f32>(v0, v1, 1, 3, 5, 7));
    }
    for (; c < inW; c++) store<f32>(((c & 1) == 0 ? de : dd) + (<usize>(c >> 1) << 2), load<f32>(s + (<usize>c << 2)));
  }
  if (r1 < count) zeroFloats(pad + (<usize>(r1 * wp) << 2), (count - r1) * wp);
}

/**
 * Y = A^T M A + bias for 4 output channels (rows q of `buf`) x 8 tiles (panel
 * p of the batch), from buf[t][q][8] (the 16 products of the block), into y.
 * Tile j of the batch is tile row r0 + j / tw4 of the images n0.., column j % tw4.
 */
function outputBlock(
  buf: usize, tail: usize, y: usize, bias: usize, ob: i32, p: i32, r0: i32, tiles: i32, tw4: i32, th: i32,
  outC: i32, outH: i32, outW: i32,
): void {
  const channels = imin(4, outC - ob * 4);
  const plane = <usize>(outH * outW) << 2;
  for (let h = 0; h < 2; h++) {
    const j = p * 8 + h * 4;
    if (j >= tiles) return;
    const rr = r0 + j / tw4;
    const n = rr / th;
    const ty = rr - n * th;
    const tx = j - (j / tw4) * tw4;
    const oh = 2 * ty, ow = 2 * tx;
    if (ow >= outW) continue;
    const inside = oh + 1 < outH && ow + 8 <= outW;
    let row0 = y + (<usize>(((n * outC + ob * 4) * outH + oh) * outW + ow) << 2);
    let o = buf + (<usize>(h * 4) << 2);
    for (let q = 0; q < channels; q++) {
      const vb = bias ? v128.load32_splat(bias + (<usize>(ob * 4 + q) << 2)) : f32x4.splat(0);
      // A^T down the columns: q0j = m0j + m1j + m2j, q1j = m1j - m2j - m3j (M_t at o + t * 128 bytes)
      let q00: v128, q01: v128, q02: v128, q03: v128, q10: v128, q11: v128, q12: v128, q13: v128;
      {
        const a = v128.load(o), b = v128.load(o, 512), c = v128.load(o, 1024), d = v128.load(o, 1536);
        q00 = f32x4.add(f32x4.add(a, b), c); q10 = f32x4.sub(f32x4.sub(b, c), d);
      }
      {
        const a = v128.load(o, 128), b = v128.load(o, 640), c = v128.load(o, 1152), d = v128.load(o, 1664);
        q01 = f32x4.add(f32x4.add(a, b), c); q11 = f32x4.sub(f32x4.sub(b, c), d);
      }
      {
        const a = v128.load(o, 256), b = v128.load(o, 768), c = v128.load(o, 1280), d = v128.load(o, 1792);
        q02 = f32x4.add(f32x4.add(a, b), c); q12 = f32x4.sub(f32x4.sub(b, c), d);
      }
      {
        const a = v128.load(o, 384), b = v128.load(o, 896), c = v128.load(o, 1408), d = v128.load(o, 1920);
        q03 = f32x4.add(f32x4.add(a, b), c); q13 = f32x4.sub(f32x4.sub(b, c), d);
      }
      // then along the rows: y_i0 = q_i0 + q_i1 + q_i2, y_i1 = q_i1 - q_i2 - q_i3
      const y00 = f32x4.add(f32x4.add(f32x4.add(q00, q01), q02), vb);
      const y01 = f32x4.add(f32x4.sub(f32x4.sub(q01, q02), q03), vb);
      const y10 = f32x4.add(f32x4.add(f32x4.add(q10, q11), q12), vb);
      const y11 = f32x4.add(f32x4.sub(f32x4.sub(q11, q12), q13), vb);
      const row1 = row0 + (<usize>outW << 2);
      if (inside) {
        v128.store(row0, v128.shuffle<f32>(y00, y01, 0, 4, 1, 5));
        v128.store(row0, v128.shuffle<f32>(y00, y01, 2, 6, 3, 7), 16);
        v128.store(row1, v128.shuffle<f32>(y10, y11, 0, 4, 1, 5));
        v128.store(row1, v128.shuffle<f32>(y10, y11, 2, 6, 3, 7), 16);
      } else {
        // the last row or columns of the plane: through `tail`, only what lies inside
        v128.store(tail, v128.shuffle<f32>(y00, y01, 0, 4, 1, 5));
        v128.store(tail, v128.shuffle<f32>(y00, y01, 2, 6, 3, 7), 16);
        v128.store(tail, v128.shuffle<f32>(y10, y11, 0, 4, 1, 5), 32);
        v128.store(tail, v128.shuffle<f32>(y10, y11, 2, 6, 3, 7), 48);
        const cols = imin(8, outW - ow);
        for (let k = 0; k < cols; k++) store<f32>(row0 + (<usize>k << 2), load<f32>(tail + (<usize>k << 2)));
        if (oh + 1 < outH) for (let k = 0; k < cols; k++) store<f32>(row1 + (<usize>k << 2), load<f32>(tail + (<usize>(8 + k) << 2)));
      }
      row0 += plane;
      o += 32;
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
  const th = tileRows(g), tw4 = tileRow4(g);
  const rb = rowsPerBatch(g);
  const wp = padWidth(g);
  const blocks = (outC + 3) >> 2;
  const maxTiles = (rb * tw4 + 7) & ~7;
  const V = work;
  const pad = V + (<usize>align16(16 * (inC * maxTiles + SKEW_FLOATS)) << 2);
  const group = groupBlocks(g);
  const buf = pad + (<usize>align16((2 * rb + 2) * wp) << 2); // the 16 products of each block of the group: [block][t][4][8]
  const tmp = buf + (<usize>(group * 512) << 2); // 16 floats: the output tails
  const uBlock = <usize>(inC * 4) << 2; // bytes of one block of 4 rows of U_t
  const uStep = <usize>blocks * uBlock; // bytes of one U_t
  const rEnd = n1 * th;
  for (let r0 = n0 * th, rows = 0; r0 < rEnd; r0 += rows) {
    rows = batchAt(r0, rEnd, rb, th);
    const tiles = rows * tw4;
    const panels = (tiles + 7) >> 3;
    const pStep = <usize>(inC * 8) << 2; // bytes of one panel of V_t
    const tStep = <usize>panels * pStep + SKEW; // bytes from one V_t to the next
    // V for the batch's tile rows, image by image
    for (let r = r0; r < r0 + rows;) {
      const n = r / th;
      const ty0 = r - n * th;
      const cnt = imin(th - ty0, r0 + rows - r);
      const j0 = (r - r0) * tw4;
      for (let c = 0; c < inC; c++) {
        padBand(x + (<usize>((n * inC + c) * inH * inW) << 2), inH, inW, pT, pL, 2 * ty0, 2 * cnt + 2, pad, wp);
        // j0 and tw4 are multiples of 4: each group of four tiles fills one half of a panel row
        transformBand(pad, wp, cnt, tw4, j0, V + (<usize>c << 5), tStep, pStep);
      }
      r += cnt;
    }
    if (tiles & 7) {
      // the last panel's second half holds no tile: zeros, so its products are finite
      const z = f32x4.splat(0);
      for (let t = 0; t < 16; t++) {
        const base = V + <usize>t * tStep + <usize>(panels - 1) * pStep + 16;
        for (let c = 0; c < inC; c++) v128.store(base + (<usize>c << 5), z);
      }
    }
    // the products, 4 output channels x 8 tiles at a time (each panel of V_t stays in L1 while the
    // group's blocks of U_t pass by), then the output transform of each block of 4 channels
    for (let b0 = 0; b0 < blocks; b0 += group) {
      const b1 = imin(blocks, b0 + group);
      for (let p = 0; p < panels; p++) {
        const vp = V + <usize>p * pStep;
        for (let t = 0; t < 16; t++) {
          const ut = U + <usize>t * uStep, vt = vp + <usize>t * tStep;
          for (let ob = b0; ob < b1; ob++) {
            micro(ut + <usize>ob * uBlock, vt, inC, buf + (<usize>(ob - b0) << 11) + (<usize>t << 7), 32, 0);
          }
        }
        for (let ob = b0; ob < b1; ob++) outputBlock(buf + (<usize>(ob - b0) << 11), tmp, y, bias, ob, p, r0, tiles, tw4, th, outC, outH, outW);
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
 * The transforms write Gy_t and X_t straight in the micro-kernel's panels
 * (4 output channels, 8 input channels per tile), four channels at a time
 * through a 4x4 transpose of their four-tile vectors.
 */

/**
 * (G' g G'^T)[t] for four tiles of a zero-padded dL/dy band (rows of wg
 * floats split into even and odd columns as padBand writes them, the four
 * tiles' even columns at p): rows [g0; (g0+g1)/2; (g0-g1)/2; g1], then
 * each row [p, q] -> [p, (p+q)/2, (p-q)/2, q]; transform t at o + t * tstep.
 */
// @ts-ignore: decorator
@inline function gradGroup(p: usize, wg: i32, o: usize, tstep: usize): void {
  const step = tstep;
  const half = f32x4.splat(0.5);
  const odd = <usize>(wg >> 1) << 2;
  const lower = p + (<usize>wg << 2);
  const a0 = v128.load(p), a1 = v128.load(p + odd); // g00, g01 of the four tiles: the row's even and odd columns
  const b0 = v128.load(lower), b1 = v128.load(lower + odd); // g10, g11
  // G' g: rows r0 = g0, r1 = (g0 + g1) / 2, r2 = (g0 - g1) / 2, r3 = g1 (g0, g1 the rows of g)
  const r10 = f32x4.mul(f32x4.add(a0, b0), half), r11 = f32x4.mul(f32x4.add(a1, b1), half);
  const r20 = f32x4.mul(f32x4.sub(a0, b0), half), r21 = f32x4.mul(f32x4.sub(a1, b1), half);
  // each row [p, q] -> [p, (p + q) / 2, (p - q) / 2, q]
  v128.store(o, a0);
  v128.store(o + step, f32x4.mul(f32x4.add(a0, a1), half));
  v128.store(o + 2 * step, f32x4.mul(f32x4.sub(a0, a1), half));
  v128.store(o + 3 * step, a1);
  v128.store(o + 4 * step, r10);
  v128.store(o + 5 * step, f32x4.mul(f32x4.add(r10, r11), half));
  v128.store(o + 6 * step, f32x4.mul(f32x4.sub(r10, r11), half));
  v128.store(o + 7 * step, r11);
  v128.store(o + 8 * step, r20);
  v128.store(o + 9 * step, f32x4.mul(f32x4.add(r20, r21), half));
  v128.store(o + 10 * step, f32x4.mul(f32x4.sub(r20, r21), half));
  v128.store(o + 11 * step, r21);
  v128.store(o + 12 * step, b0);
  v128.store(o + 13 * step, f32x4.mul(f32x4.add(b0, b1), half));
  v128.store(o + 14 * step, f32x4.mul(f32x4.sub(b0, b1), half));
  v128.store(o + 15 * step, b1);
}

/**
 * Transposes the 16 transforms staged as stage[t][channel q][tile l] (4x4
 * floats per t) into panel rows: tile l's four channels at dst + l * lstep
 * (+ t * tstep).
 */
// @ts-ignore: decorator
@inline function unstage(stage: usize, dst: usize, lstep: usize, tstep: usize): void {
  for (let t = 0; t < 16; t++) {
    const s = stage + (<usize>t << 6);
    const r0 = v128.load(s), r1 = v128.load(s, 16), r2 = v128.load(s, 32), r3 = v128.load(s, 48);
    const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
    const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
    const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
    const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
    const d = dst + <usize>t * tstep;
    v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
    v128.store(d + lstep, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
    v128.store(d + 2 * lstep, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
    v128.store(d + 3 * lstep, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
  }
}

/** Tile rows per filter-gradient batch: at most FILTER_BATCH_TILES tiles. */
function filterRowsPerBatch(g: usize): i32 {
  const tw4 = tileRow4(g);
  return batchRows(imin(FILTER_BATCH_FLOATS / (gi(g, G.inC) + gi(g, G.outC)), FILTER_BATCH_TILES) / tw4, tileRows(g));
}

/** Floats of scratch per thread for conv2d_winograd_filter: Gy and X of a batch in panels, M, four padded bands, the staging. */
export function winogradFilterWorkFloats(g: usize): i32 {
  const rb = filterRowsPerBatch(g);
  const tiles = rb * tileRow4(g);
  const oc4 = (gi(g, G.outC) + 3) & ~3, c8 = (gi(g, G.inC) + 7) & ~7;
  return align16(16 * (oc4 * tiles + SKEW_FLOATS)) + align16(16 * (c8 * tiles + SKEW_FLOATS)) + align16(16 * oc4 * c8) + 4 * align16((2 * rb + 2) * padWidth(g)) + 256 + 16;
}

/**
 * gw = sum over n in n0 .. n1-1 of dL/dw for image n (overwritten, or added
 * onto gw when `accumulate`), for a 3x3 stride-1 convolution, by F(3x3, 2x2).
 */
export function conv2d_winograd_filter(x: usize, gy: usize, gw: usize, g: usize, n0: i32, n1: i32, work: usize, accumulate: bool): void {
  const inC = gi(g, G.inC), inH = gi(g, G.inH), inW = gi(g, G.inW), outC = gi(g, G.outC);
  const pT = gi(g, G.padTop), pL = gi(g, G.padLeft), outH = gi(g, G.outH), outW = gi(g, G.outW);
  const th = tileRows(g), tw4 = tileRow4(g);
  const rb = filterRowsPerBatch(g);
  const wp = padWidth(g);
  const maxTiles = rb * tw4;
  const ob4 = (outC + 3) >> 2, cb8 = (inC + 7) >> 3;
  const ldm = cb8 * 8; // floats per row of M_t
  const A = work; // Gy_t in panels of 4 output channels: ((t * ob4 + ob) * tiles + j) * 4 + q
  const B = A + (<usize>align16(16 * (ob4 * 4 * maxTiles + SKEW_FLOATS)) << 2); // X_t in panels of 8 input channels
  const M = B + (<usize>align16(16 * (cb8 * 8 * maxTiles + SKEW_FLOATS)) << 2); // M_t[oc4][ldm]
  const padBytes = <usize>align16((2 * rb + 2) * wp) << 2;
  const pads = M + (<usize>align16(16 * ob4 * 4 * ldm) << 2);
  const stage = pads + 4 * padBytes;
  const tmp = stage + (256 << 2);
  if (n1 <= n0) {
    if (!accumulate) memory.fill(gw, 0, <usize>(outC * inC * 9) << 2);
    return;
  }
  memory.fill(M, 0, <usize>(16 * ob4 * 4 * ldm) << 2);
  const row = <usize>wp << 2;
  const half = <usize>(wp >> 1) << 2;
  const rEnd = n1 * th;
  for (let r0 = n0 * th, rows = 0; r0 < rEnd; r0 += rows) {
    rows = batchAt(r0, rEnd, rb, th);
    const tiles = rows * tw4;
    const aStep = (<usize>(ob4 * 4 * tiles) << 2) + SKEW; // bytes from one Gy_t to the next
    const bStep = (<usize>(cb8 * 8 * tiles) << 2) + SKEW; // bytes from one X_t to the next
    for (let r = r0; r < r0 + rows;) {
      const n = r / th;
      const ty0 = r - n * th;
      const cnt = imin(th - ty0, r0 + rows - r);
      const j0 = (r - r0) * tw4;
      // X: four input channels at a time (channels past inC are zero)
      for (let c = 0; c < cb8 * 8; c += 4) {
        const nc = imin(4, inC - c);
        for (let q = 0; q < nc; q++) {
          padBand(x + (<usize>((n * inC + c + q) * inH * inW) << 2), inH, inW, pT, pL, 2 * ty0, 2 * cnt + 2, pads + <usize>q * padBytes, wp);
        }
        if (nc < 4) memory.fill(stage, 0, 256 << 2);
        const dst = B + (<usize>((c >> 3) * tiles * 8 + (c & 7)) << 2);
        for (let ty = 0; ty < cnt; ty++) {
          for (let tx = 0; tx < tw4; tx += 4) {
            const off = <usize>(2 * ty * wp + tx) << 2;
            for (let q = 0; q < nc; q++) transformGroup(pads + <usize>q * padBytes + off, row, half, stage + (<usize>q << 4), 64, true);
            unstage(stage, dst + (<usize>((j0 + ty * tw4 + tx) * 8) << 2), 32, bStep);
          }
        }
      }
      // Gy: four output channels at a time (channels past outC are zero)
      for (let oc = 0; oc < ob4 * 4; oc += 4) {
        const nq = imin(4, outC - oc);
        for (let q = 0; q < nq; q++) {
          // dL/dy rows 2 ty0 .. of the band, zero-padded to whole tiles (rows of wp floats are wide enough)
          padBand(gy + (<usize>((n * outC + oc + q) * outH * outW) << 2), outH, outW, 0, 0, 2 * ty0, 2 * cnt, pads + <usize>q * padBytes, wp);
        }
        if (nq < 4) memory.fill(stage, 0, 256 << 2);
        const dst = A + (<usize>((oc >> 2) * tiles * 4) << 2);
        for (let ty = 0; ty < cnt; ty++) {
          for (let tx = 0; tx < tw4; tx += 4) {
            const off = <usize>(2 * ty * wp + tx) << 2;
            for (let q = 0; q < nq; q++) gradGroup(pads + <usize>q * padBytes + off, wp, stage + (<usize>q << 4), 64);
            unstage(stage, dst + (<usize>((j0 + ty * tw4 + tx) * 4) << 2), 16, aStep);
          }
        }
      }
      r += cnt;
    }
    // M_t += Gy_t X_t^T, 4 x 8 blocks over the batch's tiles
    for (let t = 0; t < 16; t++) {
      const at = A + <usize>t * aStep, bt = B + <usize>t * bStep;
      const mt = M + (<usize>(t * ob4 * 4 * ldm) << 2);
      for (let ob = 0; ob < ob4; ob++) {
        const ap = at + (<usize>(ob * tiles * 4) << 2);
        for (let cb = 0; cb < cb8; cb++) {
          micro(ap, bt + (<usize>(cb * tiles * 8) << 2), tiles, mt + (<usize>(ob * 4 * ldm + cb * 8) << 2), <usize>ldm << 2, 1);
        }
      }
    }
  }
  // gw[oc, c] (+)= A'^T M A' with A'^T = [1 1 1 0; 0 1 -1 0; 0 1 1 1]
  const plane = <usize>(ob4 * 4 * ldm) << 2;
  for (let oc = 0; oc < outC; oc++) {
    for (let c = 0; c < inC; c++) {
      const m = M + (<usize>(oc * ldm + c) << 2);
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
