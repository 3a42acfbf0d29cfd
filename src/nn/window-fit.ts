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

export class WindowFitCheck {
  private lastH = -1;
  private lastW = -1;
  private warned = false;

  /** `layer` gives the layer as its repr names it, `settings` its window (both read when a new size arrives). */
  constructor(private readonly layer: () => string, private readonly settings: () => Omit<ExplainWindowOptions, 'input'>) {}

  /** Checks an input of shape [..., H, W] that the layer's forward accepted. */
  check(shape: readonly number[]): void {
    if (this.warned) return;
    const h = shape[shape.length - 2];
    const w = shape[shape.length - 1];
    if (h === this.lastH && w === this.lastW) return;
    this.lastH = h;
    this.lastW = w;
    const e = explainWindow({ ...this.settings(), input: [h, w] });
    if (!leavesInputUnseen(e)) return;
    this.warned = true;
    warn('STRIDE_WINDOW_UNCOVERED', uncoveredWindowMessage(this.layer(), e));
  }
}
