/**
 * The compute worker: imports Stride (its wasm backend starts here, with
 * threads when the page is cross-origin isolated) and runs the handlers of
 * src/compute/ on request. Each request gets one reply, a result or an error;
 * a handler may emit events before it returns (see rpc.ts).
 */
import { handlers } from './compute/index.js';
import type { Reply } from './rpc.js';

interface Request {
  id: number;
  name: keyof typeof handlers;
  args: unknown;
}

/**
 * Results are copied to the page (structured clone), never transferred: a typed
 * array a handler returns may be a view of memory Stride still owns.
 */
const post = (r: Reply) => (self as unknown as Worker).postMessage(r);

self.onmessage = async (e: MessageEvent<Request>) => {
  const { id, name, args } = e.data;
  const handler = handlers[name] as ((a: unknown, emit: (v: unknown) => void) => unknown) | undefined;
  try {
    if (!handler) throw new Error(`no compute handler named '${String(name)}'`);
    const value = await handler(args, (v) => post({ id, kind: 'event', value: v }));
    post({ id, kind: 'result', value });
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    post({ id, kind: 'error', message: error.message, name: error.name });
  }
};
