/**
 * exportOnnx against an independent runtime: every zoo model and nets that
 * cover each exported layer and option are written as ONNX, run by
 * onnxruntime-web (Microsoft's runtime compiled to WebAssembly, a dev
 * dependency), and must give Stride's own outputs (relative error <= 1e-4 of
 * the largest output); imported back with importOnnx they give them within
 * 1e-5. Where /usr/bin/python3 has the onnx package, the files
 * also pass onnx.checker with full shape inference. Errors: ops without an
 * ONNX form, a reshape that mixes the batch into other dims, bad options.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';

import { Generator, Perceptron, ShapeError, Tensor, ValueError, F, createModel, models, nn, noGrad } from '../../src/index.js';
import { pytorchName } from '../../src/nn/pytorch-names.js';
import { decodeOnnx } from '../../src/io/onnx/proto.js';
import { exportOnnx, type ExportOnnxOptions } from '../../src/io/onnx/export.js';
import { importOnnx } from '../../src/io/onnx/import.js';
import { ok, stride, throwsWith, withTempDir } from '../helpers/index.js';

before(() => {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
});

/** Stride's output and onnxruntime's on the same input (batch `batch`), and the largest error relative to the largest output. */
async function compare(model: nn.Module, inputShape: number[], options: Partial<ExportOnnxOptions> = {}, batch = 2): Promise<{ bytes: Uint8Array; relative: number; reimported: number; shape: readonly number[] }> {
  const bytes = exportOnnx(model, { inputShape, ...options });
  const x = new Tensor(new Float32Array(batch * inputShape.reduce((p, d) => p * d, 1)), [batch, ...inputShape]);
  new Generator(11).fillUniform(x.data, -1, 1);
  model.eval();
  const y = noGrad(() => model.forward(x));
  const session = await ort.InferenceSession.create(bytes);
  try {
    const result = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x.data), [...x.shape]) });
    const out = result[session.outputNames[0]];
    assert.deepEqual([...out.dims], [...y.shape], 'onnxruntime gives the output shape Stride does');
    const got = out.data as Float32Array;
    let err = 0;
    let scale = 0;
    for (let i = 0; i < got.length; i++) {
      err = Math.max(err, Math.abs(got[i] - y.data[i]));
      scale = Math.max(scale, Math.abs(y.data[i]));
    }
    // and back into Stride: the imported module gives the same outputs
    const back = importOnnx(bytes);
    back.eval();
    const z = noGrad(() => back.forward(x));
    let backErr = 0;
    for (let i = 0; i < z.size; i++) backErr = Math.max(backErr, Math.abs(z.data[i] - y.data[i]));
    return { bytes, relative: err / Math.max(scale, 1e-30), reimported: backErr / Math.max(scale, 1e-30), shape: y.shape };
  } finally {
    await session.release();
  }
}

/** The input each zoo model is exported at: its own, smaller where the network allows (the layers are the same). */
const ZOO_INPUT: Record<string, number[]> = {
  lenet5: [1, 28, 28], 'lenet5-1998': [1, 28, 28], alexnet: [3, 224, 224], 'alexnet-2012': [3, 224, 224],
  resnet18: [3, 64, 64], resnet34: [3, 64, 64], resnet50: [3, 64, 64], resnet101: [3, 64, 64],
};
const inputFor = (name: string) => ZOO_INPUT[name] ?? (name.startsWith('vgg') ? [3, 32, 32] : [...models[name].inputShape]);

