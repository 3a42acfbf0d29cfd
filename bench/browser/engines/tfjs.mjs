/**
 * TensorFlow.js in the page's worker, on its wasm backend (the SIMD build, or
 * the threaded SIMD build when the page is cross-origin isolated) or its
 * webgl backend (an OffscreenCanvas of the worker). The nets and steps are
 * those of the Node runner (bench/peers/tfjs-workloads.mjs). The .wasm files
 * are served with the page (Vite copies them from bench/node_modules).
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import plainWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { tfjsStep } from '../../peers/tfjs-workloads.mjs';

/**
 * Why WebGL cannot give a GPU figure here, or null: no WebGL context in a
 * worker, or a software rasterizer (SwiftShader, llvmpipe) that runs the
 * shaders on the CPU cores the other engines use.
 */
export function webglUnavailable() {
  if (typeof OffscreenCanvas !== 'function') return 'no OffscreenCanvas in workers';
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2') ?? new OffscreenCanvas(1, 1).getContext('webgl');
  if (!gl) return 'no WebGL context (Chromium gave none: headless without a GPU)';
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  if (/swiftshader|llvmpipe|software|softpipe/i.test(renderer)) return `WebGL is a software rasterizer on the CPU (${renderer}), not a GPU`;
  return null;
}

export async function start({ backend, threads }) {
  let widened = false;
  if (backend === 'wasm') {
    setWasmPaths({ 'tfjs-backend-wasm.wasm': plainWasm, 'tfjs-backend-wasm-simd.wasm': simdWasm, 'tfjs-backend-wasm-threaded-simd.wasm': threadedWasm });
    setThreadsCount(threads);
    // The threaded build caps its pool at half of navigator.hardwareConcurrency (it assumes two
    // hardware threads per core): on 2 logical cores, 1 thread. This worker shows it twice the
    // threads asked for, so it runs as many as the other engines.
    if (threads > 1 && navigator.hardwareConcurrency < 2 * threads) {
      Object.defineProperty(navigator, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
      widened = true;
    }
  } else if (backend === 'webgl') {
    const why = webglUnavailable();
    if (why) throw new Error(why);
  } else throw new Error(`unknown TF.js backend ${backend}`);
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
  await tf.ready();
  const used = backend === 'wasm' ? getThreadsCount() : 1;
  const detail = backend === 'wasm'
    ? (used > 1 ? `threaded SIMD build${widened ? `; its worker shows it navigator.hardwareConcurrency ${2 * threads}, of which it takes half` : ''}` : `SIMD build${crossOriginIsolated ? '' : ' (not cross-origin isolated: no threads)'}`)
    : String(tf.backend().gpgpu?.gl?.getParameter?.(0x1f01) ?? 'webgl');
  return { label: `TensorFlow.js ${tf.version.tfjs} ${backend}`, version: tf.version.tfjs, backend, threads: used, detail };
}

export function build(workload) {
  return tfjsStep(tf, workload);
}
