/**
 * A Node-only batch pipeline: mini-batches of an in-memory image set, augmented
 * by a `parseAugment` spec and optionally normalized, made in worker threads so
 * that the training thread only trains.
 *
 * ```ts
 * const pipeline = new BatchPipeline({ images, labels, batchSize: 64, augment: 'crop:4,flip', normalize: { mean: MNIST_MEAN, std: MNIST_STD }, seed: 1, shuffle: true });
 * for (let e = 0; e < epochs; e++) {
 *   for await (const { x, y, index } of pipeline.epoch(e)) { ... }
 * }
 * await pipeline.close();
 * ```
 *
 * Determinism: the contents of batch `index` of epoch `e` depend only on
 * (seed, e, index), never on the number of workers or their timing. The
 * shuffle of epoch e draws from `shuffleGenerator(seed, e)`; batch `index`
 * is `transformBatch(rows, transform, batchGenerator(seed, e, index))`, then
 * normalized. Both generators get their state from a fixed hash of those
 * integers, so any worker (or this thread) makes the same bytes.
 *
 * Threads: the images are copied once into a SharedArrayBuffer that every
 * worker reads; a task names the batch and its row indices, and the worker
 * returns the batch as a transferred buffer (no copy back). Batches come out in
 * order; up to `prefetch` of them are made ahead of the consumer. With
 * `workers: 0` the batches are made in this thread, when asked for.
 *
 * Workers are referenced (they keep the process alive) only while a task is
 * out; `close()` ends them, and so does abandoning an epoch's iteration
 * before its end (`break` out of the `for await`), since the batches they
 * were making belong to that epoch; the next epoch starts new ones.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor, allocate, shapeSize, type DType } from '../tensor/tensor.js';
import { Generator } from '../tensor/random.js';
import { checkOptions } from '../validate.js';
import { parseAugment } from './transforms/augment.js';
import { transformBatch, type Transform } from './transforms/random.js';
import { normalize as normalizeImages } from './mnist.js';
import type { Batch } from './loader.js';
import { checkFiniteLabels, checkNonFinitePolicy, finiteData, type NonFinitePolicy } from './non-finite.js';

export interface BatchPipelineOptions {
  /** [N, C, H, W], values in 0..1 (float32 or float64). */
  images: Tensor;
  /** [N] class indices (or [N, ...] targets), gathered in this thread. */
  labels: Tensor;
  /** Examples per batch, a positive integer. */
  batchSize: number;
  /** A parseAugment spec (a string, since functions cannot cross threads); 'none' for no augmentation. */
  augment: string;
  /** Per-channel (or single) mean and std applied after the transform, as `normalize`. */
  normalize?: { mean: number | readonly number[]; std: number | readonly number[] };
  /** Seed of the shuffles and of every batch's augmentation: an integer 0 <= seed < 2^53. */
  seed: number;
  /** A new order every epoch, drawn from (seed, epoch) (default false: 0..N-1). */
  shuffle?: boolean;
  /** Skip the last batch when it has fewer than batchSize examples (default false). */
  dropLast?: boolean;
  /** Worker threads; default os.availableParallelism() - 1; 0 makes the batches in this thread. */
  workers?: number;
  /** Batches made ahead of the consumer when there are workers (default 2 per worker, at least 1). */
  prefetch?: number;
  /** Images holding NaN or an infinity: 'error' (default) refuses them, naming the example and index; 'zero' uses a copy with them replaced by 0 (as DataLoader). */
  nonFinite?: NonFinitePolicy;
}

const OPTION_KEYS = ['images', 'labels', 'batchSize', 'augment', 'normalize', 'seed', 'shuffle', 'dropLast', 'workers', 'prefetch', 'nonFinite'];

/** What a worker is started with (workerData). */
export interface PipelineWorkerInit {
  /** The images' values: `length` elements of `dtype` from byte `byteOffset` of a shared buffer. */
  images: SharedArrayBuffer;
  byteOffset: number;
  length: number;
  dtype: DType;
  shape: number[];
  augment: string;
  normalize: { mean: number | number[]; std: number | number[] } | null;
  seed: number;
}

/** A task: make batch `index` of `epoch` from the rows `rows`. */
export interface PipelineTask {
  id: number;
  epoch: number;
  index: number;
  rows: Uint32Array;
}

/** A worker's answer: the batch's values and shape, or the message of what it threw. */
export type PipelineResult = { id: number; data: Float32Array | Float64Array; shape: number[] } | { id: number; error: string };

