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

/**
 * Damerau-Levenshtein distance in its optimal-string-alignment form: the
 * fewest insertions, deletions, substitutions and swaps of two adjacent
 * characters that turn `a` into `b` ('strid' -> 'stride' is 1, 'stirde' ->
 * 'stride' is 1, 'kernel' -> 'stride' is 5). Case-sensitive; closestName
 * compares folded names.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rows of the dynamic-programming table: i-2, i-1 and i.
  let before = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2] + 1);
      row[j] = d;
    }
    [before, prev, row] = [prev, row, before];
  }
  return prev[b.length];
}

/** A name as closestName compares it: lower case, without '_' and '-' ('padding_mode' and 'Padding-Mode' fold to 'paddingmode'). */
function foldName(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '');
}

/**
 * The candidate a mistyped `name` most likely meant, or undefined when none is
 * close. Names are compared folded (case, '_' and '-' ignored, so `kernel_size`
 * finds `kernelSize` and `Beta` finds `beta`); a candidate is close when it is
 * within max(1, floor(length / 3)) edits of the name (editDistance on the
 * folded names, the length the folded name's) or when one folded name begins
 * the other and the shorter has at least 3 characters ('batch' finds
 * 'batchSize'). The closest by edits wins; ties go to the earlier candidate.
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const folded = foldName(name);
  const limit = Math.max(1, Math.floor(folded.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const c = foldName(candidate);
    const d = editDistance(folded, c);
    const prefix = Math.min(folded.length, c.length) >= 3 && (c.startsWith(folded) || folded.startsWith(c));
    if ((d <= limit || prefix) && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * The message for an option name a function does not take, with the closest
 * known name when there is one, e.g. `conv2d: unknown option 'strid'; did you
 * mean 'stride'? The options are stride, padding, dilation, groups,
 * paddingMode`. Every unknown-option error in the library is this sentence.
 */
export function unknownOptionMessage(where: string, key: string, known: readonly string[]): string {
  if (known.length === 0) return `${where}: unknown option '${key}'; it takes no options`;
  const best = closestName(key, known);
  return best === undefined
    ? `${where}: unknown option '${key}'; the options are ${known.join(', ')}`
    : `${where}: unknown option '${key}'; did you mean '${best}'? The options are ${known.join(', ')}`;
}

/**
 * Throws unless every key of `options` is one of `known`: catches typos such
 * as `strid` or `kernel_size`, naming the closest option (unknownOptionMessage).
 */
export function checkOptions(where: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object') throw new ValueError(`${where}: options must be an object, got ${typeof options}`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new ValueError(unknownOptionMessage(where, key, known));
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
