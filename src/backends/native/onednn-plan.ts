/**
 * Cached oneDNN *plans*: a primitive with, for every tensor argument, a
 * memory object in Stride's plain layout (its buffer is the caller's array,
 * set per call) and, when the primitive prefers another layout (nChw16c,
 * OIhw16i16o...), a buffer oneDNN owns in that layout plus the reorder
 * between the two. Building a plan (JIT compilation included) takes
 * milliseconds; running one costs a few FFI calls around the primitive.
 *
 * Plans are kept per key (an operation and its shapes) in least-recently-used
 * order; beyond MAX_PLANS (or the planner's own limit) the oldest is destroyed. A key whose build failed
 * (oneDNN refused the shapes) is remembered as null so the caller's fallback
 * takes it at once.
 *
 * The blocked copies live only within one run (reordered in, used by the
 * primitive, reordered out), so they are not owned by their plan: every plan
 * of a planner places them in one arena, grown to the largest plan's need.
 * Owned per plan, they held 820 MiB in a ResNet-50 training step at batch 8
 * (one set per shape and direction); shared, they take the largest set's size.
 */
import { created, DNNL, MEMORY_DESC_BYTES, type Handle, type OneDnn } from './onednn.js';

/** One tensor argument of a primitive. */
export interface Port {
  /** dnnl_exec_arg_t code (DNNL_ARG_SRC...). */
  arg: number;
  /** The memory object in Stride's layout; its buffer is the caller's array, set per call. */
  user: Handle;
  /** A memory object in the primitive's preferred layout, or null when that is the plain layout; its buffer is in the planner's arena, set per run. */
  inner: Handle | null;
  /** Where the inner buffer sits in the arena, in bytes (64-byte aligned). */
  innerOffset: bigint;
  /** Its size in bytes. */
  innerBytes: number;
  /** The reorder user -> inner (an input) or inner -> user (an output), and its argument list. */
  reorder: Handle | null;
  reorderArgs: Uint8Array | null;
  output: boolean;
  /** False for a port that only feeds another port's buffer (copyInto): it is not an argument of the primitive. */
  primitiveArg: boolean;
  /** True for an output nobody reads (scratchPort): it lives in the arena and takes no caller's array. */
  scratch: boolean;
}

/** Everything a plan owns, destroyed together. */
export interface Owned {
  primitives: Handle[];
  memories: Handle[];
  descs: Handle[];
}

export interface Plan {
  primitive: Handle;
  args: Uint8Array;
  /** How many arguments `args` holds (the ports that are the primitive's own). */
  nargs: number;
  ports: Port[];
  /** oneDNN's name for the implementation it chose, e.g. "jit_wino_4x3:avx512_core". */
  impl: string;
  /** Arena bytes its inner buffers take, back to back. */
  arenaBytes: number;
  owned: Owned;
}

/** Plans kept at most; the least recently used is dropped first. */
export const MAX_PLANS = 48;

export interface Planner {
  readonly dnnl: OneDnn;
  check(status: number, what: string): void;
  i64(values: number[]): BigInt64Array;
  /** A plain memory descriptor by format tag (DNNL.tagAny lets the primitive choose). */
  memoryDesc(dims: number[], tag: number): Uint8Array;
  /** A memory descriptor with explicit strides in elements (transposed matrices). */
  stridedDesc(dims: number[], strides: number[]): Uint8Array;
  /** A primitive descriptor; `attr` (post-ops) is copied into it, so the caller may destroy it after. */
  primitiveDesc(opDesc: Uint8Array, hint: Handle | null, owned: Owned, attr?: Handle | null): Handle;
  /**
   * A port for argument `arg` in the layout `userMd`, where the primitive descriptor `pd`
   * reports the layout it wants under `query` (index 1 of the weights queries is the bias).
   */
  port(pd: Handle, query: number, index: number, arg: number, userMd: Uint8Array, output: boolean, owned: Owned): Port;
  /**
   * An input that is copied into `target`'s buffer (its blocked one, else the caller's array; `targetMd` is that buffer's layout) before the
   * primitive runs, reordered from `userMd`: the accumulator of a `sum` post-op (a residual added in the
   * convolution's epilogue). It is not an argument of the primitive.
   */
  copyInto(target: Port, userMd: Uint8Array, targetMd: Handle | Uint8Array, owned: Owned): Port;
  /** A port for an argument whose layout the primitive was given explicitly (no reorder can be needed). */
  plainPort(arg: number, userMd: Uint8Array, output: boolean, owned: Owned): Port;
  /**
   * An output the primitive must be given but the caller does not want (batch normalization's
   * normalized data when only its statistics are asked for): written into the arena in the layout
   * `pd` reports under `query`, never copied out; run() takes no array for it.
   */
  scratchPort(pd: Handle, query: number, index: number, arg: number, owned: Owned): Port;
  /** Creates the primitive and its argument list. */
  finish(pd: Handle, ports: Port[], owned: Owned): Plan;
  /** The cached plan for `key`, built by `build` on a miss; null when the build failed. */
  get(key: string, build: (owned: Owned) => Plan): Plan | null;
  /** A primitive's argument list: records of { arg, memory } (dnnl_exec_arg_t). */
  execArgs(list: [number, Handle][]): Uint8Array;
  /** Destroys what a plan (or any set of oneDNN objects) owns. */
  destroy(owned: Owned): void;
  /** Runs a plan on the caller's arrays, one per port in port order (scratch ports take none). */
  run(plan: Plan, arrays: Float32Array[]): void;
  /** Destroys every cached plan. */
  release(): void;
}

