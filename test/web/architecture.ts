/** Checks of the web app's #/architecture page (run by test/once/web.test.ts). */
import type { TestContext } from 'node:test';
import { assertNoErrors, type WebTestContext } from '../helpers/index.js';

export async function checkArchitecture(ctx: WebTestContext, t: TestContext): Promise<void> {
  const app = await ctx.open('architecture');
  try {
    await app.page.waitForSelector('h1');
    await ctx.screenshot(app.page, 'architecture');
    assertNoErrors(app, '#/architecture');
  } finally {
    await app.close();
  }
}
