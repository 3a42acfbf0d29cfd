/**
 * Convolution through FFTs (Mathieu, Henaff & LeCun, "Fast training of
 * convolutional networks through FFTs", ICLR 2014), stride 1, zero padding.
 *
 * Notation per image n and group: xp is the zero-padded input plane (padH x padW),
 * wd the dilated kernel (eH x eW, zeros between the taps: eH = dH*(kH-1) + 1),
 * and every plane is laid on a common PH x PW grid, PH = nextPow2(padH),
 * PW = nextPow2(padW). Capitals are 2-D DFTs on that grid, conj the complex
 * conjugate, (.) an element-wise product. Three identities do all the work:
 *
 *   forward   y[o](i, j)  = sum_c sum_{u,v} wd[o,c](u, v) xp[c](i+u, j+v)
 *             Y[o]        = sum_c conj(WD[o,c]) (.) XP[c]
 *   input     gxp[c](s)   = sum_o sum_i gy[o](i) wd[o,c](s - i)      (a full convolution)
 *             GXP[c]      = sum_o GY[o] (.) WD[o,c]
 *   filter    gwd[o,c](t) = sum_n sum_i gy[n,o](i) xp[n,c](i + t)   (a correlation)
 *             GWD[o,c]    = sum_n conj(GY[n,o]) (.) XP[n,c]
 *
 * Conjugating a real signal's spectrum is the same as flipping the signal
 * (circularly), so conj(WD) is the spectrum of the flipped kernel: correlation
 * is convolution with the flipped kernel. The sums over channels (and, for the
 * filter gradient, over the batch) happen in the frequency domain, so each
 * output plane costs one inverse transform.
 *
 * Why PH >= padH is enough although the DFT convolves circularly: every index
 * read above stays inside one period. Forward reads xp at i + u <= outH-1 + eH-1
 * = padH - 1; the full convolution gxp has length outH + eH - 1 = padH; the
 * filter correlation reads xp at i + t <= padH - 1. Nothing wraps around.
 * Results are read back with a crop: y = rows [0, outH); gx = rows
 * [padTop, padTop + inH) of gxp; gw = the taps (u*dH, v*dW) of gwd.
 */
import type { Conv2dGeometry, FloatArray } from '../backend.js';
import { conv2dBiasGradient } from './conv.js';
import { irfft2, nextPowerOfTwo, rfft2, rfft2Size, type Rfft2Size } from './fft.js';

/** The grid of one convolution: its power-of-two size and the planes' extents. */
interface FFTPlan {
  sz: Rfft2Size;
  /** Dilated kernel extent. */
  eH: number;
  eW: number;
  /** Input channels and output channels per group. */
  cg: number;
  ocg: number;
}

function plan(g: Conv2dGeometry): FFTPlan {
  if (g.strideH !== 1 || g.strideW !== 1) {
    throw new RangeError(`conv2d (fft): stride must be 1, got ${g.strideH}x${g.strideW}`);
  }
  const eH = g.dilationH * (g.kH - 1) + 1;
  const eW = g.dilationW * (g.kW - 1) + 1;
  // The padded extent the windows cover; with stride 1 it is out + e - 1.
  const padH = g.padTop + g.inH + g.padBottom;
  const padW = g.padLeft + g.inW + g.padRight;
  return { sz: rfft2Size(nextPowerOfTwo(padH), nextPowerOfTwo(padW)), eH, eW, cg: g.inC / g.groups, ocg: g.outC / g.groups };
}

/** Complex spectra, `count` half spectra of `sz.size` values each, one after another. */
interface Spectra {
  re: Float64Array;
  im: Float64Array;
}

function spectra(count: number, sz: Rfft2Size): Spectra {
  return { re: new Float64Array(count * sz.size), im: new Float64Array(count * sz.size) };
}

