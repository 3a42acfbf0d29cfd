/**
 * The deterministic image operations behind the random augmentations, with
 * explicit parameters, as torchvision.transforms.functional on a float tensor
 * image: crop, pad, flips, rotation and affine warps (torchvision's grid
 * sampling, nearest or bilinear), brightness, contrast, saturation and hue,
 * and erasing a box.
 *
 * An image is a float tensor [C, H, W] with values typically in 0..1 (the
 * colour operations clamp to 0..1, as torchvision does for float images).
 * Every function returns a new tensor of the input's dtype and leaves its
 * input untouched; they work on `.data` directly (no autograd: augmentation
 * happens before the model sees the data).
 */
import { ShapeError, ValueError, fmtShape } from '../../errors.js';
import { Tensor, allocate } from '../../tensor/tensor.js';
import { checkStandardized } from '../non-finite.js';
import { checkOptions } from '../../validate.js';

/** How a warp reads between pixels: the nearest pixel, or the four nearest blended. */
export type Interpolation = 'nearest' | 'bilinear';

/** How pad fills the border (torchvision's padding_mode). */
export type PaddingMode = 'constant' | 'reflect' | 'edge' | 'symmetric';

/** A fill value: one for every channel, or one per channel. */
export type Fill = number | readonly number[];

export const INTERPOLATIONS: readonly Interpolation[] = ['nearest', 'bilinear'];
export const PADDING_MODES: readonly PaddingMode[] = ['constant', 'reflect', 'edge', 'symmetric'];

/** The channels, height and width of an image, after checking it is a [C, H, W] tensor. */
export function imageDims(fn: string, image: unknown): [number, number, number] {
  if (!(image instanceof Tensor)) {
    throw new ValueError(`${fn}: image must be a Tensor [C, H, W], got ${image === null ? 'null' : typeof image}`);
  }
  if (image.ndim !== 3) {
    throw new ShapeError(`${fn}: image must have shape [C, H, W], got ${fmtShape(image.shape)}; for a batch [N, C, H, W] use transformBatch`);
  }
  const [c, h, w] = image.shape;
  return [c, h, w];
}

export function checkFinite(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValueError(`${fn}: ${name} must be a finite number, got ${String(value)}`);
  return value;
}

