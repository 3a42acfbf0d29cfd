import type { ChainStep, Conv2dGeometry, FloatArray, KernelSignatures } from '../backend.js';
import { maxPool2dForward } from './pool.js';
import { gemm } from './gemm.js';

/**
 * Convolution by im2col + GEMM. For one image and one group, im2col lays every
 * receptive field out as a column:
 *   col[(c*kH + i)*kW + j, oh*outW + ow] = x[c, oh*sH - padTop + i*dH, ow*sW - padLeft + j*dW]
 * (0 outside the image), so the convolution is one matrix product
 *   y_g [outC/g, outH*outW] = W_g [outC/g, inC/g*kH*kW] . col.
 * The backward passes are the two other products of the same matrices:
 *   dcol = W_g^T . gy_g (then col2im adds each column back where it came from)
 *   dW_g += gy_g . col^T.
 */

/** Fills `col` ([cg*kH*kW, outH*outW]) from channels c0 .. c0+cg-1 of image n. */
export function im2col(x: FloatArray, n: number, c0: number, cg: number, g: Conv2dGeometry, col: FloatArray): void {
  const { inC, inH, inW, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW, outH, outW } = g;
  const outHW = outH * outW;
  for (let c = 0; c < cg; c++) {
    const plane = ((n * inC) + c0 + c) * inH * inW;
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++) {
        const row = ((c * kH + i) * kW + j) * outHW;
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * strideH - padTop + i * dilationH;
          const dst = row + oh * outW;
          if (ih < 0 || ih >= inH) {
            col.fill(0, dst, dst + outW);
            continue;
          }
          const src = plane + ih * inW;
          for (let ow = 0; ow < outW; ow++) {
            const iw = ow * strideW - padLeft + j * dilationW;
            col[dst + ow] = iw >= 0 && iw < inW ? x[src + iw] : 0;
          }
        }
      }
    }
  }
}

/** The adjoint of im2col: adds each column entry back onto the input position it was read from. */
export function col2im(col: FloatArray, n: number, c0: number, cg: number, g: Conv2dGeometry, gx: FloatArray): void {
  const { inC, inH, inW, kH, kW, strideH, strideW, padTop, padLeft, dilationH, dilationW, outH, outW } = g;
  const outHW = outH * outW;
  for (let c = 0; c < cg; c++) {
    const plane = ((n * inC) + c0 + c) * inH * inW;
    for (let i = 0; i < kH; i++) {
      for (let j = 0; j < kW; j++) {
        const row = ((c * kH + i) * kW + j) * outHW;
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * strideH - padTop + i * dilationH;
          if (ih < 0 || ih >= inH) continue;
          const src = row + oh * outW;
          const dst = plane + ih * inW;
          for (let ow = 0; ow < outW; ow++) {
            const iw = ow * strideW - padLeft + j * dilationW;
            if (iw >= 0 && iw < inW) gx[dst + iw] += col[src + ow];
          }
        }
      }
    }
  }
}

/** Channels per group (cg in, ocg out), im2col rows (kk = cg*kH*kW) and output positions (outHW) of g. */
export function convSizes(g: Conv2dGeometry) {
  const cg = g.inC / g.groups;
  const ocg = g.outC / g.groups;
  const kk = cg * g.kH * g.kW;
  const outHW = g.outH * g.outW;
  return { cg, ocg, kk, outHW };
}

/** y[n, oc] += bias[oc] over every output position of image n. */
export function conv2dAddBias(y: FloatArray, n: number, bias: FloatArray, g: Conv2dGeometry): void {
  const outHW = g.outH * g.outW;
  for (let oc = 0; oc < g.outC; oc++) {
    const b = bias[oc];
    const base = (n * g.outC + oc) * outHW;
    for (let p = 0; p < outHW; p++) y[base + p] += b;
  }
}

export function conv2dForward(x: FloatArray, w: FloatArray, bias: FloatArray | null, g: Conv2dGeometry, y: FloatArray): void {
  const { cg, ocg, kk, outHW } = convSizes(g);
  const col = new (x.constructor as Float32ArrayConstructor)(kk * outHW);
  for (let n = 0; n < g.batch; n++) {
    for (let gi = 0; gi < g.groups; gi++) {
      im2col(x, n, gi * cg, cg, g, col);
      gemm(false, false, ocg, outHW, kk, 1, w, gi * ocg * kk, col, 0, 0, y, (n * g.outC + gi * ocg) * outHW);
    }
    if (bias) conv2dAddBias(y, n, bias, g);
  }
}

/** conv2dForward, then the epilogue (see applyConvEpilogue). */
export function conv2dForwardFused(x: FloatArray, w: FloatArray, bias: FloatArray | null, g: Conv2dGeometry, residual: FloatArray | null, relu: boolean, y: FloatArray): void {
  conv2dForward(x, w, bias, g, y);
  applyConvEpilogue(y, residual, relu);
}

/** The chain as one conv2dForwardFused or maxPool2dForward call per step, each result kept until the chain ends. */
export function conv2dChainForward(x: FloatArray, steps: readonly ChainStep[], y: FloatArray): void {
  runChain({ conv2dForwardFused, maxPool2dForward }, x, steps, y);
}

/** The kernels a chain is made of. */
export type ChainKernels = Pick<KernelSignatures, 'conv2dForwardFused' | 'maxPool2dForward'>;

