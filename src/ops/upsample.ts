/**
 * Up-sampling of the last two dims of x [N, C, H, W], PyTorch's F.interpolate
 * with mode 'nearest' or 'bilinear'. Output size: `size`, or
 * floor(in * scaleFactor). Each output coordinate d maps to the input by a
 * scale per axis, which is (as PyTorch, whose recompute_scale_factor defaults
 * to off) 1/scaleFactor when a scale factor is given and in/out when a size
 * is given; for integer factors the two agree.
 *   nearest:  src = min(floor(d * scale), in - 1)
 *   bilinear: src = max((d + 0.5) * scale - 0.5, 0)   (pixel centres; alignCorners false)
 *             src = d * (in - 1)/(out - 1)             (alignCorners true: the corner pixels line up)
 *             y = (1 - l) * x[floor(src)] + l * x[min(floor(src) + 1, in - 1)], l = src - floor(src),
 *             along each axis in turn.
 * Backward: y is linear in x, y = A x per plane, so dL/dx = A^T dL/dy: each
 * dL/dy goes back to the input taps it read, times the same weights
 * (nearest: summed over the block of copies). Kernels upsample2d / upsample2dBackward.
 */
import type { Upsample2dGeometry } from '../backends/backend.js';
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { planeOp } from './pool2d.js';
import { checkTensor } from './util.js';
import { checkOptions, pair } from '../validate.js';

export type UpsampleMode = 'nearest' | 'bilinear';

export interface UpsampleOptions {
  /** Multiplier of the height and width (one number, or [h, w]); give this or `size`. */
  scaleFactor?: number | readonly [number, number];
  /** Output [height, width] (or one number for both); give this or `scaleFactor`. */
  size?: number | readonly [number, number];
  /** 'nearest' (default, as PyTorch) or 'bilinear'. */
  mode?: UpsampleMode;
  /** Bilinear only: map corner pixel centres onto each other (default false, as PyTorch). */
  alignCorners?: boolean;
}

const OPTIONS = ['scaleFactor', 'size', 'mode', 'alignCorners'] as const;

function scaleFactors(where: string, value: number | readonly number[]): [number, number] {
  const arr = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(arr) || arr.length !== 2 || !arr.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0)) {
    throw new ValueError(`${where}: scaleFactor must be a positive number or [h, w] of positive numbers, got ${JSON.stringify(value)}`);
  }
  return [arr[0], arr[1]];
}

/** Validates the arguments and resolves the output size and the coordinate scales. */
export function upsample2dGeometry(xShape: readonly number[], options: UpsampleOptions, where = 'upsample'): Upsample2dGeometry {
  checkOptions(where, options, OPTIONS);
  if (xShape.length !== 4) {
    throw new ShapeError(`${where}: input must be 4-D [batch, channels, height, width], got shape ${fmtShape(xShape)}`);
  }
  const mode = options.mode ?? 'nearest';
  if (mode !== 'nearest' && mode !== 'bilinear') {
    throw new ValueError(`${where}: mode must be 'nearest' or 'bilinear', got ${JSON.stringify(mode)}`);
  }
  const alignCorners = options.alignCorners ?? false;
  if (typeof alignCorners !== 'boolean') throw new ValueError(`${where}: alignCorners must be true or false, got ${JSON.stringify(alignCorners)}`);
  if (alignCorners && mode === 'nearest') {
    throw new ValueError(`${where}: alignCorners applies to mode 'bilinear' only; nearest has no corners to align (drop alignCorners or use mode 'bilinear')`);
  }
  const hasSize = options.size !== undefined && options.size !== null;
  const hasScale = options.scaleFactor !== undefined && options.scaleFactor !== null;
  if (hasSize === hasScale) {
    throw new ValueError(`${where}: give exactly one of size and scaleFactor (got ${hasSize ? 'both' : 'neither'})`);
  }
  const [n, c, inH, inW] = xShape;
  if (inH < 1 || inW < 1) throw new ShapeError(`${where}: input ${fmtShape(xShape)} has an empty plane; there is nothing to up-sample`);
  let outH: number;
  let outW: number;
  let sf: [number, number] | null = null;
  if (hasSize) {
    [outH, outW] = pair(where, 'size', options.size!, 1);
  } else {
    sf = scaleFactors(where, options.scaleFactor!);
    outH = Math.floor(inH * sf[0]);
    outW = Math.floor(inW * sf[1]);
    if (outH < 1 || outW < 1) {
      throw new ValueError(`${where}: scaleFactor [${sf.join(', ')}] turns the input ${inH}x${inW} into ${outH}x${outW}; the output needs at least one row and column`);
    }
  }
  const scale = (inSize: number, outSize: number, factor: number | null): number => {
    if (mode === 'bilinear' && alignCorners) return outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
    return factor !== null ? 1 / factor : inSize / outSize;
  };
  return {
    planes: n * c, inH, inW, outH, outW, mode, alignCorners,
    scaleH: scale(inH, outH, sf ? sf[0] : null),
    scaleW: scale(inW, outW, sf ? sf[1] : null),
  };
}

/** upsample(x [N, C, H, W], { scaleFactor | size, mode, alignCorners }) -> [N, C, outH, outW]. */
export function upsample(x: Tensor, options: UpsampleOptions): Tensor {
  checkTensor('upsample', 'input', x);
  if (options === undefined || options === null || typeof options !== 'object') {
    throw new ValueError(`upsample: options { scaleFactor or size, mode } are required, got ${JSON.stringify(options)}`);
  }
  const g = upsample2dGeometry(x.shape, options);
  return planeOp('upsample', x, g,
    (k, y) => k.upsample2d(x.data, g, y),
    (k, gy, gx) => k.upsample2dBackward(gy, g, gx));
}
