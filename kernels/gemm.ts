/**
 * Single-precision GEMM, row-major:
 *   C[m0:m1, n0:n1] = alpha * op(A) op(B) + beta * C   (the block of C one thread owns)
 * op(A) is M x K, stored M x K (lda >= K) or, transposed, K x M (lda >= M);
 * op(B) is K x N, stored K x N (ldb >= N) or, transposed, N x K (ldb >= K).
 *
 * The classic packed, register-tiled scheme (Goto & van de Geijn):
 *   for each NC-wide column block of B, for each KC-deep slice of K:
 *     pack the KC x NC block of op(B) into NR-wide panels (zero padded),
 *     for each MC-high row block of A:
 *       pack alpha * the MC x KC block of op(A) into MR-high panels,
 *       for every MR x NR (4 x 8) tile: the micro-kernel keeps the tile in
 *       8 f32x4 registers and streams both panels once over KC.
 * The first KC slice writes C = tile + beta * C (beta = 0 overwrites, so NaN
 * garbage in C never leaks); later slices add. Partial edge tiles go through
 * a small tile buffer.
 *
 * `work` is scratch for this call: WORK_FLOATS floats, 16-byte aligned.
 */
import { madd, imin } from './simd';

export const MR: i32 = 4;
export const NR: i32 = 8;
export const KC: i32 = 256;
export const MC: i32 = 64;
export const NC: i32 = 2048;

/** Floats of scratch one sgemm call needs: packed A, packed B, one tile. */
export const WORK_FLOATS: i32 = MC * KC + KC * NC + MR * NR;

export function gemmWorkFloats(): i32 {
  return WORK_FLOATS;
}

/** Packs alpha * op(A)[i0 .. i0+mc, p0 .. p0+kc] into MR-row panels: panel r holds, for each k, MR values (zero padded). */
function packA(transA: bool, A: usize, lda: i32, i0: i32, p0: i32, mc: i32, kc: i32, alpha: f32, dst: usize): void {
  const va = f32x4.splat(alpha);
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = imin(MR, mc - ir);
    if (transA) {
      // op(A)[i, k] = A[k * lda + i]: MR consecutive values per k.
      let src = A + ((<usize>p0 * lda + i0 + ir) << 2);
      const step = <usize>lda << 2;
      if (rows == MR) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, f32x4.mul(v128.load(src), va));
          src += step;
          dst += MR << 2;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let r = 0; r < MR; r++) {
            store<f32>(dst + (<usize>r << 2), r < rows ? load<f32>(src + (<usize>r << 2)) * alpha : 0);
          }
          src += step;
          dst += MR << 2;
        }
      }
    } else {
      // op(A)[i, k] = A[i * lda + k]: MR rows, each contiguous in k; transpose 4x4 blocks.
      const base = A + ((<usize>(i0 + ir) * lda + p0) << 2);
      const rs = <usize>lda << 2;
      if (rows == MR) {
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const o = base + (<usize>k << 2);
          const r0 = f32x4.mul(v128.load(o), va);
          const r1 = f32x4.mul(v128.load(o + rs), va);
          const r2 = f32x4.mul(v128.load(o + 2 * rs), va);
          const r3 = f32x4.mul(v128.load(o + 3 * rs), va);
          const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5); // a0 b0 a1 b1
          const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5); // c0 d0 c1 d1
          const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7); // a2 b2 a3 b3
          const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7); // c2 d2 c3 d3
          v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
          v128.store(dst, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
          v128.store(dst, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
          v128.store(dst, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
          dst += (MR * 4) << 2;
        }
        for (; k < kc; k++) {
          const o = base + (<usize>k << 2);
          for (let r = 0; r < MR; r++) store<f32>(dst + (<usize>r << 2), load<f32>(o + <usize>r * rs) * alpha);
          dst += MR << 2;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          const o = base + (<usize>k << 2);
          for (let r = 0; r < MR; r++) {
            store<f32>(dst + (<usize>r << 2), r < rows ? load<f32>(o + <usize>r * rs) * alpha : 0);
          }
          dst += MR << 2;
        }
      }
    }
  }
}

