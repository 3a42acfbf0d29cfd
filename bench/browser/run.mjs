#!/usr/bin/env node
/**
 * `npm run bench:browser` (and the last part of `npm run bench`): Stride's
 * wasm backend, TensorFlow.js (wasm, webgl) and onnxruntime-web (wasm) on the
 * small workloads of bench/workloads.json, in Debian's Chromium, in one page
 * load.
 *
 *   node bench/browser/run.mjs [--rounds 3] [--threads N] [--engines a,b,...] [--workloads a,b,...]
 *                              [--max-seconds 15] [--wait-idle SECONDS] [--timeout-minutes 30] [--no-write]
 *
 * --engines takes stride-wasm, tfjs-wasm, tfjs-webgl, onnxruntime-web (default
 * all); --workloads the small workloads (lenet5-train, lenet5-infer,
 * resnet-block-train, resnet-block-infer, conv-fwd, conv-fwdbwd; default all).
 * The page (bench/browser/: index.html, page.mjs, worker.mjs, engines/) is
 * built with Vite (bench/browser/vite.config.mjs) into
 * bench/.cache/browser-page/ and served by Vite's preview server on 127.0.0.1
 * with COOP/COEP, so it is cross-origin isolated and the wasm engines run
 * threads. Chromium (/usr/bin/chromium) is driven headless by playwright-core
 * (a devDependency of the project); every request the page makes to another
 * origin is refused, so nothing is downloaded at run time. Without Chromium,
 * playwright-core or Vite it prints why and skips (exit 0); an engine whose
 * peer is missing (bench/setup.sh installs them into bench/node_modules) or
 * that cannot start (TF.js webgl without a GPU) is listed as unavailable with
 * the reason. Before each run the page asks the driver to wait (up to 15 s,
 * and --wait-idle seconds in all, default 120) for a second in which the CPUs
 * are less than 15% busy, as bench/run.mjs does before each child process.
 *
 * The table (images/s and ms per iteration per engine and workload, Stride's
 * images/s over the best TF.js backend's and over onnxruntime-web's) replaces
 * the text between <!-- bench-browser:start --> and <!-- bench-browser:end -->
 * in README.md (the markers go right after <!-- bench:end --> when missing),
 * or goes to bench/browser-results.md. The raw results go to
 * bench/.cache/browser-results.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quietWaiter } from '../quiet.mjs';
import { parseBenchOptions, ROUND_OPTIONS } from '../options.mjs';
import { writeReadmeBlock } from '../readme-block.mjs';
import { cpuModel } from '../table-format.mjs';
import { BROWSER_ENGINES, BROWSER_WORKLOADS } from './lists.mjs';
import { browserMarkdown } from './table.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const BENCH = join(HERE, '..');
const CHROMIUM = '/usr/bin/chromium';
const WORKLOADS = JSON.parse(readFileSync(join(BENCH, 'workloads.json'), 'utf8'));

const log = (line) => process.stderr.write(`bench:browser: ${line}\n`);
function die(msg) {
  log(msg);
  process.exit(2);
}
const { values: opts } = parseBenchOptions(import.meta.url, 'bench:browser', {
  ...ROUND_OPTIONS,
  'max-seconds': { type: 'string', default: '15' },
  'timeout-minutes': { type: 'string', default: '30' },
});
const ROUNDS = Number(opts.rounds);
const THREADS = Number(opts.threads);
const MAX_SECONDS = Number(opts['max-seconds']);
const TIMEOUT_MIN = Number(opts['timeout-minutes']);
const WAIT_IDLE = Number(opts['wait-idle']);
const ENGINES = opts.engines ? opts.engines.split(',') : BROWSER_ENGINES;
const SHOWN = opts.workloads ? opts.workloads.split(',') : BROWSER_WORKLOADS;
const WRITE = !opts['no-write'];
for (const e of ENGINES) if (!BROWSER_ENGINES.includes(e)) die(`unknown engine '${e}'; one of ${BROWSER_ENGINES.join(', ')}`);
for (const w of SHOWN) if (!BROWSER_WORKLOADS.includes(w)) die(`workload '${w}' is not run in the browser; one of ${BROWSER_WORKLOADS.join(', ')}`);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) die(`--rounds must be an integer >= 1, got ${opts.rounds}`);
if (!Number.isInteger(THREADS) || THREADS < 1) die(`--threads must be an integer >= 1, got ${opts.threads}`);
if (!(MAX_SECONDS > 0)) die(`--max-seconds must be a number > 0, got ${opts['max-seconds']}`);
if (!(WAIT_IDLE >= 0)) die(`--wait-idle must be a number of seconds >= 0, got ${opts['wait-idle']}`);
if (!(TIMEOUT_MIN > 0)) die(`--timeout-minutes must be a number > 0, got ${opts['timeout-minutes']}`);

/** Prints why the browser benchmark cannot run here and exits without failing. */
function skip(reason) {
  log(`skipped: ${reason}`);
  process.exit(0);
}

