/**
 * The wasm backend's kernel table. Each kernel copies its operands into the
 * runtime's arena, runs the AssemblyScript kernel (kernels/*.ts) on one or
 * more threads, and copies the results out (envelope.ts). Large intermediates
 * (im2col columns, packed GEMM panels) live only in wasm memory.
 *
 * Kernels without a wasm version (transcendental element-wise functions,
 * general broadcasting, FFT convolution, the rarer pooling family members...)
 * are the reference ones; so is everything while the kernels are still
 * compiling (a browser's main thread) and every float64 call.
 */
import type { BinaryOp, Conv2dGeometry, FloatArray, KernelSignatures, KernelTable, SgdStepParams, UnaryOp, UnaryParams } from '../backend.js';
import { refBackend } from '../ref/index.js';
import { chainStepSize, checkChain, runChain } from '../ref/conv.js';
import { kernelEnvelope, type KernelCall } from './envelope.js';
import { CONV2D_GEOMETRY_FIELDS, POOL2D_GEOMETRY_FIELDS } from './generated/geometry.js';
import type { WasmRuntime } from './runtime.js';

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

/**
 * Chunks of images a filter gradient is cut into, whatever the number of threads: each sums its
 * images, then the chunks' sums are added in order, so gw does not depend on the threads (and two
 * threads can even out their work chunk by chunk).
 */
const FILTER_CHUNKS = 8;

/** Parameters below this many elements are updated by the reference loop: the copies in and out would cost more. */
const SGD_MIN_ELEMENTS = 4096;

/** GEMM register tile (kernels/gemm.ts): thread splits fall on tile boundaries. */
const MR = 4;
const NR = 8;

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
 * 3x3 convolutions with stride 1 and at least 16 channels in and out use Winograd: F(4x4, 3x3)
 * (kernels/winograd4.ts, 4x fewer multiplications than GEMM on im2col) or F(2x2, 3x3)
 * (kernels/winograd.ts, 2.25x fewer) for the forward pass and the input gradient, as winogradTile
 * picks, and F(3x3, 4x4) (kernels/winograd4.ts) or F(3x3, 2x2) (kernels/winograd.ts) for the
 * filter gradient, as winogradFilterTile picks (the same rule). Conv 64->64 on 32x32, 32 images,
 * forward, one thread: F(2x2) 26.9-27.0 ms, F(4x4) 17.1-17.8 (two threads 14.5-15.1 -> 9.6-10.7;
 * the ResNet-block training step 263-296 -> 225-242 ms); its filter gradient, one thread, F(3x3,
 * 2x2) 29.2-31.3 ms, F(3x3, 4x4) 21.4-23.2 (forward and both gradients 65.3-95.2 -> 58.5-63.6, two
 * threads 37.0-47.1 -> 33.5-35.6; the training step, one thread 349-367 -> 312-334, two threads
 * within the noise, 224-325 -> 219-321). Fewer channels stay on
 * the other paths, whose rounding the tests compare exactly across layouts (a diagonal 3-channel
 * filter against a depthwise one).
 */
const WINOGRAD_MIN_CHANNELS = 16;

function useWinograd(g: Conv2dGeometry): boolean {
  return g.kH === 3 && g.kW === 3 && g.strideH === 1 && g.strideW === 1 && g.dilationH === 1 && g.dilationW === 1 && g.groups === 1 &&
    g.inC >= WINOGRAD_MIN_CHANNELS && g.outC >= WINOGRAD_MIN_CHANNELS && g.padTop <= 2 && g.padLeft <= 2 && g.outH >= 2 && g.outW >= 2;
}

