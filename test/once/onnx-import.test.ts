/**
 * importOnnx: files written by exportOnnx and by torch.onnx.export run as
 * Stride modules that give the source model's outputs, keep its state-dict
 * names, and train as it does; files Stride cannot run are refused by name.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { DataError, ValueError } from '../../src/errors.js';
import { exportOnnx } from '../../src/io/onnx/export.js';
import { importOnnx, OnnxModule } from '../../src/io/onnx/import.js';
import { encodeOnnx, ONNX_DTYPE, type OnnxModel } from '../../src/io/onnx/proto.js';
import { createModel } from '../../src/models/index.js';
import { buildModelFromPattern } from '../../src/models/pattern.js';
import type { Module } from '../../src/nn/module.js';
import { pytorchName } from '../../src/nn/pytorch-names.js';
import { summary, type ModelSummary } from '../../src/nn/summary.js';
import {
  AvgPool2d, BatchNorm2d, Conv2d, ConvTranspose2d, Dropout, ELU, Flatten, GELU, LeakyReLU, Linear, LocalResponseNorm, MaxPool2d, ReLU, Sequential, SiLU, Softmax, Upsample,
} from '../../src/nn/index.js';
import { mseLoss } from '../../src/ops/index.js';
import { SGD } from '../../src/optim/index.js';
import { Generator } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { runTorch, throwsWith, withTempDir } from '../helpers/index.js';

function randomTensor(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  const t = new Tensor(new Float32Array(shape.reduce((p, d) => p * d, 1)), shape);
  new Generator(seed).fillUniform(t.data, lo, hi);
  return t;
}

/** max |a - b| / max |b|: the error relative to the reference's scale. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

/**
 * The same on a scale of at least `floor`: a bias still near its zero
 * initialization after two small steps (AlexNet's, ~1e-3) is compared on the
 * scale 0.1. Equal computations in a different order (exportOnnx writes the
 * padding a convolution reaches, [2, 2, 1, 1] for AlexNet's conv1, where the
 * layer has [2, 2, 2, 2]) differ in the last bits, and a deep ReLU network
 * grows that to ~1e-7 absolute in two steps; a wrong or missing update of
 * such a bias (>= 5e-6) is still >= 5e-5 relative to the floor.
 */
function relErrFloor(a: ArrayLike<number>, b: ArrayLike<number>, floor = 0.1): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  return (relErr(a, b) * Math.max(scale, 1e-12)) / Math.max(scale, floor);
}

/** State the graph does not read (a batch counter) is not in the file. */
const notInGraph = (name: string) => /numBatchesTracked|num_batches_tracked/.test(name);

const figures: string[] = [];

/**
 * summary() of the imported graph against the source model's: the same
 * totals, and each of the model's rows has rows of its name in the graph
 * (exportOnnx names a node by the module that made it; a layer written as
 * several nodes, a padding then a convolution, has several rows) with its
 * output shape, its trainable parameters (those the source holds as buffers
 * are frozen by then) and receptive field, and the last of them its
 * connections and multiply-accumulates. Rows of ops the model calls outside
 * its layers (a residual add) are the graph's only. Dropout writes no node.
 * Layers whose lecture counts are not the graph's computation (`uncounted`:
 * a sparse connection table written as a convolution whose missing
 * connections are zero weights; LeNet-1998's trainable subsampling and its
 * RBF output written as element-wise products and sums) are compared by output,
 * parameters and field only.
 */
function sameSummary(name: string, own: ModelSummary, imported: ModelSummary, uncounted: readonly string[] = []): void {
  assert.equal(imported.trainableParams, own.trainableParams, `${name}: trainable parameters`);
  if (uncounted.length === 0) assert.equal(imported.macs, own.macs, `${name}: multiply-accumulates`);
  let matched = 0;
  for (const row of own.layers) {
    if (row.type === 'Dropout') continue;
    const rows = imported.layers.filter((r) => r.name === row.name);
    assert.ok(rows.length > 0, `${name}: no row '${row.name}' (${row.type}) in the imported graph's summary; it has ${[...new Set(imported.layers.map((r) => r.name))].join(', ')}`);
    const last = rows.at(-1)!;
    const where = `${name}: row '${row.name}' (${row.type}, imported as ${rows.map((r) => r.type).join(' + ')})`;
    assert.deepEqual(last.outputShape, row.outputShape, where);
    assert.equal(rows.reduce((n, r) => n + r.trainableParams, 0), row.trainableParams, `${where}: trainable parameters`);
    if (!uncounted.includes(row.type)) {
      assert.equal(last.connections, row.connections, `${where}: connections`);
      assert.equal(last.macs, row.macs, `${where}: multiply-accumulates`);
    }
    assert.deepEqual(last.receptiveField, row.receptiveField, `${where}: receptive field`);
    matched++;
  }
  figures.push(`${name}: summary rows ${own.layers.length} of the model, ${imported.layers.length} of the graph, ${matched} matched`);
}

