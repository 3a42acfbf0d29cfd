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
 * Geometries oneDNN refuses (a descriptor call that fails, e.g. an output
 * that floors away input rows, which makes the right padding negative) are
 * remembered and go to the fallback kernels, as do float64 arrays.
 */
import type { Conv2dGeometry, FloatArray, KernelSignatures } from '../backend.js';
import { created, DNNL, MEMORY_DESC_BYTES, OP_DESC_BYTES, type Handle, type OneDnn } from './onednn.js';

type ConvKernels = Pick<KernelSignatures, 'conv2dForward' | 'conv2dBackwardInput' | 'conv2dBackwardFilter'>;

/** One tensor argument of a primitive. */
interface Port {
  /** dnnl_exec_arg_t code (DNNL_ARG_SRC...). */
  arg: number;
  /** The memory object in Stride's layout; its buffer is the caller's array, set per call. */
  user: Handle;
  /** oneDNN's own buffer in its preferred layout, or null when that is the plain layout. */
  inner: Handle | null;
  /** The reorder user -> inner (an input) or inner -> user (an output), and its argument list. */
  reorder: Handle | null;
  reorderArgs: Uint8Array | null;
  output: boolean;
}

interface Plan {
  primitive: Handle;
  args: Uint8Array;
  ports: Port[];
  /** oneDNN's name for the implementation it chose, e.g. "jit_wino_4x3:avx512_core". */
  impl: string;
  /** Everything to destroy when the plan is evicted. */
  owned: { primitives: Handle[]; memories: Handle[]; descs: Handle[] };
}

/** Plans kept at most (each holds blocked copies of its operands); the oldest is dropped first. */
const MAX_PLANS = 48;

export interface OneDnnConv {
  kernels: ConvKernels;
  /** The implementation oneDNN chose for a pass over a geometry ("jit:avx512_core", ...), or null when it refused it. */
  implementation(pass: 'forward' | 'backwardInput' | 'backwardFilter', g: Conv2dGeometry, bias: boolean): string | null;
  /** Destroys every cached plan (their memory is returned to oneDNN). */
  release(): void;
}

/**
 * Convolution kernels on oneDNN, with `fallback` for the geometries and
 * arrays oneDNN does not take.
 */
