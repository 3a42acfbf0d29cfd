/**
 * Anomaly mode (PyTorch's torch.autograd.detect_anomaly): while it is on,
 * the output of every op is checked for NaN and infinities as the op makes
 * it, in the forward pass (record() in tape.ts, which every op calls with
 * its result) and in the backward pass (each op's gradients, in
 * backward.ts), and the first op that produced one stops the computation
 * with a ValueError naming the op, its input shapes, the pass, the layer
 * when it is known, and whether its inputs were finite (the op made the bad
 * values) or not (they came from a leaf: the data or a parameter).
 *
 * ```ts
 * detectAnomaly(() => {
 *   const loss = F.crossEntropy(model.forward(x), y);
 *   loss.backward();
 * }, { parameters: model.namedParameters() });
 * ```
 *
 * A layer is known from the parameters given: an op that takes conv1.weight
 * is in layer conv1, and an op that takes none (an activation, a pooling)
 * is reported as coming after the last layer seen in the forward pass.
 *
 * Off by default, and free when off: each op asks one function whether the
 * mode is on. When on, every op's output is scanned once (hasNonFinite), a
 * debugging cost.
 */
import { ValueError, fmtShape } from '../errors.js';
import { hasNonFinite, nonFiniteSummary } from '../tensor/finite.js';
import { Tensor, type GradFn } from '../tensor/tensor.js';
import { checkOptions } from '../validate.js';

export interface AnomalyOptions {
  /**
   * The model's parameters with their names, as `model.namedParameters()`
   * gives them: an op that takes `conv1.weight` is reported as layer conv1's.
   */
  parameters?: Iterable<[string, Tensor]>;
}

interface AnomalyState {
  /** Parameter -> its name ('conv1.weight'). */
  names: Map<Tensor, string>;
  /** The layer of the last forward op that took a parameter. */
  lastLayer: string | null;
  /** True while backward() runs the ops' backward functions (their inner ops are not forward ops). */
  inBackward: boolean;
}

let active: AnomalyState | null = null;

/** Where each op recorded in anomaly mode was, in the model's layers: read back when its backward fails. */
const PLACES = new WeakMap<GradFn, string>();

/** The errors anomaly mode threw, with what they report (their message without the 'detectAnomaly: ' prefix). */
const REPORTS = new WeakMap<Error, string>();

function anomaly(report: string): ValueError {
  const err = new ValueError(`detectAnomaly: ${report}`);
  REPORTS.set(err, report);
  return err;
}

/** What `err` reports when anomaly mode threw it (for fit to put in its own message), else null. */
export function anomalyReport(err: unknown): string | null {
  return err instanceof Error ? (REPORTS.get(err) ?? null) : null;
}

/** Whether anomaly mode is on (inside detectAnomaly). */
export function isAnomalyEnabled(): boolean {
  return active !== null;
}

/**
 * Runs `fn` with anomaly mode on, then restores the mode it found. `fn` must
 * be synchronous (the mode is off again when it returns).
 */
export function detectAnomaly<T>(fn: () => T, options: AnomalyOptions = {}): T {
  if (typeof fn !== 'function') throw new ValueError('detectAnomaly: fn must be a function that runs the forward and backward passes to check');
  if (options === null || typeof options !== 'object') throw new ValueError(`detectAnomaly: options must be an object { parameters? }, got ${options === null ? 'null' : typeof options}`);
  checkOptions('detectAnomaly', options, ['parameters']);
  const names = new Map<Tensor, string>();
  if (options.parameters !== undefined) {
    if (options.parameters === null || typeof (options.parameters as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new ValueError('detectAnomaly: parameters must be [name, tensor] pairs, as model.namedParameters() gives them');
    }
    for (const entry of options.parameters) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !(entry[1] instanceof Tensor)) {
        throw new ValueError('detectAnomaly: parameters must be [name, tensor] pairs, as model.namedParameters() gives them');
      }
      names.set(entry[1], entry[0]);
    }
  }
  const previous = active;
  active = { names, lastLayer: null, inBackward: false };
  try {
    return fn();
  } finally {
    active = previous;
  }
}

/** The layer a parameter name belongs to: 'conv1' of 'conv1.weight' (the name itself when it has no dot). */
function layerOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? name : name.slice(0, dot);
}

/** ' (layer conv1)', ' (after layer conv1)' or '' for an op with inputs `inputs`; moves the last layer seen on. */
function placeOf(state: AnomalyState, inputs: readonly (Tensor | null | undefined)[]): string {
  for (const t of inputs) {
    const name = t ? state.names.get(t) : undefined;
    if (name !== undefined) {
      state.lastLayer = layerOf(name);
      return ` (layer ${state.lastLayer})`;
    }
  }
  return state.lastLayer === null ? '' : ` (after layer ${state.lastLayer})`;
}