/**
 * exportOnnx then importOnnx: the same outputs (eval), the same state-dict
 * names, and the same weights after 2 SGD steps (train mode when `trainMode`,
 * else eval, for models with dropout).
 */
function roundTrip(name: string, model: Module, inputShape: number[], options: { batch?: number; trainMode?: boolean; uncounted?: string[] } = {}): void {
  const batch = options.batch ?? 2;
  model.eval();
  const imported = importOnnx(exportOnnx(model, { inputShape }), { source: `${name}.onnx` });
  assert.ok(imported instanceof OnnxModule);
  imported.eval();
  const x = randomTensor([batch, ...inputShape], 1);
  const want = model.forward(x);
  const got = imported.forward(x);
  assert.deepEqual(got.shape, want.shape);
  const err = relErr(got.data, want.data);
  figures.push(`${name}: max relative error ${err.toExponential(2)}`);
  assert.ok(err < 1e-5, `${name}: outputs differ by ${err} relative`);

  // exportOnnx names the state as PyTorch does (bn1.running_mean for bn1.runningMean); the import keeps the file's names
  const ownKeys = Object.keys(model.stateDict()).filter((k) => !notInGraph(k)).sort();
  assert.deepEqual(Object.keys(imported.stateDict()).sort(), ownKeys.map(pytorchName).sort());
  // weights are parameters, batch norm statistics buffers; a file does not say which other operands are fixed (LeNet-1998's
  // RBF prototypes are a buffer in Stride, a Sub operand in the file): those import as parameters, frozen here as in the source
  const ownParams = new Set([...model.namedParameters()].map(([k]) => pytorchName(k)));
  const ownBuffers = new Set([...model.namedBuffers()].map(([k]) => pytorchName(k)));
  for (const [k, p] of imported.namedParameters()) {
    if (ownParams.has(k)) continue;
    assert.ok(ownBuffers.has(k) && !/running/.test(k), `${name}: '${k}' imports as a parameter`);
    p.requiresGrad_(false);
  }
  sameSummary(name, summary(model, inputShape), summary(imported, inputShape), options.uncounted);
  for (const [k] of imported.namedBuffers()) assert.ok(ownBuffers.has(k), `${name}: '${k}' imports as a buffer`);

  const train = options.trainMode ?? true;
  model.train(train);
  imported.train(train);
  const target = randomTensor([...want.shape], 2);
  const optA = new SGD(model, { lr: 0.05, momentum: 0.9 });
  const optB = new SGD(imported, { lr: 0.05, momentum: 0.9 });
  for (let step = 0; step < 2; step++) {
    for (const [m, opt] of [[model, optA], [imported, optB]] as const) {
      opt.zeroGrad();
      const loss = mseLoss(m.forward(x), target);
      loss.backward();
      opt.step();
    }
  }
  const a = model.stateDict();
  const b = imported.stateDict();
  let worst = 0;
  for (const key of ownKeys) {
    const e = relErrFloor(b[pytorchName(key)].data, a[key].data);
    worst = Math.max(worst, e);
    assert.ok(e < 1e-5, `${name}: '${key}' differs by ${e} relative after 2 SGD steps`);
  }
  figures.push(`${name}: after 2 SGD steps, max relative weight difference ${worst.toExponential(2)}`);
  model.eval();
}

