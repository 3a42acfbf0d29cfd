/**
 * Where the benchmark scripts put their tables: between `<!-- NAME:start -->`
 * and `<!-- NAME:end -->` in the project's README.md, or, where README.md or
 * the markers are missing, in a file of bench/ of its own. Files are written
 * atomically (a temporary file renamed over the old one).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = join(BENCH, '..');

function writeAtomic(path, text) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/**
 * Replaces the block `name` of README.md with `markdown`, or writes it to
 * bench/<fallback> under `title`; returns a sentence saying where it went.
 * With `after`, a README.md that has no block `name` yet but has the block
 * `after` gets the new block right after that one's end marker.
 */
export function writeReadmeBlock(name, markdown, { fallback, title, after }) {
  const readme = join(ROOT, 'README.md');
  const START = `<!-- ${name}:start -->`;
  const END = `<!-- ${name}:end -->`;
  const text = existsSync(readme) ? readFileSync(readme, 'utf8') : null;
  const a = text?.indexOf(START) ?? -1;
  const b = text?.indexOf(END) ?? -1;
  if (text !== null && a >= 0 && b > a) {
    writeAtomic(readme, `${text.slice(0, a + START.length)}\n${markdown}\n${text.slice(b)}`);
    return `wrote the table into README.md (between ${START} and ${END})`;
  }
  const afterEnd = after ? `<!-- ${after}:end -->` : null;
  const c = afterEnd && a < 0 && b < 0 ? (text?.indexOf(afterEnd) ?? -1) : -1;
  if (text !== null && c >= 0) {
    const at = c + afterEnd.length;
    writeAtomic(readme, `${text.slice(0, at)}\n\n${START}\n${markdown}\n${END}${text.slice(at)}`);
    return `wrote the table into README.md (new markers ${START} and ${END} after ${afterEnd})`;
  }
  const out = join(BENCH, fallback);
  writeAtomic(out, `# ${title}\n\n${START}\n${markdown}\n${END}\n`);
  return `${text === null ? 'README.md does not exist' : `README.md has no ${START} ... ${END} markers`}; wrote the table to ${relative(ROOT, out)}`;
}
