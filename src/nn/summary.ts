/**
 * summary(model, inputShape): what a network is made of, layer by layer, with
 * the counts the lectures ask for (weights per neuron, neurons, connections,
 * independent parameters), PyTorch-style parameter totals, multiply-
 * accumulates, the receptive field of one output unit and the activation
 * memory of one image; formatSummary prints it as an aligned table.
 *
 * How it is computed. One forward of a zero image (batch of 1, eval mode, the
 * modules' training flags restored afterwards) runs with every leaf module's
 * forward wrapped on the instance (restored in `finally`), so any model is
 * traced as it really runs: Sequential, Graph, Residual, and models that call
 * functional ops inside their own forward (torchvision's ResNets add the
 * shortcut with F.add). Each call of a leaf is one row, named by its
 * state-dict prefix ('features.10', 'layer1.0.conv1'); a module called twice
 * has two rows, its parameters counted on the first, and a module held in
 * two places is named where it is first found. A module that implements
 * describeLayer is a leaf even when it has children. The modules that hold
 * layers are wrapped too: each of their calls is a block (Sequential,
 * residual block) with its output, totals and its output's receptive field,
 * which the table shows indented by depth with formatSummary's { blocks }.
 * A module that runs layers it does not hold as children (an imported ONNX
 * graph, whose nodes are not modules of the state tree) lists them with
 * `summaryLayers()`: those are its rows, one level below it, and its
 * children are not traced.
 *
 * Receptive fields (describe.ts, AxisField: unit i of an axis sees the input
 * pixels start + i*jump .. start + i*jump + size - 1, start being the first
 * pixel, so a 3x3 convolution then 2x2 pooling sees 4 = P + K - 1 pixels) are
 * attached to tensors as they are made: the input has { size 1, jump 1,
 * start 0 } per axis; a leaf maps its inputs' fields through its window
 * (windowField), its `field` function, or the union of the whole input
 * (`global`, and any layer whose output has no height and width, such as
 * Flatten: a linear layer after it sees the whole covered field); other
 * layers keep the field. Tensors made by functional ops outside any leaf (the
 * residual add) get theirs from the autograd graph: the input requires grad,
 * so each such tensor records its inputs, and their fields are merged. The
 * merge of several branches is their union: the smallest start, and the size
 * that covers every branch's field for every output unit; the jumps of
 * branches of one shape agree in practice, and where they do not (an
 * up-sampled branch merged with a strided one) the merged jump is the
 * largest. A branch with one unit along an axis (a broadcast, as in
 * squeeze-and-excitation) sees the same pixels for every output unit. An
 * undescribed layer or functional op that changes the height or width is
 * given the whole covered field, and the summary says so in `warnings`.
 *
 * Counts. parameters: the row module's own (all of a leaf's), trainable
 * those that require grad; neurons: the output's units; connections and
 * multiply-accumulates: from describeLayer (undescribed layers: 0);
 * weightsPerNeuron = connections / neurons. Totals: the model's distinct
 * parameters (shared ones once, whether or not a traced layer holds them),
 * the sum of the rows' multiply-accumulates, FLOPs = 2 x MACs, and the
 * activation memory: the bytes of every row's output for one image (what the
 * layers produce; tensors made by functional ops between layers, like the
 * residual sums, are not in it).
 */
import { enableGrad } from '../autograd/index.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor, shapeSize, zeros } from '../tensor/tensor.js';
import { checkOptions } from '../validate.js';
import { isDescribedLayer, wholeAxisField, windowField, type AxisField, type LayerCounts } from './describe.js';
import { Module } from './module.js';

/** A receptive field, each pair [height, width] (describe.ts, AxisField). */
export interface ReceptiveField {
  size: [number, number];
  jump: [number, number];
  start: [number, number];
}

