/**
 * Checks of the web app's #/train page (run by test/once/web.test.ts): LeNet-5
 * really learns MNIST in the page's worker (the loss the page streams falls
 * from chance level to well under what a wrong pipeline reaches), pause
 * stops the steps and resume continues them, a live change of the learning
 * rate and the batch size reaches the worker, a layer pattern trains and a
 * malformed one is explained, a shared link restores the settings, a missing
 * data file is reported and retried, the engine line says how many threads
 * run, and the main thread's long tasks during training are reported. The
 * run outlives the page: leaving for another page and coming back shows it
 * still training, its history whole; the link keeps the run's starting values
 * and records its live changes, which a run started from the link applies.
 * A folder of images opened on the page (disks and two orientations of gratings in random colours,
 * written here as PNGs of varied sizes) lists its classes, trains LeNet-5 at
 * 3x32x32 to a high accuracy on its held-out images, and a file in it that
 * does not decode is named in the error.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { encodePng } from '../../src/index.js';
import { assertNoErrors, ok, type WebTestContext } from '../helpers/index.js';

const STEP_TIMEOUT = 240_000;

/** The step counter the page shows. */
async function step(page: Page): Promise<number> {
  const text = await page.textContent('[data-testid="train-step"]');
  return Number((text ?? '').replace(/,/g, ''));
}

async function waitForStep(page: Page, n: number): Promise<number> {
  await page.waitForFunction(
    (target) => Number((document.querySelector('[data-testid="train-step"]')?.textContent ?? '').replace(/,/g, '')) >= target,
    n,
    { timeout: STEP_TIMEOUT },
  );
  return step(page);
}

async function waitForState(page: Page, state: string): Promise<void> {
  await page.waitForSelector(`[data-testid="train-state"][data-state="${state}"]`, { timeout: STEP_TIMEOUT });
}

/**
 * Pixels of a chart's canvas close to the colour `rgb` (a curve or the marker
 * of a change). Inline in the page: no named helper crosses into evaluate.
 */
async function chartPixels(page: Page, testid: string, rgb: [number, number, number]): Promise<number> {
  return page.$eval(`[data-testid="${testid}"] canvas`, (c, want) => {
    const canvas = c as HTMLCanvasElement;
    const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < px.length; i += 4) {
      if (Math.abs(px[i] - want[0]) + Math.abs(px[i + 1] - want[1]) + Math.abs(px[i + 2] - want[2]) < 40 && px[i + 3] > 200) n++;
    }
    return n;
  }, rgb);
}

/** Sets a labelled input to `value` as typing would (one input event). */
async function fill(page: Page, testid: string, value: string): Promise<void> {
  await page.fill(`[data-testid="${testid}"]`, value);
}

