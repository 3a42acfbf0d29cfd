#!/usr/bin/env node
/**
 * Alternates bench/native-quick.ts (Stride, one backend) and
 * bench/native-quick.py (PyTorch) for several rounds and prints, per
 * workload, the median of each and the ratio Stride / PyTorch in
 * throughput (images/s; > 1 means Stride is faster). Both run with the same
 * thread count; PyTorch gets OPENBLAS_NUM_THREADS=1 so its BLAS threads do not
 * fight its own.
 *
 *   node bench/native-vs-torch.mjs [--rounds 5] [--threads 2] [--backend native] [--reps 5] [workload ...]
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchOptions } from './options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts, positionals: workloads } = parseBenchOptions(import.meta.url, 'native-vs-torch', {
  rounds: { type: 'string', default: '5' },
  threads: { type: 'string', default: '2' },
  backend: { type: 'string', default: 'native' },
  reps: { type: 'string', default: '5' },
}, { allowPositionals: true });
const rounds = Number(opts.rounds);
const threads = opts.threads;
const backend = opts.backend;
const reps = opts.reps;

function run(cmd, cmdArgs, env) {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed:\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]).results;
}

const samples = new Map(); // workload -> { stride: [], torch: [] }
function add(results, who) {
  for (const { workload, imagesPerSec, msPerIter } of results) {
    if (!samples.has(workload)) samples.set(workload, { stride: [], torch: [], strideMs: [], torchMs: [] });
    const s = samples.get(workload);
    s[who].push(imagesPerSec);
    s[`${who}Ms`].push(msPerIter);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

for (let r = 0; r < rounds; r++) {
  add(run('/usr/bin/python3', ['bench/native-quick.py', '--json', '--threads', threads, '--reps', reps, ...workloads], { OPENBLAS_NUM_THREADS: '1' }), 'torch');
  add(run(process.execPath, ['--import', 'tsx', 'bench/native-quick.ts', '--json', '--backend', backend, '--threads', threads, '--reps', reps, ...workloads], {}), 'stride');
  process.stderr.write(`round ${r + 1}/${rounds} done\n`);
}

console.log(`Stride (${backend}) vs PyTorch, ${threads} thread(s), ${rounds} alternating rounds, medians:`);
console.log('| workload | Stride ms/iter | PyTorch ms/iter | Stride img/s | PyTorch img/s | ratio (img/s) | ratio range |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [w, s] of samples) {
  const ratios = s.stride.map((v, i) => v / s.torch[i]);
  console.log(`| ${w} | ${median(s.strideMs).toFixed(2)} | ${median(s.torchMs).toFixed(2)} | ${median(s.stride).toFixed(0)} | ${median(s.torch).toFixed(0)} | ${(median(s.stride) / median(s.torch)).toFixed(2)} | ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)} |`);
}
