/**
 * onnxruntime-node (CPU execution provider) on the inference workloads of
 * `stride bench`: lenet5-infer, resnet-block-infer, conv-fwd, resnet18-infer,
 * vgg16-infer, alexnet-infer (torchvision's models). It cannot train,
 * so the training workloads and conv-fwdbwd are reported as unsupported.
 *
 *   node bench/peers/onnx.mjs [--threads 2] [--iterations N] [--warmup N] [--max-seconds S] [workload ...]
 *   node bench/peers/onnx.mjs --check      (bench/setup.sh: does the shipped CPU binary load and run?)
 *
 * The models are bench/.cache/*.onnx, exported from the PyTorch nets by
 * bench/peers/export_onnx.py (bench/setup.sh runs it). onnxruntime-node is
 * installed with --ignore-scripts: its install script only fetches the CUDA /
 * TensorRT libraries, while the CPU library (bin/napi-v*\/linux/x64/
 * libonnxruntime.so.1) ships inside the npm package.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, WORKLOADS, benchRequire, firstLine, packageVersion, parseArgs, randomArray, runAll } from './common.mjs';
import { onnxModels } from './onnx-models.mjs';

/** Each workload's model: bench/.cache/<stem>-b<batch>.onnx, input x [batch, ...image] (onnx-models.mjs). */
const MODELS = onnxModels(WORKLOADS);

const ort = benchRequire('onnxruntime-node');
const version = packageVersion('onnxruntime-node');

async function session(file, threads) {
  return ort.InferenceSession.create(file, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
}

if (process.argv.includes('--check')) {
  // The conv model, run once.
  const file = join(BENCH_DIR, '.cache', MODELS['conv-fwd'].file);
  try {
    if (!existsSync(file)) throw new Error(`${file} is missing (run bench/peers/export_onnx.py)`);
    const s = await session(file, 1);
    const { shape } = MODELS['conv-fwd'];
    const out = await s.run({ x: new ort.Tensor('float32', randomArray(shape.reduce((a, b) => a * b, 1)), shape) });
    console.log(`onnxruntime-node ${version}: CPU execution provider runs (output ${out.y.dims.join('x')})`);
  } catch (e) {
    console.log(`onnxruntime-node ${version}: does not run: ${firstLine(e)}`);
    process.exit(1);
  }
  process.exit(0);
}

const opts = parseArgs();
const threads = opts.threads ?? 2;
await runAll({
  engine: 'onnxruntime', backend: 'cpu', threads, version, opts,
  build: async (workload) => {
    const m = MODELS[workload];
    if (!m) return 'inference only (onnxruntime-node does not train)';
    const file = join(BENCH_DIR, '.cache', m.file);
    if (!existsSync(file)) return `${m.file} not exported (bench/setup.sh needs PyTorch for it)`;
    const s = await session(file, threads);
    const x = new ort.Tensor('float32', randomArray(m.shape.reduce((a, b) => a * b, 1)), m.shape);
    return async () => {
      await s.run({ x });
    };
  },
});
