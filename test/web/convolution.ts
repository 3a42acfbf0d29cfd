/** Checks of the web app's #/convolution page (run by test/once/web.test.ts). */
import type { TestContext } from 'node:test';
import { assertNoErrors, type WebTestContext } from '../helpers/index.js';

export async function checkConvolution(ctx: WebTestContext, t: TestContext): Promise<void> {
  const app = await ctx.open('convolution');
  try {
    await app.page.waitForSelector('h1');
    await ctx.screenshot(app.page, 'convolution');
    assertNoErrors(app, '#/convolution');
  } finally {
    await app.close();
  }
}
