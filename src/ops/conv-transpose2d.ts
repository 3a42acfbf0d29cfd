/**
 * 2-D transposed convolution ("deconvolution", fractionally strided
 * convolution), PyTorch's conv_transpose2d. Each input pixel scatters a copy of
 * the kernel, scaled by its value, into the output:
 *   y[n, g*oC/G + o, i*sH - pH + u*dH, j*sW - pW + v*dW] += x[n, g*C/G + c, i, j] * w[g*C/G + c, o, u, v]
 * plus bias[o]. Output size per axis:
 *   out = (in - 1)*stride - 2*padding + dilation*(k - 1) + outputPadding + 1.
 *
 * It is the adjoint of conv2d. Take the convolution C whose input has this
 * op's output shape [N, outC, Hout, Wout], whose output has this op's input
 * shape [N, inC, H, W], with the same stride / padding / dilation / groups
 * and weight w read as a conv weight [inC, outC/groups, kH, kW] (inC output
 * channels of C, outC/groups input channels per group). Then
 *   y = C^T x                 (forward:  kernel conv2dBackwardInput of C with "gy" = x)
 *   dL/dx = C (dL/dy)         (backward: kernel conv2dForward of C on dL/dy)
 *   dL/dw = the filter gradient of C with input dL/dy and output gradient x
 *           (kernel conv2dBackwardFilter, roles swapped: <C^T_w x, gy> = <x, C_w gy>)
 *   dL/db[o] = sum over n, i, j of dL/dy[n, o, i, j].
 * outputPadding only adds rows / columns at the bottom / right that C's
 * windows (fixed to outH = H) never reach, which is why it must stay below the
 * stride (or the dilation): otherwise the output would have been reachable
 * by one more input row.
 */