/** One row: one call of a leaf module. Shapes are for one image (no batch axis). */
export interface LayerSummary {
  /** The state-dict prefix ('features.10'); '' for a model that is a single layer. */
  name: string;
  /** The class name ('Conv2d'). */
  type: string;
  outputShape: number[];
  params: number;
  trainableParams: number;
  /** Output units. */
  neurons: number;
  /** connections / neurons: the inputs one unit sees, plus its bias (76 for a 5x5x3 filter). */
  weightsPerNeuron: number;
  connections: number;
  /** Multiply-accumulates of one image (convolution and linear layers; bias additions not counted). */
  macs: number;
  flops: number;
  /** The receptive field of one output unit in the input image. */
  receptiveField: ReceptiveField;
  /** Bytes of the output for one image. */
  activationBytes: number;
  /** Nesting depth of the module in the model (a top-level child is 1). */
  depth: number;
}

export interface ModelSummary {
  /** The model's name: as given, else its class name. */
  model: string;
  /** The input shape of one image, [C, H, W]. */
  input: number[];
  layers: LayerSummary[];
  totalParams: number;
  trainableParams: number;
  macs: number;
  flops: number;
  /** The sum of the rows' output bytes for one image. */
  activationBytes: number;
  /** Bytes of one input image. */
  inputBytes: number;
  /** What could not be computed exactly (receptive fields of undescribed layers that resize the image). */
  warnings: string[];
  /** The calls of the modules that hold layers (Sequential, residual blocks), in the order of their first row, outer ones first. */
  blocks: BlockSummary[];
}

/** One call of a module that holds layers: its totals over the rows the call made. */
export interface BlockSummary {
  name: string;
  type: string;
  depth: number;
  outputShape: number[];
  /** All its parameters (its layers' and its own). */
  params: number;
  macs: number;
  /** The receptive field of one unit of its output. */
  receptiveField: ReceptiveField;
  /** Its rows: layers[first] .. layers[end - 1]. */
  layers: [number, number];
}

export interface SummaryOptions {
  /** The name the summary gives the model (default: its class name). */
  name?: string;
}

/** A tensor's receptive field and its units along height and width (1 and 1 once they are flattened). */
interface Field {
  axes: [AxisField, AxisField];
  lengths: [number, number];
}

const AXES = [0, 1] as const;

/** Height and width of a batched tensor: [N, C, H, W] -> [H, W]; [N, C, L] -> [1, L]; fewer axes: none. */
function spatialLengths(shape: readonly number[]): [number, number] | null {
  if (shape.length < 3) return null;
  return [shape.length >= 4 ? shape[shape.length - 2] : 1, shape[shape.length - 1]];
}

/** The union of the whole field: what one unit seeing all of it sees. */
function globalField(f: Field): Field {
  return { axes: [wholeAxisField(f.axes[0], f.lengths[0]), wholeAxisField(f.axes[1], f.lengths[1])], lengths: [1, 1] };
}

/** The union of branches' fields for an output with `lengths` units (see the file comment). */
function mergeFields(parts: readonly Field[], lengths: [number, number]): Field {
  if (parts.length === 1) return parts[0];
  const axes = AXES.map((a): AxisField => {
    const branches = parts.map((p) => ({ ...p.axes[a], jump: p.lengths[a] > 1 ? p.axes[a].jump : 0 }));
    const extent = (i: number) =>
      Math.max(...branches.map((b) => b.start + i * b.jump + b.size)) - Math.min(...branches.map((b) => b.start + i * b.jump));
    const moving = branches.filter((b) => b.jump > 0);
    return {
      size: Math.max(extent(0), extent(Math.max(lengths[a] - 1, 0))),
      jump: moving.length ? Math.max(...moving.map((b) => b.jump)) : parts[0].axes[a].jump,
      start: Math.min(...branches.map((b) => b.start)),
    };
  });
  return { axes: [axes[0], axes[1]], lengths };
}

