/**
 * Residual connections (He et al., 2016): y = F(x) + shortcut(x). The sum
 * makes the gradient reach x along two paths, dL/dx = dL/dy * (dF/dx + dS/dx),
 * and the identity path is what lets very deep networks train.
 */
import { ShapeError, ValueError, fmtShape } from '../../errors.js';
import { add } from '../../ops/binary.js';
import { checkInt, checkOptions } from '../../validate.js';
import type { Generator } from '../../tensor/random.js';
import type { Tensor } from '../../tensor/tensor.js';
import { chainOf, convBnAct, type ChainBuilder } from '../fuse.js';
import { Module } from '../module.js';
import { BatchNorm2d } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import { Sequential } from './sequential.js';

/** Sums its inputs element-wise (with broadcasting): the merge node of a residual connection. */
export class Add extends Module {
  forward(...inputs: Tensor[]): Tensor {
    if (inputs.length < 2) throw new ValueError(`Add: needs at least two inputs to sum, got ${inputs.length}`);
    return inputs.reduce((acc, t) => add(acc, t));
  }
}

/**
 * y = body(x) + shortcut(x), where the shortcut is the identity when omitted.
 * The two branches must produce the same shape.
 */
export class Residual extends Module {
  body: Module;
  shortcut: Module | null;

  constructor(body: Module, shortcut?: Module | null) {
    super();
    if (!(body instanceof Module)) throw new ValueError('Residual: body must be a Module');
    if (shortcut != null && !(shortcut instanceof Module)) throw new ValueError('Residual: shortcut must be a Module or omitted (identity)');
    this.body = body;
    this.shortcut = shortcut ?? null;
  }

  forward(x: Tensor): Tensor {
    const f = this.body.forward(x);
    const s = this.shortcut ? this.shortcut.forward(x) : x;
    if (f.shape.join() !== s.shape.join()) {
      throw new ShapeError(`Residual: the body gives ${fmtShape(f.shape)} but the shortcut gives ${fmtShape(s.shape)}; add a projection shortcut (e.g. a 1x1 conv with the body's stride) when the shape changes`);
    }
    return add(f, s);
  }
}

export interface BasicBlockOptions {
  stride?: number;
  generator?: Generator;
}

/**
 * The ResNet-18/34 basic block (torchvision layout):
 *   conv1 3x3 (stride s, pad 1, no bias) -> bn1 -> ReLU -> conv2 3x3 (pad 1, no bias) -> bn2
 *   + shortcut, then ReLU,
 * where the shortcut is the identity, or a projection Sequential(1x1 conv stride s, BatchNorm)
 * when the stride is not 1 or the channel count changes. Parameter names follow
 * the conformance cases: conv1, bn1, conv2, bn2, shortcut.0, shortcut.1.
 */
export class BasicBlock extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  shortcut: Sequential | null;
  readonly stride: number;

  constructor(inChannels: number, outChannels: number, options: BasicBlockOptions = {}) {
    super();
    checkOptions('BasicBlock', options, ['stride', 'generator']);
    checkInt('BasicBlock', 'inChannels', inChannels, 1);
    checkInt('BasicBlock', 'outChannels', outChannels, 1);
    const stride = checkInt('BasicBlock', 'stride', options.stride ?? 1, 1);
    const generator = options.generator;
    this.stride = stride;
    this.conv1 = new Conv2d(inChannels, outChannels, 3, { stride, padding: 1, bias: false, generator });
    this.bn1 = new BatchNorm2d(outChannels);
    this.conv2 = new Conv2d(outChannels, outChannels, 3, { padding: 1, bias: false, generator });
    this.bn2 = new BatchNorm2d(outChannels);
    this.shortcut =
      stride !== 1 || inChannels !== outChannels
        ? new Sequential(new Conv2d(inChannels, outChannels, 1, { stride, bias: false, generator }), new BatchNorm2d(outChannels))
        : null;
  }

  /** relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), fused where nothing needs a gradient (fuse.ts). */
  forward(x: Tensor): Tensor {
    const h = convBnAct(x, this.conv1, this.bn1, true);
    return convBnAct(h, this.conv2, this.bn2, true, () => (this.shortcut ? this.shortcut.forward(x) : x));
  }

  /** conv1, the shortcut and conv2 as steps of an inference chain (fuse.ts). */
  inferenceChain(b: ChainBuilder, input: number): number | null {
    if (this.forward !== BasicBlock.prototype.forward) return null;
    const h = b.conv(input, this.conv1, this.bn1, true);
    const identity = this.shortcut ? chainOf(this.shortcut, b, input) : input;
    return h === null || identity === null ? null : b.conv(h, this.conv2, this.bn2, true, identity);
  }

  override extraRepr(): string {
    return `stride=${this.stride}`;
  }
}
