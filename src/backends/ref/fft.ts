/**
 * A fast Fourier transform written to be read: an iterative radix-2
 * Cooley-Tukey complex FFT on power-of-two lengths, and a real-input 2-D
 * transform built on it (what FFT convolution needs).
 *
 * Conventions (the same as NumPy's fft / rfft2 / irfft2):
 *   forward   X[k] = sum_{n=0}^{N-1} x[n] * exp(-2 pi i k n / N)
 *   inverse   x[n] = (1/N) sum_{k=0}^{N-1} X[k] * exp(+2 pi i k n / N)
 * and in 2-D the same along both axes. A real input has a Hermitian spectrum,
 * X[k] = conj(X[N - k]), so the real 2-D transform of an H x W plane keeps only
 * the columns k = 0 .. W/2 of the last axis: a "half spectrum" of H x (W/2 + 1)
 * complex values, stored as two row-major arrays (real and imaginary parts).
 *
 * Everything here computes in float64 (JavaScript numbers); callers hand in
 * float32 or float64 planes alike.
 */
import type { FloatArray } from '../backend.js';

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/** The smallest power of two >= n (n >= 1). */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** cos and sin of 2 pi k / n for k = 0 .. n/2 - 1, cached per n. */
const twiddleCache = new Map<number, { cos: Float64Array; sin: Float64Array }>();

function twiddles(n: number): { cos: Float64Array; sin: Float64Array } {
  let t = twiddleCache.get(n);
  if (!t) {
    const half = n >> 1;
    const cos = new Float64Array(half);
    const sin = new Float64Array(half);
    for (let k = 0; k < half; k++) {
      cos[k] = Math.cos((2 * Math.PI * k) / n);
      sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
    t = { cos, sin };
    twiddleCache.set(n, t);
  }
  return t;
}

/**
 * In-place complex FFT of the n values re[off .. off+n-1] + i im[off .. off+n-1],
 * n a power of two. `inverse` uses exp(+2 pi i k n / N) and does NOT divide by
 * N (callers scale once at the end of a multi-dimensional transform).
 *
 * Radix-2 decimation in time: with E and O the transforms of the even- and
 * odd-indexed halves (length N/2) and w = exp(-2 pi i / N),
 *   X[k]       = E[k] + w^k O[k]
 *   X[k + N/2] = E[k] - w^k O[k]          (k = 0 .. N/2 - 1)
 * Done iteratively: first put the input in bit-reversed order, so that every
 * pair of neighbours is an (even, odd) pair; then merge blocks of size 2, 4, ...
 * N with the butterfly above.
 */
export function fft(re: Float64Array, im: Float64Array, off: number, n: number, inverse: boolean): void {
  if (!isPowerOfTwo(n)) throw new RangeError(`fft: length must be a power of two, got ${n}`);
  // 1. Bit-reversal permutation: element i goes to the index with i's log2(n) bits reversed.
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit; // j is now i's bit reversal
    if (i < j) {
      const a = off + i;
      const b = off + j;
      let t = re[a]; re[a] = re[b]; re[b] = t;
      t = im[a]; im[a] = im[b]; im[b] = t;
    }
  }
  // 2. Butterflies. A block of `size` holds E (first half) and O (second half);
  //    w^k for this size is the table entry k * (n / size).
  const { cos, sin } = twiddles(n);
  const sign = inverse ? 1 : -1;
  for (let size = 2; size <= n; size *= 2) {
    const half = size >> 1;
    const step = n / size;
    for (let start = off; start < off + n; start += size) {
      for (let k = 0; k < half; k++) {
        const wr = cos[k * step];
        const wi = sign * sin[k * step];
        const e = start + k;
        const o = e + half;
        // t = w^k * O[k]
        const tr = wr * re[o] - wi * im[o];
        const ti = wr * im[o] + wi * re[o];
        re[o] = re[e] - tr;
        im[o] = im[e] - ti;
        re[e] += tr;
        im[e] += ti;
      }
    }
  }
}

/**
 * The sizes of a real 2-D transform on a PH x PW grid (both powers of two):
 * the half spectrum has PH rows of `half` = PW/2 + 1 complex values.
 */
export interface Rfft2Size {
  PH: number;
  PW: number;
  half: number;
  /** PH * half: complex values in one half spectrum. */
  size: number;
}

export function rfft2Size(PH: number, PW: number): Rfft2Size {
  if (!isPowerOfTwo(PH) || !isPowerOfTwo(PW)) throw new RangeError(`rfft2: grid ${PH}x${PW} must have power-of-two sides`);
  const half = (PW >> 1) + 1;
  return { PH, PW, half, size: PH * half };
}

/** One complex scratch row of length n (allocated per transform: small next to the planes). */
function scratch(n: number): { re: Float64Array; im: Float64Array } {
  return { re: new Float64Array(n), im: new Float64Array(n) };
}

/**
 * Real 2-D FFT of an h x w plane placed with its top-left corner at (top, left)
 * on a PH x PW grid of zeros (zero padding comes free this way):
 *   grid[r, c] = src[srcOff + (r - top) * w + (c - left)]  inside the plane, 0 elsewhere.
 * Writes the half spectrum (PH x half) to outRe/outIm at outOff.
 * The plane may also be read with a row step `rowStep` and column step `colStep`
 * placed at grid rows top + i*rowStep, columns left + j*colStep (a dilated kernel:
 * zeros inserted between the taps).
 *
 * Rows first, two at a time: for real rows a and b, the complex row z = a + i b
 * has transform Z = A + i B, and since A and B are Hermitian
 *   A[k] = (Z[k] + conj(Z[W - k])) / 2
 *   B[k] = (Z[k] - conj(Z[W - k])) / (2i)
 * so one complex FFT transforms two real rows. Then a complex FFT down each of
 * the `half` columns.
 */