/** Runs a chain on any backend's kernels, step by step (the ref and wasm tables, and native's fallback). */
export function runChain(k: ChainKernels, x: FloatArray, steps: readonly ChainStep[], y: FloatArray): void {
  checkChain(steps, x.length, y.length);
  const outputs: FloatArray[] = [];
  const Out = x.constructor as Float32ArrayConstructor;
  const value = (i: number) => (i === -1 ? x : outputs[i]);
  steps.forEach((s, i) => {
    const out = i === steps.length - 1 ? y : new Out(chainStepSize(s).out);
    if (s.kind === 'conv') k.conv2dForwardFused(value(s.input), s.w, s.bias, s.g, s.residual === null ? null : value(s.residual), s.relu, out);
    else k.maxPool2dForward(value(s.input), s.g, out, new Int32Array(out.length));
    outputs.push(out);
  });
}

/** The values a step reads and writes. */
export function chainStepSize(s: ChainStep): { in: number; out: number } {
  if (s.kind === 'conv') {
    const g = s.g;
    return { in: g.batch * g.inC * g.inH * g.inW, out: g.batch * g.outC * g.outH * g.outW };
  }
  const g = s.g;
  return { in: g.planes * g.inH * g.inW, out: g.planes * g.outH * g.outW };
}

/** The checks every implementation of conv2dChainForward makes: steps read earlier steps with the sizes they give. */
export function checkChain(steps: readonly ChainStep[], xLength: number, yLength: number): void {
  const sizes: number[] = [];
  const size = (i: number) => (i === -1 ? xLength : sizes[i]);
  steps.forEach((s, i) => {
    const residual = s.kind === 'conv' ? s.residual : null;
    if (!(s.input >= -1 && s.input < i) || (residual !== null && !(residual >= -1 && residual < i))) {
      throw new Error(`conv2dChainForward: step ${i} reads step ${s.input}${residual === null ? '' : ` and ${residual}`}; a step reads only earlier steps or the input (-1)`);
    }
    const { in: want, out } = chainStepSize(s);
    if (size(s.input) !== want) throw new Error(`conv2dChainForward: step ${i} expects ${want} input values, its input has ${size(s.input)}`);
    if (residual !== null && size(residual) !== out) throw new Error(`conv2dChainForward: step ${i} gives ${out} values, its residual has ${size(residual)}`);
    sizes.push(out);
  });
  if (steps.length === 0 || sizes[sizes.length - 1] !== yLength) throw new Error(`conv2dChainForward: y has ${yLength} values, the last step gives ${sizes[sizes.length - 1] ?? 'none (no steps)'}`);
}

/**
 * The epilogue of a fused convolution on its output y, in place: y += residual
 * where residual is not null, then y = y > 0 ? y : 0 where relu (a NaN gives 0,
 * -0 gives +0: the `unary` kernel's ReLU).
 */
export function applyConvEpilogue(y: FloatArray, residual: FloatArray | null, relu: boolean): void {
  const n = y.length;
  if (residual !== null && relu) {
    for (let i = 0; i < n; i++) {
      const v = y[i] + residual[i];
      y[i] = v > 0 ? v : 0;
    }
  } else if (residual !== null) {
    for (let i = 0; i < n; i++) y[i] += residual[i];
  } else if (relu) {
    for (let i = 0; i < n; i++) {
      const v = y[i];
      y[i] = v > 0 ? v : 0;
    }
  }
}

export function conv2dBackwardInput(gy: FloatArray, w: FloatArray, g: Conv2dGeometry, gx: FloatArray): void {
  const { cg, ocg, kk, outHW } = convSizes(g);
  const dcol = new (gy.constructor as Float32ArrayConstructor)(kk * outHW);
  gx.fill(0);
  for (let n = 0; n < g.batch; n++) {
    for (let gi = 0; gi < g.groups; gi++) {
      gemm(true, false, kk, outHW, ocg, 1, w, gi * ocg * kk, gy, (n * g.outC + gi * ocg) * outHW, 0, dcol, 0);
      col2im(dcol, n, gi * cg, cg, g, gx);
    }
  }
}

export function conv2dBackwardFilter(x: FloatArray, gy: FloatArray, g: Conv2dGeometry, gw: FloatArray, gb: FloatArray | null): void {
  const { cg, ocg, kk, outHW } = convSizes(g);
  const col = new (x.constructor as Float32ArrayConstructor)(kk * outHW);
  gw.fill(0);
  for (let n = 0; n < g.batch; n++) {
    for (let gi = 0; gi < g.groups; gi++) {
      im2col(x, n, gi * cg, cg, g, col);
      gemm(false, true, ocg, kk, outHW, 1, gy, (n * g.outC + gi * ocg) * outHW, col, 0, 1, gw, gi * ocg * kk);
    }
  }
  if (gb) conv2dBiasGradient(gy, g, gb);
}

/**
 * dL/db: gb[oc] = sum over n, oh, ow of gy[n, oc, oh, ow], one sum per image
 * and channel added in image order (overwrites gb).
 */
export function conv2dBiasGradient(gy: FloatArray, g: Conv2dGeometry, gb: FloatArray): void {
  const outHW = g.outH * g.outW;
  gb.fill(0);
  for (let n = 0; n < g.batch; n++) {
    for (let oc = 0; oc < g.outC; oc++) {
      const base = (n * g.outC + oc) * outHW;
      let s = 0;
      for (let p = 0; p < outHW; p++) s += gy[base + p];
      gb[oc] += s;
    }
  }
}
