import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source (`node --import tsx src/cli/main.ts ...`), stdout and stderr piped (not a TTY). */
export function stride(...args: string[]): Promise<CliRun> {
  return runNode(['--import', 'tsx', 'src/cli/main.ts', ...args]).then(({ code, stdout, stderr }) => ({ code, stdout, stderr }));
}

/**
 * Runs node with `args` in the repository's root, killed (SIGKILL) when it has
 * not exited by itself after `timeoutMs`: `timedOut` says so. The process must
 * end on its own, with no process.exit, for a run not to time out.
 */
export function runNode(args: string[], timeoutMs = 0): Promise<CliRun & { timedOut: boolean; seconds: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = timeoutMs > 0 ? setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs) : null;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer !== null) clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut, seconds: (performance.now() - start) / 1000 });
    });
  });
}
