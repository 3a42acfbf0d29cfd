/**
 * Tracing a model for export, as torch.onnx.export and torch.jit.trace do:
 * the model runs once in eval mode on an input that requires a gradient, so
 * every op on the way from the input to the output records itself on the
 * autograd tape (GradFn: the op's name, its inputs and its attributes). The
 * exporters (ONNX, PyTorch code) write those ops again. Dropout is the
 * identity in eval mode and records nothing; a layer's functional calls (a
 * residual block's add and ReLU) are traced like its layers' ops.
 *
 * Each recorded op is also given the module that made it (Trace.scopes, its
 * state-dict prefix): every module's forward is wrapped for the trace (and
 * put back after), and when a call returns, the ops between its inputs and
 * its output that no module inside it claimed are its own. A residual
 * block's add is the block's; an op of the model's own forward has none.
 */
import { enableGrad, isPlaceholder } from '../autograd/tape.js';
import { ShapeError, ValueError } from '../errors.js';
import type { Module } from '../nn/module.js';
import { Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptions } from '../validate.js';

export interface Trace {
  /** The traced input, [batch, ...inputShape]. */
  input: Tensor;
  output: Tensor;
  /** The tensors the recorded ops made, each after its inputs (every one has a gradFn). */
  ops: Tensor[];
  /** The model's parameters and buffers by tensor: their state-dict names. */
  stateNames: Map<Tensor, string>;
  /** The traced tensors computed from the input; the others are constants, parameters and what is computed from them only. */
  fromInput: Set<Tensor>;
  /** The batch of the trace when the export's batch is free (it tells the batch dimension from the others), else null. */
  dynamicBatch: number | null;
  /** The module that made each op, by its state-dict prefix ('layer1.0.conv1'); absent for the model's own ops. */
  scopes: Map<Tensor, string>;
}

/**
 * The checks every exporter makes of its arguments: `model` is a Module,
 * `options` an object of the `known` keys, `options.inputShape` one input's
 * shape without the batch. Returns that shape.
 */
export function checkExportArgs(where: string, model: unknown, options: unknown, known: readonly string[]): number[] {
  if (model === null || typeof model !== 'object' || typeof (model as Module).forward !== 'function' || typeof (model as Module).stateDict !== 'function') {
    throw new ValueError(`${where}: model must be a Module (an nn layer or a model from createModel)`);
  }
  if (options === null || typeof options !== 'object') throw new ValueError(`${where}: options must be an object { ${known.join(', ')} } (inputShape required)`);
  checkOptions(where, options, known);
  const { inputShape } = options as { inputShape?: unknown };
  if (!Array.isArray(inputShape) || inputShape.length === 0 || !inputShape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw new ValueError(`${where}: inputShape must be one input's shape without the batch, e.g. [1, 28, 28], got ${JSON.stringify(inputShape)}`);
  }
  return inputShape as number[];
}

/**
 * Traces `model` on a random input [batch, ...inputShape] (see the file
 * comment). `dynamic` says the export's batch is free: the trace's batch then
 * marks the batch dimension. The model's training mode is put back after.
 */
