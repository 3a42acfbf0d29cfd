/**
 * What bench/native-quick.ts and bench/wasm-quick.ts share: the ResNet-block
 * net, the labels of a batch, one SGD training step and the median.
 */
import { backward, type Tensor } from '../src/index.js';
import type { Module } from '../src/nn/index.js';
import { resnetBlockNet } from '../src/cli/workloads.js';
import { crossEntropy } from '../src/ops/index.js';
import type { SGD } from '../src/optim/index.js';

/** The ResNet-block net of the benchmarks, as `stride bench` builds it. */
export { resnetBlockNet };

/** The class labels of a batch of n: (i * 7) mod 10. */
export function labels(n: number): number[] {
  return Array.from({ length: n }, (_, i) => (i * 7) % 10);
}

/** One training step on (x, y): zeroGrad, forward, cross-entropy, backward, SGD step. */
export function trainStep(model: Module, opt: SGD, x: Tensor, y: Tensor | number[]): () => void {
  return () => {
    opt.zeroGrad();
    const loss = crossEntropy(model.forward(x), y);
    backward(loss);
    opt.step();
  };
}

/** The middle value of xs (of an even count, the upper of the two middle ones). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}
