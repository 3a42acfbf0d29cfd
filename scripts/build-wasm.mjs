#!/usr/bin/env node
/**
 * Compiles the AssemblyScript kernels (kernels/*.ts) into two WebAssembly
 * builds and writes them, base64-encoded, into
 * src/backends/wasm/generated/kernels.ts, so the isomorphic core can load them
 * without fs or fetch:
 *   - relaxed: f32x4.relaxed_madd (fused multiply-add where the CPU has it);
 *   - plain:   f32x4.mul + f32x4.add, for engines without relaxed SIMD.
 * Both import a shared memory (env.memory, --sharedMemory) that the host
 * creates; the host rewrites the import to non-shared when SharedArrayBuffer
 * is unavailable. Kernels never allocate (--runtime stub).
 *
 * It also writes src/backends/wasm/generated/geometry.ts: the field order of
 * the geometry blocks, read from the enums of kernels/geometry.ts, so the
 * host writes the blocks in the order the kernels read them.
 *
 * The output records a hash of the sources, the flags and the compiler
 * version; when nothing changed the build is skipped (so `pretest` is cheap).
 * Usage: node scripts/build-wasm.mjs [--force]
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kernelsDir = join(root, 'kernels');
const outDir = join(root, 'src', 'backends', 'wasm', 'generated');
const outFile = join(outDir, 'kernels.ts');
const geometryFile = join(outDir, 'geometry.ts');

/** Pages (64 KiB) of the memory both builds import: at least 2, at most 2 GiB. */
const MAX_PAGES = 32768;
const COMMON = [
  'index.ts', '--baseDir', kernelsDir, '--runtime', 'stub', '-O3', '--noAssert', '--enable', 'simd',
  '--importMemory', '--sharedMemory', '--initialMemory', '2', '--maximumMemory', String(MAX_PAGES),
  '--enable', 'threads', '--noExportMemory',
];
const FLAVOURS = {
  relaxed: [...COMMON, '--use', 'RELAXED=1', '--enable', 'relaxed-simd'],
  plain: [...COMMON, '--use', 'RELAXED=0'],
};

async function sourcesHash() {
  const h = createHash('sha256');
  const pkg = JSON.parse(await readFile(join(root, 'node_modules', 'assemblyscript', 'package.json'), 'utf8'));
  h.update(`asc ${pkg.version}\n${JSON.stringify(FLAVOURS)}\n`);
  h.update(await readFile(fileURLToPath(import.meta.url)));
  for (const f of (await readdir(kernelsDir)).filter((n) => n.endsWith('.ts')).sort()) {
    h.update(`${f}\n`);
    h.update(await readFile(join(kernelsDir, f)));
  }
  return h.digest('hex').slice(0, 16);
}

async function compile(name, args) {
  let binary = null;
  const stderr = [];
  const { error } = await asc.main([...args, '--outFile', `${name}.wasm`], {
    writeFile(file, contents) {
      if (file.endsWith('.wasm')) binary = contents;
    },
    stdout: { write() {} },
    stderr: { write: (s) => { stderr.push(String(s)); } },
  });
  if (error) throw new Error(`asc (${name}) failed: ${error.message}\n${stderr.join('')}`);
  if (!binary) throw new Error(`asc (${name}) produced no binary\n${stderr.join('')}`);
  check(name, binary);
  return binary;
}

/** Reads a LEB128 unsigned integer at p; returns [value, next position]. */
function leb(bytes, p) {
  let v = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[p++];
    v |= (b & 0x7f) << shift;
    if (!(b & 0x80)) return [v >>> 0, p];
    shift += 7;
  }
}

/** Static data (the f64 exp/log tables of AssemblyScript's Math) must end below this address. */
const STATIC_LIMIT = 65536;

/**
 * The host instantiates the module once per thread on one shared memory, so
 * every instantiation rewrites the module's data segments: they must hold
 * constants only (rewriting the same bytes is harmless) and lie in the first
 * 64 KiB, below the host's control block and arena. The module must import
 * nothing but env.memory.
 */
function checkData(name, bytes, p) {
  let count;
  [count, p] = leb(bytes, p);
  for (let i = 0; i < count; i++) {
    if (bytes[p] !== 0 || bytes[p + 1] !== 0x41) throw new Error(`asc (${name}): data segment ${i} is not an active segment at a constant address`);
    let offset = 0;
    let shift = 0;
    let q = p + 2;
    for (;;) {
      const b = bytes[q++];
      offset |= (b & 0x7f) << shift;
      shift += 7;
      if (!(b & 0x80)) break;
    }
    if (bytes[q++] !== 0x0b) throw new Error(`asc (${name}): unexpected data segment offset expression`);
    let size;
    [size, q] = leb(bytes, q);
    if (offset + size > STATIC_LIMIT) {
      throw new Error(`asc (${name}): static data ends at ${offset + size}, past ${STATIC_LIMIT}; the kernels must keep static data small`);
    }
    p = q + size;
  }
}

