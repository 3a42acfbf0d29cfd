/**
 * The `native` backend (Node only, optional): convolution, batch norm, matrix
 * products, ReLU and addition on the system's oneDNN when it is found, GEMM
 * and convolution on the system's OpenBLAS otherwise, both through the
 * `koffi` FFI package; every other kernel from the fastest portable
 * implementation available (`wasm` where it runs, else `ref`). Nothing is
 * loaded until `nativeBackend()` (or `nativeStatus()`) is first called; when
 * koffi or OpenBLAS is missing the backend simply does not exist, and
 * `nativeStatus()` / `oneDnnStatus()` say why and how to get them.
 */
import { availableParallelism } from 'node:os';
import type { Backend, BackendInfo, KernelSignatures } from '../backend.js';
import { refBackend } from '../ref/index.js';
import { wasmBackend, wasmCallerRuntime } from '../wasm/index.js';
import { wasmKernels } from '../wasm/kernels.js';
import { makeConvKernels } from './conv.js';
import { runChain } from '../ref/conv.js';
import { makeOneDnnConvChain } from './onednn-chain.js';
import { ConvScratch } from './conv-layout.js';
import { makeEltwiseKernels } from './elementwise.js';
import { requireKoffi } from './ffi.js';
import { makeGemm } from './gemm.js';
import { tuneMalloc } from './malloc.js';
import { makeOneDnnBatchNorm } from './onednn-batch-norm.js';
import { makeOneDnnConvLayout } from './onednn-conv.js';
import { makeOneDnnEltwise } from './onednn-elementwise.js';
import { makeOneDnnGemm } from './onednn-matmul.js';
import { makeOneDnnReduction } from './onednn-reduction.js';
import { loadOneDnn, type OneDnn } from './onednn.js';
import { coreTypeNote, loadOpenBlas, type OpenBlas } from './openblas.js';

export { OPENBLAS_INSTALL_HINT } from './openblas.js';
export { ONEDNN_INSTALL_HINT } from './onednn.js';

/** Where the native backend's portable kernels (everything not on BLAS or oneDNN) come from. */
export interface NativeBase {
  /** The backend they belong to: native sets its threads and reports its info. */
  backend: Backend;
  /** The kernels native runs. */
  kernels: Backend['kernels'];
  /**
   * Whether they are the wasm backend's SIMD kernels: then convolutions of one
   * input channel per group go to their direct kernel; otherwise (`ref`)
   * native's branch-free ReLU and unrolled 2x2 max pool replace theirs.
   */
  wasm: boolean;
}

/** The native backend: a Backend that also frees what it keeps between calls. */
export interface NativeBackend extends Backend {
  setThreads(n: number | null): void;
  info(): BackendInfo;
  /** Frees the convolution scratch memory and every cached oneDNN plan (rebuilt by the next call that needs them). */
  release(): void;
}

let built: NativeBackend | null = null;
let blasHandle: OpenBlas | null = null;

/**
 * The native backend, built on first use; null when koffi or OpenBLAS cannot
 * be loaded (see nativeStatus()). `base` supplies the kernels that are not
 * BLAS work (pooling, element-wise, batch norm...): the `wasm` backend where
 * it runs (its SIMD kernels measure 3-17x faster than `ref` on these), else
 * `ref`. Only read the first time.
 */
export function nativeBackend(base: Backend = refBackend): NativeBackend | null {
  if (built) return built;
  const loaded = loadOpenBlas();
  if (!loaded.ok) return null;
  blasHandle = loaded.blas;
  const k = requireKoffi();
  if (k.ok) tuneMalloc(k.koffi);
  const dnnl = loadOneDnn();
  built = createNativeBackend(loaded.blas, base, dnnl.ok ? dnnl.dnnl : null);
  return built;
}

/** The base native builds on `backend` (wasm's kernels are the wasm backend's, on the calling thread when oneDNN is loaded). */
export function nativeBase(backend: Backend, dnnl: OneDnn | null): NativeBase {
  if (backend !== wasmBackend) return { backend, kernels: backend.kernels, wasm: false };
  // With oneDNN its OpenMP threads do the parallel work; a wasm worker woken for an element-wise
  // kernel competes with them for the same cores (ResNet-block step with the wasm kernels split
  // over 2 threads 168-169 ms, on one 157-159 ms; LeNet-5 step, once the wasm kernels split from
  // 64K elements, 8.0-8.3 ms against 2.6-3.4), so native's wasm kernels stay on the caller, in a
  // runtime of their own on an unshared memory, where the copies in and out are plain memcpy.
  return { backend, kernels: dnnl ? wasmKernels(wasmCallerRuntime, () => 1) : backend.kernels, wasm: true };
}

