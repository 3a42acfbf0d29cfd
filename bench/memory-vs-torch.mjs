#!/usr/bin/env node
/**
 * Peak resident memory of a training step, Stride against PyTorch:
 *
 *   npm run build && node bench/memory-vs-torch.mjs [--model resnet50] [--batch 8]
 *       [--backends native,wasm] [--threads 2] [--rounds 1] [--no-write]
 *
 * Each measurement is a fresh process that builds the model (Stride's
 * createModel; torchvision's in PyTorch, both randomly initialized), a batch of
 * 3x224x224 images and SGD (lr 0.01, momentum 0.9), runs a warm-up training
 * step (zeroGrad, forward, cross-entropy, backward, step) and a measured one,
 * and reports its peak resident set: process.resourceUsage().maxRSS in Node,
 * resource.getrusage(RUSAGE_SELF).ru_maxrss in Python (bench/peers/memory_step.py).
 * The peak covers the whole process (runtime, libraries, weights, gradients,
 * momentum, activations, scratch), as a user's `top` sees it; the resident set
 * after start-up and after building the model are printed beside it, so the
 * step's own share shows. With --rounds N each process runs N times and the
 * table shows the median.
 *
 * The table row goes between <!-- memory:start --> and <!-- memory:end --> in
 * README.md, or to bench/memory-results.md while those markers do not exist.
 * Stride is run from dist/ (npm run build), as bench/run.mjs runs it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeReadmeBlock } from './readme-block.mjs';
import { parseBenchOptions } from './options.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = join(BENCH, '..');
const PYTHON = process.env.STRIDE_BENCH_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const MIB = 1024 * 1024;

// parseBenchOptions (bench/options.mjs) rejects unknown options and missing values, and prints --help
const { values: opts } = parseBenchOptions(import.meta.url, 'memory-vs-torch', {
  model: { type: 'string', default: 'resnet50' },
  batch: { type: 'string', default: '8' },
  backends: { type: 'string', default: 'native,wasm' },
  threads: { type: 'string', default: String(Math.min(2, availableParallelism())) },
  rounds: { type: 'string', default: '1' },
  'no-write': { type: 'boolean', default: false },
  // Internal: run one Stride measurement in this process (the parent spawns it).
  child: { type: 'string' },
});
const batch = Number(opts.batch);
const threads = Number(opts.threads);
const rounds = Number(opts.rounds);
for (const [name, v] of [['batch', batch], ['threads', threads], ['rounds', rounds]]) {
  if (!(Number.isInteger(v) && v >= 1)) die(`--${name} must be an integer >= 1, got '${opts[name]}'`);
}

function die(msg) {
  console.error(`memory-vs-torch: ${msg}`);
  process.exit(2);
}

const rssMiB = () => process.memoryUsage.rss() / MIB;
const peakMiB = () => process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
const r1 = (x) => Number(x.toFixed(1));

if (opts.child !== undefined) {
  await strideChild(opts.child);
  process.exit(0);
}

/** One Stride measurement on `backend`, printed as a JSON line. */
async function strideChild(backend) {
  const dist = join(ROOT, 'dist');
  const S = await import(pathToFileURL(join(dist, 'index-node.js')).href);
  await import(pathToFileURL(join(dist, 'node.js')).href); // registers `native` where OpenBLAS loads
  S.setBackend(backend, { threads });
  await S.getBackend().ready?.();
  const afterImport = rssMiB();
  const generator = new S.Generator(1);
  const model = S.createModel(opts.model, { generator });
  model.train();
  const x = S.randn([batch, 3, 224, 224], { generator });
  const y = S.tensor(Array.from({ length: batch }, (_, i) => (i * 7) % 10));
  const opt = new S.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const step = () => {
    opt.zeroGrad();
    const loss = S.F.crossEntropy(model.forward(x), y);
    S.backward(loss);
    opt.step();
  };
  const afterBuild = rssMiB();
  step();
  const peakWarmup = peakMiB();
  step();
  const peak = peakMiB();
  const m = process.memoryUsage();
  const info = S.backendInfo();
  console.log(JSON.stringify({
    engine: 'stride', backend: info.name, threads: info.threads, model: opts.model, batch,
    rssAfterImportMiB: r1(afterImport), rssAfterBuildMiB: r1(afterBuild), peakAfterWarmupMiB: r1(peakWarmup), peakMiB: r1(peak),
    rssEndMiB: r1(m.rss / MIB), heapUsedMiB: r1(m.heapUsed / MIB), arrayBuffersMiB: r1(m.arrayBuffers / MIB), node: process.version,
  }));
}

