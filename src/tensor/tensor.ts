import type { FloatArray } from '../backends/backend.js';
import { stridesOf } from '../backends/ref/indexing.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { checkOptions } from '../validate.js';
import { defaultGenerator, type Generator } from './random.js';

/** Element types. float32 is the default everywhere; float64 exists for gradient checks. */
export type DType = 'float32' | 'float64';
export type { FloatArray };

/** Nested arrays of numbers, as accepted by `tensor()`. */
export type NestedArray = number | readonly NestedArray[];

/**
 * How a tensor was computed, recorded when an input requires grad. `backward`
 * receives dL/dout and returns dL/dinput for each input (null where an input
 * needs no gradient).
 */
export interface GradFn {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  backward(gradOutput: Tensor): (Tensor | null)[];
  /**
   * What the op was asked to do beyond its inputs (a convolution's geometry,
   * a pooling window, batch norm's running statistics in eval mode): what an
   * exporter needs to write the op again. Absent for ops that need nothing.
   */
  readonly attrs?: object;
}

/**
 * An n-dimensional array of float32 (or float64) values, stored contiguously in
 * row-major order in a plain typed array. Tensors are garbage-collected: there
 * is no dispose().
 *
 * Operations live in `ops/` and are installed as methods (x.add(y), x.relu()...)
 * by `ops/methods.ts`, so this file depends on nothing but the error types.
 */
export class Tensor {
  /** The values, row-major. Reshape views share it. */
  data: FloatArray;
  readonly shape: readonly number[];
  /** True when gradients should flow to this tensor. */
  requiresGrad = false;
  /** dL/dthis after backward(), for leaves that require grad. */
  grad: Tensor | null = null;
  /** The operation that produced this tensor (null for leaves). */
  gradFn: GradFn | null = null;

