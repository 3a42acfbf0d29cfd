/**
 * The wasm runtime: picks and compiles a kernel build, owns the memory, an
 * arena for each kernel call's operands, and the worker threads.
 *
 * Build choice: the relaxed-SIMD build when WebAssembly.validate accepts it,
 * else the plain-SIMD build, else none (the backend is then unavailable).
 * Both builds import a shared memory; where SharedArrayBuffer is unavailable
 * (a page without cross-origin isolation) the import is rewritten to a
 * non-shared memory and everything runs on the calling thread.
 *
 * Memory map: page 0 the kernels' static data (math tables), page 1 the
 * control block (control.ts), then the arena. A kernel call resets the arena,
 * copies its operands in, runs, and copies its results out; the memory grows
 * when a call needs more and never shrinks.
 */
import type { FloatArray } from '../backend.js';
import { MAX_PAGES, PLAIN_WASM, RELAXED_WASM } from './generated/kernels.js';
import {
  ARENA_ADDR, CALLER_SPIN_MS, CHUNK_AT, CTRL_ADDR, CTRL_INTS, ERROR, JOB_NAMES, MAILBOX, MAX_ARGS, MAX_THREADS, NEXT_CHUNK, PENDING, READY,
  runChunks, SLEEPING, SLOT_F64, SLOTS_ADDR, type ChunkPlan, type JobName,
} from './control.js';
import { getWasmPlatform, type WasmPlatform, type WorkerHandle } from './platform.js';

export type SimdFlavour = 'relaxed' | 'plain' | 'none';

/** The kernel exports, as the host calls them (addresses and sizes are numbers; booleans are 0/1). */
export type KernelExports = Record<string, (...args: number[]) => number>;

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function readLeb(bytes: Uint8Array, p: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[p++];
    v |= (b & 0x7f) << shift;
    if (!(b & 0x80)) return [v >>> 0, p];
    shift += 7;
  }
}

/**
 * A copy of `bytes` whose env.memory import is not shared (limits flag 0x03
 * -> 0x01), for hosts without SharedArrayBuffer. The kernels use no atomics,
 * so the module is otherwise the same.
 */
export function unshareMemoryImport(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const out = bytes.slice();
  let p = 8;
  while (p < out.length) {
    const id = out[p];
    const [size, start] = readLeb(out, p + 1);
    if (id === 2) {
      let [count, q] = readLeb(out, start);
      for (; count > 0; count--) {
        let len;
        [len, q] = readLeb(out, q);
        q += len;
        [len, q] = readLeb(out, q);
        q += len;
        const kind = out[q++];
        if (kind === 2) {
          if (out[q] === 0x03) out[q] = 0x01;
          return out;
        }
        // other import kinds do not occur (the build checks)
        throw new Error('wasm: unexpected import in the kernels');
      }
    }
    p = start + size;
  }
  return out;
}

export interface CompiledKernels {
  module: WebAssembly.Module;
  flavour: Exclude<SimdFlavour, 'none'>;
  shared: boolean;
}

/** The bytes to compile on this platform, or null when the engine has no SIMD. */
function chooseBuild(platform: WasmPlatform): { bytes: Uint8Array<ArrayBuffer>; flavour: 'relaxed' | 'plain'; shared: boolean } | null {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') return null;
  platform.prepare?.();
  const shared = platform.sharedMemory();
  for (const [flavour, b64] of [['relaxed', RELAXED_WASM], ['plain', PLAIN_WASM]] as const) {
    let bytes = decodeBase64(b64);
    if (!shared) bytes = unshareMemoryImport(bytes);
    if (WebAssembly.validate(bytes)) return { bytes, flavour, shared };
  }
  return null;
}

/** True when this engine validates the plain-SIMD kernels (with an unshared memory): cheap, compiles nothing. */
export function kernelsSupported(): boolean {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') return false;
  try {
    return WebAssembly.validate(unshareMemoryImport(decodeBase64(PLAIN_WASM)));
  } catch {
    return false;
  }
}

/** Compiles synchronously (Node, Web Workers); throws where the engine forbids it (a browser's main thread). */
export function compileSync(platform: WasmPlatform): CompiledKernels | null {
  const c = chooseBuild(platform);
  if (!c) return null;
  return { module: new WebAssembly.Module(c.bytes), flavour: c.flavour, shared: c.shared };
}

export async function compileAsync(platform: WasmPlatform): Promise<CompiledKernels | null> {
  const c = chooseBuild(platform);
  if (!c) return null;
  return { module: await WebAssembly.compile(c.bytes), flavour: c.flavour, shared: c.shared };
}

/**
 * True when Atomics.wait may block this thread (not a browser's main thread). A caller that may
 * not block still uses workers: it polls until they finish (run()).
 */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** A kernel call needs more memory than the wasm memory may grow to (the kernel table then falls back to the reference kernel). */
export class WasmMemoryError extends RangeError {
  override name = 'WasmMemoryError';
}

