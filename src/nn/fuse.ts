/**
 * The inference path: where a network runs without gradients, each
 * convolution takes what follows it into one kernel call.
 *
 * - Batch norm in eval mode is an affine map per channel,
 *     bn(y) = (y - mean) * s + beta,   s = gamma / sqrt(var + eps),
 *   so bn(conv(x, w) + b) = conv(x, w * s) + (b - mean) * s + beta: it is
 *   folded into the convolution's weights and bias (recomputed from the
 *   current parameters and running statistics at every call, so a loaded or
 *   trained weight is always the one used).
 * - A following ReLU, and a residual block's addition of its shortcut before
 *   its last ReLU, become the convolution's epilogue (conv2dFused): on
 *   `native` oneDNN's post-ops, computed while the output is in its blocked
 *   layout; on `wasm` in the wasm memory before the output is copied out.
 *
 * It applies where every one of these holds, and otherwise the modules run one
 * by one as written:
 * - inference fusion is on (setInferenceFusion; on by default) and anomaly
 *   mode is off;
 * - nothing involved needs a gradient (inside noGrad, or no input or
 *   parameter requires one);
 * - the convolution has zero padding and the direct algorithm, and its input
 *   is 4-D;
 * - the batch norm is in eval mode with running statistics, one per output
 *   channel of the convolution;
 * - each module runs its class's own forward: a module whose forward was
 *   replaced (summary(), ONNX export and the web app's layer views wrap them
 *   to watch every layer) or overridden by a subclass is run by itself.
 * Results equal the unfused path's to float32 rounding (the folded weights
 * round once more); test/backend/nn/fuse.test.ts compares every model of the zoo.
 */
import { isAnomalyEnabled } from '../autograd/anomaly.js';
import { needsGrad } from '../autograd/tape.js';
import { add } from '../ops/binary.js';
import { conv2dChain, conv2dFused, conv2dGeometry, type Conv2dChainStep } from '../ops/conv2d.js';
import { maxPool2dGeometry } from '../ops/pool2d.js';
import { relu as reluOp } from '../ops/unary.js';
import { Tensor, allocate } from '../tensor/tensor.js';
import { ValueError } from '../errors.js';
import { ReLU } from './layers/activation.js';
import { MaxPool2d } from './layers/pool.js';
import { BatchNorm2d } from './layers/batch-norm.js';
import { Conv2d } from './layers/conv2d.js';
import type { Module } from './module.js';
import { checkWindowFit } from './window-fit.js';

let fusionEnabled = true;

/**
 * Turns the inference path's fusion on or off for every model (on by default)
 * and returns the previous setting. Off, every module runs by itself, as in
 * training: for comparing the two paths, or for a layer-by-layer debugger.
 */
export function setInferenceFusion(enabled: boolean): boolean {
  if (typeof enabled !== 'boolean') throw new ValueError(`setInferenceFusion: enabled must be true or false, got ${JSON.stringify(enabled)}`);
  const previous = fusionEnabled;
  fusionEnabled = enabled;
  return previous;
}

/** Whether the inference path's fusion is on (setInferenceFusion). */
export function isInferenceFusionEnabled(): boolean {
  return fusionEnabled;
}

/** Whether a module runs its class's own forward: not wrapped by a watcher, not overridden by a subclass. */
function runsOwnForward(m: Module, own: Module['forward']): boolean {
  return m.forward === own;
}

/** Whether fusion can take this convolution (and batch norm) on this input. */
function fusable(x: Tensor, conv: Conv2d, bn: BatchNorm2d | null): boolean {
  if (!fusionEnabled || isAnomalyEnabled() || x.ndim !== 4) return false;
  return convFusable(conv, bn) && !needsGrad(x);
}

/**
 * The convolution's weight and bias with the eval-mode batch norm folded in
 * (see the file comment), computed in double precision and stored in the
 * weight's type.
 */
export function foldBatchNorm(conv: Conv2d, bn: BatchNorm2d): { weight: Tensor; bias: Tensor } {
  return foldInto(conv, bn, null);
}

/**
 * The buffers the inference path folds into, one pair per convolution and
 * batch norm (refilled at every call: a network's folded weights are not
 * allocated again at every forward pass; ResNet-18's are 44 MB).
 */
const folded = new WeakMap<Conv2d, WeakMap<BatchNorm2d, { weight: Tensor; bias: Tensor }>>();

/** foldBatchNorm into the kept buffers of this pair (see `folded`). */
function foldKept(conv: Conv2d, bn: BatchNorm2d): { weight: Tensor; bias: Tensor } {
  let byBn = folded.get(conv);
  if (!byBn) folded.set(conv, (byBn = new WeakMap()));
  const kept = byBn.get(bn);
  const fresh = kept && kept.weight.dtype === conv.weight.dtype && kept.weight.data.length === conv.weight.data.length && kept.bias.data.length === conv.outChannels ? kept : null;
  const out = foldInto(conv, bn, fresh);
  if (!fresh) byBn.set(bn, out);
  return out;
}

