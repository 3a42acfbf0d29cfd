/**
 * What the browser benchmark runs: its engines, in the table's order, and
 * its workloads (the small ones of bench/workloads.json; the zoo's take
 * seconds to minutes per iteration in a page and stay in the Node tables).
 * Loaded by the page and by the Node scripts alike.
 */
export const BROWSER_ENGINES = ['stride-wasm', 'tfjs-wasm', 'tfjs-webgl', 'onnxruntime-web'];
export const BROWSER_WORKLOADS = ['lenet5-train', 'lenet5-infer', 'resnet-block-train', 'resnet-block-infer', 'conv-fwd', 'conv-fwdbwd'];
/** What the table calls an engine that did not start (one that did names itself, with its version). */
export const ENGINE_NAMES = { 'stride-wasm': 'Stride wasm', 'tfjs-wasm': 'TensorFlow.js wasm', 'tfjs-webgl': 'TensorFlow.js webgl', 'onnxruntime-web': 'onnxruntime-web wasm' };
