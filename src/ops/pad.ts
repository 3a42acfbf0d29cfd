/**
 * Padding of the last two dims (height, width) of a 3-D or 4-D tensor, as
 * PyTorch's F.pad with a 4-element pad [left, right, top, bottom]:
 *   y[..., oh, ow] = x[..., src(oh - top, H), src(ow - left, W)]
 * where src(i, n) is i inside the input and, outside it,
 *   constant:  no source: y = value
 *   reflect:   -i before, 2(n-1) - i after (mirror without repeating the edge; pad < n)
 *   replicate: 0 before, n-1 after (the edge repeated)
 *   circular:  i mod n (the opposite side wraps round; pad <= n)
 * Backward (the adjoint of that copy): dL/dx[p, a, b] = sum of dL/dy over the
 * output positions that read x[p, a, b], so in reflect / replicate / circular
 * modes one input gathers several outputs, and in constant mode the border's
 * gradient is dropped (kernel pad2dBackward).
 */
import { record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import type { Pad2dGeometry, PadMode } from '../backends/backend.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkTensor, output } from './util.js';
import { checkInt } from '../validate.js';

export type { PadMode };

const MODES: readonly PadMode[] = ['constant', 'reflect', 'replicate', 'circular'];

/**
 * Checks a padding against an input and returns the kernel geometry. `pads` is
 * [top, bottom, left, right]; `where` prefixes every message (pad, conv2d...).
 */
export function pad2dGeometry(where: string, shape: readonly number[], pads: readonly [number, number, number, number], mode: PadMode): Pad2dGeometry {
  if (shape.length !== 3 && shape.length !== 4) {
    throw new ShapeError(`${where}: input must be 3-D [channels, height, width] or 4-D [batch, channels, height, width] (padding applies to the last two dims), got shape ${fmtShape(shape)}`);
  }
  if (!MODES.includes(mode)) {
    throw new ValueError(`${where}: padding mode must be one of ${MODES.map((m) => `'${m}'`).join(', ')}; got ${JSON.stringify(mode)}`);
  }
  const [padTop, padBottom, padLeft, padRight] = pads;
  const inH = shape[shape.length - 2];
  const inW = shape[shape.length - 1];
  const axes: [string, number, number][] = [['height', padTop, inH], ['height', padBottom, inH], ['width', padLeft, inW], ['width', padRight, inW]];
  for (const [axis, p, n] of axes) {
    if (mode === 'reflect' && p >= n) {
      const rel = p > n ? 'wider than' : 'as wide as';
      throw new ValueError(`${where}: reflect padding ${p} is ${rel} the input ${n} on the ${axis} axis; reflect needs padding < input size (use 'replicate' or 'circular', or a larger input)`);
    }
    if (mode === 'circular' && p > n) {
      throw new ValueError(`${where}: circular padding ${p} is wider than the input ${n} on the ${axis} axis; circular needs padding <= input size`);
    }
    if (mode === 'replicate' && p > 0 && n === 0) {
      throw new ValueError(`${where}: replicate padding ${p} of an empty ${axis} axis has no edge to repeat; replicate needs a non-empty input`);
    }
  }
  const planes = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { planes, inH, inW, padTop, padBottom, padLeft, padRight, outH: inH + padTop + padBottom, outW: inW + padLeft + padRight };
}

/**
 * Pads with [top, bottom, left, right] already resolved (conv2d's padding
 * modes call this with their own name in the messages).
 */
export function pad2dResolved(where: string, x: Tensor, pads: readonly [number, number, number, number], mode: PadMode, value = 0): Tensor {
  const g = pad2dGeometry(where, x.shape, pads, mode);
  const outShape = [...x.shape.slice(0, -2), g.outH, g.outW];
  const y = output(outShape, x.dtype);
  kernelsFor(x.dtype).pad2d(x.data, g, mode, value, y.data);
  return record(y, 'pad', [x], (gy) => {
    const gx = output(x.shape, gy.dtype);
    kernelsFor(gy.dtype).pad2dBackward(gy.data, g, mode, gx.data);
    return [gx];
  }, { ...g, mode, value });
}

/**
 * pad(x [N, C, H, W] or [C, H, W], [left, right, top, bottom], mode, value):
 * PyTorch's F.pad order (last dim first). A 2-element [left, right] pads the
 * width only. `value` fills the border in 'constant' mode.
 */
export function pad(x: Tensor, padding: readonly number[], mode: PadMode = 'constant', value = 0): Tensor {
  checkTensor('pad', 'input', x);
  if (!Array.isArray(padding) || (padding.length !== 2 && padding.length !== 4)) {
    throw new ValueError(`pad: padding must be [left, right, top, bottom] (or [left, right] for the width only), got ${JSON.stringify(padding)}`);
  }
  padding.forEach((p) => checkInt('pad', 'every padding width', p, 0));
  const [left, right, top = 0, bottom = 0] = padding;
  if (typeof value !== 'number') {
    throw new ValueError(`pad: value must be a number, got ${JSON.stringify(value)}`);
  }
  if (mode !== 'constant' && value !== 0 && MODES.includes(mode)) {
    throw new ValueError(`pad: value ${value} only applies to mode 'constant'; mode '${String(mode)}' fills the border from the input (drop the value or use mode 'constant')`);
  }
  return pad2dResolved('pad', x, [top, bottom, left, right], mode, value);
}
