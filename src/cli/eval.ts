/**
 * `stride eval` as a function: reloads a checkpoint and measures its accuracy
 * on the test split of the dataset it was trained on, with the same input
 * normalization (both recorded in the checkpoint).
 */
import { DataError, evaluate, getBackend, getModelSpec, models } from '../index.js';
import { loadWeightsFile } from '../node.js';
import { datasets, getDataset, normalizationFromMeta } from './datasets.js';
import { consoleIO, type CliIO } from './io.js';
import { BACKEND_OPTIONS, integer, jsonOption, oneOf, option, withDefaults, type CliCommand, type OptionValues } from './options.js';

/** The options of `stride eval` (without --backend, --threads, --json). */
export const EVAL_OPTIONS = {
  model: option({
    flags: '--model <path>', help: 'checkpoint folder (holding model.stride or model.safetensors, as written by train --out), a .stride or a .safetensors file', parse: (path) => path,
    metavar: 'PATH', required: true,
  }),
  arch: option({
    flags: '--arch <name>', help: `the model of a .safetensors file that does not name it (weights saved by PyTorch): ${Object.keys(models).join(', ')}`, parse: oneOf(Object.keys(models), 'model'),
    metavar: 'NAME', defaultHelp: "the one named in the file's metadata",
  }),
  dataset: option({
    flags: '--dataset <name>', help: `evaluate on this dataset: ${Object.keys(datasets).join(', ')}`, parse: oneOf(Object.keys(datasets), 'dataset'),
    defaultHelp: 'the one recorded in the checkpoint',
  }),
  batchSize: option({ flags: '--batch-size <n>', help: 'examples per forward pass', parse: integer(1), default: 1000 }),
  testLimit: option({ flags: '--test-limit <n>', help: 'evaluate on the first N test images only', parse: integer(1), defaultHelp: 'all' }),
};

/** `stride eval`. */
export const EVAL_COMMAND = {
  name: 'eval',
  description: 'Reload saved weights and print the test accuracy',
  options: { ...EVAL_OPTIONS, ...BACKEND_OPTIONS, json: jsonOption('testAccuracy, testLoss, testImages, seconds, model, checkpoint, dataset, backend') },
} satisfies CliCommand;

/** What runEval takes: the checkpoint (a folder holding model.stride, or the file) and the options. */
export type EvalCommandOptions = { model: string } & OptionValues<typeof EVAL_OPTIONS>;

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
  const { model, header, path } = await loadWeightsFile(options.model, { arch: options.arch });
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
  const result = evaluate(model, { images: test.images, labels: test.labels }, withDefaults(EVAL_OPTIONS, options).batchSize);
  io.out(`test accuracy: ${result.accuracy.toFixed(4)}`);
  return {
    model: header.model, checkpoint: path, dataset: datasetName, backend: getBackend().name,
    testImages: result.total, testAccuracy: result.accuracy, testLoss: result.loss, seconds: (performance.now() - start) / 1000,
  };
}

export function evalJson(s: EvalSummary): string {
  return JSON.stringify({ ...s, testLoss: Number(s.testLoss.toFixed(6)), seconds: Number(s.seconds.toFixed(2)) });
}
