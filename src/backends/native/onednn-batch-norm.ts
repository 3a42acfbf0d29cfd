/**
 * Batch normalization's statistics, normalization and gradients on oneDNN's
 * primitives, on Stride's NCHW arrays (on the OpenMP threads).
 *
 * oneDNN's JIT-compiled batch normalization takes channel-blocked data only
 * (nChw16c, nChw8c); on plain NCHW it runs `ncsp_bnorm`, C++ that Debian
 * compiles for baseline x86-64: on the ResNet-block net's [32, 64, 32, 32]
 * activations, one thread, 2.9 ms for a forward pass with given statistics
 * and 6.9 ms for the gradients. So:
 *
 * - the forward pass is one per-channel affine map on NCHW itself,
 *     y = x * scale[c] + shift[c],  scale = weight * invstd,  shift = bias - mean * scale
 *   (the form of PyTorch's CPU kernel): a JIT-compiled binary multiplication
 *   by a per-channel vector with the addition as its post-op, one pass
 *   (0.55 ms there);
 * - the gradients are two binary maps and two plane sums on NCHW:
 *     t = (x - mean) * gy (into a data-sized scratch array kept between
 *     calls), then the sums of t and of gy over each plane (oneDNN's
 *     reduction over the rows of a [batch * channels, spatial] matrix),
 *     added up over the batch per channel in float64, then
 *     gx = ((x - mean) * r + s + gy) * k   (training),   gx = gy * k   (eval)
 *   with k = weight * invstd, r = -invstd * sum(gy xhat) / M, s = -sum(gy) / M
 *   (2.9 ms there, against 4.4-5.6 ms for the blocked primitive below with
 *   its three reorders);
 * - the statistics likewise: the mean of each plane, their mean per channel,
 *   then t = (x - mean)^2 (a binary map with squaring as its post-op) and
 *   the sum of each plane of it (0.66 ms there, against 1.3-1.7 ms for the
 *   blocked primitive's training-mode forward pass with its reorder).
 *
 * Where oneDNN has no JIT kernel for one of the binary maps or sums (or with
 * `binary: false`), the batch normalization primitive runs instead: in a
 * blocked layout with reorders where oneDNN has a JIT kernel for one (the
 * statistics then from its training-mode forward pass, whose normalized
 * output stays in the planner's arena: a scratch port), else on NCHW, where
 * the statistics stay with the fallback kernel.
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
 *
 * The statistics are the mean and the biased variance, the mean first and
 * then the squared deviations from it, as batchNormStats asks.
 */
import type { BatchNormGeometry, FloatArray, KernelSignatures } from '../backend.js';
import { created, DNNL, OP_DESC_BYTES, type Handle, type OneDnn } from './onednn.js';
import { makePlanner, MAX_PLANS, type Owned, type Plan } from './onednn-plan.js';
import { buildRowReduction, REDUCTION_MEAN, REDUCTION_SUM } from './onednn-reduction.js';

type BatchNormKernels = Pick<KernelSignatures, 'batchNormStats' | 'batchNorm2dForward' | 'batchNorm2dBackward'>;

/** dnnl_binary_mul and dnnl_binary_sub (dnnl_types.h of 2.6.3). */
const BINARY_MUL = 131057;
const BINARY_SUB = 131061;
/** The second operand of post-op i: DNNL_ARG_ATTR_MULTIPLE_POST_OP(i) | DNNL_ARG_SRC_1. */
const postOpArg = (i: number) => (16384 * (i + 1)) | DNNL.argSrc1;

/** An operand of a binary map: a per-channel vector (broadcast over batch and space) or a tensor shaped like the data. */
type Operand = 'channel' | 'data';
/** A post-op of a binary map: a binary operation with its operand, or squaring. */
type PostOp = readonly [number, Operand] | 'square';
/** dnnl_eltwise_square. */
const ELTWISE_SQUARE = 79;

/** The data layout a geometry's plans use: a blocked tag, or NCHW itself. */
export type BatchNormLayout = 'nChw16c' | 'nChw8c' | 'nchw';

export interface OneDnnBatchNormOptions {
  /** Whether plans may reorder into a channel-blocked layout (default true; false keeps NCHW, as the tests compare). */
  blocked?: boolean;
  /**
   * Whether the forward pass and the gradients run as per-channel binary maps and plane
   * reductions on NCHW itself (default true; false runs the batch normalization primitive).
   */
  binary?: boolean;
}

