#!/usr/bin/env node
/**
 * `npm run bench`: Stride against its peers on the workloads of `stride bench`,
 * in one run, on this machine.
 *
 *   node bench/run.mjs [--rounds 3] [--threads N] [--engines a,b,...] [--workloads a,b,...]
 *                      [--wait-idle SECONDS] [--no-write] [--no-browser]
 *
 * --engines takes ids: stride-wasm, stride-native, pytorch, onnxruntime,
 * tfjs-wasm, stride-ref, tfjs-cpu, convnetjs. Before each child process the
 * runner waits (up to 15 s, and --wait-idle seconds in all, default 120) for a
 * second in which the CPUs are less than 15% busy: other work on the machine
 * makes every number noisy, worst for the engines that use every core. The
 * table records the load and how long it waited.
 *
 * Engines (those that are installed; bench/setup.sh installs the peers):
 *   Stride on each backend it has here (wasm, native; ref once, small workloads
 *   only), PyTorch (/usr/bin/python3 with torch), onnxruntime-node (inference),
 *   TensorFlow.js wasm and cpu, ConvNetJS. The zoo workloads (ResNet-18,
 *   VGG-16, AlexNet on 3x224x224) run on Stride wasm and native, PyTorch and
 *   onnxruntime-node only, and get tables of their own.
 * The fast engines run in alternation, A B C A B C ..., for --rounds rounds;
 * each run reports the median of its timed iterations and the table shows the
 * median over the rounds. The slow engines (Stride ref, TF.js cpu, ConvNetJS:
 * 1-3 orders of magnitude slower) run once, time-boxed, after the rounds.
 * Every child process has a time limit; one that hits it is reported as such.
 *
 * The table (images/s and ms per iteration, GFLOPS, and ratios of Stride to
 * PyTorch, onnxruntime-node and the best JavaScript peer) replaces the text
 * between <!-- bench:start --> and <!-- bench:end --> in README.md, or, where
 * README.md or the markers are missing, goes to bench/results.md. The raw
 * JSON lines go to bench/.cache/results.json. Never part of `npm test`.
 *
 * Then, unless --no-browser, the browser part (bench/browser/run.mjs, alone
 * `npm run bench:browser`): Stride wasm, TF.js wasm and webgl and
 * onnxruntime-web in Chromium, its table between <!-- bench-browser:start -->
 * and <!-- bench-browser:end -->. It gets the same --rounds, --threads,
 * --wait-idle and --no-write, and --engines and --workloads narrowed to what runs there
 * (stride-wasm, tfjs-wasm, tfjs-webgl, onnxruntime-web; the small
 * workloads); where Chromium or its peers are missing it says so and skips.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BROWSER_ENGINES, BROWSER_WORKLOADS } from './browser/lists.mjs';
import { parseBenchOptions, ROUND_OPTIONS } from './options.mjs';
import { quietWaiter } from './quiet.mjs';
import { writeReadmeBlock } from './readme-block.mjs';
import { cpuModel, fmtNum, markdownTable, measuredCell, ratioCell, speedCell, threadsLabel, workloadColumns } from './table-format.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = join(BENCH, '..');
const WORKLOADS = JSON.parse(readFileSync(join(BENCH, 'workloads.json'), 'utf8'));
const WORKLOAD_NAMES = Object.keys(WORKLOADS);
/**
 * The zoo workloads (torchvision's ResNet-18, VGG-16, AlexNet on 3x224x224) get
 * tables of their own; only Stride wasm and native, PyTorch and
 * onnxruntime-node run them (seconds per iteration on 2 cores even there).
 */
