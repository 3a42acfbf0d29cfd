import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { crc32 as zlibCrc32 } from 'node:zlib';

import { DataError, F, Generator, LeNet5, Tensor, ValueError, createModel, noGrad, optim, randn, tensor } from '../../src/index.js';
import { loadCheckpoint, nodeAtomicFs, readCheckpoint, saveCheckpoint, writeFileAtomic, type AtomicWriteFs } from '../../src/node.js';
import { CHECKPOINT_FILE, CHECKPOINT_FORMAT, CHECKPOINT_MAGIC, TRAINING_CHECKPOINT_FORMAT, UNCHECKED_CHECKPOINT_MAGIC, decodeCheckpoint, encodeCheckpoint, modelFromCheckpoint, type JsonValue } from '../../src/index.js';
import { crc32 } from '../../src/io/crc32.js';
import { collectWarnings, ok, rejectsWith, repoRoot, throwsWith, withTempDir } from '../helpers/index.js';

/**
 * Bytes of a checkpoint with an arbitrary header (any JSON text) and data
 * section. By default in the layout with CRC-32s (STRIDE02): a tensor entry
 * without `crc32` gets its bytes' CRC-32 (zlib's, an implementation other
 * than Stride's), the header its own. `unchecked`: the layout before the
 * checksums (STRIDE01: magic, header length, header). Written here from the
 * layout's description, not by the encoder under test.
 */
function build(
  header: unknown, data: Uint8Array = new Uint8Array(0),
  options: { magic?: string; headerLength?: number; raw?: Uint8Array; unchecked?: boolean; headerCrc?: number } = {},
): Uint8Array {
  const unchecked = options.unchecked ?? false;
  if (!unchecked && header !== null && typeof header === 'object' && Array.isArray((header as { tensors?: unknown }).tensors)) {
    const h = header as { tensors: Record<string, unknown>[] };
    header = {
      ...h,
      tensors: h.tensors.map((t) => {
        if (t === null || typeof t !== 'object' || 'crc32' in t) return t;
        const { offset, length } = t as { offset: number; length: number };
        return { ...t, crc32: zlibCrc32(data.subarray(offset, offset + length)) };
      }),
    };
  }
  const json = options.raw ?? new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = unchecked ? 12 : 16;
  const out = new Uint8Array(prefix + json.length + data.length);
  const magic = options.magic ?? (unchecked ? 'STRIDE01' : 'STRIDE02');
  for (let i = 0; i < 8; i++) out[i] = magic.charCodeAt(i);
  const view = new DataView(out.buffer);
  view.setUint32(prefix - 4, options.headerLength ?? json.length, true);
  out.set(json, prefix);
  out.set(data, prefix + json.length);
  if (!unchecked) view.setUint32(8, options.headerCrc ?? zlibCrc32(out.subarray(12, prefix + json.length)), true);
  return out;
}

/** The same checkpoint in the layout before the checksums (STRIDE01), as the encoder before them wrote it: no crc32 fields, no header CRC, the JSON padded to a 4-byte data start. */
function uncheckedCopy(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + length)));
  for (const t of header.tensors) delete t.crc32;
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (4 - ((12 + json.length) % 4)) % 4;
  json = Uint8Array.from([...json, ...new Array<number>(pad).fill(0x20)]);
  return build(null, bytes.subarray(16 + length), { raw: json, unchecked: true });
}

const goodHeader = () => ({
  format: CHECKPOINT_FORMAT,
  model: 'lenet5',
  modelOptions: {},
  tensors: [
    { name: 'a', shape: [2, 3], offset: 0, length: 24 },
    { name: 'b', shape: [2], offset: 24, length: 8 },
  ],
  meta: {},
});
const goodData = () => new Uint8Array(32);

