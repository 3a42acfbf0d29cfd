/**
 * Data augmentation (src/data/transforms/): every deterministic functional
 * form against torchvision.transforms.functional on the same float images and
 * parameters (skipped, with the reason, without Python and torchvision), and
 * by its definition; the random transforms' seeding, ranges, draw order and
 * p = 0 / p = 1 extremes; batches; the spec grammar and its errors.
 *
 * Tolerances against torchvision, per value: 0 (bit-identical) for flips,
 * pads, crops, erasing, normalize and nearest rotation/affine; 1e-6 for
 * brightness, contrast and saturation (torch's float32 roundings are
 * reproduced: brightness and saturation come out identical, contrast within
 * 6e-8, its mean summed in another order) and for hue (the HSV round trip in
 * float64 here, float32 there: 7.7e-7 measured); 2e-6 for bilinear rotation
 * and affine, interior and border alike (8.9e-7 measured: the sampling
 * position is computed in float64 here, float32 there). The border agrees as
 * closely as the interior because torchvision's fill blend (a resampled mask
 * of ones, out = sampled * mask + (1 - mask) * fill) is reproduced; without
 * it a border pixel reading half outside would differ by up to half its value.
 * The random transforms draw from Stride's generator, not torch's, so they
 * are checked by replaying their documented draws through the functional
 * forms, by the ranges and frequencies of many draws, and for randomErasing
 * (the most intricate sampling) against torchvision's box statistics.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { ShapeError, ValueError } from '../../src/errors.js';
import { Tensor, tensor } from '../../src/tensor/tensor.js';
import { Generator } from '../../src/tensor/random.js';
import * as stride from '../../src/index.js';
import {
  adjustBrightness, adjustContrast, adjustHue, adjustSaturation, affine, centerCrop, colorJitter, compose, crop, defaultAugment, erase, hflip, normalize,
  normalizeImage, pad, parseAugment, randomAffine, randomCrop, randomErasing, randomHorizontalFlip, randomRotation, randomVerticalFlip, rotate,
  transformBatch, vflip, AUGMENT_EXAMPLE, type Transform,
} from '../../src/data/transforms/index.js';
import { assertClose, ok, runTorch, throwsWith } from '../helpers/index.js';

/** A [C, H, W] image of uniform values in 0..1 from a seeded generator. */
function randomImage(c: number, h: number, w: number, seed: number): Tensor {
  const data = new Float32Array(c * h * w);
  new Generator(seed).fillUniform(data, 0, 1);
  return new Tensor(data, [c, h, w]);
}

/** value at [c, i, j] */
function at(t: Tensor, c: number, i: number, j: number): number {
  return t.data[(c * t.shape[1] + i) * t.shape[2] + j];
}

/** A 1 x h x w image whose pixel (i, j) holds i * w + j + 1 (0 marks padding). */
function positions(h: number, w: number): Tensor {
  return new Tensor(Float32Array.from({ length: h * w }, (_, k) => k + 1), [1, h, w]);
}

const TORCH_SCRIPT = String.raw`
import json, sys, torch
import torchvision.transforms.functional as TF
from torchvision.transforms import InterpolationMode as IM
inp = json.load(sys.stdin)
out = []
for case in inp:
    img = torch.tensor(case['image'], dtype=torch.float32).reshape(case['shape'])
    op, a = case['op'], case['args']
    interp = IM.BILINEAR if a.get('interpolation') == 'bilinear' else IM.NEAREST
    if op == 'hflip': r = TF.hflip(img)
    elif op == 'vflip': r = TF.vflip(img)
    elif op == 'pad': r = TF.pad(img, a['padding'], fill=a.get('fill', 0), padding_mode=a.get('mode', 'constant'))
    elif op == 'crop': r = TF.crop(img, a['top'], a['left'], a['height'], a['width'])
    elif op == 'centerCrop': r = TF.center_crop(img, a['size'])
    elif op == 'rotate': r = TF.rotate(img, a['angle'], interpolation=interp, fill=a.get('fill'))
    elif op == 'affine': r = TF.affine(img, a['angle'], a['translate'], a['scale'], a['shear'], interpolation=interp, fill=a.get('fill'))
    elif op == 'brightness': r = TF.adjust_brightness(img, a['factor'])
    elif op == 'contrast': r = TF.adjust_contrast(img, a['factor'])
    elif op == 'saturation': r = TF.adjust_saturation(img, a['factor'])
    elif op == 'hue': r = TF.adjust_hue(img, a['factor'])
    elif op == 'erase': r = TF.erase(img, a['i'], a['j'], a['h'], a['w'], torch.tensor(a['value'], dtype=torch.float32).reshape(-1, 1, 1))
    elif op == 'normalize': r = TF.normalize(img, a['mean'], a['std'])
    out.append({'shape': list(r.shape), 'data': r.flatten().tolist()})
print(json.dumps(out))
`;

interface Case {
  op: string;
  args: Record<string, unknown>;
  image: Tensor;
  ours: Tensor;
  /** The largest difference allowed per value. */
  tol: number;
}

