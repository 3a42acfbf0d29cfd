import { ValueError } from '../errors.js';
import type { Module } from '../nn/module.js';
import type { Generator } from '../tensor/random.js';
import { AlexNet } from './alexnet.js';
import { LeNet5 } from './lenet5.js';
import { ResNet, type ResNetDepth } from './resnet.js';
import { VGG, type VggDepth } from './vgg.js';

export { LeNet5, type LeNet5Options } from './lenet5.js';
export { AlexNet, type AlexNetOptions } from './alexnet.js';
export { VGG, type VggDepth, type VggOptions } from './vgg.js';
export { ResNet, ResNetBasicBlock, Bottleneck, type ResNetDepth, type ResNetOptions } from './resnet.js';

export interface ModelSpec {
  /** What the model is, in one line. */
  description: string;
  /** The input one image has, [C, H, W]. */
  inputShape: readonly [number, number, number];
  create(options: ModelCreateOptions): Module;
}

/** What createModel passes a model's spec. */
export interface ModelCreateOptions {
  generator?: Generator;
  numClasses?: number;
  inChannels?: number;
  /** The input one image has, [C, H, W], for models that size their layers from it; the named models read any size their layers allow and ignore it. */
  inputShape?: readonly [number, number, number];
}

/** The options a named model's constructor takes: the create options without inputShape. */
function constructorOptions({ inputShape: _inputShape, ...options }: ModelCreateOptions): Omit<ModelCreateOptions, 'inputShape'> {
  return options;
}

/** Named models, for the command line and for checkpoints (which record the name). */
export const models: Record<string, ModelSpec> = {
  lenet5: {
    description: 'LeNet-5: conv 6@5x5 pad 2, ReLU, max pool 2; conv 16@5x5, ReLU, max pool 2; linear 400-120-84-10',
    inputShape: [1, 28, 28],
    create: (options) => new LeNet5(constructorOptions(options)),
  },
  alexnet: {
    description: "AlexNet as torchvision builds it (Krizhevsky's single-GPU variant): 5 convolutions 64-192-384-256-256, 3 linear layers; 61.1M parameters",
    inputShape: [3, 224, 224],
    create: (options) => new AlexNet(constructorOptions(options)),
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
        create: (options) => new VGG(depth, { ...constructorOptions(options), batchNorm }),
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
      create: (options) => new ResNet(depth, constructorOptions(options)),
    };
  }
  return specs;
}

export function getModelSpec(name: string): ModelSpec {
  const spec = models[name];
  if (!spec) throw new ValueError(`unknown model '${name}'; available: ${Object.keys(models).join(', ')}`);
  return spec;
}

export function createModel(name: string, options: ModelCreateOptions = {}): Module {
  return getModelSpec(name).create(options);
}