describe('importOnnx: round trip through exportOnnx', () => {
  test('lenet5 (1x28x28)', () => roundTrip('lenet5', createModel('lenet5', { generator: new Generator(0) }), [1, 28, 28]));
  test('resnet20 (3x32x32): batch norm in train mode updates the running statistics as BatchNorm2d', () => {
    const model = createModel('resnet20', { generator: new Generator(0) });
    roundTrip('resnet20', model, [3, 32, 32], { batch: 2 });
  });
  test('lenet5-1998 (1x32x32)', () => {
    roundTrip('lenet5-1998', createModel('lenet5-1998', { inputShape: [1, 32, 32], generator: new Generator(0) }), [1, 32, 32], { uncounted: ['SparseConv2d', 'Subsampling2d', 'EuclideanRBF'] });
  });
  test('alexnet-2012 (3x224x224, one image)', () => {
    roundTrip('alexnet-2012', createModel('alexnet-2012', { generator: new Generator(0) }), [3, 224, 224], { batch: 1, trainMode: false });
  });
  test('a pattern model', () => {
    const model = buildModelFromPattern('conv5-6-relu-pool2-conv5-16-relu-pool2-fc120-relu-fc84-relu-fc4', { inputShape: [1, 28, 28], generator: new Generator(3) });
    roundTrip('pattern', model, [1, 28, 28]);
  });
  test('conv transpose, reflect and replicate padding, ceil-mode average pooling, LRN, up-sampling', () => {
    const g = new Generator(5);
    const model = new Sequential(
      new ConvTranspose2d(3, 4, 3, { stride: 2, padding: 1, outputPadding: 1, generator: g }),
      new Conv2d(4, 4, 3, { padding: 1, paddingMode: 'reflect', generator: g }),
      new LeakyReLU(0.2),
      new Conv2d(4, 4, 3, { padding: 1, paddingMode: 'replicate', generator: g }),
      new ELU(0.7),
      new AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
      new LocalResponseNorm(3, { alpha: 0.01, beta: 0.75, k: 2 }),
      new Upsample({ scaleFactor: 2, mode: 'nearest' }),
      new MaxPool2d(3, { stride: 2, ceilMode: true }),
      new Upsample({ scaleFactor: 2, mode: 'bilinear' }),
      new Conv2d(4, 2, 1, { generator: g }),
    );
    roundTrip('transpose-pad-pool-lrn-upsample', model, [3, 7, 9]);
  });
  test('batch norm, gelu, silu, softmax, linear', () => {
    const g = new Generator(6);
    const bn = new BatchNorm2d(4);
    randomTensor([4], 7, -0.5, 0.5).data.forEach((v, i) => (bn.runningMean!.data[i] = v));
    randomTensor([4], 8, 0.5, 1.5).data.forEach((v, i) => (bn.runningVar!.data[i] = v));
    const model = new Sequential(
      new Conv2d(2, 4, 3, { generator: g }), bn, new GELU(), new Conv2d(4, 4, 3, { generator: g }), new SiLU(), new GELU({ approximate: 'tanh' }),
      new Flatten(), new Linear(4 * 4 * 4, 6, { generator: g }), new ReLU(), new Softmax(1),
    );
    roundTrip('bn-gelu-silu-softmax', model, [2, 8, 8]);
  });
  test('dropout is the identity in eval mode and drops in train mode', () => {
    const g = new Generator(9);
    const model = new Sequential(new Flatten(), new Linear(12, 8, { generator: g }), new Dropout(0.5), new Linear(8, 3, { generator: g }));
    roundTrip('dropout-mlp', model, [3, 4], { trainMode: false });
  });
  test('figures', () => {
    console.log(figures.join('\n'));
  });
});

// ---------------------------------------------------------------------------
// PyTorch-made files

const TORCH_PRELUDE = `
import sys, json, torch, torch.nn as nn, torch.nn.functional as F
inp = json.load(sys.stdin)
torch.manual_seed(0)
`;

const TORCH_EXPORT = `
m.eval()
x = torch.tensor(inp['x'], dtype=torch.float32).reshape(inp['shape'])
kwargs = dict(opset_version=13, do_constant_folding=True, input_names=['input'], output_names=['output'], dynamic_axes={'input': {0: 'N'}, 'output': {0: 'N'}})
if inp.get('preserve'):
    kwargs['training'] = torch.onnx.TrainingMode.PRESERVE
torch.onnx.export(m, x[:1], inp['path'], **kwargs)
import onnx
onnx.checker.check_model(onnx.load(inp['path']))
# each convolution's and linear layer's output shape and multiply-accumulates for one image, by module name
layers = {}
def hook(name):
    def f(mod, args, out):
        per = out[0].numel()
        macs = per * (mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1] if isinstance(mod, nn.Conv2d) else mod.in_features)
        layers[name] = {'shape': list(out.shape[1:]), 'macs': per and macs}
    return f
for name, mod in m.named_modules():
    if isinstance(mod, (nn.Conv2d, nn.Linear)):
        mod.register_forward_hook(hook(name))
with torch.no_grad():
    y = m(x)
print(json.dumps({'y': y.flatten().tolist(), 'shape': list(y.shape), 'keys': list(m.state_dict().keys()),
                  'params': sum(p.numel() for p in m.parameters()), 'layers': layers}))
`;