describe('functional forms against torchvision.transforms.functional', () => {
  const rect = randomImage(3, 9, 11, 1);
  const square = randomImage(3, 8, 8, 2);
  const oddSquare = randomImage(3, 7, 7, 3);
  const grey = randomImage(1, 6, 10, 4);
  const cases: Case[] = [];
  const add = (op: string, args: Record<string, unknown>, image: Tensor, ours: Tensor, tol: number) => cases.push({ op, args, image, ours, tol });

  for (const image of [rect, grey]) {
    add('hflip', {}, image, hflip(image), 0);
    add('vflip', {}, image, vflip(image), 0);
    for (const mode of ['constant', 'reflect', 'edge', 'symmetric'] as const) {
      for (const padding of [2, [1, 3], [0, 2, 4, 5]]) {
        const fill = mode === 'constant' ? 0.5 : 0;
        add('pad', { padding, mode, fill }, image, pad(image, padding, { paddingMode: mode, fill }), 0);
      }
    }
    for (const [top, left, height, width] of [[0, 0, 3, 4], [2, 3, 4, 5], [-2, -1, 5, 6], [4, 7, 6, 7], [0, 0, image.shape[1], image.shape[2]]]) {
      add('crop', { top, left, height, width }, image, crop(image, top, left, height, width), 0);
    }
    for (const size of [[3, 4], [4, 5], [12, 13], [image.shape[1] + 1, image.shape[2] + 3]]) add('centerCrop', { size }, image, centerCrop(image, size), 0);
    add('erase', { i: 1, j: 2, h: 3, w: 4, value: [0.25] }, image, erase(image, 1, 2, 3, 4, 0.25), 0);
  }
  add('erase', { i: 0, j: 5, h: 9, w: 6, value: [0.1, -0.2, 0.3] }, rect, erase(rect, 0, 5, 9, 6, [0.1, -0.2, 0.3]), 0);
  add('normalize', { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }, rect, normalizeImage(rect, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]), 0);
  add('normalize', { mean: [0.1307], std: [0.3081] }, grey, normalizeImage(grey, 0.1307, 0.3081), 0);

  for (const image of [rect, square, oddSquare]) {
    for (const interpolation of ['nearest', 'bilinear'] as const) {
      const tol = interpolation === 'nearest' ? 0 : 2e-6;
      for (const angle of [0, 10, -33.3, 45, 90, 137, 180]) {
        for (const fill of [undefined, 0, 0.5, [0.1, 0.2, 0.3]]) add('rotate', { angle, interpolation, fill }, image, rotate(image, angle, { interpolation, fill: fill ?? null }), tol);
      }
      const affines: [number, [number, number], number, [number, number]][] = [
        [10, [1, -2], 1.1, [5, 0]],
        [-20, [0, 0], 0.8, [0, 10]],
        [0, [3, 1], 1, [0, 0]],
        [30, [-1, 2], 1.3, [-7, 4]],
        [0, [0, 0], 0.5, [0, 0]],
      ];
      for (const [angle, translate, scale, shear] of affines) {
        for (const fill of [undefined, 0, 0.25]) add('affine', { angle, translate, scale, shear, interpolation, fill }, image, affine(image, angle, translate, scale, shear, { interpolation, fill: fill ?? null }), tol);
      }
    }
  }
  for (const image of [rect, grey]) {
    for (const factor of [0, 0.5, 1, 1.7]) {
      add('brightness', { factor }, image, adjustBrightness(image, factor), 1e-6);
      add('contrast', { factor }, image, adjustContrast(image, factor), 1e-6);
      add('saturation', { factor }, image, adjustSaturation(image, factor), 1e-6);
    }
    for (const factor of [-0.5, -0.3, 0, 0.1, 0.25, 0.5]) add('hue', { factor }, image, adjustHue(image, factor), 1e-6);
  }

  test(`${cases.length} cases: flips, pads (4 modes), crops, centre crops, erasing, normalize, rotate and affine (nearest, bilinear; fill none, 0, value, per channel), brightness, contrast, saturation, hue`, (t) => {
    const input = cases.map((c) => ({ op: c.op, args: c.args, shape: c.image.shape, image: Array.from(c.image.data) }));
    const r = runTorch<{ shape: number[]; data: number[] }[]>(TORCH_SCRIPT, input);
    if (!r.ok) {
      t.skip(r.reason);
      return;
    }
    const worst: Record<string, number> = {};
    cases.forEach((c, k) => {
      const what = `${c.op} ${JSON.stringify(c.args)} on ${c.image.shape.join('x')}`;
      assert.deepEqual(c.ours.shape, r.value[k].shape, `${what}: shape`);
      assertClose(c.ours.data, r.value[k].data, { atol: c.tol }, what);
      const key = `${c.op}${c.args.interpolation ? ` ${c.args.interpolation}` : ''}`;
      let max = 0;
      for (let i = 0; i < c.ours.size; i++) max = Math.max(max, Math.abs(c.ours.data[i] - r.value[k].data[i]));
      worst[key] = Math.max(worst[key] ?? 0, max);
    });
    t.diagnostic(`largest difference per op: ${Object.entries(worst).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')}`);
  });
});

