/**
 * How the #/kernels page turns filter outputs into pixels, and the colour bar
 * that says what each colour means. A kernel's output is a number per pixel
 * that can be negative or above 255 (an edge detector's is half negative);
 * the default view keeps the sign visible with a diverging map centred on
 * zero instead of clipping it away. The other views are there to compare:
 * stretched grey, absolute value, and clamped to 0..255 as image editors do.
 */
import { signed, type Rgb } from '../ui.js';

export type View = 'signed' | 'stretch' | 'abs' | 'clamp';

export const VIEWS: readonly { value: View; label: string; about: string }[] = [
  {
    value: 'signed',
    label: 'Signed colours (zero = white)',
    about: 'A diverging map centred on zero: negative values blue, zero white, positive red, full colour at the ends of the scale. ' +
      'Nothing is clipped. An output without negative values is shown in grey (0 black). In colour mode each channel is ' +
      'shown around mid-grey: 128 means 0.',
  },
  {
    value: 'stretch',
    label: 'Grey, stretched min to max',
    about: 'Grey levels from the smallest output (black) to the largest (white): nothing is clipped, but where zero lies is not marked.',
  },
  {
    value: 'abs',
    label: 'Absolute value',
    about: 'Grey by |value|: the strength of the response with its sign dropped, so both sides of an edge light up alike.',
  },
  {
    value: 'clamp',
    label: 'Clamped to 0..255',
    about: 'What most image editors and online demos show: values below 0 become black and values above 255 white. ' +
      'The negative half of an edge detector\'s response vanishes into black.',
  },
];

/** What the colour bar shows: the map from value to colour over [lo, hi], and facts about the data. */
export interface Legend {
  /** The values at the bar's two ends. */
  lo: number;
  hi: number;
  /** The colour of a value (for the bar). */
  colour(v: number): Rgb;
  /** The data's own range. */
  min: number;
  max: number;
  /** Values left out: below lo / above hi (clamped view). */
  below: number;
  above: number;
  /** Pixels (all channels) in total, and those with a negative value. */
  count: number;
  negative: number;
  /** One line on how to read the colours. */
  note: string;
}

/**
 * The q-quantile (0..1) of |values| (abs) or of the values, from a sorted
 * sample of at most 100,000 of them (every k-th value): enough for a colour
 * scale, and fast on a 512 x 512 x 3 output.
 */
export function quantile(data: ArrayLike<number>, q: number, abs: boolean): number {
  const stride = Math.max(1, Math.ceil(data.length / 100_000));
  const sample = new Float32Array(Math.ceil(data.length / stride));
  for (let i = 0, j = 0; i < data.length; i += stride, j++) sample[j] = abs ? Math.abs(data[i]) : data[i];
  sample.sort();
  if (sample.length === 0) return 0;
  return sample[Math.min(sample.length - 1, Math.max(0, Math.round(q * (sample.length - 1))))];
}

interface Stats {
  min: number;
  max: number;
  maxAbs: number;
  negative: number;
  /** The scale's ends: the data's own (min, max, max |v|), or with saturation its 1st and 99th percentiles. */
  lo: number;
  hi: number;
  absHi: number;
  saturated: boolean;
}

function stats(data: ArrayLike<number>, saturate: boolean): Stats {
  let min = Infinity;
  let max = -Infinity;
  let negative = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < min) min = v;
    if (v > max) max = v;
    if (v < 0) negative++;
  }
  if (data.length === 0) return { min: 0, max: 0, maxAbs: 0, negative: 0, lo: 0, hi: 0, absHi: 0, saturated: false };
  const maxAbs = Math.max(Math.abs(min), Math.abs(max));
  if (!saturate) return { min, max, maxAbs, negative, lo: min, hi: max, absHi: maxAbs, saturated: false };
  return { min, max, maxAbs, negative, lo: quantile(data, 0.01, false), hi: quantile(data, 0.99, false), absHi: quantile(data, 0.99, true), saturated: true };
}

const byte = (t: number) => Math.round(255 * Math.min(1, Math.max(0, t)));
const greyRgb = (t: number): Rgb => {
  const g = byte(t);
  return [g, g, g];
};

/**
 * The value -> colour map of a view, for one channel of data (grey mode) or
 * as the level of each channel (colour mode, where a level 0..1 becomes that
 * channel's byte).
 */
