/**
 * Learning-rate schedules for `fit`, as multipliers of the optimizer's base
 * learning rate, evaluated before every step (isomorphic).
 *
 *   constant: 1
 *   linear:   1 - t / T
 *   cosine:   (1 + cos(pi t / T)) / 2        (PyTorch's CosineAnnealingLR with eta_min 0, T_max = T, stepped per batch)
 *
 * where t = 0, 1, ..., T - 1 counts optimizer steps over the whole run and T is
 * the number of steps (batches per epoch times epochs). Decaying the step size
 * at the end of training averages out the noise of the last mini-batches,
 * which is worth a few tenths of a percent of accuracy at no cost.
 */
import { ValueError } from '../errors.js';

export type LrScheduleName = 'constant' | 'linear' | 'cosine';
/** A named schedule, or a function of (step t, total steps T) returning the multiplier of the base learning rate. */
export type LrSchedule = LrScheduleName | ((step: number, totalSteps: number) => number);

export const LR_SCHEDULES: readonly LrScheduleName[] = ['constant', 'linear', 'cosine'];

/** The multiplier function of a schedule. */
export function lrMultiplier(schedule: LrSchedule): (step: number, totalSteps: number) => number {
  if (typeof schedule === 'function') return schedule;
  switch (schedule) {
    case 'constant':
      return () => 1;
    case 'linear':
      return (t, T) => 1 - t / T;
    case 'cosine':
      return (t, T) => 0.5 * (1 + Math.cos((Math.PI * t) / T));
    default:
      throw new ValueError(`lrSchedule must be ${LR_SCHEDULES.join(', ')} or a function (step, totalSteps) => multiplier, got ${JSON.stringify(schedule)}`);
  }
}
