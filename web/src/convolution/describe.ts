/**
 * What the #/convolution page says in words and numbers: the cells under a
 * window, the dot product (or max, average, L2 norm) with its numbers, the
 * scatter of a transposed convolution, the fit in a sentence, and the code
 * line for Stride and for PyTorch that matches the controls. Pure functions
 * of the state and the worker's result: the results themselves (the output
 * values, the padded input, the sizes) all come from Stride in the worker.
 */
import type { AxisSummary, ConvolutionResult } from '../compute/convolution.js';
import { fmt } from '../ui.js';
import { outChannels, perGroup, type ConvState } from './state.js';

/** One tap of a window: the input cell (r, c), padding included (negative or past the input), and the kernel cell (u, v). */
export interface Tap {
  r: number;
  c: number;
  u: number;
  v: number;
}

/** Steps of the animation: one per output cell (one per input cell for a transposed convolution). */
export function stepCount(s: ConvState, r: ConvolutionResult): number {
  return s.mode === 'transposed' ? s.input[0] * s.input[1] : r.output.h * r.output.w;
}

/** The cell a step stands for: (row, column) of the output, or of the input for a transposed convolution. */
export function stepCell(s: ConvState, r: ConvolutionResult, step: number): [number, number] {
  const w = s.mode === 'transposed' ? s.input[1] : r.output.w;
  return [Math.floor(step / w), step % w];
}

/**
 * The taps of the window of a step. Convolution and pooling: the window of
 * output (i, j) over the input, cells (i*s - pad + u*d, j*s - pad + v*d).
 * Transposed: the window input (i, j) writes over the output, cells
 * (i*s - p + u*d, j*s - p + v*d) of the output.
 */
export function windowTaps(r: ConvolutionResult, i: number, j: number): Tap[] {
  const [h, w] = r.axes;
  const taps: Tap[] = [];
  for (let u = 0; u < h.kernel; u++) {
    for (let v = 0; v < w.kernel; v++) {
      taps.push({ r: i * h.stride - h.padding[0] + u * h.dilation, c: j * w.stride - w.padding[0] + v * w.dilation, u, v });
    }
  }
  return taps;
}

/**
 * The input channels an output channel reads: those of its group (all of them
 * without groups). Pooling reads its own channel only.
 */
export function groupChannels(s: ConvState, o: number): number[] {
  if (s.mode === 'pool') return [o];
  const perOut = perGroup(s.filters, s.groups);
  const cg = perGroup(s.channels, s.groups);
  const g = Math.min(s.groups - 1, Math.floor(o / perOut));
  return Array.from({ length: cg }, (_, k) => g * cg + k);
}

/** A number inside a sum: negatives in parentheses, "1·(−2)". */
function term(v: number): string {
  const t = fmt(v).replace('-', '−');
  return v < 0 ? `(${t})` : t;
}

const num = (v: number) => fmt(v).replace('-', '−');

/** At most `max` terms, the middle elided: "a + b + … (12 more) + z". */
function joinTerms(terms: string[], sep: string, max = 27): string {
  if (terms.length <= max) return terms.join(sep);
  const head = terms.slice(0, 8);
  return `${head.join(sep)}${sep}… (${terms.length - 9} more)${sep}${terms[terms.length - 1]}`;
}

/** Whether input cell (r, c) is inside the image (not padding). */
const inside = (s: ConvState, r: number, c: number) => r >= 0 && r < s.input[0] && c >= 0 && c < s.input[1];

/** The padded input's value at input cell (r, c) of channel ch (the worker's F.pad result), or null past the padding. */
export function paddedValue(s: ConvState, r: ConvolutionResult, x: readonly number[], ch: number, row: number, col: number): number | null {
  const [top, , left] = r.pads;
  if (inside(s, row, col)) return x[(ch * s.input[0] + row) * s.input[1] + col];
  if (!r.padded) return null;
  const pr = row + top;
  const pc = col + left;
  if (pr < 0 || pc < 0 || pr >= r.padded.h || pc >= r.padded.w) return null;
  return r.padded.data[(ch * r.padded.h + pr) * r.padded.w + pc];
}

export interface StepText {
  /** The headline: "output (0, 1) of channel 0". */
  title: string;
  /** The arithmetic, one line per input channel and one for the total. */
  lines: string[];
}

/**
 * The arithmetic of one output cell of a convolution or pooling, with the
 * numbers under the window: per channel the dot product, then the sum with the
 * bias (partial padding: times the rescaling factor); for pooling max(…),
 * (…)/n or sqrt(…). The final value is Stride's.
 */
