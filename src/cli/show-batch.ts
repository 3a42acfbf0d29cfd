/**
 * `stride show-batch`: a picture of what a model is fed. The first N images
 * of a seeded shuffle of a split (the order a DataLoader with that seed
 * gives), augmented as `stride train --augment` augments the first batch
 * of its first epoch (the same spec, drawing from batchGenerator(seed, 1, 0)), laid out in a grid with each image's class name written
 * under it, saved as a PNG. Images are shown in 0..1, before normalization,
 * scaled up by a whole factor (nearest neighbour: every pixel stays a sharp
 * square) so that small ones (28x28, 32x32) are large enough to look at.
 * The same command writes the same bytes.
 */
import { DataLoader, Generator, ValueError, encodePng, transforms, type Tensor } from '../index.js';
import { batchGenerator, writeFileAtomic } from '../node.js';
import { DATA_DIR_OPTION, datasets, openDataset } from './datasets.js';
import { consoleIO, type CliIO } from './io.js';
import { integer, oneOf, option, withDefaults, type CliCommand, type OptionValues } from './options.js';
import { TRAIN_OPTIONS, resolveAugment } from './train.js';

/** Glyph width and height of the built-in font, in pixels. */
export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;

/**
 * A 5x7 bitmap font of printable ASCII (32 ' ' to 126 '~'), one entry per
 * character in code order: 7 rows, top first, each a base-32 digit whose 5
 * bits are the row's pixels, the leftmost the highest bit.
 */
const FONT = '0000000 4444404 aaa0000 aavavaa 4fke5u4 op248j3 cik8lid 4480000 2488842 8422248 04lel40 044v440 0000c48 000v000 00000cc 01248g0 ehjlphe 4c4444e eh1248v v2421he 26aiv22 vgu11he 68guhhe v124888 ehhehhe ehhf12c 0cc0cc0 0cc0c48 248g842 00v0v00 8421248 eh12404 eh1dlle ehhvhhh uhhuhhu ehggghe sihhhis vgguggv vgguggg ehgnhhf hhhvhhh e44444e 72222ic hikokih ggggggv hrllhhh hhpljhh ehhhhhe uhhuggg ehhhlid uhhukih fgge11u v444444 hhhhhhe hhhhha4 hhhllla hha4ahh hha4444 v1248gv e88888e 0g84210 e22222e 4ah0000 000000v 8420000 00e1fhf ggmphhu 00egghe 11djhhf 00ehvge 698s888 0fhhf1e ggmphhh 40c444e 20622ic ggikoki c44444e 00qllhh 00mphhh 00ehhhe 00uhugg 00djf11 00mpggg 00ege1u 88s8896 00hhhjd 00hhha4 00hhlla 00ha4ah 00hhf1e 00v248v 2448442 4444444 8442448 008l200'.split(' ');

/**
 * The pixels of `ch` in the built-in 5x7 font: 7 rows of 5 booleans (true
 * is ink). A character outside printable ASCII is drawn as '?'.
 */
export function glyph(ch: string): boolean[][] {
  if (typeof ch !== 'string' || ch.length === 0) throw new ValueError(`glyph: expected one character, got ${JSON.stringify(ch)}`);
  const code = ch.charCodeAt(0);
  const rows = FONT[code >= 32 && code <= 126 ? code - 32 : '?'.charCodeAt(0) - 32];
  return [...rows].map((d) => {
    const bits = parseInt(d, 32);
    return Array.from({ length: GLYPH_WIDTH }, (_, x) => ((bits >> (GLYPH_WIDTH - 1 - x)) & 1) === 1);
  });
}

/** The width in pixels of `text` drawn at `scale`: each glyph and a one-pixel gap after all but the last. */
export function textWidth(text: string, scale = 1): number {
  return text.length === 0 ? 0 : (text.length * (GLYPH_WIDTH + 1) - 1) * scale;
}

/**
 * Draws `text` into the planar image `data` ([C, height, width], values
 * 0..1) with its top-left corner at (x, y), each font pixel a scale x scale
 * square of `value` in every channel; what falls outside is clipped.
 */
export function drawText(data: Float32Array, shape: readonly [number, number, number], text: string, x: number, y: number, scale = 1, value = 1): void {
  const [c, height, width] = shape;
  if (data.length !== c * height * width) throw new ValueError(`drawText: data holds ${data.length} values, not ${c}x${height}x${width}`);
  if (!Number.isInteger(scale) || scale < 1) throw new ValueError(`drawText: scale must be a whole number >= 1, got ${scale}`);
  [...text].forEach((ch, k) => {
    const left = x + k * (GLYPH_WIDTH + 1) * scale;
    glyph(ch).forEach((row, gy) => row.forEach((ink, gx) => {
      if (!ink) return;
      for (let dy = 0; dy < scale; dy++) {
        const py = y + gy * scale + dy;
        if (py < 0 || py >= height) continue;
        for (let dx = 0; dx < scale; dx++) {
          const px = left + gx * scale + dx;
          if (px < 0 || px >= width) continue;
          for (let ch2 = 0; ch2 < c; ch2++) data[(ch2 * height + py) * width + px] = value;
        }
      }
    }));
  });
}

