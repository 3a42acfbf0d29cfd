import type { FloatArray, Pad2dGeometry, PadMode } from '../backend.js';

/**
 * Where output coordinate `o` of a padded axis reads from in an input axis of
 * length `n` whose padding before is `before`; -1 means "outside" (constant
 * mode). With i = o - before:
 *   constant:  i if 0 <= i < n, else -1
 *   reflect:   mirror about the edge elements, not repeating them:
 *              ... x2 x1 | x0 x1 x2 ... x(n-1) | x(n-2) x(n-3) ...
 *              i < 0 -> -i,  i >= n -> 2(n-1) - i   (the op checks pad < n)
 *   replicate: clamp(i, 0, n-1)
 *   circular:  i mod n   (the op checks pad <= n)
 */
export function padSource(o: number, before: number, n: number, mode: PadMode): number {
  const i = o - before;
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'constant': return -1;
    case 'reflect': return i < 0 ? -i : 2 * (n - 1) - i;
    case 'replicate': return i < 0 ? 0 : n - 1;
    case 'circular': return ((i % n) + n) % n;
  }
}

function sourceMaps(g: Pad2dGeometry, mode: PadMode): { rows: Int32Array; cols: Int32Array } {
  const rows = new Int32Array(g.outH);
  const cols = new Int32Array(g.outW);
  for (let o = 0; o < g.outH; o++) rows[o] = padSource(o, g.padTop, g.inH, mode);
  for (let o = 0; o < g.outW; o++) cols[o] = padSource(o, g.padLeft, g.inW, mode);
  return { rows, cols };
}

/** y[p, oh, ow] = x[p, rows[oh], cols[ow]], or `value` where constant padding has no source. */
export function pad2d(x: FloatArray, g: Pad2dGeometry, mode: PadMode, value: number, y: FloatArray): void {
  const { planes, inH, inW, outH, outW } = g;
  const { rows, cols } = sourceMaps(g, mode);
  for (let p = 0; p < planes; p++) {
    const xBase = p * inH * inW;
    const yBase = p * outH * outW;
    for (let oh = 0; oh < outH; oh++) {
      const ih = rows[oh];
      const dst = yBase + oh * outW;
      for (let ow = 0; ow < outW; ow++) {
        const iw = cols[ow];
        y[dst + ow] = ih < 0 || iw < 0 ? value : x[xBase + ih * inW + iw];
      }
    }
  }
}

/**
 * The adjoint: gx[p, rows[oh], cols[ow]] += gy[p, oh, ow]. In reflect,
 * replicate and circular modes one input receives several outputs (a
 * replicated corner receives the whole padded corner block).
 */
export function pad2dBackward(gy: FloatArray, g: Pad2dGeometry, mode: PadMode, gx: FloatArray): void {
  const { planes, inH, inW, outH, outW } = g;
  const { rows, cols } = sourceMaps(g, mode);
  gx.fill(0);
  for (let p = 0; p < planes; p++) {
    const xBase = p * inH * inW;
    const yBase = p * outH * outW;
    for (let oh = 0; oh < outH; oh++) {
      const ih = rows[oh];
      if (ih < 0) continue;
      const src = yBase + oh * outW;
      for (let ow = 0; ow < outW; ow++) {
        const iw = cols[ow];
        if (iw >= 0) gx[xBase + ih * inW + iw] += gy[src + ow];
      }
    }
  }
}
