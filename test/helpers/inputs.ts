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

/** Gratings in the formats Stride reads (the README's example data too). */
export { grating, writeFolderGratings, writeCifarGratings, cifarGratingRecords, CIFAR_GRATING_CLASSES, FOLDER_GRATING_CLASSES } from '../../scripts/gratings.js';