export function describeStep(s: ConvState, r: ConvolutionResult, vals: { x: number[]; w: number[]; b: number[] | null }, o: number, step: number): StepText {
  const [i, j] = stepCell(s, r, step);
  if (s.mode === 'transposed') return describeScatter(s, r, vals, o, i, j);
  const y = r.output.data[(o * r.output.h + i) * r.output.w + j];
  const taps = windowTaps(r, i, j);
  const title = `output (${i}, ${j})${outChannels(s) > 1 ? ` of channel ${o}` : ''} = ${num(y)}`;
  if (s.mode === 'pool') return { title, lines: [poolLine(s, r, vals.x, o, taps, y)] };
  const cg = perGroup(s.channels, s.groups);
  const [kH, kW] = s.kernel;
  const partial = s.paddingMode === 'partial';
  const lines: string[] = [];
  const sums: number[] = [];
  const channels = groupChannels(s, o);
  for (const [k, ch] of channels.entries()) {
    const terms: string[] = [];
    let sum = 0;
    for (const t of taps) {
      if (partial && !inside(s, t.r, t.c)) continue;
      const xv = paddedValue(s, r, vals.x, ch, t.r, t.c) ?? 0;
      const wv = vals.w[((o * cg + k) * kH + t.u) * kW + t.v];
      terms.push(`${term(xv)}·${term(wv)}`);
      sum += xv * wv;
    }
    sums.push(sum);
    const body = terms.length ? joinTerms(terms, ' + ') : 'no tap inside the image';
    lines.push(channels.length > 1 ? `channel ${ch}: ${body} = ${num(sum)}` : `${body} = ${num(sum)}`);
  }
  const total = sums.reduce((a, b) => a + b, 0);
  const bias = vals.b ? vals.b[o] : null;
  const biasText = bias === null ? '' : ` + bias ${term(bias)}`;
  if (partial) {
    const ratio = r.ratio ? r.ratio[i * r.output.w + j] : 1;
    const insideTaps = taps.filter((t) => inside(s, t.r, t.c)).length;
    const sumText = channels.length > 1 ? `(${sums.map(term).join(' + ')})` : term(total);
    lines.push(ratio === 0
      ? `the window sees no image cell: output 0 (bias included) = ${num(y)}`
      : `partial padding: ${sumText} × ${kH * kW}/${insideTaps} (window cells / cells inside the image)${biasText} = ${num(y)}`);
  } else if (channels.length > 1 || bias !== null) {
    lines.push(`${channels.length > 1 ? sums.map(term).join(' + ') : term(total)}${biasText} = ${num(y)}`);
  }
  return { title, lines };
}

/** The pooling of one window, with its numbers. */
function poolLine(s: ConvState, r: ConvolutionResult, x: readonly number[], ch: number, taps: Tap[], y: number): string {
  const [H, W] = s.input;
  const [top, bottom, left, right] = r.pads;
  // Cells the window covers inside the padded input (ceil mode's last window may hang past it: those are left out).
  const inPadded = taps.filter((t) => t.r >= -top && t.r < H + bottom && t.c >= -left && t.c < W + right);
  const real = taps.filter((t) => inside(s, t.r, t.c));
  const value = (t: Tap) => x[(ch * H + t.r) * W + t.c];
  // ceil mode's last window may hang past the padding: those cells are left out
  const past = taps.length - inPadded.length;
  const over = past ? ` (${past} of the window's ${taps.length} cells lie past the ${top + bottom + left + right ? 'padding' : 'input'} and are left out)` : '';
  if (s.pool === 'max') {
    const items = inPadded.map((t) => (inside(s, t.r, t.c) ? num(value(t)) : '−∞'));
    return `max(${joinTerms(items, ', ')}) = ${num(y)}${over}`;
  }
  if (s.pool === 'avg') {
    const items = (s.countIncludePad ? inPadded : real).map((t) => (inside(s, t.r, t.c) ? term(value(t)) : '0'));
    // PyTorch's divisor: the window clipped to the padded input, or to the image without count_include_pad
    const n = items.length;
    const touchesPadding = inPadded.some((t) => !inside(s, t.r, t.c));
    const why = touchesPadding ? (s.countIncludePad ? ' (padding counted)' : ' (padding not counted)') : '';
    return `(${joinTerms(items, ' + ')}) / ${n}${why} = ${num(y)}${over}`;
  }
  const items = real.map((t) => `${term(value(t))}²`);
  const sumSq = real.reduce((a, t) => a + value(t) ** 2, 0);
  const full = s.kernel[0] * s.kernel[1];
  if (real.length < full) {
    // PyTorch scales a window that ceil mode cuts short by its full size over the cells it has
    return `sqrt((${joinTerms(items, ' + ')}) · ${full}/${real.length}) = sqrt(${num((sumSq * full) / real.length)}) = ${num(y)} (a window cut short by ceil mode is scaled up to ${full} cells, as PyTorch does)`;
  }
  return `sqrt(${joinTerms(items, ' + ')}) = sqrt(${num(sumSq)}) = ${num(y)}`;
}

/**
 * The scatter of one input cell of a transposed convolution: its value times
 * the kernel, added into the output window (cells the padding crops are
 * named as cropped).
 */
