/**
 * The browser benchmark's table (bench/browser/table.mjs) from result lines
 * made up here: the median over the rounds, Stride's ratio to the faster
 * TensorFlow.js backend (and which one it was), to onnxruntime-web, and what
 * a cell says when an engine did not run a workload or did not start. The
 * expected figures are worked out by hand in the comments; no time is measured.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { browserMarkdown, browserTables, type BrowserEngine, type BrowserResult, type WorkloadEntry } from '../../bench/browser/table.mjs';
import { markdownTable, measuredCell, ratioCell, speedCell, threadsLabel, workloadColumns } from '../../bench/table-format.mjs';
import { ok } from '../helpers/index.js';

const workloads: Record<string, WorkloadEntry> = {
  'lenet5-train': { batch: 64, flopsPerIter: 1, iterations: 30, warmup: 5 },
  'lenet5-infer': { batch: 256, flopsPerIter: 1, iterations: 20, warmup: 3 },
  'conv-fwd': { batch: 32, flopsPerIter: 1, iterations: 10, warmup: 2 },
};
const shown = Object.keys(workloads);

const started = (label: string, threads: number): BrowserEngine => ({ available: true, label, threads });
/** One result line per round: a time, or the reason the engine gave. */
function lines(engineId: string, workload: string, perRound: (number | string)[]): BrowserResult[] {
  return perRound.map((r, i) => (typeof r === 'number'
    ? { engineId, round: i + 1, workload, msPerIter: r, imagesPerSec: (workloads[workload].batch * 1000) / r }
    : { engineId, round: i + 1, workload, msPerIter: null, imagesPerSec: null, unsupported: r }));
}

const results: BrowserResult[] = [
  // Stride: lenet5-infer rounds 10, 14, 12 ms -> median 12 ms = 256,000 / 12 = 21,333 img/s; best round 10 ms = 25,600 img/s.
  ...lines('stride-wasm', 'lenet5-infer', [10, 14, 12]),
  // lenet5-train 4 and 6 ms: an even count, the median is their mean, 5 ms = 64,000 / 5 = 12,800 img/s.
  ...lines('stride-wasm', 'lenet5-train', [4, 6]),
  // conv-fwd 20 ms = 1,600 img/s.
  ...lines('stride-wasm', 'conv-fwd', [20, 20, 20]),
  // TF.js wasm: lenet5-infer 16 ms = 16,000 img/s; conv-fwd 50 ms = 640 img/s; cannot train.
  ...lines('tfjs-wasm', 'lenet5-infer', [16, 16, 16]),
  ...lines('tfjs-wasm', 'conv-fwd', [50, 50, 50]),
  ...lines('tfjs-wasm', 'lenet5-train', ["cannot train: Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'"]),
  // TF.js webgl: lenet5-infer 8 ms = 32,000 img/s (faster than wasm); conv-fwd 100 ms = 320 img/s (slower).
  ...lines('tfjs-webgl', 'lenet5-infer', [8, 8, 8]),
  ...lines('tfjs-webgl', 'conv-fwd', [100, 100, 100]),
  ...lines('tfjs-webgl', 'lenet5-train', ['cannot train: no gradient']),
  // onnxruntime-web: conv-fwd 40 ms = 800 img/s; lenet5-infer without its file; inference only.
  ...lines('onnxruntime-web', 'conv-fwd', [40, 40, 40]),
  ...lines('onnxruntime-web', 'lenet5-infer', ['lenet5-b256.onnx not exported (bench/setup.sh exports it with PyTorch)']),
  ...lines('onnxruntime-web', 'lenet5-train', ['inference only']),
];

/** The cells of the table row that starts with the cells `first` ('a' or 'a | b'), after those. */
function row(table: string, first: string): string[] {
  const line = table.split('\n').find((l) => l.startsWith(`| ${first} |`));
  ok(line, `no row '${first}' in:\n${table}`);
  return line.split('|').slice(1 + first.split('|').length, -1).map((c) => c.trim());
}

