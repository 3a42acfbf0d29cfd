/**
 * The arithmetic of a sliding window, explained: for a convolution, a pooling
 * or a transposed convolution on an input of a given size, the output size
 * with the formula filled in, whether the windows fit the input exactly,
 * which input rows and columns no window ever sees, the padding that would
 * make them fit, the parameter count, and where every window sits (what a
 * page draws). The output sizes come from the functions the ops use
 * (convOutputSize, poolOutputSize, convTransposeOutputSize) and 'same' from
 * samePadding, so the explanation cannot drift from what conv2d computes.
 *
 * Along one axis of n inputs with padding (before, after), kernel k, stride s
 * and dilation d, a window spans d*(k - 1) + 1 cells and
 *   out = floor((n + before + after - d*(k - 1) - 1) / s) + 1
 * (the lectures' (N - F + 2P)/S + 1, Torch's floor). The windows fit exactly
 * when the division leaves no remainder r; otherwise the last r rows of the
 * padded input are never reached ("doesn't fit": 7 inputs, kernel 3, stride 3
 * give 2 windows and input 6 unseen), and the smallest extra padding that
 * fits is s - r. Pooling with ceilMode rounds up instead, but drops a last
 * window that would start after the input and the left padding (PyTorch's
 * rule), and PyTorch allows pooling padding of at most half the window.
 * A stride larger than the window, or a dilation whose holes no other window
 * fills, leaves gaps between the windows that no padding closes.
 */
import { ShapeError, ValueError } from '../errors.js';
import { convOutputSize, reachedPadding, samePadding } from './conv2d.js';
import { convTransposeOutputSize } from './conv-transpose2d.js';
import { poolOutputSize, poolPaddingLimit } from './pool2d.js';
import { checkOptions } from '../validate.js';

export type WindowKind = 'conv' | 'pool' | 'conv-transpose';

const KINDS: readonly WindowKind[] = ['conv', 'pool', 'conv-transpose'];

/** A size per axis: one number for both (or for a 1-D input), or [height, width]. */
export type AxisPair = number | readonly [number, number];

/**
 * Padding: a number (each side), 'valid' (none) or 'same' (convolution only:
 * the output keeps ceil(in / stride) positions, see samePadding); for a 1-D
 * input also [before, after]; for a 2-D input [ph, pw] or, for a convolution,
 * [top, bottom, left, right].
 */
export type WindowPadding = number | readonly number[] | 'same' | 'valid';

export interface ExplainWindowOptions {
  kind: WindowKind;
  /** The input's size: a number for one axis, [height, width] for two. */
  input: AxisPair;
  kernel: AxisPair;
  /** Default 1 (convolutions) or the kernel (pooling, as PyTorch). */
  stride?: AxisPair;
  /** Default 0. */
  padding?: WindowPadding;
  /** Default 1. */
  dilation?: AxisPair;
  /** Input channels: with `filters`, the convolution's parameter count and the output's shape. */
  channels?: number;
  /** Output channels of a convolution (the number of filters). */
  filters?: number;
  /** Pooling only: round the output size up (PyTorch's ceil_mode). */
  ceilMode?: boolean;
  /** Transposed convolution only: rows / columns added after the output (PyTorch's output_padding). */
  outputPadding?: AxisPair;
}

/** One window's cells, in input coordinates (negative: in the padding before; >= the input size: after). */
export interface WindowSpan {
  start: number;
  /** The last cell, inclusive: start + dilation*(kernel - 1). */
  end: number;
}

/** The padding that makes the windows fit exactly, along one axis. */
export interface PaddingSuggestion {
  /** The smallest padding to add (both sides together); 0 when the windows fit already. */
  extra: number;
  /** The resulting [before, after] padding: the extra split in two, the odd unit after (as 'same' places it). */
  padding: [number, number];
  /** The output size with that padding. */
  outputSize: number;
  /** Whether the extra splits evenly, so the same padding on both sides does it. */
  symmetric: boolean;
  /**
   * The smallest padding p, the same on both sides and at least the current
   * padding in total, with which the windows fit exactly; null when none
   * exists (an even stride and an odd remainder).
   */
  symmetricPadding: number | null;
  /** The output size with symmetricPadding on both sides; null when there is none. */
  symmetricOutputSize: number | null;
  /** Whether PyTorch's layer takes `padding`: always for a convolution (F.pad for an uneven split); for pooling only the same on both sides and at most half the window. */
  allowed: boolean;
  /** Instead of padding: input rows to crop from the end (the remainder); 0 when the windows fit. */
  crop: number;
  /** When some padding after the input is never reached: the padding without it, which fits exactly with the same output size; otherwise null. */
  trimmed: [number, number] | null;
}

