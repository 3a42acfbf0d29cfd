/**
 * The import rule, enforced: every relative import in src/ (static, type-only,
 * re-export and dynamic with a literal path) is read and checked against the
 * layers below, so a change that runs against the design fails here instead
 * of being kept by habit.
 *
 *   nn, optim -> ops -> autograd -> tensor -> backends -> validate -> errors
 *
 * A layer may import only the layers listed for it in LAYERS. Kernels
 * (src/backends/) never see tensors or the tape; the AssemblyScript kernels
 * (kernels/) import only each other; the tools (the CLI and the conformance
 * runner) import only the public entry points and their own folder; and no
 * file imports itself back through a cycle. The web app (web/src/) reaches the
 * library only as 'stride' (its public entry point), and only from the compute
 * worker's side (worker.ts and compute/); the page side draws.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SRC = join(ROOT, 'src');

/**
 * What each top-level part of src/ may import (besides its own folder). A part
 * is a folder (`ops`) or a file without its extension (`errors`, `index`).
 */
const LAYERS: Record<string, readonly string[]> = {
  errors: [],
  // Warnings sit beside the errors: every layer may report one.
  warnings: ['errors'],
  validate: ['errors'],
  backends: ['errors', 'validate'],
  tensor: ['backends', 'errors', 'validate'],
  autograd: ['tensor', 'backends', 'errors', 'validate'],
  ops: ['autograd', 'tensor', 'backends', 'errors', 'validate'],
  nn: ['ops', 'autograd', 'tensor', 'errors', 'warnings', 'validate'],
  optim: ['ops', 'autograd', 'tensor', 'backends', 'errors', 'validate'],
  models: ['nn', 'ops', 'tensor', 'errors', 'validate'],
  data: ['ops', 'tensor', 'errors', 'validate'],
  // io reads the autograd tape (exportOnnx writes the ops a traced forward recorded) and runs ops (importOnnx runs a graph with them).
  io: ['models', 'nn', 'ops', 'autograd', 'tensor', 'errors', 'warnings', 'validate'],
  train: ['io', 'data', 'models', 'optim', 'nn', 'ops', 'autograd', 'tensor', 'errors', 'validate'],
  // The entry points: the public API over everything above (never the tools).
  index: ['train', 'io', 'data', 'models', 'optim', 'nn', 'ops', 'autograd', 'tensor', 'backends', 'errors', 'warnings', 'validate'],
  'index-node': ['index', 'backends', 'tensor'],
  node: ['index', 'train', 'io', 'data', 'models', 'optim', 'nn', 'ops', 'autograd', 'tensor', 'backends', 'errors', 'validate'],
  // The tools use the library as its users do.
  cli: ['index', 'node'],
  conformance: ['index', 'node'],
};

interface Import {
  from: string;
  to: string;
  line: number;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The relative imports of a file, resolved to .ts paths (comments skipped). */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '));
  const out: Import[] = [];
  const re = /(?:^|[\s;])(?:import|export)\b[^;'"]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]|(?:^|[\s;])import\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3];
    const line = text.slice(0, m.index).split('\n').length;
    out.push({ from: file, to: resolve(dirname(file), spec).replace(/\.js$/, '.ts'), line });
  }
  return out;
}

/** The top-level part of src/ a file belongs to. */
function partOf(file: string): string {
  const [first] = relative(SRC, file).split('/');
  return first.replace(/\.ts$/, '');
}

const files = sourceFiles(SRC);
const imports = files.flatMap(importsOf);
const where = (i: Import) => `${relative(ROOT, i.from)}:${i.line} imports ${relative(ROOT, i.to)}`;