function foldInto(conv: Conv2d, bn: BatchNorm2d, into: { weight: Tensor; bias: Tensor } | null): { weight: Tensor; bias: Tensor } {
  if (!bn.runningMean || !bn.runningVar) throw new ValueError('foldBatchNorm: the batch norm keeps no running statistics (trackRunningStats false); only eval-mode statistics fold into a convolution');
  if (bn.numFeatures !== conv.outChannels) {
    throw new ValueError(`foldBatchNorm: the batch norm has ${bn.numFeatures} channels but the convolution gives ${conv.outChannels}; fold a batch norm into the convolution right before it`);
  }
  const w = conv.weight;
  const outC = conv.outChannels;
  const per = w.data.length / outC;
  const weight = into?.weight ?? new Tensor(allocate(w.dtype, w.data.length), w.shape);
  const bias = into?.bias ?? new Tensor(allocate(w.dtype, outC), [outC]);
  const mean = bn.runningMean.data;
  const variance = bn.runningVar.data;
  const gamma = bn.weight?.data ?? null;
  const beta = bn.bias?.data ?? null;
  const b = conv.bias?.data ?? null;
  const wd = w.data;
  const fw = weight.data;
  for (let o = 0; o < outC; o++) {
    const s = (gamma ? gamma[o] : 1) / Math.sqrt(variance[o] + bn.eps);
    const base = o * per;
    for (let i = 0; i < per; i++) fw[base + i] = wd[base + i] * s;
    bias.data[o] = ((b ? b[o] : 0) - mean[o]) * s + (beta ? beta[o] : 0);
  }
  return { weight, bias };
}

/**
 * relu?(bn?(conv(x)) + residual): one fused kernel call where the rules of
 * the file comment allow, else conv, bn, the addition and the ReLU one by one
 * (the modules' own forwards, so training and watchers see every layer).
 */
export function convBnAct(x: Tensor, conv: Conv2d, bn: BatchNorm2d | null, relu: boolean, residual: ResidualInput = null): Tensor {
  if (fusable(x, conv, bn)) {
    const r = typeof residual === 'function' ? residual() : residual;
    if (r === null || !needsGrad(r)) {
      checkWindowFit(conv, x.shape);
      const { weight, bias } = bn ? foldKept(conv, bn) : { weight: conv.weight, bias: conv.bias };
      return conv2dFused(x, weight, bias, conv.options, { residual: r, relu });
    }
    residual = r;
  }
  let y = conv.forward(x);
  if (bn) y = bn.forward(y);
  if (residual) y = add(y, typeof residual === 'function' ? residual() : residual);
  return relu ? reluOp(y) : y;
}

/**
 * What convBnAct adds before its ReLU: a tensor, or a function that computes
 * it (a block's shortcut), called once: before the convolution on the fused
 * path (the kernel needs it), after the batch norm on the unfused one (the
 * order in which the block's layers run as written).
 */
export type ResidualInput = Tensor | (() => Tensor) | null;

/**
 * A module that can lay itself out as convolutions of a chain: it adds its
 * steps to `b` reading value `input` and returns the value of its output, or
 * null where it cannot (then it runs by itself; the caller undoes what it added).
 */
export interface ChainableModule {
  inferenceChain(b: ChainBuilder, input: number): number | null;
}

function isChainable(m: Module): m is Module & ChainableModule {
  return typeof (m as Partial<ChainableModule>).inferenceChain === 'function' && !Object.prototype.hasOwnProperty.call(m, 'forward');
}

/**
 * Collects the steps of a chain of fused convolutions (conv2dChainForward):
 * value -1 is the chain's input, value i the output of step i.
 */
export class ChainBuilder {
  readonly steps: Conv2dChainStep[] = [];
  private readonly shapes: number[][] = [];

  constructor(private readonly x: Tensor) {}

  /** The shape of a value. */
  shape(value: number): readonly number[] {
    return value === -1 ? this.x.shape : this.shapes[value];
  }

  /**
   * Adds relu?(bn?(conv(value `input`)) + value `residual`) as a step and returns its value, or null
   * where the rules of the file comment do not let it fuse (or the shapes do not fit: the module
   * then runs by itself and says what is wrong).
   */
  conv(input: number, conv: Conv2d, bn: BatchNorm2d | null, relu: boolean, residual: number | null = null): number | null {
    if (!convFusable(conv, bn) || conv.weight.dtype !== this.x.dtype) return null;
    const shape = this.shape(input);
    let g: ReturnType<typeof conv2dGeometry>;
    try {
      g = conv2dGeometry(shape, conv.weight.shape, conv.options, 'Conv2d');
    } catch {
      return null;
    }
    if (conv.bias && (conv.bias.dtype !== this.x.dtype || conv.bias.shape[0] !== g.outC)) return null;
    const out = [g.batch, g.outC, g.outH, g.outW];
    if (residual !== null && this.shape(residual).join() !== out.join()) return null;
    checkWindowFit(conv, shape);
    const { weight, bias } = bn ? foldKept(conv, bn) : { weight: conv.weight, bias: conv.bias };
    this.steps.push({ weight, bias, options: conv.options, input, residual, relu });
    this.shapes.push(out);
    return this.steps.length - 1;
  }