describe('functional forms by their definitions', () => {
  const img = randomImage(3, 5, 7, 11);

  test('hflip and vflip mirror the last and the middle axis; twice is the identity', () => {
    const h = hflip(img);
    const v = vflip(img);
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 5; i++) {
        for (let j = 0; j < 7; j++) {
          assert.equal(at(h, c, i, j), at(img, c, i, 6 - j));
          assert.equal(at(v, c, i, j), at(img, c, 4 - i, j));
        }
      }
    }
    assert.deepEqual(Array.from(hflip(h).data), Array.from(img.data));
    assert.deepEqual(Array.from(vflip(v).data), Array.from(img.data));
    ok(h !== img && h.data !== img.data, 'a new tensor');
  });

  test("pad's four modes on [1, 2, 3, 4] padded by 2, torchvision's documented examples", () => {
    const row = tensor([[[1, 2, 3, 4]]]);
    const padded = (mode: 'constant' | 'reflect' | 'edge' | 'symmetric') => Array.from(pad(row, [2, 0], { paddingMode: mode, fill: 9 }).data);
    assert.deepEqual(padded('reflect'), [3, 2, 1, 2, 3, 4, 3, 2]);
    assert.deepEqual(padded('symmetric'), [2, 1, 1, 2, 3, 4, 4, 3]);
    assert.deepEqual(padded('edge'), [1, 1, 1, 2, 3, 4, 4, 4]);
    assert.deepEqual(padded('constant'), [9, 9, 1, 2, 3, 4, 9, 9]);
    const four = pad(positions(2, 3), [1, 2, 3, 0]);
    assert.deepEqual(four.shape, [1, 4, 7], '[left, top, right, bottom]');
    assert.equal(at(four, 0, 2, 1), 1);
    assert.equal(at(four, 0, 3, 3), 6);
  });

  test('crop takes the window at (top, left); outside the image it reads 0', () => {
    const p = positions(4, 5);
    const c = crop(p, 1, 2, 2, 3);
    assert.deepEqual(Array.from(c.data), [8, 9, 10, 13, 14, 15]);
    assert.deepEqual(Array.from(crop(p, -1, 3, 2, 3).data), [0, 0, 0, 4, 5, 0]);
    assert.deepEqual(Array.from(centerCrop(p, 2).data), [8, 9, 13, 14], 'top round(2 / 2) = 1, left round(3 / 2) = 2 (half to even)');
    assert.deepEqual(Array.from(centerCrop(positions(6, 5), [3, 2]).data), [13, 14, 18, 19, 23, 24], 'top round(3 / 2) = 2, left round(3 / 2) = 2');
  });

  test('brightness 1 is the identity and 0 black; contrast keeps the mean grey; saturation 0 is grey; hue 1/3 turns red to green', () => {
    assert.deepEqual(Array.from(adjustBrightness(img, 1).data), Array.from(img.data));
    ok(adjustBrightness(img, 0).data.every((v) => v === 0), 'black');
    // The mean grey uses torchvision's weights 0.2989, 0.587, 0.114 (they sum to 0.9999); every value moves towards it by 1 - f.
    const plane = 35;
    let sum = 0;
    for (let i = 0; i < plane; i++) sum += 0.2989 * img.data[i] + 0.587 * img.data[plane + i] + 0.114 * img.data[2 * plane + i];
    const meanGrey = sum / plane;
    for (const f of [0, 0.3, 0.8]) {
      const out = adjustContrast(img, f);
      assertClose(out.data, Array.from(img.data, (x) => meanGrey + f * (x - meanGrey)), { atol: 1e-6 }, `contrast ${f}`);
    }
    const greyImage = randomImage(1, 4, 6, 12);
    const mean = (t: Tensor) => Array.from(t.data).reduce((a, b) => a + b, 0) / t.size;
    for (const f of [0, 0.5, 0.9]) assertClose(mean(adjustContrast(greyImage, f)), mean(greyImage), { atol: 1e-6 }, `one channel, contrast ${f}: the mean is kept`);
    const s0 = adjustSaturation(img, 0);
    for (let k = 0; k < 35; k++) {
      assert.equal(s0.data[k], s0.data[35 + k]);
      assert.equal(s0.data[k], s0.data[70 + k]);
    }
    assertClose(adjustHue(img, 0).data, img.data, { atol: 1e-6 }, 'hue 0');
    const red = tensor([[[1]], [[0]], [[0]]]);
    assertClose(adjustHue(red, 1 / 3).data, [0, 1, 0], { atol: 1e-6 }, 'red + 1/3 turn');
    assertClose(adjustHue(red, -1 / 3).data, [0, 0, 1], { atol: 1e-6 }, 'red - 1/3 turn');
    const g = tensor([[[0.2, 0.7]]]);
    assert.deepEqual(Array.from(adjustHue(g, 0.3).data), Array.from(g.data), 'one channel: unchanged');
  });

  test('rotation by 90 of a square is a transpose and a vertical flip (nearest); 0 the identity, 180 both flips', () => {
    for (const n of [4, 5]) {
      const p = positions(n, n);
      const r = rotate(p, 90);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) assert.equal(at(r, 0, i, j), at(p, 0, j, n - 1 - i), `${n}x${n} (${i}, ${j})`);
      assert.deepEqual(Array.from(rotate(p, 180).data), Array.from(hflip(vflip(p)).data));
    }
    assert.deepEqual(Array.from(rotate(img, 0).data), Array.from(img.data));
  });

  test('affine with only a translation shifts right and down; outside reads the fill', () => {
    const p = positions(4, 5);
    const t = affine(p, 0, [2, 1], 1, 0, { fill: -1 });
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 5; j++) assert.equal(at(t, 0, i, j), i >= 1 && j >= 2 ? at(p, 0, i - 1, j - 2) : -1, `(${i}, ${j})`);
    }
  });

  test('bilinear with a fill blends the border towards it; without one (null) outside reads 0; the interior is the same', () => {
    const ones = new Tensor(new Float32Array(36).fill(1), [1, 6, 6]);
    const plain = rotate(ones, 30, { interpolation: 'bilinear' });
    const filled = rotate(ones, 30, { interpolation: 'bilinear', fill: 0 });
    const half = rotate(ones, 30, { interpolation: 'bilinear', fill: 0.5 });
    let border = 0;
    for (let k = 0; k < 36; k++) {
      const m = plain.data[k]; // the resampled mask of ones
      assertClose(filled.data[k], m * m, { atol: 1e-6 }, `fill 0 at ${k}: sampled * mask`);
      assertClose(half.data[k], m * m + (1 - m) * 0.5, { atol: 1e-6 }, `fill 0.5 at ${k}`);
      if (m < 1 - 1e-6) border++;
    }
    ok(border > 0 && at(plain, 0, 2, 2) === 1, 'the corners read outside, the centre inside');
  });

  test('erase changes only the box', () => {
    const e = erase(img, 1, 2, 3, 4, [7, 8, 9]);
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 5; i++) {
        for (let j = 0; j < 7; j++) {
          const inside = i >= 1 && i < 4 && j >= 2 && j < 6;
          assert.equal(at(e, c, i, j), inside ? 7 + c : at(img, c, i, j));
        }
      }
    }
    const noise = randomImage(3, 3, 4, 5);
    assert.equal(at(erase(img, 1, 2, 3, 4, noise), 2, 3, 5), at(noise, 2, 2, 3), 'a tensor value fills the box');
  });

  test('bad arguments are ValueErrors (or ShapeErrors) naming the value and the valid range', () => {
    throwsWith(() => hflip(tensor([1, 2]) as Tensor), ShapeError, 'hflip: image must have shape [C, H, W], got [2]');
    throwsWith(() => pad(img, 5, { paddingMode: 'reflect' }), ValueError, "pad: 'reflect' padding must be < the image side it mirrors (width 7, height 5)");
    throwsWith(() => pad(img, [1, 2, 3]), ValueError, 'array of 1, 2');
    throwsWith(() => pad(img, -1), ValueError, 'padding must be an integer >= 0, got -1');
    throwsWith(() => pad(img, 1, { paddingMode: 'wrap' as never }), ValueError, "paddingMode must be one of 'constant', 'reflect', 'edge', 'symmetric', got \"wrap\"");
    throwsWith(() => rotate(img, 10, { interpolation: 'bicubic' as never }), ValueError, "interpolation must be one of 'nearest', 'bilinear'");
    throwsWith(() => rotate(img, 10, { fill: [1, 2] }), ValueError, 'fill has 2 values but the image has 3 channels');
    throwsWith(() => affine(img, 0, [0, 0], 0, 0), ValueError, 'affine: scale must be > 0, got 0');
    throwsWith(() => affine(img, 0, [0, 0], 1, 90), ValueError, 'shear[0] must be in (-90, 90)');
    throwsWith(() => adjustBrightness(img, -0.5), ValueError, 'adjustBrightness: factor must be >= 0');
    throwsWith(() => adjustHue(img, 0.6), ValueError, 'adjustHue: hueFactor must be in [-0.5, 0.5] (a fraction of the colour wheel), got 0.6');
    throwsWith(() => adjustContrast(randomImage(2, 3, 3, 1), 1), ShapeError, '1 (grey) or 3 (RGB) channels, got [2, 3, 3]');
    throwsWith(() => erase(img, 3, 0, 3, 2, 0), ValueError, 'erase: the box rows 3..5, columns 0..1 leaves the 5x7 image');
    throwsWith(() => normalizeImage(img, [0.5, 0.5], 1), ValueError, 'mean has 2 values but the image has 3 channels');
    throwsWith(() => normalizeImage(img, 0, 0), ValueError, 'std[0] must be > 0');
  });
});

