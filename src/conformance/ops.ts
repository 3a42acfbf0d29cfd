/**
 * The table from a case's op name to the code that runs it on Stride.
 *
 * An entry lists the attrs it understands, runs the case (inputs in, outputs
 * and gradients out through a Sink) and may say, before running, that Stride
 * cannot run this case yet (`unsupported`, e.g. conv2d with paddingMode
 * 'reflect'). The runner compares every output and gradient the case expects;
 * whatever the entry does not produce is a failure. So:
 *   - an op with no entry is SKIPPED under its name;
 *   - an entry's `unsupported` reason is a SKIP;
 *   - anything else (wrong numbers, a missing gradient, a throw) is a FAILURE,
 *     except a throw that the entry's `notAvailable` recognizes as "this
 *     option is not implemented yet" (a ValueError from Stride saying so).
 *
 * Adding an op is one entry; for the usual "forward, then backward with gy"
 * shape use `differentiable`:
 *   elu: differentiable({ inputs: ['x'], attrs: ['alpha'], forward: (t, a) => F.elu(t.x, a.alpha as number) }),
 * or `lateBound` (below) for an op that may not be in Stride yet.
 */
import { F, LeNet5, Tensor, ValueError, nn, optim } from '../index.js';
import type { Attrs, CaseSpec } from './format.js';

/** Raw values with a shape (for results that are not a single Tensor, e.g. a parameter trajectory). */
export interface Values {
  readonly data: ArrayLike<number>;
  readonly shape: readonly number[];
}

/** What an entry can read of a case. Inputs are fresh copies: the op may modify them. */
export interface CaseContext {
  readonly spec: CaseSpec;
  readonly attrs: Attrs;
  /** True when the case has this input (optional inputs such as bias may be absent). */
  has(name: string): boolean;
  /** The input as a new float32 tensor, with requiresGrad when asked. */
  input(name: string, requiresGrad?: boolean): Tensor;
  inputNames(): string[];
  /** A tensor given in `grads` for the op to use (the upstream gradient gy), or undefined. */
  seed(name: string): Tensor | undefined;
  /** True when the case expects gradients (so backward must run). */
  readonly wantsGrads: boolean;
}

/** Where an entry puts what Stride computed; names as in the case's outputs / grads. */
export interface Sink {
  output(name: string, value: Tensor | Values | null | undefined): void;
  grad(name: string, value: Tensor | Values | null | undefined): void;
}

export interface OpEntry {
  /** The attrs this entry knows how to pass (or knowingly ignores). A case with another attr fails with a message saying so. */
  readonly attrs: readonly string[];
  /** A skip reason (printed in the list of what Stride lacks) when Stride cannot run this case yet. Decided before running. */
  unsupported?(spec: CaseSpec): string | null;
  /** For an error thrown while running: the skip reason when it means "not implemented yet", else null (a failure). */
  notAvailable?(err: unknown, spec: CaseSpec): string | null;
  run(ctx: CaseContext, sink: Sink): void;
}

export type OpTable = Readonly<Record<string, OpEntry>>;

/** The attrs in `keys` that the case has, as an options object. */
export function pick(attrs: Attrs, keys: readonly string[]): Record<string, any> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (attrs[k] !== undefined) out[k] = attrs[k];
  return out;
}

export interface DifferentiableSpec {
  /** Input names in the order the op takes them; absent optional inputs come through as undefined. */
  readonly inputs: readonly string[];
  /** Inputs that get requiresGrad and whose gradients are reported (default: all inputs). */
  readonly diff?: readonly string[];
  /** The grads name of an input's gradient (default 'g' + name: x -> gx, weight -> gweight). */
  readonly gradNames?: Readonly<Record<string, string>>;
  /** The output's name in the case (default 'y'). */
  readonly output?: string;
  readonly attrs?: readonly string[];
  forward(t: Record<string, Tensor>, attrs: Attrs): Tensor;
  /** Called after the forward pass, to emit more outputs (e.g. batch norm's updated running statistics). */
  after?(t: Record<string, Tensor>, sink: Sink): void;
  unsupported?(spec: CaseSpec): string | null;
  notAvailable?(err: unknown, spec: CaseSpec): string | null;
}

