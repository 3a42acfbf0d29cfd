/**
 * 3x3 convolution, stride 1, by Winograd's F(4x4, 3x3) (Lavin & Gray, 2015):
 * each 4x4 block of outputs (a tile) comes from the 6x6 input patch d under it as
 *   Y = A^T [ (G g G^T) .* (B^T d B) ] A
 * so per tile and channel pair it takes 36 multiplications instead of 144
 * (2.25 per output; F(2x2, 3x3) of winograd.ts takes 4). The 36 element-wise
 * products, summed over input channels, are 36 matrix products
 *   M_t[oc, tile] = sum_c U_t[oc, c] V_t[c, tile],  t = 0..35,
 * with the interpolation points 0, 1, -1, 2, -2 and infinity:
 *   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 *   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 *
 * The design is winograd.ts's: the transforms work on four horizontally
 * adjacent tiles at once (f32x4), each tile row padded to whole groups of four
 * tiles; the tiles are taken in batches of whole tile rows sized for the L2
 * cache; U and V are written in the GEMM micro-kernel's panel layouts (U in
 * panels of 4 output channels, V in panels of 8 tiles), and for each 4
 * channels x 8 tiles the 36 products land in a small buffer from which the
 * output transform writes y. The padded input rows are split into their four
 * column phases (columns 4k + f), so the six columns of four patches (which
 * start 4 columns apart) are six plain loads.
 * Geometry block `g`: Conv2dGeometry of geometry.ts (kH = kW = 3, stride 1, dilation 1, groups 1).
 */
import { micro } from './gemm';
import { Conv2dGeometry as G, gi } from './geometry';
import { imax, imin, zeroFloats } from './simd';
import {
  align16, batchAt, batchRows, BATCH_FLOATS, FILTER_BATCH_FLOATS, FILTER_BATCH_TILES, MIN_BATCH_TILES, SKEW, SKEW_FLOATS, U_GROUP_FLOATS,
} from './winograd';

/** Tile rows of an output plane. */
// @ts-ignore: decorator
@inline function tileRows(g: usize): i32 {
  return (gi(g, G.outH) + 3) >> 2;
}

/** Tiles per tile row, rounded up to whole groups of four. */
// @ts-ignore: decorator
@inline function tileRow4(g: usize): i32 {
  return ((((gi(g, G.outW) + 3) >> 2) + 3) & ~3);
}

/**
 * Width of a zero-padded input row (four phases of wp / 4 floats): the tile
 * groups (16 columns each) plus the patch overlap, and at least the input row.
 */
// @ts-ignore: decorator
@inline function padWidth(g: usize): i32 {
  return 4 * imax(tileRow4(g) + 1, (gi(g, G.inW) + gi(g, G.padLeft) + 3) >> 2);
}

/** Tile rows per forward batch. */
function rowsPerBatch(g: usize): i32 {
  const tw4 = tileRow4(g);
  return batchRows(imax(BATCH_FLOATS / (36 * gi(g, G.inC) * tw4), (MIN_BATCH_TILES + tw4 - 1) / tw4), tileRows(g));
}

/** Floats of U for the geometry: 36 transforms of outC (rounded up to 4) x inC. */
export function winograd4FilterFloats(g: usize): i32 {
  return 36 * ((gi(g, G.outC) + 3) & ~3) * gi(g, G.inC);
}

/** Blocks of 4 output channels whose U one pass over the tiles reads (at most U_GROUP_FLOATS of U). */
function groupBlocks(g: usize): i32 {
  return imin((gi(g, G.outC) + 3) >> 2, imax(1, U_GROUP_FLOATS / (144 * gi(g, G.inC))));
}

/** Floats of the small scratch of a thread: the transforms' 6x6 and 4x6 staging, the output tails. */
const SCRATCH_FLOATS: i32 = 256;

/** Floats of scratch per thread of conv2d_winograd4: a batch's V, a padded input band, the 36 4x8 products of a group's blocks, the staging. */
export function winograd4WorkFloats(g: usize): i32 {
  const rb = rowsPerBatch(g);
  const tiles = (rb * tileRow4(g) + 7) & ~7;
  return align16(36 * (gi(g, G.inC) * tiles + SKEW_FLOATS)) + align16((4 * rb + 2) * padWidth(g)) + groupBlocks(g) * 1152 + SCRATCH_FLOATS;
}

/** Row k of G times [a, b, c] (in f64: U is rounded to f32 once). */
// @ts-ignore: decorator
@inline function gRow(k: i32, a: f64, b: f64, c: f64): f64 {
  if (k == 0) return a * 0.25;
  if (k == 1) return (a + b + c) * (-1.0 / 6.0);
  if (k == 2) return (a - b + c) * (-1.0 / 6.0);
  if (k == 3) return (a + 2 * b + 4 * c) * (1.0 / 24.0);
  if (k == 4) return (a - 2 * b + 4 * c) * (1.0 / 24.0);
  return c;
}

/** Tap k of a 3x3 filter at src, as f64. */
// @ts-ignore: decorator
@inline function ld9(src: usize, k: i32): f64 {
  return <f64>load<f32>(src + (<usize>k << 2));
}

