/**
 * The system's oneDNN (Debian: libdnnl2, the library Debian's PyTorch uses
 * for its CPU convolutions), reached through koffi like OpenBLAS. Optional:
 * nothing is loaded until `loadOneDnn()` is called, and every failure becomes
 * a sentence for `nativeStatus()` instead of an exception.
 *
 * Only oneDNN 2.x is bound (its C API builds an operation descriptor, then a
 * primitive descriptor; 3.x replaced those calls). The handful of C functions
 * used are declared here with opaque `void *` handles; descriptor structs are
 * kept in byte buffers at least as large as oneDNN 2.x's (696 bytes for a
 * memory descriptor, 5,976 for a convolution descriptor, measured with
 * sizeof on 2.6.3) and never read from JavaScript.
 *
 * Typed arrays are passed to C as pointers to their contents (koffi copies
 * nothing); a memory object handed a JavaScript array through
 * `dnnl_memory_set_data_handle` is only executed while that array is held
 * by the caller, so the pointer stays valid (array buffers do not move).
 */
import { firstLine, openFirst, requireKoffi, type Koffi, type KoffiLib } from './ffi.js';
import { pinLibrary } from './pin.js';

/** The one command that installs the library, for messages. */
export const ONEDNN_INSTALL_HINT = 'sudo apt-get install libdnnl2';

/** oneDNN 2.x enum values (dnnl_types.h of 2.6.3; printed by a C program, not guessed). */
export const DNNL = {
  success: 0,
  f32: 3,
  tagAny: 1,
  tagA: 2,
  /** dnnl_ab: a plain row-major matrix. */
  tagAb: 3,
  tagNchw: 5,
  tagOihw: 5,
  tagGoihw: 7,
  /** nChw16c (dnnl_aBcd16b): channels in blocks of 16. */
  tagNChw16c: 69,
  /** nChw8c (dnnl_aBcd8b): channels in blocks of 8. */
  tagNChw8c: 93,
  forwardTraining: 64,
  backward: 128,
  backwardData: 160,
  useGlobalStats: 1,
  useScale: 8,
  useShift: 16,
  forwardInference: 96,
  eltwiseRelu: 31,
  poolingMax: 511,
  eltwiseClip: 255,
  binaryAdd: 131056,
  convolutionDirect: 1,
  convolutionWinograd: 2,
  convolutionAuto: 3,
  engineCpu: 1,
  streamDefaultFlags: 1,
  querySrcMd: 129,
  queryDiffSrcMd: 130,
  queryWeightsMd: 131,
  queryDiffWeightsMd: 132,
  queryDstMd: 133,
  queryDiffDstMd: 134,
  queryImplInfoStr: 8,
  argSrc: 1,
  argSrc1: 2,
  argDst: 17,
  argWeights: 33,
  argBias: 41,
  argDiffSrc: 129,
  argDiffDst: 145,
  argDiffWeights: 161,
  argDiffBias: 169,
  argMean: 49,
  argVariance: 50,
  argScale: 51,
  argShift: 52,
  argDiffScale: 255,
  argDiffShift: 256,
  argFrom: 1,
  argTo: 17,
} as const;

/** Bytes reserved for a dnnl_memory_desc_t (696 in 2.6.3) and an operation descriptor (5,976 for convolution, 2,800 for matmul). */
export const MEMORY_DESC_BYTES = 1024;
export const OP_DESC_BYTES = 8192;

/** An opaque C pointer as koffi returns it. */
export type Handle = object;

