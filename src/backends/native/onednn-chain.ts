/**
 * A chain of fused convolutions and max pools (conv2dChainForward) on oneDNN,
 * with every result between the steps kept in the layout its step writes
 * (nChw16c and the like; nChw8c for a convolution of at most 8 output
 * channels): the chain's input is reordered in once, its last
 * output reordered out once, and nothing in between is converted unless a
 * step wants its input in another layout than the one it was written in.
 *
 * Each step is a convolution primitive (forward, `convolution_auto`, so
 * Winograd where oneDNN judges it faster) with post-ops: `sum` where the step
 * adds a residual, then `eltwise_relu`. The sum accumulates into the
 * destination, so the residual is first put there: the step writes in place
 * into the residual's own buffer where that buffer has the destination's
 * layout and nothing reads it later (a residual block's identity), else a
 * reorder copies it in.
 *
 * ReLU as a post-op is oneDNN's `relu` (alpha 0), which gives 0 for a NaN as
 * Stride's relu does (checked in test/backend/nn/fuse.test.ts); oneDNN's
 * Winograd convolutions take no other activation post-op: with `clip` to
 * [0, inf] it chose direct kernels, 2x slower on a 64-channel 3x3 layer.
 * A max pool is oneDNN's pooling (forward inference: no workspace, since
 * nothing will ask where the maxima were) on the layout of its input.
 *
 * A chain's plan (primitives, reorders and buffers) is built once per chain
 * of geometries and thread count and cached (MAX_CHAINS, least recently used
 * dropped first). Buffers are oneDNN's, reused along the chain once their
 * value has been read for the last time.
 */
import type { ChainStep, Conv2dGeometry, ConvChainStep, MaxPoolChainStep } from '../backend.js';
import { checkChain } from '../ref/conv.js';
import { created, DNNL, OP_DESC_BYTES, type Handle, type OneDnn } from './onednn.js';
import { makePlanCache, makePlanner, type Owned } from './onednn-plan.js';

/** Chain plans kept at most. */
export const MAX_CHAINS = 8;

export interface OneDnnConvChain {
  /** Runs the chain; false when oneDNN refused one of its steps (nothing was written). */
  run(x: Float32Array, steps: readonly ChainStep[], y: Float32Array): boolean;
  /** The implementation oneDNN chose for each step of a chain, or null when it refused the chain. */
  implementations(steps: readonly ChainStep[]): string[] | null;
  release(): void;
}

/** One primitive execution of a plan. */
interface Exec {
  primitive: Handle;
  args: Uint8Array;
  nargs: number;
}

interface ChainPlan {
  /** Memory objects pointed at the caller's arrays per call: x, then per step w and bias (null without one, and for a pool), then y. */
  xUser: Handle;
  wUser: (Handle | null)[];
  biasUser: (Handle | null)[];
  yUser: Handle;
  execs: Exec[];
  impls: string[];
  owned: Owned;
}

