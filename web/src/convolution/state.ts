/**
 * The #/convolution page's state and its URL form: every control is a query
 * key (`#/convolution?input=7&kernel=3&stride=3&padding=0&dilation=1`), so any
 * state is a link. Sizes are `7` (square) or `7x5` (height x width); padding is
 * a number, `HxW`, `same` or `valid`. The values of the input, the weight and
 * the bias are seeded random integers (`seed`) unless edited or loaded from a
 * preset: then they are in the URL too (`x`, `w`, `b`, comma-separated).
 */
import type { ConvMode, PaddingModeName, PaddingSpec, PoolKind } from '../compute/convolution.js';

export type Pair = [number, number];

export interface ConvState {
  mode: ConvMode;
  pool: PoolKind;
  input: Pair;
  channels: number;
  kernel: Pair;
  filters: number;
  stride: Pair;
  padding: PaddingSpec;
  paddingMode: PaddingModeName;
  dilation: Pair;
  groups: number;
  outputPadding: Pair;
  ceilMode: boolean;
  countIncludePad: boolean;
  bias: boolean;
  /** Seed of the random values used where x / w / b are not given. */
  seed: number;
  /** Edited or preset values: input [C, H, W], weight in the op's layout, bias; null = seeded random. */
  x: number[] | null;
  w: number[] | null;
  b: number[] | null;
  /** The preset the values came from ('' when none). */
  preset: string;
  /** Animation: the window's position (an output cell; an input cell for the transposed convolution). */
  step: number;
  /** The output channel the animation follows. */
  och: number;
  /** Steps per second while playing. */
  speed: number;
}

export const MODES: readonly ConvMode[] = ['conv', 'transposed', 'pool'];
export const POOLS: readonly PoolKind[] = ['max', 'avg', 'l2'];
export const PADDING_MODES: readonly PaddingModeName[] = ['zeros', 'reflect', 'replicate', 'circular', 'partial'];
export const SPEEDS = [0.5, 1, 2, 4, 8] as const;

/**
 * Limits of the controls. Padding reaches 25 because that is the most Stride
 * ever asks for: a kernel of 11 with dilation 5 spans 51 cells, and on a
 * 1-cell input its message says "use padding >= 25"; every fix the page or
 * Stride suggests for these inputs fits the controls (output padding below a
 * stride of 8 is at most 7, pooling padding at most half a 51-cell window).
 */
export const LIMITS = {
  input: [1, 32], channels: [1, 3], kernel: [1, 11], filters: [1, 16], stride: [1, 8], padding: [0, 25], dilation: [1, 5], groups: [1, 16], outputPadding: [0, 7],
} as const satisfies Record<string, readonly [number, number]>;

/**
 * The options each operation takes, as Stride's ops (and PyTorch's) do:
 * F.avgPool2d has no dilation; F.lpPool2d neither dilation nor padding;
 * only a convolution pads by a mode or by 'same'; only a transposed
 * convolution has output padding. The page hides the other controls.
 */
export interface Takes {
  padding: boolean;
  /** 'same' (and the padding modes): a convolution's only. */
  samePadding: boolean;
  paddingMode: boolean;
  dilation: boolean;
  outputPadding: boolean;
}

export function takes(s: Pick<ConvState, 'mode' | 'pool'>): Takes {
  const pool = s.mode === 'pool';
  return {
    padding: !(pool && s.pool === 'l2'),
    samePadding: s.mode === 'conv',
    paddingMode: s.mode === 'conv',
    dilation: !(pool && s.pool !== 'max'),
    outputPadding: s.mode === 'transposed',
  };
}

/**
 * The state with the sizes its operation does not take set back to the
 * default (dilation 1, padding 0; 'same' or 'valid' as 0 outside a
 * convolution), so that a value left from another operation, or written into
 * a link by hand, is ignored instead of reaching the op. (The padding mode
 * and the output padding stay: only their own operation ever reads them.)
 */