function describeScatter(s: ConvState, r: ConvolutionResult, vals: { x: number[]; w: number[]; b: number[] | null }, o: number, i: number, j: number): StepText {
  const taps = windowTaps(r, i, j);
  const [H, W] = s.input;
  const [kH, kW] = s.kernel;
  const og = perGroup(s.filters, s.groups);
  const lines: string[] = [];
  const outH = r.output.h;
  const outW = r.output.w;
  const channels = groupChannels(s, o);
  for (const ch of channels) {
    const v = vals.x[(ch * H + i) * W + j];
    const adds: string[] = [];
    let cropped = 0;
    for (const t of taps) {
      if (t.r < 0 || t.c < 0 || t.r >= outH || t.c >= outW) {
        cropped++;
        continue;
      }
      const wv = vals.w[((ch * og + (o % og)) * kH + t.u) * kW + t.v];
      adds.push(`(${t.r}, ${t.c}) += ${term(v)}·${term(wv)} = ${num(v * wv)}`);
    }
    const head = `${channels.length > 1 ? `channel ${ch}: ` : ''}input (${i}, ${j}) = ${num(v)} scatters ${num(v)} × kernel`;
    const crop = cropped ? `; ${cropped} of its ${taps.length} cells fall in the cropped border (padding ${r.axes[0].padding[0]}${r.axes[0].padding[0] !== r.axes[1].padding[0] ? `x${r.axes[1].padding[0]}` : ''})` : '';
    lines.push(`${head}${crop}: ${adds.length ? joinTerms(adds, '; ', 16) : 'nothing lands inside the output'}`);
  }
  if (vals.b) lines.push(`each output cell also gets the bias ${num(vals.b[o])} once`);
  return { title: `input (${i}, ${j}) writes into output channel ${o}`, lines };
}

// ---- the fit, in words ----------------------------------------------------------

/** 0, 2, 5-9: a list of indices with runs shortened. */
export function indices(list: readonly number[]): string {
  const parts: string[] = [];
  for (let a = 0; a < list.length; ) {
    let b = a;
    while (b + 1 < list.length && list[b + 1] === list[b] + 1) b++;
    parts.push(b === a ? `${list[a]}` : b === a + 1 ? `${list[a]}, ${list[b]}` : `${list[a]}–${list[b]}`);
    a = b + 1;
  }
  return parts.join(', ');
}

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

export interface FitSummary {
  /** Whether every input row and column is seen (or, for a transposed convolution, reaches the output). */
  fits: boolean;
  /** "fits" or "doesn't fit", and why, in a sentence. */
  sentence: string;
  /** Input rows / columns past the last window: the remainder of the division leaves them over, so no window sees them (cropping them, or padding, fixes it). */
  unseenRows: number[];
  unseenCols: number[];
  /** Input rows / columns between the first and the last window that no tap reads (stride or dilation gaps; no padding closes these). */
  gapRows: number[];
  gapCols: number[];
}

function axisWhy(a: AxisSummary): string {
  const padded = a.input + a.padding[0] + a.padding[1];
  return `${padded} − ${a.span} = ${padded - a.span} leaves ${a.remainder} over stride ${a.stride}`;
}

/**
 * The input indices past the last window along one axis: what the remainder
 * of the division leaves over. The last window ends reachedPadding[1] cells
 * into the padding after the input (a negative count: that many cells before
 * the input's end), so the cells from input + reachedPadding[1] on are left
 * over; when it reaches the padding, the remainder is padding only.
 */
export function leftOver(a: AxisSummary): number[] {
  const first = a.input + a.reachedPadding[1];
  return a.uncovered.filter((i) => i >= first);
}

/** The unseen input indices before the last window's end: gaps between the windows' taps. */
function between(a: AxisSummary): number[] {
  const first = a.input + a.reachedPadding[1];
  return a.uncovered.filter((i) => i < first);
}

/** "input rows 1, 2 and columns 1, 2" (the lists may be empty). */
function rowsAndCols(rows: readonly number[], cols: readonly number[], lead = 'input ', joiner = ' and '): string {
  const what: string[] = [];
  if (rows.length) what.push(`${plural(rows.length, 'row', 'rows')} ${indices(rows)}`);
  if (cols.length) what.push(`${plural(cols.length, 'column', 'columns')} ${indices(cols)}`);
  return `${lead}${what.join(joiner)}`;
}