function mapping(view: View, s: Stats, colour: boolean): { level(v: number): number; legend: Omit<Legend, 'min' | 'max' | 'below' | 'above' | 'count' | 'negative'> } {
  switch (view) {
    case 'signed': {
      if (s.min >= 0) {
        const hi = Math.max(255, s.saturated ? s.hi : s.max);
        return {
          level: (v) => v / hi,
          legend: { lo: 0, hi, colour: (v) => greyRgb(v / hi), note: `No negative values: grey from 0 (black) to ${hi === 255 ? '255' : s.saturated ? 'the 99th percentile' : 'the maximum'} (white).` },
        };
      }
      const m = s.absHi || 1;
      if (colour) {
        return {
          level: (v) => 0.5 + v / (2 * m),
          legend: { lo: -m, hi: m, colour: (v) => greyRgb(0.5 + v / (2 * m)), note: `Each channel around mid-grey: darker is negative, lighter positive; the ends are ±${s.saturated ? 'the 99th percentile of' : 'max'} |value|.` },
        };
      }
      return {
        level: (v) => v / m,
        legend: { lo: -m, hi: m, colour: (v) => signed(v, m), note: `Blue is negative, white zero, red positive; the ends are ±${s.saturated ? 'the 99th percentile of' : 'max'} |value|.` },
      };
    }
    case 'stretch': {
      const span = s.hi - s.lo || 1;
      return {
        level: (v) => (v - s.lo) / span,
        legend: { lo: s.lo, hi: s.hi, colour: (v) => greyRgb((v - s.lo) / span), note: s.saturated ? 'Black is the 1st percentile, white the 99th.' : 'Black is the minimum, white the maximum.' },
      };
    }
    case 'abs': {
      const m = s.absHi || 1;
      return {
        level: (v) => Math.abs(v) / m,
        legend: { lo: 0, hi: m, colour: (v) => greyRgb(Math.abs(v) / m), note: `Black is 0, white ${s.saturated ? 'the 99th percentile of' : 'the largest'} |value|; the sign is dropped.` },
      };
    }
    case 'clamp':
      return {
        level: (v) => v / 255,
        legend: { lo: 0, hi: 255, colour: (v) => greyRgb(v / 255), note: 'Below 0 shows as black, above 255 as white.' },
      };
  }
}

/**
 * Draws `channels` planes of height x width values onto the canvas (one
 * canvas pixel per value) in the view's colours; returns the legend. With
 * `saturate` the scale ends at the 1st and 99th percentiles instead of the
 * extremes (the outer values saturate): a few very strong responses, such as
 * the false edge of zero padding, then no longer wash out the rest.
 */
export function drawOutput(canvas: HTMLCanvasElement, data: Float32Array, channels: number, height: number, width: number, view: View, saturate: boolean): Legend {
  const s = stats(data, saturate && view !== 'clamp');
  const colour = channels === 3;
  const { level, legend } = mapping(view, s, colour);
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  let below = 0;
  let above = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] < 0) below++;
    else if (data[i] > 255) above++;
  }
  const out = { ...legend, min: s.min, max: s.max, below: view === 'clamp' ? below : 0, above: view === 'clamp' ? above : 0, count: data.length, negative: s.negative };
  if (!ctx) return out;
  const img = ctx.createImageData(width, height);
  const n = height * width;
  for (let i = 0; i < n; i++) {
    let rgb: Rgb;
    if (colour) rgb = [byte(level(data[i])), byte(level(data[n + i])), byte(level(data[2 * n + i]))];
    else if (view === 'signed' && s.min < 0) rgb = signed(data[i], s.absHi || 1);
    else rgb = greyRgb(level(data[i]));
    img.data[4 * i] = rgb[0];
    img.data[4 * i + 1] = rgb[1];
    img.data[4 * i + 2] = rgb[2];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return out;
}

/** Draws an input image: grey (one plane) or RGB (three planes), values 0..255. */
export function drawInput(canvas: HTMLCanvasElement, data: Float32Array, channels: number, height: number, width: number): void {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(width, height);
  const n = height * width;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) img.data[4 * i + c] = data[(channels === 3 ? c * n : 0) + i];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** Paints the colour bar: 256 columns from legend.lo to legend.hi. */
export function drawLegendBar(canvas: HTMLCanvasElement, legend: Legend): void {
  canvas.width = 256;
  canvas.height = 1;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(256, 1);
  for (let i = 0; i < 256; i++) {
    const v = legend.lo + ((legend.hi - legend.lo) * (i + 0.5)) / 256;
    const [r, g, b] = legend.colour(v);
    img.data[4 * i] = r;
    img.data[4 * i + 1] = g;
    img.data[4 * i + 2] = b;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}
