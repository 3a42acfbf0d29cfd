/**
 * The web app under test: built with Vite into a private folder (never
 * web/dist/, which the user's own `npm run build:web` owns), served by a
 * static server on 127.0.0.1 (cross-origin isolated or not), opened in
 * Debian's Chromium through playwright-core with every error the page or its
 * workers log collected.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ok } from './ok.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null. */
export async function browserSkipReason(): Promise<string | null> {
  if (!existsSync(CHROMIUM)) return `Chromium not found at ${CHROMIUM}; install it (Debian: apt-get install chromium) to test the web app`;
  try {
    await import('playwright-core');
  } catch {
    return 'playwright-core is not installed; it is a devDependency of the project: run npm ci';
  }
  return null;
}

/** Builds the web app with the project's Vite config into a fresh temporary folder; returns the folder. */
export async function buildWebApp(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'stride-web-'));
  const { build } = await import('vite');
  await build({ configFile: join(root, 'web', 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  ok(existsSync(join(outDir, 'index.html')), `vite build wrote no index.html into ${outDir}`);
  return outDir;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.png': 'image/png', '.jpg': 'image/jpeg', '.svg': 'image/svg+xml', '.wasm': 'application/wasm',
};

export interface StaticServer {
  origin: string;
  /** Every path requested, in order. */
  requested: string[];
  close(): Promise<void>;
}

/** Serves `dir` as any static host would (index.html for /), with the isolation headers when asked. */
export async function serveStatic(dir: string, isolated: boolean): Promise<StaticServer> {
  const requested: string[] = [];
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
  if (isolated) Object.assign(headers, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    requested.push(path);
    const file = normalize(join(dir, path === '/' ? 'index.html' : path));
    const info = file.startsWith(dir + sep) ? await stat(file).catch(() => null) : null;
    if (!info?.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain', ...headers });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', ...headers });
    res.end(await readFile(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  ok(address && typeof address === 'object', 'the server has a port');
  return { origin: `http://127.0.0.1:${address.port}`, requested, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true });
}

export interface AppPage {
  page: Page;
  context: BrowserContext;
  /** Errors logged by the page or any of its workers, and uncaught exceptions. */
  errors: string[];
  close(): Promise<void>;
}

/** A fresh context and page at `url`'s size, collecting every error it logs. */
export async function openApp(browser: Browser, url: string, viewport = { width: 1280, height: 800 }): Promise<AppPage> {
  const context = await browser.newContext({ viewport });
  const errors: string[] = [];
  context.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  context.on('weberror', (e) => errors.push(`uncaught: ${e.error().message}`));
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('crash', () => errors.push('the page crashed'));
  page.on('worker', (w) => w.on('console', (m) => {
    if (m.type() === 'error') errors.push(`worker console.error: ${m.text()}`);
  }));
  await page.goto(url);
  return { page, context, errors, close: () => context.close() };
}

/** Where the test run writes its screenshots of the app (kept after the run, for a person to look at). */
export const SCREENSHOT_DIR = join(root, 'web', 'screenshots');

/** What each page's checks (test/web/<page>.ts) get from the web app test. */
export interface WebTestContext {
  browser: Browser;
  /** The built site, served cross-origin isolated. */
  origin: string;
  /** Opens `#/<route>` (with its query) at 1280x800, or at `viewport`. */
  open(route: string, viewport?: { width: number; height: number }): Promise<AppPage>;
  /** Writes a full-page screenshot to SCREENSHOT_DIR/<name>.png; returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
}

/** Fails with the list when the page or its workers logged an error. */
export function assertNoErrors(app: AppPage, where: string): void {
  ok(app.errors.length === 0, `${where}: the browser logged errors:\n${app.errors.join('\n')}`);
}
