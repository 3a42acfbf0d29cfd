import type { AdaptivePool2dGeometry, FloatArray, Pool2dGeometry } from '../backend.js';

/** One pooling window of one plane: input rows [h0, h1) and columns [w0, w1). */
export interface PoolWindow {
  h0: number;
  h1: number;
  w0: number;
  w1: number;
}

/**
 * Visits every output of every plane in order (plane, row, column): xBase is
 * the plane's offset in the input, yAt the output's offset in y (and argmax).
 */
export function forEachOutput(g: AdaptivePool2dGeometry, visit: (xBase: number, yAt: number, oh: number, ow: number) => void): void {
  const { planes, inH, inW, outH, outW } = g;
  for (let p = 0; p < planes; p++) {
    const xBase = p * inH * inW;
    const yBase = p * outH * outW;
    for (let oh = 0; oh < outH; oh++) for (let ow = 0; ow < outW; ow++) visit(xBase, yBase + oh * outW + ow, oh, ow);
  }
}

/** The sum of x over a window of the plane at xBase, row by row. */
export function windowSum(x: FloatArray, xBase: number, inW: number, win: PoolWindow): number {
  let s = 0;
  for (let ih = win.h0; ih < win.h1; ih++) for (let iw = win.w0; iw < win.w1; iw++) s += x[xBase + ih * inW + iw];
  return s;
}

/** gx += share over a window of the plane at xBase. */
export function addToWindow(gx: FloatArray, xBase: number, inW: number, win: PoolWindow, share: number): void {
  for (let ih = win.h0; ih < win.h1; ih++) for (let iw = win.w0; iw < win.w1; iw++) gx[xBase + ih * inW + iw] += share;
}

/**
 * Max pooling. Padding is implicit -infinity, so a padded position never wins.
 * A NaN in the window wins (as in PyTorch), so NaNs are not silently dropped.
 */
export function maxPool2dForward(x: FloatArray, g: Pool2dGeometry, y: FloatArray, argmax: Int32Array): void {
  const { inH, inW, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW } = g;
  forEachOutput(g, (xBase, yAt, oh, ow) => {
    const h0 = oh * strideH - padTop;
    const w0 = ow * strideW - padLeft;
    let best = -Infinity;
    let bestIdx = -1;
    for (let i = 0; i < kH; i++) {
      const ih = h0 + i * dilationH;
      if (ih < 0 || ih >= inH) continue;
      for (let j = 0; j < kW; j++) {
        const iw = w0 + j * dilationW;
        if (iw < 0 || iw >= inW) continue;
        const v = x[xBase + ih * inW + iw];
        if (v > best || v !== v || bestIdx < 0) {
          best = v;
          bestIdx = ih * inW + iw;
          if (v !== v) break;
        }
      }
      if (best !== best) break;
    }
    y[yAt] = best;
    argmax[yAt] = bestIdx;
  });
}

/** dL/dx[winner] += dL/dy for each window: max routes the gradient to its argmax. */
export function maxPool2dBackward(gy: FloatArray, argmax: Int32Array, g: Pool2dGeometry, gx: FloatArray): void {
  gx.fill(0);
  forEachOutput(g, (xBase, yAt) => {
    const idx = argmax[yAt];
    if (idx >= 0) gx[xBase + idx] += gy[yAt];
  });
}

/**
 * The window of output (oh, ow) clipped to the input, and its divisor.
 * As in PyTorch: the window is first clipped to the padded input (in + pad on
 * the far side), which gives the countIncludePad divisor; then to the input.
 */
function avgWindow(g: Pool2dGeometry, oh: number, ow: number, countIncludePad: boolean): PoolWindow & { divisor: number } {
  let h0 = oh * g.strideH - g.padTop;
  let w0 = ow * g.strideW - g.padLeft;
  let h1 = Math.min(h0 + g.kH, g.inH + g.padTop);
  let w1 = Math.min(w0 + g.kW, g.inW + g.padLeft);
  const padded = (h1 - h0) * (w1 - w0);
  h0 = Math.max(h0, 0);
  w0 = Math.max(w0, 0);
  h1 = Math.min(h1, g.inH);
  w1 = Math.min(w1, g.inW);
  const divisor = countIncludePad ? padded : (h1 - h0) * (w1 - w0);
  return { h0, h1, w0, w1, divisor };
}

export function avgPool2dForward(x: FloatArray, g: Pool2dGeometry, countIncludePad: boolean, y: FloatArray): void {
  forEachOutput(g, (xBase, yAt, oh, ow) => {
    const win = avgWindow(g, oh, ow, countIncludePad);
    y[yAt] = win.divisor > 0 ? windowSum(x, xBase, g.inW, win) / win.divisor : 0;
  });
}

export function avgPool2dBackward(gy: FloatArray, g: Pool2dGeometry, countIncludePad: boolean, gx: FloatArray): void {
  gx.fill(0);
  forEachOutput(g, (xBase, yAt, oh, ow) => {
    const win = avgWindow(g, oh, ow, countIncludePad);
    if (win.divisor > 0) addToWindow(gx, xBase, g.inW, win, gy[yAt] / win.divisor);
  });
}