/** acc += a (.) b, or a (.) conj(b) when conjB (one half spectrum each; offsets in complex values). */
function multiplyAdd(acc: Spectra, a: Spectra, aOff: number, b: Spectra, bOff: number, n: number, conjB: boolean): void {
  const s = conjB ? -1 : 1;
  const { re: ar, im: ai } = a;
  const { re: br, im: bi } = b;
  const { re: cr, im: ci } = acc;
  for (let k = 0; k < n; k++) {
    const xr = ar[aOff + k], xi = ai[aOff + k];
    const yr = br[bOff + k], yi = s * bi[bOff + k];
    // (xr + i xi)(yr + i yi) = (xr yr - xi yi) + i (xr yi + xi yr)
    cr[k] += xr * yr - xi * yi;
    ci[k] += xr * yi + xi * yr;
  }
}

function clear(acc: Spectra): void {
  acc.re.fill(0);
  acc.im.fill(0);
}

/** Spectrum of the dilated kernel w[o, c] (kH x kW taps at (u*dH, v*dW)), placed at the grid's origin. */
function kernelSpectrum(w: FloatArray, o: number, c: number, g: Conv2dGeometry, p: FFTPlan, out: Spectra, outIndex: number): void {
  const off = (o * p.cg + c) * g.kH * g.kW;
  rfft2(w, off, g.kH, g.kW, 0, 0, p.sz, out.re, out.im, outIndex * p.sz.size, g.dilationH, g.dilationW);
}

/** Spectrum of the zero-padded input plane x[n, c] (the image sits at (padTop, padLeft)). */
function inputSpectrum(x: FloatArray, n: number, c: number, g: Conv2dGeometry, p: FFTPlan, out: Spectra, outIndex: number): void {
  const off = (n * g.inC + c) * g.inH * g.inW;
  rfft2(x, off, g.inH, g.inW, g.padTop, g.padLeft, p.sz, out.re, out.im, outIndex * p.sz.size);
}

/** Spectrum of the output-gradient plane gy[n, o], placed at the grid's origin. */
function outputSpectrum(gy: FloatArray, n: number, o: number, g: Conv2dGeometry, p: FFTPlan, out: Spectra, outIndex: number): void {
  const off = (n * g.outC + o) * g.outH * g.outW;
  rfft2(gy, off, g.outH, g.outW, 0, 0, p.sz, out.re, out.im, outIndex * p.sz.size);
}

/**
 * y = conv2d(x, w) + bias. Per group: the input spectra of every image are
 * computed once; for each output channel the cg kernel spectra are computed
 * once and reused for the whole batch. Memory: (batch + 1) * cg half spectra.
 */
export function conv2dFFTForward(x: FloatArray, w: FloatArray, bias: FloatArray | null, g: Conv2dGeometry, y: FloatArray): void {
  const p = plan(g);
  const { sz, cg, ocg } = p;
  const X = spectra(g.batch * cg, sz);
  const W = spectra(cg, sz);
  const acc = spectra(1, sz);
  const real = new Float64Array(g.outH * sz.PW);
  for (let gi = 0; gi < g.groups; gi++) {
    for (let n = 0; n < g.batch; n++) {
      for (let c = 0; c < cg; c++) inputSpectrum(x, n, gi * cg + c, g, p, X, n * cg + c);
    }
    for (let oo = 0; oo < ocg; oo++) {
      const o = gi * ocg + oo;
      for (let c = 0; c < cg; c++) kernelSpectrum(w, o, c, g, p, W, c);
      const b = bias ? bias[o] : 0;
      for (let n = 0; n < g.batch; n++) {
        // Y[o] = sum_c conj(WD[o,c]) (.) XP[c]
        clear(acc);
        for (let c = 0; c < cg; c++) multiplyAdd(acc, X, (n * cg + c) * sz.size, W, c * sz.size, sz.size, true);
        irfft2(acc.re, acc.im, 0, sz, 0, g.outH, real, 0);
        const base = (n * g.outC + o) * g.outH * g.outW;
        for (let i = 0; i < g.outH; i++) {
          for (let j = 0; j < g.outW; j++) y[base + i * g.outW + j] = real[i * sz.PW + j] + b;
        }
      }
    }
  }
}

