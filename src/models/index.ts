import { ValueError } from '../errors.js';
import type { Module } from '../nn/module.js';
import type { Generator } from '../tensor/random.js';
import { AlexNet, AlexNet2012 } from './alexnet.js';
import { LeNet5 } from './lenet5.js';
import { LeNet1998 } from './lenet5-1998.js';
import { MODEL_PATTERN_EXAMPLE, PATTERN_DEFAULT_INPUT_SHAPE, buildModelFromPattern, checkInputShape, looksLikeModelPattern, parseModelPattern } from './pattern.js';
import { Perceptron } from './perceptron.js';
import { ResNet, type ResNetDepth } from './resnet.js';
import { CIFAR_RESNET_DEPTHS, CifarResNet } from './resnet-cifar.js';
import { VGG, type VggDepth } from './vgg.js';
import { checkOptions, closestName } from '../validate.js';

export { LeNet5, type LeNet5Options } from './lenet5.js';
export { LeNet1998, LENET5_C3_TABLE, lenet1998Centers, lecun1998Init, lenet1998Criterion, type LeNet1998Options } from './lenet5-1998.js';
export { AlexNet, AlexNet2012, type AlexNetOptions } from './alexnet.js';
export { Perceptron, type PerceptronFitOptions, type PerceptronFitResult } from './perceptron.js';
export { VGG, type VggDepth, type VggOptions } from './vgg.js';
export { ResNet, ResNetBasicBlock, Bottleneck, type ResNetDepth, type ResNetOptions } from './resnet.js';
export { CifarResNet, CifarBasicBlock, ZeroPadShortcut, type CifarResNetDepth, type CifarResNetOptions } from './resnet-cifar.js';
export {
  parseModelPattern, buildModelFromPattern, formatPatternLayer, PatternModel, MODEL_PATTERN_EXAMPLE, MAX_PATTERN_LAYERS,
  type ModelPattern, type PatternNode, type PatternLayer, type PatternActivation, type PatternModelOptions,
} from './pattern.js';

/** What createModel and ModelSpec.create take. */
export interface ModelOptions {
  generator?: Generator;
  numClasses?: number;
  inChannels?: number;
  /**
   * One image, [C, H, W]: the data's. A pattern sizes its first linear layer
   * from it (default [1, 28, 28]); a named model takes its input channels
   * from it (inputShape[0]; inChannels, if also given, must agree) and is
   * otherwise built as named (default: its spec's inputShape).
   */
  inputShape?: readonly number[];
}

export interface ModelSpec {
  /** What the model is, in one line. */
  description: string;
  /** The input one image has, [C, H, W]. */
  inputShape: readonly [number, number, number];
  create(options: ModelOptions): Module;
  /**
   * How the model learns when not by gradient steps: 'perceptron' is
   * Rosenblatt's rule (trainPerceptron), on two classes. Absent: by fit().
   */
  trainingRule?: 'perceptron';
  /**
   * The learning rate `stride train` starts from, per optimizer, when --lr is
   * not given, for a model the general defaults do not train.
   */
  defaultLr?: { sgd?: number; adam?: number };
  /**
   * create takes `inputShape` itself and sizes the model for it (LeNet-5's
   * fc1, the perceptron's inputs); otherwise inputShape only gives inChannels.
   */
  sizedByInput?: boolean;
}

/** Named models, for the command line and for checkpoints (which record the name). */
export const models: Record<string, ModelSpec> = takingInputShape({
  lenet5: {
    description: 'LeNet-5: conv 6@5x5 pad 2, ReLU, max pool 2; conv 16@5x5, ReLU, max pool 2; linear 400-120-84-10 (fc1 sized for other images: 576 inputs for 3x32x32)',
    inputShape: [1, 28, 28],
    create: (options) => new LeNet5(options),
    sizedByInput: true,
  },
  'lenet5-1998': {
    description: "LeNet-5 as published (LeCun et al., 1998): scaled tanh, trainable subsampling, C3's sparse table, fixed RBF output; 60,000 parameters; 28x28 digits zero-padded to the paper's 32x32",
    inputShape: [1, 28, 28],
    // 28x28 (MNIST's digits, zero-padded to the paper's 32x32 field by c1) or 32x32 (the paper's input, as CIFAR's images)
    create: ({ inputShape, ...options }) => {
      const size = inputShape?.[1] ?? 28;
      if (inputShape !== undefined && (inputShape[1] !== inputShape[2] || (size !== 28 && size !== 32))) {
        throw new ValueError(`lenet5-1998: takes 28x28 images (zero-padded to the paper's 32x32 field) or 32x32 (the paper's input), got ${inputShape.slice(1).join('x')}; resize the images (--input Cx32x32)`);
      }
      return new LeNet1998({ ...options, inputSize: size as 28 | 32 });
    },
    sizedByInput: true,
    // SGD at 0.05 (momentum 0.9) diverges on its RBF output (loss 37.9, test accuracy 0.085 on 2,000 images); 0.01 reaches 0.9676 in one MNIST epoch.
    defaultLr: { sgd: 0.01 },
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
    create: ({ inputShape, inChannels }) => new Perceptron(inputShape !== undefined ? inputShape[0] * inputShape[1] * inputShape[2] : (inChannels ?? 1) * 28 * 28),
    sizedByInput: true,
    trainingRule: 'perceptron',
  },
  ...vggSpecs(),
  ...resnetSpecs(),
  ...cifarResnetSpecs(),
});

