import type { FloatArray, LocalResponseNormParams } from '../backend.js';

/**
 * Local response normalization across channels (AlexNet, PyTorch), x viewed as
 * [batch, channels, inner]:
 *   scale_c = k + alpha/size * sum_{c' = c - floor(size/2)}^{c + floor((size-1)/2)} x_{c'}^2
 *   y_c     = x_c * scale_c^(-beta)
 * Channels outside 0..channels-1 count as zeros (the divisor stays `size`).
 * `scale` receives scale_c for the backward pass.
 */
export function localResponseNormForward(
  x: FloatArray, batch: number, channels: number, inner: number, params: LocalResponseNormParams, y: FloatArray, scale: FloatArray,
): void {
  const { size, alpha, beta, k } = params;
  const before = Math.floor(size / 2);
  const after = Math.floor((size - 1) / 2);
  for (let n = 0; n < batch; n++) {
    for (let s = 0; s < inner; s++) {
      const at = (c: number) => (n * channels + c) * inner + s;
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let c2 = Math.max(0, c - before); c2 <= Math.min(channels - 1, c + after); c2++) sum += x[at(c2)] * x[at(c2)];
        const sc = k + (alpha / size) * sum;
        scale[at(c)] = sc;
        y[at(c)] = x[at(c)] * Math.pow(sc, -beta);
      }
    }
  }
}

/**
 * dL/dx_j = gy_j * scale_j^(-beta)
 *         - (2 alpha beta / size) * x_j * sum_{c : j in window(c)} gy_c * y_c / scale_c,
 * because d scale_c / d x_j = (2 alpha / size) x_j when j is in c's window, and
 * d y_c / d scale_c = -beta x_c scale_c^(-beta-1) = -beta y_c / scale_c.
 * j is in window(c) when c runs from j - floor((size-1)/2) to j + floor(size/2)
 * (the window mirrored, which matters for even sizes). Overwrites gx.
 */
export function localResponseNormBackward(
  x: FloatArray, y: FloatArray, scale: FloatArray, gy: FloatArray, batch: number, channels: number, inner: number,
  params: LocalResponseNormParams, gx: FloatArray,
): void {
  const { size, alpha, beta } = params;
  const before = Math.floor((size - 1) / 2);
  const after = Math.floor(size / 2);
  const coef = (2 * alpha * beta) / size;
  for (let n = 0; n < batch; n++) {
    for (let s = 0; s < inner; s++) {
      const at = (c: number) => (n * channels + c) * inner + s;
      for (let j = 0; j < channels; j++) {
        let cross = 0;
        for (let c = Math.max(0, j - before); c <= Math.min(channels - 1, j + after); c++) cross += (gy[at(c)] * y[at(c)]) / scale[at(c)];
        gx[at(j)] = gy[at(j)] * Math.pow(scale[at(j)], -beta) - coef * x[at(j)] * cross;
      }
    }
  }
}