export function checkInt(fn: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ValueError(`${fn}: ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** A fill expanded to one value per channel; a list must have 1 or C values. */
export function fillPerChannel(fn: string, fill: Fill, channels: number): number[] {
  const values = typeof fill === 'number' ? [fill] : Array.isArray(fill) ? [...fill] : null;
  if (values === null || values.length === 0) throw new ValueError(`${fn}: fill must be a number or a non-empty array of numbers, got ${String(fill)}`);
  values.forEach((v, i) => checkFinite(fn, `fill[${i}]`, v));
  if (values.length !== 1 && values.length !== channels) {
    throw new ValueError(`${fn}: fill has ${values.length} values but the image has ${channels} channels; give one value, or one per channel`);
  }
  return values.length === 1 ? new Array(channels).fill(values[0]) : values;
}

function checkChoice<T extends string>(fn: string, name: string, value: unknown, choices: readonly T[]): T {
  if (!choices.includes(value as T)) throw new ValueError(`${fn}: ${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

/** Rounds half to even, as Python's round() and C's nearbyint (which torch's nearest sampling uses). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// ---------------------------------------------------------------------------
// Geometry without resampling.

/** Mirrors the image left to right (torchvision hflip). */
export function hflip(image: Tensor): Tensor {
  const [c, h, w] = imageDims('hflip', image);
  const x = image.data;
  const out = allocate(image.dtype, x.length);
  for (let row = 0; row < c * h; row++) {
    const o = row * w;
    for (let j = 0; j < w; j++) out[o + j] = x[o + w - 1 - j];
  }
  return new Tensor(out, image.shape);
}

/** Mirrors the image top to bottom (torchvision vflip). */
export function vflip(image: Tensor): Tensor {
  const [c, h, w] = imageDims('vflip', image);
  const x = image.data;
  const out = allocate(image.dtype, x.length);
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < h; i++) out.set(x.subarray((ch * h + h - 1 - i) * w, (ch * h + h - i) * w), (ch * h + i) * w);
  }
  return new Tensor(out, image.shape);
}

/**
 * Padding as torchvision reads it: one number for all four sides, [left/right,
 * top/bottom], or [left, top, right, bottom]. Returns [left, top, right, bottom].
 */
export function parsePadding(fn: string, padding: number | readonly number[]): [number, number, number, number] {
  const p = typeof padding === 'number' ? [padding] : Array.isArray(padding) ? [...padding] : null;
  if (p === null || ![1, 2, 4].includes(p.length)) {
    throw new ValueError(`${fn}: padding must be a number or an array of 1, 2 ([left/right, top/bottom]) or 4 ([left, top, right, bottom]) numbers, got ${JSON.stringify(padding)}`);
  }
  p.forEach((v, i) => checkInt(fn, p.length === 1 ? 'padding' : `padding[${i}]`, v, 0));
  if (p.length === 1) return [p[0], p[0], p[0], p[0]];
  if (p.length === 2) return [p[0], p[1], p[0], p[1]];
  return [p[0], p[1], p[2], p[3]];
}

/** The source index for position `i` of a padded axis (i may be < 0 or >= n); -1 for the constant fill. */
function padIndex(i: number, n: number, mode: PaddingMode): number {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case 'constant':
      return -1;
    case 'edge':
      return i < 0 ? 0 : n - 1;
    case 'reflect':
      // [1, 2, 3, 4] padded by 2: [3, 2, | 1, 2, 3, 4, | 3, 2]
      return i < 0 ? -i : 2 * (n - 1) - i;
    case 'symmetric':
      // [1, 2, 3, 4] padded by 2: [2, 1, | 1, 2, 3, 4, | 4, 3]
      return i < 0 ? -i - 1 : 2 * n - 1 - i;
  }
}

/** Checks that 'reflect' padding is < the side it mirrors and 'symmetric' padding <= it, as torchvision requires. */
export function checkMirror(fn: string, h: number, w: number, padding: readonly [number, number, number, number], mode: PaddingMode): void {
  if (mode === 'constant' || mode === 'edge') {
    if (mode === 'edge' && (h === 0 || w === 0)) throw new ValueError(`${fn}: 'edge' padding needs a non-empty image, got ${h}x${w}`);
    return;
  }
  const [left, top, right, bottom] = padding;
  const limitW = mode === 'reflect' ? w - 1 : w;
  const limitH = mode === 'reflect' ? h - 1 : h;
  if (Math.max(left, right) > limitW || Math.max(top, bottom) > limitH) {
    const rel = mode === 'reflect' ? '<' : '<=';
    throw new ValueError(
      `${fn}: '${mode}' padding must be ${rel} the image side it mirrors (width ${w}, height ${h}), got [left ${left}, top ${top}, right ${right}, bottom ${bottom}]; use 'edge' or 'constant' padding, or less of it`,
    );
  }
}

export interface PadOptions {
  /** The value of the padded border in 'constant' mode (default 0); a number or one per channel. */
  fill?: Fill;
  /** 'constant' (fill), 'edge' (repeat the last pixel), 'reflect' (mirror without repeating the edge), 'symmetric' (mirror repeating it). Default 'constant'. */
  paddingMode?: PaddingMode;
}

/**
 * Pads the image on each side (torchvision.transforms.functional.pad): padding
 * is one number for all sides, [left/right, top/bottom] or [left, top, right,
 * bottom]. 'reflect' needs padding < the side it mirrors and 'symmetric'
 * padding <= it, as torchvision (the mirror must exist in the image).
 */
