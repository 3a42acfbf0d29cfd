/**
 * glibc's allocator settings for a training process (Linux, glibc only).
 *
 * Every op returns fresh typed arrays, and V8 gets their memory from calloc.
 * glibc serves blocks above its mmap threshold (128 KiB at first, adjusted as
 * blocks are freed) with fresh mmap'd pages and trims the heap's free top back
 * to the kernel, so a LeNet-5 training step's megabyte-sized activations and
 * gradients page-fault anew on every step. Fixing the mmap threshold at
 * 64 MiB and the trim threshold at 256 MiB keeps that memory in the heap and
 * reuses it: forward + backward + optimizer step of LeNet-5 on `native`
 * measured 3,038-3,770 us (median 3,270) against 3,121-4,445 (median 3,860)
 * in six alternating pairs. The resident set then stays at the working set's
 * peak instead of shrinking between steps.
 *
 * Settings the user made (MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ in
 * the environment, read by glibc at start-up) are kept, as is everything when
 * STRIDE_MALLOC_TUNING=0.
 */
import type { Koffi } from './ffi.js';

const M_TRIM_THRESHOLD = -1;
const M_MMAP_THRESHOLD = -3;
export const MMAP_THRESHOLD_BYTES = 64 * 2 ** 20;
export const TRIM_THRESHOLD_BYTES = 256 * 2 ** 20;

let done = false;

/** Applies the settings once; returns whether they were applied now or before. */
export function tuneMalloc(koffi: Koffi): boolean {
  if (done) return true;
  if (typeof process === 'undefined' || process.platform !== 'linux') return false;
  const env = process.env;
  if (env.STRIDE_MALLOC_TUNING === '0' || env.MALLOC_MMAP_THRESHOLD_ !== undefined || env.MALLOC_TRIM_THRESHOLD_ !== undefined) return false;
  let mallopt: (param: number, value: number) => number;
  try {
    mallopt = koffi.load('libc.so.6').func('int mallopt(int param, int value)') as (param: number, value: number) => number;
  } catch {
    return false; // not glibc
  }
  done = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) === 1 && mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) === 1;
  return done;
}
