/**
 * The main entry as Node resolves it (the "node" condition of package.json's
 * exports): the isomorphic API plus the Node platform of the wasm backend
 * (worker threads, os.availableParallelism, relaxed SIMD on Node 20).
 * Browsers and bundlers get src/index.ts unchanged.
 *
 * Backends: the platform is installed before src/index.ts registers `wasm`
 * (its last statement), so 'stride' in Node runs on `wasm`; `native` comes
 * with 'stride/node'.
 */
import './backends/wasm/node.js';
// Op outputs from uninitialized memory (no memset before a kernel overwrites them).
import './tensor/node.js';

export * from './index.js';
