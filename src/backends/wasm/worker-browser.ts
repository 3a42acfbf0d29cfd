/** Entry of a wasm Web Worker: the init comes as the first message. */
import type { WorkerInit } from './platform.js';
import { runWorker } from './worker-core.js';

const scope = globalThis as unknown as { onmessage: ((e: MessageEvent<WorkerInit>) => void) | null };
scope.onmessage = (e) => {
  scope.onmessage = null;
  runWorker(e.data);
};
