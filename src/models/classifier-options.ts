import type { Generator } from '../tensor/random.js';
import { checkInt, checkOptions } from '../validate.js';

/** The options every classifier in the zoo takes. */
export interface ClassifierOptions {
  /** Outputs of the last layer, one score per class. */
  numClasses?: number;
  /** Channels of the input image. */
  inChannels?: number;
  generator?: Generator;
}

/**
 * A model's options, checked: names other than numClasses, inChannels,
 * generator and the model's own `extra` ones are refused (a misspelt option
 * fails instead of being ignored), and the counts are whole numbers >= 1,
 * defaulting to the model's.
 */
export function classifierOptions(
  where: string, options: ClassifierOptions, defaults: { numClasses: number; inChannels: number }, extra: readonly string[] = [],
): { numClasses: number; inChannels: number; generator: Generator | undefined } {
  checkOptions(where, options, ['numClasses', 'inChannels', 'generator', ...extra]);
  return {
    numClasses: checkInt(where, 'numClasses', options.numClasses ?? defaults.numClasses, 1),
    inChannels: checkInt(where, 'inChannels', options.inChannels ?? defaults.inChannels, 1),
    generator: options.generator,
  };
}
