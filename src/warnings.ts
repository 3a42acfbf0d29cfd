/**
 * Warnings: what the library reports without stopping, such as a layer whose
 * windows leave input rows unseen. Every warning goes through `warn(code,
 * message)`, and its destination is one setting:
 * - by default, in Node, `process.emitWarning(message, { type: 'StrideWarning',
 *   code })`, so `node --no-warnings`, `process.on('warning', ...)` and
 *   `NODE_OPTIONS` work as for Node's own warnings; elsewhere (a browser, a
 *   worker without `process`) `console.warn('StrideWarning [code]: message')`;
 * - `setWarningHandler(fn)` sends them to `fn` instead (a logger, a test's
 *   list), `setWarningHandler(null)` silences them, and
 *   `setWarningHandler('default')` restores the default.
 * Callers decide how often to warn (a layer warns once per instance); this
 * module only delivers.
 */

import { ValueError } from './errors.js';

/** One warning: a stable code (for filtering) and the text. */
export interface StrideWarning {
  code: WarningCode;
  message: string;
}

/** The codes Stride warns with. */
export type WarningCode =
  /** A convolution or pooling layer's windows leave input rows or columns that no window sees. */
  | 'STRIDE_WINDOW_UNCOVERED'
  /** A checkpoint was written before checkpoints carried checksums (STRIDE01): it was checked for structure only. */
  | 'STRIDE_CHECKPOINT_UNVERIFIED';

export type WarningHandler = (warning: StrideWarning) => void;

/** Node's process.emitWarning where it exists, console.warn elsewhere. */
const defaultHandler: WarningHandler = ({ code, message }) => {
  const proc = typeof process === 'undefined' ? undefined : process;
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(message, { type: 'StrideWarning', code });
  else console.warn(`StrideWarning [${code}]: ${message}`);
};

let handler: WarningHandler | null = defaultHandler;

/**
 * Sends warnings to `next`: a function, `null` (silence them) or 'default'
 * (Node's process.emitWarning, console.warn elsewhere). Returns the handler
 * that was in place, so a caller can put it back.
 */
export function setWarningHandler(next: WarningHandler | null | 'default'): WarningHandler | null {
  if (next !== null && next !== 'default' && typeof next !== 'function') {
    throw new ValueError(`setWarningHandler: the handler must be a function, null (silence warnings) or 'default', got ${JSON.stringify(next) ?? typeof next}`);
  }
  const previous = handler;
  handler = next === 'default' ? defaultHandler : next;
  return previous;
}

/** Reports a warning through the current handler (nothing when warnings are silenced). */
export function warn(code: WarningCode, message: string): void {
  handler?.({ code, message });
}