/** Packs op(B)[p0 .. p0+kc, j0 .. j0+nc] into NR-column panels: panel j holds, for each k, NR values. */
function packB(transB: bool, B: usize, ldb: i32, p0: i32, j0: i32, kc: i32, nc: i32, dst: usize): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = imin(NR, nc - jr);
    if (!transB) {
      // op(B)[k, j] = B[k * ldb + j]: NR consecutive values per k.
      let src = B + ((<usize>p0 * ldb + j0 + jr) << 2);
      const step = <usize>ldb << 2;
      if (cols == NR) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
          src += step;
          dst += NR << 2;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          for (let c = 0; c < NR; c++) store<f32>(dst + (<usize>c << 2), c < cols ? load<f32>(src + (<usize>c << 2)) : 0);
          src += step;
          dst += NR << 2;
        }
      }
    } else {
      // op(B)[k, j] = B[j * ldb + k]: NR rows of B, each contiguous in k; transpose 4x4 blocks.
      const base = B + ((<usize>(j0 + jr) * ldb + p0) << 2);
      const rs = <usize>ldb << 2;
      if (cols == NR) {
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const o = <usize>k << 2;
          for (let h = 0; h < 2; h++) {
            const b = base + <usize>(h * 4) * rs + o;
            const r0 = v128.load(b);
            const r1 = v128.load(b + rs);
            const r2 = v128.load(b + 2 * rs);
            const r3 = v128.load(b + 3 * rs);
            const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
            const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
            const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
            const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
            const d = dst + (<usize>h << 4);
            v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
            v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 32);
            v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 64);
            v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 96);
          }
          dst += (NR * 4) << 2;
        }
        for (; k < kc; k++) {
          const o = <usize>k << 2;
          for (let c = 0; c < NR; c++) store<f32>(dst + (<usize>c << 2), load<f32>(base + <usize>c * rs + o));
          dst += NR << 2;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          const o = <usize>k << 2;
          for (let c = 0; c < NR; c++) store<f32>(dst + (<usize>c << 2), c < cols ? load<f32>(base + <usize>c * rs + o) : 0);
          dst += NR << 2;
        }
      }
    }
  }
}

/**
 * The 4x8 micro-kernel: tile = sum over k of a[k, 0..4] (outer) b[k, 0..8],
 * then C = tile + bv * C (bv = 0: C = tile) for the tile at c (row stride ldc
 * bytes). 8 accumulators, 2 B vectors and a broadcast A value stay within the
 * 15 xmm registers V8 allocates on x64; a 6x8 tile spilled (14 vs 29 GFLOPS).
 * b's rows are bstep bytes apart: 32 in a packed panel, more when the kernel
 * reads B where it lies (microStrided).
 */
// @ts-ignore: decorator
@inline export function micro(a: usize, b: usize, kc: i32, c: usize, ldc: usize, bv: f32): void {
  microStrided(a, b, NR << 2, kc, c, ldc, bv);
}

// @ts-ignore: decorator
@inline function microStrided(a: usize, b: usize, bstep: usize, kc: i32, c: usize, ldc: usize, bv: f32): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a);
    c00 = madd(a0, b0, c00); c01 = madd(a0, b1, c01);
    const a1 = v128.load32_splat(a, 4);
    c10 = madd(a1, b0, c10); c11 = madd(a1, b1, c11);
    const a2 = v128.load32_splat(a, 8);
    c20 = madd(a2, b0, c20); c21 = madd(a2, b1, c21);
    const a3 = v128.load32_splat(a, 12);
    c30 = madd(a3, b0, c30); c31 = madd(a3, b1, c31);
    a += MR << 2;
    b += bstep;
  }
  if (bv == 0) {
    v128.store(c, c00); v128.store(c, c01, 16); c += ldc;
    v128.store(c, c10); v128.store(c, c11, 16); c += ldc;
    v128.store(c, c20); v128.store(c, c21, 16); c += ldc;
    v128.store(c, c30); v128.store(c, c31, 16);
  } else {
    const vb = f32x4.splat(bv);
    v128.store(c, madd(v128.load(c), vb, c00)); v128.store(c, madd(v128.load(c, 16), vb, c01), 16); c += ldc;
    v128.store(c, madd(v128.load(c), vb, c10)); v128.store(c, madd(v128.load(c, 16), vb, c11), 16); c += ldc;
    v128.store(c, madd(v128.load(c), vb, c20)); v128.store(c, madd(v128.load(c, 16), vb, c21), 16); c += ldc;
    v128.store(c, madd(v128.load(c), vb, c30)); v128.store(c, madd(v128.load(c, 16), vb, c31), 16);
  }
}