describe('exportOnnx: every zoo model runs in onnxruntime with Stride\'s outputs', { timeout: 900_000 }, () => {
  for (const name of Object.keys(models).filter((n) => n !== 'perceptron')) {
    test(`${name} at ${inputFor(name).join('x')}`, async (t) => {
      const model = createModel(name, { generator: new Generator(1), inputShape: inputFor(name) });
      const { bytes, relative, reimported } = await compare(model, inputFor(name), {}, name.startsWith('vgg') || name.startsWith('alexnet') ? 1 : 2);
      t.diagnostic(`${bytes.length} bytes, relative error ${relative.toExponential(2)} in onnxruntime, ${reimported.toExponential(2)} imported back`);
      ok(relative <= 1e-4, `relative error ${relative} > 1e-4`);
      ok(reimported <= 1e-5, `imported back: relative error ${reimported} > 1e-5`);
      // the parameters and buffers are initializers under their state-dict names
      const file = decodeOnnx(bytes, `${name}.onnx`);
      const initializers = new Set(file.graph.initializers.map((i) => i.name));
      for (const key of Object.keys(model.stateDict())) {
        if (key.endsWith('numBatchesTracked')) continue;
        ok(initializers.has(pytorchName(key)), `initializer '${pytorchName(key)}'`);
      }
      assert.deepEqual(file.graph.inputs[0].shape, ['N', ...inputFor(name)]);
      assert.equal(file.graph.outputs[0].shape![0], 'N');
    });
  }
  test('perceptron at 1x28x28: written as it computes, in double precision, to the same 0s and 1s', async (t) => {
    // trained by its rule on points labelled by a random hyperplane, so that its outputs are not all one class
    const model = createModel('perceptron') as Perceptron;
    const n = 200;
    const x = new Tensor(new Float32Array(n * 784), [n, 1, 28, 28]);
    new Generator(3).fillUniform(x.data, -1, 1);
    const plane = new Float32Array(784);
    new Generator(4).fillUniform(plane, -1, 1);
    const d = Array.from({ length: n }, (_, i) => {
      let s = 0;
      for (let j = 0; j < 784; j++) s += x.data[i * 784 + j] * plane[j];
      return s > 0 ? 1 : 0;
    });
    model.fit(x, d, { epochs: 5 });
    const y = model.predict(x);
    ok(y.includes(0) && y.includes(1), 'the trained perceptron answers both 0 and 1');
    const { bytes, relative, reimported, shape } = await compare(model, [1, 28, 28], {}, 64);
    t.diagnostic(`${bytes.length} bytes, relative error ${relative} in onnxruntime, ${reimported} imported back`);
    assert.deepEqual(shape, [64]);
    assert.equal(relative, 0);
    assert.equal(reimported, 0);
    const file = decodeOnnx(bytes, 'perceptron.onnx');
    assert.deepEqual(file.graph.initializers.map((i) => i.name).filter((k) => k in model.stateDict()), ['weight', 'bias']);
    assert.deepEqual(Object.keys(importOnnx(bytes).stateDict()).sort(), ['bias', 'weight']);
    throwsWith(() => exportOnnx(model, { inputShape: [1, 28, 27] }), ShapeError, 'the perceptron takes 784 values per sample; inputShape [1, 28, 27] holds 756');
  });
});

