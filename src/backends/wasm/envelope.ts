/**
 * The envelope of every wasm kernel call: the one place that decides whether
 * the wasm kernel runs, copies operands into the runtime's arena and results
 * out, and splits the work over threads.
 *
 * A kernel is `envelope(ref.name, (e, ...args) => { ... })`; its body declares
 * its inputs (`e.in`), outputs (`e.out`, `e.inOut`), geometry block
 * (`e.geometry`) and split (`e.plan`, then one `e.call` per thread and
 * `e.runChunks`). The reference kernel `ref.name` runs instead when
 *   - the runtime is not available (still compiling, or no SIMD);
 *   - an operand is a Float64Array (the wasm kernels compute in float32);
 *   - the body returns false (a case its wasm kernel does not cover);
 *   - the call needs more memory than the wasm memory may grow to (2 GiB):
 *     a WasmMemoryError from an allocation.
 * Outputs are copied out only after the body returned, so a call that falls
 * back leaves no output half-written.
 *
 * One KernelCall serves every kernel of a table (kernels run one at a time on
 * the calling thread): a call allocates nothing beyond the argument lists of
 * its threads.
 */
import type { FloatArray } from '../backend.js';
import type { ChunkPlan, JobName } from './control.js';
import { WasmMemoryError, type WasmRuntime } from './runtime.js';

/** Chunks per thread of a planned job (KernelCall.plan): enough for the threads to even out, few enough that each is worth a call. */
export const CHUNKS_PER_THREAD = 4;

/** A kernel's body: `e` and the kernel's own arguments; false hands the call to the reference kernel. */
export type KernelBody<A extends unknown[]> = (e: KernelCall, ...args: A) => false | void;

/** The state of the kernel call in progress: its runtime, the outputs to copy out and the argument lists of its threads. */
export class KernelCall {
  /** The runtime of the call in progress. */
  r!: WasmRuntime;
  private readonly maxThreads: () => number;
  private calls: number[][] = [];
  /** Outputs to copy out: destination i < outs is outDst[i], from arena address, offset and length outAt[3i .. 3i+2]. */
  private outs = 0;
  private readonly outDst: (FloatArray | Int32Array | null)[] = [];
  private readonly outAt: number[] = [];

  constructor(maxThreads: () => number) {
    this.maxThreads = maxThreads;
  }

  /** Starts a call on r: the arena is empty again. */
  begin(r: WasmRuntime): void {
    this.r = r;
    r.reset();
  }

  /** Copies an input (src[off .. off+n)) into the arena; returns its address, 0 for null. */
  in(src: FloatArray | Int32Array | null, off = 0, n = src === null ? 0 : src.length - off): number {
    return src === null ? 0 : this.r.put(src, off, n);
  }

  /** Allocates an output (dst[off .. off+n)), copied out when the call succeeds; returns its address, 0 for null. */
  out(dst: FloatArray | Int32Array | null, off = 0, n = dst === null ? 0 : dst.length - off): number {
    if (dst === null) return 0;
    const addr = this.r.alloc(n);
    this.keep(dst, addr, off, n);
    return addr;
  }

  /** An operand the kernel reads and overwrites: copied in, and out when the call succeeds. */
  inOut(a: FloatArray, off = 0, n = a.length - off): number {
    const addr = this.r.put(a, off, n);
    this.keep(a, addr, off, n);
    return addr;
  }

  private keep(dst: FloatArray | Int32Array, addr: number, off: number, n: number): void {
    const i = this.outs++;
    this.outDst[i] = dst;
    this.outAt[3 * i] = addr;
    this.outAt[3 * i + 1] = off;
    this.outAt[3 * i + 2] = n;
  }

  /** Writes a geometry block: g's `fields` (generated/geometry.ts) as 32-bit integers, in order. */
  geometry<F extends string>(fields: readonly F[], g: Readonly<Record<F, number>>): number {
    const addr = this.r.alloc(fields.length);
    const i32 = this.r.i32;
    for (let i = 0; i < fields.length; i++) i32[(addr >> 2) + i] = g[fields[i]];
    return addr;
  }

