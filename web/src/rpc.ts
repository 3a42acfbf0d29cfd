/**
 * The page's side of the compute worker: every Stride computation of the app
 * runs in one module Web Worker (src/worker.ts), so the page never waits on a
 * kernel. `call` sends a request and resolves with the handler's result;
 * `stream` also delivers the events a long-running handler emits (training
 * progress). Requests are answered in order of completion, matched by id.
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

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, Pending>();

function getWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'stride-compute' });
  w.onmessage = (e: MessageEvent<Reply>) => {
    const r = e.data;
    const p = pending.get(r.id);
    if (!p) return;
    if (r.kind === 'event') p.onEvent?.(r.value);
    else {
      pending.delete(r.id);
      if (r.kind === 'result') p.resolve(r.value);
      else p.reject(new ComputeError(r.message, r.name));
    }
  };
  w.onerror = (e) => {
    const err = new ComputeError(`the compute worker failed: ${e.message || 'it could not start'}`, 'WorkerError');
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker = w;
  return w;
}

/** Runs handler `name` in the worker with `args`; `transfer` lists buffers handed over without a copy. */
export function call<N extends Name>(name: N, args: Args<N>, transfer: Transferable[] = []): Promise<Result<N>> {
  return stream(name, args, () => {}, transfer);
}

/** Like `call`, and `onEvent` receives every event the handler emits before it returns. */
export function stream<N extends Name>(name: N, args: Args<N>, onEvent: (e: unknown) => void, transfer: Transferable[] = []): Promise<Result<N>> {
  const id = nextId++;
  return new Promise<Result<N>>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onEvent });
    getWorker().postMessage({ id, name, args }, transfer);
  });
}
