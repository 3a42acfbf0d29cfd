/**
 * importOnnx: an ONNX file as a trainable Stride module (isomorphic).
 *
 * The graph is run with Stride's ops (conv2d, linear, batchNorm2d, the
 * pools...), so an imported model trains: gradients flow to its weights as
 * they do in a model built from layers. Its state is the file's initializers
 * under their ONNX names, which for a file written by torch.onnx.export or by
 * exportOnnx are the PyTorch state-dict names ("conv1.weight",
 * "features.0.bias"): the names are split on '.' into nested modules holding
 * the tensors as fields, so that stateDict() gives the names back.
 *
 * What an initializer becomes depends on how the graph reads it:
 *   - a float tensor read as a weight, bias or scale (by Conv, ConvTranspose,
 *     Gemm, MatMul, PRelu, BatchNormalization's scale and bias, or as a
 *     non-scalar operand of Add/Sub/Mul/Div) is a parameter;
 *   - BatchNormalization's mean and variance are buffers;
 *   - everything else (integer shapes, axes, pads and indices; scalar float
 *     constants; Resize scales; Pad and Clip values) is a constant, not state.
 * A name whose path is taken (a prefix that is itself a tensor, "a" and
 * "a.b") is kept whole on the root module: its state-dict key is still the
 * ONNX name. A part of a name that would hide a module's own member
 * ('training', 'forward', '__proto__'...) or starts with '_' is refused.
 *
 * Float values are Stride's float32 whatever the file's type: a graph that
 * casts to DOUBLE (the perceptron's) is computed in float32.
 *
 * Integer values (shapes, axes, indices) are evaluated eagerly as plain
 * numbers on every forward: PyTorch's Shape -> Gather -> Unsqueeze -> Concat
 * -> Reshape chains that compute a flatten's target shape become constants
 * for the input at hand, and never enter the autograd graph.
 *
 * GELU written as x/2 (1 + erf(x / sqrt 2)) (PyTorch's and exportOnnx's form
 * before opset 20) is recognised and run as gelu(); Stride has no erf op, so
 * an Erf elsewhere is refused.
 *
 * summary() traces the graph node by node: each node on the path of the
 * data (not the shape arithmetic beside it, not Identity, Constant or Cast)
 * is one row, an OnnxNodeLayer that describes the node from the attributes
 * and pads of its last run (connections, multiply-accumulates, its window).
 * A row is named by its state's common prefix ('conv1' for conv1.weight and
 * conv1.bias), else by the module scope torch.onnx.export writes into the
 * node's name ('/layer1/layer1.0/conv1/Conv' -> 'layer1.0.conv1'), else by
 * the node's name or its op type and position.
 *
 * train() / eval() switch Dropout (a real dropout in training) and
 * BatchNormalization (batch statistics in training, updating the running
 * ones with momentum 1 - the file's momentum, as BatchNorm2d does).
 */
import { ShapeError, ValueError, fmtShape } from '../../errors.js';
import {
  alongDimCounts, linearCounts, localResponseCounts, transposedConvCounts, upsampleCounts,
  type DescribedLayer, type LayerCounts, type TransposedGeometry, type WindowGeometry,
} from '../../nn/describe.js';
import { Module, parameter } from '../../nn/module.js';
import { Tensor } from '../../tensor/tensor.js';
import { checkOptions } from '../../validate.js';
import {
  abs, add, avgPool2d, batchNorm2d, clamp, concat, conv2d, convTranspose2d, div, dropout, elu, eq, exp, gelu, globalAvgPool2d, globalMaxPool2d,
  gt, indexSelect, leakyRelu, linear, localResponseNorm, log, logSoftmax, lpPool2d, lt, matmul, max, maxPool2d, maximum, mean, min, minimum,
  mul, neg, pad, permute, pow, reciprocal, relu, reshape, sigmoid, sign, slice, softmax, softplus, sqrt, sub, sum, tanh, upsample as upsampleOp, where,
} from '../../ops/index.js';
import { decodeOnnx, ONNX_DTYPE, onnxDtypeName, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor } from './proto.js';

export interface ImportOnnxOptions {
  /** Names the bytes in error messages (a file's path); default 'ONNX bytes'. */
  source?: string;
}

/** A value while the graph runs: a float tensor, or integers with their dims (shapes, axes, indices). */
type Value = { kind: 'tensor'; t: Tensor } | { kind: 'ints'; dims: number[]; v: number[] };
type Env = Map<string, Value>;
type Run = (env: Env, module: OnnxModule) => void;

const FLOAT_TYPES: readonly number[] = [ONNX_DTYPE.FLOAT, ONNX_DTYPE.DOUBLE, ONNX_DTYPE.FLOAT16];
const INT64_MAX_LIKE = 2 ** 53;

/** A node of the state tree: holds tensors and sub-folders as fields (PyTorch's names). */
class OnnxStateFolder extends Module {
  /** Sets field `key` to a parameter or, with `buffer`, a buffer. */
  _set(key: string, t: Tensor, buffer: boolean): void {
    if (buffer) this.registerBuffer(key, t);
    else Object.defineProperty(this, key, { value: t, enumerable: true, writable: true, configurable: true });
  }

  forward(): Tensor {
    throw new ValueError('OnnxStateFolder holds part of an imported model\'s state; run the OnnxModule that owns it');
  }
}

/** Where an initializer lives: the module holding it and its field. */
interface StateSlot {
  holder: Module;
  key: string;
}

/** An ONNX graph run with Stride's ops (see the file comment). Made by importOnnx. */
export class OnnxModule extends Module {
  /** The default-domain opset the file was written for. */
  readonly _opset: number;
  readonly _inputName: string;
  readonly _inputShape: (number | string | null)[] | null;
  readonly _outputName: string;
  readonly _steps: Step[] = [];
  /** The values of the forward running now (what an OnnxNodeLayer's forward reads). */
  _env: Env | null = null;
  readonly _state = new Map<string, StateSlot>();
  readonly _constants = new Map<string, Value>();
  readonly _source: string;
  readonly _metadata: Readonly<Record<string, string>>;

  /** The file's input shape: numbers, names (a free batch 'N') or null where unknown; null when the file gives none. */
  get inputShape(): (number | string | null)[] | null {
    return this._inputShape === null ? null : [...this._inputShape];
  }

  /** The default-domain opset the file was written for. */
  get opset(): number {
    return this._opset;
  }

  /** The file's metadata_props (what stride export records: stride.model, stride.dataset, stride.normalize). */
  get metadata(): Readonly<Record<string, string>> {
    return this._metadata;
  }

  /** Use importOnnx. */
  constructor(model: OnnxModel, source: string) {
    super();
    this._source = source;
    this._metadata = Object.freeze({ ...model.metadata });
    this._opset = opsetOf(model, source);
    const g = model.graph;
    const initNames = new Set(g.initializers.map((t) => t.name));
    const dataInputs = g.inputs.filter((v) => !initNames.has(v.name));
    if (dataInputs.length !== 1) {
      throw new ValueError(`importOnnx: ${source}: the graph has ${dataInputs.length} data inputs (${dataInputs.map((v) => `'${v.name}'`).join(', ') || 'none'}); Stride imports graphs with exactly one float input (the data)`);
    }
    const input = dataInputs[0];
    if (!FLOAT_TYPES.includes(input.elemType)) {
      throw new ValueError(`importOnnx: ${source}: the graph's input '${input.name}' is ${onnxDtypeName(input.elemType)}; Stride imports graphs whose one input is a float tensor`);
    }
    if (g.outputs.length !== 1) {
      throw new ValueError(`importOnnx: ${source}: the graph has ${g.outputs.length} outputs (${g.outputs.map((v) => `'${v.name}'`).join(', ') || 'none'}); Stride imports graphs with exactly one output`);
    }
    this._inputName = input.name;
    this._inputShape = input.shape;
    this._outputName = g.outputs[0].name;

    const nodes = liveNodes(fuseGelu(g.nodes, g.initializers), this._outputName, this._inputName, initNames, source);
    const roles = initializerRoles(nodes, new Map(g.initializers.map((t) => [t.name, t])));
    placeState(this, g.initializers, roles);
    for (const t of g.initializers) if (!this._state.has(t.name)) this._constants.set(t.name, constantValue(t));
    const onDataPath = new Set([this._inputName]);
    // the state each value beside the data's path is computed from (a weight reshaped for a broadcast)
    const stateBehind = new Map<string, string[]>();
    const stateOf = (names: string[]) => [...new Set(names.flatMap((n) => (this._state.has(n) ? [n] : (stateBehind.get(n) ?? []))))];
    for (const { node, index } of nodes) {
      if (node.domain !== '' && node.domain !== 'ai.onnx') {
        throw new ValueError(`importOnnx: ${source}: node ${index}${node.name ? ` '${node.name}'` : ''} (${node.opType}) is in domain '${node.domain}'; Stride imports ops of the default ONNX domain ('' or 'ai.onnx'; this model's opset ${this._opset}) only: ${ONNX_IMPORT_OPS.join(', ')}`);
      }
      const { run, ctx } = compileNode(node, index, this._opset, source);
      const dataInputs = node.inputs.filter((n) => onDataPath.has(n));
      const state = stateOf(node.inputs.filter((n) => !onDataPath.has(n)));
      const step: Step = { node, index, run, ctx, dataInputs, state, layer: null };
      // the data's path: float values computed from the input (a Shape's integers, and what is computed from them, are beside it)
      if (step.dataInputs.length > 0 && node.opType !== 'Shape') {
        for (const out of node.outputs) if (out !== '') onDataPath.add(out);
        if (!ROWLESS_OPS.has(node.opType)) step.layer = new OnnxNodeLayer(this, step);
      } else {
        for (const out of node.outputs) stateBehind.set(out, state);
      }
      this._steps.push(step);
    }
  }

