/**
 * A run's changes of the learning rate and the batch size, as the link holds
 * them: `changes=120-lr-0.01_300-batch-32` reads "after step 120 the learning
 * rate is 0.01, after step 300 the batch size is 32". The link's `lr` and
 * `batch` stay the values the run started with, so the link describes the run
 * as it went, and a run started from it applies the same changes at the same
 * steps (the worker draws the same batches: it trains the same model).
 *
 * The form uses only characters a query keeps as they are (digits, letters,
 * `-`, `.`, `_`), so the link stays readable.
 */
import type { RunChange } from '../compute/train.js';

/** Most changes a link may hold (a hand-made link with thousands would only slow the page). */
export const MAX_CHANGES = 200;
const LR = { min: 0.00001, max: 10 };
const BATCH = { min: 1, max: 4096 };

/** The changes of a link's `changes` value, merged per step and in step order, and the parts that are not changes. */
export function parseChanges(text: string | null): { changes: RunChange[]; bad: string[] } {
  const changes: RunChange[] = [];
  const bad: string[] = [];
  if (text === null || text.trim() === '') return { changes, bad };
  for (const part of text.split('_')) {
    const m = /^(\d+)-(lr|batch)-(.+)$/.exec(part.trim());
    const step = m ? Number(m[1]) : NaN;
    const value = m ? Number(m[3]) : NaN;
    const valid = m !== null && Number.isSafeInteger(step) && Number.isFinite(value) &&
      (m[2] === 'lr' ? value >= LR.min && value <= LR.max : Number.isInteger(value) && value >= BATCH.min && value <= BATCH.max);
    if (!valid || changes.length >= MAX_CHANGES) {
      bad.push(part);
      continue;
    }
    addChange(changes, m[2] === 'lr' ? { step, lr: value } : { step, batchSize: value });
  }
  return { changes, bad };
}

/** The `changes` value of a link (null when there are none). */
export function formatChanges(changes: readonly RunChange[]): string | null {
  const parts: string[] = [];
  for (const c of changes) {
    if (c.lr !== undefined) parts.push(`${c.step}-lr-${c.lr}`);
    if (c.batchSize !== undefined) parts.push(`${c.step}-batch-${c.batchSize}`);
  }
  return parts.length ? parts.join('_') : null;
}

/** Adds `change` to `changes` (kept in step order; a change at a step already listed is merged into it, the newer value winning). */
export function addChange(changes: RunChange[], change: RunChange): void {
  const at = changes.findIndex((c) => c.step >= change.step);
  if (at >= 0 && changes[at].step === change.step) {
    const c = changes[at];
    if (change.lr !== undefined) c.lr = change.lr;
    if (change.batchSize !== undefined) c.batchSize = change.batchSize;
  } else changes.splice(at < 0 ? changes.length : at, 0, { ...change });
}

/** `changes` and then `more` (a run's scheduled changes and those made while it trained), merged per step. */
export function mergeChanges(changes: readonly RunChange[], more: readonly RunChange[]): RunChange[] {
  const out: RunChange[] = [];
  for (const c of [...changes, ...more]) addChange(out, c);
  return out;
}

/** One change in words: "after step 120: learning rate 0.01, batch size 32". */
export function describeChange(c: RunChange, show: (v: number) => string = String): string {
  const what = [c.lr !== undefined ? `learning rate ${show(c.lr)}` : '', c.batchSize !== undefined ? `batch size ${c.batchSize}` : ''].filter(Boolean);
  return `after step ${c.step.toLocaleString('en-US')}: ${what.join(', ')}`;
}

/** The short label of a change on a chart: "lr 0.01", "batch 32", or both. */
export function changeLabel(c: RunChange, show: (v: number) => string = String): string {
  return [c.lr !== undefined ? `lr ${show(c.lr)}` : '', c.batchSize !== undefined ? `batch ${c.batchSize}` : ''].filter(Boolean).join(', ');
}
