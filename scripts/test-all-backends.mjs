#!/usr/bin/env node
/**
 * Runs the test suite once per available backend: ref, wasm, and native when
 * it can be registered (OpenBLAS found). Each run is
 *   STRIDE_BACKEND=<name> node --import tsx --import ./test/setup.ts --test test/*.test.ts
 * Extra arguments are passed to node --test (e.g. a subset of files).
 * Exit status: 0 when every run passed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const files = args.length > 0 ? args : readdirSync(join(root, 'test')).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join('test', f));

function probe(name) {
  // true when the backend can be selected in a fresh process
  const code = `import('./test/setup.ts').then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); })`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root, env: { ...process.env, STRIDE_BACKEND: name }, encoding: 'utf8',
  });
  return r.status === 0;
}

const backends = ['ref', 'wasm'];
if (existsSync(join(root, 'src', 'backends', 'native')) && probe('native')) backends.push('native');

const results = [];
for (const name of backends) {
  console.log(`\n=== tests on backend ${name} ===\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/setup.ts', '--test', '--test-reporter=spec', ...files], {
    cwd: root, env: { ...process.env, STRIDE_BACKEND: name }, stdio: 'inherit',
  });
  results.push([name, r.status === 0]);
}
console.log(`\n${results.map(([n, ok]) => `${n}: ${ok ? 'passed' : 'FAILED'}`).join(', ')}`);
process.exit(results.every(([, ok]) => ok) ? 0 : 1);
