/**
 * Checks of the web app's #/convolution page (run by test/once/web.test.ts):
 * the output sizes and fit verdicts the lectures work out (7x7 with a 3x3
 * filter at strides 1, 2 and 3, padding 1, dilation 2), the worked examples'
 * output values (the 5x5 image and 3x3 filter, max, average and L2 pooling),
 * a transposed convolution's size and values and a reflect-padded
 * convolution's values against loops written here, the animation moving the
 * window, a state set through the controls surviving a reload, a bad
 * combination explained, the fit verdict (left-over rows, gaps between
 * windows) against coverage counted here, the settings explained in each
 * operation's words, only the controls an operation takes shown (and the
 * padding Stride asks for within the field's range), and screenshots at 1280
 * and 375 px (wrapped code, no connector lines across stacked grids).
 */
import type { TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { assertNoErrors, ok, type WebTestContext } from '../helpers/index.js';

/** Goes to a route of the app in the same page (the router mounts the page again on a hash change). */
async function goTo(page: Page, route: string): Promise<void> {
  await page.evaluate((r) => { location.hash = `#/${r}`; }, route);
  await page.waitForFunction(() => !/…/.test(document.querySelector('[data-testid="output-size"]')?.textContent ?? '…') || document.querySelector('[data-testid="error"] .error') !== null);
}

/** Waits until the output size reads `want`, and returns the fit sentence. */
async function sizeAndFit(page: Page, want: string, where: string): Promise<string> {
  try {
    await page.waitForFunction((w) => document.querySelector('[data-testid="output-size"]')?.textContent === w, want, { timeout: 10_000 });
  } catch {
    const got = await page.textContent('[data-testid="output-size"]');
    const err = await page.textContent('[data-testid="error"]');
    ok(false, `${where}: output size should be "${want}", got "${got}"${err ? ` (error: ${err})` : ''}`);
  }
  return (await page.textContent('[data-testid="fit"]')) ?? '';
}

/** The values of output channel `ch` as a list of rows (the cells' exact data-value; cropped border cells left out). */
async function outputValues(page: Page, ch = 0): Promise<number[][]> {
  return page.evaluate((c) => {
    const grid = document.querySelectorAll('[data-testid="output-grid"]')[c];
    const rows = new Map<number, number[]>();
    for (const cell of grid.querySelectorAll<HTMLElement>('.cell[data-value]')) {
      const r = Number(cell.dataset.r);
      if (!rows.has(r)) rows.set(r, []);
      rows.get(r)!.push(Number(cell.dataset.value));
    }
    return [...rows.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  }, ch);
}

function close(got: number[][], want: number[][], where: string, tol = 1e-4): void {
  ok(got.length === want.length && got.every((row, i) => row.length === want[i].length), `${where}: output is ${got.length}x${got[0]?.length}, expected ${want.length}x${want[0].length}: ${JSON.stringify(got)}`);
  got.forEach((row, i) => row.forEach((v, j) => ok(Math.abs(v - want[i][j]) <= tol * Math.max(1, Math.abs(want[i][j])), `${where}: output (${i}, ${j}) is ${v}, expected ${want[i][j]}; all: ${JSON.stringify(got)}`)));
}

/** Seeded integers in [lo, hi] for the values the test gives the page through the URL. */
function ints(n: number, seed: number, lo: number, hi: number): number[] {
  let a = seed;
  return Array.from({ length: n }, () => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return lo + (Math.floor(a / 65536) % (hi - lo + 1));
  });
}

/** 2-D cross-correlation of an already padded single-channel map, stride 1. */
function correlate(x: number[][], w: number[][]): number[][] {
  const k = w.length;
  const out: number[][] = [];
  for (let i = 0; i + k <= x.length; i++) {
    const row: number[] = [];
    for (let j = 0; j + k <= x[0].length; j++) {
      let s = 0;
      for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) s += x[i + u][j + v] * w[u][v];
      row.push(s);
    }
    out.push(row);
  }
  return out;
}

const grid = (flat: number[], n: number) => Array.from({ length: flat.length / n }, (_, i) => flat.slice(i * n, (i + 1) * n));

/**
 * Which input cells along one axis the windows' taps touch, counted here:
 * window j starts at j*stride - before and reads start + t*dilation for each
 * of the kernel's taps. `left` are the unseen cells past the last window's end
 * (what the division's remainder leaves over), `gaps` the unseen cells before
 * it, `padRemainder` the padding cells after the last window (a remainder of
 * padding only). Ceil mode (pooling) rounds up but drops a window that would
 * start at or past input + before, as PyTorch does.
 */
function coverage(n: number, k: number, s: number, d: number, before: number, after: number, ceil = false) {
  const span = d * (k - 1) + 1;
  const room = n + before + after - span;
  let out = (ceil ? Math.ceil(room / s) : Math.floor(room / s)) + 1;
  if (ceil && (out - 1) * s >= n + before) out--;
  const seen = new Set<number>();
  let lastEnd = -Infinity;
  for (let j = 0; j < out; j++) {
    const start = j * s - before;
    for (let t = 0; t < k; t++) seen.add(start + t * d);
    lastEnd = start + span - 1;
  }
  const left: number[] = [];
  const gaps: number[] = [];
  for (let i = 0; i < n; i++) if (!seen.has(i)) (i > lastEnd ? left : gaps).push(i);
  return { out, left, gaps, padRemainder: Math.max(0, n + after - 1 - Math.max(lastEnd, n - 1)) };
}