/** Everything about one axis. */
export interface WindowAxis {
  /** 'length' for a 1-D input, 'height' (rows) or 'width' (columns). */
  name: 'length' | 'height' | 'width';
  input: number;
  kernel: number;
  stride: number;
  dilation: number;
  /** The resolved [before, after] padding. */
  padding: [number, number];
  /** The cells one window spans: dilation*(kernel - 1) + 1. */
  span: number;
  outputSize: number;
  /** The formula with the numbers in it, ending in the output size. */
  formula: string;
  /** Pooling with ceilMode: the output has one window more than the floor gives (a last window over the remainder). */
  roundedUp: boolean;
  /** The division in the formula leaves no remainder (always true for a transposed convolution, which has no division). */
  exact: boolean;
  /** The remainder of that division: padded rows past the last window. */
  remainder: number;
  /** For a convolution or pooling, each output position's window over the input; for a transposed convolution, each input position's window over the output. */
  windows: WindowSpan[];
  /** Input indices some window sees (for a transposed convolution: inputs that reach the output). */
  covered: number[];
  /** Input indices no window sees. */
  uncovered: number[];
  /**
   * Of those, the ones one more window would read ("doesn't fit": what padding
   * fixes); the rest are gaps the stride or the dilation skips. For a
   * transposed convolution, the inputs whose windows start past the output.
   */
  uncoveredAtEnd: number[];
  /** Transposed convolution: output indices no input reaches (they hold the bias only); empty otherwise. */
  uncoveredOutput: number[];
  /** Padding cells reached by the windows, [before, after] (pooling with ceilMode may reach past the padding). */
  reachedPadding: [number, number];
  /** Convolution and pooling: the padding that fits; null for a transposed convolution (its size has no floor). */
  suggestedPadding: PaddingSuggestion | null;
}

/** The fields of the explanation, per axis: plain for a 1-D input, { height, width } for a 2-D one. */
export interface HeightWidth<T> {
  height: T;
  width: T;
}

interface ExplanationBase {
  kind: WindowKind;
  /** The axes, in order: [length] or [height, width]; every per-axis field below is read from them. */
  axes: WindowAxis[];
  /** Trainable parameters: filters*(channels*kH*kW + 1) for a convolution (with its bias), 0 for pooling, null when channels or filters are not given. */
  params: number | null;
  /** The output's shape [channels, ...spatial] when the input channels are known, else null. */
  outputShape: number[] | null;
  ceilMode: boolean;
  /** What the padding rule did, and PyTorch's rules that applied, in sentences. */
  notes: string[];
}

export interface WindowExplanation1d extends ExplanationBase {
  dims: 1;
  outputSize: number;
  formula: string;
  exact: boolean;
  uncoveredInput: number[];
  suggestedPadding: PaddingSuggestion | null;
}

export interface WindowExplanation2d extends ExplanationBase {
  dims: 2;
  outputSize: HeightWidth<number>;
  formula: HeightWidth<string>;
  exact: HeightWidth<boolean>;
  uncoveredInput: HeightWidth<number[]>;
  suggestedPadding: HeightWidth<PaddingSuggestion | null>;
}

export type WindowExplanation = WindowExplanation1d | WindowExplanation2d;

const WHERE = 'explainWindow';
const OPTIONS = ['kind', 'input', 'kernel', 'stride', 'padding', 'dilation', 'channels', 'filters', 'ceilMode', 'outputPadding'] as const;

