/**
 * Fuzzing every parser: the rule each one keeps is that an input either
 * parses or is refused with a DataError or ValueError (a CLI option's parser:
 * commander's InvalidArgumentError) — never another exception, never a hang,
 * and never a result larger than the input justifies (a header that claims
 * 2^40 elements is refused before anything that size is made).
 *
 * The inputs are valid files (seeds) mutated by fast-check: bits flipped,
 * bytes set to boundary values, 32-bit fields overwritten with boundary
 * integers (0, 1, 2^31 - 1, 2^32 - 1, the file's own length), ranges
 * inserted, deleted or duplicated, the end cut off; and, one time in eight,
 * random bytes. Text parsers get their seeds edited character by character
 * from their grammar's alphabet. `test/once/fuzz.test.ts` runs a few hundred
 * inputs per target in the suite (fc.assert: a failure is shrunk to a
 * minimal input); `npm run fuzz` (scripts/fuzz.ts) runs 10^5 per target and
 * counts the outcomes.
 */
import jpeg from 'jpeg-js';
import fc from 'fast-check';
import { InvalidArgumentError } from 'commander';

import { COMMANDS } from '../../src/cli/program.js';
import { parseCifarBatch } from '../../src/data/cifar.js';
import { encodeIdx, parseIdx } from '../../src/data/idx.js';
import { decodeImage, encodePng } from '../../src/data/image.js';
import { DataError, ValueError } from '../../src/errors.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/io/checkpoint.js';
import { exportOnnx } from '../../src/io/onnx/export.js';
import { importOnnx } from '../../src/io/onnx/import.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import * as nn from '../../src/nn/index.js';
import { add, relu } from '../../src/ops/index.js';
import { buildModelFromPattern, parseModelPattern } from '../../src/models/pattern.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';

/** conv, batch norm, ReLU, a residual add, global average pooling, flatten, linear: a small graph of the zoo's ops. */
class SmallResidual extends nn.Module {
  readonly conv = new nn.Conv2d(2, 2, 3, { padding: 1, generator: new Generator(14) });
  readonly bn = new nn.BatchNorm2d(2);
  readonly pool = new nn.AdaptiveAvgPool2d(1);
  readonly flatten = new nn.Flatten();
  readonly fc = new nn.Linear(2, 3, { generator: new Generator(15) });

  forward(x: Tensor): Tensor {
    return this.fc.forward(this.flatten.forward(this.pool.forward(relu(add(this.bn.forward(this.conv.forward(x)), x)))));
  }
}

/** What a parser made: the bytes of the arrays it allocated for its result, and (checksummed formats) a digest of what it decoded. */
type Made = { bytes: number; digest?: string };

export interface FuzzTarget<I> {
  name: string;
  /** What is fuzzed, for reports. */
  what: string;
  /** Valid inputs the mutations start from. */
  seeds(): Promise<I[]>;
  /** The inputs, mutated from `seeds`. */
  inputs(seeds: I[]): fc.Arbitrary<I>;
  /** Parses one input; returns what it made. */
  run(input: I): Promise<Made> | Made;
  /** The most bytes a parse of `input` may make. */
  limit(input: I): number;
  /** The errors that refuse an input cleanly. */
  refusals: readonly (abstract new (...args: never[]) => Error)[];
  /**
   * A checksummed format: any input that parses must decode to what one of
   * the seeds decodes to (run's digest); anything else is a changed file read
   * without a word.
   */
  checksummed?: boolean;
}

const BOUNDARY_INTS = [0, 1, 2, 0xff, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];
const BOUNDARY_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];

type Edit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'int32'; at: number; value: number; littleEndian: boolean }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'cut'; at: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(...BOUNDARY_BYTES), fc.integer({ min: 0, max: 255 })) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('int32' as const), at: fc.nat(),
      value: fc.oneof(fc.constantFrom(...BOUNDARY_INTS, -1), fc.integer({ min: 0, max: 0xffffffff })), littleEndian: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }) },
);

/** `seed` with the edits applied in turn (positions taken modulo the current length). */
export function applyEdits(seed: Uint8Array, edits: readonly Edit[]): Uint8Array {
  let b: Uint8Array = Uint8Array.from(seed);
  for (const e of edits) {
    const n = b.length;
    const at = n === 0 ? 0 : e.at % n;
    switch (e.kind) {
      case 'flip':
        if (n > 0) b[at] ^= 1 << e.bit;
        break;
      case 'set':
        if (n > 0) b[at] = e.value;
        break;
      case 'int32':
        if (at + 4 <= n) new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at, e.value >>> 0, e.littleEndian);
        break;
      case 'insert':
        b = concatBytes(b.subarray(0, at), e.bytes, b.subarray(at));
        break;
      case 'delete':
        b = concatBytes(b.subarray(0, at), b.subarray(Math.min(n, at + e.length)));
        break;
      case 'duplicate':
        b = concatBytes(b.subarray(0, Math.min(n, at + e.length)), b.subarray(at));
        break;
      case 'cut':
        b = b.slice(0, at);
        break;
    }
  }
  return b;
}

