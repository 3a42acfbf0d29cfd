/**
 * Running a PyTorch script from a test: /usr/bin/python3 (the interpreter
 * that has torch and torchvision) runs `script` with `input` as JSON on stdin
 * and prints one JSON value. When Python or torch is missing the result is
 * the reason, for t.skip(reason).
 */
import { spawnSync } from 'node:child_process';

export type TorchResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export function runTorch<T>(script: string, input: unknown = null): TorchResult<T> {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return { ok: false, reason: `python3 with torch and torchvision is not available (${probe.error?.message ?? probe.stderr.trim().split('\n').pop()})` };
  }
  const r = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error || r.status !== 0) throw new Error(`the PyTorch script failed: ${r.error?.message ?? r.stderr}`);
  return { ok: true, value: JSON.parse(r.stdout) as T };
}

/** A state dict as the scripts read it: PyTorch name -> [shape, values]. */
export function stateDictJson(state: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>): Record<string, [number[], number[]]> {
  return Object.fromEntries(Object.entries(state).map(([k, t]) => [k, [[...t.shape], Array.from(t.data)]]));
}
