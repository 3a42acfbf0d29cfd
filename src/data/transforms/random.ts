/**
 * Random data augmentation with torchvision's names and parameter meanings
 * (transforms.RandomCrop, RandomHorizontalFlip, RandomRotation, RandomAffine,
 * ColorJitter, RandomErasing, Normalize, Compose), as plain functions.
 *
 * A transform is a pure function of an image and a Generator: every random
 * choice is drawn from the generator passed in, in a documented order, so
 * the same seed gives the same images byte for byte (on any backend: no
 * kernel runs). The draws themselves differ from torch's (a different
 * generator), their distributions are torchvision's.
 */
import { ShapeError, ValueError, fmtShape } from '../../errors.js';
import { Tensor, allocate } from '../../tensor/tensor.js';
import { Generator } from '../../tensor/random.js';
import { checkOptions as checkKnownOptions } from '../../validate.js';
import {
  INTERPOLATIONS, PADDING_MODES, adjustBrightness, adjustContrast, adjustHue, adjustSaturation, affine, checkMirror, cropSize, erase, window,
  fillPerChannel, hflip, imageDims, normalizeImage, normalizeParams, pad, parsePadding, rotate, roundHalfEven, vflip,
  type Fill, type Interpolation, type PaddingMode,
} from './functional.js';

/**
 * An augmentation: takes an image [C, H, W] (float, values typically 0..1)
 * and the generator to draw its random choices from, returns a new image
 * (never the input itself, so callers may write into the result).
 */
export type Transform = (image: Tensor, generator: Generator) => Tensor;

function checkOptions(fn: string, options: unknown, keys: readonly string[]): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new ValueError(`${fn}: options must be an object, got ${String(options)}`);
  checkKnownOptions(fn, options, keys);
}

function checkGenerator(fn: string, generator: unknown): void {
  if (!(generator instanceof Generator)) throw new ValueError(`${fn}: generator must be a Generator (new Generator(seed)), got ${generator === null ? 'null' : typeof generator}`);
}

function checkProbability(fn: string, p: unknown): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ValueError(`${fn}: p must be a probability in [0, 1], got ${String(p)}`);
  return p;
}

function copy(image: Tensor): Tensor {
  const out = allocate(image.dtype, image.size);
  out.set(image.data);
  return new Tensor(out, image.shape);
}

/** A [min, max] range: a number v stands for [-v, v] (v >= 0), as torchvision's _setup_angle. */
function symmetricRange(fn: string, name: string, value: unknown, unit: string): [number, number] {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new ValueError(`${fn}: ${name} as one number v means [-v, v] and must be >= 0, got ${value}`);
    return [-value, value];
  }
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number' && Number.isFinite(v)) && value[0] <= value[1]) return [value[0], value[1]];
  throw new ValueError(`${fn}: ${name} must be a number v >= 0 (the range [-v, v] ${unit}) or [min, max] with min <= max, got ${JSON.stringify(value)}`);
}

/** transforms.Compose: applies `transforms` in order, each drawing from the same generator. */
export function compose(transforms: readonly Transform[]): Transform {
  if (!Array.isArray(transforms) || !transforms.every((t) => typeof t === 'function')) {
    throw new ValueError(`compose: transforms must be an array of functions (image, generator) => image, got ${Array.isArray(transforms) ? `an array holding ${transforms.map((t) => typeof t).join(', ')}` : typeof transforms}`);
  }
  const list = [...transforms];
  return (image, generator) => {
    imageDims('compose', image);
    let x = image;
    for (const t of list) x = t(x, generator);
    return x === image ? copy(image) : x;
  };
}

/**
 * (image - mean[c]) / std[c] per channel (transforms.Normalize). mean and std
 * are numbers or one per channel; nothing random.
 */
export function normalize(mean: number | readonly number[], std: number | readonly number[]): Transform {
  normalizeParams('normalize', mean, std);
  return (image) => normalizeImage(image, mean, std);
}

export interface RandomCropOptions {
  /** Padding added first: one number for all sides, [left/right, top/bottom] or [left, top, right, bottom] (default none). */
  padding?: number | readonly number[];
  /** Pad further when the image is smaller than the crop (default false). */
  padIfNeeded?: boolean;
  /** The value of constant padding (default 0); a number or one per channel. */
  fill?: Fill;
  /** 'constant' (default), 'reflect', 'edge' or 'symmetric'; see pad. */
  paddingMode?: PaddingMode;
}

/**
 * transforms.RandomCrop: pads the image (when `padding` is given), then cuts
 * a `size` window at a uniformly random position: top in 0..H'-h, then left
 * in 0..W'-w, two draws (none when the padded image is exactly the crop's
 * size). `size` null crops back to the image's own size (pad-and-crop, the
 * CIFAR recipe, for images of any size).
 */
