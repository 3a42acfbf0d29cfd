/** Checks of the web app's #/digits page (run by test/once/web.test.ts). */
import type { TestContext } from 'node:test';
import { assertNoErrors, type WebTestContext } from '../helpers/index.js';

export async function checkDigits(ctx: WebTestContext, t: TestContext): Promise<void> {
  const app = await ctx.open('digits');
  try {
    await app.page.waitForSelector('h1');
    await ctx.screenshot(app.page, 'digits');
    assertNoErrors(app, '#/digits');
  } finally {
    await app.close();
  }
}
