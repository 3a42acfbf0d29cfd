/**
 * Convolution on the native backend: one table of layouts, each taking the
 * geometries it computes well, tried in order; the first that applies to a
 * pass runs it.
 *
 *   oneDNN     its primitives, where loaded and where it builds one (onednn-conv.ts)
 *   direct     one input channel per group, on wasm's direct kernels, over a wasm base (conv-direct.ts)
 *   empty      an empty batch: nothing to compute but a zero filter gradient
 *   flat       stride 1, outW = inW, enough work per image: no output copy (conv-flat.ts)
 *   wide       stride 1: im2col as a few memcpys over a chunk of images (conv-wide.ts)
 *   im2col     any stride: the reference im2col per image (conv-im2col.ts)
 *
 * The last four run their GEMMs on OpenBLAS in scratch memory the backend
 * owns; float64 arrays go to the reference kernels.
 */
import { refBackend } from '../ref/index.js';
import { makeDirectLayout } from './conv-direct.js';
import { makeFlatLayout } from './conv-flat.js';
import { makeIm2colLayout } from './conv-im2col.js';
import { selectConv, type ConvKernels, type ConvLayout, type ConvScratch } from './conv-layout.js';
import { makeWideLayout } from './conv-wide.js';
import { makeSgemm } from './gemm.js';
import type { OpenBlas } from './openblas.js';

/** The wide layout's im2col chunk in floats (6 MB). */
const COL_BUDGET = 1536 * 1024;

/** Multiply-adds per image and group from which the flat layout is used (a GEMM that size runs near BLAS speed). */
const FLAT_MIN_MACS = 1 << 20;

export interface ConvOptions {
  /** oneDNN's layout (onednn-conv.ts), tried first. */
  oneDnn?: ConvLayout | null;
  /** The wasm backend's kernels: convolutions of one input channel per group go to them. */
  direct?: ConvKernels | null;
  /** Every OpenBLAS product on one thread (with oneDNN loaded: see gemm.ts). */
  singleThread?: boolean;
  /** Floats of im2col matrix per chunk of the wide layout; a chunk holds as many images as fit, at least one (default COL_BUDGET). */
  colBudget?: number;
  /** Multiply-adds per image and group from which the flat layout is used (default FLAT_MIN_MACS; 0 = whenever it applies, Infinity = never). */
  flatMinMacs?: number;
}

/** An empty batch: y and gx have no elements, and the filter gradient is zeros (the GEMM layouts would write nothing). */
const emptyBatch: ConvLayout = {
  applies: (_pass, g) => g.batch === 0,
  forward() {},
  backwardInput() {},
  backwardFilter(_x, _gy, _g, gw, gb) {
    gw.fill(0);
    gb?.fill(0);
  },
};

/** The convolution kernels over the table above; the OpenBLAS layouts keep their buffers in `scratch`. */
export function makeConvKernels(blas: OpenBlas, scratch: ConvScratch, options: ConvOptions = {}): ConvKernels {
  const sgemm = makeSgemm(blas, options.singleThread ?? false);
  const layouts: ConvLayout[] = [];
  if (options.oneDnn) layouts.push(options.oneDnn);
  if (options.direct) layouts.push(makeDirectLayout(options.direct));
  layouts.push(
    emptyBatch,
    makeFlatLayout(sgemm, scratch, options.flatMinMacs ?? FLAT_MIN_MACS),
    makeWideLayout(blas, sgemm, scratch, Math.max(1, Math.floor(options.colBudget ?? COL_BUDGET))),
    makeIm2colLayout(sgemm, scratch),
  );
  return selectConv(layouts, refBackend.kernels);
}
