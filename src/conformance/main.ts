/**
 * `npm run conformance -- DIR [--backend NAME] [--filter SUBSTRING] [--json]`
 *
 * Runs every case of every conformance-v1 manifest in DIR on Stride and prints
 * the counts per family, each failure (case id, tensor, largest error and
 * where), the ops skipped because Stride lacks them, and last
 * `N passed, N failed, N skipped`.
 * Exit status: 0 when nothing failed (skips alone are fine), 1 when a case
 * failed, 2 for a usage error or an unreadable folder / manifest / data file.
 */
import { parseArgs } from 'node:util';
// The Node entry: the wasm backend's Node platform, op outputs from uninitialized memory (the
// cases then check that kernels write all of them), and `native` registered when OpenBLAS is
// found and made the default, as for the `stride` command.
import '../node.js';
import { StrideError, getBackend } from '../index.js';
import { detailLines, familyLine, finalLine, jsonSummary } from './report.js';
import { runConformance } from './runner.js';

const USAGE = `usage: npm run conformance -- DIR [--backend NAME] [--filter SUBSTRING] [--json]

  DIR                 folder with <family>.json manifests (format conformance-v1) and their .bin data
  --backend NAME      run on this backend (setBackend), e.g. ref
  --filter SUBSTRING  only the cases whose id contains SUBSTRING (e.g. conv2d/01, dense/)
  --json              also print a one-line JSON summary before the final line`;

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        backend: { type: 'string' },
        filter: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    console.error(`conformance: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = args;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`conformance: ${positionals.length === 0 ? 'give the folder of conformance cases' : `give one folder, got ${positionals.length}: ${positionals.join(' ')}`}\n\n${USAGE}`);
    return 2;
  }
  const dir = positionals[0];
  let summary;
  try {
    let header = false;
    summary = await runConformance(dir, {
      backend: values.backend,
      filter: values.filter,
      onFamily: (f) => {
        if (!header) {
          console.log(`Conformance of ${dir}${values.filter !== undefined ? ` (cases matching '${values.filter}')` : ''}, backend ${values.backend ?? getBackend().name}:`);
          header = true;
        }
        console.log(familyLine(f));
      },
    });
  } catch (err) {
    if (err instanceof StrideError) {
      console.error(`conformance: ${err.message}`);
      return 2;
    }
    console.error('conformance: unexpected error');
    console.error(err);
    return 2;
  }
  for (const line of detailLines(summary)) console.log(line);
  console.log('');
  if (values.json) console.log(jsonSummary(summary));
  console.log(finalLine(summary));
  return summary.failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