/** G [a, b, c] stored as f32 at dst, dst + step, .. (6 floats). */
// @ts-ignore: decorator
@inline function gStore(a: f64, b: f64, c: f64, dst: usize, step: usize): void {
  for (let k = 0; k < 6; k++) store<f32>(dst + <usize>k * step, <f32>gRow(k, a, b, c));
}

/**
 * U = (G g G^T) for every filter, in the forward pass's panel layout: transform
 * t = 6 i + j, block of 4 rows r, column s, row r % 4 at
 * ((t * blocks + r / 4) * cols + s) * 4 + r % 4 (rows past the last are zero).
 * `flip` as in winograd_filter: false, g = w[r, s] (the forward convolution);
 * true, g = w[s, r] rotated by 180 degrees (the gradient to the input).
 */
export function winograd4_filter(w: usize, U: usize, outC: i32, inC: i32, flip: bool): void {
  const rows = flip ? inC : outC;
  const cols = flip ? outC : inC;
  const blocks = (rows + 3) >> 2;
  const plane = <usize>(blocks * 4 * cols) << 2;
  if (rows & 3) memory.fill(U, 0, 36 * plane);
  for (let r = 0; r < rows; r++) {
    for (let s = 0; s < cols; s++) {
      const src = w + (<usize>((flip ? s * inC + r : r * inC + s) * 9) << 2);
      // g[i][j] = w[i][j], or w[2 - i][2 - j] flipped
      const g00 = ld9(src, flip ? 8 : 0), g01 = ld9(src, flip ? 7 : 1), g02 = ld9(src, flip ? 6 : 2);
      const g10 = ld9(src, flip ? 5 : 3), g11 = ld9(src, 4), g12 = ld9(src, flip ? 3 : 5);
      const g20 = ld9(src, flip ? 2 : 6), g21 = ld9(src, flip ? 1 : 7), g22 = ld9(src, flip ? 0 : 8);
      const dst = U + (<usize>(((r >> 2) * cols + s) * 4 + (r & 3)) << 2);
      // row i of G g (down the columns), then that row times G^T: transforms 6 i .. 6 i + 5
      for (let i = 0; i < 6; i++) {
        gStore(gRow(i, g00, g10, g20), gRow(i, g01, g11, g21), gRow(i, g02, g12, g22), dst + <usize>(6 * i) * plane, plane);
      }
    }
  }
}

/**
 * B^T [d0 .. d5] (one column or row of six f32x4) stored at out, out + step, ..:
 * [4 d0 - 5 d2 + d4, (d4 - 4 d2) +- (d3 - 4 d1), (d4 - d2) +- 2 (d3 - d1), 4 d1 - 5 d3 + d5].
 */
// @ts-ignore: decorator
@inline function bt6(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, out: usize, step: usize): void {
  const four = f32x4.splat(4), two = f32x4.splat(2);
  const a = f32x4.sub(d4, f32x4.mul(four, d2));
  const b = f32x4.sub(d3, f32x4.mul(four, d1));
  const c = f32x4.sub(d4, d2);
  const e = f32x4.mul(two, f32x4.sub(d3, d1));
  v128.store(out, f32x4.add(f32x4.mul(four, f32x4.sub(d0, d2)), c));
  v128.store(out + step, f32x4.add(a, b));
  v128.store(out + 2 * step, f32x4.sub(a, b));
  v128.store(out + 3 * step, f32x4.add(c, e));
  v128.store(out + 4 * step, f32x4.sub(c, e));
  v128.store(out + 5 * step, f32x4.sub(f32x4.sub(d5, d3), f32x4.mul(two, e)));
}

/**
 * (B^T d B)[t] of four tiles of a band split into column phases (padBand4):
 * rows `row` bytes apart, phase f at f * quarter bytes, the first patch at p.
 * Column k of the four patches is phase k % 4 from float k / 4. Down the six
 * columns into `tmp` (6 x 6 f32x4), then along its six rows; transform t of
 * the four tiles at o + t * tstep.
 */
// @ts-ignore: decorator
@inline function transformGroup4(p: usize, row: usize, quarter: usize, o: usize, tstep: usize, tmp: usize): void {
  for (let k = 0; k < 6; k++) {
    const s = p + <usize>(k & 3) * quarter + (<usize>(k >> 2) << 2);
    bt6(v128.load(s), v128.load(s + row), v128.load(s + 2 * row), v128.load(s + 3 * row), v128.load(s + 4 * row), v128.load(s + 5 * row),
      tmp + (<usize>k << 4), 96);
  }
  for (let i = 0; i < 6; i++) {
    const s = tmp + <usize>i * 96;
    bt6(v128.load(s), v128.load(s, 16), v128.load(s, 32), v128.load(s, 48), v128.load(s, 64), v128.load(s, 80), o + <usize>(6 * i) * tstep, tstep);
  }
}

/**
 * transformGroup4 for every group of four tiles of `rows` tile rows of a band
 * into the 8-tile panels of the GEMM: tile j = j0 + ty * tw4 + tx of the batch
 * at out + (j / 8) * pstep + (j % 8) * 4 bytes (+ t * tstep).
 */
