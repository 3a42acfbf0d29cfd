/**
 * The check behind the warning of Conv2d and the pooling layers when their
 * windows do not fit the input and leave its last rows or columns unseen ("doesn't
 * fit": a 3x3 kernel with stride 3 on a 7x7 input never reads row and column
 * 6). Gaps between windows by design (a 1x1 convolution with stride 2) do not
 * warn. It runs once
 * per new input size (the last size checked is kept, so a training loop pays
 * two comparisons per forward) and warns at most once per layer, through
 * warn() (src/warnings.ts: setWarningHandler silences or redirects it).
 */
import { explainWindow, leavesInputUnseen, type ExplainWindowOptions } from '../ops/explain-window.js';
import { uncoveredWindowMessage } from '../ops/explain-window-text.js';
import { warn } from '../warnings.js';

/** A layer's window, as explainWindow takes it without the input size. */
export type LayerWindow = Omit<ExplainWindowOptions, 'input'>;

/** A layer whose forward checks the fit: its window settings and its repr. */
export interface WindowedLayer {
  windowOptions(): LayerWindow;
  extraRepr(): string;
}

/** Per layer: the last input size checked, and whether it has warned. */
const checked = new WeakMap<WindowedLayer, { h: number; w: number; warned: boolean }>();

/**
 * Checks an input of shape [..., H, W] that `layer`'s forward accepted. The
 * state (the last size checked, whether it warned) is kept beside the layer,
 * not in it, so layers carry no private fields for it and a training loop
 * pays one WeakMap lookup and two comparisons per forward.
 */
export function checkWindowFit(layer: WindowedLayer, shape: readonly number[]): void {
  const h = shape[shape.length - 2];
  const w = shape[shape.length - 1];
  let state = checked.get(layer);
  if (state === undefined) {
    state = { h: -1, w: -1, warned: false };
    checked.set(layer, state);
  }
  if (state.warned || (h === state.h && w === state.w)) return;
  state.h = h;
  state.w = w;
  const e = explainWindow({ ...layer.windowOptions(), input: [h, w] });
  if (!leavesInputUnseen(e)) return;
  state.warned = true;
  warn('STRIDE_WINDOW_UNCOVERED', uncoveredWindowMessage(`${layer.constructor.name}(${layer.extraRepr()})`, e));
}
