/**
 * #/architecture: what a network is made of. Any zoo model or layer pattern,
 * at any input shape: the totals (parameters, multiply-accumulates, memory),
 * a diagram of the layers with their output shapes, the receptive field of
 * one unit growing layer by layer, and Stride's summary table (the same
 * numbers as `stride summary`). URL: #/architecture?model=alexnet&input=3x224x224
 */
import './architecture.css';
import type { ArchitectureResult, ZooEntry } from '../compute/architecture.js';
import type { PageDefinition } from '../router.js';
import { CANCELLED, ComputeClient, ComputeError, call } from '../rpc.js';
import { el, errorBox, panel, selectField, textField, thousands } from '../ui.js';

type LayerRow = ArchitectureResult['summary']['layers'][number];

const PATTERN = 'pattern';
const DEFAULT_PATTERN = '[(conv3-32-relu)*2-pool2]*2-(fc128-relu)*1-fc10';

/** "3x224x224" -> [3, 224, 224]; null when it is not three positive integers. */
function parseShape(text: string): number[] | null {
  const parts = text.trim().toLowerCase().split(/\s*[x×,]\s*/);
  if (parts.length !== 3 || !parts.every((p) => /^\d+$/.test(p))) return null;
  const shape = parts.map(Number);
  return shape.every((n) => n >= 1 && n <= 4096) ? shape : null;
}

const shapeText = (s: readonly number[]) => s.join('×');

