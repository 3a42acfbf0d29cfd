import { flatten } from '../ops/shape.js';
import { maxPool2d } from '../ops/pool2d.js';
import { relu } from '../ops/unary.js';
import { checkInt, checkOptions } from '../ops/util.js';
import type { Generator } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { Linear } from '../nn/layers/linear.js';
import { Module } from '../nn/module.js';

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
 * 61,706 parameters. Names match PyTorch's state dict (conv1.weight, fc3.bias...).
 */
export class LeNet5 extends Module {
  conv1: Conv2d;
  conv2: Conv2d;
  fc1: Linear;
  fc2: Linear;
  fc3: Linear;

  constructor(options: LeNet5Options = {}) {
    super();
    checkOptions('LeNet5', options, ['inChannels', 'numClasses', 'generator']);
    const inChannels = checkInt('LeNet5', 'inChannels', options.inChannels ?? 1, 1);
    const numClasses = checkInt('LeNet5', 'numClasses', options.numClasses ?? 10, 1);
    const generator = options.generator;
    this.conv1 = new Conv2d(inChannels, 6, 5, { padding: 2, generator });
    this.conv2 = new Conv2d(6, 16, 5, { generator });
    this.fc1 = new Linear(400, 120, { generator });
    this.fc2 = new Linear(120, 84, { generator });
    this.fc3 = new Linear(84, numClasses, { generator });
  }

  forward(x: Tensor): Tensor {
    let h = maxPool2d(relu(this.conv1.forward(x)), 2);
    h = maxPool2d(relu(this.conv2.forward(h)), 2);
    h = flatten(h, 1);
    h = relu(this.fc1.forward(h));
    h = relu(this.fc2.forward(h));
    return this.fc3.forward(h);
  }
}
