/**
 * Waiting for a quiet machine before each timed run: other work on the CPUs
 * makes every number noisy, worst for the engines that use every core. Used
 * by bench/run.mjs before each child process, by bench/browser/run.mjs
 * before each run of the page and by bench/epoch-vs-torch.mjs before each epoch.
 */
import { readFileSync } from 'node:fs';
import { median } from './peers/steps.mjs';

/** Busy and total jiffies of all CPUs so far (/proc/stat), or null where there is no /proc. */
export function cpuTimes() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - f[3] - f[4], total };
  } catch {
    return null;
  }
}

const sleepMs = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
/** Fraction of the CPUs busy over the next `ms` milliseconds (this process sleeps meanwhile). */
function busyFraction(ms = 1000) {
  const a = cpuTimes();
  sleepMs(ms);
  const b = cpuTimes();
  return a && b && b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
}

/**
 * A waiter with a budget of `budgetSec` seconds in all: each `wait()` returns
 * once a second passes with the CPUs less than 15% busy (or after `maxWaitSec`
 * seconds, 15 unless given, or when the budget is spent) and records how busy
 * they were when the run started.
 */
export function quietWaiter(budgetSec, { maxWaitSec = 15 } = {}) {
  const q = {
    waitedSec: 0,
    busySeen: [],
    wait() {
      const start = performance.now();
      let busy = busyFraction(500);
      while (busy >= 0.15 && q.waitedSec + (performance.now() - start) / 1000 < budgetSec && performance.now() - start < maxWaitSec * 1000) busy = busyFraction(1000);
      q.waitedSec += (performance.now() - start) / 1000;
      q.busySeen.push(busy);
      return busy;
    },
    /** The table header's sentence: how busy the CPUs were before the runs. */
    describe() {
      if (q.busySeen.length === 0) return 'no runs';
      return `before the runs the CPUs were ${(median(q.busySeen) * 100).toFixed(0)}% busy (median; ${q.busySeen.filter((b) => b >= 0.15).length} of ${q.busySeen.length} runs started on a busy machine after waiting ${q.waitedSec.toFixed(0)} s in all)`;
    },
  };
  return q;
}
