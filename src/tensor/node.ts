/**
 * The Node platform of tensor storage: op outputs come from uninitialized
 * memory (Buffer.allocUnsafeSlow: malloc without the memset of
 * `new Float32Array(n)`), see allocateOutput in tensor.ts for why and what it
 * measured. Importing this module installs it; the Node entry points
 * (src/index-node.ts, src/node.ts, the CLI, the test setup) do so, and the
 * isomorphic core never imports it.
 */
import { Buffer } from 'node:buffer';
import { setUninitializedAllocator } from './tensor.js';

/** A new ArrayBuffer of exactly `bytes` bytes, not zeroed. */
export function uninitializedArrayBuffer(bytes: number): ArrayBuffer {
  // allocUnsafeSlow never hands out a slice of Node's shared pool: the Buffer owns its ArrayBuffer.
  const b = Buffer.allocUnsafeSlow(bytes);
  if (b.byteOffset !== 0 || b.buffer.byteLength !== bytes) {
    throw new Error(`Buffer.allocUnsafeSlow(${bytes}) returned a view at offset ${b.byteOffset} of ${b.buffer.byteLength} bytes`);
  }
  return b.buffer as ArrayBuffer;
}

setUninitializedAllocator(uninitializedArrayBuffer);
