/**
 * #/convolution: convolution and pooling arithmetic, step by step. The window
 * slides over the padded input (padding drawn in its mode's values), the cells
 * under it and the output cell light up, the dot product is written out with
 * its numbers, the output size formula is filled in with a verdict on the fit
 * (which rows and columns no window sees, and the padding that fits), and the
 * equivalent Stride and PyTorch lines follow the controls. A transposed
 * convolution is shown the other way round: each input cell scatters a scaled
 * kernel into the output. Every result comes from Stride in the compute
 * worker; this module draws and handles input.
 */
import './convolution.css';
import type { PageDefinition } from '../router.js';
import { call } from '../rpc.js';
import { button, checkbox, el, errorBox, fmt, maxAbs, panel, selectField, signed, uniqueId } from '../ui.js';
import type { ConvolutionRequest, ConvolutionResult } from '../compute/convolution.js';
import { Grid, cellSizeFor } from '../convolution/grid.js';
import {
  DEFAULT_STATE, LIMITS, MODES, PADDING_MODES, POOLS, PRESETS, SPEEDS, formatPadding, formatPair, inputCount, outChannels, parsePadding, parsePair,
  applicable, perGroup, presetState, resize, stateFromParams, stateToParams, takes, values, weightCount, weightShape, type ConvState,
} from '../convolution/state.js';
import {
  codeLines, describeStep, errorFix, fitSummary, groupChannels, paddingSuggestion, settingNotes, stepCell, stepCount, windowTaps,
} from '../convolution/describe.js';

const MODE_LABELS = { conv: 'Convolution', transposed: 'Transposed convolution', pool: 'Pooling' } as const;
const POOL_LABELS = { max: 'Max', avg: 'Average', l2: 'L2 (LP, p = 2)' } as const;
const PAD_LABELS = { zeros: 'zeros', reflect: 'reflect', replicate: 'replicate', circular: 'circular', partial: 'partial (rescaled)' } as const;

/** A text control for a size: "7" or "7x5" (height x width); ArrowUp / ArrowDown step a square size. */
function sizeField(o: {
  label: string; hint: string; value: string; testid: string; parse(raw: string): unknown | null; onChange(raw: string): void; min: number; max: number;
}): { root: HTMLElement; input: HTMLInputElement; set(v: string): void; setHint(hint: string): void } {
  const id = uniqueId('size');
  const msgId = `${id}-msg`;
  const input = el('input', { id, type: 'text', value: o.value, 'data-testid': o.testid, spellcheck: 'false', autocomplete: 'off', 'aria-describedby': msgId, inputmode: 'text' });
  const msg = el('span', { id: msgId, class: 'hint field-msg' });
  let hint = o.hint;
  const check = () => {
    const ok = o.parse(input.value) !== null;
    input.setAttribute('aria-invalid', ok ? 'false' : 'true');
    msg.textContent = ok ? '' : hint;
    return ok;
  };
  input.addEventListener('input', () => {
    if (check()) o.onChange(input.value.trim());
  });
  input.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowUp' && e.key !== 'ArrowDown') return;
    const n = Number(input.value.trim());
    if (!Number.isInteger(n)) return;
    e.preventDefault();
    const next = Math.min(o.max, Math.max(o.min, n + (e.key === 'ArrowUp' ? 1 : -1)));
    input.value = String(next);
    if (check()) o.onChange(input.value);
  });
  const hintSpan = el('span', { class: 'hint' }, ` ${o.hint}`);
  const root = el('div', { class: 'field' }, el('label', { for: id }, o.label, hintSpan), input, msg);
  return {
    root, input,
    set: (v) => { input.value = v; check(); },
    // the accepted values depend on the operation (only a convolution takes 'same')
    setHint: (h) => { hint = h; hintSpan.textContent = ` ${h}`; check(); },
  };
}

/** A labelled whole-number input (channels, filters, groups): reports only values in range. */
function intField(o: { label: string; value: number; min: number; max: number; testid: string; onChange(v: number): void }): { root: HTMLElement; input: HTMLInputElement; set(v: number): void } {
  const id = uniqueId('int');
  const input = el('input', { id, type: 'number', min: o.min, max: o.max, step: 1, value: o.value, 'data-testid': o.testid, inputmode: 'numeric' });
  input.addEventListener('input', () => {
    const v = input.valueAsNumber;
    const ok = Number.isInteger(v) && v >= o.min && v <= o.max;
    input.setAttribute('aria-invalid', ok ? 'false' : 'true');
    if (ok) o.onChange(v);
  });
  return { root: el('div', { class: 'field' }, el('label', { for: id }, o.label, el('span', { class: 'hint' }, ` ${o.min}–${o.max}`)), input), input, set: (v) => { input.value = String(v); } };
}

