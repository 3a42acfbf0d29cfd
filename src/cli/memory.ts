/**
 * The memory a command's run will need, estimated before its batches are
 * allocated, and the check that refuses a run this machine cannot hold,
 * saying what would fit.
 *
 * The estimate: what the process holds now (the runtime, the model, the
 * loaded images) plus, for training, a gradient per parameter and the
 * optimizer's state per parameter (SGD with momentum 1 copy, Adam 2), plus
 * per image of a batch a multiple of what one image makes flow through the
 * network (its input and every layer's output, summary()'s activationBytes):
 * 3 in training (the outputs kept for the backward pass, their gradients and
 * the kernels' scratch), 1.5 in evaluation (each output lives until the next
 * layer has used it). Measured: LeNet-5 training on MNIST, peak resident
 * memory 687 MB at batch 2,000, 2,196 MB at 10,000, 3,883 MB at 20,000:
 * 169-189 KB more per image, 2.7-3.0 times LeNet-5's 63 KB of input and
 * outputs per image. The machine's room is the memory free now plus what the
 * process already holds (os.freemem() reads the kernel's available memory).
 */
import { freemem } from 'node:os';

import { ValueError, summary, type nn } from '../index.js';

/** Per image of a batch, times its input and layer outputs: training, evaluation. */
const PER_IMAGE_FACTOR = { train: 3, eval: 1.5 } as const;

export interface RunMemory {
  /** What the process holds now. */
  held: number;
  /** Gradients and optimizer state (training). */
  perParameter: number;
  /** Per image of a batch. */
  perImage: number;
  batchSize: number;
  /** held + perParameter + perImage x batchSize. */
  total: number;
}

/**
 * The estimate for `model` on batches of `batchSize` images of `inputShape`
 * (see the file comment); `optimizerStates` is the optimizer's copies per
 * parameter (training only).
 */
export function estimateRunMemory(model: nn.Module, inputShape: readonly number[], batchSize: number, mode: 'train' | 'eval', optimizerStates = 0): RunMemory {
  const s = summary(model, inputShape);
  const held = process.memoryUsage().rss;
  const perParameter = mode === 'train' ? 4 * s.totalParams * (1 + optimizerStates) : 0;
  const perImage = PER_IMAGE_FACTOR[mode] * (s.activationBytes + s.inputBytes);
  return { held, perParameter, perImage, batchSize, total: held + perParameter + perImage * batchSize };
}

/** Bytes as GB or MB with one decimal. */
export function formatBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : `${(n / 1e6).toFixed(1)} MB`;
}

/**
 * Refuses a run whose estimate exceeds `room` (default: the memory free now
 * plus what the process holds), naming the estimate, its parts and the
 * largest batch that fits.
 */
export function checkRunFits(what: string, m: RunMemory, room: number = freemem() + m.held): void {
  if (m.total <= room) return;
  const fits = Math.floor((room - m.held - m.perParameter) / m.perImage);
  const fix = fits >= 1 ? `--batch-size ${fits} or less would fit` : 'no batch fits: free memory, or use a smaller model or input';
  throw new ValueError(
    `${what} needs about ${formatBytes(m.total)} (${formatBytes(m.held)} held now, ${formatBytes(m.perImage * m.batchSize)} for batches of ${m.batchSize} images` +
      `${m.perParameter > 0 ? `, ${formatBytes(m.perParameter)} of gradients and optimizer state` : ''}) but this machine has about ${formatBytes(room)} for it; ${fix}`,
  );
}
