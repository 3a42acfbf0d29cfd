/**
 * Global average pooling (an adaptive average pool to 1x1, what ResNets end
 * with) on oneDNN's `reduction` primitive: the planes as the rows of a
 * [planes, inH * inW] matrix, each reduced to its mean, in place on the
 * caller's arrays (JIT-compiled, on the OpenMP threads). The base kernel
 * copies the whole input into wasm memory first: on the ResNet-block net's
 * [32, 64, 32, 32] activations that call took 2.4 ms of a training step.
 * The mean is summed in float32 (the reference sums in float64), so it
 * agrees with the reference to float32 rounding. Its gradient (gy / area
 * spread over each plane, 1.4 ms there on the base kernel) is a oneDNN
 * matrix product of that column with a row of ones, the reference's float32
 * values exactly. The row reduction serves batch normalization too
 * (onednn-batch-norm.ts).
 *
 * Other output sizes, float64 and inputs below MIN_ELEMENTS go to the
 * fallback.
 */
import type { AdaptivePool2dGeometry, FloatArray, KernelSignatures } from '../backend.js';
import { DNNL, OP_DESC_BYTES, type OneDnn } from './onednn.js';
import { makePlanner, type Owned, type Plan, type Planner } from './onednn-plan.js';
import { MIN_ELEMENTS } from './onednn-elementwise.js';

type ReductionKernels = Pick<KernelSignatures, 'adaptiveAvgPool2dForward' | 'adaptiveAvgPool2dBackward'>;

/** dnnl_reduction_sum and dnnl_reduction_mean (dnnl_types.h of 2.6.3). */
export const REDUCTION_SUM = 196596;
export const REDUCTION_MEAN = 196598;

/**
 * A plan reducing each row of a row-major [rows, length] matrix to one value (`alg`: sum or
 * mean): ports src, dst. Throws where oneDNN has no JIT kernel for it (its reference one is
 * slower than any fallback), so that the planner remembers the refusal.
 */
export function buildRowReduction(planner: Planner, alg: number, rows: number, length: number, owned: Owned): Plan {
  const { api } = planner.dnnl;
  const src = planner.memoryDesc([rows, length], DNNL.tagAb);
  const dst = planner.memoryDesc([rows, 1], DNNL.tagAb);
  const desc = new Uint8Array(OP_DESC_BYTES);
  planner.check(api.reductionDescInit(desc, alg, src, dst, 0, 0), 'reduction descriptor');
  const pd = planner.primitiveDesc(desc, null, owned);
  const out: [string | null] = [null];
  api.queryString(pd, DNNL.queryImplInfoStr, 0, out);
  if (!out[0]?.includes('jit')) throw new Error(`no JIT kernel for the reduction (${out[0]})`);
  return planner.finish(pd, [planner.plainPort(DNNL.argSrc, src, false, owned), planner.plainPort(DNNL.argDst, dst, true, owned)], owned);
}

export interface OneDnnReduction {
  kernels: ReductionKernels;
  /** oneDNN's implementation for global pooling of `planes` planes of `area` values, or null when it runs elsewhere. */
  implementation(planes: number, area: number): string | null;
  release(): void;
}

export function makeOneDnnReduction(dnnl: OneDnn, fallback: ReductionKernels): OneDnnReduction {
  const planner = makePlanner(dnnl);
  const { api } = dnnl;
  const plan = (planes: number, area: number) => planner.get(`mean ${dnnl.getThreads()}|${planes},${area}`, (owned) => buildRowReduction(planner, REDUCTION_MEAN, planes, area, owned));

  /**
   * The gradient of global pooling spreads gy[p] / area over plane p: the outer product of the
   * column of those values with a row of ones, a matrix product with K = 1 (each value times 1,
   * so the same float32 values as the reference). Ports: the column, the ones, gx.
   */
  function buildSpread(planes: number, area: number, owned: Owned): Plan {
    const column = planner.memoryDesc([planes, 1], DNNL.tagAb);
    const ones = planner.memoryDesc([1, area], DNNL.tagAb);
    const dst = planner.memoryDesc([planes, area], DNNL.tagAb);
    const desc = new Uint8Array(OP_DESC_BYTES);
    planner.check(api.matmulDescInit(desc, column, ones, null, dst), 'matmul descriptor');
    const pd = planner.primitiveDesc(desc, null, owned);
    const out: [string | null] = [null];
    api.queryString(pd, DNNL.queryImplInfoStr, 0, out);
    if (out[0]?.startsWith('ref')) throw new Error(`no optimized kernel for the outer product (${out[0]})`);
    return planner.finish(pd, [
      planner.port(pd, DNNL.querySrcMd, 0, DNNL.argSrc, column, false, owned),
      planner.port(pd, DNNL.queryWeightsMd, 0, DNNL.argWeights, ones, false, owned),
      planner.port(pd, DNNL.queryDstMd, 0, DNNL.argDst, dst, true, owned),
    ], owned);
  }
  const spread = (planes: number, area: number) => planner.get(`spread ${dnnl.getThreads()}|${planes},${area}`, (owned) => buildSpread(planes, area, owned));

  /** Arrays kept between calls: the row of ones and the column of gy / area, by length. */
  const kept = new Map<string, Float32Array>();
  function keep(use: 'ones' | 'column', n: number): Float32Array {
    const k = `${use} ${n}`;
    let a = kept.get(k);
    if (a === undefined) {
      kept.set(k, (a = new Float32Array(n)));
      if (use === 'ones') a.fill(1);
    }
    return a;
  }

  const global = (g: AdaptivePool2dGeometry, big: FloatArray, small: FloatArray) =>
    g.outH === 1 && g.outW === 1 && g.planes > 0 && g.inH * g.inW > 0 && big instanceof Float32Array && small instanceof Float32Array && big.length >= MIN_ELEMENTS;

  const kernels: ReductionKernels = {
    adaptiveAvgPool2dForward(x, g, y) {
      const p = global(g, x, y) ? plan(g.planes, g.inH * g.inW) : null;
      if (!p) return fallback.adaptiveAvgPool2dForward(x, g, y);
      planner.run(p, [x as Float32Array, y as Float32Array]);
    },
    adaptiveAvgPool2dBackward(gy, g, gx) {
      const area = g.inH * g.inW;
      const p = global(g, gx, gy) ? spread(g.planes, area) : null;
      if (!p) return fallback.adaptiveAvgPool2dBackward(gy, g, gx);
      const column = keep('column', g.planes);
      for (let i = 0; i < g.planes; i++) column[i] = gy[i] / area;
      planner.run(p, [column, keep('ones', area), gx as Float32Array]);
    },
  };

  return {
    kernels,
    implementation: (planes, area) => plan(planes, area)?.impl ?? null,
    release() {
      planner.release();
      kept.clear();
    },
  };
}
