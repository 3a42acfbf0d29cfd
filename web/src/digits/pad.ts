/**
 * The drawing pad of #/digits: a square canvas drawn on with a mouse, a finger
 * or a pen (pointer events, with the pointer captured so a stroke that leaves
 * the square still ends), a ring showing the brush where the pointer is, and
 * keys for the rest: Delete or Escape clears, Backspace (or Ctrl+Z) takes the
 * last stroke back.
 *
 * Strokes are kept as points in the pad's own units (a square `SIZE` wide,
 * whatever its size on screen), so the picture the model reads, and a link to
 * the drawing, do not depend on the screen.
 */
import { el } from '../ui.js';
import type { Box, Point, Stroke } from './preprocess.js';

/** The pad's side in its own units. */
export const PAD_SIZE = 280;
/** The brush on screen, in pad units. */
const BRUSH = 22;

export interface PadOptions {
  /** The strokes to start with. */
  strokes: Stroke[];
  /**
   * The drawing changed: `final` when a stroke ended (or strokes were cleared
   * or taken back), not while a stroke is under way.
   */
  onChange(strokes: readonly Stroke[], final: boolean): void;
}

export interface Pad {
  root: HTMLElement;
  canvas: HTMLCanvasElement;
  strokes(): readonly Stroke[];
  clear(): void;
  undo(): void;
  /** Marks the ink's box (pad units) on the pad, or removes the mark. */
  showBox(box: Box | null): void;
  /** Stops watching the pad's size (the page is left). */
  dispose(): void;
}

export function drawingPad(o: PadOptions): Pad {
  let strokes: Stroke[] = o.strokes.map((s) => s.slice());
  let current: Stroke | null = null;
  let activePointer: number | null = null;
  let box: Box | null = null;
  let brushAt: Point | null = null;

  const canvas = el('canvas', {
    class: 'digits-pad-canvas',
    'data-testid': 'draw-canvas',
    tabindex: 0,
    role: 'img',
    'aria-label': 'Drawing pad: draw one digit, 0 to 9, with a mouse, a finger or a pen. Delete or Escape clears it, Backspace takes the last stroke back.',
  });
  const overlay = el('canvas', { class: 'digits-pad-overlay', 'aria-hidden': 'true' });
  const root = el('div', { class: 'digits-pad' }, canvas, overlay);

  /** Backing pixels per pad unit: the canvas is sized to its CSS box times the device pixel ratio. */
  const fit = (c: HTMLCanvasElement): number => {
    const css = c.getBoundingClientRect().width || PAD_SIZE;
    const px = Math.max(1, Math.round(css * (window.devicePixelRatio || 1)));
    if (c.width !== px || c.height !== px) {
      c.width = px;
      c.height = px;
    }
    return px / PAD_SIZE;
  };

  const strokePath = (ctx: CanvasRenderingContext2D, s: Stroke) => {
    ctx.beginPath();
    ctx.moveTo(s[0].x, s[0].y);
    if (s.length === 1) ctx.lineTo(s[0].x + 0.01, s[0].y);
    for (let i = 1; i < s.length; i++) ctx.lineTo(s[i].x, s[i].y);
    ctx.stroke();
  };

  const render = () => {
    const k = fit(canvas);
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(k, 0, 0, k, 0, 0);
    ctx.strokeStyle = '#111';
    ctx.lineWidth = BRUSH;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    for (const s of strokes) if (s.length) strokePath(ctx, s);
    if (current?.length) strokePath(ctx, current);
    renderOverlay();
  };

  const renderOverlay = () => {
    const k = fit(overlay);
    const ctx = overlay.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    ctx.setTransform(k, 0, 0, k, 0, 0);
    if (box && !current) {
      ctx.setLineDash([6, 4]);
      ctx.strokeStyle = 'rgba(10, 88, 202, 0.8)';
      ctx.lineWidth = 1.5;
      ctx.strokeRect(box.x0, box.y0, box.x1 - box.x0 + 1, box.y1 - box.y0 + 1);
      ctx.setLineDash([]);
    }
    if (brushAt) {
      ctx.strokeStyle = 'rgba(245, 158, 11, 0.95)';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(brushAt.x, brushAt.y, BRUSH / 2, 0, 2 * Math.PI);
      ctx.stroke();
    }
  };

  const toPad = (e: PointerEvent): Point => {
    const r = canvas.getBoundingClientRect();
    const x = ((e.clientX - r.left) / (r.width || 1)) * PAD_SIZE;
    const y = ((e.clientY - r.top) / (r.height || 1)) * PAD_SIZE;
    return { x: Math.min(PAD_SIZE, Math.max(0, x)), y: Math.min(PAD_SIZE, Math.max(0, y)) };
  };

  canvas.addEventListener('pointerdown', (e) => {
    if (activePointer !== null || (e.pointerType === 'mouse' && e.button !== 0)) return;
    e.preventDefault();
    canvas.focus({ preventScroll: true });
    activePointer = e.pointerId;
    canvas.setPointerCapture(e.pointerId);
    current = [toPad(e)];
    brushAt = e.pointerType === 'touch' ? null : toPad(e);
    render();
    o.onChange([...strokes, current], false);
  });
  canvas.addEventListener('pointermove', (e) => {
    brushAt = e.pointerType === 'touch' ? null : toPad(e);
    if (e.pointerId !== activePointer || !current) {
      renderOverlay();
      return;
    }
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    for (const c of events.length ? events : [e]) current.push(toPad(c));
    render();
    o.onChange([...strokes, current], false);
  });
  const end = (e: PointerEvent) => {
    if (e.pointerId !== activePointer || !current) return;
    activePointer = null;
    strokes.push(current);
    current = null;
    if (e.pointerType === 'touch') brushAt = null;
    render();
    o.onChange(strokes, true);
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  canvas.addEventListener('pointerleave', () => {
    if (activePointer === null) {
      brushAt = null;
      renderOverlay();
    }
  });

  const clear = () => {
    strokes = [];
    current = null;
    activePointer = null;
    box = null;
    render();
    o.onChange(strokes, true);
  };
  const undo = () => {
    if (!strokes.length) return;
    strokes.pop();
    render();
    o.onChange(strokes, true);
  };
  canvas.addEventListener('keydown', (e) => {
    if (e.key === 'Delete' || e.key === 'Escape') {
      e.preventDefault();
      clear();
    } else if (e.key === 'Backspace' || ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z')) {
      e.preventDefault();
      undo();
    }
  });

  // The canvas is sized from its CSS box: draw once it is laid out, and again when its size changes.
  const resize = new ResizeObserver(() => render());
  resize.observe(canvas);

  return {
    root,
    canvas,
    strokes: () => strokes,
    clear,
    undo,
    showBox(b) {
      box = b;
      renderOverlay();
    },
    dispose: () => resize.disconnect(),
  };
}