/** A layer's output field from its input's, its description and its output shape (batched); null when the geometry is unknown. */
function layerField(input: Field, counts: LayerCounts | null, outShape: readonly number[]): Field | null {
  const lengths = spatialLengths(outShape);
  let out: Field;
  if (counts?.global) out = globalField(input);
  else if (counts?.field) {
    const f = counts.field;
    out = { axes: [f(input.axes[0], 0, input.lengths[0]), f(input.axes[1], 1, input.lengths[1])], lengths: lengths ?? [1, 1] };
  } else if (counts?.window) {
    const w = counts.window;
    const axis = (a: 0 | 1) => windowField(input.axes[a], w.kernel[a], w.stride[a], w.padding[a], w.dilation[a]);
    out = { axes: [axis(0), axis(1)], lengths: lengths ?? [1, 1] };
  } else if (lengths === null) out = globalField(input);
  else if (lengths[0] === input.lengths[0] && lengths[1] === input.lengths[1]) out = { axes: input.axes, lengths };
  else return null;
  // Units without a height and width no longer have a position: they see the whole covered field.
  return lengths === null ? globalField(out) : { axes: out.axes, lengths };
}

function checkInputShape(inputShape: readonly number[]): number[] {
  const ok = Array.isArray(inputShape) && inputShape.length >= 1 && inputShape.length <= 3 && inputShape.every((v) => Number.isSafeInteger(v) && v >= 1);
  if (!ok) {
    throw new ValueError(`summary: inputShape must be one image's shape, [channels, height, width] (or [features]) of positive integers, such as [3, 224, 224]; got ${JSON.stringify(inputShape)}`);
  }
  return [...inputShape];
}

/**
 * The modules of the trace with names and depths, outermost first: leaves
 * (modules without children, or describing themselves) give rows, the others
 * (below the model) blocks.
 */
/** A module that lists the layers it runs itself (see the file comment). */
export interface RunsOwnLayers {
  summaryLayers(): Iterable<readonly [string, Module]>;
}

function runsOwnLayers(m: Module): m is Module & RunsOwnLayers {
  return typeof (m as Partial<RunsOwnLayers>).summaryLayers === 'function';
}

function tracedModules(model: Module): { name: string; module: Module; depth: number; leaf: boolean }[] {
  const out: { name: string; module: Module; depth: number; leaf: boolean }[] = [];
  const seen = new Set<Module>();
  const visit = (name: string, m: Module, depth: number) => {
    // A module held in two places is one layer, named where it is first found (as PyTorch's named_modules).
    if (seen.has(m)) return;
    seen.add(m);
    if (runsOwnLayers(m)) {
      if (depth > 0) out.push({ name, module: m, depth, leaf: false });
      for (const [layer, l] of m.summaryLayers()) out.push({ name: name ? `${name}.${layer}` : layer, module: l, depth: depth + 1, leaf: true });
      return;
    }
    const children = [...m.namedChildren()];
    const leaf = children.length === 0 || isDescribedLayer(m);
    if (leaf || depth > 0) out.push({ name, module: m, depth, leaf });
    if (leaf) return;
    for (const [child, c] of children) visit(name ? `${name}.${child}` : child, c, depth + 1);
  };
  visit('', model, 0);
  return out;
}