describe('checkpoint encode/decode', () => {
  test('round trip keeps names, order, shapes and values; the model rebuilds with the same outputs', () => {
    const model = new LeNet5({ generator: new Generator(3) });
    const bytes = encodeCheckpoint({ model: 'lenet5', modelOptions: { numClasses: 10 }, state: model.stateDict(), meta: { dataset: 'mnist', epochs: 2, testAccuracy: 0.5 } });
    assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), 'STRIDE02');
    const { header, state, verified } = decodeCheckpoint(bytes, 'memory');
    assert.equal(verified, true);
    assert.equal(header.format, 'stride-checkpoint-v1');
    assert.equal(header.model, 'lenet5');
    assert.deepEqual(header.modelOptions, { numClasses: 10 });
    assert.deepEqual(header.meta, { dataset: 'mnist', epochs: 2, testAccuracy: 0.5 });
    const original = model.stateDict();
    assert.deepEqual(Object.keys(state), Object.keys(original));
    assert.deepEqual(Object.keys(state), ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias']);
    for (const [name, t] of Object.entries(original)) {
      assert.deepEqual(state[name].shape, t.shape, name);
      assert.deepEqual(state[name].data, t.data, name);
      assert.notEqual(state[name].data.buffer, bytes.buffer, 'decoded tensors own their memory');
    }
    // data starts 4-byte aligned; the header's CRC-32 (zlib's) covers its length and text, each tensor's its bytes
    const view = new DataView(bytes.buffer);
    const headerLength = view.getUint32(12, true);
    assert.equal((16 + headerLength) % 4, 0);
    assert.equal(view.getUint32(8, true), zlibCrc32(bytes.subarray(12, 16 + headerLength)));
    const dataStart = 16 + headerLength;
    for (const t of header.tensors) {
      assert.equal(t.crc32, zlibCrc32(bytes.subarray(dataStart + t.offset, dataStart + t.offset + t.length)), t.name);
    }

    const rebuilt = createModel(header.model, header.modelOptions as { numClasses: number });
    rebuilt.loadStateDict(state);
    const x = randn([2, 1, 28, 28], { generator: new Generator(1) });
    noGrad(() => assert.deepEqual(rebuilt.forward(x).data, model.forward(x).data));
  });

  test('a well-formed hand-built file decodes, and the empty state is allowed', () => {
    const { state } = decodeCheckpoint(build(goodHeader(), goodData()), 'x');
    assert.deepEqual(state.a.shape, [2, 3]);
    const empty = decodeCheckpoint(encodeCheckpoint({ model: 'm', state: {} }), 'y');
    assert.deepEqual(empty.header.tensors, []);
  });

  test('encode rejects what JSON cannot hold and non-tensors', () => {
    const state = new LeNet5({ generator: new Generator(0) }).stateDict();
    assert.throws(() => encodeCheckpoint({ model: 'lenet5', state, modelOptions: { generator: new Generator(0) } as any }), ValueError);
    assert.throws(() => encodeCheckpoint({ model: 'lenet5', state, meta: { testAccuracy: NaN } }), /NaN/);
    assert.throws(() => encodeCheckpoint({ model: '', state }), ValueError);
    assert.throws(() => encodeCheckpoint({ model: 'lenet5', state: { w: [1, 2] as any } }), ValueError);
  });

  const cases: [string, () => Uint8Array, RegExp[]][] = [
    ['empty file', () => new Uint8Array(0), [/0 bytes/, /truncated/]],
    ['shorter than the prefix', () => new Uint8Array([0x53, 0x54, 0x52]), [/3 bytes/]],
    ['bad magic', () => build(goodHeader(), goodData(), { magic: 'GARBAGE!' }), [/wrong magic "GARBAGE!"/, /expected "STRIDE02"/]],
    ['shorter than the checksummed prefix', () => new TextEncoder().encode('STRIDE02\x05\x00\x00\x00'), [/12 bytes/, /CRC-32/, /truncated/]],
    ['other version magic', () => build(goodHeader(), goodData(), { magic: 'STRIDE99' }), [/another version/, /reads STRIDE02 and STRIDE01/]],
    ['zip magic', () => build(goodHeader(), goodData(), { magic: 'PK\x03\x04abcd' }), [/zip/]],
    ['header length 0', () => build(goodHeader(), goodData(), { headerLength: 0 }), [/header length 0/]],
    ['header length past the end', () => build(goodHeader(), goodData(), { headerLength: 100000 }), [/truncated/, /100000/]],
    ['header truncated', () => build(goodHeader(), new Uint8Array(0)).subarray(0, 40), [/truncated/]],
    ['header not JSON', () => build('{"format": ', goodData()), [/not valid JSON/]],
    ['header not UTF-8', () => build(null, goodData(), { raw: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) }), [/UTF-8/]],
    ['header an array', () => build([1, 2], goodData()), [/must be a JSON object/]],
    ['wrong format', () => build({ ...goodHeader(), format: 'stride-checkpoint-v9' }, goodData()), [/format is "stride-checkpoint-v9"/, /expected "stride-checkpoint-v1"/]],
    ['missing model', () => build({ ...goodHeader(), model: undefined }, goodData()), [/'model'/]],
    ['modelOptions not an object', () => build({ ...goodHeader(), modelOptions: 3 }, goodData()), [/'modelOptions' must be an object/]],
    ['missing meta', () => build({ ...goodHeader(), meta: undefined }, goodData()), [/'meta'/, /missing/]],
    ['tensors not an array', () => build({ ...goodHeader(), tensors: {} }, goodData()), [/'tensors' must be an array/]],
    ['tensor entry not an object', () => build({ ...goodHeader(), tensors: [5] }, goodData()), [/tensors\[0\]/]],
    ['tensor without a name', () => build({ ...goodHeader(), tensors: [{ shape: [2], offset: 0, length: 8 }] }, new Uint8Array(8)), [/tensors\[0\]\.name/]],
    ['duplicate name', () => build({ ...goodHeader(), tensors: [{ name: 'a', shape: [2], offset: 0, length: 8 }, { name: 'a', shape: [2], offset: 8, length: 8 }] }, new Uint8Array(16)), [/twice/]],
    ['negative dimension', () => build({ ...goodHeader(), tensors: [{ name: 'a', shape: [-2], offset: 0, length: 8 }] }, new Uint8Array(8)), [/'a'/, /non-negative integers/]],
    ['fractional offset', () => build({ ...goodHeader(), tensors: [{ name: 'a', shape: [2], offset: 0.5, length: 8 }] }, new Uint8Array(8)), [/offset must be a non-negative integer/]],
    ['length does not match the shape', () => build({ ...goodHeader(), tensors: [{ name: 'a', shape: [2, 3], offset: 0, length: 20 }] }, new Uint8Array(20)), [/'a'/, /\[2, 3\]/, /24 bytes/, /length is 20/]],
    ['unaligned offset', () => build({ ...goodHeader(), tensors: [{ name: 'a', shape: [1], offset: 2, length: 4 }] }, new Uint8Array(6)), [/multiple of 4/]],
    ['data truncated', () => build(goodHeader(), new Uint8Array(30)), [/'b'/, /only 30 bytes/, /truncated/]],
    ['offset out of range', () => build({ ...goodHeader(), tensors: [{ name: 'a', shape: [2], offset: 4096, length: 8 }] }, new Uint8Array(8)), [/4096/, /only 8 bytes/]],
    ['overlapping tensors', () => build({ ...goodHeader(), tensors: [{ name: 'a', shape: [4], offset: 0, length: 16 }, { name: 'b', shape: [2], offset: 8, length: 8 }] }, new Uint8Array(16)), [/'a'/, /'b'/, /overlap/]],
    ['extra bytes after the data', () => build(goodHeader(), new Uint8Array(36)), [/4 extra bytes/]],
    ['bytes between tensors', () => build({ ...goodHeader(), tensors: [{ name: 'a', shape: [1], offset: 0, length: 4 }, { name: 'b', shape: [1], offset: 8, length: 4 }] }, new Uint8Array(12)), [/bytes 4 to 8 of the data section belong to no tensor/, /'b'/]],
    ['bytes before the first tensor', () => build({ ...goodHeader(), tensors: [{ name: 'a', shape: [1], offset: 4, length: 4 }] }, new Uint8Array(8)), [/bytes 0 to 4/, /no tensor/]],
    ['a tensor size far beyond the file (nothing allocated for it)', () => build({ ...goodHeader(), tensors: [{ name: 'a', shape: [100000, 100000], offset: 0, length: 40000000000 }] }, new Uint8Array(8)), [/'a' needs data bytes 0 to 40000000000/, /only 8 bytes/]],
    ['tensor without its CRC-32', () => build({ ...goodHeader(), tensors: [{ name: 'a', shape: [2], offset: 0, length: 8, crc32: undefined }] }, new Uint8Array(8)), [/tensor 'a': crc32 must be the CRC-32 of its bytes/, /got undefined/]],
    ['tensor CRC-32 not a 32-bit integer', () => build({ ...goodHeader(), tensors: [{ name: 'a', shape: [2], offset: 0, length: 8, crc32: 2 ** 32 }] }, new Uint8Array(8)), [/crc32 must be/, /4294967296/]],
    ['header CRC-32 does not match', () => build(goodHeader(), goodData(), { headerCrc: 0x12345678 }), [/the header fails its CRC-32 check \(stored 0x12345678, computed 0x[0-9a-f]{8}\)/, /changed or damaged after it was written/]],
    ['tensor CRC-32 does not match', () => build({ ...goodHeader(), tensors: [{ name: 'a', shape: [2, 3], offset: 0, length: 24 }, { name: 'b', shape: [2], offset: 24, length: 8, crc32: 0xdeadbeef }] }, goodData()), [/tensor 'b' fails its CRC-32 check \(stored 0xdeadbeef, computed 0x6522df69\): the file was changed or damaged after it was written/]],
  ];
  for (const [name, make, patterns] of cases) {
    test(`malformed: ${name} -> DataError naming the source`, () => {
      throwsWith(() => decodeCheckpoint(make(), '/some/dir/model.stride'), DataError, /\/some\/dir\/model\.stride/, ...patterns);
    });
  }

  test('training state: format v2, optimizer buffers as prefixed tensors, its numbers and the generators in the header', () => {
    const model = new LeNet5({ generator: new Generator(3) });
    const opt = new optim.Adam(model, { lr: 0.002 });
    const x = randn([4, 1, 28, 28], { generator: new Generator(1) });
    F.crossEntropy(model.forward(x), tensor([0, 1, 2, 3])).backward();
    opt.step();
    const g = new Generator(9);
    g.normal();
    const training = { epoch: 1, epochs: 3, optimizer: { name: opt.name, ...opt.stateDict() }, scheduler: { schedule: 'cosine', step: 1, totalSteps: 3 }, generators: { g: g.getState() } };
    const bytes = encodeCheckpoint({ model: 'lenet5', state: model.stateDict(), training });
    const decoded = decodeCheckpoint(bytes, 'memory');
    assert.equal(decoded.header.format, TRAINING_CHECKPOINT_FORMAT);
    const names = decoded.header.tensors.map((t) => t.name);
    assert.deepEqual(names.slice(0, 10), Object.keys(model.stateDict()));
    assert.deepEqual(names.slice(10, 13), ['optimizer.state.0.expAvg', 'optimizer.state.0.expAvgSq', 'optimizer.state.1.expAvg'], 'per parameter, in stateDict order');
    assert.equal(names.length, 30, '10 weights and 2 moments for each of the 10 parameters');
    assert.deepEqual(Object.keys(decoded.state), Object.keys(model.stateDict()), 'state holds the model only');
    const t = decoded.training!;
    assert.equal(t.optimizer.name, 'Adam');
    assert.equal(t.optimizer.stepCount, 1);
    assert.equal(t.optimizer.state[0].step, 1);
    assert.deepEqual(t.optimizer.paramGroups, JSON.parse(JSON.stringify(opt.stateDict().paramGroups)));
    assert.deepEqual(t.generators.g, g.getState());
    assert.deepEqual(t.scheduler, { schedule: 'cosine', step: 1, totalSteps: 3 });
    const before = opt.stateDict();
    for (let i = 0; i < 10; i++) {
      for (const key of ['expAvg', 'expAvgSq']) assert.deepEqual((t.optimizer.state[i][key] as Tensor).data, (before.state[i][key] as Tensor).data, `${i}.${key}`);
    }
    // What a v1 reader gets: the format named, not tensors it does not know.
    throwsWith(() => decodeCheckpoint(build({ ...goodHeader(), format: 'stride-checkpoint-v3' }, goodData()), 'x'), DataError, /"stride-checkpoint-v3"/);
    const fresh = new optim.Adam(new LeNet5({ generator: new Generator(4) }), { lr: 0.1 });
    fresh.loadStateDict(t.optimizer);
    assert.equal(fresh.lr, 0.002, 'the decoded optimizer state loads as it is');
  });

  test('a v1 checkpoint has no training state; encode writes v1 without one', () => {
    const v1 = decodeCheckpoint(build(goodHeader(), goodData()), 'x');
    assert.equal(v1.header.format, CHECKPOINT_FORMAT);
    assert.equal(v1.training, undefined);
    assert.equal(decodeCheckpoint(encodeCheckpoint({ model: 'm', state: {} }), 'y').header.format, 'stride-checkpoint-v1');
  });

  const v2 = (training: unknown, tensors: unknown[] = [], data = new Uint8Array(0)) => build({ ...goodHeader(), format: TRAINING_CHECKPOINT_FORMAT, tensors, training }, data);
  const goodTraining = () => ({ epoch: 1, epochs: 2, optimizer: { name: 'SGD', stepCount: 4, paramGroups: [{ lr: 0.1, params: [0, 1] }], state: {} }, generators: { g: { state: [1, 2, 3, 4], spareNormal: null } } });
  const badTraining: [string, () => Uint8Array, RegExp[]][] = [
    ['v2 without training', () => v2(undefined), [/'training' must be an object/]],
    ['epoch past epochs', () => v2({ ...goodTraining(), epoch: 3 }), [/training\.epoch must be an integer in \[0, 2\], got 3/]],
    ['optimizer without a name', () => v2({ ...goodTraining(), optimizer: { ...goodTraining().optimizer, name: '' } }), [/optimizer\.name/]],
    ['optimizer tensor of a parameter the groups do not hold', () => v2(goodTraining(), [{ name: 'optimizer.state.2.momentumBuffer', shape: [1], offset: 0, length: 4 }], new Uint8Array(4)), [/'optimizer\.state\.2\.momentumBuffer'/, /parameters 0 to 1/]],
    ['optimizer counter not a number', () => v2({ ...goodTraining(), optimizer: { ...goodTraining().optimizer, state: { 0: { step: 'x' } } } }), [/state\[0\]\.step must be a finite number/]],
    ['generator state malformed', () => v2({ ...goodTraining(), generators: { g: { state: [1, 2], spareNormal: null } } }), [/training\.generators\.g must be/]],
  ];
  for (const [name, make, patterns] of badTraining) {
    test(`malformed training state: ${name} -> DataError naming the source`, () => {
      throwsWith(() => decodeCheckpoint(make(), '/runs/a/model.stride'), DataError, /\/runs\/a\/model\.stride/, ...patterns);
    });
  }

  test('a non-Uint8Array is a ValueError', () => {
    assert.throws(() => decodeCheckpoint('STRIDE01' as any, 'x'), ValueError);
  });
});