export function makeOneDnnConvChain(dnnl: OneDnn): OneDnnConvChain {
  const { api, engine, stream } = dnnl;
  const planner = makePlanner(dnnl);
  const { check, i64, memoryDesc, execArgs, destroy } = planner;
  const plans = makePlanCache<ChainPlan>(MAX_CHAINS, destroy);

  function weightsDims(g: Conv2dGeometry): { dims: number[]; tag: number } {
    const cg = g.inC / g.groups;
    const og = g.outC / g.groups;
    return g.groups === 1 ? { dims: [g.outC, cg, g.kH, g.kW], tag: DNNL.tagOihw } : { dims: [g.groups, og, cg, g.kH, g.kW], tag: DNNL.tagGoihw };
  }

  function build(steps: readonly ChainStep[], owned: Owned): ChainPlan {
    const execs: Exec[] = [];
    const impls: string[] = [];
    const userMemory = (md: Uint8Array) => {
      const m = created((out) => api.memoryCreate(out, md, engine, null), 'memory');
      owned.memories.push(m);
      return m;
    };
    const ownedMemory = (md: Uint8Array | Handle) => {
      const m = created((out) => api.memoryCreateOwned(out, md, engine, -1n), 'memory');
      owned.memories.push(m);
      return m;
    };
    const reorder = (fromMd: Uint8Array | Handle, from: Handle, toMd: Uint8Array | Handle, to: Handle) => {
      const rpd = created((out) => api.reorderDescCreate(out, fromMd, engine, toMd, engine, null), 'reorder descriptor');
      owned.descs.push(rpd);
      const r = created((out) => api.primitiveCreate(out, rpd), 'reorder');
      owned.primitives.push(r);
      execs.push({ primitive: r, args: execArgs([[DNNL.argFrom, from], [DNNL.argTo, to]]), nargs: 2 });
    };

    // Where each value lives: its memory and layout. Value -1 is the chain's input, in the caller's NCHW array.
    const xMd = memoryDesc(stepShape(steps[0], 'in'), DNNL.tagNchw);
    const xUser = userMemory(xMd);
    const home = new Map<number, { memory: Handle; md: Uint8Array | Handle }>([[-1, { memory: xUser, md: xMd }]]);
    // The last step reading each value, so a residual's buffer can take the sum in place.
    const lastRead = new Map<number, number>();
    steps.forEach((s, i) => {
      lastRead.set(s.input, i);
      if (s.kind === 'conv' && s.residual !== null) lastRead.set(s.residual, i);
    });
    // Copies of a value in another layout, made once and shared by the steps that want that layout.
    const copies = new Map<number, { memory: Handle; md: Handle }[]>();
    const inLayout = (value: number, md: Handle) => {
      const h = home.get(value)!;
      if (api.memoryDescEqual(h.md, md)) return h.memory;
      const made = copies.get(value) ?? [];
      const found = made.find((c) => api.memoryDescEqual(c.md, md));
      if (found) return found.memory;
      const memory = ownedMemory(md);
      reorder(h.md, h.memory, md, memory);
      made.push({ memory, md });
      copies.set(value, made);
      return memory;
    };

    const wUser: (Handle | null)[] = [];
    const biasUser: (Handle | null)[] = [];
    const pool = (s: MaxPoolChainStep, i: number) => {
      const g = s.g;
      const batch = g.planes / s.channels;
      const src = home.get(s.input)!;
      const desc = new Uint8Array(OP_DESC_BYTES);
      const padBottom = (g.outH - 1) * g.strideH + (g.kH - 1) * g.dilationH + 1 - g.inH - g.padTop;
      const padRight = (g.outW - 1) * g.strideW + (g.kW - 1) * g.dilationW + 1 - g.inW - g.padLeft;
      check(api.poolingV2ForwardDescInit(
        desc, DNNL.forwardInference, DNNL.poolingMax, src.md, memoryDesc([batch, s.channels, g.outH, g.outW], DNNL.tagAny),
        i64([g.strideH, g.strideW]), i64([g.kH, g.kW]), i64([g.dilationH - 1, g.dilationW - 1]), i64([g.padTop, g.padLeft]), i64([padBottom, padRight]),
      ), 'pooling descriptor');
      const pd = planner.primitiveDesc(desc, null, owned);
      const out: [string | null] = [null];
      api.queryString(pd, DNNL.queryImplInfoStr, 0, out);
      impls.push(out[0] ?? '?');
      const dstMd = api.queryMd(pd, DNNL.queryDstMd, 0);
      const dst = ownedMemory(dstMd);
      const primitive = created((o) => api.primitiveCreate(o, pd), 'primitive');
      owned.primitives.push(primitive);
      execs.push({ primitive, args: execArgs([[DNNL.argSrc, src.memory], [DNNL.argDst, dst]]), nargs: 2 });
      home.set(i, { memory: dst, md: dstMd });
      wUser.push(null);
      biasUser.push(null);
    };

    steps.forEach((step, i) => {
      if (step.kind === 'maxPool') return pool(step, i);
      const s: ConvChainStep = step;
      const g = s.g;
      const w = weightsDims(g);
      const dst = [g.batch, g.outC, g.outH, g.outW];
      const convPd = (dstTag: number): { pd: Handle; impl: string } => {
        const desc = new Uint8Array(OP_DESC_BYTES);
        check(api.convForwardDescInit(
          desc, DNNL.forwardTraining, DNNL.convolutionAuto,
          memoryDesc([g.batch, g.inC, g.inH, g.inW], DNNL.tagAny), memoryDesc(w.dims, DNNL.tagAny),
          s.bias ? memoryDesc([g.outC], DNNL.tagA) : null, memoryDesc(dst, dstTag),
          i64([g.strideH, g.strideW]), i64([g.dilationH - 1, g.dilationW - 1]), i64([g.padTop, g.padLeft]), i64([g.padBottom, g.padRight]),
        ), 'convolution forward descriptor');
        const postOps = created((out) => api.postOpsCreate(out), 'post-ops');
        let attr: Handle | null = null;
        try {
          if (s.residual !== null) check(api.postOpsAppendSum(postOps, 1), 'sum post-op');
          if (s.relu) check(api.postOpsAppendEltwise(postOps, 1, DNNL.eltwiseRelu, 0, 0), 'eltwise post-op');
          attr = created((out) => api.primitiveAttrCreate(out), 'primitive attributes');
          check(api.primitiveAttrSetPostOps(attr, postOps), 'set post-ops');
          const pd = planner.primitiveDesc(desc, null, owned, attr);
          const out: [string | null] = [null];
          api.queryString(pd, DNNL.queryImplInfoStr, 0, out);
          return { pd, impl: out[0] ?? '?' };
        } finally {
          if (attr) api.primitiveAttrDestroy(attr);
          api.postOpsDestroy(postOps);
        }
      };
      // At most 8 output channels: blocks of 8 (oneDNN's AVX2 kernels), where the layout oneDNN
      // picks on AVX-512 (blocks of 16) would compute 16 channels for each block of real ones;
      // unless oneDNN refuses that layout or only a reference kernel takes it.
      let chosen: { pd: Handle; impl: string } | null = null;
      if (g.outC <= 8) {
        try {
          chosen = convPd(DNNL.tagNChw8c);
        } catch {
          chosen = null;
        }
      }
      if (chosen === null || chosen.impl.startsWith('ref')) chosen = convPd(DNNL.tagAny);
      const pd = chosen.pd;
      impls.push(chosen.impl);

      const src = inLayout(s.input, api.queryMd(pd, DNNL.querySrcMd, 0));
      // weights: the caller's array, reordered into oneDNN's layout when it wants another
      const wMd = memoryDesc(w.dims, w.tag);
      const wu = userMemory(wMd);
      wUser.push(wu);
      const wWant = api.queryMd(pd, DNNL.queryWeightsMd, 0);
      let weights = wu;
      if (!api.memoryDescEqual(wMd, wWant)) {
        weights = ownedMemory(wWant);
        reorder(wMd, wu, wWant, weights);
      }
      const bu = s.bias ? userMemory(memoryDesc([g.outC], DNNL.tagA)) : null;
      biasUser.push(bu);

      const dstMd = api.queryMd(pd, DNNL.queryDstMd, 0);
      let dstMemory: Handle;
      const r = s.residual;
      const rHome = r === null ? null : home.get(r)!;
      if (r !== null && r !== -1 && lastRead.get(r) === i && r !== s.input && api.memoryDescEqual(rHome!.md, dstMd)) {
        dstMemory = rHome!.memory; // the sum accumulates into the residual's own buffer
      } else {
        dstMemory = ownedMemory(dstMd);
        if (rHome) reorder(rHome.md, rHome.memory, dstMd, dstMemory);
      }
      const primitive = created((o) => api.primitiveCreate(o, pd), 'primitive');
      owned.primitives.push(primitive);
      const args: [number, Handle][] = [[DNNL.argSrc, src], [DNNL.argWeights, weights], [DNNL.argDst, dstMemory]];
      if (bu) args.push([DNNL.argBias, bu]);
      execs.push({ primitive, args: execArgs(args), nargs: args.length });
      home.set(i, { memory: dstMemory, md: dstMd });
    });

    const yMd = memoryDesc(stepShape(steps[steps.length - 1], 'out'), DNNL.tagNchw);
    const yUser = userMemory(yMd);
    const lastHome = home.get(steps.length - 1)!;
    reorder(lastHome.md, lastHome.memory, yMd, yUser);
    return { xUser, wUser, biasUser, yUser, execs, impls, owned };
  }

  /** A step's input or output shape, NCHW. */
  function stepShape(s: ChainStep, which: 'in' | 'out'): number[] {
    const g = s.g;
    if (s.kind === 'maxPool') return which === 'in' ? [s.g.planes / s.channels, s.channels, g.inH, g.inW] : [s.g.planes / s.channels, s.channels, g.outH, g.outW];
    return which === 'in' ? [s.g.batch, s.g.inC, g.inH, g.inW] : [s.g.batch, s.g.outC, g.outH, g.outW];
  }

  function keyOf(steps: readonly ChainStep[]): string {
    const parts = steps.map((s) => {
      if (s.kind === 'maxPool') {
        const p = s.g;
        return ['pool', p.planes, s.channels, p.inH, p.inW, p.kH, p.kW, p.strideH, p.strideW, p.padTop, p.padLeft, p.dilationH, p.dilationW, p.outH, p.outW, s.input].join(',');
      }
      const g = s.g;
      return [g.batch, g.inC, g.inH, g.inW, g.outC, g.kH, g.kW, g.strideH, g.strideW, g.padTop, g.padLeft, g.padBottom, g.padRight,
        g.dilationH, g.dilationW, g.groups, s.input, s.residual ?? 'n', +s.relu, +(s.bias !== null)].join(',');
    });
    return `${dnnl.getThreads()}|${parts.join(';')}`;
  }

  function plan(steps: readonly ChainStep[]): ChainPlan | null {
    if (steps.length === 0 || steps.some((s) => stepShape(s, 'in').concat(stepShape(s, 'out')).some((d) => d <= 0))) return null;
    // a refused chain is remembered as null: the caller runs it step by step
    return plans.get(keyOf(steps), (owned) => build(steps, owned));
  }

  return {
    run(x, steps, y) {
      checkChain(steps, x.length, y.length);
      for (const s of steps) if (s.kind === 'conv' && (!(s.w instanceof Float32Array) || (s.bias !== null && !(s.bias instanceof Float32Array)))) return false;
      const p = plan(steps);
      if (!p) return false;
      check(api.memorySetDataHandle(p.xUser, x), 'set data handle');
      steps.forEach((s, i) => {
        if (s.kind !== 'conv') return;
        check(api.memorySetDataHandle(p.wUser[i]!, s.w as Float32Array), 'set data handle');
        const b = p.biasUser[i];
        if (b) check(api.memorySetDataHandle(b, s.bias as Float32Array), 'set data handle');
      });
      check(api.memorySetDataHandle(p.yUser, y), 'set data handle');
      for (const e of p.execs) check(api.execute(e.primitive, stream, e.nargs, e.args), 'primitive');
      check(api.streamWait(stream), 'stream wait');
      return true;
    },
    implementations(steps) {
      return plan(steps)?.impls ?? null;
    },
    release() {
      plans.clear();
    },
  };
}