/** Traces one forward of a zero image through `model` and counts each layer (see the file comment). */
export function summary(model: Module, inputShape: readonly number[], options: SummaryOptions = {}): ModelSummary {
  if (!(model instanceof Module)) throw new ValueError(`summary: model must be a Module (an nn layer or a model), got ${model === null ? 'null' : typeof model}`);
  const input = checkInputShape(inputShape);
  if (options === null || typeof options !== 'object') throw new ValueError(`summary: options must be an object such as { name: 'lenet5' }, got ${JSON.stringify(options)}`);
  checkOptions('summary', options, ['name']);
  if (options.name !== undefined && typeof options.name !== 'string') throw new ValueError(`summary: options.name must be a string, got ${JSON.stringify(options.name)}`);

  const fields = new WeakMap<Tensor, Field>();
  const fieldless = new WeakSet<Tensor>();
  const warnings: string[] = [];
  const layers: LayerSummary[] = [];
  const counted = new Set<Tensor>();

  /** The field of a tensor: attached by a layer, or merged from the inputs the autograd graph records. */
  const fieldOf = (t: Tensor): Field | undefined => {
    const known = fields.get(t);
    if (known || fieldless.has(t)) return known;
    const parts = (t.gradFn?.inputs ?? []).map(fieldOf).filter((f): f is Field => f !== undefined);
    if (parts.length === 0) {
      fieldless.add(t);
      return undefined;
    }
    const lengths = spatialLengths(t.shape);
    const merged = mergeFields(parts, lengths ?? [Math.max(...parts.map((p) => p.lengths[0])), Math.max(...parts.map((p) => p.lengths[1]))]);
    let f = layerField(merged, null, t.shape);
    if (f === null) {
      warnings.push(`a ${t.gradFn!.name} outside any layer turns ${merged.lengths.join('x')} units into ${lengths!.join('x')}: its receptive field is taken as the whole covered field`);
      f = { ...globalField(merged), lengths: lengths! };
    }
    fields.set(t, f);
    return f;
  };

  const record = (name: string, module: Module, depth: number, args: unknown[], out: Tensor) => {
    const inputs = args.filter((a): a is Tensor => a instanceof Tensor);
    const inShape = (inputs[0] ?? out).shape.slice(1);
    const outShape = out.shape.slice(1);
    const counts = isDescribedLayer(module) ? module.describeLayer(inShape, outShape) : null;
    const parts = inputs.map(fieldOf).filter((f): f is Field => f !== undefined);
    const lengths = spatialLengths(out.shape);
    let field: Field | null = null;
    if (parts.length) {
      const merged = mergeFields(parts, [Math.max(...parts.map((p) => p.lengths[0])), Math.max(...parts.map((p) => p.lengths[1]))]);
      field = layerField(merged, counts, out.shape);
      if (field === null) {
        warnings.push(`${name || '(model)'} (${module.constructor.name}) turns ${merged.lengths.join('x')} units into ${lengths!.join('x')} without describing its window (describeLayer): its receptive field is taken as the whole covered field`);
        field = { ...globalField(merged), lengths: lengths! };
      }
      fields.set(out, field);
    }
    let params = 0;
    let trainable = 0;
    for (const [, p] of module.namedParameters()) {
      if (counted.has(p)) continue;
      counted.add(p);
      params += p.size;
      if (p.requiresGrad) trainable += p.size;
    }
    const neurons = shapeSize(outShape);
    const connections = counts?.connections ?? 0;
    const macs = counts?.macs ?? 0;
    const rf = field?.axes ?? [{ size: 1, jump: 1, start: 0 }, { size: 1, jump: 1, start: 0 }];
    layers.push({
      name, type: (isDescribedLayer(module) ? module.layerType : undefined) ?? module.constructor.name, outputShape: outShape, params, trainableParams: trainable, neurons,
      weightsPerNeuron: neurons ? connections / neurons : 0, connections, macs, flops: 2 * macs,
      receptiveField: { size: [rf[0].size, rf[1].size], jump: [rf[0].jump, rf[1].jump], start: [rf[0].start, rf[1].start] },
      activationBytes: out.size * out.data.BYTES_PER_ELEMENT, depth,
    });
  };

  const blocks: BlockSummary[] = [];
  /** A block's call: its output's shape and field, its parameters, and the rows its call made. */
  const recordBlock = (name: string, module: Module, depth: number, first: number, out: Tensor) => {
    const rf = fieldOf(out)?.axes ?? [{ size: 1, jump: 1, start: 0 }, { size: 1, jump: 1, start: 0 }];
    const params = new Set(module.parameters());
    const rows = layers.slice(first);
    blocks.push({
      name, type: module.constructor.name, depth, outputShape: out.shape.slice(1),
      params: [...params].reduce((n, p) => n + p.size, 0),
      macs: rows.reduce((n, l) => n + l.macs, 0),
      receptiveField: { size: [rf[0].size, rf[1].size], jump: [rf[0].jump, rf[1].jump], start: [rf[0].start, rf[1].start] },
      layers: [first, layers.length],
    });
  };
  const traced = tracedModules(model);
  const modes = [...model.namedModules()].map(([, m]) => [m, m.training] as const);
  const wrapped: { module: Module; own: boolean; forward: Module['forward'] }[] = [];
  const x = zeros([1, ...input], { requiresGrad: true });
  const inputLengths = spatialLengths(x.shape) ?? [1, 1];
  fields.set(x, { axes: [{ size: 1, jump: 1, start: 0 }, { size: 1, jump: 1, start: 0 }], lengths: inputLengths });
  try {
    model.eval();
    for (const { name, module, depth, leaf } of traced) {
      const forward = module.forward;
      wrapped.push({ module, own: Object.prototype.hasOwnProperty.call(module, 'forward'), forward });
      module.forward = (...args: Tensor[]): Tensor => {
        const first = layers.length;
        const out = forward.apply(module, args);
        if (out instanceof Tensor) {
          if (leaf) record(name, module, depth, args, out);
          else recordBlock(name, module, depth, first, out);
        }
        return out;
      };
    }
    const out = enableGrad(() => model.forward(x));
    if (!(out instanceof Tensor)) throw new ValueError(`summary: ${model.constructor.name}.forward returned ${typeof out}, not a Tensor`);
  } catch (err) {
    if (err instanceof ShapeError) throw new ShapeError(`summary: ${model.constructor.name} does not run on one image of shape ${fmtShape(input)}: ${err.message}`);
    throw err;
  } finally {
    for (const w of wrapped) {
      if (w.own) w.module.forward = w.forward;
      else Reflect.deleteProperty(w.module, 'forward');
    }
    for (const [m, training] of modes) m.training = training;
  }

  const distinct = new Set(model.parameters());
  let totalParams = 0;
  let trainableParams = 0;
  for (const p of distinct) {
    totalParams += p.size;
    if (p.requiresGrad) trainableParams += p.size;
  }
  const macs = layers.reduce((n, l) => n + l.macs, 0);
  return {
    model: options.name ?? model.constructor.name,
    input,
    layers,
    totalParams,
    trainableParams,
    macs,
    flops: 2 * macs,
    activationBytes: layers.reduce((n, l) => n + l.activationBytes, 0),
    inputBytes: x.size * x.data.BYTES_PER_ELEMENT,
    warnings,
    blocks: blocks.sort((a, b) => a.layers[0] - b.layers[0] || a.depth - b.depth),
  };
}

