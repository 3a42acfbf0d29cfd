/**
 * The wasm backend's kernel table. Each kernel copies its operands into the
 * runtime's arena, runs the AssemblyScript kernel (kernels/*.ts) on one or
 * more threads, and copies the results out. Large intermediates (im2col
 * columns, packed GEMM panels) live only in wasm memory.
 *
 * Kernels without a wasm version (transcendental element-wise functions,
 * general broadcasting, FFT convolution, the rarer pooling family members...)
 * are the reference ones; so is everything while the kernels are still
 * compiling (a browser's main thread) and every float64 call.
 */
import type {
  AdaptivePool2dGeometry, BatchNormGeometry, BinaryOp, Conv2dGeometry, FloatArray, KernelSignatures, Pool2dGeometry, ReduceOp, SgdStepParams, UnaryOp, UnaryParams,
} from '../backend.js';
import { refBackend } from '../ref/index.js';
import { splitRange, WasmMemoryError, type WasmRuntime } from './runtime.js';

const ref = refBackend.kernels;

/**
 * Work per thread (multiply-adds, or elements for memory-bound kernels) below which a job is not
 * split: a share must take clearly longer than the hand-off, which is ~5 us when a worker is still
 * polling but 40-600 us when it sleeps (control.ts). 2M multiply-adds take ~70 us on one thread.
 * Measured on LeNet-5 training (batch 64, 2 vCPUs, `stride bench lenet5-train`, medians of 100
 * steps, three runs each): 8M and 256K (nothing of LeNet-5 split) 5.42-5.62 ms; 2M and 256K with
 * the workers polling 1 ms 4.02-4.30 ms; 2M and 64K (its ReLUs and pools split too) 3.86-4.05 ms.
 * LeNet-5 inference (6.2 -> 5.9 ms), the ResNet-block net's inference (110 -> 102 ms) and the
 * 64-channel convolution (18.7 -> 19.0 ms) did not lose. A 4M threshold with 0.2 ms of polling
 * measured bimodal (4 or 8 ms steps); with 1 ms of polling it no longer was.
 */
const MIN_FLOPS_PER_THREAD = 1 << 21;
const MIN_ELEMENTS_PER_THREAD = 1 << 16;

/** Parameters below this many elements are updated by the reference loop: the copies in and out would cost more. */
const SGD_MIN_ELEMENTS = 4096;

/** GEMM register tile (kernels/gemm.ts): thread splits fall on tile boundaries. */
const MR = 4;
const NR = 8;

function f32(...arrays: (FloatArray | null)[]): boolean {
  for (const a of arrays) if (a !== null && !(a instanceof Float32Array)) return false;
  return true;
}

function threadsFor(rt: WasmRuntime, work: number, minPerThread: number, maxParts: number): number {
  if (rt.threads === 1) return 1;
  return Math.max(1, Math.min(rt.available(), Math.floor(work / minPerThread), maxParts));
}

function convGeometry(g: Conv2dGeometry): number[] {
  return [g.batch, g.inC, g.inH, g.inW, g.outC, g.kH, g.kW, g.strideH, g.strideW, g.padTop, g.padLeft, g.dilationH, g.dilationW, g.groups, g.outH, g.outW];
}

function poolGeometry(g: Pool2dGeometry): number[] {
  return [g.planes, g.inH, g.inW, g.kH, g.kW, g.strideH, g.strideW, g.padTop, g.padLeft, g.dilationH, g.dilationW, g.outH, g.outW];
}

/**
 * Kernels with a reduction of at most this many taps (one input channel: LeNet's first layer) use
 * the direct convolution (stride 1, no dilation); measured on LeNet conv1 (25 taps) direct 0.59 ms vs
 * GEMM 0.75 ms, while 6x5x5 (150 taps) and 3x3x3 (27) are faster through GEMM.
 */
export const DIRECT_MAX_REDUCTION = 25;

function useDirect(g: Conv2dGeometry): boolean {
  return (g.inC / g.groups) * g.kH * g.kW <= DIRECT_MAX_REDUCTION && g.strideH === 1 && g.strideW === 1 && g.dilationH === 1 && g.dilationW === 1;
}

