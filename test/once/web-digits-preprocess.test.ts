/**
 * The #/digits page's preprocessing (web/src/digits/preprocess.ts), which
 * makes a drawing into an MNIST digit as MNIST's were made: crop the ink's
 * bounding box, scale its longer side to 20 px with the aspect ratio kept
 * (box-filtered), centre of mass at (14, 14). And the drawing's text form for
 * links (web/src/digits/strokes.ts). Pure functions, run here in Node.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  MNIST_BOX, MNIST_CENTER, MNIST_SIZE, centerOfMass, inkBoundingBox, penWidthFor, rasterizeStrokes, strokesToMnist, toMnist, type Raster, type Stroke,
} from '../../web/src/digits/preprocess.js';
import { decodeStrokes, encodeStrokes } from '../../web/src/digits/strokes.js';
import { convUnitTerms } from '../../web/src/digits/explain.js';
import { F, Generator, randn } from '../../src/index.js';

/** A `width` x `height` image, ink 1 inside the rectangle [x0, x1] x [y0, y1] (inclusive). */
function rect(width: number, height: number, x0: number, y0: number, x1: number, y1: number): Raster {
  const data = new Float32Array(width * height);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) data[y * width + x] = 1;
  return { data, width, height };
}

/**
 * The output's ink extent in pixels, fractional: per axis, the sum over rows
 * (columns) of the row's (column's) largest value, so a box edge half
 * covering a pixel counts a half.
 */
function extent(img: Float32Array): { w: number; h: number } {
  let w = 0;
  let h = 0;
  for (let i = 0; i < MNIST_SIZE; i++) {
    let row = 0;
    let col = 0;
    for (let j = 0; j < MNIST_SIZE; j++) {
      row = Math.max(row, img[i * MNIST_SIZE + j]);
      col = Math.max(col, img[j * MNIST_SIZE + i]);
    }
    h += row;
    w += col;
  }
  return { w, h };
}

function sum(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s;
}

describe('digits preprocessing (MNIST style)', () => {
  test('inkBoundingBox: the inclusive box of the ink above the threshold, null without ink', () => {
    const img = rect(50, 40, 7, 3, 19, 30);
    assert.deepEqual(inkBoundingBox(img), { x0: 7, y0: 3, x1: 19, y1: 30 });
    img.data[39 * 50 + 49] = 0.01; // faint speck in the corner
    assert.deepEqual(inkBoundingBox(img, 0.02), { x0: 7, y0: 3, x1: 19, y1: 30 });
    assert.deepEqual(inkBoundingBox(img, 0), { x0: 7, y0: 3, x1: 49, y1: 39 });
    assert.equal(inkBoundingBox(rect(10, 10, 1, 1, 0, 0)), null);
  });

  test('centerOfMass: ink-weighted mean pixel index', () => {
    const img = rect(10, 10, 2, 4, 4, 4); // columns 2..4 of row 4
    assert.deepEqual(centerOfMass(img), { x: 3, y: 4 });
    img.data[9 * 10 + 9] = 3; // weight 3 at (9, 9): x = (3*3 + 3*9) / 6
    const c = centerOfMass(img)!;
    assert.ok(Math.abs(c.x - 6) < 1e-12 && Math.abs(c.y - 6.5) < 1e-12, JSON.stringify(c));
  });

  test('an empty canvas gives no input (null), not a blank or NaN image', () => {
    assert.equal(toMnist(rect(280, 280, 1, 1, 0, 0)), null);
    assert.equal(strokesToMnist([], 280, 2.5), null);
    assert.equal(strokesToMnist([[]], 280, 2.5), null);
  });

  test('a tall box is scaled to 20 px high with its aspect ratio kept; a wide one to 20 px wide', () => {
    // 60 x 150 ink: scale 20/150, so 8 x 20 at 28x28.
    const tall = toMnist(rect(280, 280, 100, 40, 159, 189))!;
    assert.ok(Math.abs(tall.scale - MNIST_BOX / 150) < 1e-12);
    const t = extent(tall.image);
    assert.ok(Math.abs(t.h - 20) < 0.05, `height ${t.h}`);
    assert.ok(Math.abs(t.w - 8) < 0.05, `width ${t.w} (expected 8: the aspect ratio 60:150 kept)`);
    // The ink is conserved by box filtering: area 60*150 -> 8*20 = 160.
    assert.ok(Math.abs(sum(tall.image) - 160) < 0.5, `ink ${sum(tall.image)}`);
    const wide = toMnist(rect(280, 280, 10, 100, 209, 149))!; // 200 x 50 -> 20 x 5
    const w = extent(wide.image);
    assert.ok(Math.abs(w.w - 20) < 0.05, `width ${w.w}`);
    assert.ok(Math.abs(w.h - 5) < 0.05, `height ${w.h}`);
  });

  test('the centre of mass lands on (14, 14) within 0.5 px, wherever the ink was drawn', () => {
    const cases: Raster[] = [
      rect(280, 280, 0, 0, 30, 90), // top-left corner
      rect(280, 280, 200, 150, 279, 279), // bottom-right corner
      rasterizeStrokes([[{ x: 40, y: 40 }, { x: 240, y: 40 }, { x: 60, y: 250 }]], 280, 280, 24), // a 7: mass near the top
    ];
    for (const img of cases) {
      const r = toMnist(img)!;
      const c = centerOfMass({ data: r.image, width: MNIST_SIZE, height: MNIST_SIZE })!;
      assert.ok(Math.abs(c.x - MNIST_CENTER) < 0.5 && Math.abs(c.y - MNIST_CENTER) < 0.5, `centre of mass (${c.x}, ${c.y})`);
      assert.deepEqual(r.center, c, 'the reported centre is the image\'s');
      for (const v of r.image) assert.ok(v >= 0 && v <= 1 && Number.isFinite(v));
    }
  });

  test('anti-aliased: a box edge that falls between output pixels gives grey levels', () => {
    const r = toMnist(rect(280, 280, 100, 40, 159, 189))!;
    const greys = [...r.image].filter((v) => v > 0.05 && v < 0.95).length;
    assert.ok(greys > 0, 'some partly covered pixels');
  });

  test('strokes drawn small or large end up with MNIST-like stroke widths (about 2.5 px at 28x28)', () => {
    const one = (len: number): Stroke[] => [[{ x: 140, y: 140 - len / 2 }, { x: 140, y: 140 + len / 2 }]];
    for (const len of [60, 200]) {
      const r = strokesToMnist(one(len), 280, 2.5)!;
      // The middle row of a vertical bar: the ink across it is its width.
      const row = r.image.subarray(14 * 28, 15 * 28);
      const width = [...row].reduce((a, b) => a + b, 0);
      assert.ok(width > 1.8 && width < 3.2, `a ${len}-unit line is ${width} px wide at 28x28`);
      assert.ok(Math.abs(extent(r.image).h - 20) < 0.5, `its long side is 20 px (${extent(r.image).h})`);
    }
    assert.ok(penWidthFor([], 2.5, 3) === 3);
    assert.ok(penWidthFor([[{ x: 0, y: 0 }]], 2.5, 3) === 3, 'a dot has the least pen');
  });

  test('rasterizeStrokes: a round pen, anti-aliased, inside the image', () => {
    const img = rasterizeStrokes([[{ x: 10.5, y: 10.5 }, { x: 30.5, y: 10.5 }]], 40, 20, 4);
    assert.equal(img.data[10 * 40 + 20], 1, 'on the line');
    assert.equal(img.data[2 * 40 + 20], 0, 'far from it');
    const edge = img.data[12 * 40 + 20]; // distance 2 = the pen's radius: half covered
    assert.ok(edge > 0.4 && edge < 0.6, `edge ${edge}`);
    const dot = rasterizeStrokes([[{ x: 5.5, y: 5.5 }]], 12, 12, 4);
    assert.equal(dot.data[5 * 12 + 5], 1);
    assert.equal(dot.data[5 * 12 + 9], 0);
  });
});

