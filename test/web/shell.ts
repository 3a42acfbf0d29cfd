/** Checks of the app's shell (run by test/once/web.test.ts). */
import type { TestContext } from 'node:test';
import { assertNoErrors, type WebTestContext } from '../helpers/index.js';

export async function checkShell(ctx: WebTestContext, t: TestContext, builtDir: string): Promise<void> {
  const app = await ctx.open('convolution');
  try {
    await app.page.waitForSelector('h1');
    assertNoErrors(app, 'shell');
  } finally {
    await app.close();
  }
}
