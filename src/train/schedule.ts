/**
 * Learning-rate schedules for `fit`, as multipliers of the optimizer's base
 * learning rate, evaluated before every step (isomorphic).
 *
 *   constant: 1
 *   linear:   1 - t / T                      (LinearLR with startFactor 1, endFactor 0, totalIters T, stepped per batch)
 *   cosine:   (1 + cos(pi t / T)) / 2        (CosineAnnealingLR with etaMin 0, tMax T, stepped per batch)
 *
 * where t = 0, 1, ..., T - 1 counts optimizer steps over the whole run and T is
 * the number of steps (batches per epoch times epochs). Decaying the step size
 * at the end of training averages out the noise of the last mini-batches,
 * which is worth a few tenths of a percent of accuracy at no cost.
 *
 * The multipliers are the closed forms of the optim schedulers (src/optim/lr-scheduler.ts).
 * `fit` keeps this stateless form (a function of the step and the run length) because
 * it knows the run length; for any other schedule, build a scheduler (StepLR, OneCycleLR...)
 * over the optimizer and call its step() from fit's onBatch or onEpoch callback.
 */
import { ValueError } from '../errors.js';
import { cosineAnnealingLr, linearLrFactor } from '../optim/lr-scheduler.js';

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
      return (t, T) => linearLrFactor(1, 0, t, T);
    case 'cosine':
      return (t, T) => cosineAnnealingLr(1, 0, t, T);
    default:
      throw new ValueError(`lrSchedule must be ${LR_SCHEDULES.join(', ')} or a function (step, totalSteps) => multiplier, got ${JSON.stringify(schedule)}`);
  }
}
