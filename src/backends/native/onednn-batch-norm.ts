/**
 * Batch normalization's normalization and gradients on oneDNN's primitives,
 * working in place on Stride's NCHW arrays (no copies, on the OpenMP
 * threads). The statistics stay with the fallback kernel (batchNormStats).
 *
 * Stride's kernels take the per-channel mean and invstd = 1 / sqrt(var + eps);
 * oneDNN takes mean and variance and an epsilon. Passing
 *   variance' = 1 / invstd^2   with   epsilon = 0
 * makes oneDNN's 1 / sqrt(variance' + 0) equal invstd to within a rounding
 * (both in float32), so both compute
 *   forward:           y  = weight * (x - mean) * invstd + bias
 *   backward, batch statistics (training):
 *                      gx = weight * invstd / M * (M gy - sum(gy) - xhat sum(gy xhat))
 *   backward, running statistics (eval):
 *                      gx = weight * invstd * gy
 *   both:              gweight = sum(gy xhat),  gbias = sum(gy)
 * with xhat = (x - mean) * invstd and M = batch * spatial (per channel).
 * A null weight is a scale of ones. Without gx (nothing upstream needs it)
 * the fallback runs, as for float64 arrays.
 */
import type { BatchNormGeometry, FloatArray, KernelSignatures } from '../backend.js';
import { DNNL, OP_DESC_BYTES, type OneDnn } from './onednn.js';
import { makePlanner, type Owned, type Plan } from './onednn-plan.js';

type BatchNormKernels = Pick<KernelSignatures, 'batchNorm2dForward' | 'batchNorm2dBackward'>;

export interface OneDnnBatchNorm {
  kernels: BatchNormKernels;
  release(): void;
}

export function makeOneDnnBatchNorm(dnnl: OneDnn, fallback: BatchNormKernels): OneDnnBatchNorm {
  const planner = makePlanner(dnnl);
  const { check, memoryDesc, primitiveDesc, plainPort, finish } = planner;
  const { api } = dnnl;

  const dataDesc = (g: BatchNormGeometry) => memoryDesc([g.batch, g.channels, g.spatial, 1], DNNL.tagNchw);
  const vectorDesc = (g: BatchNormGeometry) => memoryDesc([g.channels], DNNL.tagA);

  function forwardDesc(g: BatchNormGeometry, prop: number, flags: number): Uint8Array {
    const desc = new Uint8Array(OP_DESC_BYTES);
    check(api.batchNormForwardDescInit(desc, prop, dataDesc(g), 0, flags), 'batch normalization forward descriptor');
    return desc;
  }

  /** Forward with given statistics: ports x, mean, variance, [scale], [shift], y. */
  function buildForward(g: BatchNormGeometry, scale: boolean, shift: boolean, owned: Owned): Plan {
    const flags = DNNL.useGlobalStats | (scale ? DNNL.useScale : 0) | (shift ? DNNL.useShift : 0);
    const pd = primitiveDesc(forwardDesc(g, DNNL.forwardInference, flags), null, owned);
    return finish(pd, [
      plainPort(DNNL.argSrc, dataDesc(g), false, owned),
      plainPort(DNNL.argMean, vectorDesc(g), false, owned),
      plainPort(DNNL.argVariance, vectorDesc(g), false, owned),
      ...(scale ? [plainPort(DNNL.argScale, vectorDesc(g), false, owned)] : []),
      ...(shift ? [plainPort(DNNL.argShift, vectorDesc(g), false, owned)] : []),
      plainPort(DNNL.argDst, dataDesc(g), true, owned),
    ], owned);
  }

  /**
   * Backward: ports x, gy, mean, variance, scale, shift, gx, gweight, gbias. Always the
   * `dnnl_backward` propagation with scale and shift: oneDNN 2.6 refused `dnnl_backward_data`
   * with a scale, so gradients to weight and bias not asked for go to scratch arrays.
   */
  function buildBackward(g: BatchNormGeometry, training: boolean, owned: Owned): Plan {
    const flags = (training ? 0 : DNNL.useGlobalStats) | DNNL.useScale | DNNL.useShift;
    const hint = primitiveDesc(forwardDesc(g, DNNL.forwardTraining, flags), null, owned);
    const desc = new Uint8Array(OP_DESC_BYTES);
    check(api.batchNormBackwardDescInit(desc, DNNL.backward, dataDesc(g), dataDesc(g), 0, flags), 'batch normalization backward descriptor');
    const pd = primitiveDesc(desc, hint, owned);
    return finish(pd, [
      plainPort(DNNL.argSrc, dataDesc(g), false, owned),
      plainPort(DNNL.argDiffDst, dataDesc(g), false, owned),
      plainPort(DNNL.argMean, vectorDesc(g), false, owned),
      plainPort(DNNL.argVariance, vectorDesc(g), false, owned),
      plainPort(DNNL.argScale, vectorDesc(g), false, owned),
      // oneDNN 2.6 asks for the shift too, though the gradients do not read it
      plainPort(DNNL.argShift, vectorDesc(g), false, owned),
      plainPort(DNNL.argDiffSrc, dataDesc(g), true, owned),
      plainPort(DNNL.argDiffScale, vectorDesc(g), true, owned),
      plainPort(DNNL.argDiffShift, vectorDesc(g), true, owned),
    ], owned);
  }

  const key = (g: BatchNormGeometry) => `${dnnl.getThreads()}|${g.batch},${g.channels},${g.spatial}`;
  const usable = (g: BatchNormGeometry) => g.batch > 0 && g.channels > 0 && g.spatial > 0;
  const f32 = (...arrays: (FloatArray | null)[]) => arrays.every((a) => a === null || a instanceof Float32Array);

  /** variance' = 1 / invstd^2, so that oneDNN's 1 / sqrt(variance' + 0) is invstd. */
  function varianceOf(invstd: Float32Array): Float32Array {
    const v = new Float32Array(invstd.length);
    for (let c = 0; c < v.length; c++) v[c] = 1 / (invstd[c] * invstd[c]);
    return v;
  }

  const kernels: BatchNormKernels = {
    batchNorm2dForward(x, mean, invstd, weight, bias, g, y) {
      const p = usable(g) && f32(x, mean, invstd, weight, bias, y)
        ? planner.get(`bn forward ${+(weight !== null)}${+(bias !== null)}|${key(g)}`, (owned) => buildForward(g, weight !== null, bias !== null, owned))
        : null;
      if (!p) return fallback.batchNorm2dForward(x, mean, invstd, weight, bias, g, y);
      const arrays = [x, mean, varianceOf(invstd as Float32Array)];
      if (weight) arrays.push(weight);
      if (bias) arrays.push(bias);
      arrays.push(y);
      planner.run(p, arrays as Float32Array[]);
    },
    batchNorm2dBackward(x, gy, mean, invstd, weight, g, training, gx, gweight, gbias) {
      const p = gx !== null && usable(g) && f32(x, gy, mean, invstd, weight, gx, gweight, gbias)
        ? planner.get(`bn backward ${+training}|${key(g)}`, (owned) => buildBackward(g, training, owned))
        : null;
      if (!p) return fallback.batchNorm2dBackward(x, gy, mean, invstd, weight, g, training, gx, gweight, gbias);
      const C = g.channels;
      planner.run(p, [
        x, gy, mean, varianceOf(invstd as Float32Array), weight ?? new Float32Array(C).fill(1), new Float32Array(C),
        gx!, gweight ?? new Float32Array(C), gbias ?? new Float32Array(C),
      ] as Float32Array[]);
    },
  };

  return { kernels, release: planner.release };
}