describe('digits drawings in links', () => {
  test('encodeStrokes / decodeStrokes round-trip to a quantum of the square', () => {
    const strokes: Stroke[] = [
      [{ x: 10, y: 20 }, { x: 100, y: 30 }, { x: 200, y: 250 }],
      [{ x: 140, y: 140 }],
    ];
    const text = encodeStrokes(strokes, 280);
    assert.match(text, /^[A-Za-z0-9_-]+$/);
    const back = decodeStrokes(text, 280)!;
    assert.equal(back.length, 2);
    assert.equal(back[0].length, 3);
    assert.equal(back[1].length, 1);
    for (let s = 0; s < 2; s++) {
      for (let i = 0; i < strokes[s].length; i++) {
        assert.ok(Math.abs(back[s][i].x - strokes[s][i].x) <= 280 / 255 && Math.abs(back[s][i].y - strokes[s][i].y) <= 280 / 255);
      }
    }
    assert.equal(encodeStrokes([], 280), '');
    assert.deepEqual(decodeStrokes('', 280), []);
  });

  test('a damaged drawing text is refused (null), not half read', () => {
    assert.equal(decodeStrokes('not base64!', 280), null);
    const text = encodeStrokes([[{ x: 10, y: 20 }, { x: 100, y: 30 }]], 280);
    assert.equal(decodeStrokes(text.slice(0, -2), 280), null, 'truncated');
    assert.equal(decodeStrokes('AAAA', 280), null, 'a stroke of zero points');
  });
});

describe('digits: a unit of the first convolution, term by term', () => {
  test('patch x filter summed plus bias is F.conv2d\'s output, padding and stride included', () => {
    const g = new Generator(7);
    const x = randn([1, 1, 28, 28], { generator: g });
    const w = randn([3, 1, 5, 5], { generator: g });
    const b = randn([3], { generator: g });
    for (const [padding, stride] of [[2, 1], [0, 2]] as const) {
      const y = F.conv2d(x, w, b, { padding, stride });
      const [, , oh, ow] = y.shape;
      for (const [o, i, j] of [[0, 0, 0], [1, oh - 1, 3], [2, 7, ow - 1], [2, Math.min(13, oh - 1), Math.min(11, ow - 2)]]) {
        const t = convUnitTerms(x.data, 28, 28, w.data.subarray(o * 25, o * 25 + 25), 5, 5, b.data[o], { start: [-padding, -padding], jump: [stride, stride] }, i, j);
        const expected = y.data[(o * oh + i) * ow + j];
        assert.ok(Math.abs(t.value - expected) < 1e-4, `padding ${padding} stride ${stride} unit ${o} (${i}, ${j}): ${t.value} vs ${expected}`);
      }
    }
    // The padded corner: the patch is zero where the filter hangs over the edge.
    const t = convUnitTerms(x.data, 28, 28, w.data.subarray(0, 25), 5, 5, 0, { start: [-2, -2], jump: [1, 1] }, 0, 0);
    assert.equal(t.patch[0], 0);
    assert.equal(t.patch[1 * 5 + 4], 0);
    assert.equal(t.patch[2 * 5 + 2], x.data[0]);
  });
});
