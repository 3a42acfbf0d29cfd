/**
 * The human text of an explainWindow result (what `stride explain` prints)
 * and the warning a layer gives when its windows leave input unseen: the
 * formula with the numbers in it, whether the windows fit, the fix, the
 * parameters, and an ASCII picture of the windows along each axis.
 */
import type { PaddingSuggestion, WindowAxis, WindowExplanation } from './explain-window.js';

/** Axes wider than this many cells (padding included), or with more windows, are not drawn. */
export const PICTURE_MAX_CELLS = 64;

const plural = (n: number, one: string, many = `${one}s`) => (n === 1 ? one : many);

/** Set while the text describes height and width at once (equal settings): cells are rows and columns. */
let bothAxes = false;

/** 'row' / 'column' / 'cell' as the axis counts its cells. */
function cellWord(a: WindowAxis, n = 1): string {
  if (bothAxes) return plural(n, 'row and column', 'rows and columns');
  const one = a.name === 'height' ? 'row' : a.name === 'width' ? 'column' : 'cell';
  return plural(n, one);
}

/** 'input row' / 'input column' / 'input' (one axis). */
function inputWord(a: WindowAxis, n = 1): string {
  return a.name === 'length' ? plural(n, 'input') : `input ${cellWord(a, n)}`;
}

/** 'is' or 'are' after inputWord(a, n): "row and column 6 are", "input 6 is". */
function isAre(a: WindowAxis, n: number): string {
  return n === 1 && !(bothAxes && a.name !== 'length') ? 'is' : 'are';
}

/** The change of stride that closes gaps between windows (no padding does). */
function gapFix(a: WindowAxis): string {
  return a.dilation > 1 ? 'a stride that fills the dilation holes (stride 1 always does)' : `a stride of at most ${a.span}`;
}

/** A list of indices, runs shortened: 0, 2, 5-9. */
export function formatIndices(indices: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < indices.length; ) {
    let j = i;
    while (j + 1 < indices.length && indices[j + 1] === indices[j] + 1) j++;
    parts.push(j === i ? `${indices[i]}` : j === i + 1 ? `${indices[i]}, ${indices[j]}` : `${indices[i]}-${indices[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** The same settings and sizes on both axes: the text says it once. */
function sameAxes(e: WindowExplanation): boolean {
  if (e.axes.length !== 2) return false;
  const [h, w] = e.axes;
  return h.input === w.input && h.kernel === w.kernel && h.stride === w.stride && h.dilation === w.dilation && h.padding[0] === w.padding[0] && h.padding[1] === w.padding[1];
}

/** One value per axis: '7' for one axis or equal values, '7x5' otherwise. */
function perAxis(e: WindowExplanation, f: (a: WindowAxis) => string | number): string {
  const v = e.axes.map(f).map(String);
  return v.length === 2 && v[0] === v[1] ? v[0] : v.join('x');
}

function paddingText(p: readonly [number, number]): string {
  return p[0] === p[1] ? `${p[0]}` : `${p[0]} before, ${p[1]} after`;
}

const KIND_NAMES = { conv: 'convolution', pool: 'pooling', 'conv-transpose': 'transposed convolution' } as const;

/** Whether the windows fit along an axis, in a sentence. */
function fitSentence(e: WindowExplanation, a: WindowAxis): string {
  if (e.kind === 'conv-transpose') {
    const parts: string[] = [];
    if (a.uncovered.length) parts.push(`inputs ${formatIndices(a.uncovered)} reach no output (padding ${a.padding[0]} crops their windows away)`);
    if (a.uncoveredOutput.length) parts.push(`outputs ${formatIndices(a.uncoveredOutput)} receive no input and hold the bias only (stride ${a.stride} leaves gaps between the ${a.span}-cell windows)`);
    return parts.length ? parts.join('; ') : 'every input reaches the output and every output receives an input';
  }
  const gaps = a.uncovered.filter((i) => !a.uncoveredAtEnd.includes(i));
  const gapText = gaps.length
    ? `${inputWord(a, gaps.length)} ${formatIndices(gaps)} fall between the windows and ${isAre(a, gaps.length)} never seen (${a.dilation > 1 ? `dilation ${a.dilation} leaves holes that stride ${a.stride} does not fill` : `stride ${a.stride} is larger than the ${a.span}-cell window`}); no padding closes these gaps, ${gapFix(a)} does`
    : '';
  const padded = a.input + a.padding[0] + a.padding[1];
  if (a.exact) {
    const base = `fits exactly: ${padded} - ${a.span} = ${padded - a.span} is a multiple of stride ${a.stride}`;
    return gaps.length ? `${base}, but ${gapText}` : `${base}, and every ${inputWord(a)} is seen`;
  }
  const why = `${padded} - ${a.span} = ${padded - a.span} leaves remainder ${a.remainder} by stride ${a.stride}`;
  const parts: string[] = [];
  if (a.roundedUp) {
    const over = a.reachedPadding[1] - a.padding[1];
    const overhang = over > 0 ? ` that hangs ${over} ${plural(over, 'cell')} past the ${a.padding[1] ? 'padding' : 'input'} (pooling leaves those cells out)` : '';
    parts.push(`doesn't fit exactly (${why}); ceilMode adds a last window over the remainder${overhang}${a.uncoveredAtEnd.length ? '' : `, so every ${inputWord(a)} is seen`}`);
  } else {
    const dropped = e.ceilMode ? "; ceilMode's extra window would start past the input and the left padding, so it is dropped (PyTorch's rule)" : '';
    if (a.uncoveredAtEnd.length) {
      parts.push(`doesn't fit (${why}${dropped}): ${inputWord(a, a.uncoveredAtEnd.length)} ${formatIndices(a.uncoveredAtEnd)} ${isAre(a, a.uncoveredAtEnd.length)} never seen`);
    } else if (a.reachedPadding[1] < 0) {
      parts.push(`doesn't fit exactly (${why}${dropped}); the remainder falls where the stride skips input anyway`);
    } else {
      parts.push(`doesn't fit exactly (${why}${dropped}), but the remainder is padding: ${a.remainder} ${plural(a.remainder, 'cell')} of the padding after the input ${a.remainder === 1 ? 'is' : 'are'} never reached and every ${inputWord(a)} is seen`);
    }
  }
  if (gaps.length) parts.push(gapText);
  return parts.join('; ');
}

