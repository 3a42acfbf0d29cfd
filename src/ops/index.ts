import './methods.js';

export { add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge } from './binary.js';
export { neg, exp, log, sqrt, abs, square, reciprocal, sign, powScalar, clamp, relu, leakyRelu, sigmoid, tanh } from './unary.js';
export { sum, mean, max, min, argmax, argmin, variance, type ReduceOptions, type VarianceOptions } from './reduce.js';
export { reshape, flatten, squeeze, unsqueeze, permute, transpose, slice, concat, stack } from './shape.js';
export { matmul } from './matmul.js';
export { linear } from './linear.js';
export { conv2d, conv2dChain, conv2dFused, conv2dGeometry, convOutputSize, resolvePadding, samePadding, partialConvRatio, type Conv2dChainStep, type Conv2dChainConv, type Conv2dChainMaxPool, type Conv2dEpilogue, type Conv2dOptions, type Conv2dPadding, type Conv2dPaddingMode } from './conv2d.js';
export { pad, type PadMode } from './pad.js';
export { conv2dFFT, type Conv2dFFTOptions } from './conv2d-fft.js';
export { convTranspose2d, convTranspose2dGeometry, convTransposeOutputSize, type ConvTranspose2dOptions } from './conv-transpose2d.js';
export { upsample, type UpsampleOptions, type UpsampleMode } from './upsample.js';
export { maxPool2d, avgPool2d, poolOutputSize, type MaxPool2dOptions, type AvgPool2dOptions } from './pool2d.js';
export { maxPool2dWithIndices } from './pool2d.js';
export { lpPool2d, type LpPool2dOptions } from './lp-pool2d.js';
export { adaptiveAvgPool2d, adaptiveMaxPool2d, globalAvgPool2d, globalMaxPool2d, type AdaptiveOutputSize, type GlobalPool2dOptions } from './adaptive-pool2d.js';
export { channelL2Pool } from './channel-l2-pool.js';
export { maxUnpool2d, type MaxUnpool2dOptions } from './max-unpool2d.js';
export { localResponseNorm, type LocalResponseNormOptions } from './local-response-norm.js';
export { softmax, logSoftmax } from './softmax.js';
export { crossEntropy, nllLoss, type CrossEntropyOptions, type NllLossOptions } from './cross-entropy.js';
export { mseLoss, l1Loss, smoothL1Loss, huberLoss, type SmoothL1LossOptions, type HuberLossOptions } from './regression-losses.js';
export { binaryCrossEntropy, binaryCrossEntropyWithLogits, type BinaryCrossEntropyOptions, type BinaryCrossEntropyWithLogitsOptions } from './binary-cross-entropy.js';
export type { Reduction } from './loss-reduction.js';
export {
  clone, where, gather, indexSelect, expand, broadcastTo, maxWithIndices, minWithIndices, topk,
  type ValuesAndIndices, type WithIndicesOptions, type TopkOptions,
} from './indexing.js';
export { dropout, type DropoutOptions } from './dropout.js';
export { elu, softplus, gelu, silu, type SoftplusOptions, type GeluOptions } from './unary.js';
export { batchNorm2d, type BatchNorm2dOptions } from './batch-norm.js';
export { dropout2d } from './dropout.js';
