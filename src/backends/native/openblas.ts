/**
 * The system's OpenBLAS, reached through the `koffi` FFI package (an optional
 * dependency that ships prebuilt binaries). Nothing is loaded until
 * `loadOpenBlas()` is called, and every failure (no koffi, no library, a
 * library without CBLAS) becomes a sentence for `nativeStatus()` instead of
 * an exception, so Stride works the same without either.
 *
 * Typed arrays are passed to C as pointers to their contents (koffi copies
 * nothing), so a `subarray` view is how an offset reaches cblas_sgemm.
 */
import { readFileSync } from 'node:fs';
import { firstLine, openFirst, requireKoffi } from './ffi.js';
import { pinLibrary } from './pin.js';

/** CBLAS enum values (cblas.h). */
export const CBLAS_ROW_MAJOR = 101;
export const CBLAS_NO_TRANS = 111;
export const CBLAS_TRANS = 112;

export interface OpenBlas {
  /** cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc). */
  sgemm(
    order: number, transA: number, transB: number, M: number, N: number, K: number,
    alpha: number, A: Float32Array, lda: number, B: Float32Array, ldb: number,
    beta: number, C: Float32Array, ldc: number,
  ): void;
  /** cblas_saxpy(n, alpha, x, incx, y, incy): y += alpha * x. */
  saxpy(n: number, alpha: number, x: Float32Array, incx: number, y: Float32Array, incy: number): void;
  setThreads(n: number): void;
  getThreads(): number;
  /** Runs f with OpenBLAS set to n threads, then restores the count set with setThreads (a call costs ~20 ns). */
  withThreads<T>(n: number, f: () => T): T;
  /** The library file that was loaded. */
  readonly path: string;
  /** openblas_get_config(), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... Cooperlake MAX_THREADS=64". */
  readonly config: string;
  /** openblas_get_corename(): the kernel set chosen for this CPU. */
  readonly corename: string;
}

/** The one command that installs the library, for messages. */
export const OPENBLAS_INSTALL_HINT = 'sudo apt-get install libopenblas0-pthread';

/**
 * Where to look, in order: STRIDE_OPENBLAS (a path), the loader's search path
 * (Debian's alternatives link libopenblas.so.0 into /usr/lib/<triplet>), then
 * the flavour folders directly and other systems' usual names.
 */
function candidates(): string[] {
  const list: string[] = [];
  const env = typeof process !== 'undefined' ? process.env.STRIDE_OPENBLAS : undefined;
  if (env) list.push(env);
  list.push('libopenblas.so.0');
  for (const triplet of ['x86_64-linux-gnu', 'aarch64-linux-gnu']) {
    for (const flavour of ['openblas-pthread', 'openblas-openmp', 'openblas-serial']) {
      list.push(`/usr/lib/${triplet}/${flavour}/libopenblas.so.0`);
    }
  }
  list.push('libopenblas.so', '/opt/homebrew/opt/openblas/lib/libopenblas.dylib', '/usr/local/opt/openblas/lib/libopenblas.dylib', 'libopenblas.dll');
  return list;
}

/**
 * OpenBLAS up to 0.3.21 (Debian 12) does not recognise AMD's AVX-512 cores
 * (Zen 4, Zen 5) and falls back to its AVX2 "Haswell" kernels, which measure
 * at half the sgemm speed of its AVX-512 "SkylakeX" kernels on such a CPU.
 * OpenBLAS reads OPENBLAS_CORETYPE when it is loaded, so when the variable is
 * unset and /proc/cpuinfo shows an AMD CPU with the AVX-512 subsets SkylakeX
 * needs, it is set before loading. A value the user set is kept; if it names
 * a non-AVX-512 kernel set on such a CPU, `coreTypeNote` says so.
 */
function chooseCoreType(): void {
  if (typeof process === 'undefined' || process.platform !== 'linux' || process.arch !== 'x64') return;
  let info: string;
  try {
    info = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return;
  }
  const flagsLine = /^flags\s*:(.*)$/m.exec(info);
  if (!flagsLine) return;
  const flags = new Set(flagsLine[1].trim().split(/\s+/));
  const avx512 = ['avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512cd'].every((f) => flags.has(f));
  if (!avx512) return;
  const set = process.env.OPENBLAS_CORETYPE;
  if (set) {
    if (!/skylakex|cooperlake|sapphirerapids/i.test(set)) {
      coreTypeNote = `OPENBLAS_CORETYPE=${set} is set; this CPU has AVX-512, where OPENBLAS_CORETYPE=SkylakeX runs sgemm about twice as fast`;
    }
    return;
  }
  if (!/^vendor_id\s*:\s*AuthenticAMD/m.test(info)) return;
  process.env.OPENBLAS_CORETYPE = 'SkylakeX';
  coreTypeNote = 'SkylakeX kernels chosen by Stride for this AVX-512 AMD CPU, which OpenBLAS <= 0.3.21 runs with AVX2 kernels; set OPENBLAS_CORETYPE to override';
}

/** What chooseCoreType did or advises, for nativeStatus(); null when there is nothing to say. */
export let coreTypeNote: string | null = null;

export type LoadResult = { ok: true; blas: OpenBlas } | { ok: false; reason: string };

let cached: LoadResult | null = null;

/** Loads koffi and OpenBLAS once; later calls return the same result. */
export function loadOpenBlas(): LoadResult {
  if (!cached) cached = tryLoad();
  return cached;
}

/**
 * Loads koffi and the first of `paths` that opens (the default search list
 * unless given; tests pass their own to check the messages).
 */
export function tryLoad(paths?: readonly string[]): LoadResult {
  const k = requireKoffi();
  if (!k.ok) return k;
  const koffi = k.koffi;
  if (!paths) chooseCoreType();
  const found = openFirst(koffi, paths ?? candidates());
  if (found.lib) {
    const { lib, path } = found;
    try {
      const sgemm = lib.func(
        'void cblas_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)',
      ) as OpenBlas['sgemm'];
      const saxpy = lib.func('void cblas_saxpy(int n, float alpha, const float *x, int incx, float *y, int incy)') as OpenBlas['saxpy'];
      const setRaw = lib.func('void openblas_set_num_threads(int n)') as (n: number) => void;
      const getRaw = lib.func('int openblas_get_num_threads()') as () => number;
      // The thread count asked for; sgemm may run small products on one thread
      // (see ./gemm.ts) and put this back, so it is kept here, not read back.
      let threads = getRaw();
      const setThreads = (n: number) => {
        threads = n;
        setRaw(n);
      };
      const getThreads = () => threads;
      const withThreads = <T>(n: number, f: () => T): T => {
        if (n === threads) return f();
        setRaw(n);
        try {
          return f();
        } finally {
          setRaw(threads);
        }
      };
      // its threads sleep inside the library: keep it mapped at exit (pin.ts)
      pinLibrary(koffi, path);
      const getConfig = lib.func('const char *openblas_get_config()') as () => string;
      const getCorename = lib.func('const char *openblas_get_corename()') as () => string;
      return { ok: true, blas: { sgemm, saxpy, setThreads, getThreads, withThreads, path, config: getConfig(), corename: getCorename() } };
    } catch (e) {
      return { ok: false, reason: `${path} loaded but lacks the CBLAS/OpenBLAS functions Stride needs (${firstLine(e)}); install OpenBLAS with: ${OPENBLAS_INSTALL_HINT}` };
    }
  }
  return { ok: false, reason: `libopenblas.so.0 not found (tried ${found.tried.length} locations; set STRIDE_OPENBLAS to its path if it is elsewhere); install it with: ${OPENBLAS_INSTALL_HINT}` };
}
