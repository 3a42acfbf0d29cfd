/**
 * The command-line options of the bench scripts, parsed one way: node:util's
 * parseArgs in strict mode, so a misspelt option (`--round 5`), an option
 * without its value or a stray argument stops the script with exit 2 and the
 * reason, before it measures anything or writes a table; `--help` (or `-h`)
 * prints the script's header comment, which is its usage, and exits 0.
 *
 *   const { values } = parseBenchOptions(import.meta.url, 'bench', { rounds: { type: 'string', default: '3' } });
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * The options bench/run.mjs and bench/browser/run.mjs share (the first hands
 * them on to the second): rounds, threads, which engines and workloads (empty:
 * all), how long to wait in all for quiet CPUs, and whether to leave the
 * README alone.
 */
export const ROUND_OPTIONS = {
  rounds: { type: 'string', default: '3' },
  threads: { type: 'string', default: String(Math.min(2, availableParallelism())) },
  engines: { type: 'string', default: '' },
  workloads: { type: 'string', default: '' },
  'wait-idle': { type: 'string', default: '120' },
  'no-write': { type: 'boolean', default: false },
};

/** The first block comment of a script (after its #! line), without the comment markers. */
function headerComment(source) {
  const m = /^(?:#!.*\n)?\s*\/\*\*?([\s\S]*?)\*\//.exec(source);
  if (!m) return '';
  return m[1].split('\n').map((l) => l.replace(/^\s*\* ?/, '')).join('\n').trim();
}

/**
 * `{ values, positionals }` of `options` (parseArgs' option descriptions) in
 * process.argv, for the script at `scriptUrl` (its import.meta.url, whose
 * header comment is the --help text); `name` prefixes the error messages.
 * Arguments other than options are refused unless `allowPositionals`.
 */
export function parseBenchOptions(scriptUrl, name, options, { allowPositionals = false, argv = process.argv.slice(2) } = {}) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals });
  } catch (e) {
    const known = Object.keys(options).map((k) => `--${k}`).join(', ');
    process.stderr.write(`${name}: ${e.message}\n${name}: the options are ${known}, and --help\n`);
    process.exit(2);
  }
  if (parsed.values.help) {
    process.stdout.write(`${headerComment(readFileSync(fileURLToPath(scriptUrl), 'utf8'))}\n`);
    process.exit(0);
  }
  return parsed;
}