export class WasmRuntime {
  readonly flavour: 'relaxed' | 'plain';
  readonly shared: boolean;
  readonly memory: WebAssembly.Memory;
  readonly exports: KernelExports;
  private readonly module: WebAssembly.Module;
  private readonly platform: WasmPlatform;
  f32!: Float32Array;
  i32!: Int32Array;
  private ctrl!: Int32Array;
  private slots!: Float64Array;
  private top = ARENA_ADDR;
  private readonly blocking: boolean;
  private workers: (WorkerHandle | null)[] = [];
  private threadCount = 1;

  /** Pages the memory may grow to (MAX_PAGES; tests lower it). */
  readonly maxPages: number;

  constructor(compiled: CompiledKernels, platform: WasmPlatform = getWasmPlatform(), maxPages = MAX_PAGES) {
    this.maxPages = Math.min(maxPages, MAX_PAGES);
    this.flavour = compiled.flavour;
    this.shared = compiled.shared;
    this.module = compiled.module;
    this.platform = platform;
    const initial = 64;
    this.memory = new WebAssembly.Memory(compiled.shared ? { initial, maximum: MAX_PAGES, shared: true } : { initial, maximum: MAX_PAGES });
    const instance = new WebAssembly.Instance(compiled.module, { env: { memory: this.memory } });
    this.exports = instance.exports as KernelExports;
    this.blocking = compiled.shared && canBlock();
    this.refreshViews();
  }

  private refreshViews(): void {
    const buf = this.memory.buffer;
    this.f32 = new Float32Array(buf);
    this.i32 = new Int32Array(buf);
    this.ctrl = new Int32Array(buf, CTRL_ADDR, CTRL_INTS);
    this.slots = new Float64Array(buf, SLOTS_ADDR, MAX_THREADS * SLOT_F64);
  }

  // ---- arena ----

  /** Starts a kernel call: every earlier allocation is free again. */
  reset(): void {
    this.top = ARENA_ADDR;
  }

  /** Byte address of `floats` 4-byte values, 64-byte aligned, valid until the next reset. */
  alloc(floats: number): number {
    const addr = this.top;
    const end = addr + floats * 4;
    this.top = (end + 63) & ~63;
    if (this.top > this.f32.length * 4) this.grow(this.top);
    return addr;
  }

