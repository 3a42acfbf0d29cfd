/**
 * The `gemm` kernel on oneDNN's matmul primitive (its JIT brgemm kernels, on
 * the same OpenMP threads as its convolutions): C = op(A) op(B) with the
 * transposes expressed as memory strides, so nothing is copied.
 *
 * Only what Stride's ops ask for goes here (alpha = 1, beta = 0 or 1, float32,
 * non-empty; beta = 1, C += op(A) op(B), is the `sum` post-op: linear layers
 * start C as the bias rows); other calls go to `fallback` (OpenBLAS). oneDNN's other GEMM
 * entry point, dnnl_sgemm, is not used: it corrupted the malloc heap whenever
 * the process took SIGPROF (node --cpu-prof), which the primitives do not.
 */
import type { FloatArray, KernelSignatures } from '../backend.js';
import { created, DNNL, OP_DESC_BYTES, type Handle, type OneDnn } from './onednn.js';
import { makePlanner, type Owned, type Plan } from './onednn-plan.js';

type Gemm = KernelSignatures['gemm'];

export interface OneDnnGemm {
  gemm: Gemm;
  /** The implementation oneDNN chose for a product, or null when it goes to the fallback. */
  implementation(transA: boolean, transB: boolean, M: number, N: number, K: number): string | null;
  release(): void;
}

export function makeOneDnnGemm(dnnl: OneDnn, fallback: Gemm): OneDnnGemm {
  const planner = makePlanner(dnnl);
  const { check, stridedDesc, primitiveDesc, finish } = planner;

  function build(transA: boolean, transB: boolean, M: number, N: number, K: number, accumulate: boolean, owned: Owned): Plan {
    // row-major A [M, K] (stored [K, M] when transposed), B [K, N] (stored [N, K]), C [M, N]
    const a = stridedDesc([M, K], transA ? [1, M] : [K, 1]);
    const b = stridedDesc([K, N], transB ? [1, K] : [N, 1]);
    const c = stridedDesc([M, N], [N, 1]);
    const desc = new Uint8Array(OP_DESC_BYTES);
    check(dnnl.api.matmulDescInit(desc, a, b, null, c), 'matmul descriptor');
    let pd: Handle;
    if (accumulate) {
      const { api } = dnnl;
      const postOps = created((out) => api.postOpsCreate(out), 'post-ops');
      let attr: Handle | null = null;
      try {
        check(api.postOpsAppendSum(postOps, 1), 'sum post-op');
        attr = created((out) => api.primitiveAttrCreate(out), 'primitive attributes');
        check(api.primitiveAttrSetPostOps(attr, postOps), 'set post-ops');
        pd = primitiveDesc(desc, null, owned, attr);
      } finally {
        if (attr) api.primitiveAttrDestroy(attr);
        api.postOpsDestroy(postOps);
      }
    } else pd = primitiveDesc(desc, null, owned);
    return finish(pd, [
      planner.port(pd, DNNL.querySrcMd, 0, DNNL.argSrc, a, false, owned),
      planner.port(pd, DNNL.queryWeightsMd, 0, DNNL.argWeights, b, false, owned),
      planner.port(pd, DNNL.queryDstMd, 0, DNNL.argDst, c, true, owned),
    ], owned);
  }

  function plan(transA: boolean, transB: boolean, M: number, N: number, K: number, accumulate = false): Plan | null {
    if (M <= 0 || N <= 0 || K <= 0) return null;
    return planner.get(`matmul ${+transA}${+transB}${+accumulate}|${dnnl.getThreads()}|${M},${N},${K}`, (owned) => build(transA, transB, M, N, K, accumulate, owned));
  }

  const f32 = (...arrays: FloatArray[]) => arrays.every((x) => x instanceof Float32Array);

  const gemm: Gemm = (transA, transB, M, N, K, alpha, A, aOff, B, bOff, beta, C, cOff) => {
    const p = alpha === 1 && (beta === 0 || beta === 1) && f32(A, B, C) ? plan(transA, transB, M, N, K, beta === 1) : null;
    if (!p) return fallback(transA, transB, M, N, K, alpha, A, aOff, B, bOff, beta, C, cOff);
    const view = (x: FloatArray, off: number) => (off === 0 ? x : x.subarray(off)) as Float32Array;
    planner.run(p, [view(A, aOff), view(B, bOff), view(C, cOff)]);
  };

  return {
    gemm,
    implementation: (transA, transB, M, N, K) => plan(transA, transB, M, N, K)?.impl ?? null,
    release: planner.release,
  };
}