export function pad(image: Tensor, padding: number | readonly number[], options: PadOptions = {}): Tensor {
  const [c, h, w] = imageDims('pad', image);
  checkOptions('pad', options, ['fill', 'paddingMode']);
  const [left, top, right, bottom] = parsePadding('pad', padding);
  const mode = checkChoice('pad', 'paddingMode', options.paddingMode ?? 'constant', PADDING_MODES);
  const fill = fillPerChannel('pad', options.fill ?? 0, c);
  checkMirror('pad', h, w, [left, top, right, bottom], mode);
  return window(image, -top, -left, h + top + bottom, w + left + right, mode, fill);
}

/**
 * The height x width window at (top, left) of the image extended beyond its
 * borders by `mode` (constant: `fill` per channel): pad and crop in one
 * pass, with the part inside the image copied row by row. The caller has
 * checked that a mirrored index stays inside the image.
 */
export function window(image: Tensor, top: number, left: number, height: number, width: number, mode: PaddingMode, fill: readonly number[]): Tensor {
  const [c, h, w] = image.shape;
  const cols = Int32Array.from({ length: width }, (_, j) => padIndex(left + j, w, mode));
  // The output columns that read the image directly: left + j in [0, w).
  const j0 = Math.min(width, Math.max(0, -left));
  const j1 = Math.max(j0, Math.min(width, w - left));
  const x = image.data;
  const out = allocate(image.dtype, c * height * width);
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < height; i++) {
      const si = padIndex(top + i, h, mode);
      const o = (ch * height + i) * width;
      if (si < 0) {
        out.fill(fill[ch], o, o + width);
        continue;
      }
      const s = (ch * h + si) * w;
      if (j1 > j0) out.set(x.subarray(s + left + j0, s + left + j1), o + j0);
      for (let j = 0; j < j0; j++) out[o + j] = cols[j] < 0 ? fill[ch] : x[s + cols[j]];
      for (let j = j1; j < width; j++) out[o + j] = cols[j] < 0 ? fill[ch] : x[s + cols[j]];
    }
  }
  return new Tensor(out, [c, height, width]);
}

/**
 * The height x width window whose top-left corner is (top, left)
 * (torchvision.transforms.functional.crop). Parts of the window outside the
 * image are 0, as torchvision pads them.
 */
export function crop(image: Tensor, top: number, left: number, height: number, width: number): Tensor {
  const [c] = imageDims('crop', image);
  if (!Number.isInteger(top) || !Number.isInteger(left)) throw new ValueError(`crop: top and left must be integers, got top ${top}, left ${left}`);
  checkInt('crop', 'height', height, 1);
  checkInt('crop', 'width', width, 1);
  return window(image, top, left, height, width, 'constant', new Array(c).fill(0));
}

/**
 * The central window of `size` (torchvision center_crop): top =
 * round((H - height) / 2), left likewise, halves rounded to even as Python
 * does; a window larger than the image is padded with 0 first (the extra
 * row or column of an odd excess going to the bottom or right).
 */
export function centerCrop(image: Tensor, size: number | readonly number[]): Tensor {
  const [, h, w] = imageDims('centerCrop', image);
  const [th, tw] = cropSize('centerCrop', size);
  if (th > h || tw > w) {
    const l = tw > w ? Math.floor((tw - w) / 2) : 0;
    const t = th > h ? Math.floor((th - h) / 2) : 0;
    const r = tw > w ? Math.floor((tw - w + 1) / 2) : 0;
    const b = th > h ? Math.floor((th - h + 1) / 2) : 0;
    const padded = pad(image, [l, t, r, b]);
    return centerCrop(padded, [th, tw]);
  }
  return crop(image, roundHalfEven((h - th) / 2), roundHalfEven((w - tw) / 2), th, tw);
}