/** The padding that fits, in a sentence ('' when the windows fit already). */
function fixSentence(e: WindowExplanation, a: WindowAxis, s: PaddingSuggestion, size: (n: number) => string): string {
  if (a.exact) return '';
  const out: string[] = [];
  const more = `${s.extra} more ${plural(s.extra, 'cell')} of padding (padding ${paddingText(s.padding)}) ${s.extra === 1 ? 'makes' : 'make'} it fit exactly: output ${size(s.outputSize)}`;
  out.push(s.allowed ? more : `${more}, which PyTorch's pooling does not take (the same padding on both sides, at most half the window)`);
  if (s.symmetric) out.push(`symmetric: ${s.padding[0]} on each side`);
  else if (s.symmetricPadding !== null) {
    out.push(`the same on both sides: padding ${s.symmetricPadding} (output ${size(s.symmetricOutputSize ?? 0)})`);
  } else out.push(`no padding that is the same on both sides fits (stride ${a.stride} is even and the remainder odd)`);
  if (s.trimmed) out.push(`or drop the padding no window reaches: padding ${paddingText(s.trimmed)} fits with the same output ${size(a.outputSize)}`);
  out.push(`or crop ${s.crop} ${cellWord(a, s.crop)} from the end of the input`);
  return out.join('; ');
}

/**
 * The windows along one axis, drawn: a header with the cell indices ('p' for
 * padding, '+' for cells past the padding that ceilMode's last window
 * overhangs), one line per window ('#' the cells its taps read, '.' the holes
 * of a dilated window), and a line marking the input cells no window sees.
 * Null when the axis is wider than maxCells cells or has more windows.
 */
export function windowPicture(a: WindowAxis, kind: WindowExplanation['kind'] = 'conv', maxCells = PICTURE_MAX_CELLS): string[] | null {
  // A transposed convolution's windows lie over the output; the others' over the input.
  const size = kind === 'conv-transpose' ? a.outputSize : a.input;
  const lo = Math.min(kind === 'conv-transpose' ? 0 : -a.padding[0], ...a.windows.map((w) => w.start));
  const hi = Math.max(kind === 'conv-transpose' ? size - 1 : size - 1 + a.padding[1], ...a.windows.map((w) => w.end));
  if (hi - lo + 1 > maxCells || a.windows.length > maxCells) return null;
  const width = Math.max(2, String(size - 1).length);
  const cells = Array.from({ length: hi - lo + 1 }, (_, c) => c + lo);
  const label = kind === 'conv-transpose' ? 'input' : 'window';
  const labelWidth = `${label} ${a.windows.length - 1}`.length;
  const line = (head: string, cell: (i: number) => string) => `${head.padEnd(labelWidth)} ${cells.map((i) => cell(i).padStart(width)).join(' ')}`.trimEnd();
  const inPadding = (i: number) => (kind === 'conv-transpose' ? i < 0 || i >= size : (i < 0 && i >= -a.padding[0]) || (i >= size && i < size + a.padding[1]));
  const lines = [line(kind === 'conv-transpose' ? 'output' : 'index', (i) => (i >= 0 && i < size ? String(i) : inPadding(i) ? 'p' : '+'))];
  a.windows.forEach((w, j) => {
    lines.push(line(`${label} ${j}`, (i) => {
      if (i < w.start || i > w.end) return '';
      return (i - w.start) % a.dilation === 0 ? '#'.repeat(width) : '.'.repeat(width);
    }));
  });
  const unseen = new Set(kind === 'conv-transpose' ? a.uncoveredOutput : a.uncovered);
  if (unseen.size) lines.push(line(kind === 'conv-transpose' ? 'no input' : 'unseen', (i) => (unseen.has(i) ? '^'.repeat(width) : '')));
  return lines;
}