export interface OneDnnBatchNorm {
  kernels: BatchNormKernels;
  /** The layout the plans of this geometry use. */
  layout(g: BatchNormGeometry): BatchNormLayout;
  release(): void;
}

export function makeOneDnnBatchNorm(dnnl: OneDnn, fallback: BatchNormKernels, options: OneDnnBatchNormOptions = {}): OneDnnBatchNorm {
  // six plans per geometry in training: plane means, plane sums, and the maps centeredSquare, affine, centeredProduct, gradient
  const planner = makePlanner(dnnl, 4 * MAX_PLANS);
  const { check, memoryDesc, primitiveDesc, plainPort, finish } = planner;
  const { api } = dnnl;
  const allowBlocked = options.blocked ?? true;
  const useBinary = options.binary ?? true;

  const dims = (g: BatchNormGeometry) => [g.batch, g.channels, g.spatial, 1];
  const plainDesc = (g: BatchNormGeometry) => memoryDesc(dims(g), DNNL.tagNchw);
  const vectorDesc = (g: BatchNormGeometry) => memoryDesc([g.channels], DNNL.tagA);
  const TAGS: Record<BatchNormLayout, number> = { nChw16c: DNNL.tagNChw16c, nChw8c: DNNL.tagNChw8c, nchw: DNNL.tagNchw };

  function forwardDesc(data: Uint8Array, prop: number, flags: number): Uint8Array {
    const desc = new Uint8Array(OP_DESC_BYTES);
    check(api.batchNormForwardDescInit(desc, prop, data, 0, flags), 'batch normalization forward descriptor');
    return desc;
  }

  /**
   * The first blocked layout oneDNN runs a JIT kernel on for this geometry (16 channels a block
   * first, 8 first when the channels are not a multiple of 16), else NCHW; asked once per geometry.
   */
  const layouts = new Map<string, BatchNormLayout>();
  function layoutOf(g: BatchNormGeometry): BatchNormLayout {
    const k = `${g.batch},${g.channels},${g.spatial}`;
    let found = layouts.get(k);
    if (found !== undefined) return found;
    found = 'nchw';
    if (allowBlocked) {
      const order: BatchNormLayout[] = g.channels % 16 === 0 ? ['nChw16c', 'nChw8c'] : ['nChw8c', 'nChw16c'];
      for (const layout of order) {
        const owned: Owned = { primitives: [], memories: [], descs: [] };
        try {
          const pd = primitiveDesc(forwardDesc(memoryDesc(dims(g), TAGS[layout]), DNNL.forwardTraining, DNNL.useScale | DNNL.useShift), null, owned);
          const out: [string | null] = [null];
          api.queryString(pd, DNNL.queryImplInfoStr, 0, out);
          if (out[0]?.includes('jit')) {
            found = layout;
            break;
          }
        } catch {
          // this layout is refused: try the next
        } finally {
          for (const d of owned.descs) api.primitiveDescDestroy(d);
        }
      }
    }
    layouts.set(k, found);
    return found;
  }

  const dataDesc = (g: BatchNormGeometry) => memoryDesc(dims(g), TAGS[layoutOf(g)]);

  /** Forward with given statistics: ports x, mean, variance, [scale], [shift], y. */
  function buildForward(g: BatchNormGeometry, scale: boolean, shift: boolean, owned: Owned): Plan {
    const flags = DNNL.useGlobalStats | (scale ? DNNL.useScale : 0) | (shift ? DNNL.useShift : 0);
    const pd = primitiveDesc(forwardDesc(dataDesc(g), DNNL.forwardInference, flags), null, owned);
    return finish(pd, [
      planner.port(pd, DNNL.querySrcMd, 0, DNNL.argSrc, plainDesc(g), false, owned),
      plainPort(DNNL.argMean, vectorDesc(g), false, owned),
      plainPort(DNNL.argVariance, vectorDesc(g), false, owned),
      ...(scale ? [plainPort(DNNL.argScale, vectorDesc(g), false, owned)] : []),
      ...(shift ? [plainPort(DNNL.argShift, vectorDesc(g), false, owned)] : []),
      planner.port(pd, DNNL.queryDstMd, 0, DNNL.argDst, plainDesc(g), true, owned),
    ], owned);
  }

  /**
   * A chain of element-wise binary operations on NCHW data: dst = ((src0 op src1) post1 operand1)
   * post2 operand2 ..., each operand a per-channel vector or a data-shaped tensor, in one pass
   * (a JIT binary primitive, its later operations as post-ops). Ports src0, src1, the post-ops'
   * operands in order, dst. Throws where oneDNN has no JIT kernel for it, so the planner
   * remembers the refusal and the caller's other path runs.
   */
  function buildBinary(g: BatchNormGeometry, alg: number, src1: Operand, posts: readonly PostOp[], owned: Owned): Plan {
    const md = (o: Operand) => (o === 'channel' ? memoryDesc([1, g.channels, 1, 1], DNNL.tagNchw) : plainDesc(g));
    const postOps = created((out) => api.postOpsCreate(out), 'post-ops');
    let attr: Handle | null = null;
    try {
      for (const op of posts) {
        if (op === 'square') check(api.postOpsAppendEltwise(postOps, 1, ELTWISE_SQUARE, 0, 0), 'eltwise post-op');
        else check(api.postOpsAppendBinary(postOps, op[0], md(op[1])), 'binary post-op');
      }
      attr = created((out) => api.primitiveAttrCreate(out), 'primitive attributes');
      check(api.primitiveAttrSetPostOps(attr, postOps), 'set post-ops');
      const desc = new Uint8Array(OP_DESC_BYTES);
      check(api.binaryDescInit(desc, alg, plainDesc(g), md(src1), plainDesc(g)), 'binary descriptor');
      const pd = primitiveDesc(desc, null, owned, attr);
      const out: [string | null] = [null];
      api.queryString(pd, DNNL.queryImplInfoStr, 0, out);
      if (!out[0]?.includes('jit')) throw new Error(`no JIT kernel for the per-channel binary map (${out[0]})`);
      return finish(pd, [
        plainPort(DNNL.argSrc, plainDesc(g), false, owned),
        plainPort(DNNL.argSrc1, md(src1), false, owned),
        ...posts.flatMap((op, i) => (op === 'square' ? [] : [plainPort(postOpArg(i), md(op[1]), false, owned)])),
        plainPort(DNNL.argDst, plainDesc(g), true, owned),
      ], owned);
    } finally {
      if (attr) api.primitiveAttrDestroy(attr);
      api.postOpsDestroy(postOps);
    }
  }

  /** What each plan of the binary path computes (see the kernels below). */
  const BINARY_MAPS = {
    // y = x * scale + shift
    affine: [BINARY_MUL, [[DNNL.binaryAdd, 'channel']]],
    // t = (x - mean)^2
    centeredSquare: [BINARY_SUB, ['square']],
    // t = (x - mean) * gy
    centeredProduct: [BINARY_SUB, [[BINARY_MUL, 'data']]],
    // gx = ((x - mean) * r + s + gy) * k
    gradient: [BINARY_SUB, [[BINARY_MUL, 'channel'], [DNNL.binaryAdd, 'channel'], [DNNL.binaryAdd, 'data'], [BINARY_MUL, 'channel']]],
    // gx = gy * k
    scaled: [BINARY_MUL, []],
  } as const satisfies Record<string, readonly [number, readonly PostOp[]]>;

  /** The plan of one binary map for this geometry (its second operand a per-channel vector); null where oneDNN refused it. */
  const binaryPlan = (g: BatchNormGeometry, map: keyof typeof BINARY_MAPS) =>
    planner.get(`bn ${map}|${key(g)}`, (owned) => buildBinary(g, BINARY_MAPS[map][0], 'channel', BINARY_MAPS[map][1], owned));

  /** The plan summing (or averaging) each plane of this geometry; null where oneDNN refused it. */
  const planePlan = (g: BatchNormGeometry, alg: 'sum' | 'mean') =>
    planner.get(`bn plane ${alg}|${dnnl.getThreads()}|${g.batch * g.channels},${g.spatial}`, (owned) =>
      buildRowReduction(planner, alg === 'sum' ? REDUCTION_SUM : REDUCTION_MEAN, g.batch * g.channels, g.spatial, owned));

  /** Data-sized scratch (the centered products of the gradients), kept and grown between calls. */
  let scratch = new Float32Array(0);
  function scratchOf(n: number): Float32Array {
    if (scratch.length < n) scratch = new Float32Array(n);
    return scratch.subarray(0, n);
  }

  /** The batch statistics: ports x, mean, variance (the normalized data goes to the arena). */
  function buildStats(g: BatchNormGeometry, owned: Owned): Plan {
    const pd = primitiveDesc(forwardDesc(dataDesc(g), DNNL.forwardTraining, 0), null, owned);
    return finish(pd, [
      planner.port(pd, DNNL.querySrcMd, 0, DNNL.argSrc, plainDesc(g), false, owned),
      plainPort(DNNL.argMean, vectorDesc(g), true, owned),
      plainPort(DNNL.argVariance, vectorDesc(g), true, owned),
      planner.scratchPort(pd, DNNL.queryDstMd, 0, DNNL.argDst, owned),
    ], owned);
  }

  /**
   * Backward: ports x, gy, mean, variance, scale, shift, gx, gweight, gbias. Always the
   * `dnnl_backward` propagation with scale and shift: oneDNN 2.6 refused `dnnl_backward_data`
   * with a scale, so gradients to weight and bias not asked for go to scratch arrays.
   */
  function buildBackward(g: BatchNormGeometry, training: boolean, owned: Owned): Plan {
    const flags = (training ? 0 : DNNL.useGlobalStats) | DNNL.useScale | DNNL.useShift;
    const data = dataDesc(g);
    const hint = primitiveDesc(forwardDesc(data, DNNL.forwardTraining, flags), null, owned);
    const desc = new Uint8Array(OP_DESC_BYTES);
    check(api.batchNormBackwardDescInit(desc, DNNL.backward, data, data, 0, flags), 'batch normalization backward descriptor');
    const pd = primitiveDesc(desc, hint, owned);
    return finish(pd, [
      planner.port(pd, DNNL.querySrcMd, 0, DNNL.argSrc, plainDesc(g), false, owned),
      planner.port(pd, DNNL.queryDiffDstMd, 0, DNNL.argDiffDst, plainDesc(g), false, owned),
      plainPort(DNNL.argMean, vectorDesc(g), false, owned),
      plainPort(DNNL.argVariance, vectorDesc(g), false, owned),
      plainPort(DNNL.argScale, vectorDesc(g), false, owned),
      // oneDNN 2.6 asks for the shift too, though the gradients do not read it
      plainPort(DNNL.argShift, vectorDesc(g), false, owned),
      planner.port(pd, DNNL.queryDiffSrcMd, 0, DNNL.argDiffSrc, plainDesc(g), true, owned),
      plainPort(DNNL.argDiffScale, vectorDesc(g), true, owned),
      plainPort(DNNL.argDiffShift, vectorDesc(g), true, owned),
    ], owned);
  }

  const key = (g: BatchNormGeometry) => `${dnnl.getThreads()}|${g.batch},${g.channels},${g.spatial}`;
  const usable = (g: BatchNormGeometry) => g.batch > 0 && g.channels > 0 && g.spatial > 0;
  const f32 = (...arrays: (FloatArray | null)[]) => arrays.every((a) => a === null || a instanceof Float32Array);

  /** Per-channel arrays kept between calls (a training step allocates none): by use, then channel count. */
  const vectors = new Map<string, Float32Array>();
  function vector(use: 'variance' | 'ones' | 'shift' | 'gweight' | 'gbias' | 'scale' | 'shift by' | 'plane sums' | 'k' | 'r' | 's', channels: number): Float32Array {
    const k = `${use} ${channels}`;
    let v = vectors.get(k);
    if (v === undefined) {
      v = new Float32Array(channels);
      if (use === 'ones') v.fill(1);
      vectors.set(k, v);
    }
    return v;
  }

  /** Per-channel totals over the batch of per-plane sums ([batch, channels] in order), in float64. */
  const totals = new Map<string, Float64Array>();
  function channelTotals(sums: Float32Array, batch: number, channels: number, use: string): Float64Array {
    const k = `${use} ${channels}`;
    let out = totals.get(k);
    if (out === undefined) totals.set(k, (out = new Float64Array(channels)));
    out.fill(0);
    for (let n = 0; n < batch; n++) for (let c = 0; c < channels; c++) out[c] += sums[n * channels + c];
    return out;
  }

  /** variance' = 1 / invstd^2, so that oneDNN's 1 / sqrt(variance' + 0) is invstd. */
  function varianceOf(invstd: Float32Array): Float32Array {
    const v = vector('variance', invstd.length);
    for (let c = 0; c < v.length; c++) v[c] = 1 / (invstd[c] * invstd[c]);
    return v;
  }

  const kernels: BatchNormKernels = {
    batchNormStats(x, g, mean, variance) {
      const binary = useBinary && usable(g) && f32(x, mean, variance);
      const means = binary ? planePlan(g, 'mean') : null;
      const square = means ? binaryPlan(g, 'centeredSquare') : null;
      const sumPlan = square ? planePlan(g, 'sum') : null;
      if (means && square && sumPlan) {
        // the plane means, their mean per channel; the planes' sums of squared deviations from it, their total per channel
        const { batch, channels: C } = g;
        const sums = vector('plane sums', batch * C);
        planner.run(means, [x as Float32Array, sums]);
        const total = channelTotals(sums, batch, C, 'mean');
        for (let c = 0; c < C; c++) mean[c] = total[c] / batch;
        const t = scratchOf(x.length);
        planner.run(square, [x, mean, t] as Float32Array[]);
        planner.run(sumPlan, [t, sums]);
        const squares = channelTotals(sums, batch, C, 'squares');
        for (let c = 0; c < C; c++) variance[c] = squares[c] / (batch * g.spatial);
        return;
      }
      const p = usable(g) && f32(x, mean, variance) && layoutOf(g) !== 'nchw'
        ? planner.get(`bn stats|${key(g)}`, (owned) => buildStats(g, owned))
        : null;
      if (!p) return fallback.batchNormStats(x, g, mean, variance);
      planner.run(p, [x, mean, variance] as Float32Array[]);
    },
    batchNorm2dForward(x, mean, invstd, weight, bias, g, y) {
      const affine = useBinary && usable(g) && f32(x, mean, invstd, weight, bias, y) ? binaryPlan(g, 'affine') : null;
      if (affine) {
        const C = g.channels;
        const scale = vector('scale', C);
        const shift = vector('shift by', C);
        for (let c = 0; c < C; c++) {
          const a = (weight ? weight[c] : 1) * invstd[c];
          scale[c] = a;
          shift[c] = (bias ? bias[c] : 0) - mean[c] * a;
        }
        planner.run(affine, [x, scale, shift, y] as Float32Array[]);
        return;
      }
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
      const binary = gx !== null && useBinary && usable(g) && f32(x, gy, mean, invstd, weight, gx, gweight, gbias);
      const product = binary ? binaryPlan(g, 'centeredProduct') : null;
      const sumPlan = product ? planePlan(g, 'sum') : null;
      const last = sumPlan ? binaryPlan(g, training ? 'gradient' : 'scaled') : null;
      if (product && sumPlan && last) {
        const { batch, channels: C } = g;
        const M = batch * g.spatial;
        // per plane: sum(gy), sum((x - mean) * gy); then per channel over the batch, in float64
        const t = scratchOf(x.length);
        const sums = vector('plane sums', batch * C);
        planner.run(product, [x, mean, gy, t] as Float32Array[]);
        planner.run(sumPlan, [t, sums]);
        const sumCentered = channelTotals(sums, batch, C, 'centered');
        planner.run(sumPlan, [gy as Float32Array, sums]);
        const sumGy = channelTotals(sums, batch, C, 'gy');
        const k = vector('k', C);
        const r = vector('r', C);
        const s = vector('s', C);
        for (let c = 0; c < C; c++) {
          const is = invstd[c];
          const sumGyXhat = is * sumCentered[c];
          if (gweight) gweight[c] = sumGyXhat;
          if (gbias) gbias[c] = sumGy[c];
          k[c] = (weight ? weight[c] : 1) * is;
          r[c] = (-is * sumGyXhat) / M;
          s[c] = -sumGy[c] / M;
        }
        if (training) planner.run(last, [x, mean, r, s, gy, k, gx!] as Float32Array[]);
        else planner.run(last, [gy, k, gx!] as Float32Array[]);
        return;
      }
      const p = gx !== null && usable(g) && f32(x, gy, mean, invstd, weight, gx, gweight, gbias)
        ? planner.get(`bn backward ${+training}|${key(g)}`, (owned) => buildBackward(g, training, owned))
        : null;
      if (!p) return fallback.batchNorm2dBackward(x, gy, mean, invstd, weight, g, training, gx, gweight, gbias);
      const C = g.channels;
      planner.run(p, [
        x, gy, mean, varianceOf(invstd as Float32Array), weight ?? vector('ones', C), vector('shift', C),
        gx!, gweight ?? vector('gweight', C), gbias ?? vector('gbias', C),
      ] as Float32Array[]);
    },
  };

  return {
    kernels,
    layout: (g) => (usable(g) ? layoutOf(g) : 'nchw'),
    release() {
      planner.release();
      layouts.clear();
      vectors.clear();
      totals.clear();
      scratch = new Float32Array(0);
    },
  };
}
