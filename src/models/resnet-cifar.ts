/**
 * The CIFAR-10 ResNets of He et al. (2015, "Deep Residual Learning for Image
 * Recognition", section 4.2): resnet20, resnet32, resnet44, resnet56,
 * resnet110, depth 6n + 2 with n = 3, 5, 7, 9, 18:
 *   conv1 3x3 16 (no bias), bn1, ReLU,
 *   layer1: n basic blocks of 16 channels (32x32),
 *   layer2: n blocks of 32 channels, the first with stride 2 (16x16),
 *   layer3: n blocks of 64 channels, the first with stride 2 (8x8),
 *   global average pooling, linear to the classes.
 * A basic block is conv1 3x3 (stride), bn1, ReLU, conv2 3x3, bn2, plus the
 * shortcut, then ReLU. Every shortcut is parameter-free (the paper's option
 * A): the identity, or, where a block halves the image and doubles the
 * channels, ZeroPadShortcut (every second row and column, the new channels
 * zeros). Parameters at 10 classes: 97,216 n - 21,926, i.e. resnet20 269,722,
 * resnet32 464,154, resnet44 658,586, resnet56 853,018, resnet110 1,727,962.
 *
 * State-dict names are those of the widely used PyTorch implementation by
 * Yerlan Idelbayev (github.com/akamaster/pytorch_resnet_cifar10): conv1, bn1,
 * layer1.0.conv1, layer1.0.bn1, ..., layer3.{n-1}.bn2, linear; its shortcuts
 * have no parameters either, and ZeroPadShortcut places the input channels as
 * its F.pad does (half the new channels before them, half after), so its
 * published weights load (after removing DataParallel's "module." prefix and
 * converting the batch-norm buffer names with nn.fromPytorchStateDict) and
 * compute the same function.
 *
 * Initialization: convolutions Kaiming-normal with fan-out and ReLU's gain
 * (std sqrt(2 / (outChannels * 9))), batch norm weight 1 and bias 0, the
 * linear layer PyTorch's default, as torchvision initializes its ResNets.
 * The paper cites He et al.'s initialization without fixing the fan;
 * Idelbayev's code uses kaiming_normal_ with its default fan-in, also on the
 * linear layer, so its networks start from slightly different scales.
 *
 * The input is 3x32x32 by default; `inChannels` sets the channels (1 for
 * MNIST), and global pooling makes any image of at least 1x1 work (28x28
 * gives 28, 14, 7 pixels across the three stages).
 */
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import type { LayerCounts } from '../nn/describe.js';
import { ReLU } from '../nn/layers/activation.js';
import { BatchNorm2d } from '../nn/layers/batch-norm.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { Flatten } from '../nn/layers/flatten.js';
import { Linear } from '../nn/layers/linear.js';
import { AdaptiveAvgPool2d } from '../nn/layers/pool-family.js';
import { Sequential } from '../nn/layers/sequential.js';
import { Module } from '../nn/module.js';
import { convBnAct, type ChainBuilder } from '../nn/fuse.js';
import { concat, slice } from '../ops/shape.js';
import type { Generator } from '../tensor/random.js';
import { zeros, type Tensor } from '../tensor/tensor.js';
import { checkInt } from '../validate.js';
import { torchvisionInit } from './torchvision-init.js';
import { classifierOptions } from './classifier-options.js';

/**
 * The paper's option-A shortcut: y = x[:, :, ::stride, ::stride] with
 * outChannels - inChannels zero channels added, floor(half) before the input's
 * channels and the rest after (16 -> 32: channels 8..23 carry the input), as
 * F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 8, 8)) does. No parameters; built from
 * slice and concat, so the gradient is theirs: dL/dx takes dL/dy of the kept
 * channels at the kept positions and 0 elsewhere.
 */
export class ZeroPadShortcut extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly stride: number;

  constructor(inChannels: number, outChannels: number, stride: number) {
    super();
    this.inChannels = checkInt('ZeroPadShortcut', 'inChannels', inChannels, 1);
    this.outChannels = checkInt('ZeroPadShortcut', 'outChannels', outChannels, inChannels);
    this.stride = checkInt('ZeroPadShortcut', 'stride', stride, 1);
  }

  /** Zero channels before and after the input's. */
  get padding(): [number, number] {
    const added = this.outChannels - this.inChannels;
    return [Math.floor(added / 2), added - Math.floor(added / 2)];
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new ShapeError(`ZeroPadShortcut: expected [N, ${this.inChannels}, H, W], got ${fmtShape(x.shape)}`);
    }
    const s = this.stride;
    const kept = s === 1 ? x : slice(slice(x, 2, 0, undefined, s), 3, 0, undefined, s);
    const [n, , h, w] = kept.shape;
    const parts = this.padding.map((c) => (c > 0 ? zeros([n, c, h, w], { dtype: x.dtype }) : null));
    if (parts[0] === null && parts[1] === null) return kept;
    return concat([parts[0], kept, parts[1]].filter((t): t is Tensor => t !== null), 1);
  }

  /** Each kept output unit reads one input unit; the zero channels read none. */
  describeLayer(_inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
    const s = this.stride;
    return {
      connections: this.inChannels * outputShape[1] * outputShape[2],
      macs: 0,
      window: { kernel: [1, 1], stride: [s, s], padding: [0, 0], dilation: [1, 1] },
    };
  }

  override extraRepr(): string {
    const [before, after] = this.padding;
    return `${this.inChannels}, ${this.outChannels}, stride=${this.stride}, zeroChannels=[${before}, ${after}]`;
  }
}