// ---------------------------------------------------------------------------
// Generators derived from (seed, epoch, index)

const TAG_SHUFFLE = 0x5348;
const TAG_BATCH = 0x4241;

/** A 32-bit finalizer (murmur3's fmix32): every input bit reaches every output bit. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Four state words from a list of 32-bit words: each output absorbs every input through fmix32, with a distinct lane constant. */
function mixState(words: number[]): [number, number, number, number] {
  const out: [number, number, number, number] = [0, 0, 0, 0];
  for (let lane = 0; lane < 4; lane++) {
    let h = Math.imul(lane + 1, 0x9e3779b9) >>> 0;
    for (const w of words) h = fmix32((h ^ fmix32((w >>> 0) + Math.imul(lane, 0x632be5ab))) + 0x7f4a7c15);
    out[lane] = h >>> 0;
  }
  if ((out[0] | out[1] | out[2] | out[3]) === 0) out[0] = 1;
  return out;
}

function checkSeedLike(fn: string, name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new ValueError(`${fn}: ${name} must be an integer 0 <= ${name} < 2^53, got ${v}`);
}

function seedWords(seed: number): [number, number] {
  return [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0];
}

/**
 * The generator of batch `index` of epoch `epoch` under `seed`: its state is a
 * fixed hash of the three, so whoever makes the batch draws the same numbers.
 */
export function batchGenerator(seed: number, epoch: number, index: number): Generator {
  checkSeedLike('batchGenerator', 'seed', seed);
  checkSeedLike('batchGenerator', 'epoch', epoch);
  checkSeedLike('batchGenerator', 'index', index);
  const [lo, hi] = seedWords(seed);
  return new Generator(0).setState({ state: mixState([TAG_BATCH, lo, hi, epoch >>> 0, Math.floor(epoch / 2 ** 32) >>> 0, index >>> 0]), spareNormal: null });
}

/** The generator of epoch `epoch`'s shuffle under `seed` (a stream apart from every batch's). */
export function shuffleGenerator(seed: number, epoch: number): Generator {
  checkSeedLike('shuffleGenerator', 'seed', seed);
  checkSeedLike('shuffleGenerator', 'epoch', epoch);
  const [lo, hi] = seedWords(seed);
  return new Generator(0).setState({ state: mixState([TAG_SHUFFLE, lo, hi, epoch >>> 0, Math.floor(epoch / 2 ** 32) >>> 0]), spareNormal: null });
}

// ---------------------------------------------------------------------------
// Making one batch (this thread and the workers)

/** Rows `rows` of `data` (rows of `per` values) as a new tensor [rows.length, ...rowShape]. */
function gatherRows(data: Float32Array | Float64Array, dtype: DType, rowShape: readonly number[], rows: Uint32Array): Tensor {
  const per = shapeSize(rowShape);
  const out = allocate(dtype, rows.length * per);
  for (let i = 0; i < rows.length; i++) out.set(data.subarray(rows[i] * per, (rows[i] + 1) * per), i * per);
  return new Tensor(out, [rows.length, ...rowShape]);
}

/**
 * Batch `index` of `epoch`: the rows gathered, transformed with
 * batchGenerator(seed, epoch, index), then normalized when asked. What both
 * this thread and the workers run.
 */
export function makeAugmentedBatch(
  data: Float32Array | Float64Array,
  dtype: DType,
  rowShape: readonly number[],
  rows: Uint32Array,
  transform: Transform,
  norm: { mean: number | readonly number[]; std: number | readonly number[] } | null,
  seed: number,
  epoch: number,
  index: number,
): Tensor {
  const x = transformBatch(gatherRows(data, dtype, rowShape, rows), transform, batchGenerator(seed, epoch, index));
  return norm === null ? x : normalizeImages(x, norm.mean, norm.std);
}

// ---------------------------------------------------------------------------
// Workers

const workerUrl = import.meta.url.endsWith('.ts') ? new URL('./pipeline-worker.ts', import.meta.url) : new URL('./pipeline-worker.js', import.meta.url);

