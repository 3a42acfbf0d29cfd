/**
 * The browser benchmark's page (Vite, as the web app in web/ is built):
 * `node bench/browser/run.mjs` builds it into bench/.cache/browser-page/ and
 * serves it with Vite's preview server; `npx vite --config
 * bench/browser/vite.config.mjs` serves it for a person to open. Both send
 * the headers that make the page cross-origin isolated (SharedArrayBuffer,
 * so the wasm engines run threads). Stride is imported as `stride` (its
 * source, src/index.ts); the peers come from bench/node_modules
 * (bench/setup.sh), their .wasm files copied next to the page; the ONNX
 * files of the inference workloads (bench/.cache/, exported by
 * bench/peers/export_onnx.py) are served under models/. Nothing is fetched
 * from elsewhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { onnxModels } from '../peers/onnx-models.mjs';
import { BROWSER_WORKLOADS } from './lists.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const BENCH = join(here, '..');
const WORKLOADS = JSON.parse(readFileSync(join(BENCH, 'workloads.json'), 'utf8'));

/** Cross-origin isolation: what a page needs for SharedArrayBuffer and so wasm threads. */
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** The page's ONNX files: those of the workloads the page runs that have a model (the zoo's are not run in the page). */
const MODELS = onnxModels(WORKLOADS);
const MODEL_FILES = BROWSER_WORKLOADS.filter((w) => MODELS[w]).map((w) => MODELS[w].file);

function onnxFiles() {
  return {
    name: 'stride-bench-onnx-models',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = (req.url ?? '').split('?')[0].replace(/^\/models\//, '');
        const file = join(BENCH, '.cache', name);
        if (!req.url?.startsWith('/models/') || !MODEL_FILES.includes(name) || !existsSync(file)) return next();
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(readFileSync(file));
      });
    },
    generateBundle() {
      for (const name of MODEL_FILES) {
        const file = join(BENCH, '.cache', name);
        if (existsSync(file)) this.emitFile({ type: 'asset', fileName: `models/${name}`, source: readFileSync(file) });
      }
    },
  };
}

/** Each engine module of the page and the peers (bench/package.json) it imports. */
const ENGINE_MODULES = {
  stride: { file: 'engines/stride.mjs', peers: [] },
  tfjs: { file: 'engines/tfjs.mjs', peers: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'] },
  onnxruntime: { file: 'engines/onnxruntime.mjs', peers: ['onnxruntime-web'] },
};
const peerInstalled = (pkg) => existsSync(join(BENCH, 'node_modules', ...pkg.split('/'), 'package.json'));

/**
 * `virtual:bench-engines`: a loader per engine module. A module whose peers
 * are not installed is left out of the build (its imports would not resolve);
 * its loader rejects with the reason, and the page reports the engine as unavailable.
 */
function engineLoaders() {
  const ID = 'virtual:bench-engines';
  return {
    name: 'stride-bench-engines',
    resolveId: (id) => (id === ID ? `\0${ID}` : null),
    load(id) {
      if (id !== `\0${ID}`) return null;
      const entries = Object.entries(ENGINE_MODULES).map(([name, { file, peers }]) => {
        const missing = peers.filter((p) => !peerInstalled(p));
        const loader = missing.length === 0
          ? `() => import(${JSON.stringify(join(here, file))})`
          : `() => Promise.reject(new Error(${JSON.stringify(`${missing.join(' and ')} not installed in bench/node_modules (bench/setup.sh installs it)`)}))`;
        return `  ${JSON.stringify(name)}: ${loader},`;
      });
      return `export const loaders = {\n${entries.join('\n')}\n};\n`;
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  // Stride's source; its own imports (protobufjs, fast-png, ...) resolve from the project's node_modules.
  resolve: { alias: { stride: join(here, '..', '..', 'src', 'index.ts') } },
  plugins: [onnxFiles(), engineLoaders()],
  // Stride names layers by their class (its errors name them): keep the names.
  worker: { format: 'es', plugins: () => [engineLoaders()], rolldownOptions: { external: [/^node:/], output: { keepNames: true } } },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  logLevel: 'warn',
  // No SPA fallback: a missing file (an ONNX file not exported) is a 404, not index.html.
  appType: 'mpa',
  build: {
    outDir: join(BENCH, '.cache', 'browser-page'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 8192,
    // TF.js's threaded wasm build starts its threads from the text of one of its functions
    // (Function.prototype.toString): minified, that text names variables of the bundle's scope.
    minify: false,
    rolldownOptions: { output: { keepNames: true } },
  },
});
