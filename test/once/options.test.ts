/**
 * Unknown option names, everywhere: every public function and constructor
 * that takes an options object refuses a name it does not know with a
 * ValueError that names the closest one,
 *   conv2d: unknown option 'strde'; did you mean 'stride'? The options are stride, padding, ...
 * and the command line does the same for its flags (exit 2).
 *
 * The API side is a table, CASES, and a list, NO_OPTIONS, that together must
 * name every function and class the entry points export (top level, F, nn,
 * nn.init, optim, transforms, 'stride/node'): a new export fails here until it
 * is put in one of them. Each case lists the options of its function by
 * optionNames, whose argument the compiler checks against the options type
 * (a name missing or extra fails `npm run typecheck`), and the test checks,
 * for every option, that the name with a letter dropped is refused with that
 * option suggested and with exactly the type's names listed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import * as stride from '../../src/index.js';
import * as strideNode from '../../src/node.js';
import {
  AlexNet2012, CifarResNet, DataLoader, F, LeNet1998, LeNet5, Perceptron, ValueError, buildModelFromPattern, closestName, createModel, editDistance,
  detectAnomaly, encodeCheckpoint, encodeSafetensors, evaluate, explainWindow, exportOnnx, exportOnnxModel, exportPytorch, fit, fitEpochs, fitEpochsAsync,
  formatSummary, full, getBackend, gradcheck, imageFromTensor, importOnnx, lenet1998Criterion, models, nn, ones, optim, parseCifarBatch, parseIdx,
  rand, randn, resizeImage, setBackend, summary, tensor, trainPerceptron, transforms, zeros, arange, type ModelOptions,
} from '../../src/index.js';
import {
  BatchPipeline, createProgressReporter, listImageFolder, loadCifar10, loadCifar100, loadCifarClassNames, loadImageFolder, loadMnist, loadWeightsFile,
  readIdxFile, saveCheckpoint, saveModelSafetensors, saveSafetensors,
} from '../../src/node.js';
import { unknownOptionMessage } from '../../src/validate.js';
import { COMMANDS, main } from '../../src/cli/program.js';
import { memoryIO } from '../../src/cli/io.js';
import { ok, stride as runStride, withTempDir } from '../helpers/index.js';

/** Every name of an options type, each exactly once: the compiler refuses a missing or an extra one. */
function optionNames<T>(all: { [K in keyof NonNullable<T>]-?: true }): string[] {
  return Object.keys(all);
}

/** `options` with `extra` added, as the argument of any options parameter. */
const merged = (options: object, extra: object): never => ({ ...options, ...extra }) as never;

interface OptionsCase {
  /** The name the function's messages begin with. */
  where: string;
  /** Every option it takes (optionNames of its options type). */
  options: readonly string[];
  /** Calls it with valid arguments and `extra` among its options. */
  call: (extra: never) => unknown;
}

const oneCase = (where: string, options: readonly string[], call: (extra: never) => unknown): OptionsCase[] => [{ where, options, call }];

// Valid arguments.
const image4 = () => zeros([1, 1, 4, 4]);
const params = () => [nn.parameter(zeros([2]))];
const sgd = () => new optim.SGD(params(), { lr: 0.1 });
const dataset = () => ({ images: zeros([4, 4]), labels: tensor([0, 1, 0, 1]) });
const image3 = () => zeros([1, 4, 4]);
const linear = () => new nn.Linear(2, 2);
const fitBase = () => ({ train: dataset(), epochs: 1, batchSize: 2, optimizer: sgd() });
const graphNodes = () => ({ r: { module: new nn.ReLU(), inputs: ['x'] } });

type Fn<F> = F extends (...args: infer A) => unknown ? A : never;
type Ctor<C> = C extends abstract new (...args: infer A) => unknown ? A : never;

const modelNames = optionNames<ModelOptions>({ generator: true, numClasses: true, inChannels: true, inputShape: true });

