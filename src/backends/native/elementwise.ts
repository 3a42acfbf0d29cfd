/**
 * Faster float32 versions of the element-wise and pooling kernels that
 * dominate CNN training once GEMM is on BLAS, with exactly the reference
 * semantics (NaN included); anything else goes to the base kernels.
 *
 * ReLU works on the bit patterns (an Int32Array view): x > 0 exactly when its
 * bits b, read as a signed integer, satisfy 0 < b <= 0x7f800000 (+infinity);
 * negatives have the sign bit set and NaNs lie above +infinity. So
 *   mask = ((-b) & (b - 0x7f800001)) >> 31      (all ones when x > 0, else 0)
 *   relu(x) = bits(b & mask),  relu'(x) * gy = bits(bits(gy) & mask)
 * which gives +0 where the reference gives 0 and needs no branch: the
 * branchy `x > 0 ? x : 0` loop mispredicts on every other element of real
 * activations and runs about five times slower.
 */
import type { Backend, FloatArray, KernelSignatures, Pool2dGeometry } from '../backend.js';

function bits(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

function reluForward(x: Float32Array, out: Float32Array): void {
  const xi = bits(x);
  const yi = bits(out);
  const n = xi.length;
  for (let i = 0; i < n; i++) {
    const b = xi[i];
    yi[i] = b & ((-b & (b - 0x7f800001)) >> 31);
  }
}

function reluBackward(x: Float32Array, gy: Float32Array, gx: Float32Array): void {
  const xi = bits(x);
  const gi = bits(gy);
  const go = bits(gx);
  const n = xi.length;
  for (let i = 0; i < n; i++) {
    const b = xi[i];
    go[i] = gi[i] & ((-b & (b - 0x7f800001)) >> 31);
  }
}

/**
 * Max pooling with 2x2 windows, stride 2, no padding or dilation (LeNet,
 * VGG): the reference rule unrolled (the first of equal values wins, a NaN
 * wins and ends the window).
 */
function maxPool2x2(x: Float32Array, g: Pool2dGeometry, y: Float32Array, argmax: Int32Array): void {
  const { planes, inH, inW, outH, outW } = g;
  for (let p = 0; p < planes; p++) {
    const xBase = p * inH * inW;
    let o = p * outH * outW;
    for (let oh = 0; oh < outH; oh++) {
      const r0 = 2 * oh * inW;
      for (let ow = 0; ow < outW; ow++, o++) {
        let idx = r0 + 2 * ow;
        let best = x[xBase + idx];
        if (best === best) {
          const i1 = idx + 1;
          const i2 = idx + inW;
          const i3 = i2 + 1;
          const v1 = x[xBase + i1];
          if (v1 > best || v1 !== v1) { best = v1; idx = i1; }
          if (best === best) {
            const v2 = x[xBase + i2];
            if (v2 > best || v2 !== v2) { best = v2; idx = i2; }
            if (best === best) {
              const v3 = x[xBase + i3];
              if (v3 > best || v3 !== v3) { best = v3; idx = i3; }
            }
          }
        }
        y[o] = best;
        argmax[o] = idx;
      }
    }
  }
}

type Overrides = Pick<KernelSignatures, 'unary' | 'unaryBackward' | 'maxPool2dForward'>;

/** The fast paths above, each falling back to `base` outside its case. */
export function makeEltwiseKernels(base: Backend['kernels']): Overrides {
  return {
    unary(op, x, out, params) {
      if (op === 'relu' && x instanceof Float32Array && out instanceof Float32Array) reluForward(x, out);
      else base.unary(op, x, out, params);
    },
    unaryBackward(op, x, y, gy, gx, params) {
      if (op === 'relu' && x instanceof Float32Array && gy instanceof Float32Array && gx instanceof Float32Array) reluBackward(x, gy, gx);
      else base.unaryBackward(op, x, y, gy, gx, params);
    },
    maxPool2dForward(x: FloatArray, g: Pool2dGeometry, y: FloatArray, argmax: Int32Array) {
      const simple = g.kH === 2 && g.kW === 2 && g.strideH === 2 && g.strideW === 2 && g.padTop === 0 && g.padLeft === 0
        && g.dilationH === 1 && g.dilationW === 1 && 2 * g.outH <= g.inH && 2 * g.outW <= g.inW;
      if (simple && x instanceof Float32Array && y instanceof Float32Array) maxPool2x2(x, g, y, argmax);
      else base.maxPool2dForward(x, g, y, argmax);
    },
  };
}
