import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, truncate, writeFile, appendFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { DataError, ValueError } from '../../src/errors.js';
import { F, listBackends } from '../../src/index.js';
import { registerNativeBackend } from '../../src/backends/native/register.js';
import { OPS, differentiable, lateBound, runConformance, compareTensors, unravel, type OpTable } from '../../src/conformance/index.js';
import { rejectsWith, withTempDir } from '../helpers/index.js';

// The shared cases run on every backend: native too, where OpenBLAS is found.
registerNativeBackend({ makeDefault: false });

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED = process.env.STRIDE_CONFORMANCE ?? resolve(ROOT, '..', 'shared', 'conformance');

interface T { shape: number[]; values: number[] }
interface CaseDef {
  id: string; op: string; attrs?: Record<string, unknown>;
  inputs: Record<string, T>; outputs?: Record<string, T>; grads?: Record<string, T>;
  tol?: { rtol: number; atol: number };
}

/** Writes `<family>.json` + `<family>.bin` in the conformance-v1 format; returns the manifest object. */
async function writeFamily(dir: string, family: string, cases: CaseDef[]): Promise<any> {
  const values: number[] = [];
  const refs = (group: Record<string, T> | undefined) => {
    const out: Record<string, unknown> = {};
    for (const [name, t] of Object.entries(group ?? {})) {
      assert.equal(t.values.length, t.shape.reduce((a, b) => a * b, 1), `test data ${name}`);
      out[name] = { shape: t.shape, offset: values.length, length: t.values.length };
      values.push(...t.values);
    }
    return out;
  };
  const manifest = {
    format: 'conformance-v1', family, dtype: 'float32', byteOrder: 'little', data: `${family}.bin`,
    cases: cases.map((c) => ({
      id: c.id, op: c.op, attrs: c.attrs ?? {},
      inputs: refs(c.inputs), outputs: refs(c.outputs), grads: refs(c.grads),
      tol: c.tol ?? { rtol: 1e-3, atol: 1e-4 },
    })),
  };
  await writeFile(join(dir, `${family}.json`), JSON.stringify(manifest, null, 1));
  await writeFile(join(dir, `${family}.bin`), new Uint8Array(new Float32Array(values).buffer));
  return manifest;
}

// relu, by hand: x = [[-1, 0.5, 2], [-3, 0, 4]]
const reluX: T = { shape: [2, 3], values: [-1, 0.5, 2, -3, 0, 4] };
const reluY: T = { shape: [2, 3], values: [0, 0.5, 2, 0, 0, 4] };
const reluGy: T = { shape: [2, 3], values: [1, 2, 3, 4, 5, 6] };
const reluGx: T = { shape: [2, 3], values: [0, 2, 3, 0, 0, 6] };

// linear, by hand: y = x W^T + b, gx = gy W, gW = gy^T x, gb = column sums of gy.
const linearCase: CaseDef = {
  id: 'tiny/linear', op: 'linear',
  inputs: {
    x: { shape: [2, 2], values: [1, 2, 3, 4] },
    weight: { shape: [3, 2], values: [1, 0, 0, 1, 1, 1] },
    bias: { shape: [3], values: [0.5, -1, 0] },
  },
  outputs: { y: { shape: [2, 3], values: [1.5, 1, 3, 3.5, 3, 7] } },
  grads: {
    gy: { shape: [2, 3], values: [1, 0, 1, 0, 1, 1] },
    gx: { shape: [2, 2], values: [2, 1, 1, 2] },
    gweight: { shape: [3, 2], values: [1, 2, 3, 4, 4, 6] },
    gbias: { shape: [3], values: [1, 1, 2] },
  },
};

const tinyCases: CaseDef[] = [
  { id: 'tiny/relu', op: 'relu', inputs: { x: reluX }, outputs: { y: reluY }, grads: { gy: reluGy, gx: reluGx } },
  linearCase,
  // y[0, 2] is 2.5 instead of 2: wrong by 0.5.
  { id: 'tiny/relu-wrong-y', op: 'relu', inputs: { x: reluX }, outputs: { y: { shape: [2, 3], values: [0, 0.5, 2.5, 0, 0, 4] } }, grads: { gy: reluGy, gx: reluGx } },
  // gx[1, 0] is 0.25 instead of 0.
  { id: 'tiny/relu-wrong-gx', op: 'relu', inputs: { x: reluX }, outputs: { y: reluY }, grads: { gy: reluGy, gx: { shape: [2, 3], values: [0, 2, 3, 0.25, 0, 6] } } },
  { id: 'tiny/frobnicate', op: 'frobnicate', attrs: { strength: 3 }, inputs: { x: reluX }, outputs: { y: reluY } },
  { id: 'tiny/block', op: 'model', attrs: { model: 'vgg16-s2', training: true }, inputs: { x: reluX }, outputs: { y: reluY } },
];

