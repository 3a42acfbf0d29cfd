/**
 * Stride's Node-only entry point, `stride/node`: everything that touches the
 * file system or the terminal, plus the training helpers. It does not repeat
 * the isomorphic API of 'stride' (src/index.ts), so import from both:
 *
 * ```ts
 * import { LeNet5, SGD, Generator, normalize, MNIST_MEAN, MNIST_STD } from 'stride';
 * import { loadMnist, fit, saveCheckpoint, loadCheckpoint } from 'stride/node';
 * ```
 */
import './ops/methods.js';
// The Node platform of the wasm backend: worker threads, core count, relaxed SIMD on Node 20.
import './backends/wasm/node.js';
// Op outputs from uninitialized memory (no memset before a kernel overwrites them).
import './tensor/node.js';
import { registerNativeBackend } from './backends/native/register.js';

export { loadMnist, readIdxFile, type MnistData, type MnistOptions, type MnistSplit } from './data/index.js';
export {
  encodeCheckpoint, decodeCheckpoint, CHECKPOINT_MAGIC, CHECKPOINT_FORMAT, CHECKPOINT_FILE,
  type CheckpointHeader, type CheckpointMeta, type CheckpointTensorEntry, type DecodedCheckpoint, type EncodeCheckpointInput, type JsonValue,
} from './io/checkpoint.js';
export { saveCheckpoint, loadCheckpoint, writeFileAtomic, resolveCheckpointPath, nodeAtomicFs, type AtomicWriteFs, type SaveCheckpointInfo, type LoadedCheckpoint } from './io/node-fs.js';
export {
  fit, evaluate, accuracy, countCorrect, RunningMean, formatDuration, lrMultiplier, LR_SCHEDULES, type LrSchedule, type LrScheduleName,
  type FitOptions, type FitResult, type EpochResult, type EpochStartInfo, type BatchInfo, type EvaluateResult, type LossFn,
} from './train/index.js';
export { createProgressReporter, memorySample, type MemorySample, type ProgressReporter, type ProgressReporterOptions } from './train/progress.js';
export { nativeStatus, nativeAvailable, oneDnnStatus, oneDnnAvailable, setNativeThreads, getNativeThreads } from './backends/native/index.js';
export { registerNativeBackend } from './backends/native/register.js';

// The `native` backend (OpenBLAS through koffi) is registered when the library
// is found and becomes the default unless setBackend already chose one;
// otherwise nothing happens and nativeStatus() says why.
registerNativeBackend();