/** The fit along both axes, in the page's words (the data is explainWindow's). */
export function fitSummary(s: ConvState, r: ConvolutionResult): FitSummary {
  const [h, w] = r.axes;
  const out: FitSummary = { fits: true, sentence: '', unseenRows: [], unseenCols: [], gapRows: [], gapCols: [] };
  if (s.mode === 'transposed') {
    const lost = [...h.uncovered.map((i) => `input row ${i}`), ...w.uncovered.map((i) => `input column ${i}`)];
    const empty = [...h.uncoveredOutput.map((i) => `row ${i}`), ...w.uncoveredOutput.map((i) => `column ${i}`)];
    out.fits = lost.length === 0;
    out.unseenRows = h.uncovered;
    out.unseenCols = w.uncovered;
    const parts = [out.fits ? 'fits: every input cell writes into the output' : `doesn't fit: the padding crops away everything ${lost.join(', ')} writes`];
    const holes = (h.uncoveredOutput.length && h.dilation > 1) || (w.uncoveredOutput.length && w.dilation > 1);
    if (empty.length) parts.push(`output ${empty.join(', ')} ${plural(empty.length, 'gets', 'get')} no input, only the bias (${holes ? "they fall in the holes of the dilated kernel copies, which the stride does not fill" : 'the stride is larger than the kernel'})`);
    out.sentence = parts.join('; ');
    return out;
  }
  out.unseenRows = leftOver(h);
  out.unseenCols = leftOver(w);
  out.gapRows = between(h);
  out.gapCols = between(w);
  out.fits = out.unseenRows.length === 0 && out.unseenCols.length === 0;
  const parts: string[] = [];
  if (!out.fits) {
    const why = [h, w].filter((a) => leftOver(a).length).map(axisWhy);
    const why2 = why.length === 2 && why[0] === why[1] ? [why[0]] : why;
    parts.push(`doesn't fit: no window sees ${rowsAndCols(out.unseenRows, out.unseenCols)} (${why2.join('; ')})`);
    // left over, yet not where one more window would read: the stride (or a dilation hole) steps over them
    const skip = (a: AxisSummary) => leftOver(a).filter((i) => !a.uncoveredAtEnd.includes(i));
    const [sr, sc] = [skip(h), skip(w)];
    if (sr.length || sc.length) {
      const dilated = (sr.length && h.dilation > 1) || (sc.length && w.dilation > 1);
      parts.push(`even one more window would not read ${rowsAndCols(sr, sc, '', ' or ')} (${dilated ? 'its dilated taps step over' : 'the stride steps over'} ${sr.length + sc.length === 1 ? 'it' : 'them'})`);
    }
  } else {
    const seen = out.gapRows.length || out.gapCols.length ? '' : ' and every input cell is seen';
    const rounded = [h, w].some((a) => a.roundedUp);
    const padOnly = [h, w].some((a) => !a.exact && !a.roundedUp);
    if (!rounded && !padOnly) parts.push(`fits: the windows tile the padded input exactly${seen}`);
    else {
      const how = [rounded ? 'ceil mode adds a last window over the remainder' : '', padOnly ? 'the remainder of the division is padding no window reaches' : ''].filter(Boolean);
      parts.push(`fits: ${how.join(', and ')}${seen}`);
    }
  }
  if (out.gapRows.length || out.gapCols.length) {
    const dilated = (out.gapRows.length && h.dilation > 1) || (out.gapCols.length && w.dilation > 1);
    parts.push(`${out.fits ? 'but' : 'and'} ${rowsAndCols(out.gapRows, out.gapCols)} fall between the windows and are never seen (the ${dilated ? 'dilation leaves holes the stride does not fill' : 'stride is longer than the window'}; no padding closes these gaps, a smaller stride does)`);
  }
  out.sentence = parts.join(parts.length > 1 && out.fits ? ', ' : '; ');
  return out;
}

/** The padding that makes the windows fit, from explainWindow's suggestion (null when they fit); or, when one more window would not see the left-over rows, the crop that does. */
export function paddingSuggestion(s: ConvState, r: ConvolutionResult): { text: string; padding: number | [number, number] | null } | null {
  if (s.mode === 'transposed') return null;
  const [h, w] = r.axes;
  const misfit = [h, w].filter((a) => leftOver(a).length && a.suggestion);
  if (!misfit.length) return null;
  // cropping the left-over input cells (the remainder less any padding after) makes the last window end on the input's last cell
  const crops = misfit.map((a) => {
    const n = leftOver(a).length;
    return `${n} ${a.name === 'height' ? plural(n, 'row', 'rows') : plural(n, 'column', 'columns')}`;
  });
  // padding adds one more window; it helps only where that window reads some of the left-over cells
  if (!misfit.every((a) => leftOver(a).some((i) => a.uncoveredAtEnd.includes(i)))) {
    return { text: `Crop ${crops.join(' and ')} from the end of the input: the last window then ends on its last ${misfit.length > 1 ? 'row and column' : misfit[0].name === 'height' ? 'row' : 'column'}.`, padding: null };
  }
  // the same padding on both sides of each axis, when one exists
  const sym = (a: AxisSummary) => (misfit.includes(a) ? a.suggestion!.symmetricPadding : a.padding[0] === a.padding[1] ? a.padding[0] : null);
  const ph = sym(h);
  const pw = sym(w);
  const outSize = (a: AxisSummary) => (misfit.includes(a) ? a.suggestion!.symmetricOutputSize ?? a.outputSize : a.outputSize);
  const allowed = misfit.every((a) => a.suggestion!.allowed);
  if (ph === null || pw === null) {
    const uneven = misfit.map((a) => `${a.name} ${a.suggestion!.padding[0]} before and ${a.suggestion!.padding[1]} after`).join(', ');
    return { text: `Padding ${uneven} would fit (no padding that is the same on both sides does: the stride is even and the remainder odd); or crop ${crops.join(' and ')} from the end of the input.`, padding: null };
  }
  const padding: number | [number, number] = ph === pw ? ph : [ph, pw];
  const size = `${outSize(h)} x ${outSize(w)}`;
  const note = allowed ? '' : " (more than PyTorch's pooling takes: at most half the window)";
  return { text: `Padding ${ph === pw ? ph : `${ph}x${pw}`} would fit: output ${size}${note}; or crop ${crops.join(' and ')} from the end of the input.`, padding: allowed ? padding : null };
}

