/**
 * Stride: convolutional neural networks in TypeScript, with PyTorch semantics.
 * This entry point is isomorphic (Node and browsers); Node-only pieces (files,
 * the MNIST loader from disk, checkpoints on disk, the terminal progress bar,
 * the native backend's status) are in 'stride/node', which repeats nothing
 * from here.
 *
 * The surface, each name exported once, as a PyTorch user meets it:
 * - top level, the tensor API (torch.*): Tensor and its factories, Generator
 *   and manualSeed, the typed errors, autograd (backward, noGrad, gradcheck,
 *   detectAnomaly);
 * - `F`: every functional op (torch.nn.functional, and the tensor maths of
 *   torch.* such as F.matmul, F.concat, F.where), only as the namespace;
 * - `nn`: Module, nn.parameter (torch.nn.Parameter), layers, losses, nn.init,
 *   only as the namespace;
 * - `optim`: optimizers, learning-rate schedulers, gradient clipping, only as
 *   the namespace;
 * - top-level conveniences, grouped below: models, data, training,
 *   checkpoint and safetensors bytes, backends.
 *
 * Backends: importing this module registers `wasm` wherever the engine has
 * WebAssembly SIMD and makes it the default (else `ref` runs); the call is the
 * last statement of this file. 'stride/node' adds `native` (OpenBLAS) and
 * makes it the default when the library is found, unless setBackend chose.
 */
import './ops/methods.js';
import { registerDefaultBackends } from './backends/index.js';

// The tensor API.
export { Tensor, tensor, zeros, ones, full, rand, randn, arange, zerosLike, onesLike, shapeSize, type DType, type FloatArray, type NestedArray, type TensorLike } from './tensor/tensor.js';
export { Generator, manualSeed, defaultGenerator, type GeneratorState } from './tensor/random.js';
export { StrideError, ShapeError, ValueError, DataError } from './errors.js';
export { backward, gradcheck, noGrad, enableGrad, isGradEnabled, detectAnomaly, isAnomalyEnabled, type GradcheckOptions, type GradcheckReport, type AnomalyOptions } from './autograd/index.js';

// The namespaces.
export * as F from './ops/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';

// Models.
export {
  LeNet5, LeNet1998, AlexNet2012, Perceptron, LENET5_C3_TABLE, lenet1998Centers, lecun1998Init, lenet1998Criterion, models, createModel, getModelSpec,
  type ModelSpec, type ModelOptions, type LeNet1998Options, type PerceptronFitOptions, type PerceptronFitResult,
  CifarResNet, ZeroPadShortcut, type CifarResNetDepth, type CifarResNetOptions,
  parseModelPattern, buildModelFromPattern, isModelPattern, PatternModel, MODEL_PATTERN_EXAMPLE,
  type ModelPattern, type PatternNode, type PatternLayer, type PatternActivation, type PatternModelOptions,
} from './models/index.js';
// What a network is made of: per-layer counts, multiply-accumulates, receptive fields.
export { summary, formatSummary, type ModelSummary, type LayerSummary, type BlockSummary, type ReceptiveField, type SummaryOptions, type FormatSummaryOptions } from './nn/summary.js';
export type { LayerCounts, DescribedLayer, WindowGeometry, AxisField } from './nn/describe.js';
// Data.
export { parseIdx, encodeIdx, normalize, DataLoader, MNIST_MEAN, MNIST_STD, transforms, type NonFinitePolicy } from './data/index.js';
export {
  decodeImage, encodePng, imageFormat, convertChannels, resizeImage, centerCropImage, coverSize, fitImage, imageFromTensor,
  type FloatImage, type DecodedImage, type ImageFormat, type ResizeOptions,
} from './data/index.js';
export { parseCifarBatch, CIFAR10_MEAN, CIFAR10_STD, CIFAR100_MEAN, CIFAR100_STD, type CifarBatch, type CifarBatchOptions, type CifarLabels } from './data/index.js';
// Training (isomorphic; 'stride/node' adds the terminal progress bar).
export {
  fit, fitEpochs, fitEpochsAsync, evaluate, checkFiniteWeights, accuracy, countCorrect, RunningMean, formatDuration, lrMultiplier, LR_SCHEDULES, type LrSchedule, type LrScheduleName,
  topKAccuracy, countTopKCorrect, confusionMatrix, perClassAccuracy, perClassPrecision,
  type FitOptions, type FitAsyncOptions, type BatchSource, type FitResult, type EpochResult, type EpochStartInfo, type BatchInfo, type EvaluateResult, type EvaluateOptions, type LossFn,
} from './train/index.js';
export { trainPerceptron, type TrainPerceptronOptions, type TrainPerceptronResult } from './train/perceptron.js';
// Checkpoint bytes ('stride/node' reads and writes the files).
export {
  encodeCheckpoint, decodeCheckpoint, modelFromCheckpoint, CHECKPOINT_MAGIC, UNCHECKED_CHECKPOINT_MAGIC, CHECKPOINT_FORMAT, TRAINING_CHECKPOINT_FORMAT, OPTIMIZER_TENSOR_PREFIX, CHECKPOINT_FILE,
  type CheckpointHeader, type CheckpointMeta, type CheckpointTensorEntry, type DecodedCheckpoint, type EncodeCheckpointInput, type JsonValue,
  type CheckpointTraining, type CheckpointOptimizerState,
} from './io/checkpoint.js';
// Safetensors bytes (Hugging Face's format; 'stride/node' reads and writes the files).
export {
  encodeSafetensors, decodeSafetensors, SAFETENSORS_DTYPES, SAFETENSORS_FILE, SAFETENSORS_MAX_HEADER_BYTES,
  type DecodedSafetensors, type EncodeSafetensorsOptions, type SafetensorsDType,
} from './io/safetensors.js';
// ONNX files (isomorphic bytes; exportOnnx traces a model into an inference graph).
export { exportOnnx, exportOnnxModel, ONNX_EXPORT_OPSETS, type ExportOnnxOptions } from './io/onnx/export.js';
export { importOnnx, OnnxModule, type ImportOnnxOptions } from './io/onnx/import.js';
// PyTorch source of a model (model.py) and its state under PyTorch's names.
export { exportPytorch, type ExportPytorchOptions, type PytorchExport } from './io/pytorch-export.js';
export {
  encodeOnnx, decodeOnnx, onnxDtypeName, onnxReady, ONNX_DTYPE, type OnnxModel, type OnnxGraph, type OnnxNode, type OnnxTensor, type OnnxAttribute, type OnnxValueInfo,
} from './io/onnx/proto.js';
// Window arithmetic (what `stride explain` prints) and warnings.
export {
  explainWindow, type ExplainWindowOptions, type WindowExplanation, type WindowExplanation1d, type WindowExplanation2d,
  type WindowAxis, type WindowSpan, type PaddingSuggestion, type WindowKind, type WindowPadding, type AxisPair, type HeightWidth,
} from './ops/explain-window.js';
export { formatWindowExplanation, windowPicture } from './ops/explain-window-text.js';
export { setWarningHandler, type StrideWarning, type WarningCode, type WarningHandler } from './warnings.js';
// The closest of a list of names to a mistyped one, as every "unknown option" error suggests it.
export { closestName, editDistance } from './validate.js';
// Backends.
export { getBackend, setBackend, listBackends, registerBackend, backendInfo, setThreads, ready, type Backend, type KernelName, type BackendInfo, type BackendOptions } from './backends/index.js';
export { setWasmPlatform, webPlatform, type WasmPlatform, type WorkerInit } from './backends/wasm/platform.js';

registerDefaultBackends();