export function traceModel(where: string, model: Module, inputShape: readonly number[], batch: number, dynamic: boolean): Trace {
  const stateNames = new Map<Tensor, string>();
  for (const [name, t] of Object.entries(model.stateDict())) if (!stateNames.has(t)) stateNames.set(t, name);
  const x = new Tensor(new Float32Array(batch * inputShape.reduce((p, d) => p * d, 1)), [batch, ...inputShape]);
  new Generator(0).fillUniform(x.data, -1, 1);
  x.requiresGrad = true;
  const wasTraining = model.training;
  let y: unknown;
  const scopes = new Map<Tensor, string>();
  const wrapped: { module: Module; own: boolean; forward: Module['forward'] }[] = [];
  model.eval();
  try {
    const seen = new Set<Module>([model]);
    for (const [name, module] of model.namedModules()) {
      if (seen.has(module)) continue;
      seen.add(module);
      const forward = module.forward;
      wrapped.push({ module, own: Object.hasOwn(module, 'forward'), forward });
      module.forward = (...args: Tensor[]): Tensor => {
        const out = forward.apply(module, args);
        if (out instanceof Tensor) claimScope(out, args, name, scopes);
        return out;
      };
    }
    y = enableGrad(() => model.forward(x));
  } finally {
    for (const w of wrapped) {
      if (w.own) w.module.forward = w.forward;
      else Reflect.deleteProperty(w.module, 'forward');
    }
    model.train(wasTraining);
  }
  if (!(y instanceof Tensor)) throw new ValueError(`${where}: the model's forward must return one tensor, got ${typeof y}`);
  if (y === x) throw new ValueError(`${where}: the model returns its input unchanged; there is no graph to export`);
  if (y.gradFn === null) {
    throw new ValueError(`${where}: the model's output does not depend on its input through Stride's ops (none was recorded between them: the output is computed outside autograd, as the perceptron's threshold is); there is nothing to trace`);
  }
  if (dynamic && (y.ndim === 0 || y.shape[0] !== batch)) {
    throw new ShapeError(`${where}: the output [${y.shape.join(', ')}] does not keep the batch in its first dimension, so it cannot be exported with a free batch; export with a fixed batch (dynamicBatch: false)`);
  }
  // post-order over the recorded graph, iteratively (deep networks would overflow a recursion)
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, boolean][] = [[y, false]];
  while (stack.length > 0) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    if (t !== x && t.gradFn !== null) for (const i of t.gradFn.inputs) if (!isPlaceholder(i) && !seen.has(i)) stack.push([i, false]);
  }
  const fromInput = new Set<Tensor>([x]);
  const ops: Tensor[] = [];
  for (const t of order) {
    if (t === x || t.gradFn === null) continue;
    if (t.gradFn.inputs.some((i) => fromInput.has(i))) fromInput.add(t);
    ops.push(t);
  }
  return { input: x, output: y, ops, stateNames, fromInput, dynamicBatch: dynamic ? batch : null, scopes };
}

/** Gives `scope` the recorded ops from a call's inputs to its output that have none yet (see the file comment). */
function claimScope(out: Tensor, args: unknown[], scope: string, scopes: Map<Tensor, string>): void {
  const inputs = new Set(args.filter((a): a is Tensor => a instanceof Tensor));
  const visited = new Set<Tensor>();
  const stack = [out];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (inputs.has(t) || visited.has(t) || t.gradFn === null) continue;
    visited.add(t);
    // an op a module inside this one made stays its own, and the walk goes on past it to the call's inputs
    if (!scopes.has(t)) scopes.set(t, scope);
    for (const i of t.gradFn.inputs) if (!isPlaceholder(i)) stack.push(i);
  }
}

/**
 * Whether a reshape of `x` to `to` keeps the batch as its first dimension (and
 * so is written with the batch left free), or has no batch to keep (a
 * reshape of a parameter, or any reshape when the batch is fixed). A reshape
 * that folds a free batch into other dimensions is refused: no fixed shape
 * writes it for every batch.
 */
export function keepsBatch(where: string, trace: Trace, x: Tensor, to: readonly number[]): boolean {
  if (trace.dynamicBatch === null || !trace.fromInput.has(x)) return false;
  if (x.shape[0] === trace.dynamicBatch && to[0] === trace.dynamicBatch) return true;
  throw new ShapeError(
    `${where}: a reshape from [${x.shape.join(', ')}] to [${to.join(', ')}] does not keep the batch (${trace.dynamicBatch} in the trace) as its first dimension, so it cannot be written for any batch; export with a fixed batch (dynamicBatch: false)`,
  );
}

/** A convolution's recorded geometry (GradFn.attrs of conv2d): what the exporters read of it. */
export interface TracedConv {
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  groups: number;
  padTop: number;
  padLeft: number;
  /** The padding a window reaches at the end: below the layer's padding when the last rows are never read, above it for an odd 'same'. */
  padBottom: number;
  padRight: number;
  inH: number;
  inW: number;
  outH: number;
  outW: number;
}

/**
 * Whether the convolution is the layer's symmetric padding (top = bottom,
 * left = right): when that padding gives the traced output size, the rows
 * past the reached end are never read, and the exporters write it as the
 * frameworks do (PyTorch's nn.Conv2d(padding=p), ONNX pads [p, p, p, p]).
 */
export function symmetricPadding(g: TracedConv): boolean {
  const size = (n: number, p: number, k: number, d: number, s: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
  return size(g.inH, g.padTop, g.kH, g.dilationH, g.strideH) === g.outH && size(g.inW, g.padLeft, g.kW, g.dilationW, g.strideW) === g.outW;
}
