/**
 * The compute worker's handler of the #/convolution page: one request runs the
 * window arithmetic (explainWindow: sizes, formula, fit, unseen rows and
 * columns, the padding that fits) and the op itself with the page's exact
 * options (F.conv2d, F.convTranspose2d, F.maxPool2d, F.avgPool2d or
 * F.lpPool2d), plus the padded input the page draws under the window (F.pad in
 * the convolution's padding mode). Every number the page shows as a result
 * comes from here; the page only draws and spells out the arithmetic.
 *
 * The page never imports 'stride', so the message types are defined here.
 */
import { F, explainWindow, formatWindowExplanation, tensor, type Tensor, type PaddingSuggestion, type WindowAxis } from 'stride';

/** What the page computes: a convolution, a transposed convolution, or a pooling. */
export type ConvMode = 'conv' | 'transposed' | 'pool';
/** The pooling: max, average, or L2 (LP pooling with p = 2). */
export type PoolKind = 'max' | 'avg' | 'l2';
export type PaddingModeName = 'zeros' | 'reflect' | 'replicate' | 'circular' | 'partial';
/** Padding as the controls give it: the same on every side, [height, width], or a keyword. */
export type PaddingSpec = number | [number, number] | 'same' | 'valid';

export interface ConvolutionRequest {
  mode: ConvMode;
  pool: PoolKind;
  /** [height, width] of the input. */
  input: [number, number];
  channels: number;
  kernel: [number, number];
  /** Output channels of a convolution or transposed convolution (ignored by pooling). */
  filters: number;
  stride: [number, number];
  padding: PaddingSpec;
  paddingMode: PaddingModeName;
  dilation: [number, number];
  groups: number;
  outputPadding: [number, number];
  ceilMode: boolean;
  countIncludePad: boolean;
  /** The input, [channels, height, width] row-major. */
  x: Float32Array;
  /** The weight in the op's layout (conv [filters, channels/groups, kH, kW], transposed [channels, filters/groups, kH, kW]); unused by pooling. */
  w: Float32Array;
  /** One bias per output channel, or null for none. */
  b: Float32Array | null;
}

/** A padding that would make the windows fit along one axis (explainWindow's). */
export type AxisSuggestion = PaddingSuggestion;

/** One axis of the window arithmetic: the fields of explainWindow's WindowAxis the page draws (not every window's span). */
export type AxisSummary = Pick<WindowAxis,
  'input' | 'kernel' | 'stride' | 'dilation' | 'padding' | 'span' | 'outputSize' | 'formula' | 'exact' | 'remainder' | 'roundedUp' |
  'uncovered' | 'uncoveredAtEnd' | 'uncoveredOutput' | 'reachedPadding'> & {
  name: 'height' | 'width';
  suggestion: AxisSuggestion | null;
};

/** A [channels, height, width] map. */
export interface Planes {
  data: Float32Array;
  c: number;
  h: number;
  w: number;
}

export interface ConvolutionResult {
  axes: [AxisSummary, AxisSummary];
  /** formatWindowExplanation's text: what `stride explain` prints for these settings. */
  text: string;
  /** explainWindow's notes (the padding rule, PyTorch's rules that applied). */
  notes: string[];
  /** The resolved padding [top, bottom, left, right]. */
  pads: [number, number, number, number];
  /** The input padded as the op pads it (F.pad in the convolution's mode; zeros for pooling and partial padding), or null without padding. */
  padded: Planes | null;
  output: Planes;
  /** Partial padding only: each output position's rescaling factor kH*kW / (taps inside the image), row-major. */
  ratio: number[] | null;
}

function axisSummary(a: WindowAxis): AxisSummary {
  // a plain-data object (structured-cloned to the page)
  const s = a.suggestedPadding && { ...a.suggestedPadding };
  return {
    name: a.name === 'width' ? 'width' : 'height',
    input: a.input, kernel: a.kernel, stride: a.stride, dilation: a.dilation, padding: [a.padding[0], a.padding[1]], span: a.span,
    outputSize: a.outputSize, formula: a.formula, exact: a.exact, remainder: a.remainder, roundedUp: a.roundedUp,
    uncovered: [...a.uncovered], uncoveredAtEnd: [...a.uncoveredAtEnd], uncoveredOutput: [...a.uncoveredOutput],
    reachedPadding: [a.reachedPadding[0], a.reachedPadding[1]],
    suggestion: s,
  };
}

function planes(t: Tensor): Planes {
  const [c, h, w] = t.shape;
  return { data: Float32Array.from(t.data), c, h, w };
}