describe('checkpoints on disk', () => {
  test('saveCheckpoint / loadCheckpoint round trip (folder or file path)', async () => {
    await withTempDir('stride-ckpt-', async (dir) => {
      const model = new LeNet5({ generator: new Generator(7) });
      const out = join(dir, 'nested', 'run');
      const path = await saveCheckpoint(out, model, { model: 'lenet5', modelOptions: { numClasses: 10, inChannels: 1 }, meta: { dataset: 'mnist', testAccuracy: 0.25 } });
      assert.equal(path, join(out, CHECKPOINT_FILE));
      assert.deepEqual(await readdir(out), [CHECKPOINT_FILE], 'no temporary file is left behind');
      for (const location of [out, path]) {
        const loaded = await loadCheckpoint(location);
        assert.equal(loaded.path, path);
        assert.equal(loaded.header.meta.dataset, 'mnist');
        assert.equal(loaded.header.meta.testAccuracy, 0.25);
        assert.match(String(loaded.header.meta.createdAt), /^\d{4}-\d\d-\d\dT/);
        assert.equal(loaded.model.training, false, 'loaded in eval mode');
        const x = randn([3, 1, 28, 28], { generator: new Generator(2) });
        noGrad(() => assert.deepEqual(loaded.model.forward(x).data, model.forward(x).data));
      }
    });
  });

  test('missing folder, folder without a checkpoint, corrupt file -> DataError', async () => {
    await withTempDir('stride-ckpt-', async (dir) => {
      await rejectsWith(loadCheckpoint(join(dir, 'nope')), DataError, /does not exist/);
      await rejectsWith(loadCheckpoint(dir), DataError, /holds no model\.stride/);
      await writeFile(join(dir, CHECKPOINT_FILE), 'hello, world');
      await rejectsWith(loadCheckpoint(dir), DataError, /model\.stride/, /wrong magic/);
    });
  });

  test('a checkpoint naming an unknown model or with tensors that do not fit -> DataError naming the file', async () => {
    await withTempDir('stride-ckpt-', async (dir) => {
      const state = new LeNet5({ generator: new Generator(0) }).stateDict();
      await writeFile(join(dir, CHECKPOINT_FILE), encodeCheckpoint({ model: 'resnet999', state }));
      await rejectsWith(loadCheckpoint(dir), DataError, /model\.stride/, /header field 'model' is "resnet999", which is neither a model in the registry/);
      await writeFile(join(dir, CHECKPOINT_FILE), encodeCheckpoint({ model: 'lenet5', modelOptions: { numClasses: 5 }, state }));
      await rejectsWith(loadCheckpoint(dir), DataError, /model\.stride/, /fc3\.weight/);
      const { 'fc3.bias': _, ...missing } = state;
      await writeFile(join(dir, CHECKPOINT_FILE), encodeCheckpoint({ model: 'lenet5', state: missing }));
      await rejectsWith(loadCheckpoint(dir), DataError, /missing fc3\.bias/);
    });
  });
});

