/**
 * Image decoding, encoding, channel conversion, resizing and cropping
 * (src/data/image.ts). PNGs of every colour type are written by fast-png's
 * encoder (exact values known by definition) and by PIL (the decoded and
 * converted values must equal PIL's); JPEGs by PIL (decoded values within a
 * stated tolerance of PIL's libjpeg) and by jpeg-js. Resizing and cropping
 * are checked against torchvision on float tensors. The PIL and torchvision
 * parts are skipped, saying why, where Python with torch is absent.
 */
import { test, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { encode as encodePngRaw } from 'fast-png';
import jpeg from 'jpeg-js';

import { DataError, ValueError } from '../../src/errors.js';
import { Tensor } from '../../src/tensor/tensor.js';
import {
  decodeImage, encodePng, imageFormat, convertChannels, resizeImage, centerCropImage, coverSize, fitImage, imageFromTensor, type FloatImage,
} from '../../src/data/image.js';
import { assertClose, ok, rejectsWith, runTorch, throwsWith, uniformArray } from '../helpers/index.js';

/** Interleaved samples (HWC) of a w x h image with `channels`, distinct per position and channel. */
function samples(w: number, h: number, channels: number, max: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < channels; c++) out.push((x * 37 + y * 101 + c * 59 + x * y * 13) % (max + 1));
  return out;
}

/** HWC samples -> the expected CHW floats. */
function chw(hwc: readonly number[], w: number, h: number, channels: number, max: number): Float32Array {
  const out = new Float32Array(hwc.length);
  for (let p = 0; p < w * h; p++) for (let c = 0; c < channels; c++) out[c * w * h + p] = hwc[p * channels + c] / max;
  return out;
}

function image(channels: number, height: number, width: number, seed: number): FloatImage {
  return { data: uniformArray(channels * height * width, seed, 0, 1), channels, height, width };
}

describe('decodeImage: PNG by definition (files from fast-png)', () => {
  for (const depth of [8, 16] as const) {
    for (const channels of [1, 2, 3, 4]) {
      test(`${depth}-bit, ${channels} channel(s)`, async () => {
        const [w, h] = [7, 5];
        const max = depth === 8 ? 255 : 65535;
        const values = samples(w, h, channels, max);
        const data = depth === 8 ? Uint8Array.from(values) : Uint16Array.from(values);
        const bytes = encodePngRaw({ width: w, height: h, data, channels, depth });
        const im = await decodeImage(bytes, 'mem.png');
        assert.deepEqual([im.channels, im.height, im.width, im.format, im.bitDepth, im.palette], [channels, h, w, 'png', depth, false]);
        assert.deepEqual(Array.from(im.data), Array.from(chw(values, w, h, channels, max)));
      });
    }
  }

  test('palette: indices through the palette', async () => {
    const palette = [[255, 0, 0], [0, 128, 255], [10, 20, 30]];
    const indices = Uint8Array.from([0, 1, 2, 2, 1, 0]);
    const bytes = encodePngRaw({ width: 3, height: 2, data: indices, channels: 1, depth: 8, palette });
    const im = await decodeImage(bytes, 'pal.png');
    assert.deepEqual([im.channels, im.height, im.width, im.palette], [3, 2, 3, true]);
    const expected = [0, 1, 2].flatMap((c) => Array.from(indices, (i) => palette[i][c] / 255));
    assertClose(im.data, Float32Array.from(expected), 0);
  });

  test('interlaced (Adam7) gives the same pixels', async () => {
    const values = samples(13, 11, 3, 255);
    const plain = await decodeImage(encodePngRaw({ width: 13, height: 11, data: Uint8Array.from(values), channels: 3, depth: 8 }), 'a.png');
    const adam7 = await decodeImage(encodePngRaw({ width: 13, height: 11, data: Uint8Array.from(values), channels: 3, depth: 8 }, { interlace: 'Adam7' }), 'b.png');
    assert.deepEqual(Array.from(adam7.data), Array.from(plain.data));
  });

  test('recognises the format by its bytes, not its name', async () => {
    const png = encodePngRaw({ width: 2, height: 1, data: Uint8Array.from([0, 255]), channels: 1, depth: 8 });
    assert.equal(imageFormat(png), 'png');
    assert.equal((await decodeImage(png, 'named-like-a.jpg')).format, 'png');
    const j = jpeg.encode({ width: 8, height: 8, data: new Uint8Array(256).fill(200) }, 90).data;
    assert.equal(imageFormat(j), 'jpeg');
    assert.equal((await decodeImage(j, 'named-like-a.png')).format, 'jpeg');
  });

  test('bytes that are a view into a larger buffer (a pooled Node Buffer) decode the same', async () => {
    const values = samples(5, 4, 3, 255);
    const png = encodePngRaw({ width: 5, height: 4, data: Uint8Array.from(values), channels: 3, depth: 8 });
    const big = new Uint8Array(png.length + 13);
    big.set(png, 7);
    const im = await decodeImage(big.subarray(7, 7 + png.length), 'view.png');
    assert.deepEqual(Array.from(im.data), Array.from(chw(values, 5, 4, 3, 255)));
    const j = jpeg.encode({ width: 8, height: 8, data: new Uint8Array(256).fill(200) }, 90).data;
    const bigJ = new Uint8Array(j.length + 9);
    bigJ.set(j, 4);
    assert.deepEqual((await decodeImage(bigJ.subarray(4, 4 + j.length), 'view.jpg')).height, 8);
  });
});