  /** One layer per node on the data's path, named as the file comment says: the rows of summary(). */
  summaryLayers(): [string, OnnxNodeLayer][] {
    return this._steps.filter((s) => s.layer !== null).map((s) => [rowName(s), s.layer!]);
  }

  /** Runs the graph on x (the file's one input; the batch may differ from the file's). */
  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new ValueError(`OnnxModule.forward: expected a Tensor, got ${x === null ? 'null' : typeof x}`);
    const want = this._inputShape;
    if (want !== null) {
      const fixed = want.map((d) => (typeof d === 'number' && d > 0 ? d : null));
      if (x.ndim !== want.length || fixed.some((d, i) => d !== null && d !== x.shape[i])) {
        throw new ShapeError(`OnnxModule.forward: the model's input '${this._inputName}' has shape [${want.map((d) => d ?? '?').join(', ')}], got ${fmtShape(x.shape)}; the named dims (e.g. the batch) may take any size, the numbered ones must match`);
      }
    }
    const env: Env = new Map(this._constants);
    for (const [name, slot] of this._state) {
      const t = (slot.holder as unknown as Record<string, unknown>)[slot.key];
      if (!(t instanceof Tensor)) throw new ValueError(`OnnxModule.forward: state '${name}' is no longer a Tensor`);
      env.set(name, { kind: 'tensor', t });
    }
    env.set(this._inputName, { kind: 'tensor', t: x });
    this._env = env;
    try {
      for (const step of this._steps) {
        try {
          // a node with a layer runs through it, so that what wraps a layer's forward (summary) sees the call
          if (step.layer !== null) step.layer.forward(...step.dataInputs.map((n) => tensorOf(env.get(n)!)));
          else step.run(env, this);
        } catch (err) {
          if (err instanceof Error && !err.message.includes('importOnnx') && !err.message.startsWith('OnnxModule')) {
            err.message = `OnnxModule: node ${step.index}${step.node.name ? ` '${step.node.name}'` : ''} (${step.node.opType}): ${err.message}`;
          }
          throw err;
        }
      }
    } finally {
      this._env = null;
    }
    const out = env.get(this._outputName)!;
    if (out.kind !== 'tensor') throw new ValueError(`OnnxModule.forward: the graph's output '${this._outputName}' is an integer value (a shape), not a tensor`);
    return out.t;
  }

  /** Sets root field `key` to a parameter or, with `buffer`, a buffer (state whose name has no folder). */
  _setRoot(key: string, t: Tensor, buffer: boolean): void {
    if (buffer) this.registerBuffer(key, t);
    else Object.defineProperty(this, key, { value: t, enumerable: true, writable: true, configurable: true });
  }

  override extraRepr(): string {
    return `opset=${this._opset}, nodes=${this._steps.length}`;
  }
}

/** A compiled node: how it runs, what its run resolved, which of its inputs are on the data's path, and its row. */
interface Step {
  node: OnnxNode;
  index: number;
  run: Run;
  ctx: Ctx;
  dataInputs: string[];
  /** The state the node reads, directly or through values computed from it beside the data's path. */
  state: string[];
  layer: OnnxNodeLayer | null;
}

/** Nodes on the data's path that are no layer of their own (they pass the data on unchanged in kind). */
const ROWLESS_OPS = new Set(['Identity', 'Constant', 'Cast']);

/**
 * One node of an imported graph seen as a layer (summary()'s row): its
 * forward runs the node on the values of the OnnxModule's running forward
 * (the inputs passed are those values, so that wrappers see them), its
 * parameters are the owner's tensors the node reads, and describeLayer counts
 * the node as the layer of the same kind counts itself.
 */
export class OnnxNodeLayer extends Module implements DescribedLayer {
  readonly _owner: OnnxModule;
  readonly _step: Step;

  /** The node's op type ('Conv'). */
  get layerType(): string {
    return this._step.node.opType;
  }

  /** Made by OnnxModule. */
  constructor(owner: OnnxModule, step: Step) {
    super();
    this._owner = owner;
    this._step = step;
    // the owner's state the node reads, as live fields (a tensor replaced on the owner is the one seen here)
    step.state.forEach((name, k) => {
      const slot = owner._state.get(name)!;
      Object.defineProperty(this, `state${k}`, { get: () => (slot.holder as unknown as Record<string, unknown>)[slot.key], enumerable: true, configurable: true });
    });
  }

  forward(..._inputs: Tensor[]): Tensor {
    const env = this._owner._env;
    if (env === null) throw new ValueError(`OnnxNodeLayer (${this._step.node.opType}) runs inside its OnnxModule's forward; call the module`);
    this._step.run(env, this._owner);
    return tensorOf(env.get(this._step.node.outputs[0])!);
  }

  describeLayer(inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
    const { node, ctx } = this._step;
    const g = ctx.seen;
    const units = outputShape.reduce((a, b) => a * b, 1);
    switch (node.opType) {
      case 'Conv':
        return { connections: units * (g.fanIn! + (g.bias ? 1 : 0)), macs: units * g.fanIn!, window: g.window };
      case 'ConvTranspose':
        return transposedConvCounts(g.transposed!, inputShape, outputShape);
      case 'Gemm':
      case 'MatMul':
        return linearCounts(inputShape, outputShape, g.fanIn!, g.bias!);
      case 'MaxPool':
      case 'AveragePool':
      case 'LpPool':
        return { connections: units * g.window!.kernel[0] * g.window!.kernel[1], macs: 0, window: g.window };
      case 'GlobalAveragePool':
      case 'GlobalMaxPool':
        return { connections: units * inputShape.slice(1).reduce((a, b) => a * b, 1), macs: 0, global: true };
      case 'BatchNormalization':
        return { connections: units * 2, macs: 0 };
      case 'LRN':
        return localResponseCounts(inputShape, ctx.int('size', 1));
      case 'Softmax':
      case 'LogSoftmax':
        return alongDimCounts(inputShape, outputShape, g.axis!);
      case 'Resize':
      case 'Upsample':
        return upsampleCounts(inputShape, outputShape, g.resize!.bilinear, g.resize!.alignCorners);
      case 'Pad': {
        const shift = g.shift!;
        return { connections: g.reads!, macs: 0, field: (input, axis) => ({ ...input, start: input.start - shift[axis] * input.jump }) };
      }
      case 'Slice':
        return { connections: units, macs: 0, window: g.window };
      case 'Flatten':
      case 'Reshape':
        return { connections: 0, macs: 0, global: outputShape.length < inputShape.length };
      default:
        return { connections: 0, macs: 0 };
    }
  }

  override extraRepr(): string {
    return `${this._step.node.opType}, node ${this._step.index}${this._step.node.name ? ` '${this._step.node.name}'` : ''}`;
  }
}

/**
 * A row's name: the common prefix of the state the node reads ('conv1' for
 * conv1.weight and conv1.bias), else the module path in the scope
 * torch.onnx.export writes ('/layer1/layer1.0/conv1/Conv' -> layer1.0.conv1;
 * a scope that repeats its parent's path, 'layer1.0' below 'layer1', is
 * taken whole), else the node's name, else its op type and position.
 */
function rowName(step: Step): string {
  const prefixes = new Set(step.state.map((n) => (n.includes('.') ? n.slice(0, n.lastIndexOf('.')) : '')));
  if (prefixes.size === 1 && !prefixes.has('')) return [...prefixes][0];
  const name = step.node.name;
  if (name.startsWith('/')) {
    const scopes = name.split('/').slice(1, -1).filter((p) => p !== '');
    let path = '';
    for (const scope of scopes) path = path !== '' && !scope.startsWith(`${path}.`) ? `${path}.${scope}` : scope;
    if (path !== '') return path;
    const last = name.slice(name.lastIndexOf('/') + 1);
    if (last !== '') return last;
  }
  return name !== '' ? name : `${step.node.opType}_${step.index}`;
}

/**
 * The model in an ONNX file's bytes as a trainable module (see the file
 * comment). Malformed bytes are a DataError (from decodeOnnx); a graph Stride
 * cannot run (an op it does not have, an attribute it cannot honour, more than
 * one input or output) is a ValueError naming the node, its op and the opset.
 */
export function importOnnx(bytes: Uint8Array, options: ImportOnnxOptions = {}): OnnxModule {
  if (options === null || typeof options !== 'object') throw new ValueError('importOnnx: options must be an object { source? }');
  checkOptions('importOnnx', options, ['source']);
  const source = options.source ?? 'ONNX bytes';
  if (typeof source !== 'string') throw new ValueError(`importOnnx: source must be a string (a name for messages), got ${typeof source}`);
  if (!(bytes instanceof Uint8Array)) throw new ValueError(`importOnnx: expected the file's bytes as a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  return new OnnxModule(decodeOnnx(bytes, source), source);
}

// ---------------------------------------------------------------------------
// The graph before running: opset, GELU, live nodes, initializer roles, state

function opsetOf(model: OnnxModel, source: string): number {
  const entry = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (entry === undefined) {
    // IR version 1-2 files may omit it; those were opset 1
    if (model.opsetImport.length === 0) return 1;
    throw new ValueError(`importOnnx: ${source}: the model imports no default-domain opset (only ${model.opsetImport.map((o) => `'${o.domain}'`).join(', ')}); Stride runs ONNX's default domain`);
  }
  return entry.version;
}

