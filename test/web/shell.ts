/**
 * Checks of the app's shell (run by test/once/web.test.ts): the navigation
 * reaches every page, the status line says how the engine runs (threads when
 * the page is cross-origin isolated, one thread otherwise), every control has
 * a label, and no page scrolls sideways at 375 px.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoErrors, openApp, serveStatic, type WebTestContext } from '../helpers/index.js';

const PAGES = ['convolution', 'kernels', 'digits', 'train', 'architecture'];

/** Controls without an accessible name: no <label for>, no wrapping label, no aria-label(ledby). */
function unlabelledControls(): string[] {
  const out: string[] = [];
  for (const e of document.querySelectorAll<HTMLElement>('input, select, textarea, button')) {
    if ((e as HTMLInputElement).type === 'hidden' || e.closest('[hidden]')) continue;
    const labelled = (e.id && document.querySelector(`label[for="${CSS.escape(e.id)}"]`)) || e.closest('label') ||
      e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || (e.tagName === 'BUTTON' && (e.textContent ?? '').trim() !== '');
    if (!labelled) out.push(e.outerHTML.slice(0, 120));
  }
  return out;
}

export async function checkShell(ctx: WebTestContext, t: TestContext, builtDir: string): Promise<void> {
  const app = await ctx.open('');
  const { page } = app;
  try {
    // an empty route goes to the first page
    await page.waitForSelector('h1');
    assert.match(page.url(), /#\/convolution/);
    const engine = page.getByTestId('engine');
    await page.waitForFunction(() => !document.querySelector('[data-testid="engine"]')?.textContent?.includes('starting'), null, { timeout: 60_000 });
    const status = (await engine.textContent()) ?? '';
    t.diagnostic(`isolated page: ${status}`);
    assert.match(status, /^wasm, \d+ threads \(cross-origin isolated\)/);
    const threads = Number(/(\d+) threads/.exec(status)![1]);
    assert.ok(threads >= 2, `a cross-origin isolated page runs the kernels on >= 2 threads, got ${threads}`);

    for (const p of PAGES) {
      await page.getByRole('link', { name: new RegExp(`^${p}$`, 'i') }).click();
      await page.waitForFunction((path) => location.hash.startsWith(`#/${path}`) && document.querySelector('main h1') !== null, p);
      assert.equal(await page.locator('nav a[aria-current="page"]').getAttribute('href'), `#/${p}`, 'the navigation marks the page shown');
      assert.match(await page.title(), new RegExp(`^${p} · Stride$`, 'i'), 'the document title names the page');
      await page.waitForTimeout(300);
      assert.deepEqual(await page.evaluate(unlabelledControls), [], `#/${p}: every control has a label`);
    }
    assertNoErrors(app, 'shell');
  } finally {
    await app.close();
  }

  // Every page at 375 px: nothing makes the page itself scroll sideways.
  for (const p of PAGES) {
    const narrow = await ctx.open(p, { width: 375, height: 800 });
    try {
      await narrow.page.waitForSelector('main h1');
      await narrow.page.waitForTimeout(1500);
      const overflow = await narrow.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `#/${p} scrolls sideways at 375 px by ${overflow} px`);
      assertNoErrors(narrow, `#/${p} at 375 px`);
    } finally {
      await narrow.close();
    }
  }

  // The same site from a server without the isolation headers: one thread, and the page says why.
  const plain = await serveStatic(builtDir, false);
  const app2 = await openApp(ctx.browser, `${plain.origin}/#/architecture`);
  try {
    await app2.page.waitForFunction(() => !document.querySelector('[data-testid="engine"]')?.textContent?.includes('starting'), null, { timeout: 60_000 });
    const status = (await app2.page.getByTestId('engine').textContent()) ?? '';
    t.diagnostic(`page without isolation: ${status}`);
    assert.match(status, /^wasm, 1 thread \(this page is not cross-origin isolated, so one thread\)/);
    assertNoErrors(app2, 'the page without isolation');
  } finally {
    await app2.close();
    await plain.close();
  }
}
