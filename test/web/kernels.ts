/**
 * Checks of the web app's #/kernels page (run by test/once/web.test.ts): the
 * page's filtered image is Stride's conv2d of the image it shows (computed
 * again here, in Node, from the page's own input and kernel), for zero,
 * reflect and no padding and for a 5x5 kernel; negative outputs stay visible
 * (blue) instead of being clamped; edits and links drive the computation
 * (an invalid edit leaves the link alone); explanations name the colours of
 * the chosen view only; the colour bar's labels never overlap or leave the
 * screen, at 1280 and at 375 px; on a phone the images are stacked full
 * width and a pad moves the worked pixel; nothing is logged as an error.
 */
import type { TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { F, nn, tensor } from '../../src/index.js';
import { assertNoErrors, ok, type WebTestContext } from '../helpers/index.js';

/** window.strideKernels.last(), with the typed arrays as plain arrays (what page.evaluate can return). */
interface Record {
  input: number[];
  height: number;
  width: number;
  kernel: number[];
  kernelSize: number;
  paddingMode: string;
  output: number[];
  outHeight: number;
  outWidth: number;
  channels: number;
}

interface KernelsHook {
  last(): { input: Float32Array; output: Float32Array; [k: string]: unknown } | null;
  busy(): boolean;
}

/**
 * Float32 sums of at most 25 products of 0..255 pixels and the page's weights:
 * with integer weights both sides are exact; with a divisor (blurs) the two
 * summation orders may differ by a few units in the last place of values up
 * to 255, far below this.
 */
const TOLERANCE = 1e-3;

async function lastRecord(page: Page): Promise<Record> {
  return page.evaluate(() => {
    const r = (window as unknown as { strideKernels: KernelsHook }).strideKernels.last();
    if (!r) throw new Error('no computation yet');
    return { ...r, input: Array.from(r.input), output: Array.from(r.output) } as unknown as Record;
  });
}

/** Waits until the page has finished a computation that satisfies `check` (evaluated in the page on last()). */
async function waitFor(page: Page, check: string): Promise<Record> {
  await page.waitForFunction(`(() => { const h = window.strideKernels; const r = h && h.last(); return !!r && !h.busy() && (${check}); })()`, undefined, { timeout: 30_000 });
  return lastRecord(page);
}

/** Stride's conv2d of the page's input with the page's kernel, as the page says it used them. */
function reference(r: Record): Float32Array {
  const c = r.channels;
  const x = tensor(Float32Array.from(r.input), [1, c, r.height, r.width]);
  const k = r.kernelSize;
  const w = tensor(Float32Array.from({ length: c * k * k }, (_, i) => r.kernel[i % (k * k)]), [c, 1, k, k]);
  const options = r.paddingMode === 'valid'
    ? { padding: 0, groups: c }
    : { padding: (k - 1) / 2, paddingMode: r.paddingMode as 'zeros' | 'reflect', groups: c };
  return Float32Array.from(F.conv2d(x, w, null, options).data);
}

function assertMatchesConv2d(r: Record, where: string): void {
  const expected = reference(r);
  ok(r.output.length === expected.length, `${where}: the page's output has ${r.output.length} values, conv2d's ${expected.length}`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(r.output[i] - expected[i]);
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  ok(worst <= TOLERANCE, `${where}: the page's output differs from F.conv2d by up to ${worst} (at ${at}: ${r.output[at]} vs ${expected[at]}), more than ${TOLERANCE}`);
}

/** The RGBA of pixel (row, col) of the output canvas. */
async function outputPixel(page: Page, row: number, col: number): Promise<number[]> {
  return page.evaluate(([y, x]) => {
    const c = document.querySelector<HTMLCanvasElement>('[data-testid="kernel-output"]')!;
    return Array.from(c.getContext('2d')!.getImageData(x, y, 1, 1).data);
  }, [row, col]);
}

/** Moves the pointer over pixel (row, col) of a canvas showing height x width pixels. */
async function hoverPixel(page: Page, testid: string, row: number, col: number, height: number, width: number): Promise<void> {
  const box = await page.locator(`[data-testid="${testid}"]`).boundingBox();
  ok(box, `${testid} is on the page`);
  await page.mouse.move(box.x + ((col + 0.5) / width) * box.width, box.y + ((row + 0.5) / height) * box.height);
}

const EDGE8 = [-1, -1, -1, -1, 8, -1, -1, -1, -1];

/**
 * The colour bar's labels (the values at its ends, 0, the data's extremes)
 * do not overlap one another and lie inside the colour bar's box and the
 * viewport, by their bounding boxes.
 */
async function assertLegendLabelsFit(page: Page, where: string): Promise<void> {
  // (No named functions inside page.evaluate: the test runner's transform would wrap them in a helper the page lacks.)
  const { labels, legend, viewport } = await page.evaluate(() => ({
    labels: Array.from(document.querySelectorAll('.legend .lab'), (e) => {
      const r = e.getBoundingClientRect();
      return { text: e.textContent ?? '', left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    }),
    legend: document.querySelector('.legend')!.getBoundingClientRect().toJSON() as { left: number; right: number },
    viewport: document.documentElement.clientWidth,
  }));
  ok(labels.length >= 3, `${where}: the colour bar has its labels (${labels.map((l) => l.text).join(' | ')})`);
  const eps = 0.5;
  for (const l of labels) {
    ok(l.right - l.left > 0, `${where}: the label “${l.text}” is shown`);
    ok(l.left >= -eps && l.right <= viewport + eps, `${where}: the label “${l.text}” (${l.left.toFixed(1)}..${l.right.toFixed(1)}) lies within the ${viewport} px viewport`);
    ok(l.left >= legend.left - eps && l.right <= legend.right + eps, `${where}: the label “${l.text}” (${l.left.toFixed(1)}..${l.right.toFixed(1)}) lies within the colour bar's box (${legend.left.toFixed(1)}..${legend.right.toFixed(1)})`);
  }
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) {
      const a = labels[i];
      const b = labels[j];
      const overlap = Math.min(a.right, b.right) - Math.max(a.left, b.left) > eps && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > eps;
      ok(!overlap, `${where}: the labels “${a.text}” and “${b.text}” overlap`);
    }
  }
}

export async function checkKernels(ctx: WebTestContext, t: TestContext): Promise<void> {
  const app = await ctx.open('kernels');
  const page = app.page;
  try {
    // The default: the 8-neighbour edge detector on the grey sample photo, zero padding.
    let r = await waitFor(page, 'true');
    ok(await page.locator('[data-testid="kernel-preset"]').inputValue() === 'edge-8', 'the edge-detection preset is selected at first');
    ok(await page.locator('[data-testid="border-mode"]').inputValue() === 'zeros', 'zero padding at first');
    ok(r.channels === 1 && r.height === 256 && r.width === 256, `the grey 256x256 sample photo is filtered, got ${r.channels}x${r.height}x${r.width}`);
    ok(r.input.every((v) => Number.isInteger(v) && v >= 0 && v <= 255), 'the grey input holds 0..255 integers');
    ok(new Set(r.input).size > 100, 'the input is a photo, not a flat image');
    ok(r.kernelSize === 3 && r.kernel.join() === EDGE8.join(), `the kernel is [[-1,-1,-1],[-1,8,-1],[-1,-1,-1]], got ${r.kernel}`);
    ok(r.paddingMode === 'zeros' && r.outHeight === 256 && r.outWidth === 256, 'zero padding keeps the size');
    assertMatchesConv2d(r, 'edge detection, zeros');
    // One value by hand: the top-left pixel sees three zeros of the padding... and five more.
    const W = r.width;
    const corner = 8 * r.input[0] - r.input[1] - r.input[W] - r.input[W + 1];
    ok(Math.abs(r.output[0] - corner) < 1e-3, `top-left output with zero padding: ${r.output[0]}, by hand ${corner}`);
    t.diagnostic(`edge detection on the sample: output ${Math.min(...r.output)}..${Math.max(...r.output)}`);

    // Negative responses are not clamped: the most negative pixel is drawn blue, the most positive red.
    const lo = r.output.indexOf(Math.min(...r.output));
    const hi = r.output.indexOf(Math.max(...r.output));
    ok(r.output[lo] < -50, `the edge detector has strongly negative outputs (min ${r.output[lo]})`);
    const [br, bg, bb] = await outputPixel(page, Math.floor(lo / W), lo % W);
    ok(bb > br + 60 && bb > bg, `a negative output pixel is blue-ish on the canvas, got rgb(${br}, ${bg}, ${bb})`);
    const [rr, rg, rb] = await outputPixel(page, Math.floor(hi / W), hi % W);
    ok(rr > rb + 60 && rr > rg, `the largest output pixel is red-ish, got rgb(${rr}, ${rg}, ${rb})`);
    const negatives = r.output.filter((v) => v < 0).length;
    ok(negatives > r.output.length / 10, `a sizeable share of the output is negative (${negatives})`);
    // The colour bar names the extremes and zero.
    const legendText = (await page.locator('.legend').textContent()) ?? '';
    const minText = String(Math.min(...r.output)).replace('-', '−');
    ok(legendText.includes(`min ${minText}`) && legendText.includes(`max ${Math.max(...r.output)}`), `the colour bar gives min and max: ${legendText}`);
    ok(await page.locator('.legend .tick.zero').textContent() === '0', 'the colour bar marks 0');
    await assertLegendLabelsFit(page, 'the colour bar at 1280 px');
    await ctx.screenshot(page, 'kernels');

    // Keys move the worked pixel and pin it in the URL.
    await page.locator('[data-testid="kernel-output"]').focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => document.querySelector('.inspect-head')?.textContent?.includes('row 128, column 129'));
    ok(/[?&]at=128(%2C|,)129/.test(page.url()), `the pinned pixel is in the URL: ${page.url()}`);

    // Pointing at the top-left output pixel writes out its sum, with the padding's zeros.
    await hoverPixel(page, 'kernel-output', 0, 0, r.outHeight, r.outWidth);
    await page.waitForFunction(() => document.querySelector('.inspect-head')?.textContent?.includes('row 0, column 0'));
    const formula = (await page.locator('.inspect .formula').first().textContent()) ?? '';
    ok(formula.replace(/−/g, '-').endsWith(`= ${r.output[0]}`), `the written-out sum ends with the output value ${r.output[0]}: ${formula}`);

    // Reflect padding: conv2d's reflect mode, and the corner changes.
    await page.locator('[data-testid="border-mode"]').selectOption('reflect');
    r = await waitFor(page, "r.paddingMode === 'reflect'");
    assertMatchesConv2d(r, 'edge detection, reflect');
    ok(Math.abs(r.output[0] - corner) > 1e-3 || r.input[0] === r.input[W + 1], 'reflect padding changes the corner');
    ok(page.url().includes('border=reflect'), `the border mode is in the URL: ${page.url()}`);
    // The worked pixel shows the mirrored value: the top-left tap of pixel (0, 0) reads input (1, 1).
    await hoverPixel(page, 'kernel-output', 0, 0, r.outHeight, r.outWidth);
    await page.mouse.move(0, 0);
    await hoverPixel(page, 'kernel-output', 0, 0, r.outHeight, r.outWidth);
    await page.waitForFunction(() => document.querySelector('.inspect .formula') !== null);
    const firstTap = (await page.locator('.inspect table.mini').first().locator('td').first().textContent()) ?? '';
    ok(Number(firstTap.replace('−', '-')) === r.input[W + 1], `reflect: the top-left tap of pixel (0, 0) reads input (1, 1) = ${r.input[W + 1]}, shown ${firstTap}`);

    // 'valid': no padding, two pixels fewer per axis for a 3x3 kernel.
    await page.locator('[data-testid="border-mode"]').selectOption('valid');
    r = await waitFor(page, "r.paddingMode === 'valid'");
    ok(r.outHeight === r.height - 2 && r.outWidth === r.width - 2, `valid: ${r.outHeight}x${r.outWidth} from ${r.height}x${r.width}`);
    const canvasSize = await page.locator('[data-testid="kernel-output"]').evaluate((c: HTMLCanvasElement) => [c.width, c.height]);
    ok(canvasSize[0] === r.width - 2 && canvasSize[1] === r.height - 2, `the output canvas is ${canvasSize}`);
    assertMatchesConv2d(r, 'edge detection, valid');

    // Editing a cell makes the kernel custom and changes the output; an edit that does not parse
    // changes nothing in the link (only a valid kernel goes into it).
    await page.locator('[data-testid="border-mode"]').selectOption('zeros');
    const before = await waitFor(page, "r.paddingMode === 'zeros'");
    const urlBefore = page.url();
    await page.locator('[data-testid="kernel-grid"] input').nth(0).fill('abc');
    await page.waitForSelector('[role="alert"]');
    ok(page.url() === urlBefore, `typing “abc” in a weight leaves the link as it was: ${urlBefore} became ${page.url()}`);
    ok(!/kernel=custom|[?&]k=/.test(page.url()), `no custom kernel in the link after an invalid edit: ${page.url()}`);
    await page.locator('[data-testid="kernel-grid"] input').nth(0).fill('-1');
    await page.locator('[data-testid="kernel-grid"] input').nth(4).fill('9');
    r = await waitFor(page, 'r.kernel[4] === 9');
    ok(await page.locator('[data-testid="kernel-preset"]').inputValue() === 'custom', 'an edited kernel is marked custom');
    ok(r.output.some((v, i) => v !== before.output[i]), 'editing a weight changes the output');
    assertMatchesConv2d(r, 'edited kernel');
    ok(/[?&]k=-1%2C-1%2C-1%2C-1%2C9%2C|[?&]k=-1,-1,-1,-1,9,/.test(page.url()), `the edited kernel is in the URL: ${page.url()}`);
    // A cell that is not a number is refused with a message, and nothing is recomputed.
    await page.locator('[data-testid="kernel-grid"] input').nth(0).fill('1..2');
    await page.waitForSelector('[role="alert"]');
    const alert = (await page.locator('[role="alert"]').first().textContent()) ?? '';
    ok(alert.includes('Row 1, column 1') && alert.includes('not a number'), `the bad cell is named: ${alert}`);
    ok(await page.locator('[data-testid="kernel-grid"] input').nth(0).getAttribute('aria-invalid') === 'true', 'the bad cell is marked invalid');
    ok(/[?&]k=-1%2C-1%2C-1%2C-1%2C9%2C|[?&]k=-1,-1,-1,-1,9,/.test(page.url()) && !page.url().includes('1..2'), `the link keeps the last valid kernel: ${page.url()}`);

    // A 5x5 Gaussian blur: conv2d with padding 2, nothing negative, grey output.
    await page.locator('[data-testid="kernel-preset"]').selectOption('gaussian-5');
    r = await waitFor(page, 'r.kernelSize === 5');
    ok(Math.abs(r.kernel.reduce((a, b) => a + b, 0) - 1) < 1e-9 && r.kernel[12] === 36 / 256, `the 5x5 Gaussian is [1 4 6 4 1]^2 / 256, got centre ${r.kernel[12]}`);
    ok(r.outHeight === 256, 'the 5x5 blur keeps the size');
    assertMatchesConv2d(r, '5x5 Gaussian');
    ok(await page.locator('[role="alert"]').count() === 0, 'choosing a preset clears the bad cell');
    await ctx.screenshot(page, 'kernels-blur');
    assertNoErrors(app, '#/kernels');
  } finally {
    await app.close();
  }

  // A link restores the state: a preset (whose weights are Stride's own), the border and the view.
  const linked = await ctx.open('kernels?kernel=sobel-y&border=replicate&view=clamp&color=1');
  try {
    const r = await waitFor(linked.page, 'true');
    ok(await linked.page.locator('[data-testid="kernel-preset"]').inputValue() === 'sobel-y', 'the preset comes from the link');
    ok(await linked.page.locator('[data-testid="border-mode"]').inputValue() === 'replicate', 'the border mode comes from the link');
    ok(r.kernel.join() === nn.imageKernels.sobelY.flat().join(), `sobel-y is Stride's nn.imageKernels.sobelY, got ${r.kernel}`);
    ok(r.paddingMode === 'replicate' && r.channels === 3, 'replicate padding, colour');
    ok(r.input.length === 3 * r.height * r.width && r.output.length === 3 * r.outHeight * r.outWidth, 'colour: three planes in and out');
    assertMatchesConv2d(r, 'sobel-y, replicate, colour (groups 3)');
    assertNoErrors(linked, '#/kernels from a link');
  } finally {
    await linked.close();
  }
  const custom = await ctx.open('kernels?k=1,0,-1,2,0,-2,1,0,-1&border=circular');
  try {
    const r = await waitFor(custom.page, 'true');
    ok(await custom.page.locator('[data-testid="kernel-preset"]').inputValue() === 'custom', 'a kernel given by its weights is custom');
    const cells = await custom.page.locator('[data-testid="kernel-grid"] input').evaluateAll((xs) => xs.map((x) => (x as HTMLInputElement).value));
    ok(cells.join() === '1,0,-1,2,0,-2,1,0,-1', `the grid shows the link's weights: ${cells}`);
    ok(r.kernel.join() === '1,0,-1,2,0,-2,1,0,-1' && r.paddingMode === 'circular', 'the link\'s kernel and border are computed');
    assertMatchesConv2d(r, 'custom kernel, circular');
    assertNoErrors(custom, '#/kernels with k=');
  } finally {
    await custom.close();
  }

  // The reader's own image: decoded by the browser, scaled down to 512 pixels on its long side.
  const own = await ctx.open('kernels?kernel=box-blur-3&border=reflect');
  try {
    await waitFor(own.page, 'true');
    await own.page.evaluate(async () => {
      const c = document.createElement('canvas');
      c.width = 1000;
      c.height = 600;
      const g = c.getContext('2d')!;
      g.fillStyle = '#204080';
      g.fillRect(0, 0, 1000, 600);
      g.fillStyle = '#f0d020';
      g.fillRect(250, 150, 500, 300);
      const blob = await new Promise<Blob>((resolve) => c.toBlob((b) => resolve(b!), 'image/png'));
      const input = document.querySelector<HTMLInputElement>('input[type="file"]')!;
      const dt = new DataTransfer();
      dt.items.add(new File([blob], 'wide.png', { type: 'image/png' }));
      input.files = dt.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    const r = await waitFor(own.page, 'r.width !== 256');
    ok(r.width === 512 && r.height === 307, `a 1000x600 image is filtered at 512x307, got ${r.width}x${r.height}`);
    ok(r.outWidth === 512 && r.outHeight === 307, 'reflect keeps its size');
    assertMatchesConv2d(r, 'box blur of an opened image, reflect');
    ok(await own.page.locator('select').filter({ has: own.page.locator('option[value="file"]') }).inputValue() === 'file', 'the image select shows the opened image');
    // A file that is not an image is refused with a message; the last image stays.
    await own.page.evaluate(() => {
      const input = document.querySelector<HTMLInputElement>('input[type="file"]')!;
      const dt = new DataTransfer();
      dt.items.add(new File(['not an image'], 'notes.txt', { type: 'text/plain' }));
      input.files = dt.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await own.page.waitForSelector('[role="alert"]');
    const alert = (await own.page.locator('[role="alert"]').textContent()) ?? '';
    ok(alert.includes('notes.txt') && alert.includes('could not be read as an image'), `a text file is refused: ${alert}`);
    assertNoErrors(own, '#/kernels with an opened image');
  } finally {
    await own.close();
  }

  // Names and explanations: the Sobel gradient magnitude is named for what it computes (links that called it
  // 'outline' still open it), and an explanation names colours only when the chosen view shows them.
  const named = await ctx.open('kernels?kernel=outline&view=abs');
  try {
    const p = named.page;
    await waitFor(p, 'true');
    const preset = p.locator('[data-testid="kernel-preset"]');
    ok(await preset.inputValue() === 'sobel-magnitude', `kernel=outline opens the Sobel gradient magnitude, got ${await preset.inputValue()}`);
    const label = (await preset.locator('option:checked').textContent()) ?? '';
    ok(label === 'Gradient magnitude (Sobel)', `the magnitude preset is named for what it computes: ${label}`);
    const labels = await preset.locator('option').evaluateAll((os) => os.map((o) => o.textContent ?? ''));
    ok(!labels.some((l) => /outline/i.test(l)), `no preset is labelled “outline”: ${labels.join(' | ')}`);
    const about = p.locator('.k-kernel .about');
    const ids = await preset.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value).filter((v) => v !== 'custom'));
    for (const view of ['abs', 'clamp', 'stretch']) {
      await p.locator('[data-testid="output-view"]').selectOption(view);
      for (const id of ids) {
        await preset.selectOption(id);
        const text = (await about.textContent()) ?? '';
        ok(!/\b(red|blue)\b/i.test(text), `view=${view}, ${id}: the explanation speaks of colours the view does not show: ${text}`);
      }
    }
    await preset.selectOption('log-5');
    await p.locator('[data-testid="output-view"]').selectOption('abs');
    const absText = (await about.textContent()) ?? '';
    ok(absText.includes('positive and negative look alike'), `view=abs: the LoG explanation says both signs look alike: ${absText}`);
    await p.locator('[data-testid="output-view"]').selectOption('signed');
    const signedText = (await about.textContent()) ?? '';
    ok(/positive values are red, negative ones blue/.test(signedText), `signed colours: the LoG explanation names red and blue: ${signedText}`);
    await preset.selectOption('edge-8');
    const edgeText = (await about.textContent()) ?? '';
    ok(edgeText.includes('"outline"') && edgeText.includes('it is not the gradient magnitude (Sobel)'), `the 8-neighbour kernel's explanation tells it apart from the gradient magnitude: ${edgeText}`);
    // Narrowing the window places the colour bar's labels again for the new width.
    await preset.selectOption('log-5');
    await waitFor(p, 'r.kernelSize === 5');
    await assertLegendLabelsFit(p, 'LoG at 1280 px');
    await p.setViewportSize({ width: 375, height: 800 });
    await p.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await assertLegendLabelsFit(p, 'LoG after narrowing the window to 375 px');
    assertNoErrors(named, '#/kernels names and explanations');
  } finally {
    await named.close();
  }

  // A narrow screen: everything fits in 375 px; the images are stacked at the full width, a pad moves the
  // worked pixel, and the colour bar's labels stay apart and on screen in every view.
  const narrow = await ctx.open('kernels', { width: 375, height: 800 });
  try {
    const p = narrow.page;
    await waitFor(p, 'true');
    const scroll = await p.evaluate(() => document.documentElement.scrollWidth);
    ok(scroll <= 375, `no horizontal page scroll at 375 px (scrollWidth ${scroll})`);
    const inBox = await p.locator('[data-testid="kernel-input"]').boundingBox();
    const outBox = await p.locator('[data-testid="kernel-output"]').boundingBox();
    ok(inBox && outBox && inBox.width >= 300 && outBox.width >= 300, `at 375 px each image is at least 300 px wide: ${inBox?.width}, ${outBox?.width}`);
    ok(inBox && outBox && outBox.y >= inBox.y + inBox.height - 1, 'at 375 px the output is below the input');
    await assertLegendLabelsFit(p, '375 px, signed, saturated');
    await ctx.screenshot(p, 'kernels-narrow');
    // The pad: one column right, one row down, pinned in the URL.
    await p.locator('[data-testid="pixel-right"]').click();
    await p.waitForFunction(() => document.querySelector('.inspect-head')?.textContent?.includes('row 128, column 129'));
    await p.locator('[data-testid="pixel-down"]').click();
    await p.waitForFunction(() => document.querySelector('.inspect-head')?.textContent?.includes('row 129, column 129'));
    ok(/[?&]at=129(%2C|,)129/.test(p.url()), `the pad pins the pixel in the URL: ${p.url()}`);
    await p.locator('[data-testid="pixel-left"]').click();
    await p.locator('[data-testid="pixel-up"]').click();
    await p.waitForFunction(() => document.querySelector('.inspect-head')?.textContent?.includes('row 128, column 128'));
    // The magnified output: a tap on the cell two rows down and three columns left pins that pixel.
    const loupe = await p.locator('[data-testid="loupe-output"]').boundingBox();
    ok(loupe && loupe.width >= 100, `the magnified output is shown at 375 px (${loupe?.width} px wide)`);
    const cell = loupe!.width / 11;
    await p.mouse.click(loupe!.x + (5 - 3 + 0.5) * cell, loupe!.y + (5 + 2 + 0.5) * cell);
    await p.waitForFunction(() => document.querySelector('.inspect-head')?.textContent?.includes('row 130, column 125'));
    ok(/[?&]at=130(%2C|,)125/.test(p.url()), `a tap on the magnified output pins that pixel: ${p.url()}`);
    // Its centre cell shows the output pixel the sum is worked out for (the same colour as on the output canvas).
    const same = await p.evaluate(() => {
      const out = document.querySelector<HTMLCanvasElement>('[data-testid="kernel-output"]')!.getContext('2d')!.getImageData(125, 130, 1, 1).data;
      const lp = document.querySelector<HTMLCanvasElement>('[data-testid="loupe-output"]')!;
      const mid = lp.getContext('2d')!.getImageData(lp.width / 2, lp.height / 2, 1, 1).data;
      return [Array.from(out), Array.from(mid)];
    });
    ok(same[0].slice(0, 3).join() === same[1].slice(0, 3).join(), `the loupe's centre is the pinned output pixel: ${same[0]} vs ${same[1]}`);
    for (const view of ['abs', 'stretch', 'clamp', 'signed']) {
      await p.locator('[data-testid="output-view"]').selectOption(view);
      await assertLegendLabelsFit(p, `375 px, view=${view}, saturated`);
    }
    await p.getByLabel('Saturate the outer 1%', { exact: false }).uncheck();
    for (const view of ['signed', 'abs', 'stretch']) {
      await p.locator('[data-testid="output-view"]').selectOption(view);
      await assertLegendLabelsFit(p, `375 px, view=${view}, extremes`);
    }
    assertNoErrors(narrow, '#/kernels at 375 px');
  } finally {
    await narrow.close();
  }

  // Long numbers at 375 px: a kernel with huge weights gives 11-digit extremes; the labels still fit.
  const big = '-12345678.9';
  const long = await ctx.open(`kernels?k=${[big, big, big, big, '98765431.2', big, big, big, big].join(',')}&sat=0`, { width: 375, height: 800 });
  try {
    const p = long.page;
    const r = await waitFor(p, 'true');
    ok(Math.max(...r.output.map(Math.abs)) > 1e9, 'the huge kernel gives values above 10^9');
    await assertLegendLabelsFit(p, '375 px, 11-digit values, extremes');
    await p.getByLabel('Saturate the outer 1%', { exact: false }).check();
    await assertLegendLabelsFit(p, '375 px, 11-digit values, saturated');
    await ctx.screenshot(p, 'kernels-narrow-long');
    for (const view of ['abs', 'stretch']) {
      await p.locator('[data-testid="output-view"]').selectOption(view);
      await assertLegendLabelsFit(p, `375 px, 11-digit values, view=${view}`);
    }
    // Divided by 10^-10: 21-digit values, too long for the labels to share a line; they go one per line.
    await p.locator('[data-testid="output-view"]').selectOption('signed');
    await p.getByLabel('Divide every weight by').fill('1e-10');
    await waitFor(p, 'Math.abs(r.output[1000]) > 1e15 || Math.abs(r.output[2000]) > 1e15');
    await assertLegendLabelsFit(p, '375 px, 21-digit values');
    await ctx.screenshot(p, 'kernels-narrow-stacked');
    const scroll = await p.evaluate(() => document.documentElement.scrollWidth);
    ok(scroll <= 375, `no horizontal page scroll with long values (scrollWidth ${scroll})`);
    assertNoErrors(long, '#/kernels at 375 px with long values');
  } finally {
    await long.close();
  }
}