describe('conformance runner on hand-made cases', () => {
  test('reports pass, fail and skip with the failing tensor, its largest error and index', async () => {
    await withTempDir('stride-conformance-', async (dir) => {
      await writeFamily(dir, 'tiny', tinyCases);
      await writeFile(join(dir, 'package-like.json'), JSON.stringify({ name: 'not a manifest' }));
      const s = await runConformance(dir);
      assert.equal(s.passed, 2);
      assert.equal(s.failed, 2);
      assert.equal(s.skipped, 2);
      assert.deepEqual(s.families.map((f) => [f.family, f.passed, f.failed, f.skipped]), [['tiny', 2, 2, 2]]);
      const byId = new Map(s.results.map((r) => [r.id, r]));
      assert.equal(byId.get('tiny/relu')!.status, 'passed');
      assert.equal(byId.get('tiny/linear')!.status, 'passed');
      assert.deepEqual(byId.get('tiny/linear')!.comparisons.map((c) => c.name).sort(), ['gbias', 'gweight', 'gx', 'y']);

      const wrongY = byId.get('tiny/relu-wrong-y')!;
      assert.equal(wrongY.status, 'failed');
      const bad = wrongY.comparisons.filter((c) => !c.ok);
      assert.deepEqual(bad.map((c) => c.name), ['y']);
      assert.ok(Math.abs(bad[0].maxAbsError - 0.5) < 1e-6);
      assert.deepEqual(bad[0].index, [0, 2]);
      assert.equal(bad[0].flatIndex, 2);
      assert.equal(bad[0].mismatches, 1);

      const wrongGx = byId.get('tiny/relu-wrong-gx')!;
      assert.equal(wrongGx.status, 'failed');
      assert.deepEqual(wrongGx.comparisons.filter((c) => !c.ok).map((c) => [c.name, c.index]), [['gx', [1, 0]]]);

      assert.equal(byId.get('tiny/frobnicate')!.skipReason, 'frobnicate');
      assert.equal(byId.get('tiny/block')!.skipReason, 'model vgg16');
      assert.deepEqual(s.skippedOps.map((o) => [o.name, o.count]), [['frobnicate', 1], ['model vgg16', 1]]);
      assert.deepEqual(s.failures.map((r) => r.id), ['tiny/relu-wrong-y', 'tiny/relu-wrong-gx']);
      assert.equal(s.ignored.length, 1);
    });
  });

  test('--filter keeps only the matching case ids; a filter matching nothing is an error', async () => {
    await withTempDir('stride-conformance-', async (dir) => {
      await writeFamily(dir, 'tiny', tinyCases);
      const s = await runConformance(dir, { filter: 'linear' });
      assert.deepEqual([s.passed, s.failed, s.skipped], [1, 0, 0]);
      await rejectsWith(runConformance(dir, { filter: 'nothing-like-this' }), ValueError, /nothing-like-this/);
    });
  });

  test('an op that runs but is wrong is a failure; unsupported / not-available are skips; other throws fail', async () => {
    await withTempDir('stride-conformance-', async (dir) => {
      const c = (id: string, op: string): CaseDef => ({ id, op, inputs: { x: reluX }, outputs: { y: reluY }, grads: { gy: reluGy, gx: reluGx } });
      await writeFamily(dir, 'fake', [c('fake/sigmoid-as-relu', 'sigmoidAsRelu'), c('fake/lacks', 'lacks'), c('fake/na', 'na'), c('fake/throws', 'throws'), c('fake/nograd', 'nograd'), c('fake/forgot', 'forgot'), c('fake/later', 'later'), c('fake/relu-by-name', 'reluByName')]);
      const table: OpTable = {
        ...OPS,
        sigmoidAsRelu: differentiable({ inputs: ['x'], forward: (t) => F.sigmoid(t.x) }),
        lacks: { ...OPS.relu, unsupported: () => 'lacks mode fancy' },
        na: { attrs: [], run: () => { throw new ValueError('na: option fancy is not available yet'); }, notAvailable: (e) => (e instanceof ValueError && /not available/.test(e.message) ? 'na fancy' : null) },
        throws: { attrs: [], run: () => { throw new ValueError('throws: option fancy is not available yet'); } },
        nograd: { attrs: [], run: (ctx, sink) => { sink.output('y', F.relu(ctx.input('x'))); sink.grad('gx', null); } },
        forgot: { attrs: [], run: (ctx, sink) => sink.output('y', F.relu(ctx.input('x'))) },
        // Looked up in Stride by name: skipped while Stride lacks it, run (and compared) once it has it.
        later: lateBound('noSuchStrideOpYet', { inputs: ['x'], call: (f, t) => f(t.x) }),
        reluByName: lateBound('relu', { inputs: ['x'], call: (f, t) => f(t.x) }),
      };
      const s = await runConformance(dir, { ops: table });
      const status = Object.fromEntries(s.results.map((r) => [r.id, r.status]));
      assert.deepEqual(status, {
        'fake/sigmoid-as-relu': 'failed', 'fake/lacks': 'skipped', 'fake/na': 'skipped', 'fake/throws': 'failed', 'fake/nograd': 'failed', 'fake/forgot': 'failed',
        'fake/later': 'skipped', 'fake/relu-by-name': 'passed',
      });
      const throws = s.results.find((r) => r.id === 'fake/throws')!;
      assert.match(throws.errors.join('\n'), /threw ValueError: throws: option fancy/);
      const nograd = s.results.find((r) => r.id === 'fake/nograd')!;
      assert.match(nograd.errors.join('\n'), /grads\.gx: Stride produced no value/);
      const forgot = s.results.find((r) => r.id === 'fake/forgot')!;
      assert.match(forgot.errors.join('\n'), /produced no value for grads\.gx/);
      assert.deepEqual(s.skippedOps.map((o) => o.name).sort(), ['lacks mode fancy', 'na fancy', 'noSuchStrideOpYet']);
    });
  });

  test('an attr the runner does not know is a failure that says so, not a silent pass', async () => {
    await withTempDir('stride-conformance-', async (dir) => {
      await writeFamily(dir, 'attrs', [{ id: 'attrs/relu', op: 'relu', attrs: { inplace: true }, inputs: { x: reluX }, outputs: { y: reluY } }]);
      const s = await runConformance(dir);
      assert.equal(s.failed, 1);
      assert.match(s.failures[0].errors[0], /attr inplace/);
    });
  });
});

