/**
 * npm run fuzz [-- --runs N] [--target NAME] [--seed S]: the long fuzzing run
 * (not in CI). For each parser of test/helpers/fuzz.ts, N mutated inputs
 * (default 100,000): how many parsed, how many were refused with a DataError
 * or ValueError, and the failures: crashes (any other exception), results
 * larger than the input justifies, changed checkpoints decoded to other
 * tensors than their original's without a word; and the slowest input. Prints a Markdown
 * table and writes it between <!-- fuzz:start --> and <!-- fuzz:end --> in
 * README.md (unless --no-write, or when --runs or --target narrow the run),
 * and, for each failure, the input; exits 1 when there is one.
 */
import fc from 'fast-check';

import { writeReadmeBlock } from '../bench/readme-block.mjs';

import { FUZZ_TARGETS, describeInput, fuzzOne } from '../test/helpers/fuzz.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const runs = Number(flag('runs') ?? 100_000);
const seed = Number(flag('seed') ?? 1);
const only = flag('target');
if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${flag('runs')}`);
const targets = FUZZ_TARGETS.filter((t) => only === undefined || t.name === only);
if (targets.length === 0) throw new Error(`--target must be one of ${FUZZ_TARGETS.map((t) => t.name).join(', ')}`);

const CHUNK = 1000;
const rows: string[] = [];
let failures = 0;
for (const target of targets) {
  const seeds = await target.seeds();
  // made a thousand at a time (fc.sample makes them all at once: a hundred thousand mutated files would not fit in memory)
  const arbitrary = target.inputs(seeds);
  const counts = { parsed: 0, refused: 0, crash: 0, oversized: 0, changed: 0 };
  let slowest = 0;
  let chunk: unknown[] = [];
  const start = performance.now();
  for (let k = 0; k < runs; k++) {
    if (k % CHUNK === 0) chunk = fc.sample(arbitrary, { numRuns: Math.min(CHUNK, runs - k), seed: seed + k });
    const input = chunk[k % CHUNK];
    const t0 = performance.now();
    const outcome = await fuzzOne(target, input);
    slowest = Math.max(slowest, performance.now() - t0);
    counts[outcome.kind]++;
    if (outcome.kind === 'crash' || outcome.kind === 'oversized' || outcome.kind === 'changed') {
      failures++;
      const what = outcome.kind === 'crash' ? `threw ${outcome.error instanceof Error ? outcome.error.stack : String(outcome.error)}` : outcome.kind === 'oversized' ? `made ${outcome.made} bytes (limit ${outcome.limit})` : 'decoded to other tensors than its seed without a word';
      if (counts.crash + counts.oversized + counts.changed <= 5) console.error(`${target.name}: ${describeInput(input)} ${what}`);
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const row = `| ${target.name} | ${runs.toLocaleString('en-US')} | ${counts.parsed.toLocaleString('en-US')} | ${counts.refused.toLocaleString('en-US')} | ${counts.crash} | ${counts.oversized} | ${target.checksummed ? counts.changed : '-'} | ${slowest.toFixed(1)} ms | ${seconds.toFixed(0)} s |`;
  rows.push(row);
  console.error(row);
}
const table = [
  '| parser | inputs | parsed | refused (DataError/ValueError) | crashes | oversized results | changed, read silently | slowest input | time |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows,
].join('\n');
console.log(table);
if (!process.argv.includes('--no-write') && flag('runs') === undefined && only === undefined) {
  console.log(writeReadmeBlock('fuzz', table, { fallback: 'fuzz-results.md', title: 'Fuzzing: outcomes per parser' }));
}
process.exitCode = failures > 0 ? 1 : 0;