/** The options-taking exports, by 'namespace.name'; a '#' entry is a method or a nested options object of the export before it. */
const CASES: Record<string, OptionsCase[]> = {
  // The tensor API.
  'stride.tensor': oneCase('tensor', optionNames<Fn<typeof tensor>[2]>({ dtype: true, requiresGrad: true }), (o) => tensor([1], undefined, o)),
  'stride.full': oneCase('full', optionNames<Fn<typeof full>[2]>({ dtype: true, requiresGrad: true }), (o) => full([1], 0, o)),
  'stride.zeros': oneCase('zeros', optionNames<Fn<typeof zeros>[1]>({ dtype: true, requiresGrad: true }), (o) => zeros([1], o)),
  'stride.ones': oneCase('ones', optionNames<Fn<typeof ones>[1]>({ dtype: true, requiresGrad: true }), (o) => ones([1], o)),
  'stride.arange': oneCase('arange', optionNames<Fn<typeof arange>[3]>({ dtype: true, requiresGrad: true }), (o) => arange(3, undefined, 1, o)),
  'stride.rand': oneCase('rand', optionNames<Fn<typeof rand>[1]>({ dtype: true, requiresGrad: true, generator: true, low: true, high: true }), (o) => rand([1], o)),
  'stride.randn': oneCase('randn', optionNames<Fn<typeof randn>[1]>({ dtype: true, requiresGrad: true, generator: true, mean: true, std: true }), (o) => randn([1], o)),
  'stride.gradcheck': oneCase('gradcheck', optionNames<Fn<typeof gradcheck>[2]>({ eps: true, atol: true, rtol: true, throwOnFailure: true, seed: true }),
    (o) => gradcheck((a) => a, [zeros([1])], o)),
  'stride.setBackend': oneCase('setBackend', optionNames<Fn<typeof setBackend>[1]>({ threads: true }), (o) => setBackend(getBackend().name, o)),
  // Models.
  'stride.createModel': [
    ...Object.keys(models).map((name) => ({ where: name, options: modelNames, call: (o: never) => createModel(name, o) })),
    { where: 'buildModelFromPattern', options: modelNames, call: (o: never) => createModel('fc10', o) },
  ],
  'stride.buildModelFromPattern': oneCase('buildModelFromPattern',
    optionNames<Fn<typeof buildModelFromPattern>[1]>({ inputShape: true, inChannels: true, numClasses: true, generator: true }), (o) => buildModelFromPattern('fc10', o)),
  'stride.LeNet5': oneCase('LeNet5', optionNames<Ctor<typeof LeNet5>[0]>({ numClasses: true, inChannels: true, generator: true, inputShape: true }), (o) => new LeNet5(o)),
  'stride.LeNet1998': oneCase('LeNet1998',
    optionNames<Ctor<typeof LeNet1998>[0]>({ numClasses: true, inChannels: true, generator: true, output: true, inputSize: true }), (o) => new LeNet1998(o)),
  'stride.AlexNet2012': oneCase('AlexNet2012',
    optionNames<Ctor<typeof AlexNet2012>[0]>({ numClasses: true, inChannels: true, generator: true, dropout: true }), (o) => new AlexNet2012(o)),
  'stride.CifarResNet': oneCase('CifarResNet(resnet20)',
    optionNames<Ctor<typeof CifarResNet>[1]>({ numClasses: true, inChannels: true, generator: true }), (o) => new CifarResNet('resnet20', o)),
  'stride.lenet1998Criterion': oneCase('lenet1998Criterion', optionNames<Fn<typeof lenet1998Criterion>[2]>({ j: true }),
    (o) => lenet1998Criterion(zeros([1, 10]), [0], merged({ j: 0.1 }, o))),
  'stride.Perceptron#fit': oneCase('Perceptron.fit', optionNames<Fn<Perceptron['fit']>[2]>({ epochs: true, lr: true, shuffle: true, generator: true }),
    (o) => new Perceptron(4).fit(zeros([2, 4]), [0, 1], o)),
  'stride.summary': oneCase('summary', optionNames<Fn<typeof summary>[2]>({ name: true }), (o) => summary(linear(), [2], o)),
  'stride.formatSummary': oneCase('formatSummary', optionNames<Fn<typeof formatSummary>[1]>({ blocks: true }), (o) => formatSummary(summary(linear(), [2]), o)),
  'stride.explainWindow': oneCase('explainWindow',
    optionNames<Fn<typeof explainWindow>[0]>({
      kind: true, input: true, kernel: true, stride: true, padding: true, dilation: true, channels: true, filters: true, ceilMode: true, outputPadding: true,
    }),
    (o) => explainWindow(merged({ kind: 'conv', input: 7, kernel: 3 }, o))),
  // Data.
  'stride.DataLoader': oneCase('DataLoader', optionNames<Ctor<typeof DataLoader>[1]>({ batchSize: true, shuffle: true, dropLast: true, generator: true, nonFinite: true }),
    (o) => new DataLoader(dataset(), merged({ batchSize: 2 }, o))),
  'stride.parseIdx': oneCase('parseIdx', optionNames<Fn<typeof parseIdx>[2]>({ dtype: true, shape: true, nonFinite: true }), (o) => parseIdx(new Uint8Array(0), 'bytes', o)),
  'stride.parseCifarBatch': oneCase('parseCifarBatch', optionNames<Fn<typeof parseCifarBatch>[1]>({ source: true, labelBytes: true, labels: true }),
    (o) => parseCifarBatch(new Uint8Array(3073), merged({ source: 'batch.bin' }, o))),
  'stride.resizeImage': oneCase('resizeImage', optionNames<Fn<typeof resizeImage>[3]>({ mode: true, antialias: true }),
    (o) => resizeImage(imageFromTensor(image3()), 2, 2, o)),
  // Training.
  'stride.fit': oneCase('fit', optionNames<Fn<typeof fit>[1]>({
    train: true, test: true, epochs: true, initialEpoch: true, batchSize: true, optimizer: true, lossFn: true, lrSchedule: true, shuffle: true, generator: true,
    evalBatchSize: true, topK: true, batchTransform: true, onEpochStart: true, onBatch: true, onEvaluateStart: true, onEpoch: true, detectAnomaly: true, nonFinite: true,
  }), (o) => fit(linear(), merged(fitBase(), o))),
  'stride.fitEpochs': oneCase('fit', optionNames<Fn<typeof fitEpochs>[1]>({
    train: true, test: true, epochs: true, initialEpoch: true, batchSize: true, optimizer: true, lossFn: true, lrSchedule: true, shuffle: true, generator: true,
    evalBatchSize: true, topK: true, batchTransform: true, onEpochStart: true, onBatch: true, onEvaluateStart: true, onEpoch: true, detectAnomaly: true, nonFinite: true,
  }), (o) => fitEpochs(linear(), merged(fitBase(), o))),
  'stride.fitEpochsAsync': oneCase('fitEpochsAsync', optionNames<Fn<typeof fitEpochsAsync>[1]>({
    train: true, test: true, epochs: true, initialEpoch: true, batchSize: true, optimizer: true, lossFn: true, lrSchedule: true, shuffle: true, generator: true,
    evalBatchSize: true, topK: true, batchTransform: true, onEpochStart: true, onBatch: true, onEvaluateStart: true, onEpoch: true, detectAnomaly: true, nonFinite: true, batchSource: true,
  }), (o) => fitEpochsAsync(linear(), merged(fitBase(), o))),
  'stride.detectAnomaly': oneCase('detectAnomaly', optionNames<Fn<typeof detectAnomaly>[1]>({ parameters: true }), (o) => detectAnomaly(() => 0, o)),
  'stride.evaluate': oneCase('evaluate', optionNames<Fn<typeof evaluate>[3]>({ lossFn: true, topK: true, confusion: true, nonFinite: true }),
    (o) => evaluate(linear(), dataset(), 2, o)),
  'stride.trainPerceptron': oneCase('trainPerceptron',
    optionNames<Fn<typeof trainPerceptron>[2]>({ classes: true, epochs: true, lr: true, shuffle: true, generator: true, onEpoch: true }),
    (o) => trainPerceptron(new Perceptron(4), { train: dataset(), test: dataset() }, o)),
  // Files as bytes.
  'stride.encodeCheckpoint': oneCase('encodeCheckpoint',
    optionNames<Fn<typeof encodeCheckpoint>[0]>({ model: true, modelOptions: true, state: true, meta: true, training: true }),
    (o) => encodeCheckpoint(merged({ model: 'lenet5', state: {} }, o))),
  'stride.encodeSafetensors': oneCase('encodeSafetensors', optionNames<Fn<typeof encodeSafetensors>[2]>({ dtypes: true }), (o) => encodeSafetensors({}, undefined, o)),
  'stride.exportOnnx': oneCase('exportOnnx',
    optionNames<Fn<typeof exportOnnx>[1]>({ inputShape: true, opset: true, dynamicBatch: true, batchSize: true, name: true, metadata: true }),
    (o) => exportOnnx(linear(), merged({ inputShape: [2] }, o))),
  'stride.exportOnnxModel': oneCase('exportOnnx',
    optionNames<Fn<typeof exportOnnxModel>[1]>({ inputShape: true, opset: true, dynamicBatch: true, batchSize: true, name: true, metadata: true }),
    (o) => exportOnnxModel(linear(), merged({ inputShape: [2] }, o))),
  'stride.importOnnx': oneCase('importOnnx', optionNames<Fn<typeof importOnnx>[1]>({ source: true }), (o) => importOnnx(new Uint8Array(0), o)),
  'stride.exportPytorch': oneCase('exportPytorch', optionNames<Fn<typeof exportPytorch>[1]>({ inputShape: true, className: true }),
    (o) => exportPytorch(linear(), merged({ inputShape: [2] }, o))),

  // F: the functional ops.
  'F.sum': oneCase('sum', optionNames<Fn<typeof F.sum>[2]>({ keepDims: true }), (o) => F.sum(zeros([2]), undefined, o)),
  'F.mean': oneCase('mean', optionNames<Fn<typeof F.mean>[2]>({ keepDims: true }), (o) => F.mean(zeros([2]), undefined, o)),
  'F.max': oneCase('max', optionNames<Fn<typeof F.max>[2]>({ keepDims: true }), (o) => F.max(zeros([2]), undefined, o)),
  'F.min': oneCase('min', optionNames<Fn<typeof F.min>[2]>({ keepDims: true }), (o) => F.min(zeros([2]), undefined, o)),
  'F.argmax': oneCase('argmax', optionNames<Fn<typeof F.argmax>[2]>({ keepDims: true }), (o) => F.argmax(zeros([2]), 0, o)),
  'F.argmin': oneCase('argmin', optionNames<Fn<typeof F.argmin>[2]>({ keepDims: true }), (o) => F.argmin(zeros([2]), 0, o)),
  'F.variance': oneCase('variance', optionNames<Fn<typeof F.variance>[2]>({ keepDims: true, correction: true }), (o) => F.variance(zeros([3]), 0, o)),
  'F.maxWithIndices': oneCase('maxWithIndices', optionNames<Fn<typeof F.maxWithIndices>[2]>({ keepDims: true }), (o) => F.maxWithIndices(zeros([2, 3]), 1, o)),
  'F.minWithIndices': oneCase('minWithIndices', optionNames<Fn<typeof F.minWithIndices>[2]>({ keepDims: true }), (o) => F.minWithIndices(zeros([2, 3]), 1, o)),
  'F.topk': oneCase('topk', optionNames<Fn<typeof F.topk>[3]>({ largest: true, sorted: true }), (o) => F.topk(zeros([4]), 2, -1, o)),
  'F.conv2d': oneCase('conv2d', optionNames<Fn<typeof F.conv2d>[3]>({ stride: true, padding: true, dilation: true, groups: true, paddingMode: true, algorithm: true }),
    (o) => F.conv2d(image4(), zeros([1, 1, 3, 3]), null, o)),
  'F.conv2dFused': oneCase('conv2dFused', optionNames<Fn<typeof F.conv2dFused>[3]>({ stride: true, padding: true, dilation: true, groups: true, paddingMode: true, algorithm: true }),
    (o) => F.conv2dFused(zeros([1, 1, 4, 4]), zeros([1, 1, 3, 3]), null, o)),
  'F.conv2dFused#epilogue': oneCase('conv2dFused', optionNames<Fn<typeof F.conv2dFused>[4]>({ residual: true, relu: true }),
    (o) => F.conv2dFused(zeros([1, 1, 4, 4]), zeros([1, 1, 3, 3]), null, {}, o)),
  'F.conv2dChain': oneCase('conv2dChain: step 0',
    optionNames<F.Conv2dChainConv['options']>({ stride: true, padding: true, dilation: true, groups: true, paddingMode: true, algorithm: true }),
    (o) => F.conv2dChain(zeros([1, 1, 4, 4]), [{ weight: zeros([1, 1, 3, 3]), bias: null, options: o, input: -1, residual: null, relu: true }])),
  'F.conv2dChain#step': oneCase('conv2dChain: step 0', optionNames<F.Conv2dChainConv>({ kind: true, weight: true, bias: true, options: true, input: true, residual: true, relu: true }),
    (o) => F.conv2dChain(zeros([1, 1, 4, 4]), [merged({ weight: zeros([1, 1, 3, 3]), bias: null, options: {}, input: -1, residual: null, relu: true }, o)])),
  'F.conv2dFFT': oneCase('conv2dFFT',
    optionNames<Fn<typeof F.conv2dFFT>[3]>({ stride: true, padding: true, dilation: true, groups: true, paddingMode: true, algorithm: true }),
    (o) => F.conv2dFFT(image4(), zeros([1, 1, 3, 3]), null, o)),
  'F.conv2dGeometry': oneCase('conv2d',
    optionNames<Fn<typeof F.conv2dGeometry>[2]>({ stride: true, padding: true, dilation: true, groups: true, paddingMode: true, algorithm: true }),
    (o) => F.conv2dGeometry([1, 1, 4, 4], [1, 1, 3, 3], o)),
  'F.convTranspose2d': oneCase('convTranspose2d',
    optionNames<Fn<typeof F.convTranspose2d>[3]>({ stride: true, padding: true, outputPadding: true, dilation: true, groups: true }),
    (o) => F.convTranspose2d(image4(), zeros([1, 1, 3, 3]), null, o)),
  'F.convTranspose2dGeometry': oneCase('convTranspose2d',
    optionNames<Fn<typeof F.convTranspose2dGeometry>[2]>({ stride: true, padding: true, outputPadding: true, dilation: true, groups: true }),
    (o) => F.convTranspose2dGeometry([1, 1, 4, 4], [1, 1, 3, 3], o)),
  'F.upsample': oneCase('upsample', optionNames<Fn<typeof F.upsample>[1]>({ scaleFactor: true, size: true, mode: true, alignCorners: true }),
    (o) => F.upsample(image4(), merged({ scaleFactor: 2 }, o))),
  'F.maxPool2d': oneCase('maxPool2d', optionNames<Fn<typeof F.maxPool2d>[2]>({ stride: true, padding: true, dilation: true, ceilMode: true }),
    (o) => F.maxPool2d(image4(), 2, o)),
  'F.maxPool2dWithIndices': oneCase('maxPool2dWithIndices',
    optionNames<Fn<typeof F.maxPool2dWithIndices>[2]>({ stride: true, padding: true, dilation: true, ceilMode: true }), (o) => F.maxPool2dWithIndices(image4(), 2, o)),
  'F.avgPool2d': oneCase('avgPool2d', optionNames<Fn<typeof F.avgPool2d>[2]>({ stride: true, padding: true, ceilMode: true, countIncludePad: true }),
    (o) => F.avgPool2d(image4(), 2, o)),
  'F.lpPool2d': oneCase('lpPool2d', optionNames<Fn<typeof F.lpPool2d>[3]>({ stride: true, ceilMode: true, mean: true }), (o) => F.lpPool2d(image4(), 2, 2, o)),
  'F.globalAvgPool2d': oneCase('globalAvgPool2d', optionNames<Fn<typeof F.globalAvgPool2d>[1]>({ keepDims: true }), (o) => F.globalAvgPool2d(image4(), o)),
  'F.globalMaxPool2d': oneCase('globalMaxPool2d', optionNames<Fn<typeof F.globalMaxPool2d>[1]>({ keepDims: true }), (o) => F.globalMaxPool2d(image4(), o)),
  'F.maxUnpool2d': oneCase('maxUnpool2d', optionNames<Fn<typeof F.maxUnpool2d>[3]>({ stride: true, padding: true, outputSize: true }), (o) => {
    const { values, indices } = F.maxPool2dWithIndices(image4(), 2);
    return F.maxUnpool2d(values, indices, 2, o);
  }),
  'F.localResponseNorm': oneCase('localResponseNorm', optionNames<Fn<typeof F.localResponseNorm>[2]>({ alpha: true, beta: true, k: true }),
    (o) => F.localResponseNorm(image4(), 3, o)),
  'F.batchNorm2d': oneCase('batchNorm2d', optionNames<Fn<typeof F.batchNorm2d>[5]>({ training: true, momentum: true, eps: true }),
    (o) => F.batchNorm2d(image4(), null, null, null, null, merged({ training: true }, o))),
  'F.dropout': oneCase('dropout', optionNames<Fn<typeof F.dropout>[2]>({ training: true, generator: true }), (o) => F.dropout(zeros([2]), 0.5, o)),
  'F.dropout2d': oneCase('dropout2d', optionNames<Fn<typeof F.dropout2d>[2]>({ training: true, generator: true }), (o) => F.dropout2d(image4(), 0.5, o)),
  'F.softplus': oneCase('softplus', optionNames<Fn<typeof F.softplus>[1]>({ beta: true, threshold: true }), (o) => F.softplus(zeros([2]), o)),
  'F.gelu': oneCase('gelu', optionNames<Fn<typeof F.gelu>[1]>({ approximate: true }), (o) => F.gelu(zeros([2]), o)),
  'F.crossEntropy': oneCase('crossEntropy', optionNames<Fn<typeof F.crossEntropy>[2]>({ reduction: true, labelSmoothing: true, weight: true, ignoreIndex: true }),
    (o) => F.crossEntropy(zeros([2, 3]), [0, 1], o)),
  'F.nllLoss': oneCase('nllLoss', optionNames<Fn<typeof F.nllLoss>[2]>({ reduction: true, weight: true, ignoreIndex: true }), (o) => F.nllLoss(zeros([2, 3]), [0, 1], o)),
  'F.mseLoss': oneCase('mseLoss', optionNames<Fn<typeof F.mseLoss>[2]>({ reduction: true }), (o) => F.mseLoss(zeros([2]), zeros([2]), o)),
  'F.l1Loss': oneCase('l1Loss', optionNames<Fn<typeof F.l1Loss>[2]>({ reduction: true }), (o) => F.l1Loss(zeros([2]), zeros([2]), o)),
  'F.smoothL1Loss': oneCase('smoothL1Loss', optionNames<Fn<typeof F.smoothL1Loss>[2]>({ reduction: true, beta: true }), (o) => F.smoothL1Loss(zeros([2]), zeros([2]), o)),
  'F.huberLoss': oneCase('huberLoss', optionNames<Fn<typeof F.huberLoss>[2]>({ reduction: true, delta: true }), (o) => F.huberLoss(zeros([2]), zeros([2]), o)),
  'F.binaryCrossEntropy': oneCase('binaryCrossEntropy', optionNames<Fn<typeof F.binaryCrossEntropy>[2]>({ reduction: true, weight: true }),
    (o) => F.binaryCrossEntropy(zeros([2]), zeros([2]), o)),
  'F.binaryCrossEntropyWithLogits': oneCase('binaryCrossEntropyWithLogits',
    optionNames<Fn<typeof F.binaryCrossEntropyWithLogits>[2]>({ reduction: true, weight: true, posWeight: true }),
    (o) => F.binaryCrossEntropyWithLogits(zeros([2]), zeros([2]), o)),

  // nn: layers, losses, init, image kernels.
  'nn.Module#loadStateDict': oneCase('loadStateDict', optionNames<Fn<nn.Module['loadStateDict']>[1]>({ strict: true }),
    (o) => linear().loadStateDict(linear().stateDict(), o)),
  'nn.Conv2d': oneCase('Conv2d', optionNames<Ctor<typeof nn.Conv2d>[3]>({
    stride: true, padding: true, dilation: true, groups: true, paddingMode: true, algorithm: true, bias: true, generator: true,
  }), (o) => new nn.Conv2d(1, 1, 3, o)),
  'nn.ConvTranspose2d': oneCase('ConvTranspose2d', optionNames<Ctor<typeof nn.ConvTranspose2d>[3]>({
    stride: true, padding: true, outputPadding: true, dilation: true, groups: true, bias: true, generator: true,
  }), (o) => new nn.ConvTranspose2d(1, 1, 3, o)),
  'nn.SparseConv2d': oneCase('SparseConv2d', optionNames<Ctor<typeof nn.SparseConv2d>[3]>({ stride: true, padding: true, bias: true, generator: true }),
    (o) => new nn.SparseConv2d(2, [[0], [1]], 3, o)),
  'nn.Linear': oneCase('Linear', optionNames<Ctor<typeof nn.Linear>[2]>({ bias: true, generator: true }), (o) => new nn.Linear(2, 2, o)),
  'nn.Upsample': oneCase('Upsample', optionNames<Ctor<typeof nn.Upsample>[0]>({ scaleFactor: true, size: true, mode: true, alignCorners: true }),
    (o) => new nn.Upsample(merged({ scaleFactor: 2 }, o))),
  'nn.MaxPool2d': oneCase('MaxPool2d', optionNames<Ctor<typeof nn.MaxPool2d>[1]>({ stride: true, padding: true, dilation: true, ceilMode: true }),
    (o) => new nn.MaxPool2d(2, o)),
  'nn.AvgPool2d': oneCase('AvgPool2d', optionNames<Ctor<typeof nn.AvgPool2d>[1]>({ stride: true, padding: true, ceilMode: true, countIncludePad: true }),
    (o) => new nn.AvgPool2d(2, o)),
  'nn.LPPool2d': oneCase('LPPool2d', optionNames<Ctor<typeof nn.LPPool2d>[2]>({ stride: true, ceilMode: true, mean: true }), (o) => new nn.LPPool2d(2, 2, o)),
  'nn.GlobalAvgPool2d': oneCase('GlobalAvgPool2d', optionNames<Ctor<typeof nn.GlobalAvgPool2d>[0]>({ keepDims: true }), (o) => new nn.GlobalAvgPool2d(o)),
  'nn.GlobalMaxPool2d': oneCase('GlobalMaxPool2d', optionNames<Ctor<typeof nn.GlobalMaxPool2d>[0]>({ keepDims: true }), (o) => new nn.GlobalMaxPool2d(o)),
  'nn.MaxUnpool2d': oneCase('MaxUnpool2d', optionNames<Ctor<typeof nn.MaxUnpool2d>[1]>({ stride: true, padding: true }), (o) => new nn.MaxUnpool2d(2, o)),
  'nn.LocalResponseNorm': oneCase('LocalResponseNorm', optionNames<Ctor<typeof nn.LocalResponseNorm>[1]>({ alpha: true, beta: true, k: true }),
    (o) => new nn.LocalResponseNorm(3, o)),
  'nn.BatchNorm2d': oneCase('BatchNorm2d', optionNames<Ctor<typeof nn.BatchNorm2d>[1]>({ eps: true, momentum: true, affine: true, trackRunningStats: true, momentumConvention: true }),
    (o) => new nn.BatchNorm2d(1, o)),
  'nn.ScaledTanh': oneCase('ScaledTanh', optionNames<Ctor<typeof nn.ScaledTanh>[0]>({ amplitude: true, slope: true }), (o) => new nn.ScaledTanh(o)),
  'nn.Subsampling2d': oneCase('Subsampling2d', optionNames<Ctor<typeof nn.Subsampling2d>[2]>({ stride: true, generator: true }), (o) => new nn.Subsampling2d(1, 2, o)),
  'nn.EuclideanRBF': oneCase('EuclideanRBF', optionNames<Ctor<typeof nn.EuclideanRBF>[1]>({ trainable: true, negate: true }),
    (o) => new nn.EuclideanRBF(zeros([2, 2]), o)),
  'nn.Dropout': oneCase('Dropout', optionNames<Ctor<typeof nn.Dropout>[1]>({ generator: true }), (o) => new nn.Dropout(0.5, o)),
  'nn.Dropout2d': oneCase('Dropout2d', optionNames<Ctor<typeof nn.Dropout2d>[1]>({ generator: true }), (o) => new nn.Dropout2d(0.5, o)),
  'nn.Softplus': oneCase('Softplus', optionNames<Ctor<typeof nn.Softplus>[0]>({ beta: true, threshold: true }), (o) => new nn.Softplus(o)),
  'nn.GELU': oneCase('GELU', optionNames<Ctor<typeof nn.GELU>[0]>({ approximate: true }), (o) => new nn.GELU(o)),
  'nn.BasicBlock': oneCase('BasicBlock', optionNames<Ctor<typeof nn.BasicBlock>[2]>({ stride: true, generator: true }), (o) => new nn.BasicBlock(1, 1, o)),
  'nn.Graph': oneCase('Graph', optionNames<Ctor<typeof nn.Graph>[0]>({ inputs: true, nodes: true, outputs: true }),
    (o) => new nn.Graph(merged({ inputs: ['x'], nodes: graphNodes(), outputs: ['r'] }, o))),
  'nn.Graph#node': oneCase("Graph: node 'r'", optionNames<Ctor<typeof nn.Graph>[0]['nodes'][string]>({ module: true, inputs: true }),
    (o) => new nn.Graph({ inputs: ['x'], nodes: { r: merged(graphNodes().r, o) }, outputs: ['r'] })),
  'nn.CrossEntropyLoss': oneCase('CrossEntropyLoss',
    optionNames<Ctor<typeof nn.CrossEntropyLoss>[0]>({ reduction: true, labelSmoothing: true, weight: true, ignoreIndex: true }), (o) => new nn.CrossEntropyLoss(o)),
  'nn.NLLLoss': oneCase('NLLLoss', optionNames<Ctor<typeof nn.NLLLoss>[0]>({ reduction: true, weight: true, ignoreIndex: true }), (o) => new nn.NLLLoss(o)),
  'nn.BCELoss': oneCase('BCELoss', optionNames<Ctor<typeof nn.BCELoss>[0]>({ reduction: true, weight: true }), (o) => new nn.BCELoss(o)),
  'nn.BCEWithLogitsLoss': oneCase('BCEWithLogitsLoss', optionNames<Ctor<typeof nn.BCEWithLogitsLoss>[0]>({ reduction: true, weight: true, posWeight: true }),
    (o) => new nn.BCEWithLogitsLoss(o)),
  'nn.MSELoss': oneCase('MSELoss', optionNames<Ctor<typeof nn.MSELoss>[0]>({ reduction: true }), (o) => new nn.MSELoss(o)),
  'nn.L1Loss': oneCase('L1Loss', optionNames<Ctor<typeof nn.L1Loss>[0]>({ reduction: true }), (o) => new nn.L1Loss(o)),
  'nn.SmoothL1Loss': oneCase('SmoothL1Loss', optionNames<Ctor<typeof nn.SmoothL1Loss>[0]>({ reduction: true, beta: true }), (o) => new nn.SmoothL1Loss(o)),
  'nn.HuberLoss': oneCase('HuberLoss', optionNames<Ctor<typeof nn.HuberLoss>[0]>({ reduction: true, delta: true }), (o) => new nn.HuberLoss(o)),
  'nn.kernelTensor': oneCase('kernelTensor', optionNames<Fn<typeof nn.kernelTensor>[1]>({ inChannels: true, outChannels: true, perChannel: true, dtype: true }),
    (o) => nn.kernelTensor('sobelX', o)),
  'nn.applyImageKernel': oneCase('applyImageKernel', optionNames<Fn<typeof nn.applyImageKernel>[2]>({ padding: true, paddingMode: true }),
    (o) => nn.applyImageKernel(image3(), 'sobelX', o)),
  'nn.init.kaimingUniform': oneCase('kaimingUniform', optionNames<Fn<typeof nn.init.kaimingUniform>[1]>({ a: true, mode: true, nonlinearity: true, generator: true }),
    (o) => nn.init.kaimingUniform(zeros([2, 2]), o)),
  'nn.init.kaimingNormal': oneCase('kaimingNormal', optionNames<Fn<typeof nn.init.kaimingNormal>[1]>({ a: true, mode: true, nonlinearity: true, generator: true }),
    (o) => nn.init.kaimingNormal(zeros([2, 2]), o)),
  'nn.init.imageKernel': oneCase('init.imageKernel', optionNames<Fn<typeof nn.init.imageKernel>[2]>({ perChannel: true }),
    (o) => nn.init.imageKernel(zeros([1, 1, 3, 3]), 'sobelX', o)),

  // optim.
  'optim.SGD': oneCase('SGD', optionNames<Ctor<typeof optim.SGD>[1]>({ lr: true, momentum: true, dampening: true, nesterov: true, weightDecay: true }),
    (o) => new optim.SGD(params(), merged({ lr: 0.1 }, o))),
  'optim.SGD#group': oneCase('SGD (param group 0)', optionNames<Ctor<typeof optim.SGD>[1]>({ lr: true, momentum: true, dampening: true, nesterov: true, weightDecay: true }),
    (o) => new optim.SGD([merged({ params: params(), lr: 0.1 }, o)])),
  'optim.Adam': oneCase('Adam', optionNames<Ctor<typeof optim.Adam>[1]>({ lr: true, betas: true, eps: true, weightDecay: true }), (o) => new optim.Adam(params(), o)),
  'optim.AdamW': oneCase('AdamW', optionNames<Ctor<typeof optim.AdamW>[1]>({ lr: true, betas: true, eps: true, weightDecay: true }), (o) => new optim.AdamW(params(), o)),
  'optim.StepLR': oneCase('StepLR', optionNames<Ctor<typeof optim.StepLR>[1]>({ stepSize: true, gamma: true, lastEpoch: true }),
    (o) => new optim.StepLR(sgd(), merged({ stepSize: 1 }, o))),
  'optim.MultiStepLR': oneCase('MultiStepLR', optionNames<Ctor<typeof optim.MultiStepLR>[1]>({ milestones: true, gamma: true, lastEpoch: true }),
    (o) => new optim.MultiStepLR(sgd(), merged({ milestones: [1] }, o))),
  'optim.ExponentialLR': oneCase('ExponentialLR', optionNames<Ctor<typeof optim.ExponentialLR>[1]>({ gamma: true, lastEpoch: true }),
    (o) => new optim.ExponentialLR(sgd(), merged({ gamma: 0.9 }, o))),
  'optim.CosineAnnealingLR': oneCase('CosineAnnealingLR', optionNames<Ctor<typeof optim.CosineAnnealingLR>[1]>({ tMax: true, etaMin: true, lastEpoch: true }),
    (o) => new optim.CosineAnnealingLR(sgd(), merged({ tMax: 10 }, o))),
  'optim.LinearLR': oneCase('LinearLR', optionNames<Ctor<typeof optim.LinearLR>[1]>({ startFactor: true, endFactor: true, totalIters: true, lastEpoch: true }),
    (o) => new optim.LinearLR(sgd(), o)),
  'optim.OneCycleLR': oneCase('OneCycleLR', optionNames<Ctor<typeof optim.OneCycleLR>[1]>({
    maxLr: true, totalSteps: true, epochs: true, stepsPerEpoch: true, pctStart: true, annealStrategy: true, cycleMomentum: true, baseMomentum: true, maxMomentum: true,
    divFactor: true, finalDivFactor: true, threePhase: true, lastEpoch: true,
  }), (o) => new optim.OneCycleLR(sgd(), merged({ maxLr: 1, totalSteps: 10 }, o))),
  'optim.clipGradNorm': oneCase('clipGradNorm', optionNames<Fn<typeof optim.clipGradNorm>[3]>({ errorIfNonfinite: true }), (o) => optim.clipGradNorm(params(), 1, 2, o)),

  // transforms.
  'transforms.pad': oneCase('pad', optionNames<Fn<typeof transforms.pad>[2]>({ fill: true, paddingMode: true }), (o) => transforms.pad(image3(), 1, o)),
  'transforms.rotate': oneCase('rotate', optionNames<Fn<typeof transforms.rotate>[2]>({ interpolation: true, fill: true }), (o) => transforms.rotate(image3(), 10, o)),
  'transforms.affine': oneCase('affine', optionNames<Fn<typeof transforms.affine>[5]>({ interpolation: true, fill: true }),
    (o) => transforms.affine(image3(), 0, [0, 0], 1, 0, o)),
  'transforms.randomCrop': oneCase('randomCrop', optionNames<Fn<typeof transforms.randomCrop>[1]>({ padding: true, padIfNeeded: true, fill: true, paddingMode: true }),
    (o) => transforms.randomCrop(2, o)),
  'transforms.randomRotation': oneCase('randomRotation', optionNames<Fn<typeof transforms.randomRotation>[1]>({ interpolation: true, fill: true }),
    (o) => transforms.randomRotation(10, o)),
  'transforms.randomAffine': oneCase('randomAffine', optionNames<Fn<typeof transforms.randomAffine>[0]>({
    degrees: true, translate: true, scale: true, shear: true, interpolation: true, fill: true,
  }), (o) => transforms.randomAffine(merged({ degrees: 0 }, o))),
  'transforms.colorJitter': oneCase('colorJitter', optionNames<Fn<typeof transforms.colorJitter>[0]>({ brightness: true, contrast: true, saturation: true, hue: true }),
    (o) => transforms.colorJitter(o)),
  'transforms.randomErasing': oneCase('randomErasing', optionNames<Fn<typeof transforms.randomErasing>[0]>({ p: true, scale: true, ratio: true, value: true }),
    (o) => transforms.randomErasing(o)),

  // 'stride/node': files, loaders, the progress bar.
  'node.loadMnist': oneCase('loadMnist', optionNames<Fn<typeof loadMnist>[0]>({ split: true, limit: true, dir: true }), (o) => loadMnist(merged({ split: 'train' }, o))),
  'node.loadCifar10': oneCase('loadCifar10', optionNames<Fn<typeof loadCifar10>[0]>({ dir: true, split: true, limit: true }),
    (o) => loadCifar10(merged({ dir: 'cifar-10-batches-bin', split: 'train' }, o))),
  'node.loadCifar100': oneCase('loadCifar100', optionNames<Fn<typeof loadCifar100>[0]>({ dir: true, split: true, limit: true, labels: true }),
    (o) => loadCifar100(merged({ dir: 'cifar-100-binary', split: 'train' }, o))),
  'node.loadCifarClassNames': oneCase('loadCifarClassNames', optionNames<Fn<typeof loadCifarClassNames>[0]>({ dir: true, dataset: true, labels: true }),
    (o) => loadCifarClassNames(merged({ dir: 'cifar-10-batches-bin', dataset: 'cifar10' }, o))),
  'node.loadImageFolder': oneCase('loadImageFolder',
    optionNames<Fn<typeof loadImageFolder>[0]>({ dir: true, split: true, inputShape: true, testFraction: true, seed: true, limit: true }),
    (o) => loadImageFolder(merged({ dir: 'images', inputShape: [1, 4, 4] }, o))),
  'node.listImageFolder': oneCase('loadImageFolder',
    optionNames<Fn<typeof listImageFolder>[0]>({ dir: true, split: true, inputShape: true, testFraction: true, seed: true, limit: true }),
    (o) => listImageFolder(merged({ dir: 'images' }, o))),
  'node.readIdxFile': oneCase('readIdxFile', optionNames<Fn<typeof readIdxFile>[1]>({ dtype: true, shape: true, nonFinite: true }), (o) => readIdxFile('images.idx', o)),
  'node.saveCheckpoint': oneCase('saveCheckpoint', optionNames<Fn<typeof saveCheckpoint>[2]>({ model: true, modelOptions: true, meta: true, format: true, training: true }),
    (o) => withTempDir('stride-options-', (dir) => saveCheckpoint(join(dir, 'run'), linear(), merged({ model: 'lenet5' }, o)).then(() => undefined))),
  'node.saveModelSafetensors': oneCase('saveModelSafetensors',
    optionNames<Fn<typeof saveModelSafetensors>[2]>({ model: true, modelOptions: true, meta: true, training: true }),
    (o) => withTempDir('stride-options-', (dir) => saveModelSafetensors(join(dir, 'model.safetensors'), linear(), merged({ model: 'lenet5' }, o)).then(() => undefined))),
  'node.saveSafetensors': oneCase('encodeSafetensors', optionNames<Fn<typeof saveSafetensors>[3]>({ dtypes: true }),
    (o) => withTempDir('stride-options-', (dir) => saveSafetensors(join(dir, 'x.safetensors'), {}, undefined, o).then(() => undefined))),
  'node.loadWeightsFile': oneCase('loadWeightsFile', optionNames<Fn<typeof loadWeightsFile>[1]>({ arch: true }), (o) => loadWeightsFile('model.stride', o)),
  'node.BatchPipeline': oneCase('BatchPipeline', optionNames<Ctor<typeof BatchPipeline>[0]>({
    images: true, labels: true, batchSize: true, augment: true, normalize: true, seed: true, shuffle: true, dropLast: true, workers: true, prefetch: true, nonFinite: true,
  }), (o) => new BatchPipeline(merged({ images: zeros([4, 1, 2, 2]), labels: zeros([4]), batchSize: 2 }, o))),
  'node.createProgressReporter': oneCase('createProgressReporter',
    optionNames<Fn<typeof createProgressReporter>[0]>({ stream: true, bar: true, log: true, memory: true }), (o) => createProgressReporter(o)),
};

