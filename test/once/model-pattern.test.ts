/**
 * Networks from the lectures' pattern [(CONV-RELU)*N-POOL?]*M-(FC-RELU)*K-SOFTMAX:
 * the parsed tree and layers of the lectures' example (written by hand),
 * the built layers, names and parameter counts (by hand), the caret under
 * the mistake of malformed strings (columns counted by hand), the rules
 * that need the input shape, the registry's recognition of patterns, and,
 * where PyTorch is installed, the equivalent nn.Sequential's state dict and
 * scores with the same weights.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Generator, PatternModel, ValueError, buildModelFromPattern, createModel, getModelSpec, isModelPattern, nn, noGrad, parseModelPattern, randn,
} from '../../src/index.js';
import type { Module } from '../../src/nn/index.js';
import { assertClose, ok, runTorch, stateDictJson, throwsWith } from '../helpers/index.js';

const EXAMPLE = '[(conv3-32-relu)*2-pool2]*2-(fc128-relu)*1-fc10';

/** The module classes of a model's children, in order. */
const kinds = (m: Module) => m.children().map((c) => c.constructor.name);

/** Asserts that fn throws a ValueError quoting `text` with the caret under `column` (1-based) and the message containing `what`. */
function caretAt(fn: () => unknown, text: string, column: number, what: string): void {
  throwsWith(fn, ValueError, `model pattern: ${what}`, `at column ${column}:\n  ${text}\n  ${' '.repeat(column - 1)}^`);
}

describe('parseModelPattern', () => {
  test("the lectures' example: the tree and the 13 layers, with the columns they start at", () => {
    const p = parseModelPattern(EXAMPLE);
    assert.equal(p.text, EXAMPLE);
    const conv = { kind: 'conv', kernelSize: 3, channels: 32, column: 3 };
    const relu = { kind: 'activation', name: 'relu', column: 12 };
    const pool = { kind: 'pool', size: 2, column: 20 };
    const fc128 = { kind: 'fc', features: 128, column: 30 };
    const relu2 = { kind: 'activation', name: 'relu', column: 36 };
    const fc10 = { kind: 'fc', features: 10, column: 44 };
    assert.deepEqual(p.items, [
      { kind: 'repeat', bracket: '[', count: 2, column: 1, items: [{ kind: 'repeat', bracket: '(', count: 2, column: 2, items: [conv, relu] }, pool] },
      { kind: 'repeat', bracket: '(', count: 1, column: 29, items: [fc128, relu2] },
      fc10,
    ]);
    assert.deepEqual(p.layers, [conv, relu, conv, relu, pool, conv, relu, conv, relu, pool, fc128, relu2, fc10]);
  });

  test('keywords in any case, spaces between tokens, "," as a joiner, nested groups, a group without a count counts once', () => {
    const p = parseModelPattern('[ (CONV5-6 - ReLU) - Pool2 ] * 2 , FC10 , softmax');
    assert.deepEqual(p.layers.map((l) => l.kind === 'activation' ? l.name : l.kind), ['conv', 'relu', 'pool', 'conv', 'relu', 'pool', 'fc', 'softmax']);
    assert.deepEqual(parseModelPattern('((fc3))-fc2').layers.map((l) => l.column), [3, 9]);
  });

  const malformed: [string, number, string][] = [
    ['[(conv3-32-relu)*2-pol2]*2-fc10', 20, 'expected a layer (convK-C, poolF, fcN, relu, tanh, sigmoid, softmax)'],
    ['', 1, 'expected a layer'],
    ['fc10--fc10', 6, 'expected a layer'],
    ['(conv3-32', 10, "expected ')' to close the '(' of column 1"],
    ['[conv3-8)*2-fc10', 9, "expected '-' joining two items, or ']' to close the '[' of column 1, found ')'"],
    ['conv3-32)', 9, "')' closes no group"],
    ['conv3-32 relu', 10, "expected '-' joining two items, or the end of the pattern, found 'r'"],
    ['conv-32', 5, "expected the kernel size K after 'conv'"],
    ['conv3-relu', 7, "expected '-' and the number of filters after 'conv3'"],
    ['conv3-0-fc10', 7, 'the number of filters must be at least 1, got 0'],
    ['pool0-fc10', 5, 'the pool size must be at least 1, got 0'],
    ['fc0', 3, 'the number of outputs must be at least 1, got 0'],
    ['[(conv3-32-relu)*0]-fc10', 18, 'a repeat count must be at least 1, got 0'],
    ['(fc10)*', 8, "expected a repeat count after '*'"],
    ['fc10*2', 5, "'*' repeats a group: write (fc10)*N"],
    ['relu2-fc10', 5, 'relu takes no number'],
    ['fc2000000', 3, 'the number of outputs must be at most 1,000,000'],
    ['[fc2]*10001-fc10', 1, 'the group expands to more than 10,000 layers'],
  ];
  for (const [text, column, what] of malformed) {
    test(`malformed: ${JSON.stringify(text)} -> caret at column ${column}`, () => {
      caretAt(() => parseModelPattern(text), text, column, what);
    });
  }

  test('a non-string is refused', () => {
    throwsWith(() => parseModelPattern(42 as unknown as string), ValueError, 'expected a string', 'got number');
  });
});

