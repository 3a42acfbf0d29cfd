/**
 * Convolution (forward, input gradient, filter and bias gradient) on oneDNN's
 * primitives: the JIT-compiled AVX-512 / AVX2 kernels that Debian's PyTorch
 * runs for its own CPU convolutions, including Winograd F(4x4, 3x3) where
 * oneDNN judges it faster (`dnnl_convolution_auto`).
 *
 * For each geometry and pass a *plan* is built once and cached: the
 * operation and primitive descriptors (layouts left to oneDNN, `format_tag
 * any`), the primitive, and for every tensor argument a memory object in
 * Stride's plain layout (NCHW / OIHW / GOIHW) plus, when oneDNN prefers a
 * blocked layout (nChw16c, OIhw16i16o...), a buffer of its own and the
 * reorder between the two. A call then only points the plain memory objects
 * at the caller's arrays, reorders the inputs in, executes, and reorders the
 * outputs back.
 *
 * Geometries oneDNN refuses (a descriptor call that fails, e.g. a negative
 * padBottom / padRight: an output that never reads the last input rows) are
 * remembered, and the layout does not apply to them: the next layout of the
 * table takes them (conv.ts), as it does float64 arrays.
 */
import type { Conv2dGeometry } from '../backend.js';
import { selectConv, type ConvKernels, type ConvLayout, type ConvPass as Pass } from './conv-layout.js';
import { created, DNNL, OP_DESC_BYTES, type OneDnn } from './onednn.js';
import { makePlanner, type Owned, type Plan } from './onednn-plan.js';

export interface OneDnnConvLayout {
  /** The layout for the native backend's table (conv.ts): it applies where oneDNN builds a primitive. */
  layout: ConvLayout;
  /** The implementation oneDNN chose for a pass over a geometry ("jit:avx512_core", ...), or null when it refused it. */
  implementation(pass: Pass, g: Conv2dGeometry, bias: boolean): string | null;
  /** Destroys every cached plan (their memory is returned to oneDNN). */
  release(): void;
}

export interface OneDnnConv extends OneDnnConvLayout {
  /** The layout alone, over `fallback`. */
  kernels: ConvKernels;
}

/**
 * Convolution on oneDNN alone (the tests use it to check oneDNN by itself): its layout, with `fallback` for the geometries
 * and arrays oneDNN does not take.
 */
export function makeOneDnnConv(dnnl: OneDnn, fallback: ConvKernels): OneDnnConv {
  const conv = makeOneDnnConvLayout(dnnl);
  return { ...conv, kernels: selectConv([conv.layout], fallback) };
}