/** A crop size: one number for a square, or [height, width]. */
export function cropSize(fn: string, size: number | readonly number[]): [number, number] {
  const s = typeof size === 'number' ? [size, size] : Array.isArray(size) && (size.length === 1 || size.length === 2) ? (size.length === 1 ? [size[0], size[0]] : [...size]) : null;
  if (s === null) throw new ValueError(`${fn}: size must be a number or [height, width], got ${JSON.stringify(size)}`);
  checkInt(fn, 'size (height)', s[0], 1);
  checkInt(fn, 'size (width)', s[1], 1);
  return [s[0], s[1]];
}

// ---------------------------------------------------------------------------
// Warps: torchvision's affine grid and grid_sample (align_corners=False).

/**
 * torchvision's _get_inverse_affine_matrix: the 2x3 matrix taking an output
 * pixel (relative to the image centre) to the input position it reads.
 * The forward map is translate * centre * rotate(angle) * scale * shearY *
 * shearX * centre^-1, angles in degrees.
 */
export function inverseAffineMatrix(center: readonly [number, number], angle: number, translate: readonly [number, number], scale: number, shear: readonly [number, number]): number[] {
  const rot = (angle * Math.PI) / 180;
  const sx = (shear[0] * Math.PI) / 180;
  const sy = (shear[1] * Math.PI) / 180;
  const [cx, cy] = center;
  const [tx, ty] = translate;
  const a = Math.cos(rot - sy) / Math.cos(sy);
  const b = (-Math.cos(rot - sy) * Math.tan(sx)) / Math.cos(sy) - Math.sin(rot);
  const c = Math.sin(rot - sy) / Math.cos(sy);
  const d = (-Math.sin(rot - sy) * Math.tan(sx)) / Math.cos(sy) + Math.cos(rot);
  const m = [d, -b, 0, -c, a, 0].map((v) => v / scale);
  m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
  m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
  m[2] += cx;
  m[5] += cy;
  return m;
}

/**
 * Resamples the image through the inverse matrix `m` (output pixel centre,
 * relative to the image centre -> input position), as torchvision's
 * _apply_grid_transform: grid_sample with zero padding and align_corners
 * False. With a fill (torchvision passes one from RandomRotation and
 * RandomAffine, default 0), a mask of ones is resampled alongside and
 * out = sampled * mask + (1 - mask) * fill for bilinear (so a border pixel
 * that reads half outside is blended towards the fill), or fill wherever the
 * nearest pixel lies outside for nearest. Without a fill (null), outside
 * reads as 0 and nothing is blended.
 */
