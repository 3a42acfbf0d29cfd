/**
 * The pictures the #/kernels page filters: the bundled sample photo, a test
 * pattern drawn here (straight edges, a disc, a ramp and fine stripes, whose
 * filter responses are easy to predict), or an image the reader opens, which
 * the browser decodes itself (createImageBitmap) and which never leaves the
 * page. Pixel values stay 0..255 integers, as in an 8-bit image file, so the
 * sums the page writes out are exact.
 */

/** An image as channel planes, values 0..255 (integers). */
export interface Picture {
  /** What to call it on the page. */
  name: string;
  height: number;
  width: number;
  /** Red, green and blue planes one after another (3*H*W, row-major). */
  rgb: Float32Array;
  /** Luminance (H*W), 0.299 R + 0.587 G + 0.114 B rounded, as an 8-bit grey image stores it. */
  grey: Float32Array;
}

/** Images larger than this on their long side are scaled down before filtering. */
export const MAX_SIDE = 512;

/** Rec. 601 luminance of every pixel, rounded to an integer (what Pillow's convert('L') stores). */
export function luminance(rgb: Float32Array, height: number, width: number): Float32Array {
  const n = height * width;
  const grey = new Float32Array(n);
  for (let i = 0; i < n; i++) grey[i] = Math.round(0.299 * rgb[i] + 0.587 * rgb[n + i] + 0.114 * rgb[2 * n + i]);
  return grey;
}

function picture(name: string, rgb: Float32Array, height: number, width: number): Picture {
  return { name, height, width, rgb, grey: luminance(rgb, height, width) };
}

/** RGBA bytes (canvas ImageData) to planes; transparent pixels are shown over white. */
function planesOf(data: Uint8ClampedArray, height: number, width: number): Float32Array {
  const n = height * width;
  const rgb = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    const a = data[4 * i + 3] / 255;
    for (let c = 0; c < 3; c++) rgb[c * n + i] = Math.round(data[4 * i + c] * a + 255 * (1 - a));
  }
  return rgb;
}

function canvas2d(width: number, height: number): { canvas: HTMLCanvasElement; ctx: CanvasRenderingContext2D } {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('this browser gives no 2-D canvas, so it cannot read the image');
  return { canvas, ctx };
}

/**
 * Draws a decoded image at most MAX_SIDE pixels on its long side. Large
 * reductions go by halves (each drawImage a 2:1 filter), which aliases far
 * less than one big step.
 */
function downscaled(source: ImageBitmap): { data: Uint8ClampedArray; height: number; width: number } {
  const long = Math.max(source.width, source.height);
  const scale = Math.min(1, MAX_SIDE / long);
  const width = Math.max(1, Math.round(source.width * scale));
  const height = Math.max(1, Math.round(source.height * scale));
  let current: CanvasImageSource = source;
  let cw = source.width;
  let ch = source.height;
  while (cw / 2 >= width && ch / 2 >= height) {
    const half = canvas2d(Math.ceil(cw / 2), Math.ceil(ch / 2));
    half.ctx.imageSmoothingQuality = 'high';
    half.ctx.drawImage(current, 0, 0, half.canvas.width, half.canvas.height);
    current = half.canvas;
    cw = half.canvas.width;
    ch = half.canvas.height;
  }
  const out = canvas2d(width, height);
  out.ctx.imageSmoothingQuality = 'high';
  out.ctx.drawImage(current, 0, 0, width, height);
  return { data: out.ctx.getImageData(0, 0, width, height).data, height, width };
}

async function decode(blob: Blob, name: string): Promise<Picture> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new Error(`${name} could not be read as an image: open a PNG, JPEG, GIF, WebP or BMP file`);
  }
  try {
    const { data, height, width } = downscaled(bitmap);
    return picture(name, planesOf(data, height, width), height, width);
  } finally {
    bitmap.close();
  }
}

/** The bundled sample photo (see public/images/SOURCE.md). */
export async function loadSample(): Promise<Picture> {
  const url = new URL('images/astronaut-256.png', document.baseURI).href;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`the sample photo could not be loaded (${res.status} ${res.statusText}); reload the page`);
  return decode(await res.blob(), 'the sample photo (astronaut Eileen Collins, NASA)');
}

/** An image file the reader chose, scaled down to at most MAX_SIDE pixels on its long side. */
export function loadFile(file: File): Promise<Picture> {
  return decode(file, `“${file.name}”`);
}

/**
 * A 256 x 256 test pattern, drawn pixel by pixel (no antialiasing, the same
 * in every browser): a mid-grey ground; a bright yellow square (straight
 * horizontal and vertical edges); a dark blue disc (edges in every
 * direction); a horizontal ramp from black to white (a linear slope, on which
 * the Laplacian is 0 and Sobel x is constant); vertical stripes of 1, 2 and
 * 4 pixels (which blurs remove); thin horizontal and diagonal lines; a
 * single white dot (whose output is the kernel itself, mirrored).
 */
export function testPattern(size = 256): Picture {
  const n = size * size;
  const rgb = new Float32Array(3 * n);
  const set = (y: number, x: number, r: number, g: number, b: number) => {
    const i = y * size + x;
    rgb[i] = r;
    rgb[n + i] = g;
    rgb[2 * n + i] = b;
  };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let c: [number, number, number] = [128, 128, 128];
      if (y >= 24 && y < 104 && x >= 24 && x < 104) c = [250, 200, 60];
      const dy = y - 64;
      const dx = x - 180;
      if (dy * dy + dx * dx <= 40 * 40) c = [40, 60, 150];
      if (y >= 128 && y < 168 && x >= 16 && x < 240) {
        const g = Math.round((255 * (x - 16)) / 223);
        c = [g, g, g];
      }
      if (y >= 184 && y < 240) {
        if (x >= 16 && x < 80) c = (x & 1) === 0 ? [255, 255, 255] : [0, 0, 0];
        else if (x >= 96 && x < 160) c = ((x >> 1) & 1) === 0 ? [255, 255, 255] : [0, 0, 0];
        else if (x >= 176 && x < 240) c = ((x >> 2) & 1) === 0 ? [255, 255, 255] : [0, 0, 0];
      }
      if (y === 116 && x >= 24 && x < 104) c = [255, 255, 255];
      if (y >= 108 && y < 125 && x === 140 + (y - 108)) c = [255, 255, 255];
      set(y, x, c[0], c[1], c[2]);
    }
  }
  set(116, 200, 255, 255, 255);
  return picture('the test pattern', rgb, size, size);
}
