/**
 * The training curves as the charts draw them: one point per step (x = the
 * step), with the batch loss, the smoothed loss and accuracy the worker
 * computed, and the test set's loss and accuracy at the steps where it was
 * evaluated (null elsewhere).
 *
 * A long run has hundreds of thousands of steps, more than a chart is wide in
 * pixels many times over. Past MAX_POINTS the store halves itself: each pair
 * of points becomes one (the batch losses averaged, the smoothed values of
 * the later step kept), and from then on every two incoming steps make one
 * point. The curves keep their shape at a bounded cost per frame.
 */

/** Points kept before the store halves itself; a few times a wide chart's pixel width. */
export const MAX_POINTS = 4000;

/** A test-set measurement at a step. */
export interface TestPoint {
  step: number;
  loss: number;
  accuracy: number;
}

interface Bucket {
  step: number;
  lossSum: number;
  count: number;
  smoothLoss: number;
  smoothAccuracy: number;
}

export class Curves {
  readonly steps: number[] = [];
  readonly loss: (number | null)[] = [];
  readonly smoothLoss: (number | null)[] = [];
  readonly smoothAccuracy: (number | null)[] = [];
  readonly testLoss: (number | null)[] = [];
  readonly testAccuracy: (number | null)[] = [];
  /** Steps per point (doubles whenever the store halves). */
  private every = 1;
  private bucket: Bucket | null = null;
  /** Test measurements waiting for the point of their step (the steps before it may not have arrived yet). */
  private waiting: TestPoint[] = [];
  /** Changed since the last `take()`. */
  private changed = false;

  get length(): number {
    return this.steps.length;
  }

  /** Steps `firstStep`, `firstStep + 1`, ... with their batch loss and the smoothed loss and accuracy. */
  append(firstStep: number, losses: readonly number[], smoothLoss: readonly number[], smoothAccuracy: readonly number[]): void {
    for (let i = 0; i < losses.length; i++) {
      const b = (this.bucket ??= { step: 0, lossSum: 0, count: 0, smoothLoss: 0, smoothAccuracy: 0 });
      b.step = firstStep + i;
      b.lossSum += losses[i];
      b.count++;
      b.smoothLoss = smoothLoss[i];
      b.smoothAccuracy = smoothAccuracy[i];
      if (b.count >= this.every) this.flush();
    }
  }

  /** A test measurement; it joins the point of its step once that step has arrived. */
  addTest(point: TestPoint): void {
    // Steps held back to be merged into one point are shown at once when a test is measured at them.
    if (this.bucket && this.bucket.count > 0 && point.step <= this.bucket.step) this.flush();
    this.waiting.push(point);
    this.placeWaiting();
    this.changed = true;
  }

  /** Shows the steps held back to be merged into one point (the run ended: no more steps come). */
  finish(): void {
    this.flush();
  }

  /** Empties the store (a new run). */
  clear(): void {
    for (const a of [this.steps, this.loss, this.smoothLoss, this.smoothAccuracy, this.testLoss, this.testAccuracy]) a.length = 0;
    this.every = 1;
    this.bucket = null;
    this.waiting = [];
    this.changed = true;
  }

  /** Whether anything changed since the last call (and resets the flag): the charts redraw only then. */
  take(): boolean {
    const c = this.changed;
    this.changed = false;
    return c;
  }

  private flush(): void {
    const b = this.bucket;
    if (!b || b.count === 0) return;
    this.steps.push(b.step);
    this.loss.push(b.lossSum / b.count);
    this.smoothLoss.push(b.smoothLoss);
    this.smoothAccuracy.push(b.smoothAccuracy);
    this.testLoss.push(null);
    this.testAccuracy.push(null);
    this.bucket = null;
    this.changed = true;
    this.placeWaiting();
    if (this.steps.length > MAX_POINTS) this.halve();
  }

  /** Puts each waiting test point on the first point at or after its step. */
  private placeWaiting(): void {
    if (this.waiting.length === 0 || this.steps.length === 0) return;
    const last = this.steps[this.steps.length - 1];
    this.waiting = this.waiting.filter((t) => {
      if (t.step > last) return true;
      let i = this.steps.length - 1;
      while (i > 0 && this.steps[i - 1] >= t.step) i--;
      this.testLoss[i] = t.loss;
      this.testAccuracy[i] = t.accuracy;
      return false;
    });
  }

  private halve(): void {
    const n = Math.floor(this.steps.length / 2);
    for (let j = 0; j < n; j++) {
      const a = 2 * j;
      const b = a + 1;
      this.steps[j] = this.steps[b];
      this.loss[j] = ((this.loss[a] ?? 0) + (this.loss[b] ?? 0)) / 2;
      this.smoothLoss[j] = this.smoothLoss[b];
      this.smoothAccuracy[j] = this.smoothAccuracy[b];
      this.testLoss[j] = this.testLoss[b] ?? this.testLoss[a];
      this.testAccuracy[j] = this.testAccuracy[b] ?? this.testAccuracy[a];
    }
    // An odd last point stays as it is.
    const odd = this.steps.length % 2 === 1;
    const keep = n + (odd ? 1 : 0);
    if (odd) {
      const last = this.steps.length - 1;
      for (const a of [this.steps, this.loss, this.smoothLoss, this.smoothAccuracy, this.testLoss, this.testAccuracy]) a[n] = a[last];
    }
    for (const a of [this.steps, this.loss, this.smoothLoss, this.smoothAccuracy, this.testLoss, this.testAccuracy]) a.length = keep;
    this.every *= 2;
  }
}