describe('conformance files: clear errors for bad folders and data', () => {
  test('a missing folder, or one without manifests, is a ValueError', async () => {
    await withTempDir('stride-conformance-', async (dir) => {
      await rejectsWith(runConformance(join(dir, 'nope')), ValueError, /does not exist/, /nope/);
      await rejectsWith(runConformance(dir), ValueError, /no conformance-v1 manifest/);
      await writeFile(join(dir, 'other.json'), JSON.stringify({ format: 'something-else' }));
      await rejectsWith(runConformance(dir), ValueError, /no conformance-v1 manifest/, /1 other JSON file ignored/);
    });
  });

  test('a truncated .bin is a DataError naming the file', async () => {
    await withTempDir('stride-conformance-', async (dir) => {
      await writeFamily(dir, 'trunc', tinyCases);
      await truncate(join(dir, 'trunc.bin'), 40);
      await rejectsWith(runConformance(dir), DataError, /trunc\.bin/, /truncated/);
    });
  });

  test('a .bin that is not whole float32 values is a DataError naming the file', async () => {
    await withTempDir('stride-conformance-', async (dir) => {
      await writeFamily(dir, 'odd', tinyCases);
      await appendFile(join(dir, 'odd.bin'), new Uint8Array([1, 2]));
      await rejectsWith(runConformance(dir), DataError, /odd\.bin/, /not a whole number of float32/);
    });
  });

  test('a missing .bin is a DataError naming the manifest', async () => {
    await withTempDir('stride-conformance-', async (dir) => {
      await writeFamily(dir, 'lost', tinyCases);
      await rm(join(dir, 'lost.bin'));
      await rejectsWith(runConformance(dir), DataError, /lost\.json/, /lost\.bin/);
    });
  });

  test('bad offsets or lengths in the manifest are a DataError naming the manifest, the case and the tensor', async () => {
    await withTempDir('stride-conformance-', async (dir) => {
      const m = await writeFamily(dir, 'bad', tinyCases);
      const path = join(dir, 'bad.json');
      const original = await readFile(path, 'utf8');

      m.cases[1].inputs.weight.offset = -3;
      await writeFile(path, JSON.stringify(m));
      await rejectsWith(runConformance(dir), DataError, /bad\.json/, /tiny\/linear/, /weight\.offset/);

      const m2 = JSON.parse(original);
      m2.cases[0].outputs.y.length = 5;
      await writeFile(path, JSON.stringify(m2));
      await rejectsWith(runConformance(dir), DataError, /bad\.json/, /tiny\/relu/, /length 5/);

      const m3 = JSON.parse(original);
      m3.cases[1].grads.gbias.offset = 10_000;
      await writeFile(path, JSON.stringify(m3));
      await rejectsWith(runConformance(dir), DataError, /bad\.bin/, /bad\.json/, /tiny\/linear grads\.gbias/);

      await writeFile(path, original.slice(0, 100));
      await rejectsWith(runConformance(dir), DataError, /bad\.json/, /not valid JSON/);

      const m4 = JSON.parse(original);
      m4.byteOrder = 'big';
      await writeFile(path, JSON.stringify(m4));
      await rejectsWith(runConformance(dir), DataError, /bad\.json/, /byteOrder/);
    });
  });
});

