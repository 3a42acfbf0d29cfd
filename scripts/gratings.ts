/**
 * Synthetic image data that a CNN can learn, written in the formats Stride
 * reads: the tests train on it, and the README's CIFAR and image-folder
 * examples run on it (the real datasets are not shipped).
 *
 *   node --import tsx scripts/gratings.ts cifar DIR [--per-batch 300] [--test 1000] [--seed 7]
 *   node --import tsx scripts/gratings.ts folder DIR [--per-class 150] [--seed 2024]
 *
 * cifar: CIFAR-10's binary layout (data_batch_1..5.bin with --per-batch
 * records each, test_batch.bin with --test, batches.meta.txt), 10 classes of
 * 32x32 sinusoidal gratings, 5 orientations (0, 36, 72, 108, 144 degrees)
 * times 2 periods (8 and 4 pixels), each image with a random phase and
 * colour tint and Gaussian pixel noise (sd 0.08); labels cycle 0..9.
 *
 * folder: one sub-folder per class (horizontal, vertical, rising, falling),
 * --per-class two-colour gratings each of random period (7-14 pixels), phase
 * and colours, at sizes from 45x45 to 100x70; every 10th is a JPEG
 * (quality 85), the rest RGB PNGs.
 *
 * The same seed writes the same files.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import jpeg from 'jpeg-js';

import { Generator, encodePng } from '../src/index.js';

/** The names written to batches.meta.txt, in label order. */
export const CIFAR_GRATING_CLASSES = [...[0, 36, 72, 108, 144].map((deg) => `${deg}deg-wide`), ...[0, 36, 72, 108, 144].map((deg) => `${deg}deg-fine`)];

/** The folder's classes, in the label order of `grating`. */
export const FOLDER_GRATING_CLASSES = ['horizontal', 'vertical', 'rising', 'falling'];

const PIXELS = 3 * 32 * 32;

/**
 * n CIFAR-10 records (a label byte, then the R, G, B planes row-major) of
 * gratings, record r of class r % 10: v = tint * (0.5 + 0.3 sin(2 pi f
 * (x cos t + y sin t) + phase)) + noise, t = (class % 5) * 36 degrees,
 * f = 1/8 for classes 0-4 and 1/4 for 5-9, clamped to 0..255.
 */
export function cifarGratingRecords(n: number, generator: Generator): Uint8Array {
  const out = new Uint8Array(n * (1 + PIXELS));
  for (let r = 0; r < n; r++) {
    const label = r % 10;
    const angle = ((label % 5) * Math.PI) / 5;
    const freq = label < 5 ? 1 / 8 : 1 / 4;
    const phase = generator.uniform(0, 2 * Math.PI);
    const tint = [generator.uniform(0.6, 1.2), generator.uniform(0.6, 1.2), generator.uniform(0.6, 1.2)];
    const at = r * (1 + PIXELS);
    out[at] = label;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const v = tint[c] * (0.5 + 0.3 * Math.sin(2 * Math.PI * freq * (x * Math.cos(angle) + y * Math.sin(angle)) + phase)) + 0.08 * generator.normal();
          out[at + 1 + c * 1024 + y * 32 + x] = Math.max(0, Math.min(255, Math.round(v * 255)));
        }
      }
    }
  }
  return out;
}

/** Writes a CIFAR-10 folder of gratings: 5 training batches of `perBatch` records, a test batch of `test`, batches.meta.txt. */
export async function writeCifarGratings(dir: string, options: { perBatch: number; test: number; seed: number }): Promise<void> {
  const { perBatch, test, seed } = options;
  const generator = new Generator(seed);
  await mkdir(dir, { recursive: true });
  for (let b = 1; b <= 5; b++) await writeFile(join(dir, `data_batch_${b}.bin`), cifarGratingRecords(perBatch, generator));
  await writeFile(join(dir, 'test_batch.bin'), cifarGratingRecords(test, generator));
  await writeFile(join(dir, 'batches.meta.txt'), CIFAR_GRATING_CLASSES.join('\n') + '\n\n');
}

