import type { AdaptivePool2dGeometry, FloatArray, Pool2dGeometry } from '../backend.js';
import { addToWindow, forEachOutputRow, type PoolWindow, windowSum } from './pool.js';

// ---------------------------------------------------------------------------
// LP pooling

/** An LP window and the factor its power sum is scaled by (see lpWindow). */
type LpWindow = PoolWindow & { scale: number };

/**
 * The window of LP output (oh, ow), clipped to the input (LP pooling has no
 * padding), and the factor that turns the window's power sum into PyTorch's v:
 * PyTorch computes avg_pool2d(x^p) * kH*kW, whose divisor is the clipped window
 * area, so v = sum * (kH*kW / area): exactly the sum for a full window, the sum
 * scaled up for a window that ceilMode cut short. With `mean`, v = sum / area.
 */
function lpWindow(g: Pool2dGeometry, oh: number, ow: number, mean: boolean): LpWindow {
  const h0 = oh * g.strideH;
  const w0 = ow * g.strideW;
  const h1 = Math.min(h0 + g.kH, g.inH);
  const w1 = Math.min(w0 + g.kW, g.inW);
  const area = (h1 - h0) * (w1 - w0);
  const scale = mean ? 1 / area : (g.kH * g.kW) / area;
  return { h0, h1, w0, w1, scale };
}

/** v = scale * sum over the window of x^p (see lpWindow). */
function lpPowerSum(x: FloatArray, xBase: number, inW: number, p: number, win: LpWindow): number {
  let s = 0;
  for (let ih = win.h0; ih < win.h1; ih++) for (let iw = win.w0; iw < win.w1; iw++) s += Math.pow(x[xBase + ih * inW + iw], p);
  return s * win.scale;
}

/**
 * y = v^(1/p), v = scale * sum over the window of x^p. As in PyTorch, a
 * negative v (odd p, negative inputs) has no real p-th root and gives NaN
 * unless 1/p is an integer (p = 1, 1/2, ...).
 */
export function lpPool2dForward(x: FloatArray, g: Pool2dGeometry, p: number, mean: boolean, y: FloatArray): void {
  forEachOutputRow(g, (xBase, yRow, oh) => {
    for (let ow = 0; ow < g.outW; ow++) y[yRow + ow] = Math.pow(lpPowerSum(x, xBase, g.inW, p, lpWindow(g, oh, ow, mean)), 1 / p);
  });
}

/**
 * dy/dx_i = (1/p) v^(1/p - 1) * scale * p x_i^(p-1) = scale * x_i^(p-1) * v^(1/p - 1),
 * and 0 where v = 0 (PyTorch: "if the sum of all inputs to the power of p is
 * zero, the gradient is set to zero as well"). v is recomputed from x rather than
 * from y, which keeps its sign when 1/p is an integer. Overwrites gx.
 */
export function lpPool2dBackward(x: FloatArray, gy: FloatArray, g: Pool2dGeometry, p: number, mean: boolean, gx: FloatArray): void {
  const { inW, outW } = g;
  gx.fill(0);
  forEachOutputRow(g, (xBase, yRow, oh) => {
    for (let ow = 0; ow < outW; ow++) {
      const win = lpWindow(g, oh, ow, mean);
      const v = lpPowerSum(x, xBase, inW, p, win);
      if (v === 0) continue;
      const common = gy[yRow + ow] * win.scale * Math.pow(v, 1 / p - 1);
      for (let ih = win.h0; ih < win.h1; ih++) {
        for (let iw = win.w0; iw < win.w1; iw++) {
          const i = xBase + ih * inW + iw;
          gx[i] += common * Math.pow(x[i], p - 1);
        }
      }
    }
  });
}

// ---------------------------------------------------------------------------
// Adaptive pooling

/** PyTorch's adaptive window of output (oh, ow): along each axis, output i covers [floor(i*in/out), ceil((i+1)*in/out)). */
function adaptiveWindow(g: AdaptivePool2dGeometry, oh: number, ow: number): PoolWindow {
  return {
    h0: Math.floor((oh * g.inH) / g.outH),
    h1: Math.ceil(((oh + 1) * g.inH) / g.outH),
    w0: Math.floor((ow * g.inW) / g.outW),
    w1: Math.ceil(((ow + 1) * g.inW) / g.outW),
  };
}

/** y = the mean of each adaptive window. */
export function adaptiveAvgPool2dForward(x: FloatArray, g: AdaptivePool2dGeometry, y: FloatArray): void {
  forEachOutputRow(g, (xBase, yRow, oh) => {
    for (let ow = 0; ow < g.outW; ow++) {
      const win = adaptiveWindow(g, oh, ow);
      y[yRow + ow] = windowSum(x, xBase, g.inW, win) / ((win.h1 - win.h0) * (win.w1 - win.w0));
    }
  });
}

