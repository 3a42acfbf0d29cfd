/**
 * One output pixel worked out: the input values under the kernel (the ones
 * the padding supplies marked, with where they were read from), the weights,
 * their products, and the sum written out term by term, next to the value
 * conv2d returned for that pixel. In colour mode, one such block per channel;
 * with the gradient magnitude, one per kernel and the square root at the end.
 */
import type { BorderMode } from '../compute/kernels.js';
import { el } from '../ui.js';
import { windowAt, type PixelWindow } from './window.js';

export interface InspectInput {
  /** Input planes (channels*H*W), values 0..255. */
  image: Float32Array;
  channels: number;
  height: number;
  width: number;
  size: number;
  /** The weights as typed (before the divisor), and the divisor. */
  entries: readonly number[];
  divisor: number;
  /** The transposed entries, with the gradient magnitude; else null. */
  transposed: readonly number[] | null;
  mode: BorderMode;
  /** conv2d's results: the output, and with the magnitude the two responses. */
  output: Float32Array;
  first: Float32Array | null;
  second: Float32Array | null;
  outHeight: number;
  outWidth: number;
  /** The output pixel. */
  row: number;
  col: number;
}

const CHANNEL_NAMES = ['Red', 'Green', 'Blue'];

/** A number in a formula: integers as they are, others to 4 significant digits (1 decimal from 1000 up), with a true minus sign. */
export function num(v: number): string {
  let s: string;
  if (Number.isInteger(v) || !Number.isFinite(v)) s = String(v);
  else if (Math.abs(v) >= 1000) s = v.toFixed(1);
  else if (Math.abs(v) < 1e-4) s = v.toExponential(2);
  else s = String(Number(v.toPrecision(4)));
  return s.replace(/^-/, '−');
}

/** A k x k table of numbers; cells flagged in `pad` are styled as padding. */
function smallTable(caption: string, values: readonly number[], size: number, opts: { pad?: readonly boolean[]; titles?: readonly string[]; centre?: boolean } = {}): HTMLElement {
  const table = el('table', { class: 'mini' }, el('caption', {}, caption));
  for (let u = 0; u < size; u++) {
    const tr = el('tr');
    for (let v = 0; v < size; v++) {
      const i = u * size + v;
      const cls = [opts.pad?.[i] ? 'pad' : '', opts.centre && u === (size - 1) / 2 && v === (size - 1) / 2 ? 'centre' : ''].filter(Boolean).join(' ');
      tr.append(el('td', { class: cls || null, title: opts.titles?.[i] }, num(values[i])));
    }
    table.append(tr);
  }
  return table;
}

/** "(−1×87) + (8×91) + …" with zero weights left out; returns the text and the exact sum of the products. */
function writtenSum(weights: readonly number[], values: readonly number[]): { text: string; sum: number; skipped: number } {
  const terms: string[] = [];
  let sum = 0;
  let skipped = 0;
  for (let i = 0; i < weights.length; i++) {
    sum += weights[i] * values[i];
    if (weights[i] === 0) {
      skipped++;
      continue;
    }
    terms.push(`(${num(weights[i])}×${num(values[i])})`);
  }
  return { text: terms.length ? terms.join(' + ') : '0', sum, skipped };
}

function describeTap(w: PixelWindow, i: number, mode: BorderMode): string {
  const t = w.taps[i];
  if (t.inside) return `input row ${t.row}, column ${t.col}`;
  if (t.row === null) return `outside the image: ${mode === 'partial' ? 'zero (not counted in the rescaling)' : 'zero padding'}`;
  return `outside the image: ${mode} padding reads row ${t.row}, column ${t.col}`;
}

