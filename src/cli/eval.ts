/**
 * `stride eval` as a function: reloads a checkpoint and measures its accuracy
 * on the test split of the dataset it was trained on, with the same input
 * normalization (both recorded in the checkpoint).
 */
import { DataError, evaluate, getBackend, getModelSpec } from '../index.js';
import { loadCheckpoint } from '../node.js';
import { getDataset, normalizationFromMeta } from './datasets.js';
import { consoleIO, type CliIO } from './io.js';

export interface EvalCommandOptions {
  /** A folder holding model.stride, or the file. */
  model: string;
  /** Default: the dataset recorded in the checkpoint. */
  dataset?: string;
  batchSize?: number;
  /** Evaluate on the first `testLimit` test images. */
  testLimit?: number;
}

export interface EvalSummary {
  model: string;
  checkpoint: string;
  dataset: string;
  backend: string;
  testImages: number;
  testAccuracy: number;
  testLoss: number;
  seconds: number;
}

export async function runEval(options: EvalCommandOptions, io: CliIO = consoleIO()): Promise<EvalSummary> {
  const start = performance.now();
  const { model, header, path } = await loadCheckpoint(options.model);
  const meta = header.meta as Record<string, unknown>;
  const datasetName = options.dataset ?? (typeof meta.dataset === 'string' ? meta.dataset : undefined);
  if (datasetName === undefined) {
    throw new DataError(`checkpoint ${path} does not record the dataset it was trained on; pass --dataset`);
  }
  const data = getDataset(datasetName);
  const spec = getModelSpec(header.model);
  if (spec.inputShape.join() !== data.inputShape.join()) {
    throw new DataError(`checkpoint ${path}: model '${header.model}' takes ${spec.inputShape.join('x')} inputs but dataset '${datasetName}' has ${data.inputShape.join('x')} images`);
  }
  const norm = normalizationFromMeta(meta, data, path);
  const test = await data.load('test', options.testLimit, norm);
  const trained = typeof meta.epochs === 'number' ? `, trained ${meta.epochs} epoch${meta.epochs === 1 ? '' : 's'}` : '';
  const when = typeof meta.createdAt === 'string' ? `, saved ${meta.createdAt}` : '';
  io.out(`evaluating ${header.model} from ${path}${trained}${when} on ${test.images.shape[0]} ${datasetName} test images`);
  const result = evaluate(model, { images: test.images, labels: test.labels }, options.batchSize ?? 1000);
  io.out(`test accuracy: ${result.accuracy.toFixed(4)}`);
  return {
    model: header.model, checkpoint: path, dataset: datasetName, backend: getBackend().name,
    testImages: result.total, testAccuracy: result.accuracy, testLoss: result.loss, seconds: (performance.now() - start) / 1000,
  };
}

export function evalJson(s: EvalSummary): string {
  return JSON.stringify({ ...s, testLoss: Number(s.testLoss.toFixed(6)), seconds: Number(s.seconds.toFixed(2)) });
}