if (!existsSync(CHROMIUM)) skip(`Chromium not found at ${CHROMIUM} (Debian: apt-get install chromium)`);
let chromium;
let vite;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  skip('playwright-core is not installed (a devDependency of the project: npm ci)');
}
try {
  vite = await import('vite');
} catch {
  skip('vite is not installed (a devDependency of the project: npm ci)');
}

// ---------------------------------------------------------------------------
// Build and serve the page
// ---------------------------------------------------------------------------
const configFile = join(HERE, 'vite.config.mjs');
const outDir = join(BENCH, '.cache', 'browser-page');
log('building the page (Vite)');
try {
  await vite.build({ configFile, logLevel: 'warn', build: { outDir } });
} catch (e) {
  log(`the page did not build: ${String(e instanceof Error ? e.message : e).split('\n').slice(0, 4).join(' ')}`);
  process.exit(1);
}
const server = await vite.preview({ configFile, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: true, open: false } });
const origin = `http://127.0.0.1:${server.httpServer.address().port}`;

// ---------------------------------------------------------------------------
// Run it in Chromium
// ---------------------------------------------------------------------------
const started = new Date();
const loadStart = loadavg()[0];
const t0 = performance.now();
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
const chromiumVersion = browser.version();
const context = await browser.newContext();
const refused = [];
// Nothing from elsewhere: a request to another origin is refused and reported.
await context.route('**/*', (route) => {
  const url = route.request().url();
  if (url.startsWith(`${origin}/`) || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
  refused.push(url);
  return route.abort();
});
const errors = [];
const page = await context.newPage();
// The page calls this before each run: it returns once the CPUs are quiet (or the wait is up), with how busy they were.
const quiet = quietWaiter(WAIT_IDLE);
await page.exposeFunction('__benchWaitQuiet', () => Number(quiet.wait().toFixed(3)));
page.on('console', (m) => {
  const text = m.text();
  if (text.startsWith('bench: ')) log(text.slice(7));
  else if (m.type() === 'error') errors.push(text);
});
page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
page.on('crash', () => errors.push('the page crashed'));
const query = new URLSearchParams({ engines: ENGINES.join(','), workloads: SHOWN.join(','), threads: String(THREADS), rounds: String(ROUNDS), maxSeconds: String(MAX_SECONDS) });
log(`Chromium ${chromiumVersion}: ${origin}/?${query}`);
let bench = null;
let failure = null;
try {
  await page.goto(`${origin}/?${query}`);
  await page.waitForFunction(() => window.__bench?.state === 'done', null, { timeout: TIMEOUT_MIN * 60_000, polling: 1000 });
} catch (e) {
  failure = String(e instanceof Error ? e.message : e).split('\n')[0];
}
try {
  bench = await page.evaluate(() => window.__bench ?? null);
} catch (e) {
  failure ??= String(e instanceof Error ? e.message : e).split('\n')[0];
}
await browser.close();
await server.close();
const loadEnd = loadavg()[0];
const seconds = (performance.now() - t0) / 1000;

if (!bench) {
  log(`the page gave no results: ${failure ?? 'no window.__bench'}${errors.length ? `; errors: ${errors.slice(0, 5).join(' | ')}` : ''}`);
  process.exit(1);
}
const notes = [];
if (failure) notes.push(`the page stopped early: ${failure}`);
if (bench.error) notes.push(`the page failed: ${bench.error}`);
if (refused.length) notes.push(`requests to other origins were refused: ${[...new Set(refused)].slice(0, 3).join(', ')}`);
for (const n of notes) log(n);
if (errors.length) log(`the page logged errors: ${errors.slice(0, 5).join(' | ')}`);

const markdown = browserMarkdown({
  date: started.toISOString().slice(0, 10), chromium: chromiumVersion, cpu: cpuModel(), cores: availableParallelism(), env: bench.env,
  loadStart, loadEnd, seconds, busy: quiet.describe(), engines: bench.engines, results: bench.results, workloads: WORKLOADS, shown: SHOWN, notes,
});
console.log(markdown);
mkdirSync(join(BENCH, '.cache'), { recursive: true });
writeFileSync(join(BENCH, '.cache', 'browser-results.json'), JSON.stringify({ date: started.toISOString(), chromium: chromiumVersion, loadStart, loadEnd, ...bench }, null, 1));
if (WRITE) log(writeReadmeBlock('bench-browser', markdown, { fallback: 'browser-results.md', title: 'Browser benchmark results', after: 'bench' }));
process.exit(bench.error || failure ? 1 : 0);