/** Convolution on oneDNN's primitives, as a layout of the native backend's table. */
export function makeOneDnnConvLayout(dnnl: OneDnn): OneDnnConvLayout {
  const { api } = dnnl;
  const planner = makePlanner(dnnl);
  const { check, i64, memoryDesc, primitiveDesc, finish } = planner;

  /** The plain-layout dims and tags of a geometry's operands. */
  function shapes(g: Conv2dGeometry) {
    const cg = g.inC / g.groups;
    const og = g.outC / g.groups;
    const weights = g.groups === 1 ? { dims: [g.outC, cg, g.kH, g.kW], tag: DNNL.tagOihw } : { dims: [g.groups, og, cg, g.kH, g.kW], tag: DNNL.tagGoihw };
    return {
      src: [g.batch, g.inC, g.inH, g.inW],
      dst: [g.batch, g.outC, g.outH, g.outW],
      weights,
      bias: [g.outC],
      strides: i64([g.strideH, g.strideW]),
      // oneDNN counts dilation from 0 (no gaps), PyTorch from 1
      dilates: i64([g.dilationH - 1, g.dilationW - 1]),
      padL: i64([g.padTop, g.padLeft]),
      padR: i64([g.padBottom, g.padRight]),
    };
  }

  function geometryKey(g: Conv2dGeometry): string {
    return [g.batch, g.inC, g.inH, g.inW, g.outC, g.kH, g.kW, g.strideH, g.strideW, g.padTop, g.padLeft, g.dilationH, g.dilationW, g.groups, g.outH, g.outW].join(',');
  }

  function forwardDesc(g: Conv2dGeometry, bias: boolean, prop: number = DNNL.forwardTraining): Uint8Array {
    const s = shapes(g);
    const desc = new Uint8Array(OP_DESC_BYTES);
    check(api.convForwardDescInit(
      desc, prop, DNNL.convolutionAuto,
      memoryDesc(s.src, DNNL.tagAny), memoryDesc(s.weights.dims, DNNL.tagAny), bias ? memoryDesc(s.bias, DNNL.tagA) : null, memoryDesc(s.dst, DNNL.tagAny),
      s.strides, s.dilates, s.padL, s.padR,
    ), 'convolution forward descriptor');
    return desc;
  }

  function build(pass: Pass, g: Conv2dGeometry, bias: boolean, owned: Owned): Plan {
    const s = shapes(g);
    if (pass === 'forward') {
      const pd = primitiveDesc(forwardDesc(g, bias), null, owned);
      const ports = [
        planner.port(pd, DNNL.querySrcMd, 0, DNNL.argSrc, memoryDesc(s.src, DNNL.tagNchw), false, owned),
        planner.port(pd, DNNL.queryWeightsMd, 0, DNNL.argWeights, memoryDesc(s.weights.dims, s.weights.tag), false, owned),
        ...(bias ? [planner.port(pd, DNNL.queryWeightsMd, 1, DNNL.argBias, memoryDesc(s.bias, DNNL.tagA), false, owned)] : []),
        planner.port(pd, DNNL.queryDstMd, 0, DNNL.argDst, memoryDesc(s.dst, DNNL.tagNchw), true, owned),
      ];
      return finish(pd, ports, owned);
    }
    const hint = primitiveDesc(forwardDesc(g, bias), null, owned);
    const desc = new Uint8Array(OP_DESC_BYTES);
    if (pass === 'backwardInput') {
      check(api.convBackwardDataDescInit(
        desc, DNNL.convolutionAuto, memoryDesc(s.src, DNNL.tagAny), memoryDesc(s.weights.dims, DNNL.tagAny), memoryDesc(s.dst, DNNL.tagAny),
        s.strides, s.dilates, s.padL, s.padR,
      ), 'convolution backward-data descriptor');
      const pd = primitiveDesc(desc, hint, owned);
      return finish(pd, [
        planner.port(pd, DNNL.queryDiffDstMd, 0, DNNL.argDiffDst, memoryDesc(s.dst, DNNL.tagNchw), false, owned),
        planner.port(pd, DNNL.queryWeightsMd, 0, DNNL.argWeights, memoryDesc(s.weights.dims, s.weights.tag), false, owned),
        planner.port(pd, DNNL.queryDiffSrcMd, 0, DNNL.argDiffSrc, memoryDesc(s.src, DNNL.tagNchw), true, owned),
      ], owned);
    }
    check(api.convBackwardWeightsDescInit(
      desc, DNNL.convolutionAuto, memoryDesc(s.src, DNNL.tagAny), memoryDesc(s.weights.dims, DNNL.tagAny), bias ? memoryDesc(s.bias, DNNL.tagA) : null, memoryDesc(s.dst, DNNL.tagAny),
      s.strides, s.dilates, s.padL, s.padR,
    ), 'convolution backward-weights descriptor');
    const pd = primitiveDesc(desc, hint, owned);
    return finish(pd, [
      planner.port(pd, DNNL.querySrcMd, 0, DNNL.argSrc, memoryDesc(s.src, DNNL.tagNchw), false, owned),
      planner.port(pd, DNNL.queryDiffDstMd, 0, DNNL.argDiffDst, memoryDesc(s.dst, DNNL.tagNchw), false, owned),
      planner.port(pd, DNNL.queryDiffWeightsMd, 0, DNNL.argDiffWeights, memoryDesc(s.weights.dims, s.weights.tag), true, owned),
      ...(bias ? [planner.port(pd, DNNL.queryDiffWeightsMd, 1, DNNL.argDiffBias, memoryDesc(s.bias, DNNL.tagA), true, owned)] : []),
    ], owned);
  }

  /**
   * The forward pass with its epilogue as post-ops: `sum` (dst += the residual, which copyInto
   * puts in dst's buffer first) then `relu` (a NaN gives 0, as Stride's relu; see onednn-chain.ts
   * for why not `clip`). Ports: x, w, bias (when given), y, residual (when given).
   * This is a chain step's rule for a residual it may not overwrite (onednn-chain.ts): here the
   * residual is always the caller's plain array, so it is always reordered in. On one thread that
   * costs what a separate add and ReLU cost (32 images of 64 channels, 32x32: 16.7 ms fused,
   * 17.5 ms as conv2d + add + relu; 16.4 and 16.5 ms on 8 images of 256 channels, 14x14).
   */
  function buildFused(g: Conv2dGeometry, bias: boolean, residual: boolean, relu: boolean, owned: Owned): Plan {
    const s = shapes(g);
    const postOps = created((out) => api.postOpsCreate(out), 'post-ops');
    let attr: ReturnType<typeof created> | null = null;
    try {
      if (residual) check(api.postOpsAppendSum(postOps, 1), 'sum post-op');
      if (relu) check(api.postOpsAppendEltwise(postOps, 1, DNNL.eltwiseRelu, 0, 0), 'eltwise post-op');
      attr = created((out) => api.primitiveAttrCreate(out), 'primitive attributes');
      check(api.primitiveAttrSetPostOps(attr, postOps), 'set post-ops');
      const pd = primitiveDesc(forwardDesc(g, bias, DNNL.forwardTraining), null, owned, attr);
      const dst = planner.port(pd, DNNL.queryDstMd, 0, DNNL.argDst, memoryDesc(s.dst, DNNL.tagNchw), true, owned);
      const ports = [
        planner.port(pd, DNNL.querySrcMd, 0, DNNL.argSrc, memoryDesc(s.src, DNNL.tagNchw), false, owned),
        planner.port(pd, DNNL.queryWeightsMd, 0, DNNL.argWeights, memoryDesc(s.weights.dims, s.weights.tag), false, owned),
        ...(bias ? [planner.port(pd, DNNL.queryWeightsMd, 1, DNNL.argBias, memoryDesc(s.bias, DNNL.tagA), false, owned)] : []),
        dst,
        ...(residual ? [planner.copyInto(dst, memoryDesc(s.dst, DNNL.tagNchw), api.queryMd(pd, DNNL.queryDstMd, 0), owned)] : []),
      ];
      return finish(pd, ports, owned);
    } finally {
      if (attr) api.primitiveAttrDestroy(attr);
      api.postOpsDestroy(postOps);
    }
  }

  function fusedPlan(g: Conv2dGeometry, bias: boolean, residual: boolean, relu: boolean): Plan | null {
    if (g.batch === 0 || g.inC === 0 || g.outC === 0 || g.outH <= 0 || g.outW <= 0) return null;
    const key = `conv fused|${bias ? 1 : 0}${residual ? 1 : 0}${relu ? 1 : 0}|${dnnl.getThreads()}|${geometryKey(g)}`;
    return planner.get(key, (owned) => buildFused(g, bias, residual, relu, owned));
  }

  function plan(pass: Pass, g: Conv2dGeometry, bias: boolean): Plan | null {
    if (g.batch === 0 || g.inC === 0 || g.outC === 0 || g.outH <= 0 || g.outW <= 0) return null;
    return planner.get(`conv ${pass}|${bias ? 1 : 0}|${dnnl.getThreads()}|${geometryKey(g)}`, (owned) => build(pass, g, bias, owned));
  }

  // The plan applies() just found, taken by the pass the table runs next (one lookup per call).
  let found: { pass: Pass; g: Conv2dGeometry; bias: boolean; plan: Plan } | null = null;

  function applies(pass: Pass, g: Conv2dGeometry, bias: boolean): boolean {
    const p = plan(pass, g, bias);
    found = p ? { pass, g, bias, plan: p } : null;
    return p !== null;
  }

  /** The plan applies() found for this pass, else a lookup (a pass called outside the table). */
  function take(pass: Pass, g: Conv2dGeometry, bias: boolean): Plan {
    const hit = found?.pass === pass && found.g === g && found.bias === bias ? found.plan : plan(pass, g, bias);
    found = null;
    if (!hit) throw new Error(`oneDNN convolution: no ${pass} primitive for this geometry; run the layout only where applies() is true`);
    return hit;
  }

  const layout: ConvLayout = {
    applies,
    forward(x, w, b, g, y) {
      planner.run(take('forward', g, b !== null), b ? [x, w, b, y] : [x, w, y]);
    },
    forwardFused(x, w, b, g, residual, relu, y) {
      found = null;
      const p = fusedPlan(g, b !== null, residual !== null, relu);
      if (!p) return false;
      const arrays = b ? [x, w, b, y] : [x, w, y];
      if (residual) arrays.push(residual);
      planner.run(p, arrays);
      return true;
    },
    backwardInput(gy, w, g, gx) {
      planner.run(take('backwardInput', g, false), [gy, w, gx]);
    },
    backwardFilter(x, gy, g, gw, gb) {
      planner.run(take('backwardFilter', g, gb !== null), gb ? [x, gy, gw, gb] : [x, gy, gw]);
    },
  };

  return {
    layout,
    implementation(pass, g, bias) {
      return plan(pass, g, bias)?.impl ?? null;
    },
    release() {
      found = null;
      planner.release();
    },
  };
}
