/**
 * #/kernels: classic image kernels (and any 3x3 or 5x5 kernel the reader
 * types) applied to a photo, a test pattern or the reader's own image, by
 * Stride's conv2d in the compute worker, with every padding mode conv2d has.
 * The output is shown with its sign (a diverging map centred on zero) rather
 * than clamped to 0..255, with a colour bar; pointing at any pixel of either
 * image writes out the sum that produced it. Magnified views around that
 * pixel (a tap on a cell picks it) and a move pad make one exact pixel easy
 * to reach on a phone, where the images are stacked at the full width.
 *
 * The URL query holds the state: kernel (a preset id, or 'custom' with
 * k=<weights, row by row>, div=<divisor>, mag=1 for the gradient magnitude),
 * border, img, color=1, view, sat=0 (colour scale to the extremes rather
 * than the 1st/99th percentiles) and at=<row>,<col> (the pinned pixel).
 *
 * Test hook: window.strideKernels.last() returns the last computation
 * ({ input, height, width, kernel, kernelSize, paddingMode, output, outHeight,
 * outWidth, channels, magnitude }); in grey mode input is the H*W luminance
 * (0..255) and output outHeight*outWidth; in colour mode both hold three
 * planes one after another.
 */
import './kernels.css';
import type { BorderMode, KernelPreset, KernelsApplyResult } from '../compute/kernels.js';
import { choiceParam, type PageContext, type PageDefinition } from '../router.js';
import { call } from '../rpc.js';
import { button, checkbox, el, errorBox, panel, selectField, textField } from '../ui.js';
import { kernelGrid, formatWeight, parseWeight } from '../kernels/grid.js';
import { loadFile, loadSample, testPattern, MAX_SIDE, type Picture } from '../kernels/image.js';
import { inspectPixel, num } from '../kernels/inspect.js';
import { drawInput, drawLegendBar, drawOutput, VIEWS, type Legend, type View } from '../kernels/render.js';
import { placeLabels, type BarLabel } from '../kernels/labels.js';
import { drawLoupe, loupeOffset, LOUPE_PIXELS } from '../kernels/loupe.js';
import { outputPixelOf } from '../kernels/window.js';

const BORDERS: readonly { value: BorderMode; label: string; about: string }[] = [
  { value: 'zeros', label: 'Zeros (zero padding)', about: 'Outside the image every value is 0, i.e. black. A blur darkens the frame, and an edge detector finds a false edge all around the picture, where the image meets the black.' },
  { value: 'reflect', label: 'Reflect (mirror)', about: 'The image is mirrored at its edge without repeating the edge pixel (… c b | a b c …). No false edges: the usual choice for filtering photos.' },
  { value: 'replicate', label: 'Replicate (repeat the edge)', about: 'The edge pixel is repeated outwards (… a a | a b c …). No false edges either; a blur keeps the border\'s brightness.' },
  { value: 'circular', label: 'Circular (wrap around)', about: 'The image wraps around as if tiled: left of the first column is the last column. Edges appear wherever the opposite sides differ.' },
  { value: 'partial', label: 'Partial convolution', about: 'Zeros outside, then each output pixel is scaled by (cells of the kernel) / (cells that fall inside the image), as in NVIDIA\'s partial convolutions: a blur keeps its brightness up to the border.' },
  { value: 'valid', label: 'Valid (no padding)', about: 'No padding at all: only positions where the whole kernel fits inside the image are computed, so the output loses k − 1 rows and columns (2 for a 3×3 kernel, 4 for 5×5).' },
];

type ImageSource = 'sample' | 'pattern' | 'file';
const IMAGE_SOURCES: readonly ImageSource[] = ['sample', 'pattern', 'file'];
const DEFAULT_PRESET = 'edge-8';
/** Names the URL also accepts for a preset ('outline' is what links called the Sobel gradient magnitude before it was named after what it computes). */
const ALIASES: Record<string, string> = { laplacian: 'edge-4', 'box-blur': 'box-blur-3', 'gaussian-blur': 'gaussian-3', blur: 'gaussian-3', outline: 'sobel-magnitude' };

interface KernelState {
  /** A preset id, or 'custom'. */
  preset: string;
  size: number;
  /** The cells' texts, row-major. */
  texts: string[];
  divisor: string;
  magnitude: boolean;
}

/** The last computation, as the test hook returns it. */
export interface KernelsRecord {
  input: Float32Array;
  height: number;
  width: number;
  kernel: number[];
  kernelSize: number;
  paddingMode: BorderMode;
  output: Float32Array;
  outHeight: number;
  outWidth: number;
  channels: number;
  magnitude: boolean;
}

declare global {
  interface Window {
    strideKernels?: { last(): KernelsRecord | null; busy(): boolean };
  }
}

/** Texts of a preset's cells. */
const presetTexts = (p: KernelPreset) => p.entries.map(formatWeight);