describe('writeFileAtomic', () => {
  test('writes the bytes and leaves no temporary file', async () => {
    await withTempDir('stride-ckpt-', async (dir) => {
      const path = join(dir, 'f.bin');
      await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
      await writeFileAtomic(path, new Uint8Array([4, 5]));
      assert.deepEqual([...(await readFile(path))], [4, 5]);
      assert.deepEqual(await readdir(dir), ['f.bin']);
    });
  });

  const failing = (where: 'write' | 'rename'): AtomicWriteFs => ({
    async writeNew(path, bytes) {
      if (where === 'write') {
        await writeFile(path, bytes.subarray(0, 2)); // half written, then the disk fills up
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      }
      await nodeAtomicFs.writeNew(path, bytes);
    },
    async rename(from, to) {
      if (where === 'rename') throw Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' });
      await nodeAtomicFs.rename(from, to);
    },
    unlink: nodeAtomicFs.unlink,
  });

  for (const where of ['write', 'rename'] as const) {
    test(`a failing ${where} keeps the previous file and removes the temporary one`, async () => {
      await withTempDir('stride-ckpt-', async (dir) => {
        const path = join(dir, CHECKPOINT_FILE);
        await writeFile(path, 'previous checkpoint');
        await assert.rejects(writeFileAtomic(path, new Uint8Array(100).fill(7), failing(where)), where === 'write' ? /ENOSPC/ : /EXDEV/);
        assert.equal(await readFile(path, 'utf8'), 'previous checkpoint');
        assert.deepEqual(await readdir(dir), [CHECKPOINT_FILE]);
      });
    });
  }

  test('a rename the file system refuses (target is a non-empty folder) rejects and cleans up', async () => {
    await withTempDir('stride-ckpt-', async (dir) => {
      const target = join(dir, 'target');
      await mkdir(target);
      await writeFile(join(target, 'keep'), 'x');
      await assert.rejects(writeFileAtomic(target, new Uint8Array([1])));
      assert.deepEqual(await readdir(dir), ['target']);
      assert.equal(await readFile(join(target, 'keep'), 'utf8'), 'x');
    });
  });

  test('a failed save keeps the previous checkpoint loadable', async () => {
    await withTempDir('stride-ckpt-', async (dir) => {
      const first = new LeNet5({ generator: new Generator(1) });
      await saveCheckpoint(dir, first, { model: 'lenet5' });
      const before = await readFile(join(dir, CHECKPOINT_FILE));
      const bytes = encodeCheckpoint({ model: 'lenet5', state: new LeNet5({ generator: new Generator(2) }).stateDict() });
      await assert.rejects(writeFileAtomic(join(dir, CHECKPOINT_FILE), bytes, failing('write')));
      assert.deepEqual(await readFile(join(dir, CHECKPOINT_FILE)), before);
      const { model } = await loadCheckpoint(dir);
      assert.deepEqual(model.stateDict()['fc3.bias'].data, first.stateDict()['fc3.bias'].data);
    });
  });
});

