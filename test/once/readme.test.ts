/**
 * The README is the contract: its code example must run as written (with the
 * package names mapped to the sources) and do what it says — train LeNet-5 on
 * 6,000 MNIST images and predict most of the first eight digits correctly —
 * and its command-line synopsis is the one the CLI derives from its option
 * declarations (src/cli/options.ts).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { commandSynopsis } from '../../src/cli/program.js';

const root = resolve(import.meta.dirname, '..', '..');

test('the README example runs and predicts at least 6 of the first 8 training digits (5 0 4 1 9 2 1 3)', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const match = /## A short example\n\n```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(match, 'README.md has a "## A short example" section with a ts code block');
  const code = match[1]
    .replaceAll("from 'stride/node'", `from '${join(root, 'src/node.ts')}'`)
    .replaceAll("from 'stride'", `from '${join(root, 'src/index.ts')}'`);
  const dir = mkdtempSync(join(root, '.readme-test-'));
  try {
    const file = join(dir, 'example.ts');
    writeFileSync(file, code);
    const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: 300_000, env: process.env });
    assert.match(out, /LeNet5\(\n {2}\(conv1\): Conv2d\(1, 6/, 'the example prints the model');
    const last = /tensor\(\[([^\]]*)\]\)\s*$/.exec(out);
    assert.ok(last, `the example ends by printing the predictions; output was:\n${out}`);
    const predicted = last[1].split(',').map((v) => Number.parseFloat(v));
    const truth = [5, 0, 4, 1, 9, 2, 1, 3];
    const correct = predicted.filter((p, i) => p === truth[i]).length;
    assert.ok(correct >= 6, `predicted ${predicted.join(' ')}; only ${correct} of 8 correct`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the README's command-line synopsis is the one `stride --help` prints", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const match = /## The command line\n\n```\n([\s\S]*?)\n```/.exec(readme);
  assert.ok(match, 'README.md has a "## The command line" section starting with a code block');
  assert.equal(match[1], commandSynopsis(), 'paste the synopsis of `stride --help` (without its two-space indent) into the README');
});
