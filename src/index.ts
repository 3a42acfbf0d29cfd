/**
 * Stride: convolutional neural networks in TypeScript, with PyTorch semantics.
 * This entry point is isomorphic (Node and browsers); Node-only pieces (files,
 * the MNIST loader from disk, checkpoints on disk) are in 'stride/node'.
 */
import './ops/methods.js';

export { Tensor, tensor, zeros, ones, full, rand, randn, arange, zerosLike, onesLike, shapeSize, type DType, type FloatArray, type NestedArray, type TensorLike } from './tensor/tensor.js';
export { Generator, manualSeed, defaultGenerator } from './tensor/random.js';
export { StrideError, ShapeError, ValueError, DataError } from './errors.js';
export { backward, gradcheck, noGrad, enableGrad, isGradEnabled, type GradcheckOptions, type GradcheckReport } from './autograd/index.js';
export * from './ops/index.js';
export * as F from './ops/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export { LPPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, GlobalAvgPool2d, GlobalMaxPool2d, ChannelL2Pool, MaxUnpool2d, LocalResponseNorm } from './nn/index.js';
export { BatchNorm2d, Dropout2d, ELU, Softplus, GELU, SiLU, pytorchName, fromPytorchName, toPytorchStateDict, fromPytorchStateDict } from './nn/index.js';
export { Module, Sequential, Conv2d, Linear, MaxPool2d, AvgPool2d, ReLU, LeakyReLU, Sigmoid, Tanh, Softmax, LogSoftmax, Flatten, Dropout, init } from './nn/index.js';
export { ConvTranspose2d, Upsample } from './nn/index.js';
export { toFullyConvolutional } from './nn/index.js';
export { CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss } from './nn/index.js';
export { imageKernels, kernelTensor, applyImageKernel, type ImageKernelName } from './nn/index.js';
export { Add, Residual, BasicBlock, Graph, type BasicBlockOptions, type GraphSpec, type GraphNode } from './nn/index.js';
export { SGD, Adam, AdamW, Optimizer } from './optim/index.js';
export { clipGradNorm, clipGradValue, LRScheduler, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR, OneCycleLR } from './optim/index.js';
export type { OptimizerStateDict, ParamGroup, SGDOptions, AdamOptions, LRSchedulerStateDict } from './optim/index.js';
export { LeNet5, models, createModel, getModelSpec, type ModelSpec } from './models/index.js';
export { getBackend, setBackend, listBackends, registerBackend, type Backend, type KernelName } from './backends/index.js';
export { backendInfo, setThreads, ready, type BackendInfo, type BackendOptions } from './backends/index.js';
export { setWasmPlatform, webPlatform, type WasmPlatform, type WorkerInit } from './backends/wasm/platform.js';
export { parseIdx, encodeIdx, normalize, DataLoader, MNIST_MEAN, MNIST_STD } from './data/index.js';
// Training and checkpoint bytes are isomorphic (no Node imports); 'stride/node' adds files and the terminal progress bar.
export {
  fit, evaluate, accuracy, countCorrect, RunningMean, formatDuration, lrMultiplier, LR_SCHEDULES, type LrSchedule, type LrScheduleName,
  type FitOptions, type FitResult, type EpochResult, type EpochStartInfo, type BatchInfo, type EvaluateResult, type LossFn,
} from './train/index.js';
export {
  encodeCheckpoint, decodeCheckpoint, CHECKPOINT_MAGIC, CHECKPOINT_FORMAT, CHECKPOINT_FILE,
  type CheckpointHeader, type CheckpointMeta, type CheckpointTensorEntry, type DecodedCheckpoint, type EncodeCheckpointInput, type JsonValue,
} from './io/checkpoint.js';
