/** One result line of the page (bench/peers/steps.mjs's schema) with the engine's id and the round. */
export interface BrowserResult {
  engineId: string;
  round: number;
  workload: string;
  imagesPerSec: number | null;
  msPerIter: number | null;
  unsupported?: string;
  [key: string]: unknown;
}
/** An engine as the page started it, or why it could not. */
export type BrowserEngine = { available: true; label: string; threads: number; version?: string; backend?: string; detail?: string } | { available: false; reason: string };
export interface WorkloadEntry {
  batch: number;
  flopsPerIter: number;
  iterations: number;
  warmup: number;
  description?: string;
}
export type Cell = { ms: number; imagesPerSec: number; runs: number; bestImagesPerSec: number; text?: undefined } | { text: string; imagesPerSec?: undefined; ms?: undefined };
export interface TableInput {
  engines: Record<string, BrowserEngine>;
  results: BrowserResult[];
  workloads: Record<string, WorkloadEntry>;
}
export function browserTables(input: TableInput & { shown: string[] }): { speed: string; ratios: string };
export function browserMarkdown(input: TableInput & {
  shown: string[];
  date: string;
  chromium: string;
  cpu: string;
  cores: number;
  env: { crossOriginIsolated: boolean; hardwareConcurrency: number; threads: number; rounds: number; maxSeconds: number };
  loadStart: number;
  loadEnd: number;
  seconds: number;
  /** How busy the CPUs were before the runs (bench/quiet.mjs's sentence). */
  busy?: string;
  notes?: string[];
}): string;