describe('CRC-32', () => {
  test('the IEEE CRC-32 of zip and PyTorch: check values, and zlib\'s for lengths 0 to 100 and 1 MiB, in pieces too', () => {
    const text = (s: string) => new TextEncoder().encode(s);
    assert.equal(crc32(new Uint8Array(0)), 0);
    assert.equal(crc32(text('123456789')), 0xcbf43926);
    assert.equal(crc32(text('The quick brown fox jumps over the lazy dog')), 0x414fa339);
    const g = new Generator(8);
    const random = (n: number) => Uint8Array.from({ length: n }, () => g.randint(256));
    for (let n = 0; n <= 100; n++) {
      const b = random(n);
      assert.equal(crc32(b), zlibCrc32(b), `length ${n}`);
      const k = g.randint(n + 1);
      assert.equal(crc32(b.subarray(k), crc32(b.subarray(0, k))), zlibCrc32(b), `length ${n} in two pieces at ${k}`);
    }
    const big = random(1 << 20);
    assert.equal(crc32(big), zlibCrc32(big));
    assert.equal(crc32(big.subarray(3, 1000003)), zlibCrc32(big.subarray(3, 1000003)), 'a view at an odd offset');
  });

  test('arguments are checked', () => {
    throwsWith(() => crc32([1, 2, 3] as unknown as Uint8Array), ValueError, 'Uint8Array');
    throwsWith(() => crc32(new Uint8Array(1), 2 ** 32), ValueError, 'previous', '4294967296');
  });
});

/** A decoded checkpoint as one string: its header and every tensor's shape and bytes. */
function fingerprint(d: { header: unknown; state: Record<string, Tensor>; training?: { optimizer: { state: Record<number, Record<string, Tensor | number>> } } }): string {
  const bytesOf = (t: Tensor) => `${t.shape.join('x')}:${Buffer.from(new Float32Array(t.data).buffer).toString('base64')}`;
  const tensors = Object.entries(d.state).map(([k, t]) => `${k}=${bytesOf(t)}`);
  for (const [i, entry] of Object.entries(d.training?.optimizer.state ?? {})) {
    for (const [k, v] of Object.entries(entry)) tensors.push(`opt.${i}.${k}=${v instanceof Tensor ? bytesOf(v) : v}`);
  }
  return `${JSON.stringify(d.header)}\n${tensors.join('\n')}`;
}

/**
 * Flips bytes of `bytes` one at a time (in place, restored after) and decodes
 * each result: how many were refused with a DataError, how many decoded to
 * the same checkpoint, and where one decoded to a different one. Anything
 * else thrown fails the test.
 */
function flipEach(bytes: Uint8Array, flips: { at: number; mask: number }[]): { refused: number; same: number; changed: number[]; messages: string[] } {
  const original = fingerprint(decodeCheckpoint(bytes, 'original'));
  const out = { refused: 0, same: 0, changed: [] as number[], messages: [] as string[] };
  for (const { at, mask } of flips) {
    bytes[at] ^= mask;
    try {
      const d = decodeCheckpoint(bytes, 'flipped');
      if (fingerprint(d) === original) out.same++;
      else out.changed.push(at);
    } catch (err) {
      if (!(err instanceof DataError)) throw new Error(`flipping byte ${at} with 0x${mask.toString(16)} threw ${(err as Error).name}: ${(err as Error).message}`);
      out.refused++;
      out.messages.push(err.message);
    } finally {
      bytes[at] ^= mask;
    }
  }
  return out;
}

describe('checksums: a changed byte anywhere is refused', () => {
  test('a small checkpoint: every byte, each flipped three ways (one low bit, the high bit, all bits), is refused with a DataError', async () => {
    const g = new Generator(4);
    const state = { 'conv.weight': randn([2, 1, 3, 3], { generator: g }), 'conv.bias': randn([2], { generator: g }), 'fc.weight': randn([3, 8], { generator: g }), 'fc.bias': randn([3], { generator: g }) };
    const bytes = encodeCheckpoint({ model: 'm', state, meta: { note: 'x' } });
    const flips = [...bytes.keys()].flatMap((at) => [0x01, 0x80, 0xff].map((mask) => ({ at, mask })));
    const r = flipEach(bytes, flips);
    assert.equal(r.changed.length, 0, `${r.changed.length} flips changed the checkpoint without an error, at bytes ${r.changed.slice(0, 20).join(', ')}...`);
    assert.equal(r.same, 0, 'no byte of the file is ignored');
    assert.equal(r.refused, flips.length);
    assert.equal(flips.length, 3 * bytes.length);
    // The same flips in the layout without checksums: some decode to other values and nothing says so, which is what the checksums are for.
    const unchecked = uncheckedCopy(bytes);
    const { result: old } = await collectWarnings(() => flipEach(unchecked, flips.filter((f) => f.at < unchecked.length)));
    ok(old.changed.length > 0, 'without checksums a changed tensor value decodes silently');
  });

  test('a saved LeNet-5 training checkpoint: every header byte (prefix, JSON, padding) and bytes of every tensor, flipped: 0 decode to different tensors, every one is refused', async () => {
    await withTempDir('stride-ckpt-', async (dir) => {
      const model = new LeNet5({ generator: new Generator(3) });
      const opt = new optim.SGD(model, { lr: 0.1, momentum: 0.9 });
      F.crossEntropy(model.forward(randn([4, 1, 28, 28], { generator: new Generator(1) })), tensor([0, 1, 2, 3])).backward();
      opt.step();
      const training = { epoch: 1, epochs: 2, optimizer: { name: opt.name, ...opt.stateDict() }, generators: { generator: new Generator(5).getState() } };
      // A note of the length that leaves the header padded (1 to 3 spaces before the data).
      let bytes = new Uint8Array(0);
      let textEnd = 0;
      let dataStart = 0;
      for (let extra = 0; extra < 4 && dataStart === textEnd; extra++) {
        await saveCheckpoint(dir, model, { model: 'lenet5', meta: { note: 'x'.repeat(extra) }, training });
        bytes = new Uint8Array(await readFile(join(dir, CHECKPOINT_FILE)));
        const length = new DataView(bytes.buffer).getUint32(12, true);
        dataStart = 16 + length;
        textEnd = 16 + new TextDecoder().decode(bytes.subarray(16, dataStart)).trimEnd().length;
      }
      ok(dataStart > textEnd, 'the header has padding');
      const { header } = decodeCheckpoint(bytes, 'saved');
      assert.equal(header.tensors.length, 20, 'LeNet-5\'s 10 tensors and the 10 momentum buffers');
      const g = new Generator(11);
      const mask = () => 1 + g.randint(255);
      const flips: { at: number; mask: number; region: string }[] = [];
      for (let at = 0; at < dataStart; at++) flips.push({ at, mask: mask(), region: at < 16 ? 'prefix' : at < textEnd ? 'header JSON' : 'padding' });
      for (const t of header.tensors) {
        const start = dataStart + t.offset;
        const picks = new Set([start, start + t.length - 1, ...Array.from({ length: 16 }, () => start + g.randint(t.length))]);
        for (const at of picks) flips.push({ at, mask: mask(), region: t.name });
      }
      const r = flipEach(bytes, flips);
      assert.equal(r.changed.length, 0, `${r.changed.length} flips changed the checkpoint without an error, at bytes ${r.changed.slice(0, 20).join(', ')}...`);
      assert.equal(r.same, 0);
      assert.equal(r.refused, flips.length);
      const regions = new Set(flips.map((f) => f.region));
      assert.equal(regions.size, 3 + 20, 'flips in the prefix, the JSON, the padding and each of the 20 tensors');
      // A flipped tensor byte is named with its tensor; a flipped padding byte by the header's check.
      for (const t of header.tensors) ok(r.messages.some((m) => m.includes(`tensor '${t.name}' fails its CRC-32 check`)), t.name);
      ok(r.messages.some((m) => m.includes('the header fails its CRC-32 check')));
    });
  });

  test('loadCheckpoint refuses a changed file, naming the tensor and both CRC-32s', async () => {
    await withTempDir('stride-ckpt-', async (dir) => {
      const model = new LeNet5({ generator: new Generator(6) });
      const path = await saveCheckpoint(dir, model, { model: 'lenet5' });
      const bytes = new Uint8Array(await readFile(path));
      const dataStart = 16 + new DataView(bytes.buffer).getUint32(12, true);
      const { header } = decodeCheckpoint(bytes, path);
      const conv1 = header.tensors.find((t) => t.name === 'conv1.weight')!;
      bytes[dataStart + conv1.offset + 7] ^= 0x10;
      await writeFile(path, bytes);
      const stored = `0x${conv1.crc32!.toString(16).padStart(8, '0')}`;
      const computed = `0x${zlibCrc32(bytes.subarray(dataStart + conv1.offset, dataStart + conv1.offset + conv1.length)).toString(16).padStart(8, '0')}`;
      await rejectsWith(loadCheckpoint(dir), DataError,
        `checkpoint ${path}: tensor 'conv1.weight' fails its CRC-32 check (stored ${stored}, computed ${computed}): the file was changed or damaged after it was written`);
      bytes[dataStart + conv1.offset + 7] ^= 0x10;
      bytes[20] ^= 0x01; // in the header's JSON
      await writeFile(path, bytes);
      await rejectsWith(loadCheckpoint(dir), DataError, path, /the header fails its CRC-32 check \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)/);
    });
  });
});