/** The block of one channel and one kernel: tables and the written-out sum. */
function block(title: string | null, w: PixelWindow, weights: readonly number[], divisor: number, size: number, mode: BorderMode, result: number, kernelName: string): { root: HTMLElement; value: number } {
  const values = w.taps.map((t) => t.value);
  const pad = w.taps.map((t) => !t.inside);
  const titles = w.taps.map((_, i) => describeTap(w, i, mode));
  const products = weights.map((k, i) => k * values[i]);
  const { text, sum, skipped } = writtenSum(weights, values);
  let formula = text;
  let value = sum;
  if (divisor !== 1) {
    formula = `(${formula}) / ${num(divisor)}`;
    value /= divisor;
  }
  if (w.ratio !== 1) {
    formula = `${divisor !== 1 ? formula : `(${formula})`} × ${size * size}/${w.insideCount}`;
    value *= w.ratio;
  }
  const root = el('div', { class: 'inspect-block' },
    title ? el('h3', {}, title) : null,
    el('div', { class: 'mini-row scroll-x' },
      smallTable('Input under the kernel', values, size, { pad, titles, centre: true }),
      el('span', { class: 'op', 'aria-hidden': 'true' }, '×'),
      smallTable(divisor !== 1 ? `${kernelName} (÷ ${num(divisor)})` : kernelName, weights, size, { centre: true }),
      el('span', { class: 'op', 'aria-hidden': 'true' }, '='),
      smallTable('Products', products, size, { pad, centre: true }),
    ),
    el('p', { class: 'formula mono' }, `${formula} = ${num(value)}`),
    el('p', { class: 'muted small' },
      `conv2d's output here: ${num(result)}`,
      skipped ? ` · ${skipped} zero weight${skipped === 1 ? '' : 's'} left out of the sum` : '',
      w.ratio !== 1 ? ` · partial padding: ${w.insideCount} of ${size * size} taps fall inside the image, so the zero-padded sum is scaled by ${size * size}/${w.insideCount}` : '',
    ),
  );
  return { root, value };
}

/** The whole worked example for the output pixel `x.row`, `x.col`. */
export function inspectPixel(x: InspectInput): HTMLElement {
  const n = x.height * x.width;
  const on = x.outHeight * x.outWidth;
  const at = x.row * x.outWidth + x.col;
  const root = el('div', { class: 'inspect' });
  const w0 = windowAt(x.image, x.height, x.width, x.row, x.col, x.size, x.mode);
  const outside = w0.taps.filter((t) => !t.inside).length;
  root.append(el('p', { class: 'inspect-head' },
    el('strong', {}, `Output pixel row ${x.row}, column ${x.col}`),
    ` · the ${x.size}×${x.size} window is centred on input row ${w0.centreRow}, column ${w0.centreCol}`,
    outside ? ` · ${outside} of its ${x.size * x.size} cells lie outside the image (shaded; hover one to see what the ${x.mode} border puts there)` : '',
  ));
  for (let c = 0; c < x.channels; c++) {
    const w = windowAt(x.image, x.height, x.width, x.row, x.col, x.size, x.mode, c * n);
    const name = x.channels === 3 ? CHANNEL_NAMES[c] : null;
    if (!x.transposed) {
      root.append(block(name, w, x.entries, x.divisor, x.size, x.mode, x.output[c * on + at], 'Kernel').root);
      continue;
    }
    const a = block(name ? `${name}: the kernel (a)` : 'The kernel (a)', w, x.entries, x.divisor, x.size, x.mode, x.first?.[c * on + at] ?? NaN, 'Kernel');
    const b = block(name ? `${name}: its transpose (b)` : 'Its transpose (b)', w, x.transposed, x.divisor, x.size, x.mode, x.second?.[c * on + at] ?? NaN, 'Transposed');
    root.append(a.root, b.root, el('p', { class: 'formula mono magnitude' },
      `${name ? `${name}: ` : ''}√(a² + b²) = √(${num(a.value)}² + ${num(b.value)}²) = ${num(Math.hypot(a.value, b.value))}`,
      el('span', { class: 'muted' }, ` (output: ${num(x.output[c * on + at])})`)));
  }
  return root;
}