import { record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import type { Conv2dGeometry } from '../backends/backend.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor, allocate, resultDType } from '../tensor/tensor.js';
import { convArguments } from './conv2d.js';
import { reshape } from './shape.js';
import { checkTensor, output } from './util.js';
import { checkOptions, pair } from '../validate.js';

export interface ConvTranspose2dOptions {
  stride?: number | readonly [number, number];
  /** Removes this many rows / columns from each side of the full output (default 0). */
  padding?: number | readonly [number, number];
  /** Adds this many rows / columns at the bottom / right (default 0); must be < stride or < dilation. */
  outputPadding?: number | readonly [number, number];
  dilation?: number | readonly [number, number];
  groups?: number;
}

const OPTIONS = ['stride', 'padding', 'outputPadding', 'dilation', 'groups'] as const;

/** One axis of the output: (in - 1)*s - 2p + d*(k - 1) + outputPadding + 1. */
export function convTransposeOutputSize(inSize: number, kernel: number, stride: number, padding: number, outputPadding: number, dilation: number): number {
  return (inSize - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1;
}

/**
 * Validates the arguments and returns the geometry of the adjoint convolution
 * C (see the file comment): its input is this op's output.
 */
export function convTranspose2dGeometry(xShape: readonly number[], wShape: readonly number[], options: ConvTranspose2dOptions, where = 'convTranspose2d'): Conv2dGeometry {
  checkOptions(where, options, OPTIONS);
  const { groups, stride, dilation } = convArguments(where, xShape, wShape, 'inChannels, outChannels/groups, kH, kW', options);
  const [batch, inC, inH, inW] = xShape;
  const [wIn, outPerGroup, kH, kW] = wShape;
  const padding = pair(where, 'padding', options.padding ?? 0, 0);
  const outputPadding = pair(where, 'outputPadding', options.outputPadding ?? 0, 0);
  if (wIn !== inC) {
    throw new ShapeError(`${where}: input has ${inC} channels but weight ${fmtShape(wShape)} expects ${wIn} (a transposed convolution's weight is [inChannels, outChannels/groups, kH, kW]); check the input's channel dim or the layer's inChannels`);
  }
  if (inC % groups !== 0) {
    throw new ValueError(`${where}: groups ${groups} does not divide the ${inC} input channels; use a group count that divides both channel counts`);
  }
  if (kH < 1 || kW < 1 || outPerGroup < 1) {
    throw new ShapeError(`${where}: weight ${fmtShape(wShape)} must have at least one output channel per group and a kernel of at least 1x1`);
  }
  for (let a = 0; a < 2; a++) {
    if (outputPadding[a] >= stride[a] && outputPadding[a] >= dilation[a]) {
      throw new ValueError(`${where}: outputPadding ${outputPadding[a]} must be smaller than either stride ${stride[a]} or dilation ${dilation[a]} (on the ${a === 0 ? 'height' : 'width'} axis)`);
    }
  }
  const outH = convTransposeOutputSize(inH, kH, stride[0], padding[0], outputPadding[0], dilation[0]);
  const outW = convTransposeOutputSize(inW, kW, stride[1], padding[1], outputPadding[1], dilation[1]);
  if (outH < 1 || outW < 1) {
    throw new ShapeError(`${where}: the output would be ${outH}x${outW}: (in - 1)*stride - 2*padding + dilation*(k - 1) + outputPadding + 1 with input ${inH}x${inW}, kernel ${kH}x${kW}, padding ${padding[0]}x${padding[1]}; use less padding`);
  }
  return {
    batch, inC: outPerGroup * groups, inH: outH, inW: outW, outC: inC, kH, kW,
    strideH: stride[0], strideW: stride[1],
    padTop: padding[0], padLeft: padding[1],
    // (inH - 1)*stride + dilation*(kH - 1) + 1 - outH - padding, with outH from convTransposeOutputSize
    padBottom: padding[0] - outputPadding[0], padRight: padding[1] - outputPadding[1],
    dilationH: dilation[0], dilationW: dilation[1],
    groups,
    outH: inH, outW: inW,
  };
}

/**
 * convTranspose2d(x [N, inC, H, W] or [inC, H, W], weight [inC, outC/groups, kH, kW], bias [outC] | null, options).
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: ConvTranspose2dOptions = {}): Tensor {
  checkTensor('convTranspose2d', 'input', x);
  checkTensor('convTranspose2d', 'weight', weight);
  if (x.ndim === 3) {
    const y = convTranspose2d(reshape(x, [1, ...x.shape]), weight, bias, options);
    return reshape(y, y.shape.slice(1));
  }
  // g is the geometry of the convolution C whose adjoint this is: C's input is our output.
  const g = convTranspose2dGeometry(x.shape, weight.shape, options);
  const outC = g.inC;
  if (bias != null) {
    checkTensor('convTranspose2d', 'bias', bias);
    if (bias.ndim !== 1 || bias.shape[0] !== outC) {
      throw new ShapeError(`convTranspose2d: bias must have shape [${outC}] (one per output channel), got ${fmtShape(bias.shape)}`);
    }
  }
  const dtype = bias ? resultDType(x, weight, bias) : resultDType(x, weight);
  const k = kernelsFor(dtype);
  let y = output([g.batch, outC, g.inH, g.inW], dtype);
  k.conv2dBackwardInput(x.data, weight.data, g, y.data);
  if (bias) {
    const withBias = output(y.shape, dtype);
    k.binary('add', y.data, y.shape, bias.data, [1, outC, 1, 1], withBias.data, y.shape);
    y = withBias;
  }
  return record(y, 'convTranspose2d', [x, weight, bias], (gy) => {
    const kg = kernelsFor(gy.dtype);
    let gx: Tensor | null = null;
    let gw: Tensor | null = null;
    let gb: Tensor | null = null;
    if (x.requiresGrad) {
      // dL/dx = C(dL/dy)
      gx = output(x.shape, gy.dtype);
      kg.conv2dForward(gy.data, weight.data, null, g, gx.data);
    }
    if (weight.requiresGrad) {
      // dL/dw: C's filter gradient with C's input = dL/dy and C's output gradient = x
      gw = output(weight.shape, gy.dtype);
      kg.conv2dBackwardFilter(gy.data, x.data, g, gw.data, null);
    }
    if (bias && bias.requiresGrad) {
      // dL/db[o] = sum over n and the plane of dL/dy[n, o]
      const hw = g.inH * g.inW;
      const perPlane = allocate(gy.dtype, g.batch * outC);
      kg.reduce('sum', gy.data, g.batch * outC, hw, 1, perPlane);
      gb = output([outC], gy.dtype);
      kg.reduce('sum', perPlane, 1, g.batch, outC, gb.data);
    }
    return [gx, gw, gb];
  }, g);
}