/**
 * A CIFAR ResNet block: conv1 3x3 (stride), bn1, ReLU, conv2 3x3, bn2, plus
 * the option-A shortcut (ZeroPadShortcut where the shape changes, else the
 * identity), then ReLU.
 */
export class CifarBasicBlock extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  shortcut: ZeroPadShortcut | null;

  constructor(inChannels: number, channels: number, stride: number, generator?: Generator) {
    super();
    this.conv1 = new Conv2d(inChannels, channels, 3, { stride, padding: 1, bias: false, generator });
    this.bn1 = new BatchNorm2d(channels);
    this.conv2 = new Conv2d(channels, channels, 3, { padding: 1, bias: false, generator });
    this.bn2 = new BatchNorm2d(channels);
    this.shortcut = stride !== 1 || inChannels !== channels ? new ZeroPadShortcut(inChannels, channels, stride) : null;
  }

  /** conv1 and conv2 as steps of an inference chain (nn/fuse.ts), where the shortcut is the identity. */
  inferenceChain(b: ChainBuilder, input: number): number | null {
    if (this.forward !== CifarBasicBlock.prototype.forward || this.shortcut) return null;
    const h = b.conv(input, this.conv1, this.bn1, true);
    return h === null ? null : b.conv(h, this.conv2, this.bn2, true, input);
  }

  forward(x: Tensor): Tensor {
    const h = convBnAct(x, this.conv1, this.bn1, true);
    return convBnAct(h, this.conv2, this.bn2, true, () => (this.shortcut ? this.shortcut.forward(x) : x));
  }
}

/** Blocks per stage (n) of each depth 6n + 2. */
const CIFAR_DEPTHS = { resnet20: 3, resnet32: 5, resnet44: 7, resnet56: 9, resnet110: 18 } as const;

export type CifarResNetDepth = keyof typeof CIFAR_DEPTHS;
export const CIFAR_RESNET_DEPTHS = Object.keys(CIFAR_DEPTHS) as CifarResNetDepth[];

export interface CifarResNetOptions {
  /** Classes (default 10). */
  numClasses?: number;
  /** Input channels (default 3; 1 for MNIST). */
  inChannels?: number;
  generator?: Generator;
}

/** resnet20 ... resnet110 for CIFAR-10 (see the file comment). */
export class CifarResNet extends Sequential {
  declare conv1: Conv2d;
  declare bn1: BatchNorm2d;
  declare relu: ReLU;
  declare layer1: Sequential;
  declare layer2: Sequential;
  declare layer3: Sequential;
  declare linear: Linear;

  constructor(depth: CifarResNetDepth, options: CifarResNetOptions = {}) {
    const where = `CifarResNet(${depth})`;
    const { numClasses, inChannels, generator } = classifierOptions(where, options, { numClasses: 10, inChannels: 3 });
    if (!Object.hasOwn(CIFAR_DEPTHS, depth)) throw new ValueError(`CifarResNet: depth must be one of ${CIFAR_RESNET_DEPTHS.join(', ')}, got ${JSON.stringify(depth)}`);
    const n = CIFAR_DEPTHS[depth];
    // n blocks of `width` channels; the first takes `from` channels and the stage's stride.
    const stage = (from: number, width: number, stride: number): Sequential =>
      new Sequential(...Array.from({ length: n }, (_, i) => new CifarBasicBlock(i === 0 ? from : width, width, i === 0 ? stride : 1, generator)));
    super({
      conv1: new Conv2d(inChannels, 16, 3, { padding: 1, bias: false, generator }),
      bn1: new BatchNorm2d(16),
      relu: new ReLU(),
      layer1: stage(16, 16, 1),
      layer2: stage(16, 32, 2),
      layer3: stage(32, 64, 2),
      avgpool: new AdaptiveAvgPool2d([1, 1]),
      flatten: new Flatten(),
      linear: new Linear(64, numClasses, { generator }),
    });
    torchvisionInit(this, generator);
  }
}
