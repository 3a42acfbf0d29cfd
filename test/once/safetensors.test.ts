/**
 * Safetensors: the bytes of every dtype (written by hand: F16 0x3C00 = 1,
 * BF16 0x3F80 = 1, subnormals, infinities, NaN), the layout of the reference
 * writer (its documented byte sequences), each malformation as a DataError
 * naming the file and the tensor, the files and the CLI, and, where
 * /usr/bin/python3 has torch and torchvision, torchvision's ResNet-18 and
 * AlexNet weights saved by PyTorch giving PyTorch's eval-mode logits and
 * gradients in Stride, and Stride's file loading back into torchvision.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { DataError, F, Generator, LeNet5, Tensor, ValueError, backward, createModel, decodeSafetensors, encodeSafetensors, nn, noGrad, randn, tensor, zeros } from '../../src/index.js';
import { loadSafetensors, loadWeightsFile, loadWeightsInto, resolveWeightsPath, saveCheckpoint, saveModelSafetensors, saveSafetensors } from '../../src/node.js';
import { runEval } from '../../src/cli/eval.js';
import { runTrain } from '../../src/cli/train.js';
import { memoryIO } from '../../src/cli/io.js';
import { assertClose, rejectsWith, throwsWith, withTempDir } from '../helpers/index.js';

const FILE = 'bad.safetensors';

/** A file from a header (JSON text or a value) and data bytes; `length` overrides the declared header length. */
function build(header: unknown, data: ArrayLike<number> = [], length?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(Array.from(data), 8 + json.length);
  return out;
}

/** Little-endian bytes of 16-bit words. */
const u16 = (...words: number[]) => words.flatMap((w) => [w & 0xff, w >> 8]);

const entry = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] });

function decodeOne(dtype: string, shape: number[], bytes: number[]): number[] {
  const { tensors, dtypes } = decodeSafetensors(build({ t: entry(dtype, shape, 0, bytes.length) }, bytes), FILE);
  assert.equal(dtypes.t, dtype);
  assert.deepEqual(tensors.t.shape, shape);
  return [...tensors.t.data];
}

const bits32 = (t: Tensor) => [...new Uint32Array(new Float32Array(t.data).buffer)];

describe('safetensors: values of every dtype', () => {
  test('F32 and F64, little-endian', () => {
    assert.deepEqual(decodeOne('F32', [2], [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]), [1, -2]);
    const t = decodeSafetensors(build({ t: entry('F64', [1], 0, 8) }, [0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f]), FILE).tensors.t;
    assert.equal(t.dtype, 'float64', 'F64 stays float64');
    assert.equal(t.data[0], 0.1);
  });

  test('F16: normals, subnormals, the largest finite, signed zero, infinities and NaN', () => {
    const words = [0x3c00, 0xc000, 0x3555, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x8000, 0x7c00, 0xfc00, 0x7e00];
    const values = decodeOne('F16', [words.length], u16(...words));
    assert.deepEqual(values.slice(0, 10), [1, -2, 0.333251953125, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 65504, -0, Infinity, -Infinity]);
    assert.ok(Object.is(values[7], -0), 'F16 0x8000 is -0');
    assert.ok(Number.isNaN(values[10]));
  });

  test('BF16: the upper half of a float32, subnormals and NaN included', () => {
    const values = decodeOne('BF16', [6], u16(0x3f80, 0xc000, 0x4049, 0x0001, 0x7f80, 0x7fc0));
    assert.deepEqual(values.slice(0, 5), [1, -2, 3.140625, 2 ** -133, Infinity]);
    assert.ok(Number.isNaN(values[5]));
  });

  test('integers: U8, I8, I16, U16, I32, U32, I64, U64 and BOOL', () => {
    assert.deepEqual(decodeOne('U8', [2], [0, 255]), [0, 255]);
    assert.deepEqual(decodeOne('I8', [2], [0x80, 0x7f]), [-128, 127]);
    assert.deepEqual(decodeOne('I16', [2], u16(0x8000, 0x7fff)), [-32768, 32767]);
    assert.deepEqual(decodeOne('U16', [1], u16(0xffff)), [65535]);
    assert.deepEqual(decodeOne('I32', [2], [0, 0, 0, 0x80, 0xff, 0xff, 0xff, 0xff]), [-(2 ** 31), -1]);
    assert.deepEqual(decodeOne('U32', [1], [0x00, 0xff, 0xff, 0xff]), [0xffffff00]); // 16777215 * 256: exact in float32
    // I64: -1, 3, 2^24, -2^24, 2^40 (a power of two: exact in float32).
    const i64 = [-1n, 3n, 16777216n, -16777216n, 2n ** 40n];
    const bytes = new Uint8Array(8 * i64.length);
    i64.forEach((v, i) => new DataView(bytes.buffer).setBigInt64(8 * i, v, true));
    assert.deepEqual(decodeOne('I64', [5], [...bytes]), [-1, 3, 16777216, -16777216, 2 ** 40]);
    assert.deepEqual(decodeOne('U64', [1], [0, 0, 0, 0, 0, 0, 0, 0x80]), [2 ** 63]);
    assert.deepEqual(decodeOne('BOOL', [3], [1, 0, 1]), [1, 0, 1]);
    assert.deepEqual(decodeOne('F32', [0, 3], []), []);
    assert.deepEqual(decodeOne('I64', [], [7, 0, 0, 0, 0, 0, 0, 0]), [7], 'a 0-d I64 tensor, as num_batches_tracked');
  });

  test('an integer float32 cannot hold exactly, or a BOOL byte other than 0 and 1, is a DataError naming the tensor, index and value', () => {
    const i64 = new Uint8Array(16);
    new DataView(i64.buffer).setBigInt64(8, 16777217n, true);
    throwsWith(() => decodeSafetensors(build({ steps: entry('I64', [2], 0, 16) }, i64), FILE), DataError, FILE, "tensor 'steps'", 'I64', '16777217 at index 1', '2^24');
    const big = new Uint8Array(8);
    new DataView(big.buffer).setBigUint64(0, 2n ** 63n + 1n, true);
    throwsWith(() => decodeSafetensors(build({ u: entry('U64', [1], 0, 8) }, big), FILE), DataError, "tensor 'u'", `${2n ** 63n + 1n} at index 0`);
    throwsWith(() => decodeSafetensors(build({ i: entry('I32', [1], 0, 4) }, [0x01, 0x00, 0x00, 0x01]), FILE), DataError, "tensor 'i'", '16777217 at index 0');
    throwsWith(() => decodeSafetensors(build({ mask: entry('BOOL', [2], 0, 2) }, [1, 2]), FILE), DataError, "tensor 'mask'", 'byte 2 at index 1');
  });
});