/** The oneDNN calls Stride uses (status codes are returned, 0 = success). */
export interface OneDnnApi {
  memoryDescInitByTag(md: Uint8Array, ndims: number, dims: BigInt64Array, dataType: number, tag: number): number;
  memoryDescInitByStrides(md: Uint8Array, ndims: number, dims: BigInt64Array, dataType: number, strides: BigInt64Array): number;
  matmulDescInit(desc: Uint8Array, src: Uint8Array, weights: Uint8Array, bias: Uint8Array | null, dst: Uint8Array): number;
  eltwiseForwardDescInit(desc: Uint8Array, prop: number, alg: number, data: Uint8Array, alpha: number, beta: number): number;
  eltwiseBackwardDescInit(desc: Uint8Array, alg: number, diffData: Uint8Array, data: Uint8Array, alpha: number, beta: number): number;
  binaryDescInit(desc: Uint8Array, alg: number, src0: Uint8Array, src1: Uint8Array, dst: Uint8Array): number;
  poolingV2ForwardDescInit(
    desc: Uint8Array, prop: number, alg: number, src: Uint8Array | Handle, dst: Uint8Array,
    strides: BigInt64Array, kernel: BigInt64Array, dilation: BigInt64Array, padL: BigInt64Array, padR: BigInt64Array,
  ): number;
  batchNormForwardDescInit(desc: Uint8Array, prop: number, data: Uint8Array, epsilon: number, flags: number): number;
  batchNormBackwardDescInit(desc: Uint8Array, prop: number, diffData: Uint8Array, data: Uint8Array, epsilon: number, flags: number): number;
  reductionDescInit(desc: Uint8Array, alg: number, src: Uint8Array, dst: Uint8Array, p: number, eps: number): number;
  convForwardDescInit(
    desc: Uint8Array, prop: number, alg: number, src: Uint8Array, weights: Uint8Array, bias: Uint8Array | null, dst: Uint8Array,
    strides: BigInt64Array, dilates: BigInt64Array, padL: BigInt64Array, padR: BigInt64Array,
  ): number;
  convBackwardDataDescInit(
    desc: Uint8Array, alg: number, diffSrc: Uint8Array, weights: Uint8Array, diffDst: Uint8Array,
    strides: BigInt64Array, dilates: BigInt64Array, padL: BigInt64Array, padR: BigInt64Array,
  ): number;
  convBackwardWeightsDescInit(
    desc: Uint8Array, alg: number, src: Uint8Array, diffWeights: Uint8Array, diffBias: Uint8Array | null, diffDst: Uint8Array,
    strides: BigInt64Array, dilates: BigInt64Array, padL: BigInt64Array, padR: BigInt64Array,
  ): number;
  primitiveDescCreate(out: [Handle | null], opDesc: Uint8Array, attr: Handle | null, engine: Handle, hint: Handle | null): number;
  primitiveAttrCreate(out: [Handle | null]): number;
  primitiveAttrDestroy(attr: Handle): number;
  primitiveAttrSetPostOps(attr: Handle, postOps: Handle): number;
  postOpsCreate(out: [Handle | null]): number;
  postOpsDestroy(postOps: Handle): number;
  /** dst = dst_computed + scale * dst_before (the accumulator the caller put in dst). */
  postOpsAppendSum(postOps: Handle, scale: number): number;
  postOpsAppendEltwise(postOps: Handle, scale: number, alg: number, alpha: number, beta: number): number;
  postOpsAppendBinary(postOps: Handle, alg: number, src1: Uint8Array): number;
  primitiveDescDestroy(pd: Handle): number;
  /** A pointer into the primitive descriptor, valid while it lives. */
  queryMd(pd: Handle, what: number, index: number): Handle;
  queryString(pd: Handle, what: number, index: number, out: [string | null]): number;
  primitiveCreate(out: [Handle | null], pd: Handle): number;
  /** handle: a typed array, or null for "no buffer yet". */
  memoryCreate(out: [Handle | null], md: Uint8Array | Handle, engine: Handle, handle: Float32Array | null): number;
  /** Creates a memory object whose buffer oneDNN allocates (DNNL_MEMORY_ALLOCATE). */
  memoryCreateOwned(out: [Handle | null], md: Uint8Array | Handle, engine: Handle, allocate: bigint): number;
  memorySetDataHandle(memory: Handle, data: Float32Array): number;
  /** The same, with the buffer as an address (a place inside a buffer oneDNN allocated). */
  memorySetDataAddress(memory: Handle, address: bigint): number;
  memoryGetDataHandle(memory: Handle, out: [Handle | null]): number;
  /** Bytes a memory descriptor's buffer takes (its padded, blocked layout included). */
  memoryDescGetSize(md: Uint8Array | Handle): number;
  memoryDescEqual(a: Uint8Array | Handle, b: Uint8Array | Handle): number;
  reorderDescCreate(out: [Handle | null], src: Uint8Array | Handle, srcEngine: Handle, dst: Uint8Array | Handle, dstEngine: Handle, attr: null): number;
  /** args: nargs records of 16 bytes { int32 arg; pad; void *memory } (dnnl_exec_arg_t). */
  execute(primitive: Handle, stream: Handle, nargs: number, args: Uint8Array): number;
  streamWait(stream: Handle): number;
  primitiveDestroy(primitive: Handle): number;
  memoryDestroy(memory: Handle): number;
  address(handle: Handle): bigint;
}

