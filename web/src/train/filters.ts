/**
 * The first layer's filters as they learn: one small map per filter in the
 * signed colour map (negative weights blue, zero white, positive red), all
 * on one scale so that a filter that grows stronger than the others shows
 * it. A convolution's filter is its KxK kernel; a linear first layer (a
 * pattern starting with fc) shows each output's 784 weights as a 28x28 image:
 * the template it matches against the digit.
 */
import { drawMap, el, fmt, maxAbs } from '../ui.js';

/** What the worker sends: `shape` is [maps, channels, height, width], `weights` row-major. */
export interface FilterMaps {
  step: number;
  name: string;
  shape: [number, number, number, number];
  /** Maps in the layer (the worker sends at most a few dozen). */
  total: number;
  weights: Float32Array;
}

export class FilterView {
  readonly root: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly scale: HTMLElement;
  private canvases: HTMLCanvasElement[] = [];
  private key = '';

  constructor() {
    this.caption = el('p', { class: 'muted train-filters-caption', 'data-testid': 'train-filters-caption' }, 'The filters appear when training starts.');
    this.grid = el('div', { class: 'train-filter-grid', 'data-testid': 'train-filters' });
    this.scale = el('div', { class: 'train-scale', 'aria-hidden': 'true' });
    this.root = el('div', {}, this.caption, this.scale, this.grid);
  }

  /** Draws `f` (reusing the canvases while the layer's shape stays). */
  update(f: FilterMaps): void {
    const [maps, channels, h, w] = f.shape;
    const key = f.shape.join('x');
    if (key !== this.key) this.build(maps, channels, h, w);
    const m = maxAbs(f.weights);
    const size = channels * h * w;
    for (let i = 0; i < maps; i++) {
      // A first layer sees one grey channel here; for more, channel 0 is the one drawn.
      drawMap(this.canvases[i], f.weights, h, w, { map: 'signed', maxAbs: m }, i * size);
    }
    const shown = maps < f.total ? `the first ${maps} of ${f.total}` : `${f.total}`;
    this.caption.textContent = `${f.name}: ${shown} filters of ${h}x${w}, at step ${f.step.toLocaleString('en-US')}.`;
    this.scale.replaceChildren(
      el('span', {}, `−${fmt(m)}`),
      el('span', { class: 'train-scale-bar' }),
      el('span', {}, `+${fmt(m)}`),
    );
    this.scale.setAttribute('aria-hidden', 'false');
    this.scale.setAttribute('aria-label', `colour scale: blue is −${fmt(m)}, white 0, red +${fmt(m)}`);
  }

  /** Back to the empty state (a new run). */
  clear(): void {
    this.grid.replaceChildren();
    this.canvases = [];
    this.key = '';
    this.scale.replaceChildren();
    this.caption.textContent = 'The filters appear when training starts.';
  }

  private build(maps: number, channels: number, h: number, w: number): void {
    this.key = [maps, channels, h, w].join('x');
    // Kernels of 3 to 6 pixels get 16 screen pixels each (at least 48 in all); 28x28 templates 3 each.
    const px = Math.max(48, Math.min(96, w * 16));
    this.canvases = [];
    const cells: HTMLElement[] = [];
    for (let i = 0; i < maps; i++) {
      const canvas = el('canvas', { class: 'map', width: w, height: h, 'aria-label': `filter ${i + 1}`, role: 'img' });
      canvas.style.width = `${px}px`;
      canvas.style.height = `${Math.round((px * h) / w)}px`;
      this.canvases.push(canvas);
      cells.push(el('figure', { class: 'train-filter' }, canvas, el('figcaption', {}, String(i + 1))));
    }
    this.grid.replaceChildren(...cells);
  }
}