  /** Threads a job of `work` can use: one per `minPerThread` of work, at most maxParts and the table's maximum. */
  threads(work: number, minPerThread: number, maxParts = Infinity): number {
    const r = this.r;
    if (r.threads === 1) return 1;
    return Math.max(1, Math.min(r.available(), Math.floor(work / minPerThread), this.maxThreads(), maxParts));
  }

  /** Items and chunk size of the job planned by `plan`. */
  private planItems = 0;
  private planChunk = 1;

  /**
   * Plans a job over the items [0, n) of `work` in all: the threads it can use (their workers are
   * woken now, so the wake-up overlaps the copying of the operands) and, on more than one thread,
   * chunks of about n / (threads * CHUNKS_PER_THREAD) items, multiples of `align`, that the threads
   * take in turn while any is left (runChunks): a thread that the OS holds back then delays the
   * job by a chunk, not by a fixed share. With `chunks`, the range is cut into that many chunks
   * whatever the number of threads (for results summed over chunks, which then do not depend on
   * the threads). Returns the number of threads; the body adds one argument list per thread
   * (call) and runs them with runChunks.
   */
  plan(n: number, work: number, minPerThread: number, align = 1, chunks = 0): number {
    const units = Math.ceil(n / align);
    const t = Math.min(this.threads(work, minPerThread, units), Math.max(1, units));
    this.r.wake(t);
    if (chunks > 0) chunks = Math.max(1, Math.min(units, chunks));
    else chunks = t === 1 ? 1 : Math.max(1, Math.min(units, t * CHUNKS_PER_THREAD));
    this.planItems = n;
    this.planChunk = Math.max(1, Math.ceil(units / chunks) * align);
    return t;
  }

  /** Chunks of the planned job (each thread runs one or more of them). */
  get chunkCount(): number {
    return Math.max(1, Math.ceil(this.planItems / this.planChunk));
  }

  /** Adds the argument list of one thread for the next job. */
  call(args: number[]): void {
    this.calls.push(args);
  }

  /**
   * Runs the planned job: each thread (one argument list each, the first on this thread) runs
   * `job` on the chunks it takes, its range at args[rangeAt], args[rangeAt + 1]. With `out`, the
   * address at args[out.at] moves on by out.stride bytes per chunk (chunk i writes its own output).
   */
  runChunks(job: JobName, rangeAt: number, out: { at: number; stride: number } | null = null): void {
    const calls = this.calls;
    this.calls = [];
    const plan: ChunkPlan = { rangeAt, items: this.planItems, chunk: this.planChunk, outAt: out ? out.at : -1, outStride: out ? out.stride : 0 };
    this.r.run(job, calls, plan);
  }

  /** Ends the call: copies the outputs out when `succeeded`, and lets go of them. */
  end(succeeded: boolean): void {
    const dst = this.outDst;
    const at = this.outAt;
    for (let i = 0; i < this.outs; i++) {
      const d = dst[i];
      if (succeeded && d !== null) this.r.get(at[3 * i], d, at[3 * i + 1], at[3 * i + 2]);
      dst[i] = null;
    }
    this.outs = 0;
    if (this.calls.length > 0) this.calls = [];
  }
}

function hasFloat64(args: readonly unknown[]): boolean {
  for (let i = 0; i < args.length; i++) if (args[i] instanceof Float64Array) return true;
  return false;
}

/**
 * The envelope of a table's kernels on a runtime getter (`rt()` is null while the runtime is not
 * available) with at most `maxThreads()` threads per job: envelope(fallback, body) is the kernel.
 */
export function kernelEnvelope(rt: () => WasmRuntime | null, maxThreads: () => number) {
  const e = new KernelCall(maxThreads);
  return function envelope<A extends unknown[]>(fallback: (...args: A) => void, body: KernelBody<A>): (...args: A) => void {
    return (...args: A): void => {
      const r = rt();
      if (r === null || hasFloat64(args)) return fallback(...args);
      e.begin(r);
      let declined: boolean;
      try {
        declined = body(e, ...args) === false;
      } catch (err) {
        e.end(false);
        if (!(err instanceof WasmMemoryError)) throw err;
        return fallback(...args);
      }
      e.end(!declined);
      if (declined) fallback(...args);
    };
  };
}