describe('layering', () => {
  test('the reader finds the imports (a wrong pattern would pass everything)', () => {
    const fromOps = imports.filter((i) => relative(SRC, i.from) === 'ops/conv2d.ts').map((i) => relative(SRC, i.to));
    assert.ok(fromOps.includes('autograd/tape.ts'), `ops/conv2d.ts imports: ${fromOps.join(', ')}`);
    assert.ok(fromOps.includes('backends/index.ts'), `ops/conv2d.ts imports: ${fromOps.join(', ')}`);
    assert.ok(imports.length > 300, `only ${imports.length} imports found in src/`);
  });

  test('every part of src/ is in the layer table', () => {
    const parts = [...new Set(files.map(partOf))].sort();
    const missing = parts.filter((p) => !(p in LAYERS));
    assert.deepEqual(missing, [], `add these to LAYERS in test/once/layering.test.ts, with what they may import: ${missing.join(', ')}`);
  });

  test('imports go one way: nn -> ops -> autograd -> tensor -> backends; tools use the entry points', () => {
    const bad = imports.filter((i) => {
      const a = partOf(i.from);
      const b = partOf(i.to);
      return a !== b && !LAYERS[a]?.includes(b);
    });
    assert.deepEqual(bad.map(where), [], 'imports against the layering (see LAYERS)');
  });

  test('kernels never see tensors or the tape', () => {
    const bad = imports.filter((i) => partOf(i.from) === 'backends' && ['tensor', 'autograd', 'ops', 'nn'].includes(partOf(i.to)));
    assert.deepEqual(bad.map(where), []);
  });

  test('the AssemblyScript kernels import only each other', () => {
    const dir = join(ROOT, 'kernels');
    const bad = sourceFiles(dir).flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      return [...text.matchAll(/from\s*['"]([^'"]+)['"]/g)].map((m) => m[1]).filter((s) => !/^\.\/[\w-]+$/.test(s)).map((s) => `${relative(ROOT, f)} imports ${s}`);
    });
    assert.deepEqual(bad, []);
  });

  test('no import cycles', () => {
    const graph = new Map<string, string[]>(files.map((f) => [f, []]));
    for (const i of imports) graph.get(i.from)?.push(i.to);
    // Depth-first search with colours; a grey node reached again closes a cycle.
    const colour = new Map<string, 'grey' | 'black'>();
    const cycles: string[] = [];
    const stack: string[] = [];
    const visit = (f: string): void => {
      colour.set(f, 'grey');
      stack.push(f);
      for (const g of graph.get(f) ?? []) {
        if (colour.get(g) === 'grey') cycles.push([...stack.slice(stack.indexOf(g)), g].map((p) => relative(SRC, p)).join(' -> '));
        else if (!colour.has(g) && graph.has(g)) visit(g);
      }
      stack.pop();
      colour.set(f, 'black');
    };
    for (const f of files) if (!colour.has(f)) visit(f);
    assert.deepEqual(cycles, []);
  });

  test('the web app uses the public entry point, from the compute worker only', () => {
    const WEB = join(ROOT, 'web', 'src');
    const webFiles = sourceFiles(WEB);
    assert.ok(webFiles.some((f) => f.endsWith(join('compute', 'index.ts'))), `no web/src/compute/index.ts among ${webFiles.length} files`);
    let seen = 0;
    // A module both sides may use: it imports nothing at run time (only types), so it cannot bring the DOM into the worker.
    const pureModule = (file: string) => {
      const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
      return ![...text.matchAll(/^[ \t]*(import|export)\b(\s+type\b)?[^'";]*?\bfrom\s*['"]|^[ \t]*import\s*['"]|\bimport\(/gm)].some((m) => m[2] === undefined && (m[1] === 'import' || /\bfrom\s*['"]$/.test(m[0])));
    };
    const workerSide = (f: string) => relative(WEB, f) === 'worker.ts' || relative(WEB, f).startsWith(`compute${sep}`);
    const bad: string[] = [];
    for (const f of webFiles) {
      const text = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
      // import/export ... from 'x' (at the start of a statement), import 'x', import('x')
      const re = /^[ \t]*(?:import|export)\b(\s+type\b)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]|^[ \t]*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;
      for (const m of text.matchAll(re)) {
        const spec = m[2] ?? m[3] ?? m[4];
        const typeOnly = m[1] !== undefined;
        const at = `${relative(ROOT, f)} imports ${spec}`;
        seen++;
        if (spec.startsWith('.')) {
          const target = resolve(dirname(f), spec);
          if (!target.startsWith(WEB + sep)) bad.push(`${at}: outside web/src`);
          else if (workerSide(f) && !workerSide(target.replace(/\.js$/, '.ts')) && !/\brpc\.js$/.test(spec) && !pureModule(target.replace(/\.js$/, '.ts'))) bad.push(`${at}: the worker side imports the page side`);
          else if (!workerSide(f) && workerSide(target.replace(/\.js$/, '.ts')) && !typeOnly) bad.push(`${at}: the page side takes only types from the worker side (else Stride runs on the page)`);
        } else if (spec === 'stride') {
          if (!workerSide(f)) bad.push(`${at}: only the compute worker (worker.ts, compute/) runs Stride`);
        } else if (!/^uplot(\/|$)/.test(spec)) bad.push(`${at}: not a dependency of the web app`);
      }
    }
    assert.ok(seen > 50, `only ${seen} imports found in web/src/`);
    assert.deepEqual(bad, []);
  });

  test('a planted violation is caught (the checks can fail)', () => {
    const planted: Import = { from: join(SRC, 'ops', 'x.ts'), to: join(SRC, 'nn', 'module.ts'), line: 1 };
    assert.equal(LAYERS[partOf(planted.from)].includes(partOf(planted.to)), false);
    const fromCli: Import = { from: join(SRC, 'cli', 'x.ts'), to: join(SRC, 'ops', 'conv2d.ts'), line: 1 };
    assert.equal(LAYERS[partOf(fromCli.from)].includes(partOf(fromCli.to)), false);
  });
});