function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Mutated seeds, and now and then random bytes. */
function mutatedBytes(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const mutated = fc
    .tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 6 }))
    .map(([k, edits]) => applyEdits(seeds[k], edits));
  return fc.oneof({ weight: 7, arbitrary: mutated }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) });
}

/** Seeds edited character by character, the characters drawn from `alphabet`. */
function mutatedText(seeds: string[], alphabet: string): fc.Arbitrary<string> {
  const char = fc.constantFrom(...alphabet);
  const textEdit = fc.oneof(
    fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), c: char }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), c: char }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), c: char }),
  );
  const mutated = fc.tuple(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(textEdit, { minLength: 1, maxLength: 5 })).map(([k, edits]) => {
    let s = seeds[k];
    for (const e of edits) {
      const at = s.length === 0 ? 0 : e.at % (s.length + (e.kind === 'insert' ? 1 : 0));
      if (e.kind === 'replace') s = s.slice(0, at) + e.c + s.slice(at + 1);
      else if (e.kind === 'insert') s = s.slice(0, at) + e.c + s.slice(at);
      else s = s.slice(0, at) + s.slice(at + 1);
    }
    return s;
  });
  return fc.oneof({ weight: 5, arbitrary: mutated }, { weight: 1, arbitrary: fc.string({ unit: char, maxLength: 40 }) }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) });
}

const tensorBytes = (ts: Iterable<Tensor>) => [...ts].reduce((n, t) => n + t.data.byteLength, 0);