describe('browser benchmark table', () => {
  const engines: Record<string, BrowserEngine> = {
    'stride-wasm': started('Stride wasm', 2),
    'tfjs-wasm': started('TensorFlow.js 4.22.0 wasm', 2),
    'tfjs-webgl': started('TensorFlow.js 4.22.0 webgl', 1),
    'onnxruntime-web': started('onnxruntime-web 1.30.0 wasm', 2),
  };

  test('speeds: the median over the rounds, the best round when it is more than 15% faster', () => {
    const { speed } = browserTables({ engines, results, workloads, shown });
    const stride = row(speed, 'Stride wasm, 2 threads');
    // 12,800 img/s at 5 ms; best 4 ms = 16,000 img/s, 25% faster than the median: shown.
    assert.equal(stride[0], '12,800 img/s, 5.0 ms (best round 16,000)');
    // 25,600 is 20% above 21,333: shown.
    assert.equal(stride[1], '21,333 img/s, 12.0 ms (best round 25,600)');
    assert.equal(stride[2], '1,600 img/s, 20.0 ms');
    assert.deepEqual(row(speed, 'TensorFlow.js 4.22.0 wasm, 2 threads'), ['cannot train', '16,000 img/s, 16.0 ms', '640 img/s, 50.0 ms']);
    assert.deepEqual(row(speed, 'onnxruntime-web 1.30.0 wasm, 2 threads'), ['inference only', 'no ONNX file', '800 img/s, 40.0 ms']);
  });

  test('ratios: Stride over the faster TF.js backend, named, and over onnxruntime-web', () => {
    const { ratios } = browserTables({ engines, results, workloads, shown });
    // lenet5-infer: webgl's 32,000 beats wasm's 16,000: 21,333 / 32,000 = 0.67.
    // conv-fwd: wasm's 640 beats webgl's 320: 1,600 / 640 = 2.50.
    assert.deepEqual(row(ratios, 'Stride wasm | best TensorFlow.js backend'), ['no TF.js backend runs it', '0.67x (webgl)', '2.50x (wasm)']);
    // conv-fwd: 1,600 / 800 = 2.00; the others have no onnxruntime-web figure.
    assert.deepEqual(row(ratios, 'Stride wasm | onnxruntime-web'), ['-', '-', '2.00x']);
  });

  test('an engine that did not start: a row that says so, its reason in the notes, and the ratios use the other backend', () => {
    const reason = 'WebGL is a software rasterizer on the CPU (SwiftShader), not a GPU';
    const partial = { ...engines, 'tfjs-webgl': { available: false, reason } as BrowserEngine };
    const markdown = browserMarkdown({
      engines: partial, results, workloads, shown, date: '2026-01-02', chromium: '150.0', cpu: 'a CPU', cores: 2,
      env: { crossOriginIsolated: true, hardwareConcurrency: 2, threads: 2, rounds: 3, maxSeconds: 15 }, loadStart: 0.5, loadEnd: 0.75, seconds: 100,
    });
    assert.deepEqual(row(markdown, 'TensorFlow.js webgl (unavailable)'), ['unavailable', 'unavailable', 'unavailable']);
    ok(markdown.includes(`Not measured: TensorFlow.js webgl: ${reason}.`), `the reason is in the notes:\n${markdown}`);
    // Without webgl, lenet5-infer is against wasm: 21,333 / 16,000 = 1.33.
    assert.deepEqual(row(markdown, 'Stride wasm | best TensorFlow.js backend'), ['no TF.js backend runs it', '1.33x (wasm)', '2.50x (wasm)']);
    ok(markdown.includes('Chromium 150.0') && markdown.includes('load average 0.50 at the start and 0.75 at the end'), `the header names Chromium and the load:\n${markdown}`);
    ok(markdown.includes('cross-origin isolated'), 'the header says whether the page was cross-origin isolated');
  });
});

describe('the cells both benchmark tables print (bench/table-format.mjs)', () => {
  test('a cell is the median of the rounds; the best round is named only when more than 15% faster', () => {
    // rounds of 4, 5 and 2 ms at batch 64: median 4 ms = 16,000 img/s; the 2 ms round = 32,000 img/s, 2x the median
    const c = measuredCell([4, 5, 2], 64);
    assert.deepEqual(c, { ms: 4, imagesPerSec: 16000, runs: 3, bestImagesPerSec: 32000 });
    assert.equal(speedCell(c), '16,000 img/s, 4.0 ms (best round 32,000)');
    // 4 and 3.6 ms: median 3.8 ms = 16,842 img/s; 3.6 ms = 17,778 img/s, 5.6% faster: not named
    assert.equal(speedCell(measuredCell([4, 3.6], 64)), '16,842 img/s, 3.8 ms');
    // one round is its own best
    assert.equal(speedCell(measuredCell([2], 64)), '32,000 img/s, 2.0 ms');
  });

  test('ratios to two decimals, none when either side has no figure; the markdown rows', () => {
    assert.equal(ratioCell({ imagesPerSec: 3 }, { imagesPerSec: 2 }), '1.50x');
    assert.equal(ratioCell({ imagesPerSec: 3 }, {}), null);
    assert.equal(ratioCell(null, { imagesPerSec: 2 }), null);
    assert.equal(threadsLabel(1), '1 thread');
    assert.equal(threadsLabel(2), '2 threads');
    assert.deepEqual(workloadColumns(['conv-fwd'], workloads), ['conv-fwd (batch 32)']);
    assert.equal(markdownTable(['engine', 'a'], [['x', '1'], ['y', '2']]), '| engine | a |\n| --- | --- |\n| x | 1 |\n| y | 2 |');
  });
});
