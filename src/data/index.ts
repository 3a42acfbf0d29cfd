/**
 * The data layer: file formats (IDX), datasets (MNIST), mini-batching and
 * augmentation (the `transforms` namespace, as torchvision.transforms).
 * The data layer: file formats (IDX, PNG and JPEG images), datasets (MNIST,
 * image folders) and mini-batching.
 * Everything here loads in a browser; functions that read files import Node
 * modules lazily on their first call.
 */
export { parseIdx, encodeIdx, readIdxFile, type IdxArrays, type IdxDType, type IdxExpect, type IdxFile } from './idx.js';
export { loadMnist, normalize, MNIST_MEAN, MNIST_STD, type MnistData, type MnistOptions, type MnistSplit } from './mnist.js';
export { DataLoader, type Batch, type DataLoaderOptions, type TensorDataset } from './loader.js';
export * as transforms from './transforms/index.js';
export {
  decodeImage, encodePng, imageFormat, convertChannels, resizeImage, centerCropImage, coverSize, fitImage, imageFromTensor,
  type FloatImage, type DecodedImage, type ImageFormat, type ResizeOptions,
} from './image.js';
export {
  loadImageFolder, listImageFolder, IMAGE_EXTENSIONS,
  type ImageFolderOptions, type ImageFolderData, type ImageFolderListing, type ImageFolderSplit, type ImageFolderLayout,
} from './image-folder.js';