function warp(fn: string, image: Tensor, m: readonly number[], interpolation: Interpolation, fill: Fill | null): Tensor {
  const [c, h, w] = imageDims(fn, image);
  const fills = fill === null ? null : fillPerChannel(fn, fill, c);
  const x = image.data;
  const plane = h * w;
  const out = allocate(image.dtype, c * plane);
  const ox = (w - 1) / 2;
  const oy = (h - 1) / 2;
  const [m0, m1, m2, m3, m4, m5] = m;
  const nearest = interpolation === 'nearest';
  for (let i = 0; i < h; i++) {
    const v = i - h / 2 + 0.5;
    // the row's constant part of the read position, summed in the same order as m0 * u + m1 * v + m2 + ox
    const rowX = m1 * v;
    const rowY = m4 * v;
    for (let j = 0; j < w; j++) {
      const u = j - w / 2 + 0.5;
      // The input position read, in pixel indices.
      const px = m0 * u + rowX + m2 + ox;
      const py = m3 * u + rowY + m5 + oy;
      const at = i * w + j;
      if (nearest) {
        const nx = roundHalfEven(px);
        const ny = roundHalfEven(py);
        const inside = nx >= 0 && nx < w && ny >= 0 && ny < h;
        for (let ch = 0; ch < c; ch++) out[ch * plane + at] = inside ? x[ch * plane + ny * w + nx] : fills === null ? 0 : fills[ch];
        continue;
      }
      const x0 = Math.floor(px);
      const y0 = Math.floor(py);
      const fx = px - x0;
      const fy = py - y0;
      // The four neighbours (north-west, north-east, south-west, south-east) and their weights; a neighbour outside weighs 0.
      const wNW = (1 - fx) * (1 - fy);
      const wNE = fx * (1 - fy);
      const wSW = (1 - fx) * fy;
      const wSE = fx * fy;
      const iNW = y0 * w + x0;
      if (x0 >= 0 && x0 + 1 < w && y0 >= 0 && y0 + 1 < h) {
        // all four inside (most pixels)
        const mask = wNW + wNE + wSW + wSE;
        for (let ch = 0; ch < c; ch++) {
          const base = ch * plane + iNW;
          let val = 0;
          val += wNW * x[base];
          val += wNE * x[base + 1];
          val += wSW * x[base + w];
          val += wSE * x[base + w + 1];
          out[ch * plane + at] = fills === null ? val : val * mask + (1 - mask) * fills[ch];
        }
        continue;
      }
      const inX0 = x0 >= 0 && x0 < w;
      const inX1 = x0 + 1 >= 0 && x0 + 1 < w;
      const inY0 = y0 >= 0 && y0 < h;
      const inY1 = y0 + 1 >= 0 && y0 + 1 < h;
      const nw = inX0 && inY0;
      const ne = inX1 && inY0;
      const sw = inX0 && inY1;
      const se = inX1 && inY1;
      const mask = (nw ? wNW : 0) + (ne ? wNE : 0) + (sw ? wSW : 0) + (se ? wSE : 0);
      for (let ch = 0; ch < c; ch++) {
        const base = ch * plane + iNW;
        let val = 0;
        if (nw) val += wNW * x[base];
        if (ne) val += wNE * x[base + 1];
        if (sw) val += wSW * x[base + w];
        if (se) val += wSE * x[base + w + 1];
        out[ch * plane + at] = fills === null ? val : val * mask + (1 - mask) * fills[ch];
      }
    }
  }
  return new Tensor(out, image.shape);
}

export interface WarpOptions {
  /** 'nearest' (default, as torchvision) or 'bilinear'. */
  interpolation?: Interpolation;
  /**
   * The value of pixels that come from outside the image: a number or one per
   * channel. null (the default, as torchvision.transforms.functional) reads
   * outside as 0 without the mask blend; the random transforms pass 0.
   */
  fill?: Fill | null;
}

function warpOptions(fn: string, options: WarpOptions): { interpolation: Interpolation; fill: Fill | null } {
  if (options === null || typeof options !== 'object') throw new ValueError(`${fn}: options must be an object, got ${String(options)}`);
  checkOptions(fn, options, ['interpolation', 'fill']);
  return { interpolation: checkChoice(fn, 'interpolation', options.interpolation ?? 'nearest', INTERPOLATIONS), fill: options.fill ?? null };
}

/**
 * Rotates the image by `angle` degrees counter-clockwise about its centre,
 * keeping its size (torchvision.transforms.functional.rotate, expand False).
 */
export function rotate(image: Tensor, angle: number, options: WarpOptions = {}): Tensor {
  imageDims('rotate', image);
  checkFinite('rotate', 'angle', angle);
  const { interpolation, fill } = warpOptions('rotate', options);
  return warp('rotate', image, inverseAffineMatrix([0, 0], -angle, [0, 0], 1, [0, 0]), interpolation, fill);
}

/**
 * An affine warp keeping the centre fixed (torchvision.transforms.functional.affine):
 * rotation by `angle` degrees clockwise, then `translate` [dx, dy] pixels
 * (right, down), `scale`, and `shear` in degrees (a number is a shear
 * parallel to x, [sx, sy] both).
 */
