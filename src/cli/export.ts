/**
 * `stride export`: a model to a file another framework runs. `--format onnx`
 * writes the traced inference graph (exportOnnx) with the weights inside, for
 * onnxruntime, Triton, browsers; the file is written atomically.
 */
import { ONNX_EXPORT_OPSETS, ValueError, exportOnnxModel, encodeOnnx } from '../index.js';
import { writeFileAtomic } from '../node.js';
import { consoleIO, type CliIO } from './io.js';
import { BACKEND_OPTIONS, integer, jsonOption, oneOf, option, withDefaults, type CliCommand, type OptionValues } from './options.js';
import { parseInputShape, resolveModel } from './summary.js';

const EXPORT_FORMATS = ['onnx'] as const;

/** The options of `stride export` (without --backend, --threads, --json). */
export const EXPORT_OPTIONS = {
  model: option({
    flags: '--model <path>', help: 'what to export: saved weights (a folder holding model.stride or model.safetensors, or the file), or a model name or layer pattern (freshly initialized)',
    parse: (path) => path, metavar: 'PATH', required: true,
  }),
  format: option({ flags: '--format <name>', help: 'onnx: the inference graph with its weights', parse: oneOf(EXPORT_FORMATS, 'format'), default: 'onnx', metavar: EXPORT_FORMATS.join('|') }),
  out: option<string>({ flags: '--out <file>', help: 'the file to write (atomically)', parse: (file) => file, required: true, metavar: 'FILE' }),
  input: option({
    flags: '--input <shape>', help: 'one input without the batch, CxHxW', parse: parseInputShape, metavar: 'CxHxW',
    defaultHelp: 'the one the checkpoint records, else the model\'s own',
  }),
  opset: option({
    flags: '--opset <n>', help: `ONNX operator set, ${ONNX_EXPORT_OPSETS.min} to ${ONNX_EXPORT_OPSETS.max}`, parse: integer(ONNX_EXPORT_OPSETS.min, `an opset from ${ONNX_EXPORT_OPSETS.min} to ${ONNX_EXPORT_OPSETS.max}`),
    default: ONNX_EXPORT_OPSETS.default,
  }),
  batch: option({ flags: '--batch <n>', help: 'a fixed batch size instead of the symbolic N', parse: integer(1), defaultHelp: 'N, any batch' }),
};

/** `stride export`. */
export const EXPORT_COMMAND = {
  name: 'export',
  description: 'Write a model as an ONNX file for other runtimes (onnxruntime, Triton, browsers)',
  options: { ...EXPORT_OPTIONS, ...BACKEND_OPTIONS, json: jsonOption('path, bytes, opset, nodes, opTypes, input, output, parameters') },
  afterHelp: `
The graph is traced in eval mode (dropout off, batch norm on its running
statistics), so it computes what the model computes at inference. The input
is called "input" and the output "output"; the first dimension is the batch,
"N" unless --batch fixes it. The weights keep their state-dict names.
An ONNX file carries no preprocessing: feed it what the model was trained on
(for MNIST, (x - 0.1307) / 0.3081 with x in 0..1). Example:
  stride export --model runs/lenet5-mnist/ --out lenet5.onnx`,
} satisfies CliCommand;

export type ExportCommandOptions = OptionValues<typeof EXPORT_OPTIONS>;

export interface ExportSummary {
  path: string;
  bytes: number;
  opset: number;
  nodes: number;
  /** Each op type written, with how many nodes have it. */
  opTypes: Record<string, number>;
  input: (number | string)[];
  output: (number | string)[];
  parameters: number;
}

export async function runExport(options: ExportCommandOptions, io: CliIO = consoleIO()): Promise<ExportSummary> {
  const given = withDefaults(EXPORT_OPTIONS, options) as ExportCommandOptions & { format: 'onnx'; opset: number };
  if (given.model === undefined) throw new ValueError('stride export: name the model with --model (saved weights, or a model name)');
  if (given.out === undefined) throw new ValueError('stride export: name the file to write with --out FILE');
  if (given.opset > ONNX_EXPORT_OPSETS.max) throw new ValueError(`--opset ${given.opset}: Stride writes opsets ${ONNX_EXPORT_OPSETS.min} to ${ONNX_EXPORT_OPSETS.max}`);
  const { model, input } = await resolveModel(given.model, given.input);
  const onnx = exportOnnxModel(model, { inputShape: input, opset: given.opset, ...(given.batch !== undefined ? { dynamicBatch: false, batchSize: given.batch } : {}) });
  const bytes = encodeOnnx(onnx);
  await writeFileAtomic(given.out, bytes);
  const opTypes: Record<string, number> = {};
  for (const n of onnx.graph.nodes) opTypes[n.opType] = (opTypes[n.opType] ?? 0) + 1;
  const parameters = model.parameters().reduce((sum, t) => sum + t.size, 0);
  const shape = (v: (number | string | null)[] | null) => (v ?? []).map((d) => d ?? '?');
  const summary: ExportSummary = {
    path: given.out, bytes: bytes.length, opset: given.opset, nodes: onnx.graph.nodes.length, opTypes,
    input: shape(onnx.graph.inputs[0].shape), output: shape(onnx.graph.outputs[0].shape), parameters,
  };
  io.out(`wrote ${given.out}: ONNX opset ${given.opset}, ${bytes.length} bytes, ${summary.nodes} nodes, ${parameters} parameters`);
  io.out(`input [${summary.input.join(', ')}] -> output [${summary.output.join(', ')}]`);
  io.out(`nodes: ${Object.entries(opTypes).map(([op, n]) => (n === 1 ? op : `${op} x${n}`)).join(', ')}`);
  return summary;
}