// ---- code lines -------------------------------------------------------------------

const jsPair = ([a, b]: readonly [number, number]) => (a === b ? `${a}` : `[${a}, ${b}]`);
const pyPair = ([a, b]: readonly [number, number]) => (a === b ? `${a}` : `(${a}, ${b})`);
const one = (p: readonly [number, number], v: number) => p[0] === v && p[1] === v;

export interface CodeLines {
  stride: string[];
  pytorch: string[];
  /** A caveat about the PyTorch line (what PyTorch does not have or refuses), or ''. */
  note: string;
}

/** The Stride and PyTorch code of the current controls (layer and functional form). */
export function codeLines(s: ConvState, r: ConvolutionResult | null): CodeLines {
  const C = s.channels;
  const Fo = s.filters;
  const k = jsPair(s.kernel);
  const kp = pyPair(s.kernel);
  const shapeComment = `// x: [1, ${C}, ${s.input[0]}, ${s.input[1]}]`;
  const pads = r?.pads;
  const padJs = typeof s.padding === 'string' ? `'${s.padding}'` : typeof s.padding === 'number' ? `${s.padding}` : jsPair(s.padding);
  const padPy = typeof s.padding === 'string' ? `'${s.padding}'` : typeof s.padding === 'number' ? `${s.padding}` : pyPair(s.padding);
  if (s.mode === 'conv') {
    const js = [`stride: ${jsPair(s.stride)}`, `padding: ${padJs}`];
    if (!one(s.dilation, 1)) js.push(`dilation: ${jsPair(s.dilation)}`);
    if (s.groups !== 1) js.push(`groups: ${s.groups}`);
    if (s.paddingMode !== 'zeros') js.push(`paddingMode: '${s.paddingMode}'`);
    const wShape = `[${Fo}, ${perGroup(C, s.groups)}, ${s.kernel[0]}, ${s.kernel[1]}]`;
    const strideLines = [
      `${shapeComment}, w: ${wShape}${s.bias ? `, b: [${Fo}]` : ''}`,
      `F.conv2d(x, w, ${s.bias ? 'b' : 'null'}, { ${js.join(', ')} })`,
      `new nn.Conv2d(${C}, ${Fo}, ${k}, { ${[...js, ...(s.bias ? [] : ['bias: false'])].join(', ')} })`,
    ];
    // PyTorch refuses 'same' with a stride: give it the resolved padding, through F.pad when uneven.
    const sameStrided = s.padding === 'same' && (s.stride[0] > 1 || s.stride[1] > 1);
    const pyOpts = (mode: boolean) => {
      const o = [`stride=${pyPair(s.stride)}`];
      if (sameStrided && pads) {
        const even = pads[0] === pads[1] && pads[2] === pads[3];
        o.push(`padding=${even ? pyPair([pads[0], pads[2]]) : 0}`);
      } else o.push(`padding=${padPy}`);
      if (!one(s.dilation, 1)) o.push(`dilation=${pyPair(s.dilation)}`);
      if (s.groups !== 1) o.push(`groups=${s.groups}`);
      if (mode && s.paddingMode !== 'zeros' && s.paddingMode !== 'partial') o.push(`padding_mode='${s.paddingMode}'`);
      return o;
    };
    const unevenSame = sameStrided && pads && !(pads[0] === pads[1] && pads[2] === pads[3]);
    const padCall = pads ? `F.pad(x, (${pads[2]}, ${pads[3]}, ${pads[0]}, ${pads[1]})${s.paddingMode === 'zeros' || s.paddingMode === 'partial' ? '' : `, mode='${s.paddingMode}'`})` : 'x';
    const functional = s.paddingMode === 'zeros' || s.paddingMode === 'partial'
      ? unevenSame ? `F.conv2d(${padCall}, w, ${s.bias ? 'b' : 'None'}, ${pyOpts(false).join(', ')})` : `F.conv2d(x, w, ${s.bias ? 'b' : 'None'}, ${pyOpts(false).join(', ')})`
      : `F.conv2d(${padCall}, w, ${s.bias ? 'b' : 'None'}, ${pyOpts(false).filter((o) => !o.startsWith('padding=')).join(', ')})`;
    const layer = `torch.nn.Conv2d(${C}, ${Fo}, ${kp}, ${[...pyOpts(true), ...(s.bias ? [] : ['bias=False'])].join(', ')})`;
    let note = '';
    if (s.paddingMode === 'partial') note = "PyTorch has no partial-convolution padding built in (NVIDIA's PartialConv2d adds it); these lines are its zero-padded convolution, which Stride then rescales by the window's share of image cells.";
    else if (sameStrided) note = `PyTorch refuses padding='same' with a stride > 1; the lines give it Stride's resolved padding (top ${pads?.[0]}, bottom ${pads?.[1]}, left ${pads?.[2]}, right ${pads?.[3]})${unevenSame ? ', through F.pad since it is uneven (the layer form would need the same)' : ''}.`;
    else if (s.paddingMode !== 'zeros') note = `torch.nn.functional.conv2d has no padding mode: the layer pads with F.pad(mode='${s.paddingMode}') first, as the functional line does.`;
    return { stride: strideLines, pytorch: [`# x: (1, ${C}, ${s.input[0]}, ${s.input[1]})`, functional, layer], note };
  }
  if (s.mode === 'transposed') {
    const js = [`stride: ${jsPair(s.stride)}`, `padding: ${padJs}`];
    if (!one(s.outputPadding, 0)) js.push(`outputPadding: ${jsPair(s.outputPadding)}`);
    if (!one(s.dilation, 1)) js.push(`dilation: ${jsPair(s.dilation)}`);
    if (s.groups !== 1) js.push(`groups: ${s.groups}`);
    const py = [`stride=${pyPair(s.stride)}`, `padding=${padPy}`];
    if (!one(s.outputPadding, 0)) py.push(`output_padding=${pyPair(s.outputPadding)}`);
    if (!one(s.dilation, 1)) py.push(`dilation=${pyPair(s.dilation)}`);
    if (s.groups !== 1) py.push(`groups=${s.groups}`);
    const wShape = `[${C}, ${perGroup(Fo, s.groups)}, ${s.kernel[0]}, ${s.kernel[1]}]`;
    return {
      stride: [
        `${shapeComment}, w: ${wShape}${s.bias ? `, b: [${Fo}]` : ''}`,
        `F.convTranspose2d(x, w, ${s.bias ? 'b' : 'null'}, { ${js.join(', ')} })`,
        `new nn.ConvTranspose2d(${C}, ${Fo}, ${k}, { ${[...js, ...(s.bias ? [] : ['bias: false'])].join(', ')} })`,
      ],
      pytorch: [
        `# x: (1, ${C}, ${s.input[0]}, ${s.input[1]})`,
        `F.conv_transpose2d(x, w, ${s.bias ? 'b' : 'None'}, ${py.join(', ')})`,
        `torch.nn.ConvTranspose2d(${C}, ${Fo}, ${kp}, ${[...py, ...(s.bias ? [] : ['bias=False'])].join(', ')})`,
      ],
      note: '',
    };
  }
  const js = [`stride: ${jsPair(s.stride)}`];
  const py = [`stride=${pyPair(s.stride)}`];
  if (s.padding !== 0 && s.padding !== 'valid') {
    js.push(`padding: ${padJs}`);
    py.push(`padding=${padPy}`);
  }
  if (!one(s.dilation, 1)) {
    js.push(`dilation: ${jsPair(s.dilation)}`);
    py.push(`dilation=${pyPair(s.dilation)}`);
  }
  if (s.ceilMode) {
    js.push('ceilMode: true');
    py.push('ceil_mode=True');
  }
  if (s.pool === 'avg' && !s.countIncludePad) {
    js.push('countIncludePad: false');
    py.push('count_include_pad=False');
  }
  const [fn, layer, pyFn, pyLayer, p] = s.pool === 'max'
    ? ['F.maxPool2d', 'nn.MaxPool2d', 'F.max_pool2d', 'torch.nn.MaxPool2d', '']
    : s.pool === 'avg'
      ? ['F.avgPool2d', 'nn.AvgPool2d', 'F.avg_pool2d', 'torch.nn.AvgPool2d', '']
      : ['F.lpPool2d', 'nn.LPPool2d', 'F.lp_pool2d', 'torch.nn.LPPool2d', '2, '];
  return {
    stride: [shapeComment, `${fn}(x, ${p}${k}, { ${js.join(', ')} })`, `new ${layer}(${p}${k}, { ${js.join(', ')} })`],
    pytorch: [`# x: (1, ${C}, ${s.input[0]}, ${s.input[1]})`, `${pyFn}(x, ${p}${kp}, ${py.join(', ')})`, `${pyLayer}(${p}${kp}, ${py.join(', ')})`],
    note: s.pool === 'l2' ? 'L2 pooling is LP pooling with p = 2: the square root of the sum of squares over the window (PyTorch: lp_pool2d, also without padding).' : '',
  };
}