export function affine(image: Tensor, angle: number, translate: readonly [number, number], scale: number, shear: number | readonly number[], options: WarpOptions = {}): Tensor {
  imageDims('affine', image);
  checkFinite('affine', 'angle', angle);
  if (!Array.isArray(translate) || translate.length !== 2) throw new ValueError(`affine: translate must be [dx, dy] in pixels, got ${JSON.stringify(translate)}`);
  translate.forEach((t, i) => checkFinite('affine', `translate[${i}]`, t));
  if (checkFinite('affine', 'scale', scale) <= 0) throw new ValueError(`affine: scale must be > 0, got ${scale}`);
  const sh = typeof shear === 'number' ? [shear, 0] : Array.isArray(shear) && shear.length === 1 ? [shear[0], shear[0]] : Array.isArray(shear) && shear.length === 2 ? [...shear] : null;
  if (sh === null) throw new ValueError(`affine: shear must be a number (parallel to x) or [sx, sy] in degrees, got ${JSON.stringify(shear)}`);
  sh.forEach((s, i) => {
    checkFinite('affine', `shear[${i}]`, s);
    if (Math.abs(s) >= 90) throw new ValueError(`affine: shear[${i}] must be in (-90, 90) degrees (tan is infinite at 90), got ${s}`);
  });
  const { interpolation, fill } = warpOptions('affine', options);
  const m = inverseAffineMatrix([0, 0], angle, [translate[0], translate[1]], scale, [sh[0], sh[1]]);
  return warp('affine', image, m, interpolation, fill);
}

// ---------------------------------------------------------------------------
// Colour. Float32 arithmetic where torchvision's single operations round.

const f32 = Math.fround;
const GRAY_R = f32(0.2989);
const GRAY_G = f32(0.587);
const GRAY_B = f32(0.114);

function colourChannels(fn: string, image: Tensor): [number, number, number] {
  const dims = imageDims(fn, image);
  if (dims[0] !== 1 && dims[0] !== 3) throw new ShapeError(`${fn}: the image must have 1 (grey) or 3 (RGB) channels, got ${fmtShape(image.shape)}`);
  return dims;
}

function checkFactor(fn: string, name: string, value: number): number {
  if (checkFinite(fn, name, value) < 0) throw new ValueError(`${fn}: ${name} must be >= 0 (0 gives ${fn === 'adjustBrightness' ? 'black' : 'grey'}, 1 the original), got ${value}`);
  return value;
}

