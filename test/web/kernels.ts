/** Checks of the web app's #/kernels page (run by test/once/web.test.ts). */
import type { TestContext } from 'node:test';
import { assertNoErrors, type WebTestContext } from '../helpers/index.js';

export async function checkKernels(ctx: WebTestContext, t: TestContext): Promise<void> {
  const app = await ctx.open('kernels');
  try {
    await app.page.waitForSelector('h1');
    await ctx.screenshot(app.page, 'kernels');
    assertNoErrors(app, '#/kernels');
  } finally {
    await app.close();
  }
}