export function randomCrop(size: number | readonly [number, number] | null, options: RandomCropOptions = {}): Transform {
  checkOptions('randomCrop', options, ['padding', 'padIfNeeded', 'fill', 'paddingMode']);
  const target = size === null ? null : cropSize('randomCrop', size);
  const padding = options.padding === undefined ? null : parsePadding('randomCrop', options.padding);
  const padIfNeeded = options.padIfNeeded ?? false;
  if (typeof padIfNeeded !== 'boolean') throw new ValueError(`randomCrop: padIfNeeded must be true or false, got ${String(padIfNeeded)}`);
  const paddingMode = options.paddingMode ?? 'constant';
  if (!PADDING_MODES.includes(paddingMode)) throw new ValueError(`randomCrop: paddingMode must be one of ${PADDING_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(paddingMode)}`);
  const fill = options.fill ?? 0;
  fillPerChannel('randomCrop', fill, typeof fill === 'number' ? 1 : fill.length);
  const padOptions = { fill, paddingMode };
  return (image, generator) => {
    const [, h0, w0] = imageDims('randomCrop', image);
    checkGenerator('randomCrop', generator);
    const [th, tw] = target ?? [h0, w0];
    const [pl, pt, pr, pb] = padding ?? [0, 0, 0, 0];
    if (padIfNeeded && (w0 + pl + pr < tw || h0 + pt + pb < th)) {
      // torchvision pads the padded image again, on both sides of each short axis: done step by step.
      let x = padding === null ? image : pad(image, padding, padOptions);
      if (x.shape[2] < tw) x = pad(x, [tw - x.shape[2], 0], padOptions);
      if (x.shape[1] < th) x = pad(x, [0, th - x.shape[1]], padOptions);
      return cropFrom(x, [0, 0, 0, 0], th, tw, generator);
    }
    return cropFrom(image, [pl, pt, pr, pb], th, tw, generator);
  };
  /** The random th x tw window of the image padded by [left, top, right, bottom], read without building the padded image. */
  function cropFrom(image: Tensor, ltrb: [number, number, number, number], th: number, tw: number, generator: Generator): Tensor {
    const [c, ih, iw] = image.shape;
    const h = ih + ltrb[1] + ltrb[3];
    const w = iw + ltrb[0] + ltrb[2];
    if (h < th || w < tw) {
      throw new ValueError(`randomCrop: the crop ${th}x${tw} is larger than the ${padding === null ? '' : 'padded '}image ${h}x${w}; pad more, crop less, or set padIfNeeded`);
    }
    checkMirror('randomCrop', ih, iw, ltrb, paddingMode);
    const fills = fillPerChannel('randomCrop', fill, c);
    if (h === th && w === tw) return window(image, -ltrb[1], -ltrb[0], th, tw, paddingMode, fills);
    const i = generator.randint(h - th + 1);
    const j = generator.randint(w - tw + 1);
    return window(image, i - ltrb[1], j - ltrb[0], th, tw, paddingMode, fills);
  }
}

/** transforms.RandomHorizontalFlip: mirrors left to right when a uniform draw in [0, 1) is < p (one draw). */
export function randomHorizontalFlip(p = 0.5): Transform {
  checkProbability('randomHorizontalFlip', p);
  return (image, generator) => {
    checkGenerator('randomHorizontalFlip', generator);
    return generator.random() < p ? hflip(image) : copy(image);
  };
}

/** transforms.RandomVerticalFlip: mirrors top to bottom when a uniform draw in [0, 1) is < p (one draw). */
export function randomVerticalFlip(p = 0.5): Transform {
  checkProbability('randomVerticalFlip', p);
  return (image, generator) => {
    checkGenerator('randomVerticalFlip', generator);
    return generator.random() < p ? vflip(image) : copy(image);
  };
}

export interface RandomWarpOptions {
  /** 'nearest' (default, as torchvision) or 'bilinear'. */
  interpolation?: Interpolation;
  /** The value of pixels from outside the image (default 0); a number or one per channel. */
  fill?: Fill;
}

function warpOptions(fn: string, options: RandomWarpOptions): { interpolation: Interpolation; fill: Fill } {
  const interpolation = options.interpolation ?? 'nearest';
  if (!INTERPOLATIONS.includes(interpolation)) throw new ValueError(`${fn}: interpolation must be 'nearest' or 'bilinear', got ${JSON.stringify(interpolation)}`);
  const fill = options.fill ?? 0;
  fillPerChannel(fn, fill, typeof fill === 'number' ? 1 : fill.length);
  return { interpolation, fill };
}