  /** Adds a max pool reading value `input` and returns its value, or null where the shapes do not fit. */
  maxPool(input: number, pool: MaxPool2d): number | null {
    if (!runsOwnForward(pool, MaxPool2d.prototype.forward)) return null;
    const shape = this.shape(input);
    let outH: number;
    let outW: number;
    try {
      ({ outH, outW } = maxPool2dGeometry(shape, pool.kernelSize, pool.options, 'MaxPool2d'));
    } catch {
      return null;
    }
    checkWindowFit(pool, shape);
    this.steps.push({ kind: 'maxPool', kernelSize: pool.kernelSize, options: pool.options, input });
    this.shapes.push([shape[0], shape[1], outH, outW]);
    return this.steps.length - 1;
  }

  /**
   * Adds the modules from index `start` on that chain, the first reading value `input`: a
   * convolution with the batch norm and/or ReLU after it, or a chainable module (a residual block,
   * a Sequential). Returns the value of the last one's output and how many modules it took.
   */
  extend(modules: readonly Module[], start: number, input: number): { value: number; taken: number } {
    let value = input;
    let i = start;
    while (i < modules.length) {
      const m = modules[i];
      const mark = this.steps.length;
      let next: number | null = null;
      let taken = 1;
      if (m instanceof Conv2d) {
        const bn = modules[i + 1] instanceof BatchNorm2d ? (modules[i + 1] as BatchNorm2d) : null;
        const after = modules[i + (bn ? 2 : 1)];
        const relu = after instanceof ReLU && runsOwnForward(after, ReLU.prototype.forward);
        next = this.conv(value, m, bn, relu);
        taken += (bn ? 1 : 0) + (relu ? 1 : 0);
      } else if (m instanceof MaxPool2d) {
        next = this.maxPool(value, m);
      } else if (isChainable(m)) {
        next = m.inferenceChain(this, value);
      }
      if (next === null) {
        this.steps.length = mark;
        this.shapes.length = mark;
        break;
      }
      value = next;
      i += taken;
    }
    return { value, taken: i - start };
  }
}

/** Whether a convolution (and the batch norm after it) can be a step (the rules of the file comment). */
function convFusable(conv: Conv2d, bn: BatchNorm2d | null): boolean {
  if (!runsOwnForward(conv, Conv2d.prototype.forward)) return false;
  const { paddingMode, algorithm } = conv.options;
  if ((paddingMode ?? 'zeros') !== 'zeros' || (algorithm ?? 'direct') !== 'direct') return false;
  if (bn !== null) {
    if (!runsOwnForward(bn, BatchNorm2d.prototype.forward)) return false;
    if (bn.training || !bn.trackRunningStats || !bn.runningMean || !bn.runningVar || bn.numFeatures !== conv.outChannels) return false;
    if (needsGrad(bn.weight, bn.bias)) return false;
  }
  return !needsGrad(conv.weight, conv.bias);
}

/**
 * Runs `modules` in order, as Sequential does. Where nothing needs a gradient,
 * each stretch of modules that form a chain of convolutions (a convolution
 * with the batch norm and ReLU after it, max pools, residual blocks,
 * Sequentials of those) runs as one conv2dChainForward call; the rest run by themselves.
 */
export function runFused(modules: readonly Module[], x: Tensor): Tensor {
  if (!fusionEnabled || isAnomalyEnabled() || !(x instanceof Tensor) || x.ndim !== 4 || needsGrad(x)) {
    for (const m of modules) x = m.forward(x);
    return x;
  }
  let i = 0;
  while (i < modules.length) {
    const b = new ChainBuilder(x);
    const { value, taken } = b.extend(modules, i, -1);
    if (b.steps.some((s) => s.kind !== 'maxPool')) {
      x = runChain(b, x, value);
      i += taken;
    } else {
      x = modules[i].forward(x);
      i += 1;
    }
    if (!(x instanceof Tensor) || x.ndim !== 4) {
      for (; i < modules.length; i++) x = modules[i].forward(x);
    }
  }
  return x;
}

/** Runs a built chain on x: one kernel call. */
function runChain(b: ChainBuilder, x: Tensor, value: number): Tensor {
  if (value !== b.steps.length - 1) throw new Error(`runFused: the chain ends at value ${value}, not at its last step ${b.steps.length - 1}`);
  return conv2dChain(x, b.steps);
}

/** Adds a module's chain to b (see ChainableModule): its output's value, or null where it is not chainable. */
export function chainOf(m: Module, b: ChainBuilder, input: number): number | null {
  return isChainable(m) ? m.inferenceChain(b, input) : null;
}

/** A Sequential's chain: its modules, all of them, or null. */
export function sequentialChain(modules: readonly Module[], b: ChainBuilder, input: number): number | null {
  const { value, taken } = b.extend(modules, 0, input);
  return taken === modules.length ? value : null;
}