describe('checkpoints written before the checksums (STRIDE01)', () => {
  const fixture = join(repoRoot, 'test', 'fixtures', 'perceptron-stride01.stride');

  test('a file the encoder before the checksums wrote loads, values intact, with a warning that it cannot be verified', async () => {
    // Made with that encoder: a perceptron whose weight [784] and bias [1] were drawn by randn from Generator(5), in that order.
    const g = new Generator(5);
    const weight = randn([784], { generator: g });
    const bias = randn([1], { generator: g });
    const bytes = new Uint8Array(await readFile(fixture));
    assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), UNCHECKED_CHECKPOINT_MAGIC);
    const { result: loaded, warnings } = await collectWarnings(() => loadCheckpoint(fixture));
    assert.deepEqual(loaded.model.stateDict().weight.data, weight.data);
    assert.deepEqual(loaded.model.stateDict().bias.data, bias.data);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0].code, 'STRIDE_CHECKPOINT_UNVERIFIED');
    const expected = `checkpoint ${fixture} was written before Stride checkpoints carried checksums (layout STRIDE01), so it cannot be verified`;
    ok(warnings[0].message.startsWith(expected), warnings[0].message);
    const decoded = (await collectWarnings(() => decodeCheckpoint(bytes, 'fixture'))).result;
    assert.equal(decoded.verified, false);
    assert.equal(decoded.header.tensors[0].crc32, undefined);
  });

  test('saving it again writes the checksummed layout, which loads verified and without a warning', async () => {
    await withTempDir('stride-ckpt-', async (dir) => {
      const { result: old } = await collectWarnings(() => loadCheckpoint(fixture));
      const path = await saveCheckpoint(dir, old.model, { model: old.header.model, modelOptions: old.header.modelOptions, meta: old.header.meta });
      const bytes = new Uint8Array(await readFile(path));
      assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), CHECKPOINT_MAGIC);
      const { result: again, warnings } = await collectWarnings(() => decodeCheckpoint(bytes, path));
      assert.deepEqual(warnings, []);
      assert.equal(again.verified, true);
      assert.deepEqual(again.state.weight.data, old.model.stateDict().weight.data);
    });
  });

  test('a training checkpoint in the old layout decodes to the same weights and training state as the checksummed one', async () => {
    const model = new LeNet5({ generator: new Generator(2) });
    const opt = new optim.Adam(model, { lr: 0.01 });
    F.crossEntropy(model.forward(randn([2, 1, 28, 28], { generator: new Generator(3) })), tensor([4, 7])).backward();
    opt.step();
    const bytes = encodeCheckpoint({ model: 'lenet5', state: model.stateDict(), training: { epoch: 1, epochs: 3, optimizer: { name: opt.name, ...opt.stateDict() }, generators: { g: new Generator(1).getState() } } });
    const current = decodeCheckpoint(bytes, 'new');
    const { result: old, warnings } = await collectWarnings(() => decodeCheckpoint(uncheckedCopy(bytes), 'old'));
    assert.equal(warnings.length, 1);
    assert.equal(old.verified, false);
    const withoutCrcs = { ...current, header: { ...current.header, tensors: current.header.tensors.map(({ crc32: _, ...t }) => t) } };
    assert.equal(fingerprint(old), fingerprint(withoutCrcs));
    assert.deepEqual(old.training?.optimizer.paramGroups, current.training?.optimizer.paramGroups);
  });

  test('a malformed old file is a DataError, without the warning', async () => {
    const { warnings } = await collectWarnings(() => {
      throwsWith(() => decodeCheckpoint(build(goodHeader(), new Uint8Array(30), { unchecked: true }), 'old.stride'), DataError, 'old.stride', /'b'/, /truncated/);
      throwsWith(() => decodeCheckpoint(build({ ...goodHeader(), model: 5 }, goodData(), { unchecked: true }), 'old.stride'), DataError, /'model'/);
    });
    assert.deepEqual(warnings, []);
    const { result, warnings: once } = await collectWarnings(() => decodeCheckpoint(build(goodHeader(), goodData(), { unchecked: true }), 'old.stride'));
    assert.deepEqual(result.state.a.shape, [2, 3]);
    assert.equal(once.length, 1);
  });
});