/** The kernel state a URL describes, and a note when it held something unusable. */
function kernelFromParams(params: URLSearchParams, presets: readonly KernelPreset[]): { state: KernelState; note: string | null } {
  const byId = (id: string) => presets.find((p) => p.id === (ALIASES[id] ?? id));
  const fallback = byId(DEFAULT_PRESET) ?? presets[0];
  const fromPreset = (p: KernelPreset): KernelState => ({ preset: p.id, size: p.size, texts: presetTexts(p), divisor: String(p.divisor), magnitude: p.magnitude });
  const k = params.get('k');
  if (k !== null) {
    const texts = k.split(',').map((s) => s.trim());
    const ok = (texts.length === 9 || texts.length === 25) && texts.every((t) => parseWeight(t) !== null);
    const div = params.get('div') ?? '1';
    const divOk = parseWeight(div) !== null && parseWeight(div) !== 0;
    if (ok && divOk) return { state: { preset: 'custom', size: texts.length === 9 ? 3 : 5, texts, divisor: div, magnitude: params.get('mag') === '1' }, note: null };
    return {
      state: fromPreset(fallback),
      note: `The link's kernel (k=${k}${divOk ? '' : `, div=${div}`}) is not 9 or 25 numbers with a non-zero divisor, so the ${fallback.label} kernel is shown instead.`,
    };
  }
  const id = params.get('kernel');
  if (id === null || id === 'custom') return { state: fromPreset(fallback), note: null };
  const p = byId(id);
  if (p) return { state: fromPreset(p), note: null };
  return { state: fromPreset(fallback), note: `There is no kernel preset called “${id}”, so the ${fallback.label} kernel is shown instead.` };
}

/** Pixel (row, col) under a pointer event on a canvas showing `height` x `width` pixels. */
function pixelAt(e: PointerEvent | MouseEvent, canvas: HTMLCanvasElement): [number, number] | null {
  const r = canvas.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return null;
  const col = Math.floor(((e.clientX - r.left) / r.width) * canvas.width);
  const row = Math.floor(((e.clientY - r.top) / r.height) * canvas.height);
  if (row < 0 || col < 0 || row >= canvas.height || col >= canvas.width) return null;
  return [row, col];
}

function mountKernels(root: HTMLElement, ctx: PageContext): () => void {
  let alive = true;
  let dispose: (() => void) | null = null;
  const loading = el('p', { class: 'muted', role: 'status' }, 'Starting the engine and loading the sample photo…');
  root.append(
    el('h1', {}, 'Image kernels'),
    el('p', { class: 'lead' },
      'A kernel is a small grid of weights. Slide it over the picture: each output pixel is the sum of the pixels under the grid, ' +
      'each multiplied by its weight. That is exactly what a convolutional layer does (F.conv2d, a cross-correlation: the kernel is not flipped). ' +
      'Choose a classic kernel or type your own, pick what happens at the border, and point at any pixel to see its sum written out.'),
    loading,
  );

  Promise.all([call('kernelPresets', undefined), loadSample().catch((err: Error) => err)]).then(
    ([presets, sample]) => {
      if (!alive) return;
      loading.remove();
      dispose = build(root, ctx, presets, sample, () => alive);
    },
    (err: Error) => {
      if (!alive) return;
      loading.replaceWith(errorBox(`The page could not start: ${err.message}. Reload the page to try again.`));
    },
  );
  return () => {
    alive = false;
    dispose?.();
    delete window.strideKernels;
  };
}

