import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { DataError, F, Generator, LeNet5, Tensor, ValueError, createModel, noGrad, optim, randn, tensor } from '../../src/index.js';
import { loadCheckpoint, nodeAtomicFs, saveCheckpoint, writeFileAtomic, type AtomicWriteFs } from '../../src/node.js';
import { CHECKPOINT_FILE, CHECKPOINT_FORMAT, CHECKPOINT_MAGIC, TRAINING_CHECKPOINT_FORMAT, decodeCheckpoint, encodeCheckpoint } from '../../src/index.js';
import { rejectsWith, throwsWith, withTempDir } from '../helpers/index.js';

/** Bytes of a checkpoint with an arbitrary header (any JSON text) and data section. */
function build(header: unknown, data: Uint8Array = new Uint8Array(0), options: { magic?: string; headerLength?: number; raw?: Uint8Array } = {}): Uint8Array {
  const json = options.raw ?? new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(12 + json.length + data.length);
  const magic = options.magic ?? CHECKPOINT_MAGIC;
  for (let i = 0; i < 8; i++) out[i] = magic.charCodeAt(i);
  new DataView(out.buffer).setUint32(8, options.headerLength ?? json.length, true);
  out.set(json, 12);
  out.set(data, 12 + json.length);
  return out;
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
    assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), 'STRIDE01');
    const { header, state } = decodeCheckpoint(bytes, 'memory');
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
    // data starts 4-byte aligned
    const headerLength = new DataView(bytes.buffer).getUint32(8, true);
    assert.equal((12 + headerLength) % 4, 0);

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
    ['bad magic', () => build(goodHeader(), goodData(), { magic: 'GARBAGE!' }), [/wrong magic "GARBAGE!"/, /expected "STRIDE01"/]],
    ['other version magic', () => build(goodHeader(), goodData(), { magic: 'STRIDE99' }), [/another version/]],
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
      await rejectsWith(loadCheckpoint(dir), DataError, /model\.stride/, /unknown model 'resnet999'/);
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
