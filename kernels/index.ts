/**
 * The entry of the WebAssembly kernels (compiled by scripts/build-wasm.mjs).
 * Every export takes byte addresses into the memory the host manages; no
 * kernel allocates.
 */
export { sgemm, gemmWorkFloats } from './gemm';
export {
  convWorkFloats, directWorkFloats, conv2d_forward, conv2d_forward_direct, conv2d_backward_filter_direct, conv2d_backward_input, conv2d_backward_filter,
  conv2d_bias_grad, add_into,
} from './conv';
export { maxpool2d_forward, maxpool2d_backward, avgpool2d_forward, avgpool2d_backward, plane_mean, plane_mean_backward } from './pool';
export { unary, unary_backward, binary, reduce_sum, softmax, softmax_backward } from './elementwise';
export { bn_stats, bn_forward, bn_backward } from './batch-norm';
export { winogradWorkFloats, winogradFilterFloats, winograd_filter, conv2d_winograd, winogradFilterWorkFloats, conv2d_winograd_filter } from './winograd';
export { winograd4WorkFloats, winograd4FilterFloats, winograd4_filter, conv2d_winograd4, winograd4FilterWorkFloats, conv2d_winograd4_filter } from './winograd4';
export { sgd_step } from './optim';