/**
 * Winograd convolutions (forward and input gradient) use F(4x4, 3x3) instead of F(2x2, 3x3) when
 * the products of the tiles the kernels compute (tile rows padded to groups of four tiles) are at
 * most WINOGRAD4_MAX_RATIO of F(2x2, 3x3)'s: outputs at least 9 wide and 3 high (9..16 columns
 * ratio 0.56 from 3 rows; 20 or 24 columns 0.75), never 8 wide or less, where four 4x4 tiles per
 * row cover 16 columns (7x7: 1.125). F(4x4) against F(2x2) forward, one thread, medians of 6:
 * 64 -> 64 channels, batch 32, 32x32 8.9 vs 13.3 ms (batch 16), 16x16 4.6 vs 6.3, 20x20 (0.75)
 * 10.5 vs 12.2, 12x12 4.2 vs 5.0, 10x10 (0.675) 4.1 vs 4.2, 24x24 (0.75, batch 16) 6.9 vs 7.3;
 * 128 channels 14x14 (0.64) 18.6 vs 21.8; 16 channels 32x32 2.2 vs 2.8; but 128 channels 8x8
 * (1.125) 10.0 vs 6.7 and 256 channels 7x7 40.8 vs 26.3.
 */
const WINOGRAD4_MAX_RATIO = 0.75;

/**
 * The output tile of the Winograd kernel that runs the forward pass of g (or, `inputGrad`, its
 * input gradient, a forward pass on transposedGeometry(g)): 4 for F(4x4, 3x3), 2 for F(2x2, 3x3),
 * 0 when the convolution does not take Winograd.
 */
export function winogradTile(g: Conv2dGeometry, inputGrad = false): 0 | 2 | 4 {
  if (!useWinograd(g)) return 0;
  const r = inputGrad ? transposedGeometry(g) : g;
  const products = (m: number, per: number) => Math.ceil(r.outH / m) * ((Math.ceil(r.outW / m) + 3) & ~3) * per;
  return products(4, 36) <= WINOGRAD4_MAX_RATIO * products(2, 16) ? 4 : 2;
}

/**
 * The tile of dL/dy the Winograd kernel of g's filter gradient takes: 4 for F(3x3, 4x4) (kernels/
 * winograd4.ts, 36 products per 4x4 tile), 2 for F(3x3, 2x2) (kernels/winograd.ts, 16 per 2x2 tile),
 * 0 when the convolution does not take Winograd. Its tiles cover dL/dy as the forward pass's cover
 * y, so the rule is winogradTile's: F(3x3, 4x4) where its products are at most WINOGRAD4_MAX_RATIO
 * of F(3x3, 2x2)'s. F(3x3, 4x4) against F(3x3, 2x2), one thread, CPU time, medians of 12 calls, 2
 * alternating pairs: 64 -> 64 channels, 32 images, 9x9 4.7 vs 5.2-5.3 ms, 12x12 5.0 vs 6.2; 16
 * images 16x16 3.0-5.1 vs 4.4-5.1 (fastest 2.8 vs 4.3), 20x20 (0.75) 7.0-7.7 vs 7.3-7.5, 24x24
 * (0.75) 8.1-8.5 vs 8.9-9.4; 4 images 56x56 8.6-9.1 vs 11.4-11.5; 128 channels, 16 images 14x14
 * 11.1-11.4 vs 15.2-15.7; 256 channels, 8 images 14x14 37.4-39.4 vs 37.3-38.7 (one image a chunk:
 * M_t, 36 x 256 x 256, is written and transformed once per 16 tiles); 16 channels 32x32 2.3-2.5 vs
 * 3.0-3.1; where the rule keeps F(3x3, 2x2), 64 channels 8x8 (1.125) 3.0-3.1 vs 2.8-3.0 and 256
 * channels 7x7 24.5-25.5 vs 24.0-33.5.
 */
export function winogradFilterTile(g: Conv2dGeometry): 0 | 2 | 4 {
  return winogradTile(g);
}

