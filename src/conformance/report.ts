/**
 * Text and JSON forms of a conformance summary. The last line is always
 * `N passed, N failed, N skipped` (CI and people read it there).
 */
import type { Comparison } from './compare.js';
import type { CaseResult, FamilySummary, Summary } from './runner.js';

const num = (v: number) => (Number.isFinite(v) ? (v === 0 ? '0' : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? String(Number(v.toPrecision(6))) : v.toExponential(3)) : String(v));

export function familyLine(f: FamilySummary): string {
  const name = f.family.padEnd(18);
  return `  ${name}${String(f.passed).padStart(5)} passed ${String(f.failed).padStart(5)} failed ${String(f.skipped).padStart(5)} skipped   ${(f.ms / 1000).toFixed(2)} s`;
}

export function comparisonLine(c: Comparison, tol: { rtol: number; atol: number } | undefined): string {
  if (c.shapeMismatch) return `${c.name}: shape [${c.shapeMismatch.actual.join(', ')}], expected [${c.shapeMismatch.expected.join(', ')}]`;
  const tolText = tol ? ` (atol ${num(tol.atol)} + rtol ${num(tol.rtol)}*|expected|)` : '';
  return `${c.name}: largest error ${num(c.maxAbsError)} at [${c.index.join(', ')}] (element ${c.flatIndex}): expected ${num(c.expected)}, got ${num(c.actual)}; ` +
    `${c.mismatches} of ${c.size} elements outside the tolerance${tolText}`;
}

export function failureLines(r: CaseResult): string[] {
  const lines = [`  FAIL ${r.id} (${r.op})`];
  for (const e of r.errors) lines.push(`       ${e}`);
  for (const c of r.comparisons) if (!c.ok) lines.push(`       ${comparisonLine(c, r.tol)}`);
  return lines;
}

export function finalLine(s: Pick<Summary, 'passed' | 'failed' | 'skipped'>): string {
  return `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`;
}

/** The report after the per-family lines: failures, skipped ops, ignored files; not the final line. */
export function detailLines(s: Summary): string[] {
  const lines: string[] = [];
  if (s.failures.length) {
    lines.push('', `Failures (${s.failures.length}):`);
    for (const r of s.failures) lines.push(...failureLines(r));
  }
  if (s.skippedOps.length) {
    lines.push('', 'Skipped (not in Stride yet, or no entry in src/conformance/ops.ts):');
    const width = Math.max(...s.skippedOps.map((o) => o.name.length));
    for (const o of s.skippedOps) lines.push(`  ${o.name.padEnd(width)}  ${String(o.count).padStart(4)}${o.hint ? `   (${o.hint})` : ''}`);
  }
  if (s.ignored.length) {
    lines.push('', 'Ignored JSON files:');
    for (const f of s.ignored) lines.push(`  ${f.path}: ${f.reason}`);
  }
  return lines;
}

/** A one-line JSON summary (no per-tensor detail of passing cases). */
export function jsonSummary(s: Summary): string {
  return JSON.stringify({
    dir: s.dir,
    backend: s.backend,
    passed: s.passed,
    failed: s.failed,
    skipped: s.skipped,
    families: s.families.map(({ family, passed, failed, skipped, ms }) => ({ family, passed, failed, skipped, ms: Math.round(ms) })),
    skippedOps: s.skippedOps,
    failures: s.failures.map((r) => ({
      id: r.id, family: r.family, op: r.op, errors: r.errors,
      tensors: r.comparisons.filter((c) => !c.ok).map((c) => ({
        name: c.name, maxAbsError: Number.isFinite(c.maxAbsError) ? c.maxAbsError : String(c.maxAbsError), index: c.index,
        expected: c.expected, actual: c.actual, mismatches: c.mismatches, size: c.size, shapeMismatch: c.shapeMismatch,
      })),
    })),
    ms: Math.round(s.ms),
  });
}
