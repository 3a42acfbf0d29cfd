#!/usr/bin/env node
/**
 * Runs the test suite. The folder of a test file (its *.test.ts files at any
 * depth) decides how often it runs:
 * - test/once/     does not depend on the backend (CLI, data, checkpoints,
 *   README, docs, schedulers, the browser, the kernel tests of a backend that
 *   selects it itself): runs once, on the default backend;
 * - test/backend/  depends on the backend: runs once per available backend,
 *   ref, wasm, and native when it can be registered (OpenBLAS found), with
 *   STRIDE_BACKEND=<name>.
 * Every run is  node --import tsx --import ./test/setup.ts --test <files>
 * (setup.ts selects STRIDE_BACKEND and poisons op outputs with NaN).
 * A *.test.ts file under test/ in neither folder is an error, so that a new
 * file cannot be left out, or run on one backend only, without a decision.
 * Arguments, when given, are the files to run (each as its folder says).
 * Exit status: 0 when every run passed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ONCE = join('test', 'once');
const PER_BACKEND = join('test', 'backend');

/** Test files under dir (relative to the root), sorted. */
function testFiles(dir) {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => relative(root, join(e.parentPath ?? e.path, e.name)))
    .sort();
}

const inside = (file, dir) => file.startsWith(dir + sep);
const all = testFiles('test');
const stray = all.filter((f) => !inside(f, ONCE) && !inside(f, PER_BACKEND));
if (stray.length > 0) {
  console.error(`test files must be under ${ONCE}${sep} (run once) or ${PER_BACKEND}${sep} (run per backend): ${stray.join(', ')}`);
  process.exit(1);
}

const args = process.argv.slice(2).map((f) => relative(root, resolve(f)));
for (const f of args) {
  if (!inside(f, ONCE) && !inside(f, PER_BACKEND)) {
    console.error(`${f}: not under ${ONCE}${sep} or ${PER_BACKEND}${sep}`);
    process.exit(1);
  }
}
const selected = args.length > 0 ? args : all;
const once = selected.filter((f) => inside(f, ONCE));
const perBackend = selected.filter((f) => inside(f, PER_BACKEND));

function probe(name) {
  // true when the backend can be selected in a fresh process
  const code = `import('./test/setup.ts').then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); })`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root, env: { ...process.env, STRIDE_BACKEND: name }, encoding: 'utf8',
  });
  return r.status === 0;
}

function run(label, files, backend) {
  console.log(`\n=== ${label} ===\n`);
  const env = { ...process.env };
  if (backend) env.STRIDE_BACKEND = backend;
  else delete env.STRIDE_BACKEND;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/setup.ts', '--test', '--test-reporter=spec', ...files], {
    cwd: root, env, stdio: 'inherit',
  });
  return [label, r.status === 0];
}

const results = [];
if (once.length > 0) results.push(run('backend-independent tests, once', once, null));
if (perBackend.length > 0) {
  const backends = ['ref', 'wasm'];
  if (existsSync(join(root, 'src', 'backends', 'native')) && probe('native')) backends.push('native');
  for (const name of backends) results.push(run(`tests on backend ${name}`, perBackend, name));
}
console.log(`\n${results.map(([n, ok]) => `${n}: ${ok ? 'passed' : 'FAILED'}`).join('; ')}`);
process.exit(results.every(([, ok]) => ok) ? 0 : 1);