/**
 * A native backend over an already loaded OpenBLAS: with `dnnl`, convolution,
 * batch norm, matrix products, ReLU and addition on oneDNN (OpenBLAS for what
 * oneDNN refuses); without, GEMM and convolution on OpenBLAS. Everything else
 * comes from `base`, a backend (see nativeBase) or a NativeBase that says what
 * its kernels are. Its thread count drives OpenBLAS, oneDNN and the base
 * backend alike.
 */
export function createNativeBackend(blas: OpenBlas, base: Backend | NativeBase = refBackend, dnnl: OneDnn | null = null): NativeBackend {
  const b = 'wasm' in base ? base : nativeBase(base, dnnl);
  const portable = b.kernels;
  // ref has no fast ReLU or 2x2 max pool of its own: native's JavaScript ones take those cases; any other base keeps its own.
  const own: Pick<KernelSignatures, 'unary' | 'unaryBackward' | 'maxPool2dForward'> = b.backend === refBackend ? makeEltwiseKernels(portable) : portable;
  // With oneDNN, the few products left to OpenBLAS run on one thread: its worker threads spin
  // after a call, and a OpenMP region that follows waits for a core they hold (LeNet-5's nine
  // linear-layer products on oneDNN took 146 us after single-threaded OpenBLAS calls, up to
  // 4,929 us after 2-threaded ones).
  const blasGemm = makeGemm(blas, dnnl !== null);
  const products = dnnl ? makeOneDnnGemm(dnnl, blasGemm) : null;
  const eltwise = dnnl ? makeOneDnnEltwise(dnnl, { unary: own.unary, unaryBackward: own.unaryBackward, binary: portable.binary }) : null;
  const batchNorm = dnnl ? makeOneDnnBatchNorm(dnnl, portable) : null;
  const reduction = dnnl ? makeOneDnnReduction(dnnl, portable) : null;
  const oneDnnConv = dnnl ? makeOneDnnConvLayout(dnnl) : null;
  const oneDnnChain = dnnl ? makeOneDnnConvChain(dnnl) : null;
  const scratch = new ConvScratch();
  const conv = makeConvKernels(blas, scratch, { oneDnn: oneDnnConv?.layout, direct: b.wasm ? portable : null, singleThread: dnnl !== null });
  const kernels: Backend['kernels'] = {
    gemm: products ? products.gemm : blasGemm,
    unary: eltwise ? eltwise.kernels.unary : own.unary,
    unaryBackward: eltwise ? eltwise.kernels.unaryBackward : own.unaryBackward,
    binary: eltwise ? eltwise.kernels.binary : portable.binary,
    reduce: portable.reduce,
    argReduce: portable.argReduce,
    permute: portable.permute,
    softmax: portable.softmax,
    softmaxBackward: portable.softmaxBackward,
    batchNormStats: batchNorm ? batchNorm.kernels.batchNormStats : portable.batchNormStats,
    batchNorm2dForward: batchNorm ? batchNorm.kernels.batchNorm2dForward : portable.batchNorm2dForward,
    batchNorm2dBackward: batchNorm ? batchNorm.kernels.batchNorm2dBackward : portable.batchNorm2dBackward,
    conv2dForward: conv.conv2dForward,
    conv2dForwardFused: conv.conv2dForwardFused,
    conv2dChainForward(x, steps, y) {
      if (oneDnnChain && x instanceof Float32Array && y instanceof Float32Array && oneDnnChain.run(x, steps, y)) return;
      runChain({ conv2dForwardFused: conv.conv2dForwardFused, maxPool2dForward: own.maxPool2dForward }, x, steps, y);
    },
    conv2dBackwardInput: conv.conv2dBackwardInput,
    conv2dBackwardFilter: conv.conv2dBackwardFilter,
    conv2dFFTForward: portable.conv2dFFTForward,
    conv2dFFTBackwardInput: portable.conv2dFFTBackwardInput,
    conv2dFFTBackwardFilter: portable.conv2dFFTBackwardFilter,
    maxPool2dForward: own.maxPool2dForward,
    maxPool2dBackward: portable.maxPool2dBackward,
    avgPool2dForward: portable.avgPool2dForward,
    avgPool2dBackward: portable.avgPool2dBackward,
    lpPool2dForward: portable.lpPool2dForward,
    lpPool2dBackward: portable.lpPool2dBackward,
    adaptiveAvgPool2dForward: reduction ? reduction.kernels.adaptiveAvgPool2dForward : portable.adaptiveAvgPool2dForward,
    adaptiveAvgPool2dBackward: reduction ? reduction.kernels.adaptiveAvgPool2dBackward : portable.adaptiveAvgPool2dBackward,
    adaptiveMaxPool2dForward: portable.adaptiveMaxPool2dForward,
    scatterPlanes: portable.scatterPlanes,
    gatherPlanes: portable.gatherPlanes,
    channelL2PoolForward: portable.channelL2PoolForward,
    channelL2PoolBackward: portable.channelL2PoolBackward,
    localResponseNormForward: portable.localResponseNormForward,
    localResponseNormBackward: portable.localResponseNormBackward,
    pad2d: portable.pad2d,
    pad2dBackward: portable.pad2dBackward,
    upsample2d: portable.upsample2d,
    upsample2dBackward: portable.upsample2dBackward,
    gather: portable.gather,
    scatterAdd: portable.scatterAdd,
    where: portable.where,
    topk: portable.topk,
    sgdStep: portable.sgdStep,
    sgdStepMany: portable.sgdStepMany,
  };
  return {
    name: 'native',
    kernels,
    /** Uses n threads in OpenBLAS, oneDNN and the base backend; null restores one per core. */
    setThreads(n: number | null): void {
      blas.setThreads(n ?? availableParallelism());
      dnnl?.setThreads(n ?? availableParallelism());
      b.backend.setThreads?.(n);
    },
    info() {
      const threads = blas.getThreads();
      const baseInfo = b.backend.info?.();
      return {
        name: 'native',
        threads,
        simd: baseInfo?.simd ?? 'none',
        sharedMemory: baseInfo?.sharedMemory,
        detail: `${nativeStatus()}; oneDNN ${oneDnnStatus()}; other kernels from ${b.backend.name}${b.kernels !== b.backend.kernels ? ' on the calling thread' : ''}${baseInfo?.detail ? ` (${baseInfo.detail})` : ''}`,
      };
    },
    release(): void {
      scratch.release();
      oneDnnConv?.release();
      oneDnnChain?.release();
      batchNorm?.release();
      reduction?.release();
      eltwise?.release();
      products?.release();
    },
  };
}