/** torchvision's _blend: clamp(ratio * a + (1 - ratio) * b, 0, 1), the factors rounded to float32 as torch's scalar ops do. */
function blend(a: number, b: number, r: number, rc: number): number {
  const v = f32(f32(r * a) + f32(rc * b));
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** The grey level ITU-R 601 style, as torchvision's rgb_to_grayscale: 0.2989 R + 0.587 G + 0.114 B. */
function grey(r: number, g: number, b: number): number {
  return f32(f32(f32(GRAY_R * r) + f32(GRAY_G * g)) + f32(GRAY_B * b));
}

/** Multiplies every value by `factor` and clamps to 0..1 (adjust_brightness: 0 gives black, 1 the original). */
export function adjustBrightness(image: Tensor, factor: number): Tensor {
  colourChannels('adjustBrightness', image);
  checkFactor('adjustBrightness', 'factor', factor);
  const x = image.data;
  const out = allocate(image.dtype, x.length);
  const r = f32(factor);
  for (let i = 0; i < x.length; i++) out[i] = blend(x[i], 0, r, 0);
  return new Tensor(out, image.shape);
}

/**
 * Blends every pixel with the image's mean grey level (adjust_contrast: 0
 * gives a uniform grey, 1 the original), then clamps to 0..1.
 */
export function adjustContrast(image: Tensor, factor: number): Tensor {
  const [c, h, w] = colourChannels('adjustContrast', image);
  checkFactor('adjustContrast', 'factor', factor);
  const x = image.data;
  const plane = h * w;
  let sum = 0;
  if (c === 3) for (let i = 0; i < plane; i++) sum += grey(x[i], x[plane + i], x[2 * plane + i]);
  else for (let i = 0; i < plane; i++) sum += x[i];
  const mean = f32(sum / plane);
  const out = allocate(image.dtype, x.length);
  const r = f32(factor);
  const rc = f32(1 - factor);
  for (let i = 0; i < x.length; i++) out[i] = blend(x[i], mean, r, rc);
  return new Tensor(out, image.shape);
}

/**
 * Blends every pixel with its own grey level (adjust_saturation: 0 gives
 * the greyscale image, 1 the original, 2 doubles the saturation), then
 * clamps to 0..1. A one-channel image is returned unchanged (a copy), as
 * torchvision.
 */
export function adjustSaturation(image: Tensor, factor: number): Tensor {
  const [c, h, w] = colourChannels('adjustSaturation', image);
  checkFactor('adjustSaturation', 'factor', factor);
  const x = image.data;
  const out = allocate(image.dtype, x.length);
  if (c === 1) {
    out.set(x);
    return new Tensor(out, image.shape);
  }
  const plane = h * w;
  const r = f32(factor);
  const rc = f32(1 - factor);
  for (let i = 0; i < plane; i++) {
    const g = grey(x[i], x[plane + i], x[2 * plane + i]);
    for (let ch = 0; ch < 3; ch++) out[ch * plane + i] = blend(x[ch * plane + i], g, r, rc);
  }
  return new Tensor(out, image.shape);
}

/**
 * Shifts the hue by `hueFactor` turns of the colour wheel, in -0.5..0.5
 * (adjust_hue: RGB -> HSV, h = (h + hueFactor) mod 1, HSV -> RGB with
 * torchvision's formulas). Values must be >= 0 for HSV to mean anything. A
 * one-channel image is returned unchanged (a copy), as torchvision.
 */
export function adjustHue(image: Tensor, hueFactor: number): Tensor {
  const [c, h, w] = colourChannels('adjustHue', image);
  checkFinite('adjustHue', 'hueFactor', hueFactor);
  if (hueFactor < -0.5 || hueFactor > 0.5) throw new ValueError(`adjustHue: hueFactor must be in [-0.5, 0.5] (a fraction of the colour wheel), got ${hueFactor}`);
  const x = image.data;
  const out = allocate(image.dtype, x.length);
  if (c === 1) {
    out.set(x);
    return new Tensor(out, image.shape);
  }
  const plane = h * w;
  const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);
  for (let k = 0; k < plane; k++) {
    const r = x[k];
    const g = x[plane + k];
    const b = x[2 * plane + k];
    // _rgb2hsv
    const maxc = Math.max(r, g, b);
    const minc = Math.min(r, g, b);
    const eqc = maxc === minc;
    const cr = maxc - minc;
    const s = cr / (eqc ? 1 : maxc);
    const div = eqc ? 1 : cr;
    const rc = (maxc - r) / div;
    const gc = (maxc - g) / div;
    const bc = (maxc - b) / div;
    let hh = maxc === r ? bc - gc : maxc === g ? 2 + rc - bc : 4 + gc - rc;
    hh = (hh / 6 + 1) % 1;
    // (h + hue_factor) % 1.0, Python's floor modulo
    hh = hh + hueFactor;
    hh -= Math.floor(hh);
    const v = maxc;
    // _hsv2rgb
    const i6 = Math.floor(hh * 6);
    const f = hh * 6 - i6;
    const p = clamp01(v * (1 - s));
    const q = clamp01(v * (1 - s * f));
    const t = clamp01(v * (1 - s * (1 - f)));
    const sector = ((i6 % 6) + 6) % 6;
    const rgb = [
      [v, t, p],
      [q, v, p],
      [p, v, t],
      [p, q, v],
      [t, p, v],
      [v, p, q],
    ][sector];
    out[k] = rgb[0];
    out[plane + k] = rgb[1];
    out[2 * plane + k] = rgb[2];
  }
  return new Tensor(out, image.shape);
}

// ---------------------------------------------------------------------------
// Erasing and normalizing.

/**
 * Sets the box of h rows and w columns whose top-left corner is (i, j) to
 * `value` (torchvision.transforms.functional.erase): a number, one number
 * per channel, or a [C, h, w] tensor of values (random erasing's 'random').
 * The box must lie inside the image.
 */