/** The generator's next draws, without disturbing it. */
function peek(generator: Generator): Generator {
  return new Generator().setState(generator.getState());
}

describe('random transforms', () => {
  const img = randomImage(3, 12, 10, 21);

  test('the same seed gives the same images, byte for byte; another seed others', () => {
    const t = parseAugment(`${AUGMENT_EXAMPLE},vflip,erase:1/random`).transform;
    const batch = new Tensor(Float32Array.from({ length: 4 * 3 * 12 * 10 }, (_, k) => ((k * 7919) % 1000) / 1000), [4, 3, 12, 10]);
    const a = transformBatch(batch, t, new Generator(5));
    const b = transformBatch(batch, t, new Generator(5));
    const c = transformBatch(batch, t, new Generator(6));
    assert.deepEqual(new Uint8Array(a.data.buffer), new Uint8Array(b.data.buffer));
    ok(a.data.some((v, k) => v !== c.data[k]), 'seed 6 differs from seed 5');
    ok(a.data.some((v, k) => v !== batch.data[k]), 'the images were changed');
  });

  test('randomCrop: offsets uniform over 0..2*padding in each axis, top drawn before left', () => {
    const p = positions(6, 6);
    const t = randomCrop(6, { padding: 2 });
    const g = new Generator(1);
    const counts = new Map<string, number>();
    const draws = 5000;
    for (let k = 0; k < draws; k++) {
      const expected = peek(g);
      const top = expected.randint(5);
      const left = expected.randint(5);
      const out = t(p, g);
      assert.deepEqual(out.shape, [1, 6, 6]);
      // The output pixel (i, j) reads the padded pixel (i + top, j + left), i.e. the image's (i + top - 2, j + left - 2).
      let found = false;
      for (let i = 0; i < 6 && !found; i++) {
        for (let j = 0; j < 6 && !found; j++) {
          const v = at(out, 0, i, j);
          if (v > 0) {
            const si = Math.floor((v - 1) / 6);
            const sj = (v - 1) % 6;
            assert.equal(si - i + 2, top, 'top offset');
            assert.equal(sj - j + 2, left, 'left offset');
            found = true;
          }
        }
      }
      ok(found, 'a crop of a 6x6 padded by 2 always holds image pixels');
      counts.set(`${top},${left}`, (counts.get(`${top},${left}`) ?? 0) + 1);
    }
    assert.equal(counts.size, 25, 'every (top, left) in 0..4 x 0..4 occurs');
    for (const [k, n] of counts) ok(Math.abs(n / draws - 1 / 25) < 0.015, `offset ${k} occurs ${n} times in ${draws}, expected about ${draws / 25}`);
    for (const paddingMode of ['constant', 'reflect', 'edge', 'symmetric'] as const) {
      const image = randomImage(3, 7, 9, 30);
      const ltrb = [1, 3, 2, 0];
      const t2 = randomCrop([8, 8], { padding: ltrb, paddingMode, fill: [0.1, 0.2, 0.3] });
      for (let k = 0; k < 10; k++) {
        const e = peek(g);
        const top = e.randint(7 + 3 + 0 - 8 + 1);
        const left = e.randint(9 + 1 + 2 - 8 + 1);
        const expected = crop(pad(image, ltrb, { paddingMode, fill: [0.1, 0.2, 0.3] }), top, left, 8, 8);
        assert.deepEqual(Array.from(t2(image, g).data), Array.from(expected.data), `${paddingMode}: the window of the padded image`);
      }
    }
    throwsWith(() => randomCrop(6, { padding: 6, paddingMode: 'reflect' })(p, g), ValueError, "randomCrop: 'reflect' padding must be < the image side it mirrors (width 6, height 6)");
    const same = randomCrop(6)(p, g);
    assert.deepEqual(Array.from(same.data), Array.from(p.data), 'no padding, same size: the image itself (a copy)');
    throwsWith(() => randomCrop(8)(p, g), ValueError, 'randomCrop: the crop 8x8 is larger than the image 6x6');
    assert.deepEqual(randomCrop(8, { padIfNeeded: true })(p, g).shape, [1, 8, 8]);
    assert.deepEqual(randomCrop([3, 4])(p, g).shape, [1, 3, 4]);
  });

  test('flips: p = 0 never, p = 1 always, p = 0.5 about half the time', () => {
    const g = new Generator(2);
    const flipped = hflip(img);
    for (let k = 0; k < 50; k++) {
      assert.deepEqual(Array.from(randomHorizontalFlip(0)(img, g).data), Array.from(img.data));
      assert.deepEqual(Array.from(randomHorizontalFlip(1)(img, g).data), Array.from(flipped.data));
      assert.deepEqual(Array.from(randomVerticalFlip(1)(img, g).data), Array.from(vflip(img).data));
    }
    let n = 0;
    const half = randomHorizontalFlip();
    for (let k = 0; k < 4000; k++) if (half(img, g).data[0] === flipped.data[0]) n++;
    ok(n > 1800 && n < 2200, `flipped ${n} of 4000`);
    throwsWith(() => randomHorizontalFlip(1.5), ValueError, 'randomHorizontalFlip: p must be a probability in [0, 1], got 1.5');
  });

  test('randomRotation: the angle is one uniform draw in [-degrees, degrees] or [min, max]', () => {
    const g = new Generator(3);
    for (const [degrees, lo, hi] of [[15, -15, 15], [[5, 40], 5, 40]] as const) {
      const t = randomRotation(degrees as number | [number, number], { interpolation: 'bilinear', fill: 0.5 });
      for (let k = 0; k < 20; k++) {
        const angle = peek(g).uniform(lo, hi);
        ok(angle >= lo && angle <= hi, 'in range');
        assert.deepEqual(Array.from(t(img, g).data), Array.from(rotate(img, angle, { interpolation: 'bilinear', fill: 0.5 }).data));
      }
    }
    throwsWith(() => randomRotation(-5), ValueError, 'degrees as one number v means [-v, v] and must be >= 0, got -5');
    throwsWith(() => randomRotation([10, 5]), ValueError, 'min <= max');
  });

  test('randomAffine: shifts are whole pixels within translate * size, drawn after the angle and before scale and shear', () => {
    const dot = new Tensor(new Float32Array(11 * 21), [1, 11, 21]);
    dot.data[5 * 21 + 10] = 1;
    const t = randomAffine({ degrees: 0, translate: [0.2, 0.1] });
    const g = new Generator(4);
    const seen = new Set<string>();
    for (let k = 0; k < 600; k++) {
      const out = t(dot, g);
      const idx = out.data.indexOf(1);
      const dy = Math.floor(idx / 21) - 5;
      const dx = (idx % 21) - 10;
      ok(Math.abs(dx) <= 4 && Math.abs(dy) <= 1, `shift (${dx}, ${dy}) within round(0.2 * 21) = 4 and round(0.1 * 11) = 1`);
      seen.add(`${dx},${dy}`);
    }
    assert.equal(seen.size, 9 * 3, 'every shift in -4..4 x -1..1 occurs');
    const full = randomAffine({ degrees: [-10, 20], translate: [0.1, 0.3], scale: [0.8, 1.2], shear: [-5, 5, 0, 8], interpolation: 'bilinear', fill: [0.1, 0.2, 0.3] });
    for (let k = 0; k < 10; k++) {
      const e = peek(g);
      const angle = e.uniform(-10, 20);
      const tx = roundEven(e.uniform(-1, 1));
      const ty = roundEven(e.uniform(-3.6, 3.6));
      const scale = e.uniform(0.8, 1.2);
      const sx = e.uniform(-5, 5);
      const sy = e.uniform(0, 8);
      const expected = affine(img, angle, [tx, ty], scale, [sx, sy], { interpolation: 'bilinear', fill: [0.1, 0.2, 0.3] });
      assert.deepEqual(Array.from(full(img, g).data), Array.from(expected.data));
    }
    throwsWith(() => randomAffine({ degrees: 0, translate: [1.5, 0] }), ValueError, 'each in [0, 1]');
    throwsWith(() => randomAffine({ degrees: 0, scale: [0, 1] }), ValueError, '0 < min <= max');
    throwsWith(() => randomAffine({ degrees: 0, shear: [1, 2, 3] }), ValueError, 'shear must be');
    throwsWith(() => randomAffine({ degrees: 0, rotate: 3 } as never), ValueError, "unknown option 'rotate'");
  });

  test('colorJitter: a random order of the four adjustments, then the factors, each in its range', () => {
    const g = new Generator(5);
    const t = colorJitter({ brightness: 0.4, contrast: [0.5, 1.5], saturation: 0.3, hue: 0.1 });
    const orders = new Set<string>();
    for (let k = 0; k < 60; k++) {
      const e = peek(g);
      const order = e.shuffle([0, 1, 2, 3]);
      const b = e.uniform(0.6, 1.4);
      const c = e.uniform(0.5, 1.5);
      const s = e.uniform(0.7, 1.3);
      const h = e.uniform(-0.1, 0.1);
      let x = img;
      for (const o of order) x = [() => adjustBrightness(x, b), () => adjustContrast(x, c), () => adjustSaturation(x, s), () => adjustHue(x, h)][o]();
      assert.deepEqual(Array.from(t(img, g).data), Array.from(x.data));
      orders.add(order.join(''));
    }
    ok(orders.size > 12, `${orders.size} of the 24 orders seen in 60 draws`);
    const flat = new Tensor(new Float32Array(4).fill(0.4), [1, 2, 2]);
    const bright = colorJitter({ brightness: 0.5 });
    let lo = 1;
    let hi = 0;
    for (let k = 0; k < 500; k++) {
      const v = bright(flat, g).data[0] / 0.4;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    ok(lo >= 0.5 - 1e-6 && lo < 0.55 && hi <= 1.5 + 1e-6 && hi > 1.45, `brightness factors span ${lo}..${hi}, within 0.5..1.5`);
    throwsWith(() => colorJitter({ hue: 0.7 }), ValueError, 'hue must be in [0, 0.5]');
    throwsWith(() => colorJitter({ contrast: [1.2, 0.8] }), ValueError, 'contrast [min, max] must satisfy 0 <= min <= max');
  });

  test('randomErasing: p = 0 never, p = 1 a box of the drawn area and aspect inside the image; value random is noise', () => {
    const g = new Generator(6);
    const ones = new Tensor(new Float32Array(40 * 40).fill(1), [1, 40, 40]);
    assert.deepEqual(Array.from(randomErasing({ p: 0 })(ones, g).data), Array.from(ones.data));
    const t = randomErasing({ p: 1, scale: [0.05, 0.2], ratio: [0.5, 2] });
    for (let k = 0; k < 200; k++) {
      const out = t(ones, g);
      let top = 40;
      let bottom = -1;
      let left = 40;
      let right = -1;
      let zeros = 0;
      for (let i = 0; i < 40; i++) {
        for (let j = 0; j < 40; j++) {
          if (at(out, 0, i, j) === 0) {
            zeros++;
            top = Math.min(top, i);
            bottom = Math.max(bottom, i);
            left = Math.min(left, j);
            right = Math.max(right, j);
          }
        }
      }
      const h = bottom - top + 1;
      const w = right - left + 1;
      assert.equal(zeros, h * w, 'the erased pixels form one rectangle');
      // h = round(sqrt(A r)), w = round(sqrt(A / r)): each within 0.5 of the exact side.
      const area = 1600;
      ok(h * w >= (Math.sqrt(0.05 * area * 0.5) - 0.5) * (Math.sqrt((0.05 * area) / 2) - 0.5) && h * w <= (Math.sqrt(0.2 * area) + 0.5) ** 2 * 1.5, `area ${h * w}`);
      ok(h / w >= 0.5 * 0.8 && h / w <= 2 / 0.8, `aspect ${h}/${w}`);
    }
    const noise = randomErasing({ p: 1, value: 'random' })(ones, g);
    const changed = Array.from(noise.data).filter((v) => v !== 1);
    ok(changed.length > 10 && new Set(changed).size === changed.length, 'distinct normal values in the box');
    const tiny = new Tensor(new Float32Array(4).fill(1), [1, 2, 2]);
    assert.deepEqual(Array.from(randomErasing({ p: 1, scale: [0.9, 1] })(tiny, g).data), [1, 1, 1, 1], 'no box fits in 10 attempts: unchanged');
    throwsWith(() => randomErasing({ scale: [0.5, 1.2] }), ValueError, 'scale must be [min, max] with 0 <= min <= max <= 1');
    throwsWith(() => randomErasing({ p: 1, value: [1, 2] })(img, g), ValueError, 'value has 2 numbers but the image has 3 channels');
  });

  test("randomErasing's boxes are distributed as torchvision's RandomErasing: mean area, mean log aspect, misses", (t) => {
    // 4000 draws each on a 1x40x30 image of ones with p = 1, default scale and ratio; the box is where the zeros are.
    const draws = 4000;
    const script = String.raw`
import json, sys, torch, math
from torchvision.transforms import RandomErasing
torch.manual_seed(0)
t = RandomErasing(p=1.0)
out = []
for _ in range(${draws}):
    z = (t(torch.ones(1, 40, 30)) == 0).nonzero()
    out.append([0, 0] if len(z) == 0 else [int(z[:, 1].max() - z[:, 1].min() + 1), int(z[:, 2].max() - z[:, 2].min() + 1)])
print(json.dumps(out))
`;
    const r = runTorch<[number, number][]>(script);
    if (!r.ok) {
      t.skip(r.reason);
      return;
    }
    const ones = new Tensor(new Float32Array(1200).fill(1), [1, 40, 30]);
    const erasing = randomErasing({ p: 1 });
    const g = new Generator(9);
    const ours: [number, number][] = [];
    for (let k = 0; k < draws; k++) {
      const out = erasing(ones, g);
      let top = 40, bottom = -1, left = 30, right = -1;
      for (let i = 0; i < 40; i++) for (let j = 0; j < 30; j++) if (at(out, 0, i, j) === 0) [top, bottom, left, right] = [Math.min(top, i), Math.max(bottom, i), Math.min(left, j), Math.max(right, j)];
      ours.push(bottom < 0 ? [0, 0] : [bottom - top + 1, right - left + 1]);
    }
    const stats = (boxes: [number, number][]) => {
      const hit = boxes.filter(([h]) => h > 0);
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      const sd = (v: number[]) => Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)));
      const area = hit.map(([h, w]) => h * w);
      const logAspect = hit.map(([h, w]) => Math.log(h / w));
      return { misses: (boxes.length - hit.length) / boxes.length, area: mean(area), areaSd: sd(area), logAspect: mean(logAspect), logAspectSd: sd(logAspect), n: hit.length };
    };
    const a = stats(ours);
    const b = stats(r.value);
    const se = (sa: number, sb: number) => Math.sqrt((sa * sa) / a.n + (sb * sb) / b.n);
    t.diagnostic(`ours: area ${a.area.toFixed(1)}, log aspect ${a.logAspect.toFixed(3)}, misses ${a.misses}; torchvision: area ${b.area.toFixed(1)}, log aspect ${b.logAspect.toFixed(3)}, misses ${b.misses}`);
    ok(Math.abs(a.area - b.area) < 5 * se(a.areaSd, b.areaSd), `mean area ${a.area} vs torchvision's ${b.area}`);
    ok(Math.abs(a.logAspect - b.logAspect) < 5 * se(a.logAspectSd, b.logAspectSd), `mean log aspect ${a.logAspect} vs ${b.logAspect}`);
    ok(Math.abs(a.misses - b.misses) < 0.02, `no box in ${a.misses} vs ${b.misses} of the draws`);
  });

  test('transformBatch applies the transform to each image in order, from one generator', () => {
    const batch = new Tensor(Float32Array.from({ length: 3 * 1 * 6 * 6 }, (_, k) => k), [3, 1, 6, 6]);
    const t = compose([randomCrop(4, { padding: 1 }), randomHorizontalFlip()]);
    const out = transformBatch(batch, t, new Generator(8));
    assert.deepEqual(out.shape, [3, 1, 4, 4]);
    const g = new Generator(8);
    for (let n = 0; n < 3; n++) {
      const one = t(new Tensor(batch.data.slice(n * 36, (n + 1) * 36), [1, 6, 6]), g);
      assert.deepEqual(Array.from(out.data.subarray(n * 16, (n + 1) * 16)), Array.from(one.data), `image ${n}`);
    }
    let calls = 0;
    const uneven: Transform = (image) => crop(image, 0, 0, 2 + calls++, 2);
    throwsWith(() => transformBatch(batch, uneven, g), ShapeError, 'transformBatch: image 1 came out [1, 3, 2] but image 0 [1, 2, 2]');
    throwsWith(() => transformBatch(batch.reshape([3, 36]), t, g), ShapeError, 'images must have shape [N, C, H, W], got [3, 36]');
    throwsWith(() => transformBatch(batch, t, 8 as never), ValueError, 'generator must be a Generator');
  });

  test('normalize and compose', () => {
    const n = normalize([0.5, 0.4, 0.3], [0.2, 0.25, 0.5]);
    const out = n(img, new Generator());
    assertClose(at(out, 2, 3, 4), (at(img, 2, 3, 4) - 0.3) / 0.5, { atol: 1e-6 });
    const id = compose([]);
    const copy = id(img, new Generator());
    ok(copy !== img && copy.data !== img.data, 'compose of nothing returns a copy');
    throwsWith(() => compose([hflip as never, 3 as never]), ValueError, 'compose: transforms must be an array of functions');
  });
});

