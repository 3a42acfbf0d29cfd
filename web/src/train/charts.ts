/**
 * The live loss and accuracy charts of the train page, drawn with uPlot (a
 * canvas chart small and fast enough to redraw thousands of points every
 * animation frame). A chart takes the width of its box and follows it when
 * the box resizes; it is created once the box has a width.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { el } from '../ui.js';
import type { Curves } from './curves.js';

/** The colours of the curves (AA contrast on white for the lines that carry the information). */
export const COLOURS = {
  batch: 'rgba(10, 88, 202, 0.28)',
  smooth: '#0a58ca',
  test: '#b45309',
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
  data(curves: Curves): uPlot.AlignedData;
}

/** A chart of `curves`, redrawn by `draw()`. */
export class LiveChart {
  readonly root: HTMLElement;
  private plot: uPlot | null = null;
  private readonly observer: ResizeObserver;

  constructor(private readonly spec: ChartSpec, private readonly curves: Curves, testid: string) {
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
    }, s.data(this.curves), this.root);
  }
}

/** The loss: every step's batch loss (light), its mean over the last `window` batches, and the test loss. */
export function lossChart(curves: Curves, window: number): LiveChart {
  return new LiveChart({
    label: `Training loss per step, its mean over the last ${window} batches, and the test loss after each evaluation`,
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
    data: (c) => [c.steps, c.loss, c.smoothLoss, c.testLoss] as uPlot.AlignedData,
  }, curves, 'train-loss-chart');
}

/** The accuracy: the training batches' over the last `window` batches, and the test set's. */
export function accuracyChart(curves: Curves, window: number): LiveChart {
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
    data: (c) => [c.steps, c.smoothAccuracy, c.testAccuracy] as uPlot.AlignedData,
  }, curves, 'train-accuracy-chart');
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