/** Pretty formula text: Stride writes ASCII (*, -); the page shows · and −. */
const pretty = (f: string) => f.replace(/\*/g, '·').replace(/ - /g, ' − ').replace(/\(-/g, '(−');

/** The colour of a value on the signed map (0 white, positive red, negative blue). */
const colour = (v: number, m: number) => signed(v, m);

export const convolutionPage: PageDefinition = {
  path: 'convolution',
  title: 'Convolution',
  blurb: 'Slide a window over an input: the output size, the fit, every dot product, pooling and transposed convolution.',
  mount(root, ctx) {
    let s: ConvState = stateFromParams(ctx.params);
    let result: ConvolutionResult | null = null;
    let vals = values(s);
    let timer: number | null = null;
    let request = 0;
    let pending: number | null = null;

    // ---- the controls ------------------------------------------------------
    const presetSelect = selectField({
      label: 'Worked example', value: s.preset || '', testid: 'preset',
      options: [{ value: '', label: 'Choose an example…' }, ...PRESETS.map((p) => ({ value: p.id, label: p.label }))],
      onChange: (id) => {
        const p = PRESETS.find((q) => q.id === id);
        if (!p) return;
        s = presetState(p, s.seed);
        syncControls();
        changed(true);
      },
    });
    const modeSelect = selectField({ label: 'Operation', value: s.mode, testid: 'mode', options: MODES.map((m) => ({ value: m, label: MODE_LABELS[m] })), onChange: (m) => {
      const patch: Partial<ConvState> = { mode: m };
      // pooling's stride is its window by default (PyTorch); set() drops what the new operation does not take
      if (m === 'pool' && s.mode !== 'pool' && s.stride[0] === 1 && s.stride[1] === 1) patch.stride = [...s.kernel];
      set(patch);
      syncControls();
    } });
    const poolSelect = selectField({ label: 'Pooling', value: s.pool, testid: 'pool', options: POOLS.map((p) => ({ value: p, label: POOL_LABELS[p] })), onChange: (p) => set({ pool: p }) });
    const inputField = sizeField({
      label: 'Input size', hint: '1–32, or HxW like 7x5', value: formatPair(s.input), testid: 'input', min: 1, max: 32,
      parse: (v) => parsePair(v, ...LIMITS.input), onChange: (v) => set({ input: parsePair(v, ...LIMITS.input)! }),
    });
    const channelsField = intField({ label: 'Channels', value: s.channels, min: 1, max: 3, testid: 'channels', onChange: (v) => set({ channels: v }) });
    const kernelField = sizeField({
      label: 'Kernel size', hint: '1–11, or HxW like 3x5', value: formatPair(s.kernel), testid: 'kernel', min: 1, max: 11,
      parse: (v) => parsePair(v, ...LIMITS.kernel), onChange: (v) => set({ kernel: parsePair(v, ...LIMITS.kernel)! }),
    });
    const filtersField = intField({ label: 'Filters (output channels)', value: s.filters, min: 1, max: 16, testid: 'filters', onChange: (v) => set({ filters: v }) });
    const strideField = sizeField({
      label: 'Stride', hint: `${LIMITS.stride[0]}–${LIMITS.stride[1]}, or HxW`, value: formatPair(s.stride), testid: 'stride', min: LIMITS.stride[0], max: LIMITS.stride[1],
      parse: (v) => parsePair(v, ...LIMITS.stride), onChange: (v) => set({ stride: parsePair(v, ...LIMITS.stride)! }),
    });
    // 'same' and 'valid' are a convolution's words; the other operations take numbers
    const paddingFor = (v: string) => {
      const p = parsePadding(v);
      return typeof p === 'string' && !takes(s).samePadding ? null : p;
    };
    const paddingHint = () => `${LIMITS.padding[0]}–${LIMITS.padding[1]}, or HxW${takes(s).samePadding ? ", 'same' or 'valid'" : ` ('same' is for convolutions)`}`;
    const paddingField = sizeField({
      label: 'Padding', hint: paddingHint(), value: formatPadding(s.padding), testid: 'padding', min: LIMITS.padding[0], max: LIMITS.padding[1],
      parse: paddingFor, onChange: (v) => set({ padding: paddingFor(v)! }),
    });
    const paddingModeSelect = selectField({ label: 'Padding mode', value: s.paddingMode, testid: 'padding-mode', options: PADDING_MODES.map((m) => ({ value: m, label: PAD_LABELS[m] })), onChange: (m) => set({ paddingMode: m }) });
    const dilationField = sizeField({
      label: 'Dilation', hint: `${LIMITS.dilation[0]}–${LIMITS.dilation[1]}, or HxW`, value: formatPair(s.dilation), testid: 'dilation', min: LIMITS.dilation[0], max: LIMITS.dilation[1],
      parse: (v) => parsePair(v, ...LIMITS.dilation), onChange: (v) => set({ dilation: parsePair(v, ...LIMITS.dilation)! }),
    });
    const groupsField = intField({ label: 'Groups', value: s.groups, min: 1, max: 16, testid: 'groups', onChange: (v) => set({ groups: v }) });
    const outputPaddingField = sizeField({
      label: 'Output padding', hint: `${LIMITS.outputPadding[0]}–${LIMITS.outputPadding[1]}, or HxW; below the stride`, value: formatPair(s.outputPadding), testid: 'output-padding', min: LIMITS.outputPadding[0], max: LIMITS.outputPadding[1],
      parse: (v) => parsePair(v, ...LIMITS.outputPadding), onChange: (v) => set({ outputPadding: parsePair(v, ...LIMITS.outputPadding)! }),
    });
    const ceilBox = checkbox({ label: 'Ceil mode (round the output size up)', checked: s.ceilMode, testid: 'ceil-mode', onChange: (v) => set({ ceilMode: v }) });
    const countPadBox = checkbox({ label: 'Count padding in the average', checked: s.countIncludePad, testid: 'count-include-pad', onChange: (v) => set({ countIncludePad: v }) });
    const biasBox = checkbox({ label: 'Bias', checked: s.bias, testid: 'bias', onChange: (v) => set({ bias: v }) });
    const randomize = button('Random values', () => set({ seed: (s.seed * 7919 + 104729) % 2147483647, x: null, w: null, b: null, preset: '' }), { 'data-testid': 'randomize' });
    const reset = button('Reset', () => {
      s = { ...DEFAULT_STATE };
      syncControls();
      changed(true);
    }, { 'data-testid': 'reset' });

    const shows = {
      pool: [poolSelect.root, ceilBox.root],
      avg: [countPadBox.root],
      learned: [filtersField.root, groupsField.root, biasBox.root],
      conv: [paddingModeSelect.root],
      transposed: [outputPaddingField.root],
      padding: [paddingField.root],
      dilation: [dilationField.root],
    };
    // what the chosen operation leaves out, and why (its controls are hidden)
    const notTaken = el('p', { class: 'hint small not-taken', 'data-testid': 'not-taken' });

    const controls = panel('Settings',
      presetSelect.root,
      modeSelect.root,
      poolSelect.root,
      el('div', { class: 'fields' },
        inputField.root, channelsField.root, kernelField.root, filtersField.root, strideField.root, paddingField.root, dilationField.root,
        groupsField.root, outputPaddingField.root),
      notTaken,
      paddingModeSelect.root,
      ceilBox.root, countPadBox.root, biasBox.root,
      el('div', { class: 'row' }, randomize, reset),
      el('p', { class: 'hint small' }, 'Click a cell of the input or the kernel (or focus the grid, move with the arrow keys and press Enter) to type a value.'),
    );

    // ---- the size, the fit and the code ------------------------------------------
    const sizeOut = el('strong', { 'data-testid': 'output-size', class: 'size' }, '…');
    const shapeOut = el('span', { class: 'muted' });
    const generalFormula = el('p', { class: 'mono formula-general' });
    const formulas = el('div', { class: 'formulas', 'data-testid': 'formula' });
    const fitOut = el('p', { 'data-testid': 'fit', class: 'fit' });
    const suggestion = el('div', { class: 'suggestion', 'data-testid': 'suggestion' });
    const notes = el('ul', { class: 'notes' });
    const about = el('ul', { class: 'about', 'data-testid': 'about' });
    const params = el('p', { class: 'params', 'data-testid': 'params' });
    const explainText = el('pre', { class: 'explain', 'data-testid': 'explain-text' });
    const sizePanel = panel('Output size',
      el('p', { class: 'size-line' }, sizeOut, ' ', shapeOut),
      generalFormula, formulas, fitOut, suggestion, params, notes,
      el('details', { class: 'about-box', open: true }, el('summary', {}, 'What these settings do'), about),
    );

    const strideCode = el('pre', { class: 'code', 'data-testid': 'code-stride' });
    const torchCode = el('pre', { class: 'code', 'data-testid': 'code-pytorch' });
    const codeNote = el('p', { class: 'hint small' });
    const codePanel = panel('The same in code',
      el('h3', {}, 'Stride'), el('div', { class: 'scroll-x' }, strideCode),
      el('h3', {}, 'PyTorch'), el('div', { class: 'scroll-x' }, torchCode), codeNote,
      el('details', {}, el('summary', {}, 'What explainWindow says (as stride explain prints it)'), el('div', { class: 'scroll-x' }, explainText)));

    // ---- the animation ------------------------------------------------------------
    const playBtn = button('Play', () => (timer === null ? play() : pause()), { 'data-testid': 'play', class: 'primary', 'aria-pressed': 'false' });
    const backBtn = button('◀ Back', () => { pause(); go(s.step - 1); }, { 'data-testid': 'step-back', 'aria-label': 'Step back' });
    const fwdBtn = button('Next ▶', () => { pause(); go(s.step + 1); }, { 'data-testid': 'step-forward', 'aria-label': 'Step forward' });
    const speedSelect = selectField({
      label: 'Speed', value: String(s.speed) as `${number}`, testid: 'speed',
      options: SPEEDS.map((v) => ({ value: String(v) as `${number}`, label: `${v} step${v === 1 ? '' : 's'}/s` })),
      onChange: (v) => {
        s.speed = Number(v);
        ctx.setParams({ speed: s.speed });
        if (timer !== null) { pause(); play(); }
      },
    });
    const scrubId = uniqueId('scrub');
    const scrub = el('input', { id: scrubId, type: 'range', min: 0, max: 0, step: 1, value: 0, 'data-testid': 'scrub' });
    scrub.addEventListener('input', () => { pause(); go(scrub.valueAsNumber); });
    const position = el('span', { class: 'position mono', 'data-testid': 'position' });
    const ochSelectHolder = el('div', { class: 'och' });
    const transport = el('div', { class: 'transport' },
      el('div', { class: 'row' }, playBtn, backBtn, fwdBtn, speedSelect.root),
      el('div', { class: 'field scrub' }, el('label', { for: scrubId }, 'Window position ', position), scrub),
      ochSelectHolder,
    );
    const inputBox = el('div', { class: 'maps', 'data-testid': 'input-maps' });
    const kernelBox = el('div', { class: 'maps', 'data-testid': 'kernel-maps' });
    const outputBox = el('div', { class: 'maps', 'data-testid': 'output-maps' });
    const inputTitle = el('h3', {}, 'Input');
    const kernelTitle = el('h3', {}, 'Kernel');
    const outputTitle = el('h3', {}, 'Output');
    const stepTitle = el('p', { class: 'step-title', 'data-testid': 'step-title' });
    const stepLines = el('div', { class: 'mono step-lines', 'data-testid': 'dot-product' });
    const stepBox = el('div', { class: 'step-box', 'aria-live': 'polite' }, stepTitle, el('div', { class: 'scroll-x' }, stepLines));
    const legend = el('p', { class: 'legend hint small' },
      el('span', { class: 'sw sw-tap' }), ' under the window ',
      el('span', { class: 'sw sw-pad' }), ' padding ',
      el('span', { class: 'sw sw-unseen' }), ' never seen ',
      el('span', { class: 'sw sw-current' }), ' output cell');
    const links = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    links.setAttribute('class', 'links');
    links.setAttribute('aria-hidden', 'true');
    const stage = el('div', { class: 'stage' },
      el('div', { class: 'stage-part' }, inputTitle, el('div', { class: 'scroll-x' }, inputBox)),
      el('div', { class: 'stage-part' }, kernelTitle, el('div', { class: 'scroll-x' }, kernelBox)),
      el('div', { class: 'stage-part' }, outputTitle, el('div', { class: 'scroll-x' }, outputBox)),
      links,
    );
    stage.addEventListener('scroll', () => drawLinks(), true);
    const vizPanel = panel('Sliding the window',
      transport,
      stage,
      legend,
      stepBox,
      el('p', { class: 'hint small' }, 'Keys: with a button of the animation focused, ← and → step the window and P plays or pauses; the slider takes the arrow keys, Home and End. Click an output cell (or press Enter on it) to jump there.'),
    );
    vizPanel.classList.add('viz');
    vizPanel.addEventListener('keydown', (e) => {
      const t = e.target as HTMLElement;
      if (t.closest('.cgrid') || t instanceof HTMLInputElement || t instanceof HTMLSelectElement) return;
      if (e.key === 'ArrowRight') { e.preventDefault(); pause(); go(s.step + 1); }
      else if (e.key === 'ArrowLeft') { e.preventDefault(); pause(); go(s.step - 1); }
      else if (e.key === 'p' || e.key === 'P') { e.preventDefault(); if (timer === null) play(); else pause(); }
    });

    const errorSlot = el('div', { class: 'error-slot', 'data-testid': 'error' });
    const warnSlot = el('div', { class: 'warn-slot' });
    const results = el('div', { class: 'stack results' }, sizePanel, vizPanel, codePanel);

    root.append(
      el('h1', {}, 'Convolution'),
      el('p', { class: 'lead' }, 'A filter slides over the input, multiplying the cells under it by its weights and adding them up. Pick a worked example or set the sizes; step through every output cell, see the size formula and whether the windows fit.'),
      el('div', { class: 'layout conv-layout' }, el('div', { class: 'stack' }, controls), el('div', { class: 'stack' }, errorSlot, warnSlot, results)),
    );

    // ---- state changes -------------------------------------------------------------

    /** Applies a change of the controls: edited values follow a change of shape, the URL is written, the op runs again. */
    function set(patch: Partial<ConvState>): void {
      const before = s;
      // any change leaves the worked example (its values stay, in the URL); what the operation does not take is dropped
      s = applicable({ ...s, ...patch, preset: patch.preset ?? '' });
      if (formatPair(s.dilation) !== formatPair(before.dilation) && !('dilation' in patch)) dilationField.set(formatPair(s.dilation));
      if (formatPadding(s.padding) !== formatPadding(before.padding) && !('padding' in patch)) paddingField.set(formatPadding(s.padding));
      if (s.x && s.x.length !== inputCount(s)) {
        const fill = values({ ...s, x: null }).x;
        s.x = resize(s.x, before.channels, before.input[0], before.input[1], s.channels, s.input[0], s.input[1], fill);
      }
      const ws0 = weightShape(before);
      const ws1 = weightShape(s);
      if (s.w && ws0 && ws1 && s.w.length !== weightCount(s)) {
        const fill = values({ ...s, w: null }).w;
        s.w = before.mode === s.mode ? resize(s.w, ws0[0] * ws0[1], ws0[2], ws0[3], ws1[0] * ws1[1], ws1[2], ws1[3], fill) : null;
      } else if (s.w && ws0 && ws1 && before.mode !== s.mode) s.w = null;
      if (s.b && s.b.length !== s.filters) s.b = Array.from({ length: s.filters }, (_, i) => s.b![i] ?? 0);
      if (s.och >= outChannels(s)) s.och = 0;
      presetSelect.set(s.preset);
      changed(false);
    }

    /** Writes the URL and the control visibility, and asks the worker for the result. */
    function changed(fromPreset: boolean): void {
      vals = values(s);
      if (fromPreset) pause();
      ctx.setParams(stateToParams(s));
      showFor(s);
      if (pending !== null) cancelAnimationFrame(pending);
      pending = requestAnimationFrame(() => { pending = null; compute(); });
    }

    function syncControls(): void {
      presetSelect.set(s.preset);
      modeSelect.set(s.mode);
      poolSelect.set(s.pool);
      inputField.set(formatPair(s.input));
      channelsField.set(s.channels);
      kernelField.set(formatPair(s.kernel));
      filtersField.set(s.filters);
      strideField.set(formatPair(s.stride));
      paddingField.set(formatPadding(s.padding));
      paddingModeSelect.set(s.paddingMode);
      dilationField.set(formatPair(s.dilation));
      groupsField.set(s.groups);
      outputPaddingField.set(formatPair(s.outputPadding));
      ceilBox.input.checked = s.ceilMode;
      countPadBox.input.checked = s.countIncludePad;
      biasBox.input.checked = s.bias;
      speedSelect.set(String(s.speed) as `${number}`);
    }

    function showFor(st: ConvState): void {
      const show = (els: HTMLElement[], on: boolean) => els.forEach((e) => { e.hidden = !on; });
      const t = takes(st);
      show(shows.pool, st.mode === 'pool');
      show(shows.avg, st.mode === 'pool' && st.pool === 'avg');
      show(shows.learned, st.mode !== 'pool');
      show(shows.conv, t.paddingMode);
      show(shows.transposed, t.outputPadding);
      show(shows.padding, t.padding);
      show(shows.dilation, t.dilation);
      paddingField.setHint(paddingHint());
      const missing = [t.padding ? '' : 'padding', t.dilation ? '' : 'dilation'].filter(Boolean);
      const pyName = st.pool === 'avg' ? 'avg_pool2d' : 'lp_pool2d';
      notTaken.textContent = missing.length && st.mode === 'pool'
        ? `${POOL_LABELS[st.pool].replace(/ \(.*/, '')} pooling takes no ${missing.join(' and no ')} (nor does PyTorch's ${pyName}), so ${missing.length > 1 ? 'those controls are' : 'that control is'} hidden.`
        : '';
    }

    async function compute(): Promise<void> {
      const id = ++request;
      const req: ConvolutionRequest = {
        mode: s.mode, pool: s.pool, input: [...s.input], channels: s.channels, kernel: [...s.kernel], filters: s.filters, stride: [...s.stride],
        padding: typeof s.padding === 'object' ? [...s.padding] : s.padding, paddingMode: s.paddingMode, dilation: [...s.dilation], groups: s.groups,
        outputPadding: [...s.outputPadding], ceilMode: s.ceilMode, countIncludePad: s.countIncludePad,
        x: Float32Array.from(vals.x), w: Float32Array.from(vals.w), b: vals.b ? Float32Array.from(vals.b) : null,
      };
      try {
        const r = await call('convolution', req);
        if (id !== request) return;
        result = r;
        errorSlot.replaceChildren();
        results.hidden = false;
        render();
      } catch (err) {
        if (id !== request) return;
        result = null;
        pause();
        const message = err instanceof Error ? err.message : String(err);
        const fix = errorFix(s, message);
        const parts: HTMLElement[] = [errorBox(message)];
        if (fix?.text) parts.push(el('p', { class: 'fix' }, el('strong', {}, 'How to fix it: '), fix.text));
        if (fix?.patch) {
          const patch = fix.patch;
          parts.push(button(fix.label, () => { set(patch); syncControls(); }, { 'data-testid': 'fix-error', class: 'primary' }));
        }
        errorSlot.replaceChildren(...parts);
        warnSlot.replaceChildren();
        results.hidden = true;
      }
    }

    // ---- drawing ---------------------------------------------------------------------

    let layoutKey = '';
    let inputGrids: Grid[] = [];
    let kernelGrids: Grid[] = [];
    let outputGrids: Grid[] = [];
    let kernelKey = '';
    let runningGrid: Grid | null = null;
    let runningCaption: HTMLElement = el('figcaption');

    /** The rows (and columns) the input grid spans: the padding, and past it where ceil mode's last window hangs over. */
    function inputExtent(r: ConvolutionResult, axis: 0 | 1): [number, number] {
      const a = r.axes[axis];
      if (s.mode === 'transposed') return [0, a.input - 1];
      const lastEnd = (a.outputSize - 1) * a.stride - a.padding[0] + a.span - 1;
      return [-a.padding[0], Math.max(a.input - 1 + a.padding[1], lastEnd)];
    }

    /** The rows the output grid spans: for a transposed convolution also the border its padding crops. */
    function outputExtent(r: ConvolutionResult, axis: 0 | 1): [number, number] {
      const a = r.axes[axis];
      const n = axis === 0 ? r.output.h : r.output.w;
      if (s.mode !== 'transposed') return [0, n - 1];
      const fullEnd = (a.input - 1) * a.stride - a.padding[0] + a.span - 1;
      return [Math.min(0, -a.padding[0]), Math.max(n - 1, fullEnd)];
    }

    function render(): void {
      const r = result;
      if (!r) return;
      renderSize(r);
      renderCode(r);
      const [ih0, ih1] = inputExtent(r, 0);
      const [iw0, iw1] = inputExtent(r, 1);
      const [oh0, oh1] = outputExtent(r, 0);
      const [ow0, ow1] = outputExtent(r, 1);
      const key = [s.mode, s.channels, ih0, ih1, iw0, iw1, oh0, oh1, ow0, ow1, r.output.c, s.input.join()].join('|');
      const budget = Math.min(440, Math.max(260, (results.clientWidth || 800) - 60));
      if (key !== layoutKey) {
        layoutKey = key;
        const perMap = s.channels > 1 ? Math.min(budget, 300) : budget;
        const icell = cellSizeFor(iw1 - iw0 + 1, perMap);
        inputGrids = Array.from({ length: s.channels }, (_, ch) => new Grid({
          rows: ih1 - ih0 + 1, cols: iw1 - iw0 + 1, r0: ih0, c0: iw0, cellSize: icell, testid: 'input-grid',
          label: `Input channel ${ch}${s.mode === 'transposed' ? '' : ', padding included'}`,
          editable: (row, col) => row >= 0 && col >= 0 && row < s.input[0] && col < s.input[1],
          onEdit: (row, col, v) => editInput(ch, row, col, v),
          axisLabel: (axis, n) => (n >= 0 && n < s.input[axis === 'row' ? 0 : 1] ? String(n) : 'p'),
          onPick: s.mode === 'transposed' ? (row, col) => { if (row >= 0 && row < s.input[0] && col >= 0 && col < s.input[1]) { pause(); go(row * s.input[1] + col); } } : undefined,
        }));
        inputBox.replaceChildren(...inputGrids.map((g, ch) => el('figure', { class: 'map', 'data-channel': ch }, g.root, el('figcaption', {}, s.channels > 1 ? `channel ${ch}` : `${s.input[0]} x ${s.input[1]}`))));
        const outC = r.output.c;
        const ocell = cellSizeFor(ow1 - ow0 + 1, outC > 2 ? Math.min(budget, 200) : outC > 1 ? Math.min(budget, 260) : budget);
        outputGrids = Array.from({ length: outC }, (_, o) => new Grid({
          rows: oh1 - oh0 + 1, cols: ow1 - ow0 + 1, r0: oh0, c0: ow0, cellSize: ocell, testid: 'output-grid', label: `Output channel ${o}`,
          axisLabel: (axis, n) => (n >= 0 && n < (axis === 'row' ? r.output.h : r.output.w) ? String(n) : ''),
          onPick: (row, col) => pickOutput(o, row, col),
        }));
        outputBox.replaceChildren(...outputGrids.map((g, o) => el('figure', { class: 'map', 'data-channel': o }, g.root, el('figcaption', {}, `${s.mode === 'transposed' ? "Stride's output" : ''}${outC > 1 ? ` channel ${o}` : ` ${r.output.h} x ${r.output.w}`}`.trim()))));
        // A transposed convolution adds up its scatters: the running sum after the current input, beside Stride's result.
        runningGrid = s.mode === 'transposed' ? new Grid({ rows: oh1 - oh0 + 1, cols: ow1 - ow0 + 1, r0: oh0, c0: ow0, cellSize: ocell, testid: 'running-grid', label: 'Running sum of the scatters so far' }) : null;
        runningCaption = el('figcaption', {});
        if (runningGrid) outputBox.prepend(el('figure', { class: 'map running' }, runningGrid.root, runningCaption));
        kernelKey = '';
      }
      fillInput(r);
      fillOutput(r);
      renderKernel();
      inputTitle.textContent = s.mode === 'transposed' ? 'Input' : r.padded ? 'Input, padded' : 'Input';
      outputTitle.textContent = s.mode === 'transposed' && r.pads.some((p) => p > 0) ? 'Output (hatched border: cropped by the padding)' : 'Output';
      renderOch();
      const n = stepCount(s, r);
      scrub.max = String(Math.max(0, n - 1));
      if (s.step >= n) s.step = 0;
      renderStep();
    }

    function fillInput(r: ConvolutionResult): void {
      const m = Math.max(maxAbs(vals.x), r.padded ? maxAbs(r.padded.data) : 0, 1);
      const [ih0, ih1] = inputExtent(r, 0);
      const [iw0, iw1] = inputExtent(r, 1);
      const [H, W] = s.input;
      const [top, bottom, left, right] = r.pads;
      const fit = s.mode === 'transposed' ? null : fitSummary(s, r);
      const unseenR = new Set([...(fit?.unseenRows ?? []), ...(fit?.gapRows ?? [])]);
      const unseenC = new Set([...(fit?.unseenCols ?? []), ...(fit?.gapCols ?? [])]);
      inputGrids.forEach((g, ch) => {
        for (let i = ih0; i <= ih1; i++) {
          for (let j = iw0; j <= iw1; j++) {
            const real = i >= 0 && j >= 0 && i < H && j < W;
            if (real) {
              const v = vals.x[(ch * H + i) * W + j];
              g.set(i, j, fmt(v), colour(v, m * 1.6), unseenR.has(i) || unseenC.has(j) ? ['unseen'] : [], v);
              continue;
            }
            const inPad = i >= -top && i < H + bottom && j >= -left && j < W + right;
            if (!inPad) { g.set(i, j, '', null, ['outside']); continue; }
            if (s.mode === 'pool') {
              g.set(i, j, s.pool === 'max' ? '−∞' : '0', null, ['pad']);
            } else if (s.paddingMode === 'partial') {
              g.set(i, j, '', null, ['pad', 'hole']);
            } else {
              const v = r.padded ? r.padded.data[(ch * r.padded.h + i + top) * r.padded.w + j + left] : 0;
              g.set(i, j, fmt(v), colour(v, m * 1.6), ['pad'], v);
            }
          }
        }
      });
    }

    function fillOutput(r: ConvolutionResult): void {
      const m = Math.max(maxAbs(r.output.data), 1e-6);
      const [oh0, oh1] = outputExtent(r, 0);
      const [ow0, ow1] = outputExtent(r, 1);
      const { h, w } = r.output;
      outputGrids.forEach((g, o) => {
        for (let i = oh0; i <= oh1; i++) {
          for (let j = ow0; j <= ow1; j++) {
            if (i < 0 || j < 0 || i >= h || j >= w) { g.set(i, j, '', null, ['crop']); continue; }
            const v = r.output.data[(o * h + i) * w + j];
            g.set(i, j, fmt(v), colour(v, m * 1.25), [], v);
          }
        }
      });
    }

    /** The kernel of the followed output channel (one map per input channel of its group), editable; pooling shows its window. */
    function renderKernel(): void {
      const shape = weightShape(s);
      const o = s.och;
      const chans = groupChannels(s, o);
      const key = [s.mode, s.kernel.join(), o, chans.join(), s.bias, s.filters, s.groups, s.channels, s.pool].join('|');
      const [kH, kW] = s.kernel;
      if (key !== kernelKey) {
        kernelKey = key;
        const cell = cellSizeFor(kW, 200);
        kernelGrids = (shape ? chans : [0]).map((c, k) => new Grid({
          rows: kH, cols: kW, cellSize: Math.max(cell, 20), testid: 'kernel-grid',
          label: shape ? `Kernel of output channel ${o}, input channel ${c}` : `Pooling window ${kH} x ${kW}`,
          editable: () => shape !== null,
          onEdit: (u, v, value) => editWeight(k, u, v, value),
        }));
        const figs = kernelGrids.map((g, k) => el('figure', { class: 'map' }, g.root, el('figcaption', {}, shape ? (chans.length > 1 || s.filters > 1 ? `filter ${o}, channel ${chans[k]}` : `${kH} x ${kW}`) : `${POOL_LABELS[s.pool]} over ${kH} x ${kW}`)));
        kernelBox.replaceChildren(...figs);
        if (shape && vals.b) {
          const id = uniqueId('bias');
          const input = el('input', { id, type: 'number', step: 'any', value: vals.b[o], 'data-testid': 'bias-value', class: 'bias-input' });
          input.addEventListener('change', () => {
            const v = input.valueAsNumber;
            if (!Number.isFinite(v)) return;
            const b = [...(vals.b ?? [])];
            b[o] = v;
            set({ b });
          });
          kernelBox.append(el('div', { class: 'field bias-field' }, el('label', { for: id }, `Bias of filter ${o}`), input));
        }
      }
      kernelTitle.textContent = s.mode === 'pool' ? 'Window' : s.mode === 'transposed' ? 'Kernel (scattered)' : 'Kernel';
      const m = Math.max(maxAbs(vals.w), 1);
      kernelGrids.forEach((g, k) => {
        for (let u = 0; u < kH; u++) {
          for (let v = 0; v < kW; v++) {
            if (!shape) { g.set(u, v, s.pool === 'max' ? 'max' : s.pool === 'avg' ? `1/${kH * kW}` : 'x²', null, ['window-cell']); continue; }
            const idx = s.mode === 'conv'
              ? ((o * shape[1] + k) * kH + u) * kW + v
              : ((chans[k] * shape[1] + (o % shape[1])) * kH + u) * kW + v;
            const wv = vals.w[idx];
            g.set(u, v, fmt(wv), colour(wv, m * 1.6), [], wv);
          }
        }
      });
      const bias = kernelBox.querySelector<HTMLInputElement>('.bias-input');
      if (bias && vals.b && document.activeElement !== bias) bias.value = String(vals.b[o]);
    }

    let ochSelect: ReturnType<typeof selectField<`${number}`>> | null = null;
    let ochCount = 0;

    /** The output channel the animation follows: a select when there are several (rebuilt only when their number changes). */
    function renderOch(): void {
      const n = outChannels(s);
      if (n <= 1) { ochSelectHolder.replaceChildren(); ochSelect = null; ochCount = n; return; }
      if (ochSelect && ochCount === n) { ochSelect.set(String(s.och) as `${number}`); return; }
      ochCount = n;
      ochSelect = selectField({
        label: 'Follow output channel', value: String(s.och) as `${number}`, testid: 'och',
        options: Array.from({ length: n }, (_, i) => ({ value: String(i) as `${number}`, label: `channel ${i}` })),
        onChange: (v) => { followChannel(Number(v)); renderStep(); },
      });
      ochSelectHolder.replaceChildren(ochSelect.root);
    }

    function followChannel(o: number): void {
      if (o === s.och) return;
      s.och = o;
      ctx.setParams({ och: o });
      kernelKey = '';
      renderKernel();
      renderOch();
    }

    /**
     * Moves the window to a step and draws it. Past the last position it goes
     * on with the next output channel (before the first, the previous one), so
     * playing shows every filter in turn.
     */
    function go(step: number): void {
      if (!result) return;
      const n = stepCount(s, result);
      const channels = outChannels(s);
      if (step >= n || step < 0) {
        const shift = Math.floor(step / n);
        followChannel((((s.och + shift) % channels) + channels) % channels);
      }
      s.step = ((step % n) + n) % n;
      ctx.setParams({ step: s.step });
      renderStep();
    }

    function renderStep(): void {
      const r = result;
      if (!r) return;
      const n = stepCount(s, r);
      const [i, j] = stepCell(s, r, s.step);
      scrub.value = String(s.step);
      scrub.setAttribute('aria-valuetext', `${s.mode === 'transposed' ? 'input' : 'output'} cell (${i}, ${j}), ${s.step + 1} of ${n}`);
      position.textContent = `${s.step + 1} / ${n}: ${s.mode === 'transposed' ? 'input' : 'output'} (${i}, ${j})`;
      const taps = windowTaps(r, i, j);
      const o = s.och;
      const chans = groupChannels(s, o);
      // the span of a dilated window: its taps and the holes between them
      const [h, w] = r.axes;
      const spanCells: [number, number][] = [];
      const r0 = i * h.stride - h.padding[0];
      const c0 = j * w.stride - w.padding[0];
      for (let a = 0; a < h.span; a++) for (let b = 0; b < w.span; b++) spanCells.push([r0 + a, c0 + b]);
      if (s.mode === 'transposed') {
        inputGrids.forEach((g, ch) => { g.mark('current', chans.includes(ch) ? [[i, j]] : []); g.mark('tap', []); g.mark('span', []); });
        outputGrids.forEach((g, oc) => {
          g.mark('tap', oc === o ? taps.map((t) => [t.r, t.c] as [number, number]) : []);
          g.mark('span', oc === o ? spanCells : []);
          g.mark('current', []);
        });
        outputGrids[o]?.reveal('tap');
      } else {
        inputGrids.forEach((g, ch) => {
          const on = chans.includes(ch);
          g.mark('tap', on ? taps.map((t) => [t.r, t.c] as [number, number]) : []);
          g.mark('span', on ? spanCells : []);
          g.mark('current', []);
          if (on) g.reveal('tap');
        });
        outputGrids.forEach((g, oc) => { g.mark('current', oc === o ? [[i, j]] : []); g.mark('tap', []); g.mark('span', []); });
        outputGrids[o]?.reveal('current');
      }
      kernelGrids.forEach((g) => g.mark('tap', []));
      annotate(r, taps, i, j);
      if (s.mode === 'transposed') renderRunning(r);
      drawLinks();
      const text = describeStep(s, r, vals, o, s.step);
      stepTitle.textContent = text.title;
      stepLines.replaceChildren(...text.lines.map((l) => el('div', {}, l)));
    }

    /**
     * Lines from the window to the cell it makes (convolution, pooling), or
     * from the input cell to the window it writes (transposed): the corners of
     * one joined to the corners of the other, as far as both are in view.
     */
    function drawLinks(): void {
      links.replaceChildren();
      if (!result) return;
      const base = stage.getBoundingClientRect();
      links.setAttribute('width', String(base.width));
      links.setAttribute('height', String(base.height));
      const union = (cells: Iterable<Element>): DOMRect | null => {
        let box: { l: number; t: number; r: number; b: number } | null = null;
        for (const c of cells) {
          const q = c.getBoundingClientRect();
          box = box ? { l: Math.min(box.l, q.left), t: Math.min(box.t, q.top), r: Math.max(box.r, q.right), b: Math.max(box.b, q.bottom) } : { l: q.left, t: q.top, r: q.right, b: q.bottom };
        }
        if (!box) return null;
        return new DOMRect(box.l, box.t, box.r - box.l, box.b - box.t);
      };
      // the part of a rectangle its scroll box shows
      const visible = (rect: DOMRect | null, inside: Element): DOMRect | null => {
        const sc = inside.closest('.scroll-x');
        if (!rect || !sc) return rect;
        const v = sc.getBoundingClientRect();
        const l = Math.max(rect.left, v.left);
        const rr = Math.min(rect.right, v.right);
        return rr - l < 2 ? null : new DOMRect(l, rect.top, rr - l, rect.height);
      };
      // only while the output stands beside the input: stacked (a narrow screen), the lines would cross the grids between them
      const [inPart, , outPart] = [...stage.querySelectorAll(':scope > .stage-part')].map((e) => e.getBoundingClientRect());
      if (!inPart || !outPart || outPart.left < inPart.right || outPart.top >= inPart.bottom) return;
      const o = s.och;
      const chans = groupChannels(s, o);
      const outFig = outputBox.querySelector(`figure[data-channel="${o}"]`);
      const pairs: [DOMRect | null, DOMRect | null][] = [];
      for (const ch of chans) {
        const inFig = inputBox.querySelector(`figure[data-channel="${ch}"]`);
        if (!inFig || !outFig) continue;
        const a = s.mode === 'transposed' ? inFig.querySelectorAll('.cell.current') : inFig.querySelectorAll('.cell.tap');
        const b = s.mode === 'transposed' ? outFig.querySelectorAll('.cell.tap') : outFig.querySelectorAll('.cell.current');
        pairs.push([visible(union(a), inFig), visible(union(b), outFig)]);
      }
      const ns = 'http://www.w3.org/2000/svg';
      for (const [a, b] of pairs) {
        if (!a || !b) continue;
        const corners = (q: DOMRect) => [[q.left, q.top], [q.right, q.top], [q.left, q.bottom], [q.right, q.bottom]];
        const ca = corners(a);
        const cb = corners(b);
        for (let k = 0; k < 4; k++) {
          const line = document.createElementNS(ns, 'line');
          line.setAttribute('x1', String(ca[k][0] - base.left));
          line.setAttribute('y1', String(ca[k][1] - base.top));
          line.setAttribute('x2', String(cb[k][0] - base.left));
          line.setAttribute('y2', String(cb[k][1] - base.top));
          links.append(line);
        }
      }
    }

    /** The weight each tap multiplies by, on the input cells under the window; for a transposed convolution what each output cell receives. */
    function annotate(r: ConvolutionResult, taps: ReturnType<typeof windowTaps>, i: number, j: number): void {
      const o = s.och;
      const chans = groupChannels(s, o);
      const shape = weightShape(s);
      const [kH, kW] = s.kernel;
      inputGrids.forEach((g) => g.annotate([]));
      outputGrids.forEach((g) => g.annotate([]));
      runningGrid?.annotate([]);
      if (s.mode === 'pool') {
        // max: the winner; average: the divisor; L2: the square
        const [H, W] = s.input;
        const real = taps.filter((t) => t.r >= 0 && t.c >= 0 && t.r < H && t.c < W);
        const g = inputGrids[o];
        if (!g || !real.length) return;
        if (s.pool === 'max') {
          const value = (t: { r: number; c: number }) => vals.x[(o * H + t.r) * W + t.c];
          const best = real.reduce((a, t) => (value(t) > value(a) ? t : a));
          g.annotate([[best.r, best.c, 'max']]);
        } else if (s.pool === 'l2') g.annotate(real.map((t) => [t.r, t.c, '²'] as const));
        return;
      }
      if (!shape) return;
      if (s.mode === 'conv') {
        chans.forEach((ch, k) => {
          const partial = s.paddingMode === 'partial';
          inputGrids[ch]?.annotate(taps
            .filter((t) => !partial || (t.r >= 0 && t.c >= 0 && t.r < s.input[0] && t.c < s.input[1]))
            .map((t) => [t.r, t.c, `×${fmt(vals.w[((o * shape[1] + k) * kH + t.u) * kW + t.v]).replace('-', '−')}`] as const));
        });
        return;
      }
      // transposed: what each output cell of the window gets from this input (summed over the group's channels)
      const adds = taps.map((t) => {
        let sum = 0;
        for (const ch of chans) sum += vals.x[(ch * s.input[0] + i) * s.input[1] + j] * vals.w[((ch * shape[1] + (o % shape[1])) * kH + t.u) * kW + t.v];
        return [t.r, t.c, `+${fmt(sum).replace('-', '−')}`] as const;
      });
      runningGrid?.annotate(adds);
    }

    /** The transposed convolution's output so far: bias, plus the scatters of the inputs up to the current one (raster order). */
    function renderRunning(r: ConvolutionResult): void {
      const g = runningGrid;
      const shape = weightShape(s);
      if (!g || !shape) return;
      const o = s.och;
      const chans = groupChannels(s, o);
      const { h, w } = r.output;
      const [H, W] = s.input;
      const [kH, kW] = s.kernel;
      const sum = new Float64Array(h * w).fill(vals.b ? vals.b[o] : 0);
      for (let k = 0; k <= s.step; k++) {
        const i = Math.floor(k / W);
        const j = k % W;
        for (const t of windowTaps(r, i, j)) {
          if (t.r < 0 || t.c < 0 || t.r >= h || t.c >= w) continue;
          for (const ch of chans) sum[t.r * w + t.c] += vals.x[(ch * H + i) * W + j] * vals.w[((ch * shape[1] + (o % shape[1])) * kH + t.u) * kW + t.v];
        }
      }
      const m = Math.max(maxAbs(r.output.data), 1e-6);
      const [oh0, oh1] = outputExtent(r, 0);
      const [ow0, ow1] = outputExtent(r, 1);
      for (let i = oh0; i <= oh1; i++) {
        for (let j = ow0; j <= ow1; j++) {
          if (i < 0 || j < 0 || i >= h || j >= w) { g.set(i, j, '', null, ['crop']); continue; }
          const v = sum[i * w + j];
          g.set(i, j, fmt(v), colour(v, m * 1.25), [], v);
        }
      }
      const taps = windowTaps(r, Math.floor(s.step / W), s.step % W);
      g.mark('tap', taps.map((t) => [t.r, t.c] as [number, number]));
      runningCaption.textContent = `running sum after ${s.step + 1} of ${H * W} inputs${outChannels(s) > 1 ? ` (channel ${o})` : ''}`;
    }

    function pickOutput(o: number, row: number, col: number): void {
      const r = result;
      if (!r) return;
      if (s.mode === 'transposed') {
        followChannel(o);
        renderStep();
        return;
      }
      if (row < 0 || col < 0 || row >= r.output.h || col >= r.output.w) return;
      pause();
      followChannel(o);
      go(row * r.output.w + col);
    }

    function editInput(ch: number, row: number, col: number, v: number): void {
      const x = [...vals.x];
      x[(ch * s.input[0] + row) * s.input[1] + col] = v;
      set({ x });
    }

    function editWeight(k: number, u: number, v: number, value: number): void {
      const shape = weightShape(s);
      if (!shape) return;
      const [kH, kW] = s.kernel;
      const o = s.och;
      const chans = groupChannels(s, o);
      const idx = s.mode === 'conv' ? ((o * shape[1] + k) * kH + u) * kW + v : ((chans[k] * shape[1] + (o % shape[1])) * kH + u) * kW + v;
      const w = [...vals.w];
      w[idx] = value;
      set({ w });
    }

    function play(): void {
      if (!result || timer !== null) return;
      playBtn.textContent = 'Pause';
      playBtn.setAttribute('aria-pressed', 'true');
      // while playing, a screen reader is not read every step
      stepBox.setAttribute('aria-live', 'off');
      timer = window.setInterval(() => go(s.step + 1), 1000 / s.speed);
    }

    function pause(): void {
      if (timer !== null) clearInterval(timer);
      timer = null;
      playBtn.textContent = 'Play';
      playBtn.setAttribute('aria-pressed', 'false');
      stepBox.setAttribute('aria-live', 'polite');
    }

    // ---- the size panel and the code ------------------------------------------------------

    function renderSize(r: ConvolutionResult): void {
      const [h, w] = r.axes;
      sizeOut.textContent = `${r.output.h} x ${r.output.w}`;
      const outC = r.output.c;
      shapeOut.textContent = `(height x width), ${outC} channel${outC === 1 ? '' : 's'}: output shape [1, ${outC}, ${r.output.h}, ${r.output.w}]`;
      generalFormula.textContent = s.mode === 'transposed'
        ? 'out = (n − 1)·s − 2p + d·(k − 1) + output_padding + 1'
        : s.mode === 'pool'
          ? `out = ${s.ceilMode ? 'ceil' : 'floor'}((n + 2p − d·(k − 1) − 1) / s) + 1${s.ceilMode ? ', less a last window that would start past the input and the left padding' : ''}`
          : 'out = floor((n + p_before + p_after − d·(k − 1) − 1) / s) + 1';
      const same = h.formula === w.formula;
      formulas.replaceChildren(...(same ? [['height and width', h.formula]] : [['height', h.formula], ['width', w.formula]]).map(([name, f]) =>
        el('p', { class: 'mono formula' }, el('span', { class: 'axis' }, `${name}: `), pretty(f))));
      const fit = fitSummary(s, r);
      fitOut.textContent = fit.sentence;
      // the verdict's lists, for checks and assistive tools: left over at the end, and gaps between the windows
      fitOut.dataset.unseenRows = fit.unseenRows.join(',');
      fitOut.dataset.unseenCols = fit.unseenCols.join(',');
      fitOut.dataset.gapRows = fit.gapRows.join(',');
      fitOut.dataset.gapCols = fit.gapCols.join(',');
      fitOut.className = `fit ${!fit.fits ? 'misfit' : fit.gapRows.length || fit.gapCols.length ? 'gaps' : 'fits'}`;
      const sug = fit.fits ? null : paddingSuggestion(s, r);
      suggestion.replaceChildren();
      if (sug) {
        suggestion.append(el('p', {}, el('strong', {}, 'Suggestion: '), sug.text));
        // the button only offers what the padding control can hold
        const within = (p: number | [number, number]) => (typeof p === 'number' ? [p] : p).every((v) => v >= LIMITS.padding[0] && v <= LIMITS.padding[1]);
        if (sug.padding !== null && within(sug.padding)) {
          const p = sug.padding;
          suggestion.append(button(`Use padding ${typeof p === 'number' ? p : formatPair(p)}`, () => {
            set({ padding: p });
            paddingField.set(formatPadding(p));
          }, { 'data-testid': 'apply-suggestion' }));
        }
      }
      if (s.mode === 'pool') params.textContent = 'Parameters: 0 (pooling is a fixed function of its input)';
      else {
        const cg = perGroup(s.mode === 'conv' ? s.channels : s.filters, s.groups);
        const k = s.kernel[0] * s.kernel[1];
        const per = s.mode === 'conv' ? cg * k : perGroup(s.channels, s.groups) * k;
        const weights = s.mode === 'conv' ? s.filters * cg * k : s.channels * cg * k;
        const total = weights + (s.bias ? s.filters : 0);
        params.textContent = s.mode === 'conv'
          ? `Parameters: ${s.filters} filter${s.filters === 1 ? '' : 's'} × (${per} weights (${cg} channel${cg === 1 ? '' : 's'} × ${s.kernel[0]}·${s.kernel[1]})${s.bias ? ' + 1 bias' : ''}) = ${total}`
          : `Parameters: ${weights} weights (${s.channels} × ${cg} × ${s.kernel[0]}·${s.kernel[1]})${s.bias ? ` + ${s.filters} biases` : ''} = ${total}`;
      }
      notes.replaceChildren(...r.notes.map((n) => el('li', {}, n)));
      about.replaceChildren(...settingNotes(s, r).map((n) => el('li', {}, n)));
      const sameStrided = s.mode === 'conv' && s.padding === 'same' && (s.stride[0] > 1 || s.stride[1] > 1);
      warnSlot.replaceChildren(...(sameStrided ? [el('p', { class: 'warn', role: 'status' }, el('strong', {}, "PyTorch refuses padding='same' with a stride > 1. "), `Stride follows TensorFlow here (padding top ${r.pads[0]}, bottom ${r.pads[1]}, left ${r.pads[2]}, right ${r.pads[3]}); the PyTorch code below spells that padding out.`)] : []));
      explainText.textContent = r.text;
    }

    function renderCode(r: ConvolutionResult): void {
      const c = codeLines(s, r);
      // one block per line: a long line wraps inside the box, its continuation indented under it
      const lines = (list: string[]) => list.flatMap((l, i) => [...(i ? ['\n'] : []), el('span', { class: 'line' }, l)]);
      strideCode.replaceChildren(...lines(c.stride));
      torchCode.replaceChildren(...lines(c.pytorch));
      codeNote.textContent = c.note;
    }

    // ---- start ------------------------------------------------------------------------------
    syncControls();
    showFor(s);
    vals = values(s);
    ctx.setParams(stateToParams(s));
    compute();
    const onResize = () => { layoutKey = ''; kernelKey = ''; if (result) render(); };
    let resizeTimer: number | null = null;
    const resized = () => { if (resizeTimer !== null) clearTimeout(resizeTimer); resizeTimer = window.setTimeout(onResize, 150); };
    window.addEventListener('resize', resized);
    return () => {
      pause();
      window.removeEventListener('resize', resized);
      if (pending !== null) cancelAnimationFrame(pending);
      request++;
    };
  },
};