function positiveInt(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ValueError(`${WHERE}: ${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A per-axis setting as a list of `dims` integers >= min. */
function perAxis(name: string, value: AxisPair | undefined, fallback: readonly number[], dims: 1 | 2, min: number): number[] {
  if (value === undefined) return [...fallback];
  const label = (i: number) => (dims === 1 ? name : `${name} (${i === 0 ? 'height' : 'width'})`);
  if (typeof value === 'number') return new Array<number>(dims).fill(positiveInt(name, value, min));
  if (!Array.isArray(value) || value.length !== dims) {
    const shape = dims === 1 ? 'a number (the input is 1-D)' : 'a number or [height, width]';
    throw new ValueError(`${WHERE}: ${name} must be ${shape}, got ${JSON.stringify(value)}`);
  }
  return value.map((v, i) => positiveInt(label(i), v, min));
}

/** Resolves the padding option to [before, after] per axis. */
function resolveAxisPadding(
  kind: WindowKind, padding: WindowPadding, input: number[], kernel: number[], stride: number[], dilation: number[], notes: string[],
): [number, number][] {
  const dims = input.length;
  if (padding === 'valid') return input.map(() => [0, 0]);
  if (padding === 'same') {
    if (kind !== 'conv') {
      const what = kind === 'pool' ? "PyTorch's pooling takes numbers only" : "PyTorch's transposed convolution takes numbers only";
      throw new ValueError(`${WHERE}: padding 'same' is for convolutions; ${what}: give a number`);
    }
    const pads = input.map((n, a) => samePadding(n, kernel[a], stride[a], dilation[a]));
    const strided = stride.some((s) => s > 1);
    notes.push(strided
      ? `'same' with stride > 1 follows TensorFlow: the output keeps ceil(input / stride) positions, the total padding is max((ceil(n/s) - 1)*s + d*(k - 1) + 1 - n, 0) and the odd unit goes after; PyTorch refuses 'same' with a stride (give PyTorch this padding as numbers, with F.pad for an uneven split)`
      : `'same' pads dilation*(kernel - 1) in all, half before and the odd unit after (PyTorch's rule), so the output keeps the input's size`);
    pads.forEach(([b, a], i) => {
      if (b !== a) notes.push(`'same' pads ${dims === 1 ? 'the input' : i === 0 ? 'the height' : 'the width'} unevenly: ${b} before and ${a} after (an even kernel${strided ? ' or a stride' : ''}); PyTorch's nn.Conv2d does the same, with an extra padded copy of the input`);
    });
    return pads;
  }
  const all = typeof padding === 'number' ? [padding] : padding;
  if (!Array.isArray(all)) throw new ValueError(`${WHERE}: padding must be a number, 'same', 'valid' or a list of numbers, got ${JSON.stringify(padding)}`);
  all.forEach((p, i) => positiveInt(all.length === 1 ? 'padding' : `padding[${i}]`, p, 0));
  if (all.length === 1) return input.map(() => [all[0], all[0]]);
  if (dims === 1 && all.length === 2) {
    if (kind !== 'conv' && all[0] !== all[1]) throw new ValueError(`${WHERE}: ${kind === 'pool' ? 'pooling' : 'a transposed convolution'} pads both sides alike (PyTorch's rule); got [${all.join(', ')}]`);
    return [[all[0], all[1]]];
  }
  if (dims === 2 && all.length === 2) return [[all[0], all[0]], [all[1], all[1]]];
  if (dims === 2 && all.length === 4 && kind === 'conv') return [[all[0], all[1]], [all[2], all[3]]];
  const forms = dims === 1 ? 'a number or [before, after]' : kind === 'conv' ? 'a number, [ph, pw] or [top, bottom, left, right]' : 'a number or [ph, pw]';
  throw new ValueError(`${WHERE}: padding for a ${dims}-D input must be ${forms} (or 'valid'${kind === 'conv' ? " or 'same'" : ''}), got ${JSON.stringify(padding)}`);
}

/** A number as the formula shows it: integers as they are, others to two decimals (4/3 -> 1.33). */
function decimal(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/0+$/, '');
}

/** The padding term of the formula: 2*P when symmetric, "B + A" otherwise. */
function padTerm([b, a]: [number, number]): string {
  return b === a ? `2*${b}` : `${b} + ${a}`;
}

/** Which input cells the windows' taps reach: a mask over [0, n). */
function seenMask(n: number, windows: readonly WindowSpan[], kernel: number, dilation: number): Uint8Array {
  const seen = new Uint8Array(n);
  for (const w of windows) {
    if (dilation === 1) {
      for (let i = Math.max(w.start, 0); i <= Math.min(w.end, n - 1); i++) seen[i] = 1;
    } else {
      for (let t = 0; t < kernel; t++) {
        const i = w.start + t * dilation;
        if (i >= 0 && i < n) seen[i] = 1;
      }
    }
  }
  return seen;
}

function split(seen: Uint8Array): { covered: number[]; uncovered: number[] } {
  const covered: number[] = [];
  const uncovered: number[] = [];
  seen.forEach((v, i) => (v ? covered : uncovered).push(i));
  return { covered, uncovered };
}