export function makeOneDnnConv(dnnl: OneDnn, fallback: ConvKernels): OneDnnConv {
  const { api, engine, stream } = dnnl;
  const plans = new Map<string, Plan | null>();

  function check(status: number, what: string): void {
    if (status !== DNNL.success) throw new Error(`oneDNN ${what} failed with status ${status}`);
  }

  function i64(values: number[]): BigInt64Array {
    return BigInt64Array.from(values.map((v) => BigInt(v)));
  }

  function memoryDesc(dims: number[], tag: number): Uint8Array {
    const md = new Uint8Array(MEMORY_DESC_BYTES);
    check(api.memoryDescInitByTag(md, dims.length, i64(dims), DNNL.f32, tag), 'memory descriptor');
    return md;
  }

  function execArgs(list: [number, Handle][]): Uint8Array {
    const buf = new Uint8Array(16 * list.length);
    const view = new DataView(buf.buffer);
    list.forEach(([arg, memory], i) => {
      view.setInt32(16 * i, arg, true);
      view.setBigUint64(16 * i + 8, api.address(memory), true);
    });
    return buf;
  }

  /** The plain-layout dims and tags of a geometry's operands. */
  function shapes(g: Conv2dGeometry) {
    const cg = g.inC / g.groups;
    const og = g.outC / g.groups;
    const weights = g.groups === 1 ? { dims: [g.outC, cg, g.kH, g.kW], tag: DNNL.tagOihw } : { dims: [g.groups, og, cg, g.kH, g.kW], tag: DNNL.tagGoihw };
    const padR = [
      (g.outH - 1) * g.strideH + (g.kH - 1) * g.dilationH + 1 - g.inH - g.padTop,
      (g.outW - 1) * g.strideW + (g.kW - 1) * g.dilationW + 1 - g.inW - g.padLeft,
    ];
    return {
      src: [g.batch, g.inC, g.inH, g.inW],
      dst: [g.batch, g.outC, g.outH, g.outW],
      weights,
      bias: [g.outC],
      strides: i64([g.strideH, g.strideW]),
      // oneDNN counts dilation from 0 (no gaps), PyTorch from 1
      dilates: i64([g.dilationH - 1, g.dilationW - 1]),
      padL: i64([g.padTop, g.padLeft]),
      padR: i64(padR),
    };
  }

  function geometryKey(g: Conv2dGeometry): string {
    return [g.batch, g.inC, g.inH, g.inW, g.outC, g.kH, g.kW, g.strideH, g.strideW, g.padTop, g.padLeft, g.dilationH, g.dilationW, g.groups, g.outH, g.outW].join(',');
  }

  function primitiveDesc(opDesc: Uint8Array, hint: Handle | null, owned: Plan['owned']): Handle {
    const pd = created((out) => api.primitiveDescCreate(out, opDesc, null, engine, hint), 'primitive descriptor');
    owned.descs.push(pd);
    return pd;
  }

  function forwardDesc(g: Conv2dGeometry, bias: boolean): Uint8Array {
    const s = shapes(g);
    const desc = new Uint8Array(OP_DESC_BYTES);
    check(api.convForwardDescInit(
      desc, DNNL.forwardTraining, DNNL.convolutionAuto,
      memoryDesc(s.src, DNNL.tagAny), memoryDesc(s.weights.dims, DNNL.tagAny), bias ? memoryDesc(s.bias, DNNL.tagA) : null, memoryDesc(s.dst, DNNL.tagAny),
      s.strides, s.dilates, s.padL, s.padR,
    ), 'convolution forward descriptor');
    return desc;
  }

  /**
   * A port for argument `arg` whose layout the primitive descriptor `pd` reports under `query`
   * (index 1 of the weights queries is the bias).
   */
  function port(pd: Handle, query: number, arg: number, dims: number[], tag: number, output: boolean, owned: Plan['owned'], index = 0): Port {
    const userMd = memoryDesc(dims, tag);
    const user = created((out) => api.memoryCreate(out, userMd, engine, null), 'memory');
    owned.memories.push(user);
    const want = api.queryMd(pd, query, index);
    if (api.memoryDescEqual(userMd, want)) return { arg, user, inner: null, reorder: null, reorderArgs: null, output };
    const inner = created((out) => api.memoryCreateOwned(out, want, engine, -1n), 'memory');
    owned.memories.push(inner);
    const rpd = created((out) => (output ? api.reorderDescCreate(out, want, engine, userMd, engine, null) : api.reorderDescCreate(out, userMd, engine, want, engine, null)), 'reorder descriptor');
    owned.descs.push(rpd);
    const reorder = created((out) => api.primitiveCreate(out, rpd), 'reorder');
    owned.primitives.push(reorder);
    const reorderArgs = execArgs(output ? [[DNNL.argFrom, inner], [DNNL.argTo, user]] : [[DNNL.argFrom, user], [DNNL.argTo, inner]]);
    return { arg, user, inner, reorder, reorderArgs, output };
  }

  function finish(pd: Handle, ports: Port[], owned: Plan['owned']): Plan {
    const primitive = created((out) => api.primitiveCreate(out, pd), 'primitive');
    owned.primitives.push(primitive);
    const out: [string | null] = [null];
    api.queryString(pd, DNNL.queryImplInfoStr, 0, out);
    return { primitive, args: execArgs(ports.map((p) => [p.arg, p.inner ?? p.user])), ports, impl: out[0] ?? '?', owned };
  }

  function build(pass: 'forward' | 'backwardInput' | 'backwardFilter', g: Conv2dGeometry, bias: boolean): Plan {
    const s = shapes(g);
    const owned: Plan['owned'] = { primitives: [], memories: [], descs: [] };
    try {
      if (pass === 'forward') {
        const pd = primitiveDesc(forwardDesc(g, bias), null, owned);
        const ports = [
          port(pd, DNNL.querySrcMd, DNNL.argSrc, s.src, DNNL.tagNchw, false, owned),
          port(pd, DNNL.queryWeightsMd, DNNL.argWeights, s.weights.dims, s.weights.tag, false, owned),
          ...(bias ? [port(pd, DNNL.queryWeightsMd, DNNL.argBias, s.bias, DNNL.tagA, false, owned, 1)] : []),
          port(pd, DNNL.queryDstMd, DNNL.argDst, s.dst, DNNL.tagNchw, true, owned),
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
          port(pd, DNNL.queryDiffDstMd, DNNL.argDiffDst, s.dst, DNNL.tagNchw, false, owned),
          port(pd, DNNL.queryWeightsMd, DNNL.argWeights, s.weights.dims, s.weights.tag, false, owned),
          port(pd, DNNL.queryDiffSrcMd, DNNL.argDiffSrc, s.src, DNNL.tagNchw, true, owned),
        ], owned);
      }
      check(api.convBackwardWeightsDescInit(
        desc, DNNL.convolutionAuto, memoryDesc(s.src, DNNL.tagAny), memoryDesc(s.weights.dims, DNNL.tagAny), bias ? memoryDesc(s.bias, DNNL.tagA) : null, memoryDesc(s.dst, DNNL.tagAny),
        s.strides, s.dilates, s.padL, s.padR,
      ), 'convolution backward-weights descriptor');
      const pd = primitiveDesc(desc, hint, owned);
      return finish(pd, [
        port(pd, DNNL.querySrcMd, DNNL.argSrc, s.src, DNNL.tagNchw, false, owned),
        port(pd, DNNL.queryDiffDstMd, DNNL.argDiffDst, s.dst, DNNL.tagNchw, false, owned),
        port(pd, DNNL.queryDiffWeightsMd, DNNL.argDiffWeights, s.weights.dims, s.weights.tag, true, owned),
        ...(bias ? [port(pd, DNNL.queryDiffWeightsMd, DNNL.argDiffBias, s.bias, DNNL.tagA, true, owned, 1)] : []),
      ], owned);
    } catch (e) {
      destroy(owned);
      throw e;
    }
  }

  function destroy(owned: Plan['owned']): void {
    for (const p of owned.primitives) api.primitiveDestroy(p);
    for (const m of owned.memories) api.memoryDestroy(m);
    for (const d of owned.descs) api.primitiveDescDestroy(d);
  }

  function plan(pass: 'forward' | 'backwardInput' | 'backwardFilter', g: Conv2dGeometry, bias: boolean): Plan | null {
    const key = `${pass}|${bias ? 1 : 0}|${dnnl.getThreads()}|${geometryKey(g)}`;
    const hit = plans.get(key);
    if (hit !== undefined) {
      // most recently used last, so eviction takes the oldest
      plans.delete(key);
      plans.set(key, hit);
      return hit;
    }
    let made: Plan | null = null;
    const empty = g.batch === 0 || g.inC === 0 || g.outC === 0 || g.outH <= 0 || g.outW <= 0;
    if (!empty) {
      try {
        made = build(pass, g, bias);
      } catch {
        made = null; // oneDNN refused this geometry: the fallback takes it
      }
    }
    if (plans.size >= MAX_PLANS) {
      const [oldKey, old] = plans.entries().next().value as [string, Plan | null];
      plans.delete(oldKey);
      if (old) destroy(old.owned);
    }
    plans.set(key, made);
    return made;
  }

  /** Runs a plan on the caller's arrays, one per port in port order. */
  function run(p: Plan, arrays: Float32Array[]): void {
    for (let i = 0; i < p.ports.length; i++) check(api.memorySetDataHandle(p.ports[i].user, arrays[i]), 'set data handle');
    for (const q of p.ports) if (!q.output && q.reorder) check(api.execute(q.reorder, stream, 2, q.reorderArgs!), 'reorder');
    check(api.execute(p.primitive, stream, p.ports.length, p.args), 'convolution');
    for (const q of p.ports) if (q.output && q.reorder) check(api.execute(q.reorder, stream, 2, q.reorderArgs!), 'reorder');
    check(api.streamWait(stream), 'stream wait');
  }

  const isF32 = (...arrays: (FloatArray | null)[]) => arrays.every((a) => a === null || a instanceof Float32Array);

  const kernels: ConvKernels = {
    conv2dForward(x, w, b, g, y) {
      const p = isF32(x, w, b, y) ? plan('forward', g, b !== null) : null;
      if (!p) return fallback.conv2dForward(x, w, b, g, y);
      run(p, (b ? [x, w, b, y] : [x, w, y]) as Float32Array[]);
    },
    conv2dBackwardInput(gy, w, g, gx) {
      const p = isF32(gy, w, gx) ? plan('backwardInput', g, false) : null;
      if (!p) return fallback.conv2dBackwardInput(gy, w, g, gx);
      run(p, [gy, w, gx] as Float32Array[]);
    },
    conv2dBackwardFilter(x, gy, g, gw, gb) {
      const p = isF32(x, gy, gw, gb) ? plan('backwardFilter', g, gb !== null) : null;
      if (!p) return fallback.conv2dBackwardFilter(x, gy, g, gw, gb);
      run(p, (gb ? [x, gy, gw, gb] : [x, gy, gw]) as Float32Array[]);
    },
  };

  return {
    kernels,
    implementation(pass, g, bias) {
      return plan(pass, g, bias)?.impl ?? null;
    },
    release() {
      for (const p of plans.values()) if (p) destroy(p.owned);
      plans.clear();
    },
  };
}