/** What the page suggests for an error the op or explainWindow raised: a sentence (where the state says more than the message) and a change of the controls that fixes it. */
export interface ErrorFix {
  text: string;
  /** The change the "Fix it" button applies, and its label. */
  patch: Partial<ConvState> | null;
  label: string;
}

/** A fix for an error, read from the state (the message names the problem; the state says which control to change). */
export function errorFix(s: ConvState, message: string): ErrorFix | null {
  const span = (a: 0 | 1) => s.dilation[a] * (s.kernel[a] - 1) + 1;
  if (/groups/.test(message) && s.mode !== 'pool') {
    const common = Array.from({ length: 16 }, (_, i) => i + 1).filter((g) => s.channels % g === 0 && s.filters % g === 0);
    const best = common[common.length - 1];
    return { text: `Groups must divide both the ${s.channels} input channels and the ${s.filters} filters: ${common.join(' or ')}.`, patch: { groups: best }, label: `Set groups to ${best}` };
  }
  if (/outputPadding/.test(message) && s.mode === 'transposed') {
    const op: [number, number] = [0, 1].map((a) => Math.min(s.outputPadding[a], Math.max(s.stride[a], s.dilation[a]) - 1)) as [number, number];
    return { text: '', patch: { outputPadding: op }, label: `Set output padding to ${op[0] === op[1] ? op[0] : op.join('x')}` };
  }
  if (/reflect padding/.test(message)) return { text: '', patch: { paddingMode: 'replicate' }, label: 'Use replicate padding' };
  if (/circular padding/.test(message)) return { text: '', patch: { paddingMode: 'zeros' }, label: 'Use zero padding' };
  if (s.mode === 'pool' && /more than half the window/.test(message)) {
    const limit = Math.min(Math.floor(span(0) / 2), Math.floor(span(1) / 2));
    return { text: '', patch: { padding: limit }, label: `Set padding to ${limit}` };
  }
  if (/larger than the (padded )?input/.test(message)) {
    const k: [number, number] = [0, 1].map((a) => Math.min(s.kernel[a], s.input[a])) as [number, number];
    return { text: '', patch: { kernel: k, dilation: [1, 1] }, label: `Use a ${k[0] === k[1] ? k[0] : k.join('x')} kernel` };
  }
  if (/would be/.test(message) && s.mode === 'transposed') return { text: '', patch: { padding: 0 }, label: 'Set padding to 0' };
  return null;
}

