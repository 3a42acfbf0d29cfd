/** Entry of a wasm worker thread in Node (worker_threads): the init comes as workerData. */
import { workerData } from 'node:worker_threads';
import type { WorkerInit } from './platform.js';
import { runWorker } from './worker-core.js';

runWorker(workerData as WorkerInit);