export function applicable(s: ConvState): ConvState {
  const t = takes(s);
  const out = { ...s };
  if (!t.dilation) out.dilation = [1, 1];
  if (!t.padding || (!t.samePadding && typeof s.padding === 'string')) out.padding = 0;
  return out;
}

export const DEFAULT_STATE: ConvState = {
  mode: 'conv', pool: 'max', input: [7, 7], channels: 1, kernel: [3, 3], filters: 1, stride: [1, 1], padding: 0, paddingMode: 'zeros',
  dilation: [1, 1], groups: 1, outputPadding: [0, 0], ceilMode: false, countIncludePad: true, bias: false,
  seed: 1, x: null, w: null, b: null, preset: '', step: 0, och: 0, speed: 2,
};

/** "7" -> [7, 7], "7x5" -> [7, 5] (x, X, ×, * or a comma between); null when malformed or out of [min, max]. */
export function parsePair(raw: string | null, min: number, max: number): Pair | null {
  if (raw === null) return null;
  const m = /^\s*(\d+)\s*(?:[xX×*,]\s*(\d+)\s*)?$/.exec(raw);
  if (!m) return null;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  return a >= min && a <= max && b >= min && b <= max ? [a, b] : null;
}

export function formatPair([a, b]: Pair): string {
  return a === b ? String(a) : `${a}x${b}`;
}

/** A padding: a number or HxW in range, 'same' or 'valid'; null when malformed. */
export function parsePadding(raw: string | null): PaddingSpec | null {
  if (raw === null) return null;
  const t = raw.trim().toLowerCase();
  if (t === 'same' || t === 'valid') return t;
  const p = parsePair(t, LIMITS.padding[0], LIMITS.padding[1]);
  if (!p) return null;
  return p[0] === p[1] ? p[0] : p;
}

export function formatPadding(p: PaddingSpec): string {
  return typeof p === 'string' ? p : typeof p === 'number' ? String(p) : formatPair(p);
}

/** Numbers as the URL holds them: shortest form, at most 4 decimals. */
function formatValues(v: readonly number[]): string {
  return v.map((n) => String(Math.round(n * 1e4) / 1e4)).join(',');
}

function parseValues(raw: string | null): number[] | null {
  if (raw === null || raw.trim() === '') return null;
  const v = raw.split(',').map(Number);
  return v.every(Number.isFinite) ? v : null;
}

function int(params: URLSearchParams, key: string, fallback: number, [min, max]: readonly [number, number]): number {
  const raw = params.get(key);
  if (raw === null || raw.trim() === '') return fallback;
  const v = Number(raw);
  return Number.isInteger(v) && v >= min && v <= max ? v : fallback;
}

function choice<T extends string>(params: URLSearchParams, key: string, choices: readonly T[], fallback: T): T {
  const raw = params.get(key);
  return raw !== null && (choices as readonly string[]).includes(raw) ? (raw as T) : fallback;
}

function bool(params: URLSearchParams, key: string, fallback: boolean): boolean {
  const raw = params.get(key);
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  return fallback;
}

