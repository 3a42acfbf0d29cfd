#!/usr/bin/env node
/**
 * `npm start` against PyTorch: one epoch of LeNet-5 on all of MNIST, then the
 * test set. Alternates, for several rounds, Stride's command line
 *
 *   node --initial-heap-size=128 dist/cli/main.js train lenet5 --dataset mnist --epochs 1 --json --threads 2 [--backend B]
 *
 * (what `npm start` runs, with a JSON line, a thread count and a temporary
 * --out) and bench/epoch.py (the same epoch in PyTorch: same model, data files,
 * normalization, batch, optimizer and learning-rate schedule; see its header).
 * Prints the medians: the epoch's training time as each reports it (Stride's
 * trainSeconds, PyTorch's epochSeconds: batching, forward, backward, update;
 * evaluation excluded), the wall time of the whole command (start-up, loading,
 * training, evaluation, saving), the test accuracy, and the ratio of the epoch
 * times Stride / PyTorch, against the target: at most 1, an epoch no longer
 * than PyTorch's.
 *
 *   npm run build && node bench/epoch-vs-torch.mjs [--rounds 3] [--threads 2] [--epochs 1]
 *       [--backends native,wasm] [--wait-idle 120]
 *
 * --backends: Stride backends to run, each in every round (default: none named,
 * i.e. Stride's default backend, as `npm start`). PyTorch runs with
 * OPENBLAS_NUM_THREADS=1 and torch.set_num_threads(--threads) so its BLAS
 * threads do not fight its own. Before each run the script waits (up to 30 s,
 * --wait-idle seconds in all) for a second in which the CPUs are less than 15%
 * busy, and it reports the share of the CPUs that other processes used during
 * each run (busy time of the machine minus the child's own CPU time, from
 * /proc): two threads on two cores slow down badly when anything else runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuTimes, quietWaiter } from './quiet.mjs';
import { parseBenchOptions } from './options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// parseBenchOptions (bench/options.mjs) rejects unknown options and missing values, and prints --help
const { values: opts } = parseBenchOptions(import.meta.url, 'epoch-vs-torch', {
  rounds: { type: 'string', default: '3' },
  threads: { type: 'string', default: '2' },
  epochs: { type: 'string', default: '1' },
  backends: { type: 'string', default: '' },
  'wait-idle': { type: 'string', default: '120' },
});
const rounds = Number(opts.rounds);
const threads = opts.threads;
const epochs = opts.epochs;
const backends = opts.backends.split(',').filter(Boolean);
const WAIT_IDLE = Number(opts['wait-idle']);
if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be an integer >= 1, got ${rounds}`);
const python = '/usr/bin/python3'; // Debian's python3-torch; a pyenv python3 on PATH has no torch
const cli = join(root, 'dist', 'cli', 'main.js');
if (!existsSync(cli)) throw new Error(`${cli} is missing; run \`npm run build\` first`);

// ---- the machine's load (/proc; bench/quiet.mjs, as bench/run.mjs measures it) ----

/** CPU jiffies of this process's children that have been waited for (cutime + cstime in /proc/self/stat). */
function childJiffies() {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
    return Number(rest[13]) + Number(rest[14]); // fields 16 and 17
  } catch {
    return 0;
  }
}
/** Waits (30 s at most, WAIT_IDLE seconds in all) for a quiet second before each run. */
const idle = quietWaiter(WAIT_IDLE, { maxWaitSec: 30 });

// ---- the runs ----

const outDir = mkdtempSync(join(tmpdir(), 'stride-epoch-'));