/** A digest (FNV-1a, 32 bits, and the lengths) of a header's text and named tensors' shapes and bytes. */
function digestOf(header: string, tensors: [string, Tensor][]): string {
  let h = 0x811c9dc5;
  const eat = (bytes: Uint8Array) => {
    for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  };
  eat(new TextEncoder().encode(header));
  for (const [name, t] of tensors) {
    eat(new TextEncoder().encode(`${name}:${t.shape.join('x')}`));
    eat(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return `${(h >>> 0).toString(16)}/${header.length}/${tensors.length}`;
}

function randomTensor(shape: number[], seed: number): Tensor {
  const t = new Tensor(new Float32Array(shape.reduce((p, d) => p * d, 1)), shape);
  new Generator(seed).fillUniform(t.data, -1, 1);
  return t;
}

function randomBytes(n: number, seed: number): Uint8Array {
  const f = new Float32Array(n);
  new Generator(seed).fillUniform(f, 0, 256);
  return Uint8Array.from(f, (v) => Math.min(255, Math.floor(v)));
}

/** `n` CIFAR records with `labelBytes` valid label bytes (class < 10, coarse < 20, fine < 100) and random pixels. */
function cifarRecords(n: number, labelBytes: 1 | 2, seed: number): Uint8Array {
  const size = labelBytes + 3072;
  const b = randomBytes(n * size, seed);
  for (let i = 0; i < n; i++) {
    b[i * size] = i % (labelBytes === 1 ? 10 : 20);
    if (labelBytes === 2) b[i * size + 1] = (i * 7) % 100;
  }
  return b;
}

/** A small image's planes [C, H, W] in 0..1 for encodePng. */
function smallImage(channels: number, height: number, width: number, seed: number) {
  const data = new Float32Array(channels * height * width);
  new Generator(seed).fillUniform(data, 0, 1);
  return { data, channels, height, width };
}

const BYTE_REFUSALS = [DataError, ValueError] as const;

/** The targets, one per parser. */
export const FUZZ_TARGETS: FuzzTarget<unknown>[] = [
  {
    name: 'idx',
    what: 'IDX files (MNIST): parseIdx',
    seeds: async () => [
      encodeIdx(randomBytes(3 * 5 * 4, 1), [3, 5, 4], 'uint8'),
      encodeIdx(Array.from({ length: 7 }, (_, i) => i % 10), [7], 'uint8'),
      encodeIdx(randomTensor([2, 3], 2).data, [2, 3], 'float32'),
      encodeIdx([1, -2, 3, 40000], [4], 'int32'),
    ],
    inputs: mutatedBytes,
    run: (b: Uint8Array) => ({ bytes: parseIdx(b, 'fuzz').data.byteLength }),
    limit: (b: Uint8Array) => b.length,
    refusals: BYTE_REFUSALS,
  },
  {
    name: 'cifar',
    what: 'CIFAR-10 and CIFAR-100 binary batches: parseCifarBatch',
    seeds: async () => [cifarRecords(3, 1, 5), cifarRecords(2, 2, 6)],
    inputs: mutatedBytes,
    run: (b: Uint8Array) => {
      // the same bytes read as CIFAR-10 (1 label byte) and as CIFAR-100 (2): parsed when either reads them
      let made = -1;
      let refusal: unknown;
      for (const labelBytes of [1, 2] as const) {
        try {
          const batch = parseCifarBatch(b, { source: 'fuzz', labelBytes });
          made = Math.max(made, tensorBytes([batch.images, batch.labels]));
        } catch (err) {
          if (!(err instanceof DataError || err instanceof ValueError)) throw err;
          refusal = err;
        }
      }
      if (made < 0) throw refusal;
      return { bytes: made };
    },
    // float32 images (4 bytes per pixel byte) and a float32 label per record
    limit: (b: Uint8Array) => 4 * b.length + 4 * Math.ceil(b.length / 3073),
    refusals: BYTE_REFUSALS,
  },
  {
    name: 'image',
    what: 'PNG and JPEG images: decodeImage',
    seeds: async () => {
      const rgba = new Uint8Array(6 * 5 * 4).map((_, i) => (i * 37) % 256);
      return [
        await encodePng(smallImage(1, 5, 6, 5)),
        await encodePng(smallImage(3, 4, 7, 6)),
        await encodePng(smallImage(4, 3, 3, 7)),
        Uint8Array.from(jpeg.encode({ width: 6, height: 5, data: rgba }, 80).data),
      ];
    },
    inputs: mutatedBytes,
    run: async (b: Uint8Array) => ({ bytes: (await decodeImage(b, 'fuzz')).data.byteLength }),
    // deflate expands at most 1032:1, a pixel is at most 8 bytes of samples, made into 4-byte floats; JPEG's
    // decoder has its own limits on resolution and memory
    limit: (b: Uint8Array) => 4 * 1032 * 8 * b.length + (1 << 20),
    refusals: BYTE_REFUSALS,
  },
  {
    name: 'checkpoint',
    what: 'Stride checkpoints (.stride): decodeCheckpoint',
    seeds: async () => {
      const model = buildModelFromPattern('conv3-2-relu-pool2-fc3', { inputShape: [1, 6, 6], generator: new Generator(8) });
      return [
        encodeCheckpoint({ model: 'conv3-2-relu-pool2-fc3', modelOptions: { inputShape: [1, 6, 6] }, state: model.stateDict(), meta: { dataset: 'mnist', epochs: 1 } }),
        encodeCheckpoint({ model: 'm', state: { a: randomTensor([3], 9) } }),
      ];
    },
    inputs: mutatedBytes,
    run: (b: Uint8Array) => {
      const { header, state } = decodeCheckpoint(b, 'fuzz');
      return { bytes: tensorBytes(Object.values(state)), digest: digestOf(JSON.stringify(header), Object.entries(state)) };
    },
    limit: (b: Uint8Array) => b.length,
    refusals: BYTE_REFUSALS,
    checksummed: true,
  },
  {
    name: 'safetensors',
    what: 'safetensors files: decodeSafetensors',
    seeds: async () => [
      encodeSafetensors({ 'conv.weight': randomTensor([2, 1, 3, 3], 10), 'conv.bias': randomTensor([2], 11) }, { format: 'pt' }),
      encodeSafetensors({ w: randomTensor([4], 12), h: randomTensor([2, 2], 15) }, undefined, { dtypes: { w: 'F16', h: 'BF16' } }),
    ],
    inputs: mutatedBytes,
    run: (b: Uint8Array) => ({ bytes: tensorBytes(Object.values(decodeSafetensors(b, 'fuzz').tensors)) }),
    // 16-bit values are made into float32: twice their bytes; one-byte values four times
    limit: (b: Uint8Array) => 4 * b.length,
    refusals: BYTE_REFUSALS,
  },
  {
    name: 'onnx',
    what: 'ONNX files: importOnnx (decoding and building the module)',
    seeds: async () => [
      exportOnnx(buildModelFromPattern('conv3-2-relu-pool2-fc3', { inputShape: [1, 6, 6], generator: new Generator(13) }), { inputShape: [1, 6, 6] }),
      // a small net of the ops the zoo's files hold: batch norm, a residual add, average pooling, Gemm
      exportOnnx(new SmallResidual(), { inputShape: [2, 6, 6] }),
    ],
    inputs: mutatedBytes,
    run: (b: Uint8Array) => {
      const m = importOnnx(b, { source: 'fuzz' });
      return { bytes: tensorBytes([...m.parameters(), ...[...m.namedBuffers()].map(([, t]) => t)]) };
    },
    // float16 initializers become float32
    limit: (b: Uint8Array) => 2 * b.length,
    refusals: BYTE_REFUSALS,
  },
  {
    name: 'pattern',
    what: 'layer patterns (conv5-6-relu-pool2-fc10): parseModelPattern',
    seeds: async () => ['conv5-6-relu-pool2-conv5-16-relu-pool2-fc120-relu-fc84-relu-fc10', '[(conv3-32-relu)*2-pool2]*2-(fc128-relu)*1-fc10, softmax', 'conv4-4-tanh-pool3-fc2-sigmoid'],
    inputs: (seeds: string[]) => mutatedText(seeds, 'conv-fcpoolrelutanhsigmoidsoftmax0123456789()[]*, '),
    run: (s: string) => {
      parseModelPattern(s);
      return { bytes: 0 };
    },
    limit: () => 0,
    refusals: BYTE_REFUSALS,
  },
  {
    name: 'cli',
    what: "the command line's option values: every option's parser of every command",
    // each parser with a value it accepts, as 'k<NUL>value' (k the parser's index)
    seeds: async () =>
      CLI_PARSERS.flatMap(({ parse }, k) => {
        const value = CLI_VALUES.find((v) => {
          try {
            parse(v);
            return true;
          } catch {
            return false;
          }
        });
        return value === undefined ? [] : [`${k}\u0000${value}`];
      }),
    inputs: (seeds: string[]) =>
      fc.tuple(fc.nat(), mutatedText(seeds.map((s) => s.split('\u0000')[1]), '0123456789.,:/x-eE+ abcdefghijklmnopqrstuvwxyz')).map(([k, v]) => `${k % CLI_PARSERS.length}\u0000${v}`),
    run: (input: string) => {
      const [k, value] = input.split('\u0000');
      CLI_PARSERS[Number(k)].parse(value);
      return { bytes: 0 };
    },
    limit: () => 0,
    refusals: [DataError, ValueError, InvalidArgumentError],
  },
].map((t) => t as unknown as FuzzTarget<unknown>);

/** Values some option parser accepts: the CLI target's seeds. */
const CLI_VALUES = ['3', '0.01', '1x28x28', '0.1307/0.3081', 'crop:4,flip', 'mnist', 'sgd', 'lenet5', 'onnx', 'conv', 'json', '1e-3', '5', 'mean', 'ref', 'step:10:0.1'];

/** Every option parser and argument parser of every command. */
const CLI_PARSERS: { name: string; parse: (value: string) => unknown }[] = COMMANDS.flatMap((c) => [
  ...Object.entries(c.options).flatMap(([name, o]) => (o.parse ? [{ name: `${c.name} ${name}`, parse: o.parse }] : [])),
  ...(c.argument ? [{ name: `${c.name} ${c.argument.name}`, parse: c.argument.parse }] : []),
]);

/** How one input fared. */
export type Outcome =
  | { kind: 'parsed'; made: number }
  | { kind: 'refused' }
  | { kind: 'crash'; error: unknown }
  | { kind: 'oversized'; made: number; limit: number }
  | { kind: 'changed' };

/** The digests of a checksummed target's seeds (what a parse may give), computed once. */
const seedDigests = new WeakMap<FuzzTarget<never>, Promise<Set<string | undefined>>>();

/** Runs one input through a target and classifies what happened. */
export async function fuzzOne<I>(target: FuzzTarget<I>, input: I): Promise<Outcome> {
  let made: Made;
  try {
    made = await target.run(input);
  } catch (error) {
    if (target.refusals.some((E) => error instanceof E)) return { kind: 'refused' };
    return { kind: 'crash', error };
  }
  const limit = target.limit(input);
  if (made.bytes > limit) return { kind: 'oversized', made: made.bytes, limit };
  if (target.checksummed) {
    const key = target as unknown as FuzzTarget<never>;
    if (!seedDigests.has(key)) seedDigests.set(key, target.seeds().then(async (seeds) => new Set(await Promise.all(seeds.map(async (seed) => (await target.run(seed)).digest)))));
    if (!(await seedDigests.get(key)!).has(made.digest)) return { kind: 'changed' };
  }
  return { kind: 'parsed', made: made.bytes };
}

/** An input as text for a report: bytes in hex (the first 64), text quoted. */
export function describeInput(input: unknown): string {
  if (input instanceof Uint8Array) {
    const head = Array.from(input.subarray(0, 64), (b) => b.toString(16).padStart(2, '0')).join(' ');
    return `${input.length} bytes: ${head}${input.length > 64 ? ' ...' : ''}`;
  }
  return JSON.stringify(input);
}
