/**
 * The parsers under fuzzing (test/helpers/fuzz.ts): for each of IDX, CIFAR
 * batches, PNG/JPEG, checkpoints, safetensors, ONNX, layer patterns and the
 * command line's option values, a few hundred mutated inputs each either parse
 * or are refused with a DataError or ValueError (an option value: commander's
 * InvalidArgumentError), no result is larger than its input justifies, and
 * a changed checkpoint never decodes to other tensors than its original's.
 * fast-check shrinks a failure to a small input and prints its seed. The
 * seeds themselves parse. `npm run fuzz` runs 10^5 inputs per parser.
 * And headers that claim far more data than their file holds are refused
 * before arrays of that size are made.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import jpeg from 'jpeg-js';

import { parseIdx } from '../../src/data/idx.js';
import { decodeImage, encodePng } from '../../src/data/image.js';
import { DataError } from '../../src/errors.js';
import { importOnnx } from '../../src/io/onnx/import.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { FUZZ_TARGETS, describeInput, fuzzOne } from '../helpers/fuzz.js';

const RUNS = 300;

describe('every parser either parses or refuses cleanly', { timeout: 600_000 }, () => {
  for (const target of FUZZ_TARGETS) {
    test(`${target.name}: ${target.what}`, async () => {
      const seeds = await target.seeds();
      for (const seed of seeds) {
        const outcome = await fuzzOne(target, seed);
        assert.equal(outcome.kind, 'parsed', `a seed does not parse (${outcome.kind}): ${describeInput(seed)}`);
      }
      await fc.assert(
        fc.asyncProperty(target.inputs(seeds), async (input) => {
          const outcome = await fuzzOne(target, input);
          if (outcome.kind === 'crash') throw new Error(`${target.name}: ${describeInput(input)} threw ${outcome.error instanceof Error ? (outcome.error.stack ?? outcome.error.message) : String(outcome.error)}`);
          if (outcome.kind === 'oversized') throw new Error(`${target.name}: ${describeInput(input)} made ${outcome.made} bytes, more than the ${outcome.limit} its size justifies`);
          if (outcome.kind === 'changed') throw new Error(`${target.name}: ${describeInput(input)} is a changed file, read as other tensors without a word`);
        }),
        { numRuns: RUNS, seed: 20261207 },
      );
    });
  }
});

/** Runs `parse` on bytes whose header claims `claimed` bytes of data: a DataError, and not that much memory made first. */
async function refusedBeforeAllocating(what: string, claimed: number, parse: () => unknown): Promise<void> {
  const before = process.memoryUsage().arrayBuffers;
  let error: unknown;
  try {
    await parse();
  } catch (err) {
    error = err;
  }
  const grew = process.memoryUsage().arrayBuffers - before;
  assert.ok(error instanceof DataError, `${what}: expected a DataError, got ${error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error)}`);
  assert.ok(grew < claimed / 16, `${what}: ${grew} bytes of arrays were made for a header claiming ${claimed}`);
}

/** Protocol-buffer wire bytes: a varint, and a field (number, wire type) with its payload. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}
const field = (num: number, payload: number[] | number): number[] =>
  typeof payload === 'number' ? [...varint(num * 8), ...varint(payload)] : [...varint(num * 8 + 2), ...varint(payload.length), ...payload];
const text = (s: string) => [...new TextEncoder().encode(s)];

describe('a header that claims more data than the file holds is refused before anything that size is made', () => {
  const claimed = 2 ** 28; // elements: a 1 GiB float32 array, which could be allocated

  test('IDX: dims of 2^14 x 2^14 bytes over 16 bytes of data', async () => {
    const b = new Uint8Array(4 + 8 + 16);
    const v = new DataView(b.buffer);
    v.setUint32(0, 0x0802); // uint8, 2 dims
    v.setUint32(4, 2 ** 14);
    v.setUint32(8, 2 ** 14);
    await refusedBeforeAllocating('IDX', claimed, () => parseIdx(b, 'big.idx'));
  });

  test('safetensors: a tensor of 2^28 float32 values whose offsets say 4 bytes', async () => {
    const header = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'F32', shape: [claimed], data_offsets: [0, 4] } }));
    const b = new Uint8Array(8 + header.length + 4);
    new DataView(b.buffer).setBigUint64(0, BigInt(header.length), true);
    b.set(header, 8);
    await refusedBeforeAllocating('safetensors', 4 * claimed, () => decodeSafetensors(b, 'big.safetensors'));
  });

  test('ONNX: an initializer of dims [2^14, 2^14] with 4 bytes of raw data', async () => {
    // TensorProto: dims (1) x2, data_type (2) FLOAT, name (8), raw_data (9); GraphProto: initializer (5), name (2);
    // ModelProto: ir_version (1), opset_import (8) { version (2) }, graph (7)
    const tensor = [...field(1, 2 ** 14), ...field(1, 2 ** 14), ...field(2, 1), ...field(8, text('w')), ...field(9, [0, 0, 0x80, 0x3f])];
    const graph = [...field(2, text('g')), ...field(5, tensor)];
    const b = Uint8Array.from([...field(1, 7), ...field(8, field(2, 13)), ...field(7, graph)]);
    await refusedBeforeAllocating('ONNX', 4 * claimed, () => importOnnx(b, { source: 'big.onnx' }));
  });

  test('PNG: a 2^14 x 2^14 image header (CRC intact) over a few bytes of image data', async () => {
    const b = Uint8Array.from(await encodePng({ data: new Float32Array(4), channels: 1, height: 2, width: 2 }));
    const v = new DataView(b.buffer);
    v.setUint32(16, 2 ** 14);
    v.setUint32(20, 2 ** 14);
    v.setUint32(29, crc32(b.subarray(12, 29))); // the IHDR chunk's CRC over its type and data
    await refusedBeforeAllocating('PNG', claimed, () => decodeImage(b, 'big.png'));
  });

  test('JPEG: a 2^13 x 2^13 frame header over a 6x5 image\'s data', async () => {
    const rgba = new Uint8Array(6 * 5 * 4).fill(128);
    const b = Uint8Array.from(jpeg.encode({ width: 6, height: 5, data: rgba }, 80).data);
    const sof = b.findIndex((x, i) => x === 0xff && b[i + 1] === 0xc0);
    assert.ok(sof > 0, 'a baseline frame header');
    const v = new DataView(b.buffer);
    v.setUint16(sof + 5, 2 ** 13);
    v.setUint16(sof + 7, 2 ** 13);
    await refusedBeforeAllocating('JPEG', 2 ** 26 * 3, () => decodeImage(b, 'big.jpg'));
  });
});

/** CRC-32 (IEEE, as PNG uses), bit by bit. */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