/** Plans (or anything owning oneDNN objects) kept by key, least recently used dropped first; a refused build is kept as null. */
export interface PlanCache<P extends { owned: Owned }> {
  /** The cached value for `key`, built by `build` on a miss (into the `owned` it is given); null when the build threw. */
  get(key: string, build: (owned: Owned) => P): P | null;
  /** Destroys every cached value. */
  clear(): void;
}

/** A PlanCache of at most `max` entries; `destroy` frees what an evicted or failed entry owns. */
export function makePlanCache<P extends { owned: Owned }>(max: number, destroy: (owned: Owned) => void): PlanCache<P> {
  const entries = new Map<string, P | null>();
  return {
    get(key, build) {
      const hit = entries.get(key);
      if (hit !== undefined) {
        // most recently used last, so eviction takes the oldest
        entries.delete(key);
        entries.set(key, hit);
        return hit;
      }
      const owned: Owned = { primitives: [], memories: [], descs: [] };
      let made: P | null = null;
      try {
        made = build(owned);
      } catch {
        destroy(owned);
        made = null; // oneDNN refused these shapes: the caller's fallback takes them
      }
      if (entries.size >= max) {
        const [oldKey, old] = entries.entries().next().value as [string, P | null];
        entries.delete(oldKey);
        if (old) destroy(old.owned);
      }
      entries.set(key, made);
      return made;
    },
    clear() {
      for (const p of entries.values()) if (p) destroy(p.owned);
      entries.clear();
    },
  };
}

/** Alignment of each blocked buffer in the arena, in bytes (a cache line; oneDNN aligns its own buffers to 64). */
const ARENA_ALIGN = 64;

/**
 * A planner; `maxPlans` is how many plans it keeps (default MAX_PLANS), more for a user whose
 * every geometry takes several plans (batch normalization: six per geometry in training).
 */
