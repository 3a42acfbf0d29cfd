/**
 * The data layer: file formats (IDX), datasets (MNIST, CIFAR-10/100) and mini-batching.
 * Everything here loads in a browser; functions that read files import Node
 * modules lazily on their first call.
 */
export { parseIdx, encodeIdx, readIdxFile, type IdxArrays, type IdxDType, type IdxExpect, type IdxFile } from './idx.js';
export { loadMnist, normalize, MNIST_MEAN, MNIST_STD, type MnistData, type MnistOptions, type MnistSplit } from './mnist.js';
export {
  parseCifarBatch, loadCifar10, loadCifar100, loadCifarClassNames, cifarDownloadHelp, CIFAR10_MEAN, CIFAR10_STD, CIFAR100_MEAN, CIFAR100_STD,
  type CifarBatch, type CifarBatchOptions, type CifarData, type CifarLabels, type CifarSplit, type Cifar10Options, type Cifar100Options,
} from './cifar.js';
export { DataLoader, type Batch, type DataLoaderOptions, type TensorDataset } from './loader.js';