const ZOO = ['resnet18-train', 'resnet18-infer', 'vgg16-infer', 'alexnet-infer'];
const SMALL = WORKLOAD_NAMES.filter((w) => !ZOO.includes(w));
/** The same reason for each of `workloads`, as an engine's `skip`. */
const skipAll = (workloads, reason) => Object.fromEntries(workloads.map((w) => [w, reason]));
const ZOO_SKIP = skipAll(ZOO, 'not run (zoo)');
const PYTHON = process.env.STRIDE_BENCH_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------
const { values: opts } = parseBenchOptions(import.meta.url, 'bench', { ...ROUND_OPTIONS, 'no-browser': { type: 'boolean', default: false } });
const ROUNDS = Number(opts.rounds);
const THREADS = Number(opts.threads);
const ONLY_ENGINES = opts.engines ? opts.engines.split(',') : null;
const ONLY_WORKLOADS = opts.workloads ? opts.workloads.split(',') : WORKLOAD_NAMES;
const WRITE = !opts['no-write'];
const WAIT_IDLE = Number(opts['wait-idle']);
const BROWSER = !opts['no-browser'];
/** The ids --engines takes (the engines below, those installed here among them). */
const ENGINE_IDS = ['stride-wasm', 'stride-native', 'pytorch', 'onnxruntime', 'tfjs-wasm', 'stride-ref', 'tfjs-cpu', 'convnetjs'];
for (const e of ONLY_ENGINES ?? []) if (!ENGINE_IDS.includes(e)) die(`unknown engine '${e}'; one of ${ENGINE_IDS.join(', ')}`);
for (const w of ONLY_WORKLOADS) if (!WORKLOADS[w]) die(`unknown workload '${w}'; one of ${WORKLOAD_NAMES.join(', ')}`);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) die(`--rounds must be an integer >= 1, got ${opts.rounds}`);
if (!Number.isInteger(THREADS) || THREADS < 1) die(`--threads must be an integer >= 1, got ${opts.threads}`);
if (!(WAIT_IDLE >= 0)) die(`--wait-idle must be a number of seconds >= 0, got ${opts['wait-idle']}`);

function die(msg) {
  console.error(`bench: ${msg}`);
  process.exit(2);
}
const log = (line) => process.stderr.write(line + '\n');

// ---------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------
/** Runs a command; returns its JSON lines (lines that parse as objects), or an error string. */
function run(cmd, args, { env = {}, timeoutSec }) {
  const r = spawnSync(cmd, args, {
    cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: timeoutSec * 1000, killSignal: 'SIGKILL', maxBuffer: 64 << 20,
  });
  const lines = [];
  for (const line of (r.stdout ?? '').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line));
    } catch {
      /* not a result line */
    }
  }
  if (r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGKILL') return { lines, error: `timed out after ${timeoutSec} s` };
  if (r.error) return { lines, error: r.error.message };
  if (r.status !== 0) {
    const tail = (r.stderr ?? '').trim().split('\n').filter(Boolean).slice(-1)[0] ?? '';
    return { lines, error: `exit ${r.status}${tail ? `: ${tail.slice(0, 200)}` : ''}` };
  }
  return { lines, error: null };
}

/**
 * Stride is measured as users run it: the compiled CLI (`npm start` runs the
 * same dist/cli/main.js), rebuilt below. Under tsx, whose module loader keeps
 * a thread of its own, half of the native runs of conv-fwd took 9.5-12 ms
 * instead of 5.1-6.4 (8 runs each way); from dist/ 7 of 8 took 4.9-5.2 ms.
 */
// The flag the `stride` executable starts Node with (src/cli/main.ts: V8's initial heap).
const STRIDE_CLI = ['--initial-heap-size=128', join(ROOT, 'dist', 'cli', 'main.js')];

