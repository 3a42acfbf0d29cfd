/**
 * Training helpers (isomorphic): the fit loop, evaluation and metrics. The
 * terminal progress reporter (cli-progress) is Node-only and is exported from
 * 'stride/node' instead.
 */
export {
  fit, fitEpochs, fitEpochsAsync, evaluate, checkFiniteWeights, type FitOptions, type FitAsyncOptions, type BatchSource, type FitResult, type EpochResult, type EpochStartInfo, type BatchInfo, type EvaluateResult, type EvaluateOptions, type LossFn,
} from './fit.js';
export {
  accuracy, countCorrect, topKAccuracy, countTopKCorrect, confusionMatrix, perClassAccuracy, perClassPrecision, RunningMean, formatDuration,
} from './metrics.js';
export { lrMultiplier, LR_SCHEDULES, type LrSchedule, type LrScheduleName } from './schedule.js';