export async function checkTrain(ctx: WebTestContext, t: TestContext): Promise<void> {
  const app = await ctx.open('train?model=lenet5&opt=sgd&lr=0.05&momentum=0.9&batch=64&epochs=1&seed=1');
  const { page } = app;
  try {
    // The settings come from the link.
    await page.waitForSelector('[data-testid="train-start"]:not([disabled])', { timeout: 60_000 });
    ok((await page.inputValue('[data-testid="train-lr"]')) === '0.05', 'the learning rate field shows the link\'s 0.05');
    ok((await page.inputValue('[data-testid="train-batch"]')) === '64', 'the batch size field shows the link\'s 64');
    ok((await page.inputValue('[data-testid="train-model"]')) === 'lenet5', 'the model select shows lenet5');

    // The engine line: wasm with as many threads as the browser reports cores, on this cross-origin isolated page.
    await page.waitForSelector('[data-testid="train-threads"][data-threads]');
    const threadsText = (await page.textContent('[data-testid="train-threads"]')) ?? '';
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const isolated = await page.evaluate(() => crossOriginIsolated);
    ok(isolated, 'the test server serves the page cross-origin isolated');
    const expected = Math.min(cores, 64);
    ok(threadsText.includes(`wasm with ${expected === 1 ? 'one thread' : `${expected} threads`}`), `the threads line names ${expected} threads (${cores} cores): "${threadsText}"`);
    if (cores === 2) ok(threadsText.includes('wasm with 2 threads'), `on this 2-core machine the line says 2 threads: "${threadsText}"`);
    t.diagnostic(`threads line: ${threadsText}`);

    // Record the main thread's long tasks and every loss value the page shows, from before the start.
    await page.evaluate(() => {
      const w = window as unknown as { longTasks: number[]; losses: number[] };
      w.longTasks = [];
      w.losses = [];
      // From now on (the page's own loading is not training).
      const from = performance.now();
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (e.startTime >= from) w.longTasks.push(e.duration);
      }).observe({ type: 'longtask' });
      const loss = document.querySelector('[data-testid="train-loss"]')!;
      new MutationObserver(() => {
        const v = Number(loss.textContent);
        if (loss.textContent !== '–' && Number.isFinite(v)) w.losses.push(v);
      }).observe(loss, { childList: true, characterData: true, subtree: true });
    });

    await page.click('[data-testid="train-start"]');
    await waitForState(page, 'training');
    ok(await page.isDisabled('[data-testid="train-model"]'), 'the model is locked while it trains');
    ok(!(await page.isDisabled('[data-testid="train-lr"]')), 'the learning rate stays editable while it trains');

    // LeNet-5, SGD 0.05 with momentum 0.9, batch 64: after 200 steps the mean loss of the last 20 batches is far below chance.
    const at = await waitForStep(page, 200);
    const trainingTasks = await page.evaluate(() => [...(window as unknown as { longTasks: number[] }).longTasks]);
    const losses = await page.evaluate(() => (window as unknown as { losses: number[] }).losses);
    ok(losses.length >= 3, `the page showed the loss several times (${losses.length})`);
    const first = losses[0];
    const last = Number(await page.textContent('[data-testid="train-loss"]'));
    t.diagnostic(`loss: first shown ${first}, at step ${at} ${last} (${losses.length} values shown)`);
    // The first steps start from ln(10) = 2.303, the loss of a uniform guess over ten digits.
    ok(first > 1.8 && first < 2.6, `the first loss shown is near ln 10 = 2.30 (got ${first})`);
    ok(Number.isFinite(last) && last < 0.5, `after ${at} steps of 64 images the loss is below 0.5 (got ${last})`);
    ok(last < 0.6 * first, `the loss fell below 60% of the first shown (${last} vs ${first})`);
    const accuracy = Number(((await page.textContent('[data-testid="train-accuracy"]')) ?? '').replace('%', ''));
    ok(accuracy > 80, `the training accuracy of the last batches is above 80% after ${at} steps (got ${accuracy}%)`);

    // The curves and the filters are drawn: six 5x5 filters of conv1, two charts.
    const filters = await page.$$eval('[data-testid="train-filters"] canvas', (cs) => cs.map((c) => `${(c as HTMLCanvasElement).width}x${(c as HTMLCanvasElement).height}`));
    ok(filters.length === 6 && filters.every((f) => f === '5x5'), `conv1's six 5x5 filters are drawn (got ${filters.join(', ')})`);
    const numbers = await page.$$eval('[data-testid="train-filters"] figcaption', (fs) => fs.map((f) => f.textContent).join(' '));
    ok(numbers === '0 1 2 3 4 5', `the filters are numbered from 0, as the other pages number channels (got ${numbers})`);
    ok((await page.$$('[data-testid="train-loss-chart"] canvas')).length >= 1 && (await page.$$('[data-testid="train-accuracy-chart"] canvas')).length >= 1, 'both charts are drawn');
    // The filters the run started from, on demand, under the current ones (and in the link).
    await page.check('[data-testid="train-filters-toggle"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="train-filters-start"] canvas').length === 6);
    ok(page.url().includes('start=1'), 'the link remembers that the start filters are shown');
    // (No named helper inside evaluate: the test's TypeScript compiler would wrap it in a function the page lacks.)
    const changed = await page.evaluate(() => {
      const rows = ['train-filters', 'train-filters-start'].map((id) => Array.from(document.querySelectorAll(`[data-testid="${id}"] canvas`))
        .map((c) => Array.from((c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 5, 5).data).join()));
      return rows[0].filter((now, i) => now !== rows[1][i]).length;
    });
    ok(changed >= 1, `training changed the drawn filters (${changed} of 6 differ from the start)`);
    const speed = Number(((await page.textContent('[data-testid="train-speed"]')) ?? '').replace(/,/g, ''));
    ok(speed > 0, `images/s is shown (got ${speed})`);
    t.diagnostic(`throughput shown: ${speed} images/s`);
    await ctx.screenshot(page, 'train');

    // Pause: the step counter stops (after the step in flight); resume: it goes on.
    await page.click('[data-testid="train-pause"]');
    await waitForState(page, 'paused');
    ok((await page.getAttribute('[data-testid="train-pause"]', 'aria-pressed')) === 'true', 'the pause button is pressed');
    const pausedAt = await step(page);
    await page.waitForTimeout(1500);
    const stillAt = await step(page);
    ok(stillAt === pausedAt, `no step runs while paused (${pausedAt} -> ${stillAt})`);
    await page.click('[data-testid="train-pause"]');
    await waitForState(page, 'training');
    const resumedAt = await waitForStep(page, pausedAt + 5);
    ok(resumedAt > pausedAt, `training continues after resume (${pausedAt} -> ${resumedAt})`);

    // A new learning rate and batch size mid-training: the worker's next steps use them, as the page shows.
    await fill(page, 'train-lr', '0.01');
    await fill(page, 'train-batch', '32');
    await page.waitForFunction(() => document.querySelector('[data-testid="train-lr-applied"]')?.textContent === '0.01', undefined, { timeout: STEP_TIMEOUT });
    await page.waitForFunction(() => document.querySelector('[data-testid="train-batch-applied"]')?.textContent === '32', undefined, { timeout: STEP_TIMEOUT });
    // The link keeps the values the run started with and records the changes at the steps they applied from.
    await page.waitForFunction(() => /changes=\d+-lr-0\.01(_\d+-batch-32)?/.test(location.hash) && /-batch-32/.test(location.hash));
    const link = new URLSearchParams(page.url().split('?')[1]);
    ok(link.get('lr') === '0.05' && link.get('batch') === '64', `the link keeps the starting lr and batch: ${page.url()}`);
    const changeSteps = (link.get('changes') ?? '').split('_').map((part) => Number(part.split('-')[0]));
    ok(changeSteps.length >= 1 && changeSteps.every((s) => s >= resumedAt), `the changes are at steps after ${resumedAt}: ${link.get('changes')}`);
    const listed = await page.$$eval('[data-testid="train-changes"] li', (li) => li.map((l) => l.textContent ?? ''));
    ok(listed.some((l) => l.includes('learning rate 0.01')) && listed.some((l) => l.includes('batch size 32')), `the page lists the run's changes: ${listed.join(' | ')}`);
    // The loss chart marks the change: a dashed line and its label in the change colour (#6d28d9).
    await page.waitForFunction(() => Number((document.querySelector('[data-testid="train-step"]')?.textContent ?? '').replace(/,/g, '')) > 0);
    await page.waitForTimeout(300);
    const marker = await chartPixels(page, 'train-loss-chart', [0x6d, 0x28, 0xd9]);
    ok(marker > 50, `the loss chart marks the change of the learning rate (${marker} pixels in the marker colour)`);

    // Leave the page by the navigation and come back: the run went on in the worker and shows again, whole.
    const leftAt = await step(page);
    await page.click('nav a[href="#/kernels"]');
    await page.waitForSelector('[data-page="kernels"]');
    ok((await page.$('[data-testid="train-step"]')) === null, 'the kernels page replaced the train page');
    await page.waitForTimeout(2000);
    await page.click('nav a[href="#/train"]');
    await page.waitForSelector('[data-page="train"] [data-testid="train-step"]');
    const backAt = await waitForStep(page, leftAt + 1);
    ok(backAt > leftAt, `the run kept training while the page was left (step ${leftAt} -> ${backAt})`);
    ok((await page.getAttribute('[data-testid="train-state"]', 'data-state')) === 'training', 'the page shows the run training');
    ok((await page.textContent('[data-testid="train-start"]')) === 'Training…' && (await page.isDisabled('[data-testid="train-model"]')), 'the run\'s controls are as they were');
    ok((await page.inputValue('[data-testid="train-lr"]')) === '0.01' && (await page.inputValue('[data-testid="train-batch"]')) === '32', 'the live values are in the fields');
    const back = new URLSearchParams(page.url().split('?')[1]);
    ok(back.get('model') === 'lenet5' && back.get('lr') === '0.05' && back.get('seed') === '1' && back.get('changes') === link.get('changes'),
      `the link shows the running run's settings again: ${page.url()}`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="train-filters"] canvas').length === 6);
    await page.waitForTimeout(300);
    const curve = await chartPixels(page, 'train-loss-chart', [0x0a, 0x58, 0xca]);
    ok(curve > 200, `the loss chart shows the curve from step 1 again (${curve} pixels of the smoothed loss)`);
    ok((await chartPixels(page, 'train-loss-chart', [0x6d, 0x28, 0xd9])) > 50, 'the change is still marked');
    await ctx.screenshot(page, 'train-back');
    ok(Number(await page.textContent('[data-testid="train-loss"]')) < 0.5, 'the latest loss is shown');
    // Pause still reaches the run.
    await page.click('[data-testid="train-pause"]');
    await waitForState(page, 'paused');
    const pausedAgain = await step(page);
    await page.waitForTimeout(1000);
    ok((await step(page)) === pausedAgain, `pause works after coming back (${pausedAgain})`);
    await page.click('[data-testid="train-pause"]');
    await waitForState(page, 'training');

    // Narrow screen, mid-training: one column, no horizontal page scroll.
    await page.setViewportSize({ width: 375, height: 800 });
    await page.waitForTimeout(400);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    ok(overflow <= 0, `no horizontal scroll at 375 px (the page is ${overflow} px wider)`);
    await ctx.screenshot(page, 'train-narrow');
    await page.setViewportSize({ width: 1280, height: 800 });

    // Stop ends the run; the model can still be evaluated on the test set.
    await page.click('[data-testid="train-stop"]');
    await waitForState(page, 'stopped');
    const stoppedAt = await step(page);
    await page.click('[data-testid="train-evaluate"]');
    await page.waitForFunction(() => /%$/.test(document.querySelector('[data-testid="train-test-accuracy"]')?.textContent ?? ''), undefined, { timeout: STEP_TIMEOUT });
    const test = Number(((await page.textContent('[data-testid="train-test-accuracy"]')) ?? '').replace('%', ''));
    t.diagnostic(`test accuracy after ${stoppedAt} steps: ${test}% (all 10,000 test images)`);
    ok(test > 85, `the test accuracy after ${stoppedAt} steps is above 85% (got ${test}%)`);

    // Long tasks (> 50 ms) of the main thread from the start to here; wall-clock, so a busy machine lengthens them.
    const longTasks = await page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
    const describe = (tasks: number[]) => {
      const sorted = [...tasks].sort((a, b) => b - a).map((d) => Math.round(d));
      return `${tasks.length}, the longest ${sorted[0] ?? 0} ms (top: ${sorted.slice(0, 5).join(', ') || 'none'} ms)`;
    };
    t.diagnostic(`main-thread long tasks from the start to step ${at}: ${describe(trainingTasks)}`);
    t.diagnostic(`main-thread long tasks to step ${stoppedAt}, with the screenshots, the resizes and the evaluation: ${describe(longTasks)}`);

    // A malformed pattern: the page says what is wrong and where, and does not start.
    await page.selectOption('[data-testid="train-model"]', 'pattern');
    await fill(page, 'train-pattern', 'conv3-8-relu-pool2-fc');
    await page.waitForFunction(() => (document.querySelector('[data-testid="train-model-error"]')?.textContent ?? '').includes('model pattern'), undefined, { timeout: 30_000 });
    const message = (await page.textContent('[data-testid="train-model-error"]')) ?? '';
    ok(message.includes('fc10') && message.includes('^'), `the error names the fix and points at the column: "${message}"`);
    ok(await page.isDisabled('[data-testid="train-start"]'), 'start is disabled while the pattern is malformed');

    // A pattern trains: a few steps, a finite loss, its eight 5x5 filters.
    await fill(page, 'train-pattern', '(conv5-8-relu-pool2)-fc10');
    await page.waitForSelector('[data-testid="train-start"]:not([disabled])', { timeout: 30_000 });
    ok((await page.textContent('[data-testid="train-model-error"]')) === '', 'the error is gone once the pattern is valid');
    ok(page.url().includes('model=pattern') && page.url().includes('pattern=%28conv5-8-relu-pool2%29-fc10'), `the link holds the pattern: ${page.url()}`);
    await page.click('[data-testid="train-start"]');
    await waitForStep(page, 10);
    const patternLoss = Number(await page.textContent('[data-testid="train-loss"]'));
    ok(Number.isFinite(patternLoss) && patternLoss > 0, `the pattern's loss is a finite number (got ${patternLoss})`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="train-filters"] canvas').length === 8, undefined, { timeout: 30_000 });
    await page.click('[data-testid="train-stop"]');
    await waitForState(page, 'stopped');

    // Reset clears the run from the page.
    await page.click('[data-testid="train-reset"]');
    await waitForState(page, 'idle');
    ok((await step(page)) === 0 && (await page.textContent('[data-testid="train-loss"]')) === '–', 'reset clears the step counter and the loss');
    ok((await page.$$('[data-testid="train-filters"] canvas')).length === 0, 'reset clears the filters');

    // A learning rate out of range: the field says what a valid one is, and start waits for it.
    await fill(page, 'train-lr', '0');
    ok((await page.getAttribute('[data-testid="train-lr"]', 'aria-invalid')) === 'true', 'a learning rate of 0 is marked invalid');
    const lrError = await page.$eval('[data-testid="train-lr"]', (input) => document.getElementById(input.getAttribute('aria-describedby') ?? '')?.textContent ?? '');
    ok(/0\.00001 to 10/.test(lrError), `the field says which learning rates are valid: "${lrError}"`);
    ok(await page.isDisabled('[data-testid="train-start"]'), 'start is disabled while the learning rate is invalid');
    await fill(page, 'train-lr', '0.05');
    await page.waitForSelector('[data-testid="train-start"]:not([disabled])');
    assertNoErrors(app, '#/train');
  } finally {
    await app.close();
  }

  // A shared link restores a pattern run's settings, the filter comparison included.
  const shared = await ctx.open('train?model=pattern&pattern=%28conv5-8-relu-pool2%29-fc10&opt=adam&lr=0.002&batch=100&epochs=2&seed=7&start=1&changes=4-batch-50_oops');
  try {
    await shared.page.waitForSelector('[data-testid="train-start"]:not([disabled])', { timeout: 60_000 });
    const values = await Promise.all(['train-model', 'train-pattern', 'train-optimizer', 'train-lr', 'train-batch', 'train-epochs', 'train-seed'].map((id) => shared.page.inputValue(`[data-testid="${id}"]`)));
    ok(values.join(' ') === 'pattern (conv5-8-relu-pool2)-fc10 adam 0.002 100 2 7', `the link's settings are restored: ${values.join(' ')}`);
    ok(await shared.page.isChecked('[data-testid="train-filters-toggle"]'), 'the filter comparison is restored');
    ok(await shared.page.isHidden('[data-testid="train-momentum"]'), 'Adam has no momentum field');
    const summary = (await shared.page.textContent('[data-testid="train-model-summary"]')) ?? '';
    // conv5-8: 8 * 25 + 8 = 208 weights; fc10 on 8 x 14 x 14 = 1,568 inputs: 15,690.
    ok(summary.includes('15,898 parameters'), `the pattern's parameter count is shown: "${summary}"`);
    const planned = (await shared.page.textContent('[data-testid="train-changes"]')) ?? '';
    ok(planned.includes('after step 4: batch size 50') && planned.includes('Ignored in the link: oops'), `the link's changes are listed, the malformed part named: "${planned}"`);

    // A data file the server does not have: the page says which and stops; once it is there, start works (no failure is cached).
    const missing = '**/data/mnist-test-labels.idx.gz';
    await shared.context.route(missing, (route) => route.fulfill({ status: 404, body: 'not found' }));
    await shared.page.click('[data-testid="train-start"]');
    await waitForState(shared.page, 'error');
    const error = (await shared.page.textContent('[data-testid="train-error"]')) ?? '';
    ok(error.includes('mnist-test-labels.idx.gz') && error.includes('404'), `the error names the missing file and the answer: "${error}"`);
    await shared.context.unroute(missing);
    await shared.page.click('[data-testid="train-start"]');
    await waitForStep(shared.page, 3);
    ok((await shared.page.textContent('[data-testid="train-error"]')) === '', 'the error is gone once training runs');
    // The link's change applies at its step: from step 5 on, batches of 50.
    await waitForStep(shared.page, 6);
    await shared.page.waitForFunction(() => document.querySelector('[data-testid="train-batch-applied"]')?.textContent === '50', undefined, { timeout: STEP_TIMEOUT });
    ok(shared.page.url().includes('batch=100') && shared.page.url().includes('changes=4-batch-50'), `the link still describes the run as started: ${shared.page.url()}`);
    await shared.page.click('[data-testid="train-stop"]');
    await waitForState(shared.page, 'stopped');
    assertNoErrors(shared, '#/train from a shared link');
  } finally {
    await shared.close();
  }

  await checkFolder(ctx, t);
}

