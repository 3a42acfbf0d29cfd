import { flatten } from '../../ops/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { LayerCounts } from '../describe.js';
import { Module } from '../module.js';

/** Flattens dims startDim..endDim (default 1..-1: keep the batch dim), as nn.Flatten. */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }

  /**
   * A reshape computes nothing (no connections). Once height and width are
   * merged the units no longer have a position: the field becomes the whole
   * input's, which is what the linear layer after it sees.
   */
  describeLayer(inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
    return { connections: 0, macs: 0, global: outputShape.length < inputShape.length };
  }

  override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}
