import type { Generator } from '../tensor/random.js';
import { ReLU } from '../nn/layers/activation.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { Flatten } from '../nn/layers/flatten.js';
import { Linear } from '../nn/layers/linear.js';
import { MaxPool2d } from '../nn/layers/pool.js';
import { Sequential } from '../nn/layers/sequential.js';
import { ValueError } from '../errors.js';
import { classifierOptions } from './classifier-options.js';
import { checkInputShape } from './pattern.js';

export interface LeNet5Options {
  /** Input channels (1 for MNIST); when inputShape is also given it must agree with inputShape[0]. */
  inChannels?: number;
  /**
   * One image, [C, H, W] (default [inChannels, 28, 28]): sizes fc1 for the
   * image, 16 * floor((floor(H/2) - 4) / 2) * floor((floor(W/2) - 4) / 2)
   * inputs (400 for 28x28, 576 for 32x32). H and W must be >= 12.
   */
  inputShape?: readonly number[];
  numClasses?: number;
  generator?: Generator;
}

/**
 * LeNet-5 as it is trained today on 28x28 MNIST (LeCun et al., 1998, with ReLU
 * and max pooling in place of the original's scaled tanh and subsampling):
 *   conv1 6@5x5 pad 2 -> ReLU -> maxpool 2   (28x28 -> 28x28 -> 14x14)
 *   conv2 16@5x5      -> ReLU -> maxpool 2   (14x14 -> 10x10 -> 5x5)
 *   flatten 16*5*5 = 400 -> fc1 120 -> ReLU -> fc2 84 -> ReLU -> fc3 10
 * 61,706 parameters. For another image size (inputShape, e.g. [3, 32, 32])
 * the layers are the same and fc1 takes the 16 maps pool2 gives for it
 * (16*6*6 = 576 for 32x32). It is a named Sequential, so the layers can be walked
 * (summaries, activation maps, toFullyConvolutional) and the parameter names
 * match PyTorch's state dict (conv1.weight, fc3.bias...).
 */
export class LeNet5 extends Sequential {
  declare conv1: Conv2d;
  declare conv2: Conv2d;
  declare fc1: Linear;
  declare fc2: Linear;
  declare fc3: Linear;

  constructor(options: LeNet5Options = {}) {
    const { numClasses, inChannels, generator } = classifierOptions('LeNet5', options, { numClasses: 10, inChannels: options.inputShape?.[0] ?? 1 }, ['inputShape']);
    const [channels, height, width] = options.inputShape === undefined ? [inChannels, 28, 28] : checkInputShape('LeNet5', options.inputShape);
    if (channels !== inChannels) throw new ValueError(`LeNet5: inChannels ${inChannels} disagrees with inputShape [${options.inputShape!.join(', ')}]; give one of them`);
    // conv1 (pad 2) keeps HxW, pool1 halves it, conv2 (5x5, no padding) takes 4 off, pool2 halves it.
    const side = (n: number) => Math.floor((Math.floor(n / 2) - 4) / 2);
    if (height < 12 || width < 12) {
      throw new ValueError(
        `LeNet5: a ${height}x${width} image is too small: pool1 halves it to ${Math.floor(height / 2)}x${Math.floor(width / 2)}, ` +
          `conv2 (5x5) leaves ${Math.floor(height / 2) - 4}x${Math.floor(width / 2) - 4} and pool2 (2x2) needs at least 2x2 of it; images must be at least 12x12 (MNIST's are 28x28)`,
      );
    }
    super({
      conv1: new Conv2d(inChannels, 6, 5, { padding: 2, generator }),
      relu1: new ReLU(),
      pool1: new MaxPool2d(2),
      conv2: new Conv2d(6, 16, 5, { generator }),
      relu2: new ReLU(),
      pool2: new MaxPool2d(2),
      flatten: new Flatten(),
      fc1: new Linear(16 * side(height) * side(width), 120, { generator }),
      relu3: new ReLU(),
      fc2: new Linear(120, 84, { generator }),
      relu4: new ReLU(),
      fc3: new Linear(84, numClasses, { generator }),
    });
  }
}
