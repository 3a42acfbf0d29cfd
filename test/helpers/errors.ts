/**
 * The one check of a thrown error: its class (for Stride's errors also that it
 * is a StrideError whose name is the class's) and its message, which must
 * match every RegExp and contain every string given.
 */
import assert from 'node:assert/strict';
import { StrideError } from '../../src/errors.js';
import { ok } from './ok.js';

// Any error class; its name (Function.prototype.name) is the one the message reports.
export type ErrorClass = new (...args: never[]) => Error;
export type MessagePart = RegExp | string;

function checkError(err: unknown, cls: ErrorClass, parts: readonly MessagePart[]): true {
  ok(err instanceof cls, `expected ${cls.name}, got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  if (cls.prototype instanceof StrideError || cls === StrideError) {
    ok(err instanceof StrideError, `${cls.name} is a StrideError`);
    assert.equal(err.name, cls.name);
  }
  for (const p of parts) {
    if (typeof p === 'string') ok(err.message.includes(p), `message "${err.message}" lacks "${p}"`);
    else assert.match(err.message, p);
  }
  return true;
}

/** Asserts that fn throws an instance of cls whose message matches every part. */
export function throwsWith(fn: () => unknown, cls: ErrorClass, ...parts: MessagePart[]): void {
  assert.throws(fn, (err: unknown) => checkError(err, cls, parts));
}

/** Asserts that p rejects with an instance of cls whose message matches every part. */
export async function rejectsWith(p: Promise<unknown>, cls: ErrorClass, ...parts: MessagePart[]): Promise<void> {
  await assert.rejects(p, (err: unknown) => checkError(err, cls, parts));
}