/** The inputs' shapes, 'absent' for an optional input not given (a convolution without bias). */
function shapes(inputs: readonly (Tensor | null | undefined)[], isAbsent: (t: Tensor) => boolean = () => false): string {
  return inputs.map((t) => (t instanceof Tensor && !isAbsent(t) ? fmtShape(t.shape) : 'absent')).join(', ');
}

/** 'holds 3 NaN of 40 values (the first at [0, 2])'. */
function holds(t: Tensor): string {
  return `holds ${nonFiniteSummary(t.data, t.shape)}`;
}

/** Why an op's inputs were already bad: the first non-finite one, named when it is a parameter. */
function badInputs(state: AnomalyState, inputs: readonly (Tensor | null | undefined)[]): string | null {
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i];
    if (!t || !hasNonFinite(t.data)) continue;
    const name = state.names.get(t);
    const what = name !== undefined ? `parameter ${name}` : t.gradFn !== null ? `the output of ${t.gradFn.name}, computed before anomaly mode was on` : 'a leaf tensor: the data, or a tensor made or changed outside the ops';
    return `its input ${i} ${fmtShape(t.shape)} (${what}) already ${holds(t)}`;
  }
  return null;
}

/**
 * Called by record() with every op's result while anomaly mode is on (never
 * otherwise): throws when `out` holds a value that is not finite. Returns
 * where the op is, for its backward's message.
 */
export function checkForward(out: Tensor, name: string, inputs: readonly (Tensor | null | undefined)[]): string | null {
  const state = active;
  if (state === null || state.inBackward) return null;
  const place = placeOf(state, inputs);
  if (out instanceof Tensor && hasNonFinite(out.data)) {
    const cause = badInputs(state, inputs);
    throw anomaly(
      `${name}${place} produced a non-finite value in the forward pass: its output ${fmtShape(out.shape)} ${holds(out)}; input shapes ${shapes(inputs)}. ` +
        (cause === null ? `Its inputs were all finite, so ${name} made them (an overflow, a log of 0 or of a negative number, a division by 0?)` : `${cause[0].toUpperCase()}${cause.slice(1)}, so ${name} only passed them on`),
    );
  }
  return place;
}

/** Remembers where the op of `gradFn` was (the place checkForward returned). */
export function notePlace(gradFn: GradFn, place: string | null): void {
  if (place !== null) PLACES.set(gradFn, place);
}

/** Runs backward()'s loop over the ops with forward checks suspended (the ops that a backward function calls are part of the backward pass). */
export function inBackwardPass<T>(fn: () => T): T {
  const state = active;
  if (state === null) return fn();
  const previous = state.inBackward;
  state.inBackward = true;
  try {
    return fn();
  } finally {
    state.inBackward = previous;
  }
}

/**
 * Called by backward() with the gradients an op's backward function returned
 * for its inputs, while anomaly mode is on: throws when one of them holds a
 * value that is not finite. `isAbsent` tells the stand-ins of optional inputs
 * not given (tape.ts) from real inputs.
 */
export function checkBackward(gradFn: GradFn, gradOutput: Tensor, inputGrads: readonly (Tensor | null)[], isAbsent: (t: Tensor) => boolean): void {
  const state = active;
  if (state === null) return;
  for (let i = 0; i < inputGrads.length; i++) {
    const g = inputGrads[i];
    if (!g || !gradFn.inputs[i]?.requiresGrad || !hasNonFinite(g.data)) continue;
    const place = PLACES.get(gradFn) ?? '';
    const input = gradFn.inputs[i];
    const name = state.names.get(input);
    const given = hasNonFinite(gradOutput.data)
      ? `The gradient it was given ${fmtShape(gradOutput.shape)} already ${holds(gradOutput)} (made outside the checked ops)`
      : `The gradient it was given ${fmtShape(gradOutput.shape)} was finite, so the backward of ${gradFn.name} made them (its forward inputs or output hold huge values, zeros it divides by, or a NaN hidden by a ReLU?)`;
    throw anomaly(
      `the backward of ${gradFn.name}${place} produced a non-finite value in the backward pass: the gradient of its input ${i} ${fmtShape(input.shape)}${name !== undefined ? ` (${name})` : ''} ${holds(g)}; input shapes ${shapes(gradFn.inputs, isAbsent)}. ${given}`,
    );
  }
}