describe('safetensors: writing', () => {
  test("the reference writer's bytes: one F32 tensor, an empty file, metadata only", () => {
    const values = tensor([0, 1, 2, 3, 4, 5]).reshape([1, 2, 3]);
    const bytes = encodeSafetensors({ 'attn.0': values });
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    assert.equal(header.length, 64, 'a multiple of 8: no padding');
    const data = new Uint8Array(new Float32Array([0, 1, 2, 3, 4, 5]).buffer);
    assert.deepEqual(bytes, new Uint8Array([64, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode(header), ...data]));
    assert.deepEqual(encodeSafetensors({}), new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 32, 32, 32, 32, 32, 32]));
    const meta = '{"__metadata__":{"framework":"pt"}}';
    assert.deepEqual(encodeSafetensors({}, { framework: 'pt' }), new Uint8Array([40, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode(meta), 32, 32, 32, 32, 32]));
  });

  test('layout: larger dtypes first, then names in byte order; header padded with spaces to 8 bytes; a name like "0" keeps its place', () => {
    const bytes = encodeSafetensors({ b: tensor([1, 2, 3]), a: tensor([[0.5, -1]]), '0': zeros([1]), n: zeros([]) }, { note: 'x' }, { dtypes: { n: 'I64', a: 'F16' } });
    const length = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(length % 8, 0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + length));
    const json = '{"__metadata__":{"note":"x"},"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"0":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},' +
      '"b":{"dtype":"F32","shape":[3],"data_offsets":[12,24]},"a":{"dtype":"F16","shape":[1,2],"data_offsets":[24,28]}}';
    assert.equal(text.trimEnd(), json);
    assert.match(text.slice(json.length), /^ *$/);
    assert.deepEqual([...bytes.subarray(8 + length + 24)], u16(0x3800, 0xbc00), 'F16 0.5 and -1');
    assert.equal(bytes.length, 8 + length + 28);
  });

  test('round trip: float32 bits exact (NaN payloads, -0, subnormals, infinities), float64 exact, every dtype back with its dtype and bytes', () => {
    const f32 = new Float32Array(new Uint32Array([0x7fc00001, 0xffa00000, 0x80000000, 0x00000001, 0x7f800000, 0xff800000, 0x3f800000, 0x12345678]).buffer);
    const g = new Generator(5);
    const big = randn([3, 4, 5], { generator: g });
    const x64 = new Tensor(new Float64Array([0.1, -1e300, 5e-324, Math.PI]), [2, 2]);
    const ints = tensor([0, 1, 1, 0]);
    const tensors = { special: new Tensor(f32, [8]), big, x64, b: ints, u8: ints, i8: ints, i16: ints, u16: ints, i32: ints, u32: ints, i64: ints, u64: ints, h: tensor([0.5, -2]), bf: tensor([1, 3.140625]) };
    const dtypes = { b: 'BOOL', u8: 'U8', i8: 'I8', i16: 'I16', u16: 'U16', i32: 'I32', u32: 'U32', i64: 'I64', u64: 'U64', h: 'F16', bf: 'BF16' } as const;
    const bytes = encodeSafetensors(tensors, { a: 'b' }, { dtypes });
    const back = decodeSafetensors(bytes, 'memory');
    assert.deepEqual(bits32(back.tensors.special), [...new Uint32Array(f32.buffer)]);
    assert.deepEqual(back.tensors.big.data, big.data);
    assert.equal(back.tensors.x64.dtype, 'float64');
    assert.deepEqual(back.tensors.x64.data, x64.data);
    for (const name of Object.keys(dtypes)) assert.deepEqual([...back.tensors[name].data], [...tensors[name as keyof typeof tensors].data], name);
    assert.deepEqual(back.dtypes, { ...dtypes, special: 'F32', big: 'F32', x64: 'F64' });
    assert.deepEqual(back.metadata, { a: 'b' });
    assert.deepEqual(encodeSafetensors(back.tensors, back.metadata, { dtypes: back.dtypes }), bytes, 're-encoding gives the same bytes');
  });

  test('F16 and BF16 round to nearest, ties to even; overflow to infinity; underflow to zero', () => {
    const h = (x: number) => [...encodeSafetensors({ t: tensor([x]) }, undefined, { dtypes: { t: 'F16' } }).slice(-2)];
    const b = (x: number) => [...encodeSafetensors({ t: tensor([x]) }, undefined, { dtypes: { t: 'BF16' } }).slice(-2)];
    assert.deepEqual(h(1 / 3), u16(0x3555));
    assert.deepEqual(h(1 + 2 ** -11), u16(0x3c00), 'a tie goes to the even 1.0');
    assert.deepEqual(h(1 + 3 * 2 ** -11), u16(0x3c02), 'a tie goes to the even 1 + 2^-9');
    assert.deepEqual(h(65504), u16(0x7bff));
    assert.deepEqual(h(65520), u16(0x7c00), 'halfway to 2^16 rounds to infinity');
    assert.deepEqual(h(2 ** -25), u16(0x0000), 'half the smallest subnormal ties to 0');
    assert.deepEqual(h(1.5 * 2 ** -25), u16(0x0001));
    assert.deepEqual(h(3 * 2 ** -25), u16(0x0002), 'subnormal tie to even');
    assert.deepEqual(h(-Infinity), u16(0xfc00));
    assert.deepEqual(h(NaN), u16(0x7e00));
    assert.deepEqual(b(1 + 2 ** -8), u16(0x3f80));
    assert.deepEqual(b(1 + 3 * 2 ** -8), u16(0x3f82));
    assert.deepEqual(b(NaN), u16(0x7fc0));
  });

  test('bad arguments are ValueErrors saying what is wrong', () => {
    throwsWith(() => encodeSafetensors({ a: [1, 2] as unknown as Tensor }), ValueError, "tensors['a'] is not a Tensor");
    throwsWith(() => encodeSafetensors({ a: zeros([1]) }, { epochs: 3 as unknown as string }), ValueError, "metadata['epochs']", 'strings only');
    throwsWith(() => encodeSafetensors({ a: zeros([1]) }, undefined, { dtypes: { b: 'F32' } }), ValueError, "names tensor 'b'");
    throwsWith(() => encodeSafetensors({ a: zeros([1]) }, undefined, { dtypes: { a: 'F8_E4M3' as 'F32' } }), ValueError, 'F8_E4M3', 'F16');
    throwsWith(() => encodeSafetensors({ a: tensor([1, 2.5]) }, undefined, { dtypes: { a: 'I64' } }), ValueError, "tensor 'a' holds 2.5 at index 1", 'I64');
    throwsWith(() => encodeSafetensors({ a: tensor([256]) }, undefined, { dtypes: { a: 'U8' } }), ValueError, 'from 0 to 255');
    throwsWith(() => encodeSafetensors({ __metadata__: zeros([1]) }), ValueError, 'reserved');
  });
});