export interface OneDnn {
  readonly api: OneDnnApi;
  readonly engine: Handle;
  readonly stream: Handle;
  /** Library file and version, e.g. "oneDNN 2.6.3 (OpenMP) from libdnnl.so.2". */
  readonly description: string;
  /** OpenMP threads used by oneDNN's primitives (omp_set_num_threads). */
  setThreads(n: number): void;
  getThreads(): number;
}

export type OneDnnLoadResult = { ok: true; dnnl: OneDnn } | { ok: false; reason: string };

let cached: OneDnnLoadResult | null = null;

/** Loads koffi and oneDNN once; later calls return the same result. STRIDE_ONEDNN=0 turns it off. */
export function loadOneDnn(): OneDnnLoadResult {
  if (!cached) cached = tryLoadOneDnn();
  return cached;
}

function candidates(): string[] {
  const env = typeof process !== 'undefined' ? process.env.STRIDE_ONEDNN : undefined;
  const list: string[] = [];
  if (env && env !== '0') list.push(env);
  list.push('libdnnl.so.2', '/usr/lib/x86_64-linux-gnu/libdnnl.so.2', '/usr/lib/aarch64-linux-gnu/libdnnl.so.2');
  return list;
}

/** Loads oneDNN from the first of `paths` that opens (the default search list unless given). */
export function tryLoadOneDnn(paths?: readonly string[]): OneDnnLoadResult {
  if (!paths && typeof process !== 'undefined' && process.env.STRIDE_ONEDNN === '0') {
    return { ok: false, reason: 'turned off by STRIDE_ONEDNN=0' };
  }
  const k = requireKoffi();
  if (!k.ok) return k;
  const koffi = k.koffi;
  const found = openFirst(koffi, paths ?? candidates());
  if (found.lib) {
    const { lib, path } = found;
    try {
      const dnnl = bind(koffi, lib, path);
      // its OpenMP threads must never run into an unmapped libgomp or libdnnl at exit (pin.ts)
      pinLibrary(koffi, path);
      pinLibrary(koffi, 'libgomp.so.1');
      return { ok: true, dnnl };
    } catch (e) {
      return { ok: false, reason: `${path} loaded but could not be used (${firstLine(e)}); Stride binds oneDNN 2.x, install it with: ${ONEDNN_INSTALL_HINT}` };
    }
  }
  const tried = found.tried;
  return { ok: false, reason: `libdnnl.so.2 not found (tried ${tried.length} locations; set STRIDE_ONEDNN to its path if it is elsewhere); install it with: ${ONEDNN_INSTALL_HINT}` };
}

