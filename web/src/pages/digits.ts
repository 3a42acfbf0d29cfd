/**
 * #/digits: draw a digit and watch LeNet-5 read it. The drawing is made into
 * an MNIST image as MNIST's own were made (preprocess.ts: crop the ink, scale
 * its longer side to 20 px, centre of mass at the centre of 28x28), the
 * compute worker runs the network on it, and the page shows the two best
 * guesses, every class's probability, every layer's output (each unit can be
 * probed: its value and the input pixels it sees, its receptive field), and
 * the first convolution's learned filters.
 *
 * The model is the LeNet-5 `stride train` made (web/public/models/), fetched
 * relative to the page so the site works under any path; a person may load
 * their own checkpoint of any model that reads 1x28x28 images.
 *
 * A person without a pointer (or curious how real MNIST digits look) can
 * show any of MNIST's 10,000 test images instead of a drawing.
 *
 * In the link: the drawing (`ink`) or the test image (`sample`), the pen
 * width at 28x28 (`pen`) and the layers switched off (`hide`).
 */
import type { DigitsLayerInfo, DigitsModelInfo, DigitsPrediction, DigitsSample } from '../compute/digits.js';
import { intParam, numberParam, type PageDefinition } from '../router.js';
import { call } from '../rpc.js';
import { button, checkbox, drawMap, el, errorBox, fmt, maxAbs, numberField, panel, thousands } from '../ui.js';
import { probeMap } from '../digits/maps.js';
import { PAD_SIZE, drawingPad } from '../digits/pad.js';
import { MNIST_SIZE, strokesToMnist, type MnistInput, type Stroke } from '../digits/preprocess.js';
import { decodeStrokes, encodeStrokes } from '../digits/strokes.js';
import { convUnitTerms } from '../digits/explain.js';
import './digits.css';

/** The shipped checkpoint, relative to the page (the site may live under a sub-path). */
const SHIPPED_MODEL = 'models/lenet5-mnist/model.stride';
/** MNIST's test set, as the app serves it (gzipped IDX), relative to the page. */
const TEST_IMAGES = 'data/mnist-test-images.idx.gz';
const TEST_LABELS = 'data/mnist-test-labels.idx.gz';
/** MNIST's test images are numbered 0 to 9,999. */
const TEST_COUNT = 10000;
/** The pen width at 28x28 when the link gives none: MNIST's strokes are 2 to 3 px wide. */
const DEFAULT_PEN = 2.5;

/** Which input pixels a unit sees, clipped to the image: rows r0..r1, columns c0..c1. */
interface InputRegion {
  r0: number;
  r1: number;
  c0: number;
  c1: number;
}

/** The receptive field of unit (i, j) of a layer, clipped to the 28x28 input. */
function regionOf(field: DigitsLayerInfo['field'], i: number, j: number): InputRegion {
  const clip = (v: number) => Math.min(MNIST_SIZE - 1, Math.max(0, v));
  const r = field.start[0] + i * field.jump[0];
  const c = field.start[1] + j * field.jump[1];
  return { r0: clip(r), r1: clip(r + field.size[0] - 1), c0: clip(c), c1: clip(c + field.size[1] - 1) };
}

function describeRegion(g: InputRegion): string {
  const whole = g.r0 === 0 && g.c0 === 0 && g.r1 === MNIST_SIZE - 1 && g.c1 === MNIST_SIZE - 1;
  if (whole) return 'sees the whole 28×28 input';
  return `sees input rows ${g.r0}–${g.r1}, columns ${g.c0}–${g.c1} (${g.r1 - g.r0 + 1}×${g.c1 - g.c0 + 1})`;
}

/** A probability as a percentage; tiny ones as an upper bound rather than a misleading 0.0%. */
const pct = (p: number) => (p > 0 && p < 0.0005 ? '<0.1%' : `${(100 * p).toFixed(1)}%`);

/** The layer list the page draws: the input, then each layer the model calls. */
interface LayerEntry {
  name: string;
  title: string;
  shape: number[];
  field: DigitsLayerInfo['field'];
}