/**
 * transforms.RandomRotation: rotates by an angle uniform in [-degrees,
 * degrees] (or [min, max]), counter-clockwise, one draw; outside pixels get
 * `fill` (default 0, blended at the border under bilinear as torchvision).
 */
export function randomRotation(degrees: number | readonly [number, number], options: RandomWarpOptions = {}): Transform {
  checkOptions('randomRotation', options, ['interpolation', 'fill']);
  const [lo, hi] = symmetricRange('randomRotation', 'degrees', degrees, 'in degrees');
  const warp = warpOptions('randomRotation', options);
  return (image, generator) => {
    imageDims('randomRotation', image);
    checkGenerator('randomRotation', generator);
    return rotate(image, generator.uniform(lo, hi), warp);
  };
}

export interface RandomAffineOptions extends RandomWarpOptions {
  /** Rotation range in degrees: v for [-v, v], or [min, max]; 0 for none. Required, as torchvision. */
  degrees: number | readonly [number, number];
  /** Largest shift as a fraction of the width and of the height, [a, b] each in [0, 1]: dx uniform in [-a W, a W] rounded to a pixel. Default none. */
  translate?: readonly [number, number];
  /** Scale range [min, max], both > 0 (default 1). */
  scale?: readonly [number, number];
  /** Shear in degrees: v for x shear in [-v, v]; [min, max] for x; [xmin, xmax, ymin, ymax] for both. Default none. */
  shear?: number | readonly number[];
}

/**
 * transforms.RandomAffine: draws, in this order, the angle, the translation
 * (dx then dy, when translate is given), the scale (when given), the x shear
 * and y shear (when given), then warps about the centre.
 */
export function randomAffine(options: RandomAffineOptions): Transform {
  checkOptions('randomAffine', options, ['degrees', 'translate', 'scale', 'shear', 'interpolation', 'fill']);
  if (options.degrees === undefined) throw new ValueError('randomAffine: degrees is required (0 for no rotation), as in torchvision');
  const [dLo, dHi] = symmetricRange('randomAffine', 'degrees', options.degrees, 'in degrees');
  const { translate, scale, shear } = options;
  if (translate !== undefined) {
    if (!Array.isArray(translate) || translate.length !== 2 || !translate.every((t) => typeof t === 'number' && t >= 0 && t <= 1)) {
      throw new ValueError(`randomAffine: translate must be [a, b], the largest shifts as fractions of the width and height, each in [0, 1], got ${JSON.stringify(translate)}`);
    }
  }
  if (scale !== undefined) {
    if (!Array.isArray(scale) || scale.length !== 2 || !scale.every((s) => typeof s === 'number' && Number.isFinite(s) && s > 0) || scale[0] > scale[1]) {
      throw new ValueError(`randomAffine: scale must be [min, max] with 0 < min <= max, got ${JSON.stringify(scale)}`);
    }
  }
  let shears: number[] | null = null;
  if (shear !== undefined) {
    if (typeof shear === 'number' || (Array.isArray(shear) && shear.length === 2)) shears = symmetricRange('randomAffine', 'shear', shear, 'in degrees');
    else if (Array.isArray(shear) && shear.length === 4 && shear.every((s) => typeof s === 'number' && Number.isFinite(s)) && shear[0] <= shear[1] && shear[2] <= shear[3]) shears = [...shear];
    else throw new ValueError(`randomAffine: shear must be v >= 0, [min, max] or [xmin, xmax, ymin, ymax] in degrees, got ${JSON.stringify(shear)}`);
    if (shears.some((s) => Math.abs(s) >= 90)) throw new ValueError(`randomAffine: shear angles must be in (-90, 90) degrees, got ${JSON.stringify(shear)}`);
  }
  const warp = warpOptions('randomAffine', options);
  return (image, generator) => {
    const [, h, w] = imageDims('randomAffine', image);
    checkGenerator('randomAffine', generator);
    const angle = generator.uniform(dLo, dHi);
    let tx = 0;
    let ty = 0;
    if (translate !== undefined) {
      const maxDx = translate[0] * w;
      const maxDy = translate[1] * h;
      tx = roundHalfEven(generator.uniform(-maxDx, maxDx));
      ty = roundHalfEven(generator.uniform(-maxDy, maxDy));
    }
    const s = scale === undefined ? 1 : generator.uniform(scale[0], scale[1]);
    let sx = 0;
    let sy = 0;
    if (shears !== null) {
      sx = generator.uniform(shears[0], shears[1]);
      if (shears.length === 4) sy = generator.uniform(shears[2], shears[3]);
    }
    return affine(image, angle, [tx, ty], s, [sx, sy], warp);
  };
}

