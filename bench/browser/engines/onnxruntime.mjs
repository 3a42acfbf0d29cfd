/**
 * onnxruntime-web's wasm execution provider (the threaded SIMD build, with
 * numThreads threads when the page is cross-origin isolated) in the page's
 * worker, on the inference workloads: the ONNX files the Node runner uses
 * (bench/peers/onnx-models.mjs; exported from the PyTorch nets by
 * bench/peers/export_onnx.py), served with the page under models/.
 */
import * as ort from 'onnxruntime-web/wasm';
import ortMjs from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { onnxModels } from '../../peers/onnx-models.mjs';
import { randomArray } from '../../peers/steps.mjs';
import workloads from '../../workloads.json';

const MODELS = onnxModels(workloads);
/** The page's address: the models are served under models/ beside it. */
let pageUrl = '';

export async function start({ threads, page }) {
  pageUrl = page;
  ort.env.wasm.wasmPaths = { mjs: new URL(ortMjs, location.href).href, wasm: new URL(ortWasm, location.href).href };
  ort.env.wasm.numThreads = crossOriginIsolated ? threads : 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  return { label: `onnxruntime-web ${ort.env.versions.web} wasm`, version: ort.env.versions.web, backend: 'wasm', threads: ort.env.wasm.numThreads, detail: 'threaded SIMD build' };
}

export async function build(workload) {
  const m = MODELS[workload];
  if (!m) return 'inference only';
  const res = await fetch(new URL(`models/${m.file}`, pageUrl));
  if (!res.ok) return `${m.file} not exported (bench/setup.sh exports it with PyTorch)`;
  const session = await ort.InferenceSession.create(new Uint8Array(await res.arrayBuffer()), {
    executionProviders: ['wasm'], graphOptimizationLevel: 'all', executionMode: 'sequential', interOpNumThreads: 1,
  });
  const x = new ort.Tensor('float32', randomArray(m.shape.reduce((a, b) => a * b, 1)), m.shape);
  return async () => {
    const out = await session.run({ x });
    for (const t of Object.values(out)) t.dispose?.();
  };
}
