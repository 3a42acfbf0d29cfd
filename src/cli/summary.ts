/**
 * `stride summary` as a function: builds a model by name (or reloads a
 * checkpoint), traces one image through it with summary() and prints the
 * table (formatSummary) or, with --json, the summary as one JSON line.
 */
import { readFile, stat } from 'node:fs/promises';

import { DataError, ValueError, createModel, formatSummary, getModelSpec, importOnnx, isModelPattern, models, summary, type ModelSummary, type OnnxModule, type nn } from '../index.js';
import { loadWeightsFile } from '../node.js';
import { consoleIO, type CliIO } from './io.js';
import { BACKEND_OPTIONS, option, sizes, type CliCommand, type OptionValues } from './options.js';

/** Parses --input: CxHxW (3x224x224), or fewer axes for flat inputs (784). */
export const parseInputShape = sizes(3, 1, 'one image shape CxHxW of positive integers, such as 3x224x224 (or 1x28x28)');

/** The options of `stride summary` (without --backend, --threads). */
export const SUMMARY_OPTIONS = {
  input: option({
    flags: '--input <shape>', help: 'shape of one input image, CxHxW', parse: parseInputShape, metavar: 'CxHxW',
    defaultHelp: "the model's: 1x28x28 for lenet5 and patterns, 3x224x224 for the torchvision models, the shape a checkpoint was trained on",
  }),
  blocks: option({ flags: '--blocks', help: 'also a row per block (Sequential, residual block) with its totals, names indented by depth' }),
  json: option({
    flags: '--json',
    help: 'print one JSON line instead of the table: model, input, layers [{ name, type, outputShape, params, trainableParams, neurons, weightsPerNeuron, connections, macs, receptiveField }], totalParams, trainableParams, macs, blocks...',
  }),
};

/** `stride summary`. */
export const SUMMARY_COMMAND = {
  name: 'summary',
  description: 'Print what a model is made of: per layer its output shape, parameters, neurons, connections, multiply-accumulates, receptive field and memory',
  argument: {
    name: '<model>', synopsis: 'MODEL',
    help: `a registered model (${Object.keys(models).join(', ')}), a layer pattern, saved weights (a folder holding model.stride or model.safetensors, or the file), or an .onnx file`,
    parse: (value: string) => value,
  },
  options: { ...SUMMARY_OPTIONS, ...BACKEND_OPTIONS },
  afterHelp: `
One row per layer call, named by its state-dict prefix; for an ONNX file, one
row per node on the data's path, named by its weights' prefix or the module
scope in the node's name (as torch.onnx.export and stride export write it). Weights/neuron and
connections count the bias as the lectures do (a 5x5x3 filter: 76); MACs are
the multiply-accumulates of convolution and linear layers for one image
(FLOPs = 2 x MACs). RF, Jump and Start give the receptive field of one output
unit in input pixels: its size, the distance between neighbouring units'
fields, and the first pixel of the first unit's field (negative in padding).`,
} satisfies CliCommand;

export type SummaryCommandOptions = { model: string } & OptionValues<typeof SUMMARY_OPTIONS>;

/** A path naming an ONNX file (by its extension). */
export const isOnnxPath = (path: string): boolean => /\.onnx$/i.test(path);

/**
 * An ONNX file as a module, with what its metadata records as a checkpoint's
 * meta would (stride export writes stride.model, stride.dataset and
 * stride.normalize) and its input shape without the batch (null where the
 * file names or leaves out a dimension).
 */
export async function readOnnxFile(path: string): Promise<{ model: OnnxModule; name: string | undefined; meta: Record<string, unknown>; inputShape: (number | null)[] | null }> {
  const model = importOnnx(new Uint8Array(await readFile(path)), { source: path });
  const { 'stride.model': name, 'stride.dataset': dataset, 'stride.normalize': normalize } = model.metadata;
  const meta: Record<string, unknown> = {};
  if (dataset !== undefined) meta.dataset = dataset;
  if (normalize !== undefined) {
    try {
      meta.normalize = JSON.parse(normalize);
    } catch {
      throw new DataError(`${path}: metadata stride.normalize is not JSON: ${JSON.stringify(normalize.slice(0, 80))}`);
    }
  }
  const shape = model.inputShape?.slice(1).map((d) => (typeof d === 'number' && d > 0 ? d : null)) ?? null;
  return { model, name, meta, inputShape: shape };
}

/**
 * The model named `name` (a registered name or a layer pattern, freshly
 * initialized), or the one a checkpoint at `name` holds, and the input shape it
 * takes: `input` when given, else the one the checkpoint records, else the
 * model's own; or the model of an ONNX file, whose input shape is the file's.
 * Shared by `stride summary` and `stride export`.
 */
export async function resolveModel(name: string, input: number[] | undefined): Promise<{ model: nn.Module; input: number[]; meta?: Record<string, unknown>; modelName: string }> {
  if (!Object.hasOwn(models, name) && isOnnxPath(name)) {
    const onnx = await readOnnxFile(name);
    const known = onnx.inputShape !== null && onnx.inputShape.every((d) => d !== null) ? (onnx.inputShape as number[]) : undefined;
    const shape = input ?? known;
    if (shape === undefined) {
      const given = onnx.inputShape === null ? 'gives no input shape' : `gives its input as [N, ${onnx.inputShape.map((d) => d ?? '?').join(', ')}]`;
      throw new ValueError(`${name} ${given}; pass one image's shape with --input CxHxW`);
    }
    return { model: onnx.model, input: shape, meta: onnx.meta, modelName: onnx.name ?? name };
  }
  if (!Object.hasOwn(models, name) && (await stat(name).catch(() => null)) !== null) {
    const { model, header } = await loadWeightsFile(name);
    const spec = models[header.model] ?? (isModelPattern(header.model) ? getModelSpec(header.model) : undefined);
    const options = header.modelOptions as { inChannels?: unknown; inputShape?: unknown };
    const recorded = Array.isArray(options.inputShape) && options.inputShape.every((n) => Number.isSafeInteger(n)) ? (options.inputShape as number[]) : undefined;
    const channels = typeof options.inChannels === 'number' ? options.inChannels : spec?.inputShape[0];
    const shape = input ?? recorded ?? (spec !== undefined && channels !== undefined ? [channels, spec.inputShape[1], spec.inputShape[2]] : undefined);
    if (shape === undefined) throw new ValueError(`checkpoint ${name} holds model '${header.model}', whose input shape is not known; pass --input CxHxW`);
    return { model, input: shape, meta: header.meta as Record<string, unknown>, modelName: header.model };
  }
  // A name or a layer pattern (a malformed one is reported with a caret under the mistake), built for the input given.
  const spec = getModelSpec(name);
  const shape = input ?? [...spec.inputShape];
  const model = createModel(name, shape.length === 3 ? { inputShape: shape } : {});
  return { model, input: shape, modelName: name };
}

export async function runSummary(options: SummaryCommandOptions, io: CliIO = consoleIO()): Promise<ModelSummary> {
  const { model, input } = await resolveModel(options.model, options.input);
  const s = summary(model, input, { name: options.model });
  io.out(options.json ? JSON.stringify(s) : formatSummary(s, { blocks: options.blocks ?? false }));
  return s;
}
