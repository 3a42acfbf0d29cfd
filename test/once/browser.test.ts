/**
 * The wasm backend in a real browser: Debian's Chromium (/usr/bin/chromium),
 * headless, driven by playwright-core. A static server on 127.0.0.1 serves the
 * compiled library and test/browser/checks.js, which runs conv2d (Winograd and
 * im2col paths), matmul, relu + max pooling (forward and backward) and a
 * LeNet-5 training step on `wasm` and on `ref` in the same context and
 * reports the worst difference, the backend's threads and the runtime's job
 * counters. Two pages:
 *
 * - cross-origin isolated (COOP same-origin + COEP require-corp): the kernels
 *   use a shared memory and >= 2 threads, and the large jobs are really split
 *   (a split job completes only when its workers have run their shares, and a
 *   wrong share would show in the comparison), both on the page's main thread
 *   and inside a module Web Worker (the web app's set-up: the wasm workers are
 *   then nested workers);
 * - not isolated: no SharedArrayBuffer, one thread, the same results, and the
 *   worker script is never even requested.
 *
 * What is served: the library compiled by the project's own tsc with
 * tsconfig.build.json (what `npm run build` puts in dist/) into a private
 * temporary folder, once per run (< 1 s). Not dist/ itself: `npm test` only
 * builds the wasm kernels (pretest), so dist/ may be stale, and rebuilding it
 * in place from a test would race with whoever else uses it. Not TypeScript
 * transpiled on the fly: that needs a transpiler the project does not depend on
 * and would test something other than the ESM the package ships. The compiled
 * ESM loads in the browser as it is: relative imports with .js extensions, no
 * bare specifier or Node built-in (test/once/isomorphic-exports.test.ts).
 *
 * The browser part runs once per suite run (the file is in test/once/); it
 * is skipped, saying why, without Chromium or playwright-core.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { ok } from '../helpers/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = '/usr/bin/chromium';

/** Every workload of checks.js; the first four are large enough to split over 2 threads. */
const WORKLOADS = ['conv2dWinograd', 'conv2dIm2col', 'matmul', 'reluMaxPool', 'lenet5Step'];
const SPLIT = WORKLOADS.slice(0, 4);
/** Worst |wasm - ref| / max|ref| allowed over any output or gradient (float32 rounding measures ~1e-6). */
const TOL = 1e-4;

interface WorkloadReport {
  worst: number;
  arrays: Record<string, { length: number; maxAbs: number; rel: number }>;
  wasmJobs: number;
  parallelJobs: number;
  refRunWasmJobs: number;
  wasmMs: number;
  refMs: number;
}

interface Report {
  context: 'page' | 'worker';
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  hardwareConcurrency: number;
  requestedThreads: number | null;
  simdBeforeReady?: string;
  userAgent: string;
  backends: string[];
  error: string | null;
  info?: { name: string; threads: number; simd: string; sharedMemory?: boolean; detail?: string };
  runtime?: { threads: number; readyWorkers: number; shared: boolean } | null;
  workloads?: Record<string, WorkloadReport>;
  infoAfter?: { threads: number };
}

/** Why the browser part cannot or need not run here, or null. */
function skipReason(): string | null {
  if (!existsSync(CHROMIUM)) return `Chromium not found at ${CHROMIUM}; install it (Debian: apt-get install chromium) to run the wasm backend in a real browser`;
  return null;
}