// ---- the settings, in words ----------------------------------------------------------

/** One sentence per setting that is not plain, saying what it does here, with the numbers of these settings, for the chosen operation. */
export function settingNotes(s: ConvState, r: ConvolutionResult): string[] {
  const out: string[] = [];
  const [h, w] = r.axes;
  const both = (f: (a: AxisSummary) => number) => (f(h) === f(w) ? `${f(h)}` : `${f(h)}x${f(w)}`);
  /** "2 times along each axis", or "2 times in height and 3 in width". */
  const perAxis = (f: (a: AxisSummary) => number, word: string) => (f(h) === f(w) ? `${f(h)} times ${word} along each axis` : `${f(h)} times ${word} in height and ${f(w)} in width`);
  const k = `${s.kernel[0]}x${s.kernel[1]}`;
  const taps = s.kernel[0] * s.kernel[1];
  const span = `${h.span}x${w.span}`;
  if (s.mode === 'conv') {
    out.push(`Each output cell is a dot product: the ${k} kernel times the input cells under it${s.channels > 1 ? `, over ${perGroup(s.channels, s.groups)} channel${perGroup(s.channels, s.groups) > 1 ? 's' : ''} at once` : ''}, summed${s.bias ? ', plus the filter\'s bias' : ''} (cross-correlation: the kernel is not flipped).`);
  } else if (s.mode === 'transposed') {
    out.push(`A transposed convolution runs the other way: each input cell adds a copy of the kernel, scaled by its value, into the output; where copies overlap they add up. It is a convolution's backward pass (its gradient with respect to the input) run forward, so it maps a small map back up to the size that convolution would have shrunk.`);
  } else {
    const what = s.pool === 'max' ? 'the largest value under the window' : s.pool === 'avg' ? 'the mean of the values under the window' : 'the square root of the sum of squares under the window';
    out.push(`Pooling has no weights: each output cell is ${what}, for each channel on its own.`);
  }
  const strided = s.stride[0] > 1 || s.stride[1] > 1;
  if (strided && s.mode === 'transposed') {
    out.push(`Stride ${both((a) => a.stride)}: each input cell moves the kernel's copy ${both((a) => a.stride)} cells further along in the output, so the output is about ${perAxis((a) => a.stride, 'larger')} than the input (here ${s.input[0]}x${s.input[1]} → ${r.output.h}x${r.output.w}).`);
  } else if (strided) {
    out.push(`Stride ${both((a) => a.stride)}: the window jumps ${both((a) => a.stride)} cells between outputs, so the output is about ${perAxis((a) => a.stride, 'smaller')} than the input (here ${s.input[0]}x${s.input[1]} → ${r.output.h}x${r.output.w}).`);
  }
  if (s.dilation[0] > 1 || s.dilation[1] > 1) {
    const d = both((a) => a.dilation);
    if (s.mode === 'conv') out.push(`Dilation ${d}: the kernel's taps are ${d} cells apart, so a ${k} kernel spans ${span} input cells with the same ${taps} weights.`);
    else if (s.mode === 'transposed') out.push(`Dilation ${d}: the ${taps} cells of each kernel copy land ${d} cells apart in the output, so one input cell writes over a ${span} block, with holes between its cells.`);
    else out.push(`Dilation ${d}: the window's ${taps} cells are ${d} apart, so the ${k} window spans ${span} input cells and takes the maximum of those ${taps} only.`);
  }
  const padded = r.pads.some((p) => p > 0);
  if (padded && s.mode === 'conv') {
    const mode = {
      zeros: 'zeros around the input',
      reflect: 'the input mirrored at its border, the edge itself not repeated (F.pad mode reflect)',
      replicate: 'the edge values repeated outwards',
      circular: 'the opposite side wrapped round, as if the input tiled the plane',
      partial: 'zeros, but each output is then rescaled by (window cells / cells inside the image), so border outputs are not darkened by the zeros (partial-convolution padding, Liu et al. 2018)',
    }[s.paddingMode];
    out.push(`Padding ${r.pads[0] === r.pads[1] && r.pads[2] === r.pads[3] ? (r.pads[0] === r.pads[2] ? r.pads[0] : `${r.pads[0]}x${r.pads[2]}`) : `top ${r.pads[0]}, bottom ${r.pads[1]}, left ${r.pads[2]}, right ${r.pads[3]}`}: ${mode}.`);
  } else if (padded && s.mode === 'pool') {
    out.push(s.pool === 'max'
      ? `Padding ${both((a) => a.padding[0])}: max pooling pads with −∞, so the padding never wins.`
      : `Padding ${both((a) => a.padding[0])}: average pooling pads with zeros${s.countIncludePad ? ' and counts them in the divisor' : ' but divides by the image cells only (count_include_pad off)'}.`);
  } else if (padded && s.mode === 'transposed') {
    out.push(`Padding ${both((a) => a.padding[0])} crops that many rows and columns from each side of the full output (hatched), so it makes the output smaller, not larger: the inverse of a convolution's padding.`);
  }
  if (s.mode === 'transposed' && (s.outputPadding[0] > 0 || s.outputPadding[1] > 0)) {
    const op = s.outputPadding[0] === s.outputPadding[1] ? `${s.outputPadding[0]}` : s.outputPadding.join('x');
    // the sizes a convolution with these settings maps onto the transposed convolution's input: out - op .. out - op + stride - 1
    const sizes = (a: AxisSummary, o: number, outSize: number) => {
      const base = outSize - o;
      return a.stride > 1 && o < a.stride ? `${base}–${base + a.stride - 1}` : null;
    };
    const hs = sizes(h, s.outputPadding[0], r.output.h);
    const ws = sizes(w, s.outputPadding[1], r.output.w);
    const which = hs && ws
      ? ` The convolution with these settings maps every input of ${hs === ws ? `${hs} rows and columns` : `${hs} rows and ${ws} columns`} to ${s.input[0] === s.input[1] ? s.input[0] : `${s.input[0]}x${s.input[1]}`}; the transposed convolution alone gives back the smallest, and output padding picks ${r.output.h === r.output.w ? r.output.h : `${r.output.h}x${r.output.w}`} instead.`
      : '';
    out.push(`Output padding ${op} adds ${op} row${s.outputPadding[0] === 1 && s.outputPadding[1] === 1 ? '' : 's'} and column${s.outputPadding[0] === 1 && s.outputPadding[1] === 1 ? '' : 's'} at the bottom and right of the output.${which}`);
  }
  if (s.mode === 'conv' && s.groups > 1) {
    out.push(`Groups ${s.groups}: the channels are split into ${s.groups} groups and each filter sees only its own group's ${perGroup(s.channels, s.groups)} channel${perGroup(s.channels, s.groups) > 1 ? 's' : ''}${s.groups === s.channels ? ' (depthwise when every channel is its own group)' : ''}.`);
  } else if (s.mode === 'transposed' && s.groups > 1) {
    out.push(`Groups ${s.groups}: the channels are split into ${s.groups} groups and each group's ${perGroup(s.channels, s.groups)} input channel${perGroup(s.channels, s.groups) > 1 ? 's' : ''} write${perGroup(s.channels, s.groups) > 1 ? '' : 's'} only into its own ${perGroup(s.filters, s.groups)} output channel${perGroup(s.filters, s.groups) > 1 ? 's' : ''}.`);
  }
  if (s.mode === 'pool' && s.ceilMode) {
    const rounded = h.roundedUp || w.roundedUp;
    const cut = s.pool === 'max'
      ? 'takes the maximum of the cells it covers'
      : s.pool === 'avg'
        ? `divides by the cells it covers${s.countIncludePad ? ' (padding included)' : ''}`
        : 'scales its sum of squares by window cells / cells it covers before the square root (as PyTorch does)';
    if (rounded) out.push(`Ceil mode rounds the output size up: here a last window hangs past the ${padded ? 'padding' : 'input'}, and it ${cut}.`);
    else if (h.exact && w.exact) out.push('Ceil mode rounds the output size up, but the division is exact here, so it changes nothing.');
    else out.push(`Ceil mode rounds the output size up, but here the extra window would start past the input and its left padding, so PyTorch drops it: the size is the floor's.`);
  }
  return out;
}