export interface ColorJitterOptions {
  /** v >= 0: factor uniform in [max(0, 1 - v), 1 + v]; or [min, max] with 0 <= min <= max. Default 0 (off). */
  brightness?: number | readonly [number, number];
  /** As brightness, for adjustContrast. */
  contrast?: number | readonly [number, number];
  /** As brightness, for adjustSaturation. */
  saturation?: number | readonly [number, number];
  /** v in [0, 0.5]: shift uniform in [-v, v]; or [min, max] within [-0.5, 0.5]. Default 0 (off). */
  hue?: number | readonly [number, number];
}

function jitterRange(name: string, value: unknown, center: number, bound: [number, number]): [number, number] | null {
  let range: [number, number];
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new ValueError(`colorJitter: ${name} as one number must be >= 0, got ${value}`);
    range = [center - value, center + value];
    if (name !== 'hue') range[0] = Math.max(range[0], 0);
    if (name === 'hue' && value > 0.5) throw new ValueError(`colorJitter: hue must be in [0, 0.5] (a fraction of the colour wheel), got ${value}`);
  } else if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    if (!(bound[0] <= value[0] && value[0] <= value[1] && value[1] <= bound[1])) {
      throw new ValueError(`colorJitter: ${name} [min, max] must satisfy ${bound[0]} <= min <= max <= ${bound[1]}, got ${JSON.stringify(value)}`);
    }
    range = [value[0], value[1]];
  } else {
    throw new ValueError(`colorJitter: ${name} must be a number or [min, max], got ${JSON.stringify(value)}`);
  }
  return range[0] === center && range[1] === center ? null : range;
}

/**
 * transforms.ColorJitter: draws a random order of the four adjustments (a
 * shuffle of [brightness, contrast, saturation, hue]), then each enabled
 * factor in that fixed order (brightness, contrast, saturation, hue), then
 * applies the enabled ones in the drawn order. Images have 1 or 3 channels.
 */
export function colorJitter(options: ColorJitterOptions = {}): Transform {
  checkOptions('colorJitter', options, ['brightness', 'contrast', 'saturation', 'hue']);
  const b = jitterRange('brightness', options.brightness ?? 0, 1, [0, Infinity]);
  const c = jitterRange('contrast', options.contrast ?? 0, 1, [0, Infinity]);
  const s = jitterRange('saturation', options.saturation ?? 0, 1, [0, Infinity]);
  const h = jitterRange('hue', options.hue ?? 0, 0, [-0.5, 0.5]);
  return (image, generator) => {
    const [ch] = imageDims('colorJitter', image);
    if (ch !== 1 && ch !== 3) throw new ShapeError(`colorJitter: the image must have 1 or 3 channels, got ${fmtShape(image.shape)}`);
    checkGenerator('colorJitter', generator);
    const order = generator.shuffle([0, 1, 2, 3]);
    const bf = b === null ? null : generator.uniform(b[0], b[1]);
    const cf = c === null ? null : generator.uniform(c[0], c[1]);
    const sf = s === null ? null : generator.uniform(s[0], s[1]);
    const hf = h === null ? null : generator.uniform(h[0], h[1]);
    let x = image;
    for (const k of order) {
      if (k === 0 && bf !== null) x = adjustBrightness(x, bf);
      else if (k === 1 && cf !== null) x = adjustContrast(x, cf);
      else if (k === 2 && sf !== null) x = adjustSaturation(x, sf);
      else if (k === 3 && hf !== null) x = adjustHue(x, hf);
    }
    return x === image ? copy(image) : x;
  };
}

export interface RandomErasingOptions {
  /** Probability of erasing (default 0.5). */
  p?: number;
  /** Range of the box's area as a fraction of the image's, within [0, 1] (default [0.02, 0.33]). */
  scale?: readonly [number, number];
  /** Range of the box's aspect ratio h / w, drawn log-uniformly, > 0 (default [0.3, 3.3]). */
  ratio?: readonly [number, number];
  /** The erased value: a number (default 0), one per channel, or 'random' for standard normal noise. */
  value?: number | readonly number[] | 'random';
}

/**
 * transforms.RandomErasing (Zhong et al. 2017; cutout): with probability p
 * (one draw), up to 10 attempts each draw an area (uniform in scale x H W)
 * and a log-uniform aspect ratio, round h = sqrt(area ratio) and w =
 * sqrt(area / ratio) half to even; the first box smaller than the image in
 * both sides is placed at a uniform top (then left) and erased ('random'
 * draws its C h w normals before the position). When no attempt fits, the
 * image is returned unchanged.
 */
