/**
 * Matrix product with PyTorch's rules: 1-D x 1-D is a dot product, a 1-D
 * operand is treated as a row (left) or column (right) vector, and leading
 * batch dims broadcast. For C = A B:  dL/dA = dL/dC B^T,  dL/dB = A^T dL/dC.
 */
import { record } from '../autograd/tape.js';
import { kernelsFor } from '../backends/index.js';
import { ShapeError, fmtShape } from '../errors.js';
import { Tensor, resultDType, shapeSize } from '../tensor/tensor.js';
import { reshape } from './shape.js';
import { broadcastShapes, checkTensor, output, sumToShape } from './util.js';

export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor('matmul', 'a', a);
  checkTensor('matmul', 'b', b);
  if (a.ndim === 0 || b.ndim === 0) throw new ShapeError(`matmul: both operands need at least 1 dimension, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}; use mul for scalars`);
  if (a.ndim === 1 && b.ndim === 1) return reshape(matmul(reshape(a, [1, a.shape[0]]), reshape(b, [b.shape[0], 1])), []);
  if (a.ndim === 1) {
    const y = matmul(reshape(a, [1, a.shape[0]]), b);
    return reshape(y, [...y.shape.slice(0, -2), y.shape[y.ndim - 1]]);
  }
  if (b.ndim === 1) {
    const y = matmul(a, reshape(b, [b.shape[0], 1]));
    return reshape(y, y.shape.slice(0, -1));
  }
  const [M, K] = a.shape.slice(-2);
  const [K2, N] = b.shape.slice(-2);
  if (K !== K2) {
    throw new ShapeError(`matmul: inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)} (${K} vs ${K2}); the last dim of a must equal the second-to-last of b`);
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul (batch dims)');
  const batches = shapeSize(batch);
  const dtype = resultDType(a, b);
  const k = kernelsFor(dtype);
  const aB = a.shape.slice(0, -2);
  const bB = b.shape.slice(0, -2);
  // Offset of batch index i in an operand whose batch shape broadcasts to `batch`.
  const offsetFn = (shape: readonly number[], matSize: number) => {
    const padded = [...new Array(batch.length - shape.length).fill(1), ...shape];
    return (i: number) => {
      let off = 0;
      let stride = 1;
      for (let d = batch.length - 1; d >= 0; d--) {
        const idx = i % batch[d];
        i = Math.floor(i / batch[d]);
        if (padded[d] !== 1) off += idx * stride;
        stride *= padded[d];
      }
      return off * matSize;
    };
  };
  const aOff = offsetFn(aB, M * K);
  const bOff = offsetFn(bB, K * N);
  const out = output([...batch, M, N], dtype);
  for (let i = 0; i < batches; i++) k.gemm(false, false, M, N, K, 1, a.data, aOff(i), b.data, bOff(i), 0, out.data, i * M * N);
  return record(out, 'matmul', [a, b], (g) => {
    const kg = kernelsFor(g.dtype);
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      const full = output([...batch, M, K], g.dtype);
      for (let i = 0; i < batches; i++) kg.gemm(false, true, M, K, N, 1, g.data, i * M * N, b.data, bOff(i), 0, full.data, i * M * K);
      ga = sumToShape(full, a.shape);
    }
    if (b.requiresGrad) {
      const full = output([...batch, K, N], g.dtype);
      for (let i = 0; i < batches; i++) kg.gemm(true, false, K, N, M, 1, a.data, aOff(i), g.data, i * M * N, 0, full.data, i * K * N);
      gb = sumToShape(full, b.shape);
    }
    return [ga, gb];
  });
}