export function makePlanner(dnnl: OneDnn, maxPlans = MAX_PLANS): Planner {
  const { api, engine, stream } = dnnl;
  const plans = makePlanCache<Plan>(maxPlans, destroy);
  /** The arena: a buffer oneDNN allocated (64-byte aligned), its address and size; grown, never shrunk, until release(). */
  let arena: { memory: Handle; address: bigint; bytes: number } | null = null;

  function arenaOf(bytes: number): bigint {
    if (arena && arena.bytes >= bytes) return arena.address;
    if (arena) api.memoryDestroy(arena.memory);
    arena = null;
    const md = memoryDesc([Math.ceil(bytes / 4)], DNNL.tagA);
    const memory = created((out) => api.memoryCreateOwned(out, md, engine, -1n), 'memory');
    const handle: [Handle | null] = [null];
    check(api.memoryGetDataHandle(memory, handle), 'get data handle');
    arena = { memory, address: api.address(handle[0]!), bytes };
    return arena.address;
  }

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

  function stridedDesc(dims: number[], strides: number[]): Uint8Array {
    const md = new Uint8Array(MEMORY_DESC_BYTES);
    check(api.memoryDescInitByStrides(md, dims.length, i64(dims), DNNL.f32, i64(strides)), 'memory descriptor');
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

  function primitiveDesc(opDesc: Uint8Array, hint: Handle | null, owned: Owned, attr: Handle | null = null): Handle {
    const pd = created((out) => api.primitiveDescCreate(out, opDesc, attr, engine, hint), 'primitive descriptor');
    owned.descs.push(pd);
    return pd;
  }

  function port(pd: Handle, query: number, index: number, arg: number, userMd: Uint8Array, output: boolean, owned: Owned): Port {
    const user = created((out) => api.memoryCreate(out, userMd, engine, null), 'memory');
    owned.memories.push(user);
    const want = api.queryMd(pd, query, index);
    if (api.memoryDescEqual(userMd, want)) return { arg, user, inner: null, innerOffset: 0n, innerBytes: 0, reorder: null, reorderArgs: null, output, primitiveArg: true, scratch: false };
    const inner = created((out) => api.memoryCreate(out, want, engine, null), 'memory');
    owned.memories.push(inner);
    const rpd = created((out) => (output ? api.reorderDescCreate(out, want, engine, userMd, engine, null) : api.reorderDescCreate(out, userMd, engine, want, engine, null)), 'reorder descriptor');
    owned.descs.push(rpd);
    const reorder = created((out) => api.primitiveCreate(out, rpd), 'reorder');
    owned.primitives.push(reorder);
    const reorderArgs = execArgs(output ? [[DNNL.argFrom, inner], [DNNL.argTo, user]] : [[DNNL.argFrom, user], [DNNL.argTo, inner]]);
    return { arg, user, inner, innerOffset: 0n, innerBytes: Number(api.memoryDescGetSize(want)), reorder, reorderArgs, output, primitiveArg: true, scratch: false };
  }

  function copyInto(target: Port, userMd: Uint8Array, targetMd: Handle | Uint8Array, owned: Owned): Port {
    const user = created((out) => api.memoryCreate(out, userMd, engine, null), 'memory');
    owned.memories.push(user);
    const into = target.inner ?? target.user;
    const rpd = created((out) => api.reorderDescCreate(out, userMd, engine, targetMd, engine, null), 'reorder descriptor');
    owned.descs.push(rpd);
    const reorder = created((out) => api.primitiveCreate(out, rpd), 'reorder');
    owned.primitives.push(reorder);
    const reorderArgs = execArgs([[DNNL.argFrom, user], [DNNL.argTo, into]]);
    return { arg: 0, user, inner: null, innerOffset: 0n, innerBytes: 0, reorder, reorderArgs, output: false, primitiveArg: false, scratch: false };
  }

  function plainPort(arg: number, userMd: Uint8Array, output: boolean, owned: Owned): Port {
    const user = created((out) => api.memoryCreate(out, userMd, engine, null), 'memory');
    owned.memories.push(user);
    return { arg, user, inner: null, innerOffset: 0n, innerBytes: 0, reorder: null, reorderArgs: null, output, primitiveArg: true, scratch: false };
  }

  function scratchPort(pd: Handle, query: number, index: number, arg: number, owned: Owned): Port {
    const want = api.queryMd(pd, query, index);
    const inner = created((out) => api.memoryCreate(out, want, engine, null), 'memory');
    owned.memories.push(inner);
    return { arg, user: inner, inner, innerOffset: 0n, innerBytes: Number(api.memoryDescGetSize(want)), reorder: null, reorderArgs: null, output: true, primitiveArg: true, scratch: true };
  }

  function finish(pd: Handle, ports: Port[], owned: Owned): Plan {
    const primitive = created((out) => api.primitiveCreate(out, pd), 'primitive');
    owned.primitives.push(primitive);
    const out: [string | null] = [null];
    api.queryString(pd, DNNL.queryImplInfoStr, 0, out);
    let arenaBytes = 0;
    for (const p of ports) {
      if (!p.inner) continue;
      p.innerOffset = BigInt(arenaBytes);
      arenaBytes += Math.ceil(p.innerBytes / ARENA_ALIGN) * ARENA_ALIGN;
    }
    const args = execArgs(ports.filter((p) => p.primitiveArg).map((p) => [p.arg, p.inner ?? p.user]));
    return { primitive, args, nargs: ports.filter((p) => p.primitiveArg).length, ports, impl: out[0] ?? '?', arenaBytes, owned };
  }

  function destroy(owned: Owned): void {
    for (const p of owned.primitives) api.primitiveDestroy(p);
    for (const m of owned.memories) api.memoryDestroy(m);
    for (const d of owned.descs) api.primitiveDescDestroy(d);
  }

  function get(key: string, build: (owned: Owned) => Plan): Plan | null {
    return plans.get(key, build);
  }

  function run(p: Plan, arrays: Float32Array[]): void {
    const base = p.arenaBytes > 0 ? arenaOf(p.arenaBytes) : 0n;
    let j = 0;
    for (const q of p.ports) {
      if (!q.scratch) check(api.memorySetDataHandle(q.user, arrays[j++]), 'set data handle');
      if (q.inner) check(api.memorySetDataAddress(q.inner, base + q.innerOffset), 'set data handle');
    }
    for (const q of p.ports) if (!q.output && q.reorder) check(api.execute(q.reorder, stream, 2, q.reorderArgs!), 'reorder');
    check(api.execute(p.primitive, stream, p.nargs, p.args), 'primitive');
    for (const q of p.ports) if (q.output && q.reorder) check(api.execute(q.reorder, stream, 2, q.reorderArgs!), 'reorder');
    check(api.streamWait(stream), 'stream wait');
  }

  function release(): void {
    plans.clear();
    if (arena) api.memoryDestroy(arena.memory);
    arena = null;
  }

  return { dnnl, check, i64, memoryDesc, stridedDesc, primitiveDesc, port, copyInto, plainPort, scratchPort, finish, get, run, release, execArgs, destroy };
}