const LENET_SEQUENTIAL = `${TORCH_PRELUDE}
m = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
${TORCH_EXPORT}`;

const LENET_MODULE = `${TORCH_PRELUDE}
class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.drop = nn.Dropout(0.3)
        self.fc2 = nn.Linear(120, 10)
    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(x.size(0), -1)
        return F.log_softmax(self.fc2(self.drop(F.relu(self.fc1(x)))), dim=1)
m = LeNet()
${TORCH_EXPORT}`;

const RESIDUAL = `${TORCH_PRELUDE}
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + x)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(Block(8), Block(8))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)
    def forward(self, x):
        x = F.relu(self.bn(self.stem(x)))
        x = self.layer1(x)
        return self.fc(torch.flatten(self.pool(x), 1))
m = Net()
for mod in m.modules():
    if isinstance(mod, nn.BatchNorm2d):
        mod.running_mean.uniform_(-0.5, 0.5)
        mod.running_var.uniform_(0.5, 1.5)
        mod.weight.data.uniform_(0.5, 1.5)
        mod.bias.data.uniform_(-0.5, 0.5)
${TORCH_EXPORT}`;

const GELU_UPSAMPLE = `${TORCH_PRELUDE}
m = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.GELU(), nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False),
                  nn.Conv2d(4, 4, 3), nn.SiLU(), nn.Upsample(scale_factor=2, mode='nearest'), nn.LeakyReLU(0.1),
                  nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), nn.Flatten(), nn.Linear(4 * 11 * 11, 3), nn.Softmax(dim=1))
${TORCH_EXPORT}`;

const OPEN_SLICE = `${TORCH_PRELUDE}
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
    def forward(self, x):
        return self.conv(x)[:, 1:, 2:] * 2
m = Net()
${TORCH_EXPORT}`;

interface TorchOut {
  y: number[];
  shape: number[];
  keys: string[];
  /** The model's parameter count. */
  params: number;
  /** Each convolution's and linear layer's output shape and multiply-accumulates for one image, by module name. */
  layers: Record<string, { shape: number[]; macs: number }>;
}

async function fromTorch(t: { skip(reason: string): void }, name: string, script: string, shape: number[], options: { preserve?: boolean; checkKeys?: boolean } = {}): Promise<void> {
  await withTempDir('stride-onnx-', async (dir) => {
    const path = join(dir, `${name}.onnx`);
    const x = randomTensor(shape, 11);
    const r = runTorch<TorchOut>(script, { x: Array.from(x.data), shape, path, preserve: options.preserve ?? false });
    if (!r.ok) {
      console.log(`skipped: ${r.reason}`);
      t.skip(r.reason);
      return;
    }
    const model = importOnnx(new Uint8Array(await readFile(path)), { source: path });
    model.eval();
    const y = model.forward(x);
    assert.deepEqual(y.shape, r.value.shape);
    const err = relErr(y.data, r.value.y);
    figures.push(`torch ${name}: max relative error ${err.toExponential(2)}`);
    console.log(`torch ${name}: max relative error ${err.toExponential(2)}`);
    assert.ok(err < 1e-4, `${name}: differs from PyTorch by ${err} relative`);
    if (options.checkKeys ?? true) assert.deepEqual(Object.keys(model.stateDict()).sort(), r.value.keys.filter((k) => !notInGraph(k)).sort());
    // summary: a row per PyTorch convolution and linear layer, by its module name (from its weights' names, or from the
    // node's scope where the exporter folded batch norm into new weights), with PyTorch's output shape and multiply-accumulates
    const s = summary(model, shape.slice(1));
    for (const [layer, want] of Object.entries(r.value.layers)) {
      const row = s.layers.find((l) => l.name === layer);
      assert.ok(row !== undefined, `${name}: no summary row '${layer}'; rows: ${s.layers.map((l) => l.name).join(', ')}`);
      assert.deepEqual(row.outputShape, want.shape, `${name}: row '${layer}'`);
      assert.equal(row.macs, want.macs, `${name}: row '${layer}' multiply-accumulates`);
    }
    assert.equal(s.macs, Object.values(r.value.layers).reduce((n, l) => n + l.macs, 0), `${name}: multiply-accumulates`);
    if (options.checkKeys ?? true) assert.equal(s.totalParams, r.value.params, `${name}: parameters`);
    // it trains: a step changes the loss
    model.train();
    const opt = new SGD(model, { lr: 0.1 });
    const target = randomTensor([...y.shape], 12);
    const before = mseLoss(model.forward(x), target);
    opt.zeroGrad();
    before.backward();
    opt.step();
    model.eval();
    const after = mseLoss(model.forward(x), target);
    assert.ok(Number.isFinite(after.item()) && after.item() !== before.item());
  });
}

