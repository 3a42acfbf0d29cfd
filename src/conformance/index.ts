/**
 * The conformance runner's programmatic API (Node only: it reads files).
 *   const s = await runConformance('path/to/conformance', { filter: 'dense/' });
 *   s.passed, s.failed, s.skipped, s.families, s.failures, s.skippedOps
 */
export { runConformance, runCase, type RunOptions, type Summary, type FamilySummary, type CaseResult, type CaseStatus } from './runner.js';
export { OPS, differentiable, lateBound, pick, conv2dPaddingModeAvailable, type OpEntry, type OpTable, type CaseContext, type Sink, type Values, type DifferentiableSpec, type LateBoundSpec, type AnyOp } from './ops.js';
export { compareTensors, unravel, sameShape, type Comparison } from './compare.js';
export {
  FORMAT, SEED_GRADS, parseManifest, findManifests, loadData, decodeFloat32LE, view,
  type Manifest, type ManifestFile, type CaseSpec, type TensorRef, type Tolerance, type Attrs, type IgnoredFile,
} from './format.js';
export { familyLine, failureLines, detailLines, finalLine, jsonSummary, comparisonLine } from './report.js';
