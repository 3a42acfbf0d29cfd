import { ValueError } from '../errors.js';
import type { Module } from '../nn/module.js';
import type { Generator } from '../tensor/random.js';
import { AlexNet, AlexNet2012 } from './alexnet.js';
import { LeNet5 } from './lenet5.js';
import { LeNet1998 } from './lenet5-1998.js';
import { Perceptron } from './perceptron.js';
import { ResNet, type ResNetDepth } from './resnet.js';
import { VGG, type VggDepth } from './vgg.js';

export { LeNet5, type LeNet5Options } from './lenet5.js';
export { LeNet1998, LENET5_C3_TABLE, lenet1998Centers, lecun1998Init, lenet1998Criterion, type LeNet1998Options } from './lenet5-1998.js';
export { AlexNet, AlexNet2012, type AlexNetOptions } from './alexnet.js';
export { Perceptron, type PerceptronFitOptions, type PerceptronFitResult } from './perceptron.js';
export { VGG, type VggDepth, type VggOptions } from './vgg.js';
export { ResNet, ResNetBasicBlock, Bottleneck, type ResNetDepth, type ResNetOptions } from './resnet.js';

export interface ModelSpec {
  /** What the model is, in one line. */
  description: string;
  /** The input one image has, [C, H, W]. */
  inputShape: readonly [number, number, number];
  create(options: { generator?: Generator; numClasses?: number; inChannels?: number }): Module;
  /**
   * How the model learns when not by gradient steps: 'perceptron' is
   * Rosenblatt's rule (trainPerceptron), on two classes. Absent: by fit().
   */
  trainingRule?: 'perceptron';
}

/** Named models, for the command line and for checkpoints (which record the name). */
export const models: Record<string, ModelSpec> = {
  lenet5: {
    description: 'LeNet-5: conv 6@5x5 pad 2, ReLU, max pool 2; conv 16@5x5, ReLU, max pool 2; linear 400-120-84-10',
    inputShape: [1, 28, 28],
    create: (options) => new LeNet5(options),
  },
  'lenet5-1998': {
    description: "LeNet-5 as published (LeCun et al., 1998): scaled tanh, trainable subsampling, C3's sparse table, fixed RBF output; 60,000 parameters; 28x28 digits zero-padded to the paper's 32x32",
    inputShape: [1, 28, 28],
    create: (options) => new LeNet1998({ ...options, inputSize: 28 }),
  },
  alexnet: {
    description: "AlexNet as torchvision builds it (Krizhevsky's single-GPU variant): 5 convolutions 64-192-384-256-256, 3 linear layers; 61.1M parameters",
    inputShape: [3, 224, 224],
    create: (options) => new AlexNet(options),
  },
  'alexnet-2012': {
    description: 'AlexNet as published (Krizhevsky et al., 2012): 5 convolutions 96-256-384-384-256 (grouped where the two GPUs split), local response normalization, 3 linear layers; 60,965,224 parameters',
    inputShape: [3, 224, 224],
    create: (options) => new AlexNet2012(options),
  },
  perceptron: {
    description: "Rosenblatt's perceptron (1958): one threshold unit on the pixels, trained by its own rule, not by gradients; two classes (stride train: digit 0 against digit 1)",
    inputShape: [1, 28, 28],
    // Two classes whatever numClasses says: the unit answers 0 or 1.
    create: (options) => new Perceptron((options.inChannels ?? 1) * 28 * 28),
    trainingRule: 'perceptron',
  },
  ...vggSpecs(),
  ...resnetSpecs(),
};

/** vgg11 ... vgg19 and their _bn versions, torchvision's names. */
function vggSpecs(): Record<string, ModelSpec> {
  const specs: Record<string, ModelSpec> = {};
  for (const depth of ['vgg11', 'vgg13', 'vgg16', 'vgg19'] as const satisfies readonly VggDepth[]) {
    for (const batchNorm of [false, true]) {
      specs[batchNorm ? `${depth}_bn` : depth] = {
        description: `${depth.toUpperCase()}${batchNorm ? ' with batch norm after each convolution' : ''} as torchvision builds it (Simonyan & Zisserman, 2014)`,
        inputShape: [3, 224, 224],
        create: (options) => new VGG(depth, { ...options, batchNorm }),
      };
    }
  }
  return specs;
}

/** resnet18, resnet34, resnet50, resnet101, torchvision's layouts. */
function resnetSpecs(): Record<string, ModelSpec> {
  const specs: Record<string, ModelSpec> = {};
  for (const depth of ['resnet18', 'resnet34', 'resnet50', 'resnet101'] as const satisfies readonly ResNetDepth[]) {
    specs[depth] = {
      description: `ResNet-${depth.slice(6)} as torchvision builds it (He et al., 2016; stride on the bottleneck's 3x3)`,
      inputShape: [3, 224, 224],
      create: (options) => new ResNet(depth, options),
    };
  }
  return specs;
}

export function getModelSpec(name: string): ModelSpec {
  const spec = models[name];
  if (!spec) throw new ValueError(`unknown model '${name}'; available: ${Object.keys(models).join(', ')}`);
  return spec;
}

export function createModel(name: string, options: { generator?: Generator; numClasses?: number; inChannels?: number } = {}): Module {
  return getModelSpec(name).create(options);
}