/** The padding option of the op: the controls' spec as Stride takes it. */
function opPadding(p: PaddingSpec): number | [number, number] | 'same' | 'valid' {
  return Array.isArray(p) ? [p[0], p[1]] : p;
}

/**
 * Channels per group as the weight holds them. When groups does not divide the
 * channels the op refuses it with its own message; the weight the page sends
 * then has this many (at least one) so that the op, not the tensor, says why.
 */
function perGroup(channels: number, groups: number): number {
  return Math.max(1, Math.floor(channels / groups));
}

/** Runs the explanation and the op; throws Stride's error (with its fix) for an impossible setting. */
function convolution(req: ConvolutionRequest): ConvolutionResult {
  const { mode, pool, input, channels, kernel, filters, stride, dilation, groups, outputPadding, ceilMode, countIncludePad } = req;
  const [H, W] = input;
  const kind = mode === 'conv' ? 'conv' : mode === 'pool' ? 'pool' : 'conv-transpose';
  const padding = opPadding(req.padding);
  const e = explainWindow({
    kind, input: [H, W], kernel, stride, dilation,
    padding: typeof padding === 'object' ? [...padding] : padding,
    ...(mode === 'pool' ? { ceilMode } : {}),
    ...(mode === 'transposed' ? { outputPadding } : {}),
  });
  const x = tensor(req.x, [channels, H, W]);
  const pads: [number, number, number, number] = [e.axes[0].padding[0], e.axes[0].padding[1], e.axes[1].padding[0], e.axes[1].padding[1]];
  let y: Tensor;
  let padded: Planes | null = null;
  let ratio: number[] | null = null;
  const hasPadding = pads.some((p) => p > 0);
  if (mode === 'conv') {
    const w = tensor(req.w, [filters, perGroup(channels, groups), kernel[0], kernel[1]]);
    const b = req.b ? tensor(req.b, [filters]) : null;
    const options = { stride, padding, dilation, groups, paddingMode: req.paddingMode };
    y = F.conv2d(x, w, b, options);
    if (hasPadding) {
      const padMode = req.paddingMode === 'reflect' || req.paddingMode === 'replicate' || req.paddingMode === 'circular' ? req.paddingMode : 'constant';
      padded = planes(F.pad(x, [pads[2], pads[3], pads[0], pads[1]], padMode));
    }
    if (req.paddingMode === 'partial') ratio = F.partialConvRatio(F.conv2dGeometry([1, channels, H, W], w.shape, options));
  } else if (mode === 'transposed') {
    if (padding === 'same') {
      throw new Error("convTranspose2d: padding must be a number (rows and columns cropped from each side of the output), got 'same'; give a number");
    }
    if (filters % groups !== 0) {
      throw new Error(`convTranspose2d: groups ${groups} does not divide the ${filters} output channels (filters); use a group count that divides both channel counts`);
    }
    const w = tensor(req.w, [channels, perGroup(filters, groups), kernel[0], kernel[1]]);
    const b = req.b ? tensor(req.b, [filters]) : null;
    y = F.convTranspose2d(x, w, b, { stride, padding: padding === 'valid' ? 0 : padding, dilation, groups, outputPadding });
  } else {
    const p = padding === 'valid' ? 0 : padding;
    if (p === 'same') throw new Error("pooling: padding 'same' is for convolutions; give pooling a number");
    const dilated = dilation[0] !== 1 || dilation[1] !== 1;
    const padOpt = typeof p === 'number' ? p : [p[0], p[1]] as [number, number];
    if (pool === 'max') {
      y = F.maxPool2d(x, kernel, { stride, padding: padOpt, dilation, ceilMode });
    } else if (pool === 'avg') {
      y = F.avgPool2d(x, kernel, { stride, padding: padOpt, ceilMode, countIncludePad, ...(dilated ? { dilation } : {}) });
    } else {
      y = F.lpPool2d(x, 2, kernel, { stride, ceilMode, ...(hasPadding ? { padding: padOpt } : {}), ...(dilated ? { dilation } : {}) });
    }
    if (hasPadding) padded = planes(F.pad(x, [pads[2], pads[3], pads[0], pads[1]], 'constant'));
  }
  return {
    axes: [axisSummary(e.axes[0]), axisSummary(e.axes[1])],
    text: formatWindowExplanation(e),
    notes: [...e.notes],
    pads,
    padded,
    output: planes(y),
    ratio,
  };
}

export const convolutionHandlers = { convolution };