/**
 * The functions and classes that take no options object (their arguments are
 * positional, data, or an implementation of an interface such as a backend).
 */
const NO_OPTIONS = new Set([
  'stride.Tensor', 'stride.onesLike', 'stride.zerosLike', 'stride.shapeSize', 'stride.Generator', 'stride.manualSeed',
  'stride.StrideError', 'stride.ShapeError', 'stride.ValueError', 'stride.DataError',
  'stride.backward', 'stride.noGrad', 'stride.enableGrad', 'stride.isGradEnabled', 'stride.isAnomalyEnabled', 'stride.checkFiniteWeights',
  'stride.modelFromCheckpoint', 'node.ensureFolder',
  'stride.Perceptron', 'stride.ZeroPadShortcut', 'stride.PatternModel', 'stride.lenet1998Centers', 'stride.lecun1998Init', 'stride.getModelSpec',
  'stride.parseModelPattern', 'stride.isModelPattern',
  'stride.encodeIdx', 'stride.normalize', 'stride.decodeImage', 'stride.encodePng', 'stride.imageFormat', 'stride.convertChannels', 'stride.centerCropImage',
  'stride.coverSize', 'stride.fitImage', 'stride.imageFromTensor',
  'stride.accuracy', 'stride.countCorrect', 'stride.RunningMean', 'stride.formatDuration', 'stride.lrMultiplier', 'stride.topKAccuracy', 'stride.countTopKCorrect',
  'stride.confusionMatrix', 'stride.perClassAccuracy', 'stride.perClassPrecision',
  'stride.decodeCheckpoint', 'stride.decodeSafetensors', 'stride.OnnxModule', 'stride.encodeOnnx', 'stride.decodeOnnx', 'stride.onnxDtypeName', 'stride.onnxReady',
  'stride.formatWindowExplanation', 'stride.windowPicture', 'stride.setWarningHandler', 'stride.closestName', 'stride.editDistance',
  'stride.getBackend', 'stride.listBackends', 'stride.registerBackend', 'stride.backendInfo', 'stride.setThreads', 'stride.ready', 'stride.setWasmPlatform',
  'F.add', 'F.sub', 'F.mul', 'F.div', 'F.pow', 'F.maximum', 'F.minimum', 'F.eq', 'F.ne', 'F.lt', 'F.le', 'F.gt', 'F.ge',
  'F.neg', 'F.exp', 'F.log', 'F.sqrt', 'F.abs', 'F.square', 'F.reciprocal', 'F.sign', 'F.powScalar', 'F.clamp', 'F.relu', 'F.leakyRelu', 'F.sigmoid', 'F.tanh',
  'F.elu', 'F.silu', 'F.softmax', 'F.logSoftmax',
  'F.reshape', 'F.flatten', 'F.squeeze', 'F.unsqueeze', 'F.permute', 'F.transpose', 'F.slice', 'F.concat', 'F.stack',
  'F.clone', 'F.where', 'F.gather', 'F.indexSelect', 'F.expand', 'F.broadcastTo',
  'F.matmul', 'F.linear', 'F.pad', 'F.convOutputSize', 'F.resolvePadding', 'F.samePadding', 'F.partialConvRatio', 'F.convTransposeOutputSize', 'F.poolOutputSize',
  'F.adaptiveAvgPool2d', 'F.adaptiveMaxPool2d', 'F.channelL2Pool',
  'nn.Module', 'nn.parameter', 'nn.Sequential', 'nn.Add', 'nn.Residual', 'nn.Flatten', 'nn.ReLU', 'nn.LeakyReLU', 'nn.Sigmoid', 'nn.Tanh', 'nn.Softmax',
  'nn.LogSoftmax', 'nn.ELU', 'nn.SiLU', 'nn.AdaptiveAvgPool2d', 'nn.AdaptiveMaxPool2d', 'nn.ChannelL2Pool',
  'nn.setInferenceFusion', 'nn.isInferenceFusionEnabled', 'nn.foldBatchNorm',
  'nn.pytorchName', 'nn.fromPytorchName', 'nn.toPytorchStateDict', 'nn.fromPytorchStateDict', 'nn.toFullyConvolutional', 'nn.getImageKernel',
  'nn.init.fans', 'nn.init.uniform', 'nn.init.normal', 'nn.init.constant', 'nn.init.zeros', 'nn.init.ones', 'nn.init.calculateGain', 'nn.init.xavierUniform',
  'nn.init.xavierNormal', 'nn.init.defaultLayerParameters',
  'optim.Optimizer', 'optim.LRScheduler', 'optim.clipGradValue', 'optim.cosineAnnealingLr', 'optim.linearLrFactor',
  'transforms.compose', 'transforms.normalize', 'transforms.randomHorizontalFlip', 'transforms.randomVerticalFlip', 'transforms.transformBatch',
  'transforms.parseAugment', 'transforms.defaultAugment', 'transforms.hflip', 'transforms.vflip', 'transforms.crop', 'transforms.centerCrop',
  'transforms.inverseAffineMatrix', 'transforms.adjustBrightness', 'transforms.adjustContrast', 'transforms.adjustSaturation', 'transforms.adjustHue',
  'transforms.erase', 'transforms.normalizeImage',
  'node.readCheckpoint', 'node.loadCheckpoint', 'node.resolveCheckpointPath', 'node.writeFileAtomic', 'node.loadSafetensors', 'node.loadWeightsInto',
  'node.resolveWeightsPath', 'node.cifarDownloadHelp', 'node.batchGenerator', 'node.shuffleGenerator', 'node.sharedImages', 'node.memorySample',
  'node.nativeStatus', 'node.nativeAvailable', 'node.oneDnnStatus', 'node.oneDnnAvailable', 'node.setNativeThreads', 'node.getNativeThreads',
  'node.registerNativeBackend',
]);

