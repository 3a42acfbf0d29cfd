/**
 * The two element-wise kernels of a residual network's training step that
 * move the most memory, on oneDNN's primitives in place on the caller's
 * arrays (no copies into wasm memory, on the OpenMP threads):
 *
 * - ReLU and its gradient, as oneDNN's `clip` with bounds [0, +inf]:
 *     y = x > 0 ? x : 0,   gx = x > 0 ? gy : 0
 *   which is Stride's rule (a NaN gives 0 and passes no gradient, -0 gives
 *   +0, denormals are kept); y to the bit, while a zero of gx is computed as
 *   gy * 0 and so is -0 where gy < 0 (equal to +0 in every later sum).
 *   oneDNN's own `relu` passes the gradient through a NaN, so it is not used. Checked against the reference kernels,
 *   NaN, infinities, signed zeros and denormals included, in test/once/native.test.ts.
 * - a + b of equal shapes (residual additions, gradient accumulation):
 *   IEEE addition, identical in every implementation.
 *
 * Arrays below MIN_ELEMENTS go to the fallback: a primitive call costs a few
 * microseconds of FFI and thread hand-off.
 */
import type { FloatArray, KernelSignatures } from '../backend.js';
import { DNNL, OP_DESC_BYTES, type OneDnn } from './onednn.js';
import { makePlanner, type Owned, type Plan } from './onednn-plan.js';

type EltwiseKernels = Pick<KernelSignatures, 'unary' | 'unaryBackward' | 'binary'>;

/** Elements below which the fallback runs. */
export const MIN_ELEMENTS = 1 << 16;

export interface OneDnnEltwise {
  kernels: EltwiseKernels;
  release(): void;
}

export function makeOneDnnEltwise(dnnl: OneDnn, fallback: EltwiseKernels): OneDnnEltwise {
  const planner = makePlanner(dnnl);
  const { check, memoryDesc, primitiveDesc, plainPort, finish } = planner;
  const { api } = dnnl;
  const flat = (n: number) => memoryDesc([n], DNNL.tagA);

  function clipForwardDesc(n: number): Uint8Array {
    const desc = new Uint8Array(OP_DESC_BYTES);
    check(api.eltwiseForwardDescInit(desc, DNNL.forwardTraining, DNNL.eltwiseClip, flat(n), 0, Infinity), 'eltwise forward descriptor');
    return desc;
  }

  function buildRelu(n: number, owned: Owned): Plan {
    const pd = primitiveDesc(clipForwardDesc(n), null, owned);
    return finish(pd, [plainPort(DNNL.argSrc, flat(n), false, owned), plainPort(DNNL.argDst, flat(n), true, owned)], owned);
  }

  function buildReluBackward(n: number, owned: Owned): Plan {
    const hint = primitiveDesc(clipForwardDesc(n), null, owned);
    const desc = new Uint8Array(OP_DESC_BYTES);
    check(api.eltwiseBackwardDescInit(desc, DNNL.eltwiseClip, flat(n), flat(n), 0, Infinity), 'eltwise backward descriptor');
    const pd = primitiveDesc(desc, hint, owned);
    return finish(pd, [
      plainPort(DNNL.argSrc, flat(n), false, owned),
      plainPort(DNNL.argDiffDst, flat(n), false, owned),
      plainPort(DNNL.argDiffSrc, flat(n), true, owned),
    ], owned);
  }

  function buildAdd(n: number, owned: Owned): Plan {
    const desc = new Uint8Array(OP_DESC_BYTES);
    check(api.binaryDescInit(desc, DNNL.binaryAdd, flat(n), flat(n), flat(n)), 'binary descriptor');
    const pd = primitiveDesc(desc, null, owned);
    return finish(pd, [
      plainPort(DNNL.argSrc, flat(n), false, owned),
      plainPort(DNNL.argSrc1, flat(n), false, owned),
      plainPort(DNNL.argDst, flat(n), true, owned),
    ], owned);
  }

  const large = (...arrays: FloatArray[]) => arrays.every((a) => a instanceof Float32Array && a.length === arrays[0].length) && arrays[0].length >= MIN_ELEMENTS;
  const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  const threads = () => dnnl.getThreads();

  const kernels: EltwiseKernels = {
    unary(op, x, out, params) {
      const p = op === 'relu' && large(x, out) ? planner.get(`relu ${threads()}|${x.length}`, (owned) => buildRelu(x.length, owned)) : null;
      if (!p) return fallback.unary(op, x, out, params);
      planner.run(p, [x, out] as Float32Array[]);
    },
    unaryBackward(op, x, y, gy, gx, params) {
      const p = op === 'relu' && large(x, gy, gx) ? planner.get(`relu backward ${threads()}|${x.length}`, (owned) => buildReluBackward(x.length, owned)) : null;
      if (!p) return fallback.unaryBackward(op, x, y, gy, gx, params);
      planner.run(p, [x, gy, gx] as Float32Array[]);
    },
    binary(op, a, aShape, b, bShape, out, outShape) {
      const p = op === 'add' && large(a, b, out) && sameShape(aShape, outShape) && sameShape(bShape, outShape)
        ? planner.get(`add ${threads()}|${out.length}`, (owned) => buildAdd(out.length, owned))
        : null;
      if (!p) return fallback.binary(op, a, aShape, b, bShape, out, outShape);
      planner.run(p, [a, b, out] as Float32Array[]);
    },
  };

  return { kernels, release: planner.release };
}
