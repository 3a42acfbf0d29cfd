/**
 * Whether a model takes a dataset's images, found by running one image
 * through it before any training or evaluation: a model that shrinks the
 * image below one pixel, or ends in the wrong number of scores, is refused
 * with its reason instead of failing in the first step.
 */
import { ShapeError, StrideError, noGrad, zeros, type nn } from '../index.js';

/**
 * Builds a model for a dataset's images with `create`; a model whose
 * constructor refuses the image (LeNet-5's fc1 for an image below 12x12, a
 * pattern whose pooling would shrink it below one pixel) is reported as
 * checkModelFits reports one that fails on it: a ShapeError "model 'X'
 * cannot take DATASET's CxHxW images: <reason>", before any training.
 */
export function buildModelFor(create: () => nn.Module, name: string, dataset: string, inputShape: readonly number[]): nn.Module {
  try {
    return create();
  } catch (err) {
    if (err instanceof StrideError) throw new ShapeError(`model '${name}' cannot take ${dataset}'s ${inputShape.join('x')} images: ${err.message}`);
    throw err;
  }
}

/**
 * Runs one zero image of `inputShape` [C, H, W] through `model` (eval mode, no
 * gradients; the mode is restored) and checks that it gives `numClasses`
 * scores. Throws a ShapeError "model 'X' cannot take DATASET's CxHxW images: <reason>".
 */
export function checkModelFits(model: nn.Module, name: string, dataset: string, inputShape: readonly number[], numClasses: number): void {
  const cannot = `model '${name}' cannot take ${dataset}'s ${inputShape.join('x')} images`;
  const wasTraining = model.training;
  model.eval();
  let shape: readonly number[];
  try {
    shape = noGrad(() => model.forward(zeros([1, ...inputShape]))).shape;
  } catch (err) {
    if (err instanceof StrideError) throw new ShapeError(`${cannot}: ${err.message}`);
    throw err;
  } finally {
    model.train(wasTraining);
  }
  if (shape.length !== 2 || shape[1] !== numClasses) {
    throw new ShapeError(`${cannot}: one image gives an output of shape [${shape.join(', ')}], not [1, ${numClasses}] (one score per class of ${dataset})`);
  }
}
