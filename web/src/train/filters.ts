/**
 * The first layer's filters as they learn: one small map per filter in the
 * signed colour map (negative weights blue, zero white, positive red), all
 * on one scale so that a filter that grows stronger than the others shows
 * it. A convolution's filter is its KxK kernel; a linear first layer (a
 * pattern starting with fc) shows each output's 784 weights as a 28x28 image:
 * the template it matches against the digit. The filters of RGB images are
 * drawn in colour (each channel's weight as that channel's level, zero grey).
 *
 * The filters the run started from (its step 0) can be shown under the
 * current ones, on the same scale: what training changed is then in view.
 */
import { el, fmt, maxAbs, signed } from '../ui.js';

/** What the worker sends: `shape` is [maps, channels, height, width], `weights` row-major. */
export interface FilterMaps {
  step: number;
  name: string;
  shape: [number, number, number, number];
  /** Maps in the layer (the worker sends at most a few dozen). */
  total: number;
  weights: Float32Array;
}

/** A filter's canvas with its context and pixel buffer, kept between updates. */
interface Cell {
  canvas: HTMLCanvasElement;
  ctx: CanvasRenderingContext2D | null;
  image: ImageData | null;
}

/**
 * One row of maps with its heading. The canvases, their contexts and pixel
 * buffers are kept while the shape stays: an update only writes pixels
 * (resizing a canvas to redraw it, even to the same size, reallocates it, and
 * that several times a second was most of the page's drawing time).
 */
class FilterRow {
  readonly root: HTMLElement;
  private readonly heading: HTMLElement;
  private readonly grid: HTMLElement;
  private cells: Cell[] = [];
  private key = '';

  constructor(testid: string, private readonly which: string) {
    this.heading = el('h3', {});
    this.grid = el('div', { class: 'train-filter-grid', 'data-testid': testid });
    this.root = el('div', { class: 'train-filter-row' }, this.heading, this.grid);
  }

  draw(f: FilterMaps, scale: number, heading: string): void {
    const [maps, channels, h, w] = f.shape;
    const key = f.shape.join('x');
    if (key !== this.key) this.build(maps, h, w);
    if (this.heading.textContent !== heading) this.heading.textContent = heading;
    const size = channels * h * w;
    for (let i = 0; i < maps; i++) {
      const cell = this.cells[i];
      cell.ctx ??= cell.canvas.getContext('2d');
      if (!cell.ctx) continue;
      cell.image ??= cell.ctx.createImageData(w, h);
      const px = cell.image.data;
      const offset = i * size;
      const plane = h * w;
      if (channels === 3) {
        // An RGB filter in colour: each channel's weight on one scale, -scale black, 0 mid grey, +scale full (the colour it responds to).
        for (let j = 0; j < plane; j++) {
          for (let c = 0; c < 3; c++) px[4 * j + c] = Math.round(255 * Math.min(1, Math.max(0, 0.5 + f.weights[offset + c * plane + j] / (2 * scale))));
          px[4 * j + 3] = 255;
        }
      } else {
        // One grey channel in the signed map (with 2 or 4, channel 0 is the one drawn).
        for (let j = 0; j < plane; j++) {
          const [r, g, b] = signed(f.weights[offset + j], scale);
          px[4 * j] = r;
          px[4 * j + 1] = g;
          px[4 * j + 2] = b;
          px[4 * j + 3] = 255;
        }
      }
      cell.ctx.putImageData(cell.image, 0, 0);
    }
  }

  clear(): void {
    this.grid.replaceChildren();
    this.heading.textContent = '';
    this.cells = [];
    this.key = '';
  }

