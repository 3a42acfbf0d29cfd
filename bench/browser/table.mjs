/**
 * The browser benchmark's table, from the result lines the page collected
 * (one per engine, workload and round; bench/peers/steps.mjs's schema, with
 * `engineId` and `round`): images/s and ms per iteration per engine and
 * workload (the median over the rounds of each run's median), and Stride's
 * images/s over the best TensorFlow.js backend's and over onnxruntime-web's.
 * No I/O here: bench/browser/run.mjs gathers the figures and writes the text.
 */
import { markdownTable, measuredCell, ratioCell, speedCell, threadsLabel, workloadColumns } from '../table-format.mjs';
import { BROWSER_ENGINES, ENGINE_NAMES } from './lists.mjs';

const TFJS = ['tfjs-wasm', 'tfjs-webgl'];

/** Why a workload was not measured, in a few words for a table cell. */
function shortReason(reason) {
  if (/^cannot train/.test(reason)) return 'cannot train';
  if (/^inference only/.test(reason)) return 'inference only';
  if (/not exported/.test(reason)) return 'no ONNX file';
  return 'failed';
}

/**
 * The value of each engine on each workload: { ms, imagesPerSec, runs,
 * bestImagesPerSec } (ms the median over the rounds) or { text } saying why
 * there is no number. `engines` is the page's `engines` (id -> { available,
 * reason, label, threads }), `workloads` bench/workloads.json.
 */
function summarize({ engines, results, workloads }) {
  const cells = {};
  for (const id of Object.keys(engines)) {
    cells[id] = {};
    for (const w of Object.keys(workloads)) {
      const lines = results.filter((r) => r.engineId === id && r.workload === w);
      const ms = lines.filter((r) => typeof r.msPerIter === 'number').map((r) => r.msPerIter);
      if (!engines[id].available) cells[id][w] = { text: 'unavailable' };
      else if (ms.length > 0) cells[id][w] = measuredCell(ms, workloads[w].batch);
      else if (lines.length > 0) cells[id][w] = { text: shortReason(lines.find((r) => r.unsupported)?.unsupported ?? '') };
      else cells[id][w] = { text: 'not run' };
    }
  }
  return cells;
}

/** The faster of the measured TensorFlow.js backends on one workload: { id, cell } or null. */
function bestTfjs(cells, w) {
  const measured = TFJS.filter((id) => cells[id]?.[w]?.imagesPerSec).map((id) => ({ id, cell: cells[id][w] }));
  return measured.sort((a, b) => b.cell.imagesPerSec - a.cell.imagesPerSec)[0] ?? null;
}

/** The speed table and the ratio table of the workloads `shown`, as markdown. */
export function browserTables({ engines, results, workloads, shown }) {
  const cells = summarize({ engines, results, workloads });
  const ids = BROWSER_ENGINES.filter((id) => engines[id]);
  const label = (id) => (engines[id].available ? `${engines[id].label}, ${threadsLabel(engines[id].threads)}` : `${ENGINE_NAMES[id]} (unavailable)`);
  const speed = markdownTable(['engine', ...workloadColumns(shown, workloads)], ids.map((id) => [label(id), ...shown.map((w) => cells[id][w].text ?? speedCell(cells[id][w]))]));

  const ratioRows = [];
  const stride = cells['stride-wasm'] && engines['stride-wasm'].available ? cells['stride-wasm'] : null;
  if (stride) {
    if (TFJS.some((id) => engines[id])) {
      ratioRows.push(['Stride wasm', 'best TensorFlow.js backend', ...shown.map((w) => {
        const best = bestTfjs(cells, w);
        if (!stride[w].imagesPerSec) return '-';
        if (!best) return 'no TF.js backend runs it';
        return `${ratioCell(stride[w], best.cell)} (${best.id.replace('tfjs-', '')})`;
      })]);
    }
    if (engines['onnxruntime-web']) {
      ratioRows.push(['Stride wasm', 'onnxruntime-web', ...shown.map((w) => ratioCell(stride[w], cells['onnxruntime-web'][w]) ?? '-')]);
    }
  }
  const ratios = ratioRows.length ? markdownTable(['Stride', 'vs', ...shown], ratioRows) : '';
  return { speed, ratios };
}

/**
 * The whole block for README.md: where and how it was measured (Chromium's
 * version, cores, cross-origin isolation, threads, load), the notes, the tables.
 */
export function browserMarkdown({ date, chromium, cpu, cores, env, loadStart, loadEnd, seconds, busy, engines, results, workloads, shown, notes = [] }) {
  const { speed, ratios } = browserTables({ engines, results, workloads, shown });
  const unavailable = BROWSER_ENGINES.filter((id) => engines[id] && !engines[id].available).map((id) => `${ENGINE_NAMES[id]}: ${engines[id].reason}`);
  const isolation = env.crossOriginIsolated
    ? `cross-origin isolated (COOP same-origin, COEP require-corp), so the wasm engines may use ${threadsLabel(env.threads)}`
    : 'not cross-origin isolated, so no SharedArrayBuffer: every engine runs 1 thread';
  const onnx = engines['onnxruntime-web']?.available
    ? "\nonnxruntime-web runs the ONNX files onnxruntime-node runs in `npm run bench` (the PyTorch nets exported with torch.onnx.export by bench/peers/export_onnx.py): inference only." : '';
  const notMeasured = [...unavailable, ...notes];
  const details = BROWSER_ENGINES.filter((id) => engines[id]?.available && engines[id].detail).map((id) => `${engines[id].label}: ${engines[id].detail}`);
  return `Measured by \`npm run bench:browser\` on ${date} in Chromium ${chromium} (headless, driven by playwright-core): ${cpu}, ${cores} cores (navigator.hardwareConcurrency ${env.hardwareConcurrency}); the page was ${isolation}; load average ${loadStart.toFixed(2)} at the start and ${loadEnd.toFixed(2)} at the end${busy ? `; ${busy}` : ''}; ${seconds.toFixed(0)} s in all.
One page load: each engine in a worker of its own (as the web app runs Stride); each number is the median over ${env.rounds} alternating round${env.rounds === 1 ? '' : 's'} (each workload on each engine in turn) of each run's median iteration time, with the warm-up and iterations of bench/workloads.json (at most ${env.maxSeconds} s of timed iterations per run). Stride runs the models and steps of \`stride bench\` (src/cli/workloads.ts), TF.js those of its Node runner (bench/peers/tfjs-workloads.mjs).${details.length ? `\nEngines: ${details.join('; ')}.` : ''}${onnx}${notMeasured.length ? `\nNot measured: ${notMeasured.join('; ')}.` : ''}

Images per second and milliseconds per iteration (medians; "best round" where the fastest round was more than 15% faster than the median):

${speed}
${ratios ? `\nStride's images/s divided by the peer's (above 1: Stride is faster):\n\n${ratios}\n` : ''}`;
}