const GROUPED = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** A count with thousands separators: 105,705,600; fractions to two places. */
function count(n: number): string {
  return GROUPED.format(n);
}

/** A large count in units: 1.81 G, 416.52 K. */
function scaled(n: number): string {
  for (const [unit, size] of [['T', 1e12], ['G', 1e9], ['M', 1e6], ['K', 1e3]] as const) if (n >= size) return `${(n / size).toFixed(2)} ${unit}`;
  return String(n);
}

/** Bytes in binary units: 18.38 KiB. */
function bytes(n: number): string {
  for (const [unit, size] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) if (n >= size) return `${(n / size).toFixed(2)} ${unit}`;
  return `${n} B`;
}

/** A [h, w] pair as one number when both agree, else joined by `sep`. */
function pairText(v: readonly [number, number], sep: string): string {
  const fmt = (x: number) => String(Number.isInteger(x) ? x : Number(x.toFixed(3)));
  return v[0] === v[1] ? fmt(v[0]) : `${fmt(v[0])}${sep}${fmt(v[1])}`;
}

/** The columns of the table: header, and cell text of a layer and of a block ('-' where a block has no such total). */
const COLUMNS: readonly [string, (l: LayerSummary) => string, (b: BlockSummary) => string][] = [
  ['Layer', (l) => l.name || '(model)', (b) => b.name],
  ['Type', (l) => l.type, (b) => b.type],
  ['Output', (l) => l.outputShape.join('x'), (b) => b.outputShape.join('x')],
  ['Params', (l) => count(l.params), (b) => count(b.params)],
  ['Neurons', (l) => count(l.neurons), () => '-'],
  ['Weights/neuron', (l) => count(l.weightsPerNeuron), () => '-'],
  ['Connections', (l) => count(l.connections), () => '-'],
  ['MACs', (l) => count(l.macs), (b) => count(b.macs)],
  ['RF', (l) => pairText(l.receptiveField.size, 'x'), (b) => pairText(b.receptiveField.size, 'x')],
  ['Jump', (l) => pairText(l.receptiveField.jump, 'x'), (b) => pairText(b.receptiveField.jump, 'x')],
  ['Start', (l) => pairText(l.receptiveField.start, ','), (b) => pairText(b.receptiveField.start, ',')],
  ['Memory', (l) => bytes(l.activationBytes), () => '-'],
];

