/**
 * Maps of values a person can probe unit by unit: a canvas with one pixel per
 * unit (CSS scales it up crisply), and a marker over the unit under the
 * pointer or under the keyboard cursor. Hovering reports the unit; so does
 * focusing the map (Tab) and moving with the arrow keys (Home/End jump to the
 * row's ends), so every unit is reachable without a pointer.
 */
import { drawMap, el, type DrawMapOptions } from '../ui.js';

/** A unit of a map, row i and column j; null when the pointer or focus left it. */
export type UnitHandler = (unit: { i: number; j: number } | null) => void;

export interface ProbeMap {
  root: HTMLElement;
  canvas: HTMLCanvasElement;
  /** Draws `height` x `width` values from `offset`. */
  draw(data: ArrayLike<number>, o: DrawMapOptions, offset?: number): void;
}

export interface ProbeMapOptions {
  height: number;
  width: number;
  /** CSS size of the picture (the canvas keeps one pixel per unit). */
  cssWidth: string;
  cssHeight: string;
  /** What the map is, for a screen reader ("conv1 channel 3, 28 by 28"). */
  label: string;
  /** Extra class on the wrapper. */
  className?: string;
  onUnit: UnitHandler;
}

/** A map whose units report themselves on hover and keyboard focus. */
export function probeMap(o: ProbeMapOptions): ProbeMap {
  const canvas = el('canvas', {
    class: 'map',
    width: o.width,
    height: o.height,
    tabindex: 0,
    role: 'img',
    'aria-label': `${o.label}; focus and use the arrow keys to read its units`,
  });
  canvas.style.width = o.cssWidth;
  canvas.style.height = o.cssHeight;
  const marker = el('span', { class: 'digits-marker', 'aria-hidden': 'true' });
  marker.hidden = true;
  const root = el('span', { class: `digits-map ${o.className ?? ''}`.trim() }, canvas, marker);
  let cursor = { i: 0, j: 0 };

  const show = (i: number, j: number) => {
    cursor = { i, j };
    marker.hidden = false;
    marker.style.left = `${(j / o.width) * 100}%`;
    marker.style.top = `${(i / o.height) * 100}%`;
    marker.style.width = `${100 / o.width}%`;
    marker.style.height = `${100 / o.height}%`;
    o.onUnit({ i, j });
  };
  const hide = () => {
    marker.hidden = true;
    o.onUnit(null);
  };
  canvas.addEventListener('pointermove', (e) => {
    const r = canvas.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return;
    const j = Math.min(o.width - 1, Math.max(0, Math.floor(((e.clientX - r.left) / r.width) * o.width)));
    const i = Math.min(o.height - 1, Math.max(0, Math.floor(((e.clientY - r.top) / r.height) * o.height)));
    if (marker.hidden || i !== cursor.i || j !== cursor.j) show(i, j);
  });
  canvas.addEventListener('pointerleave', () => {
    if (document.activeElement === canvas) show(cursor.i, cursor.j);
    else hide();
  });
  canvas.addEventListener('focus', () => show(cursor.i, cursor.j));
  canvas.addEventListener('blur', hide);
  canvas.addEventListener('keydown', (e) => {
    const moves: Record<string, [number, number]> = {
      ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0],
      Home: [0, -o.width], End: [0, o.width],
    };
    const m = moves[e.key];
    if (!m) return;
    e.preventDefault();
    show(Math.min(o.height - 1, Math.max(0, cursor.i + m[0])), Math.min(o.width - 1, Math.max(0, cursor.j + m[1])));
  });
  return {
    root,
    canvas,
    draw: (data, opts, offset = 0) => drawMap(canvas, data, o.height, o.width, opts, offset),
  };
}
