import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { decodeImage, encodePng } from '../../src/data/image.js';
import { Generator } from '../../src/tensor/random.js';
import { memoryIO } from '../../src/cli/io.js';
import { GLYPH_HEIGHT, GLYPH_WIDTH, drawText, glyph, gridLayout, runShowBatch, textWidth } from '../../src/cli/show-batch.js';
import { ok, stride } from '../helpers/index.js';

const CLASSES = ['ant', 'bee', 'cat', 'dog'];

/** DIR/<class>/<i>.png: `perClass` 24x24 RGB images per class, a class-coloured square on noise. */
async function writeFolder(dir: string, perClass: number): Promise<void> {
  const g = new Generator(7);
  for (const [k, name] of CLASSES.entries()) {
    await mkdir(join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const [h, w] = [24, 24];
      const data = new Float32Array(3 * h * w);
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) data[(c * h + y) * w + x] = x > 4 && x < 14 && y > 6 && y < 18 ? (c === k % 3 ? 0.9 : 0.1) : g.random() * 0.5;
        }
      }
      await writeFile(join(dir, name, `${i}.png`), await encodePng({ data, channels: 3, height: h, width: w }));
    }
  }
}

describe('stride show-batch', () => {
  let root: string;
  let data: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'stride-show-batch-'));
    data = join(root, 'images');
    await writeFolder(data, 5);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const show = async (file: string, extra: Record<string, unknown> = {}) => {
    const io = memoryIO();
    const summary = await runShowBatch({ dataset: 'folder', dataDir: data, input: [3, 24, 24], count: 9, out: join(root, file), ...extra }, io);
    return { summary, io, bytes: await readFile(join(root, file)) };
  };

  test('the font draws the glyphs it defines: A, g, 7 by their pixels; text is 6 pixels a character less the last gap', () => {
    const rows = (ch: string) => glyph(ch).map((r) => r.map((b) => (b ? '#' : '.')).join(''));
    assert.deepEqual(rows('A'), ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#']);
    assert.deepEqual(rows('7'), ['#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...']);
    assert.deepEqual(rows(' '), Array(7).fill('.....'));
    assert.deepEqual(rows('\u00e9'), rows('?'));
    // Every printable character has its own glyph (no two alike).
    const all = Array.from({ length: 95 }, (_, i) => rows(String.fromCharCode(32 + i)).join('|'));
    assert.equal(new Set(all).size, 95);
    assert.equal(textWidth('cat'), 17);
    assert.equal(textWidth('cat', 2), 34);
    const img = new Float32Array(1 * GLYPH_HEIGHT * 11);
    drawText(img, [1, GLYPH_HEIGHT, 11], 'Hi', 0, 0);
    const drawn = Array.from({ length: GLYPH_HEIGHT }, (_, y) => Array.from({ length: 11 }, (_, x) => (img[y * 11 + x] === 1 ? '#' : '.')).join(''));
    assert.deepEqual(drawn, rows('H').map((r, y) => `${r}.${rows('i')[y]}`));
  });

  test('writes a PNG grid of the shuffled batch with class names under the images; the same seed gives the same bytes', async () => {
    const a = await show('a.png', { seed: 3 });
    const b = await show('b.png', { seed: 3 });
    const c = await show('c.png', { seed: 4 });
    assert.deepEqual(a.bytes, b.bytes);
    assert.notDeepEqual(a.bytes, c.bytes);
    // 9 images of 24x24: a 3x3 grid, each scaled x4 to 96x96 with a label strip of (7 + 4) * 2 pixels, 4 pixels between.
    const layout = gridLayout(9, 24, 24);
    assert.deepEqual([layout.columns, layout.rows, layout.scale, layout.labelHeight, layout.textScale], [3, 3, 4, 22, 2]);
    assert.deepEqual([layout.width, layout.height], [4 + 3 * 100, 4 + 3 * (96 + 22 + 4)]);
    const image = await decodeImage(a.bytes, 'a.png');
    assert.deepEqual([image.channels, image.height, image.width], [3, layout.height, layout.width]);
    assert.equal(a.summary.classes.length, 9);
    assert.deepEqual(a.summary.classes, a.summary.labels.map((l) => CLASSES[l]));
    ok(new Set(a.summary.classes).size >= 2, `classes ${a.summary.classes}`);
    assert.match(a.io.lines[0], new RegExp(`^wrote ${join(root, 'a.png').replace(/[/\\.]/g, '\\$&')}: 304x370 PNG \\(\\d+ bytes\\), 9 train images of folder in a 3x3 grid, each 24x24 scaled x4; seed 3, augment none$`));
    assert.equal(a.io.lines[1], `classes shown (row by row): ${a.summary.classes.join(', ')}`);

    // Each label strip holds exactly its class name in the font: ink where drawText puts it, background elsewhere.
    const strip = (i: number) => {
      const top = 4 + Math.floor(i / 3) * (96 + 22 + 4) + 96;
      const left = 4 + (i % 3) * 100;
      const ink: string[] = [];
      for (let y = 0; y < 22; y++) {
        let row = '';
        for (let x = 0; x < 96; x++) row += image.data[(top + y) * image.width + left + x] > 0.5 ? '#' : '.';
        ink.push(row);
      }
      return ink.join('\n');
    };
    const expected = (name: string) => {
      const img = new Float32Array(22 * 96);
      drawText(img, [1, 22, 96], name, 0, 4, 2);
      return Array.from({ length: 22 }, (_, y) => Array.from({ length: 96 }, (_, x) => (img[y * 96 + x] === 1 ? '#' : '.')).join('')).join('\n');
    };
    for (let i = 0; i < 9; i++) assert.equal(strip(i), expected(a.summary.classes[i]), `label of image ${i}`);
    const names = new Set(CLASSES.map(expected));
    assert.equal(names.size, 4, 'the four class names render differently');
    assert.equal(GLYPH_WIDTH, 5);
  });

  test('with --augment the grid is augmented, repeatably: the same seed the same bytes, another augmentation other bytes, the same labels', async () => {
    const plain = await show('plain.png', { seed: 1 });
    const a = await show('aug-a.png', { seed: 1, augment: 'flip:1' });
    const b = await show('aug-b.png', { seed: 1, augment: 'flip:1' });
    const d = await show('aug-d.png', { seed: 1, augment: 'default' });
    const e = await show('aug-e.png', { seed: 1, augment: 'default' });
    assert.deepEqual(a.bytes, b.bytes);
    assert.deepEqual(d.bytes, e.bytes);
    assert.notDeepEqual(a.bytes, plain.bytes);
    assert.notDeepEqual(a.bytes, d.bytes);
    assert.deepEqual(a.summary.classes, plain.summary.classes);
    assert.equal(a.summary.augment, 'flip:p=1');
    assert.match(d.io.lines[0], /augment flip,crop:padding=3\/mode=reflect$/);
    // flip:1 mirrors every image: the first image's top row, read right to left, is the plain grid's.
    const [pi, ai] = await Promise.all([decodeImage(plain.bytes, 'p'), decodeImage(a.bytes, 'a')]);
    for (let x = 0; x < 96; x++) assert.equal(ai.data[4 * pi.width + 4 + x], pi.data[4 * pi.width + 4 + 95 - x]);
  });

  test('the command line: prints what it wrote; --dataset and --out are required; a bad --augment is exit 2 with a caret', async () => {
    const out = join(root, 'cli.png');
    const r = await stride('show-batch', '--dataset', 'folder', '--data-dir', data, '--input', '3x24x24', '--count', '4', '--out', out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^wrote .*cli\.png: 204x248 PNG \(\d+ bytes\), 4 train images of folder in a 2x2 grid/);
    assert.match(r.stdout, /classes shown \(row by row\): (ant|bee|cat|dog)(, (ant|bee|cat|dog)){3}\n/);
    const image = await decodeImage(await readFile(out), out);
    assert.deepEqual([image.width, image.height], [204, 248]);
    const noOut = await stride('show-batch', '--dataset', 'mnist');
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /--out/);
    const bad = await stride('show-batch', '--dataset', 'mnist', '--augment', 'flip:2x', '--out', out);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /\n  flip:2x\n  +\^/);
  });
});
