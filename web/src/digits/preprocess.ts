/**
 * A drawing made into an MNIST digit, as MNIST's own digits were made
 * (LeCun, Cortes and Burges, "The MNIST database"): the ink's bounding box is
 * cropped, scaled with its aspect ratio kept so that its longer side is
 * 20 px, anti-aliased (each output pixel is the mean ink over the area it
 * covers: exact box filtering), and placed in a 28x28 field so that its centre
 * of mass is at the field's centre. MNIST's centre of mass, measured in pixel
 * indices (the sum of index x value over the sum of values), is (14.0, 14.0)
 * on its test set, so that is where ours goes.
 *
 * Pure functions on row-major Float32Array images with ink in [0, 1]: no DOM,
 * no Stride, so they run (and are tested) in Node as they run in the page.
 * The strokes themselves are rasterised here too (`rasterizeStrokes`), with
 * an anti-aliased round pen, so the picture the model reads does not depend on
 * how a browser draws lines.
 */

/** The side of an MNIST image. */
export const MNIST_SIZE = 28;
/** The longer side of the ink's box after scaling. */
export const MNIST_BOX = 20;
/** Where the centre of mass goes, in pixel indices (row and column). */
export const MNIST_CENTER = 14;

/** A point of a stroke, in the drawing's own units. */
export interface Point {
  x: number;
  y: number;
}

/** One pen-down-to-pen-up line. */
export type Stroke = Point[];

/** The ink's extent: columns x0..x1 and rows y0..y1, inclusive pixel indices. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** An image: `width` x `height` values, row-major. */
export interface Raster {
  data: Float32Array;
  width: number;
  height: number;
}

/** What `toMnist` made, and how: enough to draw the steps. */
export interface MnistInput {
  /** 28x28 ink in [0, 1], row-major. */
  image: Float32Array;
  /** The ink's bounding box in the source image. */
  box: Box;
  /** Output pixels per source pixel. */
  scale: number;
  /** Where source pixel edge (box.x0, box.y0) lands in the 28x28 field (output pixel units). */
  offset: Point;
  /** The centre of mass of `image`, in pixel indices. */
  center: Point;
}

/**
 * The smallest box holding every pixel with ink above `threshold`; null for an
 * image with no ink.
 */
export function inkBoundingBox(img: Raster, threshold = 0): Box | null {
  const { data, width, height } = img;
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (data[row + x] > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  return x1 < 0 ? null : { x0, y0, x1, y1 };
}

/** The ink-weighted mean pixel index (column x, row y); null for an image with no ink. */
export function centerOfMass(img: Raster): Point | null {
  const { data, width, height } = img;
  let sum = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = data[y * width + x];
      sum += v;
      sx += v * x;
      sy += v * y;
    }
  }
  return sum > 0 ? { x: sx / sum, y: sy / sum } : null;
}

/**
 * Box-filter weights of an affine resampling along one axis: output pixel u
 * covers source interval [from + u / scale, from + (u + 1) / scale]; its
 * weight on source pixel i (interval [i, i + 1]) is their overlap times
 * `scale`, so a constant source gives that constant. Only source pixels
 * lo..hi (inclusive) are read. Returns, per output pixel, the first source
 * index and the weights from there.
 */
function axisWeights(outLength: number, from: number, scale: number, lo: number, hi: number): { first: number; w: Float64Array }[] {
  const out: { first: number; w: Float64Array }[] = [];
  for (let u = 0; u < outLength; u++) {
    const a = from + u / scale;
    const b = from + (u + 1) / scale;
    const first = Math.max(lo, Math.floor(a));
    const last = Math.min(hi, Math.ceil(b) - 1);
    const n = Math.max(0, last - first + 1);
    const w = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const i = first + k;
      w[k] = Math.max(0, Math.min(b, i + 1) - Math.max(a, i)) * scale;
    }
    out.push({ first, w });
  }
  return out;
}

/**
 * Resamples the source's pixels inside `box` into a `size` x `size` field,
 * `scale` output pixels per source pixel, source pixel edge (box.x0, box.y0)
 * landing at `offset` (in output pixels). Separable box filtering: rows
 * first, then columns.
 */