export function rfft2(
  src: FloatArray, srcOff: number, h: number, w: number, top: number, left: number,
  sz: Rfft2Size, outRe: Float64Array, outIm: Float64Array, outOff: number,
  rowStep = 1, colStep = 1,
): void {
  const { PH, PW, half, size } = sz;
  if (top + (h - 1) * rowStep >= PH || left + (w - 1) * colStep >= PW) {
    throw new RangeError(`rfft2: a ${h}x${w} plane at (${top}, ${left}) with steps (${rowStep}, ${colStep}) does not fit a ${PH}x${PW} grid`);
  }
  outRe.fill(0, outOff, outOff + size);
  outIm.fill(0, outOff, outOff + size);
  const row = scratch(Math.max(PH, PW));

  // Row stage: only the h grid rows that hold data have a non-zero transform.
  for (let i = 0; i < h; i += 2) {
    const pair = i + 1 < h; // an odd last row is paired with a row of zeros
    row.re.fill(0, 0, PW);
    row.im.fill(0, 0, PW);
    for (let j = 0; j < w; j++) {
      const c = left + j * colStep;
      row.re[c] = src[srcOff + i * w + j];
      if (pair) row.im[c] = src[srcOff + (i + 1) * w + j];
    }
    fft(row.re, row.im, 0, PW, false);
    const outA = outOff + (top + i * rowStep) * half;
    const outB = outOff + (top + (i + 1) * rowStep) * half;
    for (let k = 0; k < half; k++) {
      const m = (PW - k) & (PW - 1); // W - k, with W - 0 taken as 0
      const zr = row.re[k], zi = row.im[k];
      const mr = row.re[m], mi = row.im[m];
      outRe[outA + k] = (zr + mr) / 2; // A = (Z[k] + conj(Z[W-k])) / 2
      outIm[outA + k] = (zi - mi) / 2;
      if (pair) {
        outRe[outB + k] = (zi + mi) / 2; // B = (Z[k] - conj(Z[W-k])) / (2i)
        outIm[outB + k] = (mr - zr) / 2;
      }
    }
  }

  // Column stage: a complex FFT down each of the `half` columns.
  if (PH > 1) {
    for (let k = 0; k < half; k++) {
      for (let r = 0; r < PH; r++) {
        row.re[r] = outRe[outOff + r * half + k];
        row.im[r] = outIm[outOff + r * half + k];
      }
      fft(row.re, row.im, 0, PH, false);
      for (let r = 0; r < PH; r++) {
        outRe[outOff + r * half + k] = row.re[r];
        outIm[outOff + r * half + k] = row.im[r];
      }
    }
  }
}

/**
 * Inverse of rfft2: from a half spectrum (PH x half, read from specRe/specIm at
 * specOff) back to the real PH x PW grid, including the 1/(PH*PW) factor.
 * Only grid rows r0 .. r1-1 are produced (callers crop); they are written to
 * out[outOff + (r - r0) * PW + c]. The spectrum is left unchanged.
 *
 * Columns first (inverse complex FFT down each of the `half` columns), then the
 * rows two at a time, undoing the pairing of rfft2: for wanted real rows a and
 * b with half spectra A and B, build the full row Z[k] = A[k] + i B[k], where
 * for k > W/2 the Hermitian symmetry gives A[k] = conj(A[W-k]) (same for B);
 * the inverse FFT of Z is a + i b. The imaginary parts of A[0] and A[W/2] must
 * be zero for a real result; they are, up to rounding, and are taken as zero
 * (NumPy's irfft does the same).
 */
export function irfft2(
  specRe: Float64Array, specIm: Float64Array, specOff: number, sz: Rfft2Size,
  r0: number, r1: number, out: Float64Array, outOff: number,
): void {
  const { PH, PW, half } = sz;
  // Column stage into a working copy (the caller's spectrum is kept).
  const colsRe = new Float64Array(sz.size);
  const colsIm = new Float64Array(sz.size);
  const row = scratch(Math.max(PH, PW));
  for (let k = 0; k < half; k++) {
    for (let r = 0; r < PH; r++) {
      row.re[r] = specRe[specOff + r * half + k];
      row.im[r] = specIm[specOff + r * half + k];
    }
    if (PH > 1) fft(row.re, row.im, 0, PH, true);
    for (let r = 0; r < PH; r++) {
      colsRe[r * half + k] = row.re[r];
      colsIm[r * half + k] = row.im[r];
    }
  }

  const scale = 1 / (PH * PW);
  const nyquist = PW >> 1;
  for (let a = r0; a < r1; a += 2) {
    const b = a + 1;
    const pair = b < r1;
    for (let k = 0; k < PW; k++) {
      // Hermitian extension: bins past W/2 are the conjugates of bins W - k.
      const mirrored = k > nyquist;
      const src = mirrored ? PW - k : k;
      const conj = mirrored ? -1 : 1;
      const real = src === 0 || src === nyquist; // DC and Nyquist bins are real
      const ar = colsRe[a * half + src];
      const ai = real ? 0 : conj * colsIm[a * half + src];
      const br = pair ? colsRe[b * half + src] : 0;
      const bi = pair && !real ? conj * colsIm[b * half + src] : 0;
      row.re[k] = ar - bi; // Z = A + i B
      row.im[k] = ai + br;
    }
    fft(row.re, row.im, 0, PW, true);
    const outA = outOff + (a - r0) * PW;
    for (let c = 0; c < PW; c++) out[outA + c] = row.re[c] * scale;
    if (pair) {
      const outB = outA + PW;
      for (let c = 0; c < PW; c++) out[outB + c] = row.im[c] * scale;
    }
  }
}
