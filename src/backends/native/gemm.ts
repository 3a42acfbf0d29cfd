import type { FloatArray, KernelSignatures } from '../backend.js';
import { gemm as refGemm } from '../ref/gemm.js';
import { CBLAS_NO_TRANS, CBLAS_ROW_MAJOR, CBLAS_TRANS, type OpenBlas } from './openblas.js';

/** A view of `a` from `offset` on (no copy; koffi passes the view's first element to C). */
export function from(a: Float32Array, offset: number): Float32Array {
  return offset === 0 ? a : a.subarray(offset);
}

/**
 * Row-major sgemm with explicit leading dimensions and offsets:
 * C[cOff ...] = alpha * op(A) op(B) + beta * C, op(A) M x K, op(B) K x N.
 * The caller guarantees M, N, K >= 1.
 */
export type Sgemm = (
  transA: boolean, transB: boolean, M: number, N: number, K: number,
  alpha: number, A: Float32Array, aOff: number, lda: number, B: Float32Array, bOff: number, ldb: number,
  beta: number, C: Float32Array, cOff: number, ldc: number,
) => void;

/**
 * Products smaller than this many multiply-adds, or with fewer than
 * THREAD_MIN_SIDE rows or columns of C, run on one OpenBLAS thread. OpenBLAS
 * itself threads from 2^18 multiply-adds on. Measured on the 2-core machine:
 * a 64x84x120 product (0.6M) gains nothing from a second thread, a 64x120x400
 * one (3.1M) gains 25% when the machine is otherwise idle and loses 45% when
 * other processes compete for the cores, and skinny results lose always (6x25
 * from K = 65536: 0.89 ms on two threads, 0.51 ms on one). With
 * `singleThread` (oneDNN loaded, native/index.ts) every product runs on one.
 */
const THREAD_MIN_MACS = 1 << 21;
const THREAD_MIN_SIDE = 32;

export function makeSgemm(blas: OpenBlas, singleThread = false): Sgemm {
  const f = blas.sgemm;
  return (transA, transB, M, N, K, alpha, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc) => {
    const call = () => f(CBLAS_ROW_MAJOR, transA ? CBLAS_TRANS : CBLAS_NO_TRANS, transB ? CBLAS_TRANS : CBLAS_NO_TRANS,
      M, N, K, alpha, from(A, aOff), lda, from(B, bOff), ldb, beta, from(C, cOff), ldc);
    if (singleThread || M * N * K < THREAD_MIN_MACS || M < THREAD_MIN_SIDE || N < THREAD_MIN_SIDE) blas.withThreads(1, call);
    else call();
  };
}

/**
 * The `gemm` kernel on OpenBLAS (on one thread when `singleThread`): packed row-major
 * operands (lda = K or M, ldb = N or K, ldc = N). Float64 arrays (never
 * handed to a float32 backend by kernelsFor, but allowed by the type) go to
 * the reference loop. Empty products (K = 0) and alpha = 0 only scale C by
 * beta, as in `ref`, so a NaN already in C is cleared by beta = 0.
 */
export function makeGemm(blas: OpenBlas, singleThread = false): KernelSignatures['gemm'] {
  const sgemm = makeSgemm(blas, singleThread);
  return (transA, transB, M, N, K, alpha, A, aOff, B, bOff, beta, C, cOff) => {
    if (!(A instanceof Float32Array && B instanceof Float32Array && C instanceof Float32Array)) {
      refGemm(transA, transB, M, N, K, alpha, A, aOff, B, bOff, beta, C, cOff);
      return;
    }
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha === 0) {
      scale(C, cOff, M * N, beta);
      return;
    }
    sgemm(transA, transB, M, N, K, alpha, A, aOff, transA ? M : K, B, bOff, transB ? K : N, beta, C, cOff, N);
  };
}

function scale(C: FloatArray, off: number, n: number, beta: number): void {
  if (beta === 0) C.fill(0, off, off + n);
  else if (beta !== 1) for (let i = off; i < off + n; i++) C[i] *= beta;
}
