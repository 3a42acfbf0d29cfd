/**
 * Typed errors. Every message states the rule that was broken, the values that
 * broke it and, where there is one, the fix, e.g.
 * `conv2d: input has 4 channels but weight expects 3 (weight [6, 3, 5, 5], groups 1); ...`.
 */
export class StrideError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tensor has the wrong rank, size or a shape that does not fit the operation. */
export class ShapeError extends StrideError {}

/** An argument has a value outside what the operation accepts (unknown option, negative size...). */
export class ValueError extends StrideError {}

/** A file or buffer is malformed: wrong magic number, truncated, corrupt. Names the source and what was expected. */
export class DataError extends StrideError {}

/** Formats a shape as PyTorch prints it in messages: [2, 3, 4]. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