interface AxisSettings {
  name: WindowAxis['name'];
  input: number;
  kernel: number;
  stride: number;
  dilation: number;
  padding: [number, number];
  ceilMode: boolean;
  outputPadding: number;
}

/** The windows of a convolution or pooling along one axis. */
function slidingAxis(kind: 'conv' | 'pool', a: AxisSettings): WindowAxis {
  const { name, input: n, kernel: k, stride: s, dilation: d, padding, ceilMode } = a;
  const [before, after] = padding;
  const span = d * (k - 1) + 1;
  const padded = n + before + after;
  const where = name === 'length' ? '' : ` along the ${name}`;
  if (kind === 'pool') {
    const limit = poolPaddingLimit(k, d);
    if (before > limit || after > limit) {
      throw new ValueError(`${WHERE}: pooling padding ${Math.max(before, after)}${where} is more than half the window ${span} (PyTorch requires padding <= floor(${span}/2) = ${limit}); use padding <= ${limit} or a larger kernel`);
    }
  }
  if (span > padded) {
    const need = Math.ceil((span - n) / 2);
    const dilated = d > 1 ? ` (dilated: ${span} cells)` : '';
    const fix = kind === 'pool' && need > poolPaddingLimit(k, d) ? 'use a smaller kernel or dilation' : `use padding >= ${need} on each side, or a smaller kernel or dilation`;
    throw new ShapeError(`${WHERE}: kernel ${k}${dilated} is larger than the padded input${where}, ${padded} (${n} + ${before} + ${after}); ${fix}`);
  }
  const numerator = padded - span;
  const remainder = numerator % s;
  const exact = remainder === 0;
  const floorOut = convOutputSize(n, k, s, before, after, d);
  const outputSize = kind === 'pool' ? poolOutputSize(n, k, s, before, d, ceilMode) : floorOut;
  const head = `(${n} + ${padTerm(padding)} - ${d}*(${k}-1) - 1)/${s} + 1`;
  let formula: string;
  if (exact) formula = `${head} = ${numerator}/${s} + 1 = ${outputSize}`;
  else if (!ceilMode) formula = `${head} = ${numerator}/${s} + 1 = floor(${decimal(numerator / s)}) + 1 = ${outputSize}`;
  else {
    const ceilOut = Math.ceil(numerator / s) + 1;
    formula = `${head} = ${numerator}/${s} + 1 = ceil(${decimal(numerator / s)}) + 1 = ${ceilOut}`;
    if (ceilOut !== outputSize) formula += `, less the last window, which would start at ${(ceilOut - 1) * s} >= input + left padding = ${n + before}: ${outputSize}`;
  }
  const windows: WindowSpan[] = [];
  for (let j = 0; j < outputSize; j++) windows.push({ start: j * s - before, end: j * s - before + span - 1 });
  const { covered, uncovered } = split(seenMask(n, windows, k, d));
  // Unseen for want of one more window: the cells the next window's taps would read (the rest are gaps the stride skips).
  const next = windows[windows.length - 1].start + s;
  const atEnd = uncovered.filter((i) => i >= next && (i - next) % d === 0 && i < next + span);
  const reachedAfter = reachedPadding(n, k, s, before, d, outputSize);
  const suggestion = suggestPadding(kind, a, remainder, reachedAfter);
  return {
    name, input: n, kernel: k, stride: s, dilation: d, padding, span, outputSize, roundedUp: outputSize > floorOut, formula, exact, remainder,
    windows, covered, uncovered, uncoveredAtEnd: atEnd, uncoveredOutput: [],
    reachedPadding: [before, reachedAfter], suggestedPadding: suggestion,
  };
}

