import type { Backend } from '../backend.js';
import { conv2dBackwardFilter, conv2dBackwardInput, conv2dChainForward, conv2dForward, conv2dForwardFused } from './conv.js';
import { conv2dFFTBackwardFilter, conv2dFFTBackwardInput, conv2dFFTForward } from './conv2d-fft.js';
import { binary, unary, unaryBackward } from './elementwise.js';
import { gemm } from './gemm.js';
import { batchNorm2dBackward, batchNorm2dForward, batchNormStats } from './batch-norm.js';
import { avgPool2dBackward, avgPool2dForward, maxPool2dBackward, maxPool2dForward } from './pool.js';
import { argReduce, permute, reduce, softmax, softmaxBackward } from './reduce.js';
import { pad2d, pad2dBackward } from './pad.js';
import { upsample2d, upsample2dBackward } from './upsample.js';
import {
  adaptiveAvgPool2dBackward, adaptiveAvgPool2dForward, adaptiveMaxPool2dForward, channelL2PoolBackward, channelL2PoolForward,
  gatherPlanes, lpPool2dBackward, lpPool2dForward, scatterPlanes,
} from './pool-family.js';
import { localResponseNormBackward, localResponseNormForward } from './local-response-norm.js';
import { gather, scatterAdd, topk, where } from './indexing.js';
import { sgdStep, sgdStepMany } from './optim.js';

/**
 * The reference backend: plain TypeScript, written to be read and to be the
 * oracle for the fast backends. It works on float32 and float64 arrays alike,
 * which is what lets gradcheck run in float64.
 */
export const refBackend: Backend = {
  name: 'ref',
  kernels: {
    gemm, unary, unaryBackward, binary, reduce, argReduce, permute, softmax, softmaxBackward,
    batchNormStats, batchNorm2dForward, batchNorm2dBackward,
    conv2dForward, conv2dForwardFused, conv2dChainForward, conv2dBackwardInput, conv2dBackwardFilter,
    conv2dFFTForward, conv2dFFTBackwardInput, conv2dFFTBackwardFilter,
    maxPool2dForward, maxPool2dBackward, avgPool2dForward, avgPool2dBackward,
    pad2d, pad2dBackward, upsample2d, upsample2dBackward,
    lpPool2dForward, lpPool2dBackward, adaptiveAvgPool2dForward, adaptiveAvgPool2dBackward, adaptiveMaxPool2dForward,
    scatterPlanes, gatherPlanes, channelL2PoolForward, channelL2PoolBackward, localResponseNormForward, localResponseNormBackward,
    gather, scatterAdd, where, topk, sgdStep, sgdStepMany,
  },
};