/**
 * The common case: inputs -> one output; the gradients of the inputs for the
 * upstream gradient grads.gy (or the implicit 1 when the output has one
 * element and the case gives no gy, as for a loss).
 */
export function differentiable(spec: DifferentiableSpec): OpEntry {
  const diff = spec.diff ?? spec.inputs;
  const outName = spec.output ?? 'y';
  const gradName = (n: string) => spec.gradNames?.[n] ?? `g${n}`;
  return {
    attrs: spec.attrs ?? [],
    unsupported: spec.unsupported,
    notAvailable: spec.notAvailable,
    run(ctx, sink) {
      const t: Record<string, Tensor> = {};
      for (const name of spec.inputs) if (ctx.has(name)) t[name] = ctx.input(name, diff.includes(name));
      const y = spec.forward(t, ctx.attrs);
      sink.output(outName, y);
      spec.after?.(t, sink);
      if (!ctx.wantsGrads) return;
      const gy = ctx.seed('gy');
      if (gy) y.backward(gy);
      else if (y.size === 1) y.backward();
      else throw new Error(`the case expects gradients but gives no upstream gradient gy, and the output ${outName} has ${y.size} elements`);
      for (const name of diff) if (t[name]) sink.grad(gradName(name), t[name].grad);
    },
  };
}

// ---------------------------------------------------------------------------
// conv2d padding modes

const probed = new Map<string, boolean>();

/**
 * Whether Stride's conv2d accepts this paddingMode: asked once per mode by
 * running a 3x3 convolution with padding 1. Only a ValueError about the
 * paddingMode counts as "not available"; anything else means the mode exists
 * and the cases run (and fail if they are wrong).
 */
export function conv2dPaddingModeAvailable(mode: string): boolean {
  let ok = probed.get(mode);
  if (ok === undefined) {
    try {
      F.conv2d(new Tensor(new Float32Array(9), [1, 1, 3, 3]), new Tensor(new Float32Array(1), [1, 1, 1, 1]), null, { padding: 1, paddingMode: mode as 'zeros' });
      ok = true;
    } catch (err) {
      ok = !isNotAvailable(err, 'paddingMode');
    }
    probed.set(mode, ok);
  }
  return ok;
}

/** A ValueError from Stride that says `what` is not available / implemented / supported. */
function isNotAvailable(err: unknown, what: string): boolean {
  return err instanceof ValueError && err.message.includes(what) && /not (yet )?(available|implemented|supported)/i.test(err.message);
}

const paddingMode = (spec: CaseSpec) => String(spec.attrs.paddingMode ?? 'zeros');

// ---------------------------------------------------------------------------
// optimizers: inputs.param is the start, inputs.grads [steps, ...shape] the
// gradient at each step; outputs.params [steps, ...shape] the parameter after each step.

const OPTIMIZERS: Readonly<Record<string, (p: Tensor, options: Record<string, any>) => optim.Optimizer>> = {
  sgd: (p, o) => new optim.SGD([p], o),
  adam: (p, o) => new optim.Adam([p], o),
  adamw: (p, o) => new optim.AdamW([p], o),
};

