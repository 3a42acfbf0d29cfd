/**
 * Progress reporting for `fit` in a terminal (Node only: uses cli-progress and
 * process streams; exported from 'stride/node').
 *
 * On a TTY a bar shows the epoch, batch k/K, the running mean loss, images/s
 * and the ETA of the training left in the run, redrawn at most ~5 times a second. Everywhere (TTY or not) one
 * short line per epoch is logged, so CI logs get a few lines, not bar frames.
 * The line ends with the process's resident set and V8 heap in use at the end
 * of the epoch (after its evaluation), so a leak shows as a climb from line to line.
 */
import cliProgress from 'cli-progress';

import type { BatchInfo, EpochResult, EpochStartInfo, FitOptions } from './fit.js';
import { checkOptions } from '../validate.js';
import { formatDuration } from './metrics.js';

export interface ProgressReporterOptions {
  /** Where the bar is drawn (default process.stderr, so stdout stays clean for --json). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Show the bar (default: when `stream` is a TTY). */
  bar?: boolean;
  /** Receives one line per epoch (default: console.log). */
  log?: (line: string) => void;
  /** Sample the process's memory at the end of each epoch and print it in the line (default: when process.memoryUsage exists). */
  memory?: boolean;
}

/** Memory of the process at one moment, in bytes (process.memoryUsage()). */
export interface MemorySample {
  /** Resident set size: the process's memory in RAM (JS heap, wasm memories, typed arrays' stores, native libraries...). */
  rss: number;
  /** V8 heap in use (JS objects; typed arrays' data is outside it). */
  heapUsed: number;
}

/** The process's memory now, or null where process.memoryUsage does not exist (a browser). */
export function memorySample(): MemorySample | null {
  const p = (globalThis as { process?: { memoryUsage?: () => { rss: number; heapUsed: number } } }).process;
  if (typeof p?.memoryUsage !== 'function') return null;
  const { rss, heapUsed } = p.memoryUsage();
  return { rss, heapUsed };
}

const MIB = 2 ** 20;

export interface ProgressReporter {
  /** The callbacks to pass to fit: `fit(model, { ...options, ...reporter.callbacks })`. */
  callbacks: Required<Pick<FitOptions, 'onEpochStart' | 'onBatch' | 'onEvaluateStart' | 'onEpoch'>>;
  /** Removes a bar left on screen (call in a finally: training may stop with an error). */
  stop(): void;
  /** The memory sampled at the end of each epoch so far, in order (empty when `memory` is off). */
  readonly memory: MemorySample[];
}

/**
 * Progress reporting for `fit`:
 * ```ts
 * const reporter = createProgressReporter();
 * try { fit(model, { ...options, ...reporter.callbacks }); } finally { reporter.stop(); }
 * ```
 */
export function createProgressReporter(options: ProgressReporterOptions = {}): ProgressReporter {
  checkOptions('createProgressReporter', options, ['stream', 'bar', 'log', 'memory']);
  const stream = options.stream ?? process.stderr;
  const showBar = options.bar ?? stream.isTTY === true;
  const log = options.log ?? ((line: string) => console.log(line));
  const sampleMemory = options.memory ?? memorySample() !== null;
  const memory: MemorySample[] = [];
  let bar: cliProgress.SingleBar | null = null;
  let evaluating = false;

  const stopBar = () => {
    if (bar) {
      bar.stop();
      bar = null;
    }
  };
  const clearEvaluating = () => {
    if (evaluating && showBar) stream.write('\r\x1b[K');
    evaluating = false;
  };

  const callbacks: ProgressReporter['callbacks'] = {
    onEpochStart(info: EpochStartInfo) {
      if (!showBar) return;
      bar = new cliProgress.SingleBar({
        stream: stream as NodeJS.WriteStream,
        format: 'epoch {epoch} {bar} batch {value}/{total} | loss {loss} | {ips} images/s | ETA {etaText}',
        barsize: 24,
        hideCursor: false, // a Ctrl-C during the synchronous loop would leave the cursor hidden
        clearOnComplete: true,
        fps: 5,
        barCompleteChar: '\u2588',
        barIncompleteChar: '\u2591',
      });
      bar.start(info.batches, 0, { epoch: `${info.epoch}/${info.epochs}`, loss: '-', ips: '-', etaText: '-' });
    },

    onBatch(info: BatchInfo) {
      if (!bar) return;
      // Training time left in the whole run at this epoch's speed (evaluation not included).
      const remaining = info.images - info.seen + (info.epochs - info.epoch) * info.images;
      bar.update(info.batch, {
        loss: info.meanLoss.toFixed(4),
        ips: info.imagesPerSec.toFixed(0),
        etaText: info.seen > 0 ? formatDuration(remaining / info.imagesPerSec) : '-',
      });
    },

    onEvaluateStart(info) {
      stopBar();
      if (showBar) {
        stream.write(`evaluating on ${info.images} test images...`);
        evaluating = true;
      }
    },

    onEpoch(result: EpochResult) {
      stopBar();
      clearEvaluating();
      let line =
        `epoch ${result.epoch}/${result.epochs}: loss ${result.trainLoss.toFixed(4)}, train accuracy ${result.trainAccuracy.toFixed(4)}, ` +
        `${result.trainImages} images in ${formatDuration(result.trainSeconds)} (${result.trainImagesPerSec.toFixed(1)} images/s)`;
      if (result.test) line += `; test accuracy ${result.test.accuracy.toFixed(4)}, test loss ${result.test.loss.toFixed(4)} (${formatDuration(result.test.seconds)})`;
      const m = sampleMemory ? memorySample() : null;
      if (m !== null) {
        memory.push(m);
        line += `; rss ${(m.rss / MIB).toFixed(1)} MiB, heap ${(m.heapUsed / MIB).toFixed(1)} MiB`;
      }
      log(line);
    },
  };
  return {
    callbacks,
    memory,
    stop() {
      stopBar();
      clearEvaluating();
    },
  };
}