/** The padding that makes the windows fit (see PaddingSuggestion). */
function suggestPadding(kind: 'conv' | 'pool', a: AxisSettings, remainder: number, reachedAfter: number): PaddingSuggestion {
  const { input: n, kernel: k, stride: s, dilation: d, padding: [before, after] } = a;
  const span = d * (k - 1) + 1;
  const extra = remainder === 0 ? 0 : s - remainder;
  const padding: [number, number] = [before + Math.floor(extra / 2), after + Math.ceil(extra / 2)];
  const fits = (total: number) => (n + total - span) % s === 0;
  let symmetricPadding: number | null = null;
  for (let p = Math.ceil((before + after) / 2); p < Math.ceil((before + after) / 2) + s; p++) {
    if (fits(2 * p)) {
      symmetricPadding = p;
      break;
    }
  }
  const limit = poolPaddingLimit(k, d);
  return {
    extra, padding,
    outputSize: convOutputSize(n, k, s, padding[0], padding[1], d),
    symmetric: extra % 2 === 0,
    symmetricPadding,
    symmetricOutputSize: symmetricPadding === null ? null : convOutputSize(n, k, s, symmetricPadding, symmetricPadding, d),
    allowed: kind === 'conv' || (padding[0] === padding[1] && padding[0] <= limit),
    crop: remainder,
    // The last window ends inside the padding after: the remainder is padding no window reaches.
    trimmed: remainder > 0 && reachedAfter >= 0 && reachedAfter === after - remainder ? [before, reachedAfter] : null,
  };
}

/** The windows of a transposed convolution along one axis: each input position writes a window of the output. */
function transposedAxis(a: AxisSettings): WindowAxis {
  const { name, input: n, kernel: k, stride: s, dilation: d, padding, outputPadding: op } = a;
  const [p] = padding;
  const span = d * (k - 1) + 1;
  const where = name === 'length' ? '' : ` along the ${name}`;
  if (op >= s && op >= d) {
    throw new ValueError(`${WHERE}: outputPadding ${op}${where} must be smaller than the stride ${s} or the dilation ${d} (PyTorch's rule); use outputPadding <= ${Math.max(s, d) - 1}`);
  }
  const outputSize = convTransposeOutputSize(n, k, s, p, op, d);
  if (outputSize < 1) {
    throw new ShapeError(`${WHERE}: the transposed convolution's output${where} would be ${outputSize}: (${n}-1)*${s} - 2*${p} + ${d}*(${k}-1) + ${op} + 1; use padding <= ${Math.floor(((n - 1) * s + d * (k - 1) + op) / 2)}`);
  }
  const formula = `(${n}-1)*${s} - 2*${p} + ${d}*(${k}-1) + ${op} + 1 = ${outputSize}`;
  const windows: WindowSpan[] = [];
  for (let i = 0; i < n; i++) windows.push({ start: i * s - p, end: i * s - p + span - 1 });
  const reaches = seenMask(outputSize, windows, k, d);
  const used = new Uint8Array(n);
  windows.forEach((w, i) => {
    for (let t = 0; t < k; t++) {
      const o = w.start + t * d;
      if (o >= 0 && o < outputSize) used[i] = 1;
    }
  });
  const { covered, uncovered } = split(used);
  return {
    name, input: n, kernel: k, stride: s, dilation: d, padding, span, outputSize, roundedUp: false, formula, exact: true, remainder: 0,
    windows, covered, uncovered, uncoveredAtEnd: uncovered.filter((i) => i * s - p >= outputSize),
    uncoveredOutput: split(reaches).uncovered, reachedPadding: [p, p], suggestedPadding: null,
  };
}

/**
 * Explains a convolution, pooling or transposed convolution window on an
 * input: a number `input` is one axis (the fields are plain numbers and
 * lists), [height, width] two (each field is { height, width }). Throws
 * ValueError / ShapeError for impossible settings, naming the values and the fix.
 */
