/**
 * VGG (Simonyan & Zisserman, 2014, "Very Deep Convolutional Networks for
 * Large-Scale Image Recognition"), in torchvision's layout and with its
 * state-dict names, so torchvision's weights load by name:
 *   features    3x3 convolutions (padding 1) and ReLUs, a 2x2/2 max pool after
 *               each block; the _bn versions put a BatchNorm2d after each
 *               convolution (the paper has none: batch norm came a year later)
 *   avgpool     adaptive average pooling to 7x7 (so inputs other than 224x224
 *               work; at 224x224 it is the identity)
 *   classifier  linear 25088-4096, ReLU, dropout, 4096-4096, ReLU, dropout, 4096-numClasses
 * Configurations A (vgg11), B (vgg13), D (vgg16) and E (vgg19) of the paper's
 * table 1; the paper's local response normalization variant (A-LRN) and the
 * 1x1 convolutions of configuration C are not included, as in torchvision.
 * Parameters at 1,000 classes: vgg11 132,863,336, vgg13 133,047,848, vgg16
 * 138,357,544, vgg19 143,667,240 (with batch norm: 132,868,840, 133,053,736,
 * 138,365,992, 143,678,248).
 */
import { ReLU } from '../nn/layers/activation.js';
import { BatchNorm2d } from '../nn/layers/batch-norm.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { Dropout } from '../nn/layers/dropout.js';
import { Flatten } from '../nn/layers/flatten.js';
import { Linear } from '../nn/layers/linear.js';
import { MaxPool2d } from '../nn/layers/pool.js';
import { AdaptiveAvgPool2d } from '../nn/layers/pool-family.js';
import { Sequential } from '../nn/layers/sequential.js';
import type { Module } from '../nn/module.js';
import type { Generator } from '../tensor/random.js';
import { torchvisionInit } from './torchvision-init.js';
import { classifierOptions } from './classifier-options.js';

/** The convolution widths of each configuration, 'M' a max pool. */
const CONFIGS = {
  vgg11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  vgg19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
} as const satisfies Record<string, readonly (number | 'M')[]>;

export type VggDepth = keyof typeof CONFIGS;

export interface VggOptions {
  numClasses?: number;
  /** Input channels (3 for colour images). */
  inChannels?: number;
  /** A BatchNorm2d after every convolution (torchvision's vgg16_bn ...). */
  batchNorm?: boolean;
  /** The classifier's dropout probability (default 0.5). */
  dropout?: number;
  generator?: Generator;
}

/** VGG-11/13/16/19 as torchvision builds it (see the file comment). */
export class VGG extends Sequential {
  declare features: Sequential;
  declare avgpool: AdaptiveAvgPool2d;
  declare classifier: Sequential;

  constructor(depth: VggDepth, options: VggOptions = {}) {
    const where = `VGG(${depth})`;
    const { numClasses, inChannels, generator } = classifierOptions(where, options, { numClasses: 1000, inChannels: 3 }, ['batchNorm', 'dropout']);
    let channels = inChannels;
    const { batchNorm = false, dropout = 0.5 } = options;
    const layers: Module[] = [];
    for (const v of CONFIGS[depth]) {
      if (v === 'M') {
        layers.push(new MaxPool2d(2, { stride: 2 }));
        continue;
      }
      layers.push(new Conv2d(channels, v, 3, { padding: 1, generator }));
      if (batchNorm) layers.push(new BatchNorm2d(v));
      layers.push(new ReLU());
      channels = v;
    }
    super({
      features: new Sequential(...layers),
      avgpool: new AdaptiveAvgPool2d([7, 7]),
      flatten: new Flatten(),
      classifier: new Sequential(
        new Linear(512 * 7 * 7, 4096, { generator }), new ReLU(), new Dropout(dropout, { generator }),
        new Linear(4096, 4096, { generator }), new ReLU(), new Dropout(dropout, { generator }),
        new Linear(4096, numClasses, { generator }),
      ),
    });
    torchvisionInit(this, generator, { vggLinear: true });
  }
}
