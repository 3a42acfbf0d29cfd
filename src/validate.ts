/**
 * The argument checks every layer uses (ops, nn, optim, models, data, CLI):
 * they sit at the bottom of the import graph, beside the error classes, and
 * depend on nothing else. Each message names the function, the argument, the
 * rule and the value it got.
 */
import { ValueError } from './errors.js';

/** Throws unless `value` is an integer >= min. */
export function checkInt(where: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ValueError(`${where}: ${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Throws unless every key of `options` is one of `known`: catches typos such as `kernel_size`. */
export function checkOptions(where: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object') throw new ValueError(`${where}: options must be an object, got ${typeof options}`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ValueError(`${where}: unknown option '${key}'; the options are ${known.join(', ')}`);
    }
  }
}

/** A pair from a number or a 2-element array ([h, w]). */
export function pair(where: string, name: string, value: number | readonly number[], min: number): [number, number] {
  const arr = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(arr) || arr.length !== 2) {
    throw new ValueError(`${where}: ${name} must be a number or [h, w], got ${JSON.stringify(value)}`);
  }
  return [checkInt(where, name, arr[0], min), checkInt(where, name, arr[1], min)];
}