/** The geometry of a grid of labelled images. */
export interface GridLayout {
  columns: number;
  rows: number;
  /** The factor every image is scaled up by (nearest neighbour). */
  scale: number;
  /** One cell's image, scaled: height and width in pixels. */
  cellHeight: number;
  cellWidth: number;
  /** The label strip under each image: its height, and the font's scale in it. */
  labelHeight: number;
  textScale: number;
  /** Pixels between cells and around the grid. */
  gap: number;
  /** The whole picture. */
  height: number;
  width: number;
}

/** Images are scaled up by the whole factor that brings their longer side nearest this many pixels (28 -> 84, 32 -> 96, 56 -> 112). */
const TARGET_SIDE = 96;
const GAP = 4;
const BACKGROUND = 0.12;

/**
 * The layout of `count` images of h x w: a near-square grid, images scaled up
 * to about TARGET_SIDE pixels, a label strip under each, its text at double
 * size when the cell is wide enough for the longest label (`longest`
 * characters) at that size.
 */
export function gridLayout(count: number, h: number, w: number, longest = 0): GridLayout {
  const columns = Math.ceil(Math.sqrt(count));
  const rows = Math.ceil(count / columns);
  const scale = Math.max(1, Math.round(TARGET_SIDE / Math.max(h, w)));
  const cellHeight = h * scale;
  const cellWidth = w * scale;
  const textScale = cellWidth >= 72 && textWidth('x'.repeat(longest), 2) <= cellWidth ? 2 : 1;
  const labelHeight = (GLYPH_HEIGHT + 4) * textScale;
  return {
    columns, rows, scale, cellHeight, cellWidth, labelHeight, textScale, gap: GAP,
    height: GAP + rows * (cellHeight + labelHeight + GAP), width: GAP + columns * (cellWidth + GAP),
  };
}

/**
 * The grid picture of `images` [N, C, H, W] (values 0..1; C 1 gives a grey
 * picture, C 3 or 4 an RGB one, alpha dropped) with `labels[i]` written under
 * image i (cut to the cell's width, the cut shown by a final '~'). Returns the
 * planar picture and its layout.
 */
export function renderGrid(images: Tensor, labels: readonly string[]): { data: Float32Array; channels: number; layout: GridLayout } {
  if (images.ndim !== 4) throw new ValueError(`renderGrid: images must be [N, C, H, W], got [${images.shape.join(', ')}]`);
  const [n, c, h, w] = images.shape;
  if (labels.length !== n) throw new ValueError(`renderGrid: ${n} images need ${n} labels, got ${labels.length}`);
  if (n === 0) throw new ValueError('renderGrid: no images to show');
  const layout = gridLayout(n, h, w, Math.max(...labels.map((l) => l.length)));
  const channels = c === 1 ? 1 : 3;
  const { height, width, scale, cellHeight, cellWidth, labelHeight, textScale, columns } = layout;
  const data = new Float32Array(channels * height * width).fill(BACKGROUND);
  const src = images.data;
  for (let i = 0; i < n; i++) {
    const top = GAP + Math.floor(i / columns) * (cellHeight + labelHeight + GAP);
    const left = GAP + (i % columns) * (cellWidth + GAP);
    for (let ch = 0; ch < channels; ch++) {
      const from = Math.min(ch, c - 1);
      for (let y = 0; y < cellHeight; y++) {
        const row = ((i * c + from) * h + Math.floor(y / scale)) * w;
        const out = (ch * height + top + y) * width + left;
        for (let x = 0; x < cellWidth; x++) data[out + x] = Math.min(1, Math.max(0, src[row + Math.floor(x / scale)]));
      }
    }
    const fits = Math.max(1, Math.floor((cellWidth / textScale + 1) / (GLYPH_WIDTH + 1)));
    const text = labels[i].length <= fits ? labels[i] : `${labels[i].slice(0, fits - 1)}~`;
    drawText(data, [channels, height, width], text, left, top + cellHeight + 2 * textScale, textScale, 1);
  }
  return { data, channels, layout };
}