describe('importOnnx: files from torch.onnx.export (opset 13, constant folding, dynamic batch)', () => {
  test('LeNet-5 as nn.Sequential', (t) => fromTorch(t, 'lenet-sequential', LENET_SEQUENTIAL, [3, 1, 28, 28]));
  test('LeNet-5 as a Module: view(x.size(0), -1) (a Shape/Gather/Unsqueeze/Concat chain), dropout, log_softmax', (t) => fromTorch(t, 'lenet-module', LENET_MODULE, [3, 1, 28, 28]));
  test('conv/BN/residual net with a functional add, adaptive average pooling and flatten (batch norm kept)', (t) => fromTorch(t, 'residual', RESIDUAL, [2, 3, 16, 16], { preserve: true }));
  test('GELU (Erf in the file), bilinear and nearest up-sampling, SiLU, ceil-mode average pooling, softmax', (t) => fromTorch(t, 'gelu-upsample', GELU_UPSAMPLE, [2, 2, 6, 6]));
  test('the same net with batch norm folded into the convolutions by the exporter', (t) => fromTorch(t, 'residual-folded', RESIDUAL, [2, 3, 16, 16], { checkKeys: false }));
  test('open slices (PyTorch writes INT64_MAX as their end, read as "to the end")', (t) => fromTorch(t, 'open-slice', OPEN_SLICE, [2, 2, 5, 5]));
});

// ---------------------------------------------------------------------------
// Errors

function graph(nodes: OnnxModel['graph']['nodes'], inputs = ['input'], initializers: OnnxModel['graph']['initializers'] = []): Uint8Array {
  return encodeOnnx({
    irVersion: 7, opsetImport: [{ domain: '', version: 13 }], producerName: 'test', producerVersion: '', docString: '', metadata: {},
    graph: {
      name: 'g', nodes, initializers,
      inputs: inputs.map((name) => ({ name, elemType: ONNX_DTYPE.FLOAT, shape: ['N', 4] })),
      outputs: [{ name: 'output', elemType: ONNX_DTYPE.FLOAT, shape: ['N', 4] }],
    },
  });
}

type Node = OnnxModel['graph']['nodes'][number];
const node = (opType: string, inputs: string[], outputs: string[], attributes: Node['attributes'] = {}): Node => ({ name: `${opType.toLowerCase()}_node`, opType, domain: '', inputs, outputs, attributes });
const ints = (value: number[]) => ({ type: 'ints' as const, value });
const int = (value: number) => ({ type: 'int' as const, value });
const floatAttr = (value: number) => ({ type: 'float' as const, value });
const str = (value: string) => ({ type: 'string' as const, value });
const f32 = (name: string, dims: number[], values: number[]) => ({ name, dataType: ONNX_DTYPE.FLOAT, dims, floats: Float32Array.from(values) });
const i64 = (name: string, values: number[]) => ({ name, dataType: ONNX_DTYPE.INT64, dims: [values.length], ints: values });

function model(opset: number, shape: (number | string)[], nodes: Node[], initializers: OnnxModel['graph']['initializers'] = []): OnnxModule {
  return importOnnx(encodeOnnx({
    irVersion: 7, opsetImport: [{ domain: '', version: opset }], producerName: 'test', producerVersion: '', docString: '', metadata: {},
    graph: { name: 'g', nodes, initializers, inputs: [{ name: 'input', elemType: ONNX_DTYPE.FLOAT, shape }], outputs: [{ name: 'output', elemType: ONNX_DTYPE.FLOAT, shape: null }] },
  }));
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6) => assert.ok(relErr(a, b) < tol, `[${Array.from(a).join(', ')}] != [${Array.from(b).join(', ')}]`);

