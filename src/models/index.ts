import { ValueError } from '../errors.js';
import type { Module } from '../nn/module.js';
import type { Generator } from '../tensor/random.js';
import { LeNet5 } from './lenet5.js';

export { LeNet5, type LeNet5Options } from './lenet5.js';

export interface ModelSpec {
  /** What the model is, in one line. */
  description: string;
  /** The input one image has, [C, H, W]. */
  inputShape: readonly [number, number, number];
  create(options: { generator?: Generator; numClasses?: number; inChannels?: number }): Module;
}

/** Named models, for the command line and for checkpoints (which record the name). */
export const models: Record<string, ModelSpec> = {
  lenet5: {
    description: 'LeNet-5: conv 6@5x5 pad 2, ReLU, max pool 2; conv 16@5x5, ReLU, max pool 2; linear 400-120-84-10',
    inputShape: [1, 28, 28],
    create: (options) => new LeNet5(options),
  },
};

export function getModelSpec(name: string): ModelSpec {
  const spec = models[name];
  if (!spec) throw new ValueError(`unknown model '${name}'; available: ${Object.keys(models).join(', ')}`);
  return spec;
}

export function createModel(name: string, options: { generator?: Generator; numClasses?: number; inChannels?: number } = {}): Module {
  return getModelSpec(name).create(options);
}