/** A seeded random number in [0, 1) (a small LCG: the folder is the same on every run). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The three classes: a disk, a horizontal grating, a vertical grating, each of a random colour on a noisy grey ground. */
const FOLDER_CLASSES = ['disks', 'horizontal', 'vertical'] as const;

/**
 * One RGB image of `cls`, `width` x `height`, its shape placed and sized at
 * random and its colour varied, on a grey background with pixel noise.
 */
function drawShape(cls: (typeof FOLDER_CLASSES)[number], width: number, height: number, rand: () => number): { data: Float32Array; channels: number; height: number; width: number } {
  const data = new Float32Array(3 * width * height);
  const plane = width * height;
  const ground = 0.35 + 0.3 * rand();
  // The colour says nothing of the class (any hue, any class): the model must learn the shapes.
  const colour = [rand(), rand(), rand()].map((v) => (ground < 0.5 ? 0.6 + 0.4 * v : 0.3 * v));
  const side = Math.min(width, height);
  const r = side * (0.22 + 0.12 * rand());
  const cx = width / 2 + (rand() - 0.5) * (width - 2 * r) * 0.6;
  const cy = height / 2 + (rand() - 0.5) * (height - 2 * r) * 0.6;
  const period = Math.max(3, Math.round(side / (5 + 3 * rand())));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = cls === 'disks'
        ? (x - cx) ** 2 + (y - cy) ** 2 <= r * r
        : Math.floor((cls === 'horizontal' ? y : x) / period) % 2 === 0;
      for (let c = 0; c < 3; c++) {
        const v = (inside ? colour[c] : ground) + (rand() - 0.5) * 0.1;
        data[c * plane + y * width + x] = Math.min(1, Math.max(0, v));
      }
    }
  }
  return { data, channels: 3, height, width };
}

