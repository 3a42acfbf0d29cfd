#!/usr/bin/env node
/**
 * The soak run: a long training on each backend, its resident memory sampled
 * per epoch, so that a leak (memory that grows with every epoch) shows.
 *
 *   npm run build && node bench/soak.mjs [--backends native,wasm,ref] [--epochs 10]
 *       [--limit N] [--ref-limit N] [--threads 2] [--no-write]
 *
 * Each backend trains LeNet-5 on MNIST in a fresh process of the CLI
 * (`stride train lenet5 --dataset mnist --epochs 10`, from dist/), which
 * prints the resident set at the end of every epoch; the script also reads
 * /proc/<pid>/status every 200 ms for the peak within each epoch. The drift
 * is the largest end-of-epoch resident set after the first epoch against the
 * first epoch's: the first epoch allocates what training needs (weights,
 * gradients, the data, the kernels' scratch), and the epochs after it should
 * need no more. The reference backend runs on --ref-limit images per epoch
 * (default 6,000), since it is the slowest by design.
 *
 * The table goes between <!-- soak:start --> and <!-- soak:end --> in
 * README.md (bench/soak-results.md while those markers do not exist).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeReadmeBlock } from './readme-block.mjs';
import { parseBenchOptions } from './options.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseBenchOptions(import.meta.url, 'soak', {
  backends: { type: 'string', default: 'native,wasm,ref' },
  epochs: { type: 'string', default: '10' },
  limit: { type: 'string' },
  'ref-limit': { type: 'string', default: '6000' },
  threads: { type: 'string', default: '2' },
  'no-write': { type: 'boolean', default: false },
});
const cli = join(ROOT, 'dist', 'cli', 'main.js');
if (!existsSync(cli)) throw new Error('dist/cli/main.js is missing: run npm run build first');

/** VmRSS of a process in MiB, or null once it is gone. */
function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Trains on one backend; resolves to the epochs' { rss (end, MiB), peak (MiB), seconds }. */
function soak(backend) {
  const out = mkdtempSync(join(tmpdir(), 'stride-soak-'));
  const limit = backend === 'ref' ? args['ref-limit'] : args.limit;
  const flags = ['train', 'lenet5', '--dataset', 'mnist', '--epochs', args.epochs, '--backend', backend, '--threads', args.threads, '--no-progress', '--out', out];
  if (limit !== undefined) flags.push('--limit', limit);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--initial-heap-size=128', cli, ...flags], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const epochs = [];
    let peak = 0;
    const timer = setInterval(() => {
      const rss = rssOf(child.pid);
      if (rss !== null) peak = Math.max(peak, rss);
    }, 200);
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const m = /^epoch (\d+)\/\d+: .* images in ([\d.]+) s .*; rss ([\d.]+) MiB/.exec(line);
        if (m) {
          epochs.push({ epoch: Number(m[1]), seconds: Number(m[2]), rss: Number(m[3]), peak: Math.max(peak, Number(m[3])) });
          peak = 0;
          process.stderr.write(`${backend}: ${line}\n`);
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      rmSync(out, { recursive: true, force: true });
      if (code !== 0) reject(new Error(`${backend}: stride train exited with ${code}`));
      else resolve({ epochs, images: limit ?? 60000 });
    });
  });
}

const rows = [];
for (const backend of args.backends.split(',')) {
  const { epochs, images } = await soak(backend);
  const first = epochs[0].rss;
  const later = epochs.slice(1).map((e) => e.rss);
  const worst = Math.max(...later);
  const drift = (worst - first) / first;
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  rows.push(
    `| ${backend} | ${Number(images).toLocaleString('en-US')} | ${epochs.length} | ${first.toFixed(1)} MiB | ${epochs.at(-1).rss.toFixed(1)} MiB | ${worst.toFixed(1)} MiB | ${(drift * 100).toFixed(1)}% | ${Math.max(...epochs.map((e) => e.peak)).toFixed(1)} MiB | ${median(epochs.map((e) => e.seconds)).toFixed(1)} s |`,
  );
}
const table = [
  '| backend | images per epoch | epochs | resident after epoch 1 | after the last | largest after epoch 1 | drift | peak | median epoch |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows,
].join('\n');
console.log(table);
if (!args['no-write']) console.log(writeReadmeBlock('soak', table, { fallback: 'soak-results.md', title: 'Soak: resident memory per epoch' }));
