/** Checks of the web app's #/train page (run by test/once/web.test.ts). */
import type { TestContext } from 'node:test';
import { assertNoErrors, type WebTestContext } from '../helpers/index.js';

export async function checkTrain(ctx: WebTestContext, t: TestContext): Promise<void> {
  const app = await ctx.open('train');
  try {
    await app.page.waitForSelector('h1');
    await ctx.screenshot(app.page, 'train');
    assertNoErrors(app, '#/train');
  } finally {
    await app.close();
  }
}
