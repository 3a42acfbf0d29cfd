/**
 * `stride export`: a model to files another framework runs. `--format onnx`
 * writes the traced inference graph (exportOnnx) with the weights inside, for
 * onnxruntime, Triton, browsers. `--format pytorch` writes a folder with
 * model.py (a torch.nn.Module building the same network, exportPytorch) and
 * weights.safetensors (PyTorch's state-dict names), to train at scale in
 * PyTorch and come back with `stride train --init`. Files are written
 * atomically.
 */
import { join } from 'node:path';

import { ONNX_EXPORT_OPSETS, ValueError, encodeOnnx, encodeSafetensors, exportOnnxModel, exportPytorch } from '../index.js';
import { ensureFolder, writeFileAtomic } from '../node.js';
import { consoleIO, type CliIO } from './io.js';
import { BACKEND_OPTIONS, integer, jsonOption, oneOf, option, withDefaults, type CliCommand, type OptionValues } from './options.js';
import { parseInputShape, resolveModel } from './summary.js';

const EXPORT_FORMATS = ['onnx', 'pytorch'] as const;

/** The options of `stride export` (without --backend, --threads, --json). */
export const EXPORT_OPTIONS = {
  model: option({
    flags: '--model <path>', help: 'what to export: saved weights (a folder holding model.stride or model.safetensors, or the file), or a model name or layer pattern (freshly initialized)',
    parse: (path) => path, metavar: 'PATH', required: true,
  }),
  format: option({
    flags: '--format <name>', help: 'onnx: the inference graph with its weights (one file); pytorch: model.py and weights.safetensors (a folder)',
    parse: oneOf(EXPORT_FORMATS, 'format'), default: 'onnx', metavar: EXPORT_FORMATS.join('|'),
  }),
  out: option<string>({ flags: '--out <path>', help: 'the file (onnx) or folder (pytorch) to write', parse: (file) => file, required: true, metavar: 'PATH' }),
  input: option({
    flags: '--input <shape>', help: 'one input without the batch, CxHxW', parse: parseInputShape, metavar: 'CxHxW',
    defaultHelp: 'the one the checkpoint records, else the model\'s own',
  }),
  opset: option({
    flags: '--opset <n>', help: `ONNX operator set, ${ONNX_EXPORT_OPSETS.min} to ${ONNX_EXPORT_OPSETS.max} (onnx only)`, parse: integer(ONNX_EXPORT_OPSETS.min, `an opset from ${ONNX_EXPORT_OPSETS.min} to ${ONNX_EXPORT_OPSETS.max}`),
    defaultHelp: String(ONNX_EXPORT_OPSETS.default),
  }),
  batch: option({ flags: '--batch <n>', help: 'a fixed batch size instead of the symbolic N (onnx only)', parse: integer(1), defaultHelp: 'N, any batch' }),
};

/** `stride export`. */
export const EXPORT_COMMAND = {
  name: 'export',
  description: 'Write a model as an ONNX file (onnxruntime, Triton, browsers) or as PyTorch code with its weights',
  options: { ...EXPORT_OPTIONS, ...BACKEND_OPTIONS, json: jsonOption('format, path, bytes, parameters; onnx: opset, nodes, opTypes, input, output; pytorch: files, className') },
  afterHelp: `
The graph is traced in eval mode (dropout off, batch norm on its running
statistics), so it computes what the model computes at inference. The file's
metadata names the dataset and normalization a checkpoint records
(stride.dataset, stride.normalize), which stride eval reads. The input
is called "input" and the output "output"; the first dimension is the batch,
"N" unless --batch fixes it. The weights keep their state-dict names.
An ONNX file carries no preprocessing: feed it what the model was trained on
(for MNIST, (x - 0.1307) / 0.3081 with x in 0..1). Examples:
  stride export --model runs/lenet5-mnist/ --out lenet5.onnx
  stride export --model runs/lenet5-mnist/ --format pytorch --out lenet5-torch/
The PyTorch folder's model.py needs only torch; it reads and writes
.safetensors itself (load_safetensors, save_safetensors).`,
} satisfies CliCommand;

export type ExportCommandOptions = OptionValues<typeof EXPORT_OPTIONS>;