  constructor(data: FloatArray, shape: readonly number[]) {
    checkShape(shape, 'Tensor');
    const n = shapeSize(shape);
    if (data.length !== n) {
      throw new ShapeError(`Tensor: shape ${fmtShape(shape)} holds ${n} values but the data has ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
  }

  get dtype(): DType {
    return this.data instanceof Float64Array ? 'float64' : 'float32';
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** True when this tensor was not produced by a recorded operation. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** The extent of dimension `dim` (negative counts from the end). */
  dimSize(dim: number): number {
    return this.shape[normalizeDim(dim, this.ndim, 'dimSize')];
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) {
      throw new ShapeError(`item: only a tensor with one element can be converted to a number, this one has shape ${fmtShape(this.shape)} (${this.size} elements)`);
    }
    return this.data[0];
  }

  /** The values as nested arrays, shaped like the tensor. */
  toArray(): NestedArray {
    if (this.ndim === 0) return this.data[0];
    const build = (dim: number, offset: number): NestedArray[] => {
      const n = this.shape[dim];
      const stride = shapeSize(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) {
        out.push(dim === this.ndim - 1 ? this.data[offset + i] : build(dim + 1, offset + i * stride));
      }
      return out;
    };
    return build(0, 0);
  }

  /** A plain copy of the values, row-major. */
  toFlatArray(): number[] {
    return Array.from(this.data);
  }

  /** Sets requiresGrad in place and returns this tensor (PyTorch's requires_grad_). */
  requiresGrad_(requires = true): this {
    if (!this.isLeaf && !requires) {
      throw new ValueError('requiresGrad_: cannot turn off gradients of a non-leaf tensor; use detach() to get a tensor outside the graph');
    }
    this.requiresGrad = requires;
    return this;
  }

  /** A tensor sharing the same data, outside the autograd graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** PyTorch-style printing: values, then shape and dtype, then the grad function. */
  toString(): string {
    return formatTensor(this);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

// ---------------------------------------------------------------------------
// Shapes

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(shape: readonly number[], where: string): void {
  if (!Array.isArray(shape)) throw new ValueError(`${where}: shape must be an array of non-negative integers, got ${String(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ValueError(`${where}: shape ${fmtShape(shape)} has an invalid dimension ${d}; each dimension must be a non-negative integer`);
    }
  }
}

/** Maps a possibly negative dim to [0, ndim), with a clear error. */
export function normalizeDim(dim: number, ndim: number, where: string): number {
  if (!Number.isInteger(dim) || dim < -Math.max(ndim, 1) || dim >= Math.max(ndim, 1)) {
    throw new ValueError(`${where}: dim ${dim} is out of range for a tensor with ${ndim} dimensions (valid: ${-Math.max(ndim, 1)} to ${Math.max(ndim, 1) - 1})`);
  }
  return dim < 0 ? dim + Math.max(ndim, 1) : dim;
}

/** A zero-filled array of n values. */
export function allocate(dtype: DType, n: number): FloatArray {
  charge(n);
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

// ---------------------------------------------------------------------------
// Allocation limit
//
// Building a model from a file's description (a checkpoint's header) takes
// sizes from the file: a header that claims a billion classes must be refused
// before a billion floats are allocated, not by the process running out of
// memory. While a limit is set, every tensor array (allocate, the op outputs)
// is counted first and the one that would pass the limit throws instead.

let limit: { max: number; used: number; exceeded: (needed: number) => Error } | null = null;

function charge(n: number): void {
  if (limit === null) return;
  limit.used += n;
  if (limit.used > limit.max) throw limit.exceeded(limit.used);
}

/**
 * Runs `fn` (synchronous) allowing it to allocate at most `values` tensor
 * values in all (zeros, parameters, op outputs...). The allocation that would
 * pass the limit throws `exceeded(values asked for so far, that one
 * included)` before its memory is taken. The innermost limit applies; the
 * previous one is restored afterwards.
 */
export function withAllocationLimit<T>(values: number, fn: () => T, exceeded: (needed: number) => Error): T {
  if (!(values >= 0) || !Number.isFinite(values)) throw new ValueError(`withAllocationLimit: values must be a finite number >= 0, got ${values}`);
  if (typeof fn !== 'function' || typeof exceeded !== 'function') throw new ValueError('withAllocationLimit: expected (values, fn, exceeded) with two functions');
  const previous = limit;
  limit = { max: values, used: 0, exceeded };
  try {
    return fn();
  } finally {
    limit = previous;
  }
}

// ---------------------------------------------------------------------------
// Output arrays
//
// Every kernel writes every element of its outputs (backend.ts), so the arrays
// that ops allocate for them need not be zeroed first. Zeroing is the larger
// part of allocating: LeNet-5's first activation (batch 64, 1.2 MB) costs
// 40-80 us as `new Float32Array(n)` and 3-8 us uninitialized, and a oneDNN ReLU
// into it took 100-190 us against 50 us (the memset also evicts the inputs from
// the cache); a LeNet-5 training step went from 4.8 to 3.8-4.4 ms on `native`.
// Browsers can only allocate zeroed memory, so the default stays
// `new Float32Array(n)`; the Node entry points install Buffer.allocUnsafeSlow
// (src/tensor/node.ts). As with PyTorch's torch.empty, an output's values
// before its kernel runs are whatever the memory held, on every platform:
// a recycled gradient buffer (below) holds its old values.

/** Arrays of at least this many bytes come from the output allocator: below it zeroing costs nothing measurable. */
const MIN_UNINITIALIZED_BYTES = 4096;

let uninitializedBuffer: ((bytes: number) => ArrayBuffer) | null = null;
let poison: number | null = null;

/**
 * Installs (or, with null, removes) the source of uninitialized memory for op
 * outputs: a function returning a new ArrayBuffer of exactly `bytes` bytes
 * whose contents need not be zero.
 */
export function setUninitializedAllocator(allocator: ((bytes: number) => ArrayBuffer) | null): void {
  uninitializedBuffer = allocator;
}

/**
 * Fills every output array with `value` (null: leave it as allocated). The
 * test suite sets NaN, so a kernel that leaves an element of its output
 * unwritten fails the tests instead of passing on memory that happened to be
 * zero. Integer outputs (argmax) get the float's integer part, or 2^30 for NaN:
 * an index past the end of any plane the tests use.
 */
export function setOutputPoison(value: number | null): void {
  poison = value;
}

// Recycled gradient memory. The autograd engine knows when a gradient it
// computed has been consumed and nothing else holds it (autograd/backward.ts);
// it hands such buffers back here and the next outputs of the same size reuse
// them, still warm in the cache, instead of new memory that the garbage
// collector must find and free later (LeNet-5 allocates ~9 MB per training
// step; V8 collected every 3-4 steps).

/**
 * Bytes of recycled buffers kept at most. When a buffer would go past it, the
 * sizes used longest ago are dropped first (left to the garbage collector):
 * after the shapes change (training, then evaluation at another batch) the
 * pool holds the new sizes, not the old ones.
 */
const RECYCLED_MAX_BYTES = 64 * 2 ** 20;
/** Free buffers by size, the sizes in the order of their last use (a Map keeps insertion order: the first is the oldest). */
const recycled = new Map<number, ArrayBuffer[]>();
let recycledBytes = 0;
let tracker: WeakSet<ArrayBufferLike> | null = null;

/**
 * While `set` is installed (null removes it), the buffer of every output
 * array allocated is added to it, so its owner knows which memory it may
 * recycle (a WeakSet: temporaries it never hears of again stay collectable).
 * Returns the tracker it replaced.
 */
export function trackOutputs(set: WeakSet<ArrayBufferLike> | null): WeakSet<ArrayBufferLike> | null {
  const prev = tracker;
  tracker = set;
  return prev;
}

/**
 * Gives an output buffer back for reuse. Only for memory that nothing will
 * read or write again: the caller must hold the last reference (the autograd
 * engine does, for the gradients it made and consumed).
 */
export function recycleOutput(buffer: ArrayBufferLike): void {
  const bytes = buffer.byteLength;
  if (!(buffer instanceof ArrayBuffer) || bytes < MIN_UNINITIALIZED_BYTES || bytes > RECYCLED_MAX_BYTES) return;
  const list = recycled.get(bytes) ?? [];
  recycled.delete(bytes); // to the end: the most recently used size
  // make room from the sizes used longest ago (their oldest buffers first), then from this size's own oldest buffers
  for (const [size, old] of recycled) {
    while (recycledBytes + bytes > RECYCLED_MAX_BYTES && old.length > 0) {
      old.shift();
      recycledBytes -= size;
    }
    if (old.length === 0) recycled.delete(size);
    if (recycledBytes + bytes <= RECYCLED_MAX_BYTES) break;
  }
  while (recycledBytes + bytes > RECYCLED_MAX_BYTES && list.length > 0) {
    list.shift();
    recycledBytes -= bytes;
  }
  list.push(buffer);
  recycled.set(bytes, list);
  recycledBytes += bytes;
}

/** Drops every recycled buffer (tests; memory-conscious callers between phases). */
export function clearRecycledOutputs(): void {
  recycled.clear();
  recycledBytes = 0;
}

/** Bytes held for reuse now. */
export function recycledOutputBytes(): number {
  return recycledBytes;
}

/** An array of n values for a kernel to overwrite in full; its contents until then are unspecified. */
export function allocateOutput(dtype: DType, n: number): FloatArray {
  charge(n);
  const bytes = n * (dtype === 'float64' ? 8 : 4);
  let buffer: ArrayBuffer | null = null;
  if (bytes >= MIN_UNINITIALIZED_BYTES) {
    // the most recently recycled first: the likeliest to be in the cache
    const list = recycled.get(bytes);
    if (list !== undefined) {
      buffer = list.pop()!;
      recycledBytes -= bytes;
      recycled.delete(bytes);
      if (list.length > 0) recycled.set(bytes, list); // to the end: the most recently used size
    } else if (uninitializedBuffer !== null) buffer = uninitializedBuffer(bytes);
  }
  let out: FloatArray;
  if (buffer !== null) out = dtype === 'float64' ? new Float64Array(buffer, 0, n) : new Float32Array(buffer, 0, n);
  else out = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  if (poison !== null) out.fill(poison);
  if (tracker !== null) tracker.add(out.buffer);
  return out;
}

/** An Int32Array of n values for a kernel to overwrite in full (argmax indices), as allocateOutput. */
export function allocateOutputIndices(n: number): Int32Array {
  charge(n);
  const out = uninitializedBuffer !== null && n * 4 >= MIN_UNINITIALIZED_BYTES ? new Int32Array(uninitializedBuffer(n * 4), 0, n) : new Int32Array(n);
  if (poison !== null) out.fill(Number.isNaN(poison) ? 1 << 30 : Math.trunc(poison));
  return out;
}

/** The dtype of the result of an op on these tensors: float64 wins. */
export function resultDType(...ts: Tensor[]): DType {
  for (const t of ts) if (t.dtype === 'float64') return 'float64';
  return 'float32';
}

// ---------------------------------------------------------------------------
// Creation

export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

const CREATE_OPTIONS = ['dtype', 'requiresGrad'] as const;

function finish(t: Tensor, options?: CreateOptions): Tensor {
  if (options?.requiresGrad) t.requiresGrad = true;
  return t;
}

/**
 * A tensor from nested arrays, a typed array or a number:
 * `tensor([[1, 2], [3, 4]])`, `tensor(float32Array, [2, 2])`.
 * Ragged nesting is an error.
 */
export function tensor(values: NestedArray | ArrayLike<number>, shape?: readonly number[], options?: CreateOptions): Tensor {
  checkOptions('tensor', options, CREATE_OPTIONS);
  const dtype = options?.dtype ?? (values instanceof Float64Array ? 'float64' : 'float32');
  if (ArrayBuffer.isView(values) || (shape !== undefined && Array.isArray(values) && values.every((v) => typeof v === 'number'))) {
    const flat = values as ArrayLike<number>;
    const s = shape ?? [flat.length];
    checkShape(s, 'tensor');
    if (shapeSize(s) !== flat.length) {
      throw new ShapeError(`tensor: shape ${fmtShape(s)} holds ${shapeSize(s)} values but ${flat.length} were given`);
    }
    const data = allocate(dtype, flat.length);
    data.set(flat as ArrayLike<number>);
    return finish(new Tensor(data, s), options);
  }
  const inferred: number[] = [];
  let v: NestedArray = values as NestedArray;
  while (Array.isArray(v)) {
    inferred.push(v.length);
    v = v.length > 0 ? v[0] : 0;
    if ((v as any) === undefined) break;
  }
  const flat: number[] = [];
  const walk = (node: NestedArray, dim: number, path: string) => {
    if (dim === inferred.length) {
      if (typeof node !== 'number') throw new ShapeError(`tensor: expected a number at ${path || 'the top level'} but found an array; the nesting is ragged`);
      flat.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== inferred[dim]) {
      const got = Array.isArray(node) ? `length ${node.length}` : 'a number';
      throw new ShapeError(`tensor: ragged nested array at ${path || 'the top level'}: expected length ${inferred[dim]} (shape ${fmtShape(inferred)}) but found ${got}`);
    }
    for (let i = 0; i < node.length; i++) walk(node[i], dim + 1, `${path}[${i}]`);
  };
  walk(values as NestedArray, 0, '');
  for (const x of flat) {
    if (typeof x !== 'number') throw new ValueError(`tensor: values must be numbers, found ${typeof x}`);
  }
  const s = shape ?? inferred;
  if (shapeSize(s) !== flat.length) {
    throw new ShapeError(`tensor: shape ${fmtShape(s)} holds ${shapeSize(s)} values but ${flat.length} were given`);
  }
  const data = allocate(dtype, flat.length);
  data.set(flat);
  return finish(new Tensor(data, s), options);
}

/** A tensor of `shape` filled with `value`; `where` names the public function for messages, `known` the options it takes. */
function filled(where: string, shape: readonly number[], value: number, options: CreateOptions | undefined, known: readonly string[] = CREATE_OPTIONS): Tensor {
  checkOptions(where, options, known);
  checkShape(shape, where);
  const data = allocate(options?.dtype ?? 'float32', shapeSize(shape));
  if (value !== 0) data.fill(value);
  return finish(new Tensor(data, shape), options);
}

export function full(shape: readonly number[], value: number, options?: CreateOptions): Tensor {
  return filled('full', shape, value, options);
}

export function zeros(shape: readonly number[], options?: CreateOptions): Tensor {
  return filled('zeros', shape, 0, options);
}

export function ones(shape: readonly number[], options?: CreateOptions): Tensor {
  return filled('ones', shape, 1, options);
}

export function zerosLike(t: Tensor): Tensor {
  return zeros(t.shape, { dtype: t.dtype });
}

export function onesLike(t: Tensor): Tensor {
  return ones(t.shape, { dtype: t.dtype });
}

export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

/** Uniform on [low, high) (default [0, 1)), as torch.rand. */
export function rand(shape: readonly number[], options?: RandomOptions & { low?: number; high?: number }): Tensor {
  const t = filled('rand', shape, 0, options, [...CREATE_OPTIONS, 'generator', 'low', 'high']);
  const g = options?.generator ?? defaultGenerator;
  const low = options?.low ?? 0;
  const high = options?.high ?? 1;
  g.fillUniform(t.data, low, high);
  return t;
}

/** Normal with the given mean and std (default standard normal), as torch.randn. */
export function randn(shape: readonly number[], options?: RandomOptions & { mean?: number; std?: number }): Tensor {
  const t = filled('randn', shape, 0, options, [...CREATE_OPTIONS, 'generator', 'mean', 'std']);
  const g = options?.generator ?? defaultGenerator;
  const mean = options?.mean ?? 0;
  const std = options?.std ?? 1;
  g.fillNormal(t.data, mean, std);
  return t;
}

/** Values start, start+step, ... below end, as torch.arange. `arange(5)` is 0..4. */
export function arange(start: number, end?: number, step = 1, options?: CreateOptions): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step)) throw new ValueError(`arange: step must be a non-zero finite number, got ${step}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const t = filled('arange', [n], 0, options);
  for (let i = 0; i < n; i++) t.data[i] = start + i * step;
  return t;
}

/** Anything ops accept where a tensor is expected: numbers become 0-d tensors. */
export type TensorLike = Tensor | number;

export function toTensor(x: TensorLike, dtype: DType = 'float32'): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === 'number') {
    const data = allocate(dtype, 1);
    data[0] = x;
    return new Tensor(data, []);
  }
  throw new ValueError(`expected a Tensor or a number, got ${x === null ? 'null' : typeof x}`);
}

// ---------------------------------------------------------------------------
// Printing

function formatNumber(v: number, decimals: number, sci: boolean): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (sci) return v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2');
  return v.toFixed(decimals);
}

/**
 * Formats like PyTorch: `tensor([[1., 2.],\n        [3., 4.]])`, with integers
 * printed as `1.`, four decimals otherwise, scientific notation for very large or
 * small magnitudes, and `...` summarizing tensors with more than 1000 elements.
 */
export function formatTensor(t: Tensor): string {
  const values = Array.from(t.data).filter((v) => Number.isFinite(v));
  const allInt = values.every((v) => Number.isInteger(v));
  const maxAbs = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const minAbs = values.filter((v) => v !== 0).reduce((m, v) => Math.min(m, Math.abs(v)), Infinity);
  // PyTorch's rule (torch/_tensor_str.py): scientific when the nonzero finite magnitudes span
  // more than 1000x or exceed 1e8 (integers too), or, for non-integers, go below 1e-4.
  const ratio = minAbs === Infinity ? 0 : maxAbs / minAbs;
  const sci = ratio > 1000 || maxAbs > 1e8 || (!allInt && minAbs < 1e-4);
  const fmt = (v: number) => (!Number.isFinite(v) ? formatNumber(v, 4, false) : sci ? formatNumber(v, 4, true) : allInt ? `${v}.` : formatNumber(v, 4, false));
  const summarize = t.size > 1000;
  const edge = 3;
  // The width comes from the nonzero finite values only, as in PyTorch (nan/inf are not padded for).
  const width = Math.max(1, ...values.slice(0, 5000).filter((v) => v !== 0).map((v) => fmt(v).length));
  const pad = (s: string) => s.padStart(width);
  const strides = stridesOf(t.shape);
  const indent = 'tensor('.length;
  const render = (dim: number, offset: number): string => {
    if (t.ndim === 0) return fmt(t.data[0]);
    const n = t.shape[dim];
    const idx: (number | null)[] = [];
    if (summarize && n > 2 * edge) {
      for (let i = 0; i < edge; i++) idx.push(i);
      idx.push(null);
      for (let i = n - edge; i < n; i++) idx.push(i);
    } else {
      for (let i = 0; i < n; i++) idx.push(i);
    }
    if (dim === t.ndim - 1) {
      // As PyTorch: as many elements per line as fit in 80 columns after the indent.
      const items = idx.map((i) => (i === null ? ' ...' : pad(fmt(t.data[offset + i]))));
      const perLine = Math.max(1, Math.floor((80 - indent - dim) / (width + 2)));
      const lines: string[] = [];
      for (let k = 0; k < items.length; k += perLine) lines.push(items.slice(k, k + perLine).join(', '));
      return '[' + lines.join(',\n' + ' '.repeat(indent + dim + 1)) + ']';
    }
    const sep = ',' + '\n'.repeat(t.ndim - dim - 1) + ' '.repeat(indent + dim + 1);
    return '[' + idx.map((i) => (i === null ? '...' : render(dim + 1, offset + i * strides[dim]))).join(sep) + ']';
  };
  const extras: string[] = [];
  if (t.size === 0 && t.ndim !== 1) extras.push(`size=(${t.shape.join(', ')})`);
  else if (summarize) extras.push(`shape=${fmtShape(t.shape)}`);
  if (t.dtype === 'float64') extras.push('dtype=float64');
  if (t.gradFn) extras.push(`gradFn=<${t.gradFn.name}Backward>`);
  else if (t.requiresGrad) extras.push('requiresGrad=true');
  const body = t.size === 0 ? '[]' : render(0, 0);
  return `tensor(${body}${extras.length ? ', ' + extras.join(', ') : ''})`;
}