function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

describe('the augmentation spec', () => {
  /** Asserts that parseAugment(spec) throws a ValueError with the caret under `column` (1-based). */
  function caretAt(spec: string, column: number, what: string): void {
    throwsWith(() => parseAugment(spec), ValueError, `augment: ${what}`, `at column ${column}:\n  ${spec}\n  ${' '.repeat(column - 1)}^`);
  }

  test('the example: its steps, its normal form (which reads back to the same steps), and the transform it builds', () => {
    const p = parseAugment(AUGMENT_EXAMPLE);
    assert.deepEqual(p.steps, [
      { name: 'crop', args: { padding: 4 } },
      { name: 'flip', args: {} },
      { name: 'rotate', args: { degrees: 10 } },
      { name: 'affine', args: { degrees: 10, translate: 0.1, scale: { min: 0.9, max: 1.1 } } },
      { name: 'jitter', args: { brightness: 0.2, contrast: 0.2, saturation: 0.2 } },
      { name: 'erase', args: { p: 0.5 } },
    ]);
    assert.equal(p.spec, 'crop:padding=4,flip,rotate:degrees=10,affine:degrees=10/translate=0.1/scale=0.9-1.1,jitter:brightness=0.2/contrast=0.2/saturation=0.2,erase:p=0.5');
    assert.deepEqual(parseAugment(p.spec).steps, p.steps);
    assert.match(p.description, /^random crop to the input size after padding 4 pixels on each side \(constant 0\); horizontal \(left-right\) flip with probability 0.5; rotation by a uniform angle in -10..10 degrees/);
    const byHand = compose([
      randomCrop(null, { padding: 4 }),
      randomHorizontalFlip(0.5),
      randomRotation(10),
      randomAffine({ degrees: 10, translate: [0.1, 0.1], scale: [0.9, 1.1] }),
      colorJitter({ brightness: 0.2, contrast: 0.2, saturation: 0.2 }),
      randomErasing({ p: 0.5 }),
    ]);
    const img = randomImage(3, 16, 16, 9);
    for (let seed = 0; seed < 5; seed++) assert.deepEqual(Array.from(p.transform(img, new Generator(seed)).data), Array.from(byHand(img, new Generator(seed)).data), `seed ${seed}`);
  });

  test('words, keys, ranges, pairs and lists', () => {
    const p = parseAugment(' crop:2/reflect/3x4/fill=0.5 , affine:-5-10/0.1x0.2/0.8-1.2/5x-3-4/bilinear/fill=0.5, erase:0.3/random, jitter:0.1-0.3/hue=-0.2-0.1, normalize:0.5x0.4x0.3/0.2, vflip:0.25');
    assert.deepEqual(p.steps, [
      { name: 'crop', args: { padding: 2, mode: 'reflect', size: [3, 4], fill: 0.5 } },
      { name: 'affine', args: { degrees: { min: -5, max: 10 }, translate: [0.1, 0.2], scale: { min: 0.8, max: 1.2 }, shear: [5, { min: -3, max: 4 }], interpolation: 'bilinear', fill: 0.5 } },
      { name: 'erase', args: { p: 0.3, value: 'random' } },
      { name: 'jitter', args: { brightness: { min: 0.1, max: 0.3 }, hue: { min: -0.2, max: 0.1 } } },
      { name: 'normalize', args: { mean: [0.5, 0.4, 0.3], std: 0.2 } },
      { name: 'vflip', args: { p: 0.25 } },
    ]);
    assert.deepEqual(parseAugment(p.spec).steps, p.steps, 'the normal form reads back');
    assert.match(p.description, /x shear in -5..5 and y shear in -3..4 degrees \(bilinear, fill 0.5\)/);
    assert.equal(parseAugment('none').description, 'no augmentation');
    assert.equal(parseAugment('').steps.length, 0);
    const img = randomImage(3, 8, 8, 1);
    assert.deepEqual(parseAugment('crop:2/reflect/3x4').transform(img, new Generator()).shape, [3, 3, 4]);
    const out = parseAugment('none').transform(img, new Generator());
    assert.deepEqual(Array.from(out.data), Array.from(img.data));
  });

  test('errors quote the spec with a caret under the mistake', () => {
    caretAt('crop:4,flp', 8, "unknown step 'flp'; the steps are crop, flip, vflip, rotate, affine, jitter, erase, normalize");
    caretAt('rotate', 1, 'rotate needs degrees (e.g. rotate:10)');
    caretAt('affine:10/2', 11, "translate is a fraction of the width and height in [0, 1] (T or TXxTY), got '2'");
    caretAt('crop:4/reflct', 8, "crop: unexpected word 'reflct'; crop takes the words constant, reflect, edge, symmetric");
    caretAt('flip:0.5/0.3', 10, 'flip takes at most 1 number (p), this is one more');
    caretAt('flip:1.5', 6, "p is a probability and must be in [0, 1], got '1.5'");
    caretAt('jitter:0.2//0.1', 12, "expected a parameter after '/', found '/'");
    caretAt('crop:4;flip', 7, "expected '/' before the next parameter, ',' before the next step, or the end, found ';'");
    caretAt('crop:4.5', 6, "padding must be a whole number of pixels >= 0, got '4.5'");
    caretAt('rotate:10-5', 8, "degrees as a range A-B needs A <= B, got '10-5'");
    caretAt('affine:10/0.1/1.1', 15, "scale is a range A-B such as 0.9-1.1, got '1.1'");
    caretAt('rotate:10/fill=red', 16, "rotate: fill takes a number, got 'red'");
    caretAt('rotate:10/spin=3', 11, "rotate has no parameter 'spin'; it takes degrees, fill, interpolation");
    caretAt('flip,none', 6, "'none' stands alone");
    caretAt('flip:p=0.5/p=0.5', 12, 'flip: p is given twice');
    caretAt('crop:4,', 8, 'expected a step name');
    caretAt('normalize:0.5/0', 15, "std must be > 0 (it divides), got '0'");
    throwsWith(() => parseAugment(3 as never), ValueError, 'parseAugment: spec must be a string');
  });

  test('defaults: CIFAR pads and crops and flips, MNIST warps without flipping, a folder flips and crops', () => {
    const cifar = defaultAugment('cifar10', [3, 32, 32]);
    assert.deepEqual(cifar.steps, [{ name: 'crop', args: { padding: 4 } }, { name: 'flip', args: {} }]);
    assert.match(cifar.description, /^CIFAR's standard augmentation .*random crop to the input size after padding 4 pixels on each side \(constant 0\); horizontal \(left-right\) flip with probability 0.5$/);
    const mnist = defaultAugment('mnist', [1, 28, 28]);
    assert.deepEqual(mnist.steps.map((s) => s.name), ['affine']);
    assert.deepEqual(mnist.steps[0].args, { degrees: 10, translate: 0.1, scale: { min: 0.9, max: 1.1 }, interpolation: 'bilinear' });
    assert.match(mnist.description, /no flip \(digits are not mirror-symmetric\)/);
    const folder = defaultAugment('folder', [3, 64, 48]);
    assert.deepEqual(folder.steps, [{ name: 'flip', args: {} }, { name: 'crop', args: { padding: 6, mode: 'reflect' } }]);
    assert.equal(defaultAugment('cifar100', [3, 32, 32]).spec, cifar.spec);
    const out = transformBatch(randomImage(3, 32, 32, 1).reshape([1, 3, 32, 32]), cifar.transform, new Generator(1));
    assert.deepEqual(out.shape, [1, 3, 32, 32]);
    throwsWith(() => defaultAugment('svhn', [3, 32, 32]), ValueError, "no default augmentation for dataset 'svhn'; known: cifar10, cifar100, mnist, fashion-mnist, folder");
    throwsWith(() => defaultAugment('mnist', [28, 28]), ValueError, 'inputShape must be [C, H, W]');
  });

  test("the public entry exposes the transforms namespace ('stride'.transforms)", () => {
    assert.equal(stride.transforms.parseAugment, parseAugment);
    assert.equal(stride.transforms.randomCrop, randomCrop);
  });
});
