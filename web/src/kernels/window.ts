/**
 * The k x k window of input values one output pixel is computed from, with the
 * border filled the way conv2d's padding modes fill it, so the page can write
 * the sum out term by term. This is arithmetic on indices for the explanation
 * only; the output itself comes from Stride's conv2d in the compute worker.
 */
import type { BorderMode } from '../compute/kernels.js';

/**
 * Where index `i` (possibly outside 0..n-1) reads from along an axis of
 * length n, or null when the padding supplies a zero:
 * - reflect: mirrored without repeating the edge (index -1 reads 1), as PyTorch;
 * - replicate: the edge value repeated;
 * - circular: wrapped around (index -1 reads n - 1);
 * - zeros, partial: zero outside; valid never reads outside.
 */
export function sourceIndex(i: number, n: number, mode: BorderMode): number | null {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'reflect': {
      if (n === 1) return 0;
      const period = 2 * (n - 1);
      const m = ((i % period) + period) % period;
      return m < n ? m : period - m;
    }
    case 'replicate':
      return i < 0 ? 0 : n - 1;
    case 'circular':
      return ((i % n) + n) % n;
    default:
      return null;
  }
}

/** One tap of the window: the value it reads, and where from. */
export interface Tap {
  value: number;
  /** The input row and column it reads (null: a zero of the padding). */
  row: number | null;
  col: number | null;
  /** False when the tap lies outside the image (its value comes from the padding). */
  inside: boolean;
}

export interface PixelWindow {
  /** The input row and column the window is centred on. */
  centreRow: number;
  centreCol: number;
  /** size*size taps, row-major. */
  taps: Tap[];
  /** How many taps fall inside the image. */
  insideCount: number;
  /**
   * 'partial' mode's factor: size*size / insideCount (1 in the other modes);
   * the zero-padded sum is multiplied by it.
   */
  ratio: number;
}

/**
 * The window of output pixel (row, col) over one channel plane (H*W). With
 * padding the output pixel (row, col) is centred on input pixel (row, col);
 * in 'valid' mode (no padding) on (row + r, col + r), r = (size - 1) / 2.
 */
export function windowAt(plane: ArrayLike<number>, height: number, width: number, row: number, col: number, size: number, mode: BorderMode, offset = 0): PixelWindow {
  const r = (size - 1) / 2;
  const centreRow = mode === 'valid' ? row + r : row;
  const centreCol = mode === 'valid' ? col + r : col;
  const taps: Tap[] = [];
  let insideCount = 0;
  for (let u = 0; u < size; u++) {
    for (let v = 0; v < size; v++) {
      const y = centreRow - r + u;
      const x = centreCol - r + v;
      const inside = y >= 0 && y < height && x >= 0 && x < width;
      if (inside) insideCount++;
      const sy = sourceIndex(y, height, mode);
      const sx = sourceIndex(x, width, mode);
      const reads = sy !== null && sx !== null;
      taps.push({ value: reads ? plane[offset + sy * width + sx] : 0, row: reads ? sy : null, col: reads ? sx : null, inside });
    }
  }
  const ratio = mode === 'partial' && insideCount > 0 ? (size * size) / insideCount : 1;
  return { centreRow, centreCol, taps, insideCount, ratio };
}

/** The output pixel an input pixel (row, col) is the centre of, clamped into the output. */
export function outputPixelOf(row: number, col: number, size: number, mode: BorderMode, outHeight: number, outWidth: number): [number, number] {
  const r = mode === 'valid' ? (size - 1) / 2 : 0;
  return [Math.min(outHeight - 1, Math.max(0, row - r)), Math.min(outWidth - 1, Math.max(0, col - r))];
}