describe('buildModelFromPattern', () => {
  test("the example on 1x28x28: 14 children named 0..13 (Flatten at 10), 230,186 parameters", () => {
    const m = buildModelFromPattern(EXAMPLE, { generator: new Generator(0) });
    assert.ok(m instanceof PatternModel);
    assert.deepEqual(kinds(m), [
      'Conv2d', 'ReLU', 'Conv2d', 'ReLU', 'MaxPool2d', 'Conv2d', 'ReLU', 'Conv2d', 'ReLU', 'MaxPool2d', 'Flatten', 'Linear', 'ReLU', 'Linear',
    ]);
    // conv 1->32: 32*9 + 32 = 320; three convs 32->32: 3 * (32*32*9 + 32) = 27,744;
    // 28 -> 14 -> 7, so fc 32*7*7 = 1,568 -> 128: 1,568*128 + 128 = 200,832; fc 128 -> 10: 1,290.
    assert.equal(m.numParameters(), 320 + 27_744 + 200_832 + 1_290);
    assert.equal(m.numParameters(), 230_186);
    const shapes = Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, [...v.shape]]));
    assert.deepEqual(shapes, {
      '0.weight': [32, 1, 3, 3], '0.bias': [32], '2.weight': [32, 32, 3, 3], '2.bias': [32], '5.weight': [32, 32, 3, 3], '5.bias': [32],
      '7.weight': [32, 32, 3, 3], '7.bias': [32], '11.weight': [128, 1568], '11.bias': [128], '13.weight': [10, 128], '13.bias': [10],
    });
    const y = noGrad(() => m.forward(randn([2, 1, 28, 28], { generator: new Generator(1) })));
    assert.deepEqual(y.shape, [2, 10]);
  });

  test('inputShape sizes the first linear layer: 3x32x32 gives 32*8*8 = 2,048 inputs, 292,202 parameters', () => {
    const m = createModel(EXAMPLE, { inputShape: [3, 32, 32] });
    // conv 3->32: 3*32*9 + 32 = 896; 27,744 as above; fc 2,048*128 + 128 = 262,272; 1,290.
    assert.equal(m.numParameters(), 896 + 27_744 + 262_272 + 1_290);
    assert.equal(createModel(EXAMPLE, { inChannels: 3 }).numParameters(), 896 + 27_744 + 200_832 + 1_290);
  });

  test('fc first: a Flatten at 0 (MLP on 28x28: 784*100 + 100 + 100*10 + 10 = 79,510); even kernels keep the size ("same")', () => {
    const mlp = createModel('fc100-relu-fc10');
    assert.deepEqual(kinds(mlp), ['Flatten', 'Linear', 'ReLU', 'Linear']);
    assert.equal(mlp.numParameters(), 79_510);
    assert.deepEqual(Object.keys(mlp.stateDict()), ['1.weight', '1.bias', '3.weight', '3.bias']);
    // conv4 and conv2 keep 28x28 and 9x9, so the fc sees 4*9*9 = 324: 1*6*16 + 6 + 6*4*4 + 4 + 324*10 + 10 = 3,452.
    const even = createModel('conv4-6-tanh-pool3-conv2-4-sigmoid-fc10');
    assert.equal(even.numParameters(), 3_452);
    assert.deepEqual(kinds(even), ['Conv2d', 'Tanh', 'MaxPool2d', 'Conv2d', 'Sigmoid', 'Flatten', 'Linear']);
  });

  test('a trailing softmax is left to the loss: the same layers and scores as without it, and the printout says so', () => {
    const withSoftmax = createModel('conv3-4-relu-pool2-fc10-softmax', { generator: new Generator(3) }) as PatternModel;
    const without = createModel('conv3-4-relu-pool2-fc10', { generator: new Generator(3) }) as PatternModel;
    assert.equal(withSoftmax.endsWithSoftmax, true);
    assert.equal(without.endsWithSoftmax, false);
    assert.deepEqual(kinds(withSoftmax), kinds(without));
    const x = randn([2, 1, 28, 28], { generator: new Generator(4) });
    assert.deepEqual([...noGrad(() => withSoftmax.forward(x)).data], [...noGrad(() => without.forward(x)).data]);
    assert.match(String(withSoftmax), /softmax is applied by the loss/);
  });

  const rules: [string, { inputShape?: number[]; numClasses?: number }, number, string][] = [
    ['fc10-conv3-3-fc10', {}, 6, 'conv3-3 follows a fully connected layer'],
    ['fc20-pool2-fc10', {}, 6, 'pool2 follows a fully connected layer'],
    // 28 -> 14 -> 7 -> 3 -> 1, and the fifth pool2 meets a 1x1 image (column 10: the pool inside the group).
    ['[conv3-4-pool2]*5-fc10', {}, 10, 'pool2 would shrink the 1x1 image (input 1x28x28) below 1x1'],
    ['pool5-fc10', { inputShape: [1, 4, 9] }, 1, 'pool5 would shrink the 4x9 image (input 1x4x9) below 1x1'],
    ['conv3-8-relu', {}, 9, 'the pattern must end with the classifier fcN (N class scores), optionally followed by softmax; it ends with relu'],
    ['softmax', {}, 1, 'the pattern must end with the classifier fcN (N class scores), optionally followed by softmax; it ends with softmax'],
    ['fc10-softmax-fc10', {}, 6, 'softmax may only end the pattern'],
    ['fc128-relu-fc10', { numClasses: 5 }, 12, 'the last layer fc10 gives 10 classes but numClasses is 5; end the pattern with fc5'],
  ];
  for (const [text, options, column, what] of rules) {
    test(`rule: ${text} ${JSON.stringify(options)} -> caret at column ${column}`, () => {
      caretAt(() => buildModelFromPattern(text, options), text, column, what);
    });
  }

  test('the pool rule depends on the image: [conv3-4-pool2]*5-fc10 fits 1x32x32 (32 -> 1)', () => {
    const m = buildModelFromPattern('[conv3-4-pool2]*5-fc10', { inputShape: [1, 32, 32] });
    assert.equal(m.numParameters(), 40 + 4 * 148 + 50); // 1*4*9+4, then 4 x (4*4*9+4), then fc 4 -> 10
  });

  test('options are checked', () => {
    throwsWith(() => buildModelFromPattern('fc10', { inputShape: [1, 28] }), ValueError, 'inputShape must be', '[1,28]');
    throwsWith(() => buildModelFromPattern('fc10', { inputShape: [1, 28, 28], inChannels: 3 }), ValueError, 'inChannels 3 disagrees with inputShape [1, 28, 28]');
    throwsWith(() => buildModelFromPattern('fc10', { classes: 3 } as object), ValueError, "unknown option 'classes'");
    throwsWith(() => buildModelFromPattern('fc10', { numClasses: 0 }), ValueError, 'numClasses must be an integer >= 1');
  });
});

