/**
 * A grid of numbered cells (an input, a kernel or an output map) in plain DOM:
 * each cell shows its value over a colour, cells can be marked (under the
 * window, padding, unseen, the current output), and the grid is keyboard
 * operable: it takes focus as one stop, the arrow keys move the active cell,
 * Enter (or typing a number) edits an editable cell and picks any other. Cells
 * are addressed in the caller's coordinates: (r0, c0) is the top-left cell, so
 * padding rows of an input are negative rows.
 */
import { el, uniqueId } from '../ui.js';

export interface GridOptions {
  rows: number;
  cols: number;
  /** The caller's coordinates of the top-left cell (-padding for a padded input). */
  r0?: number;
  c0?: number;
  /** Read by a screen reader when the grid takes focus. */
  label: string;
  /** Cell size in CSS pixels; below 20 the numbers are hidden (the colours stay). */
  cellSize: number;
  testid?: string;
  /** Whether a cell can be edited (default: none). */
  editable?(r: number, c: number): boolean;
  onEdit?(r: number, c: number, value: number): void;
  /** A cell was chosen (click, or Enter on a cell that is not editable). */
  onPick?(r: number, c: number): void;
  /** Row and column labels beside the grid (the index, 'p' for padding...); none when absent or when the cells are small. */
  axisLabel?(axis: 'row' | 'col', index: number): string;
}

/** The cell size for a grid of `cols` columns within `width` pixels, between 6 and 44. */
export function cellSizeFor(cols: number, width: number): number {
  return Math.max(6, Math.min(44, Math.floor(width / Math.max(cols, 1))));
}