/** The state a URL query describes (anything missing or malformed takes its default). */
export function stateFromParams(params: URLSearchParams): ConvState {
  const d = DEFAULT_STATE;
  const mode = choice(params, 'mode', MODES, d.mode);
  const kernel = parsePair(params.get('kernel'), ...LIMITS.kernel) ?? d.kernel;
  // inputH / inputW are accepted as well as input=HxW
  const h = int(params, 'inputH', 0, LIMITS.input);
  const w = int(params, 'inputW', 0, LIMITS.input);
  const input = h && w ? [h, w] as Pair : parsePair(params.get('input'), ...LIMITS.input) ?? d.input;
  // pooling's stride defaults to its window, as in PyTorch
  const stride = parsePair(params.get('stride'), ...LIMITS.stride) ?? (mode === 'pool' ? kernel : d.stride);
  const parsed: ConvState = {
    mode,
    pool: choice(params, 'pool', POOLS, d.pool),
    input,
    channels: int(params, 'channels', d.channels, LIMITS.channels),
    kernel,
    filters: int(params, 'filters', d.filters, LIMITS.filters),
    stride,
    padding: parsePadding(params.get('padding')) ?? d.padding,
    paddingMode: choice(params, 'paddingMode', PADDING_MODES, d.paddingMode),
    dilation: parsePair(params.get('dilation'), ...LIMITS.dilation) ?? d.dilation,
    groups: int(params, 'groups', d.groups, LIMITS.groups),
    outputPadding: parsePair(params.get('outputPadding'), ...LIMITS.outputPadding) ?? d.outputPadding,
    ceilMode: bool(params, 'ceilMode', d.ceilMode),
    countIncludePad: bool(params, 'countIncludePad', d.countIncludePad),
    bias: bool(params, 'bias', d.bias),
    seed: int(params, 'seed', d.seed, [0, 2 ** 31 - 1]),
    x: parseValues(params.get('x')),
    w: parseValues(params.get('w')),
    b: parseValues(params.get('b')),
    preset: params.get('preset') ?? '',
    step: int(params, 'step', 0, [0, 1 << 20]),
    och: int(params, 'och', 0, [0, LIMITS.filters[1] - 1]),
    speed: SPEEDS.includes(Number(params.get('speed')) as (typeof SPEEDS)[number]) ? Number(params.get('speed')) : d.speed,
  };
  // values that do not match the shapes (a hand-edited link) give way to the seeded ones
  const state = applicable(parsed);
  if (state.x && state.x.length !== inputCount(state)) state.x = null;
  if (state.w && state.w.length !== weightCount(state)) state.w = null;
  if (state.b && state.b.length !== state.filters) state.b = null;
  return state;
}

/** The URL query of a state: every key, values only when edited. */
export function stateToParams(s: ConvState): Record<string, string | number | null> {
  const pool = s.mode === 'pool';
  const t = takes(s);
  return {
    mode: s.mode,
    pool: pool ? s.pool : null,
    input: formatPair(s.input),
    inputH: null,
    inputW: null,
    channels: s.channels,
    kernel: formatPair(s.kernel),
    filters: pool ? null : s.filters,
    stride: formatPair(s.stride),
    padding: t.padding ? formatPadding(s.padding) : null,
    paddingMode: t.paddingMode ? s.paddingMode : null,
    dilation: t.dilation ? formatPair(s.dilation) : null,
    groups: pool ? null : s.groups,
    outputPadding: t.outputPadding ? formatPair(s.outputPadding) : null,
    ceilMode: pool ? (s.ceilMode ? 1 : 0) : null,
    countIncludePad: pool && s.pool === 'avg' ? (s.countIncludePad ? 1 : 0) : null,
    bias: pool ? null : s.bias ? 1 : 0,
    seed: s.seed,
    x: s.x ? formatValues(s.x) : null,
    w: s.w && !pool ? formatValues(s.w) : null,
    b: s.b && s.bias && !pool ? formatValues(s.b) : null,
    preset: s.preset || null,
    step: s.step,
    och: s.och,
    speed: s.speed,
  };
}

// ---- shapes -----------------------------------------------------------------

/** Channels per group as the weight holds them (at least one, so an indivisible setting reaches the op, which says why). */
export function perGroup(channels: number, groups: number): number {
  return Math.max(1, Math.floor(channels / groups));
}

/** The output channels: the filters, or the input's channels for pooling. */
export function outChannels(s: ConvState): number {
  return s.mode === 'pool' ? s.channels : s.filters;
}

export function inputCount(s: ConvState): number {
  return s.channels * s.input[0] * s.input[1];
}

/** The weight's shape: conv [filters, channels/groups, kH, kW]; transposed [channels, filters/groups, kH, kW]; pooling none. */
export function weightShape(s: ConvState): [number, number, number, number] | null {
  if (s.mode === 'pool') return null;
  return s.mode === 'conv'
    ? [s.filters, perGroup(s.channels, s.groups), s.kernel[0], s.kernel[1]]
    : [s.channels, perGroup(s.filters, s.groups), s.kernel[0], s.kernel[1]];
}