function resample(img: Raster, box: Box, scale: number, offset: Point, size: number): Float32Array {
  const { data, width } = img;
  const wx = axisWeights(size, box.x0 - offset.x / scale, scale, box.x0, box.x1);
  const wy = axisWeights(size, box.y0 - offset.y / scale, scale, box.y0, box.y1);
  // Horizontal pass over the box's rows: tmp[row - y0][u].
  const rows = box.y1 - box.y0 + 1;
  const tmp = new Float64Array(rows * size);
  for (let r = 0; r < rows; r++) {
    const src = (box.y0 + r) * width;
    for (let u = 0; u < size; u++) {
      const { first, w } = wx[u];
      let s = 0;
      for (let k = 0; k < w.length; k++) s += w[k] * data[src + first + k];
      tmp[r * size + u] = s;
    }
  }
  const out = new Float32Array(size * size);
  for (let v = 0; v < size; v++) {
    const { first, w } = wy[v];
    for (let u = 0; u < size; u++) {
      let s = 0;
      for (let k = 0; k < w.length; k++) s += w[k] * tmp[(first - box.y0 + k) * size + u];
      out[v * size + u] = Math.min(1, Math.max(0, s));
    }
  }
  return out;
}

/**
 * MNIST's preprocessing of one image of ink: crop to the ink's bounding box
 * (pixels above `threshold`), scale so the longer side is 20 px (aspect ratio
 * kept, box-filtered), and shift so the centre of mass is at (14, 14) in
 * pixel indices. The shift is sub-pixel: it is found from the source's centre
 * of mass, then refined once from the result's (box filtering moves the
 * centre of mass by a small fraction of a pixel). Ink shifted past the
 * field's edge is lost, as in MNIST. Null for an image with no ink.
 */
export function toMnist(img: Raster, threshold = 0.02): MnistInput | null {
  const box = inkBoundingBox(img, threshold);
  if (!box) return null;
  const bw = box.x1 - box.x0 + 1;
  const bh = box.y1 - box.y0 + 1;
  const scale = MNIST_BOX / Math.max(bw, bh);
  const crop = cropRaster(img, box);
  const com = centerOfMass(crop);
  if (!com) return null;
  // Source pixel index x has its centre at edge x + 0.5; the output index of a
  // centre at edge coordinate e is e - 0.5. Place the crop's centre of mass at 14.
  let offset: Point = {
    x: MNIST_CENTER + 0.5 - (com.x + 0.5) * scale,
    y: MNIST_CENTER + 0.5 - (com.y + 0.5) * scale,
  };
  let image = resample(img, box, scale, offset, MNIST_SIZE);
  let center = centerOfMass({ data: image, width: MNIST_SIZE, height: MNIST_SIZE }) ?? { x: MNIST_CENTER, y: MNIST_CENTER };
  for (let pass = 0; pass < 2 && (Math.abs(center.x - MNIST_CENTER) > 0.02 || Math.abs(center.y - MNIST_CENTER) > 0.02); pass++) {
    offset = { x: offset.x + MNIST_CENTER - center.x, y: offset.y + MNIST_CENTER - center.y };
    image = resample(img, box, scale, offset, MNIST_SIZE);
    center = centerOfMass({ data: image, width: MNIST_SIZE, height: MNIST_SIZE }) ?? center;
  }
  return { image, box, scale, offset, center };
}

/** The pixels of `box` as an image of their own. */
export function cropRaster(img: Raster, box: Box): Raster {
  const width = box.x1 - box.x0 + 1;
  const height = box.y1 - box.y0 + 1;
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) data.set(img.data.subarray((box.y0 + y) * img.width + box.x0, (box.y0 + y) * img.width + box.x0 + width), y * width);
  return { data, width, height };
}