export interface FormatSummaryOptions {
  /**
   * Also a row per block (each Sequential, residual block... call) before its
   * layers, with its output, its parameters and multiply-accumulates in total
   * and its output's receptive field; names indented by depth (default false).
   */
  blocks?: boolean;
}

/**
 * The summary as a table for people, as torchinfo prints one: a row per
 * layer call, columns left-aligned two spaces apart, then the totals. RF,
 * Jump and Start are the receptive field of one output unit in input pixels
 * (one number when height and width agree; Start is the first pixel of the
 * first unit's field, negative inside the padding).
 */
export function formatSummary(s: ModelSummary, options: FormatSummaryOptions = {}): string {
  if (s === null || typeof s !== 'object' || !Array.isArray(s.layers)) throw new ValueError('formatSummary: expects the object summary() returns');
  if (options === null || typeof options !== 'object') throw new ValueError(`formatSummary: options must be an object such as { blocks: true }, got ${JSON.stringify(options)}`);
  checkOptions('formatSummary', options, ['blocks']);
  const withBlocks = options.blocks ?? false;
  if (typeof withBlocks !== 'boolean') throw new ValueError(`formatSummary: options.blocks must be a boolean, got ${JSON.stringify(withBlocks)}`);
  const indent = (depth: number, row: string[]) => (withBlocks ? [' '.repeat(2 * Math.max(depth - 1, 0)) + row[0], ...row.slice(1)] : row);
  const blocks = withBlocks ? (s.blocks ?? []) : [];
  const cells = s.layers.flatMap((l, i) => [
    ...blocks.filter((b) => b.layers[0] === i).map((b) => indent(b.depth, COLUMNS.map(([, , cell]) => cell(b)))),
    indent(l.depth, COLUMNS.map(([, cell]) => cell(l))),
  ]);
  const widths = COLUMNS.map(([header], i) => Math.max(header.length, ...cells.map((row) => row[i].length)));
  const line = (row: readonly string[]) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const header = line(COLUMNS.map(([h]) => h));
  const rule = (ch: string) => ch.repeat(Math.max(header.length, ...cells.map((r) => line(r).length)));
  const nonTrainable = s.totalParams - s.trainableParams;
  const out = [
    `${s.model} on one ${s.input.join('x')} input`,
    rule('='),
    header,
    rule('='),
    ...cells.map(line),
    rule('='),
    `Total params: ${count(s.totalParams)} (${bytes(s.totalParams * 4)} as float32)`,
    `Trainable params: ${count(s.trainableParams)}`,
    `Non-trainable params: ${count(nonTrainable)}`,
    `Multiply-accumulates (MACs): ${count(s.macs)} (${scaled(s.macs)}); FLOPs = 2 x MACs = ${count(s.flops)} (${scaled(s.flops)})`,
    `Input: ${bytes(s.inputBytes)}; layer outputs (one image): ${bytes(s.activationBytes)}`,
    rule('='),
  ];
  for (const w of s.warnings ?? []) out.push(`warning: ${w}`);
  return out.join('\n');
}