// ---------------------------------------------------------------------------
// The parent: fresh processes, alternating, then the table.
// ---------------------------------------------------------------------------
const cli = join(ROOT, 'dist', 'index-node.js');
if (!existsSync(cli)) die(`${relative(ROOT, cli)} is missing; run \`npm run build\` first`);

/** Runs a child; returns its last JSON line, or { error }. */
function runChild(cmd, args, env = {}) {
  const res = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 900_000, killSignal: 'SIGKILL', maxBuffer: 16 << 20 });
  const line = (res.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (res.status === 0 && line) return JSON.parse(line);
  const tail = (res.stderr ?? '').trim().split('\n').filter(Boolean).pop() ?? '';
  return { error: res.signal ? `killed by ${res.signal}` : `exit ${res.status}${tail ? `: ${tail.slice(0, 200)}` : ''}` };
}

const engines = [
  ...opts.backends.split(',').filter(Boolean).map((b) => ({
    label: `Stride ${b}`, run: () => runChild(process.execPath, [fileURLToPath(import.meta.url), '--child', b, '--model', opts.model, '--batch', String(batch), '--threads', String(threads)]),
  })),
  {
    label: 'PyTorch', torch: true,
    run: () => runChild(PYTHON, [join(BENCH, 'peers', 'memory_step.py'), '--model', opts.model, '--batch', String(batch), '--threads', String(threads)], { OPENBLAS_NUM_THREADS: '1' }),
  },
];

const results = new Map(engines.map((e) => [e, []]));
for (let round = 1; round <= rounds; round++) {
  for (const e of engines) {
    const out = e.run();
    results.get(e).push(out);
    console.error(`[round ${round}/${rounds}] ${e.label}: ${out.error ?? `peak ${out.peakMiB} MiB (after build ${out.rssAfterBuildMiB} MiB)`}`);
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const fmt = (x) => (x === undefined ? '-' : Math.round(x).toLocaleString('en-US'));

/** Medians of each measured key over the rounds that succeeded. */
function summary(e) {
  const ok = results.get(e).filter((o) => !o.error);
  if (ok.length === 0) return { error: results.get(e)[0].error, label: e.label };
  const keys = ['rssAfterImportMiB', 'rssAfterBuildMiB', 'peakAfterWarmupMiB', 'peakMiB'];
  const s = { label: ok[0].version ? `${e.label} ${ok[0].version}` : e.label, threads: ok[0].threads, backend: ok[0].backend };
  for (const k of keys) s[k] = median(ok.map((o) => o[k]));
  return s;
}
const rows = engines.map((e) => ({ e, s: summary(e) }));
const torch = rows.find((r) => r.e.torch)?.s;
const ratio = (s) => (s.peakMiB && torch?.peakMiB ? `${(s.peakMiB / torch.peakMiB).toFixed(2)}x` : '-');

const date = new Date().toISOString().slice(0, 10);
const table = `| ${opts.model} training step, batch ${batch} of 3x224x224 | resident after start-up | after building model, input, SGD | peak after the warm-up step | peak after the measured step | peak / PyTorch's |
| --- | --- | --- | --- | --- | --- |
${rows.map(({ s }) => (s.error ? `| ${s.label} | ${s.error} | | | | |` : `| ${s.label}, ${s.threads} thread${s.threads === 1 ? '' : 's'} | ${fmt(s.rssAfterImportMiB)} MiB | ${fmt(s.rssAfterBuildMiB)} MiB | ${fmt(s.peakAfterWarmupMiB)} MiB | ${fmt(s.peakMiB)} MiB | ${ratio(s)} |`)).join('\n')}`;
const markdown = `Measured by \`node bench/memory-vs-torch.mjs\` on ${date} (Node ${process.version}; ${rounds === 1 ? 'one process each' : `median of ${rounds} processes each`}): the peak resident set of a fresh process (Node's process.resourceUsage().maxRSS, Python's ru_maxrss) that builds ${opts.model} with SGD (momentum 0.9), runs a warm-up training step and a measured one.

${table}
`;
console.log(markdown);

if (!opts['no-write']) console.error(`memory-vs-torch: ${writeReadmeBlock('memory', markdown, { fallback: 'memory-results.md', title: 'Peak memory of a training step' })}`);
