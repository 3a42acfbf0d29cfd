/**
 * Hash routes (`#/convolution?input=7&kernel=3`): the part before `?` picks the
 * page, the query holds every control's value, so any state of a page is a
 * link. Pages write their controls back with `setParams` (history.replaceState:
 * no new history entry per keystroke, no re-mount); a changed hash from
 * outside (a pasted link, back/forward) mounts the page again from it.
 */

export interface PageContext {
  /** The query of the hash when the page was mounted. */
  params: URLSearchParams;
  /** Writes these values into the hash query (null or undefined removes a key). */
  setParams(values: Record<string, string | number | boolean | null | undefined>): void;
}

export interface PageDefinition {
  /** The route, e.g. 'convolution' for #/convolution. */
  path: string;
  /** The name in the navigation and the document title. */
  title: string;
  /** One line under the title. */
  blurb: string;
  /** Builds the page into `root`; returns what to run when the page is left. */
  mount(root: HTMLElement, ctx: PageContext): void | (() => void);
}

export function parseHash(hash: string): { path: string; params: URLSearchParams } {
  const body = hash.replace(/^#\/?/, '');
  const q = body.indexOf('?');
  const path = (q < 0 ? body : body.slice(0, q)).replace(/\/+$/, '');
  return { path, params: new URLSearchParams(q < 0 ? '' : body.slice(q + 1)) };
}

export function formatHash(path: string, params: URLSearchParams): string {
  const q = params.toString();
  return `#/${path}${q ? `?${q}` : ''}`;
}

/** Integer query value in [min, max], else the fallback. */
export function intParam(params: URLSearchParams, key: string, fallback: number, min: number, max: number): number {
  const raw = params.get(key);
  if (raw === null || raw.trim() === '') return fallback;
  const v = Number(raw);
  return Number.isInteger(v) && v >= min && v <= max ? v : fallback;
}

/** Number query value in [min, max], else the fallback. */
export function numberParam(params: URLSearchParams, key: string, fallback: number, min: number, max: number): number {
  const raw = params.get(key);
  if (raw === null || raw.trim() === '') return fallback;
  const v = Number(raw);
  return Number.isFinite(v) && v >= min && v <= max ? v : fallback;
}

/** One of `choices`, else the fallback. */
export function choiceParam<T extends string>(params: URLSearchParams, key: string, choices: readonly T[], fallback: T): T {
  const raw = params.get(key);
  return raw !== null && (choices as readonly string[]).includes(raw) ? (raw as T) : fallback;
}

/** Starts routing: mounts the page the hash names (the first page when it names none). */
export function startRouter(pages: readonly PageDefinition[], outlet: HTMLElement, onRoute: (page: PageDefinition) => void): void {
  let unmount: (() => void) | null = null;
  let current = '';
  const mount = () => {
    const { path, params } = parseHash(location.hash);
    const page = pages.find((p) => p.path === path);
    if (!page) {
      history.replaceState(null, '', formatHash(pages[0].path, new URLSearchParams()));
      return mount();
    }
    unmount?.();
    unmount = null;
    outlet.replaceChildren();
    // Each page's stylesheet is scoped under [data-page="<path>"].
    outlet.dataset.page = page.path;
    current = formatHash(page.path, params);
    const ctx: PageContext = {
      params,
      setParams(values) {
        const next = parseHash(location.hash);
        if (next.path !== page.path) return;
        for (const [k, v] of Object.entries(values)) {
          if (v === null || v === undefined) next.params.delete(k);
          else next.params.set(k, String(v));
        }
        current = formatHash(page.path, next.params);
        history.replaceState(null, '', current);
      },
    };
    document.title = `${page.title} · Stride`;
    onRoute(page);
    unmount = page.mount(outlet, ctx) ?? null;
  };
  window.addEventListener('hashchange', () => {
    if (location.hash !== current) mount();
  });
  mount();
}
