/**
 * The app's shell: navigation, the engine status line, and the page the hash
 * names. Stride itself runs in the compute worker (rpc.ts); this thread only
 * draws.
 */
import './style.css';
import { pages } from './pages/index.js';
import { startRouter } from './router.js';
import { call } from './rpc.js';
import { el } from './ui.js';

const nav = document.getElementById('nav')!;
const main = document.getElementById('main')!;
const engine = document.getElementById('engine')!;

document.getElementById('skip-link')!.addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

const links = new Map<string, HTMLAnchorElement>();
for (const p of pages) {
  const a = el('a', { href: `#/${p.path}` }, p.title);
  links.set(p.path, a);
  nav.append(el('li', {}, a));
}

startRouter(pages, main, (page) => {
  for (const [path, a] of links) {
    if (path === page.path) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
});

call('engine', undefined).then(
  (s) => {
    engine.textContent = s.backend === 'wasm'
      ? `wasm, ${s.threads} thread${s.threads === 1 ? '' : 's'}${s.crossOriginIsolated ? ' (cross-origin isolated)' : ' (this page is not cross-origin isolated, so one thread)'}, SIMD ${s.simd}`
      : `${s.backend} backend: ${s.detail}`;
    engine.title = s.detail;
  },
  (err: Error) => {
    engine.textContent = `the engine did not start: ${err.message}`;
    engine.classList.add('error');
  },
);
