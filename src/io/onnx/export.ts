/**
 * exportOnnx: a model's inference graph as an ONNX file (isomorphic).
 *
 * The graph is traced (src/io/trace.ts), as torch.onnx.export traces: the model runs once in
 * eval mode on an input that requires a gradient, so every op on the way to
 * the output records itself (GradFn: its name, inputs and attributes), and
 * the recorded ops are written as ONNX nodes. A layer is thus exported
 * however its forward computes, functional calls included (a residual
 * block's add and ReLU). Tensors the ops read that are not computed from the
 * input are initializers: the parameters and buffers under their PyTorch
 * state-dict names (`bn1.running_mean` for Stride's `bn1.runningMean`, as
 * torch.onnx.export names them), any other constant as `const_<k>`.
 *
 * With `dynamicBatch` (the default) the input and output's first dimension is
 * the symbolic `N`: the trace runs on a batch of 2 so that the batch
 * dimension is told apart from the others, and a reshape that keeps it is
 * written with 0 there (ONNX's "copy this dimension"). A reshape that mixes
 * the batch with other dimensions cannot be written for any batch and is
 * refused (export with dynamicBatch: false and a fixed batch instead).
 *
 * The perceptron computes outside autograd (its output is a threshold of a
 * double-precision score, and it learns by its own rule), so it is not
 * traced: its graph is written as it computes, the input flattened and cast
 * to double, Gemm by the weight (as a row) plus the bias, Greater than 0,
 * cast back to float ([N] of 0s and 1s).
 *
 * Dropout is the identity at inference and leaves no node. An op without an
 * ONNX form at the opset asked for is refused, naming it and what would
 * export it.
 */
import { isPlaceholder } from '../../autograd/tape.js';
import { ShapeError, ValueError } from '../../errors.js';
import { Perceptron } from '../../models/perceptron.js';
import type { Module } from '../../nn/module.js';
import { pytorchName } from '../../nn/pytorch-names.js';
import type { Tensor, GradFn } from '../../tensor/tensor.js';
import { checkExportArgs, keepsBatch, symmetricPadding, traceModel, type Trace, type TracedConv } from '../trace.js';
import { encodeOnnx, ONNX_DTYPE, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor } from './proto.js';