describe('the registry takes patterns', () => {
  test('createModel and getModelSpec recognize a pattern; a registered name stays a name', () => {
    assert.equal(createModel('fc10').numParameters(), 784 * 10 + 10);
    const spec = getModelSpec(EXAMPLE);
    assert.deepEqual(spec.inputShape, [1, 28, 28]);
    assert.match(spec.description, /pattern/);
    assert.equal(spec.create({ generator: new Generator(0) }).numParameters(), 230_186);
    assert.equal(isModelPattern(EXAMPLE), true);
    assert.equal(isModelPattern('conv5-6-fc10'), true);
    assert.equal(isModelPattern('lenet5'), false);
    assert.equal(isModelPattern('resnet20'), false);
    // A misspelt name or a path is not a pattern: it gets the unknown-model message, not a caret.
    assert.equal(isModelPattern('resnet-18'), false);
    assert.equal(isModelPattern('runs/lenet5-mnist/model.stride'), false);
    // Malformed patterns fail in getModelSpec already, with the caret.
    caretAt(() => getModelSpec('conv3-32-pol2-fc10'), 'conv3-32-pol2-fc10', 10, 'expected a layer');
  });

  test('an unknown name lists the models and says a pattern is accepted, with an example', () => {
    throwsWith(() => createModel('resnet-18'), ValueError, "unknown model 'resnet-18'");
    throwsWith(() => createModel('vgg99'), ValueError, "unknown model 'vgg99'", 'lenet5', 'resnet20', 'resnet110', `a layer pattern is also accepted, e.g. "${EXAMPLE}"`);
  });
});