describe('decodeImage: JPEG (files from jpeg-js)', () => {
  test('a smooth colour image comes back within the loss of quality 95, channels in order', async () => {
    const [w, h] = [32, 24];
    const rgba = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = (y * w + x) * 4;
        rgba.set([Math.round((x / (w - 1)) * 255), Math.round((y / (h - 1)) * 255), 96, 255], p);
      }
    }
    const im = await decodeImage(jpeg.encode({ width: w, height: h, data: rgba }, 95).data, 'grad.jpg');
    assert.deepEqual([im.channels, im.height, im.width, im.format], [3, h, w, 'jpeg']);
    const expected = new Float32Array(3 * w * h);
    for (let p = 0; p < w * h; p++) for (let c = 0; c < 3; c++) expected[c * w * h + p] = rgba[p * 4 + c] / 255;
    // Lossy: a smooth ramp at quality 95 stays within 6 levels of 255 everywhere.
    assertClose(im.data, expected, { atol: 6 / 255 });
  });
});

describe('decodeImage: malformed files are DataErrors naming the file', () => {
  const png = encodePngRaw({ width: 9, height: 9, data: Uint8Array.from(samples(9, 9, 3, 255)), channels: 3, depth: 8 });
  const jpg = jpeg.encode({ width: 16, height: 16, data: Uint8Array.from(samples(16, 16, 4, 255)) }, 90).data;

  test('truncated PNG, at several lengths', async () => {
    for (const n of [png.length - 1, png.length - 12, 60, 33, 12]) {
      await rejectsWith(decodeImage(png.subarray(0, n), `cut-${n}.png`), DataError, `cut-${n}.png`, 'truncated PNG');
    }
  });

  test('an interlaced PNG of 1-, 2- or 4-bit samples is refused (its decoder handles whole-byte samples only)', async () => {
    for (const depth of [1, 2, 4] as const) {
      const bytes = encodePngRaw({ width: 9, height: 3, data: new Uint8Array(3 * Math.ceil((9 * depth) / 8)), channels: 1, depth }, { interlace: 'Adam7' });
      await rejectsWith(decodeImage(bytes, `adam7-${depth}.png`), DataError, `adam7-${depth}.png`, `interlaced (Adam7) PNG with ${depth}-bit samples is not supported`);
    }
  });

  test('a flipped byte in the image data fails the chunk CRC', async () => {
    const bad = png.slice();
    bad[50] ^= 0x5a;
    await rejectsWith(decodeImage(bad, 'flipped.png'), DataError, 'flipped.png', 'corrupt PNG');
  });

  test('a palette index past the palette', async () => {
    const bytes = encodePngRaw({ width: 2, height: 1, data: Uint8Array.from([0, 1]), channels: 1, depth: 8, palette: [[1, 2, 3], [4, 5, 6]] });
    // Rewrite the PLTE chunk to one colour (length 3), fixing its CRC, so index 1 is past its end.
    const plte = findChunk(bytes, 'PLTE');
    const shorter = new Uint8Array(bytes.length - 3);
    shorter.set(bytes.subarray(0, plte));
    new DataView(shorter.buffer).setUint32(plte, 3);
    shorter.set(bytes.subarray(plte + 4, plte + 11), plte + 4);
    new DataView(shorter.buffer).setUint32(plte + 11, crc32(shorter.subarray(plte + 4, plte + 11)));
    shorter.set(bytes.subarray(plte + 18), plte + 15);
    await rejectsWith(decodeImage(shorter, 'short-palette.png'), DataError, 'short-palette.png', 'palette index 1', 'holds 1 colours');
  });

  test('truncated JPEG', async () => {
    for (const n of [jpg.length - 2, jpg.length - 40, 200, 4]) {
      await rejectsWith(decodeImage(jpg.subarray(0, n), `cut-${n}.jpg`), DataError, `cut-${n}.jpg`, 'JPEG does not decode');
    }
  });

  test('wrong magic, other formats, empty', async () => {
    await rejectsWith(decodeImage(new TextEncoder().encode('hello, world'), 'notes.png'), DataError, 'notes.png', 'neither PNG nor JPEG', '68 65 6c 6c 6f');
    await rejectsWith(decodeImage(new TextEncoder().encode('GIF89a\x01\x00\x01\x00'), 'anim.png'), DataError, 'anim.png', 'is a GIF image', 'only PNG and JPEG');
    await rejectsWith(decodeImage(new TextEncoder().encode('BM\x00\x00\x00\x00'), 'x.jpg'), DataError, 'is a BMP image');
    await rejectsWith(decodeImage(new TextEncoder().encode('RIFF\x00\x00\x00\x00WEBPVP8 '), 'x.png'), DataError, 'is a WebP image');
    await rejectsWith(decodeImage(new Uint8Array(0), 'empty.png'), DataError, 'empty.png', 'is empty');
  });

  test('arguments', async () => {
    await rejectsWith(decodeImage([1, 2, 3] as unknown as Uint8Array, 'a.png'), ValueError, 'bytes must be a Uint8Array', 'Array');
    await rejectsWith(decodeImage(png, undefined as unknown as string), ValueError, 'source must be a string');
  });
});