describe('the header is checked before the model is built', () => {
  const lenetState = () => new LeNet5({ generator: new Generator(0) }).stateDict();
  /** Writes a checkpoint (with valid CRC-32s: the file is as written, only its description is wrong) and loads it. */
  const load = async (dir: string, model: string, modelOptions: Record<string, JsonValue>, state = lenetState()) => {
    await writeFile(join(dir, CHECKPOINT_FILE), encodeCheckpoint({ model, modelOptions, state }));
    return loadCheckpoint(dir);
  };

  test("a model name that is not the registry's own entry ('__proto__', 'constructor', 'toString', 'hasOwnProperty') is a DataError, not a TypeError", async () => {
    await withTempDir('stride-ckpt-', async (dir) => {
      for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
        await rejectsWith(load(dir, name, {}), DataError, join(dir, CHECKPOINT_FILE), `header field 'model' is "${name}", which is neither a model in the registry (lenet5, `, 'nor a layer pattern');
      }
    });
  });

  test('numClasses or inChannels beyond the values stored are refused before anything is built', async () => {
    await withTempDir('stride-ckpt-', async (dir) => {
      await rejectsWith(load(dir, 'lenet5', { numClasses: 1e9 }), DataError, 'modelOptions.numClasses is 1000000000', 'from 1 to 61706, the values the file stores', 'does not describe its tensors');
      await rejectsWith(load(dir, 'resnet18', { inChannels: 2 ** 40 }), DataError, `modelOptions.inChannels is ${2 ** 40}`, 'from 1 to 61706');
      await rejectsWith(load(dir, 'lenet5', { numClasses: 0 }), DataError, 'modelOptions.numClasses is 0');
      await rejectsWith(load(dir, 'lenet5', { numClasses: 'ten' }), DataError, 'modelOptions.numClasses is "ten"');
    });
  });

  test('a model whose parameters would exceed the values stored stops building before it allocates them', async () => {
    await withTempDir('stride-ckpt-', async (dir) => {
      // LeNet-5 for 100000x100000 images: fc1 alone would be 120 x 16 x 24998 x 24998 = 1.2e12 values (4.8 TB), which no allocation survives.
      await rejectsWith(load(dir, 'lenet5', { inputShape: [1, 100000, 100000] }), DataError, "model 'lenet5' with modelOptions", 'needs at least', 'more than the 61706 the file stores', 'refused before they were allocated');
      // 200x200: 120 x 16 x 48 x 48 = 4.4M values for fc1, allocatable but not what the file holds: refused by the limit, not after building.
      await rejectsWith(load(dir, 'lenet5', { inputShape: [1, 200, 200] }), DataError, 'needs at least', 'more than the 61706');
      // A pattern whose layers the file cannot hold.
      await rejectsWith(load(dir, '(conv3-4096-relu)*4-fc10', {}), DataError, "model '(conv3-4096-relu)*4-fc10'", 'needs at least');
      // The same file with its own description loads.
      const { model } = await load(dir, 'lenet5', { inputShape: [1, 28, 28] });
      assert.deepEqual(model.stateDict()['fc3.bias'].data, lenetState()['fc3.bias'].data);
    });
  });

  test('a generator in modelOptions is refused (a file holds none); a malformed option is a DataError naming the file', async () => {
    await withTempDir('stride-ckpt-', async (dir) => {
      await rejectsWith(load(dir, 'lenet5', { generator: { state: [1, 2, 3, 4] } }), DataError, "modelOptions has a 'generator'");
      await rejectsWith(load(dir, 'lenet5', { inputShape: [1, 28] }), DataError, join(dir, CHECKPOINT_FILE), 'inputShape must be');
      await rejectsWith(load(dir, 'lenet5', { dropout: 0.5 }), DataError, join(dir, CHECKPOINT_FILE), "unknown option 'dropout'");
    });
  });

  test('modelFromCheckpoint (the public API the browser uses) makes the same checks on decoded bytes', () => {
    const state = lenetState();
    const decode = (model: string, modelOptions: Record<string, JsonValue>) => decodeCheckpoint(encodeCheckpoint({ model, modelOptions, state }), 'shipped.stride');
    throwsWith(() => modelFromCheckpoint(decode('toString', {}), 'shipped.stride'), DataError, 'checkpoint shipped.stride: ', 'neither a model in the registry');
    throwsWith(() => modelFromCheckpoint(decode('lenet5', { numClasses: 1e9 }), 'shipped.stride'), DataError, 'modelOptions.numClasses is 1000000000');
    const model = modelFromCheckpoint(decode('lenet5', {}), 'shipped.stride');
    assert.equal(model.training, false);
    assert.deepEqual(model.stateDict()['conv1.weight'].data, state['conv1.weight'].data);
    throwsWith(() => modelFromCheckpoint(null as never, 'x'), ValueError, 'decodeCheckpoint returns');
  });
});

/** The id of a process that has exited (spawned and waited for; checked not to have been given to another since). */
function deadPid(): number {
  for (;;) {
    const { pid } = spawnSync(process.execPath, ['-e', '']);
    try {
      process.kill(pid!, 0);
    } catch {
      return pid!;
    }
  }
}

