/**
 * The controls and pictures every page is built from: labelled inputs (each
 * control has a visible label tied to it, so it works by keyboard and with a
 * screen reader), and value maps drawn on canvases with a grey or a signed
 * (diverging) colour map. Plain DOM, no framework.
 */

type Attrs = Record<string, string | number | boolean | null | undefined>;
type Child = Node | string | null | undefined | false;

/** An element with attributes (`class`, `data-testid`, `aria-*`, ...) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') e.textContent = String(v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

let uid = 0;
/** A fresh id for tying a label to its control. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${++uid}`;
}

export interface NumberFieldOptions {
  label: string;
  value: number;
  min: number;
  max: number;
  step?: number;
  /** Extra help read after the label. */
  hint?: string;
  testid?: string;
  onChange(value: number): void;
}

/** A labelled number input that reports only valid values (in range, on the step). */
export function numberField(o: NumberFieldOptions): { root: HTMLElement; input: HTMLInputElement; set(v: number): void } {
  const id = uniqueId('num');
  const input = el('input', { id, type: 'number', min: o.min, max: o.max, step: o.step ?? 1, value: o.value, 'data-testid': o.testid, inputmode: 'numeric' });
  const root = el('div', { class: 'field' }, el('label', { for: id }, o.label, o.hint ? el('span', { class: 'hint' }, ` ${o.hint}`) : null), input);
  input.addEventListener('input', () => {
    const v = input.valueAsNumber;
    const step = o.step ?? 1;
    const valid = Number.isFinite(v) && v >= o.min && v <= o.max && Math.abs((v - o.min) / step - Math.round((v - o.min) / step)) < 1e-9;
    input.setAttribute('aria-invalid', valid ? 'false' : 'true');
    if (valid) o.onChange(v);
  });
  return { root, input, set: (v) => { input.value = String(v); input.setAttribute('aria-invalid', 'false'); } };
}

export interface SelectFieldOptions<T extends string> {
  label: string;
  value: T;
  options: readonly (T | { value: T; label: string })[];
  testid?: string;
  onChange(value: T): void;
}

/** A labelled select. */
export function selectField<T extends string>(o: SelectFieldOptions<T>): { root: HTMLElement; select: HTMLSelectElement; set(v: T): void } {
  const id = uniqueId('sel');
  const select = el('select', { id, 'data-testid': o.testid });
  for (const opt of o.options) {
    const { value, label } = typeof opt === 'string' ? { value: opt, label: opt } : opt;
    select.append(el('option', { value, selected: value === o.value }, label));
  }
  select.addEventListener('change', () => o.onChange(select.value as T));
  return { root: el('div', { class: 'field' }, el('label', { for: id }, o.label), select), select, set: (v) => { select.value = v; } };
}

/** A labelled text input; `onChange` runs on every edit. */
export function textField(o: { label: string; value: string; placeholder?: string; testid?: string; onChange(value: string): void }): { root: HTMLElement; input: HTMLInputElement } {
  const id = uniqueId('txt');
  const input = el('input', { id, type: 'text', value: o.value, placeholder: o.placeholder, 'data-testid': o.testid, spellcheck: 'false', autocomplete: 'off' });
  input.addEventListener('input', () => o.onChange(input.value));
  return { root: el('div', { class: 'field' }, el('label', { for: id }, o.label), input), input };
}

/** A labelled checkbox. */
export function checkbox(o: { label: string; checked: boolean; testid?: string; onChange(checked: boolean): void }): { root: HTMLElement; input: HTMLInputElement } {
  const id = uniqueId('chk');
  const input = el('input', { id, type: 'checkbox', checked: o.checked, 'data-testid': o.testid });
  input.addEventListener('change', () => o.onChange(input.checked));
  return { root: el('div', { class: 'field check' }, input, el('label', { for: id }, o.label)), input };
}

/** A button with a visible label (and an accessible one when the label is a symbol). */
export function button(label: string, onClick: () => void, attrs: Attrs = {}): HTMLButtonElement {
  const b = el('button', { type: 'button', ...attrs }, label);
  b.addEventListener('click', onClick);
  return b;
}

/** A titled panel. */
export function panel(title: string, ...children: Child[]): HTMLElement {
  return el('section', { class: 'panel' }, el('h2', {}, title), ...children);
}

/** A message shown in place of a result: what went wrong and how to fix it. */
export function errorBox(message: string): HTMLElement {
  return el('p', { class: 'error', role: 'alert' }, message);
}

// ---- colour maps -----------------------------------------------------------

export type Rgb = [number, number, number];

/** Grey levels: lo -> black, hi -> white (clamped outside [lo, hi]). */
export function grey(v: number, lo: number, hi: number): Rgb {
  const t = hi > lo ? Math.min(1, Math.max(0, (v - lo) / (hi - lo))) : 0.5;
  const g = Math.round(255 * t);
  return [g, g, g];
}

/**
 * A signed (diverging) map centred on zero: negative values blue, zero white,
 * positive red, with |v| = maxAbs at full colour. Values are not clamped to
 * zero: a negative filter response stays visible as such.
 */
export function signed(v: number, maxAbs: number): Rgb {
  const t = maxAbs > 0 ? Math.max(-1, Math.min(1, v / maxAbs)) : 0;
  // white -> #b2182b (red) for t > 0, white -> #2166ac (blue) for t < 0
  const [r, g, b] = t >= 0 ? [178, 24, 43] : [33, 102, 172];
  const a = Math.abs(t);
  return [Math.round(255 + (r - 255) * a), Math.round(255 + (g - 255) * a), Math.round(255 + (b - 255) * a)];
}

/** The largest |value| (0 for an empty or all-zero array). */
export function maxAbs(data: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < data.length; i++) m = Math.max(m, Math.abs(data[i]));
  return m;
}

export function minMax(data: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    lo = Math.min(lo, data[i]);
    hi = Math.max(hi, data[i]);
  }
  return data.length ? [lo, hi] : [0, 0];
}

export interface DrawMapOptions {
  /** 'signed': diverging map around zero; 'grey': min..max (or lo..hi) to black..white. */
  map: 'signed' | 'grey';
  /** For 'signed': the |value| at full colour (default: the map's own max |value|). */
  maxAbs?: number;
  /** For 'grey': the range shown (default: the map's own min and max). */
  lo?: number;
  hi?: number;
}

/**
 * Draws a `height` x `width` map of values (row-major, from `offset`) onto a
 * canvas of exactly that many pixels; CSS scales it up with crisp pixels.
 */
export function drawMap(canvas: HTMLCanvasElement, data: ArrayLike<number>, height: number, width: number, o: DrawMapOptions, offset = 0): void {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(width, height);
  const view = Array.prototype.slice.call(data, offset, offset + height * width) as number[];
  const m = o.maxAbs ?? maxAbs(view);
  const [lo0, hi0] = minMax(view);
  const lo = o.lo ?? lo0;
  const hi = o.hi ?? hi0;
  for (let i = 0; i < height * width; i++) {
    const [r, g, b] = o.map === 'signed' ? signed(view[i], m) : grey(view[i], lo, hi);
    img.data[4 * i] = r;
    img.data[4 * i + 1] = g;
    img.data[4 * i + 2] = b;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** A number as a learner reads it: integers as they are, others to 3 significant digits. */
export function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000 || a < 1e-3) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

/** 61100840 -> "61,100,840". */
export function thousands(n: number): string {
  return n.toLocaleString('en-US');
}