/** The offset of a chunk's length field. */
function findChunk(bytes: Uint8Array, type: string): number {
  for (let i = 8; i + 8 <= bytes.length; ) {
    const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(i);
    if (String.fromCharCode(...bytes.subarray(i + 4, i + 8)) === type) return i;
    i += 12 + len;
  }
  throw new Error(`no ${type} chunk`);
}

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('decoded values equal PIL’s', () => {
  // Each case: a PIL mode written as PNG or JPEG; PIL's own decode, its convert('RGB') and convert('L') as 0..255 lists.
  const script = `
import json, sys, io, base64
import numpy as np
from PIL import Image
rng = np.random.default_rng(7)
W, H = 23, 17
yy, xx = np.mgrid[0:H, 0:W]
def smooth(k):
    return ((np.sin(xx / (3 + k)) + np.cos(yy / (4 + k)) + 2) * 63.75).astype(np.uint8)
rgb = np.stack([smooth(0), smooth(1), (rng.integers(0, 256, (H, W))).astype(np.uint8)], -1)
alpha = rng.integers(0, 256, (H, W)).astype(np.uint8)
cases = {}
def add(name, im, fmt='PNG', **kw):
    buf = io.BytesIO(); im.save(buf, fmt, **kw); data = buf.getvalue()
    back = Image.open(io.BytesIO(data)); back.load()
    out = {'bytes': base64.b64encode(data).decode(), 'mode': back.mode,
           'rgb': np.asarray(back.convert('RGB')).astype(int).transpose(2, 0, 1).ravel().tolist(),
           'l': np.asarray(back.convert('L')).astype(int).ravel().tolist()}
    if back.mode == 'I;16' or back.mode == 'I':
        out['raw'] = np.asarray(back).astype(int).ravel().tolist()
    cases[name] = out
add('L', Image.fromarray(smooth(2)))
add('LA', Image.fromarray(np.stack([smooth(2), alpha], -1), 'LA'))
add('RGB', Image.fromarray(rgb))
add('RGBA', Image.fromarray(np.concatenate([rgb, alpha[..., None]], -1), 'RGBA'))
add('1', Image.fromarray(smooth(0) > 127))
add('P', Image.fromarray(rgb).quantize(200))
add('P-4bit', Image.fromarray(rgb).quantize(16), bits=4)
pt = Image.fromarray(rgb).quantize(64); pt.info['transparency'] = 3
add('P-tRNS', pt, transparency=3)
add('I16', Image.fromarray((smooth(1).astype(np.uint16) * 257 + rng.integers(0, 257, (H, W))).astype(np.uint16), 'I;16'))
add('L-interlaced', Image.fromarray(smooth(3)), optimize=False)
photo = np.stack([smooth(0), smooth(1), smooth(4)], -1)
add('JPEG-RGB-420', Image.fromarray(photo), 'JPEG', quality=90)
add('JPEG-RGB-444', Image.fromarray(rgb), 'JPEG', quality=90, subsampling=0)
add('JPEG-RGB-progressive', Image.fromarray(photo), 'JPEG', quality=85, progressive=True)
add('JPEG-L', Image.fromarray(smooth(2)), 'JPEG', quality=90)
print(json.dumps(cases))
`;
  type Case = { bytes: string; mode: string; rgb: number[]; l: number[]; raw?: number[] };
  let cases: Record<string, Case> | null = null;
  let reason = '';
  const load = (t: TestContext): Record<string, Case> | null => {
    if (cases === null && reason === '') {
      const r = runTorch<Record<string, Case>>(script);
      if (r.ok) cases = r.value;
      else reason = r.reason;
    }
    if (cases === null) t.skip(reason);
    return cases;
  };
  const channelsOf: Record<string, number> = { L: 1, LA: 2, RGB: 3, RGBA: 4, '1': 1, P: 3, 'P-4bit': 3, 'P-tRNS': 4, I16: 1, 'L-interlaced': 1 };

  for (const name of ['L', 'LA', 'RGB', 'RGBA', '1', 'P', 'P-4bit', 'P-tRNS', 'I16', 'L-interlaced']) {
    test(`PNG ${name}: convert to RGB exactly as PIL, to grey within half a level (PIL rounds)`, async (t) => {
      const all = load(t);
      if (all === null) return;
      const c = all[name];
      const im = await decodeImage(Buffer.from(c.bytes, 'base64'), `${name}.png`);
      assert.equal(im.channels, channelsOf[name], `${name}: channels`);
      if (name === 'I16') {
        // 16-bit: scaled by 1/65535 (PIL's own RGB/L of I;16 clip, so compare the raw samples).
        assertClose(im.data, c.raw!.map((v) => v / 65535), { atol: 1e-7 });
        return;
      }
      assertClose(convertChannels(im, 3).data, c.rgb.map((v) => v / 255), { atol: 1e-7 }, `${name} -> RGB`);
      assertClose(convertChannels(im, 1).data, c.l.map((v) => v / 255), { atol: 0.5 / 255 + 1e-6 }, `${name} -> L`);
    });
  }

  // jpeg-js and libjpeg-turbo (PIL) differ in IDCT rounding (a level or two) and, with subsampled chroma (4:2:0,
  // PIL's default), in upsampling it: jpeg-js repeats each chroma sample where libjpeg interpolates ("fancy
  // upsampling"). So: grey and 4:4:4 within 2/255 of PIL; 4:2:0 within 16/255 per colour sample on this test image
  // (chroma changing by up to ~20 levels a pixel), and its luma (not subsampled) within 3/255.
  const bounds: Record<string, { worst: number; mean: number; luma?: number }> = {
    'JPEG-RGB-420': { worst: 16, mean: 4, luma: 3 },
    'JPEG-RGB-444': { worst: 2, mean: 1 },
    'JPEG-RGB-progressive': { worst: 16, mean: 4, luma: 3 },
    'JPEG-L': { worst: 2, mean: 1 },
  };
  for (const [name, bound] of Object.entries(bounds)) {
    test(`${name}: within ${bound.worst}/255 of PIL's decode (mean < ${bound.mean}/255${bound.luma ? `, luma within ${bound.luma}/255` : ''})`, async (t) => {
      const all = load(t);
      if (all === null) return;
      const c = all[name];
      const im = await decodeImage(Buffer.from(c.bytes, 'base64'), `${name}.jpg`);
      const grey = name === 'JPEG-L';
      assert.equal(im.channels, grey ? 1 : 3);
      const expected = (grey ? c.l : c.rgb).map((v) => v / 255);
      const diff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
        let worst = 0;
        let sum = 0;
        for (let i = 0; i < b.length; i++) {
          const d = Math.abs(a[i] - b[i]);
          worst = Math.max(worst, d);
          sum += d;
        }
        return { worst: worst * 255, mean: (sum / b.length) * 255 };
      };
      const d = diff(im.data, expected);
      t.diagnostic(`${name}: worst |jpeg-js - PIL| = ${d.worst.toFixed(1)}/255, mean ${d.mean.toFixed(3)}/255`);
      ok(d.worst <= bound.worst + 1e-4, `${name}: worst difference ${d.worst.toFixed(2)}/255 exceeds ${bound.worst}/255`);
      ok(d.mean < bound.mean, `${name}: mean difference ${d.mean.toFixed(3)}/255 is not below ${bound.mean}/255`);
      if (bound.luma !== undefined) {
        const pilRgb: FloatImage = { data: Float32Array.from(expected), channels: 3, height: im.height, width: im.width };
        const l = diff(convertChannels(im, 1).data, convertChannels(pilRgb, 1).data);
        t.diagnostic(`${name}: luma worst ${l.worst.toFixed(2)}/255, mean ${l.mean.toFixed(3)}/255`);
        ok(l.worst <= bound.luma, `${name}: luma differs by ${l.worst.toFixed(2)}/255, more than ${bound.luma}/255`);
      }
    });
  }
});