/** Every function and class the entry points export, as 'namespace.name'. */
function publicCallables(): string[] {
  const spaces: [string, object][] = [
    ['stride', stride], ['node', strideNode], ['F', F], ['nn', nn], ['nn.init', nn.init], ['optim', optim], ['transforms', transforms],
  ];
  return spaces.flatMap(([space, exports]) => Object.entries(exports).filter(([, v]) => typeof v === 'function').map(([name]) => `${space}.${name}`));
}

/** The name with its middle letter left out ('stride' -> 'strde'). */
function dropLetter(name: string): string {
  const i = Math.floor(name.length / 2);
  return name.slice(0, i) + name.slice(i + 1);
}

/** What `fn` threw (or the rejection of the promise it returned); undefined when it did neither. */
async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('editDistance and closestName', () => {
  test('editDistance counts insertions, deletions, substitutions and swaps of neighbours, 1 each', () => {
    assert.equal(editDistance('stride', 'stride'), 0);
    assert.equal(editDistance('strid', 'stride'), 1); // one insertion
    assert.equal(editDistance('strides', 'stride'), 1); // one deletion
    assert.equal(editDistance('strade', 'stride'), 1); // one substitution
    assert.equal(editDistance('stirde', 'stride'), 1); // one swap (two for Levenshtein)
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3); // k->s, e->i, +g
    assert.equal(editDistance('Stride', 'stride'), 1, 'the distance itself is case-sensitive');
  });

  test('closestName compares without case, _ and -, within max(1, floor(length/3)) edits or by a prefix of 3 characters or more', () => {
    const conv = ['stride', 'padding', 'dilation', 'groups', 'paddingMode'];
    assert.equal(closestName('strid', conv), 'stride');
    assert.equal(closestName('padding_mode', conv), 'paddingMode');
    assert.equal(closestName('Padding', conv), 'padding');
    assert.equal(closestName('pad', conv), 'padding', 'a prefix');
    assert.equal(closestName('paddingModes', conv), 'paddingMode');
    assert.equal(closestName('kernel_size', conv), undefined);
    assert.equal(closestName('x', conv), undefined);
    // 'grops' is 1 edit from groups; 'gr' is 1 edit from no name here and too short for a prefix.
    assert.equal(closestName('grops', conv), 'groups');
    assert.equal(closestName('gr', conv), undefined);
    // 6 letters allow 2 edits, 5 allow 1: 'dlatn' is 3 from dilation.
    assert.equal(closestName('dilatn', conv), 'dilation');
    assert.equal(closestName('dlatn', conv), undefined);
    // Ties go to the earlier name; a nearer one wins whatever the order.
    assert.equal(closestName('ab', ['ax', 'xb']), 'ax');
    assert.equal(closestName('ab', ['xb', 'ax']), 'xb');
    assert.equal(closestName('batchSiz', ['batchSource', 'batchSize']), 'batchSize');
    assert.equal(closestName('anything', []), undefined);
  });

  test('unknownOptionMessage: with the suggestion, without one, and for a function with no options', () => {
    assert.equal(unknownOptionMessage('conv2d', 'strid', ['stride', 'padding']), "conv2d: unknown option 'strid'; did you mean 'stride'? The options are stride, padding");
    assert.equal(unknownOptionMessage('conv2d', 'kernel', ['stride', 'padding']), "conv2d: unknown option 'kernel'; the options are stride, padding");
    assert.equal(unknownOptionMessage('f', 'x', []), "f: unknown option 'x'; it takes no options");
  });
});