/** The float value of a scalar constant (an initializer or a Constant node's), or null. */
function scalarOf(name: string, inits: Map<string, OnnxTensor>, producers: Map<string, OnnxNode>): number | null {
  const init = inits.get(name);
  let t: OnnxTensor | undefined = init;
  if (t === undefined) {
    const p = producers.get(name);
    if (p?.opType === 'Constant') {
      const a = p.attributes.value;
      if (a?.type === 'tensor') t = a.value;
      else if (p.attributes.value_float?.type === 'float') return p.attributes.value_float.value;
    }
  }
  if (t === undefined) return null;
  const values = t.floats ?? t.ints;
  return values !== undefined && values.length === 1 ? Number(values[0]) : null;
}

/**
 * Rewrites x/2 (1 + erf(x / sqrt 2)) into one 'Gelu' node: the forms of
 * PyTorch's exporter (Div, Erf, Add, Mul by x, Mul by 0.5) and of exportOnnx
 * (Mul by 0.5 first). The nodes it leaves unused are dropped by liveNodes.
 */
function fuseGelu(nodes: OnnxNode[], initializers: OnnxTensor[]): OnnxNode[] {
  if (!nodes.some((n) => n.opType === 'Erf')) return nodes;
  const inits = new Map(initializers.map((t) => [t.name, t]));
  const producers = new Map<string, OnnxNode>();
  for (const n of nodes) for (const o of n.outputs) producers.set(o, n);
  const consumers = (name: string) => nodes.filter((n) => n.inputs.includes(name));
  const near = (v: number | null, want: number) => v !== null && Math.abs(v - want) <= 1e-6 * Math.abs(want);
  const other = (n: OnnxNode, name: string) => (n.inputs[0] === name ? n.inputs[1] : n.inputs[0]);
  const replaced = new Map<OnnxNode, OnnxNode>();
  for (const erf of nodes) {
    if (erf.opType !== 'Erf') continue;
    const scaled = producers.get(erf.inputs[0]);
    if (scaled === undefined) continue;
    let x: string | null = null;
    if (scaled.opType === 'Div' && near(scalarOf(scaled.inputs[1], inits, producers), Math.SQRT2)) x = scaled.inputs[0];
    if (scaled.opType === 'Mul') {
      if (near(scalarOf(scaled.inputs[1], inits, producers), Math.SQRT1_2)) x = scaled.inputs[0];
      else if (near(scalarOf(scaled.inputs[0], inits, producers), Math.SQRT1_2)) x = scaled.inputs[1];
    }
    if (x === null) continue;
    const plusOne = consumers(erf.outputs[0]).find((n) => n.opType === 'Add' && near(scalarOf(other(n, erf.outputs[0]), inits, producers), 1));
    if (plusOne === undefined) continue;
    for (const m of consumers(plusOne.outputs[0])) {
      if (m.opType !== 'Mul') continue;
      const factor = other(m, plusOne.outputs[0]);
      let last: OnnxNode | undefined;
      if (factor === x) {
        // x (1 + erf) then * 0.5
        last = consumers(m.outputs[0]).find((n) => n.opType === 'Mul' && near(scalarOf(other(n, m.outputs[0]), inits, producers), 0.5));
      } else {
        const half = producers.get(factor);
        if (half?.opType === 'Mul' && half.inputs.includes(x) && near(scalarOf(other(half, x), inits, producers), 0.5)) last = m;
      }
      if (last !== undefined) replaced.set(last, { name: last.name, opType: 'Gelu', domain: '', inputs: [x], outputs: last.outputs, attributes: {} });
    }
  }
  return nodes.map((n) => replaced.get(n) ?? n);
}

/** The nodes the output depends on, in file order, with their index in the file; checks every read value is defined before it is read. */
function liveNodes(nodes: OnnxNode[], output: string, input: string, initNames: Set<string>, source: string): { node: OnnxNode; index: number }[] {
  const defined = new Set<string>([input, ...initNames, '']);
  nodes.forEach((n, k) => {
    for (const i of n.inputs) {
      if (!defined.has(i)) {
        const later = nodes.findIndex((m) => m.outputs.includes(i));
        throw new ValueError(
          `importOnnx: ${source}: node ${k}${n.name ? ` '${n.name}'` : ''} (${n.opType}) reads '${i}', which ${later >= 0 ? `is computed only later, by node ${later} (the nodes must be in topological order)` : 'no node, initializer or graph input defines'}`,
        );
      }
    }
    for (const o of n.outputs) if (o !== '') defined.add(o);
  });
  if (!defined.has(output)) throw new ValueError(`importOnnx: ${source}: the graph's output '${output}' is computed by no node`);
  const needed = new Set<string>([output]);
  const live: boolean[] = new Array<boolean>(nodes.length).fill(false);
  for (let k = nodes.length - 1; k >= 0; k--) {
    if (!nodes[k].outputs.some((o) => needed.has(o))) continue;
    live[k] = true;
    for (const i of nodes[k].inputs) if (i !== '') needed.add(i);
  }
  return nodes.map((node, index) => ({ node, index })).filter((_, k) => live[k]);
}

type Role = 'parameter' | 'buffer';
/** 'operand': read by Add/Sub/Mul/Div only; a parameter when it holds more than one value (a bias or a scale), else a constant. */
type Use = Role | 'operand';

/** Which initializers are state: read as weights (parameters) or as BatchNormalization's statistics (buffers). */
function initializerRoles(nodes: { node: OnnxNode }[], inits: Map<string, OnnxTensor>): Map<string, Use> {
  const isFill = (t: OnnxTensor | undefined) => t?.floats !== undefined && t.floats.every((v) => v === t.floats![0]);
  const roles = new Map<string, Use>();
  // the initializers a value is moved from (a weight read through a Transpose, a Concat, a Gather...)
  const origin = new Map<string, string[]>();
  const roots = (name: string) => origin.get(name) ?? [name];
  const rank: Record<Use, number> = { operand: 0, buffer: 1, parameter: 2 };
  const mark = (name: string | undefined, role: Use) => {
    if (name === undefined || name === '') return;
    for (const r of roots(name)) {
      const had = roles.get(r);
      if (had === undefined || rank[had] < rank[role]) roles.set(r, role);
    }
  };
  for (const { node: n } of nodes) {
    const i = n.inputs;
    switch (n.opType) {
      case 'Transpose': case 'Identity': case 'Reshape': case 'Unsqueeze': case 'Squeeze': case 'Cast': case 'Flatten': case 'Gather': case 'Slice': case 'Pad':
        origin.set(n.outputs[0], roots(i[0]));
        break;
      case 'Concat': {
        // a block of one repeated value joined to a weight (padding, as a sparse connection table's zeros) stays a constant
        const parts = i.filter((name) => name !== '');
        const moved = parts.filter((name) => !isFill(inits.get(name)));
        origin.set(n.outputs[0], (moved.length > 0 ? moved : parts).flatMap(roots));
        break;
      }
      case 'Conv': case 'ConvTranspose': mark(i[1], 'parameter'); mark(i[2], 'parameter'); break;
      case 'Gemm': mark(i[0], 'parameter'); mark(i[1], 'parameter'); mark(i[2], 'parameter'); break;
      case 'MatMul': mark(i[0], 'parameter'); mark(i[1], 'parameter'); break;
      case 'PRelu': mark(i[1], 'parameter'); break;
      case 'BatchNormalization': mark(i[1], 'parameter'); mark(i[2], 'parameter'); mark(i[3], 'buffer'); mark(i[4], 'buffer'); break;
      case 'Add': case 'Sub': case 'Mul': case 'Div':
        // a non-scalar operand is a learned bias or scale; scalars are constants (decided in placeState)
        for (const name of i) mark(name, 'operand');
        break;
      default: break;
    }
  }
  return roles;
}

/** Creates the state tree under `module` (see the file comment) and records where each tensor lives. */
function placeState(module: OnnxModule, initializers: OnnxTensor[], roles: Map<string, Use>): void {
  const tensorNames = new Set<string>();
  const chosen: [OnnxTensor, Role][] = [];
  for (const t of initializers) {
    const use = roles.get(t.name);
    const size = t.dims.reduce((p, d) => p * d, 1);
    if (use === undefined || (use === 'operand' && size <= 1)) continue;
    const role: Role = use === 'operand' ? 'parameter' : use;
    if (t.floats === undefined) continue; // integer tensors are never trained
    chosen.push([t, role]);
    tensorNames.add(t.name);
  }
  const reserved = (holder: Module, key: string) => key === '' || key.startsWith('_') || (key in holder && !Object.hasOwn(holder, key)) || key === 'training';
  for (const [t, role] of chosen) {
    const data = t.floats instanceof Float64Array ? Float64Array.from(t.floats) : Float32Array.from(t.floats!);
    const tensor = new Tensor(data, t.dims);
    if (role === 'parameter') parameter(tensor);
    const parts = t.name.split('.');
    // a prefix that is itself a tensor: the path is taken; keep the name whole on the root
    const prefixIsTensor = parts.slice(0, -1).some((_, k) => tensorNames.has(parts.slice(0, k + 1).join('.')));
    let holder: Module = module;
    let key = t.name;
    if (!prefixIsTensor) {
      for (const part of parts.slice(0, -1)) {
        if (reserved(holder, part)) throw badName(module, t.name, part);
        const existing = (holder as unknown as Record<string, unknown>)[part];
        if (existing instanceof OnnxStateFolder) {
          holder = existing;
          continue;
        }
        const folder = new OnnxStateFolder();
        Object.defineProperty(holder, part, { value: folder, enumerable: true, writable: true, configurable: true });
        holder = folder;
      }
      key = parts[parts.length - 1];
    }
    if (reserved(holder, key) || Object.hasOwn(holder, key)) throw badName(module, t.name, key);
    if (holder instanceof OnnxStateFolder) holder._set(key, tensor, role === 'buffer');
    else module._setRoot(key, tensor, role === 'buffer');
    module._state.set(t.name, { holder, key });
  }
}

