/**
 * Seeded inputs from Stride's Generator, so that every failure reproduces:
 * each test file draws from its own generator, in the order of its tests.
 */
import { Generator, rand, randn, type DType, type Tensor } from '../../src/index.js';

export interface Inputs {
  readonly gen: Generator;
  /** Normal values (mean 0, std 1 unless given). */
  rn(shape: number[], options?: { mean?: number; std?: number; dtype?: DType }): Tensor;
  /** Uniform values in [lo, hi). */
  ru(shape: number[], lo: number, hi: number): Tensor;
  /** Values with |v| in [lo, hi) and a random sign: kept away from 0 (and from the kinks there). */
  awayFromZero(shape: number[], lo?: number, hi?: number): Tensor;
}

/** Inputs drawn from new Generator(seed), in dtype (float64 unless given). */
export function seeded(seed: number, dtype: DType = 'float64'): Inputs {
  const gen = new Generator(seed);
  const ru = (shape: number[], lo: number, hi: number) => rand(shape, { generator: gen, dtype, low: lo, high: hi });
  return {
    gen,
    rn: (shape, options = {}) => randn(shape, { generator: gen, dtype, ...options }),
    ru,
    awayFromZero: (shape, lo = 0.2, hi = 1.5) => {
      const t = ru(shape, lo, hi);
      for (let i = 0; i < t.size; i++) if (gen.random() < 0.5) t.data[i] = -t.data[i];
      return t;
    },
  };
}

/** n uniform values in [lo, hi) from new Generator(seed), as float32 (the kernels' input type). */
export function uniformArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const gen = new Generator(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = gen.uniform(lo, hi);
  return out;
}

/**
 * A grating of w x h pixels in two colours: stripes across the orientation
 * of its class (0 horizontal, 1 vertical, 2 rising diagonal, 3 falling
 * diagonal), with a random period, phase and colours.
 */
export function grating(cls: number, w: number, h: number, g: Generator): Uint8Array {
  const period = g.uniform(7, 14);
  const phase = g.uniform(0, 2 * Math.PI);
  const a = [0, 1, 2].map(() => g.uniform(0, 255));
  const b = a.map((v) => (v + 128 + g.uniform(-40, 40)) % 256);
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const u = [y, x, (x + y) / Math.SQRT2, (x - y) / Math.SQRT2][cls];
      const t = 0.5 + 0.5 * Math.sin((2 * Math.PI * u) / period + phase);
      const p = (y * w + x) * 4;
      for (let c = 0; c < 3; c++) rgba[p + c] = Math.round(a[c] * t + b[c] * (1 - t));
      rgba[p + 3] = 255;
    }
  }
  return rgba;
}
