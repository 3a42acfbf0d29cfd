/**
 * The data layer: file formats (IDX, the CIFAR-10/100 binary batches, PNG and
 * JPEG images), datasets (MNIST, CIFAR-10/100, image folders), mini-batching
 * and augmentation (the `transforms` namespace, as torchvision.transforms).
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
export { NON_FINITE_POLICIES, type NonFinitePolicy } from './non-finite.js';
export * as transforms from './transforms/index.js';
export {
  decodeImage, encodePng, imageFormat, convertChannels, resizeImage, centerCropImage, coverSize, fitImage, imageFromTensor,
  type FloatImage, type DecodedImage, type ImageFormat, type ResizeOptions,
} from './image.js';
export {
  loadImageFolder, listImageFolder, IMAGE_EXTENSIONS,
  type ImageFolderOptions, type ImageFolderData, type ImageFolderListing, type ImageFolderSplit, type ImageFolderLayout,
} from './image-folder.js';