/** 714188480 -> "714.2M". */
function compact(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

function bytes(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

/** The layer kinds drawn as full blocks in the diagram; the rest (activations, normalization, dropout) as thin chips. */
const MAJOR = /Conv|Linear|Pool|Subsampling|RBF|Upsample|Flatten/;
/** The blocks drawn as a frame with a skip connection. */
const RESIDUAL = /Block|Bottleneck|Residual/;

function kindClass(type: string): string {
  if (/Conv/.test(type)) return 'conv';
  if (/Linear|RBF/.test(type)) return 'fc';
  if (/Pool|Subsampling/.test(type)) return 'pool';
  return 'other';
}

/** A block of the diagram: a square whose side grows with the map's height and width, stacked as deep as it has channels. */
function diagramBlock(row: LayerRow, index: number, onPick: (i: number) => void): HTMLElement {
  const [c, h, w] = row.outputShape.length === 3 ? row.outputShape : [row.outputShape.reduce((a, b) => a * b, 1), 1, 1];
  const side = (n: number) => Math.max(6, Math.min(64, 6 + 10 * Math.log2(n)));
  const bh = side(h);
  const bw = side(w);
  const depth = Math.max(1, Math.min(8, Math.round(Math.log2(c + 1))));
  const svgW = bw + depth * 3 + 2;
  const svgH = bh + depth * 3 + 2;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', String(svgW));
  svg.setAttribute('height', String(svgH));
  svg.setAttribute('aria-hidden', 'true');
  for (let k = depth - 1; k >= 0; k--) {
    const r = document.createElementNS(ns, 'rect');
    r.setAttribute('x', String(1 + k * 3));
    r.setAttribute('y', String(1 + (depth - 1 - k) * 3));
    r.setAttribute('width', String(bw));
    r.setAttribute('height', String(bh));
    r.setAttribute('class', `slab ${kindClass(row.type)}`);
    svg.append(r);
  }
  const b = el('button', { type: 'button', class: `block ${kindClass(row.type)}`, 'data-index': index, title: `${row.name} (${row.type}): output ${shapeText(row.outputShape)}` },
    el('span', { class: 'pic' }, svg),
    el('span', { class: 'type' }, row.type),
    el('span', { class: 'name mono' }, row.name || '(model)'),
    el('span', { class: 'shape mono' }, shapeText(row.outputShape)));
  b.addEventListener('click', () => onPick(index));
  return b;
}

/** The input image with the field of the centre unit of layer `row` drawn on it (padding outside the image dashed). */
function drawField(svgHost: HTMLElement, input: readonly number[], row: LayerRow | null): void {
  const [, H, W] = input;
  const ns = 'http://www.w3.org/2000/svg';
  const size = 220;
  const pad = 30;
  const scale = (size - 2 * pad) / Math.max(H, W);
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('class', 'field-svg');
  svg.setAttribute('role', 'img');
  const add = (tag: string, attrs: Record<string, string | number>) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    svg.append(e);
    return e;
  };
  add('rect', { x: pad, y: pad, width: W * scale, height: H * scale, class: 'image' });
  if (!row) {
    svg.setAttribute('aria-label', `the input, ${H} by ${W}`);
    svgHost.replaceChildren(svg);
    return;
  }
  const outH = row.outputShape.length === 3 ? row.outputShape[1] : 1;
  const outW = row.outputShape.length === 3 ? row.outputShape[2] : 1;
  const [sh, sw] = row.receptiveField.size;
  const [jh, jw] = row.receptiveField.jump;
  const [th, tw] = row.receptiveField.start;
  const ui = Math.floor((outH - 1) / 2);
  const uj = Math.floor((outW - 1) / 2);
  const top = th + ui * jh;
  const left = tw + uj * jw;
  // clip the drawing to the canvas; the numbers below say the full size
  const x0 = Math.max(-pad / scale, left);
  const y0 = Math.max(-pad / scale, top);
  const x1 = Math.min(W + pad / scale, left + sw);
  const y1 = Math.min(H + pad / scale, top + sh);
  add('rect', { x: pad + x0 * scale, y: pad + y0 * scale, width: (x1 - x0) * scale, height: (y1 - y0) * scale, class: 'rf' });
  const spill = top < 0 || left < 0 || top + sh > H || left + sw > W;
  svg.setAttribute('aria-label', `the receptive field of unit (${ui}, ${uj}) of ${row.name}: rows ${top} to ${top + sh - 1}, columns ${left} to ${left + sw - 1} of the ${H} by ${W} input${spill ? ', reaching into the padding' : ''}`);
  svgHost.replaceChildren(svg);
}

/**
 * What one unit of `row` sees, in words. A field that covers the whole image
 * (every fully connected layer after the convolutions) is said to, with its
 * nominal size, which runs past the image into the padding; a layer with one
 * unit per axis has no neighbours to be apart from.
 */
export function fieldSentence(row: LayerRow, input: readonly number[]): string {
  const [, H, W] = input;
  const { size, jump, start } = row.receptiveField;
  const who = `${row.name || '(model)'} (${row.type})`;
  const whole = start[0] <= 0 && start[1] <= 0 && start[0] + size[0] >= H && start[1] + size[1] >= W;
  const beyond = start[0] < 0 || start[1] < 0 || start[0] + size[0] > H || start[1] + size[1] > W;
  const single = jump[0] === 0 && jump[1] === 0;
  const sees = whole
    ? `one unit sees the whole ${H}×${W} image${size[0] > H || size[1] > W ? ` (its field is ${size[0]}×${size[1]} from (${start[0]}, ${start[1]}): it runs past the image into the padding)` : ''}`
    : `one unit sees ${size[0]}×${size[1]} input pixels`;
  const apart = single ? 'every unit sees the same field' : `neighbouring units' fields are ${jump[0]}×${jump[1]} pixels apart`;
  const first = whole ? '' : `; the first starts at (${start[0]}, ${start[1]})${beyond ? ', partly in the padding' : ''}`;
  return `${who}: ${sees}; ${apart}${first}.`;
}

/** A small line chart of the receptive field's size (height) after each layer. */
function fieldChart(rows: LayerRow[], selected: number, onPick: (i: number) => void): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const w = 560;
  const h = 140;
  const m = { l: 40, r: 8, t: 8, b: 20 };
  const max = Math.max(1, ...rows.map((r) => r.receptiveField.size[0]));
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('class', 'rf-chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `receptive field height per layer, from ${rows[0]?.receptiveField.size[0] ?? 0} to ${rows.at(-1)?.receptiveField.size[0] ?? 0} pixels`);
  const x = (i: number) => m.l + (rows.length <= 1 ? 0 : (i * (w - m.l - m.r)) / (rows.length - 1));
  const y = (v: number) => h - m.b - (v / max) * (h - m.t - m.b);
  const add = (tag: string, attrs: Record<string, string | number>, text?: string) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  add('line', { x1: m.l, y1: y(0), x2: w - m.r, y2: y(0), class: 'axis' });
  add('line', { x1: m.l, y1: y(0), x2: m.l, y2: m.t, class: 'axis' });
  add('text', { x: m.l - 4, y: y(max) + 4, 'text-anchor': 'end', class: 'tick' }, String(max));
  add('text', { x: m.l - 4, y: y(0), 'text-anchor': 'end', class: 'tick' }, '0');
  add('text', { x: m.l, y: h - 4, class: 'tick' }, 'layer →');
  add('polyline', { points: rows.map((r, i) => `${x(i)},${y(r.receptiveField.size[0])}`).join(' '), class: 'line' });
  rows.forEach((r, i) => {
    const c = add('circle', { cx: x(i), cy: y(r.receptiveField.size[0]), r: i === selected ? 5 : 2.5, class: i === selected ? 'dot selected' : 'dot' });
    c.addEventListener('click', () => onPick(i));
  });
  return svg;
}

function summaryTable(rows: LayerRow[], selected: number, onPick: (i: number) => void): HTMLTableElement {
  const head = ['Layer', 'Type', 'Output', 'Params', 'Neurons', 'Weights/neuron', 'Connections', 'MACs', 'RF', 'Jump', 'Start'];
  const table = el('table', { class: 'data', 'data-testid': 'summary-table' },
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col' }, h)))));
  const body = el('tbody');
  rows.forEach((r, i) => {
    const rf = r.receptiveField;
    const tr = el('tr', { class: i === selected ? 'selected' : '', tabindex: 0, 'aria-selected': i === selected ? 'true' : 'false' },
      el('td', { class: 'mono', style: `padding-left:${8 + 10 * Math.max(0, r.depth - 1)}px` }, r.name || '(model)'),
      el('td', {}, r.type),
      el('td', { class: 'mono' }, shapeText(r.outputShape)),
      el('td', {}, thousands(r.params)),
      el('td', {}, thousands(r.neurons)),
      // weights per neuron is a count of weights: layers without parameters (pooling, LRN) have none
      el('td', {}, r.params > 0 && r.weightsPerNeuron ? thousands(Math.round(r.weightsPerNeuron * 100) / 100) : '–'),
      el('td', {}, r.connections ? thousands(r.connections) : '–'),
      el('td', {}, r.macs ? thousands(r.macs) : '–'),
      el('td', { class: 'mono' }, rf.size.join('×')),
      el('td', { class: 'mono' }, rf.jump.join('×')),
      el('td', { class: 'mono' }, rf.start.join(',')));
    tr.addEventListener('click', () => onPick(i));
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        onPick(i);
      }
    });
    body.append(tr);
  });
  table.append(body);
  return table;
}