export const digitsPage: PageDefinition = {
  path: 'digits',
  title: 'Digits',
  blurb: 'Draw a digit; see LeNet-5 read it, layer by layer.',
  mount(root, ctx) {
    let disposed = false;
    let info: DigitsModelInfo | null = null;
    let prediction: DigitsPrediction | null = null;
    /** The drawing made into MNIST's form; null without a drawing. */
    let mnist: MnistInput | null = null;
    /** An MNIST test image shown instead of a drawing (the pad is then empty). */
    let sample: DigitsSample | null = null;
    let sampleIndex = intParam(ctx.params, 'sample', 0, 0, TEST_COUNT - 1);
    /** The 28x28 image the network reads now: the drawing's, else the test image's. */
    const shownImage = (): Float32Array | null => mnist?.image ?? sample?.image ?? null;
    let pen = numberParam(ctx.params, 'pen', DEFAULT_PEN, 1, 5);
    const hidden = new Set((ctx.params.get('hide') ?? '').split(',').filter(Boolean));
    const linked = decodeStrokes(ctx.params.get('ink') ?? '', PAD_SIZE);

    // ---- drawing ------------------------------------------------------------
    /** The strokes, with the one under way: what the model reads. */
    let live: readonly Stroke[] = linked ?? [];
    const pad = drawingPad({
      strokes: live.slice(),
      onChange(strokes, final) {
        live = strokes;
        // Drawing, clearing or undoing puts the pad's drawing back in place of a test image.
        if (sample) {
          sample = null;
          ctx.setParams({ sample: null });
        }
        if (final) ctx.setParams({ ink: encodeStrokes(strokes, PAD_SIZE) || null });
        schedule();
      },
    });
    const clearButton = button('Clear', () => pad.clear(), { 'data-testid': 'clear' });
    const undoButton = button('Undo stroke', () => pad.undo());
    const penField = numberField({
      label: 'Pen width at 28×28',
      hint: '(px, 1–5; MNIST ≈ 2–3)',
      value: pen,
      min: 1,
      max: 5,
      step: 0.5,
      testid: 'pen',
      onChange(v) {
        pen = v;
        ctx.setParams({ pen: v === DEFAULT_PEN ? null : v });
        schedule();
      },
    });
    const sampleField = numberField({
      label: 'Or read MNIST test image',
      hint: '(0–9,999)',
      value: sampleIndex,
      min: 0,
      max: TEST_COUNT - 1,
      testid: 'sample-index',
      onChange(v) {
        sampleIndex = v;
      },
    });
    const sampleError = el('div');
    const showSample = async (index: number) => {
      sampleError.replaceChildren();
      try {
        const got = await call('digitsSample', {
          images: new URL(TEST_IMAGES, document.baseURI).href,
          labels: new URL(TEST_LABELS, document.baseURI).href,
          index,
        });
        if (disposed) return;
        if (live.some((st) => st.length > 0)) pad.clear();
        sample = got;
        sampleIndex = index;
        sampleField.set(index);
        ctx.setParams({ sample: index, ink: null });
        schedule();
      } catch (err) {
        if (!disposed) sampleError.replaceChildren(errorBox((err as Error).message));
      }
    };
    const sampleButtons = el('div', { class: 'row' },
      button('Show it', () => {
        const v = sampleField.input.valueAsNumber;
        if (Number.isInteger(v) && v >= 0 && v < TEST_COUNT) void showSample(v);
        else sampleError.replaceChildren(errorBox(`MNIST's test images are numbered 0 to 9,999; “${sampleField.input.value}” is not one of them. Type a whole number in that range.`));
      }, { 'data-testid': 'show-sample' }),
      button('Next', () => void showSample((sampleIndex + 1) % TEST_COUNT), { 'data-testid': 'next-sample' }));
    const drawPanel = panel(
      'Draw a digit',
      el('p', { class: 'digits-hint' }, 'Drawing needs a pointer: a mouse, a finger or a pen. Keys on the pad: Delete or Escape clears it, Backspace takes the last stroke back.'),
      linked === null ? errorBox('The drawing in this link is damaged, so the pad starts empty: draw a digit, and the link will hold it.') : null,
      pad.root,
      el('div', { class: 'row digits-pad-buttons' }, clearButton, undoButton),
      penField.root,
      el('div', { class: 'digits-sample' }, sampleField.root, sampleButtons, sampleError),
    );

    // ---- what the network reads ----------------------------------------------
    const inputView = probeMap({
      height: MNIST_SIZE,
      width: MNIST_SIZE,
      cssWidth: '168px',
      cssHeight: '168px',
      label: 'The 28 by 28 image the network reads',
      className: 'digits-input-map',
      onUnit: (u) => probe(u && { layer: 0, channel: 0, i: u.i, j: u.j }),
    });
    inputView.canvas.dataset.testid = 'input-28';
    const inputField = el('span', { class: 'digits-field', 'aria-hidden': 'true' });
    inputField.hidden = true;
    inputView.root.append(inputField);
    const stepsText = el('p', { class: 'digits-steps muted', 'aria-live': 'polite' });
    const inputPanel = panel(
      'What the network reads',
      inputView.root,
      stepsText,
      el('p', { class: 'digits-note' }, 'As MNIST was made: the ink’s box is cropped, scaled (aspect ratio kept, anti-aliased) so its longer side is 20 px, and placed in 28×28 with its centre of mass at the centre (14, 14). The dashed box on the pad is the crop.'),
    );

    // ---- prediction ----------------------------------------------------------
    const guess1 = el('output', { class: 'digits-guess1', 'data-testid': 'guess-1' });
    const guess2 = el('output', { class: 'digits-guess2', 'data-testid': 'guess-2' });
    const guessNote = el('p', { class: 'muted digits-guess-note', 'aria-live': 'polite' }, 'Loading the model…');
    const bars = el('ol', { class: 'digits-bars', 'data-testid': 'probabilities', 'aria-label': 'Probability of each class' });
    const predictionPanel = panel(
      'Prediction',
      el('div', { class: 'digits-guesses' },
        el('div', {}, el('span', { class: 'digits-guess-label' }, 'Best guess'), guess1),
        el('div', {}, el('span', { class: 'digits-guess-label' }, 'Second'), guess2)),
      guessNote,
      bars,
    );
    predictionPanel.dataset.testid = 'prediction';
    predictionPanel.dataset.state = 'idle';

    // ---- layers --------------------------------------------------------------
    const readout = el('p', { class: 'digits-readout', 'aria-live': 'polite', 'data-testid': 'unit-readout' }, 'Point at a unit (or focus a map and use the arrow keys) to read its value and see which input pixels it sees.');
    const thumb = probeMap({ height: MNIST_SIZE, width: MNIST_SIZE, cssWidth: '84px', cssHeight: '84px', label: 'The input, with the probed unit’s receptive field', onUnit: () => {} });
    thumb.canvas.removeAttribute('tabindex');
    const thumbField = el('span', { class: 'digits-field', 'aria-hidden': 'true' });
    thumbField.hidden = true;
    thumb.root.append(thumbField);
    const explain = el('div', { class: 'digits-explain', 'data-testid': 'unit-explain' });
    explain.hidden = true;
    const toggles = el('fieldset', { class: 'digits-toggles' }, el('legend', {}, 'Show layers'));
    const layerList = el('div', { class: 'digits-layers' });
    const layersPanel = panel(
      'Every layer',
      el('p', { class: 'digits-note' }, 'Each layer’s output for the drawing. Maps use a signed colour scale per layer (red positive, blue negative, white zero; the ± value is the layer’s largest |value|); fully connected layers are a strip of units. A unit’s receptive field is the part of the 28×28 input it depends on.'),
      toggles,
      el('div', { class: 'digits-probe' }, thumb.root, el('div', { class: 'digits-probe-text' }, readout, explain)),
      layerList,
    );

    // ---- filters and model -----------------------------------------------------
    const filtersBody = el('div', { class: 'digits-filters' });
    const filtersTitle = el('p', { class: 'digits-note' });
    const filtersPanel = panel('Learned filters of the first convolution', filtersTitle, filtersBody);
    const modelText = el('p', { 'data-testid': 'model-name' }, 'Loading the model…');
    const modelError = el('div', { 'data-testid': 'model-error' });
    const fileId = 'digits-checkpoint-file';
    const fileInput = el('input', { id: fileId, type: 'file', accept: '.stride,application/octet-stream', 'data-testid': 'checkpoint-file' });
    const shippedButton = button('Use the shipped LeNet-5', () => void loadShipped(), { 'data-testid': 'use-shipped' });
    shippedButton.hidden = true;
    const modelPanel = panel(
      'Model',
      modelText,
      el('div', { class: 'field' },
        el('label', { for: fileId }, 'Load your own checkpoint', el('span', { class: 'hint' }, ' (a .stride file from stride train, of any model that reads 1×28×28 images)')),
        fileInput),
      shippedButton,
      modelError,
    );

    root.append(
      el('h1', {}, 'Digits'),
      el('p', { class: 'lead' }, 'Draw a digit and watch LeNet-5, trained by Stride on MNIST, read it: the image it sees, its guess, and what every layer computes on the way.'),
      el('div', { class: 'digits-top' }, drawPanel, inputPanel, el('div', { class: 'stack digits-side' }, predictionPanel, filtersPanel, modelPanel)),
      layersPanel,
    );

    // ---- layer views ---------------------------------------------------------
    let entries: LayerEntry[] = [];
    let views: { draw(p: DigitsPrediction | null): void }[] = [];

    const probeThumb = () => {
      const image = shownImage();
      if (image) thumb.draw(image, { map: 'grey', lo: 0, hi: 1 });
      else thumb.draw(new Float32Array(MNIST_SIZE * MNIST_SIZE), { map: 'grey', lo: 0, hi: 1 });
    };

    /** Shows a unit's value and receptive field (layer index into `entries`), or clears the probe. */
    function probe(u: { layer: number; channel: number; i: number; j: number } | null): void {
      const show = (box: HTMLElement, g: InputRegion | null) => {
        box.hidden = g === null;
        if (!g) return;
        box.style.left = `${(g.c0 / MNIST_SIZE) * 100}%`;
        box.style.top = `${(g.r0 / MNIST_SIZE) * 100}%`;
        box.style.width = `${((g.c1 - g.c0 + 1) / MNIST_SIZE) * 100}%`;
        box.style.height = `${((g.r1 - g.r0 + 1) / MNIST_SIZE) * 100}%`;
      };
      const entry = u ? entries[u.layer] : undefined;
      if (!u || !entry) {
        show(inputField, null);
        show(thumbField, null);
        return;
      }
      explainUnit(u.layer, u.channel, u.i, u.j);
      const g = regionOf(entry.field, u.i, u.j);
      show(inputField, u.layer === 0 ? null : g);
      show(thumbField, g);
      const act = u.layer === 0 ? prediction?.input : prediction?.activations[u.layer - 1]?.data;
      const spatial = entry.shape.length === 3;
      const index = spatial ? (u.channel * entry.shape[1] + u.i) * entry.shape[2] + u.j : u.j;
      const value = act ? fmt(act[index]) : 'no drawing yet';
      const last = u.layer === entries.length - 1;
      const where = spatial
        ? `${entry.name}${entry.shape[0] > 1 ? ` channel ${u.channel}` : ''}, unit (row ${u.i}, column ${u.j})`
        : `${entry.name}, ${last ? `class ${u.j}` : `unit ${u.j}`}`;
      const prob = last && prediction ? `, probability ${pct(prediction.probs[u.j])}` : '';
      readout.textContent = `${where}: ${value}${prob}. It ${describeRegion(g)}.`;
      probeThumb();
    }

    /**
     * Under the readout, for a unit of the first convolution: the input patch
     * its filter covers, the filter, their products, and how their sum plus
     * the bias is the unit's value. Hidden for other layers.
     */
    function explainUnit(layer: number, channel: number, i: number, j: number): void {
      const f = info?.filters;
      const entry = entries[layer];
      const input = prediction?.input;
      const act = prediction?.activations[layer - 1]?.data;
      const ok = layer === 1 && f && entry && f.layer === entry.name && entry.shape.length === 3 && input && act &&
        entry.field.size[0] === f.shape[1] && entry.field.size[1] === f.shape[2];
      explain.hidden = !ok;
      if (!ok) return;
      const [, kh, kw] = f.shape;
      const filter = f.data.subarray(channel * kh * kw, (channel + 1) * kh * kw);
      const bias = f.bias ? f.bias[channel] : 0;
      const t = convUnitTerms(input, MNIST_SIZE, MNIST_SIZE, filter, kh, kw, bias, entry.field, i, j);
      const actual = act[(channel * entry.shape[1] + i) * entry.shape[2] + j];
      const tiny = (data: Float32Array, map: 'grey' | 'signed', label: string, opts: { lo?: number; hi?: number } = {}) => {
        const c = el('canvas', { class: 'map', role: 'img', 'aria-label': label });
        drawMap(c, data, kh, kw, map === 'grey' ? { map, lo: opts.lo, hi: opts.hi } : { map, maxAbs: maxAbs(data) });
        return el('figure', { class: 'digits-channel' }, c, el('figcaption', {}, label));
      };
      const lo = info ? -info.mean / info.std : 0;
      const hi = info ? (1 - info.mean) / info.std : 1;
      explain.replaceChildren(
        tiny(t.patch, 'grey', 'input patch', { lo, hi }), el('span', { class: 'digits-op' }, '×'),
        tiny(filter.slice(), 'signed', `filter ${channel}`), el('span', { class: 'digits-op' }, '='),
        tiny(t.products, 'signed', 'products'),
        el('p', { class: 'digits-sum' },
          `Σ products ${fmt(t.sum)} + bias ${fmt(bias)} = ${fmt(t.value)}`,
          el('br'),
          el('span', { class: 'muted' }, `(the network computed ${fmt(actual)})`)),
      );
    }

    /** Builds the toggles and the sections of every layer of the loaded model. */
    function buildLayers(m: DigitsModelInfo): void {
      entries = [
        { name: 'input', title: 'input · 1×28×28, normalized', shape: [1, MNIST_SIZE, MNIST_SIZE], field: { size: [1, 1], jump: [1, 1], start: [0, 0] } },
        ...m.layers.map((l, k) => ({
          name: l.name,
          title: `${l.name} · ${l.type} · ${l.shape.join('×')}${k === m.layers.length - 1 ? ' scores → softmax' : ''}`,
          shape: l.shape,
          field: l.field,
        })),
      ];
      toggles.replaceChildren(el('legend', {}, 'Show layers'));
      layerList.replaceChildren();
      views = entries.map((entry, k) => {
        const body = el('div', { class: 'digits-layer-body' });
        const scale = el('span', { class: 'digits-scale muted' });
        const section = el('section', { class: 'digits-layer', 'data-testid': `activation-${entry.name}`, 'aria-label': entry.name },
          el('h3', {}, entry.title, ' ', scale), body);
        section.hidden = hidden.has(entry.name);
        const toggle = checkbox({
          label: entry.name,
          checked: !hidden.has(entry.name),
          testid: `layer-toggle-${entry.name}`,
          onChange(on) {
            if (on) hidden.delete(entry.name);
            else hidden.add(entry.name);
            section.hidden = !on;
            ctx.setParams({ hide: [...hidden].join(',') || null });
          },
        });
        toggles.append(toggle.root);
        layerList.append(section);
        const last = k === entries.length - 1;
        if (entry.shape.length === 3) return mapsView(entry, k, body, scale);
        return stripView(entry, k, body, scale, last);
      });
      for (const v of views) v.draw(prediction);
    }

    /** A layer with height and width: one small map per channel, on one signed scale. */
    function mapsView(entry: LayerEntry, k: number, body: HTMLElement, scale: HTMLElement) {
      const [c, h, w] = entry.shape;
      const grid = el('div', { class: 'digits-channels' });
      const maps = Array.from({ length: c }, (_, ch) => {
        const m = probeMap({
          height: h,
          width: w,
          // Every map of every layer the same size on screen (digits.css), whatever its units: they cover the same input.
          cssWidth: 'var(--digits-map)',
          cssHeight: 'auto',
          label: `${entry.name} channel ${ch}, ${h} by ${w}`,
          onUnit: (u) => probe(u && { layer: k, channel: ch, i: u.i, j: u.j }),
        });
        grid.append(el('figure', { class: 'digits-channel' }, m.root, el('figcaption', {}, c > 1 ? String(ch) : '')));
        return m;
      });
      body.append(el('div', { class: 'scroll-x' }, grid));
      return {
        draw(p: DigitsPrediction | null) {
          const data = k === 0 ? p?.input : p?.activations[k - 1]?.data;
          const values = data ?? new Float32Array(c * h * w);
          const m = k === 0 ? 0 : maxAbs(values);
          scale.textContent = k === 0 ? '(grey: ink white)' : `(±${fmt(m)})`;
          maps.forEach((map, ch) => {
            if (k === 0) map.draw(values, { map: 'grey', lo: info ? -info.mean / info.std : -0.4242, hi: info ? (1 - info.mean) / info.std : 2.8215 }, ch * h * w);
            else map.draw(values, { map: 'signed', maxAbs: m }, ch * h * w);
          });
        },
      };
    }

    /** A layer of units without position: a strip of cells (the last layer: labelled by class, with the softmax beneath). */
    function stripView(entry: LayerEntry, k: number, body: HTMLElement, scale: HTMLElement, last: boolean) {
      const n = entry.shape.reduce((a, b) => a * b, 1);
      const cssWidth = last ? `min(100%, ${n * 32}px)` : `min(100%, ${n * 8}px)`;
      const strip = probeMap({ height: 1, width: n, cssWidth, cssHeight: '24px', label: `${entry.name}, ${n} units`, className: 'digits-strip', onUnit: (u) => probe(u && { layer: k, channel: 0, i: 0, j: u.j }) });
      body.append(strip.root);
      let soft: ReturnType<typeof probeMap> | null = null;
      if (last) {
        const labels = el('div', { class: 'digits-strip-labels', 'aria-hidden': 'true' }, ...Array.from({ length: n }, (_, i) => el('span', {}, String(i))));
        labels.style.width = cssWidth;
        soft = probeMap({ height: 1, width: n, cssWidth, cssHeight: '24px', label: `softmax of ${entry.name}: the probability of each class`, className: 'digits-strip', onUnit: (u) => probe(u && { layer: k, channel: 0, i: 0, j: u.j }) });
        body.append(labels, el('p', { class: 'digits-sub muted' }, 'softmax (white 0 → red 1):'), soft.root);
      }
      return {
        draw(p: DigitsPrediction | null) {
          const data = p?.activations[k - 1]?.data ?? new Float32Array(n);
          const m = maxAbs(data);
          scale.textContent = `(±${fmt(m)})`;
          strip.draw(data, { map: 'signed', maxAbs: m });
          soft?.draw(p?.probs ?? new Float32Array(n), { map: 'signed', maxAbs: 1 });
        },
      };
    }

    /** The first convolution's filters, each on its own signed scale shared by all. */
    function buildFilters(m: DigitsModelInfo): void {
      filtersBody.replaceChildren();
      const f = m.filters;
      filtersPanel.hidden = f === null;
      if (!f) return;
      const [n, kh, kw] = f.shape;
      const s = maxAbs(f.data);
      filtersTitle.textContent = `${f.layer}: ${n} filters of ${kh}×${kw} weights (red positive, blue negative, ±${fmt(s)}). Each map of ${f.layer} under “Every layer” is one filter slid over the input, plus its bias: where the ink matches the filter’s red part, the output is high.`;
      const note = el('p', { class: 'digits-readout', 'aria-live': 'polite' }, 'Point at a weight (or focus a filter and use the arrow keys) to read it.');
      const grid = el('div', { class: 'digits-channels' });
      for (let o = 0; o < n; o++) {
        const map = probeMap({
          height: kh,
          width: kw,
          cssWidth: 'var(--digits-filter)',
          cssHeight: 'auto',
          label: `${f.layer} filter ${o}, ${kh} by ${kw}`,
          onUnit: (u) => {
            if (u) note.textContent = `${f.layer} filter ${o}, weight (row ${u.i}, column ${u.j}): ${fmt(f.data[o * kh * kw + u.i * kw + u.j])}${f.bias ? `; bias ${fmt(f.bias[o])}` : ''}.`;
          },
        });
        map.draw(f.data, { map: 'signed', maxAbs: s }, o * kh * kw);
        grid.append(el('figure', { class: 'digits-channel' }, map.root, el('figcaption', {}, String(o))));
      }
      filtersBody.append(el('div', { class: 'scroll-x' }, grid), note);
    }

    // ---- showing a prediction ------------------------------------------------------
    function showPrediction(): void {
      pad.showBox(mnist ? mnist.box : null);
      const image = shownImage();
      if (!mnist && sample) {
        inputView.draw(sample.image, { map: 'grey', lo: 0, hi: 1 });
        stepsText.textContent = `MNIST test image ${sample.index}, labelled ${sample.label}, as MNIST stores it (already cropped, scaled and centred). Draw on the pad to read your own digit instead.`;
      } else if (mnist) {
        inputView.draw(mnist.image, { map: 'grey', lo: 0, hi: 1 });
        stepsText.textContent = `Ink box ${mnist.box.x1 - mnist.box.x0 + 1}×${mnist.box.y1 - mnist.box.y0 + 1} pad units, scaled ×${mnist.scale.toFixed(3)}; centre of mass at (${mnist.center.y.toFixed(2)}, ${mnist.center.x.toFixed(2)}) (row, column); pen ${pen} px.`;
      } else {
        inputView.draw(new Float32Array(MNIST_SIZE * MNIST_SIZE), { map: 'grey', lo: 0, hi: 1 });
        stepsText.textContent = 'Nothing drawn yet.';
      }
      probeThumb();
      const probs = prediction?.probs;
      if (!probs || !image) {
        guess1.textContent = '';
        guess2.textContent = '';
        guessNote.textContent = info ? 'Draw a digit on the pad.' : guessNote.textContent;
        for (const li of bars.children) {
          (li.querySelector('.digits-bar-fill') as HTMLElement).style.width = '0%';
          (li.querySelector('.digits-bar-value') as HTMLElement).textContent = '';
          li.classList.remove('top');
        }
      } else {
        const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]);
        guess1.textContent = `${order[0]} (${pct(probs[order[0]])})`;
        guess2.textContent = order.length > 1 ? `${order[1]} (${pct(probs[order[1]])})` : '';
        const unsure = probs[order[0]] < 0.5 ? 'Not sure: no class has half of the probability.' : '';
        const label = !mnist && sample ? `Test image ${sample.index} is labelled ${sample.label}: ${order[0] === sample.label ? 'right' : 'wrong'}. ` : '';
        guessNote.textContent = `${label}${unsure}`;
        [...bars.children].forEach((li, c) => {
          (li.querySelector('.digits-bar-fill') as HTMLElement).style.width = `${(100 * probs[c]).toFixed(2)}%`;
          (li.querySelector('.digits-bar-value') as HTMLElement).textContent = pct(probs[c]);
          li.classList.toggle('top', c === order[0]);
        });
      }
      for (const v of views) v.draw(image ? prediction : null);
    }

    function buildBars(classes: number): void {
      bars.replaceChildren(...Array.from({ length: classes }, (_, c) =>
        el('li', { class: 'digits-bar' },
          el('span', { class: 'digits-bar-label' }, String(c)),
          el('span', { class: 'digits-bar-track', 'aria-hidden': 'true' }, el('span', { class: 'digits-bar-fill' })),
          el('span', { class: 'digits-bar-value' }))));
    }

    // ---- running the model -------------------------------------------------------
    /** One prediction at a time; changes during it are run next (the throttle while drawing). */
    let busy = false;
    let dirty = false;
    let frame = 0;
    function schedule(): void {
      if (disposed) return;
      predictionPanel.dataset.state = 'busy';
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        void run();
      });
    }
    /** Marks the prediction as up to date with the drawing (tests wait for it). */
    function settle(): void {
      if (!frame && !busy && !dirty) predictionPanel.dataset.state = 'idle';
    }
    async function run(): Promise<void> {
      if (busy) {
        dirty = true;
        return;
      }
      mnist = strokesToMnist(live, PAD_SIZE, pen);
      const image = shownImage();
      if (!image || !info) {
        prediction = null;
        showPrediction();
        settle();
        return;
      }
      busy = true;
      try {
        const p = await call('digitsPredict', { image });
        if (disposed) return;
        if (shownImage() === image) {
          prediction = p;
          showPrediction();
        }
      } catch (err) {
        if (!disposed) modelError.replaceChildren(errorBox((err as Error).message));
      } finally {
        busy = false;
        if (dirty && !disposed) {
          dirty = false;
          schedule();
        } else settle();
      }
    }

    // ---- loading models ------------------------------------------------------------
    async function load(bytes: Uint8Array, source: string, shipped: boolean): Promise<void> {
      modelError.replaceChildren();
      try {
        const m = await call('digitsLoad', { bytes, source }, [bytes.buffer]);
        if (disposed) return;
        info = m;
        shippedButton.hidden = shipped;
        const acc = m.testAccuracy !== null ? `, test accuracy ${pct(m.testAccuracy)}` : '';
        const trained = m.epochs !== null ? `, trained ${m.epochs} epoch${m.epochs === 1 ? '' : 's'}${m.dataset ? ` on ${m.dataset.toUpperCase()}` : ''}` : '';
        modelText.textContent = `${shipped ? 'Shipped: ' : `${source}: `}${m.className} (${m.model.length > 40 ? `${m.model.slice(0, 40)}…` : m.model}), ${thousands(m.totalParams)} parameters${trained}${acc}.`;
        buildBars(m.classes);
        buildLayers(m);
        buildFilters(m);
        prediction = null;
        showPrediction();
        schedule();
      } catch (err) {
        if (disposed) return;
        modelError.replaceChildren(errorBox(`${(err as Error).message}${info ? ` The page keeps the model it had.` : ''}`));
        if (!info) modelText.textContent = 'No model is loaded.';
      }
    }
    async function loadShipped(): Promise<void> {
      const url = new URL(SHIPPED_MODEL, document.baseURI).href;
      try {
        const res = await fetch(url);
        if (!res.ok) throw new Error(`could not fetch the model ${url}: HTTP ${res.status} ${res.statusText}`);
        const bytes = new Uint8Array(await res.arrayBuffer());
        if (!disposed) await load(bytes, SHIPPED_MODEL, true);
        if (!disposed) fileInput.value = '';
      } catch (err) {
        if (!disposed) modelError.replaceChildren(errorBox(`${(err as Error).message}. Reload the page to try again.`));
      }
    }
    fileInput.addEventListener('change', async () => {
      const file = fileInput.files?.[0];
      if (!file) return;
      modelError.replaceChildren(el('p', { class: 'muted' }, `Reading ${file.name}…`));
      const bytes = new Uint8Array(await file.arrayBuffer());
      if (!disposed) await load(bytes, file.name, false);
    });

    showPrediction();
    void loadShipped();
    if (ctx.params.has('sample') && !live.some((st) => st.length > 0)) void showSample(sampleIndex);
    return () => {
      disposed = true;
      if (frame) cancelAnimationFrame(frame);
      pad.dispose();
    };
  },
};