describe('exportOnnx: each layer and option', { timeout: 300_000 }, () => {
  const g = () => new Generator(7);
  const cases: [string, () => nn.Module, number[], Partial<ExportOnnxOptions>?][] = [
    ['convolutions: stride, dilation, groups, same padding, bias-free', () => new nn.Sequential(
      new nn.Conv2d(4, 8, 3, { stride: 2, padding: 1, generator: g() }), new nn.ReLU(),
      new nn.Conv2d(8, 8, 3, { dilation: 2, padding: 2, groups: 4, generator: g() }),
      new nn.Conv2d(8, 6, [3, 5], { padding: 'same', bias: false, generator: g() }),
      new nn.Conv2d(6, 6, 2, { stride: 3, generator: g() }),
    ), [4, 17, 15]],
    ['padding modes reflect and replicate, and partial-convolution padding', () => new nn.Sequential(
      new nn.Conv2d(3, 4, 3, { padding: 1, paddingMode: 'reflect', generator: g() }),
      new nn.Conv2d(4, 4, 3, { padding: 2, paddingMode: 'replicate', generator: g() }),
      new nn.Conv2d(4, 4, 3, { padding: 1, paddingMode: 'partial', generator: g() }),
    ), [3, 9, 11]],
    ['circular padding (opset 19)', () => new nn.Conv2d(3, 4, 3, { padding: 1, paddingMode: 'circular', generator: g() }), [3, 8, 8], { opset: 19 }],
    ['transposed convolutions: stride, padding, output padding, groups', () => new nn.Sequential(
      new nn.ConvTranspose2d(4, 6, 3, { stride: 2, padding: 1, outputPadding: 1, generator: g() }),
      new nn.ConvTranspose2d(6, 4, 4, { stride: 2, groups: 2, generator: g() }),
    ), [4, 5, 6]],
    ['pooling: max with dilation and ceil mode, average with and without the padding counted, LP, adaptive, global', () => new nn.Sequential(
      new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }),
      new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }),
      new nn.Conv2d(2, 3, 1, { generator: g() }),
      new nn.AvgPool2d(2, { stride: 1, padding: 1 }),
      new nn.LPPool2d(2, 2, { stride: 1 }),
      new nn.AdaptiveAvgPool2d(2),
    ), [2, 23, 21]],
    ['max pooling with dilation; adaptive max and global pools', () => new nn.Sequential(
      new nn.MaxPool2d(2, { dilation: 2 }), new nn.AdaptiveMaxPool2d([3, 2]), new nn.GlobalAvgPool2d(),
    ), [3, 14, 10]],
    ['average pooling in ceil mode with the padding counted (windows past the edge)', () => new nn.AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true }), [2, 8, 8]],
    ['batch norm (running statistics), LRN, dropout (absent at inference), flatten, linear', () => {
      const bn = new nn.BatchNorm2d(4);
      new Generator(3).fillUniform(bn.runningMean!.data, -0.5, 0.5);
      new Generator(4).fillUniform(bn.runningVar!.data, 0.5, 2);
      return new nn.Sequential(new nn.Conv2d(3, 4, 3, { generator: g() }), bn, new nn.LocalResponseNorm(3, { alpha: 0.01, beta: 0.75, k: 2 }), new nn.Dropout(0.5), new nn.Flatten(), new nn.Linear(4 * 6 * 6, 5, { generator: g() }));
    }, [3, 8, 8]],
    ['activations', () => new nn.Sequential(
      new nn.Linear(12, 12, { generator: g() }), new nn.LeakyReLU(0.2), new nn.Linear(12, 12, { generator: g() }), new nn.ELU(0.7),
      new nn.Linear(12, 12, { generator: g() }), new nn.GELU(), new nn.Linear(12, 12, { generator: g() }), new nn.GELU({ approximate: 'tanh' }),
      new nn.Linear(12, 12, { generator: g() }), new nn.SiLU(), new nn.Softplus({ beta: 2, threshold: 1 }), new nn.Sigmoid(), new nn.Tanh(), new nn.LogSoftmax(1),
    ), [12]],
    ['GELU as one node (opset 20) and softmax', () => new nn.Sequential(new nn.Linear(6, 6, { generator: g() }), new nn.GELU(), new nn.Softmax(1)), [6], { opset: 20 }],
    ['upsampling: nearest, bilinear, bilinear with aligned corners', () => new nn.Sequential(
      new nn.Upsample({ scaleFactor: 2, mode: 'nearest' }), new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' }), new nn.Upsample({ size: [15, 9], mode: 'bilinear', alignCorners: true }),
    ), [2, 3, 4]],
    ['a residual block and a fixed batch', () => new nn.Sequential(new nn.Conv2d(3, 4, 3, { padding: 1, generator: g() }), new nn.BasicBlock(4, 4, { generator: g() })), [3, 6, 6], { dynamicBatch: false, batchSize: 2 }],
    ['every opset from 13 to 21', () => createModel('resnet20', { generator: g() }), [3, 32, 32], { opset: 21 }],
  ];
  for (const [title, make, inputShape, options] of cases) {
    test(title, async (t) => {
      const { relative, bytes } = await compare(make(), inputShape, options ?? {});
      t.diagnostic(`relative error ${relative.toExponential(2)}, ${bytes.length} bytes`);
      ok(relative <= 1e-4, `relative error ${relative} > 1e-4`);
    });
  }
});