export function randomErasing(options: RandomErasingOptions = {}): Transform {
  checkOptions('randomErasing', options, ['p', 'scale', 'ratio', 'value']);
  const p = checkProbability('randomErasing', options.p ?? 0.5);
  const scale = options.scale ?? [0.02, 0.33];
  const ratio = options.ratio ?? [0.3, 3.3];
  if (!Array.isArray(scale) || scale.length !== 2 || !(scale[0] >= 0 && scale[0] <= scale[1] && scale[1] <= 1)) {
    throw new ValueError(`randomErasing: scale must be [min, max] with 0 <= min <= max <= 1 (fractions of the image's area), got ${JSON.stringify(scale)}`);
  }
  if (!Array.isArray(ratio) || ratio.length !== 2 || !(ratio[0] > 0 && ratio[0] <= ratio[1] && Number.isFinite(ratio[1]))) {
    throw new ValueError(`randomErasing: ratio must be [min, max] with 0 < min <= max (aspect ratios height / width), got ${JSON.stringify(ratio)}`);
  }
  const value = options.value ?? 0;
  if (value !== 'random') fillPerChannel('randomErasing', value as Fill, typeof value === 'number' ? 1 : (value as readonly number[]).length);
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  return (image, generator) => {
    const [c, h, w] = imageDims('randomErasing', image);
    checkGenerator('randomErasing', generator);
    if (!(generator.random() < p)) return copy(image);
    if (value !== 'random') {
      const n = typeof value === 'number' ? 1 : value.length;
      if (n !== 1 && n !== c) throw new ValueError(`randomErasing: value has ${n} numbers but the image has ${c} channels; give one, or one per channel`);
    }
    const area = h * w;
    for (let attempt = 0; attempt < 10; attempt++) {
      const eraseArea = area * generator.uniform(scale[0], scale[1]);
      const aspect = Math.exp(generator.uniform(logRatio[0], logRatio[1]));
      const eh = roundHalfEven(Math.sqrt(eraseArea * aspect));
      const ew = roundHalfEven(Math.sqrt(eraseArea / aspect));
      if (!(eh < h && ew < w)) continue;
      let v: number | readonly number[] | Tensor;
      if (value === 'random') {
        const noise = allocate(image.dtype, c * eh * ew);
        generator.fillNormal(noise, 0, 1);
        v = new Tensor(noise, [c, eh, ew]);
      } else {
        v = value;
      }
      const i = generator.randint(h - eh + 1);
      const j = generator.randint(w - ew + 1);
      return erase(image, i, j, eh, ew, v);
    }
    return copy(image);
  };
}

/**
 * Applies `transform` to each image of a batch [N, C, H, W] in order, all
 * drawing from `generator`, and stacks the results into [N, C', H', W'] (the
 * same seed gives the same bytes). Every result must have the same shape.
 */
export function transformBatch(images: Tensor, transform: Transform, generator: Generator): Tensor {
  if (!(images instanceof Tensor)) throw new ValueError(`transformBatch: images must be a Tensor [N, C, H, W], got ${images === null ? 'null' : typeof images}`);
  if (images.ndim !== 4) throw new ShapeError(`transformBatch: images must have shape [N, C, H, W], got ${fmtShape(images.shape)}; for one image call the transform itself`);
  if (typeof transform !== 'function') throw new ValueError(`transformBatch: transform must be a function (image, generator) => image, got ${typeof transform}`);
  checkGenerator('transformBatch', generator);
  const [n, c, h, w] = images.shape;
  const per = c * h * w;
  let out: Float32Array | Float64Array | null = null;
  let shape: readonly number[] = [c, h, w];
  for (let k = 0; k < n; k++) {
    const image = new Tensor(images.data.subarray(k * per, (k + 1) * per), [c, h, w]);
    const r = transform(image, generator);
    if (!(r instanceof Tensor) || r.ndim !== 3) throw new ShapeError(`transformBatch: the transform must return an image [C, H, W], got ${r instanceof Tensor ? fmtShape(r.shape) : typeof r} for image ${k}`);
    if (out === null) {
      shape = r.shape;
      out = allocate(images.dtype, n * r.size);
    } else if (r.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`transformBatch: image ${k} came out ${fmtShape(r.shape)} but image 0 ${fmtShape(shape)}; a batch needs one shape (give the crop a fixed size)`);
    }
    out.set(r.data, k * r.size);
  }
  return new Tensor(out ?? allocate(images.dtype, 0), [n, ...shape]);
}