/** The gradient to the input of a stride-1 3x3 convolution as a convolution of dL/dy with the flipped filters. */
function transposedGeometry(g: Conv2dGeometry): Conv2dGeometry {
  return {
    ...g, inC: g.outC, inH: g.outH, inW: g.outW, outC: g.inC, outH: g.inH, outW: g.inW,
    padTop: g.kH - 1 - g.padTop, padLeft: g.kW - 1 - g.padLeft, padBottom: g.kH - 1 - g.padBottom, padRight: g.kW - 1 - g.padRight,
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
export function wasmKernels(rt: () => WasmRuntime | null, maxThreads: () => number = () => Infinity): KernelTable {
  const envelope = kernelEnvelope(rt, maxThreads);

  const gemm = envelope(ref.gemm, (e, transA, transB, M, N, K, alpha, A, aOff, B, bOff, beta, C, cOff) => {
    if (M === 0 || N === 0) return;
    const byCols = gemmByCols(e, M, N, K);
    e.plan(byCols ? N : M, M * N * K, MIN_FLOPS_PER_THREAD, byCols ? NR : MR);
    const a = e.in(A, aOff, M * K);
    const b = e.in(B, bOff, K * N);
    const c = beta === 0 ? e.out(C, cOff, M * N) : e.inOut(C, cOff, M * N);
    runGemm(e, transA, transB, M, N, K, alpha, a, transA ? M : K, b, transB ? K : N, beta, c, N);
  });

  /** True when a GEMM is split into blocks of columns, false into blocks of rows (N narrow). */
  function gemmByCols(e: KernelCall, M: number, N: number, K: number): boolean {
    return N >= M || N >= e.threads(M * N * K, MIN_FLOPS_PER_THREAD) * NR * 8;
  }

  /** sgemm on arena addresses, in blocks of columns (or rows when N is narrow) that the threads take in turn. */
  function runGemm(
    e: KernelCall, transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number,
  ): void {
    const work = e.r.exports.gemmWorkFloats();
    const byCols = gemmByCols(e, M, N, K);
    const t = e.plan(byCols ? N : M, M * N * K, MIN_FLOPS_PER_THREAD, byCols ? NR : MR);
    for (let i = 0; i < t; i++) e.call([+transA, +transB, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc, 0, M, 0, N, e.r.alloc(work)]);
    e.runChunks('sgemm', byCols ? 15 : 13);
  }

  /** Multiply-adds of a convolution (any of its three passes). */
  function convFlops(g: Conv2dGeometry): number {
    return g.batch * g.outC * g.outH * g.outW * (g.inC / g.groups) * g.kH * g.kW;
  }

  /** The forward convolution's jobs on the arena; returns y's address (copied out when the call ends). */
  function runConvForward(e: KernelCall, x: FloatArray, w: FloatArray, bias: FloatArray | null, g: Conv2dGeometry, y: FloatArray): number {
    const xp = e.in(x);
    const yp = e.out(y);
    runConvForwardAt(e, xp, w, bias, g, yp);
    return yp;
  }

  /**
   * The Winograd jobs (t threads) of the forward convolution `fwd` from xp into yp, or with `flip`
   * of its input gradient (gy at xp, gx into yp): the filters w at wp transformed (flipped and
   * transposed for the gradient), then F(4x4, 3x3) or F(2x2, 3x3) as winogradTile picks, on the
   * geometry block at gp (fwd, or transposedGeometry(fwd) with `flip`).
   */
  function runWinograd(e: KernelCall, xp: number, wp: number, bp: number, yp: number, fwd: Conv2dGeometry, gp: number, t: number, flip: boolean): void {
    const ex = e.r.exports;
    const four = winogradTile(fwd, flip) === 4;
    const u = e.r.alloc(four ? ex.winograd4FilterFloats(gp) : ex.winogradFilterFloats(gp));
    (four ? ex.winograd4_filter : ex.winograd_filter)(wp, u, fwd.outC, fwd.inC, +flip);
    const work = four ? ex.winograd4WorkFloats(gp) : ex.winogradWorkFloats(gp);
    for (let i = 0; i < t; i++) e.call([xp, u, bp, yp, gp, 0, 0, e.r.alloc(work)]);
    e.runChunks(four ? 'conv2d_winograd4' : 'conv2d_winograd', 5);
  }

  /** The forward convolution's jobs from the arena address xp into yp. */
  function runConvForwardAt(e: KernelCall, xp: number, w: FloatArray, bias: FloatArray | null, g: Conv2dGeometry, yp: number): void {
    const t = e.plan(g.batch, convFlops(g), MIN_FLOPS_PER_THREAD);
    const gp = e.geometry(CONV2D_GEOMETRY_FIELDS, g);
    const wp = e.in(w);
    const bp = e.in(bias);
    const ex = e.r.exports;
    if (useWinograd(g)) {
      runWinograd(e, xp, wp, bp, yp, g, gp, t, false);
    } else {
      const direct = useDirect(g);
      const work = direct ? ex.directWorkFloats(gp) : ex.convWorkFloats(gp);
      for (let i = 0; i < t; i++) e.call([xp, wp, bp, yp, gp, 0, 0, e.r.alloc(work)]);
      e.runChunks(direct ? 'conv2d_forward_direct' : 'conv2d_forward', 5);
    }
  }

  const conv2dForward = envelope(ref.conv2dForward, (e, x, w, bias, g, y) => {
    runConvForward(e, x, w, bias, g, y);
  });

  /** A fused convolution's epilogue on y (n values at yp) in the arena: + the residual at rp (0: none), then ReLU. */
  function runEpilogue(e: KernelCall, yp: number, n: number, rp: number, relu: boolean): void {
    if (rp !== 0) {
      const t = e.plan(n, n, MIN_ELEMENTS_PER_THREAD, 4);
      for (let i = 0; i < t; i++) e.call([BINARY.add!, yp, rp, yp, 0, 0, 0]);
      e.runChunks('binary', 5);
    }
    if (relu) {
      const t = e.plan(n, n, MIN_ELEMENTS_PER_THREAD, 4);
      for (let i = 0; i < t; i++) e.call([UNARY.relu!, yp, yp, 0, 0, 0, 0]);
      e.runChunks('unary', 3);
    }
  }

  // The epilogue runs on y in the arena, before it is copied out: the residual comes in once, y goes out once.
  const conv2dForwardFused = envelope(ref.conv2dForwardFused, (e, x, w, bias, g, residual, relu, y) => {
    const yp = runConvForward(e, x, w, bias, g, y);
    runEpilogue(e, yp, y.length, e.in(residual), relu);
  });

  // Every value between the steps stays in the arena: x comes in once, y goes out once. A chain
  // larger than the wasm memory allows runs step by step.
  const chainStepwise: KernelSignatures['conv2dChainForward'] = (x, steps, y) => runChain({ conv2dForwardFused, maxPool2dForward }, x, steps, y);
  const conv2dChainForward = envelope(chainStepwise, (e, x, steps, y) => {
    checkChain(steps, x.length, y.length);
    for (const s of steps) if (s.kind === 'conv' && (s.w instanceof Float64Array || s.bias instanceof Float64Array)) return false;
    const values: number[] = [];
    const xp = e.in(x);
    const at = (i: number) => (i === -1 ? xp : values[i]);
    steps.forEach((s, i) => {
      const n = chainStepSize(s).out;
      const out = i === steps.length - 1 ? e.out(y) : e.r.alloc(n);
      if (s.kind === 'conv') {
        runConvForwardAt(e, at(s.input), s.w, s.bias, s.g, out);
        runEpilogue(e, out, n, s.residual === null ? 0 : at(s.residual), s.relu);
      } else {
        const g = s.g;
        const t = e.plan(g.planes, g.planes * g.inH * g.inW, MIN_ELEMENTS_PER_THREAD);
        const gp = e.geometry(POOL2D_GEOMETRY_FIELDS, g);
        const argmax = e.r.alloc(n);
        for (let k = 0; k < t; k++) e.call([at(s.input), out, argmax, gp, 0, 0]);
        e.runChunks('maxpool2d_forward', 4);
      }
      values.push(out);
    });
  });

  const conv2dBackwardInput = envelope(ref.conv2dBackwardInput, (e, gy, w, g, gx) => {
    const t = e.plan(g.batch, convFlops(g), MIN_FLOPS_PER_THREAD);
    const winograd = useWinograd(g);
    const gp = e.geometry(CONV2D_GEOMETRY_FIELDS, winograd ? transposedGeometry(g) : g);
    const gyp = e.in(gy);
    const wp = e.in(w);
    const gxp = e.out(gx);
    const ex = e.r.exports;
    if (winograd) {
      // gx = conv3x3(gy, w flipped and transposed), padded by 2 - padding
      runWinograd(e, gyp, wp, 0, gxp, g, gp, t, true);
    } else {
      const work = ex.convWorkFloats(gp);
      for (let i = 0; i < t; i++) e.call([gyp, wp, gxp, gp, 0, 0, e.r.alloc(work)]);
      e.runChunks('conv2d_backward_input', 4);
    }
  });

  const conv2dBackwardFilter = envelope(ref.conv2dBackwardFilter, (e, x, gy, g, gw, gb) => {
    const t = e.plan(g.batch, convFlops(g), MIN_FLOPS_PER_THREAD, 1, FILTER_CHUNKS);
    const gp = e.geometry(CONV2D_GEOMETRY_FIELDS, g);
    const xp = e.in(x);
    const gyp = e.in(gy);
    const gbp = e.out(gb);
    const ex = e.r.exports;
    const tile = winogradFilterTile(g);
    const direct = tile === 0 && useDirect(g);
    const work =
      tile === 4 ? ex.winograd4FilterWorkFloats(gp) : tile === 2 ? ex.winogradFilterWorkFloats(gp) : direct ? ex.directWorkFloats(gp) : ex.convWorkFloats(gp);
    // each chunk of images writes its own sum (chunk 0 into gw itself), added up in chunk order
    // afterwards: the chunks depend on the batch alone, so gw is the same on any number of threads
    const chunks = e.chunkCount;
    const stride = Math.ceil(gw.length / 16) * 64;
    const gwp = e.out(gw);
    if (chunks > 1) e.r.alloc(((chunks - 1) * stride) / 4);
    for (let i = 0; i < t; i++) e.call([xp, gyp, gwp, gp, 0, 0, e.r.alloc(work), 0]);
    e.runChunks(tile === 4 ? 'conv2d_winograd4_filter' : tile === 2 ? 'conv2d_winograd_filter' : direct ? 'conv2d_backward_filter_direct' : 'conv2d_backward_filter', 4, { at: 2, stride });
    for (let i = 1; i < chunks; i++) ex.add_into(gwp, gwp + i * stride, gw.length);
    if (gb) ex.conv2d_bias_grad(gyp, g.batch, g.outC, g.outH * g.outW, gbp);
  });

  const maxPool2dForward = envelope(ref.maxPool2dForward, (e, x, g, y, argmax) => {
    const t = e.plan(g.planes, x.length, MIN_ELEMENTS_PER_THREAD);
    const gp = e.geometry(POOL2D_GEOMETRY_FIELDS, g);
    const xp = e.in(x);
    const yp = e.out(y);
    const ap = e.out(argmax);
    for (let i = 0; i < t; i++) e.call([xp, yp, ap, gp, 0, 0]);
    e.runChunks('maxpool2d_forward', 4);
  });

  const maxPool2dBackward = envelope(ref.maxPool2dBackward, (e, gy, argmax, g, gx) => {
    const t = e.plan(g.planes, gx.length, MIN_ELEMENTS_PER_THREAD);
    const gp = e.geometry(POOL2D_GEOMETRY_FIELDS, g);
    const gyp = e.in(gy);
    const ap = e.in(argmax);
    const gxp = e.out(gx);
    for (let i = 0; i < t; i++) e.call([gyp, ap, gxp, gp, 0, 0]);
    e.runChunks('maxpool2d_backward', 4);
  });

  const avgPool2dForward = envelope(ref.avgPool2dForward, (e, x, g, countIncludePad, y) => {
    const t = e.plan(g.planes, x.length, MIN_ELEMENTS_PER_THREAD);
    const gp = e.geometry(POOL2D_GEOMETRY_FIELDS, g);
    const xp = e.in(x);
    const yp = e.out(y);
    for (let i = 0; i < t; i++) e.call([xp, yp, gp, +countIncludePad, 0, 0]);
    e.runChunks('avgpool2d_forward', 4);
  });

  const avgPool2dBackward = envelope(ref.avgPool2dBackward, (e, gy, g, countIncludePad, gx) => {
    const t = e.plan(g.planes, gx.length, MIN_ELEMENTS_PER_THREAD);
    const gp = e.geometry(POOL2D_GEOMETRY_FIELDS, g);
    const gyp = e.in(gy);
    const gxp = e.out(gx);
    for (let i = 0; i < t; i++) e.call([gyp, gxp, gp, +countIncludePad, 0, 0]);
    e.runChunks('avgpool2d_backward', 4);
  });

  const adaptiveAvgPool2dForward = envelope(ref.adaptiveAvgPool2dForward, (e, x, g, y) => {
    if (g.outH !== 1 || g.outW !== 1) return false;
    const t = e.plan(g.planes, x.length, MIN_ELEMENTS_PER_THREAD);
    const xp = e.in(x);
    const yp = e.out(y);
    for (let i = 0; i < t; i++) e.call([xp, yp, g.inH * g.inW, 0, 0]);
    e.runChunks('plane_mean', 3);
  });

  const adaptiveAvgPool2dBackward = envelope(ref.adaptiveAvgPool2dBackward, (e, gy, g, gx) => {
    if (g.outH !== 1 || g.outW !== 1) return false;
    const t = e.plan(g.planes, gx.length, MIN_ELEMENTS_PER_THREAD);
    const gyp = e.in(gy);
    const gxp = e.out(gx);
    for (let i = 0; i < t; i++) e.call([gyp, gxp, g.inH * g.inW, 0, 0]);
    e.runChunks('plane_mean_backward', 3);
  });

  const unary = envelope(ref.unary, (e, op, x, out, params) => {
    const code = UNARY[op];
    if (code === undefined) return false;
    const n = x.length;
    const t = e.plan(n, n, MIN_ELEMENTS_PER_THREAD, 4);
    const xp = e.in(x);
    const outp = e.out(out);
    const [a, b] = unaryScalars(op, params);
    for (let i = 0; i < t; i++) e.call([code, xp, outp, 0, 0, a, b]);
    e.runChunks('unary', 3);
  });

  const unaryBackward = envelope(ref.unaryBackward, (e, op, x, _y, gy, gx, params) => {
    const code = UNARY_BACKWARD[op];
    if (code === undefined) return false;
    const n = x.length;
    const t = e.plan(n, n, MIN_ELEMENTS_PER_THREAD, 4);
    const xp = e.in(x);
    const gyp = e.in(gy);
    const gxp = e.out(gx);
    const [a, b] = unaryScalars(op, params);
    for (let i = 0; i < t; i++) e.call([code, xp, 0, gyp, gxp, 0, 0, a, b]);
    e.runChunks('unary_backward', 5);
  });

  const binary = envelope(ref.binary, (e, op, a, _aShape, b, _bShape, out) => {
    const code = BINARY[op];
    const n = out.length;
    const mode = a.length === n && b.length === n ? 0 : b.length === 1 && a.length === n ? 1 : a.length === 1 && b.length === n ? 2 : -1;
    if (code === undefined || mode < 0) return false;
    const t = e.plan(n, n, MIN_ELEMENTS_PER_THREAD, 4);
    const ap = e.in(a);
    const bp = e.in(b);
    const outp = e.out(out);
    for (let i = 0; i < t; i++) e.call([code, ap, bp, outp, mode, 0, 0]);
    e.runChunks('binary', 5);
  });

  const reduce = envelope(ref.reduce, (e, op, x, outer, size, inner, out) => {
    if (op !== 'sum' || size === 0) return false;
    e.r.exports.reduce_sum(e.in(x), outer, size, inner, e.out(out), e.r.alloc(2 * inner));
  });

  const softmax = envelope(ref.softmax, (e, x, outer, size, inner, log, out) => {
    e.r.exports.softmax(e.in(x), outer, size, inner, +log, e.out(out));
  });

  const softmaxBackward = envelope(ref.softmaxBackward, (e, y, gy, outer, size, inner, log, gx) => {
    e.r.exports.softmax_backward(e.in(y), e.in(gy), outer, size, inner, +log, e.out(gx));
  });

  const batchNormStats = envelope(ref.batchNormStats, (e, x, g, mean, variance) => {
    const t = e.plan(g.channels, x.length, MIN_ELEMENTS_PER_THREAD);
    const xp = e.in(x);
    const mp = e.out(mean);
    const vp = e.out(variance);
    for (let i = 0; i < t; i++) e.call([xp, g.batch, g.channels, g.spatial, mp, vp, 0, 0]);
    e.runChunks('bn_stats', 6);
  });

  const batchNorm2dForward = envelope(ref.batchNorm2dForward, (e, x, mean, invstd, weight, bias, g, y) => {
    const t = e.plan(g.channels, x.length, MIN_ELEMENTS_PER_THREAD);
    const xp = e.in(x);
    const mp = e.in(mean);
    const ip = e.in(invstd);
    const wp = e.in(weight);
    const bp = e.in(bias);
    const yp = e.out(y);
    for (let i = 0; i < t; i++) e.call([xp, mp, ip, wp, bp, yp, g.batch, g.channels, g.spatial, 0, 0]);
    e.runChunks('bn_forward', 9);
  });

  const batchNorm2dBackward = envelope(ref.batchNorm2dBackward, (e, x, gy, mean, invstd, weight, g, training, gx, gweight, gbias) => {
    const t = e.plan(g.channels, x.length, MIN_ELEMENTS_PER_THREAD);
    const xp = e.in(x);
    const gyp = e.in(gy);
    const mp = e.in(mean);
    const ip = e.in(invstd);
    const wp = e.in(weight);
    const gxp = e.out(gx);
    const gwp = e.out(gweight);
    const gbp = e.out(gbias);
    for (let i = 0; i < t; i++) e.call([xp, gyp, mp, ip, wp, g.batch, g.channels, g.spatial, +training, gxp, gwp, gbp, 0, 0]);
    e.runChunks('bn_backward', 12);
  });

  /**
   * SGD with momentum on float32 parameters of at least SGD_MIN_ELEMENTS: the three arrays are
   * copied in, updated with SIMD and w and buf copied back (LeNet-5's 48,000-weight fc1: the
   * float64 JavaScript loop ~110 us, this ~35 us). Smaller or plain-SGD parameters, and float64,
   * take the reference loop.
   */
  function sgdTakes(w: FloatArray, grad: FloatArray, buf: FloatArray | null, p: SgdStepParams): buf is Float32Array {
    const n = w.length;
    return buf !== null && p.momentum !== 0 && n >= SGD_MIN_ELEMENTS && grad.length === n && buf.length === n &&
      w instanceof Float32Array && grad instanceof Float32Array && buf instanceof Float32Array;
  }

  /** The SIMD step's jobs on n values already in the arena (w at wp, grad at gp, buf at bp). */
  function runSgd(e: KernelCall, wp: number, gp: number, bp: number, n: number, p: SgdStepParams): void {
    const t = e.plan(n, n, MIN_ELEMENTS_PER_THREAD, 4);
    for (let i = 0; i < t; i++) e.call([wp, gp, bp, 0, 0, p.lr, p.momentum, 1 - p.dampening, p.weightDecay, +p.nesterov, +p.first]);
    e.runChunks('sgd_step', 3);
  }

  const sgdStep = envelope(ref.sgdStep, (e, w, grad, buf, p) => {
    if (!sgdTakes(w, grad, buf, p)) return false;
    runSgd(e, e.inOut(w), e.in(grad), e.inOut(buf), w.length, p);
  });

  /**
   * sgdStep over a list of parameters in one call: the ones sgdStep gives the wasm kernel are all
   * copied in, the others take the reference loop, then one job per parameter runs and every
   * result is copied out together (each parameter ends exactly as sgdStep leaves it).
   */
  const sgdStepMany = envelope(ref.sgdStepMany, (e, w, grad, buf, p) => {
    const count = w.length;
    if (grad.length !== count || buf.length !== count) return false;
    const wasm: number[] = [];
    for (let i = 0; i < count; i++) if (sgdTakes(w[i], grad[i], buf[i], p)) wasm.push(i);
    if (wasm.length === 0) return false;
    const at = wasm.map((i) => [e.inOut(w[i]), e.in(grad[i]), e.inOut(buf[i]!)]);
    // after every copy in: a call that runs out of wasm memory falls back having updated nothing
    for (let i = 0, k = 0; i < count; i++) {
      if (wasm[k] === i) k++;
      else ref.sgdStep(w[i], grad[i], buf[i], p);
    }
    wasm.forEach((i, k) => runSgd(e, at[k][0], at[k][1], at[k][2], w[i].length, p));
  });

  // every kernel by name: the wasm ones above, the reference ones where wasm has no version of its own
  return {
    gemm,
    unary,
    unaryBackward,
    binary,
    reduce,
    argReduce: ref.argReduce,
    permute: ref.permute,
    softmax,
    softmaxBackward,
    batchNormStats,
    batchNorm2dForward,
    batchNorm2dBackward,
    conv2dForward,
    conv2dForwardFused,
    conv2dChainForward,
    conv2dBackwardInput,
    conv2dBackwardFilter,
    conv2dFFTForward: ref.conv2dFFTForward,
    conv2dFFTBackwardInput: ref.conv2dFFTBackwardInput,
    conv2dFFTBackwardFilter: ref.conv2dFFTBackwardFilter,
    maxPool2dForward,
    maxPool2dBackward,
    avgPool2dForward,
    avgPool2dBackward,
    lpPool2dForward: ref.lpPool2dForward,
    lpPool2dBackward: ref.lpPool2dBackward,
    adaptiveAvgPool2dForward,
    adaptiveAvgPool2dBackward,
    adaptiveMaxPool2dForward: ref.adaptiveMaxPool2dForward,
    scatterPlanes: ref.scatterPlanes,
    gatherPlanes: ref.gatherPlanes,
    channelL2PoolForward: ref.channelL2PoolForward,
    channelL2PoolBackward: ref.channelL2PoolBackward,
    localResponseNormForward: ref.localResponseNormForward,
    localResponseNormBackward: ref.localResponseNormBackward,
    pad2d: ref.pad2d,
    pad2dBackward: ref.pad2dBackward,
    upsample2d: ref.upsample2d,
    upsample2dBackward: ref.upsample2dBackward,
    gather: ref.gather,
    scatterAdd: ref.scatterAdd,
    where: ref.where,
    topk: ref.topk,
    sgdStep,
    sgdStepMany,
  };
}