/** 0, 2, 5–9: runs of three or more shortened, as the page writes index lists. */
function runs(list: number[]): string {
  const parts: string[] = [];
  for (let a = 0; a < list.length;) {
    let b = a;
    while (b + 1 < list.length && list[b + 1] === list[b] + 1) b++;
    parts.push(b === a ? `${list[a]}` : b === a + 1 ? `${list[a]}, ${list[b]}` : `${list[a]}–${list[b]}`);
    a = b + 1;
  }
  return parts.join(', ');
}

/** Whether the control with this test id is shown (its field is not hidden). */
async function shown(page: Page, testid: string): Promise<boolean> {
  return page.$eval(`[data-testid="${testid}"]`, (e) => (e as HTMLElement).offsetParent !== null);
}

export async function checkConvolution(ctx: WebTestContext, t: TestContext): Promise<void> {
  const app = await ctx.open('convolution?input=7&kernel=3&stride=1&padding=0&dilation=1');
  const { page } = app;
  try {
    await t.test('the lecture sizes from the URL', async () => {
      await page.waitForSelector('[data-testid="output-size"]');
      let fit = await sizeAndFit(page, '5 x 5', 'input 7, kernel 3, stride 1');
      ok(fit.startsWith('fits') && !fit.includes("doesn't fit"), `stride 1 fits: ${fit}`);
      await goTo(page, 'convolution?input=7&kernel=3&stride=2&padding=0&dilation=1');
      fit = await sizeAndFit(page, '3 x 3', 'stride 2');
      ok(fit.startsWith('fits'), `stride 2 fits: ${fit}`);
      await goTo(page, 'convolution?input=7&kernel=3&stride=3&padding=0&dilation=1');
      fit = await sizeAndFit(page, '2 x 2', 'stride 3');
      ok(fit.includes("doesn't fit"), `stride 3 doesn't fit: ${fit}`);
      ok(/row 6\b/.test(fit) && /column 6\b/.test(fit), `stride 3 names row 6 and column 6 as unseen: ${fit}`);
      const unseen = await page.$$eval('[data-testid="input-grid"] .cell.unseen', (cells) => cells.map((c) => `${(c as HTMLElement).dataset.r},${(c as HTMLElement).dataset.c}`));
      ok(unseen.length === 13 && unseen.every((rc) => rc.split(',').includes('6')), `the 13 cells of row 6 and column 6 are marked unseen, got ${unseen.join(' ')}`);
      const suggestion = await page.textContent('[data-testid="suggestion"]');
      ok(/Padding 1 would fit: output 3 x 3/.test(suggestion ?? ''), `explainWindow's suggestion (padding 1 -> 3 x 3) is shown: ${suggestion}`);
      const formula = await page.textContent('[data-testid="formula"]');
      ok(/floor\(1\.33\) \+ 1 = 2/.test(formula ?? ''), `the formula is filled in: ${formula}`);
      await goTo(page, 'convolution?input=7&kernel=3&stride=1&padding=1&dilation=1');
      fit = await sizeAndFit(page, '7 x 7', 'padding 1');
      ok(fit.startsWith('fits'), `padding 1 fits: ${fit}`);
      await goTo(page, 'convolution?input=7&kernel=3&stride=1&padding=0&dilation=2');
      await sizeAndFit(page, '3 x 3', 'dilation 2');
      await goTo(page, 'convolution?inputH=7&inputW=9&kernel=3x5&stride=2&padding=0&dilation=1');
      await sizeAndFit(page, '3 x 3', 'inputH 7, inputW 9, kernel 3x5, stride 2');
      ok((await page.inputValue('[data-testid="input"]')) === '7x9', 'inputH / inputW show as 7x9');
      await goTo(page, 'convolution?input=7x9&channels=3&kernel=3&stride=2&padding=0&dilation=1');
      await sizeAndFit(page, '3 x 4', '7x9 input, stride 2');
      const code = await page.textContent('[data-testid="code-pytorch"]');
      ok(code?.includes('torch.nn.Conv2d(3, 1, 3, stride=2, padding=0, bias=False)'), `the PyTorch line matches the controls: ${code}`);
      const strideCode = await page.textContent('[data-testid="code-stride"]');
      ok(strideCode?.includes('F.conv2d(x, w, null, { stride: 2, padding: 0 })'), `the Stride line matches the controls: ${strideCode}`);
    });

    await t.test('the worked examples (presets)', async () => {
      await goTo(page, 'convolution');
      await page.selectOption('[data-testid="preset"]', 'dot-5x5');
      await sizeAndFit(page, '3 x 3', '5x5 preset');
      close(await outputValues(page), [[4, 3, 4], [2, 4, 3], [2, 3, 4]], '5x5 image * 3x3 filter');
      const dot = await page.textContent('[data-testid="dot-product"]');
      ok(dot?.includes('1·1 + 1·0 + 1·1 + 0·0 + 1·1 + 1·0 + 0·1 + 0·0 + 1·1 = 4'), `the first dot product is written out: ${dot}`);
      await ctx.screenshot(page, 'convolution-preset');
      const pools: [string, number[][]][] = [
        ['max-pool-4x4', [[6, 8], [3, 4]]],
        ['max-pool-signed', [[6, 2], [7, 3]]],
        ['avg-pool', [[4, 0], [3, 2]]],
        ['l2-pool', [[Math.sqrt(1 + 1 + 25 + 36), Math.sqrt(4 + 16 + 49 + 64)], [Math.sqrt(9 + 4 + 1 + 4), Math.sqrt(1 + 0 + 9 + 16)]]],
      ];
      for (const [id, want] of pools) {
        await page.selectOption('[data-testid="preset"]', id);
        await sizeAndFit(page, '2 x 2', id);
        await page.waitForFunction(() => document.querySelectorAll('[data-testid="output-grid"] .cell[data-value]').length === 4);
        close(await outputValues(page), want, id);
      }
      const l2 = await page.textContent('[data-testid="dot-product"]');
      ok(l2?.includes('sqrt(1² + 1² + 5² + 6²) = sqrt(63) = 7.94'), `L2 pooling's arithmetic: ${l2}`);
      await page.selectOption('[data-testid="preset"]', 'max-pool-4x4');
      await page.waitForFunction(() => document.querySelector('[data-testid="dot-product"]')?.textContent?.includes('max(1, 1, 5, 6) = 6'));
      await page.click('[data-testid="step-forward"]');
      await page.waitForFunction(() => document.querySelector('[data-testid="dot-product"]')?.textContent?.includes('max(2, 4, 7, 8) = 8'));
      await ctx.screenshot(page, 'convolution-pool');
      await page.selectOption('[data-testid="preset"]', 'overlap-pool');
      await sizeAndFit(page, '6 x 6', 'overlapping pooling 13 -> 6');
    });

    await t.test('a transposed convolution: size and values', async () => {
      const x = ints(9, 7, -2, 3);
      const w = ints(9, 11, -1, 2);
      await goTo(page, `convolution?mode=transposed&input=3&kernel=3&stride=2&padding=1&outputPadding=1&dilation=1&x=${x.join(',')}&w=${w.join(',')}`);
      // PyTorch: (H - 1)*s - 2p + d*(k - 1) + output_padding + 1
      const size = (3 - 1) * 2 - 2 * 1 + 1 * (3 - 1) + 1 + 1;
      await sizeAndFit(page, `${size} x ${size}`, 'transposed 3x3, k3 s2 p1 op1');
      // each input scatters x * w into the output at (i*s - p + u, j*s - p + v)
      const want = Array.from({ length: size }, () => new Array<number>(size).fill(0));
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let u = 0; u < 3; u++) for (let v = 0; v < 3; v++) {
        const r = i * 2 - 1 + u;
        const c = j * 2 - 1 + v;
        if (r >= 0 && c >= 0 && r < size && c < size) want[r][c] += x[i * 3 + j] * w[u * 3 + v];
      }
      close(await outputValues(page), want, 'transposed convolution');
      const code = await page.textContent('[data-testid="code-pytorch"]');
      ok(code?.includes('torch.nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1, bias=False)'), `the PyTorch line: ${code}`);
      await page.click('[data-testid="step-forward"]');
      await page.waitForFunction(() => document.querySelector('[data-testid="step-title"]')?.textContent?.includes('input (0, 1)'));
      await ctx.screenshot(page, 'convolution-transposed');
      // with several channels, groups and a bias: after the last scatter the running sum is Stride's output, channel by channel
      const x2 = ints(2 * 3 * 4, 13, -2, 3);
      const w2 = ints(2 * 2 * 2 * 3, 17, -2, 2);
      await goTo(page, `convolution?mode=transposed&input=3x4&channels=2&filters=4&groups=2&kernel=2x3&stride=2x1&padding=0x1&dilation=1&bias=1&b=1,-1,2,0&x=${x2.join(',')}&w=${w2.join(',')}`);
      await sizeAndFit(page, `${(3 - 1) * 2 + 2} x ${(4 - 1) * 1 - 2 + 3}`, 'transposed 3x4, kernel 2x3, stride 2x1, padding 0x1');
      for (let o = 0; o < 4; o++) {
        await page.selectOption('[data-testid="och"]', String(o));
        await page.fill('[data-testid="scrub"]', '11');
        await page.waitForFunction(() => document.querySelector('[data-testid="running-grid"]')?.closest('figure')?.textContent?.includes('after 12 of 12'));
        const running = await page.$$eval('[data-testid="running-grid"] .cell[data-value]', (c) => c.map((x) => Number((x as HTMLElement).dataset.value)));
        const final = (await outputValues(page, o)).flat();
        close([running], [final], `the running sum of output channel ${o} after every scatter`);
      }
    });

    await t.test('reflection padding against loops written here', async () => {
      const x = ints(25, 3, 0, 9);
      const w = ints(9, 5, -2, 2);
      await goTo(page, `convolution?input=5&kernel=3&stride=1&padding=1&paddingMode=reflect&dilation=1&x=${x.join(',')}&w=${w.join(',')}`);
      await sizeAndFit(page, '5 x 5', 'reflect padding 1');
      // reflect: index -1 -> 1, index 5 -> 3 (the edge is not repeated)
      const src = (i: number) => (i < 0 ? -i : i > 4 ? 8 - i : i);
      const padded = Array.from({ length: 7 }, (_, i) => Array.from({ length: 7 }, (_, j) => x[src(i - 1) * 5 + src(j - 1)]));
      close(await outputValues(page), correlate(padded, grid(w, 3)), 'reflect-padded convolution');
      const corner = await page.$eval('[data-testid="input-grid"] .cell[data-r="-1"][data-c="-1"]', (c) => (c as HTMLElement).dataset.value);
      ok(Number(corner) === x[1 * 5 + 1], `the padding cell (-1, -1) shows its reflected value ${x[6]}, got ${corner}`);
    });

    await t.test("the written arithmetic gives Stride's value at every position", async () => {
      // each line "expression = value": the expression, evaluated here, must give the value the page shows (Stride's)
      const configs = [
        'convolution?input=5&kernel=3&padding=1&paddingMode=partial&seed=4',
        'convolution?input=5x6&channels=2&filters=2&kernel=2x3&stride=2x1&padding=1&paddingMode=circular&bias=1&seed=5',
        'convolution?input=6&channels=2&filters=2&groups=2&kernel=3&dilation=2&padding=1&paddingMode=replicate&seed=6',
        'convolution?mode=pool&pool=avg&input=5&kernel=2&stride=2&padding=1&ceilMode=1&countIncludePad=0&seed=7',
        'convolution?mode=pool&pool=avg&input=5&kernel=3&stride=2&padding=1&ceilMode=1&countIncludePad=1&seed=8',
        'convolution?mode=pool&pool=max&input=5&kernel=3&stride=2&padding=1&ceilMode=1&seed=9',
        'convolution?mode=pool&pool=l2&input=5&kernel=2&stride=2&ceilMode=1&seed=10',
      ];
      const evaluate = (expr: string): number => {
        const js = expr.replace(/−∞/g, '-Infinity').replace(/−/g, '-').replace(/[·×]/g, '*').replace(/²/g, '**2')
          .replace(/sqrt\(/g, 'Math.sqrt(').replace(/max\(/g, 'Math.max(');
        ok(/^[-+*/().,\s\d\w]*$/.test(js), `an arithmetic expression: ${js}`);
        return Function(`return (${js});`)() as number;
      };
      for (const route of configs) {
        await goTo(page, `${route}&step=0`);
        await page.waitForSelector('[data-testid="output-grid"] .cell[data-value]');
        const steps = Number(await page.getAttribute('[data-testid="scrub"]', 'max')) + 1;
        const channels = await page.$$eval('[data-testid="output-grid"]', (g) => g.length);
        for (let k = 0; k < steps * channels; k++) {
          const lines = await page.$$eval('[data-testid="dot-product"] div', (d) => d.map((x) => x.textContent ?? ''));
          for (const line of lines) {
            const body = line.replace(/^channel \d+: /, '').replace(/^partial padding: /, '').replace(/bias /g, '').replace(/\([^()]*[a-z][^()]*\)/g, '');
            const parts = body.split(' = ');
            const shown = Number(parts[parts.length - 1].replace('−', '-'));
            const got = evaluate(parts[0]);
            ok(Math.abs(got - shown) <= 5e-3 * Math.max(1, Math.abs(shown)), `${route}, step ${k}: "${line}" evaluates to ${got}, not ${shown}`);
          }
          await page.click('[data-testid="step-forward"]');
        }
      }
    });

    await t.test('the fit verdict against the windows counted here', async () => {
      // [route, pooling ceil mode]: each axis's left-over cells (past the last window: "doesn't fit") and gaps (between windows)
      const configs: { q: string; input: [number, number]; kernel: [number, number]; stride: [number, number]; dilation: [number, number]; padding: number; ceil?: boolean }[] = [
        { q: 'input=5&kernel=2&dilation=3&stride=3&padding=0', input: [5, 5], kernel: [2, 2], stride: [3, 3], dilation: [3, 3], padding: 0 },
        { q: 'input=7&kernel=3&stride=3&padding=0&dilation=1', input: [7, 7], kernel: [3, 3], stride: [3, 3], dilation: [1, 1], padding: 0 },
        { q: 'input=8&kernel=3&dilation=2&stride=2&padding=1', input: [8, 8], kernel: [3, 3], stride: [2, 2], dilation: [2, 2], padding: 1 },
        { q: 'input=9&kernel=2&stride=4&padding=0&dilation=1', input: [9, 9], kernel: [2, 2], stride: [4, 4], dilation: [1, 1], padding: 0 },
        { q: 'input=6&kernel=3&stride=2&padding=1&dilation=1', input: [6, 6], kernel: [3, 3], stride: [2, 2], dilation: [1, 1], padding: 1 },
        { q: 'input=10&kernel=3&dilation=3&stride=4&padding=2', input: [10, 10], kernel: [3, 3], stride: [4, 4], dilation: [3, 3], padding: 2 },
        { q: 'input=11&kernel=2&stride=3&padding=1&dilation=1', input: [11, 11], kernel: [2, 2], stride: [3, 3], dilation: [1, 1], padding: 1 },
        { q: 'input=7x5&kernel=3x2&stride=3&dilation=1x3&padding=0', input: [7, 5], kernel: [3, 2], stride: [3, 3], dilation: [1, 3], padding: 0 },
        { q: 'mode=pool&pool=max&input=5&kernel=1&stride=3&ceilMode=1&padding=0&dilation=1', input: [5, 5], kernel: [1, 1], stride: [3, 3], dilation: [1, 1], padding: 0, ceil: true },
        { q: 'mode=pool&pool=max&input=5&kernel=2&stride=2&ceilMode=1&padding=0&dilation=1', input: [5, 5], kernel: [2, 2], stride: [2, 2], dilation: [1, 1], padding: 0, ceil: true },
        { q: 'mode=pool&pool=max&input=9&kernel=3&stride=2&dilation=2&padding=1', input: [9, 9], kernel: [3, 3], stride: [2, 2], dilation: [2, 2], padding: 1 },
      ];
      for (const c of configs) {
        const [h, w] = [0, 1].map((a) => coverage(c.input[a], c.kernel[a], c.stride[a], c.dilation[a], c.padding, c.padding, c.ceil));
        await goTo(page, `convolution?${c.q}`);
        const fit = await sizeAndFit(page, `${h.out} x ${w.out}`, c.q);
        const data = await page.$eval('[data-testid="fit"]', (e) => ({ ...(e as HTMLElement).dataset }));
        const same = (got: string | undefined, want: number[], what: string) => ok(got === want.join(','), `${c.q}: ${what} should be [${want}], the page says [${got}]; ${fit}`);
        same(data.unseenRows, h.left, 'rows left over past the last window');
        same(data.unseenCols, w.left, 'columns left over past the last window');
        same(data.gapRows, h.gaps, 'rows between the windows');
        same(data.gapCols, w.gaps, 'columns between the windows');
        const misfit = h.left.length > 0 || w.left.length > 0;
        ok(fit.startsWith(misfit ? "doesn't fit: no window sees" : 'fits'), `${c.q}: ${misfit ? "doesn't fit" : 'fits'} expected: ${fit}`);
        if (h.left.length) ok(fit.includes(`${h.left.length === 1 ? 'row' : 'rows'} ${runs(h.left)}`), `${c.q}: names rows ${h.left}: ${fit}`);
        if (w.left.length) ok(fit.includes(`${w.left.length === 1 ? 'column' : 'columns'} ${runs(w.left)}`), `${c.q}: names columns ${w.left}: ${fit}`);
        // "the remainder is padding" only when it is: nothing left over, and padding past the last window
        if (fit.includes('padding no window reaches')) ok(!misfit && (h.padRemainder > 0 || w.padRemainder > 0), `${c.q}: the remainder is not padding only: ${fit}`);
        ok(fit.includes('fall between the windows') === (h.gaps.length + w.gaps.length > 0), `${c.q}: the gaps are named exactly when there are some: ${fit}`);
        const unseen = await page.$$eval('[data-testid="input-grid"] .cell.unseen', (cells) => cells.map((e) => [Number((e as HTMLElement).dataset.r), Number((e as HTMLElement).dataset.c)]));
        const rows = new Set([...h.left, ...h.gaps]);
        const cols = new Set([...w.left, ...w.gaps]);
        const want = c.input[0] * c.input[1] - (c.input[0] - rows.size) * (c.input[1] - cols.size);
        ok(unseen.length === want && unseen.every(([r, cc]) => rows.has(r) || cols.has(cc)), `${c.q}: the ${want} unseen cells are hatched, got ${JSON.stringify(unseen)}`);
      }
      // the case that once read "fits": row and column 4 are input the remainder leaves over, and padding does not bring them in
      await goTo(page, 'convolution?input=5&kernel=2&dilation=3&stride=3&padding=0');
      const fit = await sizeAndFit(page, '1 x 1', 'dilation 3, stride 3');
      ok(/^doesn't fit: no window sees input row 4 and column 4 \(5 − 4 = 1 leaves 1 over stride 3\)/.test(fit) && !/between the windows[^;]*\b4\b/.test(fit), `row and column 4 are left over, not between windows: ${fit}`);
      const suggestion = (await page.textContent('[data-testid="suggestion"]')) ?? '';
      ok(/Crop 1 row and 1 column from the end of the input/.test(suggestion) && (await page.$('[data-testid="apply-suggestion"]')) === null, `cropping is suggested, no padding button: ${suggestion}`);
    });

    await t.test('what the settings do, in the words of each operation', async () => {
      const about = async (route: string, size: string) => {
        await goTo(page, route);
        await sizeAndFit(page, size, route);
        return (await page.textContent('[data-testid="about"]')) ?? '';
      };
      let text = await about('convolution?mode=transposed&input=3&kernel=3&stride=2&padding=1&outputPadding=1', '6 x 6');
      ok(/Stride 2: each input cell moves the kernel's copy 2 cells further along in the output, so the output is about 2 times larger along each axis than the input \(here 3x3 → 6x6\)/.test(text), `transposed: the stride enlarges: ${text}`);
      ok(!/smaller along|jumps/.test(text), `transposed: nothing about shrinking or jumping windows: ${text}`);
      ok(/crops that many rows and columns/.test(text), `transposed: padding crops the output: ${text}`);
      // a convolution with k3 s2 p1 maps 5 and 6 to 3; output padding 1 picks 6
      ok(/maps every input of 5–6 rows and columns to 3;.*picks 6 instead/.test(text), `transposed: output padding picks 6 of 5–6: ${text}`);
      text = await about('convolution?mode=transposed&input=3&kernel=2&stride=3x2&dilation=2&padding=0', '9 x 7');
      ok(/about 3 times larger in height and 2 in width/.test(text) && /cells of each kernel copy land 2 cells apart in the output/.test(text), `transposed: per-axis stride and dilation: ${text}`);
      // output cells no kernel copy reaches: the stride past the kernel, or the holes of a dilated copy
      await goTo(page, 'convolution?mode=transposed&input=3&kernel=2&stride=3&padding=0&dilation=1');
      let fit = await sizeAndFit(page, '8 x 8', 'transposed, stride 3 past a kernel of 2');
      ok(/output row 2, row 5, column 2, column 5 get no input, only the bias \(the stride is larger than the kernel\)/.test(fit), `transposed gaps from the stride: ${fit}`);
      await goTo(page, 'convolution?mode=transposed&input=3&kernel=2&stride=3&padding=0&dilation=3');
      fit = await sizeAndFit(page, '10 x 10', 'transposed, dilation 3');
      ok(/output row 1, row 2, row 4, row 5, row 7, row 8,.* get no input, only the bias \(they fall in the holes of the dilated kernel copies/.test(fit), `transposed gaps from the dilation: ${fit}`);
      text = await about('convolution?input=7&kernel=3&stride=2&padding=0&dilation=2', '2 x 2');
      ok(/the window jumps 2 cells between outputs, so the output is about 2 times smaller along each axis than the input \(here 7x7 → 2x2\)/.test(text) && /spans 5x5 input cells with the same 9 weights/.test(text), `convolution: ${text}`);
      text = await about('convolution?mode=pool&pool=max&input=9&kernel=3&stride=2&dilation=2&padding=1', '4 x 4');
      ok(/about 2 times smaller/.test(text) && /window's 9 cells are 2 apart/.test(text) && !/weights\./.test(text) && /pads with −∞/.test(text), `max pooling: no weights, −∞ padding: ${text}`);
      text = await about('convolution?mode=pool&pool=avg&input=5&kernel=2&stride=2&padding=1&ceilMode=1&countIncludePad=0', '3 x 3');
      ok(/divides by the image cells only/.test(text) && /the extra window would start past the input and its left padding, so PyTorch drops it/.test(text), `average pooling: the divisor and ceil mode: ${text}`);
      text = await about('convolution?mode=pool&pool=l2&input=5&kernel=2&stride=2&ceilMode=1', '3 x 3');
      ok(/square root of the sum of squares/.test(text) && /a last window hangs past the input, and it scales its sum of squares/.test(text), `L2 pooling with ceil mode: ${text}`);
    });

    await t.test('only the controls the operation takes are offered', async () => {
      // average pooling takes no dilation: the field is hidden and a dilation in the link is ignored, not refused
      await goTo(page, 'convolution?mode=pool&pool=avg&input=8&kernel=2&stride=2&dilation=2');
      await sizeAndFit(page, '4 x 4', 'average pooling, dilation in the link ignored');
      ok((await page.$('[data-testid="error"] .error')) === null, 'no error for the ignored dilation');
      ok(!(await shown(page, 'dilation')) && (await shown(page, 'padding')), 'average pooling: no dilation field, a padding field');
      ok(/Average pooling takes no dilation/.test((await page.textContent('[data-testid="not-taken"]')) ?? ''), 'the page says why the dilation is missing');
      ok(!/dilation=/.test(page.url()), `the link drops the dilation: ${page.url()}`);
      // L2 pooling takes neither padding nor dilation
      await goTo(page, 'convolution?mode=pool&pool=l2&input=4&kernel=2&stride=2&padding=1&dilation=2');
      await sizeAndFit(page, '2 x 2', 'L2 pooling, padding and dilation in the link ignored');
      ok((await page.$('[data-testid="error"] .error')) === null, 'no error for the ignored padding');
      ok(!(await shown(page, 'padding')) && !(await shown(page, 'dilation')), 'L2 pooling: no padding or dilation field');
      ok(/L2 pooling takes no padding and no dilation/.test((await page.textContent('[data-testid="not-taken"]')) ?? ''), 'the page says why');
      // max pooling takes both; switching to average drops the dilation it cannot take
      await goTo(page, 'convolution?mode=pool&pool=max&input=8&kernel=2&stride=2&dilation=2&padding=1');
      await sizeAndFit(page, '4 x 4', 'max pooling, dilation 2, padding 1');
      ok((await shown(page, 'padding')) && (await shown(page, 'dilation')), 'max pooling: padding and dilation fields');
      ok(((await page.textContent('[data-testid="not-taken"]')) ?? '') === '', 'max pooling: nothing left out');
      await page.selectOption('[data-testid="pool"]', 'avg');
      await sizeAndFit(page, '5 x 5', 'switched to average pooling: dilation 1, padding 1');
      ok((await page.$('[data-testid="error"] .error')) === null, 'switching to average pooling raises no error');
      await page.selectOption('[data-testid="pool"]', 'l2');
      await sizeAndFit(page, '4 x 4', 'switched to L2 pooling: no padding');
      ok((await page.$('[data-testid="error"] .error')) === null, 'switching to L2 pooling raises no error');
      // 'same' is a convolution's: the transposed convolution's padding field refuses it in place
      await goTo(page, 'convolution?mode=transposed&input=3&kernel=3&stride=2&padding=same');
      await sizeAndFit(page, '7 x 7', "transposed, 'same' in the link ignored (padding 0)");
      ok(!(await shown(page, 'padding-mode')) && (await shown(page, 'output-padding')), 'transposed: no padding mode, an output padding');
      await page.fill('[data-testid="padding"]', 'same');
      ok((await page.getAttribute('[data-testid="padding"]', 'aria-invalid')) === 'true', "the padding field marks 'same' as invalid");
      ok(/'same' is for convolutions/.test((await page.textContent('[data-testid="padding"] + .field-msg')) ?? ''), 'and says why');
      ok((await page.$('[data-testid="error"] .error')) === null && (await page.textContent('[data-testid="output-size"]')) === '7 x 7', 'the result stays');
      // every padding Stride asks for with inputs up to 32 fits the padding field: the most is 25 (kernel 11, dilation 5 on 1 cell)
      await goTo(page, 'convolution?input=7&kernel=3');
      const hint = (await page.textContent('label[for="' + (await page.getAttribute('[data-testid="padding"]', 'id')) + '"]')) ?? '';
      const max = Number(/0–(\d+)/.exec(hint)?.[1]);
      let need = 0;
      for (let n = 1; n <= 32; n++) for (let k = 1; k <= 11; k++) for (let d = 1; d <= 5; d++) need = Math.max(need, Math.ceil((d * (k - 1) + 1 - n) / 2));
      ok(max >= need, `the padding field takes 0–${max}, Stride may ask for ${need}: ${hint}`);
      await goTo(page, 'convolution?input=1&kernel=11&dilation=5');
      await page.waitForSelector('[data-testid="error"] .error');
      const message = (await page.textContent('[data-testid="error"]')) ?? '';
      const asked = Number(/use padding >= (\d+)/.exec(message)?.[1]);
      ok(asked === 25, `Stride asks for padding >= 25: ${message}`);
      await page.fill('[data-testid="padding"]', String(asked));
      await sizeAndFit(page, '1 x 1', 'the padding Stride asked for, typed into the field');
    });

    await t.test('play and step move the window', async () => {
      await goTo(page, 'convolution?input=7&kernel=3&stride=3&padding=0&dilation=1&step=0');
      await sizeAndFit(page, '2 x 2', 'stride 3');
      const where = () => page.evaluate(() => ({
        text: document.querySelector('[data-testid="dot-product"]')?.textContent ?? '',
        title: document.querySelector('[data-testid="step-title"]')?.textContent ?? '',
        current: [...document.querySelectorAll<HTMLElement>('[data-testid="output-grid"] .cell.current')].map((c) => `${c.dataset.r},${c.dataset.c}`),
        taps: [...document.querySelectorAll<HTMLElement>('[data-testid="input-grid"] .cell.tap')].map((c) => `${c.dataset.r},${c.dataset.c}`),
      }));
      const first = await where();
      ok(first.current.join() === '0,0' && first.taps.length === 9 && first.taps.includes('0,0') && first.taps.includes('2,2'), `step 0: output (0, 0), window over rows and columns 0-2: ${JSON.stringify(first)}`);
      await page.click('[data-testid="step-forward"]');
      const second = await where();
      ok(second.current.join() === '0,1' && second.taps.includes('0,3') && second.taps.includes('2,5') && !second.taps.includes('0,0'), `step 1: output (0, 1), window over columns 3-5: ${JSON.stringify(second)}`);
      ok(second.title !== first.title && second.text !== first.text, 'the dot-product text changes with the step');
      await page.click('[data-testid="step-back"]');
      ok((await where()).current.join() === '0,0', 'step back returns to output (0, 0)');
      // the keyboard: ArrowRight on a transport button steps
      await page.focus('[data-testid="step-forward"]');
      await page.keyboard.press('ArrowRight');
      ok((await where()).current.join() === '0,1', 'ArrowRight steps the window');
      await page.selectOption('[data-testid="speed"]', '8');
      await page.click('[data-testid="play"]');
      await page.waitForFunction(() => document.querySelector('[data-testid="output-grid"] .cell.current')?.getAttribute('data-r') === '1');
      await page.click('[data-testid="play"]');
      ok((await page.textContent('[data-testid="play"]')) === 'Play', 'the play button pauses');
      // mid-animation, at the doesn't-fit case: the window on output (1, 0)
      await page.fill('[data-testid="scrub"]', '2');
      await page.waitForFunction(() => document.querySelector('[data-testid="step-title"]')?.textContent?.startsWith('output (1, 0)'));
      // side by side, dashed lines join the window to its output cell
      ok((await page.$$('.links line')).length === 4, 'four connector lines at 1280 px');
      await ctx.screenshot(page, 'convolution');
    });

    await t.test('a state set through the controls survives a reload', async () => {
      await goTo(page, 'convolution');
      await page.fill('[data-testid="input"]', '9x8');
      await page.fill('[data-testid="kernel"]', '3');
      await page.fill('[data-testid="stride"]', '2');
      await page.fill('[data-testid="padding"]', '1');
      await page.selectOption('[data-testid="padding-mode"]', 'replicate');
      await page.fill('[data-testid="channels"]', '2');
      await page.fill('[data-testid="filters"]', '2');
      await page.check('[data-testid="bias"]');
      await sizeAndFit(page, '5 x 4', '9x8, stride 2, padding 1');
      // an edited input cell goes into the URL too
      await page.click('[data-testid="input-grid"] .cell[data-r="0"][data-c="0"]');
      await page.fill('[data-testid="cell-editor"]', '7');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.querySelector('[data-testid="input-grid"] .cell[data-r="0"][data-c="0"]')?.textContent === '7');
      // the keyboard edits a kernel cell: focus the grid, move right, type a number, Enter
      await page.focus('[data-testid="kernel-grid"]');
      await page.keyboard.press('ArrowRight');
      await page.keyboard.type('5');
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => document.querySelector('[data-testid="kernel-grid"] .cell[data-r="0"][data-c="1"]')?.textContent === '5');
      const before = await outputValues(page, 1);
      await page.reload();
      await sizeAndFit(page, '5 x 4', 'after the reload');
      ok((await page.inputValue('[data-testid="input"]')) === '9x8', 'the input size control is restored');
      ok((await page.inputValue('[data-testid="padding-mode"]')) === 'replicate', 'the padding mode is restored');
      ok(await page.isChecked('[data-testid="bias"]'), 'the bias is restored');
      const cell = await page.textContent('[data-testid="input-grid"] .cell[data-r="0"][data-c="0"]');
      ok(cell === '7', `the edited cell is restored, got ${cell}`);
      const weight = await page.textContent('[data-testid="kernel-grid"] .cell[data-r="0"][data-c="1"]');
      ok(weight === '5', `the edited weight is restored, got ${weight}`);
      close(await outputValues(page, 1), before, 'the output after the reload');
      const code = await page.textContent('[data-testid="code-pytorch"]');
      ok(code?.includes("torch.nn.Conv2d(2, 2, 3, stride=2, padding=1, padding_mode='replicate')"), `the code follows the controls: ${code}`);
    });

    await t.test('a bad combination is explained and the page keeps working', async () => {
      await goTo(page, 'convolution?input=7&channels=3&filters=2&kernel=3&groups=2');
      await page.waitForSelector('[data-testid="error"] .error');
      const text = await page.textContent('[data-testid="error"]');
      ok(/groups 2 does not divide the 3 input channels/.test(text ?? '') && /How to fix it/.test(text ?? ''), `Stride's message and a fix: ${text}`);
      await page.fill('[data-testid="groups"]', '1');
      await sizeAndFit(page, '5 x 5', 'groups back to 1');
      ok((await page.$('[data-testid="error"] .error')) === null, 'the error is gone');
      // the fix button applies the fix
      await goTo(page, 'convolution?mode=pool&pool=max&input=8&kernel=2&stride=2&padding=2');
      await page.waitForSelector('[data-testid="error"] .error');
      ok(/more than half the window/.test((await page.textContent('[data-testid="error"]')) ?? ''), "pooling padding over half the window is refused, in Stride's words");
      await page.click('[data-testid="fix-error"]');
      await sizeAndFit(page, '5 x 5', 'max pooling after the fix (padding 1)');
      ok((await page.inputValue('[data-testid="padding"]')) === '1', 'the fix set padding to 1');
      await goTo(page, 'convolution?input=3&kernel=5');
      await page.waitForSelector('[data-testid="error"] .error');
      ok(/larger than the padded input/.test((await page.textContent('[data-testid="error"]')) ?? ''), 'a kernel larger than the input is explained');
      await goTo(page, 'convolution?input=7&kernel=3&stride=2&padding=same');
      await sizeAndFit(page, '4 x 4', "'same' with stride 2");
      const warn = await page.textContent('.warn-slot');
      ok(/PyTorch refuses padding='same' with a stride > 1/.test(warn ?? ''), `the PyTorch caveat is shown: ${warn}`);
    });

    assertNoErrors(app, '#/convolution');
  } finally {
    await app.close();
  }

  const narrow = await ctx.open('convolution?input=7&kernel=3&stride=3&padding=0&dilation=1&step=1', { width: 375, height: 800 });
  try {
    await t.test('375 px wide: no horizontal page scroll', async () => {
      await sizeAndFit(narrow.page, '2 x 2', 'narrow');
      const overflow = await narrow.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      ok(overflow <= 0, `the page scrolls sideways by ${overflow}px at 375 px`);
      // the code wraps inside its box; the grids stack, so no connector lines cross them
      for (const id of ['code-stride', 'code-pytorch']) {
        const box = await narrow.page.$eval(`[data-testid="${id}"]`, (e) => ({ scroll: e.scrollWidth, client: e.clientWidth, right: e.getBoundingClientRect().right }));
        ok(box.scroll <= box.client && box.right <= 375, `${id} fits its box at 375 px: ${JSON.stringify(box)}`);
      }
      ok((await narrow.page.$$('.links line')).length === 0, 'no connector lines across the stacked grids');
      await ctx.screenshot(narrow.page, 'convolution-narrow');
      assertNoErrors(narrow, '#/convolution at 375 px');
    });
  } finally {
    await narrow.close();
  }
}
