/**
 * Resuming training exactly: a generator's state taken and restored gives the
 * same draws; fitEpochs with Adam, a StepLR scheduler and dropout, saved
 * through checkpoint bytes after epoch 1 and continued in fresh objects, ends
 * with the weights of the uninterrupted run, bit for bit; `stride train` run
 * for 2 epochs straight and run again, stopped during epoch 2 and continued
 * with --resume (SGD with momentum and a cosine schedule; Adam with a linear
 * one) ends with the same weights and optimizer state, bit for bit, and the
 * same printed and --json metrics. A checkpoint without training state, a
 * finished run and a conflicting option are refused with a clear message; a
 * model is built for the dataset's images and refused before training when it
 * cannot take them. Ctrl-C (a real SIGINT to `stride train`) during the first
 * or the second epoch stops after the batch in progress with exit 130, saves
 * what --resume needs, and the resumed run ends with the uninterrupted run's
 * weights, bit for bit.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

import {
  DataError, Generator, ShapeError, Tensor, ValueError, decodeCheckpoint, encodeCheckpoint, fitEpochs, nn, optim, randn, tensor,
  type CheckpointTraining, type EpochResult,
} from '../../src/index.js';
import { readCheckpoint, saveCheckpoint } from '../../src/node.js';
import { memoryIO } from '../../src/cli/io.js';
import { runTrain, trainJson, type TrainCommandOptions, type TrainSummary } from '../../src/cli/train.js';
import { LeNet5 } from '../../src/models/index.js';
import { rejectsWith, repoRoot, stride, withTempDir } from '../helpers/index.js';

/** The bytes of every tensor, by name. */
function bytesOf(state: Record<string, Tensor>): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(state).map(([k, t]) => [k, Buffer.from(new Float32Array(t.data).buffer)]));
}

describe('Generator state', () => {
  test('setState(getState()) replays the same uniforms, integers and normals (a pending Box-Muller normal included)', () => {
    const g = new Generator(11);
    for (let i = 0; i < 5; i++) g.random();
    g.normal(); // leaves the pair's second normal waiting
    const saved = g.getState();
    assert.notEqual(saved.spareNormal, null);
    const draw = (x: Generator) => [x.normal(), x.random(), x.randint(1000), x.normal(), x.normal(), x.nextUint32()];
    const first = draw(g);
    const other = new Generator(99).setState(JSON.parse(JSON.stringify(saved)));
    assert.deepEqual(draw(other), first);
    assert.deepEqual(draw(g.setState(saved)), first);
  });

  test('fillUniform and fillNormal give the values of one call per element, in order, and leave the same state (odd lengths and a pending normal too)', () => {
    for (const length of [0, 1, 2, 5, 1001]) {
      for (const pending of [false, true]) {
        const bulk = new Generator(5);
        const single = new Generator(5);
        if (pending) {
          bulk.normal();
          single.normal();
        }
        const normals = new Float32Array(length);
        bulk.fillNormal(normals, 0.5, 2);
        const uniforms = new Float64Array(length);
        bulk.fillUniform(uniforms, -3, 1);
        const expectedNormals = Float32Array.from({ length }, () => 0.5 + 2 * single.normal());
        const expectedUniforms = Float64Array.from({ length }, () => single.uniform(-3, 1));
        assert.deepEqual([...normals], [...expectedNormals], `normals, length ${length}`);
        assert.deepEqual([...uniforms], [...expectedUniforms], `uniforms, length ${length}`);
        assert.deepEqual(bulk.getState(), single.getState(), `state after length ${length}`);
      }
    }
  });

  test('a malformed state is refused', () => {
    assert.throws(() => new Generator(0).setState({ state: [1, 2, 3] as never, spareNormal: null }), /four 32-bit unsigned integers/);
    assert.throws(() => new Generator(0).setState({ state: [0, 0, 0, 0], spareNormal: null }), /not all 0/);
    assert.throws(() => new Generator(0).setState({ state: [1, 2, 3, 4], spareNormal: NaN }), /spareNormal/);
  });
});

