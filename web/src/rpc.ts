/**
 * The page's side of the compute worker: every Stride computation of the app
 * runs in a module Web Worker (src/worker.ts), so the page never waits on a
 * kernel. `call` sends a request and resolves with the handler's result;
 * `stream` also delivers the events a long-running handler emits (training
 * progress). Requests are answered in order of completion, matched by id.
 *
 * The pages share one worker (`call`, `stream`). A page whose requests can
 * run long and be superseded (tracing a large model) uses a ComputeClient of
 * its own, so it never holds up the others and can cancel by terminating it.
 */
import type { Requests } from './compute/index.js';

type Name = keyof Requests;
type Args<N extends Name> = Parameters<Requests[N]>[0];
type Result<N extends Name> = Awaited<ReturnType<Requests[N]>>;

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  onEvent?(e: unknown): void;
}

/** What the worker answers: a result, an error, or an event of a running request. */
export type Reply =
  | { id: number; kind: 'result'; value: unknown }
  | { id: number; kind: 'error'; message: string; name: string }
  | { id: number; kind: 'event'; value: unknown };

/** An error thrown by Stride in the worker, with its class name (ValueError, ShapeError, DataError, ...). */
export class ComputeError extends Error {
  constructor(message: string, readonly kind: string) {
    super(message);
    this.name = kind;
  }
}

/** The kind of the error a request gets when its client is terminated. */
export const CANCELLED = 'Cancelled';

/** One compute worker, started on the first request. */
export class ComputeClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly name = 'stride-compute') {}

  private getWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: this.name });
    w.onmessage = (e: MessageEvent<Reply>) => {
      const r = e.data;
      const p = this.pending.get(r.id);
      if (!p) return;
      if (r.kind === 'event') p.onEvent?.(r.value);
      else {
        this.pending.delete(r.id);
        if (r.kind === 'result') p.resolve(r.value);
        else p.reject(new ComputeError(r.message, r.name));
      }
    };
    w.onerror = (e) => this.failAll(new ComputeError(`the compute worker failed: ${e.message || 'it could not start'}`, 'WorkerError'));
    this.worker = w;
    return w;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Runs handler `name` in the worker with `args`; `transfer` lists buffers handed over without a copy. */
  call<N extends Name>(name: N, args: Args<N>, transfer: Transferable[] = []): Promise<Result<N>> {
    return this.stream(name, args, () => {}, transfer);
  }

  /** Like `call`, and `onEvent` receives every event the handler emits before it returns. */
  stream<N extends Name>(name: N, args: Args<N>, onEvent: (e: unknown) => void, transfer: Transferable[] = []): Promise<Result<N>> {
    const id = this.nextId++;
    return new Promise<Result<N>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onEvent });
      this.getWorker().postMessage({ id, name, args }, transfer);
    });
  }

  /** Whether a request is still running. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Stops the worker at once (whatever it is computing); pending requests reject with kind CANCELLED. The next request starts a fresh worker. */
  terminate(): void {
    this.worker?.terminate();
    this.worker = null;
    this.failAll(new ComputeError('the request was cancelled', CANCELLED));
  }
}

const shared = new ComputeClient();

/** Runs handler `name` in the shared worker with `args`; `transfer` lists buffers handed over without a copy. */
export function call<N extends Name>(name: N, args: Args<N>, transfer: Transferable[] = []): Promise<Result<N>> {
  return shared.call(name, args, transfer);
}

/** Like `call`, and `onEvent` receives every event the handler emits before it returns. */
export function stream<N extends Name>(name: N, args: Args<N>, onEvent: (e: unknown) => void, transfer: Transferable[] = []): Promise<Result<N>> {
  return shared.stream(name, args, onEvent, transfer);
}
