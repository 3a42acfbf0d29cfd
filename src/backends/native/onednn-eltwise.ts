/**
 * Same-shape addition a + b (residual additions, gradient accumulation: the
 * element-wise kernel of a residual network's training step that moves the
 * most memory) on oneDNN's `binary add` primitive, in place on the caller's
 * arrays (no copies into wasm memory, on the OpenMP threads). IEEE addition,
 * identical in every implementation.
 *
 * ReLU is not here: no oneDNN algorithm has PyTorch's rules (y = x < 0 ? 0 : x
 * keeps NaN and -0; gx = x <= 0 ? 0 : gy passes a NaN's gradient). Its `relu`
 * gives -0 for negative inputs, and `clip` turns NaN into 0 and blocks its
 * gradient, so ReLU runs on the fallback (native's wasm kernels).
 *
 * Arrays below MIN_ELEMENTS go to the fallback: a primitive call costs a few
 * microseconds of FFI and thread hand-off.
 */
import type { FloatArray, KernelSignatures } from '../backend.js';
import { DNNL, OP_DESC_BYTES, type OneDnn } from './onednn.js';
import { makePlanner, type Owned, type Plan } from './onednn-plan.js';

type EltwiseKernels = Pick<KernelSignatures, 'binary'>;

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
