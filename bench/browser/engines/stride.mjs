/**
 * Stride on its wasm backend, in the page's worker: the models, inputs and
 * steps of `stride bench` (src/cli/workloads.ts), threads through the
 * backend's own workers when the page is cross-origin isolated.
 */
import { backendInfo, listBackends, ready, setBackend } from 'stride';
import { buildWorkload } from '../../../src/cli/workloads.ts';
import { version } from '../../../package.json';

export async function start({ threads }) {
  await ready();
  if (!listBackends().includes('wasm')) throw new Error('no WebAssembly SIMD in this browser: Stride runs its ref backend only');
  setBackend('wasm', { threads: Math.min(threads, navigator.hardwareConcurrency || 1) });
  await ready();
  const info = backendInfo();
  if (info.name !== 'wasm' || info.simd === 'none') throw new Error(`the wasm backend did not start: ${info.detail ?? info.name}`);
  return { label: 'Stride wasm', version, backend: 'wasm', threads: info.threads, detail: info.detail ?? '' };
}

export function build(workload) {
  return buildWorkload(workload);
}
