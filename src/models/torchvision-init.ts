/**
 * The initialization torchvision gives its classification models, so a model
 * built here starts from the same distributions as its torchvision namesake:
 * convolutions Kaiming-normal with fan-out and ReLU's gain (He et al., 2015),
 * convolution biases 0, batch norm weight 1 and bias 0 (BatchNorm2d's own
 * defaults), and linear layers
 * either PyTorch's default (ResNet, AlexNet) or normal(0, 0.01) with bias 0
 * (VGG).
 */
import { Conv2d } from '../nn/layers/conv2d.js';
import { Linear } from '../nn/layers/linear.js';
import type { Module } from '../nn/module.js';
import { constant, kaimingNormal, normal } from '../nn/init.js';
import type { Generator } from '../tensor/random.js';

/** torchvision's initialization of the convolutions below `root`; with `vggLinear`, VGG's linear layers too. */
export function torchvisionInit(root: Module, generator: Generator | undefined, options: { vggLinear?: boolean } = {}): void {
  for (const [, m] of root.namedModules()) {
    if (m instanceof Conv2d) {
      kaimingNormal(m.weight, { mode: 'fanOut', nonlinearity: 'relu', generator });
      if (m.bias) constant(m.bias, 0);
    } else if (m instanceof Linear && options.vggLinear) {
      normal(m.weight, 0, 0.01, generator);
      if (m.bias) constant(m.bias, 0);
    }
  }
}
