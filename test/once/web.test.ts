/**
 * The web app (web/), built by Vite into a private folder, served as a static
 * site with the cross-origin isolation headers, driven in Debian's Chromium.
 * Each page's checks are in test/web/<page>.ts; this file builds, serves and
 * runs them, and writes a screenshot of every page into web/screenshots/.
 * Skipped, saying why, without Chromium or playwright-core.
 */
import { test, type TestContext } from 'node:test';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { browserSkipReason, buildWebApp, launchChromium, openApp, serveStatic, SCREENSHOT_DIR, type StaticServer, type WebTestContext } from '../helpers/index.js';
import { checkConvolution } from '../web/convolution.js';
import { checkKernels } from '../web/kernels.js';
import { checkDigits } from '../web/digits.js';
import { checkTrain } from '../web/train.js';
import { checkArchitecture } from '../web/architecture.js';
import { checkShell } from '../web/shell.js';

test('the web app in Chromium', { timeout: 900_000 }, async (t: TestContext) => {
  const reason = await browserSkipReason();
  if (reason) {
    t.skip(reason);
    return;
  }
  let dir: string | null = null;
  let server: StaticServer | null = null;
  let browser: Browser | null = null;
  try {
    dir = await buildWebApp();
    server = await serveStatic(dir, true);
    browser = await launchChromium();
    t.diagnostic(`Chromium ${browser.version()}; screenshots in ${SCREENSHOT_DIR}`);
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const b = browser;
    const origin = server.origin;
    const ctx: WebTestContext = {
      browser: b,
      origin,
      open: (route, viewport) => openApp(b, `${origin}/#/${route.replace(/^#?\/?/, '')}`, viewport),
      async screenshot(page, name) {
        const path = join(SCREENSHOT_DIR, `${name}.png`);
        await page.screenshot({ path, fullPage: true });
        return path;
      },
    };
    const builtDir = dir;
    // STRIDE_WEB_ONLY=digits,train runs only those pages' checks (while working on them).
    const only = process.env.STRIDE_WEB_ONLY?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
    const skip = (name: string) => (only.length > 0 && !only.includes(name) ? `STRIDE_WEB_ONLY=${only.join(',')}` : false);
    await t.test('shell: navigation, engine status, isolation, narrow screens', { skip: skip('shell') }, (tt) => checkShell(ctx, tt, builtDir));
    await t.test('#/convolution', { skip: skip('convolution') }, (tt) => checkConvolution(ctx, tt));
    await t.test('#/kernels', { skip: skip('kernels') }, (tt) => checkKernels(ctx, tt));
    await t.test('#/digits', { skip: skip('digits') }, (tt) => checkDigits(ctx, tt));
    await t.test('#/train', { skip: skip('train') }, (tt) => checkTrain(ctx, tt));
    await t.test('#/architecture', { skip: skip('architecture') }, (tt) => checkArchitecture(ctx, tt));
  } finally {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});