function startWorker(init: PipelineWorkerInit): Worker {
  if (workerUrl.pathname.endsWith('.ts')) {
    // From TypeScript sources (tsx): loader hooks do not reach worker threads,
    // so the worker registers tsx before importing its entry.
    const api = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(workerUrl.href)}); })`;
    return new Worker(boot, { eval: true, workerData: init });
  }
  return new Worker(workerUrl, { workerData: init });
}

interface Slot {
  worker: Worker;
  /** Task ids out at this worker. */
  busy: Set<number>;
  /** Being terminated: referenced until it has exited, whatever messages still arrive. */
  stopping: boolean;
}

interface Pending {
  resolve: (x: Tensor) => void;
  reject: (e: Error) => void;
  slot: Slot;
  epoch: number;
  index: number;
}

/**
 * `images` with its values moved to a SharedArrayBuffer, which a
 * BatchPipeline's workers read in place: make the pipeline from the result
 * (and drop the original) to hold one copy of a large image set instead of
 * two. A tensor already in shared memory is returned as it is.
 */
export function sharedImages(images: Tensor): Tensor {
  if (!(images instanceof Tensor)) throw new ValueError(`sharedImages: images must be a Tensor, got ${describe(images)}`);
  const src = images.data;
  if (src.buffer instanceof SharedArrayBuffer) return images;
  const buffer = new SharedArrayBuffer(src.byteLength);
  const data = src instanceof Float64Array ? new Float64Array(buffer) : new Float32Array(buffer);
  data.set(src);
  return new Tensor(data, [...images.shape]);
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/**
 * Mini-batches of an image set, augmented (and normalized) in worker threads
 * or in this thread, identical either way; see the module comment.
 */
export class BatchPipeline {
  readonly images: Tensor;
  readonly labels: Tensor;
  readonly batchSize: number;
  /** The spec in parseAugment's normal form. */
  readonly augment: string;
  readonly seed: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly workers: number;
  readonly prefetch: number;
  /** N, the number of examples. */
  readonly numSamples: number;
  private readonly transform: Transform;
  private readonly norm: { mean: number | number[]; std: number | number[] } | null;
  private shared: { buffer: SharedArrayBuffer; byteOffset: number; length: number } | null = null;
  private slots: Slot[] = [];
  private pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;
  private running = false;

  constructor(options: BatchPipelineOptions) {
    if (options === null || typeof options !== 'object') {
      throw new ValueError(`BatchPipeline: options must be an object { images, labels, batchSize, augment, seed }, got ${describe(options)}`);
    }
    checkOptions('BatchPipeline', options, OPTION_KEYS);
    const { images, labels, batchSize, augment, normalize, seed, shuffle = false, dropLast = false } = options;
    if (!(images instanceof Tensor)) throw new ValueError(`BatchPipeline: images must be a Tensor [N, C, H, W], got ${describe(images)}`);
    if (!(labels instanceof Tensor)) throw new ValueError(`BatchPipeline: labels must be a Tensor [N], got ${describe(labels)}`);
    if (images.ndim !== 4) throw new ShapeError(`BatchPipeline: images must have shape [N, C, H, W], got ${fmtShape(images.shape)}; add a channel dimension to grey images ([N, 1, H, W])`);
    if (labels.ndim < 1 || labels.shape[0] !== images.shape[0]) {
      throw new ShapeError(`BatchPipeline: images ${fmtShape(images.shape)} hold ${images.shape[0]} examples but labels ${fmtShape(labels.shape)} hold ${labels.shape[0] ?? 0}; the first dimensions must be equal`);
    }
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValueError(`BatchPipeline: batchSize must be a positive integer, got ${batchSize}`);
    if (typeof augment !== 'string') {
      throw new ValueError(`BatchPipeline: augment must be a parseAugment spec string such as 'crop:4,flip' (or 'none'), got ${describe(augment)}; functions cannot cross to worker threads`);
    }
    const plan = parseAugment(augment);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new ValueError(`BatchPipeline: seed must be an integer 0 <= seed < 2^53, got ${seed}`);
    if (typeof shuffle !== 'boolean') throw new ValueError(`BatchPipeline: shuffle must be true or false, got ${String(shuffle)}`);
    if (typeof dropLast !== 'boolean') throw new ValueError(`BatchPipeline: dropLast must be true or false, got ${String(dropLast)}`);
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    const workers = options.workers ?? Math.max(0, cores - 1);
    if (!Number.isInteger(workers) || workers < 0) throw new ValueError(`BatchPipeline: workers must be an integer >= 0 (0 makes the batches in this thread), got ${workers}`);
    const prefetch = options.prefetch ?? Math.max(1, 2 * workers);
    if (!Number.isInteger(prefetch) || prefetch < 1) throw new ValueError(`BatchPipeline: prefetch must be a positive integer (batches made ahead), got ${prefetch}`);
    let norm: { mean: number | number[]; std: number | number[] } | null = null;
    if (normalize !== undefined) {
      if (normalize === null || typeof normalize !== 'object') {
        throw new ValueError(`BatchPipeline: normalize must be { mean, std } (numbers or one per channel), got ${describe(normalize)}`);
      }
      const mean = typeof normalize.mean === 'number' ? normalize.mean : Array.isArray(normalize.mean) ? [...normalize.mean] : normalize.mean;
      const std = typeof normalize.std === 'number' ? normalize.std : Array.isArray(normalize.std) ? [...normalize.std] : normalize.std;
      // normalize's own checks, on one image of the right shape, so a bad mean/std fails here and not in a worker
      normalizeImages(new Tensor(allocate(images.dtype, shapeSize(images.shape.slice(1))), [1, ...images.shape.slice(1)]), mean as number[], std as number[]);
      norm = { mean: mean as number | number[], std: std as number | number[] };
    }
    checkFiniteLabels('BatchPipeline: labels', labels);
    this.images = finiteData('BatchPipeline: images', images, checkNonFinitePolicy('BatchPipeline', options.nonFinite));
    this.labels = labels;
    this.batchSize = batchSize;
    this.augment = plan.spec;
    this.transform = plan.transform;
    this.norm = norm;
    this.seed = seed;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.workers = workers;
    this.prefetch = prefetch;
    this.numSamples = images.shape[0];
  }

  /** Batches per epoch: `floor(N / B)` with dropLast, else `ceil(N / B)`. */
  get length(): number {
    return this.dropLast ? Math.floor(this.numSamples / this.batchSize) : Math.ceil(this.numSamples / this.batchSize);
  }

  /** The example order of `epoch`: a permutation from shuffleGenerator(seed, epoch), or 0..N-1 without shuffle. */
  order(epoch: number): Uint32Array {
    checkSeedLike('BatchPipeline.order', 'epoch', epoch);
    const a = new Uint32Array(this.numSamples);
    for (let i = 0; i < a.length; i++) a[i] = i;
    return this.shuffle ? shuffleGenerator(this.seed, epoch).shuffle(a) : a;
  }

  /**
   * One epoch's batches in order, `{ x [B, C, H', W'], y [B], index }`, as an
   * async iterable. One epoch iterates at a time; breaking out ends the
   * workers (their batches were this epoch's).
   *
   * `order`, when given, is the epoch's example order instead of
   * `this.order(epoch)`: N row indices (a permutation, or any rows < N), as
   * fitEpochsAsync passes the order its generator drew. The augmentation
   * still depends only on (seed, epoch, index).
   */
  async *epoch(epoch: number, order?: Uint32Array): AsyncGenerator<Batch, void, undefined> {
    checkSeedLike('BatchPipeline.epoch', 'epoch', epoch);
    if (order !== undefined) this.checkOrder(order);
    if (this.closed) throw new ValueError('BatchPipeline.epoch: the pipeline is closed; make a new BatchPipeline');
    if (this.running) throw new ValueError('BatchPipeline.epoch: another epoch is being iterated; finish it (or break out of it) first');
    this.running = true;
    order ??= this.order(epoch);
    const batches = this.length;
    const rowsOf = (b: number) => order.subarray(b * this.batchSize, Math.min((b + 1) * this.batchSize, this.numSamples));
    const rowShape = this.images.shape.slice(1);
    let finished = false;
    try {
      if (this.workers === 0) {
        for (let b = 0; b < batches; b++) {
          const rows = rowsOf(b);
          const x = makeAugmentedBatch(this.images.data, this.images.dtype, rowShape, rows, this.transform, this.norm, this.seed, epoch, b);
          yield { x, y: gatherRows(this.labels.data, this.labels.dtype, this.labels.shape.slice(1), rows), index: b };
        }
        finished = true;
        return;
      }
      this.start();
      const inFlight = new Map<number, Promise<Tensor>>();
      let next = 0;
      const fill = () => {
        while (next < batches && inFlight.size < this.prefetch) {
          const p = this.submit(epoch, next, rowsOf(next));
          p.catch(() => {}); // awaited in order below; this only keeps an early rejection from being reported as unhandled
          inFlight.set(next, p);
          next++;
        }
      };
      for (let b = 0; b < batches; b++) {
        fill();
        const x = await inFlight.get(b)!;
        inFlight.delete(b);
        fill();
        yield { x, y: gatherRows(this.labels.data, this.labels.dtype, this.labels.shape.slice(1), rowsOf(b)), index: b };
      }
      finished = true;
    } finally {
      this.running = false;
      if (!finished) await this.stopWorkers(new ValueError(`BatchPipeline: epoch ${epoch} was abandoned`));
    }
  }

  private checkOrder(order: Uint32Array): void {
    if (!(order instanceof Uint32Array)) throw new ValueError(`BatchPipeline.epoch: order must be a Uint32Array of ${this.numSamples} row indices, got ${describe(order)}`);
    if (order.length !== this.numSamples) {
      throw new ShapeError(`BatchPipeline.epoch: order holds ${order.length} row indices, but the pipeline has ${this.numSamples} examples; give one index per example`);
    }
    for (let i = 0; i < order.length; i++) {
      if (order[i] >= this.numSamples) throw new ValueError(`BatchPipeline.epoch: order[${i}] is ${order[i]}, but the rows are 0..${this.numSamples - 1}`);
    }
  }

  /** Ends the workers; pending batches reject. The pipeline cannot be used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stopWorkers(new ValueError('BatchPipeline: closed while batches were being made'));
  }

  private start(): void {
    if (this.slots.length > 0) return;
    if (this.shared === null) {
      const src = this.images.data;
      if (src.buffer instanceof SharedArrayBuffer) {
        // already shared (sharedImages): the workers read it in place
        this.shared = { buffer: src.buffer, byteOffset: src.byteOffset, length: src.length };
      } else {
        const buffer = new SharedArrayBuffer(src.byteLength);
        (src instanceof Float64Array ? new Float64Array(buffer) : new Float32Array(buffer)).set(src);
        this.shared = { buffer, byteOffset: 0, length: src.length };
      }
    }
    const init: PipelineWorkerInit = {
      images: this.shared.buffer,
      byteOffset: this.shared.byteOffset,
      length: this.shared.length,
      dtype: this.images.dtype,
      shape: [...this.images.shape],
      augment: this.augment,
      normalize: this.norm,
      seed: this.seed,
    };
    for (let i = 0; i < this.workers; i++) {
      const slot: Slot = { worker: startWorker(init), busy: new Set(), stopping: false };
      slot.worker.unref();
      slot.worker.on('message', (msg: PipelineResult) => this.onResult(slot, msg));
      slot.worker.on('error', (err: Error) => this.onWorkerFailure(slot, `threw ${err?.message ?? String(err)}`));
      slot.worker.on('exit', (code: number) => this.onWorkerFailure(slot, `exited with code ${code}`));
      this.slots.push(slot);
    }
  }

  private submit(epoch: number, index: number, rows: Uint32Array): Promise<Tensor> {
    // the least busy worker (ties: the first), so work spreads evenly
    let slot = this.slots[0];
    for (const s of this.slots) if (s.busy.size < slot.busy.size) slot = s;
    const id = this.nextId++;
    return new Promise<Tensor>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot, epoch, index });
      if (slot.busy.size === 0) slot.worker.ref();
      slot.busy.add(id);
      const task: PipelineTask = { id, epoch, index, rows: rows.slice() };
      slot.worker.postMessage(task, [task.rows.buffer as ArrayBuffer]);
    });
  }

  private settle(slot: Slot, id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    slot.busy.delete(id);
    if (slot.busy.size === 0 && !slot.stopping) slot.worker.unref();
    return p;
  }

  private onResult(slot: Slot, msg: PipelineResult): void {
    const p = this.settle(slot, msg.id);
    if (p === undefined) return;
    if ('error' in msg) p.reject(new ValueError(`BatchPipeline: making batch ${p.index} of epoch ${p.epoch} failed in a worker: ${msg.error}`));
    else p.resolve(new Tensor(msg.data, msg.shape));
  }

  private onWorkerFailure(slot: Slot, what: string): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return; // already stopped on purpose
    this.slots.splice(i, 1);
    for (const id of [...slot.busy]) {
      const p = this.settle(slot, id);
      p?.reject(new ValueError(`BatchPipeline: a worker ${what} while making batch ${p.index} of epoch ${p.epoch}`));
    }
    // the other workers are ended too: the epoch fails, and the next starts a full set
    void this.stopWorkers(new ValueError(`BatchPipeline: a worker ${what}`));
  }

  private async stopWorkers(reason: Error): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    for (const slot of slots) {
      // referenced until it has exited, so that awaiting its end keeps the process alive
      slot.stopping = true;
      slot.worker.ref();
      for (const id of [...slot.busy]) this.settle(slot, id)?.reject(reason);
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