  private build(maps: number, h: number, w: number): void {
    this.key = `${maps}x${h}x${w}`;
    // Kernels of 3 to 6 pixels get 16 screen pixels each (at least 48 in all); 28x28 templates 3 each.
    const px = Math.max(48, Math.min(96, w * 16));
    this.cells = [];
    const figures: HTMLElement[] = [];
    for (let i = 0; i < maps; i++) {
      const canvas = el('canvas', { class: 'map', width: w, height: h, role: 'img', 'aria-label': `filter ${i}, ${this.which}` });
      canvas.style.width = `${px}px`;
      canvas.style.height = `${Math.round((px * h) / w)}px`;
      this.cells.push({ canvas, ctx: null, image: null });
      figures.push(el('figure', { class: 'train-filter' }, canvas, el('figcaption', {}, String(i))));
    }
    this.grid.replaceChildren(...figures);
  }
}

export class FilterView {
  readonly root: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly scale: HTMLElement;
  private readonly lo: HTMLElement;
  private readonly hi: HTMLElement;
  private readonly now = new FilterRow('train-filters', 'now');
  private readonly start = new FilterRow('train-filters-start', 'at the start');
  private latest: FilterMaps | null = null;
  private initial: FilterMaps | null = null;
  private showInitial: boolean;

  constructor(showInitial: boolean) {
    this.showInitial = showInitial;
    this.caption = el('p', { class: 'muted train-filters-caption', 'data-testid': 'train-filters-caption' }, EMPTY);
    this.lo = el('span', {});
    this.hi = el('span', {});
    this.scale = el('div', { class: 'train-scale', role: 'img', hidden: true }, this.lo, el('span', { class: 'train-scale-bar' }), this.hi);
    this.root = el('div', {}, this.caption, this.scale, this.now.root, this.start.root);
  }

  /** Draws `f`; the run's first maps (step 0) are kept as its start. */
  update(f: FilterMaps): void {
    if (f.step === 0 || this.initial === null || this.initial.shape.join() !== f.shape.join()) this.initial = f;
    this.latest = f;
    this.render();
  }

  /** Shows or hides the step-0 filters under the current ones. */
  setShowInitial(show: boolean): void {
    this.showInitial = show;
    this.render();
  }

  /** Back to the empty state (a new run). */
  clear(): void {
    this.latest = null;
    this.initial = null;
    this.now.clear();
    this.start.clear();
    this.scale.hidden = true;
    this.caption.textContent = EMPTY;
  }

  private render(): void {
    const f = this.latest;
    if (!f) return;
    const first = this.showInitial && this.initial && this.initial !== f ? this.initial : null;
    const m = Math.max(maxAbs(f.weights), first ? maxAbs(first.weights) : 0);
    const [maps, channels, h, w] = f.shape;
    const shown = maps < f.total ? `the first ${maps} of its ${f.total}` : `its ${f.total}`;
    const template = h >= 16 && w >= 16 ? ' (one weight per pixel: the template each unit matches)' : '';
    const colour = channels === 3 ? ', in colour: each channel\'s weight as its level, grey for 0, on the scale below' : '';
    const caption = `${f.name}: ${shown} filters of ${channels === 3 ? '3x' : ''}${h}x${w}${template}${colour}.`;
    if (this.caption.textContent !== caption) this.caption.textContent = caption;
    this.now.draw(f, m, `Now, at step ${f.step.toLocaleString('en-US')}`);
    this.start.root.hidden = first === null;
    if (first) this.start.draw(first, m, `At the start (step ${first.step.toLocaleString('en-US')}), same scale`);
    const hi = `+${fmt(m)}`;
    const rgb = channels === 3;
    if (this.hi.textContent !== hi || this.scale.classList.contains('rgb') !== rgb) {
      this.hi.textContent = hi;
      this.lo.textContent = `−${fmt(m)}`;
      this.scale.classList.toggle('rgb', rgb);
      this.scale.setAttribute('aria-label', rgb
        ? `scale of each channel: none of it at −${fmt(m)}, half at 0, full at +${fmt(m)}`
        : `colour scale: blue is −${fmt(m)}, white 0, red +${fmt(m)}`);
    }
    this.scale.hidden = false;
  }
}

const EMPTY = 'The filters appear when training starts.';
