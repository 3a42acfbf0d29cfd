/**
 * Loading the optional FFI package koffi and the first library file of a
 * search list that opens; shared by the OpenBLAS and oneDNN bindings. Every
 * failure is returned as a sentence, never thrown, so the libraries stay
 * optional.
 */
import { createRequire } from 'node:module';

/** The part of koffi's API the bindings use (koffi is optional, so its types are not imported). */
export interface KoffiLib {
  func(signature: string): (...args: unknown[]) => unknown;
}
export interface Koffi {
  load(path: string): KoffiLib;
  address(p: unknown): bigint;
  struct(name: string, def: Record<string, string>): unknown;
  decode(p: unknown, type: unknown): Record<string, number>;
}

/** koffi, or why it does not load. */
export function requireKoffi(): { ok: true; koffi: Koffi } | { ok: false; reason: string } {
  try {
    return { ok: true, koffi: createRequire(import.meta.url)('koffi') as Koffi };
  } catch (e) {
    return { ok: false, reason: `the optional FFI package koffi is not installed or does not load on this platform (${firstLine(e)}); install it with: npm install koffi` };
  }
}

/** The first of `paths` that the dynamic loader opens, or the paths tried. */
export function openFirst(koffi: Koffi, paths: readonly string[]): { lib: KoffiLib; path: string } | { lib: null; tried: string[] } {
  const tried: string[] = [];
  for (const path of paths) {
    try {
      return { lib: koffi.load(path), path };
    } catch {
      tried.push(path);
    }
  }
  return { lib: null, tried };
}

/** The first line of an error's message. */
export function firstLine(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  return s.split('\n')[0];
}