/** Spreads gy / (window area) over each adaptive window (windows may overlap). Overwrites gx. */
export function adaptiveAvgPool2dBackward(gy: FloatArray, g: AdaptivePool2dGeometry, gx: FloatArray): void {
  gx.fill(0);
  forEachOutputRow(g, (xBase, yRow, oh) => {
    for (let ow = 0; ow < g.outW; ow++) {
      const win = adaptiveWindow(g, oh, ow);
      addToWindow(gx, xBase, g.inW, win, gy[yRow + ow] / ((win.h1 - win.h0) * (win.w1 - win.w0)));
    }
  });
}

/** y = the max of each adaptive window; argmax gets its flat in-plane index (first occurrence; a NaN wins). */
export function adaptiveMaxPool2dForward(x: FloatArray, g: AdaptivePool2dGeometry, y: FloatArray, argmax: Int32Array): void {
  const { inW, outW } = g;
  forEachOutputRow(g, (xBase, yRow, oh) => {
    for (let ow = 0; ow < outW; ow++) {
      const { h0, h1, w0, w1 } = adaptiveWindow(g, oh, ow);
      let best = -Infinity;
      let bestIdx = h0 * inW + w0;
      scan: for (let ih = h0; ih < h1; ih++) {
        for (let iw = w0; iw < w1; iw++) {
          const v = x[xBase + ih * inW + iw];
          if (v > best || v !== v) {
            best = v;
            bestIdx = ih * inW + iw;
            if (v !== v) break scan;
          }
        }
      }
      y[yRow + ow] = best;
      argmax[yRow + ow] = bestIdx;
    }
  });
}

// ---------------------------------------------------------------------------
// Scatter and gather within planes (max-pool style routing, max unpooling)

/**
 * dst[p, index[p, i]] = src[p, i] (or += with accumulate) for each plane p;
 * src planes hold srcPlane values, dst planes dstPlane values. dst is zeroed
 * first. Without accumulate, a later i overwrites an earlier one at the same index.
 */
export function scatterPlanes(src: FloatArray, index: Int32Array, planes: number, srcPlane: number, dstPlane: number, accumulate: boolean, dst: FloatArray): void {
  dst.fill(0);
  for (let p = 0; p < planes; p++) {
    for (let i = 0; i < srcPlane; i++) {
      const at = p * dstPlane + index[p * srcPlane + i];
      if (accumulate) dst[at] += src[p * srcPlane + i];
      else dst[at] = src[p * srcPlane + i];
    }
  }
}

/** dst[p, i] = src[p, index[p, i]] for each plane p (dst planes hold dstPlane values); 0 where the index is negative. */
export function gatherPlanes(src: FloatArray, index: Int32Array, planes: number, srcPlane: number, dstPlane: number, dst: FloatArray): void {
  for (let p = 0; p < planes; p++) {
    for (let i = 0; i < dstPlane; i++) {
      const at = index[p * dstPlane + i];
      dst[p * dstPlane + i] = at < 0 ? 0 : src[p * srcPlane + at];
    }
  }
}

// ---------------------------------------------------------------------------
// L2 pooling across groups of channels

/** x viewed as [batch, channels, inner]; y [batch, channels/groupSize, inner]: y = sqrt(sum over the group of x^2). */
export function channelL2PoolForward(x: FloatArray, batch: number, channels: number, groupSize: number, inner: number, y: FloatArray): void {
  const outC = channels / groupSize;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < outC; c++) {
      for (let s = 0; s < inner; s++) {
        let sum = 0;
        for (let k = c * groupSize; k < (c + 1) * groupSize; k++) {
          const v = x[(n * channels + k) * inner + s];
          sum += v * v;
        }
        y[(n * outC + c) * inner + s] = Math.sqrt(sum);
      }
    }
  }
}

/** gx[k] = gy[c] * x[k] / y[c] for k in group c; 0 where y[c] = 0. Overwrites gx. */
export function channelL2PoolBackward(x: FloatArray, y: FloatArray, gy: FloatArray, batch: number, channels: number, groupSize: number, inner: number, gx: FloatArray): void {
  const outC = channels / groupSize;
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < outC; c++) {
      for (let s = 0; s < inner; s++) {
        const o = (n * outC + c) * inner + s;
        const ratio = y[o] === 0 ? 0 : gy[o] / y[o];
        for (let k = c * groupSize; k < (c + 1) * groupSize; k++) {
          const i = (n * channels + k) * inner + s;
          gx[i] = ratio * x[i];
        }
      }
    }
  }
}
