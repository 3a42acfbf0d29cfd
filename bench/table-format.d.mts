/** A measured engine-and-workload cell of the speed tables. */
export interface MeasuredCell {
  ms: number;
  imagesPerSec: number;
  runs: number;
  bestImagesPerSec: number;
}
export function fmtNum(x: number | null | undefined): string;
export function cpuModel(): string;
export function measuredCell(ms: number[], batch: number): MeasuredCell;
export function speedCell(c: MeasuredCell): string;
export function ratioCell(a: { imagesPerSec?: number } | null | undefined, b: { imagesPerSec?: number } | null | undefined): string | null;
export function threadsLabel(n: number): string;
export function markdownTable(header: string[], rows: string[][]): string;
export function workloadColumns(shown: string[], workloads: Record<string, { batch: number }>): string[];