/** Runs one command; returns its JSON line plus the wall time and how much of the CPUs others used meanwhile. */
function run(label, cmd, cmdArgs, env) {
  const busyBefore = idle.wait();
  const c0 = cpuTimes();
  const j0 = childJiffies();
  const t0 = performance.now();
  const r = spawnSync(cmd, cmdArgs, { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 900_000 });
  const wall = (performance.now() - t0) / 1000;
  const c1 = cpuTimes();
  const own = childJiffies() - j0;
  if (r.status !== 0) throw new Error(`${label}: ${cmd} ${cmdArgs.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  const json = JSON.parse(lines[lines.length - 1]);
  const others = c0 && c1 && c1.total > c0.total ? Math.max(0, (c1.busy - c0.busy - own) / (c1.total - c0.total)) : 0;
  return { json, wall, busyBefore, others };
}

const engines = [
  {
    label: 'PyTorch',
    run: () => {
      const { json, ...m } = run('PyTorch', python, ['bench/epoch.py', '--json', '--threads', threads, '--epochs', epochs], { OPENBLAS_NUM_THREADS: '1' });
      return { ...m, epochSeconds: json.trainSeconds / json.epochs, accuracy: json.testAccuracy, name: `PyTorch ${json.torch}` };
    },
  },
  ...(backends.length ? backends : [null]).map((backend) => ({
    label: `Stride ${backend ?? '(default backend)'}`,
    run: () => {
      const flags = ['train', 'lenet5', '--dataset', 'mnist', '--epochs', epochs, '--json', '--no-progress', '--threads', threads, '--out', outDir];
      if (backend) flags.push('--backend', backend);
      const { json, ...m } = run(`Stride ${backend ?? ''}`, process.execPath, ['--initial-heap-size=128', cli, ...flags], {});
      return { ...m, epochSeconds: json.trainSeconds / json.epochs, accuracy: json.testAccuracy, name: `Stride ${json.backend}` };
    },
  })),
];

const samples = engines.map(() => []);
try {
  for (let r = 0; r < rounds; r++) {
    engines.forEach((engine, i) => {
      const s = engine.run();
      samples[i].push(s);
      process.stderr.write(
        `round ${r + 1}/${rounds} ${s.name}: epoch ${s.epochSeconds.toFixed(2)} s, command ${s.wall.toFixed(2)} s, test accuracy ${s.accuracy.toFixed(4)} ` +
          `(CPUs ${(s.busyBefore * 100).toFixed(0)}% busy before; other processes used ${(s.others * 100).toFixed(0)}% of them during the run)\n`,
      );
    });
  }
} finally {
  rmSync(outDir, { recursive: true, force: true });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const range = (xs, d) => `${Math.min(...xs).toFixed(d)}-${Math.max(...xs).toFixed(d)}`;
const col = (i, key) => samples[i].map((s) => s[key]);

console.log(`One epoch of LeNet-5 on MNIST (${epochs} epoch${epochs === '1' ? '' : 's'} per run, per-epoch times), ${threads} thread(s), ${rounds} alternating rounds, medians (ranges):`);
console.log('| engine | epoch (s) | whole command (s) | test accuracy | CPU share other processes took during the runs |');
console.log('| --- | ---: | ---: | ---: | ---: |');
engines.forEach((_, i) => {
  const name = samples[i][0].name;
  const ep = col(i, 'epochSeconds');
  const wall = col(i, 'wall');
  const acc = col(i, 'accuracy');
  console.log(
    `| ${name} | ${median(ep).toFixed(2)} (${range(ep, 2)}) | ${median(wall).toFixed(2)} (${range(wall, 2)}) | ${median(acc).toFixed(4)} (${range(acc, 4)}) | ${range(col(i, 'others').map((x) => x * 100), 0)}% (${col(i, 'others').filter((x) => x > 0.1).length} of ${rounds} runs above 10%) |`,
  );
});
const torch = col(0, 'epochSeconds');
for (let i = 1; i < engines.length; i++) {
  const stride = col(i, 'epochSeconds');
  const perRound = stride.map((s, k) => s / torch[k]);
  const ratio = median(stride) / median(torch);
  const wallRatio = median(col(i, 'wall')) / median(col(0, 'wall'));
  console.log(
    `${samples[i][0].name}: epoch time ${ratio.toFixed(2)}x PyTorch's (per round ${range(perRound, 2)}; whole command ${wallRatio.toFixed(2)}x); ` +
      `target at most 1x (no longer than PyTorch's epoch): ${ratio <= 1 ? 'met' : `not met, by ${((ratio - 1) * 100).toFixed(0)}%`}`,
  );
}
// The same medians over the undisturbed runs only (other processes took at most 10% of the CPUs), when some were disturbed.
const quiet = samples.map((xs) => xs.filter((s) => s.others <= 0.1));
if (quiet.some((q, i) => q.length < samples[i].length) && quiet.every((q) => q.length > 0)) {
  const qt = median(quiet[0].map((s) => s.epochSeconds));
  console.log(
    `Undisturbed runs only: ${quiet.map((q, i) => `${samples[i][0].name} ${median(q.map((s) => s.epochSeconds)).toFixed(2)} s (${q.length} run${q.length === 1 ? '' : 's'})`).join(', ')}; ` +
      quiet.slice(1).map((q, i) => `${samples[i + 1][0].name} ${(median(q.map((s) => s.epochSeconds)) / qt).toFixed(2)}x`).join(', '),
  );
}
if (idle.waitedSec > 1) console.log(`(waited ${idle.waitedSec.toFixed(0)} s in all for quiet CPUs)`);
