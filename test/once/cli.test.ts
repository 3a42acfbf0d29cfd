import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stride } from '../helpers/index.js';
import { Generator, LeNet5 } from '../../src/index.js';
import { saveCheckpoint } from '../../src/node.js';

const TRAIN_OPTIONS = ['--dataset', '--data-dir', '--input', '--epochs', '--batch-size', '--lr', '--optimizer', '--momentum', '--lr-schedule', '--limit', '--test-limit', '--seed', '--out', '--no-save', '--backend', '--no-progress', '--top', '--resume', '--detect-anomaly', '--json'];
const EVAL_OPTIONS = ['--model', '--dataset', '--data-dir', '--batch-size', '--test-limit', '--top', '--confusion', '--backend', '--json'];

describe('stride CLI', () => {
  test('--help, train --help and eval --help mention every option', async () => {
    const [top, train, ev] = await Promise.all([stride('--help'), stride('train', '--help'), stride('eval', '--help')]);
    for (const r of [top, train, ev]) assert.equal(r.code, 0, r.stderr);
    for (const opt of TRAIN_OPTIONS) {
      assert.ok(top.stdout.includes(opt), `stride --help lacks ${opt}`);
      assert.ok(train.stdout.includes(opt), `stride train --help lacks ${opt}`);
    }
    for (const opt of EVAL_OPTIONS) {
      assert.ok(top.stdout.includes(opt), `stride --help lacks ${opt}`);
      assert.ok(ev.stdout.includes(opt), `stride eval --help lacks ${opt}`);
    }
    assert.match(top.stdout, /train/);
    assert.match(top.stdout, /eval/);
    assert.match(train.stdout, /lenet5/);
    assert.match(train.stdout, /mnist/);
  });

  const bad: [string[], RegExp][] = [
    [['train', 'lenet5', '--epochs', '1.5'], /--epochs.*'1\.5'/],
    [['train', 'lenet5', '--lr', '-0.1'], /--lr.*'-0\.1'.*> 0/],
    [['train', 'lenet5', '--batch-size', 'lots'], /--batch-size.*'lots'/],
    [['train', 'lenet5', '--optimizer', 'rmsprop'], /--optimizer.*rmsprop.*sgd, adam/],
    [['train', 'lenet5', '--dataset', 'cifar'], /--dataset.*cifar.*mnist, cifar10, cifar100/],
    [['train', 'lenet5', '--input', '3x32'], /--input.*'3x32'.*CxHxW/],
    [['train', 'lenet5', '--input', '3x0x32'], /--input.*'3x0x32'.*three whole numbers >= 1/],
    [['train', 'lenet5', '--dataset', 'mnist', '--input', '3x32x32'], /--input 3x32x32: mnist's images are 1x28x28 and are not resized.*--input 1x28x28/],
    [['train', 'lenet5', '--dataset', 'cifar100'], /the cifar100 dataset needs --data-dir DIR.*CIFAR-100 binary version \(suitable for C programs\).*train\.bin, test\.bin, fine_label_names\.txt, coarse_label_names\.txt/],
    [['train', 'lenet5', '--momentum', '1'], /--momentum/],
    [['train', 'lenet5', '--optimizer', 'adam', '--momentum', '0.5'], /--momentum applies to --optimizer sgd only/],
    [['train', 'lenet5', '--lr-schedule', 'step'], /--lr-schedule.*step.*constant, linear, cosine/],
    [['train', 'lenet5', '--backend', 'cuda'], /--backend.*cuda.*ref/],
    [['train', 'lenet5', '--bogus'], /unknown option '--bogus'/],
    [['train', 'vgg99'], /'vgg99'.*model.*lenet5/],
    [['train'], /name the model to train.*--resume DIR/],
    [['train', 'lenet5', '--top', '0'], /--top.*'0'/],
    [['train', 'lenet5', '--normalize', '0.1/0'], /--normalize 0\.1\/0: a std must be > 0, got 0/],
    [['train', 'lenet5', '--normalize', '0.1/1e-40', '--limit', '64', '--test-limit', '64'], /normalize: \(x - mean\) \/ std overflows at element 0: \(0 - 0\.1\) \/ 1e-40 is -Infinity in float32; std = 1e-40 is too small/],
    [['eval'], /--model/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ];
  for (const [args, pattern] of bad) {
    test(`bad arguments: stride ${args.join(' ')} -> exit 2, one line`, async () => {
      const r = await stride(...args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line expected:\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(r.stdout, '');
    });
  }

  describe('train then eval', () => {
    let dir = '';
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'stride-cli-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    test('train --limit 300 --json saves a checkpoint; eval reloads it and prints the same accuracy', async () => {
      const out = join(dir, 'run');
      const r = await stride('train', 'lenet5', '--dataset', 'mnist', '--limit', '300', '--test-limit', '500', '--epochs', '1', '--json', '--out', out);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      const json = JSON.parse(lines[lines.length - 1]);
      for (const key of ['testAccuracy', 'trainImagesPerSec', 'seconds', 'model', 'epochs', 'batchSize', 'lr', 'optimizer', 'seed', 'backend', 'lrSchedule']) {
        assert.ok(key in json, `JSON lacks ${key}`);
      }
      assert.equal(json.model, 'lenet5');
      assert.equal(json.epochs, 1);
      assert.equal(json.batchSize, 64);
      assert.equal(json.lr, 0.05);
      assert.equal(json.optimizer, 'sgd');
      assert.equal(json.seed, 0);
      assert.equal(typeof json.backend, 'string');
      assert.equal(json.trainImages, 300);
      assert.ok(json.trainImagesPerSec > 0 && json.seconds > 0);
      assert.equal(lines.filter((l) => l.startsWith('{')).length, 1, 'one JSON line');
      const accuracyLine = `test accuracy: ${json.testAccuracy.toFixed(4)}`;
      assert.ok(lines.includes(accuracyLine), r.stdout);
      assert.match(r.stdout, /^epoch 1\/1: loss /m);
      assert.match(r.stdout, /saved weights to .*model\.stride/);
      assert.equal(r.stderr, '', 'no progress bar when stderr is not a TTY');
      await access(join(out, 'model.stride'));

      const e = await stride('eval', '--model', out, '--test-limit', '500', '--backend', 'ref', '--json');
      assert.equal(e.code, 0, e.stderr);
      const evalLines = e.stdout.trim().split('\n');
      assert.ok(evalLines.includes(accuracyLine), e.stdout);
      const evalJson = JSON.parse(evalLines[evalLines.length - 1]);
      assert.equal(evalJson.testAccuracy, json.testAccuracy);
      assert.equal(evalJson.testImages, 500);
      assert.equal(evalJson.backend, 'ref');
      assert.deepEqual(evalJson.topK, { 1: json.testAccuracy });
      assert.equal(evalJson.confusionMatrix, undefined, 'the confusion matrix only with --confusion');

      const c = await stride('eval', '--model', out, '--test-limit', '500', '--top', '5', '--confusion', '--json');
      assert.equal(c.code, 0, c.stderr);
      const cLines = c.stdout.trim().split('\n');
      const cJson = JSON.parse(cLines[cLines.length - 1]);
      assert.equal(cJson.topK['1'], json.testAccuracy);
      assert.ok(cJson.topK['5'] >= cJson.topK['1'] && cJson.topK['5'] <= 1);
      assert.ok(cLines.includes(`top-5 accuracy ${cJson.topK['5'].toFixed(4)}, error ${(1 - cJson.topK['5']).toFixed(4)}`), c.stdout);
      const m: number[][] = cJson.confusionMatrix;
      assert.equal(m.length, 10);
      assert.ok(m.every((row) => row.length === 10));
      assert.equal(m.flat().reduce((s, v) => s + v, 0), 500);
      assert.equal(m.reduce((s, row, i) => s + row[i], 0), Math.round(json.testAccuracy * 500), 'the diagonal holds the correct predictions');
      m.forEach((row, i) => {
        const total = row.reduce((s, v) => s + v, 0);
        assert.equal(cJson.perClassAccuracy[i], total > 0 ? row[i] / total : null, `class ${i}`);
      });
      // The printed matrix: a header of the ten digits, then one row per true digit with its counts and accuracy.
      const header = cLines.findIndex((l) => l.startsWith('true \\ predicted'));
      assert.ok(header > 0, c.stdout);
      assert.deepEqual(cLines[header].split(/\s+/).slice(3), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'accuracy']);
      for (let i = 0; i < 10; i++) {
        const cells = cLines[header + 1 + i].trim().split(/\s+/);
        assert.equal(cells[0], String(i));
        assert.deepEqual(cells.slice(1, 11).map(Number), m[i]);
        assert.equal(cells[11], cJson.perClassAccuracy[i] === null ? '-' : cJson.perClassAccuracy[i].toFixed(4));
      }
      const widths = new Set(cLines.slice(header, header + 11).map((l) => l.length));
      assert.equal(widths.size, 1, 'the columns are aligned');
    });

    test('train resnet20 --dataset mnist: the CIFAR network built for 1x28x28 images trains', async () => {
      const r = await stride('train', 'resnet20', '--dataset', 'mnist', '--limit', '64', '--test-limit', '64', '--batch-size', '32', '--no-save', '--json');
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      const json = JSON.parse(lines[lines.length - 1]);
      assert.equal(json.model, 'resnet20');
      assert.equal(json.trainImages, 64);
      assert.equal(json.testImages, 64);
      assert.equal(json.checkpoint, null);
      assert.ok(json.trainLoss.length === 1 && Number.isFinite(json.trainLoss[0]), r.stdout);
      assert.match(r.stdout, /^training resnet20 on mnist: 64 training images/m);
    });

    test('train a layer pattern: saves a checkpoint naming the pattern; eval rebuilds it and prints the same accuracy', async () => {
      const pattern = '[(conv3-8-relu)*2-pool2]*2-(fc32-relu)*1-fc10-softmax';
      const out = join(dir, 'pattern');
      const r = await stride('train', pattern, '--dataset', 'mnist', '--limit', '128', '--test-limit', '100', '--json', '--out', out);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      const json = JSON.parse(lines[lines.length - 1]);
      assert.equal(json.model, pattern);
      assert.equal(json.trainImages, 128);
      const accuracyLine = `test accuracy: ${json.testAccuracy.toFixed(4)}`;
      const e = await stride('eval', '--model', out, '--test-limit', '100', '--json');
      assert.equal(e.code, 0, e.stderr);
      assert.ok(e.stdout.trim().split('\n').includes(accuracyLine), e.stdout);
      assert.match(e.stdout, /evaluating \[\(conv3-8-relu\)\*2-pool2\]/);
    });

    test('a malformed pattern: exit 2, the pattern quoted with a caret under the mistake, nothing trained', async () => {
      const r = await stride('train', '[(conv3-32-relu)*2-pol2]*2-fc10', '--limit', '10', '--no-save');
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /expected a layer \(convK-C, poolF, fcN, relu, tanh, sigmoid, softmax\) at column 20:\n  \[\(conv3-32-relu\)\*2-pol2\]\*2-fc10\n {21}\^\n/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(r.stdout, '');
    });

    test('an --out that cannot be created fails at once: exit 1, one line, no stack', async () => {
      const file = join(dir, 'a-file');
      await writeFile(file, 'x');
      const r = await stride('train', 'lenet5', '--limit', '10', '--out', join(file, 'sub'));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^error: ENOTDIR.*a-file/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.equal(r.stdout, '', 'nothing was trained');
    });

    test('an --out that names an existing file: exit 2, one line saying so, before any training', async () => {
      const file = join(dir, 'weights-file');
      await writeFile(file, 'x');
      const r = await stride('train', 'lenet5', '--limit', '10', '--out', file);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim(), `error: --out ${file} is an existing file, not a folder (the folder is to hold model.stride); name a folder, new or existing, or move the file away`);
      assert.doesNotMatch(r.stderr, /EEXIST|mkdir/);
      assert.equal(r.stdout, '', 'nothing was trained');
    });

    test('a learning rate of 1e6 stops training at the first bad batch: exit 2, one line with the batch and the learning rate; --detect-anomaly names the op and its layer', async () => {
      const args = ['train', 'lenet5', '--limit', '640', '--test-limit', '100', '--lr', '1e6', '--lr-schedule', 'constant', '--no-save'];
      const [plain, anomaly] = await Promise.all([stride(...args), stride(...args, '--detect-anomaly')]);
      for (const r of [plain, anomaly]) {
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stderr.trim().split('\n').length, 1, `one line expected:\n${r.stderr}`);
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
        assert.doesNotMatch(r.stdout, /test accuracy|saved weights/, 'nothing was evaluated or saved');
      }
      assert.match(plain.stderr, /^error: (the loss became (NaN|-?Infinity)|a gradient became non-finite|the optimizer step made the parameters non-finite) at epoch 1, batch \d+\/10/);
      assert.match(plain.stderr, /learning rate \(?(now )?1000000/);
      const m = /^error: anomaly mode stopped training at epoch 1, batch (\d+)\/10: (the backward of )?(\w+) \((after )?layer (conv1|conv2|fc1|fc2|fc3)\) produced a non-finite value in the (forward|backward) pass/.exec(anomaly.stderr);
      assert.ok(m, anomaly.stderr);
      assert.equal(m[1], /batch (\d+)\/10/.exec(plain.stderr)![1], 'the same batch with and without anomaly mode');
      assert.match(anomaly.stderr, /input shapes \[\d+(, \d+)*\]/);
      assert.match(anomaly.stderr, /Lower the learning rate \(now 1000000\)/);
    });

    test('eval refuses a checkpoint whose bias holds NaN: exit 2, one line naming the tensor and the count; so does train --init', async () => {
      const out = join(dir, 'nan-bias');
      const model = new LeNet5({ generator: new Generator(0) });
      model.fc3.bias!.data[3] = NaN;
      await saveCheckpoint(out, model, { model: 'lenet5', modelOptions: { numClasses: 10, inChannels: 1 }, meta: { dataset: 'mnist' } });
      const e = await stride('eval', '--model', out, '--test-limit', '100', '--json');
      assert.equal(e.code, 2, e.stderr);
      assert.match(e.stderr, /^error: checkpoint .*model\.stride: the model's weights hold values that are not finite, in 1 of its 10 tensors: fc3\.bias holds 1 NaN of 10 values \(the first at \[3\]\)/);
      assert.equal(e.stderr.trim().split('\n').length, 1);
      assert.equal(e.stdout, '', 'no accuracy and no JSON line (whose loss would be null)');
      const t = await stride('train', 'lenet5', '--init', out, '--limit', '64', '--test-limit', '64', '--no-save');
      assert.equal(t.code, 2, t.stderr);
      assert.match(t.stderr, /^error: --init .*model\.stride: the model's weights hold values that are not finite.*fc3\.bias holds 1 NaN/);
      assert.doesNotMatch(t.stdout, /^epoch /m, 'nothing was trained');
    });

    test('eval of a corrupt checkpoint: exit 2, one line naming the file', async () => {
      const bad = join(dir, 'bad');
      await rm(bad, { recursive: true, force: true });
      await mkdir(bad);
      await writeFile(join(bad, 'model.stride'), 'STRIDE01\x05\x00\x00\x00{oops');
      const r = await stride('eval', '--model', bad);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /model\.stride.*not valid JSON/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    });
  });
});
