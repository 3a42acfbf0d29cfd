/**
 * Runs conformance cases on Stride and counts passed / failed / skipped.
 *
 * For each manifest in the folder: read the manifest, read its data file once,
 * and for each case look its op up in the table (ops.ts). A case is
 *   - skipped when the op has no entry or the entry says Stride cannot run it
 *     yet (the reason is counted by name: "elu", "conv2d paddingMode reflect");
 *   - failed when running it throws, or when any expected output or gradient is
 *     missing or outside the case's tolerance;
 *   - passed otherwise.
 */
import { performance } from 'node:perf_hooks';
import { ValueError, getBackend, setBackend, Tensor } from '../index.js';
import { compareTensors, type Comparison } from './compare.js';
import { SEED_GRADS, findManifests, loadData, view, type CaseSpec, type IgnoredFile, type ManifestFile, type Tolerance } from './format.js';
import { OPS, strideHasFunction, type CaseContext, type OpTable, type Sink, type Values } from './ops.js';

export type CaseStatus = 'passed' | 'failed' | 'skipped';

export interface CaseResult {
  readonly id: string;
  readonly family: string;
  readonly op: string;
  readonly status: CaseStatus;
  readonly tol: Tolerance;
  /** Skipped: what Stride lacks ("elu", "conv2d paddingMode reflect", "model basicBlock"). */
  readonly skipReason?: string;
  /** Failed: what was thrown, or a problem that is not a tensor mismatch (a missing value, an unknown attr). */
  readonly errors: readonly string[];
  /** Every comparison made (passed and failed). */
  readonly comparisons: readonly Comparison[];
  readonly ms: number;
}

export interface FamilySummary {
  readonly family: string;
  readonly manifest: string;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly ms: number;
}

export interface Summary {
  readonly dir: string;
  readonly backend: string;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly families: readonly FamilySummary[];
  /** Skip reasons with their counts, most frequent first. */
  readonly skippedOps: readonly { readonly name: string; readonly count: number; readonly hint?: string }[];
  readonly failures: readonly CaseResult[];
  readonly results: readonly CaseResult[];
  readonly ignored: readonly IgnoredFile[];
  readonly ms: number;
}

export interface RunOptions {
  /** Only cases whose id contains this substring. */
  filter?: string;
  /** Only these families (by the manifest's family name). */
  families?: readonly string[];
  /** The backend to run on (setBackend); the previous one is restored afterwards. */
  backend?: string;
  /** The op table (default OPS); tests and experiments pass their own. */
  ops?: OpTable;
  /** Called after each family, e.g. to print progress. */
  onFamily?: (f: FamilySummary) => void;
}

/** Runs every case of every conformance-v1 manifest in `dir`. Throws ValueError / DataError for a bad folder or bad files. */
export async function runConformance(dir: string, options: RunOptions = {}): Promise<Summary> {
  const t0 = performance.now();
  const table = options.ops ?? OPS;
  const previous = getBackend().name;
  const { manifests, ignored } = await findManifests(dir);
  let selected: ManifestFile[] = manifests;
  if (options.families) {
    const known = new Set(manifests.map((m) => m.manifest.family));
    const unknown = options.families.filter((f) => !known.has(f));
    if (unknown.length) throw new ValueError(`conformance: no family ${unknown.join(', ')} in ${dir}; the families are ${[...known].join(', ')}`);
    selected = manifests.filter((m) => options.families!.includes(m.manifest.family));
  }
  const filter = options.filter;
  if (filter !== undefined && !selected.some((m) => m.manifest.cases.some((c) => c.id.includes(filter)))) {
    throw new ValueError(`conformance: no case id contains '${filter}' in ${dir}`);
  }

  if (options.backend !== undefined) setBackend(options.backend);
  const results: CaseResult[] = [];
  const families: FamilySummary[] = [];
  try {
    for (const file of selected) {
      const cases = file.manifest.cases.filter((c) => filter === undefined || c.id.includes(filter));
      if (cases.length === 0) continue;
      const tf = performance.now();
      const { data } = await loadData(file);
      const counts = { passed: 0, failed: 0, skipped: 0 };
      for (const spec of cases) {
        const r = runCase(spec, file.manifest.family, data, table);
        counts[r.status]++;
        results.push(r);
      }
      const f: FamilySummary = { family: file.manifest.family, manifest: file.path, ...counts, ms: performance.now() - tf };
      families.push(f);
      options.onFamily?.(f);
    }
  } finally {
    if (options.backend !== undefined) setBackend(previous);
  }

  const skipCounts = new Map<string, number>();
  for (const r of results) if (r.skipReason) skipCounts.set(r.skipReason, (skipCounts.get(r.skipReason) ?? 0) + 1);
  const skippedOps = [...skipCounts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([name, count]) => {
    const missingEntry = !Object.hasOwn(table, name) && strideHasFunction(name);
    return missingEntry ? { name, count, hint: `Stride exports ${name}; add an entry for it in src/conformance/ops.ts` } : { name, count };
  });
  return {
    dir,
    backend: options.backend ?? previous,
    passed: results.filter((r) => r.status === 'passed').length,
    failed: results.filter((r) => r.status === 'failed').length,
    skipped: results.filter((r) => r.status === 'skipped').length,
    families,
    skippedOps,
    failures: results.filter((r) => r.status === 'failed'),
    results,
    ignored,
    ms: performance.now() - t0,
  };
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `threw ${err.name}: ${err.message}`;
  return `threw ${String(err)}`;
}

