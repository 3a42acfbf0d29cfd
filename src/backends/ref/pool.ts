import type { AdaptivePool2dGeometry, FloatArray, Pool2dGeometry } from '../backend.js';

/** One pooling window of one plane: input rows [h0, h1) and columns [w0, w1). */
export interface PoolWindow {
  h0: number;
  h1: number;
  w0: number;
  w1: number;
}

/**
 * Visits every output row of every plane in order: xBase is the plane's offset
 * in the input, yRow the row's offset in y (and argmax), oh its index.
 */
export function forEachOutputRow(g: AdaptivePool2dGeometry, visit: (xBase: number, yRow: number, oh: number) => void): void {
  const { planes, inH, inW, outH, outW } = g;
  for (let p = 0; p < planes; p++) {
    const xBase = p * inH * inW;
    const yBase = p * outH * outW;
    for (let oh = 0; oh < outH; oh++) visit(xBase, yBase + oh * outW, oh);
  }
}

/** The sum of x over a window of the plane at xBase, row by row. */
export function windowSum(x: FloatArray, xBase: number, inW: number, win: PoolWindow): number {
  const { h0, h1, w0, w1 } = win;
  let s = 0;
  for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) s += x[xBase + ih * inW + iw];
  return s;
}

/** gx += share over a window of the plane at xBase. */
export function addToWindow(gx: FloatArray, xBase: number, inW: number, win: PoolWindow, share: number): void {
  const { h0, h1, w0, w1 } = win;
  for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) gx[xBase + ih * inW + iw] += share;
}

/**
 * Max pooling. Padding is implicit -infinity, so a padded position never wins.
 * A NaN in the window wins (as in PyTorch), so NaNs are not silently dropped.
 */
export function maxPool2dForward(x: FloatArray, g: Pool2dGeometry, y: FloatArray, argmax: Int32Array): void {
  const { planes, inH, inW, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW, outH, outW } = g;
  for (let p = 0; p < planes; p++) {
    const xBase = p * inH * inW;
    const yBase = p * outH * outW;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = oh * strideH - padTop;
      for (let ow = 0; ow < outW; ow++) {
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
        y[yBase + oh * outW + ow] = best;
        argmax[yBase + oh * outW + ow] = bestIdx;
      }
    }
  }
}

/** dL/dx[winner] += dL/dy for each window: max routes the gradient to its argmax. */
export function maxPool2dBackward(gy: FloatArray, argmax: Int32Array, g: Pool2dGeometry, gx: FloatArray): void {
  gx.fill(0);
  forEachOutputRow(g, (xBase, yRow) => {
    for (let ow = 0; ow < g.outW; ow++) {
      const idx = argmax[yRow + ow];
      if (idx >= 0) gx[xBase + idx] += gy[yRow + ow];
    }
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
  forEachOutputRow(g, (xBase, yRow, oh) => {
    for (let ow = 0; ow < g.outW; ow++) {
      const win = avgWindow(g, oh, ow, countIncludePad);
      y[yRow + ow] = win.divisor > 0 ? windowSum(x, xBase, g.inW, win) / win.divisor : 0;
    }
  });
}

export function avgPool2dBackward(gy: FloatArray, g: Pool2dGeometry, countIncludePad: boolean, gx: FloatArray): void {
  gx.fill(0);
  forEachOutputRow(g, (xBase, yRow, oh) => {
    for (let ow = 0; ow < g.outW; ow++) {
      const win = avgWindow(g, oh, ow, countIncludePad);
      if (win.divisor > 0) addToWindow(gx, xBase, g.inW, win, gy[yRow + ow] / win.divisor);
    }
  });
}
