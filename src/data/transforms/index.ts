/**
 * Data augmentation, as torchvision.transforms: seeded random transforms
 * (randomCrop, randomHorizontalFlip, randomRotation, randomAffine,
 * colorJitter, randomErasing, ...), their deterministic forms with explicit
 * parameters (as torchvision.transforms.functional), batches, and the
 * `--augment` spec grammar with per-dataset defaults.
 */
export {
  hflip, vflip, pad, crop, centerCrop, rotate, affine, adjustBrightness, adjustContrast, adjustSaturation, adjustHue, erase, normalizeImage, inverseAffineMatrix,
  INTERPOLATIONS, PADDING_MODES, type Interpolation, type PaddingMode, type Fill, type PadOptions, type WarpOptions,
} from './functional.js';
export {
  compose, normalize, randomCrop, randomHorizontalFlip, randomVerticalFlip, randomRotation, randomAffine, colorJitter, randomErasing, transformBatch,
  type Transform, type RandomCropOptions, type RandomWarpOptions, type RandomAffineOptions, type ColorJitterOptions, type RandomErasingOptions,
} from './random.js';
export {
  parseAugment, defaultAugment, AUGMENT_EXAMPLE, AUGMENT_STEPS, DEFAULT_AUGMENT_DATASETS,
  type AugmentPlan, type AugmentStep, type AugmentStepName, type AugmentValue, type AugmentRange,
} from './augment.js';