function badName(module: OnnxModule, name: string, part: string): ValueError {
  return new ValueError(
    `importOnnx: ${module._source}: initializer '${name}' cannot be a state-dict path: its part '${part}' ${part === '' ? 'is empty' : part.startsWith('_') ? "starts with '_' (a module's private field)" : 'is a member every module has'}; rename the initializer in the file`,
  );
}

function constantValue(t: OnnxTensor): Value {
  if (t.floats !== undefined) return { kind: 'tensor', t: new Tensor(t.floats instanceof Float64Array ? Float64Array.from(t.floats) : Float32Array.from(t.floats), t.dims) };
  return { kind: 'ints', dims: [...t.dims], v: [...(t.ints ?? [])] };
}

// ---------------------------------------------------------------------------
// Nodes

/** Every op importOnnx runs (the message of an unsupported one lists these). */
const ONNX_IMPORT_OPS: readonly string[] = [
  'Abs', 'Add', 'AveragePool', 'BatchNormalization', 'Cast', 'Clip', 'Concat', 'Constant', 'ConstantOfShape', 'Conv', 'ConvTranspose', 'Div', 'Dropout', 'Elu',
  'Equal', 'Erf (inside GELU)', 'Exp', 'Flatten', 'Gather', 'Gelu', 'Gemm', 'GlobalAveragePool', 'GlobalMaxPool', 'Greater', 'Identity', 'LRN', 'LeakyRelu', 'Less',
  'Log', 'LogSoftmax', 'LpPool', 'MatMul', 'Max', 'MaxPool', 'Min', 'Mul', 'Neg', 'PRelu', 'Pad', 'Pow', 'Reciprocal', 'ReduceMax', 'ReduceMean', 'ReduceMin',
  'ReduceSum', 'Relu', 'Reshape', 'Resize', 'Shape', 'Sigmoid', 'Sign', 'Slice', 'Softmax', 'Softplus', 'Sqrt', 'Squeeze', 'Sub', 'Sum', 'Tanh', 'Transpose',
  'Unsqueeze', 'Upsample', 'Where',
];

/** What a node's last run resolved (its pads, its weight's fan-in): what summary() reads. */
interface NodeGeometry {
  /** Conv and the pools: the window, its padding the top and left pads. */
  window?: WindowGeometry;
  transposed?: TransposedGeometry;
  /** Conv, ConvTranspose, Gemm, MatMul: inputs per output unit, and whether there is a bias. */
  fanIn?: number;
  bias?: boolean;
  /** Pad: how far the first row and column moved ([top, left], negative for a crop). */
  shift?: [number, number];
  /** Pad: the output units of one image that copy an input unit (not the constant). */
  reads?: number;
  resize?: { bilinear: boolean; alignCorners: boolean };
  /** Softmax, LogSoftmax: the axis, counted with the batch. */
  axis?: number;
}

interface Ctx {
  node: OnnxNode;
  /** Set by each run (see NodeGeometry). */
  seen: NodeGeometry;
  opset: number;
  where: string;
  fail(what: string): never;
  attr(name: string): OnnxAttribute | undefined;
  int(name: string, dflt: number): number;
  float(name: string, dflt: number): number;
  str(name: string, dflt: string): string;
  ints(name: string): number[] | null;
}

function context(node: OnnxNode, index: number, opset: number, source: string): Ctx {
  const where = `importOnnx: ${source}: node ${index}${node.name ? ` '${node.name}'` : ''} (${node.opType}, opset ${opset})`;
  const fail = (what: string): never => {
    throw new ValueError(`${where}: ${what}`);
  };
  const get = (name: string, type: OnnxAttribute['type']) => {
    const a = node.attributes[name];
    if (a === undefined) return undefined;
    if (a.type !== type) fail(`attribute '${name}' must be of type ${type}, got ${a.type}`);
    return a.value;
  };
  return {
    node, opset, where, fail, seen: {},
    attr: (name) => node.attributes[name],
    int: (name, dflt) => (get(name, 'int') as number | undefined) ?? dflt,
    float: (name, dflt) => (get(name, 'float') as number | undefined) ?? dflt,
    str: (name, dflt) => (get(name, 'string') as string | undefined) ?? dflt,
    ints: (name) => (get(name, 'ints') as number[] | undefined) ?? null,
  };
}

const tensorOf = (v: Value): Tensor => (v.kind === 'tensor' ? v.t : new Tensor(Float32Array.from(v.v), v.dims));
const T = (t: Tensor): Value => ({ kind: 'tensor', t });
const I = (dims: number[], v: number[]): Value => ({ kind: 'ints', dims, v });

/** Reads input k of the node from env ('' or absent: undefined). */
function inputOf(env: Env, c: Ctx, k: number): Value | undefined {
  const name = c.node.inputs[k];
  if (name === undefined || name === '') return undefined;
  return env.get(name)!;
}

function needTensor(env: Env, c: Ctx, k: number): Tensor {
  const v = inputOf(env, c, k);
  if (v === undefined) c.fail(`input ${k} is required`);
  return tensorOf(v!);
}

/** An input that must be integers known now (shapes, axes, pads). */
function needInts(env: Env, c: Ctx, k: number, what: string): number[] {
  const v = inputOf(env, c, k);
  if (v === undefined) c.fail(`input ${k} (${what}) is required`);
  if (v!.kind === 'ints') return v!.v;
  // float tensors holding whole numbers (Resize scales are floats; so are some shape constants)
  if (v!.t.requiresGrad) c.fail(`input ${k} (${what}) must be a constant, but it is computed from the data`);
  return Array.from(v!.t.data);
}

function optInts(env: Env, c: Ctx, k: number, what: string): number[] | null {
  return inputOf(env, c, k) === undefined ? null : needInts(env, c, k, what);
}

const normAxis = (c: Ctx, axis: number, rank: number) => {
  const a = axis < 0 ? axis + rank : axis;
  if (!(a >= 0 && a < rank)) c.fail(`axis ${axis} is outside a rank-${rank} value`);
  return a;
};

function setOut(env: Env, c: Ctx, v: Value): void {
  env.set(c.node.outputs[0], v);
}

/** Refuses extra outputs a node would have to compute (a mask, indices, running statistics) when the graph reads them. */
function singleOutput(c: Ctx, what: string): void {
  if (c.node.outputs.slice(1).some((o) => o !== '')) c.fail(`its output${c.node.outputs.length > 2 ? 's' : ''} after the first (${what}) ${c.node.outputs.length > 2 ? 'are' : 'is'} not computed by Stride; export the model for inference (eval mode)`);
}

type Compiler = (c: Ctx) => Run;

function compileNode(node: OnnxNode, index: number, opset: number, source: string): { run: Run; ctx: Ctx } {
  const c = context(node, index, opset, source);
  const compile = COMPILERS[node.opType];
  if (compile === undefined) {
    if (node.opType === 'Erf') {
      c.fail("Stride has no erf op; an Erf is imported only inside GELU's form x/2 (1 + erf(x / sqrt 2)), which this one is not");
    }
    c.fail(`op ${node.opType} is not supported; Stride imports ${ONNX_IMPORT_OPS.join(', ')}`);
  }
  return { run: compile!(c), ctx: c };
}

const unary = (f: (t: Tensor) => Tensor): Compiler => (c) => (env) => setOut(env, c, T(f(needTensor(env, c, 0))));

/** Elementwise binary ops: on integers when both are integers (shape arithmetic), else on tensors. */
const binary = (f: (a: Tensor, b: Tensor) => Tensor, ints?: (a: number, b: number) => number): Compiler => (c) => (env) => {
  const a = inputOf(env, c, 0);
  const b = inputOf(env, c, 1);
  if (a === undefined || b === undefined) c.fail('it takes two inputs');
  if (ints !== undefined && a!.kind === 'ints' && b!.kind === 'ints') {
    const n = Math.max(a!.v.length, b!.v.length);
    if (a!.v.length !== n && a!.v.length !== 1) c.fail(`integer operands of ${a!.v.length} and ${b!.v.length} values do not broadcast`);
    if (b!.v.length !== n && b!.v.length !== 1) c.fail(`integer operands of ${a!.v.length} and ${b!.v.length} values do not broadcast`);
    const v = Array.from({ length: n }, (_, i) => ints(a!.v[a!.v.length === 1 ? 0 : i], b!.v[b!.v.length === 1 ? 0 : i]));
    setOut(env, c, I(a!.v.length >= b!.v.length ? a!.dims : b!.dims, v));
    return;
  }
  setOut(env, c, T(f(tensorOf(a!), tensorOf(b!))));
};

