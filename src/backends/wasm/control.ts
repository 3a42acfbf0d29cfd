/**
 * The control block that the calling thread and the workers share, at a fixed
 * address of the wasm memory (page 1; page 0 holds the kernels' static data).
 *
 * Int32 words:
 *   PENDING        workers still running the current job (the caller waits for 0)
 *   ERROR          set by a worker whose kernel threw
 *   NEXT_CHUNK     the next chunk of a chunked job (see below)
 *   READY + w      1 once worker w has instantiated the kernels
 *   MAILBOX + w    0 idle, 1 a job is waiting in slot w, 2 exit
 *   SLEEPING + w   1 while worker w blocks in Atomics.wait
 * Float64 slots, one per thread: [job number, argument count, arguments...],
 * and in their last CHUNK_FIELDS values the description of a chunked job:
 * [chunked (0/1), position of the range's start in the arguments (its end
 * follows), items, items per chunk, position of an output address or -1,
 * bytes between the chunks' outputs]. A chunked job's range [0, items) is cut
 * into chunks that every thread takes in turn (Atomics.add on NEXT_CHUNK)
 * until none is left, so a thread that the OS holds back (the two vCPUs are
 * shared) slows the job by one chunk, not by its whole share; a chunk may
 * write its own output (at the output address plus chunk * stride), for
 * results that are summed afterwards in chunk order.
 *
 * A worker waits on its own mailbox (polling briefly first), claims the job
 * (compareExchange 1 -> 0), runs the export named by JOB_NAMES[job] with the
 * slot's arguments, then decrements PENDING and wakes the caller when it
 * reaches 0. A caller that has finished its own part takes back the jobs no
 * worker has claimed yet (the same compareExchange) and runs them itself (a
 * chunked job: nothing is left to run), so a worker that the OS has not
 * scheduled, or that is still waking up, never holds the caller. The caller
 * only writes a worker's slot while that worker is idle, so no job is ever
 * read half-written.
 */

export const CTRL_ADDR = 65536;
export const CTRL_BYTES = 65536;
/** First byte the host's arena may use. */
export const ARENA_ADDR = CTRL_ADDR + CTRL_BYTES;

export const MAX_THREADS = 64;
export const PENDING = 0;
export const ERROR = 1;
export const NEXT_CHUNK = 2;
export const READY = 64;
export const MAILBOX = 128;
export const CTRL_INTS = 256;

export const SLEEPING = 192;

/** Float64 slots start after the Int32 words. */
export const SLOTS_ADDR = CTRL_ADDR + CTRL_INTS * 4;
export const SLOT_F64 = 32;
/** The fields of a chunked job at the end of a slot: chunked, range position, items, chunk, output position, output stride. */
export const CHUNK_FIELDS = 6;
export const CHUNK_AT = SLOT_F64 - CHUNK_FIELDS;
export const MAX_ARGS = CHUNK_AT - 2;

/** A chunked job: the range [0, items) at args[rangeAt], args[rangeAt + 1], taken `chunk` items at a time. */
export interface ChunkPlan {
  rangeAt: number;
  items: number;
  chunk: number;
  /** Position of an output address that moves by `outStride` bytes per chunk, or -1. */
  outAt: number;
  outStride: number;
}

/**
 * Runs `fn` on every chunk that this thread takes: args[rangeAt], args[rangeAt + 1] set to the
 * chunk's range and args[outAt] to its output. Shared by the caller and the workers. An empty
 * range is one chunk [0, 0), so a kernel still writes what it writes for no items (a filter
 * gradient of no images: zeros).
 */
export function runChunks(fn: (...args: number[]) => unknown, args: number[], plan: ChunkPlan, ctrl: Int32Array): void {
  const out = plan.outAt >= 0 ? args[plan.outAt] : 0;
  for (;;) {
    const i = Atomics.add(ctrl, NEXT_CHUNK, 1);
    const lo = i * plan.chunk;
    if (lo >= plan.items && (i > 0 || plan.items > 0)) return;
    args[plan.rangeAt] = lo;
    args[plan.rangeAt + 1] = Math.min(plan.items, lo + plan.chunk);
    if (plan.outAt >= 0) args[plan.outAt] = out + i * plan.outStride;
    fn(...args);
  }
}

/**
 * How long a worker keeps polling its mailbox after a job before it blocks in
 * Atomics.wait (catching back-to-back jobs, such as a convolution's two
 * gradients), and how long the caller polls for the workers to finish before
 * it blocks. Polling is kept short because on the 2-vCPU virtual machines this
 * was measured on, a thread polling on one vCPU slowed plain JavaScript on the
 * other by a third (18 -> 28 ms for a loop over 4 MB), while waking a blocked
 * thread takes 40 us to ~600 us (after a few ms of sleep the idle vCPU is
 * halted). 1 ms keeps a worker awake through a LeNet-5 training step, whose
 * split jobs come every few hundred microseconds (0.2 ms let it fall asleep
 * between them: 4.25 ms steps against 4.06, kernels.ts). The caller wakes
 * sleeping workers (wake()) as soon as it knows a call will be split, so the
 * wake-up overlaps its copying of the operands, and only calls big enough to
 * hide the wake-up are split (kernels.ts).
 */
export const WORKER_SPIN_MS = 1;
export const CALLER_SPIN_MS = 1;

/** The kernel exports a worker can run, by job number. */
export const JOB_NAMES = [
  'sgemm',
  'conv2d_forward',
  'conv2d_forward_direct',
  'conv2d_winograd',
  'conv2d_winograd4',
  'conv2d_winograd_filter',
  'conv2d_winograd4_filter',
  'conv2d_backward_input',
  'conv2d_backward_filter',
  'conv2d_backward_filter_direct',
  'maxpool2d_forward',
  'maxpool2d_backward',
  'avgpool2d_forward',
  'avgpool2d_backward',
  'bn_stats',
  'bn_forward',
  'bn_backward',
  'unary',
  'unary_backward',
  'binary',
  'sgd_step',
  'plane_mean',
  'plane_mean_backward',
] as const;

export type JobName = (typeof JOB_NAMES)[number];
