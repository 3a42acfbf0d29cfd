/**
 * The loupe: a magnified square of an image around one pixel, each pixel a
 * cell large enough to see and to tap on a phone (where the whole image is a
 * few hundred CSS pixels wide and a fingertip covers a dozen of its pixels).
 * The kernel's window (on the input) or the computed pixel (on the output)
 * is outlined; cells beyond the image's edge are hatched, as the padding is
 * in the worked-out sum.
 */

/** Pixels per side of the loupe (odd, so one sits in the middle). */
export const LOUPE_PIXELS = 11;
/** Canvas pixels per image pixel. */
const CELL = 12;

/**
 * Draws the LOUPE_PIXELS x LOUPE_PIXELS pixels of `source` centred on
 * (row, col) into `target`, magnified, and outlines the `box` x `box`
 * square around the centre.
 */
export function drawLoupe(target: HTMLCanvasElement, source: HTMLCanvasElement, row: number, col: number, box: number): void {
  const n = LOUPE_PIXELS;
  const side = n * CELL;
  target.width = side;
  target.height = side;
  const ctx = target.getContext('2d');
  if (!ctx) return;
  // Outside the image: hatched.
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, side, side);
  ctx.strokeStyle = '#d5dbe1';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let d = -side; d < side; d += 6) {
    ctx.moveTo(d, side);
    ctx.lineTo(d + side, 0);
  }
  ctx.stroke();
  // The image's part of the square, one cell per pixel (no smoothing).
  const half = (n - 1) / 2;
  const x0 = Math.max(0, col - half);
  const y0 = Math.max(0, row - half);
  const x1 = Math.min(source.width, col + half + 1);
  const y1 = Math.min(source.height, row + half + 1);
  if (x1 > x0 && y1 > y0) {
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(source, x0, y0, x1 - x0, y1 - y0, (x0 - (col - half)) * CELL, (y0 - (row - half)) * CELL, (x1 - x0) * CELL, (y1 - y0) * CELL);
  }
  // Faint cell borders, so single pixels can be counted.
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.12)';
  ctx.beginPath();
  for (let i = 1; i < n; i++) {
    ctx.moveTo(i * CELL + 0.5, 0);
    ctx.lineTo(i * CELL + 0.5, side);
    ctx.moveTo(0, i * CELL + 0.5);
    ctx.lineTo(side, i * CELL + 0.5);
  }
  ctx.stroke();
  // The window or the pixel: amber with a dark rim, readable on any colour.
  const at = (half - (box - 1) / 2) * CELL;
  ctx.lineWidth = 3;
  ctx.strokeStyle = 'rgba(0, 0, 0, 0.6)';
  ctx.strokeRect(at + 1.5, at + 1.5, box * CELL - 3, box * CELL - 3);
  ctx.lineWidth = 2;
  ctx.strokeStyle = '#f59e0b';
  ctx.strokeRect(at + 1, at + 1, box * CELL - 2, box * CELL - 2);
}

/** The offset (rows, columns) from the loupe's centre of the cell under a pointer event, or null outside it. */
export function loupeOffset(e: MouseEvent, target: HTMLCanvasElement): [number, number] | null {
  const r = target.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return null;
  const i = Math.floor(((e.clientY - r.top) / r.height) * LOUPE_PIXELS);
  const j = Math.floor(((e.clientX - r.left) / r.width) * LOUPE_PIXELS);
  if (i < 0 || j < 0 || i >= LOUPE_PIXELS || j >= LOUPE_PIXELS) return null;
  const half = (LOUPE_PIXELS - 1) / 2;
  return [i - half, j - half];
}