/** The box around every point of the strokes (their centre lines, without the pen's width); null without points. */
export function strokesExtent(strokes: readonly Stroke[]): { x0: number; y0: number; x1: number; y1: number } | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const s of strokes) {
    for (const p of s) {
      x0 = Math.min(x0, p.x);
      y0 = Math.min(y0, p.y);
      x1 = Math.max(x1, p.x);
      y1 = Math.max(y1, p.y);
    }
  }
  return x1 >= x0 ? { x0, y0, x1, y1 } : null;
}

/** The distance from p to segment a-b. */
function segmentDistance(px: number, py: number, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((px - a.x) * dx + (py - a.y) * dy) / len2)) : 0;
  const ex = px - (a.x + t * dx);
  const ey = py - (a.y + t * dy);
  return Math.sqrt(ex * ex + ey * ey);
}

/**
 * Draws strokes with a round pen `penWidth` wide into a `width` x `height`
 * image whose pixel (x, y) covers [x, x + 1] x [y, y + 1] in the strokes'
 * units. Anti-aliased: a pixel's ink is its centre's depth inside the pen's
 * outline plus a half, clamped to [0, 1] (one pixel of soft edge). A stroke of
 * one point is a dot.
 */
export function rasterizeStrokes(strokes: readonly Stroke[], width: number, height: number, penWidth: number): Raster {
  const data = new Float32Array(width * height);
  const r = penWidth / 2;
  for (const s of strokes) {
    if (s.length === 0) continue;
    const segments = s.length === 1 ? [[s[0], s[0]]] : s.slice(1).map((p, i) => [s[i], p]);
    for (const [a, b] of segments) {
      const xa = Math.max(0, Math.floor(Math.min(a.x, b.x) - r - 1));
      const xb = Math.min(width - 1, Math.ceil(Math.max(a.x, b.x) + r + 1));
      const ya = Math.max(0, Math.floor(Math.min(a.y, b.y) - r - 1));
      const yb = Math.min(height - 1, Math.ceil(Math.max(a.y, b.y) + r + 1));
      for (let y = ya; y <= yb; y++) {
        for (let x = xa; x <= xb; x++) {
          const ink = Math.min(1, Math.max(0, r + 0.5 - segmentDistance(x + 0.5, y + 0.5, a, b)));
          const i = y * width + x;
          if (ink > data[i]) data[i] = ink;
        }
      }
    }
  }
  return { data, width, height };
}

/**
 * The pen width (in the strokes' units) that gives strokes `targetWidth`
 * output pixels wide once the ink's box is scaled to MNIST's 20 px: the box
 * is the strokes' extent plus the pen's width, so a pen w on an extent E ends
 * 20 w / (E + w) px wide, and w = target E / (20 - target). MNIST's pen
 * strokes are about 2 to 3 px wide; a fixed pen would make a small drawing
 * bold and a large one thin. At least `minWidth` (a dot or a tiny scribble).
 */
export function penWidthFor(strokes: readonly Stroke[], targetWidth: number, minWidth: number): number {
  const e = strokesExtent(strokes);
  if (!e) return minWidth;
  const extent = Math.max(e.x1 - e.x0, e.y1 - e.y0);
  return Math.max(minWidth, (targetWidth * extent) / (MNIST_BOX - targetWidth));
}

/**
 * The whole path from strokes to the model's input: rasterise with the pen
 * that gives `strokeWidth` px at 28x28, on a canvas `size` units square,
 * then `toMnist`. Null when nothing is drawn.
 */
export function strokesToMnist(strokes: readonly Stroke[], size: number, strokeWidth: number): (MnistInput & { penWidth: number }) | null {
  if (!strokes.some((s) => s.length > 0)) return null;
  const penWidth = penWidthFor(strokes, strokeWidth, size / 100);
  const result = toMnist(rasterizeStrokes(strokes, size, size, penWidth));
  return result && { ...result, penWidth };
}

/** MNIST's normalization of an image of ink in [0, 1]: (x - mean) / std. */
export function normalizeImage(image: Float32Array, mean: number, std: number): Float32Array {
  const out = new Float32Array(image.length);
  for (let i = 0; i < image.length; i++) out[i] = (image[i] - mean) / std;
  return out;
}
