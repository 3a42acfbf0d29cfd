/**
 * State-dict names: Stride spells fields in camelCase, PyTorch in snake_case.
 * Most names are the same in both ("conv1.weight", "features.0.bias"); the
 * ones that differ are the batch-norm buffers:
 *   runningMean       <-> running_mean
 *   runningVar        <-> running_var
 *   numBatchesTracked <-> num_batches_tracked
 * (and any field a model spells in camelCase, e.g. a "downSample" child <->
 * "down_sample"). The mapping is applied to each dot-separated segment:
 * camelCase -> snake_case puts '_' before each upper-case letter that follows a
 * lower-case letter or digit, and lowers it;
 * snake_case -> camelCase drops each '_' that comes before a lower-case letter
 * and raises that letter. Index segments ("0") and names without either form
 * pass through unchanged. Use these to load PyTorch weights (e.g. a state dict
 * exported to JSON or the conformance models' `param:<name>` entries).
 */
import type { Tensor } from '../tensor/tensor.js';

function camelToSnake(segment: string): string {
  return segment.replace(/([a-z0-9])([A-Z])/g, (_, before: string, upper: string) => `${before}_${upper.toLowerCase()}`);
}

function snakeToCamel(segment: string): string {
  return segment.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Stride's state-dict name -> PyTorch's: 'bn1.runningMean' -> 'bn1.running_mean'. */
export function pytorchName(name: string): string {
  return name.split('.').map(camelToSnake).join('.');
}

/** PyTorch's state-dict name -> Stride's: 'layer1.0.bn1.running_var' -> 'layer1.0.bn1.runningVar'. */
export function fromPytorchName(name: string): string {
  return name.split('.').map(snakeToCamel).join('.');
}

/** A Stride state dict with PyTorch's names (same tensors). */
export function toPytorchStateDict(state: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(state).map(([k, v]) => [pytorchName(k), v]));
}

/** A PyTorch-named state dict with Stride's names (same tensors), ready for Module.loadStateDict. */
export function fromPytorchStateDict(state: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(state).map(([k, v]) => [fromPytorchName(k), v]));
}