/** The opsets exportOnnx writes: 13 (the default, what every current runtime reads) to 21. */
export const ONNX_EXPORT_OPSETS = { min: 13, max: 21, default: 13 } as const;
/** The IR version written for each opset (onnx's VERSION_TABLE: opset 13-14 IR 7, 15-18 IR 8, 19-20 IR 9, 21 IR 10). */
function irVersionFor(opset: number): number {
  return opset <= 14 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

export interface ExportOnnxOptions {
  /** One input, without the batch: [C, H, W] for images ([D] for a flat input). */
  inputShape: readonly number[];
  /** The ONNX operator set (default 13). */
  opset?: number;
  /** A symbolic batch dimension 'N' (default true); false fixes it to `batchSize`. */
  dynamicBatch?: boolean;
  /** The batch of a fixed-batch export (default 1; only with dynamicBatch false). */
  batchSize?: number;
  /** The graph's name (default the model's class name). */
  name?: string;
  /** Strings kept in the file's metadata_props. */
  metadata?: Record<string, string>;
}

const OPTION_KEYS = ['inputShape', 'opset', 'dynamicBatch', 'batchSize', 'name', 'metadata'];

/** The ONNX model of `model` (see the file comment), as bytes. */
export function exportOnnx(model: Module, options: ExportOnnxOptions): Uint8Array {
  return encodeOnnx(exportOnnxModel(model, options));
}

/** exportOnnx's model before encoding: the graph as plain objects. */
export function exportOnnxModel(model: Module, options: ExportOnnxOptions): OnnxModel {
  const inputShape = checkExportArgs('exportOnnx', model, options, OPTION_KEYS);
  const opset = options.opset ?? ONNX_EXPORT_OPSETS.default;
  if (!Number.isInteger(opset) || opset < ONNX_EXPORT_OPSETS.min || opset > ONNX_EXPORT_OPSETS.max) {
    throw new ValueError(`exportOnnx: opset must be an integer from ${ONNX_EXPORT_OPSETS.min} to ${ONNX_EXPORT_OPSETS.max}, got ${JSON.stringify(opset)}`);
  }
  const dynamicBatch = options.dynamicBatch ?? true;
  if (typeof dynamicBatch !== 'boolean') throw new ValueError(`exportOnnx: dynamicBatch must be true or false, got ${JSON.stringify(dynamicBatch)}`);
  if (dynamicBatch && options.batchSize !== undefined) throw new ValueError('exportOnnx: batchSize fixes the batch; it goes with dynamicBatch: false');
  const batch = dynamicBatch ? 2 : options.batchSize ?? 1;
  if (!Number.isSafeInteger(batch) || batch < 1) throw new ValueError(`exportOnnx: batchSize must be a positive integer, got ${JSON.stringify(options.batchSize)}`);
  const metadata = options.metadata ?? {};
  if (metadata === null || typeof metadata !== 'object' || !Object.values(metadata).every((v) => typeof v === 'string')) {
    throw new ValueError('exportOnnx: metadata must map names to strings');
  }

  const batchDim = dynamicBatch ? 'N' : batch;
  let graph: { nodes: OnnxNode[]; initializers: OnnxTensor[]; out: string; outShape: number[] };
  if (model instanceof Perceptron) graph = perceptronGraph(model, inputShape);
  else {
    const trace = traceModel('exportOnnx', model, inputShape, batch, dynamicBatch);
    const writer = new GraphWriter(opset, trace);
    const out = writer.write();
    graph = { nodes: writer.nodes, initializers: writer.initializers, out, outShape: trace.output.shape.slice(1) };
  }
  return {
    irVersion: irVersionFor(opset),
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'stride',
    producerVersion: '',
    docString: '',
    metadata,
    graph: {
      name: options.name ?? model.constructor.name,
      nodes: graph.nodes,
      initializers: graph.initializers,
      inputs: [{ name: 'input', elemType: ONNX_DTYPE.FLOAT, shape: [batchDim, ...inputShape] }],
      outputs: [{ name: graph.out, elemType: ONNX_DTYPE.FLOAT, shape: [batchDim, ...graph.outShape] }],
    },
  };
}

/** The perceptron's graph, written as it computes (see the file comment); its output is [N]. */
function perceptronGraph(model: Perceptron, inputShape: readonly number[]): { nodes: OnnxNode[]; initializers: OnnxTensor[]; out: string; outShape: number[] } {
  const features = inputShape.reduce((p, d) => p * d, 1);
  if (features !== model.inFeatures) {
    throw new ShapeError(`exportOnnx: the perceptron takes ${model.inFeatures} values per sample; inputShape [${inputShape.join(', ')}] holds ${features}`);
  }
  const nodes: OnnxNode[] = [];
  const node = (opType: string, inputs: string[], attributes: Attrs = {}): string => {
    const name = `/${opType}_${nodes.length}`;
    nodes.push({ name, opType, domain: '', inputs, outputs: [`${name}_output`], attributes });
    return `${name}_output`;
  };
  const toDouble = (x: string) => node('Cast', [x], { to: int(ONNX_DTYPE.DOUBLE) });
  const flat = node('Flatten', ['input'], { axis: int(1) });
  // w . x + b for each sample: Gemm with the weight as the one row of B, [N, 1]
  const row = node('Reshape', [toDouble('weight'), 'weight_row_shape']);
  const score = node('Gemm', [toDouble(flat), row, toDouble('bias')], { transB: int(1) });
  const fires = node('Greater', [score, toDouble('zero')]);
  const out = node('Reshape', [node('Cast', [fires], { to: int(ONNX_DTYPE.FLOAT) }), 'flat_shape']);
  const initializers: OnnxTensor[] = [
    { name: 'weight', dataType: ONNX_DTYPE.FLOAT, dims: [features], floats: Float32Array.from(model.weight.data) },
    { name: 'bias', dataType: ONNX_DTYPE.FLOAT, dims: [1], floats: Float32Array.from(model.bias.data) },
    { name: 'zero', dataType: ONNX_DTYPE.FLOAT, dims: [], floats: Float32Array.of(0) },
    { name: 'weight_row_shape', dataType: ONNX_DTYPE.INT64, dims: [2], ints: [1, features] },
    { name: 'flat_shape', dataType: ONNX_DTYPE.INT64, dims: [1], ints: [-1] },
  ];
  return { nodes, initializers, out, outShape: [] };
}

type Attrs = Record<string, OnnxAttribute>;

const ints = (value: readonly number[]): OnnxAttribute => ({ type: 'ints', value: [...value] });
const int = (value: number): OnnxAttribute => ({ type: 'int', value });
const float = (value: number): OnnxAttribute => ({ type: 'float', value });
const str = (value: string): OnnxAttribute => ({ type: 'string', value });

/** Writes the traced ops as ONNX nodes, naming every value once. */
class GraphWriter {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly valueNames = new Map<Tensor, string>();
  /** The traced tensors computed from the input (the others are constants, parameters or computed from them only). */
  readonly fromInput: ReadonlySet<Tensor>;
  private readonly counts = new Map<string, number>();
  private constants = 0;
  /** The module path of the op being written ('' for the model's own ops). */
  private scope = '';

  constructor(
    readonly opset: number,
    private readonly trace: Trace,
  ) {
    this.valueNames.set(trace.input, 'input');
    this.fromInput = trace.fromInput;
  }

  /** Writes the traced graph; returns the name of its output. */
  write(): string {
    for (const t of this.trace.ops) {
      this.scope = this.trace.scopes.get(t) ?? '';
      this.valueNames.set(t, this.op(t, t.gradFn!));
    }
    const y = this.trace.output;
    const name = this.valueNames.get(y)!;
    // the graph's output is called 'output'
    const last = this.nodes[this.nodes.length - 1];
    if (last !== undefined && last.outputs[0] === name) {
      last.outputs[0] = 'output';
      this.valueNames.set(y, 'output');
      return 'output';
    }
    this.node('Identity', [name], {}, 'output');
    return 'output';
  }

  /** The name of a value: a computed one, the input, a parameter or buffer (an initializer under its state-dict name), or a new constant. */
  name(t: Tensor): string {
    const known = this.valueNames.get(t);
    if (known !== undefined) return known;
    const state = this.trace.stateNames.get(t);
    const name = state !== undefined ? pytorchName(state) : `const_${this.constants++}`;
    this.initializers.push({ name, dataType: t.dtype === 'float64' ? ONNX_DTYPE.DOUBLE : ONNX_DTYPE.FLOAT, dims: [...t.shape], floats: t.data });
    this.valueNames.set(t, name);
    return name;
  }

  /** A constant tensor of int64 values (shapes, axes, pads), as an initializer. */
  intConstant(values: readonly number[], dims: number[] = [values.length]): string {
    const name = `const_${this.constants++}`;
    this.initializers.push({ name, dataType: ONNX_DTYPE.INT64, dims, ints: [...values] });
    return name;
  }

  /** A constant float tensor (a scalar by default). */
  floatConstant(values: readonly number[], dims: number[] = []): string {
    const name = `const_${this.constants++}`;
    this.initializers.push({ name, dataType: ONNX_DTYPE.FLOAT, dims, floats: Float32Array.from(values) });
    return name;
  }

  /** Appends a node; returns its output's name (`output`, or a new one). */
  node(opType: string, inputs: string[], attributes: Attrs = {}, output?: string): string {
    // named as torch.onnx.export names nodes: the module's path, then the op ('/layer1/0/conv1/Conv'), unique by a count
    const base = `${this.scope === '' ? '' : `/${this.scope.split('.').join('/')}`}/${opType}`;
    const k = this.counts.get(base) ?? 0;
    this.counts.set(base, k + 1);
    const name = k === 0 ? base : `${base}_${k}`;
    const out = output ?? `${name}_output`;
    this.nodes.push({ name, opType, domain: '', inputs, outputs: [out], attributes });
    return out;
  }

  /** The nodes of one recorded op; returns the name of its result. */
  private op(out: Tensor, fn: GradFn): string {
    const convert = CONVERTERS[fn.name];
    if (convert === undefined) {
      throw new ValueError(
        `exportOnnx: op '${fn.name}' (making a tensor of shape [${out.shape.join(', ')}]) has no ONNX form in Stride's exporter; ` +
          `the ops it writes are ${Object.keys(CONVERTERS).sort().join(', ')}`,
      );
    }
    const inputs = fn.inputs.map((t) => (isPlaceholder(t) ? null : t));
    return convert(this, out, inputs, (fn.attrs ?? {}) as Record<string, unknown>);
  }

  /** A reshape's target shape for ONNX: 0 where the traced batch is kept (dynamic batch), else the traced size. */
  reshapeTarget(x: Tensor, to: readonly number[]): number[] {
    return keepsBatch('exportOnnx', this.trace, x, to) ? [0, ...to.slice(1)] : [...to];
  }
}

type Converter = (w: GraphWriter, out: Tensor, inputs: (Tensor | null)[], attrs: Record<string, unknown>) => string;

const unaryOnnx: Record<string, string> = {
  relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', neg: 'Neg', exp: 'Exp', log: 'Log', sqrt: 'Sqrt', abs: 'Abs', reciprocal: 'Reciprocal', sign: 'Sign',
};

function convLike(opType: 'Conv', w: GraphWriter, inputs: (Tensor | null)[], g: TracedConv): string {
  const [x, weight, bias] = inputs;
  const names = [w.name(x!), w.name(weight!), ...(bias ? [w.name(bias)] : [])];
  return w.node(opType, names, {
    kernel_shape: ints([g.kH, g.kW]), strides: ints([g.strideH, g.strideW]), dilations: ints([g.dilationH, g.dilationW]), group: int(g.groups),
    pads: ints(convPads(g)),
  });
}

/**
 * A convolution's ONNX pads [top, left, bottom, right]: the layer's symmetric
 * padding when it gives the traced size (as torch.onnx.export writes it), else
 * the padding the windows reach (never below 0).
 */
function convPads(g: TracedConv): number[] {
  if (symmetricPadding(g)) return [g.padTop, g.padLeft, g.padTop, g.padLeft];
  return [g.padTop, g.padLeft, Math.max(0, g.padBottom), Math.max(0, g.padRight)];
}

/** Pooling attributes from a pooling geometry: window, strides and the padding (PyTorch pads both sides alike). */
function poolAttrs(g: Record<string, unknown>): Attrs {
  return {
    kernel_shape: ints([g.kH as number, g.kW as number]), strides: ints([g.strideH as number, g.strideW as number]),
    pads: ints([g.padTop as number, g.padLeft as number, g.padTop as number, g.padLeft as number]), ceil_mode: int(g.ceilMode ? 1 : 0),
  };
}

const CONVERTERS: Record<string, Converter> = {
  conv2d: (w, _out, inputs, attrs) => convLike('Conv', w, inputs, attrs as unknown as TracedConv),
  conv2dFFT: (w, _out, inputs, attrs) => convLike('Conv', w, inputs, attrs as unknown as TracedConv),
  convTranspose2d(w, _out, [x, weight, bias], attrs) {
    const g = attrs as unknown as TracedConv;
    return w.node('ConvTranspose', [w.name(x!), w.name(weight!), ...(bias ? [w.name(bias)] : [])], {
      kernel_shape: ints([g.kH, g.kW]), strides: ints([g.strideH, g.strideW]), dilations: ints([g.dilationH, g.dilationW]), group: int(g.groups),
      pads: ints([g.padTop, g.padLeft, g.padTop, g.padLeft]), output_padding: ints([g.padTop - g.padBottom, g.padLeft - g.padRight]),
    });
  },
  linear(w, _out, [x, weight, bias]) {
    if (x!.ndim === 2) return w.node('Gemm', [w.name(x!), w.name(weight!), ...(bias ? [w.name(bias)] : [])], { transB: int(1) });
    const product = w.node('MatMul', [w.name(x!), w.node('Transpose', [w.name(weight!)], { perm: ints([1, 0]) })]);
    return bias ? w.node('Add', [product, w.name(bias)]) : product;
  },
  matmul: (w, _out, [a, b]) => w.node('MatMul', [w.name(a!), w.name(b!)]),
  batchNorm2d(w, out, [x, weight, bias], attrs) {
    const { training, eps, runningMean, runningVar } = attrs as { training: boolean; eps: number; runningMean: Tensor | null; runningVar: Tensor | null };
    if (training || runningMean === null || runningVar === null) {
      throw new ValueError('exportOnnx: a batch norm normalizes with its batch statistics (training mode, or no running statistics); an exported graph needs running statistics (BatchNorm2d with trackRunningStats)');
    }
    const channels = out.shape[1];
    const scale = weight ? w.name(weight) : w.floatConstant(new Array<number>(channels).fill(1), [channels]);
    const shift = bias ? w.name(bias) : w.floatConstant(new Array<number>(channels).fill(0), [channels]);
    return w.node('BatchNormalization', [w.name(x!), scale, shift, w.name(runningMean), w.name(runningVar)], { epsilon: float(eps) });
  },
  add: (w, _out, [a, b]) => w.node('Add', [w.name(a!), w.name(b!)]),
  sub: (w, _out, [a, b]) => w.node('Sub', [w.name(a!), w.name(b!)]),
  mul: (w, _out, [a, b]) => w.node('Mul', [w.name(a!), w.name(b!)]),
  div: (w, _out, [a, b]) => w.node('Div', [w.name(a!), w.name(b!)]),
  pow: (w, _out, [a, b], attrs) => {
    // powScalar records as 'pow' with one input and its exponent in params.alpha
    if (b === null || b === undefined) return w.node('Pow', [w.name(a!), w.floatConstant([(attrs.params as { alpha: number }).alpha])]);
    return w.node('Pow', [w.name(a!), w.name(b)]);
  },
  maximum: (w, _out, [a, b]) => w.node('Max', [w.name(a!), w.name(b!)]),
  minimum: (w, _out, [a, b]) => w.node('Min', [w.name(a!), w.name(b!)]),
  ...Object.fromEntries(Object.entries(unaryOnnx).map(([name, opType]) => [name, ((w, _out, [x]) => w.node(opType, [w.name(x!)])) as Converter])),
  square: (w, _out, [x]) => w.node('Mul', [w.name(x!), w.name(x!)]),
  leakyRelu: (w, _out, [x], attrs) => w.node('LeakyRelu', [w.name(x!)], { alpha: float((attrs.params as { alpha: number }).alpha) }),
  elu: (w, _out, [x], attrs) => w.node('Elu', [w.name(x!)], { alpha: float((attrs.params as { alpha: number }).alpha) }),
  clamp(w, _out, [x], attrs) {
    const { alpha, beta } = attrs.params as { alpha: number; beta: number };
    const bound = (v: number) => (Number.isFinite(v) ? w.floatConstant([v]) : '');
    const inputs = [w.name(x!), bound(alpha), bound(beta)];
    while (inputs[inputs.length - 1] === '') inputs.pop();
    return w.node('Clip', inputs);
  },
  softplus(w, _out, [x], attrs) {
    const { alpha: beta, beta: threshold } = attrs.params as { alpha: number; beta: number };
    // softplus(x) = log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (as PyTorch)
    const bx = beta === 1 ? w.name(x!) : w.node('Mul', [w.name(x!), w.floatConstant([beta])]);
    const soft = w.node('Softplus', [bx]);
    const scaled = beta === 1 ? soft : w.node('Div', [soft, w.floatConstant([beta])]);
    const above = w.node('Greater', [bx, w.floatConstant([threshold])]);
    return w.node('Where', [above, w.name(x!), scaled]);
  },
  gelu(w, _out, [x], attrs) {
    const exact = (attrs.op as string) === 'gelu';
    if (w.opset >= 20) return w.node('Gelu', [w.name(x!)], exact ? {} : { approximate: str('tanh') });
    const half = w.node('Mul', [w.name(x!), w.floatConstant([0.5])]);
    if (exact) {
      // x/2 (1 + erf(x / sqrt 2))
      const erf = w.node('Erf', [w.node('Div', [w.name(x!), w.floatConstant([Math.SQRT2])])]);
      return w.node('Mul', [half, w.node('Add', [erf, w.floatConstant([1])])]);
    }
    // x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    const cube = w.node('Mul', [w.node('Mul', [w.name(x!), w.name(x!)]), w.name(x!)]);
    const inner = w.node('Mul', [w.node('Add', [w.name(x!), w.node('Mul', [cube, w.floatConstant([0.044715])])]), w.floatConstant([Math.sqrt(2 / Math.PI)])]);
    return w.node('Mul', [half, w.node('Add', [w.node('Tanh', [inner]), w.floatConstant([1])])]);
  },
  silu: (w, _out, [x]) => w.node('Mul', [w.name(x!), w.node('Sigmoid', [w.name(x!)])]),
  softmax: (w, _out, [x], attrs) => w.node('Softmax', [w.name(x!)], { axis: int(attrs.dim as number) }),
  logSoftmax: (w, _out, [x], attrs) => w.node('LogSoftmax', [w.name(x!)], { axis: int(attrs.dim as number) }),
  reshape(w, out, [x]) {
    if (w.fromInput.has(x!) && out.ndim === 2 && x!.ndim >= 2 && out.shape[0] === x!.shape[0] && out.shape[1] === x!.shape.slice(1).reduce((p, d) => p * d, 1)) {
      return w.node('Flatten', [w.name(x!)], { axis: int(1) });
    }
    return w.node('Reshape', [w.name(x!), w.intConstant(w.reshapeTarget(x!, out.shape))]);
  },
  clone: (w, _out, [x]) => w.node('Identity', [w.name(x!)]),
  indexSelect: (w, _out, [x], attrs) => w.node('Gather', [w.name(x!), w.intConstant(Array.from(attrs.indices as ArrayLike<number>))], { axis: int(attrs.dim as number) }),
  permute: (w, _out, [x], attrs) => w.node('Transpose', [w.name(x!)], { perm: ints(attrs.perm as number[]) }),
  slice(w, _out, [x], attrs) {
    const { dim, start, end, step } = attrs as { dim: number; start: number; end: number; step: number };
    return w.node('Slice', [w.name(x!), w.intConstant([start]), w.intConstant([end]), w.intConstant([dim]), w.intConstant([step])]);
  },
  concat(w, _out, inputs, attrs) {
    const axis = attrs.dim as number;
    // zeros on either side of one traced tensor (a channel zero-padding, as ResNet's option-A shortcut): a Pad, which keeps the batch free
    const traced = inputs.filter((t) => w.fromInput.has(t!));
    const isZeros = (t: Tensor) => !w.fromInput.has(t) && t.gradFn === null && t.data.every((v) => v === 0 && !Object.is(v, -0));
    if (traced.length === 1 && inputs.every((t) => t === traced[0] || isZeros(t!))) {
      const at = inputs.indexOf(traced[0]);
      const before = inputs.slice(0, at).reduce((p, t) => p + t!.shape[axis], 0);
      const after = inputs.slice(at + 1).reduce((p, t) => p + t!.shape[axis], 0);
      const x = traced[0]!;
      const pads = new Array<number>(2 * x.ndim).fill(0);
      pads[axis] = before;
      pads[x.ndim + axis] = after;
      return w.node('Pad', [w.name(x), w.intConstant(pads)], { mode: str('constant') });
    }
    return w.node('Concat', inputs.map((t) => w.name(t!)), { axis: int(axis) });
  },
  maxPool2d: (w, _out, [x], attrs) => w.node('MaxPool', [w.name(x!)], { ...poolAttrs(attrs), dilations: ints([attrs.dilationH as number, attrs.dilationW as number]) }),
  avgPool2d: (w, _out, [x], attrs) => w.node('AveragePool', [w.name(x!)], { ...poolAttrs(attrs), count_include_pad: int(attrs.countIncludePad ? 1 : 0) }),
  lpPool2d(w, _out, [x], attrs) {
    const p = attrs.p as number;
    if (!Number.isInteger(p)) throw new ValueError(`exportOnnx: LP pooling with p = ${p}: ONNX's LpPool takes a whole-number p`);
    // LpPool has ceil_mode from opset 18
    const { ceil_mode: ceil, ...window } = poolAttrs(attrs);
    if (attrs.ceilMode && w.opset < 18) throw new ValueError('exportOnnx: LP pooling in ceil mode is LpPool with ceil_mode, from opset 18; export with opset: 18 or later');
    const pooled = w.node('LpPool', [w.name(x!)], { ...window, ...(w.opset >= 18 ? { ceil_mode: ceil } : {}), p: int(p) });
    if (!attrs.mean) return pooled;
    // the mean form divides the sum inside the root by the window: a factor (1/(kH kW))^(1/p) outside it
    return w.node('Mul', [pooled, w.floatConstant([(1 / ((attrs.kH as number) * (attrs.kW as number))) ** (1 / p)])]);
  },
  adaptiveAvgPool2d: (w, out, [x]) => adaptive(w, out, x!, 'GlobalAveragePool', 'AveragePool'),
  adaptiveMaxPool2d: (w, out, [x]) => adaptive(w, out, x!, 'GlobalMaxPool', 'MaxPool'),
  localResponseNorm(w, _out, [x], attrs) {
    const { size, alpha, beta, k } = attrs as { size: number; alpha: number; beta: number; k: number };
    return w.node('LRN', [w.name(x!)], { size: int(size), alpha: float(alpha), beta: float(beta), bias: float(k) });
  },
  pad(w, _out, [x], attrs) {
    const { padTop, padBottom, padLeft, padRight, mode, value } = attrs as { padTop: number; padBottom: number; padLeft: number; padRight: number; mode: string; value: number };
    const lead = x!.ndim - 2;
    const pads = [...new Array<number>(lead).fill(0), padTop, padLeft, ...new Array<number>(lead).fill(0), padBottom, padRight];
    const onnxMode = mode === 'constant' ? 'constant' : mode === 'reflect' ? 'reflect' : mode === 'replicate' ? 'edge' : mode === 'circular' ? 'wrap' : null;
    if (onnxMode === null) throw new ValueError(`exportOnnx: padding mode '${mode}' has no ONNX Pad mode`);
    if (onnxMode === 'wrap' && w.opset < 19) throw new ValueError("exportOnnx: circular padding is ONNX Pad's 'wrap' mode, from opset 19; export with opset: 19 or later");
    const inputs = [w.name(x!), w.intConstant(pads)];
    if (onnxMode === 'constant' && value !== 0) inputs.push(w.floatConstant([value]));
    return w.node('Pad', inputs, { mode: str(onnxMode) });
  },
  upsample(w, out, [x], attrs) {
    const { mode, alignCorners } = attrs as { mode: string; alignCorners: boolean };
    // the scales rather than the sizes, so that the batch stays free
    const scales = w.floatConstant([1, 1, out.shape[2] / x!.shape[2], out.shape[3] / x!.shape[3]], [4]);
    const common: Attrs = mode === 'nearest'
      ? { mode: str('nearest'), coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') }
      : { mode: str('linear'), coordinate_transformation_mode: str(alignCorners ? 'align_corners' : 'pytorch_half_pixel') };
    return w.node('Resize', [w.name(x!), '', scales], common);
  },
  sum: (w, _out, [x], attrs) => reduce(w, 'ReduceSum', x!, attrs),
  max: (w, _out, [x], attrs) => reduce(w, 'ReduceMax', x!, attrs),
  min: (w, _out, [x], attrs) => reduce(w, 'ReduceMin', x!, attrs),
};

/** Adaptive pooling: global when the output is 1x1, a fixed window when the input divides evenly, else refused. */
function adaptive(w: GraphWriter, out: Tensor, x: Tensor, global: string, windowed: string): string {
  const [inH, inW] = x.shape.slice(-2);
  const [outH, outW] = out.shape.slice(-2);
  if (outH === 1 && outW === 1) return w.node(global, [w.name(x)]);
  if (inH % outH === 0 && inW % outW === 0) {
    const k = [inH / outH, inW / outW];
    return w.node(windowed, [w.name(x)], { kernel_shape: ints(k), strides: ints(k) });
  }
  if (outH % inH === 0 && outW % inW === 0) {
    // every window is one input pixel, repeated outH/inH x outW/inW times: a nearest upsampling
    const scales = w.floatConstant([1, 1, outH / inH, outW / inW], [4]);
    return w.node('Resize', [w.name(x), '', scales], { mode: str('nearest'), coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') });
  }
  throw new ValueError(
    `exportOnnx: adaptive pooling from ${inH}x${inW} to ${outH}x${outW} has windows of unequal sizes, which no ONNX pooling node writes; export at an input size where one of ${inH}x${inW} and ${outH}x${outW} divides the other (for torchvision's models: 224x224)`,
  );
}

function reduce(w: GraphWriter, opType: string, x: Tensor, attrs: Record<string, unknown>): string {
  const dims = attrs.dims as number[];
  const keep = int(attrs.keepDims ? 1 : 0);
  // ReduceSum takes its axes as an input from opset 13, the others from opset 18
  if (opType === 'ReduceSum' || w.opset >= 18) return w.node(opType, [w.name(x), w.intConstant(dims)], { keepdims: keep });
  return w.node(opType, [w.name(x)], { axes: ints(dims), keepdims: keep });
}