describe('fitEpochs resumed through checkpoint bytes', () => {
  /** A small classifier with dropout drawing from `g`, 8 features, 3 classes. */
  const build = (g: Generator) => new nn.Sequential(new nn.Linear(8, 16, { generator: g }), new nn.ReLU(), new nn.Dropout(0.3, { generator: g }), new nn.Linear(16, 3, { generator: g }));
  const data = { images: randn([40, 8], { generator: new Generator(1) }), labels: tensor(Array.from({ length: 40 }, (_, i) => i % 3)) };
  const test_ = { images: randn([12, 8], { generator: new Generator(2) }), labels: tensor(Array.from({ length: 12 }, (_, i) => (i * 2) % 3)) };

  /** Adam with a StepLR halving the lr every epoch, stepped after each epoch. */
  function setup(seed: number) {
    const g = new Generator(seed);
    const model = build(g);
    const opt = new optim.Adam(model, { lr: 0.01 });
    const sched = new optim.StepLR(opt, { stepSize: 1, gamma: 0.5 });
    return { g, model, opt, sched };
  }
  const options = (s: ReturnType<typeof setup>, initialEpoch = 0) => ({ train: data, test: test_, epochs: 3, initialEpoch, batchSize: 8, optimizer: s.opt, generator: s.g });

  test('3 epochs straight equal 1 epoch, encode, decode into fresh objects, 2 epochs (Adam, StepLR, dropout)', () => {
    const straight = setup(5);
    const straightResults: EpochResult[] = [];
    for (const r of fitEpochs(straight.model, options(straight))) {
      straightResults.push(r);
      straight.sched.step();
    }

    const first = setup(5);
    let bytes: Uint8Array | null = null;
    for (const r of fitEpochs(first.model, options(first))) {
      first.sched.step();
      const training: CheckpointTraining = {
        epoch: r.epoch, epochs: 3, optimizer: { name: first.opt.name, ...first.opt.stateDict() },
        scheduler: first.sched.stateDict(), generators: { g: first.g.getState() },
      };
      bytes = encodeCheckpoint({ model: 'mlp', state: first.model.stateDict(), training });
      break; // stopped after epoch 1
    }
    const { header, state, training } = decodeCheckpoint(bytes!, 'memory');
    assert.equal(header.format, 'stride-checkpoint-v2');
    assert.ok(header.tensors.some((t) => t.name === 'optimizer.state.0.expAvgSq'), 'Adam moments are tensors of the data section');
    assert.equal((header.training as { optimizer: { state: Record<string, { step: number }> } }).optimizer.state['0'].step, 5, '40 images / batch 8 = 5 steps, a header number');
    assert.ok(!Object.keys(state).some((k) => k.startsWith('optimizer.')), 'the model state holds the model only');

    const resumed = setup(77); // other initial weights and generator: everything must come from the checkpoint
    resumed.model.loadStateDict(state);
    resumed.opt.loadStateDict(training!.optimizer);
    resumed.sched.loadStateDict(training!.scheduler as optim.LRSchedulerStateDict);
    resumed.g.setState(training!.generators.g);
    const resumedResults: EpochResult[] = [];
    for (const r of fitEpochs(resumed.model, options(resumed, training!.epoch))) {
      resumedResults.push(r);
      resumed.sched.step();
    }
    assert.deepEqual(resumedResults.map((r) => r.epoch), [2, 3]);
    assert.deepEqual(bytesOf(resumed.model.stateDict()), bytesOf(straight.model.stateDict()));
    assert.deepEqual(resumedResults.map((r) => [r.trainLoss, r.test!.loss]), straightResults.slice(1).map((r) => [r.trainLoss, r.test!.loss]));
    assert.deepEqual(resumed.opt.paramGroups.map((g) => g.lr), [0.01 * 0.5 ** 3]);
  });

  test('initialEpoch must leave an epoch to train', () => {
    const s = setup(0);
    assert.throws(() => fitEpochs(s.model, options(s, 3)), /initialEpoch .* must be an integer in .*\[0, 2\], got 3/);
  });
});