/**
 * 3x3 convolutions with stride 1 and at least 16 channels in and out use Winograd's F(2x2, 3x3)
 * for the forward pass and the input gradient and F(3x3, 2x2) for the filter gradient
 * (kernels/winograd.ts): 2.25x fewer multiplications than GEMM on im2col. Fewer channels stay on
 * the other paths, whose rounding the tests compare exactly across layouts (a diagonal 3-channel
 * filter against a depthwise one).
 */
const WINOGRAD_MIN_CHANNELS = 16;

function useWinograd(g: Conv2dGeometry): boolean {
  return g.kH === 3 && g.kW === 3 && g.strideH === 1 && g.strideW === 1 && g.dilationH === 1 && g.dilationW === 1 && g.groups === 1 &&
    g.inC >= WINOGRAD_MIN_CHANNELS && g.outC >= WINOGRAD_MIN_CHANNELS && g.padTop <= 2 && g.padLeft <= 2 && g.outH >= 2 && g.outW >= 2;
}

/** The gradient to the input of a stride-1 3x3 convolution as a convolution of dL/dy with the flipped filters. */
function transposedGeometry(g: Conv2dGeometry): Conv2dGeometry {
  return {
    ...g, inC: g.outC, inH: g.outH, inW: g.outW, outC: g.inC, outH: g.inH, outW: g.inW,
    padTop: g.kH - 1 - g.padTop, padLeft: g.kW - 1 - g.padLeft,
  };
}

const UNARY: Partial<Record<UnaryOp, number>> = { neg: 0, abs: 1, relu: 2, leakyRelu: 3, square: 4, sqrt: 5, reciprocal: 6, clamp: 7, sign: 8 };
const UNARY_BACKWARD: Partial<Record<UnaryOp, number>> = { neg: 0, relu: 2, leakyRelu: 3, square: 4, clamp: 7, sign: 8 };
const BINARY: Partial<Record<BinaryOp, number>> = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, eq: 6, ne: 7, lt: 8, le: 9, gt: 10, ge: 11 };

/** f32 scalars of a unary op (NaN-free defaults as the reference uses them). */
function unaryScalars(op: UnaryOp, p: UnaryParams): [number, number] {
  switch (op) {
    case 'leakyRelu': return [p.alpha ?? 0.01, 0];
    case 'clamp': return [p.alpha ?? -Infinity, p.beta ?? Infinity];
    default: return [0, 0];
  }
}

/**
 * Builds the kernel table on a runtime getter: `rt()` returns the runtime, or
 * null while it is not available (then the reference kernels run). A job is
 * split over at most `maxThreads()` threads (the `native` backend passes 1:
 * its OpenMP threads already keep the cores busy).
 */
