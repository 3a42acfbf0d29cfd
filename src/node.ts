/**
 * Stride's Node-only entry point, `stride/node`: what touches the file system,
 * the terminal or native libraries (the MNIST and CIFAR files, checkpoint and
 * safetensors files, the progress bar, the native backend's status). It
 * repeats nothing from 'stride' (src/index.ts), so import from both:
 *
 * ```ts
 * import { LeNet5, optim, Generator, normalize, fit, MNIST_MEAN, MNIST_STD } from 'stride';
 * import { loadMnist, saveCheckpoint, loadCheckpoint } from 'stride/node';
 * ```
 *
 * Backends: importing this module registers `native` (OpenBLAS through koffi)
 * when the library is found and makes it the default unless setBackend
 * already chose one; otherwise nothing changes and nativeStatus() says why.
 * The call is the last statement of this file.
 */
import './ops/methods.js';
// The Node platform of the wasm backend: worker threads, core count, relaxed SIMD on Node 20.
import './backends/wasm/node.js';
// Op outputs from uninitialized memory (no memset before a kernel overwrites them).
import './tensor/node.js';
import { registerNativeBackend } from './backends/native/register.js';

export { loadMnist, readIdxFile, type MnistData, type MnistOptions, type MnistSplit } from './data/index.js';
export { loadCifar10, loadCifar100, loadCifarClassNames, cifarDownloadHelp, type CifarData, type CifarSplit, type Cifar10Options, type Cifar100Options } from './data/index.js';
export {
  loadImageFolder, listImageFolder, IMAGE_EXTENSIONS,
  type ImageFolderOptions, type ImageFolderData, type ImageFolderListing, type ImageFolderSplit, type ImageFolderLayout,
} from './data/index.js';
export {
  saveCheckpoint, loadCheckpoint, readCheckpoint, writeFileAtomic, ensureFolder, resolveCheckpointPath, nodeAtomicFs, CHECKPOINT_FORMATS,
  loadSafetensors, saveSafetensors, saveModelSafetensors, SAFETENSORS_MODEL_KEYS, loadWeightsFile, loadWeightsInto, resolveWeightsPath,
  type AtomicWriteFs, type SaveCheckpointInfo, type LoadedCheckpoint, type CheckpointFormat, type LoadedWeights, type ReadCheckpoint,
} from './io/node-fs.js';
export { BatchPipeline, batchGenerator, shuffleGenerator, sharedImages, type BatchPipelineOptions } from './data/pipeline.js';
export { createProgressReporter, memorySample, type MemorySample, type ProgressReporter, type ProgressReporterOptions } from './train/progress.js';
export { nativeStatus, nativeAvailable, oneDnnStatus, oneDnnAvailable, setNativeThreads, getNativeThreads } from './backends/native/index.js';
export { registerNativeBackend } from './backends/native/register.js';

registerNativeBackend();