describe('stride train --resume', () => {
  const base = { model: 'lenet5', dataset: 'mnist', limit: 256, testLimit: 200, top: 3 } satisfies TrainCommandOptions;

  /** The epoch line's numbers (loss, train accuracy, test accuracy, test loss), without times and memory. */
  const epochNumbers = (lines: string[], epoch: string) => {
    const line = lines.find((l) => l.startsWith(`epoch ${epoch}:`));
    assert.ok(line, `no line for epoch ${epoch} in:\n${lines.join('\n')}`);
    const m = /^epoch \S+: loss (\S+), train accuracy (\S+), .*; test accuracy (\S+), test loss (\S+) /.exec(line)!;
    return m.slice(1);
  };
  /** The --json line's metrics (without times and memory). */
  const metrics = (s: TrainSummary) => {
    const j = JSON.parse(trainJson(s));
    return { testAccuracy: j.testAccuracy, testLoss: j.testLoss, trainLoss: j.trainLoss, topK: j.topK, epochs: j.epochs, lr: j.lr, seed: j.seed };
  };

  for (const run of [
    { name: 'SGD with momentum, cosine schedule', options: { optimizer: 'sgd', lrSchedule: 'cosine' } },
    { name: 'Adam, linear schedule', options: { optimizer: 'adam', lrSchedule: 'linear' } },
  ] as const) {
    test(`${run.name}: 2 epochs straight equal 1 epoch, a stop during epoch 2, then --resume`, async () => {
      await withTempDir('stride-resume-', async (dir) => {
        const straightIO = memoryIO();
        const straight = await runTrain({ ...base, ...run.options, epochs: 2, out: join(dir, 'straight') }, straightIO);

        // The same run, stopped when epoch 2 is reported (after the checkpoint of epoch 1, before that of epoch 2).
        const stoppedIO = memoryIO();
        const stop = stoppedIO.out;
        stoppedIO.out = (line) => {
          if (line.startsWith('epoch 2/2')) throw new Error('interrupted');
          stop(line);
        };
        const out = join(dir, 'resumed');
        await assert.rejects(runTrain({ ...base, ...run.options, epochs: 2, out }, stoppedIO), /interrupted/);
        assert.equal((await readCheckpoint(out)).training!.epoch, 1, 'the checkpoint holds epoch 1');

        const resumedIO = memoryIO();
        const resumed = await runTrain({ resume: out, top: 3 }, resumedIO);
        assert.match(resumedIO.lines[0], /^resuming .*model\.stride after epoch 1 of 2$/);
        assert.equal(resumed.resumedFrom, join(out, 'model.stride'));
        assert.equal(resumed.history.length, 1, 'one epoch trained');

        const a = await readCheckpoint(join(dir, 'straight'));
        const b = await readCheckpoint(out);
        assert.deepEqual(bytesOf(b.state), bytesOf(a.state), 'the weights are bit-identical');
        const optimizerTensors = (c: typeof a) => bytesOf(Object.fromEntries(Object.entries(c.training!.optimizer.state).flatMap(([i, e]) => Object.entries(e).filter(([, v]) => v instanceof Tensor).map(([k, v]) => [`${i}.${k}`, v as Tensor]))));
        assert.deepEqual(optimizerTensors(b), optimizerTensors(a), 'the optimizer state is bit-identical');
        assert.ok(Object.keys(optimizerTensors(a)).length >= 10, 'every LeNet-5 parameter has optimizer buffers');
        assert.deepEqual(b.training!.generators, a.training!.generators, 'the generators are where the straight run left them');
        assert.deepEqual(metrics(resumed), metrics(straight));
        assert.deepEqual(epochNumbers(resumedIO.lines, '2/2'), epochNumbers(straightIO.lines, '2/2'));
        assert.ok(resumedIO.lines.includes(straightIO.lines.find((l) => l.startsWith('top-3 test accuracy'))!), 'the same top-3 line');
      });
    });
  }

  /**
   * `stride train` in a child process, sent SIGINT (Ctrl-C) as soon as a stdout line matches `when`; resolves to its
   * exit code and output.
   */
  const interruptWhen = (args: string[], when: RegExp) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!sent && when.test(stdout)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

  for (const stop of [
    { during: 'epoch 2', when: /^epoch 1\/2: /m, saved: 'the state after epoch 1', epoch: 1 },
    { during: 'epoch 1', when: /^training lenet5 on mnist/m, saved: 'the state before the first epoch', epoch: 0 },
  ]) {
    test(`Ctrl-C during ${stop.during}: exit 130 after the batch in progress, ${stop.saved} saved, and --resume ends with the uninterrupted run's weights`, async () => {
      await withTempDir('stride-sigint-', async (dir) => {
        const args = (out: string) => ['train', 'lenet5', '--limit', '6400', '--test-limit', '200', '--epochs', '2', '--no-progress', '--out', out];
        const out = join(dir, 'interrupted');
        const [straight, stopped] = await Promise.all([stride(...args(join(dir, 'straight'))), interruptWhen(args(out), stop.when)]);
        assert.equal(straight.code, 0, straight.stderr);
        assert.equal(stopped.code, 130, stopped.stderr);
        assert.match(stopped.stderr, /^interrupted: stopping after this batch/m);
        const m = new RegExp(`^interrupted at epoch (\\d), batch \\d+/100; ${stop.saved} is in (.*model\\.stride): continue with  stride train --resume (.*)$`, 'm').exec(stopped.stderr);
        assert.ok(m, stopped.stderr);
        assert.equal(Number(m[1]), stop.epoch + 1);
        assert.equal(m[2], join(out, 'model.stride'));
        assert.equal((await readCheckpoint(out)).training!.epoch, stop.epoch);
        assert.doesNotMatch(stopped.stdout, /test accuracy: /, 'the run did not finish');

        const resumed = await stride('train', '--resume', m[3], '--no-progress');
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.match(resumed.stdout, new RegExp(`^resuming .* after epoch ${stop.epoch} of 2$`, 'm'));
        const a = await readCheckpoint(join(dir, 'straight'));
        const b = await readCheckpoint(out);
        assert.deepEqual(bytesOf(b.state), bytesOf(a.state), 'the weights are bit-identical to the uninterrupted run\'s');
        assert.equal(resumed.stdout.match(/^test accuracy: .*$/m)![0], straight.stdout.match(/^test accuracy: .*$/m)![0]);
      });
    });
  }

  test('a checkpoint without training state (weights only, or an older Stride) is refused', async () => {
    await withTempDir('stride-resume-', async (dir) => {
      await saveCheckpoint(dir, new LeNet5({ generator: new Generator(0) }), { model: 'lenet5', meta: { dataset: 'mnist', epochs: 1 } });
      await rejectsWith(runTrain({ resume: dir }, memoryIO()), DataError, /holds no training state/, /stride-checkpoint-v1/, /start a new run/);
    });
  });

  test('a finished run says so; --epochs extends it; a conflicting option is refused', async () => {
    await withTempDir('stride-resume-', async (dir) => {
      await runTrain({ ...base, limit: 64, testLimit: 50, epochs: 1, out: dir }, memoryIO());
      await rejectsWith(runTrain({ resume: dir }, memoryIO()), ValueError, /has finished \(1 of 1 epochs trained\)/, /--epochs N with N > 1/);
      await rejectsWith(runTrain({ resume: dir, epochs: 1 }, memoryIO()), ValueError, /--epochs 1 is not more than the 1 epochs/);
      await rejectsWith(runTrain({ resume: dir, epochs: 2, batchSize: 32 }, memoryIO()), ValueError, /--batch-size 32 conflicts with the run's --batch-size 64/);
      await rejectsWith(runTrain({ resume: dir, epochs: 2, model: 'resnet18' }, memoryIO()), ValueError, /trains model 'lenet5', not 'resnet18'/);
      const io = memoryIO();
      const extended = await runTrain({ resume: dir, epochs: 2, testLimit: 50 }, io);
      assert.match(io.lines[0], /after epoch 1 of 2 \(extended from 1\)/);
      assert.equal(extended.trainLoss.length, 2);
      assert.equal((await readCheckpoint(dir)).training!.epoch, 2);
    });
  });
});

describe('stride train builds the model for the dataset', () => {
  test('resnet18 takes MNIST (1 channel, adaptive pooling) and trains', async () => {
    const io = memoryIO();
    const s = await runTrain({ model: 'resnet18', limit: 16, testLimit: 16, batchSize: 16, save: false }, io);
    assert.equal(s.trainImages, 16);
    assert.ok(Number.isFinite(s.testLoss));
  });

  test("alexnet cannot take MNIST's 1x28x28 images: refused before training, with the reason", async () => {
    const io = memoryIO();
    await rejectsWith(
      runTrain({ model: 'alexnet', limit: 16, testLimit: 16, save: false }, io),
      ShapeError, "model 'alexnet' cannot take mnist's 1x28x28 images: ", /maxPool2d/, /larger than the padded input/,
    );
    assert.deepEqual(io.lines, [], 'nothing was trained');
  });
});
