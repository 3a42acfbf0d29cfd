/**
 * conv2d computed through FFTs (Mathieu, Henaff & LeCun, "Fast training of
 * convolutional networks through FFTs", ICLR 2014). Same semantics as conv2d
 * (cross-correlation, zero padding incl. asymmetric and 'same' / 'valid',
 * dilation, groups, optional bias), with stride 1 and paddingMode 'zeros' only.
 * Also reachable as conv2d(x, w, b, { algorithm: 'fft' }): this module registers
 * itself with conv2d when it loads (registerConv2dAlgorithm), so conv2d.ts does
 * not import it and the two files have no import cycle.
 *
 * Method: zero-pad the input plane and the dilated kernel (zeros inserted
 * between taps) to a common power-of-two grid PH x PW >= the padded input, take
 * real 2-D FFTs, multiply spectra and sum over input channels in the frequency
 * domain, one inverse FFT per output plane, crop:
 *   Y[n,o] = sum_c conj(W[o,c]) (.) X[n,c]      (conj = flipped kernel: correlation)
 * Backward, also by FFTs:
 *   dL/dx: GX[n,c] = sum_o GY[n,o] (.) W[o,c]         a full convolution of gy with w
 *   dL/dw: GW[o,c] = sum_n conj(GY[n,o]) (.) X[n,c]   the correlation of x with gy
 *   dL/db = sum of gy over n, i, j.
 * The formulas and the no-wrap-around argument are in src/backends/ref/fft.ts
 * and src/backends/ref/conv2d-fft.ts (kernels conv2dFFTForward / BackwardInput /
 * BackwardFilter). Spectra are held in float64 whatever the tensors' dtype.
 *
 * When is it faster? The direct cost grows as k^2 (N*Cout*Cin*H*W*k^2
 * multiply-adds); the FFT cost barely depends on k (FFTs on a grid of
 * nextPow2(H + k - 1) per side, products of N*Cout*Cin half spectra). Measured
 * with bench/conv2d-fft-vs-direct.ts (16 -> 16 channels, batch 4, 'same' padding,
 * 64x64 and 128x128 images; table in docs/conv2d-fft.md):
 * - ref backend: the crossover lies between k = 3 and k = 5 for both sizes.
 *   3x3 is about 2x faster directly; 5x5 is 1.2-1.5x faster by FFT (near even
 *   at 128x128); 7x7 to 15x15 are 2.7-17x faster by FFT.
 * - wasm (the default) and native backends: their direct kernels are 20-100x
 *   faster than ref, while their FFT kernels are the ref ones, so FFT loses for
 *   every k up to 15 (direct/fft 0.36-0.58 at k = 15; the k^2 extrapolation
 *   puts the crossover near k = 20-25, which was not measured).
 * The power-of-two grid costs up to 4x in area ('same' padding on 64x64 gives
 * 128x128), and at small batches the Cout*Cin kernel transforms dominate.
 */
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { conv2dGeometry, conv2dZeros, registerConv2dAlgorithm, type Conv2dOptions } from './conv2d.js';
import { reshape } from './shape.js';
import { checkTensor } from './util.js';

/** conv2d's options; `algorithm`, when given, must be 'fft'. */
export type Conv2dFFTOptions = Omit<Conv2dOptions, 'algorithm'> & { algorithm?: 'fft' };

/**
 * conv2dFFT(x [N, C, H, W] or [C, H, W], weight [outC, C/groups, kH, kW], bias [outC] | null, options):
 * conv2d by FFTs; stride 1 and paddingMode 'zeros' only.
 */
export function conv2dFFT(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dFFTOptions = {}): Tensor {
  return conv2dFFTImpl('conv2dFFT', x, weight, bias, options);
}

// conv2d(x, w, b, { algorithm: 'fft' }) lands here, with messages named conv2d.
registerConv2dAlgorithm('fft', (x, weight, bias, options) => conv2dFFTImpl('conv2d', x, weight, bias, options as Conv2dFFTOptions));

/** The op; `where` names the caller in messages (conv2d when reached through its `algorithm` option). */
export function conv2dFFTImpl(where: string, x: Tensor, weight: Tensor, bias: Tensor | null | undefined, options: Conv2dFFTOptions): Tensor {
  checkTensor(where, 'input', x);
  checkTensor(where, 'weight', weight);
  if (x.ndim === 3) {
    const y = conv2dFFTImpl(where, reshape(x, [1, ...x.shape]), weight, bias, options);
    return reshape(y, y.shape.slice(1));
  }
  const { algorithm, ...convOptions } = options ?? {};
  if (algorithm !== undefined && algorithm !== 'fft') {
    throw new ValueError(`${where}: conv2dFFT computes algorithm 'fft' only; got algorithm ${JSON.stringify(algorithm)}; use conv2d for 'direct'`);
  }
  const mode: string = convOptions.paddingMode ?? 'zeros';
  if (mode !== 'zeros') {
    throw new ValueError(`${where}: algorithm 'fft' supports paddingMode 'zeros' only; got paddingMode '${mode}'; use algorithm 'direct' for other padding modes`);
  }
  const g = conv2dGeometry(x.shape, weight.shape, convOptions as Conv2dOptions, where);
  if (g.strideH !== 1 || g.strideW !== 1) {
    const s = g.strideH === g.strideW ? String(g.strideH) : `[${g.strideH}, ${g.strideW}]`;
    throw new ValueError(`${where}: algorithm 'fft' supports stride 1 only; got stride ${s}; use algorithm 'direct' for strided convolution`);
  }
  if (bias != null) {
    checkTensor(where, 'bias', bias);
    if (bias.ndim !== 1 || bias.shape[0] !== g.outC) {
      throw new ShapeError(`${where}: bias must have shape [${g.outC}] (one per output channel), got ${fmtShape(bias.shape)}`);
    }
  }
  // Forward, dL/dx (full convolution of gy with w: GX = sum_o GY (.) W) and dL/dw
  // (correlation of x with gy: GW = sum_n conj(GY) (.) X), all through spectra.
  return conv2dZeros(x, weight, bias ?? null, g, 'fft');
}