describe('exportOnnx: the file', () => {
  test('ONNX\'s own checker accepts the files, shapes inferred (where Python has the onnx package)', async (t) => {
    const probe = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      t.skip(`python3 with the onnx package is not available (${probe.error?.message ?? probe.stderr.trim().split('\n').pop()})`);
      return;
    }
    await withTempDir('stride-onnx-check-', async (dir) => {
      const files: string[] = [];
      for (const [name, opset] of [['lenet5', 13], ['resnet20', 13], ['lenet5-1998', 17], ['perceptron', 13]] as const) {
        const path = join(dir, `${name}-${opset}.onnx`);
        await writeFile(path, exportOnnx(createModel(name, { generator: new Generator(1) }), { inputShape: [...models[name].inputShape], opset }));
        files.push(path);
      }
      const script = 'import onnx, sys\nfor p in sys.argv[1:]:\n    m = onnx.load(p)\n    onnx.checker.check_model(m, full_check=True)\n    print(p, m.ir_version, m.opset_import[0].version, len(m.graph.node))';
      const r = spawnSync('/usr/bin/python3', ['-c', script, ...files], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim().split('\n').length, 4, r.stdout);
      t.diagnostic(r.stdout.trim().replaceAll(dir, '.'));
    });
  });

  test('initializers carry PyTorch\'s state-dict names: a batch norm\'s running statistics as running_mean and running_var', () => {
    const file = decodeOnnx(exportOnnx(createModel('resnet20', { generator: new Generator(1) }), { inputShape: [3, 32, 32] }));
    const names = file.graph.initializers.map((t) => t.name);
    for (const name of ['conv1.weight', 'bn1.running_mean', 'bn1.running_var', 'layer3.2.bn2.running_var', 'linear.bias']) ok(names.includes(name), name);
    ok(!names.some((n) => n.includes('running') && /[A-Z]/.test(n)), 'no camelCase buffer names');
  });

  test('metadata, the graph name, the IR version of the opset', () => {
    const bytes = exportOnnx(createModel('lenet5', { generator: new Generator(1) }), { inputShape: [1, 28, 28], opset: 17, name: 'digits', metadata: { trainedOn: 'mnist' } });
    const file = decodeOnnx(bytes);
    assert.equal(file.graph.name, 'digits');
    assert.deepEqual(file.metadata, { trainedOn: 'mnist' });
    assert.deepEqual(file.opsetImport, [{ domain: '', version: 17 }]);
    assert.equal(file.irVersion, 8);
    assert.equal(file.producerName, 'stride');
    assert.deepEqual(file.graph.nodes.map((n) => n.opType), ['Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
  });

  test('stride export: --format onnx writes a file onnxruntime runs (a checkpoint\'s recorded input size, a fixed --batch); --format pytorch a folder; bad flags are exit 2', async () => {
    await withTempDir('stride-export-cli-', async (dir) => {
      const train = await stride('train', 'lenet5', '--limit', '200', '--test-limit', '100', '--out', join(dir, 'run'));
      assert.equal(train.code, 0, train.stderr);
      const r = await stride('export', '--model', join(dir, 'run'), '--out', join(dir, 'lenet5.onnx'), '--json');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^wrote .*lenet5\.onnx: ONNX opset 13, \d+ bytes, 12 nodes, 61706 parameters\ninput \[N, 1, 28, 28\] -> output \[N, 10\]\nnodes: Conv x2, Relu x4, MaxPool x2, Flatten, Gemm x3\n/);
      const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      assert.deepEqual(summary.opTypes, { Conv: 2, Relu: 4, MaxPool: 2, Flatten: 1, Gemm: 3 });
      const session = await ort.InferenceSession.create(new Uint8Array(await readFile(join(dir, 'lenet5.onnx'))));
      const out = await session.run({ input: new ort.Tensor('float32', new Float32Array(3 * 784), [3, 1, 28, 28]) });
      assert.deepEqual([...out.output.dims], [3, 10]);
      await session.release();
      const fixed = await stride('export', '--model', 'resnet20', '--batch', '4', '--opset', '17', '--out', join(dir, 'r.onnx'));
      assert.equal(fixed.code, 0, fixed.stderr);
      assert.deepEqual(decodeOnnx(new Uint8Array(await readFile(join(dir, 'r.onnx')))).graph.inputs[0].shape, [4, 3, 32, 32]);
      const torch = await stride('export', '--model', join(dir, 'run'), '--format', 'pytorch', '--out', join(dir, 'torch'));
      assert.equal(torch.code, 0, torch.stderr);
      assert.match(torch.stdout, /model\.py \(class LeNet5, \d+ bytes\) and .*weights\.safetensors \(\d+ tensors/);
      assert.match(await readFile(join(dir, 'torch', 'model.py'), 'utf8'), /class LeNet5\(nn\.Module\):/);
      for (const [args, message] of [
        [['--model', 'lenet5', '--out', join(dir, 'x.onnx'), '--opset', '22'], /Stride writes opsets 13 to 21/],
        [['--model', 'lenet5', '--out', join(dir, 'x'), '--format', 'pytorch', '--batch', '2'], /--batch applies to --format onnx only/],
        [['--model', 'lenet5', '--out', join(dir, 'x'), '--format', 'tflite'], /Unknown format; available: onnx, pytorch/],
        [['--model', 'perceptron', '--out', join(dir, 'x'), '--format', 'pytorch'], /does not depend on its input/],
        [['--model', 'lenet5', '--out', join(dir, 'lenet5.onnx'), '--format', 'pytorch'], /--out .*lenet5\.onnx is an existing file, not a folder \(the folder is to hold model\.py and weights\.safetensors\)/],
      ] as const) {
        const bad = await stride('export', ...args);
        assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
        assert.match(bad.stderr, message);
      }
    });
  });

  test('what cannot be exported is refused, saying what and why', () => {
    const lenet = createModel('lenet5', { generator: new Generator(1) });
    throwsWith(() => exportOnnx(lenet, { inputShape: [1, 28, 28], opset: 12 }), ValueError, 'opset must be an integer from 13 to 21, got 12');
    throwsWith(() => exportOnnx(lenet, { inputShape: [28, 28, 0] }), ValueError, 'inputShape must be one input\'s shape without the batch');
    throwsWith(() => exportOnnx(lenet, { inputShape: [1, 28, 28], dynamicBatc: false } as unknown as ExportOnnxOptions), ValueError, "unknown option 'dynamicBatc'");
    throwsWith(() => exportOnnx(lenet, { inputShape: [1, 28, 28], batchSize: 4 }), ValueError, 'batchSize fixes the batch; it goes with dynamicBatch: false');
    throwsWith(() => exportOnnx({} as nn.Module, { inputShape: [1, 28, 28] }), ValueError, 'model must be a Module');
    // an op without an ONNX form, named
    const unpool = new (class extends nn.Module {
      forward(x: Tensor): Tensor {
        const { values, indices } = F.maxPool2dWithIndices(x, 2);
        return F.maxUnpool2d(values, indices, 2);
      }
    })();
    throwsWith(() => exportOnnx(unpool, { inputShape: [1, 4, 4] }), ValueError, "op 'maxUnpool2d'", 'has no ONNX form');
    // a reshape that folds the batch into another dim cannot be written for any batch
    const folding = new (class extends nn.Module {
      forward(x: Tensor): Tensor {
        return x.reshape([1, -1]);
      }
    })();
    throwsWith(() => exportOnnx(folding, { inputShape: [3, 4] }), ShapeError, 'does not keep the batch', 'dynamicBatch: false');
    ok(exportOnnx(folding, { inputShape: [3, 4], dynamicBatch: false }).length > 0, 'with a fixed batch it exports');
    // adaptive pooling with unequal windows
    throwsWith(() => exportOnnx(new nn.AdaptiveAvgPool2d(3), { inputShape: [1, 7, 7] }), ValueError, 'adaptive pooling from 7x7 to 3x3 has windows of unequal sizes');
  });
});