export function explainWindow(options: ExplainWindowOptions & { input: number }): WindowExplanation1d;
export function explainWindow(options: ExplainWindowOptions & { input: readonly [number, number] }): WindowExplanation2d;
export function explainWindow(options: ExplainWindowOptions): WindowExplanation;
export function explainWindow(options: ExplainWindowOptions): WindowExplanation {
  if (typeof options !== 'object' || options === null) throw new ValueError(`${WHERE}: expected an options object { kind, input, kernel, ... }, got ${options === null ? 'null' : typeof options}`);
  checkOptions(WHERE, options, OPTIONS);
  const { kind } = options;
  if (!KINDS.includes(kind)) throw new ValueError(`${WHERE}: kind must be ${KINDS.map((k) => `'${k}'`).join(', ')}; got ${JSON.stringify(kind)}`);
  if (options.input === undefined) throw new ValueError(`${WHERE}: input is required: its size, a number (1-D) or [height, width]`);
  if (options.kernel === undefined) throw new ValueError(`${WHERE}: kernel is required: a number or [height, width]`);
  const dims: 1 | 2 = typeof options.input === 'number' ? 1 : 2;
  const input = perAxis('input', options.input, [], dims, 1);
  const kernel = perAxis('kernel', options.kernel, [], dims, 1);
  const stride = perAxis('stride', options.stride, kind === 'pool' ? kernel : input.map(() => 1), dims, 1);
  const dilation = perAxis('dilation', options.dilation, input.map(() => 1), dims, 1);
  const outputPadding = perAxis('outputPadding', options.outputPadding, input.map(() => 0), dims, 0);
  const ceilMode = options.ceilMode ?? false;
  if (typeof ceilMode !== 'boolean') throw new ValueError(`${WHERE}: ceilMode must be true or false, got ${JSON.stringify(ceilMode)}`);
  if (ceilMode && kind !== 'pool') throw new ValueError(`${WHERE}: ceilMode is a pooling option; a ${kind === 'conv' ? 'convolution' : 'transposed convolution'} always floors`);
  if (options.outputPadding !== undefined && kind !== 'conv-transpose') throw new ValueError(`${WHERE}: outputPadding is an option of the transposed convolution (kind 'conv-transpose')`);
  const channels = options.channels === undefined ? undefined : positiveInt('channels', options.channels, 1);
  const filters = options.filters === undefined ? undefined : positiveInt('filters', options.filters, 1);
  if (kind === 'pool' && filters !== undefined) throw new ValueError(`${WHERE}: pooling has no filters (its output keeps the input's channels); leave filters out`);
  const notes: string[] = [];
  const padding = resolveAxisPadding(kind, options.padding ?? 0, input, kernel, stride, dilation, notes);
  const names: WindowAxis['name'][] = dims === 1 ? ['length'] : ['height', 'width'];
  const axes = names.map((name, i) => {
    const settings: AxisSettings = { name, input: input[i], kernel: kernel[i], stride: stride[i], dilation: dilation[i], padding: padding[i], ceilMode, outputPadding: outputPadding[i] };
    return kind === 'conv-transpose' ? transposedAxis(settings) : slidingAxis(kind, settings);
  });
  if (kind === 'pool' && axes.some((a) => a.dilation > 1 && Math.max(...a.padding) > Math.floor(a.kernel / 2))) {
    notes.push(`PyTorch's max pooling takes padding up to half the kernel size, floor(k/2), whatever the dilation; Stride's allows half the dilated window, so PyTorch refuses this padding`);
  }
  if (kind === 'pool') {
    notes.push(`pooling padding must be at most half the window (PyTorch's rule)${ceilMode ? "; with ceilMode the output rounds up, but a last window that would start after the input and the left padding is dropped" : ''}`);
  }
  let params: number | null = null;
  if (kind === 'pool') params = 0;
  else if (channels !== undefined && filters !== undefined) params = filters * (channels * kernel.reduce((p, k) => p * k, 1) + 1);
  else if (channels !== undefined || filters !== undefined) throw new ValueError(`${WHERE}: give both channels and filters to count a convolution's parameters (got only ${channels !== undefined ? 'channels' : 'filters'})`);
  const outChannels = kind === 'pool' ? channels : filters;
  const outputShape = outChannels === undefined ? null : [outChannels, ...axes.map((a) => a.outputSize)];
  const base = { kind, axes, params, outputShape, ceilMode, notes };
  if (dims === 1) {
    const [a] = axes;
    return { ...base, dims: 1, outputSize: a.outputSize, formula: a.formula, exact: a.exact, uncoveredInput: a.uncovered, suggestedPadding: a.suggestedPadding };
  }
  const [h, w] = axes;
  const hw = <T>(f: (a: WindowAxis) => T): HeightWidth<T> => ({ height: f(h), width: f(w) });
  return {
    ...base, dims: 2,
    outputSize: hw((a) => a.outputSize), formula: hw((a) => a.formula), exact: hw((a) => a.exact),
    uncoveredInput: hw((a) => a.uncovered), suggestedPadding: hw((a) => a.suggestedPadding),
  };
}

/**
 * Whether the windows leave input rows or columns unseen at the end ("doesn't
 * fit": the floor drops them). Gaps between windows (a 1x1 convolution with
 * stride 2, as in ResNet's downsampling shortcut) are a design, not a misfit.
 */
export function leavesInputUnseen(e: WindowExplanation): boolean {
  return e.axes.some((a) => a.uncoveredAtEnd.length > 0);
}
