/** Entry of a wasm Web Worker: the init comes as the first message. */
import type { WorkerInit } from './platform.js';
import { runWorker } from './worker-core.js';

globalThis.onmessage = (e: MessageEvent<WorkerInit>) => {
  globalThis.onmessage = null;
  runWorker(e.data);
};