function bind(koffi: Koffi, lib: KoffiLib, path: string): OneDnn {
  const f = (signature: string) => lib.func(signature);
  const Version = koffi.struct('stride_dnnl_version_t', { major: 'int', minor: 'int', patch: 'int', hash: 'const char *', cpu_runtime: 'unsigned int', gpu_runtime: 'unsigned int' });
  const versionFn = f('const stride_dnnl_version_t *dnnl_version()') as () => unknown;
  const v = koffi.decode(versionFn(), Version);
  if (v.major !== 2) throw new Error(`oneDNN ${v.major}.${v.minor}.${v.patch} found; only the 2.x API is bound`);
  const runtimes: Record<number, string> = { 1: 'sequential', 2: 'OpenMP', 4: 'TBB', 8: 'threadpool' };
  const runtime = runtimes[v.cpu_runtime] ?? `runtime ${v.cpu_runtime}`;

  const api: OneDnnApi = {
    memoryDescInitByTag: f('int dnnl_memory_desc_init_by_tag(void *md, int ndims, const int64_t *dims, int dt, int tag)') as OneDnnApi['memoryDescInitByTag'],
    memoryDescInitByStrides: f('int dnnl_memory_desc_init_by_strides(void *md, int ndims, const int64_t *dims, int dt, const int64_t *strides)') as OneDnnApi['memoryDescInitByStrides'],
    eltwiseForwardDescInit: f('int dnnl_eltwise_forward_desc_init(void *desc, int prop, int alg, const void *data, float alpha, float beta)') as OneDnnApi['eltwiseForwardDescInit'],
    eltwiseBackwardDescInit: f('int dnnl_eltwise_backward_desc_init(void *desc, int alg, const void *diff, const void *data, float alpha, float beta)') as OneDnnApi['eltwiseBackwardDescInit'],
    poolingV2ForwardDescInit: f('int dnnl_pooling_v2_forward_desc_init(void *desc, int prop, int alg, const void *src, const void *dst, const int64_t *strides, const int64_t *kernel, const int64_t *dilation, const int64_t *pl, const int64_t *pr)') as OneDnnApi['poolingV2ForwardDescInit'],
    binaryDescInit: f('int dnnl_binary_desc_init(void *desc, int alg, const void *src0, const void *src1, const void *dst)') as OneDnnApi['binaryDescInit'],
    batchNormForwardDescInit: f('int dnnl_batch_normalization_forward_desc_init(void *desc, int prop, const void *data, float epsilon, unsigned int flags)') as OneDnnApi['batchNormForwardDescInit'],
    batchNormBackwardDescInit: f('int dnnl_batch_normalization_backward_desc_init(void *desc, int prop, const void *diff, const void *data, float epsilon, unsigned int flags)') as OneDnnApi['batchNormBackwardDescInit'],
    reductionDescInit: f('int dnnl_reduction_desc_init(void *desc, int alg, const void *src, const void *dst, float p, float eps)') as OneDnnApi['reductionDescInit'],
    matmulDescInit: f('int dnnl_matmul_desc_init(void *desc, const void *src, const void *w, const void *b, const void *dst)') as OneDnnApi['matmulDescInit'],
    convForwardDescInit: f('int dnnl_dilated_convolution_forward_desc_init(void *desc, int prop, int alg, const void *src, const void *w, const void *b, const void *dst, const int64_t *strides, const int64_t *dilates, const int64_t *pl, const int64_t *pr)') as OneDnnApi['convForwardDescInit'],
    convBackwardDataDescInit: f('int dnnl_dilated_convolution_backward_data_desc_init(void *desc, int alg, const void *dsrc, const void *w, const void *ddst, const int64_t *strides, const int64_t *dilates, const int64_t *pl, const int64_t *pr)') as OneDnnApi['convBackwardDataDescInit'],
    convBackwardWeightsDescInit: f('int dnnl_dilated_convolution_backward_weights_desc_init(void *desc, int alg, const void *src, const void *dw, const void *db, const void *ddst, const int64_t *strides, const int64_t *dilates, const int64_t *pl, const int64_t *pr)') as OneDnnApi['convBackwardWeightsDescInit'],
    primitiveDescCreate: f('int dnnl_primitive_desc_create(_Out_ void **pd, const void *desc, void *attr, void *engine, void *hint)') as OneDnnApi['primitiveDescCreate'],
    primitiveDescDestroy: f('int dnnl_primitive_desc_destroy(void *pd)') as OneDnnApi['primitiveDescDestroy'],
    primitiveAttrCreate: f('int dnnl_primitive_attr_create(_Out_ void **attr)') as OneDnnApi['primitiveAttrCreate'],
    primitiveAttrDestroy: f('int dnnl_primitive_attr_destroy(void *attr)') as OneDnnApi['primitiveAttrDestroy'],
    primitiveAttrSetPostOps: f('int dnnl_primitive_attr_set_post_ops(void *attr, const void *postOps)') as OneDnnApi['primitiveAttrSetPostOps'],
    postOpsCreate: f('int dnnl_post_ops_create(_Out_ void **postOps)') as OneDnnApi['postOpsCreate'],
    postOpsDestroy: f('int dnnl_post_ops_destroy(void *postOps)') as OneDnnApi['postOpsDestroy'],
    postOpsAppendSum: f('int dnnl_post_ops_append_sum(void *postOps, float scale)') as OneDnnApi['postOpsAppendSum'],
    postOpsAppendEltwise: f('int dnnl_post_ops_append_eltwise(void *postOps, float scale, int alg, float alpha, float beta)') as OneDnnApi['postOpsAppendEltwise'],
    postOpsAppendBinary: f('int dnnl_post_ops_append_binary(void *postOps, int alg, const void *src1)') as OneDnnApi['postOpsAppendBinary'],
    queryMd: f('void *dnnl_primitive_desc_query_md(void *pd, int what, int index)') as OneDnnApi['queryMd'],
    queryString: f('int dnnl_primitive_desc_query(void *pd, int what, int index, _Out_ const char **result)') as OneDnnApi['queryString'],
    primitiveCreate: f('int dnnl_primitive_create(_Out_ void **p, void *pd)') as OneDnnApi['primitiveCreate'],
    memoryCreate: f('int dnnl_memory_create(_Out_ void **m, const void *md, void *engine, void *handle)') as OneDnnApi['memoryCreate'],
    // The same C function with the handle as an integer, to pass DNNL_MEMORY_ALLOCATE ((void *)-1).
    memoryCreateOwned: f('int dnnl_memory_create(_Out_ void **m, const void *md, void *engine, int64_t handle)') as OneDnnApi['memoryCreateOwned'],
    memorySetDataHandle: f('int dnnl_memory_set_data_handle(void *m, void *handle)') as OneDnnApi['memorySetDataHandle'],
    memorySetDataAddress: f('int dnnl_memory_set_data_handle(void *m, int64_t handle)') as OneDnnApi['memorySetDataAddress'],
    memoryGetDataHandle: f('int dnnl_memory_get_data_handle(void *m, _Out_ void **handle)') as OneDnnApi['memoryGetDataHandle'],
    memoryDescGetSize: f('size_t dnnl_memory_desc_get_size(const void *md)') as OneDnnApi['memoryDescGetSize'],
    memoryDescEqual: f('int dnnl_memory_desc_equal(const void *a, const void *b)') as OneDnnApi['memoryDescEqual'],
    reorderDescCreate: f('int dnnl_reorder_primitive_desc_create(_Out_ void **pd, const void *src, void *srcEngine, const void *dst, void *dstEngine, void *attr)') as OneDnnApi['reorderDescCreate'],
    execute: f('int dnnl_primitive_execute(void *p, void *stream, int nargs, const void *args)') as OneDnnApi['execute'],
    streamWait: f('int dnnl_stream_wait(void *stream)') as OneDnnApi['streamWait'],
    primitiveDestroy: f('int dnnl_primitive_destroy(void *p)') as OneDnnApi['primitiveDestroy'],
    memoryDestroy: f('int dnnl_memory_destroy(void *m)') as OneDnnApi['memoryDestroy'],
    address: (h) => koffi.address(h),
  };
  const engineCreate = f('int dnnl_engine_create(_Out_ void **engine, int kind, size_t index)') as (out: [Handle | null], kind: number, index: number) => number;
  const streamCreate = f('int dnnl_stream_create(_Out_ void **stream, void *engine, unsigned int flags)') as (out: [Handle | null], engine: Handle, flags: number) => number;
  const engine = created((out) => engineCreate(out, DNNL.engineCpu, 0), 'dnnl_engine_create');
  const stream = created((out) => streamCreate(out, engine, DNNL.streamDefaultFlags), 'dnnl_stream_create');

  // oneDNN's OpenMP runtime is the process's libgomp; its thread count is set there.
  let setOmp: ((n: number) => void) | null = null;
  let getOmp: (() => number) | null = null;
  if (v.cpu_runtime === 2) {
    for (const name of ['libgomp.so.1', 'libomp.so.5', 'libomp.so']) {
      try {
        const omp = koffi.load(name);
        setOmp = omp.func('void omp_set_num_threads(int n)') as (n: number) => void;
        getOmp = omp.func('int omp_get_max_threads()') as () => number;
        break;
      } catch {
        // try the next name
      }
    }
  }
  let threads = getOmp ? getOmp() : 1;
  return {
    api,
    engine,
    stream,
    description: `oneDNN ${v.major}.${v.minor}.${v.patch} (${runtime}) from ${path}`,
    setThreads(n: number) {
      threads = Math.max(1, Math.floor(n));
      setOmp?.(threads);
    },
    getThreads: () => threads,
  };
}

/** Runs a oneDNN creation call with an out-parameter; throws with the status when it fails. */
export function created(call: (out: [Handle | null]) => number, what: string): Handle {
  const out: [Handle | null] = [null];
  const status = call(out);
  if (status !== DNNL.success || out[0] === null) throw new Error(`${what} failed with status ${status}`);
  return out[0];
}