describe('convertChannels (PIL convert, by definition)', () => {
  // Channels first: R [0.2, 1], G [0, 0.4], B [0.6, 0], A [0.8, 1].
  const rgba: FloatImage = { data: Float32Array.from([0.2, 1, 0, 0.4, 0.6, 0, 0.8, 1]), channels: 4, height: 1, width: 2 };
  test('RGB(A) -> grey is 601-2 luma, alpha dropped', () => {
    assertClose(convertChannels(rgba, 1).data, [0.2 * 0.299 + 0.6 * 0.114, 0.299 + 0.4 * 0.587], 1e-7);
  });
  test('RGBA -> RGB drops alpha (no compositing); grey -> RGB replicates; RGB -> RGBA is opaque', () => {
    assert.deepEqual(Array.from(convertChannels(rgba, 3).data), Array.from(rgba.data.subarray(0, 6)));
    const la: FloatImage = { data: Float32Array.from([0.25, 0.5, 0.1, 0.9]), channels: 2, height: 1, width: 2 };
    assert.deepEqual(Array.from(convertChannels(la, 3).data), [0.25, 0.5, 0.25, 0.5, 0.25, 0.5]);
    assert.deepEqual(Array.from(convertChannels(la, 4).data), Array.from(Float32Array.from([0.25, 0.5, 0.25, 0.5, 0.25, 0.5, 0.1, 0.9])));
    assert.deepEqual(Array.from(convertChannels(la, 1).data), [0.25, 0.5]);
    const rgb = convertChannels(rgba, 3);
    assert.deepEqual(Array.from(convertChannels(rgb, 4).data).slice(6), [1, 1]);
  });
  test('errors', () => {
    throwsWith(() => convertChannels(rgba, 2), ValueError, 'channels must be 1 (grey), 3 (RGB) or 4 (RGBA), got 2');
    throwsWith(() => convertChannels({ ...rgba, width: 3 }, 1), ValueError, 'image is 4x1x3 (12 values) but its data holds 8');
    throwsWith(() => convertChannels(null as unknown as FloatImage, 1), ValueError, 'image must be { data: Float32Array');
  });
});

