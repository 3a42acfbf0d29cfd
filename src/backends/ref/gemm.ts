import type { FloatArray } from '../backend.js';

/**
 * Reference GEMM: C = alpha * op(A) op(B) + beta * C, row-major.
 * Loop orders are chosen so the innermost loop walks memory contiguously
 * (i-k-j when B is not transposed, a dot product over k when it is), which is
 * what makes plain JavaScript usable here; blocking and SIMD belong to the
 * fast backends.
 */
export function gemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number,
  alpha: number, A: FloatArray, aOff: number, B: FloatArray, bOff: number,
  beta: number, C: FloatArray, cOff: number,
): void {
  // Scale C by beta first (beta = 0 overwrites, so NaN garbage in C never leaks).
  if (beta === 0) C.fill(0, cOff, cOff + M * N);
  else if (beta !== 1) for (let i = cOff; i < cOff + M * N; i++) C[i] *= beta;
  if (alpha === 0 || K === 0) return;

  if (!transB) {
    // C[i, :] += alpha * A[i, k] * B[k, :]
    for (let i = 0; i < M; i++) {
      const cRow = cOff + i * N;
      for (let k = 0; k < K; k++) {
        // No skipping of a = 0: 0 * NaN and 0 * inf must give NaN, as in any BLAS.
        const a = alpha * (transA ? A[aOff + k * M + i] : A[aOff + i * K + k]);
        const bRow = bOff + k * N;
        for (let j = 0; j < N; j++) C[cRow + j] += a * B[bRow + j];
      }
    }
  } else if (!transA) {
    // C[i, j] += alpha * dot(A[i, :], B[j, :])
    for (let i = 0; i < M; i++) {
      const aRow = aOff + i * K;
      const cRow = cOff + i * N;
      for (let j = 0; j < N; j++) {
        const bRow = bOff + j * K;
        let s = 0;
        for (let k = 0; k < K; k++) s += A[aRow + k] * B[bRow + k];
        C[cRow + j] += alpha * s;
      }
    }
  } else {
    // Both transposed: C[i, j] += alpha * sum_k A[k, i] * B[j, k]
    for (let i = 0; i < M; i++) {
      const cRow = cOff + i * N;
      for (let j = 0; j < N; j++) {
        const bRow = bOff + j * K;
        let s = 0;
        for (let k = 0; k < K; k++) s += A[aOff + k * M + i] * B[bRow + k];
        C[cRow + j] += alpha * s;
      }
    }
  }
}