/** The equivalent PyTorch nn.Sequential of each case, with Stride's weights loaded, and its scores. */
interface TorchScores {
  keys: [string, number[]][];
  params: number;
  y: number[];
}

const TORCH_SEQUENTIAL = String.raw`
import json, sys, torch
import torch.nn as nn

cases = {
    "example": lambda: nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10)),
    "even": lambda: nn.Sequential(
        nn.Conv2d(1, 6, 4, padding="same"), nn.Tanh(), nn.MaxPool2d(3), nn.Conv2d(6, 4, 2, padding="same"), nn.Sigmoid(),
        nn.Flatten(), nn.Linear(4 * 9 * 9, 10)),
}
out = {}
for case in json.load(sys.stdin):
    net = cases[case["name"]]()
    net.load_state_dict({k: torch.tensor(v[1], dtype=torch.float32).reshape(v[0]) for k, v in case["state"].items()})
    x = torch.tensor(case["x"][1], dtype=torch.float32).reshape(case["x"][0])
    with torch.no_grad():
        y = net(x)
    out[case["name"]] = {
        "keys": [[k, list(v.shape)] for k, v in net.state_dict().items()],
        "params": sum(p.numel() for p in net.parameters()),
        "y": y.flatten().tolist(),
    }
print(json.dumps(out))
`;

describe('against PyTorch', () => {
  test("nn.Sequential of the same layers: the same parameter count, state-dict keys and shapes, and scores", (t) => {
    const cases = { example: EXAMPLE, even: 'conv4-6-tanh-pool3-conv2-4-sigmoid-fc10-softmax' };
    const built = Object.entries(cases).map(([name, pattern], i) => {
      const model = createModel(pattern, { generator: new Generator(10 + i) });
      const x = randn([2, 1, 28, 28], { generator: new Generator(20 + i) });
      return { name, model, x };
    });
    const theirs = runTorch<Record<string, TorchScores>>(
      TORCH_SEQUENTIAL,
      built.map(({ name, model, x }) => ({ name, state: stateDictJson(nn.toPytorchStateDict(model.stateDict())), x: [x.shape, Array.from(x.data)] })),
    );
    if (!theirs.ok) {
      t.skip(theirs.reason);
      return;
    }
    for (const { name, model, x } of built) {
      const them: TorchScores = theirs.value[name];
      assert.equal(model.numParameters(), them.params, `${name}: parameters`);
      assert.deepEqual(new Map(Object.entries(model.stateDict()).map(([k, v]) => [k, [...v.shape]])), new Map(them.keys), `${name}: state dict`);
      const y = noGrad(() => model.forward(x));
      ok(y.size === them.y.length, `${name}: ${y.size} scores, PyTorch ${them.y.length}`);
      assertClose(y.data, them.y, { atol: 1e-4, rtol: 1e-4 }, `${name}: scores`);
    }
  });
});