/** C[i, j] = beta * C[i, j] over the block (beta = 0 writes zeros). */
function scaleBlock(C: usize, ldc: i32, m0: i32, m1: i32, n0: i32, n1: i32, beta: f32): void {
  if (beta == 1) return;
  for (let i = m0; i < m1; i++) {
    const row = C + ((<usize>i * ldc) << 2);
    if (beta == 0) memory.fill(row + (<usize>n0 << 2), 0, <usize>(n1 - n0) << 2);
    else for (let j = n0; j < n1; j++) store<f32>(row + (<usize>j << 2), load<f32>(row + (<usize>j << 2)) * beta);
  }
}

export function sgemm(
  transA: bool, transB: bool, M: i32, N: i32, K: i32, alpha: f32,
  A: usize, lda: i32, B: usize, ldb: i32, beta: f32, C: usize, ldc: i32,
  m0: i32, m1: i32, n0: i32, n1: i32, work: usize,
): void {
  if (m1 <= m0 || n1 <= n0) return;
  if (K == 0 || alpha == 0) {
    scaleBlock(C, ldc, m0, m1, n0, n1, beta);
    return;
  }
  const pa = work;
  const pb = pa + (<usize>(MC * KC) << 2);
  const tile = pb + (<usize>(KC * NC) << 2);
  const ldcb = <usize>ldc << 2;
  // One block of at most MC rows of A: each 8-column panel of B serves at most MC / MR tiles right
  // away, from L1, so B is read where it lies (rows ldb apart) instead of being packed first; only
  // a last panel narrower than 8 columns is packed (zero-padded). Not when ldb is a multiple of 64
  // floats: the panel's rows would crowd a few L1 sets (rows 4 KiB apart all share one set).
  const direct = !transB && m1 - m0 <= MC && (ldb & 63) != 0;
  for (let jc = n0; jc < n1; jc += NC) {
    const nc = imin(NC, n1 - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = imin(KC, K - pc);
      const first = pc == 0;
      const bv: f32 = first ? beta : 1;
      if (!direct) packB(transB, B, ldb, pc, jc, kc, nc, pb);
      for (let ic = m0; ic < m1; ic += MC) {
        const mc = imin(MC, m1 - ic);
        packA(transA, A, lda, ic, pc, mc, kc, alpha, pa);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = imin(NR, nc - jr);
          let bp = pb + (<usize>(jr * kc) << 2);
          let bstep: usize = NR << 2;
          if (direct) {
            if (cols == NR) {
              bp = B + ((<usize>pc * ldb + jc + jr) << 2);
              bstep = <usize>ldb << 2;
            } else {
              packB(false, B, ldb, pc, jc + jr, kc, cols, pb);
              bp = pb;
            }
          }
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = imin(MR, mc - ir);
            const ap = pa + (<usize>(ir * kc) << 2);
            const c = C + ((<usize>(ic + ir) * ldc + jc + jr) << 2);
            if (rows == MR && cols == NR) {
              microStrided(ap, bp, bstep, kc, c, ldcb, bv);
            } else {
              microStrided(ap, bp, bstep, kc, tile, NR << 2, 0);
              for (let r = 0; r < rows; r++) {
                const cr = c + <usize>r * ldcb;
                const tr = tile + (<usize>(r * NR) << 2);
                for (let q = 0; q < cols; q++) {
                  const t = load<f32>(tr + (<usize>q << 2));
                  const p = cr + (<usize>q << 2);
                  store<f32>(p, bv == 0 ? t : t + bv * load<f32>(p));
                }
              }
            }
          }
        }
      }
    }
  }
}
