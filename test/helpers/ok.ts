import assert from 'node:assert/strict';

/**
 * assert.ok that always carries a message: when Node 20's assert.ok fails without one it
 * re-parses the TypeScript source to quote the expression and can loop forever (under tsx),
 * hanging the whole run instead of failing the test.
 */
export function ok(value: unknown, message?: string): asserts value {
  if (!value) assert.fail(message ?? `expected a truthy value (${new Error().stack?.split('\n')[2]?.trim()})`);
}
