/**
 * What the benchmark tables share: numbers as the tables print them, and the
 * machine's CPU as their headers name it.
 */
import { readFileSync } from 'node:fs';

/** 3 significant digits below 100, whole numbers with thousands separators above; '-' when there is no number. */
export function fmtNum(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  if (x >= 10) return x.toFixed(1);
  return x.toPrecision(2);
}

/** The CPU's model name and its widest SIMD (from /proc/cpuinfo), or the architecture where there is none. */
export function cpuModel() {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const model = /^model name\s*:\s*(.+)$/m.exec(text)?.[1]?.trim() ?? 'unknown CPU';
    const flags = /^flags\s*:\s*(.+)$/m.exec(text)?.[1]?.split(/\s+/) ?? [];
    const simd = flags.includes('avx512f') ? 'AVX-512' : flags.includes('avx2') ? 'AVX2' : flags.includes('avx') ? 'AVX' : 'SSE';
    return `${model} (${simd}${flags.includes('fma') ? ', FMA' : ''})`;
  } catch {
    return process.arch;
  }
}