/** Builds the page once the presets (and the sample photo) are there; returns what to undo when the page is left. */
function build(root: HTMLElement, ctx: PageContext, presets: readonly KernelPreset[], sampleOrError: Picture | Error, isAlive: () => boolean): () => void {
  const params = ctx.params;
  const restored = kernelFromParams(params, presets);
  let kstate = restored.state;
  let border = choiceParam(params, 'border', BORDERS.map((b) => b.value), 'zeros');
  let view = choiceParam<View>(params, 'view', VIEWS.map((v) => v.value), 'signed');
  let colour = params.get('color') === '1';
  let saturate = params.get('sat') !== '0';
  let source = choiceParam(params, 'img', IMAGE_SOURCES, 'sample');
  const notes: string[] = [];
  if (restored.note) notes.push(restored.note);
  if (source === 'file') {
    notes.push('An image you opened is not part of a link (it never leaves your browser), so the sample photo is shown: open the image again to filter it.');
    source = 'sample';
  }
  const sample = sampleOrError instanceof Error ? null : sampleOrError;
  if (!sample) {
    notes.push(`${sampleOrError instanceof Error ? sampleOrError.message : ''} The test pattern is shown instead.`);
    if (source === 'sample') source = 'pattern';
  }
  let pattern: Picture | null = null;
  let opened: Picture | null = null;
  const pictureOf = (s: ImageSource): Picture => {
    if (s === 'file' && opened) return opened;
    if (s === 'sample' && sample) return sample;
    return (pattern ??= testPattern());
  };
  let picture = pictureOf(source);

  /** The pinned output pixel (from the URL, a click or the arrow keys); hovering shows another one for a while. */
  let pinned: [number, number] | null = null;
  const at = /^(\d+),(\d+)$/.exec(params.get('at') ?? '');
  if (at) pinned = [Number(at[1]), Number(at[2])];
  let hover: [number, number] | null = null;

  // ---- the kernel panel ----------------------------------------------------
  const presetById = (id: string) => presets.find((p) => p.id === id) ?? null;
  const presetSelect = selectField({
    label: 'Kernel',
    value: kstate.preset,
    options: [...presets.map((p) => ({ value: p.id, label: p.label })), { value: 'custom', label: 'Custom (your own numbers)' }],
    testid: 'kernel-preset',
    onChange(id) {
      const p = presetById(id);
      if (p) {
        kstate = { preset: p.id, size: p.size, texts: presetTexts(p), divisor: String(p.divisor), magnitude: p.magnitude };
        syncKernelControls();
      } else {
        kstate = { ...kstate, preset: 'custom' };
      }
      kernelChanged();
    },
  });
  const about = el('p', { class: 'about', 'aria-live': 'polite' });
  const sizeSelect = selectField({
    label: 'Size',
    value: String(kstate.size) as '3' | '5',
    options: [{ value: '3', label: '3×3' }, { value: '5', label: '5×5' }],
    onChange(v) {
      const n = Number(v);
      if (n === kstate.size) return;
      kstate = { ...kstate, preset: 'custom', size: n, texts: resize(kstate.texts, kstate.size, n) };
      syncKernelControls();
      kernelChanged();
    },
  });
  const grid = kernelGrid({
    size: kstate.size,
    texts: kstate.texts,
    testid: 'kernel-grid',
    onEdit(texts) {
      kstate = { ...kstate, preset: 'custom', texts };
      presetSelect.set('custom');
      kernelChanged();
    },
  });
  const divisorField = textField({
    label: 'Divide every weight by',
    value: kstate.divisor,
    onChange(v) {
      kstate = { ...kstate, preset: 'custom', divisor: v };
      presetSelect.set('custom');
      kernelChanged();
    },
  });
  const sumLine = el('p', { class: 'sum-line', 'aria-live': 'polite' });
  const kernelError = el('div', { 'aria-live': 'assertive' });
  const normaliseButton = button('Normalise (sum 1)', () => {
    const k = parsedKernel();
    if (!k) return;
    const total = k.entries.reduce((a, b) => a + b, 0);
    if (total === 0) return;
    kstate = { ...kstate, preset: 'custom', divisor: formatWeight(total) };
    syncKernelControls();
    kernelChanged();
  }, { title: 'Set the divisor to the sum of the weights, so that flat areas keep their brightness' });
  const transposeButton = button('Transpose', () => {
    const n = kstate.size;
    const t = kstate.texts.slice();
    for (let u = 0; u < n; u++) for (let v = 0; v < n; v++) t[v * n + u] = kstate.texts[u * n + v];
    kstate = { ...kstate, preset: 'custom', texts: t };
    syncKernelControls();
    kernelChanged();
  }, { title: 'Swap rows and columns: Sobel x becomes Sobel y' });
  const magnitudeBox = checkbox({
    label: 'Gradient magnitude: also filter with the transposed kernel and show √(a² + b²)',
    checked: kstate.magnitude,
    onChange(v) {
      kstate = { ...kstate, preset: 'custom', magnitude: v };
      presetSelect.set('custom');
      kernelChanged();
    },
  });

  /** Puts kstate into the controls (after a preset, a resize, a transpose). */
  function syncKernelControls(): void {
    presetSelect.set(kstate.preset);
    sizeSelect.set(String(kstate.size) as '3' | '5');
    grid.set(kstate.size, kstate.texts);
    divisorField.input.value = kstate.divisor;
    divisorField.input.setAttribute('aria-invalid', 'false');
    magnitudeBox.input.checked = kstate.magnitude;
  }

  /** Cells of an n x n kernel resized to m x m: centred, zero-filled or cropped. */
  function resize(texts: readonly string[], n: number, m: number): string[] {
    const out = new Array<string>(m * m).fill('0');
    const d = (m - n) / 2;
    for (let u = 0; u < m; u++) {
      for (let v = 0; v < m; v++) {
        const su = u - d;
        const sv = v - d;
        if (su >= 0 && su < n && sv >= 0 && sv < n) out[u * m + v] = texts[su * n + sv];
      }
    }
    return out;
  }

  /** The typed kernel as numbers, or null (and the cells marked, the problem said) when something does not parse. */
  function parsedKernel(): { entries: number[]; divisor: number } | null {
    const values = kstate.texts.map(parseWeight);
    grid.markInvalid(values.map((v) => v === null));
    const divisor = parseWeight(kstate.divisor);
    divisorField.input.setAttribute('aria-invalid', divisor === null || divisor === 0 ? 'true' : 'false');
    const bad = values.findIndex((v) => v === null);
    kernelError.replaceChildren();
    if (bad >= 0) {
      const text = kstate.texts[bad].trim();
      kernelError.append(errorBox(`Row ${Math.floor(bad / kstate.size) + 1}, column ${(bad % kstate.size) + 1}: ${text === '' ? 'the cell is empty' : `“${text}” is not a number`}. Type a number such as -1, 0.5 or 1/16.`));
      return null;
    }
    if (divisor === null || divisor === 0) {
      kernelError.append(errorBox(`Divide by: ${divisor === 0 ? '0 is not allowed' : `“${kstate.divisor.trim()}” is not a number`}. Type a non-zero number such as 1, 9 or 16.`));
      return null;
    }
    return { entries: values as number[], divisor };
  }

  // ---- the image panel -----------------------------------------------------
  const imageSelect = selectField<ImageSource>({
    label: 'Image',
    value: source,
    options: [
      { value: 'sample', label: 'Sample photo (astronaut, NASA)' },
      { value: 'pattern', label: 'Test pattern (edges, ramp, stripes)' },
      { value: 'file', label: 'Your image (open one below)' },
    ],
    onChange(v) {
      if (v === 'file' && !opened) {
        imageSelect.set(source);
        fileInput.focus();
        fileNote.textContent = 'Open an image file first with the button below.';
        return;
      }
      source = v;
      picture = pictureOf(source);
      imageChanged();
    },
  });
  const fileOption = imageSelect.select.querySelector<HTMLOptionElement>('option[value="file"]');
  if (fileOption) fileOption.disabled = true;
  if (!sample) imageSelect.select.querySelector<HTMLOptionElement>('option[value="sample"]')?.setAttribute('disabled', '');
  const fileId = 'kernels-file';
  const fileInput = el('input', { id: fileId, type: 'file', accept: 'image/*' });
  const fileNote = el('p', { class: 'muted small', 'aria-live': 'polite' }, `Large images are scaled down to ${MAX_SIDE} pixels on the long side; the image stays in your browser.`);
  const fileError = el('div', { 'aria-live': 'assertive' });
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    if (!file) return;
    fileError.replaceChildren();
    fileNote.textContent = `Reading ${file.name}…`;
    loadFile(file).then(
      (p) => {
        if (!isAlive()) return;
        opened = p;
        if (fileOption) fileOption.disabled = false;
        source = 'file';
        imageSelect.set('file');
        picture = p;
        fileNote.textContent = `${file.name}: ${p.width}×${p.height} pixels as filtered.`;
        imageChanged();
      },
      (err: Error) => {
        fileNote.textContent = '';
        fileError.append(errorBox(err.message));
      },
    );
  });
  const colourBox = checkbox({
    label: 'Colour: filter red, green and blue each on its own (groups = 3)',
    checked: colour,
    onChange(v) {
      colour = v;
      imageChanged();
    },
  });

  // ---- border and display --------------------------------------------------
  const borderAbout = el('p', { class: 'about' });
  const borderSelect = selectField<BorderMode>({
    label: 'Border (padding mode)',
    value: border,
    options: BORDERS,
    testid: 'border-mode',
    onChange(v) {
      border = v;
      ctx.setParams({ border: v === 'zeros' ? null : v });
      showBorderAbout();
      compute();
    },
  });
  const showBorderAbout = () => {
    borderAbout.textContent = BORDERS.find((b) => b.value === border)?.about ?? '';
  };
  const viewAbout = el('p', { class: 'about' });
  const viewSelect = selectField<View>({
    label: 'Show the output as',
    value: view,
    options: VIEWS,
    testid: 'output-view',
    onChange(v) {
      view = v;
      ctx.setParams({ view: v === 'signed' ? null : v });
      showViewAbout();
      describeKernel();
      redraw();
    },
  });
  const saturateBox = checkbox({
    label: 'Saturate the outer 1%: the colour scale ends at the 1st and 99th percentiles, so a few extreme values do not wash out the rest',
    checked: saturate,
    onChange(v) {
      saturate = v;
      ctx.setParams({ sat: v ? null : 0 });
      redraw();
    },
  });
  const showViewAbout = () => {
    viewAbout.textContent = VIEWS.find((v) => v.value === view)?.about ?? '';
  };

  // ---- the images ----------------------------------------------------------
  const inputCanvas = el('canvas', { class: 'map', tabindex: 0, 'aria-label': 'Input image. Point at a pixel, or use the arrow keys, to see the sum that computes it.', 'data-testid': 'kernel-input' });
  const outputCanvas = el('canvas', { class: 'map', tabindex: 0, 'aria-label': 'Output image. Point at a pixel, or use the arrow keys, to see the sum that computes it.', 'data-testid': 'kernel-output' });
  const inputBox = el('div', { class: 'kwin', 'aria-hidden': 'true' });
  const outputBox = el('div', { class: 'kwin one', 'aria-hidden': 'true' });
  const inputFrame = el('div', { class: 'frame' }, inputCanvas, inputBox);
  const outputFrame = el('div', { class: 'frame out' }, outputCanvas, outputBox);
  const inputCaption = el('figcaption', {});
  const outputCaption = el('figcaption', {});
  const legendBar = el('canvas', { class: 'legend-bar', 'aria-hidden': 'true' });
  const legendTicks = el('div', { class: 'legend-ticks' });
  const legendMarks = el('div', { class: 'legend-marks' });
  const legendNote = el('p', { class: 'muted small legend-note' });
  const legend = el('div', { class: 'legend', role: 'group', 'aria-label': 'Colour bar of the output' }, legendTicks, legendBar, legendMarks, legendNote);
  const statsLine = el('p', { class: 'stats', 'aria-live': 'polite' });
  const callLine = el('pre', { class: 'call' });
  const resultError = el('div', { 'aria-live': 'assertive' });
  const inspector = el('div', { class: 'inspector', 'aria-live': 'off' });
  // A visible pad that moves the pinned pixel by one: on a phone a finger covers a dozen pixels of the image.
  const moveUp = button('↑', () => movePixel(-1, 0), { 'aria-label': 'Move the pixel up one row', 'data-testid': 'pixel-up', class: 'up' });
  const moveLeft = button('←', () => movePixel(0, -1), { 'aria-label': 'Move the pixel left one column', 'data-testid': 'pixel-left', class: 'left' });
  const moveRight = button('→', () => movePixel(0, 1), { 'aria-label': 'Move the pixel right one column', 'data-testid': 'pixel-right', class: 'right' });
  const moveDown = button('↓', () => movePixel(1, 0), { 'aria-label': 'Move the pixel down one row', 'data-testid': 'pixel-down', class: 'down' });
  const movePad = el('div', { class: 'move-pad', role: 'group', 'aria-label': 'Move the pinned pixel' }, moveUp, moveLeft, moveRight, moveDown);
  // Both images magnified around the pixel: every pixel a cell to see and to tap.
  const loupeIn = el('canvas', { class: 'loupe', 'data-testid': 'loupe-input', role: 'img', 'aria-label': `The input, ${LOUPE_PIXELS}×${LOUPE_PIXELS} pixels around the kernel's window, magnified` });
  const loupeOut = el('canvas', { class: 'loupe', 'data-testid': 'loupe-output', role: 'img', 'aria-label': `The output, ${LOUPE_PIXELS}×${LOUPE_PIXELS} pixels around the pixel, magnified` });
  const loupes = el('div', { class: 'loupes' },
    el('figure', {}, loupeIn, el('figcaption', {}, 'Input, magnified')),
    el('figure', {}, loupeOut, el('figcaption', {}, 'Output, magnified')),
    movePad);

  const notesBox = el('div', {}, ...notes.map((n) => el('p', { class: 'note' }, n)));
  // Wide screens: the three control panels on the left, the results beside them. Narrow
  // screens: the kernel, then the results, then the image and border controls (kernels.css).
  const kernelPanel = panel('Kernel', presetSelect.root, about,
    el('div', { class: 'row size-row' }, sizeSelect.root, divisorField.root),
    grid.root, kernelError, sumLine,
    el('div', { class: 'row' }, normaliseButton, transposeButton),
    magnitudeBox.root);
  const imagePanel = panel('Image', imageSelect.root,
    el('div', { class: 'field' }, el('label', { for: fileId }, 'Open an image'), fileInput),
    fileNote, fileError, colourBox.root);
  const borderPanel = panel('Border and display', borderSelect.root, borderAbout, viewSelect.root, viewAbout, saturateBox.root);
  kernelPanel.classList.add('k-kernel');
  imagePanel.classList.add('k-image');
  borderPanel.classList.add('k-border');
  root.append(notesBox, el('div', { class: 'kernels-layout' },
    kernelPanel, imagePanel, borderPanel,
    el('div', { class: 'stack k-results' },
      el('section', { class: 'panel' },
        el('h2', {}, 'Input and output'),
        resultError,
        el('div', { class: 'figures' },
          el('figure', {}, inputFrame, inputCaption),
          el('figure', {}, outputFrame, outputCaption),
          legend),
        statsLine,
        callLine),
      panel('One pixel, worked out',
        el('div', { class: 'pick' },
          el('p', { class: 'muted small' }, 'Point at either image (or focus one and use the arrow keys; click, tap or press Enter to pin a pixel). ' +
            'To land on one exact pixel, tap a cell of the magnified views or step with the pad.'),
          loupes),
        inspector),
    ),
  ));

  // ---- computing and drawing -----------------------------------------------
  let seq = 0;
  let pending = 0;
  let last: KernelsRecord | null = null;
  /** What is on screen: the computation and the picture it came from. */
  let shown: { record: KernelsRecord; result: KernelsApplyResult; entries: number[]; divisor: number; picture: Picture } | null = null;
  window.strideKernels = { last: () => last, busy: () => pending > 0 };

  function kernelChanged(): void {
    writeKernelParams();
    compute();
  }

  function writeKernelParams(): void {
    if (kstate.preset !== 'custom') {
      ctx.setParams({ kernel: kstate.preset === DEFAULT_PRESET ? null : kstate.preset, k: null, div: null, mag: null });
      return;
    }
    const valid = kstate.texts.every((t) => parseWeight(t) !== null) && parseWeight(kstate.divisor) !== null && parseWeight(kstate.divisor) !== 0;
    if (!valid) return;
    ctx.setParams({
      kernel: 'custom',
      k: kstate.texts.map((t) => t.trim()).join(','),
      div: kstate.divisor.trim() === '1' ? null : kstate.divisor.trim(),
      mag: kstate.magnitude ? 1 : null,
    });
  }

  function imageChanged(): void {
    ctx.setParams({ img: source === 'sample' ? null : source, color: colour ? 1 : null });
    pinned = null;
    ctx.setParams({ at: null });
    drawInput(inputCanvas, colour ? picture.rgb : picture.grey, colour ? 3 : 1, picture.height, picture.width);
    compute();
  }

  function describeKernel(): void {
    const p = presetById(kstate.preset);
    const text = p
      ? p.about
      : 'Your own kernel: each output pixel is the sum of the weights times the pixels under them. Try making the weights add up to 1 (brightness kept) or to 0 (flat areas vanish).';
    // A kernel with negative weights gives negative outputs: say how this view draws the signs.
    const signs = !kstate.magnitude && kstate.texts.some((t) => (parseWeight(t) ?? 0) < 0);
    const source = p?.source === 'stride' ? ' (Weights from Stride\'s nn.imageKernels.)' : '';
    about.textContent = `${text}${signs ? ` ${signsInView()}` : ''}${source}`;
  }

  /** How the chosen view shows positive and negative outputs (the explanations speak of signs, this says which colours). */
  function signsInView(): string {
    switch (view) {
      case 'signed':
        return colour
          ? 'In this view each channel sits around mid-grey: lighter is positive, darker negative.'
          : 'In this view positive values are red, negative ones blue and 0 white.';
      case 'stretch':
        return 'In this view lighter means larger; 0 is the grey level marked 0 on the colour bar.';
      case 'abs':
        return 'This view shows |value|, so positive and negative look alike: choose signed colours to tell them apart.';
      case 'clamp':
        return 'This view clamps to 0..255, so every negative value is black, like 0: choose signed colours to see them.';
    }
  }

  function describeSum(k: { entries: number[]; divisor: number }): void {
    const s = k.entries.reduce((a, b) => a + b, 0) / k.divisor;
    // Rounding errors grow with the weights (9 × 12345678.9 does not cancel exactly): judge them relative to their size.
    const scale = Math.max(1, k.entries.reduce((a, b) => a + Math.abs(b), 0) / Math.abs(k.divisor));
    const rounded = Math.abs(s - Math.round(s)) < 1e-9 * scale ? Math.round(s) : s;
    let what: string;
    if (kstate.magnitude) what = 'the magnitude is never negative; flat areas give 0 when the sum is 0';
    else if (rounded === 0) what = 'flat areas become 0; only changes survive';
    else if (rounded === 1) what = 'flat areas keep their brightness';
    else what = `flat areas are multiplied by ${num(rounded)}`;
    sumLine.textContent = `Sum of the weights: ${num(rounded)}; ${what}.`;
    normaliseButton.disabled = rounded === 0 || rounded === 1;
  }

  function compute(): void {
    describeKernel();
    const k = parsedKernel();
    // Until the kernel parses again, the output on screen is that of the last valid one: dimmed.
    outputFrame.classList.toggle('stale', !k);
    if (!k) return;
    describeSum(k);
    const channels = colour ? 3 : 1;
    const input = colour ? picture.rgb : picture.grey;
    const kernel = k.entries.map((e) => e / k.divisor);
    const size = kstate.size;
    const mode = border;
    const magnitude = kstate.magnitude;
    const pic = picture;
    const id = ++seq;
    pending++;
    outputFrame.classList.add('busy');
    call('kernelsApply', { image: input, channels, height: pic.height, width: pic.width, kernel, kernelSize: size, paddingMode: mode, magnitude }).then(
      (result) => {
        pending--;
        if (!isAlive() || id !== seq) return;
        outputFrame.classList.remove('busy');
        resultError.replaceChildren();
        last = {
          input, height: pic.height, width: pic.width, kernel, kernelSize: size, paddingMode: mode,
          output: result.output, outHeight: result.outHeight, outWidth: result.outWidth, channels, magnitude,
        };
        shown = { record: last, result, entries: k.entries, divisor: k.divisor, picture: pic };
        redraw();
      },
      (err: Error) => {
        pending--;
        if (!isAlive() || id !== seq) return;
        outputFrame.classList.remove('busy');
        resultError.replaceChildren(errorBox(`${err.message}. ${mode === 'reflect' ? 'Reflect padding needs an image larger than the padding: choose another border mode or a larger image.' : 'Change the kernel, the border mode or the image.'}`));
      },
    );
  }

  /** Draws the output, its legend, the numbers under it and the worked pixel (no recomputation). */
  function redraw(): void {
    if (!shown) return;
    const { record: r } = shown;
    const lg = drawOutput(outputCanvas, r.output, r.channels, r.outHeight, r.outWidth, view, saturate);
    drawLegend(lg);
    const pad = (r.kernelSize - 1) / 2;
    const valid = r.paddingMode === 'valid';
    // The output sits where its pixels' windows are centred: inset by the padding the valid mode does without.
    const inset = valid ? pad : 0;
    Object.assign(outputCanvas.style, {
      left: `${(100 * inset) / r.width}%`, top: `${(100 * inset) / r.height}%`,
      width: `${(100 * r.outWidth) / r.width}%`, height: `${(100 * r.outHeight) / r.height}%`,
    });
    for (const f of [inputFrame, outputFrame]) f.style.aspectRatio = `${r.width} / ${r.height}`;
    outputFrame.classList.toggle('valid', valid);
    inputCaption.textContent = `Input, ${r.width}×${r.height}${r.channels === 3 ? ', colour' : ', grey (luminance)'}`;
    outputCaption.textContent = `Output, ${r.outWidth}×${r.outHeight}${valid ? ` (${r.width - r.outWidth} columns and ${r.height - r.outHeight} rows fewer: no padding)` : ''}`;
    const pct = (n: number) => `${((100 * n) / Math.max(1, lg.count)).toFixed(lg.count && n && (100 * n) / lg.count < 1 ? 1 : 0)}%`;
    const parts = [`min ${num(lg.min)}`, `max ${num(lg.max)}`, `${pct(lg.negative)} of the values negative`];
    if (view === 'clamp' && (lg.below || lg.above)) parts.push(`clamping hides ${pct(lg.below)} below 0 and ${pct(lg.above)} above 255`);
    statsLine.textContent = parts.join(' · ');
    const c = r.channels;
    const padText = valid ? `padding: 0` : `padding: ${pad}, paddingMode: '${r.paddingMode}'`;
    callLine.textContent =
      `// x: [1, ${c}, ${r.height}, ${r.width}]   w: [${c}, 1, ${r.kernelSize}, ${r.kernelSize}] (the kernel${c === 3 ? ' once per channel' : ''})\n` +
      `y = F.conv2d(x, w, null, { ${padText}${c === 3 ? ', groups: 3' : ''} })   // [1, ${c}, ${r.outHeight}, ${r.outWidth}]` +
      (r.magnitude ? `\n// and with the transposed kernel wT: F.sqrt(y² + F.conv2d(x, wT, …)²)` : '');
    showPixel();
  }

  /** The colour bar's labels: the values at its ends and 0 above it, the data's extremes under it. */
  let legendLabels: { ticks: BarLabel[]; marks: BarLabel[] } = { ticks: [], marks: [] };

  function drawLegend(lg: Legend): void {
    drawLegendBar(legendBar, lg);
    const span = lg.hi - lg.lo || 1;
    const frac = (v: number) => Math.min(1, Math.max(0, (v - lg.lo) / span));
    // A short line marks each labelled value exactly; the label itself may be nudged aside to stay readable.
    const line = (at: number) => el('span', { class: 'tick-line', 'aria-hidden': 'true', style: `left: min(${(100 * at).toFixed(3)}%, calc(100% - 1px))` });
    const label = (cls: string, text: string, at: number, align: BarLabel['align']): BarLabel =>
      ({ el: el('span', { class: `lab ${cls}`, 'data-align': align }, text), at, align });
    const ticks = [label('tick lo', num(lg.lo), 0, 'start'), label('tick hi', num(lg.hi), 1, 'end')];
    if (lg.lo < 0 && lg.hi > 0) ticks.push(label('tick zero', '0', frac(0), 'centre'));
    // The data's own extremes: at the value when it lies on the bar, else at the bar's end, pointing outwards.
    // The absolute-value view has one extreme, the largest |value|.
    const maxAbs = Math.max(Math.abs(lg.min), Math.abs(lg.max));
    const extreme = (name: string, v: number, cls: string): BarLabel =>
      v < lg.lo ? label(cls, `◀ ${name} ${num(v)}`, 0, 'start')
        : v > lg.hi ? label(cls, `${name} ${num(v)} ▶`, 1, 'end')
          : label(cls, `${name} ${num(v)}`, frac(v), 'centre');
    const marks = view === 'abs'
      ? [extreme('max |value|', maxAbs, 'mark max')]
      : [extreme('min', lg.min, 'mark min'), extreme('max', lg.max, 'mark max')];
    const inside = marks.filter((m) => m.align === 'centre');
    legendTicks.replaceChildren(...ticks.map((t) => t.el), ...ticks.map((t) => line(t.at)));
    legendMarks.replaceChildren(...marks.map((m) => m.el), ...inside.map((m) => line(m.at)));
    legendLabels = { ticks, marks };
    placeLegend();
    legendNote.textContent = lg.note;
  }

  /** Places the colour bar's labels for the bar's current width. */
  function placeLegend(): void {
    placeLabels(legendTicks, legendLabels.ticks);
    placeLabels(legendMarks, legendLabels.marks);
  }

  /** The pixel the inspector shows: the hovered one, else the pinned one, else the centre. */
  function currentPixel(r: KernelsRecord): [number, number] {
    const p = hover ?? pinned ?? [Math.floor(r.outHeight / 2), Math.floor(r.outWidth / 2)];
    return [Math.min(r.outHeight - 1, Math.max(0, p[0])), Math.min(r.outWidth - 1, Math.max(0, p[1]))];
  }

  function showPixel(): void {
    if (!shown) return;
    const { record: r, result, entries, divisor, picture: pic } = shown;
    const [row, col] = currentPixel(r);
    const n = r.kernelSize;
    const transposed = r.magnitude ? entries.map((_, i) => entries[(i % n) * n + Math.floor(i / n)]) : null;
    inspector.replaceChildren(inspectPixel({
      image: r.input, channels: r.channels, height: pic.height, width: pic.width, size: n, entries, divisor, transposed,
      mode: r.paddingMode, output: r.output, first: result.first, second: result.second, outHeight: r.outHeight, outWidth: r.outWidth, row, col,
    }));
    // The window on the input (it may reach over the border) and the pixel on the output.
    const half = (n - 1) / 2;
    const cr = r.paddingMode === 'valid' ? row + half : row;
    const cc = r.paddingMode === 'valid' ? col + half : col;
    Object.assign(inputBox.style, {
      left: `${(100 * (cc - half)) / r.width}%`, top: `${(100 * (cr - half)) / r.height}%`,
      width: `${(100 * n) / r.width}%`, height: `${(100 * n) / r.height}%`,
    });
    Object.assign(outputBox.style, {
      left: `${(100 * cc) / r.width}%`, top: `${(100 * cr) / r.height}%`,
      width: `${100 / r.width}%`, height: `${100 / r.height}%`,
    });
    drawLoupe(loupeIn, inputCanvas, cr, cc, n);
    drawLoupe(loupeOut, outputCanvas, row, col, 1);
  }

  // ---- pointing and keys ---------------------------------------------------
  let frame = 0;
  const onMove = (canvas: HTMLCanvasElement, isInput: boolean) => (e: PointerEvent) => {
    if (!shown) return;
    const p = pixelAt(e, canvas);
    if (!p) return;
    const r = shown.record;
    hover = isInput ? outputPixelOf(p[0], p[1], r.kernelSize, r.paddingMode, r.outHeight, r.outWidth) : p;
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; showPixel(); });
  };
  const onLeave = () => {
    hover = null;
    showPixel();
  };
  const pin = (p: [number, number]) => {
    pinned = p;
    ctx.setParams({ at: `${p[0]},${p[1]}` });
    showPixel();
  };
  /** Moves the pinned pixel by (dr, dc), staying on the output (the arrow keys and the pad). */
  function movePixel(dr: number, dc: number): void {
    if (!shown) return;
    const r = shown.record;
    const [row, col] = currentPixel(r);
    hover = null;
    pin([Math.min(r.outHeight - 1, Math.max(0, row + dr)), Math.min(r.outWidth - 1, Math.max(0, col + dc))]);
  }
  const onKey = (e: KeyboardEvent) => {
    if (!shown) return;
    const step = e.shiftKey ? 10 : 1;
    const moves: Record<string, [number, number]> = { ArrowUp: [-step, 0], ArrowDown: [step, 0], ArrowLeft: [0, -step], ArrowRight: [0, step] };
    const m = moves[e.key];
    if (m) {
      e.preventDefault();
      movePixel(m[0], m[1]);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      pin(currentPixel(shown.record));
    }
  };

  // A tap on a cell of a magnified view pins that pixel (on the input: the output pixel it is the centre of).
  loupeIn.addEventListener('click', (e) => {
    const d = shown ? loupeOffset(e, loupeIn) : null;
    if (!d || !shown) return;
    const r = shown.record;
    const [row, col] = currentPixel(r);
    const half = r.paddingMode === 'valid' ? (r.kernelSize - 1) / 2 : 0;
    hover = null;
    pin(outputPixelOf(row + half + d[0], col + half + d[1], r.kernelSize, r.paddingMode, r.outHeight, r.outWidth));
  });
  loupeOut.addEventListener('click', (e) => {
    const d = shown ? loupeOffset(e, loupeOut) : null;
    if (d) movePixel(d[0], d[1]);
  });
  for (const [canvas, isInput] of [[inputCanvas, true], [outputCanvas, false]] as const) {
    canvas.addEventListener('pointermove', onMove(canvas, isInput));
    canvas.addEventListener('pointerleave', onLeave);
    // A click (or a tap, which brings no hover first) pins the pixel under it.
    canvas.addEventListener('click', (e) => {
      const p = shown ? pixelAt(e, canvas) : null;
      if (!p || !shown) return;
      const r = shown.record;
      hover = null;
      pin(isInput ? outputPixelOf(p[0], p[1], r.kernelSize, r.paddingMode, r.outHeight, r.outWidth) : p);
    });
    canvas.addEventListener('keydown', onKey);
  }

  // ---- start ---------------------------------------------------------------
  showBorderAbout();
  showViewAbout();
  writeKernelParams();
  // A link's image that cannot be shown (an opened file, or the sample when it failed) is replaced in the URL too.
  ctx.setParams({ img: source === 'sample' ? null : source });
  drawInput(inputCanvas, colour ? picture.rgb : picture.grey, colour ? 3 : 1, picture.height, picture.width);
  compute();

  // The colour bar's labels are placed in pixels: again whenever the bar's width changes (rotating a
  // phone, resizing the window) and once the web fonts are in. The placement runs in the next frame,
  // outside the observer's callback, and only for a new width, so it cannot feed back into itself.
  let legendWidth = -1;
  let legendFrame = 0;
  const observer = new ResizeObserver(() => {
    if (legend.clientWidth === legendWidth || legendFrame) return;
    legendFrame = requestAnimationFrame(() => {
      legendFrame = 0;
      legendWidth = legend.clientWidth;
      placeLegend();
    });
  });
  observer.observe(legend);
  void document.fonts?.ready.then(() => { if (isAlive()) placeLegend(); });
  return () => {
    observer.disconnect();
    cancelAnimationFrame(legendFrame);
  };
}

export const kernelsPage: PageDefinition = {
  path: 'kernels',
  title: 'Kernels',
  blurb: 'Classic image kernels and your own, applied with conv2d: signed outputs, every border mode, each sum written out.',
  mount: mountKernels,
};
