import type { Generator } from '../tensor/random.js';
import { ReLU } from '../nn/layers/activation.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { Flatten } from '../nn/layers/flatten.js';
import { Linear } from '../nn/layers/linear.js';
import { MaxPool2d } from '../nn/layers/pool.js';
import { Sequential } from '../nn/layers/sequential.js';
import { classifierOptions } from './classifier-options.js';

export interface LeNet5Options {
  /** Input channels (1 for MNIST). */
  inChannels?: number;
  numClasses?: number;
  generator?: Generator;
}

/**
 * LeNet-5 as it is trained today on 28x28 MNIST (LeCun et al., 1998, with ReLU
 * and max pooling in place of the original's scaled tanh and subsampling):
 *   conv1 6@5x5 pad 2 -> ReLU -> maxpool 2   (28x28 -> 28x28 -> 14x14)
 *   conv2 16@5x5      -> ReLU -> maxpool 2   (14x14 -> 10x10 -> 5x5)
 *   flatten 16*5*5 = 400 -> fc1 120 -> ReLU -> fc2 84 -> ReLU -> fc3 10
 * 61,706 parameters. It is a named Sequential, so the layers can be walked
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
    const { numClasses, inChannels, generator } = classifierOptions('LeNet5', options, { numClasses: 10, inChannels: 1 });
    super({
      conv1: new Conv2d(inChannels, 6, 5, { padding: 2, generator }),
      relu1: new ReLU(),
      pool1: new MaxPool2d(2),
      conv2: new Conv2d(6, 16, 5, { generator }),
      relu2: new ReLU(),
      pool2: new MaxPool2d(2),
      flatten: new Flatten(),
      fc1: new Linear(400, 120, { generator }),
      relu3: new ReLU(),
      fc2: new Linear(120, 84, { generator }),
      relu4: new ReLU(),
      fc3: new Linear(84, numClasses, { generator }),
    });
  }
}