export function weightCount(s: ConvState): number {
  const shape = weightShape(s);
  return shape ? shape.reduce((a, b) => a * b, 1) : 0;
}

// ---- values -----------------------------------------------------------------

/** A small fast seeded generator (mulberry32): the same seed, the same values, in every browser. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n random integers in [lo, hi]. */
function randomInts(seed: number, n: number, lo: number, hi: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
}

/**
 * The values the op runs on: the edited ones, else seeded random integers
 * (input 0..3 for a convolution, 0..9 for pooling; weights -1..1; bias -2..2),
 * small so that every product can be read off the page.
 */
export function values(s: ConvState): { x: number[]; w: number[]; b: number[] | null } {
  const x = s.x ?? randomInts(s.seed * 3 + 11, inputCount(s), 0, s.mode === 'pool' ? 9 : 3);
  const w = s.w ?? randomInts(s.seed * 3 + 12, weightCount(s), -1, 1);
  const b = s.mode === 'pool' || !s.bias ? null : s.b ?? randomInts(s.seed * 3 + 13, s.filters, -2, 2);
  return { x, w, b };
}

/**
 * Values of a [..., h0, w0] block copied into [..., h1, w1] (the top-left
 * overlap kept, the rest from `fill`): edited values survive a change of size.
 */
export function resize(v: readonly number[], planes0: number, h0: number, w0: number, planes1: number, h1: number, w1: number, fill: readonly number[]): number[] {
  const out = fill.slice(0, planes1 * h1 * w1);
  for (let p = 0; p < Math.min(planes0, planes1); p++) {
    for (let i = 0; i < Math.min(h0, h1); i++) {
      for (let j = 0; j < Math.min(w0, w1); j++) out[(p * h1 + i) * w1 + j] = v[(p * h0 + i) * w0 + j];
    }
  }
  return out;
}

// ---- presets ------------------------------------------------------------------

export interface Preset {
  id: string;
  label: string;
  state: Partial<ConvState>;
}

const rows = (...r: number[][]) => r.flat();

