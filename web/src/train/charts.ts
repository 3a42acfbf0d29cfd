/**
 * The live loss and accuracy charts of the train page, drawn with uPlot (a
 * canvas chart small and fast enough to redraw thousands of points every
 * animation frame). A chart takes the width of its box and follows it when
 * the box resizes; it is created once the box has a width.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { el } from '../ui.js';
import type { RunChange } from '../compute/train.js';
import { changeLabel } from './changes.js';
import type { Curves } from './curves.js';

/** The colours of the curves (AA contrast on white for the lines that carry the information). */
export const COLOURS = {
  batch: 'rgba(10, 88, 202, 0.28)',
  smooth: '#0a58ca',
  test: '#b45309',
  /** The vertical line and label of a change of the learning rate or the batch size. */
  change: '#6d28d9',
};

const HEIGHT = 220;

const fixed = (digits: number) => (_u: uPlot, v: number | null) => (v === null || v === undefined ? '–' : v.toFixed(digits));
const percent = (_u: uPlot, v: number | null) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)}%`);

interface ChartSpec {
  /** The accessible name of the chart's box and the y axis label. */
  label: string;
  yLabel: string;
  series: uPlot.Series[];
  /** The y range from the data's min and max. */
  range: uPlot.Range.Function;
  yValues?: uPlot.Axis.Values;
  /** Where the labels of the changes go: at the top (the loss falls away from it) or the bottom (the accuracy rises to the top). */
  labels: 'top' | 'bottom';
  data(curves: Curves): uPlot.AlignedData;
}

/** A chart of `curves`, redrawn by `draw()`. */
export class LiveChart {
  readonly root: HTMLElement;
  private plot: uPlot | null = null;
  private readonly observer: ResizeObserver;

  /**
   * `changes` gives the run's changes of the learning rate and the batch
   * size: each is drawn as a dashed vertical line at its step, labelled.
   */
  constructor(private readonly spec: ChartSpec, private readonly curves: Curves, testid: string, private readonly changes: () => readonly RunChange[] = () => []) {
    this.root = el('div', { class: 'train-chart', role: 'img', 'aria-label': spec.label, 'data-testid': testid });
    this.observer = new ResizeObserver(() => this.fit());
    this.observer.observe(this.root);
  }

  /** Shows the curves as they are now. */
  draw(): void {
    if (!this.plot) this.fit();
    this.plot?.setData(this.spec.data(this.curves));
  }

  destroy(): void {
    this.observer.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }

  private fit(): void {
    const width = Math.floor(this.root.clientWidth);
    if (width <= 0) return;
    if (this.plot) {
      if (Math.abs(this.plot.width - width) >= 1) this.plot.setSize({ width, height: HEIGHT });
      return;
    }
    const s = this.spec;
    this.plot = new uPlot({
      width,
      height: HEIGHT,
      series: [{ label: 'step', value: (_u, v) => (v === null || v === undefined ? '–' : String(v)) }, ...s.series],
      scales: { x: { time: false }, y: { range: s.range } },
      axes: [
        { label: 'step', stroke: '#57606a', grid: { stroke: '#e5e7eb' }, ticks: { stroke: '#d0d7de' } },
        { label: s.yLabel, stroke: '#57606a', grid: { stroke: '#e5e7eb' }, ticks: { stroke: '#d0d7de' }, size: 52, ...(s.yValues ? { values: s.yValues } : {}) },
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      hooks: { draw: [(u) => drawChanges(u, this.changes(), s.labels)] },
    }, s.data(this.curves), this.root);
  }
}

/**
 * Draws each change as a dashed vertical line between the step it followed
 * and the next one, with its label at the top or the bottom of the plot (right of the line,
 * or left of it near the right edge, kept inside the plot, and one row lower
 * when it would overlap the previous label).
 */
function drawChanges(u: uPlot, changes: readonly RunChange[], where: 'top' | 'bottom'): void {
  if (changes.length === 0) return;
  const { ctx, bbox } = u;
  const dpr = devicePixelRatio || 1;
  const fontPx = Math.round(11 * dpr);
  ctx.save();
  ctx.beginPath();
  ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
  ctx.clip();
  ctx.font = `600 ${fontPx}px system-ui, sans-serif`;
  // Set here: uPlot leaves the alignment of its last axis label on the context.
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  let lastRight = -Infinity;
  let row = 0;
  for (const c of changes) {
    const x = Math.round(u.valToPos(c.step + 0.5, 'x', true)) + 0.5;
    if (!Number.isFinite(x) || x < bbox.left || x > bbox.left + bbox.width) continue;
    ctx.strokeStyle = COLOURS.change;
    ctx.lineWidth = Math.max(1, Math.round(1.5 * dpr));
    ctx.setLineDash([4 * dpr, 3 * dpr]);
    ctx.beginPath();
    ctx.moveTo(x, bbox.top);
    ctx.lineTo(x, bbox.top + bbox.height);
    ctx.stroke();
    const label = changeLabel(c);
    const w = ctx.measureText(label).width;
    const pad = 3 * dpr;
    // Right of the line when it fits, else left of it; always inside the plot.
    const right = bbox.left + bbox.width;
    const left = Math.max(bbox.left + pad, x + pad + w <= right ? x + pad : Math.min(x - pad - w, right - pad - w));
    row = left < lastRight + pad ? (row + 1) % 3 : 0;
    const y = where === 'top' ? bbox.top + pad + row * (fontPx + pad) : bbox.top + bbox.height - (row + 1) * (fontPx + pad);
    ctx.setLineDash([]);
    ctx.fillStyle = 'rgba(255, 255, 255, 0.85)';
    ctx.fillRect(left - 2 * dpr, y - dpr, w + 4 * dpr, fontPx + 2 * dpr);
    ctx.fillStyle = COLOURS.change;
    ctx.fillText(label, left, y);
    lastRight = Math.max(lastRight, left + w);
  }
  ctx.restore();
}

/** The loss: every step's batch loss (light), its mean over the last `window` batches, and the test loss. */
export function lossChart(curves: Curves, window: number, changes: () => readonly RunChange[]): LiveChart {
  return new LiveChart({
    label: `Training loss per step, its mean over the last ${window} batches, the test loss after each evaluation, and the steps where the learning rate or the batch size changed`,
    yLabel: 'cross-entropy',
    series: [
      { label: 'batch loss', stroke: COLOURS.batch, width: 1, value: fixed(4), points: { show: false } },
      { label: `mean of last ${window}`, stroke: COLOURS.smooth, width: 2, value: fixed(4), points: { show: false } },
      { label: 'test loss', stroke: COLOURS.test, width: 2, spanGaps: true, value: fixed(4), points: { show: true, size: 7, fill: COLOURS.test } },
    ],
    // Up to the highest smoothed or test loss: a single batch's spike would otherwise flatten the curve (it is clipped).
    range: (u) => {
      const top = Math.max(peak(u.data[2]), peak(u.data[3]));
      return [0, top > 0 ? top * 1.15 : 2.5];
    },
    labels: 'top',
    data: (c) => [c.steps, c.loss, c.smoothLoss, c.testLoss] as uPlot.AlignedData,
  }, curves, 'train-loss-chart', changes);
}

/** The accuracy: the training batches' over the last `window` batches, and the test set's (with the changes marked too). */
export function accuracyChart(curves: Curves, window: number, changes: () => readonly RunChange[]): LiveChart {
  return new LiveChart({
    label: `Training accuracy over the last ${window} batches, and the test accuracy after each evaluation`,
    yLabel: 'accuracy',
    series: [
      { label: `train, last ${window}`, stroke: COLOURS.smooth, width: 2, value: percent, points: { show: false } },
      { label: 'test', stroke: COLOURS.test, width: 2, spanGaps: true, value: percent, points: { show: true, size: 7, fill: COLOURS.test } },
    ],
    // From a little under the lowest value shown to 100%.
    range: (_u, min) => [Number.isFinite(min) ? Math.max(0, Math.floor(min * 20) / 20) : 0, 1],
    yValues: (_u, ticks) => ticks.map((v) => `${Math.round(v * 100)}%`),
    labels: 'bottom',
    data: (c) => [c.steps, c.smoothAccuracy, c.testAccuracy] as uPlot.AlignedData,
  }, curves, 'train-accuracy-chart', changes);
}

/** The largest finite value of a series (0 when it has none). */
function peak(values: ArrayLike<number | null | undefined> | undefined): number {
  let m = 0;
  for (let i = 0; i < (values?.length ?? 0); i++) {
    const v = values![i];
    if (typeof v === 'number' && Number.isFinite(v) && v > m) m = v;
  }
  return m;
}