function strideInfo() {
  const r = spawnSync(process.execPath, [...STRIDE_CLI, 'info', '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last);
  } catch {
    die(`stride info failed: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' ')}`);
  }
}

function pythonHasTorch() {
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' }, timeout: 60_000 });
  return r.status === 0 ? r.stdout.trim() : null;
}

const peerInstalled = (pkg) => existsSync(join(BENCH, 'node_modules', ...pkg.split('/'), 'package.json'));
const peerVersion = (pkg) => JSON.parse(readFileSync(join(BENCH, 'node_modules', ...pkg.split('/'), 'package.json'), 'utf8')).version;

// ---------------------------------------------------------------------------
// Engines
// ---------------------------------------------------------------------------
// Build the wasm kernels (skipped when up to date) and the TypeScript into dist/: `npm run build`.
{
  const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (b.status !== 0) die(`bench: npm run build failed:\n${(b.stdout ?? '') + (b.stderr ?? '')}`);
}

const info = strideInfo();
const torchVersion = pythonHasTorch();
const notes = [];

/**
 * An engine: how to run it on a list of workloads. `perWorkload` engines take
 * one workload per process (stride bench), the others all in one process.
 */
const engines = [];
function addEngine(e) {
  if (!ENGINE_IDS.includes(e.id)) throw new Error(`bench: engine id ${e.id} is missing from ENGINE_IDS`);
  if (ONLY_ENGINES && !ONLY_ENGINES.includes(e.id)) return;
  const runs = e.workloads ?? WORKLOAD_NAMES;
  engines.push({ skip: {}, ...e, runs, workloads: runs.filter((w) => ONLY_WORKLOADS.includes(w)) });
}

function strideEngine(backend, threads, extra = {}) {
  return {
    id: `stride-${backend}`, label: `Stride ${backend}`, threads, family: 'stride', perWorkload: true,
    command: (workloads, flags) => [process.execPath, [...STRIDE_CLI, 'bench', workloads[0], '--backend', backend, '--threads', String(threads), '--json', ...flags]],
    ...extra,
  };
}

for (const b of ['wasm', 'native']) {
  if (info.backends.includes(b)) addEngine(strideEngine(b, THREADS));
  else if (b === 'native') notes.push(`Stride native is missing: ${info.openblasStatus}`);
  else notes.push('Stride wasm is missing (no WebAssembly SIMD here, or the kernels are not built: npm run build:wasm)');
}
if (torchVersion) {
  addEngine({
    id: 'pytorch', label: `PyTorch ${torchVersion} CPU`, threads: THREADS, family: 'pytorch',
    command: (workloads, flags) => [PYTHON, [join(BENCH, 'peers', 'pytorch.py'), '--threads', String(THREADS), ...flags, ...workloads]],
    env: { OPENBLAS_NUM_THREADS: '1' },
  });
} else notes.push(`PyTorch is missing (${PYTHON} cannot import torch; bench/setup.sh installs python3-torch)`);
if (peerInstalled('onnxruntime-node')) {
  addEngine({
    id: 'onnxruntime', label: `onnxruntime-node ${peerVersion('onnxruntime-node')} CPU`, threads: THREADS, family: 'onnxruntime',
    workloads: ['lenet5-infer', 'resnet-block-infer', 'conv-fwd', 'resnet18-infer', 'vgg16-infer', 'alexnet-infer'],
    skip: skipAll(['lenet5-train', 'resnet-block-train', 'conv-fwdbwd', 'resnet18-train'], 'inference only'),
    command: (workloads, flags) => [process.execPath, [join(BENCH, 'peers', 'onnx.mjs'), '--threads', String(THREADS), ...flags, ...workloads]],
  });
} else notes.push('onnxruntime-node is missing (bench/setup.sh installs it)');
if (peerInstalled('@tensorflow/tfjs') && peerInstalled('@tensorflow/tfjs-backend-wasm')) {
  addEngine({
    id: 'tfjs-wasm', label: `TensorFlow.js ${peerVersion('@tensorflow/tfjs')} wasm`, threads: 1, family: 'js', workloads: SMALL, skip: ZOO_SKIP,
    command: (workloads, flags) => [process.execPath, [join(BENCH, 'peers', 'tfjs.mjs'), '--backend', 'wasm', ...flags, ...workloads]],
  });
} else notes.push('TensorFlow.js is missing (bench/setup.sh installs it)');

// The slow engines: once, time-boxed; workloads that take minutes per iteration are not run.
const SLOW_FLAGS = ['--warmup', '1', '--iterations', '5', '--max-seconds', '8'];
if (info.backends.includes('ref')) {
  addEngine(strideEngine('ref', 1, {
    slow: true, workloads: ['lenet5-train', 'lenet5-infer', 'conv-fwd'],
    skip: skipAll(['resnet-block-train', 'resnet-block-infer', 'conv-fwdbwd', ...ZOO], 'not run (too slow)'),
  }));
}
if (peerInstalled('@tensorflow/tfjs')) {
  addEngine({
    id: 'tfjs-cpu', label: `TensorFlow.js ${peerVersion('@tensorflow/tfjs')} cpu`, threads: 1, family: 'js', slow: true,
    workloads: ['lenet5-train', 'lenet5-infer', 'resnet-block-infer', 'conv-fwd'],
    skip: skipAll(['resnet-block-train', 'conv-fwdbwd', ...ZOO], 'not run (minutes per step)'),
    command: (workloads, flags) => [process.execPath, [join(BENCH, 'peers', 'tfjs.mjs'), '--backend', 'cpu', ...flags, ...workloads]],
  });
}
if (peerInstalled('convnetjs')) {
  addEngine({
    id: 'convnetjs', label: `ConvNetJS ${peerVersion('convnetjs')}`, threads: 1, family: 'js', slow: true,
    workloads: ['lenet5-train', 'lenet5-infer', 'conv-fwd', 'conv-fwdbwd'],
    skip: { ...skipAll(['resnet-block-train', 'resnet-block-infer'], 'no BN/residual layers'), ...ZOO_SKIP },
    command: (workloads, flags) => [process.execPath, [join(BENCH, 'peers', 'convnetjs.mjs'), ...flags, ...workloads]],
  });
} else notes.push('ConvNetJS is missing (bench/setup.sh installs it)');

// ---------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------
/** results[engineId][workload] = { ms: [per-run medians], lines: [...], unsupported, errors: [] } */
const results = {};
const cell = (id, w) => ((results[id] ??= {})[w] ??= { ms: [], lines: [], unsupported: null, errors: [] });
const raw = [];

function record(engine, workloads, outcome, busyBefore) {
  for (const line of outcome.lines) {
    if (!workloads.includes(line.workload)) continue;
    raw.push({ engineId: engine.id, busyBefore: Number(busyBefore.toFixed(3)), ...line });
    const c = cell(engine.id, line.workload);
    c.lines.push(line);
    if (line.unsupported) c.unsupported = line.unsupported;
    else if (typeof line.msPerIter === 'number') c.ms.push(line.msPerIter);
  }
  if (outcome.error) {
    const missing = workloads.filter((w) => !outcome.lines.some((l) => l.workload === w));
    for (const w of missing) cell(engine.id, w).errors.push(outcome.error);
  }
}

const quiet = quietWaiter(WAIT_IDLE);

function runEngine(engine, flags, timeoutSec, tag) {
  const groups = engine.perWorkload ? engine.workloads.map((w) => [w]) : [engine.workloads];
  for (const workloads of groups) {
    if (workloads.length === 0) continue;
    const busy = quiet.wait();
    const [cmd, args] = engine.command(workloads, flags);
    const t = performance.now();
    const outcome = run(cmd, args, { env: engine.env, timeoutSec });
    record(engine, workloads, outcome, busy);
    const got = outcome.lines
      .filter((l) => workloads.includes(l.workload))
      .map((l) => `${l.workload} ${l.unsupported ? `(${l.unsupported.slice(0, 60)})` : `${fmtNum(l.imagesPerSec)} img/s`}`);
    log(`${tag} ${engine.label}: ${got.join(', ') || '-'}${outcome.error ? `  [${outcome.error}]` : ''}  (${((performance.now() - t) / 1000).toFixed(1)} s; CPUs ${(busy * 100).toFixed(0)}% busy before)`);
  }
}

const fast = engines.filter((e) => !e.slow);
const slow = engines.filter((e) => e.slow);
const started = new Date();
const loadStart = loadavg()[0];
const t0 = performance.now();
log(`bench: ${fast.map((e) => e.label).join(', ')} in ${ROUNDS} alternating rounds; then once: ${slow.map((e) => e.label).join(', ') || 'none'}`);
if (loadStart > 0.5 * availableParallelism()) log(`bench: the machine is busy (load average ${loadStart.toFixed(2)} on ${availableParallelism()} cores); expect noisy numbers`);
for (let round = 1; round <= ROUNDS; round++) {
  for (const e of fast) runEngine(e, ['--max-seconds', '15'], e.perWorkload ? 120 : 600, `[round ${round}/${ROUNDS}]`);
}
for (const e of slow) runEngine(e, SLOW_FLAGS, e.perWorkload ? 120 : 300, '[once]');
const loadEnd = loadavg()[0];
const seconds = (performance.now() - t0) / 1000;

// ---------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------
/** The measured value of a cell: { imagesPerSec, ms, gflops, runs, bestImagesPerSec } or { text } when not measured. */
function value(engine, w) {
  const c = results[engine.id]?.[w];
  if (c && c.ms.length > 0) {
    const m = measuredCell(c.ms, WORKLOADS[w].batch);
    return { ...m, gflops: WORKLOADS[w].flopsPerIter / (m.ms * 1e6) };
  }
  if (c?.unsupported) return { text: c.unsupported.replace(/^cannot train: .*/, 'cannot train').replace(/^inference only.*/, 'inference only') };
  if (engine.skip[w]) return { text: engine.skip[w] };
  if (c?.errors.length) return { text: c.errors[0].startsWith('timed out') ? c.errors[0] : 'failed' };
  return { text: 'not run' };
}

/** The tables: one for the small workloads, one for the zoo; each has the engines that run any of its workloads. */
const tableGroups = [SMALL, ZOO].map((group) => group.filter((w) => ONLY_WORKLOADS.includes(w))).filter((ws) => ws.length > 0);
const enginesFor = (ws) => engines.filter((e) => ws.some((w) => e.runs.includes(w)));

function speedTable(shownWorkloads) {
  const rows = enginesFor(shownWorkloads).map((e) => [`${e.label}, ${threadsLabel(e.threads)}`, ...shownWorkloads.map((w) => value(e, w).text ?? speedCell(value(e, w)))]);
  return markdownTable(['engine', ...workloadColumns(shownWorkloads, WORKLOADS)], rows);
}

function gflopsTable(shownWorkloads) {
  const rows = enginesFor(shownWorkloads).map((e) => [e.label, ...shownWorkloads.map((w) => fmtNum(value(e, w).gflops))]);
  return markdownTable(['GFLOPS', ...workloadColumns(shownWorkloads, WORKLOADS)], rows);
}

/** Stride's images/s over a peer's (> 1: Stride is faster). */
function ratioTable(shownWorkloads) {
  const group = enginesFor(shownWorkloads);
  const strides = group.filter((e) => e.family === 'stride' && !e.slow);
  const pytorch = group.find((e) => e.family === 'pytorch');
  const ort = group.find((e) => e.family === 'onnxruntime');
  const jsPeers = group.filter((e) => e.family === 'js');
  const rows = [];
  for (const s of strides) {
    const versus = (peer, name) => [s.label, name, ...shownWorkloads.map((w) => ratioCell(value(s, w), value(peer, w)) ?? '-')];
    if (pytorch) rows.push(versus(pytorch, 'PyTorch'));
    if (ort) rows.push(versus(ort, 'onnxruntime-node'));
    if (jsPeers.length) {
      const cells = shownWorkloads.map((w) => {
        const best = jsPeers.map((p) => ({ p, v: value(p, w) })).filter((x) => x.v.imagesPerSec).sort((a, b) => b.v.imagesPerSec - a.v.imagesPerSec)[0];
        const mine = value(s, w);
        if (!best) return mine.imagesPerSec ? 'no JS peer runs it' : '-';
        return `${ratioCell(mine, best.v) ?? '-'} (${best.p.label.replace(/ \d[\d.]*/, '')})`;
      });
      rows.push([s.label, 'best JavaScript peer', ...cells]);
    }
  }
  if (rows.length === 0) return '';
  return markdownTable(['Stride', 'vs', ...shownWorkloads], rows);
}

const date = started.toISOString().slice(0, 10);
const envNotes = [
  process.env.OPENBLAS_CORETYPE ? `OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE} is set in the environment (it applies to Stride native's OpenBLAS calls)` : null,
  info.openblas ? null : `OpenBLAS: ${info.openblasStatus}`,
  info.openblas ? `Stride native: convolution, batch norm and matrix products on ${info.onednn ? info.onednnStatus.replace(/:.*$/, '') : `OpenBLAS (oneDNN ${info.onednnStatus})`}` : null,
].filter(Boolean);
const markdown = `Measured by \`npm run bench\` on ${date}: ${cpuModel()}, ${availableParallelism()} cores, Node ${process.version}; load average ${loadStart.toFixed(2)} at the start and ${loadEnd.toFixed(2)} at the end; ${quiet.describe()}; ${seconds.toFixed(0)} s in all.
Stride's default here: ${info.backend} (${info.threads} threads, SIMD ${info.simd}). Engines with threads use ${THREADS}; TF.js wasm runs 1 thread in Node, TF.js cpu, ConvNetJS and Stride ref have none.
Each number is the median over ${ROUNDS} alternating rounds of each run's median iteration time (Stride ref, TF.js cpu and ConvNetJS: one time-boxed run). FLOPs are counted, not measured: 2 per multiply-add of the convolutions and linear layers, training = 3x forward (src/cli/workloads.ts).${ZOO.some((w) => ONLY_WORKLOADS.includes(w)) ? `\nThe zoo workloads run torchvision's ResNet-18, VGG-16 and AlexNet (randomly initialized) in PyTorch and, exported with torch.onnx.export, in onnxruntime-node, and the same architectures from Stride's models (createModel); the other peers do not run them.` : ''}${envNotes.length ? `\n${envNotes.join('; ')}.` : ''}${notes.length ? `\nNot measured: ${notes.join('; ')}.` : ''}

Images per second and milliseconds per iteration (medians; "best round" where the fastest round was more than 15% faster than the median, a sign of other work on the machine):

${tableGroups.map(speedTable).join('\n\n')}

Stride's images/s divided by the peer's (above 1: Stride is faster):

${tableGroups.map(ratioTable).filter(Boolean).join('\n\n')}

GFLOPS (the FLOPs of direct convolution divided by the time: an engine that needs fewer multiplications, e.g. by Winograd transforms, can show more than the hardware's peak):

${tableGroups.map(gflopsTable).join('\n\n')}
`;

console.log(markdown);

// ---------------------------------------------------------------------------
// Where it goes
// ---------------------------------------------------------------------------
mkdirSync(join(BENCH, '.cache'), { recursive: true });
writeFileSync(join(BENCH, '.cache', 'results.json'), JSON.stringify({ date: started.toISOString(), threads: THREADS, rounds: ROUNDS, info, results: raw }, null, 1));
if (WRITE) log(`bench: ${writeReadmeBlock('bench', markdown, { fallback: 'results.md', title: 'Benchmark results' })}`);

// ---------------------------------------------------------------------------
// The browser part
// ---------------------------------------------------------------------------
if (BROWSER) {
  const browserEngines = ONLY_ENGINES?.filter((e) => BROWSER_ENGINES.includes(e)) ?? null;
  const browserWorkloads = ONLY_WORKLOADS.filter((w) => BROWSER_WORKLOADS.includes(w));
  if (browserEngines?.length === 0) log(`bench: no browser part: none of --engines runs in the browser (${BROWSER_ENGINES.join(', ')})`);
  else if (browserWorkloads.length === 0) log(`bench: no browser part: none of --workloads runs in the browser (${BROWSER_WORKLOADS.join(', ')})`);
  else {
    log('bench: the browser part (bench/browser/run.mjs; --no-browser skips it)');
    const args = [join(BENCH, 'browser', 'run.mjs'), '--rounds', String(ROUNDS), '--threads', String(THREADS), '--wait-idle', String(WAIT_IDLE), '--workloads', browserWorkloads.join(',')];
    if (browserEngines) args.push('--engines', browserEngines.join(','));
    if (!WRITE) args.push('--no-write');
    const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit', timeout: 45 * 60_000, killSignal: 'SIGKILL' });
    if (r.status !== 0) log(`bench: the browser part did not finish (${r.error?.message ?? (r.signal ? `killed by ${r.signal}` : `exit ${r.status}`)}); the Node tables above stand`);
  }
}