describe('compare', () => {
  test('uses |a - e| <= atol + rtol*|e| element-wise, and NaN only matches NaN', () => {
    const tol = { rtol: 0.1, atol: 0.01 };
    assert.ok(compareTensors('t', [1.1, 0.009], [2], [1, 0], [2], tol).ok);
    const r = compareTensors('t', [1.2, 0], [2], [1, 0], [2], tol);
    assert.ok(!r.ok && r.flatIndex === 0 && r.mismatches === 1);
    assert.ok(compareTensors('t', [NaN, Infinity], [2], [NaN, Infinity], [2], tol).ok);
    assert.ok(!compareTensors('t', [NaN], [1], [1], [1], tol).ok);
    assert.ok(!compareTensors('t', [5], [1], [Infinity], [1], tol).ok);
    assert.ok(compareTensors('loss', [2], [], [2], [1], tol).ok, 'a scalar matches a 1-element tensor');
    assert.ok(compareTensors('t', [1, 2], [1, 2], [1, 2], [2, 1], tol).shapeMismatch);
    assert.deepEqual(unravel(23, [2, 3, 4]), [1, 2, 3]);
  });
});

describe('the command line', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'conformance', 'main.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
  const lastLine = (out: string) => out.trimEnd().split('\n').at(-1);

  test('prints families, failures and skips, ends with the counts, exits 1 on failure and 0 on skips only', async () => {
    await withTempDir('stride-conformance-', async (dir) => {
      await writeFamily(dir, 'tiny', tinyCases);
      const r = run(dir, '--json');
      assert.equal(r.status, 1, r.stderr);
      assert.equal(lastLine(r.stdout), '2 passed, 2 failed, 2 skipped');
      assert.match(r.stdout, /tiny\s+2 passed\s+2 failed\s+2 skipped/);
      assert.match(r.stdout, /FAIL tiny\/relu-wrong-y \(relu\)\n\s+y: largest error 0\.5 at \[0, 2\]/);
      assert.match(r.stdout, /frobnicate\s+1/);
      const json = JSON.parse(r.stdout.trimEnd().split('\n').at(-2)!);
      assert.equal(json.failed, 2);

      const ok = run(dir, '--filter', 'tiny/lin', '--backend', 'ref');
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(lastLine(ok.stdout), '1 passed, 0 failed, 0 skipped');
      const skipsOnly = run(dir, '--filter', 'tiny/frob');
      assert.equal(skipsOnly.status, 0, skipsOnly.stderr);
      assert.equal(lastLine(skipsOnly.stdout), '0 passed, 0 failed, 1 skipped');
    });
  });

  test('exits 2 with a clear message for a missing folder, an unknown backend or no folder', () => {
    const missing = run('/definitely/not/here');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /\/definitely\/not\/here does not exist/);
    assert.equal(run().status, 2);
    if (existsSync(SHARED)) {
      const badBackend = run(SHARED, '--backend', 'no-such-backend');
      assert.equal(badBackend.status, 2);
      assert.match(badBackend.stderr, /unknown backend 'no-such-backend'/);
    }
  });
});

describe('the shared PyTorch cases', () => {
  test('dense and pool families: 0 failures', async (t) => {
    if (!existsSync(join(SHARED, 'dense.json')) || !existsSync(join(SHARED, 'pool.json'))) {
      t.skip(`no conformance cases at ${SHARED} (set STRIDE_CONFORMANCE to the folder)`);
      return;
    }
    for (const backend of listBackends()) {
      const s = await runConformance(SHARED, { families: ['dense', 'pool'], backend });
      const details = s.failures.map((r) => `${r.id}: ${[...r.errors, ...r.comparisons.filter((c) => !c.ok).map((c) => `${c.name} err ${c.maxAbsError} at [${c.index}]`)].join('; ')}`);
      assert.equal(s.failed, 0, `backend ${backend}:\n${details.join('\n')}`);
      assert.ok(s.passed >= 31 + 32, `backend ${backend}: expected at least the linear/activation/softmax/crossEntropy and max/avg pool cases to pass, got ${s.passed}`);
      assert.deepEqual(s.families.map((f) => f.family), ['dense', 'pool']);
    }
  });
});