export function erase(image: Tensor, i: number, j: number, h: number, w: number, value: number | readonly number[] | Tensor): Tensor {
  const [c, ih, iw] = imageDims('erase', image);
  checkInt('erase', 'i (top row)', i, 0);
  checkInt('erase', 'j (left column)', j, 0);
  checkInt('erase', 'h', h, 0);
  checkInt('erase', 'w', w, 0);
  if (i + h > ih || j + w > iw) {
    throw new ValueError(`erase: the box rows ${i}..${i + h - 1}, columns ${j}..${j + w - 1} leaves the ${ih}x${iw} image; need i + h <= ${ih} and j + w <= ${iw}`);
  }
  let values: (ch: number, r: number, col: number) => number;
  if (value instanceof Tensor) {
    if (value.ndim !== 3 || value.shape[0] !== c || value.shape[1] !== h || value.shape[2] !== w) {
      throw new ShapeError(`erase: a tensor value must have the box's shape [${c}, ${h}, ${w}], got ${fmtShape(value.shape)}`);
    }
    const v = value.data;
    values = (ch, r, col) => v[(ch * h + r) * w + col];
  } else {
    const fills = fillPerChannel('erase', value, c);
    values = (ch) => fills[ch];
  }
  const out = allocate(image.dtype, image.size);
  out.set(image.data);
  for (let ch = 0; ch < c; ch++) {
    for (let r = 0; r < h; r++) {
      const o = (ch * ih + i + r) * iw + j;
      for (let col = 0; col < w; col++) out[o + col] = values(ch, r, col);
    }
  }
  return new Tensor(out, image.shape);
}

/** Checked per-channel mean and std: each a number or an array of 1 or C values, std > 0. */
export function normalizeParams(fn: string, mean: number | readonly number[], std: number | readonly number[]): { mean: number[]; std: number[] } {
  const list = (name: string, v: number | readonly number[]) => {
    const a = typeof v === 'number' ? [v] : Array.isArray(v) ? [...v] : null;
    if (a === null || a.length === 0) throw new ValueError(`${fn}: ${name} must be a number or a non-empty array of numbers (one per channel), got ${String(v)}`);
    a.forEach((x, i) => checkFinite(fn, `${name}[${i}]`, x));
    return a;
  };
  const m = list('mean', mean);
  const s = list('std', std);
  s.forEach((x, i) => {
    if (x <= 0) throw new ValueError(`${fn}: std[${i}] must be > 0 (it divides), got ${x}`);
  });
  return { mean: m, std: s };
}

/** (image - mean[c]) / std[c] per channel (torchvision.transforms.functional.normalize). */
export function normalizeImage(image: Tensor, mean: number | readonly number[], std: number | readonly number[]): Tensor {
  const [c, h, w] = imageDims('normalizeImage', image);
  const p = normalizeParams('normalizeImage', mean, std);
  for (const [name, a] of [['mean', p.mean], ['std', p.std]] as const) {
    if (a.length !== 1 && a.length !== c) throw new ValueError(`normalizeImage: ${name} has ${a.length} values but the image has ${c} channels; give one value, or one per channel`);
  }
  const x = image.data;
  const out = allocate(image.dtype, x.length);
  const plane = h * w;
  for (let ch = 0; ch < c; ch++) {
    const round = image.dtype === 'float32' ? f32 : (v: number) => v;
    const m = round(p.mean.length === 1 ? p.mean[0] : p.mean[ch]);
    const s = round(p.std.length === 1 ? p.std[0] : p.std[ch]);
    // As torch: the difference is rounded to the dtype before the division.
    for (let k = ch * plane; k < (ch + 1) * plane; k++) out[k] = round(x[k] - m) / s;
  }
  checkStandardized('normalizeImage', x, out, c, plane, p.std, p.mean);
  return new Tensor(out, image.shape);
}
