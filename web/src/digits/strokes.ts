/**
 * A drawing as text, so a link holds it (the `ink` query value of #/digits):
 * each point quantized to a byte per axis on the drawing's square, strokes
 * simplified first (points closer than a few units to the last kept one are
 * dropped; the ends are kept), then base64url. A ten-stroke digit is a few
 * hundred characters. Pure functions: no DOM, no Stride.
 *
 * Bytes: per stroke, its point count (2 bytes, little endian), then x, y per
 * point (1 byte each, 0..255 spanning 0..size).
 */
import type { Point, Stroke } from './preprocess.js';

/** Points closer than this (in drawing units) to the previous kept point are dropped. */
const MIN_STEP = 3;
/** The most points one stroke keeps in a link. */
const MAX_POINTS = 0xffff;

/** Drops points closer than `minStep` to the last kept one; keeps the first and last points. */
export function simplifyStroke(s: Stroke, minStep = MIN_STEP): Stroke {
  if (s.length <= 2) return s.slice();
  const out: Point[] = [s[0]];
  for (let i = 1; i < s.length - 1; i++) {
    const last = out[out.length - 1];
    if (Math.hypot(s[i].x - last.x, s[i].y - last.y) >= minStep) out.push(s[i]);
  }
  out.push(s[s.length - 1]);
  return out;
}

const q = (v: number, size: number) => Math.max(0, Math.min(255, Math.round((v / size) * 255)));

/** The drawing as base64url text ('' for no strokes). */
export function encodeStrokes(strokes: readonly Stroke[], size: number): string {
  const bytes: number[] = [];
  for (const s0 of strokes) {
    const s = simplifyStroke(s0).slice(0, MAX_POINTS);
    if (s.length === 0) continue;
    bytes.push(s.length & 0xff, s.length >> 8);
    for (const p of s) bytes.push(q(p.x, size), q(p.y, size));
  }
  if (bytes.length === 0) return '';
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The strokes of `encodeStrokes`' text, on a square `size` units wide; null
 * when the text is not such a drawing (a damaged link), [] for ''.
 */
export function decodeStrokes(text: string, size: number): Stroke[] | null {
  if (text === '') return [];
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return null;
  let bin: string;
  try {
    bin = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  } catch {
    return null;
  }
  const strokes: Stroke[] = [];
  let i = 0;
  while (i < bin.length) {
    if (i + 2 > bin.length) return null;
    const n = bin.charCodeAt(i) | (bin.charCodeAt(i + 1) << 8);
    i += 2;
    if (n === 0 || i + 2 * n > bin.length) return null;
    const s: Point[] = [];
    for (let k = 0; k < n; k++, i += 2) s.push({ x: (bin.charCodeAt(i) / 255) * size, y: (bin.charCodeAt(i + 1) / 255) * size });
    strokes.push(s);
  }
  return strokes;
}