describe('atomic saves: temporary files and folders', () => {
  test("a save removes its target's temporary files left by processes that no longer run, and no other file", async () => {
    await withTempDir('stride-ckpt-', async (dir) => {
      const dead = deadPid();
      const stale = [`model.stride.tmp-${dead}-0123456789ab`, `model.stride.tmp-${process.pid}-ba9876543210`];
      const kept = [
        `model.stride.tmp-${process.ppid}-00000000cafe`, // a process that runs: maybe saving now
        `other.bin.tmp-${dead}-0123456789ab`, // another target's
        'model.stride.tmp-notes', `model.stride.tmp-${dead}-0123456789ab.bak`, `model.stride.tmp-${dead}-XYZ456789abc`, // not the pattern
      ];
      for (const name of [...stale, ...kept]) await writeFile(join(dir, name), 'half a checkpoint');
      await saveCheckpoint(dir, new LeNet5({ generator: new Generator(1) }), { model: 'lenet5' });
      assert.deepEqual((await readdir(dir)).sort(), [CHECKPOINT_FILE, ...kept].sort());
    });
  });

  test('concurrent saves in one process to one target leave one complete checkpoint and no temporary file', async () => {
    await withTempDir('stride-ckpt-', async (dir) => {
      const models = [1, 2, 3, 4].map((seed) => new LeNet5({ generator: new Generator(seed) }));
      await Promise.all(models.map((m, i) => saveCheckpoint(dir, m, { model: 'lenet5', meta: { i } })));
      assert.deepEqual(await readdir(dir), [CHECKPOINT_FILE]);
      const { model, header } = await loadCheckpoint(dir);
      assert.deepEqual(model.stateDict()['fc1.weight'].data, models[header.meta.i as number].stateDict()['fc1.weight'].data);
    });
  });

  test('saveCheckpoint to a path that is a file says so (not mkdir\'s EEXIST)', async () => {
    await withTempDir('stride-ckpt-', async (dir) => {
      const file = join(dir, 'taken');
      await writeFile(file, 'x');
      for (const format of ['stride', 'safetensors'] as const) {
        await rejectsWith(saveCheckpoint(file, new LeNet5(), { model: 'lenet5', format }), ValueError,
          `saveCheckpoint: dir ${file} is an existing file, not a folder (the folder is to hold model.${format}); name a folder, new or existing, or move the file away`);
      }
      assert.equal(await readFile(file, 'utf8'), 'x');
    });
  });
});

describe('saves killed at random moments', () => {
  // A child process saves LeNet-5 checkpoints in a loop, step after step (every value of step k is the seed-0 value + k), and
  // reports each save once its promise resolved; it is killed (SIGKILL) after a seeded random delay. After each kill the checkpoint
  // must load, verified, and be the last one reported or the next (renamed before it could be reported), every value of one step.
  const KILLS = 32;
  const nodeFs = pathToFileURL(join(repoRoot, 'src', 'io', 'node-fs.ts')).href;
  const lenet = pathToFileURL(join(repoRoot, 'src', 'models', 'lenet5.ts')).href;
  const random = pathToFileURL(join(repoRoot, 'src', 'tensor', 'random.ts')).href;
  const child = (dir: string, first: number) => `
    import { saveCheckpoint } from ${JSON.stringify(nodeFs)};
    import { LeNet5 } from ${JSON.stringify(lenet)};
    import { Generator } from ${JSON.stringify(random)};
    const model = new LeNet5({ generator: new Generator(0) });
    const tensors = Object.values(model.stateDict());
    const base = tensors.map((t) => Float32Array.from(t.data));
    process.stdout.write('ready\\n');
    for (let step = ${first}; ; step++) {
      tensors.forEach((t, k) => { for (let i = 0; i < t.size; i++) t.data[i] = base[k][i] + step; });
      await saveCheckpoint(${JSON.stringify(dir)}, model, { model: 'lenet5', meta: { step } });
      process.stdout.write('saved ' + step + '\\n');
    }`;
  const base = Object.values(new LeNet5({ generator: new Generator(0) }).stateDict()).map((t) => Float32Array.from(t.data));
  const stepOf = (state: Record<string, Tensor>): number => {
    const tensors = Object.values(state);
    const step = Math.round(tensors[0].data[0] - base[0][0]);
    tensors.forEach((t, k) => {
      for (let i = 0; i < t.size; i++) if (t.data[i] !== Math.fround(base[k][i] + step)) assert.fail(`tensor ${k} value ${i} is not step ${step}'s: a mix of two saves`);
    });
    return step;
  };

  test(`${KILLS} kills: the checkpoint always loads, verified, as the previous or the new save; temporary files never pile up and none is left after the next save`, async (t) => {
    await withTempDir('stride-kill-', async (dir) => {
      const model = new LeNet5({ generator: new Generator(0) });
      await saveCheckpoint(dir, model, { model: 'lenet5', meta: { step: 0 } });
      const delays = new Generator(2025);
      let last = 0;
      let leftTmp = 0;
      let midFirstSave = 0;
      for (let kill = 0; kill < KILLS; kill++) {
        const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child(dir, last + 1)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        proc.stderr.on('data', (d) => (err += d));
        const closed = new Promise<NodeJS.Signals | null>((resolve) => proc.on('close', (_code, signal) => resolve(signal)));
        await new Promise<void>((resolve, reject) => {
          proc.stdout.on('data', (d) => {
            out += d;
            if (out.startsWith('ready\n')) resolve();
          });
          proc.on('close', () => reject(new Error(`the saving process ended before it was ready: ${err}`)));
        });
        await new Promise((resolve) => setTimeout(resolve, delays.randint(150)));
        proc.kill('SIGKILL');
        assert.equal(await closed, 'SIGKILL', `killed, not ended: ${err}`);
        const reported = [...out.matchAll(/^saved (\d+)$/gm)].map((m) => Number(m[1]));
        const lastReported = reported.length > 0 ? reported[reported.length - 1] : last;
        if (reported.length === 0) midFirstSave++;
        const { state, verified, header } = await readCheckpoint(dir);
        assert.equal(verified, true);
        const step = stepOf(state);
        assert.equal(header.meta.step, step);
        ok(step === lastReported || step === lastReported + 1, `after kill ${kill}: step ${step}, but the last save reported was ${lastReported}`);
        const tmp = (await readdir(dir)).filter((n) => n !== CHECKPOINT_FILE);
        ok(tmp.length <= 1 && tmp.every((n) => /^model\.stride\.tmp-\d+-[0-9a-f]{12}$/.test(n)), `after kill ${kill}: ${tmp.join(', ')}`);
        leftTmp += tmp.length;
        last = step;
      }
      t.diagnostic(`${KILLS} kills, last step ${last}; ${leftTmp} left a temporary file; ${midFirstSave} came before the first save was reported`);
      ok(last > KILLS / 2, `the saving processes got to save (last step ${last})`);
      await saveCheckpoint(dir, model, { model: 'lenet5', meta: { step: last + 1 } });
      assert.deepEqual(await readdir(dir), [CHECKPOINT_FILE]);
    });
  });
});