describe('importOnnx: op semantics by definition', () => {
  const x = new Tensor(Float32Array.of(1, 2, 3, 4, 5, 6), [1, 2, 3]);
  const softmaxOf = (v: number[]) => {
    const e = v.map(Math.exp);
    const s = e.reduce((p, q) => p + q, 0);
    return e.map((q) => q / s);
  };
  test('Softmax from opset 13 normalizes along its axis; before 13 over the input flattened to 2-D at the axis', () => {
    const m13 = model(13, ['N', 2, 3], [node('Softmax', ['input'], ['output'], { axis: int(1) })]);
    const col = (j: number) => softmaxOf([1 + j, 4 + j]);
    close(m13.forward(x).data, [col(0)[0], col(1)[0], col(2)[0], col(0)[1], col(1)[1], col(2)[1]]);
    const m11 = model(11, ['N', 2, 3], [node('Softmax', ['input'], ['output'], { axis: int(1) })]);
    close(m11.forward(x).data, softmaxOf([1, 2, 3, 4, 5, 6]));
    // opset 11's default axis is 1, opset 13's the last
    close(model(11, ['N', 2, 3], [node('LogSoftmax', ['input'], ['output'])]).forward(x).data, softmaxOf([1, 2, 3, 4, 5, 6]).map(Math.log));
    close(model(13, ['N', 2, 3], [node('Softmax', ['input'], ['output'])]).forward(x).data, [...softmaxOf([1, 2, 3]), ...softmaxOf([4, 5, 6])]);
  });
  test('Pad: opset 2 attributes and opset 11 inputs, reflect and constant on the channel axis', () => {
    const img = new Tensor(Float32Array.of(1, 2, 3, 4, 5, 6), [1, 1, 2, 3]);
    const reflect = model(2, ['N', 1, 2, 3], [node('Pad', ['input'], ['output'], { mode: str('reflect'), pads: ints([0, 0, 0, 1, 0, 0, 0, 1]) })]);
    close(reflect.forward(img).data, [2, 1, 2, 3, 2, 5, 4, 5, 6, 5]);
    const constant = model(11, ['N', 1, 2, 3], [node('Pad', ['input', 'pads', 'value'], ['output'], { mode: str('constant') })], [i64('pads', [0, 1, 0, 0, 0, 0, 0, 0]), f32('value', [], [7])]);
    const y = constant.forward(img);
    assert.deepEqual(y.shape, [1, 2, 2, 3]);
    close(y.data, [7, 7, 7, 7, 7, 7, 1, 2, 3, 4, 5, 6]);
  });
  test('MaxPool with asymmetric pads pads explicitly; AveragePool without count_include_pad averages the real inputs', () => {
    const img = new Tensor(Float32Array.of(-1, -2, -3, -4), [1, 1, 2, 2]);
    const maxed = model(13, ['N', 1, 2, 2], [node('MaxPool', ['input'], ['output'], { kernel_shape: ints([2, 2]), pads: ints([1, 1, 0, 0]) })]);
    close(maxed.forward(img).data, [-1, -1, -1, -1]);
    const avg = model(13, ['N', 1, 2, 2], [node('AveragePool', ['input'], ['output'], { kernel_shape: ints([2, 2]), pads: ints([1, 1, 0, 0]) })]);
    close(avg.forward(img).data, [-1, -1.5, -2, -2.5]);
    const avgIncl = model(13, ['N', 1, 2, 2], [node('AveragePool', ['input'], ['output'], { kernel_shape: ints([2, 2]), pads: ints([1, 1, 0, 0]), count_include_pad: int(1) })]);
    close(avgIncl.forward(img).data, [-0.25, -0.75, -1, -2.5]);
  });
  test('Gemm with alpha, beta, transA and transB', () => {
    // Y = 2 A^T B + 0.5 C, A^T = input [1, 2] read as A [2, 1]
    const m = model(13, [2, 1], [node('Gemm', ['input', 'B', 'C'], ['output'], { alpha: floatAttr(2), beta: floatAttr(0.5), transA: int(1) })], [f32('B', [2, 2], [1, 2, 3, 4]), f32('C', [1, 2], [10, 20])]);
    close(m.forward(new Tensor(Float32Array.of(1, 1), [2, 1])).data, [2 * 4 + 5, 2 * 6 + 10]);
    assert.deepEqual(Object.keys(m.stateDict()).sort(), ['B', 'C']);
  });
  test('BatchNormalization: running statistics in eval; batch statistics in train, updating them with momentum 1 - the file\'s', () => {
    const m = model(13, ['N', 1, 1, 2], [node('BatchNormalization', ['input', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'], ['output'], { momentum: floatAttr(0.75) })], [
      f32('bn.weight', [1], [2]), f32('bn.bias', [1], [1]), f32('bn.running_mean', [1], [1]), f32('bn.running_var', [1], [4]),
    ]);
    const input = new Tensor(Float32Array.of(3, 5), [1, 1, 1, 2]);
    m.eval();
    close(m.forward(input).data, [2 * (3 - 1) / 2 + 1, 2 * (5 - 1) / 2 + 1], 1e-5);
    assert.deepEqual([...m.namedBuffers()].map(([k]) => k), ['bn.running_mean', 'bn.running_var']);
    m.train();
    close(m.forward(input).data, [-1, 3], 1e-4);
    // batch mean 4, unbiased variance 2: running = 0.75 old + 0.25 batch
    close(m.stateDict()['bn.running_mean'].data, [0.75 * 1 + 0.25 * 4]);
    close(m.stateDict()['bn.running_var'].data, [0.75 * 4 + 0.25 * 2]);
  });
  test('Dropout: the identity in eval mode, a scaled dropout in train mode', () => {
    const m = model(13, ['N', 1000], [node('Dropout', ['input', 'ratio'], ['output'])], [f32('ratio', [], [0.25])]);
    const input = new Tensor(new Float32Array(1000).fill(1), [1, 1000]);
    m.eval();
    close(m.forward(input).data, input.data);
    m.train();
    const y = Array.from(m.forward(input).data);
    assert.ok(y.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
    const dropped = y.filter((v) => v === 0).length;
    assert.ok(dropped > 150 && dropped < 350, `${dropped} of 1000 dropped at p 0.25`);
  });
  test('Resize nearest (asymmetric, floor) and linear (half-pixel), from scales and from sizes', () => {
    const img = new Tensor(Float32Array.of(1, 2, 3, 4), [1, 1, 2, 2]);
    const nearest = model(13, ['N', 1, 2, 2], [node('Resize', ['input', '', 'scales'], ['output'], { mode: str('nearest'), coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') })], [f32('scales', [4], [1, 1, 2, 2])]);
    close(nearest.forward(img).data, [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    const linear = model(13, ['N', 1, 2, 2], [node('Resize', ['input', '', '', 'sizes'], ['output'], { mode: str('linear'), coordinate_transformation_mode: str('half_pixel') })], [i64('sizes', [1, 1, 1, 4])]);
    // height 2 -> 1 samples row 0.5 (the mean of the rows); width 2 -> 4 samples -0.25, 0.25, 0.75, 1.25 (clamped to the edges)
    close(linear.forward(img).data, [2, 2.25, 2.75, 3]);
    // pytorch_half_pixel samples 0 where a side becomes 1: Stride's bilinear does not, and says so
    const torchMode = model(13, ['N', 1, 2, 2], [node('Resize', ['input', '', '', 'sizes'], ['output'], { mode: str('linear'), coordinate_transformation_mode: str('pytorch_half_pixel') })], [i64('sizes', [1, 1, 1, 4])]);
    throwsWith(() => torchMode.forward(img), ValueError, 'pytorch_half_pixel', 'size 1');
    throwsWith(() => model(13, ['N', 1, 2, 2], [node('Resize', ['input', '', 'scales'], ['output'], { mode: str('cubic') })], [f32('scales', [4], [1, 1, 2, 2])]), ValueError, "mode 'cubic'");
  });
  test('an Erf outside GELU is refused: Stride has no erf op', () => {
    throwsWith(() => model(13, ['N', 4], [node('Erf', ['input'], ['output'])]), ValueError, "node 0 'erf_node' (Erf, opset 13)", 'no erf op');
  });
});

describe('importOnnx: refusals', () => {
  test('an op Stride does not run names the node, its index, its op, the opset and the supported ops', () => {
    const bytes = graph([
      { name: 'relu_0', opType: 'Relu', domain: '', inputs: ['input'], outputs: ['a'], attributes: {} },
      { name: 'lstm_1', opType: 'LSTM', domain: '', inputs: ['a'], outputs: ['output'], attributes: { hidden_size: { type: 'int', value: 4 } } },
    ]);
    throwsWith(() => importOnnx(bytes, { source: 'lstm.onnx' }), ValueError, 'lstm.onnx', "node 1 'lstm_1'", 'LSTM', 'opset 13', 'Conv', 'BatchNormalization', 'Gemm');
  });
  test('an op of another domain', () => {
    const bytes = graph([{ name: 'q', opType: 'Relu', domain: 'com.microsoft', inputs: ['input'], outputs: ['output'], attributes: {} }]);
    throwsWith(() => importOnnx(bytes), ValueError, "node 0 'q'", "domain 'com.microsoft'");
  });
  test('a graph with two inputs', () => {
    const bytes = graph([{ name: 'add', opType: 'Add', domain: '', inputs: ['input', 'other'], outputs: ['output'], attributes: {} }], ['input', 'other']);
    throwsWith(() => importOnnx(bytes), ValueError, '2 data inputs', "'input', 'other'", 'exactly one float input');
  });
  test('truncated bytes are a DataError naming the file', () => {
    const bytes = exportOnnx(createModel('lenet5', { generator: new Generator(0) }), { inputShape: [1, 28, 28] });
    throwsWith(() => importOnnx(bytes.subarray(0, Math.floor(bytes.length / 2)), { source: 'cut.onnx' }), DataError, 'cut.onnx');
  });
  test('a node reading a value nothing defines', () => {
    const bytes = graph([{ name: 'mul', opType: 'Mul', domain: '', inputs: ['input', 'scale'], outputs: ['output'], attributes: {} }]);
    throwsWith(() => importOnnx(bytes), ValueError, "node 0 'mul' (Mul) reads 'scale'", 'no node, initializer or graph input defines');
  });
  test('an attribute Stride cannot honour', () => {
    const bytes = graph([{
      name: 'pool', opType: 'MaxPool', domain: '', inputs: ['input'], outputs: ['output', 'idx'],
      attributes: { kernel_shape: { type: 'ints', value: [2, 2] }, storage_order: { type: 'int', value: 1 } },
    }]);
    throwsWith(() => importOnnx(bytes), ValueError, "node 0 'pool' (MaxPool, opset 13)", 'storage_order 1');
    const padded = graph([{ name: 'c', opType: 'AveragePool', domain: '', inputs: ['input'], outputs: ['output'], attributes: { kernel_shape: { type: 'ints', value: [2, 2] }, auto_pad: { type: 'string', value: 'SAME' } } }]);
    throwsWith(() => importOnnx(padded), ValueError, "auto_pad 'SAME'");
  });
  test('a state name whose part would hide a module member is refused', () => {
    const w = { name: 'fc.training', dataType: ONNX_DTYPE.FLOAT, dims: [4, 4], floats: new Float32Array(16) };
    const bytes = graph([{ name: 'mm', opType: 'MatMul', domain: '', inputs: ['input', 'fc.training'], outputs: ['output'], attributes: {} }], ['input'], [w]);
    throwsWith(() => importOnnx(bytes), ValueError, "'fc.training'", "'training'");
  });
  test('a name whose prefix is also a tensor keeps its whole name', () => {
    const a = { name: 'fc', dataType: ONNX_DTYPE.FLOAT, dims: [4, 4], floats: new Float32Array(16).fill(1) };
    const b = { name: 'fc.w', dataType: ONNX_DTYPE.FLOAT, dims: [4, 4], floats: new Float32Array(16).fill(2) };
    const bytes = graph([
      { name: 'm1', opType: 'MatMul', domain: '', inputs: ['input', 'fc'], outputs: ['h'], attributes: {} },
      { name: 'm2', opType: 'MatMul', domain: '', inputs: ['h', 'fc.w'], outputs: ['output'], attributes: {} },
    ], ['input'], [a, b]);
    const m = importOnnx(bytes);
    assert.deepEqual(Object.keys(m.stateDict()).sort(), ['fc', 'fc.w']);
    const y = m.forward(new Tensor(Float32Array.of(1, 0, 0, 0), [1, 4]));
    assert.deepEqual(Array.from(y.data), [8, 8, 8, 8]);
  });
});
