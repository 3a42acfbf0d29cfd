/**
 * Fully connected layers read as convolutions (seed 003; Long, Shelhamer &
 * Darrell, 2015). A Linear layer that sees a flattened C x h x w feature map
 * computes, for each output o,
 *   y[o] = b[o] + sum_{c,i,j} W[o, c*h*w + i*w + j] * x[c, i, j],
 * which is exactly a convolution with kernel h x w whose weight is W reshaped
 * to [out, C, h, w] (the flatten order is NCHW's). The Linear layers after it
 * see 1 x 1 maps, so they become 1 x 1 convolutions. The converted network
 * gives the same logits at the training size and, on a larger image, a map of
 * class scores: position (i, j) is the original network applied to the window
 * that starts at (i * S, j * S), S being the product of the strides before the
 * first Linear. (Exactly so where that window does not reach the zero padding
 * of the original's convolutions: inside a larger image the padded border is
 * real pixels.)
 */
import { noGrad } from '../autograd/tape.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor, zeros } from '../tensor/tensor.js';
import { ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh } from './layers/activation.js';
import { Dropout } from './layers/dropout.js';
import { Conv2d } from './layers/conv2d.js';
import { Flatten } from './layers/flatten.js';
import { Linear } from './layers/linear.js';
import { Sequential } from './layers/sequential.js';
import { Module } from './module.js';

/** Layers that act element by element keep their meaning on a spatial map. */
const ELEMENTWISE = [ReLU, LeakyReLU, Sigmoid, Tanh, ELU, Softplus, GELU, SiLU, Dropout];

function isElementwise(m: Module): boolean {
  return ELEMENTWISE.some((cls) => m instanceof cls);
}

function copyInto(target: Tensor, source: Tensor): void {
  target.data.set(source.data);
}

/**
 * Converts a Sequential CNN whose head is Flatten + Linear layers into an
 * equivalent fully convolutional Sequential that accepts any image size at
 * least as large as `inputShape` ([C, H, W], the training size). Child names
 * are kept (fc1 stays fc1, now a Conv2d), weights are copied.
 */
export function toFullyConvolutional(model: Module, inputShape: readonly [number, number, number] | readonly number[]): Sequential {
  if (!(model instanceof Sequential)) {
    throw new ValueError(`toFullyConvolutional: needs a Sequential model (its layers in order), got ${model?.constructor?.name ?? typeof model}`);
  }
  if (!Array.isArray(inputShape) || inputShape.length !== 3 || inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ValueError(`toFullyConvolutional: inputShape must be [channels, height, width] of one training image, got ${JSON.stringify(inputShape)}`);
  }
  const children = [...model.namedChildren()];
  const converted: Record<string, Module> = {};
  let shape: readonly number[] = [1, ...inputShape];
  let flattenedFrom: readonly number[] | null = null; // the [1, C, h, w] map a Flatten turned into a vector
  let sawLinear = false;
  noGrad(() => {
    let probe = zeros(shape);
    for (const [name, m] of children) {
      if (m instanceof Flatten) {
        if (flattenedFrom) throw new ValueError(`toFullyConvolutional: a second Flatten ('${name}') after the head started`);
        if (shape.length !== 4) throw new ShapeError(`toFullyConvolutional: Flatten '${name}' receives ${fmtShape(shape)}, expected a 4-D feature map`);
        flattenedFrom = shape;
        probe = m.forward(probe);
        shape = probe.shape;
        continue;
      }
      if (m instanceof Linear) {
        let conv: Conv2d;
        if (!sawLinear) {
          if (!flattenedFrom) throw new ValueError(`toFullyConvolutional: Linear '${name}' is not preceded by a Flatten of a feature map`);
          const [, c, h, w] = flattenedFrom as readonly number[];
          if (m.inFeatures !== c * h * w) throw new ShapeError(`toFullyConvolutional: Linear '${name}' expects ${m.inFeatures} features but the feature map is ${c}x${h}x${w} = ${c * h * w}`);
          conv = new Conv2d(c, m.outFeatures, [h, w], { bias: m.bias !== null });
          copyInto(conv.weight, m.weight); // [out, c*h*w] is [out, c, h, w] in row-major order
        } else {
          conv = new Conv2d(m.inFeatures, m.outFeatures, 1, { bias: m.bias !== null });
          copyInto(conv.weight, m.weight);
        }
        if (m.bias && conv.bias) copyInto(conv.bias, m.bias);
        sawLinear = true;
        converted[name] = conv;
        probe = m.forward(probe);
        shape = probe.shape;
        continue;
      }
      if (flattenedFrom) {
        if (m instanceof Softmax || m instanceof LogSoftmax) {
          // Over classes: the channel dim of the score map.
          converted[name] = m instanceof Softmax ? new Softmax(1) : new LogSoftmax(1);
        } else if (isElementwise(m)) {
          converted[name] = m;
        } else {
          throw new ValueError(`toFullyConvolutional: layer '${name}' (${m.constructor.name}) in the fully connected head has no convolutional reading; only Linear and element-wise layers may follow the Flatten`);
        }
      } else {
        converted[name] = m;
      }
      probe = m.forward(probe);
      shape = probe.shape;
    }
  });
  if (!sawLinear) throw new ValueError('toFullyConvolutional: the model has no Linear layer to convert');
  const result = new Sequential(converted);
  result.train(model.training);
  return result;
}