function transformBand4(pad: usize, wp: i32, rows: i32, tw4: i32, j0: i32, out: usize, tstep: usize, pstep: usize, tmp: usize): void {
  const row = <usize>wp << 2;
  const quarter = <usize>(wp >> 2) << 2;
  for (let ty = 0; ty < rows; ty++) {
    for (let tx = 0; tx < tw4; tx += 4) {
      const j = j0 + ty * tw4 + tx;
      transformGroup4(pad + (<usize>(4 * ty * wp + tx) << 2), row, quarter, out + <usize>(j >> 3) * pstep + (<usize>(j & 7) << 2), tstep, tmp);
    }
  }
}

/**
 * Copies the padded rows pr0 .. pr0+count-1 of one input plane (padded row pr
 * is input row pr - pT, shifted right by pL) into `pad`, zero elsewhere, each
 * row of wp floats split into its four column phases: padded column q at
 * (q % 4) * (wp / 4) + q / 4. wp >= inW + pL, a multiple of 4.
 */
function padBand4(src: usize, inH: i32, inW: i32, pT: i32, pL: i32, pr0: i32, count: i32, pad: usize, wp: i32): void {
  const quarter = <usize>(wp >> 2) << 2;
  const r0 = imin(count, imax(0, pT - pr0)), r1 = imax(r0, imin(count, inH + pT - pr0));
  if (r0 > 0) zeroFloats(pad, r0 * wp);
  // input columns c + f + 4m (f < 4) land on phase (pL + f) % 4 from float (c + pL + f) / 4 + m
  const d0 = <usize>(pL & 3) * quarter + (<usize>(pL >> 2) << 2);
  const d1 = <usize>((pL + 1) & 3) * quarter + (<usize>((pL + 1) >> 2) << 2);
  const d2 = <usize>((pL + 2) & 3) * quarter + (<usize>((pL + 2) >> 2) << 2);
  const d3 = <usize>((pL + 3) & 3) * quarter + (<usize>((pL + 3) >> 2) << 2);
  for (let i = r0; i < r1; i++) {
    const s = src + (<usize>((pr0 + i - pT) * inW) << 2);
    const dst = pad + (<usize>(i * wp) << 2);
    zeroFloats(dst, wp);
    let c = 0;
    for (; c + 16 <= inW; c += 16) {
      const r0v = v128.load(s + (<usize>c << 2)), r1v = v128.load(s + (<usize>c << 2), 16);
      const r2v = v128.load(s + (<usize>c << 2), 32), r3v = v128.load(s + (<usize>c << 2), 48);
      const t0 = v128.shuffle<f32>(r0v, r1v, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(r2v, r3v, 0, 4, 1, 5);
      const t2 = v128.shuffle<f32>(r0v, r1v, 2, 6, 3, 7);
      const t3 = v128.shuffle<f32>(r2v, r3v, 2, 6, 3, 7);
      const o = dst + (<usize>(c >> 2) << 2);
      v128.store(o + d0, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
      v128.store(o + d1, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
      v128.store(o + d2, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
      v128.store(o + d3, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
    }
    for (; c < inW; c++) {
      const q = c + pL;
      store<f32>(dst + <usize>(q & 3) * quarter + (<usize>(q >> 2) << 2), load<f32>(s + (<usize>c << 2)));
    }
  }
  if (r1 < count) zeroFloats(pad + (<usize>(r1 * wp) << 2), (count - r1) * wp);
}

/**
 * Y = A^T M A + bias for 4 output channels (rows q of `buf`) x 8 tiles (panel
 * p of the batch), from buf[t][q][8] (the 36 products of the block), into y.
 * Tile j of the batch is tile row r0 + j / tw4 of the images, column j % tw4.
 * `tmp`: 4 x 6 f32x4 of staging, then 16 floats of tail.
 */
function outputBlock4(
  buf: usize, tmp: usize, y: usize, bias: usize, ob: i32, p: i32, r0: i32, tiles: i32, tw4: i32, th: i32,
  outC: i32, outH: i32, outW: i32,
): void {
  const channels = imin(4, outC - ob * 4);
  const plane = <usize>(outH * outW) << 2;
  const rowBytes = <usize>outW << 2;
  const tail = tmp + 384;
  const two = f32x4.splat(2), four = f32x4.splat(4), eight = f32x4.splat(8);
  for (let h = 0; h < 2; h++) {
    const j = p * 8 + h * 4;
    if (j >= tiles) return;
    const rr = r0 + j / tw4;
    const n = rr / th;
    const ty = rr - n * th;
    const tx = j - (j / tw4) * tw4;
    const oh = 4 * ty, ow = 4 * tx;
    if (ow >= outW) continue;
    const rowsIn = imin(4, outH - oh), cols = imin(16, outW - ow);
    let row0 = y + (<usize>(((n * outC + ob * 4) * outH + oh) * outW + ow) << 2);
    let o = buf + (<usize>(h * 4) << 2);
    for (let q = 0; q < channels; q++) {
      const vb = bias ? v128.load32_splat(bias + (<usize>(ob * 4 + q) << 2)) : f32x4.splat(0);
      // A^T down each column k: M_t at o + t * 128 bytes, t = 6 i + k; row r of A^T M at tmp[r][k]
      for (let k = 0; k < 6; k++) {
        const m = o + (<usize>k << 7);
        const m0 = v128.load(m), m1 = v128.load(m, 768), m2 = v128.load(m, 1536);
        const m3 = v128.load(m, 2304), m4 = v128.load(m, 3072), m5 = v128.load(m, 3840);
        const s12 = f32x4.add(m1, m2), d12 = f32x4.sub(m1, m2), s34 = f32x4.add(m3, m4), d34 = f32x4.sub(m3, m4);
        const dst = tmp + (<usize>k << 4);
        v128.store(dst, f32x4.add(f32x4.add(m0, s12), s34));
        v128.store(dst, f32x4.add(d12, f32x4.mul(two, d34)), 96);
        v128.store(dst, f32x4.add(s12, f32x4.mul(four, s34)), 192);
        v128.store(dst, f32x4.add(f32x4.add(d12, f32x4.mul(eight, d34)), m5), 288);
      }
      // then along each row r: four outputs of each of the four tiles, transposed to tile order
      let dst = row0;
      for (let r = 0; r < rowsIn; r++) {
        const s = tmp + <usize>r * 96;
        const m0 = v128.load(s), m1 = v128.load(s, 16), m2 = v128.load(s, 32);
        const m3 = v128.load(s, 48), m4 = v128.load(s, 64), m5 = v128.load(s, 80);
        const s12 = f32x4.add(m1, m2), d12 = f32x4.sub(m1, m2), s34 = f32x4.add(m3, m4), d34 = f32x4.sub(m3, m4);
        const y0 = f32x4.add(f32x4.add(f32x4.add(m0, s12), s34), vb);
        const y1 = f32x4.add(f32x4.add(d12, f32x4.mul(two, d34)), vb);
        const y2 = f32x4.add(f32x4.add(s12, f32x4.mul(four, s34)), vb);
        const y3 = f32x4.add(f32x4.add(f32x4.add(d12, f32x4.mul(eight, d34)), m5), vb);
        const t0 = v128.shuffle<f32>(y0, y1, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(y2, y3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(y0, y1, 2, 6, 3, 7);
        const t3 = v128.shuffle<f32>(y2, y3, 2, 6, 3, 7);
        const z0 = v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), z1 = v128.shuffle<f32>(t0, t1, 2, 3, 6, 7);
        const z2 = v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), z3 = v128.shuffle<f32>(t2, t3, 2, 3, 6, 7);
        if (cols == 16) {
          v128.store(dst, z0); v128.store(dst, z1, 16); v128.store(dst, z2, 32); v128.store(dst, z3, 48);
        } else {
          // the last columns of the plane: through `tail`, only what lies inside
          v128.store(tail, z0); v128.store(tail, z1, 16); v128.store(tail, z2, 32); v128.store(tail, z3, 48);
          for (let c = 0; c < cols; c++) store<f32>(dst + (<usize>c << 2), load<f32>(tail + (<usize>c << 2)));
        }
        dst += rowBytes;
      }
      row0 += plane;
      o += 32;
    }
  }
}

/**
 * y[n] = conv3x3(x[n]) + bias for n in n0 .. n1-1 by F(4x4, 3x3), from the
 * transformed filters U (winograd4_filter). Geometry g as in conv.ts; any zero
 * padding of at most 2 on the top and left (the bottom and right follow from outH, outW).
 */
export function conv2d_winograd4(x: usize, U: usize, bias: usize, y: usize, g: usize, n0: i32, n1: i32, work: usize): void {
  const inC = gi(g, G.inC), inH = gi(g, G.inH), inW = gi(g, G.inW), outC = gi(g, G.outC);
  const pT = gi(g, G.padTop), pL = gi(g, G.padLeft), outH = gi(g, G.outH), outW = gi(g, G.outW);
  const th = tileRows(g), tw4 = tileRow4(g);
  const rb = rowsPerBatch(g);
  const wp = padWidth(g);
  const blocks = (outC + 3) >> 2;
  const maxTiles = (rb * tw4 + 7) & ~7;
  const V = work;
  const pad = V + (<usize>align16(36 * (inC * maxTiles + SKEW_FLOATS)) << 2);
  const group = groupBlocks(g);
  const buf = pad + (<usize>align16((4 * rb + 2) * wp) << 2); // the 36 products of each block of the group: [block][t][4][8]
  const tmp = buf + (<usize>(group * 1152) << 2); // SCRATCH_FLOATS: the transforms' staging, the output tails
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
        padBand4(x + (<usize>((n * inC + c) * inH * inW) << 2), inH, inW, pT, pL, 4 * ty0, 4 * cnt + 2, pad, wp);
        // j0 and tw4 are multiples of 4: each group of four tiles fills one half of a panel row
        transformBand4(pad, wp, cnt, tw4, j0, V + (<usize>c << 5), tStep, pStep, tmp);
      }
      r += cnt;
    }
    if (tiles & 7) {
      // the last panel's second half holds no tile: zeros, so its products are finite
      const z = f32x4.splat(0);
      for (let t = 0; t < 36; t++) {
        const base = V + <usize>t * tStep + <usize>(panels - 1) * pStep + 16;
        for (let c = 0; c < inC; c++) v128.store(base + (<usize>c << 5), z);
      }
    }
    // the products, 4 output channels x 8 tiles at a time, then the output transform of each block
    for (let b0 = 0; b0 < blocks; b0 += group) {
      const b1 = imin(blocks, b0 + group);
      for (let p = 0; p < panels; p++) {
        const vp = V + <usize>p * pStep;
        for (let t = 0; t < 36; t++) {
          const ut = U + <usize>t * uStep, vt = vp + <usize>t * tStep;
          for (let ob = b0; ob < b1; ob++) {
            micro(ut + <usize>ob * uBlock, vt, inC, buf + <usize>(ob - b0) * 4608 + (<usize>t << 7), 32, 0);
          }
        }
        for (let ob = b0; ob < b1; ob++) outputBlock4(buf + <usize>(ob - b0) * 4608, tmp, y, bias, ob, p, r0, tiles, tw4, th, outC, outH, outW);
      }
    }
  }
}

/**
 * The filter gradient by Winograd's F(3x3, 4x4): for one 4x4 tile g of dL/dy
 * and the 6x6 patch d of x under it, the tile's contribution to the 3x3
 * gradient is A'^T [ (G' g G'^T) .* (B^T d B) ] A' with F(4x4, 3x3)'s
 * matrices in exchanged roles (1-D: y_i = sum_k g_k d_(i+k) for i < 3, k < 4,
 * the derivative in w of F(4x4, 3x3)'s sum_t (G w)_t (B^T d)_t (A g)_t):
 *   B^T as above,  G' = A (6x4),  A'^T = G^T (3x6):
 *   G'   = [1 0 0 0; 1 1 1 1; 1 -1 1 -1; 1 2 4 8; 1 -2 4 -8; 0 0 0 1]
 *   A'^T = [1/4 -1/6 -1/6 1/24 1/24 0; 0 -1/6 1/6 1/12 -1/12 0; 0 -1/6 -1/6 1/6 1/6 1]
 * so per 4x4 tile and channel pair it takes 36 multiplications where
 * F(3x3, 2x2) takes 64 (16 for each of four 2x2 tiles). Summed over tiles and
 * images, the 36 products are 36 GEMMs with the tiles as the reduction:
 *   M_t[oc, c] = sum_tiles Gy_t[oc, tile] X_t[c, tile],
 * and A'^T M A' (its fractions in f64) gives gw once per call. The design is
 * winograd.ts's conv2d_winograd_filter: Gy and X written straight in the
 * micro-kernel's panels (4 output channels, 8 input channels per tile), four
 * channels at a time through a 4x4 transpose of their four-tile vectors; both
 * read rows split into four column phases (padBand4).
 */

/**
 * G' [g0 .. g3] (one column or row of four f32x4) stored at out, out + step, ..:
 * [g0, (g0 + g2) +- (g1 + g3), (g0 + 4 g2) +- (2 g1 + 8 g3), g3].
 */
// @ts-ignore: decorator
@inline function ga6(g0: v128, g1: v128, g2: v128, g3: v128, out: usize, step: usize): void {
  const two = f32x4.splat(2), four = f32x4.splat(4);
  const s02 = f32x4.add(g0, g2), s13 = f32x4.add(g1, g3);
  const u = f32x4.add(g0, f32x4.mul(four, g2));
  const v = f32x4.mul(two, f32x4.add(g1, f32x4.mul(four, g3)));
  v128.store(out, g0);
  v128.store(out + step, f32x4.add(s02, s13));
  v128.store(out + 2 * step, f32x4.sub(s02, s13));
  v128.store(out + 3 * step, f32x4.add(u, v));
  v128.store(out + 4 * step, f32x4.sub(u, v));
  v128.store(out + 5 * step, g3);
}

/**
 * (G' g G'^T)[t] of four tiles of a dL/dy band split into column phases
 * (padBand4): rows `row` bytes apart, column k of the four tiles is phase k
 * from p. Down the four columns into `tmp` (6 x 4 f32x4), then along its six
 * rows; transform t of the four tiles at o + t * tstep.
 */
// @ts-ignore: decorator
@inline function gradGroup4(p: usize, row: usize, quarter: usize, o: usize, tstep: usize, tmp: usize): void {
  for (let k = 0; k < 4; k++) {
    const s = p + <usize>k * quarter;
    ga6(v128.load(s), v128.load(s + row), v128.load(s + 2 * row), v128.load(s + 3 * row), tmp + (<usize>k << 4), 64);
  }
  for (let i = 0; i < 6; i++) {
    const s = tmp + <usize>i * 64;
    ga6(v128.load(s), v128.load(s, 16), v128.load(s, 32), v128.load(s, 48), o + <usize>(6 * i) * tstep, tstep);
  }
}

/**
 * Transposes the 36 transforms staged as stage[t][channel q][tile l] (4x4
 * floats per t) into panel rows: tile l's four channels at dst + l * lstep
 * (+ t * tstep).
 */
// @ts-ignore: decorator
@inline function unstage36(stage: usize, dst: usize, lstep: usize, tstep: usize): void {
  for (let t = 0; t < 36; t++) {
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

/**
 * Tiles the filter gradient's products sum in f32 (in the micro-kernel's registers) before those
 * sums are added in f64, and a batch's total onto M_t (f32) once: M_t's values are up to about 2000
 * times the terms of gw (|G'| sums to 15 a row, |B^T| to 10), so long f32 sums lost more than the
 * transforms (a chunk's 256 tiles in f32: gw's largest error on 64 -> 64 channels 3x as large).
 */
const FILTER_K_BLOCK: i32 = 32;

/** Tile rows per filter-gradient batch: at most FILTER_BATCH_TILES tiles. */
function filterRowsPerBatch4(g: usize): i32 {
  const tw4 = tileRow4(g);
  return batchRows(imin(FILTER_BATCH_FLOATS / (gi(g, G.inC) + gi(g, G.outC)), FILTER_BATCH_TILES) / tw4, tileRows(g));
}

/** Floats of the staging of conv2d_winograd4_filter: 36 x 4 x 4 transposed, then the transforms' 6x6 f32x4. */
const FILTER_STAGE_FLOATS: i32 = 576 + 144;

/** Floats of scratch per thread for conv2d_winograd4_filter: Gy and X of a batch in panels, M, four padded bands, the staging. */
export function winograd4FilterWorkFloats(g: usize): i32 {
  const rb = filterRowsPerBatch4(g);
  const tiles = rb * tileRow4(g);
  const oc4 = (gi(g, G.outC) + 3) & ~3, c8 = (gi(g, G.inC) + 7) & ~7;
  return align16(36 * (oc4 * tiles + SKEW_FLOATS)) + align16(36 * (c8 * tiles + SKEW_FLOATS)) + align16(36 * (oc4 * c8 + SKEW_FLOATS)) +
    4 * align16((4 * rb + 2) * padWidth(g)) + FILTER_STAGE_FLOATS;
}

/** Row i of A'^T = G^T times [m0 .. m5] (f64x2). */
// @ts-ignore: decorator
@inline function gtRow(i: i32, m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128): v128 {
  const sixth = f64x2.splat(1.0 / 6.0);
  if (i == 0) {
    return f64x2.add(f64x2.sub(f64x2.mul(m0, f64x2.splat(0.25)), f64x2.mul(f64x2.add(m1, m2), sixth)), f64x2.mul(f64x2.add(m3, m4), f64x2.splat(1.0 / 24.0)));
  }
  if (i == 1) return f64x2.add(f64x2.mul(f64x2.sub(m2, m1), sixth), f64x2.mul(f64x2.sub(m3, m4), f64x2.splat(1.0 / 12.0)));
  return f64x2.add(f64x2.mul(f64x2.sub(f64x2.add(m3, m4), f64x2.add(m1, m2)), sixth), m5);
}

/** Lanes 2, 3 of an f32x4 as f64x2. */
// @ts-ignore: decorator
@inline function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}

/**
 * A'^T [m0 .. m5] for four input channels, m_a the f32x4 of M_(6 a + b) at
 * s + a * 6 mStep, in f64: row i of channels 0, 1 at out + i * step, of
 * channels 2, 3 at out + i * step + 16.
 */
// @ts-ignore: decorator
@inline function gtColumn(s: usize, mStep: usize, out: usize, step: usize): void {
  const m0 = v128.load(s), m1 = v128.load(s + 6 * mStep), m2 = v128.load(s + 12 * mStep);
  const m3 = v128.load(s + 18 * mStep), m4 = v128.load(s + 24 * mStep), m5 = v128.load(s + 30 * mStep);
  const l0 = f64x2.promote_low_f32x4(m0), l1 = f64x2.promote_low_f32x4(m1), l2 = f64x2.promote_low_f32x4(m2);
  const l3 = f64x2.promote_low_f32x4(m3), l4 = f64x2.promote_low_f32x4(m4), l5 = f64x2.promote_low_f32x4(m5);
  const h0 = promoteHigh(m0), h1 = promoteHigh(m1), h2 = promoteHigh(m2), h3 = promoteHigh(m3), h4 = promoteHigh(m4), h5 = promoteHigh(m5);
  for (let i = 0; i < 3; i++) {
    v128.store(out + <usize>i * step, gtRow(i, l0, l1, l2, l3, l4, l5));
    v128.store(out + <usize>i * step, gtRow(i, h0, h1, h2, h3, h4, h5), 16);
  }
}

/** The 4 x 8 f32 block at c (rows of 8) written (`first`) or added onto the f64 block at acc (rows of 8). */
// @ts-ignore: decorator
@inline function addBlock64(c: usize, acc: usize, first: bool): void {
  for (let q = 0; q < 4; q++) {
    const r = c + (<usize>q << 5), o = acc + (<usize>q << 6);
    const v0 = v128.load(r), v1 = v128.load(r, 16);
    const p0 = f64x2.promote_low_f32x4(v0), p1 = promoteHigh(v0), p2 = f64x2.promote_low_f32x4(v1), p3 = promoteHigh(v1);
    if (first) {
      v128.store(o, p0); v128.store(o, p1, 16); v128.store(o, p2, 32); v128.store(o, p3, 48);
    } else {
      v128.store(o, f64x2.add(v128.load(o), p0)); v128.store(o, f64x2.add(v128.load(o, 16), p1), 16);
      v128.store(o, f64x2.add(v128.load(o, 32), p2), 32); v128.store(o, f64x2.add(v128.load(o, 48), p3), 48);
    }
  }
}

/** The f64 4 x 8 block at acc rounded to f32 into the block at m (rows `ldm` bytes apart), or added onto it (in f64, rounded once). */
// @ts-ignore: decorator
@inline function storeBlock(acc: usize, m: usize, ldm: usize, first: bool): void {
  for (let q = 0; q < 4; q++) {
    const a = acc + (<usize>q << 6), o = m + <usize>q * ldm;
    let p0 = v128.load(a), p1 = v128.load(a, 16), p2 = v128.load(a, 32), p3 = v128.load(a, 48);
    if (!first) {
      const v0 = v128.load(o), v1 = v128.load(o, 16);
      p0 = f64x2.add(p0, f64x2.promote_low_f32x4(v0)); p1 = f64x2.add(p1, promoteHigh(v0));
      p2 = f64x2.add(p2, f64x2.promote_low_f32x4(v1)); p3 = f64x2.add(p3, promoteHigh(v1));
    }
    v128.store(o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(p0), f32x4.demote_f64x2_zero(p1), 0, 1, 4, 5));
    v128.store(o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(p2), f32x4.demote_f64x2_zero(p3), 0, 1, 4, 5), 16);
  }
}

/** Row j of A'^T times the six f64x2 pairs at e, e + 32, .. (lanes 0, 1 | 2, 3) rounded to one f32x4. */
// @ts-ignore: decorator
@inline function gtRow32(j: i32, e: usize): v128 {
  const lo = gtRow(j, v128.load(e), v128.load(e, 32), v128.load(e, 64), v128.load(e, 96), v128.load(e, 128), v128.load(e, 160));
  const hi = gtRow(j, v128.load(e, 16), v128.load(e, 48), v128.load(e, 80), v128.load(e, 112), v128.load(e, 144), v128.load(e, 176));
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/**
 * gw = sum over n in n0 .. n1-1 of dL/dw for image n (overwritten, or added
 * onto gw when `accumulate`), for a 3x3 stride-1 convolution, by F(3x3, 4x4).
 */
export function conv2d_winograd4_filter(x: usize, gy: usize, gw: usize, g: usize, n0: i32, n1: i32, work: usize, accumulate: bool): void {
  const inC = gi(g, G.inC), inH = gi(g, G.inH), inW = gi(g, G.inW), outC = gi(g, G.outC);
  const pT = gi(g, G.padTop), pL = gi(g, G.padLeft), outH = gi(g, G.outH), outW = gi(g, G.outW);
  const th = tileRows(g), tw4 = tileRow4(g);
  const rb = filterRowsPerBatch4(g);
  const wp = padWidth(g);
  const maxTiles = rb * tw4;
  const ob4 = (outC + 3) >> 2, cb8 = (inC + 7) >> 3;
  const ldm = cb8 * 8; // floats per row of M_t
  const A = work; // Gy_t in panels of 4 output channels: ((t * ob4 + ob) * tiles + j) * 4 + q
  const B = A + (<usize>align16(36 * (ob4 * 4 * maxTiles + SKEW_FLOATS)) << 2); // X_t in panels of 8 input channels
  const M = B + (<usize>align16(36 * (cb8 * 8 * maxTiles + SKEW_FLOATS)) << 2); // M_t[oc4][ldm]
  const padBytes = <usize>align16((4 * rb + 2) * wp) << 2;
  const mStep = (<usize>(ob4 * 4 * ldm) << 2) + SKEW; // bytes from one M_t to the next
  const pads = M + (<usize>align16(36 * (ob4 * 4 * ldm + SKEW_FLOATS)) << 2);
  const stage = pads + 4 * padBytes;
  const tmp = stage + (576 << 2);
  if (n1 <= n0) {
    if (!accumulate) memory.fill(gw, 0, <usize>(outC * inC * 9) << 2);
    return;
  }
  const row = <usize>wp << 2;
  const quarter = <usize>(wp >> 2) << 2;
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
          padBand4(x + (<usize>((n * inC + c + q) * inH * inW) << 2), inH, inW, pT, pL, 4 * ty0, 4 * cnt + 2, pads + <usize>q * padBytes, wp);
        }
        if (nc < 4) memory.fill(stage, 0, 576 << 2);
        const dst = B + (<usize>((c >> 3) * tiles * 8 + (c & 7)) << 2);
        for (let ty = 0; ty < cnt; ty++) {
          for (let tx = 0; tx < tw4; tx += 4) {
            const off = <usize>(4 * ty * wp + tx) << 2;
            for (let q = 0; q < nc; q++) transformGroup4(pads + <usize>q * padBytes + off, row, quarter, stage + (<usize>q << 4), 64, tmp);
            unstage36(stage, dst + (<usize>((j0 + ty * tw4 + tx) * 8) << 2), 32, bStep);
          }
        }
      }
      // Gy: four output channels at a time (channels past outC are zero)
      for (let oc = 0; oc < ob4 * 4; oc += 4) {
        const nq = imin(4, outC - oc);
        for (let q = 0; q < nq; q++) {
          // dL/dy rows 4 ty0 .. of the band, zero-padded to whole tiles (rows of wp floats are wide enough)
          padBand4(gy + (<usize>((n * outC + oc + q) * outH * outW) << 2), outH, outW, 0, 0, 4 * ty0, 4 * cnt, pads + <usize>q * padBytes, wp);
        }
        if (nq < 4) memory.fill(stage, 0, 576 << 2);
        const dst = A + (<usize>((oc >> 2) * tiles * 4) << 2);
        for (let ty = 0; ty < cnt; ty++) {
          for (let tx = 0; tx < tw4; tx += 4) {
            const off = <usize>(4 * ty * wp + tx) << 2;
            for (let q = 0; q < nq; q++) gradGroup4(pads + <usize>q * padBytes + off, row, quarter, stage + (<usize>q << 4), 64, tmp);
            unstage36(stage, dst + (<usize>((j0 + ty * tw4 + tx) * 4) << 2), 16, aStep);
          }
        }
      }
      r += cnt;
    }
    // M_t (+)= Gy_t X_t^T, each 4 x 8 block summed over FILTER_K_BLOCK tiles at a time in f32, those
    // sums added in f64 (in `tmp`), the batch's sum added onto M (written by the first batch)
    const first = r0 == n0 * th;
    for (let t = 0; t < 36; t++) {
      const at = A + <usize>t * aStep, bt = B + <usize>t * bStep;
      const mt = M + <usize>t * mStep;
      for (let ob = 0; ob < ob4; ob++) {
        const ap = at + (<usize>(ob * tiles * 4) << 2);
        for (let cb = 0; cb < cb8; cb++) {
          const bp = bt + (<usize>(cb * tiles * 8) << 2);
          const mb = mt + (<usize>(ob * 4 * ldm + cb * 8) << 2);
          if (tiles <= FILTER_K_BLOCK) {
            // one block of tiles: straight onto M
            micro(ap, bp, tiles, mb, <usize>ldm << 2, first ? 0 : 1);
            continue;
          }
          for (let k0 = 0; k0 < tiles; k0 += FILTER_K_BLOCK) {
            micro(ap + (<usize>k0 << 4), bp + (<usize>k0 << 5), imin(FILTER_K_BLOCK, tiles - k0), stage, 32, 0);
            addBlock64(stage, tmp, k0 == 0);
          }
          storeBlock(tmp, mb, <usize>ldm << 2, first);
        }
      }
    }
  }
  // gw[oc, c] (+)= A'^T M A' (in f64, rounded to f32 once), four input channels at a time (two f64x2)
  for (let oc = 0; oc < outC; oc++) {
    for (let c0 = 0; c0 < inC; c0 += 4) {
      const m = M + (<usize>(oc * ldm + c0) << 2);
      // column b of A'^T M: e[i][b] = row i of A'^T times M_(6 a + b), a = 0..5, at tmp + i * 192 + b * 32
      for (let b = 0; b < 6; b++) {
        const s = m + <usize>b * mStep;
        gtColumn(s, mStep, tmp + (<usize>b << 5), 192);
      }
      // then each row e[i] times A': gw[oc, c0 + l][i][j] from lane l of w_j (through `stage`)
      const nc = imin(4, inC - c0);
      for (let i = 0; i < 3; i++) {
        const e = tmp + <usize>i * 192;
        v128.store(stage, gtRow32(0, e)); v128.store(stage, gtRow32(1, e), 16); v128.store(stage, gtRow32(2, e), 32);
        const o = gw + (<usize>((oc * inC + c0) * 9 + 3 * i) << 2);
        for (let l = 0; l < nc; l++) {
          const d = o + <usize>(36 * l);
          const w0 = load<f32>(stage + (<usize>l << 2)), w1 = load<f32>(stage + (<usize>l << 2), 16), w2 = load<f32>(stage + (<usize>l << 2), 32);
          if (accumulate) {
            store<f32>(d, load<f32>(d) + w0); store<f32>(d, load<f32>(d, 4) + w1, 4); store<f32>(d, load<f32>(d, 8) + w2, 8);
          } else {
            store<f32>(d, w0); store<f32>(d, w1, 4); store<f32>(d, w2, 8);
          }
        }
      }
    }
  }
}
