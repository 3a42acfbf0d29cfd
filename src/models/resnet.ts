/**
 * ResNet (He et al., 2016, "Deep Residual Learning for Image Recognition") in
 * torchvision's layout and with its state-dict names, so torchvision's weights
 * load by name:
 *   conv1 7x7/2 (no bias), bn1, ReLU, maxpool 3x3/2 pad 1,
 *   layer1..layer4 (64, 128, 256, 512 channels per block's middle; layer2-4
 *   start with stride 2), adaptive average pooling to 1x1, fc.
 * resnet18 and resnet34 stack basic blocks (two 3x3 convolutions); resnet50
 * and resnet101 stack bottleneck blocks (1x1 down, 3x3, 1x1 up by 4). Where
 * a block changes the shape, its shortcut is `downsample` = 1x1 convolution
 * with the block's stride and a batch norm (the paper's option B). As in
 * torchvision ("ResNet v1.5"), a bottleneck's stride is on its 3x3
 * convolution, not on the first 1x1 as in the paper. Parameters at 1,000
 * classes: resnet18 11,689,512, resnet34 21,797,672, resnet50 25,557,032,
 * resnet101 44,549,160. Convolutions start Kaiming-normal (fan-out), as
 * torchvision's do.
 */
import { Module } from '../nn/module.js';
import { BatchNorm2d } from '../nn/layers/batch-norm.js';
import { ReLU } from '../nn/layers/activation.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { Flatten } from '../nn/layers/flatten.js';
import { Linear } from '../nn/layers/linear.js';
import { MaxPool2d } from '../nn/layers/pool.js';
import { AdaptiveAvgPool2d } from '../nn/layers/pool-family.js';
import { Sequential } from '../nn/layers/sequential.js';
import { chainOf, convBnAct, type ChainBuilder } from '../nn/fuse.js';
import type { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { torchvisionInit } from './torchvision-init.js';
import { classifierOptions } from './classifier-options.js';

/** A block's shortcut where its output shape differs from its input's: 1x1 convolution with the block's stride, then batch norm. */
function downsample(inChannels: number, outChannels: number, stride: number, generator?: Generator): Sequential | null {
  if (stride === 1 && inChannels === outChannels) return null;
  return new Sequential(new Conv2d(inChannels, outChannels, 1, { stride, bias: false, generator }), new BatchNorm2d(outChannels));
}

/**
 * y = ReLU(body(x) + shortcut(x)), the shortcut being `downsample` or the
 * identity, and the body's last convolution and batch norm taking the
 * addition and the ReLU into one call where nothing needs a gradient (fuse.ts).
 */
abstract class ResidualBlock extends Module {
  declare downsample: Sequential | null;

  /** The body up to the input of its last convolution. */
  protected abstract head(x: Tensor): Tensor;
  /** The body's last convolution and batch norm. */
  protected abstract tail(): [Conv2d, BatchNorm2d];

  /** The body up to the input of its last convolution, as steps of an inference chain (nn/fuse.ts). */
  protected abstract headChain(b: ChainBuilder, input: number): number | null;

  forward(x: Tensor): Tensor {
    const identity = this.downsample ? this.downsample.forward(x) : x;
    const [conv, bn] = this.tail();
    return convBnAct(this.head(x), conv, bn, true, identity);
  }

  /** The downsample, the body and the addition as steps of an inference chain (nn/fuse.ts). */
  inferenceChain(b: ChainBuilder, input: number): number | null {
    if (this.forward !== ResidualBlock.prototype.forward) return null;
    const identity = this.downsample ? chainOf(this.downsample, b, input) : input;
    const h = identity === null ? null : this.headChain(b, input);
    const [conv, bn] = this.tail();
    return h === null || identity === null ? null : b.conv(h, conv, bn, true, identity);
  }
}

/** torchvision's BasicBlock: conv1 3x3 (stride), bn1, ReLU, conv2 3x3, bn2; as many channels out as in the middle (expansion 1). */
export class ResNetBasicBlock extends ResidualBlock {
  static readonly expansion = 1;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;

  constructor(inChannels: number, channels: number, stride: number, generator?: Generator) {
    super();
    this.conv1 = new Conv2d(inChannels, channels, 3, { stride, padding: 1, bias: false, generator });
    this.bn1 = new BatchNorm2d(channels);
    this.conv2 = new Conv2d(channels, channels, 3, { padding: 1, bias: false, generator });
    this.bn2 = new BatchNorm2d(channels);
    this.downsample = downsample(inChannels, channels, stride, generator);
  }

  protected head(x: Tensor): Tensor {
    return convBnAct(x, this.conv1, this.bn1, true);
  }

  protected headChain(b: ChainBuilder, input: number): number | null {
    return b.conv(input, this.conv1, this.bn1, true);
  }

  protected tail(): [Conv2d, BatchNorm2d] {
    return [this.conv2, this.bn2];
  }
}

/** torchvision's Bottleneck: conv1 1x1, bn1, ReLU, conv2 3x3 (stride), bn2, ReLU, conv3 1x1 to 4x the channels, bn3. */
export class Bottleneck extends ResidualBlock {
  static readonly expansion = 4;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  conv3: Conv2d;
  bn3: BatchNorm2d;

  constructor(inChannels: number, channels: number, stride: number, generator?: Generator) {
    super();
    const out = channels * Bottleneck.expansion;
    this.conv1 = new Conv2d(inChannels, channels, 1, { bias: false, generator });
    this.bn1 = new BatchNorm2d(channels);
    this.conv2 = new Conv2d(channels, channels, 3, { stride, padding: 1, bias: false, generator });
    this.bn2 = new BatchNorm2d(channels);
    this.conv3 = new Conv2d(channels, out, 1, { bias: false, generator });
    this.bn3 = new BatchNorm2d(out);
    this.downsample = downsample(inChannels, out, stride, generator);
  }

  protected head(x: Tensor): Tensor {
    return convBnAct(convBnAct(x, this.conv1, this.bn1, true), this.conv2, this.bn2, true);
  }

  protected headChain(b: ChainBuilder, input: number): number | null {
    const h = b.conv(input, this.conv1, this.bn1, true);
    return h === null ? null : b.conv(h, this.conv2, this.bn2, true);
  }

  protected tail(): [Conv2d, BatchNorm2d] {
    return [this.conv3, this.bn3];
  }
}

/** Blocks per stage and the block type of each depth. */
const DEPTHS = {
  resnet18: { block: ResNetBasicBlock, layers: [2, 2, 2, 2] },
  resnet34: { block: ResNetBasicBlock, layers: [3, 4, 6, 3] },
  resnet50: { block: Bottleneck, layers: [3, 4, 6, 3] },
  resnet101: { block: Bottleneck, layers: [3, 4, 23, 3] },
} as const;

export type ResNetDepth = keyof typeof DEPTHS;

export interface ResNetOptions {
  numClasses?: number;
  /** Input channels (3 for colour images). */
  inChannels?: number;
  generator?: Generator;
}

/** ResNet-18/34/50/101 as torchvision builds them (see the file comment). */
export class ResNet extends Sequential {
  declare conv1: Conv2d;
  declare bn1: BatchNorm2d;
  declare layer1: Sequential;
  declare layer2: Sequential;
  declare layer3: Sequential;
  declare layer4: Sequential;
  declare fc: Linear;

  constructor(depth: ResNetDepth, options: ResNetOptions = {}) {
    const where = `ResNet(${depth})`;
    const { numClasses, inChannels, generator } = classifierOptions(where, options, { numClasses: 1000, inChannels: 3 });
    const { block: Block, layers } = DEPTHS[depth];
    let channels = 64;
    const stage = (width: number, blocks: number, stride: number): Sequential => {
      const list: Module[] = [];
      for (let i = 0; i < blocks; i++) {
        list.push(new Block(channels, width, i === 0 ? stride : 1, generator));
        channels = width * Block.expansion;
      }
      return new Sequential(...list);
    };
    super({
      conv1: new Conv2d(inChannels, 64, 7, { stride: 2, padding: 3, bias: false, generator }),
      bn1: new BatchNorm2d(64),
      relu: new ReLU(),
      maxpool: new MaxPool2d(3, { stride: 2, padding: 1 }),
      layer1: stage(64, layers[0], 1),
      layer2: stage(128, layers[1], 2),
      layer3: stage(256, layers[2], 2),
      layer4: stage(512, layers[3], 2),
      avgpool: new AdaptiveAvgPool2d([1, 1]),
      flatten: new Flatten(),
      fc: new Linear(512 * Block.expansion, numClasses, { generator }),
    });
    torchvisionInit(this, generator);
  }
}
