import { DataError, ValueError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { checkInt, checkOptions } from '../validate.js';

/**
 * Images as float arrays: decoding PNG and JPEG files, writing PNG, channel
 * conversion, resizing and centre cropping. Isomorphic: the decoders are
 * pure-JavaScript packages (`fast-png`, `jpeg-js`) imported on first use, so
 * this module loads in a browser and pulls nothing in until an image is
 * decoded or encoded (the compiled library has no static package imports).
 *
 * The representation is one image, channels first, as a tensor's [C, H, W]
 * without the tensor: `{ data: Float32Array, channels, height, width }`, with
 * `data[(c * height + y) * width + x]` in 0..1. Decoding keeps the file's own
 * channels (grey 1, grey + alpha 2, RGB 3, RGB + alpha 4); `convertChannels`
 * turns them into what a model takes, as PIL's `Image.convert` does.
 */

/** One image, channels first: `data[(c * height + y) * width + x]`, values 0..1. */
export interface FloatImage {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

export type ImageFormat = 'png' | 'jpeg';

/** What decodeImage returns: the pixels and what the file held. */
export interface DecodedImage extends FloatImage {
  format: ImageFormat;
  /** Bits per sample in the file: 1, 2, 4, 8 or 16 for PNG (a palette's index size for palette PNGs), 8 for JPEG. */
  bitDepth: number;
  /** The PNG stored palette indices (expanded here to RGB, or RGBA when it has a tRNS chunk). */
  palette: boolean;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The format of an image file from its first bytes, or null for neither PNG nor JPEG. */
export function imageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/** Names formats that are recognisable but not decoded, for the error message. */
function otherFormat(bytes: Uint8Array): string | null {
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'a GIF image';
  if (bytes.length >= 2 && ascii(0, 2) === 'BM') return 'a BMP image';
  if (bytes.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'a WebP image';
  if (bytes.length >= 4 && ((bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 0x2a && bytes[3] === 0) || (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && bytes[3] === 0x2a))) return 'a TIFF image';
  if (bytes.length >= 12 && ascii(4, 8) === 'ftyp') return `an ISO media file (${ascii(8, 12).trim()}: AVIF or HEIC)`;
  return null;
}

type FastPng = typeof import('fast-png');
type JpegJs = typeof import('jpeg-js');
let fastPng: Promise<FastPng> | null = null;
let jpegJs: Promise<JpegJs> | null = null;

function loadFastPng(): Promise<FastPng> {
  fastPng ??= import('fast-png');
  return fastPng;
}

function loadJpegJs(): Promise<JpegJs> {
  // A CommonJS package: Node gives its exports as `default` (and as names); bundlers as either.
  jpegJs ??= import('jpeg-js').then((m) => ((m as unknown as { default?: JpegJs }).default ?? m) as JpegJs);
  return jpegJs;
}

function hex(bytes: Uint8Array, n: number): string {
  return Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function checkBytes(where: string, bytes: unknown, source: unknown): asserts bytes is Uint8Array {
  if (typeof source !== 'string') throw new ValueError(`${where}: source must be a string naming where the bytes came from (a file path), got ${typeof source}`);
  if (!(bytes instanceof Uint8Array)) {
    throw new ValueError(`${where}: bytes must be a Uint8Array (a Node Buffer is one), got ${bytes === null ? 'null' : typeof bytes === 'object' ? bytes.constructor.name : typeof bytes}`);
  }
}

/**
 * Decodes a PNG or JPEG file, recognised by its first bytes (not by its
 * name), into a FloatImage with the file's own channels: grey 1, grey +
 * alpha 2, RGB 3, RGBA 4. Values are sample / (2^bitDepth - 1): 8-bit
 * samples / 255, 16-bit samples / 65535 (torchvision's scaling of a
 * uint16 image to float), 1-, 2- and 4-bit grey as PIL expands them to 8
 * bits (x 255, 85, 17) and then / 255. Palette PNGs are expanded through the
 * palette (RGB, or RGBA when a tRNS chunk gives alpha). A greyscale JPEG
 * gives 1 channel, a colour (YCbCr, RGB or Adobe CMYK) JPEG 3.
 *
 * PNG chunk CRCs are checked. A file that does not decode (empty, another
 * format, truncated, corrupt, a palette index past the palette's end) is a
 * DataError naming `source` and what was wrong. Returns a promise because the
 * decoder packages are loaded on first use.
 */
export async function decodeImage(bytes: Uint8Array, source: string): Promise<DecodedImage> {
  checkBytes('decodeImage', bytes, source);
  const format = imageFormat(bytes);
  if (format === 'png') return decodePngBytes(await loadFastPng(), bytes, source);
  if (format === 'jpeg') return decodeJpegBytes(await loadJpegJs(), bytes, source);
  if (bytes.length === 0) throw new DataError(`decodeImage: ${source} is empty (0 bytes); expected a PNG or JPEG file`);
  const other = otherFormat(bytes);
  throw new DataError(
    other !== null
      ? `decodeImage: ${source} is ${other}; only PNG and JPEG are decoded: convert it (e.g. to PNG) first`
      : `decodeImage: ${source} is neither PNG nor JPEG: it starts with bytes ${hex(bytes, 8)}, but a PNG starts with 89 50 4e 47 0d 0a 1a 0a and a JPEG with ff d8 ff (is the file damaged, or not an image?)`,
  );
}

/** Why a PNG's chunk list is cut short (a chunk running past the end, or no IEND chunk), or null when it is whole. */
function pngTruncation(bytes: Uint8Array): string | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = 8;
  while (i + 8 <= bytes.length) {
    const length = view.getUint32(i);
    const type = String.fromCharCode(bytes[i + 4], bytes[i + 5], bytes[i + 6], bytes[i + 7]);
    if (i + 12 + length > bytes.length) return `its ${type} chunk at byte ${i} needs ${12 + length} bytes but ${bytes.length - i} remain`;
    if (type === 'IEND') return null;
    i += 12 + length;
  }
  return 'it ends without the IEND chunk that closes every PNG';
}

/** The deflate format's largest expansion: 1032 bytes out per byte in (258 copied per 2 bits, zlib's figure). */
const DEFLATE_MAX_RATIO = 1032;

/**
 * Why the header's image cannot come from the compressed data (its filtered
 * rows are more bytes than the IDAT chunks could inflate to), or null.
 * Checked before decoding, so that a header claiming a huge image over a few
 * bytes is refused before the decoder allocates for it.
 */
function pngOversized(bytes: Uint8Array): string | null {
  if (bytes.length < 33) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = bytes[24];
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[bytes[25]] ?? 4;
  let compressed = 0;
  for (let i = 8; i + 8 <= bytes.length; ) {
    const length = view.getUint32(i);
    if (String.fromCharCode(bytes[i + 4], bytes[i + 5], bytes[i + 6], bytes[i + 7]) === 'IDAT') compressed += length;
    i += 12 + length;
  }
  const rows = height * (1 + Math.ceil((width * channels * depth) / 8));
  if (rows <= DEFLATE_MAX_RATIO * compressed + 64) return null;
  return `its header gives a ${width}x${height} image (${rows} bytes of rows), which its ${compressed} bytes of image data cannot hold (deflate expands at most ${DEFLATE_MAX_RATIO} times)`;
}

function decodePngBytes(png: FastPng, bytes: Uint8Array, source: string): DecodedImage {
  const cut = pngTruncation(bytes);
  if (cut !== null) {
    throw new DataError(`decodeImage: ${source}: truncated PNG: ${cut} (the file was cut short: copy or download it again)`);
  }
  const oversized = pngOversized(bytes);
  if (oversized !== null) throw new DataError(`decodeImage: ${source}: corrupt PNG: ${oversized}`);
  // IHDR: bit depth at byte 24, interlace method at byte 28. fast-png de-interlaces samples of whole bytes
  // only, so an interlaced 1-, 2- or 4-bit image would come out wrong: refuse it rather than guess.
  if (bytes.length > 28 && bytes[28] === 1 && bytes[24] < 8) {
    throw new DataError(
      `decodeImage: ${source}: an interlaced (Adam7) PNG with ${bytes[24]}-bit samples is not supported (interlaced PNGs of 8 or 16 bits are); ` +
        'save it without interlacing or with 8-bit samples (e.g. PIL: Image.open(f).convert("L").save(f))',
    );
  }
  let decoded: ReturnType<FastPng['decode']>;
  try {
    decoded = png.decode(bytes, { checkCrc: true });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof RangeError) {
      throw new DataError(`decodeImage: ${source}: truncated PNG: its ${bytes.length} bytes end before the image data does (the file was cut short: copy or download it again)`);
    }
    throw new DataError(`decodeImage: ${source}: corrupt PNG: ${message}`);
  }
  const { width, height, depth } = decoded;
  if (width < 1 || height < 1) throw new DataError(`decodeImage: ${source}: the PNG header gives a ${width}x${height} image; width and height must be >= 1`);
  const pixels = width * height;
  const src = decoded.data;
  if (decoded.palette !== undefined && decoded.channels === 1) {
    const palette = decoded.palette;
    const channels = palette.some((c) => c.length === 4) ? 4 : 3;
    const indices = unpackSamples(src, width, height, depth);
    const data = new Float32Array(channels * pixels);
    for (let p = 0; p < pixels; p++) {
      const entry = palette[indices[p]];
      if (entry === undefined) {
        throw new DataError(`decodeImage: ${source}: corrupt PNG: pixel (${p % width}, ${Math.floor(p / width)}) has palette index ${indices[p]} but the palette holds ${palette.length} colours`);
      }
      for (let c = 0; c < channels; c++) data[c * pixels + p] = (entry[c] ?? 255) / 255;
    }
    return { data, channels, height, width, format: 'png', bitDepth: depth, palette: true };
  }
  const channels = decoded.channels;
  const expected = depth < 8 ? height * Math.ceil((width * depth) / 8) : pixels * channels;
  if (src.length !== expected) {
    throw new DataError(`decodeImage: ${source}: corrupt PNG: the image data holds ${src.length} samples but a ${width}x${height} ${channels}-channel ${depth}-bit image needs ${expected}`);
  }
  const data = new Float32Array(channels * pixels);
  if (depth < 8) {
    // Only grey images have fewer than 8 bits per sample.
    const levels = unpackSamples(src, width, height, depth);
    const scale = 1 / ((1 << depth) - 1);
    for (let p = 0; p < pixels; p++) data[p] = levels[p] * scale;
  } else {
    const scale = 1 / (depth === 16 ? 65535 : 255);
    for (let c = 0; c < channels; c++) {
      const plane = c * pixels;
      for (let p = 0, s = c; p < pixels; p++, s += channels) data[plane + p] = src[s] * scale;
    }
  }
  return { data, channels, height, width, format: 'png', bitDepth: depth, palette: false };
}

/** One value per pixel from rows of packed 1-, 2-, 4- or 8-bit samples (each row starts on a byte). */
function unpackSamples(src: ArrayLike<number>, width: number, height: number, depth: number): Uint8Array | Uint16Array {
  if (depth >= 8) return src as Uint8Array;
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = src[y * rowBytes + (bit >> 3)];
      out[y * width + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/** A JPEG's frame header (SOFn): its height, width and number of components, or null when there is none before the scan. */
function jpegFrame(bytes: Uint8Array): { height: number; width: number; components: number } | null {
  let i = 2;
  while (i + 3 < bytes.length) {
    if (bytes[i] !== 0xff) return null;
    const marker = bytes[i + 1];
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return null;
    const length = (bytes[i + 2] << 8) | bytes[i + 3];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (i + 9 >= bytes.length) return null;
      return { height: (bytes[i + 5] << 8) | bytes[i + 6], width: (bytes[i + 7] << 8) | bytes[i + 8], components: bytes[i + 9] };
    }
    i += 2 + length;
  }
  return null;
}

/**
 * Every 8x8 block of a JPEG costs at least one bit of its data (a baseline
 * block two: its DC code and the end of block; a progressive DC scan one per
 * block), so a file of B bytes holds at most 64 x 8 x B pixels. A header
 * claiming more is refused before the decoder allocates for it.
 */
const JPEG_MAX_PIXELS_PER_BYTE = 512;

function decodeJpegBytes(jpeg: JpegJs, bytes: Uint8Array, source: string): DecodedImage {
  const frame = jpegFrame(bytes);
  if (frame !== null && frame.height * frame.width > JPEG_MAX_PIXELS_PER_BYTE * bytes.length) {
    throw new DataError(
      `decodeImage: ${source}: JPEG does not decode: its header gives a ${frame.width}x${frame.height} image, more pixels than its ${bytes.length} bytes can code (at most ${JPEG_MAX_PIXELS_PER_BYTE} per byte); the file is damaged`,
    );
  }
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    // Not tolerant: a cut or damaged file is an error, as PIL's default, not an image filled with grey.
    decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const hint = /marker was not found|unknown JPEG marker 0|outside the bounds|undefined/i.test(message)
      ? ' (the data ends or breaks off early: the file is truncated or damaged; copy or download it again)'
      : '';
    throw new DataError(`decodeImage: ${source}: JPEG does not decode: ${message}${hint}`);
  }
  const { width, height, data: rgb } = decoded;
  if (!(width >= 1 && height >= 1) || rgb.length !== width * height * 3) {
    throw new DataError(`decodeImage: ${source}: JPEG does not decode: it gave a ${width}x${height} image with ${rgb.length} samples`);
  }
  const pixels = width * height;
  const channels = frame?.components === 1 ? 1 : 3;
  const data = new Float32Array(channels * pixels);
  for (let c = 0; c < channels; c++) {
    const plane = c * pixels;
    for (let p = 0, s = c; p < pixels; p++, s += 3) data[plane + p] = rgb[s] / 255;
  }
  return { data, channels, height, width, format: 'jpeg', bitDepth: 8, palette: false };
}

function checkImage(where: string, image: unknown): asserts image is FloatImage {
  const im = image as FloatImage;
  if (im === null || typeof im !== 'object' || !(im.data instanceof Float32Array)) {
    throw new ValueError(`${where}: image must be { data: Float32Array, channels, height, width } (as decodeImage returns), got ${im === null ? 'null' : typeof im}`);
  }
  for (const key of ['channels', 'height', 'width'] as const) checkInt(where, `image.${key}`, im[key], 1);
  const n = im.channels * im.height * im.width;
  if (im.data.length !== n) {
    throw new ValueError(`${where}: image is ${im.channels}x${im.height}x${im.width} (${n} values) but its data holds ${im.data.length}`);
  }
}

/**
 * Converts an image to 1 (grey), 3 (RGB) or 4 (RGBA) channels as PIL's
 * `Image.convert('L' | 'RGB' | 'RGBA')` does:
 * - grey to RGB replicates the grey level in each channel;
 * - RGB to grey is ITU-R 601-2 luma, L = R * 299/1000 + G * 587/1000 + B * 114/1000
 *   (kept in float: PIL rounds it to 8 bits, so the two differ by at most half a level, 0.5/255);
 * - alpha is dropped, not composited over a background (grey + alpha to grey
 *   or RGB, RGBA to RGB or grey), as PIL's convert('RGB') and convert('L') do;
 * - to RGBA, a missing alpha is 1 (opaque).
 * Returns the image itself when it already has `channels`.
 */
export function convertChannels(image: FloatImage, channels: number): FloatImage {
  checkImage('convertChannels', image);
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new ValueError(`convertChannels: channels must be 1 (grey), 3 (RGB) or 4 (RGBA), got ${JSON.stringify(channels)}`);
  }
  const from = image.channels;
  if (from > 4) throw new ValueError(`convertChannels: image has ${from} channels; images have 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA)`);
  if (from === channels) return image;
  const pixels = image.height * image.width;
  const src = image.data;
  const out = new Float32Array(channels * pixels);
  const colour = from >= 3;
  const hasAlpha = from === 2 || from === 4;
  if (channels === 1) {
    if (colour) {
      for (let p = 0; p < pixels; p++) out[p] = (src[p] * 299 + src[pixels + p] * 587 + src[2 * pixels + p] * 114) / 1000;
    } else {
      out.set(src.subarray(0, pixels));
    }
  } else {
    for (let c = 0; c < 3; c++) out.set(src.subarray((colour ? c : 0) * pixels, ((colour ? c : 0) + 1) * pixels), c * pixels);
    if (channels === 4) {
      if (hasAlpha) out.set(src.subarray((from - 1) * pixels, from * pixels), 3 * pixels);
      else out.fill(1, 3 * pixels);
    }
  }
  return { data: out, channels, height: image.height, width: image.width };
}

export interface ResizeOptions {
  /** Only 'bilinear' (torchvision's default for resize). */
  mode?: 'bilinear';
  /**
   * Low-pass filter when shrinking (default true, torchvision's default): each
   * output pixel averages the input pixels under a triangle stretched by the
   * scale factor, as PIL's resize and torchvision's antialias=True do, instead
   * of sampling the two nearest, which aliases fine detail.
   */
  antialias?: boolean;
}

/** For each output index along one axis, the first input index and the weights of the inputs it averages. */
interface AxisTaps {
  start: Int32Array;
  count: Int32Array;
  weights: Float64Array;
  maxTaps: number;
}

/**
 * The weights of torch's `interpolate(mode='bilinear', align_corners=False)`
 * along one axis. With antialias (aten's separable `_upsample_bilinear2d_aa`,
 * PIL's algorithm): scale = in / out, support = max(scale, 1), output i has
 * centre scale * (i + 0.5) and averages inputs j in [centre - support + 0.5,
 * centre + support + 0.5) (clipped to the image) with weights
 * tri((j - centre + 0.5) / max(scale, 1)), tri(x) = max(0, 1 - |x|),
 * normalised to sum to 1. Without: source x = max(scale * (i + 0.5) - 0.5, 0)
 * and the two inputs around it.
 */
function axisTaps(inSize: number, outSize: number, antialias: boolean): AxisTaps {
  const scale = inSize / outSize;
  if (antialias) {
    const support = scale >= 1 ? scale : 1;
    const invScale = scale >= 1 ? 1 / scale : 1;
    const maxTaps = Math.ceil(support) * 2 + 1;
    const start = new Int32Array(outSize);
    const count = new Int32Array(outSize);
    const weights = new Float64Array(outSize * maxTaps);
    for (let i = 0; i < outSize; i++) {
      const centre = scale * (i + 0.5);
      const xmin = Math.max(Math.trunc(centre - support + 0.5), 0);
      const xsize = Math.min(Math.trunc(centre + support + 0.5), inSize) - xmin;
      let total = 0;
      for (let j = 0; j < xsize; j++) {
        const x = Math.abs((j + xmin - centre + 0.5) * invScale);
        const w = x < 1 ? 1 - x : 0;
        weights[i * maxTaps + j] = w;
        total += w;
      }
      if (total !== 0) for (let j = 0; j < xsize; j++) weights[i * maxTaps + j] /= total;
      start[i] = xmin;
      count[i] = xsize;
    }
    return { start, count, weights, maxTaps };
  }
  const maxTaps = 2;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * maxTaps);
  for (let i = 0; i < outSize; i++) {
    const src = Math.max(scale * (i + 0.5) - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const l1 = Math.min(src - i0, 1);
    start[i] = i0;
    count[i] = i0 < inSize - 1 ? 2 : 1;
    weights[i * maxTaps] = count[i] === 2 ? 1 - l1 : 1;
    weights[i * maxTaps + 1] = count[i] === 2 ? l1 : 0;
  }
  return { start, count, weights, maxTaps };
}

/**
 * Resizes an image to height x width as torchvision's
 * `transforms.functional.resize(img, [height, width], antialias=True)` does on
 * a float tensor (torch's bilinear interpolation with align_corners=False):
 * separable, the width first and then the height, an axis whose size does not
 * change left as it is. Values stay within the input's range (the weights are
 * non-negative and sum to 1). Returns a new image.
 */
export function resizeImage(image: FloatImage, height: number, width: number, options: ResizeOptions = {}): FloatImage {
  checkImage('resizeImage', image);
  checkInt('resizeImage', 'height', height, 1);
  checkInt('resizeImage', 'width', width, 1);
  checkOptions('resizeImage', options, ['mode', 'antialias']);
  const mode = options.mode ?? 'bilinear';
  if (mode !== 'bilinear') throw new ValueError(`resizeImage: mode must be 'bilinear', got ${JSON.stringify(mode)}`);
  const antialias = options.antialias ?? true;
  if (typeof antialias !== 'boolean') throw new ValueError(`resizeImage: antialias must be true or false, got ${JSON.stringify(antialias)}`);
  const { channels, height: inH, width: inW } = image;
  let data = image.data;
  if (width !== inW) {
    const taps = axisTaps(inW, width, antialias);
    const out = new Float32Array(channels * inH * width);
    for (let row = 0; row < channels * inH; row++) {
      const src = row * inW;
      const dst = row * width;
      for (let x = 0; x < width; x++) {
        const s = src + taps.start[x];
        const w0 = x * taps.maxTaps;
        let acc = 0;
        for (let j = 0; j < taps.count[x]; j++) acc += data[s + j] * taps.weights[w0 + j];
        out[dst + x] = acc;
      }
    }
    data = out;
  }
  if (height !== inH) {
    const taps = axisTaps(inH, height, antialias);
    const out = new Float32Array(channels * height * width);
    const acc = new Float64Array(width);
    for (let c = 0; c < channels; c++) {
      const plane = c * inH * width;
      for (let y = 0; y < height; y++) {
        acc.fill(0);
        const w0 = y * taps.maxTaps;
        for (let j = 0; j < taps.count[y]; j++) {
          const w = taps.weights[w0 + j];
          const src = plane + (taps.start[y] + j) * width;
          for (let x = 0; x < width; x++) acc[x] += data[src + x] * w;
        }
        out.set(acc, (c * height + y) * width);
      }
    }
    data = out;
  }
  if (data === image.data) data = data.slice();
  return { data, channels, height, width };
}

/**
 * Crops the centre height x width of an image as torchvision's
 * `transforms.functional.center_crop`: top = round((H - height) / 2), left =
 * round((W - width) / 2) with Python's round (halves to even). A crop larger
 * than the image pads it with zeros first, as torchvision does
 * (left/top (crop - size) // 2, right/bottom the rest). Returns a new image.
 */
export function centerCropImage(image: FloatImage, height: number, width: number): FloatImage {
  checkImage('centerCropImage', image);
  checkInt('centerCropImage', 'height', height, 1);
  checkInt('centerCropImage', 'width', width, 1);
  const { channels, height: inH, width: inW, data } = image;
  // The image's top-left corner in the output (negative: cropped away).
  const offY = inH >= height ? -roundHalfEven((inH - height) / 2) : Math.floor((height - inH) / 2);
  const offX = inW >= width ? -roundHalfEven((inW - width) / 2) : Math.floor((width - inW) / 2);
  const out = new Float32Array(channels * height * width);
  const y0 = Math.max(0, offY);
  const y1 = Math.min(height, offY + inH);
  const x0 = Math.max(0, offX);
  const x1 = Math.min(width, offX + inW);
  for (let c = 0; c < channels; c++) {
    for (let y = y0; y < y1; y++) {
      const src = (c * inH + (y - offY)) * inW - offX;
      out.set(data.subarray(src + x0, src + x1), (c * height + y) * width + x0);
    }
  }
  return { data: out, channels, height, width };
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The size an image of inH x inW is resized to before a centre crop of
 * height x width: the smallest that covers the crop at the image's aspect
 * ratio. The side that binds gets the crop's size exactly; the other side
 * is int(crop * other / binding), torchvision's rule for the long side in
 * `Resize(size)`. For a square crop this is `Resize(height)`: the shorter
 * side becomes `height`.
 */
export function coverSize(inH: number, inW: number, height: number, width: number): [number, number] {
  for (const [name, v] of [['inH', inH], ['inW', inW], ['height', height], ['width', width]] as const) checkInt('coverSize', name, v, 1);
  // Compare height / inH with width / inW without dividing.
  if (height * inW >= width * inH) return [height, Math.max(width, Math.trunc((height * inW) / inH))];
  return [Math.max(height, Math.trunc((width * inH) / inW)), width];
}

/**
 * Brings an image to a model's input shape [C, H, W]: channels as
 * convertChannels (PIL's convert), then resized (bilinear, antialiased, as
 * torchvision) to the smallest size that covers H x W at the image's own
 * aspect ratio (coverSize), then the centre H x W cropped. For a square
 * input this is torchvision's `Resize(H)` + `CenterCrop(H)`; for a
 * non-square one it is `Resize(coverSize(...))` + `CenterCrop((H, W))`,
 * which, unlike `Resize(min(H, W))`, never leaves zero padding at the
 * edges. Nothing is stretched, and nothing is resized when the image is
 * H x W already.
 */
export function fitImage(image: FloatImage, inputShape: readonly number[]): FloatImage {
  checkImage('fitImage', image);
  if (!Array.isArray(inputShape) || inputShape.length !== 3 || !inputShape.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new ValueError(`fitImage: inputShape must be [C, H, W], three whole numbers >= 1 (e.g. [3, 32, 32]), got ${JSON.stringify(inputShape)}`);
  }
  const [c, h, w] = inputShape;
  // Fewer channels first (less to resize); more channels after (the copies are exact either way, and both steps are linear).
  let out = c < image.channels ? convertChannels(image, c) : image;
  const [rh, rw] = coverSize(out.height, out.width, h, w);
  if (rh !== out.height || rw !== out.width) out = resizeImage(out, rh, rw);
  if (rh !== h || rw !== w) out = centerCropImage(out, h, w);
  if (out.channels !== c) out = convertChannels(out, c);
  return out === image ? { ...image, data: image.data.slice() } : out;
}

/** A FloatImage view of a [C, H, W] (or [H, W], grey) tensor. */
export function imageFromTensor(t: Tensor): FloatImage {
  if (!(t instanceof Tensor)) throw new ValueError(`imageFromTensor: expected a Tensor [C, H, W], got ${t === null ? 'null' : typeof t}`);
  if (t.ndim !== 3 && t.ndim !== 2) throw new ValueError(`imageFromTensor: expected a Tensor [C, H, W] or [H, W], got shape [${t.shape.join(', ')}]`);
  const [channels, height, width] = t.ndim === 3 ? t.shape : [1, ...t.shape];
  const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
  return { data, channels, height, width };
}

/**
 * Encodes an image as an 8-bit PNG: grey (1 channel), RGB (3) or RGBA (4).
 * `image` is a FloatImage or a Tensor [C, H, W] ([H, W] for grey) with values
 * in 0..1; each becomes round(clamp(v, 0, 1) * 255), so decodeImage gives
 * back the values to within half a level (0.5 / 255). NaN is a ValueError.
 * Returns a promise because the encoder package is loaded on first use.
 */
export async function encodePng(image: FloatImage | Tensor): Promise<Uint8Array> {
  const im = image instanceof Tensor ? imageFromTensor(image) : image;
  checkImage('encodePng', im);
  const { channels, height, width, data } = im;
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new ValueError(`encodePng: a PNG holds 1 (grey), 3 (RGB) or 4 (RGBA) channels, got ${channels}; use convertChannels first`);
  }
  const pixels = height * width;
  const bytes = new Uint8Array(pixels * channels);
  for (let c = 0; c < channels; c++) {
    for (let p = 0; p < pixels; p++) {
      const v = data[c * pixels + p];
      if (Number.isNaN(v)) throw new ValueError(`encodePng: the value at channel ${c}, pixel (${p % width}, ${Math.floor(p / width)}) is NaN; images hold numbers in 0..1`);
      bytes[p * channels + c] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  }
  const png = await loadFastPng();
  return png.encode({ width, height, data: bytes, channels, depth: 8 });
}
