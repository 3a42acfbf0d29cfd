/**
 * The browser half of test/browser.test.ts (plain ESM, run by Chromium, never
 * by Node). The test's HTTP server serves the compiled library under /stride/
 * and this file as /checks.js. runChecks() selects the wasm backend, awaits
 * ready(), runs each workload once on `wasm` and once on `ref` in the same
 * context from the same seeded inputs, and returns a JSON report (what the
 * context offers, backendInfo(), the runtime's job counters, and per workload
 * the worst difference) that the Node side asserts on.
 *
 * Loaded as a module Web Worker it runs the same checks there on the first
 * message and posts the report back: the wasm workers are then nested workers.
 */
import * as S from '/stride/index.js';
import { wasmRuntime } from '/stride/backends/wasm/index.js';

/** A float32 tensor of normal values from its own seeded generator (the same on both backends). */
function randn(shape, seed, requiresGrad = false) {
  return S.randn(shape, { generator: new S.Generator(seed), requiresGrad });
}

/** sum(y * g) with a fixed random g, so every output gets a different gradient (not all ones). */
function weightedSum(y, seed) {
  return S.F.mul(y, randn(y.shape, seed)).sum();
}

/** Each workload returns named Float32Arrays: outputs, gradients, parameters after a step. */
const workloads = {
  // 3x3 stride 1, >= 16 channels: Winograd forward, input and filter gradients; 18.9M
  // multiply-adds per pass, over the 2 x 8M a split needs.
  conv2dWinograd() {
    const x = randn([4, 16, 32, 32], 1, true);
    const w = randn([32, 16, 3, 3], 2, true);
    const b = randn([32], 3, true);
    const y = S.F.conv2d(x, w, b, { padding: 1 });
    weightedSum(y, 4).backward();
    return { y: y.data, dx: x.grad.data, dw: w.grad.data, db: b.grad.data };
  },
  // 5x5 stride 2: im2col + GEMM per image, split by images (26M multiply-adds per pass).
  conv2dIm2col() {
    const x = randn([8, 16, 32, 32], 5, true);
    const w = randn([32, 16, 5, 5], 6, true);
    const y = S.F.conv2d(x, w, null, { stride: 2, padding: 2 });
    weightedSum(y, 7).backward();
    return { y: y.data, dx: x.grad.data, dw: w.grad.data };
  },
  // 256^3 = 16.8M multiply-adds: the packed GEMM split by columns.
  matmul() {
    const a = randn([256, 256], 8, true);
    const b = randn([256, 256], 9, true);
    const c = S.F.matmul(a, b);
    weightedSum(c, 10).backward();
    return { c: c.data, da: a.grad.data, db: b.grad.data };
  },
  // 1M elements (over the 2 x 256K a split needs): relu and 2x2 max pooling, forward and backward.
  reluMaxPool() {
    const x = randn([8, 32, 64, 64], 11, true);
    const y = S.F.maxPool2d(S.F.relu(x), 2);
    weightedSum(y, 12).backward();
    return { y: y.data, dx: x.grad.data };
  },
  // One LeNet-5 training step (batch 16): forward, cross-entropy, backward, SGD with momentum,
  // then the loss of a second forward pass.
  lenet5Step() {
    const model = new S.LeNet5({ generator: new S.Generator(13) });
    const opt = new S.optim.SGD(model, { lr: 0.05, momentum: 0.9 });
    const x = randn([16, 1, 28, 28], 14);
    const labels = Array.from({ length: 16 }, (_, i) => (i * 7) % 10);
    const loss = S.F.crossEntropy(model.forward(x), labels);
    opt.zeroGrad();
    loss.backward();
    const out = { loss: Float32Array.of(loss.item()) };
    for (const [name, p] of model.namedParameters()) out[`grad ${name}`] = Float32Array.from(p.grad.data);
    opt.step();
    for (const [name, p] of model.namedParameters()) out[name] = Float32Array.from(p.data);
    out.loss2 = Float32Array.of(S.F.crossEntropy(model.forward(x), labels).item());
    return out;
  },
};

/**
 * Worst |a - b| / max|b| over each array, b the reference (0 when equal). Arrays of different
 * lengths or holding NaN / Infinity report Infinity.
 */
function compare(got, want) {
  const arrays = {};
  let worst = 0;
  for (const [name, b] of Object.entries(want)) {
    const a = got[name];
    let diff = 0;
    let scale = 0;
    let bad = !a || a.length !== b.length || b.length === 0;
    for (let i = 0; !bad && i < b.length; i++) {
      if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) bad = true;
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    const rel = bad ? Infinity : diff === 0 ? 0 : diff / scale;
    arrays[name] = { length: b.length, maxAbs: scale, rel };
    worst = Math.max(worst, rel);
  }
  if (Object.keys(got).length !== Object.keys(want).length) worst = Infinity;
  return { worst, arrays };
}

function counters() {
  const rt = wasmRuntime();
  return rt ? { ...rt.stats } : null;
}

export async function runChecks(context) {
  const report = {
    context,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    hardwareConcurrency: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
    backends: S.listBackends(),
    // one thread per core by default; a single-core machine asks for 2 so that threads are still tested
    requestedThreads: navigator.hardwareConcurrency >= 2 ? null : 2,
    error: null,
  };
  try {
    S.setBackend('wasm', report.requestedThreads ? { threads: report.requestedThreads } : {});
    // before ready(): whether this context compiled the kernels synchronously ('none' while compiling)
    report.simdBeforeReady = S.backendInfo().simd;
    report.info = await S.ready();
    report.runtime = wasmRuntime() ? { threads: wasmRuntime().threads, readyWorkers: wasmRuntime().readyWorkers(), shared: wasmRuntime().shared } : null;
    report.workloads = {};
    for (const [name, run] of Object.entries(workloads)) {
      S.setBackend('wasm');
      const before = counters();
      const t0 = performance.now();
      const got = run();
      const wasmMs = performance.now() - t0;
      const after = counters();
      S.setBackend('ref');
      const t1 = performance.now();
      const want = run();
      const refMs = performance.now() - t1;
      const afterRef = counters();
      report.workloads[name] = {
        ...compare(got, want),
        // kernel jobs the wasm runtime ran during each backend's run, and how many were split over threads
        wasmJobs: after && before ? after.jobs - before.jobs : 0,
        parallelJobs: after && before ? after.parallelJobs - before.parallelJobs : 0,
        refRunWasmJobs: afterRef && after ? afterRef.jobs - after.jobs : 0,
        wasmMs: Math.round(wasmMs),
        refMs: Math.round(refMs),
      };
    }
    S.setBackend('wasm');
    report.infoAfter = S.backendInfo();
  } catch (e) {
    report.error = String((e && e.stack) || e);
  }
  return report;
}

// As a module Web Worker: run on the first message, post the report.
if (typeof WorkerGlobalScope === 'function' && globalThis instanceof WorkerGlobalScope) {
  globalThis.onmessage = async () => {
    globalThis.onmessage = null;
    globalThis.postMessage(await runChecks('worker'));
  };
}