/** The worked examples of the lectures, and a few that show what the other controls do. */
export const PRESETS: readonly Preset[] = [
  {
    id: 'dot-5x5', label: '5x5 binary image, 3x3 filter (weighted neighbour sums)',
    state: {
      input: [5, 5], kernel: [3, 3],
      x: rows([1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]),
      w: rows([1, 0, 1], [0, 1, 0], [1, 0, 1]),
    },
  },
  { id: 'stride-1', label: '7x7 input, 3x3 filter, stride 1 → 5x5', state: { input: [7, 7], kernel: [3, 3], stride: [1, 1] } },
  { id: 'stride-2', label: '7x7 input, 3x3 filter, stride 2 → 3x3', state: { input: [7, 7], kernel: [3, 3], stride: [2, 2] } },
  { id: 'stride-3', label: "7x7 input, 3x3 filter, stride 3: doesn't fit", state: { input: [7, 7], kernel: [3, 3], stride: [3, 3] } },
  { id: 'pad-1', label: '7x7 input, zero padding 1, stride 1 → 7x7', state: { input: [7, 7], kernel: [3, 3], padding: 1 } },
  { id: 'dilation-2', label: '7x7 input, 3x3 filter, dilation 2 → 3x3', state: { input: [7, 7], kernel: [3, 3], dilation: [2, 2] } },
  {
    id: 'same-4x4', label: "4x4 input, padding 'same', edge-detection kernel",
    state: {
      input: [4, 4], kernel: [3, 3], padding: 'same',
      x: rows([2, 0, 1, 3], [1, 1, 2, 3], [4, 3, 2, 1], [8, 3, 1, 3]),
      w: rows([0, 1, 0], [1, -4, 1], [0, 1, 0]),
    },
  },
  { id: 'stride-7x9x3', label: '7x9 input, 3 channels, 3x3x3 filter, stride 2 → 3x4', state: { input: [7, 9], channels: 3, kernel: [3, 3], stride: [2, 2], bias: true } },
  { id: 'cifar-5x5x3', label: '32x32x3 input, ten 5x5 filters, pad 2 → 32x32x10 (760 parameters)', state: { input: [32, 32], channels: 3, kernel: [5, 5], filters: 10, padding: 2, bias: true } },
  { id: 'conv-1x1', label: '1x1 convolution: 3 channels to 2', state: { input: [5, 5], channels: 3, kernel: [1, 1], filters: 2 } },
  { id: 'depthwise', label: 'Depthwise: 2 channels, 2 filters, groups 2', state: { input: [6, 6], channels: 2, kernel: [3, 3], filters: 2, groups: 2 } },
  {
    id: 'reflect', label: 'Reflection padding 1 on a 5x5 ramp',
    state: { input: [5, 5], kernel: [3, 3], padding: 1, paddingMode: 'reflect', x: Array.from({ length: 25 }, (_, i) => i), w: rows([0, 0, 0], [0, 0, 1], [0, 0, 0]) },
  },
  {
    id: 'partial', label: 'Partial-convolution padding: a flat image stays flat',
    state: { input: [5, 5], kernel: [3, 3], padding: 1, paddingMode: 'partial', x: new Array<number>(25).fill(1), w: new Array<number>(9).fill(1) },
  },
  { id: 'same-stride-2', label: "'same' with stride 2 (TensorFlow's rule) → 4x4", state: { input: [7, 7], kernel: [3, 3], stride: [2, 2], padding: 'same' } },
  {
    id: 'max-pool-4x4', label: 'Max pooling 2x2, stride 2 on a 4x4 slice',
    state: { mode: 'pool', pool: 'max', input: [4, 4], kernel: [2, 2], stride: [2, 2], x: rows([1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]) },
  },
  {
    id: 'max-pool-signed', label: 'Max pooling 2x2, stride 2 (with a negative value)',
    state: { mode: 'pool', pool: 'max', input: [4, 4], kernel: [2, 2], stride: [2, 2], x: rows([6, 3, 1, -3], [4, 1, 2, 0], [3, 1, 3, 2], [7, 1, 1, 1]) },
  },
  {
    id: 'avg-pool', label: 'Average pooling 2x2, stride 2',
    state: { mode: 'pool', pool: 'avg', input: [4, 4], kernel: [2, 2], stride: [2, 2], x: rows([6, 3, 1, -3], [4, 3, 2, 0], [3, 1, 5, 1], [7, 1, 1, 1]) },
  },
  {
    id: 'l2-pool', label: 'L2 pooling 2x2, stride 2',
    state: { mode: 'pool', pool: 'l2', input: [4, 4], kernel: [2, 2], stride: [2, 2], x: rows([1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]) },
  },
  { id: 'overlap-pool', label: 'Overlapping max pooling 3x3, stride 2: 13x13 → 6x6', state: { mode: 'pool', pool: 'max', input: [13, 13], kernel: [3, 3], stride: [2, 2] } },
  { id: 'ceil-pool', label: 'Max pooling 2x2 on 5x5 with ceil mode → 3x3', state: { mode: 'pool', pool: 'max', input: [5, 5], kernel: [2, 2], stride: [2, 2], ceilMode: true } },
  { id: 'transposed-6x6', label: 'Transposed: 3x3 → 6x6 (kernel 3, stride 2, padding 1, output padding 1)', state: { mode: 'transposed', input: [3, 3], kernel: [3, 3], stride: [2, 2], padding: 1, outputPadding: [1, 1] } },
  { id: 'transposed-2x', label: 'Transposed: kernel 2, stride 2 doubles 4x4 → 8x8', state: { mode: 'transposed', input: [4, 4], kernel: [2, 2], stride: [2, 2] } },
];

/** The state a preset loads: the defaults, then the preset's settings and values. */
export function presetState(p: Preset, seed: number): ConvState {
  return applicable({ ...DEFAULT_STATE, seed, ...p.state, preset: p.id, step: 0, och: 0 });
}
