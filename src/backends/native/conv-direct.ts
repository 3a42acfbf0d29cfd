/**
 * Convolutions of one input channel per group (LeNet's first layer,
 * depthwise) on the wasm backend's direct kernels: an im2col GEMM with
 * K = kH*kW is mostly copying, and wasm's direct kernel measured 1.4-1.8x
 * faster.
 */
import type { ConvKernels, ConvLayout } from './conv-layout.js';

export function makeDirectLayout(wasm: ConvKernels): ConvLayout {
  return {
    applies: (_pass, g) => g.inC === g.groups,
    forward: wasm.conv2dForward,
    forwardFused(x, w, b, g, residual, relu, y) {
      wasm.conv2dForwardFused(x, w, b, g, residual, relu, y);
      return true;
    },
    backwardInput: wasm.conv2dBackwardInput,
    backwardFilter: wasm.conv2dBackwardFilter,
  };
}