describe('safetensors: malformed files are DataErrors naming the file and the tensor', () => {
  const good = { a: entry('F32', [2], 0, 8), b: entry('F32', [1], 8, 12) };
  const data = new Array(12).fill(0);
  const cases: [string, () => Uint8Array, ...(string | RegExp)[]][] = [
    ['a truncated header length', () => new Uint8Array([8, 0, 0, 0, 0]), '5 bytes long'],
    ['a header length over 100,000,000', () => build(good, data, 100_000_001n), 'header length 100000001', 'limit of 100000000'],
    ['a header longer than the file', () => build(good, data, 4000n), 'header length 4000', 'truncated'],
    ['a header that is not UTF-8', () => { const f = build('{"a" }'); f[10] = 0xff; return f; }, 'not valid UTF-8'],
    ['bad JSON', () => build('{"a": {', data), 'not valid JSON'],
    ['a header that is not an object', () => build('[1, 2]'), 'must be a JSON object', 'an array'],
    ['an entry that is not an object', () => build({ a: 3 }), "tensor 'a'", 'number 3'],
    ['an unknown dtype', () => build({ ...good, a: entry('F33', [2], 0, 8) }, data), "tensor 'a'", 'unknown dtype "F33"'],
    ['a dtype Stride does not read', () => build({ ...good, a: entry('F8_E4M3', [8], 0, 8) }, data), "tensor 'a'", 'does not read dtype F8_E4M3'],
    ['a negative dimension', () => build({ ...good, a: entry('F32', [-2], 0, 8) }, data), "tensor 'a'", 'non-negative integers', '[-2]'],
    ['a fractional dimension', () => build({ ...good, a: entry('F32', [1.5], 0, 8) }, data), "tensor 'a'", '[1.5]'],
    ['a missing shape', () => build({ ...good, a: { dtype: 'F32', data_offsets: [0, 8] } }, data), "tensor 'a'", 'shape', 'missing'],
    ['offsets that are not a pair', () => build({ ...good, a: { dtype: 'F32', shape: [2], data_offsets: [0] } }, data), "tensor 'a'", '[begin, end]'],
    ['offsets that end before they begin', () => build({ a: entry('F32', [0], 8, 0) }, data), "tensor 'a'", 'end before they begin'],
    ['offsets beyond the buffer', () => build({ ...good, b: entry('F32', [1], 8, 12) }, data.slice(0, 10)), "tensor 'b'", 'past the end', '10 bytes'],
    ['a size mismatch', () => build({ ...good, a: entry('F32', [3], 0, 8) }, data), "tensor 'a'", '12 bytes', 'span 8 bytes'],
    ['an overlap', () => build({ a: entry('F32', [2], 0, 8), b: entry('F32', [2], 4, 12) }, data), "'a' (bytes 0 to 8)", "'b' (bytes 4 to 12)", 'overlap'],
    ['a gap', () => build({ a: entry('F32', [1], 0, 4), b: entry('F32', [1], 8, 12) }, data), 'bytes 4 to 8', "tensor 'a'", "tensor 'b'", 'belong to no tensor'],
    ['a gap at the start', () => build({ b: entry('F32', [2], 4, 12) }, data), 'bytes 0 to 4', 'start of the data buffer', "tensor 'b'"],
    ['trailing bytes', () => build(good, [...data, 0, 0]), '2 bytes follow the last tensor', "'b'"],
    ['a tensor named twice', () => build(`{"a":${JSON.stringify(good.a)},"a":${JSON.stringify(good.a)},"b":${JSON.stringify(good.b)}}`, data), "names 'a' twice"],
    ['a field named twice', () => build(`{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":${JSON.stringify(good.b)}}`, data), "tensor 'a' has the key 'dtype' twice"],
    ['a metadata key named twice', () => build(`{"__metadata__":{"k":"1","k":"2"},"a":${JSON.stringify(good.a)},"b":${JSON.stringify(good.b)}}`, data), "'__metadata__' has the key 'k' twice"],
    ['a metadata value that is not a string', () => build({ __metadata__: { epochs: 3 }, ...good }, data), "value 'epochs' must be a string", 'number 3'],
    ['metadata that is not an object', () => build({ __metadata__: ['x'], ...good }, data), "'__metadata__' must be an object"],
  ];
  for (const [what, bytes, ...parts] of cases) {
    test(what, () => throwsWith(() => decodeSafetensors(bytes(), FILE), DataError, `safetensors ${FILE}: `, ...parts));
  }

  test('a good file of the same shape decodes (the cases above differ from it in one thing)', () => {
    const { tensors } = decodeSafetensors(build(good, data), FILE);
    assert.deepEqual(Object.keys(tensors), ['a', 'b']);
  });

  test('tensors are returned in offset order, whatever the header order; zero-size tensors may share an offset', () => {
    const f = build({ z: entry('F32', [0], 4, 4), b: entry('F32', [1], 4, 8), a: entry('F32', [1], 0, 4), y: entry('F32', [0, 2], 4, 4) }, [0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]);
    const { tensors } = decodeSafetensors(f, FILE);
    assert.deepEqual(Object.keys(tensors), ['a', 'z', 'y', 'b']);
    assert.deepEqual([...tensors.a.data, ...tensors.b.data], [1, 2]);
  });

  test("a tensor named '__proto__' is a tensor like any other", () => {
    const { tensors, dtypes } = decodeSafetensors(build('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0x80, 0x3f]), FILE);
    assert.deepEqual(Object.keys(tensors), ['__proto__']);
    assert.ok(Object.getPrototypeOf(tensors) === Object.prototype);
    assert.deepEqual([...Object.getOwnPropertyDescriptor(tensors, '__proto__')!.value.data], [1]);
    assert.equal(Object.getOwnPropertyDescriptor(dtypes, '__proto__')!.value, 'F32');
  });

  test('a Stride checkpoint or a zip passed as safetensors says what it is', () => {
    throwsWith(() => decodeSafetensors(new TextEncoder().encode('STRIDE01\u0010\u0000\u0000\u0000{}'), FILE), DataError, 'Stride .stride checkpoint');
    throwsWith(() => decodeSafetensors(new Uint8Array([0x50, 0x4b, 3, 4, 20, 0, 0, 8, 0, 0]), FILE), DataError, 'zip archive');
  });
});

describe('safetensors files and model weights', () => {
  test('saveSafetensors writes atomically (no temporary file left) and loadSafetensors reads it back; a missing file is a DataError', async () => {
    await withTempDir('stride-st-', async (dir) => {
      const path = join(dir, 'sub', 'w.safetensors');
      const t = randn([4, 3], { generator: new Generator(1) });
      assert.equal(await saveSafetensors(path, { t }, { k: 'v' }), path);
      assert.deepEqual(await readdir(join(dir, 'sub')), ['w.safetensors']);
      const back = await loadSafetensors(path);
      assert.deepEqual(back.tensors.t.data, t.data);
      assert.deepEqual(back.metadata, { k: 'v' });
      await rejectsWith(loadSafetensors(join(dir, 'none.safetensors')), DataError, 'none.safetensors', 'does not exist');
      await writeFile(join(dir, 'cut.safetensors'), (await readFile(path)).subarray(0, 60));
      await rejectsWith(loadSafetensors(join(dir, 'cut.safetensors')), DataError, 'cut.safetensors');
    });
  });

  test('a model saved as safetensors has PyTorch names, I64 batch counters and its name in the metadata; loadWeightsFile rebuilds it', async () => {
    await withTempDir('stride-st-', async (dir) => {
      const model = createModel('resnet18', { numClasses: 3, generator: new Generator(2) });
      const bn = model.stateDict()['bn1.numBatchesTracked'];
      bn.data[0] = 7;
      const path = await saveCheckpoint(dir, model, { model: 'resnet18', modelOptions: { numClasses: 3 }, meta: { dataset: 'x' }, format: 'safetensors' });
      assert.equal(path, join(dir, 'model.safetensors'));
      const raw = await loadSafetensors(path);
      assert.equal(raw.dtypes['bn1.num_batches_tracked'], 'I64');
      assert.equal(raw.dtypes['layer1.0.bn1.running_var'], 'F32');
      assert.deepEqual(Object.keys(raw.tensors).sort(), Object.keys(nn.toPytorchStateDict(model.stateDict())).sort());
      assert.equal(raw.metadata['stride.model'], 'resnet18');
      assert.equal(raw.metadata.format, 'pt');

      const loaded = await loadWeightsFile(dir);
      assert.equal(loaded.path, path);
      assert.deepEqual(loaded.header.model, 'resnet18');
      assert.deepEqual(loaded.header.modelOptions, { numClasses: 3 });
      assert.equal(loaded.header.meta.dataset, 'x');
      assert.equal(loaded.model.stateDict()['bn1.numBatchesTracked'].data[0], 7);
      assert.equal(loaded.model.training, false);
      model.eval();
      const x = randn([1, 3, 32, 32], { generator: new Generator(3) });
      noGrad(() => assert.deepEqual(loaded.model.forward(x).data, model.forward(x).data));
      await rejectsWith(loadWeightsFile(path, { arch: 'alexnet' }), DataError, path, "'resnet18'", "'alexnet'");
    });
  });

  test('weights without a model name need arch; the class count and input channels come from the weights; mismatches name the file', async () => {
    await withTempDir('stride-st-', async (dir) => {
      const model = new LeNet5({ numClasses: 5, inChannels: 2, generator: new Generator(4) });
      const path = await saveSafetensors(join(dir, 'lenet.safetensors'), nn.toPytorchStateDict(model.stateDict()));
      await rejectsWith(loadWeightsFile(path), DataError, path, 'does not name its model', '--arch');
      const loaded = await loadWeightsFile(path, { arch: 'lenet5' });
      assert.deepEqual(loaded.header.modelOptions, { numClasses: 5, inChannels: 2 });
      const x = randn([2, 2, 28, 28], { generator: new Generator(5) });
      noGrad(() => assert.deepEqual(loaded.model.forward(x).data, model.eval().forward(x).data));
      await rejectsWith(loadWeightsFile(path, { arch: 'resnet18' }), DataError, path, "model 'resnet18'", "the weights are not those of 'resnet18' (is arch right?)");

      const target = new LeNet5({ generator: new Generator(6) });
      await rejectsWith(loadWeightsInto(target, path), DataError, path, 'shape');
      const same = new LeNet5({ numClasses: 5, inChannels: 2, generator: new Generator(6) });
      assert.equal(await loadWeightsInto(same, path), path);
      assert.deepEqual(same.stateDict()['fc3.weight'].data, model.stateDict()['fc3.weight'].data);
    });
  });

  test("metadata naming options the weights cannot belong to is refused before the model is built", async () => {
    await withTempDir('stride-st-', async (dir) => {
      const weights = nn.toPytorchStateDict(new LeNet5({ generator: new Generator(4) }).stateDict());
      const save = (modelOptions: string) => saveSafetensors(join(dir, 'w.safetensors'), weights, { 'stride.model': 'lenet5', 'stride.modelOptions': modelOptions });
      const path = await save('{"numClasses": 1000000000}');
      await rejectsWith(loadWeightsFile(path), DataError, `safetensors ${path} (model 'lenet5'): metadata 'stride.modelOptions'.numClasses is 1000000000`, 'from 1 to 61706');
      await save('{"inputShape": [1, 100000, 100000]}');
      await rejectsWith(loadWeightsFile(path), DataError, path, 'needs at least', 'more than the 61706 the file stores');
      await saveSafetensors(path, weights, { 'stride.model': 'constructor' });
      await rejectsWith(loadWeightsFile(path), DataError, path, "names model 'constructor', which is not in the registry");
      await save('{"inputShape": [1, 28, 28]}');
      assert.equal((await loadWeightsFile(path)).header.model, 'lenet5');
    });
  });

  test('a folder holding both model.stride and model.safetensors is ambiguous', async () => {
    await withTempDir('stride-st-', async (dir) => {
      const model = new LeNet5({ generator: new Generator(1) });
      await saveCheckpoint(dir, model, { model: 'lenet5' });
      assert.equal(await resolveWeightsPath(dir), join(dir, 'model.stride'));
      await saveCheckpoint(dir, model, { model: 'lenet5', format: 'safetensors' });
      await rejectsWith(resolveWeightsPath(dir), DataError, 'both model.stride and model.safetensors');
    });
  });

  test('stride eval reads PyTorch-named weights with --arch and gives the accuracy of the same weights as a .stride checkpoint', async () => {
    await withTempDir('stride-st-', async (dir) => {
      const model = new LeNet5({ generator: new Generator(8) });
      await saveCheckpoint(join(dir, 'ckpt'), model, { model: 'lenet5', meta: { dataset: 'mnist' } });
      const st = await saveSafetensors(join(dir, 'w.safetensors'), nn.toPytorchStateDict(model.stateDict()));
      const fromStride = await runEval({ model: join(dir, 'ckpt'), testLimit: 300 }, memoryIO());
      const io = memoryIO();
      const fromSt = await runEval({ model: st, arch: 'lenet5', dataset: 'mnist', testLimit: 300 }, io);
      assert.equal(fromSt.model, 'lenet5');
      assert.equal(fromSt.checkpoint, st);
      assert.equal(fromSt.testAccuracy, fromStride.testAccuracy);
      assert.equal(fromSt.testLoss, fromStride.testLoss);
    });
  });
});

describe('stride train --init and --format safetensors', () => {
  test('training starts from the given weights (a step of lr 1e-30 leaves them as they were) and saves model.safetensors naming the model', async () => {
    await withTempDir('stride-st-', async (dir) => {
      const start = new LeNet5({ generator: new Generator(11) });
      const init = await saveSafetensors(join(dir, 'init.safetensors'), nn.toPytorchStateDict(start.stateDict()));
      const io = memoryIO();
      const out = join(dir, 'run');
      const summary = await runTrain({ model: 'lenet5', init, limit: 32, testLimit: 32, batchSize: 32, lr: 1e-30, format: 'safetensors', out, progress: false }, io);
      assert.ok(io.lines.includes(`initialized from ${init}`), io.lines.join('\n'));
      assert.equal(summary.checkpoint, join(out, 'model.safetensors'));
      const saved = await loadSafetensors(summary.checkpoint!);
      assert.equal(saved.metadata['stride.model'], 'lenet5');
      assert.equal(JSON.parse(saved.metadata['stride.meta']).dataset, 'mnist');
      for (const [name, t] of Object.entries(nn.toPytorchStateDict(start.stateDict()))) assertClose(saved.tensors[name], t, 1e-6, name);
      const evaluated = await runEval({ model: out, testLimit: 32 }, memoryIO());
      assert.equal(evaluated.testAccuracy, summary.testAccuracy);
    });
  });
});

// ---------------------------------------------------------------------------
// PyTorch: torchvision weights in Stride, Stride's weights in torchvision.

/** Writes and reads safetensors by hand (struct + json), so the case needs no safetensors package. */
const PY_SAFETENSORS = `
import json, struct, torch
DT = {torch.float32: 'F32', torch.float64: 'F64', torch.int64: 'I64'}
TD = {'F32': torch.float32, 'F64': torch.float64, 'I64': torch.int64}
def save(path, tensors):
    header, chunks, off = {}, [], 0
    for k, v in tensors.items():
        b = v.detach().contiguous().numpy().tobytes()
        header[k] = {'dtype': DT[v.dtype], 'shape': list(v.shape), 'data_offsets': [off, off + len(b)]}
        chunks.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(chunks))
def load(path):
    """Reads as the reference does: offsets sorted, back to back from 0 to the end of the file."""
    buf = open(path, 'rb').read()
    (n,) = struct.unpack('<Q', buf[:8])
    assert n % 8 == 0 and n <= 100_000_000, n
    header = json.loads(buf[8:8 + n].decode('utf-8'))
    meta = header.pop('__metadata__', {})
    data = buf[8 + n:]
    out, pos = {}, 0
    for k, e in sorted(header.items(), key=lambda kv: kv[1]['data_offsets']):
        s, t = e['data_offsets']
        assert s == pos, (k, s, pos)
        assert s % 8 == 0 or e['dtype'] != 'I64', (k, s)
        x = torch.frombuffer(bytearray(data[s:t]), dtype=TD[e['dtype']]) if t > s else torch.zeros(0, dtype=TD[e['dtype']])
        out[k] = x.reshape(e['shape'])
        pos = t
    assert pos == len(data), (pos, len(data))
    return out, meta
`;

const PY_CASE = `${PY_SAFETENSORS}
import sys, torchvision
import torch.nn.functional as F
out = sys.argv[1]
torch.manual_seed(0)
CASES = [
    ('resnet18', {'num_classes': 10}, ['conv1.weight', 'bn1.weight', 'layer2.0.downsample.1.bias', 'layer4.1.conv2.weight', 'fc.weight', 'fc.bias']),
    ('alexnet', {}, ['features.0.weight', 'features.10.bias', 'classifier.1.weight', 'classifier.6.bias']),
]
for name, kw, params in CASES:
    m = getattr(torchvision.models, name)(**kw)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
        m.train()
        for _ in range(3):
            m(torch.randn(4, 3, 64, 64) * 1.5 + 0.3)
    m.eval()
    x = torch.randn(2, 3, 64, 64, requires_grad=True)
    target = torch.tensor([1, 7])
    logits = m(x)
    loss = F.cross_entropy(logits, target)
    loss.backward()
    save(f'{out}/{name}.safetensors', m.state_dict())
    named = dict(m.named_parameters())
    case = {'x': x.detach(), 'target': target, 'logits': logits.detach(), 'loss': loss.detach().reshape([]), 'grad.x': x.grad}
    for p in params:
        case['grad.' + p] = named[p].grad
    save(f'{out}/{name}.case.safetensors', case)
`;

/** Loads Stride's file into torchvision's resnet18 (strict), checks num_batches_tracked is int64 and prints the logits. */
const PY_READ_STRIDE = `${PY_SAFETENSORS}
import sys, torchvision
state, meta = load(sys.argv[1])
assert meta.get('stride.model') == 'resnet18', meta
assert state['bn1.num_batches_tracked'].dtype == torch.int64
m = torchvision.models.resnet18(num_classes=10)
m.load_state_dict(state, strict=True)
m.eval()
case, _ = load(sys.argv[2])
with torch.no_grad():
    print(json.dumps({'logits': m(case['x']).flatten().tolist(), 'tracked': int(state['bn1.num_batches_tracked'])}))
`;

function python(script: string, ...args: string[]): { ok: true; stdout: string } | { ok: false; reason: string } {
  const r = spawnSync('/usr/bin/python3', ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) return { ok: false, reason: r.error?.message ?? r.stderr.trim().split('\n').pop() ?? `exit ${r.status}` };
  return { ok: true, stdout: r.stdout };
}

function torchMissing(): string | null {
  const r = python('import torch, torchvision');
  return r.ok ? null : `python3 with torch and torchvision is not available (${r.reason})`;
}

/** |actual - expected| <= 2e-3 * (max |expected|), elementwise: relative error at the scale of the values. */
function assertRelative(actual: Tensor, expected: Tensor, what: string): void {
  let scale = 0;
  for (const v of expected.data) scale = Math.max(scale, Math.abs(v));
  assertClose(actual, expected, { atol: 2e-3 * scale, rtol: 2e-3 }, what);
}

describe('torchvision weights saved by PyTorch give PyTorch\'s logits and gradients', () => {
  const skip = torchMissing();
  const CASES: [string, string[]][] = [
    ['resnet18', ['conv1.weight', 'bn1.weight', 'layer2.0.downsample.1.bias', 'layer4.1.conv2.weight', 'fc.weight', 'fc.bias']],
    ['alexnet', ['features.0.weight', 'features.10.bias', 'classifier.1.weight', 'classifier.6.bias']],
  ];

  test('resnet18 (10 classes, inferred from fc.weight) and alexnet (2x3x64x64, adaptive pooling): logits and gradients within 2e-3; Stride\'s resnet18 file loads back into torchvision', { skip: skip ?? false }, async () => {
    await withTempDir('stride-st-torch-', async (dir) => {
      const made = python(PY_CASE, dir);
      assert.ok(made.ok, made.ok ? '' : made.reason);
      for (const [name, params] of CASES) {
        const { model, header } = await loadWeightsFile(join(dir, `${name}.safetensors`), { arch: name });
        assert.equal(header.model, name);
        if (name === 'resnet18') {
          assert.deepEqual(header.modelOptions, { numClasses: 10 });
          assert.equal(model.stateDict()['layer1.0.bn1.numBatchesTracked'].data[0], 3, 'the I64 num_batches_tracked of three training batches');
        }
        const { tensors: c } = await loadSafetensors(join(dir, `${name}.case.safetensors`));
        const x = c.x.detach().requiresGrad_();
        const logits = model.forward(x);
        assertRelative(logits, c.logits, `${name} logits`);
        const loss = F.crossEntropy(logits, c.target);
        assertClose(loss.data[0], c.loss.data[0], 2e-3, `${name} loss`);
        backward(loss);
        assertRelative(x.grad!, c['grad.x'], `${name} d loss / d input`);
        const named = new Map(model.namedParameters());
        for (const p of params) {
          const ours = named.get(nn.fromPytorchName(p));
          assert.ok(ours?.grad, `${name}: ${p} has a gradient`);
          assertRelative(ours.grad, c[`grad.${p}`], `${name} d loss / d ${p}`);
        }
        if (name === 'resnet18') {
          const saved = await saveModelSafetensors(join(dir, 'stride-resnet18.safetensors'), model, { model: 'resnet18', modelOptions: header.modelOptions });
          const read = python(PY_READ_STRIDE, saved, join(dir, 'resnet18.case.safetensors'));
          assert.ok(read.ok, read.ok ? '' : read.reason);
          const theirs = JSON.parse(read.stdout) as { logits: number[]; tracked: number };
          assert.equal(theirs.tracked, 3);
          assertRelative(new Tensor(new Float32Array(theirs.logits), c.logits.shape), c.logits, 'torchvision logits from the file Stride wrote');
        }
      }
    });
  });
});