const variadic = (f: (a: Tensor, b: Tensor) => Tensor): Compiler => (c) => (env) => {
  const ts = c.node.inputs.map((_, k) => needTensor(env, c, k));
  if (ts.length === 0) c.fail('it needs at least one input');
  setOut(env, c, T(ts.slice(1).reduce(f, ts[0])));
};

/** Pads a 2-D op's attribute form (auto_pad, pads) resolves to: [top, left, bottom, right]. */
function spatialPads(c: Ctx, inH: number, inW: number, k: [number, number], s: [number, number], d: [number, number]): [number, number, number, number] {
  const autoPad = c.str('auto_pad', 'NOTSET');
  if (autoPad === 'NOTSET') {
    const p = c.ints('pads') ?? [0, 0, 0, 0];
    if (p.length !== 4) c.fail(`pads must hold 4 values [top, left, bottom, right] for a 2-D op, got [${p.join(', ')}]`);
    if (p.some((v) => v < 0)) c.fail(`negative pads [${p.join(', ')}] are not supported`);
    return [p[0], p[1], p[2], p[3]];
  }
  if (autoPad === 'VALID') return [0, 0, 0, 0];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const one = (n: number, kk: number, ss: number, dd: number): [number, number] => {
      const total = Math.max(0, (Math.ceil(n / ss) - 1) * ss + (kk - 1) * dd + 1 - n);
      const small = Math.floor(total / 2);
      return autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    };
    const [t, b] = one(inH, k[0], s[0], d[0]);
    const [l, r] = one(inW, k[1], s[1], d[1]);
    return [t, l, b, r];
  }
  return c.fail(`auto_pad '${autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
}

function pair2(c: Ctx, name: string, dflt: [number, number]): [number, number] {
  const v = c.ints(name);
  if (v === null) return dflt;
  if (v.length !== 2) c.fail(`${name} must hold 2 values for a 2-D op (Stride runs 2-D convolutions and pools), got [${v.join(', ')}]`);
  if (v.some((x) => !(x >= 1))) c.fail(`${name} must be positive, got [${v.join(', ')}]`);
  return [v[0], v[1]];
}

function need4d(c: Ctx, x: Tensor, what: string): void {
  if (x.ndim !== 4) c.fail(`its input has shape ${fmtShape(x.shape)}; Stride runs ${what} on 4-D [N, C, H, W] tensors only`);
}

/** Pads the last two dims explicitly with `value` ([top, left, bottom, right]). */
function padExplicit(x: Tensor, p: [number, number, number, number], value: number): Tensor {
  if (p.every((v) => v === 0)) return x;
  return pad(x, [p[1], p[3], p[0], p[2]], 'constant', value);
}

function poolCommon(c: Ctx) {
  const kernel = c.ints('kernel_shape');
  if (kernel === null || kernel.length !== 2) c.fail(`kernel_shape must hold 2 values (Stride pools 2-D), got ${kernel === null ? 'none' : `[${kernel.join(', ')}]`}`);
  const k: [number, number] = [kernel![0], kernel![1]];
  const s = pair2(c, 'strides', [1, 1]);
  const d = pair2(c, 'dilations', [1, 1]);
  const ceil = c.int('ceil_mode', 0) === 1;
  const autoPad = c.str('auto_pad', 'NOTSET');
  if (!['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'].includes(autoPad)) c.fail(`auto_pad '${autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
  return { k, s, d, ceil };
}

const limit = (k: number, d: number) => Math.floor((d * (k - 1) + 1) / 2);