/** The explanation as text: settings, formula, output, fit, fix, parameters and pictures. */
export function formatWindowExplanation(e: WindowExplanation): string {
  const lines: string[] = [];
  const one = e.axes.length === 1 || sameAxes(e);
  const axisList = one ? [e.axes[0]] : e.axes;
  const axisName = (a: WindowAxis) => (one ? (e.axes.length === 1 ? '' : 'height and width') : a.name === 'height' ? 'height (rows)' : 'width (columns)');
  const input = perAxis(e, (a) => a.input);
  const settings = [`kernel ${perAxis(e, (a) => a.kernel)}`, `stride ${perAxis(e, (a) => a.stride)}`, `padding ${perAxis(e, (a) => paddingText(a.padding))}`, `dilation ${perAxis(e, (a) => a.dilation)}`];
  if (e.kind === 'pool') settings.push(`ceilMode ${e.ceilMode}`);
  const inputText = e.axes.length === 2 ? e.axes.map((a) => a.input).join('x') : input;
  lines.push(`${KIND_NAMES[e.kind]} on an input of ${inputText}${e.axes.length === 1 ? ' (one axis)' : ''}: ${settings.join(', ')}`);
  lines.push(e.kind === 'conv-transpose'
    ? 'output size = (N - 1)*S - 2P + D*(K - 1) + outputPadding + 1'
    : `output size = (N + 2P - D*(K - 1) - 1)/S + 1, ${e.ceilMode ? 'rounded up (ceilMode)' : 'rounded down'}`);
  for (const a of axisList) lines.push(`  ${axisName(a) ? `${axisName(a)}: ` : ''}${a.formula}`);
  const outSize = e.axes.map((a) => a.outputSize).join('x');
  lines.push(`output: ${outSize}${e.outputShape ? ` (with channels: ${e.outputShape.join('x')}, channels first)` : ''}`);
  bothAxes = one && e.axes.length === 2;
  try {
    for (const a of axisList) lines.push(`fit${axisName(a) ? ` (${axisName(a)})` : ''}: ${fitSentence(e, a)}`);
    for (const a of axisList) {
      // Both axes said at once: a size is the same along each.
      const size = (n: number) => (bothAxes ? `${n}x${n}` : `${n}`);
      const fix = a.suggestedPadding ? fixSentence(e, a, a.suggestedPadding, size) : '';
      if (fix) lines.push(`fix${axisName(a) ? ` (${axisName(a)})` : ''}: ${fix}`);
    }
  } finally {
    bothAxes = false;
  }
  if (e.kind === 'pool') lines.push('parameters: 0 (pooling computes a fixed function of its input)');
  else if (e.params !== null && e.outputShape) {
    const k = e.axes.map((a) => a.kernel).join('*');
    const channels = e.kind === 'conv-transpose' ? 'input channels' : 'channels';
    lines.push(`parameters: ${e.outputShape[0]} filters * (${e.params / e.outputShape[0] - 1} weights (${channels} * ${k}) + 1 bias) = ${e.params.toLocaleString('en-US')}`);
  }
  for (const note of e.notes) lines.push(`note: ${note}`);
  for (const a of axisList) {
    const picture = windowPicture(a, e.kind);
    const title = axisName(a) ? `windows along the ${axisName(a)}` : 'windows';
    if (picture) lines.push('', `${title}:`, ...picture.map((l) => `  ${l}`));
    else lines.push('', `${title}: not drawn (more than ${PICTURE_MAX_CELLS} cells or windows); ${a.windows.length} windows, the first over ${a.windows[0].start}-${a.windows[0].end}, the last over ${a.windows[a.windows.length - 1].start}-${a.windows[a.windows.length - 1].end}`);
  }
  return lines.join('\n');
}

/**
 * The warning of a layer whose windows do not fit its input: the layer (its
 * repr), the input size, the rows and columns after the last window and the
 * padding that fits.
 */
export function uncoveredWindowMessage(layer: string, e: WindowExplanation): string {
  const misfit = e.axes.filter((a) => a.uncoveredAtEnd.length && a.suggestedPadding);
  const parts = misfit.map((a) => `${inputWord(a, a.uncoveredAtEnd.length)} ${formatIndices(a.uncoveredAtEnd)}`);
  const fixes = misfit.map((a) => {
    const s = a.suggestedPadding!;
    const where = e.axes.length === 2 ? `${a.name} ` : '';
    const padding = s.symmetric ? `${s.padding[0]}` : s.symmetricPadding !== null ? `${s.symmetricPadding}` : `[${s.padding.join(', ')}] (before, after)`;
    const output = s.symmetric || s.symmetricOutputSize === null ? s.outputSize : s.symmetricOutputSize;
    return `${where}padding ${padding} would fit (output ${output}), or crop ${s.crop} ${cellWord(a, s.crop)}`;
  });
  const input = e.axes.map((a) => a.input).join('x');
  const output = e.axes.map((a) => a.outputSize).join('x');
  return `${layer} on a ${input} input (output ${output}): no window sees ${parts.join(' or ')}; ${fixes.join('; ')}. explainWindow() and \`stride explain\` draw the windows; this warning comes once per layer.`;
}
