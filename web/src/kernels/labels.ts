/**
 * Places text labels along a row under or over the colour bar so that each
 * sits as close as it can to the value it names, none leaves the row and
 * none overlaps another, at any width. Label widths depend on the numbers
 * (a custom kernel's extremes can be long) and the row's width on the
 * screen, so this is measured, not left to CSS: each label is clamped into
 * the row, then neighbours are pushed apart (a pass to the right, a pass
 * back from the right end). When the labels cannot share one line at all,
 * the row is marked `stacked` and the stylesheet puts them one per line.
 * The exact positions are shown by separate tick lines, which never move.
 */

/** One label: its element (a child of the row) and the value's place along the row. */
export interface BarLabel {
  el: HTMLElement;
  /** 0 = the row's left end, 1 = its right end. */
  at: number;
  /** Which end of the label sits at `at` when there is room: 'start' (its left end), 'centre' or 'end'. */
  align: 'start' | 'centre' | 'end';
}

/** Space kept between neighbouring labels, in CSS pixels. */
const GAP = 8;

/** Lays out `labels` (all children of `row`, absolutely positioned) along `row`. */
export function placeLabels(row: HTMLElement, labels: readonly BarLabel[]): void {
  row.classList.remove('stacked');
  const width = row.clientWidth;
  if (width === 0 || labels.length === 0) return;
  const items = labels
    .map((l) => {
      const w = l.el.offsetWidth;
      const anchor = Math.min(1, Math.max(0, l.at)) * width;
      const ideal = l.align === 'start' ? anchor : l.align === 'end' ? anchor - w : anchor - w / 2;
      return { l, w, left: Math.min(width - w, Math.max(0, ideal)) };
    })
    .sort((a, b) => a.left - b.left);
  for (let i = 1; i < items.length; i++) {
    const prev = items[i - 1];
    items[i].left = Math.max(items[i].left, prev.left + prev.w + GAP);
  }
  const last = items[items.length - 1];
  last.left = Math.min(last.left, width - last.w);
  for (let i = items.length - 2; i >= 0; i--) items[i].left = Math.min(items[i].left, items[i + 1].left - items[i].w - GAP);
  if (items[0].left < 0) {
    // Too long for one line together: one label per line, in the order of their values.
    row.classList.add('stacked');
    items.forEach((it, i) => {
      it.l.el.style.left = '';
      it.l.el.style.order = String(i);
    });
    return;
  }
  for (const it of items) {
    it.l.el.style.left = `${it.left}px`;
    it.l.el.style.order = '';
  }
}