export interface ExportSummary {
  format: 'onnx' | 'pytorch';
  path: string;
  /** Bytes written (both files for pytorch). */
  bytes: number;
  parameters: number;
  opset?: number;
  nodes?: number;
  /** Each op type written, with how many nodes have it. */
  opTypes?: Record<string, number>;
  input?: (number | string)[];
  output?: (number | string)[];
  /** pytorch: the files written in the folder, and the module's class name. */
  files?: string[];
  className?: string;
}

export async function runExport(options: ExportCommandOptions, io: CliIO = consoleIO()): Promise<ExportSummary> {
  const given = withDefaults(EXPORT_OPTIONS, options) as ExportCommandOptions & { format: 'onnx' | 'pytorch' };
  if (given.model === undefined) throw new ValueError('stride export: name the model with --model (saved weights, or a model name)');
  if (given.out === undefined) throw new ValueError('stride export: name where to write with --out (a file for onnx, a folder for pytorch)');
  const { model, input, meta, modelName } = await resolveModel(given.model, given.input);
  const parameters = model.parameters().reduce((sum, t) => sum + t.size, 0);
  if (given.format === 'pytorch') {
    const onlyOnnx = (['opset', 'batch'] as const).filter((k) => given[k] !== undefined);
    if (onlyOnnx.length > 0) throw new ValueError(`--${onlyOnnx[0]} applies to --format onnx only; model.py takes any batch`);
    const e = exportPytorch(model, { inputShape: input });
    const code = new TextEncoder().encode(e.code);
    const weights = encodeSafetensors(e.stateDict);
    await ensureFolder(given.out, '--out', 'model.py and weights.safetensors');
    await writeFileAtomic(join(given.out, 'model.py'), code);
    await writeFileAtomic(join(given.out, 'weights.safetensors'), weights);
    io.out(`wrote ${join(given.out, 'model.py')} (class ${e.className}, ${code.length} bytes) and ${join(given.out, 'weights.safetensors')} (${Object.keys(e.stateDict).length} tensors, ${weights.length} bytes, ${parameters} parameters)`);
    io.out(`in Python: model = ${e.className}(); model.load_state_dict(load_safetensors("weights.safetensors"))`);
    return { format: 'pytorch', path: given.out, bytes: code.length + weights.length, parameters, files: ['model.py', 'weights.safetensors'], className: e.className };
  }
  const opset = given.opset ?? ONNX_EXPORT_OPSETS.default;
  if (opset > ONNX_EXPORT_OPSETS.max) throw new ValueError(`--opset ${opset}: Stride writes opsets ${ONNX_EXPORT_OPSETS.min} to ${ONNX_EXPORT_OPSETS.max}`);
  // what stride eval needs to feed the file as it was trained: the dataset and the normalization, when a checkpoint records them
  const metadata: Record<string, string> = { 'stride.model': modelName };
  if (typeof meta?.dataset === 'string') metadata['stride.dataset'] = meta.dataset;
  if (meta?.normalize !== undefined) metadata['stride.normalize'] = JSON.stringify(meta.normalize);
  const onnx = exportOnnxModel(model, { inputShape: input, opset, metadata, ...(given.batch !== undefined ? { dynamicBatch: false, batchSize: given.batch } : {}) });
  const bytes = encodeOnnx(onnx);
  await writeFileAtomic(given.out, bytes);
  const opTypes: Record<string, number> = {};
  for (const n of onnx.graph.nodes) opTypes[n.opType] = (opTypes[n.opType] ?? 0) + 1;
  const shape = (v: (number | string | null)[] | null) => (v ?? []).map((d) => d ?? '?');
  const summary: ExportSummary = {
    format: 'onnx', path: given.out, bytes: bytes.length, parameters, opset, nodes: onnx.graph.nodes.length, opTypes,
    input: shape(onnx.graph.inputs[0].shape), output: shape(onnx.graph.outputs[0].shape),
  };
  io.out(`wrote ${given.out}: ONNX opset ${opset}, ${bytes.length} bytes, ${summary.nodes} nodes, ${parameters} parameters`);
  io.out(`input [${summary.input!.join(', ')}] -> output [${summary.output!.join(', ')}]`);
  io.out(`nodes: ${Object.entries(opTypes).map(([op, n]) => (n === 1 ? op : `${op} x${n}`)).join(', ')}`);
  return summary;
}
