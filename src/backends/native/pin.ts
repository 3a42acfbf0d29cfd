/**
 * Keeps a shared library mapped until the process ends.
 *
 * koffi unloads a library (dlclose) when its handle is collected, which
 * happens at the latest while Node shuts down. oneDNN's OpenMP threads keep
 * spinning in libgomp's code for a while after each parallel region, and
 * OpenBLAS's threads sleep inside its code: unmapping either library under
 * them crashed 4 of 20 short training runs with SIGSEGV at exit (gdb: the
 * main thread in _dl_close, a worker thread at an unmapped address). Opening
 * the library once more with RTLD_NODELETE makes every dlclose leave it
 * mapped, as a library linked at start-up would be.
 */

import type { Koffi } from './ffi.js';

const RTLD_NOW = 0x2;
const RTLD_NODELETE = 0x1000;

let dlopen: ((file: string, mode: number) => unknown) | null | undefined;

/**
 * Pins the library `path` (a name the dynamic loader resolves the same way
 * koffi did). Returns whether it is pinned; on systems without glibc's dlopen
 * this does nothing and returns false.
 */
export function pinLibrary(koffi: Koffi, path: string): boolean {
  if (typeof process === 'undefined' || process.platform !== 'linux') return false;
  if (dlopen === undefined) {
    dlopen = null;
    for (const libc of ['libc.so.6', 'libdl.so.2']) {
      try {
        dlopen = koffi.load(libc).func('void *dlopen(const char *file, int mode)') as (file: string, mode: number) => unknown;
        break;
      } catch {
        // glibc before 2.34 has dlopen in libdl
      }
    }
  }
  if (!dlopen) return false;
  return dlopen(path, RTLD_NOW | RTLD_NODELETE) !== null;
}