/** Writes `dir/<class>/<i>.png`: `perClass` images per class, of sizes from 24 to 56 pixels a side (not square). */
async function writeFolder(dir: string, perClass: number, seed: number): Promise<void> {
  const rand = lcg(seed);
  for (const cls of FOLDER_CLASSES) {
    await mkdir(join(dir, cls), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const w = 24 + Math.floor(rand() * 33);
      const h = 24 + Math.floor(rand() * 33);
      await writeFile(join(dir, cls, `${String(i).padStart(3, '0')}.png`), await encodePng(drawShape(cls, w, h, rand)));
    }
  }
}

/**
 * A folder of images: a link with data=folder says the folder must be opened
 * again; opening it lists the classes and their counts; LeNet-5 at 3x32x32
 * learns it (the loss falls from ln 3, the held-out images are classified
 * well); a folder without class folders and a folder with a file that does
 * not decode are explained, the file named.
 */
async function checkFolder(ctx: WebTestContext, t: TestContext): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'stride-train-folder-'));
  const shapes = join(tmp, 'shapes');
  const broken = join(tmp, 'broken-shapes');
  const loose = join(tmp, 'loose');
  await writeFolder(shapes, 40, 11);
  await writeFolder(broken, 4, 12);
  // A file named .png that is a PNG signature followed by nothing a PNG holds.
  await writeFile(join(broken, 'vertical', 'damaged.png'), Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
  await mkdir(loose, { recursive: true });
  await writeFile(join(loose, 'a.png'), await encodePng(drawShape('disks', 30, 30, lcg(1))));
  await writeFile(join(loose, 'b.png'), await encodePng(drawShape('vertical', 30, 30, lcg(2))));

  const app = await ctx.open('train?data=folder&shape=3x32x32&holdout=0.2&model=lenet5&opt=adam&lr=0.002&batch=16&epochs=40&seed=3&augment=flip');
  const { page } = app;
  try {
    await page.waitForSelector('[data-testid="train-folder"]');
    ok((await page.inputValue('[data-testid="train-dataset"]')) === 'folder', 'the link chooses the folder data');
    ok((await page.inputValue('[data-testid="train-shape"]')) === '3x32x32', 'the input shape comes from the link');
    const note = (await page.textContent('[data-testid="train-folder-note"]')) ?? '';
    ok(/cannot carry/.test(note) && /open the folder again/.test(note), `the page says the folder must be opened again: "${note}"`);
    ok(await page.isDisabled('[data-testid="train-start"]'), 'start waits for a folder');
    const label = await page.$eval('[data-testid="train-folder"]', (input) => document.querySelector(`label[for="${input.id}"]`)?.textContent ?? '');
    ok(label.includes('one sub-folder per class'), `the folder input has a visible label: "${label}"`);
    await page.waitForFunction(() => (document.querySelector('[data-testid="train-augment-info"]')?.textContent ?? '').includes('flip'));

    // A folder of loose images, no class folder: the page says what a class folder is.
    await page.setInputFiles('[data-testid="train-folder"]', loose);
    await page.waitForSelector('[data-testid="train-folder-error"] .error');
    const looseError = (await page.textContent('[data-testid="train-folder-error"]')) ?? '';
    ok(looseError.includes('no class folders') && looseError.includes('loose'), `a folder without class folders is explained: "${looseError}"`);
    ok(await page.isDisabled('[data-testid="train-start"]'), 'start stays disabled without class folders');

    // A malformed augmentation is explained with a caret, and start waits for it.
    await fill(page, 'train-augment', 'flip,spin:3');
    await page.waitForFunction(() => (document.querySelector('[data-testid="train-augment-info"]')?.textContent ?? '').includes('unknown step'));
    await fill(page, 'train-augment', 'flip');
    await page.waitForFunction(() => !(document.querySelector('[data-testid="train-augment-info"]')?.textContent ?? '').includes('unknown step'));

    // The folder: three classes of 40, listed with their counts.
    await page.setInputFiles('[data-testid="train-folder"]', shapes);
    await page.waitForSelector('[data-testid="train-classes"]');
    ok((await page.textContent('[data-testid="train-folder-error"]')) === '', 'the error of the earlier folder is gone');
    const rows = await page.$$eval('[data-testid="train-classes"] tbody tr', (trs) => trs.map((tr) => Array.from(tr.children).map((c) => c.textContent).join(':')));
    ok(rows.join(' ') === 'disks:40 horizontal:40 vertical:40', `the classes and their counts are shown: ${rows.join(' ')}`);
    await page.waitForSelector('[data-testid="train-start"]:not([disabled])', { timeout: 60_000 });
    const summary = (await page.textContent('[data-testid="train-model-summary"]')) ?? '';
    // LeNet-5 for 3x32x32 and 3 classes, as createModel sizes it (conv1 takes 3 channels, the classifier gives 3 scores).
    ok(summary.includes('82,531 parameters'), `LeNet-5 is sized for 3x32x32 and three classes: "${summary}"`);
    await ctx.screenshot(page, 'train-folder-open');

    await page.evaluate(() => {
      const w = window as unknown as { folderLosses: number[] };
      w.folderLosses = [];
      const loss = document.querySelector('[data-testid="train-loss"]')!;
      new MutationObserver(() => {
        const v = Number(loss.textContent);
        if (loss.textContent !== '–' && Number.isFinite(v)) w.folderLosses.push(v);
      }).observe(loss, { childList: true, characterData: true, subtree: true });
    });
    await page.click('[data-testid="train-start"]');
    await waitForState(page, 'finished');
    const rowsAfter = await page.$$eval('[data-testid="train-classes"] tbody tr', (trs) => trs.map((tr) => Array.from(tr.children).map((c) => c.textContent).join(':')));
    ok(rowsAfter.join(' ') === 'disks:32:8 horizontal:32:8 vertical:32:8', `20% of each class is held out: ${rowsAfter.join(' ')}`);
    const steps = await step(page);
    ok(steps === 40 * 6, `40 epochs of 96 training images in batches of 16 are 240 steps (got ${steps})`);
    const firstLoss = await page.evaluate(() => (window as unknown as { folderLosses: number[] }).folderLosses[0]);
    // The first steps start near ln 3 = 1.10, the loss of a uniform guess over three classes.
    ok(firstLoss > 0.8 && firstLoss < 1.5, `the first loss shown is near ln 3 = 1.10 (got ${firstLoss})`);
    const loss = Number(await page.textContent('[data-testid="train-loss"]'));
    ok(Number.isFinite(loss) && loss < 0.35 && loss < 0.4 * firstLoss, `after ${steps} steps the loss fell well below ln 3 (from ${firstLoss} to ${loss})`);
    const testText = (await page.textContent('[data-testid="train-test-accuracy"]')) ?? '';
    const testAcc = Number(testText.replace('%', ''));
    const testNote = (await page.textContent('[data-testid="train-test-accuracy"] + *')) ?? '';
    t.diagnostic(`folder: loss ${loss} after ${steps} steps, test accuracy ${testText} ${testNote}`);
    ok(testAcc >= 90, `the held-out images are classified well (got ${testText}; chance is 33%)`);
    const filters = await page.$$eval('[data-testid="train-filters"] canvas', (cs) => cs.length);
    ok(filters === 6, `conv1's six filters are drawn (got ${filters})`);
    ok(page.url().includes('data=folder') && page.url().includes('shape=3x32x32') && page.url().includes('augment=flip'), `the link records the data choice: ${page.url()}`);
    await ctx.screenshot(page, 'train-folder');

    // A folder with a file that does not decode: the run stops, naming the file.
    await page.setInputFiles('[data-testid="train-folder"]', broken);
    await page.waitForFunction(() => (document.querySelector('[data-testid="train-folder-summary"]')?.textContent ?? '').includes('broken-shapes'));
    await page.waitForSelector('[data-testid="train-start"]:not([disabled])', { timeout: 60_000 });
    await page.click('[data-testid="train-start"]');
    await waitForState(page, 'error');
    const error = (await page.textContent('[data-testid="train-error"]')) ?? '';
    ok(error.includes('broken-shapes/vertical/damaged.png'), `the error names the file that does not decode: "${error}"`);

    // An augmentation that crops to another size is refused before any step, saying why.
    await page.setInputFiles('[data-testid="train-folder"]', shapes);
    await page.waitForFunction(() => !(document.querySelector('[data-testid="train-folder-summary"]')?.textContent ?? '').includes('broken-shapes'));
    await fill(page, 'train-augment', 'crop:2/16');
    await page.waitForFunction(() => (document.querySelector('[data-testid="train-augment-info"]')?.textContent ?? '').includes('crop'));
    await page.waitForSelector('[data-testid="train-start"]:not([disabled])', { timeout: 60_000 });
    await page.click('[data-testid="train-start"]');
    // The page is still in the previous run's error state until this run reports: wait for this run's message.
    await page.waitForFunction(() => (document.querySelector('[data-testid="train-error"]')?.textContent ?? '').includes('16x16'), null, { timeout: 60_000 });
    await waitForState(page, 'error');
    const cropError = (await page.textContent('[data-testid="train-error"]')) ?? '';
    ok(cropError.includes('3x16x16') && (await step(page)) === 0, `a crop to 16x16 is refused before training: "${cropError}"`);
    assertNoErrors(app, '#/train with a folder');
  } finally {
    await app.close();
  }

  // At 375 px wide: the folder controls fit, nothing scrolls sideways.
  const narrow = await ctx.open('train?data=folder&shape=1x28x28', { width: 375, height: 800 });
  try {
    await narrow.page.waitForSelector('[data-testid="train-folder"]');
    await narrow.page.setInputFiles('[data-testid="train-folder"]', shapes);
    await narrow.page.waitForSelector('[data-testid="train-classes"]');
    const overflow = await narrow.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    ok(overflow <= 0, `no horizontal page scroll at 375 px (overflow ${overflow})`);
    await ctx.screenshot(narrow.page, 'train-folder-narrow');
    assertNoErrors(narrow, '#/train with a folder, narrow');
  } finally {
    await narrow.close();
    await rm(tmp, { recursive: true, force: true });
  }
}
