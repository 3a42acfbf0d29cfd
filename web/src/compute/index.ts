/**
 * Every handler the compute worker runs, by name: the page calls them through
 * rpc.ts (`call('convolution', {...})`). Each page's handlers live in one file
 * beside this one; this table joins them, and its type is the contract the
 * page side is checked against.
 */
import { backendInfo, ready } from 'stride';
import { convolutionHandlers } from './convolution.js';
import { kernelsHandlers } from './kernels.js';
import { digitsHandlers } from './digits.js';
import { trainHandlers } from './train.js';
import { architectureHandlers } from './architecture.js';

/** What the status line of every page says about the engine. */
export interface EngineStatus {
  backend: string;
  threads: number;
  simd: string;
  crossOriginIsolated: boolean;
  detail: string;
}

async function engine(): Promise<EngineStatus> {
  await ready();
  const info = backendInfo();
  return {
    backend: info.name,
    threads: info.threads,
    simd: info.simd,
    crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    detail: info.detail ?? '',
  };
}

export const handlers = {
  engine,
  ...convolutionHandlers,
  ...kernelsHandlers,
  ...digitsHandlers,
  ...trainHandlers,
  ...architectureHandlers,
};

export type Requests = typeof handlers;
