/**
 * The `init` namespace (nn.init, init): the initializers of init.ts plus
 * presets defined beside their data elsewhere in nn/ (init.imageKernel fills a
 * 3x3 conv weight with a classic image kernel; see image-kernels.ts).
 */
export * from './init.js';
export { imageKernel } from './image-kernels.js';