/**
 * A grating of w x h pixels in two colours, as RGBA bytes: stripes across the
 * orientation of its class (0 horizontal, 1 vertical, 2 rising diagonal, 3
 * falling diagonal), with a random period, phase and colours.
 */
export function grating(cls: number, w: number, h: number, g: Generator): Uint8Array {
  const period = g.uniform(7, 14);
  const phase = g.uniform(0, 2 * Math.PI);
  const a = [0, 1, 2].map(() => g.uniform(0, 255));
  const b = a.map((v) => (v + 128 + g.uniform(-40, 40)) % 256);
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const u = [y, x, (x + y) / Math.SQRT2, (x - y) / Math.SQRT2][cls];
      const t = 0.5 + 0.5 * Math.sin((2 * Math.PI * u) / period + phase);
      const p = (y * w + x) * 4;
      for (let c = 0; c < 3; c++) rgba[p + c] = Math.round(a[c] * t + b[c] * (1 - t));
      rgba[p + 3] = 255;
    }
  }
  return rgba;
}

/** Writes DIR/<class>/<i>.png|jpg: `perClass` gratings of each of the four classes, of varied sizes, every 10th a JPEG. */
export async function writeFolderGratings(dir: string, options: { perClass: number; seed: number }): Promise<void> {
  const g = new Generator(options.seed);
  const sizes: [number, number][] = [[48, 40], [64, 64], [80, 56], [60, 90], [100, 70], [45, 45]];
  for (const [cls, name] of FOLDER_GRATING_CLASSES.entries()) {
    await mkdir(join(dir, name), { recursive: true });
    for (let i = 0; i < options.perClass; i++) {
      const [w, h] = sizes[g.randint(sizes.length)];
      const rgba = grating(cls, w, h, g);
      // jpeg-js sets up its tables on every call (about 0.1 s), so JPEGs are the few
      if (i % 10 === 0) {
        await writeFile(join(dir, name, `${i}.jpg`), jpeg.encode({ width: w, height: h, data: rgba }, 85).data);
      } else {
        const rgb = new Float32Array(3 * w * h);
        for (let p = 0; p < w * h; p++) for (let c = 0; c < 3; c++) rgb[c * w * h + p] = rgba[p * 4 + c] / 255;
        await writeFile(join(dir, name, `${i}.png`), await encodePng({ data: rgb, channels: 3, height: h, width: w }));
      }
    }
  }
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv, allowPositionals: true,
    options: { 'per-batch': { type: 'string', default: '300' }, test: { type: 'string', default: '1000' }, 'per-class': { type: 'string', default: '150' }, seed: { type: 'string' } },
  });
  const [kind, dir] = positionals;
  const count = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${v}`);
    return n;
  };
  if ((kind !== 'cifar' && kind !== 'folder') || dir === undefined || positionals.length !== 2) {
    throw new Error('usage: scripts/gratings.ts cifar DIR [--per-batch N] [--test N] [--seed N] | folder DIR [--per-class N] [--seed N]');
  }
  if (kind === 'cifar') {
    const options = { perBatch: count('per-batch', values['per-batch'], 1), test: count('test', values.test, 1), seed: count('seed', values.seed ?? '7', 0) };
    await writeCifarGratings(dir, options);
    console.log(`wrote ${dir}: CIFAR-10 binary batches of gratings, ${5 * options.perBatch} training and ${options.test} test images in 10 classes (${CIFAR_GRATING_CLASSES.join(', ')}), seed ${options.seed}`);
  } else {
    const options = { perClass: count('per-class', values['per-class'], 1), seed: count('seed', values.seed ?? '2024', 0) };
    await writeFolderGratings(dir, options);
    console.log(`wrote ${dir}: ${4 * options.perClass} PNG/JPEG gratings, ${options.perClass} in each of ${FOLDER_GRATING_CLASSES.join(', ')}, seed ${options.seed}`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((err: Error) => {
    console.error(`error: ${err.message}`);
    process.exit(2);
  });
}