/** The names of ModelOptions, the options createModel takes for every model. */
const MODEL_OPTIONS: readonly (keyof ModelOptions)[] = ['generator', 'numClasses', 'inChannels', 'inputShape'];

/**
 * The named specs with their options checked (the names of ModelOptions) and
 * `inputShape` handled once for all: it is checked and gives inChannels (the
 * constructors take inChannels), so each spec's create sees the options its
 * constructor knows.
 */
function takingInputShape(specs: Record<string, ModelSpec>): Record<string, ModelSpec> {
  return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, {
    ...spec,
    create: (all: ModelOptions = {}) => {
      checkOptions(name, all, MODEL_OPTIONS);
      const { inputShape, ...options } = all;
      if (inputShape === undefined) return spec.create(options);
      const [channels] = checkInputShape(name, inputShape);
      if (options.inChannels !== undefined && options.inChannels !== channels) {
        throw new ValueError(`${name}: inChannels ${options.inChannels} disagrees with inputShape [${inputShape.join(', ')}]; give one of them`);
      }
      return spec.create(spec.sizedByInput ? { ...options, inputShape: [...inputShape], inChannels: channels } : { ...options, inChannels: channels });
    },
  }]));
}

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

/** resnet20 ... resnet110, He et al.'s CIFAR-10 networks. */
function cifarResnetSpecs(): Record<string, ModelSpec> {
  const specs: Record<string, ModelSpec> = {};
  for (const depth of CIFAR_RESNET_DEPTHS) {
    specs[depth] = {
      description: `ResNet-${depth.slice(6)} for CIFAR-10 (He et al., 2015, section 4.2): 16/32/64 channels, parameter-free (option A) shortcuts`,
      inputShape: [3, 32, 32],
      create: (options) => new CifarResNet(depth, options),
    };
  }
  return specs;
}

/** Whether `name` is a model pattern rather than a registered name (see looksLikeModelPattern). */
export function isModelPattern(name: string): boolean {
  return !Object.hasOwn(models, name) && looksLikeModelPattern(name);
}

/**
 * The spec of a registered name, or of a layer pattern such as
 * "[(conv3-32-relu)*2-pool2]*2-(fc128-relu)*1-fc10" (parsed here, so a
 * malformed one fails at once with a caret under the mistake).
 */
export function getModelSpec(name: string): ModelSpec {
  if (typeof name !== 'string') throw new ValueError(`getModelSpec: expected a model name or pattern string, got ${typeof name}`);
  if (Object.hasOwn(models, name)) return models[name];
  if (looksLikeModelPattern(name)) {
    const { layers } = parseModelPattern(name);
    return {
      description: `layer pattern ${name} (${layers.length} layers)`,
      inputShape: PATTERN_DEFAULT_INPUT_SHAPE,
      create: (options) => buildModelFromPattern(name, options),
    };
  }
  const best = closestName(name, Object.keys(models));
  throw new ValueError(`unknown model '${name}'; ${best === undefined ? '' : `did you mean '${best}'? `}available: ${Object.keys(models).join(', ')}; a layer pattern is also accepted, e.g. "${MODEL_PATTERN_EXAMPLE}"`);
}

/** Builds a registered model or a layer pattern (see getModelSpec and ModelOptions). */
export function createModel(name: string, options: ModelOptions = {}): Module {
  return getModelSpec(name).create(options);
}
