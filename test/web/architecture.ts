/**
 * Checks of the #/architecture page (run by test/once/web.test.ts): the totals
 * and rows are Stride's summary as the page shows it, checked against numbers
 * fixed outside Stride: torchvision's AlexNet parameter count, and LeNet-5's
 * arithmetic done by hand.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoErrors, type WebTestContext } from '../helpers/index.js';

export async function checkArchitecture(ctx: WebTestContext, t: TestContext): Promise<void> {
  const app = await ctx.open('architecture?model=alexnet');
  const { page } = app;
  try {
    const total = page.getByTestId('total-params');
    await total.waitFor({ timeout: 120_000 });
    // torchvision.models.alexnet(): sum(p.numel() for p in parameters()) = 61,100,840
    assert.equal(await total.textContent(), '61,100,840');
    // features.0 is Conv2d(3, 64, 11, stride 4, padding 2): 55x55 out of 224; RF 11, jump 4, start -2
    const first = page.getByTestId('summary-table').locator('tbody tr').first();
    const cells = await first.locator('td').allTextContents();
    assert.deepEqual(cells.slice(0, 4), ['features.0', 'Conv2d', '64×55×55', '23,296']);
    assert.deepEqual(cells.slice(8), ['11×11', '4×4', '-2,-2']);
    await ctx.screenshot(page, 'architecture');

    // The slider walks the receptive field: features.2 (max pool 3, stride 2) after the 11/4 convolution sees 11 + 2*4 = 19 pixels.
    await page.getByTestId('rf-layer').fill('2');
    await page.getByTestId('rf-layer').dispatchEvent('input');
    assert.match((await page.getByTestId('receptive-field').textContent()) ?? '', /features\.2 \(MaxPool2d\): one unit sees 19×19 input pixels; neighbouring units' fields are 8×8 pixels apart/);
    assert.match(page.url(), /layer=features\.2/, 'the selected layer is in the link');
    // classifier.6, the last linear layer, sees the whole image; its nominal field runs past it
    await page.getByTestId('rf-layer').fill('21');
    await page.getByTestId('rf-layer').dispatchEvent('input');
    assert.match((await page.getByTestId('receptive-field').textContent()) ?? '', /classifier\.6 \(Linear\): one unit sees the whole 224×224 image .*every unit sees the same field/);

    // LeNet-5 on its 1x28x28 digits, chosen through the control, and the URL follows.
    await page.getByTestId('model').selectOption('lenet5');
    await page.waitForFunction(() => document.querySelector('[data-testid="total-params"]')?.textContent === '61,706');
    // conv1 6*(25+1)=156; conv2 16*(150+1)=2,416; fc 401*120 + 121*84 + 85*10 = 48,120 + 10,164 + 850
    assert.equal(156 + 2416 + 48120 + 10164 + 850, 61706);
    assert.match(page.url(), /#\/architecture\?model=lenet5/);

    // A layer pattern at another input shape: 3x32x32, conv3 pad 1 keeps 32, pool2 halves it twice: 8x8x32 = 2048 into fc128.
    await page.getByTestId('model').selectOption('pattern');
    await page.getByTestId('pattern').fill('[(conv3-32-relu)*2-pool2]*2-(fc128-relu)*1-fc10');
    await page.getByTestId('input-shape').fill('3x32x32');
    const expected = (3 * 9 + 1) * 32 + (32 * 9 + 1) * 32 * 3 + (2048 + 1) * 128 + 129 * 10;
    await page.waitForFunction((n) => document.querySelector('[data-testid="total-params"]')?.textContent === n.toLocaleString('en-US'), expected, { timeout: 30_000 });
    assert.match(page.url(), /input=3x32x32/);

    // A malformed pattern: Stride's parse error, with the place of the mistake, and the page still works.
    await page.getByTestId('pattern').fill('conv3-32-relu-poolx');
    const alert = page.locator('[role="alert"]:visible').first();
    await alert.waitFor({ timeout: 10_000 });
    assert.match((await alert.textContent()) ?? '', /poolx|pool/);
    await page.getByTestId('model').selectOption('resnet18');
    await page.waitForFunction(() => document.querySelector('[data-testid="total-params"]')?.textContent === '11,689,512', null, { timeout: 120_000 });
    // ResNet-18's eight basic blocks are drawn as frames that say how each adds its shortcut.
    const frames = page.getByTestId('diagram').locator('.residual-label');
    assert.equal(await frames.count(), 8);
    assert.equal(await frames.nth(0).textContent(), 'layer1.0 · ResNetBasicBlock: relu(layers(x) + x)');
    assert.equal(await frames.nth(2).textContent(), 'layer2.0 · ResNetBasicBlock: relu(layers(x) + shortcut(x))');

    // A trace that would take minutes (40 convolutions of 512 channels at 224x224) is cancelled by the next choice.
    await page.getByTestId('model').selectOption('pattern');
    await page.getByTestId('input-shape').fill('3x224x224');
    await page.getByTestId('pattern').fill('[(conv3-512-relu)*10]*4-fc10');
    await page.waitForFunction(() => /Tracing \[/.test(document.querySelector('main')?.textContent ?? ''), null, { timeout: 10_000 });
    await page.getByTestId('model').selectOption('lenet5');
    await page.waitForFunction(() => document.querySelector('[data-testid="total-params"]')?.textContent === '61,706', null, { timeout: 60_000 });
    assertNoErrors(app, '#/architecture');
  } finally {
    await app.close();
  }
  const narrow = await ctx.open('architecture?model=resnet20', { width: 375, height: 800 });
  try {
    await narrow.page.getByTestId('total-params').waitFor({ timeout: 60_000 });
    // resnet20 (He et al. 2016, option A shortcuts): 269,722 parameters
    assert.equal(await narrow.page.getByTestId('total-params').textContent(), '269,722');
    const overflow = await narrow.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways at 375 px by ${overflow} px`);
    await ctx.screenshot(narrow.page, 'architecture-narrow');
    assertNoErrors(narrow, '#/architecture at 375 px');
  } finally {
    await narrow.close();
  }
}