describe('resizeImage and centerCropImage against torchvision (float tensors)', () => {
  const src = image(3, 37, 53, 11);
  const sizes: [number, number][] = [[16, 20], [9, 53], [37, 11], [70, 90], [20, 80], [37, 53], [1, 1], [5, 106]];
  const crops: [number, number][] = [[20, 30], [36, 52], [37, 53], [10, 53], [40, 60], [38, 50]];

  test('resize, antialias true and false, and centre crops (padding included), within 1e-5 (float32 sums in another order)', (t) => {
    const script = `
import json, sys, torch
import torchvision.transforms.functional as TF
d = json.load(sys.stdin)
x = torch.tensor(d['x'], dtype=torch.float32).reshape(d['shape'])
out = {'aa': [], 'plain': [], 'crop': []}
for h, w in d['sizes']:
    out['aa'].append(TF.resize(x, [h, w], antialias=True).flatten().tolist())
    out['plain'].append(TF.resize(x, [h, w], antialias=False).flatten().tolist())
for h, w in d['crops']:
    out['crop'].append(TF.center_crop(x, [h, w]).flatten().tolist())
print(json.dumps(out))
`;
    const r = runTorch<{ aa: number[][]; plain: number[][]; crop: number[][] }>(script, { x: Array.from(src.data), shape: [3, 37, 53], sizes, crops });
    if (!r.ok) return t.skip(r.reason);
    sizes.forEach(([h, w], i) => {
      assertClose(resizeImage(src, h, w).data, r.value.aa[i], { atol: 1e-5 }, `antialias ${h}x${w}`);
      assertClose(resizeImage(src, h, w, { antialias: false }).data, r.value.plain[i], { atol: 1e-5 }, `plain ${h}x${w}`);
    });
    crops.forEach(([h, w], i) => assertClose(centerCropImage(src, h, w).data, r.value.crop[i], 0, `crop ${h}x${w}`));
  });

  test('fitImage: Resize(H) + CenterCrop(H) for square inputs, Resize(coverSize) + CenterCrop for others', (t) => {
    const shapes: [number, number][] = [[53, 37], [37, 53], [20, 20], [64, 64], [40, 48], [48, 40], [8, 53]];
    const script = `
import json, sys, torch
import torchvision.transforms as T
d = json.load(sys.stdin)
outs = []
for (sh, sw), x, (h, w), (rh, rw) in zip(d['sources'], d['xs'], d['targets'], d['cover']):
    x = torch.tensor(x, dtype=torch.float32).reshape(3, sh, sw)
    if h == w:
        y = T.CenterCrop(h)(T.Resize(h, antialias=True)(x))
    else:
        y = T.CenterCrop((h, w))(T.Resize((rh, rw), antialias=True)(x))
    outs.append(y.flatten().tolist())
print(json.dumps(outs))
`;
    const sources = [[37, 53], [53, 37], [37, 53], [21, 30], [75, 60], [30, 90], [37, 53]];
    const xs = sources.map(([h, w], i) => image(3, h, w, 30 + i));
    const cover = shapes.map(([h, w], i) => coverSize(sources[i][0], sources[i][1], h, w));
    const r = runTorch<number[][]>(script, { sources, xs: xs.map((x) => Array.from(x.data)), targets: shapes, cover });
    if (!r.ok) return t.skip(r.reason);
    shapes.forEach(([h, w], i) => {
      const out = fitImage(xs[i], [3, h, w]);
      assert.deepEqual([out.channels, out.height, out.width], [3, h, w]);
      assertClose(out.data, r.value[i], { atol: 1e-5 }, `${sources[i].join('x')} -> ${h}x${w}`);
    });
  });

  test('coverSize: the binding side gets the target, the other int(target * other / binding)', () => {
    assert.deepEqual(coverSize(100, 60, 40, 40), [66, 40]);
    assert.deepEqual(coverSize(60, 100, 40, 40), [40, 66]);
    assert.deepEqual(coverSize(100, 100, 40, 48), [48, 48]);
    assert.deepEqual(coverSize(30, 90, 40, 48), [40, 120]);
    assert.deepEqual(coverSize(90, 30, 40, 48), [144, 48]);
    assert.deepEqual(coverSize(40, 48, 40, 48), [40, 48]);
  });

  test('by definition: averaging when halving, identity at the same size, range kept', () => {
    const x: FloatImage = { data: Float32Array.from([0, 1, 0.5, 0.25]), channels: 1, height: 1, width: 4 };
    // Scale 2, support 2. Output 0: centre 1, inputs 0..2 at distances -0.5, 0.5, 1.5 (/2): weights 0.75, 0.75, 0.25 (sum 1.75).
    // Output 1: centre 3, inputs 1..3 (4 is past the edge) at -1.5, -0.5, 0.5 (/2): weights 0.25, 0.75, 0.75.
    assertClose(resizeImage(x, 1, 2).data, [(0 * 0.75 + 1 * 0.75 + 0.5 * 0.25) / 1.75, (1 * 0.25 + 0.5 * 0.75 + 0.25 * 0.75) / 1.75], 1e-7);
    const y = image(2, 9, 7, 3);
    assert.deepEqual(Array.from(resizeImage(y, 9, 7).data), Array.from(y.data));
    const big = resizeImage(y, 31, 2);
    ok(big.data.every((v) => v >= 0 && v <= 1), 'values stay in 0..1');
  });

  test('errors', () => {
    throwsWith(() => resizeImage(src, 0, 4), ValueError, 'resizeImage: height must be an integer >= 1, got 0');
    throwsWith(() => resizeImage(src, 4, 4, { mode: 'bicubic' as 'bilinear' }), ValueError, "mode must be 'bilinear'");
    throwsWith(() => resizeImage(src, 4, 4, { antialias: 1 as unknown as boolean }), ValueError, 'antialias must be true or false');
    throwsWith(() => resizeImage(src, 4, 4, { align: true } as never), ValueError, "unknown option 'align'");
    throwsWith(() => centerCropImage(src, 4, 2.5), ValueError, 'width must be an integer >= 1, got 2.5');
    throwsWith(() => fitImage(src, [3, 32]), ValueError, 'inputShape must be [C, H, W]');
  });
});

