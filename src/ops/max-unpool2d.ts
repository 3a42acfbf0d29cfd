/**
 * Max unpooling, the partial inverse of max pooling (PyTorch's max_unpool2d;
 * the "switches" of Zeiler & Fergus' deconvnet): each value of x goes back to
 * the position its max came from, given by `indices` from maxPool2dWithIndices
 * (the flat index h*W + w inside its output plane), and every other output is 0.
 * Output size per axis, as PyTorch: (in - 1)*stride - 2*padding + kernel, or
 * `outputSize`, which may differ from that by less than the stride (it recovers
 * the rows and columns a floor-mode pooling dropped).
 * Backward: the adjoint of the scatter is a gather,
 *   dL/dx[n, c, i] = dL/dy[n, c, indices[n, c, i]].
 * If two values share an index (overlapping pooling windows that found the same
 * max), the later one (in row-major order) is kept, as on PyTorch's CPU, and the
 * overwritten ones get gradient 0: the exact derivative of this forward.
 * (PyTorch gathers for all of them, a gradient its own forward does not have.)
 */
import { record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkImageShape, checkTensor, output } from './util.js';
import { checkInt, checkOptions, pair } from '../validate.js';

export interface MaxUnpool2dOptions {
  /** Default: the kernel size. */
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
  /** The output's [H, W] (or its whole shape [N, C, H, W]); default (in - 1)*stride - 2*padding + kernel. */
  outputSize?: readonly number[];
}

/** Scatters x [N, C, H, W] (or [C, H, W]) to the positions `indices` (same shape) give; see the file comment. */
export function maxUnpool2d(x: Tensor, indices: Tensor, kernelSize: number | readonly [number, number], options: MaxUnpool2dOptions = {}): Tensor {
  const where = 'maxUnpool2d';
  checkTensor(where, 'input', x);
  checkTensor(where, 'indices', indices);
  checkOptions(where, options, ['stride', 'padding', 'outputSize']);
  checkImageShape(where, x.shape, true);
  if (indices.shape.join() !== x.shape.join()) {
    throw new ShapeError(`${where}: indices must have the input's shape ${fmtShape(x.shape)}, got ${fmtShape(indices.shape)}; pass the indices from maxPool2dWithIndices`);
  }
  const [kH, kW] = pair(where, 'kernelSize', kernelSize, 1);
  const [sH, sW] = pair(where, 'stride', options.stride ?? [kH, kW], 1);
  const [pH, pW] = pair(where, 'padding', options.padding ?? 0, 0);
  const inH = x.shape[x.ndim - 2];
  const inW = x.shape[x.ndim - 1];
  const defH = (inH - 1) * sH - 2 * pH + kH;
  const defW = (inW - 1) * sW - 2 * pW + kW;
  let outH = defH;
  let outW = defW;
  if (options.outputSize !== undefined) {
    const os = options.outputSize;
    if (!Array.isArray(os) || (os.length !== 2 && os.length !== x.ndim)) {
      throw new ValueError(`${where}: outputSize must be [h, w] or the full output shape (${x.ndim} numbers), got ${JSON.stringify(os)}`);
    }
    outH = checkInt(where, 'outputSize', os[os.length - 2], 1);
    outW = checkInt(where, 'outputSize', os[os.length - 1], 1);
    for (const [axis, got, def, s] of [['height', outH, defH, sH], ['width', outW, defW, sW]] as const) {
      if (!(got > def - s && got < def + s)) {
        throw new ValueError(`${where}: outputSize ${axis} ${got} is not reachable from this pooling: it must be between ${def - s} and ${def + s} (exclusive), i.e. within the stride ${s} of the default ${def}`);
      }
    }
  }
  if (outH < 1 || outW < 1) {
    throw new ShapeError(`${where}: the output would be ${outH}x${outW} ((in - 1)*stride - 2*padding + kernel); check kernelSize, stride and padding`);
  }
  // A 3-D input needs no reshaping: planes are counted over the leading dims.
  const inPlane = inH * inW;
  const planes = inPlane === 0 ? 0 : x.size / inPlane;
  const outPlane = outH * outW;
  const idx = new Int32Array(indices.size);
  for (let i = 0; i < idx.length; i++) {
    const v = indices.data[i];
    if (!Number.isInteger(v) || v < 0 || v >= outPlane) {
      throw new ValueError(`${where}: index ${v} (element ${i} of indices) is outside the ${outH}x${outW} output plane (valid 0..${outPlane - 1}); indices must come from maxPool2dWithIndices with the same kernelSize, stride and padding, or pass outputSize`);
    }
    idx[i] = v;
  }
  // For the backward: a value overwritten by a later one with the same index had no effect.
  const gatherIdx = Int32Array.from(idx);
  const lastWriter = new Int32Array(outPlane);
  for (let p = 0; p < planes; p++) {
    for (let i = 0; i < inPlane; i++) lastWriter[idx[p * inPlane + i]] = i;
    for (let i = 0; i < inPlane; i++) if (lastWriter[idx[p * inPlane + i]] !== i) gatherIdx[p * inPlane + i] = -1;
  }
  const outShape = [...x.shape.slice(0, -2), outH, outW];
  const y = output(outShape, x.dtype);
  kernelsFor(x.dtype).scatterPlanes(x.data, idx, planes, inPlane, outPlane, false, y.data);
  return record(y, where, [x], (gy) => {
    const gx = output(x.shape, gy.dtype);
    kernelsFor(gy.dtype).gatherPlanes(gy.data, gatherIdx, planes, outPlane, inPlane, gx.data);
    return [gx];
  });
}