/** The options of `stride show-batch`. */
export const SHOW_BATCH_OPTIONS = {
  dataset: option({
    flags: '--dataset <name>', help: `dataset to show: ${Object.keys(datasets).join(', ')}`, parse: oneOf(Object.keys(datasets), 'dataset'), required: true,
  }),
  dataDir: DATA_DIR_OPTION,
  input: TRAIN_OPTIONS.input,
  augment: { ...TRAIN_OPTIONS.augment, help: "augment the images as stride train --augment does (the same spec; drawn as for the first batch of training with this --seed): 'default' (also --augment alone), 'none' or steps such as 'crop:4,flip'" },
  seed: option({ flags: '--seed <n>', help: 'seed of the shuffle (and of the augmentation)', parse: integer(0, 'an integer >= 0'), default: 0 }),
  count: option({ flags: '--count <n>', help: 'images to show: the first N of the shuffled split', parse: integer(1, 'a whole number of images >= 1'), default: 16 }),
  split: option<'train' | 'test'>({ flags: '--split <name>', help: 'which split', parse: oneOf(['train', 'test'] as const, 'split'), default: 'train', metavar: 'train|test' }),
  out: option<string>({ flags: '--out <file>', help: 'the PNG to write (atomically)', parse: (file) => file, required: true, metavar: 'FILE' }),
};

/** `stride show-batch`. */
export const SHOW_BATCH_COMMAND = {
  name: 'show-batch',
  description: 'Save a PNG grid of a shuffled batch of a dataset (augmented as training would), each image labelled with its class',
  options: SHOW_BATCH_OPTIONS,
  afterHelp: `
Images are shown as the model would see them before normalization, scaled
up by a whole factor (nearest neighbour) to about ${TARGET_SIDE} pixels a side,
with the class name in a built-in 5x7 font under each. The same command
writes the same bytes. Example:
  stride show-batch --dataset mnist --augment --out batch.png`,
} satisfies CliCommand;

export type ShowBatchOptions = OptionValues<typeof SHOW_BATCH_OPTIONS>;

export interface ShowBatchSummary {
  path: string;
  width: number;
  height: number;
  columns: number;
  rows: number;
  /** The class index of each image shown, in grid order (row by row). */
  labels: number[];
  /** The class name of each image shown. */
  classes: string[];
  /** The augmentation applied (its normal form), or 'none'. */
  augment: string;
  bytes: number;
}

/** Runs `stride show-batch`: loads the split, shuffles, augments, renders and writes the grid; reports what was written. */
export async function runShowBatch(options: ShowBatchOptions, io: CliIO = consoleIO()): Promise<ShowBatchSummary> {
  const given = withDefaults(SHOW_BATCH_OPTIONS, options) as Required<Pick<ShowBatchOptions, 'seed' | 'count' | 'split'>> & ShowBatchOptions;
  if (given.dataset === undefined) throw new ValueError('stride show-batch: name the dataset with --dataset');
  if (given.out === undefined) throw new ValueError('stride show-batch: name the PNG to write with --out FILE');
  const raw = { mean: 0, std: 1 };
  // The images in 0..1: a dataset that computes its normalization from its training images is told not to.
  const data = await openDataset(given.dataset, { dataDir: given.dataDir, input: given.input, normalization: raw });
  const split = await data.load(given.split, undefined, raw);
  const total = split.images.shape[0];
  if (total === 0) throw new ValueError(`the ${given.split} split of ${given.dataset} has no images`);
  const count = Math.min(given.count, total);
  const loader = new DataLoader({ images: split.images, labels: split.labels }, { batchSize: count, shuffle: true, generator: new Generator(given.seed) });
  const first = loader[Symbol.iterator]().next();
  if (first.done === true) throw new ValueError(`the ${given.split} split of ${given.dataset} has no images`);
  let { x } = first.value;
  const labels = Array.from(first.value.y.data, Number);
  const plan = resolveAugment(given.augment ?? 'none', given.dataset, data.inputShape);
  if (plan.steps.length > 0) x = transforms.transformBatch(x, plan.transform, batchGenerator(given.seed, 1, 0));
  const names = data.classNames ?? Array.from({ length: data.numClasses }, (_, i) => String(i));
  const classes = labels.map((l) => names[l] ?? String(l));
  const { data: pixels, channels, layout } = renderGrid(x, classes);
  const bytes = await encodePng({ data: pixels, channels, height: layout.height, width: layout.width });
  await writeFileAtomic(given.out, bytes);
  const augment = plan.steps.length > 0 ? plan.spec : 'none';
  const shown = [...new Set(classes)];
  io.out(
    `wrote ${given.out}: ${layout.width}x${layout.height} PNG (${bytes.length} bytes), ${count} ${given.split} images of ${given.dataset} in a ${layout.columns}x${layout.rows} grid, ` +
      `each ${x.shape[2]}x${x.shape[3]} scaled x${layout.scale}; seed ${given.seed}, augment ${augment}`,
  );
  io.out(`classes shown (row by row): ${classes.join(', ')}`);
  if (shown.length < classes.length) io.out(`distinct classes: ${shown.join(', ')}`);
  return { path: given.out, width: layout.width, height: layout.height, columns: layout.columns, rows: layout.rows, labels, classes, augment, bytes: bytes.length };
}