describe('encodePng', () => {
  for (const channels of [1, 3]) {
    test(`${channels} channel(s): decodes back to within half a level; clamps to 0..1`, async () => {
      const im = image(channels, 6, 11, 5 + channels);
      im.data[0] = -0.5;
      im.data[1] = 1.5;
      const bytes = await encodePng(im);
      assert.equal(imageFormat(bytes), 'png');
      const back = await decodeImage(bytes, 'round-trip.png');
      assert.deepEqual([back.channels, back.height, back.width, back.bitDepth], [channels, 6, 11, 8]);
      const expected = Array.from(im.data, (v) => Math.min(1, Math.max(0, v)));
      assertClose(back.data, expected, { atol: 0.5 / 255 + 1e-7 });
      assert.equal(back.data[0], 0);
      assert.equal(back.data[1], 1);
    });
  }

  test('takes a Tensor [C, H, W] or [H, W]', async () => {
    const t = new Tensor(uniformArray(2 * 3, 4, 0, 1), [2, 3]);
    const back = await decodeImage(await encodePng(t), 't.png');
    assert.deepEqual([back.channels, back.height, back.width], [1, 2, 3]);
    assert.deepEqual(imageFromTensor(new Tensor(new Float32Array(12), [3, 2, 2])).channels, 3);
  });

  test('errors', async () => {
    await rejectsWith(encodePng(image(2, 2, 2, 1)), ValueError, 'a PNG holds 1 (grey), 3 (RGB) or 4 (RGBA) channels, got 2');
    const nan = image(1, 2, 2, 1);
    nan.data[3] = NaN;
    await rejectsWith(encodePng(nan), ValueError, 'pixel (1, 1) is NaN');
    throwsWith(() => imageFromTensor(new Tensor(new Float32Array(8), [1, 2, 2, 2])), ValueError, 'expected a Tensor [C, H, W] or [H, W], got shape [1, 2, 2, 2]');
  });
});