/** Compiles src/ with tsconfig.build.json into `out` (see the header for why not dist/). */
function buildLibrary(out: string): void {
  const generated = join(root, 'src', 'backends', 'wasm', 'generated', 'kernels.ts');
  ok(existsSync(generated), `${generated} is missing: run npm run build:wasm (npm test does it first)`);
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', out, '--declaration', 'false', '--sourceMap', 'false'], {
    cwd: root, encoding: 'utf8',
  });
  // tsc emits even when some file has a type error (the typecheck step of npm test reports those);
  // what matters here is that the files the browser loads were written.
  for (const f of ['index.js', 'backends/wasm/index.js', 'backends/wasm/worker-browser.js', 'backends/wasm/generated/kernels.js']) {
    ok(existsSync(join(out, f)), `tsc -p tsconfig.build.json did not write ${f} (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }
}

const PAGE = `<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>stride wasm backend</title>
<script type="module">
import { runChecks } from '/checks.js';
window.runInPage = () => runChecks('page');
window.runInWorker = () => new Promise((resolve, reject) => {
  const w = new Worker('/checks.js', { type: 'module' });
  w.onmessage = (e) => { w.terminate(); resolve(e.data); };
  w.onerror = (e) => reject(new Error('checks worker: ' + (e.message || 'failed to start')));
  w.postMessage('run');
});
window.checksLoaded = true;
</script>
`;

const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** Serves the page, /checks.js and the compiled library under /stride/; records the paths asked for. */
async function serve(buildDir: string, isolated: boolean): Promise<{ server: Server; origin: string; requested: string[] }> {
  const requested: string[] = [];
  const headers = { 'Cache-Control': 'no-store', ...(isolated ? ISOLATION_HEADERS : {}) };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    requested.push(path);
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'Content-Type': type, ...headers });
      res.end(body);
    };
    let file: string | null = null;
    if (path === '/') return send(200, 'text/html; charset=utf-8', PAGE);
    if (path === '/checks.js') file = join(root, 'test', 'browser', 'checks.js');
    else if (path.startsWith('/stride/') && path.endsWith('.js')) {
      file = normalize(join(buildDir, path.slice('/stride/'.length)));
      if (!file.startsWith(buildDir + sep)) file = null;
    }
    if (!file) return send(404, 'text/plain', 'not found');
    readFile(file).then((body) => send(200, 'text/javascript; charset=utf-8', body), () => send(404, 'text/plain', 'not found'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  ok(address && typeof address === 'object', 'the server has a port');
  return { server, origin: `http://127.0.0.1:${address.port}`, requested };
}

/** Opens the page in a fresh browser context, runs the checks in `where`, collects every error the browser logged. */
async function runChecks(browser: Browser, buildDir: string, isolated: boolean, where: ('page' | 'worker')[]) {
  const { server, origin, requested } = await serve(buildDir, isolated);
  const context = await browser.newContext();
  const errors: string[] = [];
  context.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  context.on('weberror', (e) => errors.push(`uncaught: ${e.error().message}`));
  try {
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('crash', () => errors.push('the page crashed'));
    page.on('worker', (w) => w.on('console', (m) => {
      if (m.type() === 'error') errors.push(`worker console.error: ${m.text()}`);
    }));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => Reflect.get(window, 'checksLoaded') === true, null, { timeout: 30_000 });
    const reports: Report[] = [];
    for (const w of where) {
      reports.push(w === 'page'
        ? await page.evaluate(() => (Reflect.get(window, 'runInPage') as () => Promise<Report>)())
        : await page.evaluate(() => (Reflect.get(window, 'runInWorker') as () => Promise<Report>)()));
    }
    return { reports, errors, requested };
  } finally {
    await context.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** The assertions every report gets: wasm kernels really ran, ref really ran, and they agree. */
function checkResults(r: Report): void {
  const where = `${r.context} (${r.crossOriginIsolated ? 'isolated' : 'not isolated'})`;
  assert.equal(r.error, null, `${where}: the checks threw:\n${r.error}`);
  ok(r.info && r.workloads, `${where}: no backend info / workloads in the report`);
  assert.deepEqual(r.backends, ['ref', 'wasm'], `${where}: backends`);
  assert.equal(r.info.name, 'wasm', `${where}: the backend in use after setBackend('wasm')`);
  ok(r.info.simd === 'relaxed' || r.info.simd === 'plain', `${where}: the wasm kernels compiled (simd '${r.info.simd}': ${r.info.detail})`);
  assert.deepEqual(Object.keys(r.workloads), WORKLOADS, `${where}: workloads run`);
  for (const [name, w] of Object.entries(r.workloads)) {
    ok(w.wasmJobs > 0, `${where} ${name}: no wasm kernel ran (${w.wasmJobs} jobs), so the comparison would prove nothing`);
    assert.equal(w.refRunWasmJobs, 0, `${where} ${name}: the ref run went through the wasm kernels`);
    ok(w.worst <= TOL, `${where} ${name}: wasm differs from ref by ${w.worst} (max |diff| / max |ref|) > ${TOL}: ${JSON.stringify(w.arrays)}`);
  }
}

function summary(r: Report): string {
  const w = r.workloads ?? {};
  const worst = Math.max(...Object.values(w).map((x) => x.worst));
  const parallel = Object.entries(w).map(([n, x]) => `${n} ${x.parallelJobs}/${x.wasmJobs}`).join(', ');
  return `${r.context}, crossOriginIsolated ${r.crossOriginIsolated}: ${r.info?.detail} (SIMD before ready(): ${r.simdBeforeReady}); ` +
    `worst relative difference to ref ${worst.toExponential(2)}; split/total jobs: ${parallel}`;
}

test('the wasm backend in Chromium: threads when cross-origin isolated, one thread otherwise, same results as ref', { timeout: 240_000 }, async (t: TestContext) => {
  const reason = skipReason();
  if (reason) {
    t.skip(reason);
    return;
  }
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    t.skip('playwright-core is not installed; it is a devDependency of the project: run npm ci (or npm install -D playwright-core)');
    return;
  }
  const buildDir = mkdtempSync(join(tmpdir(), 'stride-browser-'));
  let browser: Browser | null = null;
  try {
    buildLibrary(buildDir);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    t.diagnostic(`Chromium ${browser.version()}`);
    const b = browser;

    await t.test('cross-origin isolated page: shared memory, >= 2 threads, split jobs on the main thread and in a Web Worker', async () => {
      const { reports, errors, requested } = await runChecks(b, buildDir, true, ['page', 'worker']);
      for (const r of reports) {
        t.diagnostic(summary(r));
        const where = r.context;
        checkResults(r);
        ok(r.crossOriginIsolated && r.sharedArrayBuffer, `${where}: the headers made the page cross-origin isolated`);
        assert.equal(r.info!.sharedMemory, true, `${where}: the wasm memory is shared`);
        // one thread per core by default; checks.js asks for 2 on a single-core machine
        const expected = r.requestedThreads ?? Math.min(r.hardwareConcurrency, 64);
        ok(expected >= 2, `${where}: at least 2 threads expected (hardwareConcurrency ${r.hardwareConcurrency})`);
        assert.equal(r.info!.threads, expected, `${where}: threads (${r.info!.detail})`);
        assert.equal(r.runtime?.readyWorkers, expected - 1, `${where}: every worker started before ready() resolved`);
        for (const name of SPLIT) {
          ok(r.workloads![name].parallelJobs > 0, `${where} ${name}: no job was split over the threads (${JSON.stringify(r.workloads![name])})`);
        }
      }
      assert.deepEqual(reports.map((r) => r.context), ['page', 'worker']);
      ok(requested.includes('/stride/backends/wasm/worker-browser.js'), `the wasm worker script was loaded (requests: ${requested.join(' ')})`);
      assert.deepEqual(errors, [], 'no errors in the browser');
    });

    await t.test('page without cross-origin isolation: no SharedArrayBuffer, one thread, same results', async () => {
      const { reports, errors, requested } = await runChecks(b, buildDir, false, ['page']);
      const [r] = reports;
      t.diagnostic(summary(r));
      checkResults(r);
      assert.equal(r.crossOriginIsolated, false, 'crossOriginIsolated without the headers');
      assert.equal(r.sharedArrayBuffer, false, 'SharedArrayBuffer without the headers');
      assert.equal(r.info!.sharedMemory, false, 'the wasm memory is not shared');
      assert.equal(r.info!.threads, 1, `threads (${r.info!.detail})`);
      for (const name of WORKLOADS) assert.equal(r.workloads![name].parallelJobs, 0, `${name}: split jobs without shared memory`);
      ok(!requested.includes('/stride/backends/wasm/worker-browser.js'), 'no wasm worker is started without shared memory');
      assert.deepEqual(errors, [], 'no errors in the browser');
    });
  } finally {
    await browser?.close();
    rmSync(buildDir, { recursive: true, force: true });
  }
});