describe('every public function and constructor refuses a misspelt option and names the right one', () => {
  test('the table and the no-options list name every exported function and class, and nothing else', () => {
    const callables = publicCallables();
    const listed = new Set([...Object.keys(CASES).filter((k) => !k.includes('#')), ...NO_OPTIONS]);
    const missing = callables.filter((name) => !listed.has(name));
    assert.deepEqual(missing, [], `exports in neither CASES nor NO_OPTIONS (add each to one): ${missing.join(', ')}`);
    const stale = [...listed].filter((name) => !callables.includes(name));
    assert.deepEqual(stale, [], `listed but not exported: ${stale.join(', ')}`);
    const both = Object.keys(CASES).filter((name) => NO_OPTIONS.has(name));
    assert.deepEqual(both, [], `in both lists: ${both.join(', ')}`);
    for (const key of Object.keys(CASES).filter((k) => k.includes('#'))) ok(listed.has(key.split('#')[0]), `${key} belongs to an export`);
    // Enough to be the whole API, not a sample: every named model and the functions of each namespace.
    ok(callables.length > 300, `${callables.length} exported functions and classes`);
    assert.equal(CASES['stride.createModel'].length, Object.keys(models).length + 1);
  });

  for (const [name, cases] of Object.entries(CASES)) {
    test(name, async () => {
      for (const c of cases) {
        ok(c.options.length > 0, `${name}: a case lists its options`);
        for (const option of c.options) {
          const typo = dropLetter(option);
          ok(!c.options.includes(typo), `${name}: '${typo}' is itself an option; the test needs another misspelling`);
          const err = await thrown(() => c.call({ [typo]: 1 } as never));
          ok(err instanceof ValueError, `${c.where} with '${typo}' (for '${option}'): expected a ValueError, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
          const head = `${c.where}: unknown option '${typo}'; did you mean '${option}'? The options are `;
          ok(err.message.startsWith(head), `expected "${head}...", got "${err.message}"`);
          const listedNames = err.message.slice(head.length).split(', ');
          assert.deepEqual([...listedNames].sort(), [...c.options].sort(), `${c.where}: the options the message lists are the type's`);
        }
      }
    });
  }
});

/** Runs the command line in this process; returns its exit code and what it wrote to stdout and stderr. */
async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  // Commander writes its own errors to process.stderr; the commands write to io.
  let commander = '';
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    commander += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(argv, io);
    return { code, out: io.lines.map((l) => `${l}\n`).join(''), err: commander + io.errors.map((l) => `${l}\n`).join('') };
  } finally {
    process.stderr.write = write;
  }
}