const optimizerEntry: OpEntry = {
  attrs: ['optimizer', 'steps', 'lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'betas', 'eps'],
  unsupported: (spec) => (Object.hasOwn(OPTIMIZERS, String(spec.attrs.optimizer)) ? null : `optimizer ${String(spec.attrs.optimizer)}`),
  run(ctx, sink) {
    const { optimizer, steps: _steps, ...options } = ctx.attrs;
    const p = ctx.input('param', true);
    const grads = ctx.input('grads');
    const n = p.size;
    const steps = grads.shape[0];
    if (grads.ndim < 1 || grads.size !== steps * n) {
      throw new Error(`inputs.grads has shape [${grads.shape.join(', ')}]; expected [steps, ${p.shape.join(', ')}]`);
    }
    if (_steps !== undefined && _steps !== steps) throw new Error(`attrs.steps is ${String(_steps)} but inputs.grads has ${steps} rows`);
    const opt = OPTIMIZERS[String(optimizer)](p, options);
    const trajectory = new Float32Array(steps * n);
    for (let s = 0; s < steps; s++) {
      p.grad = new Tensor(grads.data.slice(s * n, (s + 1) * n), p.shape);
      opt.step();
      trajectory.set(p.data, s * n);
    }
    sink.output('params', { data: trajectory, shape: [steps, ...p.shape] });
  },
};

// ---------------------------------------------------------------------------
// models: inputs hold every parameter as param:<state_dict name>; grads grad:<name>.

type ModelRunner = (ctx: CaseContext, sink: Sink) => void;

/** Loads the case's param:<name> inputs into the model (strict: the names must match). */
function loadParams(model: { loadStateDict(s: Record<string, Tensor>): unknown }, ctx: CaseContext): Record<string, Tensor> {
  const state: Record<string, Tensor> = {};
  for (const name of ctx.inputNames()) if (name.startsWith('param:')) state[name.slice('param:'.length)] = ctx.input(name);
  model.loadStateDict(state);
  return state;
}

const MODELS: Record<string, ModelRunner> = {
  /** LeNet-5 forward, mean cross-entropy with the labels, backward: logits, loss and every parameter's gradient. */
  lenet5(ctx, sink) {
    const w1 = ctx.spec.inputs['param:conv1.weight'];
    const w3 = ctx.spec.inputs['param:fc3.weight'];
    const model = new LeNet5({ inChannels: w1?.shape[1] ?? 1, numClasses: w3?.shape[0] ?? 10 });
    model.train(ctx.attrs.training === undefined ? true : Boolean(ctx.attrs.training));
    loadParams(model, ctx);
    const logits = model.forward(ctx.input('x'));
    sink.output('logits', logits);
    const loss = F.crossEntropy(logits, ctx.input('labels'));
    sink.output('loss', loss);
    if (!ctx.wantsGrads) return;
    loss.backward();
    for (const [name, p] of Object.entries(model.stateDict())) sink.grad(`grad:${name}`, p.grad);
  },
};

/**
 * A torchvision-style BasicBlock in training mode: forward x, backward the
 * case's gy; the cases carry parameters only, so the BatchNorm running stats
 * keep their initial values (they do not affect training-mode outputs).
 */
function basicBlock(stride: number): ModelRunner {
  return (ctx, sink) => {
    const w1 = ctx.spec.inputs['param:conv1.weight'];
    if (!w1) throw new Error('basicBlock case has no param:conv1.weight');
    const block = new nn.BasicBlock(w1.shape[1], w1.shape[0], { stride });
    block.train(ctx.attrs.training === undefined ? true : Boolean(ctx.attrs.training));
    const state: Record<string, Tensor> = {};
    for (const name of ctx.inputNames()) if (name.startsWith('param:')) state[name.slice('param:'.length)] = ctx.input(name);
    const { unexpected } = block.loadStateDict(state, { strict: false });
    if (unexpected.length) throw new Error(`basicBlock case has parameters Stride's BasicBlock lacks: ${unexpected.join(', ')}`);
    const y = block.forward(ctx.input('x'));
    sink.output('y', y);
    if (!ctx.wantsGrads) return;
    const gy = ctx.seed('gy');
    if (!gy) throw new Error('basicBlock case has no grads.gy (the upstream gradient)');
    y.backward(gy);
    for (const [name, p] of block.namedParameters()) sink.grad(`grad:${name}`, p.grad);
  };
}

MODELS['basicBlock-s1'] = basicBlock(1);
MODELS['basicBlock-s2'] = basicBlock(2);

/** 'basicBlock-s2' -> 'basicBlock': one skip line for a model whatever its variant. */
const modelName = (spec: CaseSpec) => String(spec.attrs.model).replace(/-s\d+$/, '');

const modelEntry: OpEntry = {
  attrs: ['model', 'description', 'training'],
  unsupported: (spec) => (Object.hasOwn(MODELS, String(spec.attrs.model)) ? null : `model ${modelName(spec)}`),
  run(ctx, sink) {
    MODELS[String(ctx.attrs.model)](ctx, sink);
  },
};

// ---------------------------------------------------------------------------
// Ops looked up in Stride by name when a case runs, so that the runner builds
// whether or not the op has landed: while Stride lacks the function, its cases
// are skipped under the op's name; once it has it, they run and must pass.
// (When an op has settled, its entry can call F.<op> directly like the ones below.)

export type AnyOp = (...args: any[]) => Tensor;

function strideFunction(name: string): AnyOp | undefined {
  const f: unknown = Reflect.get(F, name);
  return typeof f === 'function' ? (f as AnyOp) : undefined;
}

export interface LateBoundSpec extends Omit<DifferentiableSpec, 'forward' | 'unsupported'> {
  call(f: AnyOp, t: Record<string, Tensor>, attrs: Attrs): Tensor;
}

export function lateBound(name: string, spec: LateBoundSpec): OpEntry {
  return differentiable({
    ...spec,
    unsupported: () => (strideFunction(name) ? null : name),
    forward: (t, a) => spec.call(strideFunction(name)!, t, a),
  });
}

const LATE_BOUND: OpTable = {
  elu: lateBound('elu', { inputs: ['x'], attrs: ['alpha'], call: (f, t, a) => f(t.x, a.alpha) }),
  softplus: lateBound('softplus', { inputs: ['x'], attrs: ['beta', 'threshold'], call: (f, t, a) => f(t.x, pick(a, ['beta', 'threshold'])) }),
  gelu: lateBound('gelu', { inputs: ['x'], attrs: ['approximate'], call: (f, t, a) => f(t.x, pick(a, ['approximate'])) }),
  silu: lateBound('silu', { inputs: ['x'], call: (f, t) => f(t.x) }),
  upsample: lateBound('upsample', {
    inputs: ['x'], attrs: ['scaleFactor', 'size', 'mode', 'alignCorners'],
    call: (f, t, a) => f(t.x, pick(a, ['scaleFactor', 'size', 'mode', 'alignCorners'])),
  }),
  convTranspose2d: lateBound('convTranspose2d', {
    inputs: ['x', 'weight', 'bias'], attrs: ['stride', 'padding', 'outputPadding', 'dilation', 'groups'],
    call: (f, t, a) => f(t.x, t.weight, t.bias ?? null, pick(a, ['stride', 'padding', 'outputPadding', 'dilation', 'groups'])),
  }),
  lpPool2d: lateBound('lpPool2d', {
    inputs: ['x'], attrs: ['p', 'kernelSize', 'stride', 'ceilMode'],
    call: (f, t, a) => f(t.x, a.p, a.kernelSize, pick(a, ['stride', 'ceilMode'])),
  }),
  adaptiveAvgPool2d: lateBound('adaptiveAvgPool2d', { inputs: ['x'], attrs: ['outputSize'], call: (f, t, a) => f(t.x, a.outputSize) }),
  adaptiveMaxPool2d: lateBound('adaptiveMaxPool2d', { inputs: ['x'], attrs: ['outputSize'], call: (f, t, a) => f(t.x, a.outputSize) }),
  channelL2Pool: lateBound('channelL2Pool', { inputs: ['x'], attrs: ['groupSize'], call: (f, t, a) => f(t.x, a.groupSize) }),
  localResponseNorm: lateBound('localResponseNorm', {
    inputs: ['x'], attrs: ['size', 'alpha', 'beta', 'k'],
    call: (f, t, a) => f(t.x, a.size, pick(a, ['alpha', 'beta', 'k'])),
  }),
  /** batchNorm2d(x, runningMean, runningVar, weight, bias, { training, momentum, eps }); in training the running stats are updated in place. */
  batchNorm2d: lateBound('batchNorm2d', {
    inputs: ['x', 'weight', 'bias', 'runningMean', 'runningVar'],
    diff: ['x', 'weight', 'bias'],
    attrs: ['training', 'momentum', 'eps'],
    call: (f, t, a) => f(t.x, t.runningMean ?? null, t.runningVar ?? null, t.weight ?? null, t.bias ?? null, pick(a, ['training', 'momentum', 'eps'])),
    after: (t, sink) => {
      if (t.runningMean) sink.output('runningMean', t.runningMean);
      if (t.runningVar) sink.output('runningVar', t.runningVar);
    },
  }),
};

// ---------------------------------------------------------------------------

const unary = (f: (x: Tensor, a: Attrs) => Tensor, attrs: readonly string[] = []): OpEntry =>
  differentiable({ inputs: ['x'], attrs, forward: (t, a) => f(t.x, a) });

export const OPS: OpTable = {
  conv2d: differentiable({
    inputs: ['x', 'weight', 'bias'],
    attrs: ['stride', 'padding', 'dilation', 'groups', 'paddingMode', 'resolvedPadding'],
    forward: (t, a) => F.conv2d(t.x, t.weight, t.bias ?? null, pick(a, ['stride', 'padding', 'dilation', 'groups', 'paddingMode'])),
    unsupported: (spec) => (conv2dPaddingModeAvailable(paddingMode(spec)) ? null : `conv2d paddingMode ${paddingMode(spec)}`),
    notAvailable: (err, spec) => (isNotAvailable(err, 'paddingMode') ? `conv2d paddingMode ${paddingMode(spec)}` : null),
  }),
  maxPool2d: unary((x, a) => F.maxPool2d(x, a.kernelSize as number[] as [number, number], pick(a, ['stride', 'padding', 'dilation', 'ceilMode'])),
    ['kernelSize', 'stride', 'padding', 'dilation', 'ceilMode']),
  avgPool2d: unary((x, a) => F.avgPool2d(x, a.kernelSize as number[] as [number, number], pick(a, ['stride', 'padding', 'ceilMode', 'countIncludePad'])),
    ['kernelSize', 'stride', 'padding', 'ceilMode', 'countIncludePad']),
  linear: differentiable({ inputs: ['x', 'weight', 'bias'], forward: (t) => F.linear(t.x, t.weight, t.bias ?? null) }),
  relu: unary((x) => F.relu(x)),
  leakyRelu: unary((x, a) => F.leakyRelu(x, a.negativeSlope as number | undefined), ['negativeSlope']),
  sigmoid: unary((x) => F.sigmoid(x)),
  tanh: unary((x) => F.tanh(x)),
  softmax: unary((x, a) => F.softmax(x, a.dim as number | undefined), ['dim']),
  logSoftmax: unary((x, a) => F.logSoftmax(x, a.dim as number | undefined), ['dim']),
  crossEntropy: differentiable({
    inputs: ['logits', 'labels'],
    diff: ['logits'],
    gradNames: { logits: 'gx' },
    output: 'loss',
    attrs: ['reduction', 'labelSmoothing'],
    forward: (t, a) => F.crossEntropy(t.logits, t.labels, pick(a, ['reduction', 'labelSmoothing'])),
  }),
  optimizer: optimizerEntry,
  model: modelEntry,
  ...LATE_BOUND,
};

/** Whether Stride's functional API has a function of this name (used to hint that an op only lacks a table entry). */
export function strideHasFunction(name: string): boolean {
  return typeof Reflect.get(F, name) === 'function';
}