/**
 * gx = dL/dx: GXP[c] = sum_o GY[o] (.) WD[o,c], inverse, crop rows
 * [padTop, padTop + inH) and columns [padLeft, padLeft + inW). Overwrites gx.
 */
export function conv2dFFTBackwardInput(gy: FloatArray, w: FloatArray, g: Conv2dGeometry, gx: FloatArray): void {
  const p = plan(g);
  const { sz, cg, ocg } = p;
  const GY = spectra(g.batch * ocg, sz);
  const W = spectra(ocg, sz);
  const acc = spectra(1, sz);
  const real = new Float64Array(g.inH * sz.PW);
  for (let gi = 0; gi < g.groups; gi++) {
    for (let n = 0; n < g.batch; n++) {
      for (let oo = 0; oo < ocg; oo++) outputSpectrum(gy, n, gi * ocg + oo, g, p, GY, n * ocg + oo);
    }
    for (let cc = 0; cc < cg; cc++) {
      for (let oo = 0; oo < ocg; oo++) kernelSpectrum(w, gi * ocg + oo, cc, g, p, W, oo);
      const c = gi * cg + cc;
      for (let n = 0; n < g.batch; n++) {
        clear(acc);
        for (let oo = 0; oo < ocg; oo++) multiplyAdd(acc, GY, (n * ocg + oo) * sz.size, W, oo * sz.size, sz.size, false);
        irfft2(acc.re, acc.im, 0, sz, g.padTop, g.padTop + g.inH, real, 0);
        const base = (n * g.inC + c) * g.inH * g.inW;
        for (let i = 0; i < g.inH; i++) {
          for (let j = 0; j < g.inW; j++) gx[base + i * g.inW + j] = real[i * sz.PW + g.padLeft + j];
        }
      }
    }
  }
}

/**
 * gw = dL/dw: GWD[o,c] = sum_n conj(GY[n,o]) (.) XP[n,c], inverse, read the
 * taps (u*dH, v*dW). gb = dL/dbias = sum of gy over n, i, j. Overwrites both.
 */
export function conv2dFFTBackwardFilter(x: FloatArray, gy: FloatArray, g: Conv2dGeometry, gw: FloatArray, gb: FloatArray | null): void {
  const p = plan(g);
  const { sz, cg, ocg, eH } = p;
  const X = spectra(g.batch * cg, sz);
  const GY = spectra(g.batch, sz);
  const acc = spectra(1, sz);
  const real = new Float64Array(eH * sz.PW);
  for (let gi = 0; gi < g.groups; gi++) {
    for (let n = 0; n < g.batch; n++) {
      for (let c = 0; c < cg; c++) inputSpectrum(x, n, gi * cg + c, g, p, X, n * cg + c);
    }
    for (let oo = 0; oo < ocg; oo++) {
      const o = gi * ocg + oo;
      for (let n = 0; n < g.batch; n++) outputSpectrum(gy, n, o, g, p, GY, n);
      for (let c = 0; c < cg; c++) {
        clear(acc);
        // X (.) conj(GY) is the same product as conj(GY) (.) X.
        for (let n = 0; n < g.batch; n++) multiplyAdd(acc, X, (n * cg + c) * sz.size, GY, n * sz.size, sz.size, true);
        irfft2(acc.re, acc.im, 0, sz, 0, eH, real, 0);
        const base = (o * cg + c) * g.kH * g.kW;
        for (let u = 0; u < g.kH; u++) {
          for (let v = 0; v < g.kW; v++) gw[base + u * g.kW + v] = real[u * g.dilationH * sz.PW + v * g.dilationW];
        }
      }
    }
  }
  if (gb) conv2dBiasGradient(gy, g, gb);
}
