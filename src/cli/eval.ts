/**
 * `stride eval` as a function: reloads a checkpoint and measures its accuracy
 * on the test split of the dataset it was trained on, with the same input
 * normalization (both recorded in the checkpoint). `--top K` adds the top-K
 * accuracy, `--confusion` the confusion matrix with each class's accuracy;
 * all are accumulated from the same forward passes.
 */
import { DataError, OnnxModule, evaluate, getBackend, models, type nn } from '../index.js';
import { loadWeightsFile } from '../node.js';
import { DATA_DIR_OPTION, checkNormalizationChannels, datasets, normalizationFromMeta, openDataset, openRecorded, type Normalization } from './datasets.js';
import { consoleIO, type CliIO } from './io.js';
import { checkRunFits, estimateRunMemory } from './memory.js';
import { isOnnxPath, readOnnxFile } from './summary.js';
import { checkModelFits } from './model-fit.js';
import { BACKEND_OPTIONS, integer, jsonOption, oneOf, option, withDefaults, type CliCommand, type OptionValues } from './options.js';
import { TRAIN_OPTIONS, refuseNonFiniteWeights } from './train.js';

/** The options of `stride eval` (without --backend, --threads, --json). */
export const EVAL_OPTIONS = {
  model: option({
    flags: '--model <path>', help: 'checkpoint folder (holding model.stride or model.safetensors, as written by train --out), a .stride, .safetensors or .onnx file', parse: (path) => path,
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
  dataDir: DATA_DIR_OPTION,
  normalize: {
    ...TRAIN_OPTIONS.normalize,
    help: "standardize the inputs as (x - mean[c]) / std[c], x in 0..1: MEAN/STD, each one number or one per channel (an ONNX file from elsewhere carries none)",
    defaultHelp: "the checkpoint's (or the ONNX file's stride.normalize), else the dataset's: mnist 0.1307/0.3081",
  },
  batchSize: option({ flags: '--batch-size <n>', help: 'examples per forward pass', parse: integer(1), default: 1000 }),
  testLimit: option({ flags: '--test-limit <n>', help: 'evaluate on the first N test images only', parse: integer(1), defaultHelp: 'all' }),
  top: option({ flags: '--top <k>', help: 'also print the top-K accuracy and error (the label among the K highest scores)', parse: integer(1), metavar: 'K' }),
  confusion: option({ flags: '--confusion', help: 'print the confusion matrix (row: true class, column: predicted) with each class\'s accuracy and precision' }),
};

/** `stride eval`. */
export const EVAL_COMMAND = {
  name: 'eval',
  description: 'Reload saved weights and print the test accuracy',
  options: {
    ...EVAL_OPTIONS, ...BACKEND_OPTIONS,
    json: jsonOption('testAccuracy, testLoss, testImages, topK, seconds, model, checkpoint, dataset, backend; with --confusion, confusionMatrix and perClassAccuracy'),
  },
  afterHelp: `
Ties in the scores count for the lower class index (as argmax). The confusion
matrix is printed only with --confusion: its rows are the true classes and
its columns the predicted ones (as scikit-learn's confusion_matrix), each row
followed by the class's accuracy (recall), and a last line of precisions.
Weights holding NaN or an infinity are refused (exit code 2), naming each
such tensor and how many of its values are bad.`,
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
  /** Top-k accuracy for k = 1 and --top K. */
  topK: Record<number, number>;
  /** With --confusion: rows the true class, columns the predicted one. */
  confusionMatrix?: number[][];
  /** With --confusion: the accuracy (recall) of each class, null for a class with no test images. */
  perClassAccuracy?: (number | null)[];
  /** With --confusion: the precision of each class, null for a class never predicted. */
  perClassPrecision?: (number | null)[];
  seconds: number;
}

/** The model to evaluate: a Stride checkpoint or safetensors file (loadWeightsFile), or an ONNX file (importOnnx, its metadata as the checkpoint's meta). */
async function loadForEval(options: EvalCommandOptions): Promise<{ model: nn.Module; name: string; meta: Record<string, unknown>; path: string; epochs: unknown; inputShape: unknown }> {
  if (isOnnxPath(options.model)) {
    if (options.arch !== undefined) throw new DataError(`--arch names the model of a .safetensors file; ${options.model} is an ONNX file, which holds its own graph`);
    const { model, name, meta, inputShape } = await readOnnxFile(options.model);
    return { model, name: name ?? 'onnx', meta, path: options.model, epochs: undefined, inputShape };
  }
  const { model, header, path, training } = await loadWeightsFile(options.model, { arch: options.arch });
  const meta = header.meta as Record<string, unknown>;
  return { model, name: header.model, meta, path, epochs: training?.epoch ?? meta.epochs, inputShape: header.modelOptions.inputShape };
}

export async function runEval(options: EvalCommandOptions, io: CliIO = consoleIO()): Promise<EvalSummary> {
  const start = performance.now();
  const { model, name: modelName, meta, path, epochs, inputShape: shape } = await loadForEval(options);
  const onnx = model instanceof OnnxModule;
  // Weights trained into NaN would evaluate to chance with a NaN loss: refused before the data is read.
  refuseNonFiniteWeights(model, `${onnx ? '' : 'checkpoint '}${path}`);
  const datasetName = options.dataset ?? (typeof meta.dataset === 'string' ? meta.dataset : undefined);
  if (datasetName === undefined) {
    throw new DataError(`${onnx ? '' : 'checkpoint '}${path} does not record the dataset it was trained on; pass --dataset`);
  }
  // A dataset that resizes its images does so to the size the model was built for.
  const input = datasets[datasetName]?.resizes && Array.isArray(shape) && shape.every((v) => Number.isSafeInteger(v)) ? (shape as number[]) : undefined;
  // The normalization: --normalize, else the one the model was trained with when recorded (checked against the dataset below), which spares a dataset that computes its own the work.
  const recordedNorm = options.normalize ?? (meta.normalize !== null && typeof meta.normalize === 'object' ? (meta.normalize as Normalization) : undefined);
  // The data folder: --data-dir, else the one the run trained from (recorded as an absolute path) for the same dataset.
  const dataDir = options.dataDir ?? (datasetName === meta.dataset && typeof meta.dataDir === 'string' ? meta.dataDir : undefined);
  const data = await openRecorded(dataDir !== options.dataDir, dataDir, () => openDataset(datasetName, { dataDir, input, ...(recordedNorm !== undefined ? { normalization: recordedNorm } : {}) }));
  try {
    checkModelFits(model, modelName, datasetName, data.inputShape, data.numClasses);
  } catch (err) {
    throw new DataError(`${onnx ? '' : 'checkpoint '}${path}: ${(err as Error).message}`);
  }
  if (options.normalize !== undefined) checkNormalizationChannels(options.normalize, data.inputShape[0], datasetName);
  const norm = options.normalize ?? normalizationFromMeta(meta, data, path);
  const test = await data.load('test', options.testLimit, norm);
  const trained = typeof epochs === 'number' ? `, trained ${epochs} epoch${epochs === 1 ? '' : 's'}` : '';
  const when = typeof meta.createdAt === 'string' ? `, saved ${meta.createdAt}` : '';
  const normText = (v: number | readonly number[]) => (typeof v === 'number' ? String(v) : v.join(','));
  const fed = onnx ? `, inputs normalized ${normText(norm.mean)}/${normText(norm.std)}` : '';
  io.out(`evaluating ${modelName} from ${path}${trained}${when} on ${test.images.shape[0]} ${datasetName} test images${fed}`);
  const ks = options.top === undefined ? [1] : [...new Set([1, options.top])];
  const confusion = options.confusion === true;
  const batchSize = withDefaults(EVAL_OPTIONS, options).batchSize;
  // Before any batch is allocated: refuse an evaluation this machine cannot hold, saying which batch would fit.
  checkRunFits('stride eval', estimateRunMemory(model, data.inputShape, Math.min(batchSize ?? Infinity, test.images.shape[0]), 'eval'));
  const result = evaluate(model, { images: test.images, labels: test.labels }, batchSize, { topK: ks, confusion });
  io.out(`test accuracy: ${result.accuracy.toFixed(4)}`);
  const topK = result.topK!;
  if (options.top !== undefined) {
    for (const k of ks) io.out(`top-${k} accuracy ${topK[k].toFixed(4)}, error ${(1 - topK[k]).toFixed(4)}`);
  }
  const summary: EvalSummary = {
    model: modelName, checkpoint: path, dataset: datasetName, backend: getBackend().name,
    testImages: result.total, testAccuracy: result.accuracy, testLoss: result.loss, topK, seconds: 0,
  };
  if (confusion) {
    const names = data.classNames ?? Array.from({ length: data.numClasses }, (_, i) => String(i));
    for (const line of formatConfusion(result.confusionMatrix!, names, result.perClassAccuracy!, result.perClassPrecision!)) io.out(line);
    summary.confusionMatrix = result.confusionMatrix;
    summary.perClassAccuracy = result.perClassAccuracy!.map((x) => (Number.isNaN(x) ? null : x));
    summary.perClassPrecision = result.perClassPrecision!.map((x) => (Number.isNaN(x) ? null : x));
  }
  summary.seconds = (performance.now() - start) / 1000;
  return summary;
}

/**
 * The confusion matrix for people: a header of predicted classes, one row per
 * true class with its accuracy (recall) beside it, a last row of precisions;
 * columns right-aligned to the widest entry. A class with no examples (or
 * never predicted) shows "-".
 */
export function formatConfusion(matrix: number[][], names: readonly string[], accuracy: number[], precision: number[]): string[] {
  const rate = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(4));
  const corner = 'true \\ predicted';
  const width = Math.max(...names.map((n) => n.length), ...matrix.flat().map((v) => String(v).length), 6);
  const label = Math.max(corner.length, 'precision'.length, ...names.map((n) => n.length));
  const cells = (values: string[]) => values.map((v) => v.padStart(width)).join(' ');
  return [
    `confusion matrix (rows: true class, columns: predicted; ${matrix.flat().reduce((s, v) => s + v, 0)} images):`,
    `${corner.padEnd(label)}  ${cells([...names])}  accuracy`,
    ...matrix.map((row, i) => `${names[i].padStart(label)}  ${cells(row.map(String))}  ${rate(accuracy[i]).padStart(8)}`),
    `${'precision'.padStart(label)}  ${cells(precision.map(rate))}`,
  ];
}

export function evalJson(s: EvalSummary): string {
  return JSON.stringify({ ...s, testLoss: Number(s.testLoss.toFixed(6)), seconds: Number(s.seconds.toFixed(2)) });
}
