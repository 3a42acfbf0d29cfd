/**
 * Entry of a BatchPipeline worker thread: reads the images from the shared
 * buffer it is started with, makes each batch it is asked for exactly as the
 * pipeline does in its own thread (makeAugmentedBatch), and sends the values
 * back as a transferred buffer, or the message of what was thrown.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseAugment } from './transforms/augment.js';
import { makeAugmentedBatch, type PipelineResult, type PipelineTask, type PipelineWorkerInit } from './pipeline.js';

const init = workerData as PipelineWorkerInit;
const data = init.dtype === 'float64' ? new Float64Array(init.images, init.byteOffset, init.length) : new Float32Array(init.images, init.byteOffset, init.length);
const rowShape = init.shape.slice(1);
const { transform } = parseAugment(init.augment);
const port = parentPort!;

port.on('message', (task: PipelineTask) => {
  let result: PipelineResult;
  let transfer: ArrayBuffer[] = [];
  try {
    const x = makeAugmentedBatch(data, init.dtype, rowShape, task.rows, transform, init.normalize, init.seed, task.epoch, task.index);
    // a batch that views a larger buffer is copied so that only its values travel
    const values = x.data.byteOffset === 0 && x.data.byteLength === x.data.buffer.byteLength ? x.data : x.data.slice();
    result = { id: task.id, data: values, shape: [...x.shape] };
    transfer = [values.buffer as ArrayBuffer];
  } catch (e) {
    result = { id: task.id, error: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(result, transfer);
});
