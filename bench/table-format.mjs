/**
 * What the benchmark tables share (bench/run.mjs's Node tables and
 * bench/browser/table.mjs's): numbers and cells as the tables print them, the
 * rows of a markdown table, and the machine's CPU as their headers name it.
 */
import { readFileSync } from 'node:fs';
import { median } from './peers/steps.mjs';

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

/**
 * One engine on one workload from its runs' median iteration times `ms` (one
 * per round) and the workload's batch: the median over the rounds, images/s
 * at that median and at the fastest round, and the number of runs.
 */
export function measuredCell(ms, batch) {
  const m = median(ms);
  return { ms: m, imagesPerSec: (batch * 1000) / m, runs: ms.length, bestImagesPerSec: (batch * 1000) / Math.min(...ms) };
}

/**
 * A measured cell as the speed tables print it: "61,054 img/s, 4.2 ms", and
 * the best round where it was more than 15% faster than the median (other
 * work on the machine only ever slows a run down: the best round shows how far
 * the median was pulled).
 */
export function speedCell(c) {
  const best = c.runs > 1 && c.bestImagesPerSec > 1.15 * c.imagesPerSec ? ` (best round ${fmtNum(c.bestImagesPerSec)})` : '';
  return `${fmtNum(c.imagesPerSec)} img/s, ${fmtNum(c.ms)} ms${best}`;
}

/** a's images/s over b's as the ratio tables print it ('1.36x'), or null when either has none. */
export function ratioCell(a, b) {
  return a?.imagesPerSec && b?.imagesPerSec ? `${(a.imagesPerSec / b.imagesPerSec).toFixed(2)}x` : null;
}

/** "1 thread", "2 threads". */
export function threadsLabel(n) {
  return `${n} thread${n === 1 ? '' : 's'}`;
}

/** A markdown table: the header cells, then one row per array of cells. */
export function markdownTable(header, rows) {
  return [`| ${header.join(' | ')} |`, `|${' --- |'.repeat(header.length)}`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The workloads as the speed tables' column headers: "lenet5-train (batch 64)"; `workloads` is bench/workloads.json. */
export function workloadColumns(shown, workloads) {
  return shown.map((w) => `${w} (batch ${workloads[w].batch})`);
}