  private grow(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) {
      const pages = Math.ceil((bytes - have) / 65536);
      // grow by at least an eighth to keep the number of grows small
      const want = Math.max(pages, Math.ceil(have / 65536 / 8));
      const cur = have / 65536;
      const tooLarge = () => new WasmMemoryError(`wasm backend: a kernel needs ${Math.ceil(bytes / 2 ** 20)} MiB, more than the ${this.maxPages / 16} MiB the memory may grow to`);
      if (cur + pages > this.maxPages) throw tooLarge();
      try {
        this.memory.grow(Math.min(want, this.maxPages - cur));
      } catch {
        throw tooLarge();
      }
    }
    this.refreshViews();
  }

  /** Copies src[off .. off+n) into the arena (int32 as int32, floats as float32); returns its address. */
  put(src: FloatArray | Int32Array, off = 0, n = src.length - off): number {
    const addr = this.alloc(n);
    this.view(src).set(off === 0 && n === src.length ? src : src.subarray(off, off + n), addr >> 2);
    return addr;
  }

  /** Copies n values at addr into dst[off ..]. */
  get(addr: number, dst: FloatArray | Int32Array, off = 0, n = dst.length - off): void {
    dst.set(this.view(dst).subarray(addr >> 2, (addr >> 2) + n), off);
  }

  /** The view of the memory whose element type matches a's: i32 for Int32Array, else f32. */
  private view(a: FloatArray | Int32Array): Float32Array | Int32Array {
    return a instanceof Int32Array ? this.i32 : this.f32;
  }

  // ---- threads ----

  /** Threads in use, the calling one included. */
  get threads(): number {
    return this.threadCount;
  }

  /**
   * Uses n threads (the caller and n-1 workers); 1 when shared memory is unavailable. The main
   * thread of a cross-origin isolated page gets workers too: it may not block in Atomics.wait, so
   * it polls until the workers have finished their shares (the page is busy with the kernel call
   * either way). test/once/browser.test.ts checks this in Chromium.
   */
  setThreads(n: number): void {
    const want = Math.max(1, Math.min(MAX_THREADS, Math.floor(n)));
    this.threadCount = this.shared ? want : 1;
    const workers = this.threadCount - 1;
    while (this.workers.length > workers) {
      const w = this.workers.length;
      const h = this.workers.pop();
      Atomics.store(this.ctrl, MAILBOX + w, 2);
      Atomics.notify(this.ctrl, MAILBOX + w);
      Atomics.store(this.ctrl, READY + w, 0);
      h?.terminate();
    }
    while (this.workers.length < workers) {
      const index = this.workers.length + 1;
      Atomics.store(this.ctrl, READY + index, 0);
      Atomics.store(this.ctrl, MAILBOX + index, 0);
      Atomics.store(this.ctrl, SLEEPING + index, 0);
      let handle: WorkerHandle | null = null;
      try {
        handle = this.platform.startWorker({ module: this.module, memory: this.memory, ctrl: CTRL_ADDR, index });
      } catch {
        handle = null;
      }
      if (!handle) {
        this.threadCount = this.workers.length + 1;
        break;
      }
      this.workers.push(handle);
    }
  }

  /** Workers that have started and can take work now (they start asynchronously). */
  readyWorkers(): number {
    let n = 0;
    for (let w = 1; w <= this.workers.length; w++) {
      if (Atomics.load(this.ctrl, READY + w) !== 1) break;
      n++;
    }
    return n;
  }

  /** Resolves once every worker has started (or after timeoutMs: a worker that cannot start is never given work). */
  async workersStarted(timeoutMs = 5000): Promise<void> {
    const t0 = Date.now();
    while (this.readyWorkers() < this.workers.length && Date.now() - t0 < timeoutMs) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Threads a job can use right now: the caller plus the ready workers. */
  available(): number {
    return this.threadCount > 1 ? 1 + this.readyWorkers() : 1;
  }

  /**
   * Wakes the first n-1 workers if they sleep: called as soon as a kernel knows it will split into
   * n parts, so their wake-up overlaps the copying of the operands. Only an optimization: posting a
   * job wakes its worker anyway.
   */
  wake(n: number): void {
    for (let w = 1; w < n && w <= this.workers.length; w++) {
      if (Atomics.load(this.ctrl, SLEEPING + w) === 1) Atomics.notify(this.ctrl, MAILBOX + w);
    }
  }

  /**
   * Kernel jobs run so far, how many were split over threads, and for those the
   * milliseconds the caller spent on its own share and then waiting for the workers;
   * the workers' jobs that the caller took back because no worker had claimed them yet.
   */
  readonly stats = { jobs: 0, parallelJobs: 0, ownMs: 0, waitMs: 0, takenBack: 0 };

  /**
   * Runs `job` with calls[0]'s arguments here and calls[t]'s on worker t, and waits for all.
   * With a chunk plan, every thread runs the job on chunks of the plan's range that it takes in
   * turn (control.ts) instead of once on the range in its arguments.
   */
  run(job: JobName, calls: number[][], plan: ChunkPlan | null = null): void {
    const fn = this.exports[job];
    this.stats.jobs++;
    if (plan) Atomics.store(this.ctrl, NEXT_CHUNK, 0);
    if (calls.length === 1) {
      if (plan) runChunks(fn, calls[0], plan, this.ctrl);
      else fn(...calls[0]);
      return;
    }
    this.stats.parallelJobs++;
    const id = JOB_NAMES.indexOf(job);
    const workers = calls.length - 1;
    Atomics.store(this.ctrl, ERROR, 0);
    Atomics.store(this.ctrl, PENDING, workers);
    for (let w = 1; w <= workers; w++) {
      const args = calls[w];
      if (args.length > MAX_ARGS) throw new Error(`wasm: job ${job} has ${args.length} arguments, more than ${MAX_ARGS}`);
      const base = w * SLOT_F64;
      this.slots[base] = id;
      this.slots[base + 1] = args.length;
      for (let i = 0; i < args.length; i++) this.slots[base + 2 + i] = args[i];
      const c = base + CHUNK_AT;
      this.slots[c] = plan ? 1 : 0;
      if (plan) {
        this.slots[c + 1] = plan.rangeAt;
        this.slots[c + 2] = plan.items;
        this.slots[c + 3] = plan.chunk;
        this.slots[c + 4] = plan.outAt;
        this.slots[c + 5] = plan.outStride;
      }
      Atomics.store(this.ctrl, MAILBOX + w, 1);
      Atomics.notify(this.ctrl, MAILBOX + w);
    }
    let error: unknown = null;
    const t0 = performance.now();
    try {
      if (plan) runChunks(fn, calls[0], plan, this.ctrl);
      else fn(...calls[0]);
    } catch (e) {
      error = e;
    }
    // take back the jobs that no worker has claimed: a chunked job has no chunk left for them,
    // another job's share runs here
    for (let w = 1; w <= workers; w++) {
      if (Atomics.compareExchange(this.ctrl, MAILBOX + w, 1, 0) !== 1) continue;
      this.stats.takenBack++;
      if (!plan && error === null) {
        try {
          fn(...calls[w]);
        } catch (e) {
          error = e;
        }
      }
      Atomics.sub(this.ctrl, PENDING, 1);
    }
    const t1 = performance.now();
    const until = t1 + CALLER_SPIN_MS;
    let polls = 0;
    let left: number;
    // poll CALLER_SPIN_MS, then block; a caller that may not block (a browser's main thread) polls on
    while ((left = Atomics.load(this.ctrl, PENDING)) !== 0) {
      if (this.blocking && (++polls & 63) === 0 && performance.now() > until) Atomics.wait(this.ctrl, PENDING, left);
    }
    this.stats.ownMs += t1 - t0;
    this.stats.waitMs += performance.now() - t1;
    if (error) throw error;
    if (Atomics.load(this.ctrl, ERROR) !== 0) throw new Error(`wasm backend: a worker failed while running ${job}`);
  }

  /** Stops every worker. */
  dispose(): void {
    this.setThreads(1);
  }
}