/** Black or white text, whichever reads better on an `rgb(r, g, b)` background. */
function textColour(rgb: readonly number[]): string {
  const [r, g, b] = rgb.map((v) => v / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 ? '#1b1f24' : '#ffffff';
}

export class Grid {
  readonly root: HTMLElement;
  private readonly box: HTMLElement;
  private readonly cells: HTMLElement[] = [];
  private readonly marks = new Map<string, HTMLElement[]>();
  private readonly o: GridOptions;
  private readonly r0: number;
  private readonly c0: number;
  private active = 0;
  private editor: HTMLInputElement | null = null;

  constructor(o: GridOptions) {
    this.o = o;
    this.r0 = o.r0 ?? 0;
    this.c0 = o.c0 ?? 0;
    const id = uniqueId('grid');
    this.box = el('div', {
      class: `cgrid${o.cellSize < 20 ? ' small' : ''}${o.cellSize < 28 ? ' no-notes' : ''}`, role: 'grid', tabindex: 0, 'aria-label': o.label, 'data-testid': o.testid,
      'aria-readonly': o.editable ? 'false' : 'true',
      style: `--cell: ${o.cellSize}px; grid-template-columns: repeat(${o.cols}, var(--cell));`,
    });
    // index labels: a row of column labels above, a label before each row (hidden from screen readers: each cell says its row and column)
    const labels = o.axisLabel && o.cellSize >= 20 ? o.axisLabel : null;
    if (labels) {
      this.box.style.gridTemplateColumns = `auto repeat(${o.cols}, var(--cell))`;
      this.box.classList.add('labelled');
      const head = el('div', { class: 'crow', 'aria-hidden': 'true' }, el('span', { class: 'axis-label' }));
      for (let j = 0; j < o.cols; j++) head.append(el('span', { class: 'axis-label col' }, labels('col', j + this.c0)));
      this.box.append(head);
    }
    for (let i = 0; i < o.rows; i++) {
      const row = el('div', { role: 'row', class: 'crow' });
      if (labels) row.append(el('span', { class: 'axis-label row', 'aria-hidden': 'true' }, labels('row', i + this.r0)));
      for (let j = 0; j < o.cols; j++) {
        const cell = el('div', { role: 'gridcell', class: 'cell', id: `${id}-${i}-${j}`, 'data-r': i + this.r0, 'data-c': j + this.c0 });
        cell.addEventListener('click', () => this.choose(i * o.cols + j));
        row.append(cell);
        this.cells.push(cell);
      }
      this.box.append(row);
    }
    this.box.addEventListener('keydown', (e) => this.key(e));
    this.box.addEventListener('focus', () => this.showActive());
    this.box.addEventListener('blur', () => this.cells[this.active]?.classList.remove('active'));
    this.root = el('div', { class: 'cgrid-wrap' }, this.box);
  }

  private index(r: number, c: number): number {
    const i = r - this.r0;
    const j = c - this.c0;
    return i < 0 || j < 0 || i >= this.o.rows || j >= this.o.cols ? -1 : i * this.o.cols + j;
  }

  private coords(k: number): [number, number] {
    return [Math.floor(k / this.o.cols) + this.r0, (k % this.o.cols) + this.c0];
  }

  /** Sets a cell's text, colour, kind classes ('pad', 'outside', ...) and exact value (data-value, for a reader of the page). */
  set(r: number, c: number, text: string, rgb: readonly number[] | null, kinds: readonly string[] = [], value: number | null = null): void {
    const k = this.index(r, c);
    if (k < 0) return;
    const cell = this.cells[k];
    cell.textContent = text;
    if (value === null) cell.removeAttribute('data-value');
    else cell.setAttribute('data-value', String(value));
    cell.className = ['cell', ...kinds].join(' ');
    if (rgb) {
      cell.style.background = `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
      cell.style.color = textColour(rgb);
    } else {
      cell.style.background = '';
      cell.style.color = '';
    }
    const [rr, cc] = this.coords(k);
    cell.setAttribute('aria-label', `row ${rr}, column ${cc}: ${text || 'empty'}${kinds.length ? ` (${kinds.join(', ')})` : ''}`);
  }

  /** Marks exactly these cells with class `name`, clearing the previous ones. */
  mark(name: string, cells: readonly (readonly [number, number])[]): void {
    for (const cell of this.marks.get(name) ?? []) cell.classList.remove(name);
    const now: HTMLElement[] = [];
    for (const [r, c] of cells) {
      const k = this.index(r, c);
      if (k < 0) continue;
      this.cells[k].classList.add(name);
      now.push(this.cells[k]);
    }
    this.marks.set(name, now);
  }

  /** Small corner notes on cells (the weight a tap multiplies by, what a scatter adds), replacing the previous ones. */
  annotate(notes: readonly (readonly [number, number, string])[]): void {
    for (const cell of this.marks.get('\u0000note') ?? []) cell.removeAttribute('data-note');
    const now: HTMLElement[] = [];
    for (const [r, c, text] of notes) {
      const k = this.index(r, c);
      if (k < 0) continue;
      this.cells[k].setAttribute('data-note', text);
      now.push(this.cells[k]);
    }
    this.marks.set('\u0000note', now);
  }

  /** The first marked cell of `name` scrolled into view inside its scroll box (not the page). */
  reveal(name: string): void {
    const first = this.marks.get(name)?.[0];
    const scroller = this.box.closest('.scroll-x') as HTMLElement | null;
    if (!first || !scroller) return;
    const left = first.offsetLeft - scroller.offsetLeft;
    if (left < scroller.scrollLeft || left + first.offsetWidth > scroller.scrollLeft + scroller.clientWidth) {
      scroller.scrollLeft = Math.max(0, left - scroller.clientWidth / 3);
    }
  }

  private showActive(): void {
    this.cells.forEach((c) => c.classList.remove('active'));
    const cell = this.cells[this.active];
    if (!cell) return;
    cell.classList.add('active');
    this.box.setAttribute('aria-activedescendant', cell.id);
  }

  private choose(k: number): void {
    this.active = k;
    this.showActive();
    const [r, c] = this.coords(k);
    if (this.o.editable?.(r, c)) this.edit(k, null);
    else this.o.onPick?.(r, c);
  }

  private key(e: KeyboardEvent): void {
    if (e.target !== this.box) return;
    const { rows, cols } = this.o;
    const i = Math.floor(this.active / cols);
    const j = this.active % cols;
    const moves: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const m = moves[e.key];
    if (m) {
      e.preventDefault();
      e.stopPropagation();
      const ni = Math.min(rows - 1, Math.max(0, i + m[0]));
      const nj = Math.min(cols - 1, Math.max(0, j + m[1]));
      this.active = ni * cols + nj;
      this.showActive();
      return;
    }
    const [r, c] = this.coords(this.active);
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      e.stopPropagation();
      this.choose(this.active);
    } else if (/^[0-9.\-]$/.test(e.key) && this.o.editable?.(r, c)) {
      e.preventDefault();
      e.stopPropagation();
      this.edit(this.active, e.key);
    }
  }

  /** An input over cell k; Enter or leaving it commits a number, Escape cancels. */
  private edit(k: number, first: string | null): void {
    this.editor?.remove();
    const cell = this.cells[k];
    const [r, c] = this.coords(k);
    const input = el('input', {
      type: 'text', inputmode: 'decimal', class: 'cell-editor', 'aria-label': `value at row ${r}, column ${c}`, 'data-testid': 'cell-editor',
      value: first ?? cell.textContent ?? '',
      style: `left: ${cell.offsetLeft}px; top: ${cell.offsetTop}px; width: ${Math.max(cell.offsetWidth, 44)}px; height: ${Math.max(cell.offsetHeight, 24)}px;`,
    });
    this.editor = input;
    let done = false;
    const finish = (commit: boolean) => {
      if (done) return;
      done = true;
      const v = Number(input.value.replace('−', '-'));
      input.remove();
      if (this.editor === input) this.editor = null;
      this.box.focus();
      if (commit && input.value.trim() !== '' && Number.isFinite(v)) this.o.onEdit?.(r, c, v);
    };
    input.addEventListener('keydown', (e) => {
      e.stopPropagation();
      if (e.key === 'Enter') finish(true);
      else if (e.key === 'Escape') finish(false);
    });
    input.addEventListener('blur', () => finish(true));
    this.root.append(input);
    input.focus();
    if (first === null) input.select();
  }
}
