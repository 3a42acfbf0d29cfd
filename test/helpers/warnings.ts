import { setWarningHandler, type StrideWarning } from '../../src/warnings.js';

/**
 * Runs fn (sync or async) with Stride's warnings collected instead of
 * delivered; the handler in place before is restored afterwards, whatever
 * happens. Returns fn's result and the warnings, in order.
 */
export async function collectWarnings<T>(fn: () => T | Promise<T>): Promise<{ result: T; warnings: StrideWarning[] }> {
  const warnings: StrideWarning[] = [];
  const previous = setWarningHandler((w) => warnings.push(w));
  try {
    return { result: await fn(), warnings };
  } finally {
    setWarningHandler(previous);
  }
}