function check(name, bytes) {
  let p = 8;
  while (p < bytes.length) {
    const id = bytes[p];
    const [size, start] = leb(bytes, p + 1);
    if (id === 11) checkData(name, bytes, start);
    if (id === 2) {
      let q = start;
      const [count, q1] = leb(bytes, q);
      q = q1;
      for (let i = 0; i < count; i++) {
        const [ml, a] = leb(bytes, q);
        const mod = new TextDecoder().decode(bytes.subarray(a, a + ml));
        const [fl, b] = leb(bytes, a + ml);
        const field = new TextDecoder().decode(bytes.subarray(b, b + fl));
        const kind = bytes[b + fl];
        if (kind !== 2 || mod !== 'env' || field !== 'memory') {
          throw new Error(`asc (${name}): unexpected import ${mod}.${field}; the kernels may import only env.memory`);
        }
        q = b + fl + 1;
        const flags = bytes[q];
        q += 1;
        [, q] = leb(bytes, q);
        if (flags & 1) [, q] = leb(bytes, q);
      }
    }
    p = start + size;
  }
}

/**
 * The host's side of kernels/geometry.ts: each `export const enum Name { a, b, ... }` becomes
 * `export const NAME_FIELDS = ['a', 'b', ...] as const;` (Conv2dGeometry -> CONV2D_GEOMETRY_FIELDS).
 */
async function geometrySource(hash) {
  const source = await readFile(join(kernelsDir, 'geometry.ts'), 'utf8');
  const lists = [];
  for (const [, name, body] of source.matchAll(/export const enum (\w+) \{([^}]*)\}/g)) {
    const fields = body.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '').split(',').map((f) => f.trim()).filter((f) => f !== '');
    for (const f of fields) {
      if (!/^[A-Za-z_]\w*$/.test(f)) throw new Error(`kernels/geometry.ts: field '${f}' of ${name} must be a bare name (a field takes its position in the enum)`);
    }
    const constant = `${name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}_FIELDS`;
    lists.push(`/** The fields of ${name}'s geometry block, in the order the kernels read them. */
export const ${constant} = [${fields.map((f) => `'${f}'`).join(', ')}] as const;
`);
  }
  if (lists.length === 0) throw new Error('kernels/geometry.ts: no `export const enum` found');
  return `// Generated by scripts/build-wasm.mjs from kernels/geometry.ts; do not edit (npm run build:wasm).
/** Hash of the kernel sources, flags and compiler version this file was built from. */
export const KERNELS_HASH = '${hash}';
${lists.join('')}`;
}

function base64(bytes) {
  return Buffer.from(bytes).toString('base64');
}

async function main() {
  const force = process.argv.includes('--force');
  const hash = await sourcesHash();
  const geometry = await geometrySource(hash);
  await mkdir(outDir, { recursive: true });
  if (await readFile(geometryFile, 'utf8').catch(() => null) !== geometry) await writeFile(geometryFile, geometry);
  if (!force) {
    try {
      const prev = await readFile(outFile, 'utf8');
      if (prev.includes(`export const KERNELS_HASH = '${hash}';`)) {
        console.log(`build:wasm: kernels up to date (${hash})`);
        return;
      }
    } catch {
      // no previous build
    }
  }
  const t0 = performance.now();
  // the two builds compile in parallel, the plain one in a worker thread
  const [relaxed, plain] = await Promise.all([compile('relaxed', FLAVOURS.relaxed), compileInWorker('plain')]);
  const text = `// Generated by scripts/build-wasm.mjs from kernels/*.ts; do not edit (npm run build:wasm).
/** Hash of the kernel sources, flags and compiler version this file was built from. */
export const KERNELS_HASH = '${hash}';
/** Pages of the shared memory the builds import at most. */
export const MAX_PAGES = ${MAX_PAGES};
/** The relaxed-SIMD build (f32x4.relaxed_madd), base64. */
export const RELAXED_WASM = '${base64(relaxed)}';
/** The plain-SIMD build (f32x4.mul + f32x4.add), base64. */
export const PLAIN_WASM = '${base64(plain)}';
`;
  await writeFile(outFile, text);
  console.log(`build:wasm: relaxed ${relaxed.length} B, plain ${plain.length} B in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${outFile.slice(root.length + 1)}`);
}

/** Compiles one flavour in a worker thread (this script, with workerData = the flavour). */
function compileInWorker(name) {
  return new Promise((resolve, reject) => {
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: { flavour: name } });
    w.once('message', (m) => (m.error ? reject(new Error(m.error)) : resolve(m.binary)));
    w.once('error', reject);
  });
}

if (isMainThread) {
  main().catch((err) => {
    console.error(err.message ?? err);
    process.exit(1);
  });
} else {
  const { flavour } = workerData;
  compile(flavour, FLAVOURS[flavour]).then(
    (binary) => parentPort.postMessage({ binary }),
    (err) => parentPort.postMessage({ error: err.message ?? String(err) }),
  );
}