const COMPILERS: Record<string, Compiler> = {
  Identity: (c) => (env) => setOut(env, c, inputOf(env, c, 0)!),
  Constant(c) {
    const a = Object.entries(c.node.attributes);
    if (a.length !== 1) c.fail(`a Constant takes exactly one value attribute, got ${a.map(([k]) => k).join(', ') || 'none'}`);
    const [name, attr] = a[0];
    let value: Value;
    if (name === 'value' && attr.type === 'tensor') value = constantValue(attr.value);
    else if (name === 'value_float' && attr.type === 'float') value = T(new Tensor(Float32Array.of(attr.value), []));
    else if (name === 'value_floats' && attr.type === 'floats') value = T(new Tensor(Float32Array.from(attr.value), [attr.value.length]));
    else if (name === 'value_int' && attr.type === 'int') value = I([], [attr.value]);
    else if (name === 'value_ints' && attr.type === 'ints') value = I([attr.value.length], attr.value);
    else return c.fail(`value attribute '${name}' (${attr.type}) is not read (value, value_float(s), value_int(s) are)`);
    return (env) => setOut(env, c, value);
  },
  ConstantOfShape(c) {
    const a = c.attr('value');
    const t = a === undefined ? null : a.type === 'tensor' ? a.value : c.fail('value must be a tensor');
    const fill = t === null ? 0 : Number((t.floats ?? t.ints ?? [0])[0]);
    const isFloat = t === null || t.floats !== undefined;
    return (env) => {
      const shape = needInts(env, c, 0, 'shape');
      const n = shape.reduce((p, d) => p * d, 1);
      setOut(env, c, isFloat ? T(new Tensor(new Float32Array(n).fill(fill), shape)) : I(shape, new Array<number>(n).fill(fill)));
    };
  },
  Cast(c) {
    const to = c.int('to', ONNX_DTYPE.FLOAT);
    const toFloat = FLOAT_TYPES.includes(to);
    const toInt = ([ONNX_DTYPE.INT64, ONNX_DTYPE.INT32, ONNX_DTYPE.INT8, ONNX_DTYPE.UINT8, ONNX_DTYPE.BOOL] as number[]).includes(to);
    if (!toFloat && !toInt) c.fail(`a cast to ${onnxDtypeName(to)} is not supported (casts to float types and to integers are)`);
    return (env) => {
      const v = inputOf(env, c, 0)!;
      if (toFloat) return setOut(env, c, T(tensorOf(v)));
      if (v.kind === 'ints') return setOut(env, c, v);
      if (v.t.requiresGrad) c.fail('a cast of a computed float tensor to integers is not differentiable and not supported');
      setOut(env, c, I([...v.t.shape], Array.from(v.t.data, (x) => (to === ONNX_DTYPE.BOOL ? (x !== 0 ? 1 : 0) : Math.trunc(x)))));
    };
  },
  Dropout(c) {
    singleOutput(c, 'the mask');
    const ratioAttr = c.opset < 12 ? c.float('ratio', 0.5) : 0.5;
    return (env, m) => {
      const x = needTensor(env, c, 0);
      const ratio = c.opset >= 12 && inputOf(env, c, 1) !== undefined ? needInts(env, c, 1, 'ratio')[0] : ratioAttr;
      setOut(env, c, T(m.training ? dropout(x, ratio, { training: true }) : x));
    };
  },
  Relu: unary(relu),
  Sigmoid: unary(sigmoid),
  Tanh: unary(tanh),
  Neg: unary(neg),
  Exp: unary(exp),
  Log: unary(log),
  Sqrt: unary(sqrt),
  Abs: unary(abs),
  Reciprocal: unary(reciprocal),
  Sign: unary(sign),
  Softplus: unary((x) => softplus(x)),
  LeakyRelu: (c) => {
    const alpha = c.float('alpha', 0.01);
    return unary((x) => leakyRelu(x, alpha))(c);
  },
  Elu: (c) => {
    const alpha = c.float('alpha', 1);
    return unary((x) => elu(x, alpha))(c);
  },
  Gelu: (c) => {
    const approximate = c.str('approximate', 'none');
    if (approximate !== 'none' && approximate !== 'tanh') c.fail(`approximate '${approximate}' is not 'none' or 'tanh'`);
    return unary((x) => gelu(x, { approximate: approximate as 'none' | 'tanh' }))(c);
  },
  PRelu: (c) => (env) => {
    const x = needTensor(env, c, 0);
    const slope = needTensor(env, c, 1);
    // max(0, x) + slope * min(0, x)
    setOut(env, c, T(sub(relu(x), mul(slope, relu(neg(x))))));
  },
  Clip(c) {
    const lo = c.opset < 11 ? c.float('min', -Infinity) : null;
    const hi = c.opset < 11 ? c.float('max', Infinity) : null;
    return (env) => {
      const x = needTensor(env, c, 0);
      const bound = (k: number, d: number | null) => (d !== null ? d : inputOf(env, c, k) === undefined ? null : needInts(env, c, k, k === 1 ? 'min' : 'max')[0]);
      setOut(env, c, T(clamp(x, bound(1, lo), bound(2, hi))));
    };
  },
  Add: binary(add, (a, b) => a + b),
  Sub: binary(sub, (a, b) => a - b),
  Mul: binary(mul, (a, b) => a * b),
  Div: binary(div, (a, b) => Math.trunc(a / b)),
  Pow: binary(pow),
  Greater: binary(gt),
  Less: binary(lt),
  Equal: binary(eq, (a, b) => (a === b ? 1 : 0)),
  Max: variadic(maximum),
  Min: variadic(minimum),
  Sum: variadic(add),
  Where: (c) => (env) => setOut(env, c, T(where(needTensor(env, c, 0), needTensor(env, c, 1), needTensor(env, c, 2)))),
  Softmax: (c) => softmaxLike(c, softmax),
  LogSoftmax: (c) => softmaxLike(c, logSoftmax),
  Conv(c) {
    const group = c.int('group', 1);
    const d = pair2(c, 'dilations', [1, 1]);
    const s = pair2(c, 'strides', [1, 1]);
    const kernel = c.ints('kernel_shape');
    if (kernel !== null && kernel.length !== 2) c.fail(`kernel_shape [${kernel.join(', ')}] is not 2-D; Stride runs 2-D convolutions only`);
    return (env) => {
      const x = needTensor(env, c, 0);
      const w = needTensor(env, c, 1);
      const b = inputOf(env, c, 2);
      need4d(c, x, 'Conv');
      if (w.ndim !== 4) c.fail(`weight has shape ${fmtShape(w.shape)}; a 2-D convolution's weight is 4-D`);
      if (kernel !== null && (kernel[0] !== w.shape[2] || kernel[1] !== w.shape[3])) c.fail(`kernel_shape [${kernel.join(', ')}] disagrees with the weight ${fmtShape(w.shape)}`);
      const [t, l, bo, r] = spatialPads(c, x.shape[2], x.shape[3], [w.shape[2], w.shape[3]], s, d);
      c.seen = { window: { kernel: [w.shape[2], w.shape[3]], stride: s, padding: [t, l], dilation: d }, fanIn: w.shape[1] * w.shape[2] * w.shape[3], bias: b !== undefined };
      setOut(env, c, T(conv2d(x, w, b === undefined ? null : tensorOf(b), { stride: s, dilation: d, groups: group, padding: [t, bo, l, r] })));
    };
  },
  ConvTranspose(c) {
    const group = c.int('group', 1);
    const d = pair2(c, 'dilations', [1, 1]);
    const s = pair2(c, 'strides', [1, 1]);
    if (c.str('auto_pad', 'NOTSET') !== 'NOTSET') c.fail(`auto_pad '${c.str('auto_pad', '')}' is not supported for ConvTranspose (give pads)`);
    if (c.attr('output_shape') !== undefined) c.fail('output_shape is not supported (give pads and output_padding)');
    const p = c.ints('pads') ?? [0, 0, 0, 0];
    if (p.length !== 4 || p[0] !== p[2] || p[1] !== p[3]) c.fail(`pads [${p.join(', ')}] must be 2-D and the same at both ends of each axis (Stride's convTranspose2d pads symmetrically)`);
    const op = c.ints('output_padding') ?? [0, 0];
    if (op.length !== 2) c.fail(`output_padding must hold 2 values, got [${op.join(', ')}]`);
    return (env) => {
      const x = needTensor(env, c, 0);
      const b = inputOf(env, c, 2);
      need4d(c, x, 'ConvTranspose');
      const w = needTensor(env, c, 1);
      if (w.ndim !== 4) c.fail(`weight has shape ${fmtShape(w.shape)}; a 2-D transposed convolution's weight is 4-D`);
      c.seen = {
        transposed: { inChannels: w.shape[0], outChannels: w.shape[1] * group, groups: group, kernel: [w.shape[2], w.shape[3]], stride: s, padding: [p[0], p[1]], dilation: d, bias: b !== undefined },
      };
      setOut(env, c, T(convTranspose2d(x, w, b === undefined ? null : tensorOf(b), {
        stride: s, dilation: d, groups: group, padding: [p[0], p[1]], outputPadding: [op[0], op[1]],
      })));
    };
  },
  Gemm(c) {
    const alpha = c.float('alpha', 1);
    const beta = c.float('beta', 1);
    const transA = c.int('transA', 0) === 1;
    const transB = c.int('transB', 0) === 1;
    return (env) => {
      let a = needTensor(env, c, 0);
      const b = needTensor(env, c, 1);
      const cv = inputOf(env, c, 2);
      if (a.ndim !== 2 || b.ndim !== 2) c.fail(`Gemm multiplies 2-D matrices, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
      if (transA) a = permute(a, [1, 0]);
      const bias = cv === undefined ? null : tensorOf(cv);
      const n = transB ? b.shape[0] : b.shape[1];
      c.seen = { fanIn: transB ? b.shape[1] : b.shape[0], bias: bias !== null && beta !== 0 };
      // the common case, a linear layer: x W^T + b with b of n values
      if (transB && alpha === 1 && beta === 1 && (bias === null || (bias.size === n && bias.shape[bias.ndim - 1] === n))) {
        setOut(env, c, T(linear(a, b, bias === null ? null : bias.ndim === 1 ? bias : reshape(bias, [n]))));
        return;
      }
      let y = matmul(a, transB ? permute(b, [1, 0]) : b);
      if (alpha !== 1) y = mul(y, alpha);
      if (bias !== null && beta !== 0) y = add(y, beta === 1 ? bias : mul(bias, beta));
      setOut(env, c, T(y));
    };
  },
  MatMul: (c) => (env) => {
    const b = needTensor(env, c, 1);
    c.seen = { fanIn: b.ndim >= 2 ? b.shape[b.ndim - 2] : b.shape[0], bias: false };
    setOut(env, c, T(matmul(needTensor(env, c, 0), b)));
  },
  BatchNormalization(c) {
    const eps = c.float('epsilon', 1e-5);
    const momentum = c.float('momentum', 0.9);
    if (c.int('training_mode', 0) === 1) c.fail('training_mode 1 (a graph exported in training mode) is not supported; export in eval mode: the imported module switches to batch statistics itself in train()');
    if (c.opset < 9 && c.int('spatial', 1) !== 1) c.fail('spatial 0 (statistics per position) is not supported');
    singleOutput(c, 'running and saved statistics');
    return (env, m) => {
      const x = needTensor(env, c, 0);
      if (x.ndim < 2 || x.ndim > 4) c.fail(`its input has shape ${fmtShape(x.shape)}; Stride normalizes [N, C], [N, C, L] and [N, C, H, W] inputs`);
      const x4 = x.ndim === 4 ? x : reshape(x, [...x.shape, ...new Array<number>(4 - x.ndim).fill(1)]);
      const y = batchNorm2d(x4, needTensor(env, c, 3), needTensor(env, c, 4), needTensor(env, c, 1), needTensor(env, c, 2), { training: m.training, momentum: 1 - momentum, eps });
      setOut(env, c, T(x.ndim === 4 ? y : reshape(y, x.shape)));
    };
  },
  MaxPool(c) {
    const { k, s, d, ceil } = poolCommon(c);
    if (c.int('storage_order', 0) !== 0 && c.node.outputs[1]) c.fail('storage_order 1 (column-major indices) is not supported');
    singleOutput(c, 'the indices');
    return (env) => {
      const x = needTensor(env, c, 0);
      need4d(c, x, 'MaxPool');
      const [t, l, b, r] = spatialPads(c, x.shape[2], x.shape[3], k, s, d);
      c.seen = { window: { kernel: k, stride: s, padding: [t, l], dilation: d } };
      if (t === b && l === r && t <= limit(k[0], d[0]) && l <= limit(k[1], d[1])) {
        setOut(env, c, T(maxPool2d(x, k, { stride: s, dilation: d, padding: [t, l], ceilMode: ceil })));
      } else {
        setOut(env, c, T(maxPool2d(padExplicit(x, [t, l, b, r], -Infinity), k, { stride: s, dilation: d, ceilMode: ceil })));
      }
    };
  },
  AveragePool(c) {
    const { k, s, d, ceil } = poolCommon(c);
    if (d[0] !== 1 || d[1] !== 1) c.fail(`dilations [${d.join(', ')}] are not supported for average pooling`);
    const includePad = c.int('count_include_pad', 0) === 1;
    return (env) => {
      const x = needTensor(env, c, 0);
      need4d(c, x, 'AveragePool');
      const [t, l, b, r] = spatialPads(c, x.shape[2], x.shape[3], k, s, d);
      c.seen = { window: { kernel: k, stride: s, padding: [t, l], dilation: d } };
      if (t === b && l === r && t <= limit(k[0], 1) && l <= limit(k[1], 1)) {
        setOut(env, c, T(avgPool2d(x, k, { stride: s, padding: [t, l], ceilMode: ceil, countIncludePad: includePad })));
        return;
      }
      const pooled = avgPool2d(padExplicit(x, [t, l, b, r], 0), k, { stride: s, ceilMode: ceil, countIncludePad: true });
      if (includePad) return setOut(env, c, T(pooled));
      // the mean over the real inputs only: divide by the share of each window that is not padding
      const ones = new Tensor(new Float32Array(x.shape[2] * x.shape[3]).fill(1), [1, 1, x.shape[2], x.shape[3]]);
      const share = avgPool2d(padExplicit(ones, [t, l, b, r], 0), k, { stride: s, ceilMode: ceil, countIncludePad: true });
      setOut(env, c, T(div(pooled, share)));
    };
  },
  LpPool(c) {
    const { k, s, d, ceil } = poolCommon(c);
    if (d[0] !== 1 || d[1] !== 1) c.fail(`dilations [${d.join(', ')}] are not supported for LP pooling`);
    const p = c.int('p', 2);
    return (env) => {
      const x = needTensor(env, c, 0);
      need4d(c, x, 'LpPool');
      // zeros add nothing to a sum of |x|^p: the padding is explicit
      const pads = spatialPads(c, x.shape[2], x.shape[3], k, s, d);
      c.seen = { window: { kernel: k, stride: s, padding: [pads[0], pads[1]], dilation: d } };
      const padded = padExplicit(x, pads, 0);
      setOut(env, c, T(lpPool2d(padded, p, k, { stride: s, ceilMode: ceil })));
    };
  },
  GlobalAveragePool: (c) => (env) => {
    const x = needTensor(env, c, 0);
    need4d(c, x, 'GlobalAveragePool');
    setOut(env, c, T(globalAvgPool2d(x, { keepDims: true })));
  },
  GlobalMaxPool: (c) => (env) => {
    const x = needTensor(env, c, 0);
    need4d(c, x, 'GlobalMaxPool');
    setOut(env, c, T(globalMaxPool2d(x, { keepDims: true })));
  },
  LRN(c) {
    const size = c.int('size', 0);
    if (!(size >= 1)) c.fail(`size must be a positive integer, got ${size}`);
    const alpha = c.float('alpha', 1e-4);
    const beta = c.float('beta', 0.75);
    const k = c.float('bias', 1);
    return (env) => setOut(env, c, T(localResponseNorm(needTensor(env, c, 0), size, { alpha, beta, k })));
  },
  Pad: compilePad,
  Resize: compileResize,
  Upsample: compileResize,
  Flatten(c) {
    const axis = c.int('axis', 1);
    return (env) => {
      const x = needTensor(env, c, 0);
      const a = axis < 0 ? axis + x.ndim : axis;
      if (!(a >= 0 && a <= x.ndim)) c.fail(`axis ${axis} is outside [${-x.ndim}, ${x.ndim}] for input ${fmtShape(x.shape)}`);
      const prod = (s: readonly number[]) => s.reduce((p, v) => p * v, 1);
      setOut(env, c, T(reshape(x, [prod(x.shape.slice(0, a)), prod(x.shape.slice(a))])));
    };
  },
  Reshape(c) {
    const allowZero = c.int('allowzero', 0) === 1;
    const attrShape = c.opset < 5 ? c.ints('shape') : null;
    return (env) => {
      const v = inputOf(env, c, 0)!;
      const target = attrShape ?? needInts(env, c, 1, 'shape');
      const shape = v.kind === 'tensor' ? v.t.shape : v.dims;
      const out = target.map((d, i) => (d === 0 && !allowZero ? (i < shape.length ? shape[i] : c.fail(`shape [${target.join(', ')}] copies dim ${i} (a 0), which the input ${fmtShape(shape)} lacks`)) : d));
      const known = out.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
      const size = shape.reduce((p, d) => p * d, 1);
      const resolved = out.map((d) => (d === -1 ? size / known : d));
      if (v.kind === 'ints') {
        if (resolved.reduce((p, d) => p * d, 1) !== v.v.length) c.fail(`shape [${target.join(', ')}] does not fit ${v.v.length} values`);
        return setOut(env, c, I(resolved, v.v));
      }
      setOut(env, c, T(reshape(v.t, out)));
    };
  },
  Transpose(c) {
    const perm = c.ints('perm');
    return (env) => {
      const x = needTensor(env, c, 0);
      setOut(env, c, T(permute(x, perm ?? x.shape.map((_, i) => x.ndim - 1 - i))));
    };
  },
  Squeeze(c) {
    const attrAxes = c.opset < 13 ? c.ints('axes') : null;
    return (env) => {
      const v = inputOf(env, c, 0)!;
      const shape = v.kind === 'tensor' ? v.t.shape : v.dims;
      const axes = (attrAxes ?? optInts(env, c, 1, 'axes'))?.map((a) => normAxis(c, a, shape.length)) ?? shape.flatMap((d, i) => (d === 1 ? [i] : []));
      for (const a of axes) if (shape[a] !== 1) c.fail(`axis ${a} of ${fmtShape(shape)} has size ${shape[a]}, not 1`);
      const out = shape.filter((_, i) => !axes.includes(i));
      setOut(env, c, v.kind === 'tensor' ? T(reshape(v.t, out)) : I(out, v.v));
    };
  },
  Unsqueeze(c) {
    const attrAxes = c.opset < 13 ? c.ints('axes') : null;
    return (env) => {
      const v = inputOf(env, c, 0)!;
      const shape = v.kind === 'tensor' ? [...v.t.shape] : [...v.dims];
      const axes = attrAxes ?? needInts(env, c, 1, 'axes');
      const rank = shape.length + axes.length;
      const sorted = axes.map((a) => normAxis(c, a, rank)).sort((p, q) => p - q);
      for (const a of sorted) shape.splice(a, 0, 1);
      setOut(env, c, v.kind === 'tensor' ? T(reshape(v.t, shape)) : I(shape, v.v));
    };
  },
  Shape(c) {
    const start = c.int('start', 0);
    const end = c.attr('end') === undefined ? null : c.int('end', 0);
    return (env) => {
      const v = inputOf(env, c, 0)!;
      const shape = v.kind === 'tensor' ? [...v.t.shape] : [...v.dims];
      const clip = (i: number) => Math.min(Math.max(i < 0 ? i + shape.length : i, 0), shape.length);
      const out = shape.slice(clip(start), end === null ? shape.length : clip(end));
      setOut(env, c, I([out.length], out));
    };
  },
  Gather(c) {
    const axis = c.int('axis', 0);
    return (env) => {
      const v = inputOf(env, c, 0)!;
      const idx = inputOf(env, c, 1);
      if (idx === undefined || idx.kind !== 'ints') return c.fail('indices must be integers known before the data (constants or shapes)');
      const shape = v.kind === 'tensor' ? v.t.shape : v.dims;
      const a = normAxis(c, axis, shape.length);
      const n = shape[a];
      const indices = idx.v.map((i) => (i < 0 ? i + n : i));
      if (indices.some((i) => i < 0 || i >= n)) c.fail(`indices [${idx.v.join(', ')}] are outside an axis of size ${n}`);
      const outShape = [...shape.slice(0, a), ...idx.dims, ...shape.slice(a + 1)];
      if (v.kind === 'tensor') return setOut(env, c, T(reshape(indexSelect(v.t, a, indices), outShape)));
      // integers: the common case is a 1-D shape
      const inner = shape.slice(a + 1).reduce((p, d) => p * d, 1);
      const outer = shape.slice(0, a).reduce((p, d) => p * d, 1);
      const out: number[] = [];
      for (let o = 0; o < outer; o++) for (const i of indices) for (let j = 0; j < inner; j++) out.push(v.v[(o * n + i) * inner + j]);
      setOut(env, c, I(outShape, out));
    };
  },
  Concat(c) {
    const axis = c.attr('axis') === undefined ? c.fail('axis is required') : c.int('axis', 0);
    return (env) => {
      const vs = c.node.inputs.filter((n) => n !== '').map((n) => env.get(n)!);
      if (vs.length === 0) c.fail('it needs at least one input');
      if (vs.every((v) => v.kind === 'ints')) {
        const ints = vs as { kind: 'ints'; dims: number[]; v: number[] }[];
        if (ints.some((v) => v.dims.length !== 1)) c.fail('concatenating integer tensors of rank other than 1 is not supported');
        const v = ints.flatMap((x) => x.v);
        return setOut(env, c, I([v.length], v));
      }
      const ts = vs.map(tensorOf);
      setOut(env, c, T(concat(ts, normAxis(c, axis, ts[0].ndim))));
    };
  },
  Slice(c) {
    const attrForm = c.opset < 10;
    const aStarts = attrForm ? c.ints('starts') : null;
    const aEnds = attrForm ? c.ints('ends') : null;
    const aAxes = attrForm ? c.ints('axes') : null;
    if (attrForm && (aStarts === null || aEnds === null)) c.fail('starts and ends are required');
    return (env) => {
      const v = inputOf(env, c, 0)!;
      const starts = aStarts ?? needInts(env, c, 1, 'starts');
      const ends = aEnds ?? needInts(env, c, 2, 'ends');
      const shape = v.kind === 'tensor' ? v.t.shape : v.dims;
      const axes = aAxes ?? optInts(env, c, 3, 'axes') ?? starts.map((_, i) => i);
      const steps = attrForm ? starts.map(() => 1) : optInts(env, c, 4, 'steps') ?? starts.map(() => 1);
      if (steps.some((s) => s <= 0)) c.fail(`steps [${steps.join(', ')}] must be positive (Stride slices forwards)`);
      if (v.kind === 'ints') {
        if (v.dims.length !== 1 || axes.length !== 1 || normAxis(c, axes[0], 1) !== 0) c.fail('slicing integer tensors is supported for 1-D values only');
        const n = v.v.length;
        const clip = (i: number) => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
        const out = v.v.slice(clip(starts[0]), clip(ends[0])).filter((_, i) => i % steps[0] === 0);
        return setOut(env, c, I([out.length], out));
      }
      let t = v.t;
      // along height and width a slice is a 1x1 window: its stride the step, its first row or column the start
      const stride: [number, number] = [1, 1];
      const padding: [number, number] = [0, 0];
      axes.forEach((axis, i) => {
        const a = normAxis(c, axis, shape.length);
        const n = shape[a];
        const clip = (x: number) => Math.min(Math.max(x < 0 ? x + n : x, 0), n);
        const s = clip(starts[i]);
        const e = ends[i] >= INT64_MAX_LIKE ? n : clip(ends[i]);
        if (s === 0 && e === n && steps[i] === 1) return;
        const spatial = shape.length >= 3 && a >= Math.max(shape.length - 2, 2) ? a - (shape.length - 2) : -1;
        if (spatial >= 0) [stride[spatial], padding[spatial]] = [steps[i], -s];
        t = slice(t, a, s, Math.max(s, e), steps[i]);
      });
      c.seen = { window: { kernel: [1, 1], stride, padding, dilation: [1, 1] } };
      setOut(env, c, T(t));
    };
  },
  ReduceSum: (c) => compileReduce(c, sum, 13),
  ReduceMean: (c) => compileReduce(c, mean, 18),
  ReduceMax: (c) => compileReduce(c, max, 18),
  ReduceMin: (c) => compileReduce(c, min, 18),
};

function softmaxLike(c: Ctx, f: (x: Tensor, dim: number) => Tensor): Run {
  const modern = c.opset >= 13;
  const axis = c.int('axis', modern ? -1 : 1);
  return (env) => {
    const x = needTensor(env, c, 0);
    const a = normAxis(c, axis, x.ndim);
    c.seen = { axis: a };
    if (modern) return setOut(env, c, T(f(x, a)));
    // before opset 13: the input is seen as 2-D [prod(dims before axis), prod(the rest)]
    const prod = (s: readonly number[]) => s.reduce((p, v) => p * v, 1);
    const flat = reshape(x, [prod(x.shape.slice(0, a)), prod(x.shape.slice(a))]);
    setOut(env, c, T(reshape(f(flat, 1), x.shape)));
  };
}

function compileReduce(c: Ctx, f: (x: Tensor, dims?: number[], o?: { keepDims?: boolean }) => Tensor, axesInputFrom: number): Run {
  const keep = c.int('keepdims', 1) === 1;
  const noopEmpty = c.int('noop_with_empty_axes', 0) === 1;
  const attrAxes = c.opset < axesInputFrom ? c.ints('axes') : null;
  return (env) => {
    const x = needTensor(env, c, 0);
    const axes = c.opset < axesInputFrom ? attrAxes : optInts(env, c, 1, 'axes');
    if ((axes === null || axes.length === 0) && noopEmpty) return setOut(env, c, T(x));
    const dims = axes === null || axes.length === 0 ? x.shape.map((_, i) => i) : axes.map((a) => normAxis(c, a, x.ndim));
    setOut(env, c, T(f(x, dims, { keepDims: keep })));
  };
}

const PAD_MODES: Record<string, 'constant' | 'reflect' | 'replicate' | 'circular'> = { constant: 'constant', reflect: 'reflect', edge: 'replicate', wrap: 'circular' };

function compilePad(c: Ctx): Run {
  const modeName = c.str('mode', 'constant');
  const mode = PAD_MODES[modeName];
  if (mode === undefined) c.fail(`mode '${modeName}' is not one of constant, reflect, edge, wrap`);
  const attrForm = c.opset < 11;
  const attrPads = attrForm ? c.ints(c.opset < 2 ? 'paddings' : 'pads') : null;
  const attrValue = attrForm ? c.float('value', 0) : 0;
  if (attrForm && attrPads === null) c.fail('pads is required');
  return (env) => {
    let x = needTensor(env, c, 0);
    const rank = x.ndim;
    let pads = attrPads ?? needInts(env, c, 1, 'pads');
    const value = attrForm ? attrValue : inputOf(env, c, 2) === undefined ? 0 : needInts(env, c, 2, 'constant_value')[0];
    const axesIn = attrForm ? null : optInts(env, c, 3, 'axes');
    if (axesIn !== null) {
      // pads for the listed axes only: spread them over every axis
      const full = new Array<number>(2 * rank).fill(0);
      axesIn.forEach((a, i) => {
        const ax = normAxis(c, a, rank);
        full[ax] = pads[i];
        full[rank + ax] = pads[axesIn.length + i];
      });
      pads = full;
    }
    if (pads.length !== 2 * rank) c.fail(`pads has ${pads.length} values; an input of rank ${rank} takes ${2 * rank} (begins, then ends)`);
    c.seen = { shift: rank === 3 || rank === 4 ? [rank === 4 ? pads[rank - 2] : 0, pads[rank - 1]] : [0, 0] };
    // negative pads crop
    for (let a = 0; a < rank; a++) {
      const [b, e] = [pads[a], pads[rank + a]];
      if (b < 0 || e < 0) x = slice(x, a, Math.max(0, -b), x.shape[a] - Math.max(0, -e));
    }
    const pos = pads.map((p) => Math.max(0, p));
    const spatialFrom = rank - 2;
    const copied = x.size;
    for (let a = 0; a < rank; a++) {
      const [b, e] = [pos[a], pos[rank + a]];
      if (b === 0 && e === 0) continue;
      if (a >= spatialFrom && (rank === 3 || rank === 4)) continue;
      if (mode !== 'constant') c.fail(`${modeName} padding of axis ${a} (of a rank-${rank} input) is not supported; Stride pads the last two axes in that mode`);
      // constant padding of any other axis: blocks of the value on either side
      const block = (n: number) => {
        const shape = [...x.shape];
        shape[a] = n;
        return new Tensor(new Float32Array(shape.reduce((p, d) => p * d, 1)).fill(value), shape);
      };
      x = concat([...(b > 0 ? [block(b)] : []), x, ...(e > 0 ? [block(e)] : [])], a);
    }
    if (rank === 3 || rank === 4) {
      const [top, left, bottom, right] = [pos[spatialFrom], pos[spatialFrom + 1], pos[rank + spatialFrom], pos[rank + spatialFrom + 1]];
      if (top || left || bottom || right) x = pad(x, [left, right, top, bottom], mode, mode === 'constant' ? value : 0);
    }
    c.seen.reads = (mode === 'constant' ? copied : x.size) / x.shape[0];
    setOut(env, c, T(x));
  };
}

function compileResize(c: Ctx): Run {
  const isUpsample = c.node.opType === 'Upsample';
  const mode = c.str('mode', 'nearest');
  const old = isUpsample || c.opset < 11;
  const coord = old ? 'asymmetric' : c.str('coordinate_transformation_mode', 'half_pixel');
  const nearestMode = old ? 'floor' : c.str('nearest_mode', 'round_prefer_floor');
  let stride: { mode: 'nearest' | 'bilinear'; alignCorners?: boolean };
  // pytorch_half_pixel maps an output side of 1 to the input's first row, where half_pixel (Stride's bilinear) takes the middle
  const torchHalfPixel = mode !== 'nearest' && coord === 'pytorch_half_pixel';
  if (mode === 'nearest') {
    if (coord !== 'asymmetric' || nearestMode !== 'floor') {
      c.fail(`nearest resizing with coordinate_transformation_mode '${coord}' and nearest_mode '${nearestMode}' is not supported; Stride's nearest is 'asymmetric' with 'floor' (PyTorch's)`);
    }
    stride = { mode: 'nearest' };
  } else if (mode === 'linear' || mode === 'bilinear') {
    if (coord === 'align_corners') stride = { mode: 'bilinear', alignCorners: true };
    else if (coord === 'pytorch_half_pixel' || coord === 'half_pixel') stride = { mode: 'bilinear', alignCorners: false };
    else return c.fail(`linear resizing with coordinate_transformation_mode '${coord}' is not supported; Stride's bilinear is 'half_pixel'/'pytorch_half_pixel' or 'align_corners'`);
  } else {
    return c.fail(`mode '${mode}' is not supported (nearest and linear are)`);
  }
  if (!old && c.attr('antialias') !== undefined && c.int('antialias', 0) !== 0) c.fail('antialias is not supported');
  if (!old && c.str('keep_aspect_ratio_policy', 'stretch') !== 'stretch') c.fail('keep_aspect_ratio_policy other than stretch is not supported');
  const attrScales = isUpsample && c.opset < 9 ? (c.attr('scales')?.type === 'floats' ? (c.attr('scales')!.value as number[]) : c.fail('scales is required')) : null;
  const checkSides = (x: Tensor, outH: number, outW: number) => {
    if (torchHalfPixel && ((outH === 1 && x.shape[2] > 1) || (outW === 1 && x.shape[3] > 1))) {
      c.fail(`pytorch_half_pixel resizing of ${fmtShape(x.shape)} to a side of size 1 samples the first row or column, which Stride's bilinear (half_pixel there) does not; resize to sides larger than 1`);
    }
  };
  return (env) => {
    const x = needTensor(env, c, 0);
    need4d(c, x, c.node.opType);
    c.seen = { resize: { bilinear: stride.mode === 'bilinear', alignCorners: stride.alignCorners ?? false } };
    let scales: number[] | null = attrScales;
    let sizes: number[] | null = null;
    if (scales === null) {
      if (isUpsample || c.opset < 11) scales = needInts(env, c, 1, 'scales');
      else {
        const sc = optInts(env, c, 2, 'scales');
        sizes = optInts(env, c, 3, 'sizes');
        scales = sc !== null && sc.length > 0 ? sc : null;
      }
    }
    if (scales !== null) {
      if (scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1) c.fail(`scales [${scales.join(', ')}] must be [1, 1, h, w] (Stride resizes height and width)`);
      checkSides(x, Math.floor(x.shape[2] * scales[2]), Math.floor(x.shape[3] * scales[3]));
      return setOut(env, c, T(upsampleOp(x, { ...stride, scaleFactor: [scales[2], scales[3]] })));
    }
    if (sizes === null || sizes.length !== 4) c.fail('it needs scales or sizes for the 4 axes');
    if (sizes![0] !== x.shape[0] || sizes![1] !== x.shape[1]) c.fail(`sizes [${sizes!.join(', ')}] change the batch or channels of ${fmtShape(x.shape)}`);
    checkSides(x, sizes![2], sizes![3]);
    setOut(env, c, T(upsampleOp(x, { ...stride, size: [sizes![2], sizes![3]] })));
  };
}