export const architecturePage: PageDefinition = {
  path: 'architecture',
  title: 'Architecture',
  blurb: 'Shapes, parameters, multiply-accumulates and receptive fields of any model, layer by layer.',
  mount(root, ctx) {
    const status = el('p', { class: 'muted', 'aria-live': 'polite' });
    const totals = el('dl', { class: 'totals' });
    const description = el('p', { class: 'muted description' });
    const warnings = el('div');
    const diagram = el('div', { class: 'diagram', 'data-testid': 'diagram' });
    const fieldPic = el('div', { class: 'field-pic' });
    const fieldText = el('p', { class: 'field-text', 'data-testid': 'receptive-field', 'aria-live': 'polite' });
    const chartHost = el('div', { class: 'scroll-x' });
    const tableHost = el('div', { class: 'scroll-x' });
    const slider = el('input', { type: 'range', id: 'rf-layer', min: 0, max: 0, value: 0, step: 1, 'data-testid': 'rf-layer' });

    // Tracing runs a forward pass at full size (seconds for VGG at 224, longer for a large pattern): it gets a
    // worker of its own, so the other pages never wait for it, and a new request cancels the one in flight.
    let tracer = new ComputeClient('stride-architecture');
    let wantedLayer = ctx.params.get('layer');
    let zoo: ZooEntry[] = [];
    let model = ctx.params.get('model') ?? 'alexnet';
    let pattern = ctx.params.get('pattern') ?? DEFAULT_PATTERN;
    let inputText = ctx.params.get('input') ?? '';
    let result: ArchitectureResult | null = null;
    let selected = 0;
    let request = 0;

    const modelSelect = selectField<string>({ label: 'Model', value: model, options: [model], testid: 'model', onChange: (v) => { model = v; inputText = ''; inputField.input.value = ''; update(); } });
    const patternField = textField({ label: 'Layer pattern', value: pattern, placeholder: DEFAULT_PATTERN, testid: 'pattern', onChange: (v) => { pattern = v; scheduleUpdate(); } });
    const inputField = textField({ label: 'Input shape (C×H×W)', value: inputText, placeholder: "the model's", testid: 'input-shape', onChange: (v) => { inputText = v; scheduleUpdate(); } });
    const inputError = el('p', { class: 'error', role: 'alert', hidden: true });

    let timer: ReturnType<typeof setTimeout> | undefined;
    const scheduleUpdate = () => {
      clearTimeout(timer);
      timer = setTimeout(update, 300);
    };

    const pick = (i: number) => {
      if (!result) return;
      selected = Math.max(0, Math.min(result.summary.layers.length - 1, i));
      slider.value = String(selected);
      renderSelection();
    };

    function renderSelection(): void {
      if (!result) return;
      const rows = result.summary.layers;
      const row = rows[selected] ?? null;
      drawField(fieldPic, result.summary.input, row);
      if (row) fieldText.textContent = fieldSentence(row, result.summary.input);
      ctx.setParams({ layer: row && selected > 0 ? row.name || null : null });
      chartHost.replaceChildren(fieldChart(rows, selected, pick));
      for (const b of diagram.querySelectorAll<HTMLElement>('.block')) b.setAttribute('aria-pressed', b.dataset.index === String(selected) ? 'true' : 'false');
      for (const [i, tr] of [...tableHost.querySelectorAll('tbody tr')].entries()) {
        tr.classList.toggle('selected', i === selected);
        tr.setAttribute('aria-selected', i === selected ? 'true' : 'false');
      }
    }

    function render(): void {
      if (!result) return;
      const s = result.summary;
      description.textContent = result.description;
      totals.replaceChildren(
        el('dt', {}, 'Parameters'), el('dd', { 'data-testid': 'total-params' }, thousands(s.totalParams)),
        el('dt', {}, 'Trainable'), el('dd', {}, thousands(s.trainableParams)),
        el('dt', {}, 'Multiply-accumulates'), el('dd', { title: thousands(s.macs) }, compact(s.macs)),
        el('dt', {}, 'FLOPs (2 per MAC)'), el('dd', { title: thousands(s.flops) }, compact(s.flops)),
        el('dt', {}, 'Activations, one image'), el('dd', {}, bytes(s.activationBytes)),
        el('dt', {}, 'Weights (float32)'), el('dd', {}, bytes(4 * s.totalParams)),
        el('dt', {}, 'Layers'), el('dd', {}, String(s.layers.length)),
      );
      warnings.replaceChildren(...s.warnings.map((w) => el('p', { class: 'muted' }, `Note: ${w}`)));
      const item = (i: number): HTMLElement => {
        const r = s.layers[i];
        if (MAJOR.test(r.type)) return diagramBlock(r, i, pick);
        const chip = el('button', { type: 'button', class: 'block chip', 'data-index': i, title: `${r.name} (${r.type})` }, r.type);
        chip.addEventListener('click', () => pick(i));
        return chip;
      };
      // Residual blocks: their layers inside a frame that says how the block adds its shortcut.
      const residual = new Map(s.blocks.filter((b) => RESIDUAL.test(b.type) && b.layers[1] > b.layers[0]).map((b) => [b.layers[0], b]));
      const items: HTMLElement[] = [el('div', { class: 'block input' }, el('span', { class: 'type' }, 'Input'), el('span', { class: 'shape mono' }, shapeText(s.input)))];
      for (let i = 0; i < s.layers.length; i++) {
        const b = residual.get(i);
        if (!b) {
          items.push(item(i));
          continue;
        }
        const inside = [];
        for (let j = b.layers[0]; j < b.layers[1]; j++) inside.push(item(j));
        const projected = s.layers.slice(b.layers[0], b.layers[1]).some((r) => /(^|\.)(downsample|shortcut)(\.|$)/.test(r.name));
        items.push(el('div', { class: 'residual', role: 'group', 'aria-label': `${b.name}, a ${b.type}` },
          el('span', { class: 'residual-label' }, `${b.name} · ${b.type}: relu(layers(x) + ${projected ? 'shortcut(x)' : 'x'})`),
          el('div', { class: 'residual-body' }, ...inside)));
        i = b.layers[1] - 1;
      }
      diagram.replaceChildren(...items);
      tableHost.replaceChildren(summaryTable(s.layers, selected, pick));
      slider.max = String(Math.max(0, s.layers.length - 1));
      renderSelection();
    }

    async function update(): Promise<void> {
      const custom = model === PATTERN;
      patternField.root.hidden = !custom;
      const name = custom ? pattern.trim() : model;
      let input: number[] | undefined;
      if (inputText.trim() !== '') {
        const shape = parseShape(inputText);
        if (!shape) {
          inputError.textContent = `"${inputText}" is not an image shape: write channels×height×width, such as 3x224x224 or 1x28x28.`;
          inputError.hidden = false;
          return;
        }
        input = shape;
      }
      inputError.hidden = true;
      ctx.setParams({ model, pattern: custom ? pattern : null, input: inputText.trim() || null });
      const id = ++request;
      if (tracer.busy) {
        tracer.terminate();
        tracer = new ComputeClient('stride-architecture');
      }
      status.textContent = `Tracing ${name} through one zero image…`;
      status.classList.remove('error');
      try {
        const r = await tracer.call('architectureSummary', input ? { model: name, input } : { model: name });
        if (id !== request) return;
        result = r;
        const named = wantedLayer === null ? -1 : r.summary.layers.findIndex((l) => l.name === wantedLayer);
        wantedLayer = null;
        selected = named >= 0 ? named : Math.min(selected, r.summary.layers.length - 1);
        status.textContent = `${name} on a ${shapeText(r.summary.input)} input.`;
        render();
      } catch (err) {
        if (id !== request || (err instanceof ComputeError && err.kind === CANCELLED)) return;
        status.textContent = '';
        status.replaceChildren(errorBox((err as Error).message));
      }
    }

    slider.addEventListener('input', () => pick(Number(slider.value)));

    root.append(
      el('h1', {}, 'Architecture'),
      el('p', { class: 'lead' }, 'Pick a model from the zoo or write a layer pattern. Every number below comes from tracing the model through one image: output shapes, parameters, the multiply-accumulates of one image, and the receptive field of one unit (how many input pixels it sees). Click a layer to follow its receptive field.'),
      el('div', { class: 'layout' },
        el('div', { class: 'stack' },
          panel('Model', modelSelect.root, patternField.root, inputField.root, inputError, description),
          panel('Totals', totals, warnings)),
        el('div', { class: 'stack' },
          status,
          panel('Layers', el('p', { class: 'muted small' }, 'Each block is a layer\'s output: the square grows with its height and width, the stack with its channels. Blue: convolution, green: pooling, purple: fully connected.'), diagram),
          panel('Receptive field',
            el('div', { class: 'rf-row' },
              fieldPic,
              el('div', { class: 'rf-side' },
                el('label', { for: 'rf-layer' }, 'Layer'), slider, fieldText)),
            chartHost),
          )),
      panel('Summary', el('p', { class: 'muted small' }, 'The numbers of `stride summary`. Weights/neuron and connections count the bias, as the lectures do; MACs are for one image; RF, Jump and Start locate the receptive field of one unit in input pixels.'), tableHost),
    );

    call('architectureModels', undefined).then((list) => {
      zoo = list;
      const options = [...zoo.map((z) => ({ value: z.name, label: `${z.name} (${z.inputShape.join('×')})` })), { value: PATTERN, label: 'layer pattern…' }];
      if (!zoo.some((z) => z.name === model) && model !== PATTERN) {
        // a pattern in ?model=... or an unknown name: treat as a pattern to show its error
        pattern = model;
        patternField.input.value = model;
        model = PATTERN;
      }
      const fresh = selectField<string>({ label: 'Model', value: model, options, testid: 'model', onChange: (v) => { model = v; inputText = ''; inputField.input.value = ''; update(); } });
      modelSelect.root.replaceWith(fresh.root);
      update();
    }, (err: Error) => status.replaceChildren(errorBox(err.message)));

    return () => {
      clearTimeout(timer);
      request++;
      tracer.terminate();
    };
  },
};