describe('the command line: a misspelt flag is exit 2 with the flag meant', () => {
  for (const command of COMMANDS) {
    test(`stride ${command.name}: every flag with a letter dropped`, async () => {
      const flags = Object.values(command.options).map((o) => /--[\w-]+/.exec(o.flags)![0]);
      ok(flags.length > 0, `${command.name} has flags`);
      for (const flag of flags) {
        const typo = `--${dropLetter(flag.slice(2))}`;
        ok(!flags.includes(typo), `${typo} is itself a flag of ${command.name}`);
        // Nothing else on the line: a misspelt required flag is reported as misspelt, not as missing.
        const r = await cli(command.name, typo);
        assert.equal(r.code, 2, `stride ${command.name} ${typo}: ${r.err}`);
        assert.equal(r.err, `error: unknown option '${typo}'\n(Did you mean ${flag}?)\n`);
        assert.equal(r.out, '');
      }
    });
  }

  test('a value for a choice names the closest choice; a flag or value near nothing is refused without a guess', async () => {
    const optimizer = await cli('train', 'lenet5', '--optimizer', 'adm');
    assert.equal(optimizer.code, 2);
    assert.match(optimizer.err, /--optimizer.*'adm' is invalid\. Unknown optimizer; did you mean 'adam'\? available: sgd, adam\./);
    const dataset = await cli('train', 'lenet5', '--dataset', 'mnst');
    assert.equal(dataset.code, 2);
    assert.match(dataset.err, /Unknown dataset; did you mean 'mnist'\?/);
    const bogus = await cli('train', 'lenet5', '--bogus');
    assert.equal(bogus.code, 2);
    assert.equal(bogus.err, "error: unknown option '--bogus'\n");
    const model = await cli('summary', 'lenet', '--json');
    assert.equal(model.code, 2);
    assert.match(model.err, /unknown model 'lenet'; did you mean 'lenet5'\?/);
  });

  test('a missing required flag is still reported as missing', async () => {
    const r = await cli('eval');
    assert.equal(r.code, 2);
    assert.equal(r.err, "error: required option '--model <path>' not specified\n");
  });

  test('the stride executable: exit 2 and the suggestion for a flag and for a command', async () => {
    const [flag, command] = await Promise.all([runStride('train', '--epoch', '2'), runStride('trian')]);
    assert.equal(flag.code, 2, flag.stderr);
    assert.equal(flag.stderr, "error: unknown option '--epoch'\n(Did you mean --epochs?)\n");
    assert.equal(command.code, 2, command.stderr);
    assert.equal(command.stderr, "error: unknown command 'trian'\n(Did you mean train?)\n");
  });
});