/** Runs one case. Never throws: every problem becomes a failure of this case. */
export function runCase(spec: CaseSpec, family: string, data: Float32Array, table: OpTable = OPS): CaseResult {
  const t0 = performance.now();
  const base = { id: spec.id, family, op: spec.op, tol: spec.tol };
  const done = (status: CaseStatus, extra: { skipReason?: string; errors?: string[]; comparisons?: Comparison[] } = {}): CaseResult =>
    ({ ...base, status, errors: extra.errors ?? [], comparisons: extra.comparisons ?? [], skipReason: extra.skipReason, ms: performance.now() - t0 });

  const entry = Object.hasOwn(table, spec.op) ? table[spec.op] : undefined;
  if (!entry) return done('skipped', { skipReason: spec.op });
  const unknownAttrs = Object.keys(spec.attrs).filter((k) => !entry.attrs.includes(k));
  if (unknownAttrs.length) {
    return done('failed', { errors: [`attr ${unknownAttrs.join(', ')} of ${spec.op} is not known to the runner; teach its entry in src/conformance/ops.ts to pass it to Stride`] });
  }
  try {
    const reason = entry.unsupported?.(spec);
    if (reason) return done('skipped', { skipReason: reason });
  } catch (err) {
    return done('failed', { errors: [`deciding whether Stride supports this case ${describeError(err)}`] });
  }

  const expected = new Map<string, { group: 'outputs' | 'grads'; ref: CaseSpec['outputs'][string] }>();
  for (const [name, ref] of Object.entries(spec.outputs)) expected.set(`outputs/${name}`, { group: 'outputs', ref });
  for (const [name, ref] of Object.entries(spec.grads)) if (!SEED_GRADS.has(name)) expected.set(`grads/${name}`, { group: 'grads', ref });

  const produced = new Map<string, Values | null>();
  const put = (group: string) => (name: string, value: Tensor | Values | null | undefined) => {
    produced.set(`${group}/${name}`, value ?? null);
  };
  const sink: Sink = { output: put('outputs'), grad: put('grads') };
  const tensorOf = (ref: CaseSpec['inputs'][string]) => new Tensor(data.slice(ref.offset, ref.offset + ref.length), ref.shape);
  const ctx: CaseContext = {
    spec,
    attrs: spec.attrs,
    has: (name) => Object.hasOwn(spec.inputs, name),
    input(name, requiresGrad = false) {
      const ref = spec.inputs[name];
      if (!ref || !Object.hasOwn(spec.inputs, name)) throw new Error(`the case has no input '${name}' (it has ${Object.keys(spec.inputs).join(', ') || 'none'})`);
      const t = tensorOf(ref);
      if (requiresGrad) t.requiresGrad_(true);
      return t;
    },
    inputNames: () => Object.keys(spec.inputs),
    seed: (name) => (Object.hasOwn(spec.grads, name) ? tensorOf(spec.grads[name]) : undefined),
    wantsGrads: [...expected.values()].some((e) => e.group === 'grads'),
  };

  const errors: string[] = [];
  try {
    entry.run(ctx, sink);
  } catch (err) {
    let reason: string | null = null;
    try {
      reason = entry.notAvailable?.(err, spec) ?? null;
    } catch {
      reason = null;
    }
    if (reason) return done('skipped', { skipReason: reason });
    errors.push(describeError(err));
  }

  const comparisons: Comparison[] = [];
  const missing: string[] = [];
  for (const [key, { group, ref }] of expected) {
    const name = key.slice(group.length + 1);
    const actual = produced.get(key);
    if (actual === undefined) {
      // After a throw, what was not computed is explained by the error.
      if (errors.length === 0) missing.push(`${group}.${name}`);
      continue;
    }
    if (actual === null) {
      errors.push(`${group}.${name}: Stride produced no value (${group === 'grads' ? 'the gradient is null: it did not flow back to this input' : 'null'})`);
      continue;
    }
    comparisons.push(compareTensors(name, actual.data, actual.shape, view(data, ref), ref.shape, spec.tol));
  }
  if (missing.length) errors.push(`the runner produced no value for ${missing.join(', ')}; its entry in src/conformance/ops.ts must emit every expected output and gradient`);
  const failed = errors.length > 0 || comparisons.some((c) => !c.ok);
  return done(failed ? 'failed' : 'passed', { errors, comparisons });
}
