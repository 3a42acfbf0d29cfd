/**
 * The isomorphic entry point (src/index.ts) exports the browser-safe training
 * pieces (fit, evaluate, checkpoint bytes) and its static import graph reaches
 * no Node module and no package (protobufjs, for ONNX files, is a dynamic import); every public name is exported once (top level, F, nn, optim
 * and 'stride/node' are disjoint); an optimizer's state dictionary travels through checkpoint
 * bytes and resumes training exactly.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as stride from '../../src/index.js';
import * as strideNode from '../../src/node.js';
import * as strideInNode from '../../src/index-node.js';
import * as train from '../../src/train/index.js';
import * as checkpoint from '../../src/io/checkpoint.js';
import { Generator, Tensor, decodeCheckpoint, encodeCheckpoint, randn } from '../../src/index.js';
import { Linear } from '../../src/nn/index.js';
import { SGD, type OptimizerStateDict } from '../../src/optim/index.js';
import { crossEntropy } from '../../src/ops/index.js';
import { ok } from '../helpers/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every file reachable from `entry` through static imports / re-exports, and the bare (package or node:) specifiers they name. */
function staticGraph(entry: string): { files: Set<string>; bare: string[] } {
  const files = new Set<string>();
  const bare: string[] = [];
  const stack = [entry];
  while (stack.length) {
    const file = stack.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const src = readFileSync(file, 'utf8');
    // `import ... from '...'`, `export ... from '...'`, `import '...'` (dynamic import() is lazy and not followed; `import type` leaves nothing in the compiled module).
    // (The clause between the keyword and `from` holds names, braces, commas, `*`, `as`, `type`: no quotes, parentheses or `=`.)
    for (const m of src.matchAll(/^\s*(?:import\s*['"]([^'"]+)['"]|(?:import|export)\b[^;'"`(=]*?\bfrom\s*['"]([^'"]+)['"])/gm)) {
      if (/^\s*import\s+type\b/.test(m[0])) continue;
      const spec = m[1] ?? m[2];
      if (!spec.startsWith('.')) {
        bare.push(`${relative(root, file)}: ${spec}`);
        continue;
      }
      const target = join(dirname(file), spec).replace(/\.js$/, '.ts');
      if (statSync(target, { throwIfNoEntry: false })?.isFile()) stack.push(target);
      else bare.push(`${relative(root, file)}: unresolved ${spec}`);
    }
  }
  return { files, bare };
}

describe('src/index.ts is isomorphic', () => {
  test('fit, evaluate, metrics, schedules and checkpoint bytes are exported, the same functions as their modules', () => {
    for (const name of ['fit', 'evaluate', 'accuracy', 'countCorrect', 'RunningMean', 'formatDuration', 'lrMultiplier'] as const) {
      assert.equal(stride[name], train[name], name);
    }
    for (const name of ['encodeCheckpoint', 'decodeCheckpoint'] as const) assert.equal(stride[name], checkpoint[name], name);
    assert.equal(stride.CHECKPOINT_MAGIC, 'STRIDE02');
    assert.equal(stride.UNCHECKED_CHECKPOINT_MAGIC, 'STRIDE01');
  });

  test('no static import reaches a Node built-in or a package (the Node pieces stay behind stride/node)', () => {
    const { files, bare } = staticGraph(join(root, 'src', 'index.ts'));
    ok(files.has(join(root, 'src', 'train', 'fit.ts')), 'the graph includes the training loop');
    ok(files.has(join(root, 'src', 'io', 'checkpoint.ts')), 'the graph includes the checkpoint codec');
    ok(!files.has(join(root, 'src', 'io', 'node-fs.ts')), 'node-fs.ts stays out');
    ok(!files.has(join(root, 'src', 'train', 'progress.ts')), 'the terminal progress bar stays out');
    assert.deepEqual(bare, [], `bare imports reachable from src/index.ts:\n${bare.join('\n')}`);
  });
});

describe('the public surface declares each name once', () => {
  const namespaces = { F: stride.F, nn: stride.nn, optim: stride.optim };

  test("no top-level name of 'stride' is also in F, nn or optim, and no name is in two namespaces", () => {
    const seen = new Map<string, string>(Object.keys(stride).map((name) => [name, 'stride']));
    for (const [ns, module] of Object.entries(namespaces)) {
      for (const name of Object.keys(module)) {
        assert.equal(seen.get(name), undefined, `${ns}.${name} is also exported as ${seen.get(name) === 'stride' ? name : `${seen.get(name)}.${name}`}`);
        seen.set(name, ns);
      }
    }
  });

  test("'stride' and 'stride/node' are disjoint, and 'stride' in Node exports what it exports elsewhere", () => {
    const both = Object.keys(strideNode).filter((name) => Object.hasOwn(stride, name));
    assert.deepEqual(both, [], `exported by both 'stride' and 'stride/node': ${both.join(', ')}`);
    assert.deepEqual(Object.keys(strideInNode).sort(), Object.keys(stride).sort());
  });

  test('nn.parameter makes a trainable leaf (torch.nn.Parameter) that a Module lists among its parameters', () => {
    const p = stride.nn.parameter(stride.zeros([2, 3]));
    ok(p.requiresGrad && p.isLeaf, 'a parameter requires grad and is a leaf');
    class Scale extends stride.nn.Module {
      weight = stride.nn.parameter(stride.ones([3]));
      forward(x: Tensor): Tensor {
        return stride.F.mul(x, this.weight);
      }
    }
    assert.deepEqual(new Scale().parameters().map((t) => t.shape), [[3]]);
  });
});

describe('optimizer state through checkpoint bytes', () => {
  /** Flattens an optimizer state dict into checkpoint tensors (prefixed names) and JSON meta. */
  function pack(sd: OptimizerStateDict): { tensors: Record<string, Tensor>; meta: stride.JsonValue } {
    const tensors: Record<string, Tensor> = {};
    const counters: Record<string, Record<string, number>> = {};
    for (const [i, entry] of Object.entries(sd.state)) {
      for (const [key, v] of Object.entries(entry)) {
        if (v instanceof Tensor) tensors[`optimizer.${i}.${key}`] = v;
        else (counters[i] ??= {})[key] = v;
      }
    }
    return { tensors, meta: JSON.parse(JSON.stringify({ paramGroups: sd.paramGroups, stepCount: sd.stepCount, counters })) };
  }

  function unpack(state: Record<string, Tensor>, meta: any): OptimizerStateDict {
    const out: OptimizerStateDict = { state: {}, paramGroups: meta.paramGroups, stepCount: meta.stepCount };
    for (const [name, t] of Object.entries(state)) {
      const [, i, key] = name.split('.');
      (out.state[Number(i)] ??= {})[key] = t;
    }
    for (const [i, c] of Object.entries(meta.counters as Record<string, Record<string, number>>)) Object.assign((out.state[Number(i)] ??= {}), c);
    return out;
  }

  test('SGD with momentum: 3 steps straight equal 1 step, encode, decode into fresh objects, 2 steps', () => {
    const x = randn([6, 4], { generator: new Generator(8) });
    const y = [0, 1, 2, 0, 1, 2];
    const run = (model: Linear, opt: SGD, steps: number) => {
      for (let s = 0; s < steps; s++) {
        opt.zeroGrad();
        crossEntropy(model.forward(x), y).backward();
        opt.step();
      }
    };
    const straight = new Linear(4, 3, { generator: new Generator(1) });
    run(straight, new SGD(straight, { lr: 0.3, momentum: 0.9 }), 3);

    const first = new Linear(4, 3, { generator: new Generator(1) });
    const opt1 = new SGD(first, { lr: 0.3, momentum: 0.9 });
    run(first, opt1, 1);
    const packed = pack(opt1.stateDict());
    const bytes = encodeCheckpoint({ model: 'linear', state: { ...first.stateDict(), ...packed.tensors }, meta: { optimizer: packed.meta } });

    const { header, state } = decodeCheckpoint(bytes, 'memory');
    const modelState = Object.fromEntries(Object.entries(state).filter(([k]) => !k.startsWith('optimizer.')));
    const optState = Object.fromEntries(Object.entries(state).filter(([k]) => k.startsWith('optimizer.')));
    const resumed = new Linear(4, 3, { generator: new Generator(2) });
    resumed.loadStateDict(modelState);
    const opt2 = new SGD(resumed, { lr: 0.3, momentum: 0.9 });
    opt2.loadStateDict(unpack(optState, header.meta.optimizer));
    run(resumed, opt2, 2);
    assert.deepEqual(Array.from(resumed.weight.data), Array.from(straight.weight.data));
    assert.deepEqual(Array.from(resumed.bias!.data), Array.from(straight.bias!.data));
  });
});