/** Whether OpenBLAS can be used here (loads it on the first call). */
export function nativeAvailable(): boolean {
  return loadOpenBlas().ok;
}

/**
 * One line about the native backend: what was loaded ("OpenBLAS 0.3.21 ...
 * (Cooperlake kernels) from libopenblas.so.0, 2 threads"), or why it is not
 * available and the command that installs what is missing.
 */
export function nativeStatus(): string {
  const loaded = loadOpenBlas();
  if (!loaded.ok) return `native backend unavailable: ${loaded.reason}`;
  const b = loaded.blas;
  const threads = b.getThreads();
  const note = coreTypeNote ? `; ${coreTypeNote}` : '';
  return `${b.config.trim()} (${b.corename.trim()} kernels) from ${b.path}, ${threads} thread${threads === 1 ? '' : 's'}${note}`;
}

/** Whether the native backend runs convolution, batch norm and matrix products on oneDNN (loads it on the first call). */
export function oneDnnAvailable(): boolean {
  return loadOneDnn().ok;
}

/**
 * One line about oneDNN: what was loaded and what runs on it ("oneDNN 2.6.3
 * (OpenMP) from libdnnl.so.2, 2 threads: convolution, batch norm, matrix
 * products"), or why it is not used and the command that installs it.
 */
export function oneDnnStatus(): string {
  const dnnl = loadOneDnn();
  if (!dnnl.ok) return `not used: ${dnnl.reason}; convolution runs on OpenBLAS`;
  const threads = dnnl.dnnl.getThreads();
  return `${dnnl.dnnl.description}, ${threads} thread${threads === 1 ? '' : 's'}: convolution, batch norm, matrix products`;
}

/** Sets the number of OpenBLAS threads (>= 1); a no-op when the library is not loaded. */
export function setNativeThreads(n: number): void {
  const loaded = loadOpenBlas();
  if (!loaded.ok) return;
  loaded.blas.setThreads(Math.max(1, Math.floor(n)));
  const dnnl = loadOneDnn();
  if (dnnl.ok) dnnl.dnnl.setThreads(n);
}

/** The number of OpenBLAS threads, or 0 when the library is not available. */
export function getNativeThreads(): number {
  const loaded = loadOpenBlas();
  return loaded.ok ? loaded.blas.getThreads() : 0;
}

/** The loaded OpenBLAS handle (for benchmarks and tests), or null. */
export function openBlasHandle(): OpenBlas | null {
  if (!blasHandle) {
    const loaded = loadOpenBlas();
    if (loaded.ok) blasHandle = loaded.blas;
  }
  return blasHandle;
}
