export { Optimizer, type ParamsLike, type ParamGroup, type ParamGroupSpec, type ParamsOrGroups, type ParamState, type OptimizerStateDict } from './optimizer.js';
export { SGD, type SGDOptions, type SGDParamGroup } from './sgd.js';
export { Adam, AdamW, type AdamOptions, type AdamParamGroup } from './adam.js';
export { clipGradNorm, clipGradValue, type ClipGradNormOptions } from './clip.js';
export {
  LRScheduler, StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR, OneCycleLR, cosineAnnealingLr, linearLrFactor,
  type LRSchedulerStateDict, type StepLROptions, type MultiStepLROptions, type ExponentialLROptions, type CosineAnnealingLROptions,
  type LinearLROptions, type OneCycleLROptions,
} from './lr-scheduler.js';
