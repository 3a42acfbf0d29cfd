/**
 * Test helpers, written once: closeness (close.ts, the conformance rule
 * atol + rtol * |expected|), thrown errors (errors.ts), gradcheck and the
 * float32-vs-float64 gradient parity (gradients.ts), assert.ok with a
 * message (ok.ts), seeded inputs (inputs.ts) and the naive loops that fast
 * kernels are compared against (oracles.ts), temporary folders (temp-dir.ts),
 * running the CLI from source (cli.ts), PyTorch scripts (torch.ts), Stride's
 * warnings collected (warnings.ts). The parsers' fuzz targets (fuzz.ts) are
 * imported from their file by the fuzz test and `npm run fuzz` only, not
 * re-exported here: they load every parser.
 *
 * Where the tests are (scripts/test-all-backends.mjs runs them, every file
 * under test/setup.ts, which poisons op outputs with NaN):
 * - test/backend/  depends on the backend: runs once per backend (ref, wasm,
 *   and native where it registers).
 *   - ops/  one file per op or op family (conv2d, pool, softmax, losses,
 *     elementwise, ...): its values, gradchecks, errors and float32-vs-float64
 *     gradient parity in one place;
 *   - nn/   modules, optimizers, residual blocks, training;
 *   - tensor, autograd (the tape, compositions, gradcheck itself), outputs
 *     (the NaN poison), seeds (the lecture examples).
 * - test/once/     does not depend on the backend (CLI, data, checkpoints,
 *   README, bench, lr schedulers, conformance, the browser, and the wasm and
 *   native kernel tests, which select their backend themselves): runs once.
 * A test file anywhere else is an error of the runner.
 */
export * from './cli.js';
export * from './close.js';
export * from './errors.js';
export * from './gradients.js';
export * from './inputs.js';
export * from './ok.js';
export * from './oracles.js';
export * from './temp-dir.js';
export * from './torch.js';
export * from './warnings.js';
export * from './web.js';