export function wasmKernels(
  rt: () => WasmRuntime | null, maxThreads: () => number = () => Infinity,
): { readonly [K in keyof KernelSignatures]: KernelSignatures[K] } {
  /** Splits [0, n) over the threads a job of `work` can use: one argument list per range. */
  function ranges(r: WasmRuntime, n: number, work: number, minPerThread: number, align = 1): number[] {
    const b = splitRange(n, threadsFor(r, work, minPerThread, Math.min(maxThreads(), Math.ceil(n / align))), align);
    r.wake(b.length - 1);
    return b;
  }

  function gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    alpha: number, A: FloatArray, aOff: number, B: FloatArray, bOff: number,
    beta: number, C: FloatArray, cOff: number,
  ): void {
    const r = rt();
    if (!r || !f32(A, B, C)) return ref.gemm(transA, transB, M, N, K, alpha, A, aOff, B, bOff, beta, C, cOff);
    if (M === 0 || N === 0) return;
    r.reset();
    r.wake(threadsFor(r, M * N * K, MIN_FLOPS_PER_THREAD, maxThreads()));
    const a = r.put(A as Float32Array, aOff, M * K);
    const b = r.put(B as Float32Array, bOff, K * N);
    const c = beta === 0 ? r.alloc(M * N) : r.put(C as Float32Array, cOff, M * N);
    runGemm(r, transA, transB, M, N, K, alpha, a, transA ? M : K, b, transB ? K : N, beta, c, N);
    r.get(c, C as Float32Array, cOff, M * N);
  }

  /** sgemm on arena addresses, split by columns (or rows when N is narrow) over the threads. */
  function runGemm(
    r: WasmRuntime, transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number,
  ): void {
    const work = r.exports.gemmWorkFloats();
    const t = threadsFor(r, M * N * K, MIN_FLOPS_PER_THREAD, maxThreads());
    const byCols = N >= M || N >= t * NR * 8;
    const bounds = t === 1 ? [0, byCols ? N : M] : byCols ? splitRange(N, t, NR) : splitRange(M, t, MR);
    const calls: number[][] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const [lo, hi] = [bounds[i], bounds[i + 1]];
      const [m0, m1, n0, n1] = byCols ? [0, M, lo, hi] : [lo, hi, 0, N];
      calls.push([+transA, +transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, m0, m1, n0, n1, r.alloc(work)]);
    }
    r.run('sgemm', calls);
  }

  function conv2dForward(x: FloatArray, w: FloatArray, bias: FloatArray | null, g: Conv2dGeometry, y: FloatArray): void {
    const r = rt();
    if (!r || !f32(x, w, bias, y)) return ref.conv2dForward(x, w, bias, g, y);
    r.reset();
    const cg = g.inC / g.groups;
    const perImage = g.outC * g.outH * g.outW * cg * g.kH * g.kW;
    const bounds = ranges(r, g.batch, g.batch * perImage, MIN_FLOPS_PER_THREAD);
    const gp = r.putInts(convGeometry(g));
    const xp = r.put(x as Float32Array);
    const wp = r.put(w as Float32Array);
    const bp = bias ? r.put(bias as Float32Array) : 0;
    const yp = r.alloc(y.length);
    const calls: number[][] = [];
    if (useWinograd(g)) {
      const u = r.alloc(16 * g.outC * g.inC);
      r.exports.winograd_filter(wp, u, g.outC, g.inC, 0);
      const work = r.exports.winogradWorkFloats(gp);
      for (let i = 0; i + 1 < bounds.length; i++) calls.push([xp, u, bp, yp, gp, bounds[i], bounds[i + 1], r.alloc(work)]);
      r.run('conv2d_winograd', calls);
    } else {
      const direct = useDirect(g);
      const work = direct ? r.exports.directWorkFloats(gp) : r.exports.convWorkFloats(gp);
      for (let i = 0; i + 1 < bounds.length; i++) calls.push([xp, wp, bp, yp, gp, bounds[i], bounds[i + 1], r.alloc(work)]);
      r.run(direct ? 'conv2d_forward_direct' : 'conv2d_forward', calls);
    }
    r.get(yp, y as Float32Array);
  }

  function conv2dBackwardInput(gy: FloatArray, w: FloatArray, g: Conv2dGeometry, gx: FloatArray): void {
    const r = rt();
    if (!r || !f32(gy, w, gx)) return ref.conv2dBackwardInput(gy, w, g, gx);
    r.reset();
    const perImage = g.outC * g.outH * g.outW * (g.inC / g.groups) * g.kH * g.kW;
    const bounds = ranges(r, g.batch, g.batch * perImage, MIN_FLOPS_PER_THREAD);
    const winograd = useWinograd(g);
    const gp = r.putInts(convGeometry(winograd ? transposedGeometry(g) : g));
    const gyp = r.put(gy as Float32Array);
    const wp = r.put(w as Float32Array);
    const gxp = r.alloc(gx.length);
    const calls: number[][] = [];
    if (winograd) {
      // gx = conv3x3(gy, w flipped and transposed), padded by 2 - padding
      const u = r.alloc(16 * g.outC * g.inC);
      r.exports.winograd_filter(wp, u, g.outC, g.inC, 1);
      const work = r.exports.winogradWorkFloats(gp);
      for (let i = 0; i + 1 < bounds.length; i++) calls.push([gyp, u, 0, gxp, gp, bounds[i], bounds[i + 1], r.alloc(work)]);
      r.run('conv2d_winograd', calls);
    } else {
      const work = r.exports.convWorkFloats(gp);
      for (let i = 0; i + 1 < bounds.length; i++) calls.push([gyp, wp, gxp, gp, bounds[i], bounds[i + 1], r.alloc(work)]);
      r.run('conv2d_backward_input', calls);
    }
    r.get(gxp, gx as Float32Array);
  }

  function conv2dBackwardFilter(x: FloatArray, gy: FloatArray, g: Conv2dGeometry, gw: FloatArray, gb: FloatArray | null): void {
    const r = rt();
    if (!r || !f32(x, gy, gw, gb)) return ref.conv2dBackwardFilter(x, gy, g, gw, gb);
    r.reset();
    const perImage = g.outC * g.outH * g.outW * (g.inC / g.groups) * g.kH * g.kW;
    const bounds = ranges(r, g.batch, g.batch * perImage, MIN_FLOPS_PER_THREAD);
    const gp = r.putInts(convGeometry(g));
    const xp = r.put(x as Float32Array);
    const gyp = r.put(gy as Float32Array);
    const gwp = r.alloc(gw.length);
    const winograd = useWinograd(g);
    const direct = !winograd && useDirect(g);
    const work = winograd ? r.exports.winogradFilterWorkFloats(gp) : direct ? r.exports.directWorkFloats(gp) : r.exports.convWorkFloats(gp);
    const calls: number[][] = [];
    const partials: number[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      // thread 0 writes gw itself, the others their own partial sums
      const dst = i === 0 ? gwp : r.alloc(gw.length);
      if (i > 0) partials.push(dst);
      calls.push([xp, gyp, dst, gp, bounds[i], bounds[i + 1], r.alloc(work), 0]);
    }
    r.run(winograd ? 'conv2d_winograd_filter' : direct ? 'conv2d_backward_filter_direct' : 'conv2d_backward_filter', calls);
    for (const p of partials) r.exports.add_into(gwp, p, gw.length);
    r.get(gwp, gw as Float32Array);
    if (gb) {
      const gbp = r.alloc(gb.length);
      r.exports.conv2d_bias_grad(gyp, g.batch, g.outC, g.outH * g.outW, gbp);
      r.get(gbp, gb as Float32Array);
    }
  }

  function maxPool2dForward(x: FloatArray, g: Pool2dGeometry, y: FloatArray, argmax: Int32Array): void {
    const r = rt();
    if (!r || !f32(x, y)) return ref.maxPool2dForward(x, g, y, argmax);
    r.reset();
    const bounds = ranges(r, g.planes, x.length, MIN_ELEMENTS_PER_THREAD);
    const gp = r.putInts(poolGeometry(g));
    const xp = r.put(x as Float32Array);
    const yp = r.alloc(y.length);
    const ap = r.alloc(argmax.length);
    const calls: number[][] = [];
    for (let i = 0; i + 1 < bounds.length; i++) calls.push([xp, yp, ap, gp, bounds[i], bounds[i + 1]]);
    r.run('maxpool2d_forward', calls);
    r.get(yp, y as Float32Array);
    argmax.set(r.i32.subarray(ap >> 2, (ap >> 2) + argmax.length));
  }

  function maxPool2dBackward(gy: FloatArray, argmax: Int32Array, g: Pool2dGeometry, gx: FloatArray): void {
    const r = rt();
    if (!r || !f32(gy, gx)) return ref.maxPool2dBackward(gy, argmax, g, gx);
    r.reset();
    const bounds = ranges(r, g.planes, gx.length, MIN_ELEMENTS_PER_THREAD);
    const gp = r.putInts(poolGeometry(g));
    const gyp = r.put(gy as Float32Array);
    const ap = r.alloc(argmax.length);
    r.i32.set(argmax, ap >> 2);
    const gxp = r.alloc(gx.length);
    const calls: number[][] = [];
    for (let i = 0; i + 1 < bounds.length; i++) calls.push([gyp, ap, gxp, gp, bounds[i], bounds[i + 1]]);
    r.run('maxpool2d_backward', calls);
    r.get(gxp, gx as Float32Array);
  }

  function avgPool2dForward(x: FloatArray, g: Pool2dGeometry, countIncludePad: boolean, y: FloatArray): void {
    const r = rt();
    if (!r || !f32(x, y)) return ref.avgPool2dForward(x, g, countIncludePad, y);
    r.reset();
    const bounds = ranges(r, g.planes, x.length, MIN_ELEMENTS_PER_THREAD);
    const gp = r.putInts(poolGeometry(g));
    const xp = r.put(x as Float32Array);
    const yp = r.alloc(y.length);
    const calls: number[][] = [];
    for (let i = 0; i + 1 < bounds.length; i++) calls.push([xp, yp, gp, +countIncludePad, bounds[i], bounds[i + 1]]);
    r.run('avgpool2d_forward', calls);
    r.get(yp, y as Float32Array);
  }

  function avgPool2dBackward(gy: FloatArray, g: Pool2dGeometry, countIncludePad: boolean, gx: FloatArray): void {
    const r = rt();
    if (!r || !f32(gy, gx)) return ref.avgPool2dBackward(gy, g, countIncludePad, gx);
    r.reset();
    const bounds = ranges(r, g.planes, gx.length, MIN_ELEMENTS_PER_THREAD);
    const gp = r.putInts(poolGeometry(g));
    const gyp = r.put(gy as Float32Array);
    const gxp = r.alloc(gx.length);
    const calls: number[][] = [];
    for (let i = 0; i + 1 < bounds.length; i++) calls.push([gyp, gxp, gp, +countIncludePad, bounds[i], bounds[i + 1]]);
    r.run('avgpool2d_backward', calls);
    r.get(gxp, gx as Float32Array);
  }

  function adaptiveAvgPool2dForward(x: FloatArray, g: AdaptivePool2dGeometry, y: FloatArray): void {
    const r = rt();
    if (!r || !f32(x, y) || g.outH !== 1 || g.outW !== 1) return ref.adaptiveAvgPool2dForward(x, g, y);
    r.reset();
    const xp = r.put(x as Float32Array);
    const yp = r.alloc(y.length);
    r.exports.plane_mean(xp, yp, g.inH * g.inW, 0, g.planes);
    r.get(yp, y as Float32Array);
  }

  function adaptiveAvgPool2dBackward(gy: FloatArray, g: AdaptivePool2dGeometry, gx: FloatArray): void {
    const r = rt();
    if (!r || !f32(gy, gx) || g.outH !== 1 || g.outW !== 1) return ref.adaptiveAvgPool2dBackward(gy, g, gx);
    r.reset();
    const gyp = r.put(gy as Float32Array);
    const gxp = r.alloc(gx.length);
    r.exports.plane_mean_backward(gyp, gxp, g.inH * g.inW, 0, g.planes);
    r.get(gxp, gx as Float32Array);
  }

  function unary(op: UnaryOp, x: FloatArray, out: FloatArray, params: UnaryParams): void {
    const r = rt();
    const code = UNARY[op];
    if (!r || code === undefined || !f32(x, out)) return ref.unary(op, x, out, params);
    r.reset();
    const n = x.length;
    const bounds = ranges(r, n, n, MIN_ELEMENTS_PER_THREAD, 4);
    const xp = r.put(x as Float32Array);
    const op_ = r.alloc(n);
    const [a, b] = unaryScalars(op, params);
    const calls: number[][] = [];
    for (let i = 0; i + 1 < bounds.length; i++) calls.push([code, xp, op_, bounds[i], bounds[i + 1], a, b]);
    r.run('unary', calls);
    r.get(op_, out as Float32Array);
  }

  function unaryBackward(op: UnaryOp, x: FloatArray, y: FloatArray, gy: FloatArray, gx: FloatArray, params: UnaryParams): void {
    const r = rt();
    const code = UNARY_BACKWARD[op];
    if (!r || code === undefined || !f32(x, gy, gx)) return ref.unaryBackward(op, x, y, gy, gx, params);
    r.reset();
    const n = x.length;
    const bounds = ranges(r, n, n, MIN_ELEMENTS_PER_THREAD, 4);
    const xp = r.put(x as Float32Array);
    const gyp = r.put(gy as Float32Array);
    const gxp = r.alloc(n);
    const [a, b] = unaryScalars(op, params);
    const calls: number[][] = [];
    for (let i = 0; i + 1 < bounds.length; i++) calls.push([code, xp, 0, gyp, gxp, bounds[i], bounds[i + 1], a, b]);
    r.run('unary_backward', calls);
    r.get(gxp, gx as Float32Array);
  }

  function binary(op: BinaryOp, a: FloatArray, aShape: readonly number[], b: FloatArray, bShape: readonly number[], out: FloatArray, outShape: readonly number[]): void {
    const r = rt();
    const code = BINARY[op];
    const n = out.length;
    const mode = a.length === n && b.length === n ? 0 : b.length === 1 && a.length === n ? 1 : a.length === 1 && b.length === n ? 2 : -1;
    if (!r || code === undefined || mode < 0 || !f32(a, b, out)) return ref.binary(op, a, aShape, b, bShape, out, outShape);
    r.reset();
    const bounds = ranges(r, n, n, MIN_ELEMENTS_PER_THREAD, 4);
    const ap = r.put(a as Float32Array);
    const bp = r.put(b as Float32Array);
    const outp = r.alloc(n);
    const calls: number[][] = [];
    for (let i = 0; i + 1 < bounds.length; i++) calls.push([code, ap, bp, outp, mode, bounds[i], bounds[i + 1]]);
    r.run('binary', calls);
    r.get(outp, out as Float32Array);
  }

  function reduce(op: ReduceOp, x: FloatArray, outer: number, size: number, inner: number, out: FloatArray): void {
    const r = rt();
    if (!r || op !== 'sum' || !f32(x, out) || size === 0) return ref.reduce(op, x, outer, size, inner, out);
    r.reset();
    const xp = r.put(x as Float32Array);
    const outp = r.alloc(out.length);
    const acc = r.alloc(2 * inner);
    r.exports.reduce_sum(xp, outer, size, inner, outp, acc);
    r.get(outp, out as Float32Array);
  }

  function softmax(x: FloatArray, outer: number, size: number, inner: number, log: boolean, out: FloatArray): void {
    const r = rt();
    if (!r || !f32(x, out)) return ref.softmax(x, outer, size, inner, log, out);
    r.reset();
    const xp = r.put(x as Float32Array);
    const outp = r.alloc(out.length);
    r.exports.softmax(xp, outer, size, inner, +log, outp);
    r.get(outp, out as Float32Array);
  }

  function softmaxBackward(y: FloatArray, gy: FloatArray, outer: number, size: number, inner: number, log: boolean, gx: FloatArray): void {
    const r = rt();
    if (!r || !f32(y, gy, gx)) return ref.softmaxBackward(y, gy, outer, size, inner, log, gx);
    r.reset();
    const yp = r.put(y as Float32Array);
    const gyp = r.put(gy as Float32Array);
    const gxp = r.alloc(gx.length);
    r.exports.softmax_backward(yp, gyp, outer, size, inner, +log, gxp);
    r.get(gxp, gx as Float32Array);
  }

  function batchNormStats(x: FloatArray, g: BatchNormGeometry, mean: FloatArray, variance: FloatArray): void {
    const r = rt();
    if (!r || !f32(x, mean, variance)) return ref.batchNormStats(x, g, mean, variance);
    r.reset();
    const bounds = ranges(r, g.channels, x.length, MIN_ELEMENTS_PER_THREAD);
    const xp = r.put(x as Float32Array);
    const mp = r.alloc(g.channels);
    const vp = r.alloc(g.channels);
    const calls: number[][] = [];
    for (let i = 0; i + 1 < bounds.length; i++) calls.push([xp, g.batch, g.channels, g.spatial, mp, vp, bounds[i], bounds[i + 1]]);
    r.run('bn_stats', calls);
    r.get(mp, mean as Float32Array);
    r.get(vp, variance as Float32Array);
  }

  function batchNorm2dForward(x: FloatArray, mean: FloatArray, invstd: FloatArray, weight: FloatArray | null, bias: FloatArray | null, g: BatchNormGeometry, y: FloatArray): void {
    const r = rt();
    if (!r || !f32(x, mean, invstd, weight, bias, y)) return ref.batchNorm2dForward(x, mean, invstd, weight, bias, g, y);
    r.reset();
    const bounds = ranges(r, g.channels, x.length, MIN_ELEMENTS_PER_THREAD);
    const xp = r.put(x as Float32Array);
    const mp = r.put(mean as Float32Array);
    const ip = r.put(invstd as Float32Array);
    const wp = weight ? r.put(weight as Float32Array) : 0;
    const bp = bias ? r.put(bias as Float32Array) : 0;
    const yp = r.alloc(y.length);
    const calls: number[][] = [];
    for (let i = 0; i + 1 < bounds.length; i++) calls.push([xp, mp, ip, wp, bp, yp, g.batch, g.channels, g.spatial, bounds[i], bounds[i + 1]]);
    r.run('bn_forward', calls);
    r.get(yp, y as Float32Array);
  }

  function batchNorm2dBackward(
    x: FloatArray, gy: FloatArray, mean: FloatArray, invstd: FloatArray, weight: FloatArray | null, g: BatchNormGeometry,
    training: boolean, gx: FloatArray | null, gweight: FloatArray | null, gbias: FloatArray | null,
  ): void {
    const r = rt();
    if (!r || !f32(x, gy, mean, invstd, weight, gx, gweight, gbias)) {
      return ref.batchNorm2dBackward(x, gy, mean, invstd, weight, g, training, gx, gweight, gbias);
    }
    r.reset();
    const bounds = ranges(r, g.channels, x.length, MIN_ELEMENTS_PER_THREAD);
    const xp = r.put(x as Float32Array);
    const gyp = r.put(gy as Float32Array);
    const mp = r.put(mean as Float32Array);
    const ip = r.put(invstd as Float32Array);
    const wp = weight ? r.put(weight as Float32Array) : 0;
    const gxp = gx ? r.alloc(gx.length) : 0;
    const gwp = gweight ? r.alloc(g.channels) : 0;
    const gbp = gbias ? r.alloc(g.channels) : 0;
    const calls: number[][] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      calls.push([xp, gyp, mp, ip, wp, g.batch, g.channels, g.spatial, +training, gxp, gwp, gbp, bounds[i], bounds[i + 1]]);
    }
    r.run('bn_backward', calls);
    if (gx) r.get(gxp, gx as Float32Array);
    if (gweight) r.get(gwp, gweight as Float32Array);
    if (gbias) r.get(gbp, gbias as Float32Array);
  }

  /**
   * SGD with momentum on float32 parameters of at least SGD_MIN_ELEMENTS: the three arrays are
   * copied in, updated with SIMD and w and buf copied back (LeNet-5's 48,000-weight fc1: the
   * float64 JavaScript loop ~110 us, this ~35 us). Smaller or plain-SGD parameters, and float64,
   * take the reference loop.
   */
  function sgdStep(w: FloatArray, grad: FloatArray, buf: FloatArray | null, p: SgdStepParams): void {
    const r = rt();
    if (!r || buf === null || p.momentum === 0 || w.length < SGD_MIN_ELEMENTS || !f32(w, grad, buf) || grad.length !== w.length || buf.length !== w.length) {
      return ref.sgdStep(w, grad, buf, p);
    }
    r.reset();
    const n = w.length;
    const bounds = ranges(r, n, n, MIN_ELEMENTS_PER_THREAD, 4);
    const wp = r.put(w as Float32Array);
    const gp = r.put(grad as Float32Array);
    const bp = r.put(buf as Float32Array);
    const calls: number[][] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      calls.push([wp, gp, bp, bounds[i], bounds[i + 1], p.lr, p.momentum, 1 - p.dampening, p.weightDecay, +p.nesterov, +p.first]);
    }
    r.run('sgd_step', calls);
    r.get(wp, w as Float32Array);
    r.get(bp, buf as Float32Array);
  }

  const own = {
    gemm,
    unary, unaryBackward, binary, reduce, softmax, softmaxBackward,
    batchNormStats, batchNorm2dForward, batchNorm2dBackward,
    conv2dForward, conv2dBackwardInput, conv2dBackwardFilter,
    maxPool2dForward, maxPool2dBackward, avgPool2dForward, avgPool2dBackward,
    adaptiveAvgPool2dForward, adaptiveAvgPool2dBackward,
    sgdStep,
  };
  // A call too large for the wasm memory (2 GiB) runs on the reference kernel instead; results are
  // copied out only after every allocation succeeded, so no output is left half-written.
  const table: Record<string, unknown> = { ...ref };
  for (const [name, fn] of Object.entries(own) as [keyof typeof own, (...a: unknown[]) => void][]) {
    const fallback = ref[name] as (...a: unknown[]) => void;
    table[name] = (...args: unknown[]) => {
      try {
        fn(...args);
      } catch (e) {
        if (!(e instanceof WasmMemoryError)) throw e;
        fallback(...args);
      }
    };
  }
  return table as unknown as { readonly [K in keyof KernelSignatures]: KernelSignatures[K] };
}
