/**
 * Augmentation written as one string (what `--augment` takes), parsed into a
 * transform, and the default augmentation of each kind of dataset.
 *
 * The grammar:
 *
 *   spec   = "none" | step ("," step)*
 *   step   = NAME [":" arg ("/" arg)*]
 *   arg    = value | WORD | KEY "=" (value | WORD)
 *   value  = item ("x" item)*            a pair or list: 0.1x0.2, 24x24, 0.5x0.4x0.3
 *   item   = NUMBER ["-" NUMBER]         a range: 0.9-1.1, -5-10
 *
 * Numbers are decimals with an optional sign (1, 0.25, .5, -10). Positional
 * values fill a step's parameters in the order below; a bare WORD sets its
 * mode; KEY=... sets any parameter by name. Spaces around "," "/" ":" are
 * allowed. Steps run left to right.
 *
 *   crop[:PAD[/SIZE]][/MODE]     randomCrop after padding PAD pixels per side (default 4) to SIZE
 *                                (N or HxW; default the image's own size); MODE constant (default),
 *                                reflect, edge, symmetric; fill=V
 *   flip[:P]                     randomHorizontalFlip with probability P (default 0.5)
 *   vflip[:P]                    randomVerticalFlip
 *   rotate:DEG[/INTERP]          randomRotation; DEG is D (for -D..D) or A-B; INTERP nearest (default)
 *                                or bilinear; fill=V
 *   affine:DEG[/TRANSLATE[/SCALE[/SHEAR]]][/INTERP]
 *                                randomAffine; TRANSLATE T or TXxTY (fractions, 0 for none); SCALE A-B;
 *                                SHEAR S, A-B, or SXxSY with each a number or range (x and y); fill=V
 *   jitter:B[/C[/S[/H]]]         colorJitter brightness, contrast, saturation, hue: each V or A-B
 *   erase[:P[/SCALE[/RATIO]]]    randomErasing (p 0.5, scale 0.02-0.33, ratio 0.3-3.3); value=V,
 *                                value=AxBxC or value=random (or the bare word random)
 *   normalize:MEAN/STD           normalize; each V or one per channel AxBxC
 *
 * Example: `crop:4,flip,rotate:10,affine:10/0.1/0.9-1.1,jitter:0.2/0.2/0.2,erase:0.5`.
 * Errors are ValueErrors that quote the spec with a caret under the column
 * at fault.
 */
import { ValueError } from '../../errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { INTERPOLATIONS, PADDING_MODES, type Interpolation, type PaddingMode } from './functional.js';
import {
  colorJitter, compose, normalize, randomAffine, randomCrop, randomErasing, randomHorizontalFlip, randomRotation, randomVerticalFlip,
  type ColorJitterOptions, type RandomAffineOptions, type Transform,
} from './random.js';

/** The grammar's example, for messages and help texts. */
export const AUGMENT_EXAMPLE = 'crop:4,flip,rotate:10,affine:10/0.1/0.9-1.1,jitter:0.2/0.2/0.2,erase:0.5';

/** The step names of the grammar, in the order the help lists them. */
export const AUGMENT_STEPS = ['crop', 'flip', 'vflip', 'rotate', 'affine', 'jitter', 'erase', 'normalize'] as const;
export type AugmentStepName = (typeof AUGMENT_STEPS)[number];

/** A range A-B as written in a spec. */
export interface AugmentRange {
  min: number;
  max: number;
}

/** A parsed parameter value: a number, a range, a list of those (a pair AxB, per-channel values AxBxC), or a word. */
export type AugmentValue = number | AugmentRange | (number | AugmentRange)[] | string;

/** One step as parsed: its name and every parameter it was given, by name. */
export interface AugmentStep {
  name: AugmentStepName;
  args: Record<string, AugmentValue>;
}

/** An augmentation ready to run: the transform, the steps it is made of, the same in words, and its spec in normal form. */
export interface AugmentPlan {
  transform: Transform;
  steps: AugmentStep[];
  /** What the transform does, in words (one clause per step, joined by '; '). */
  description: string;
  /** The spec in normal form (every given parameter by name), which parseAugment reads back to the same plan. */
  spec: string;
}

interface Item {
  lo: number;
  hi: number | null;
  col: number;
}

interface RawValue {
  items: Item[];
  col: number;
  /** The text as written. */
  text: string;
}

interface RawArg {
  key: string | null;
  word: string | null;
  value: RawValue | null;
  col: number;
}

/** A ValueError quoting the spec with a caret under `at` (0-based index): "augment: <what> at column N:\n  <spec>\n  ^". */
function specError(spec: string, at: number, what: string): ValueError {
  const shown = spec.replace(/[\t\n\r\v\f]/g, ' ');
  return new ValueError(`augment: ${what} at column ${at + 1}:\n  ${shown}\n  ${' '.repeat(Math.max(0, at))}^`);
}

/** The tokenizer and parser of the grammar; `pos` is the index of the next character. */
class SpecParser {
  pos = 0;
  constructor(readonly text: string) {}

  error(what: string, at = this.pos): ValueError {
    return specError(this.text, at, what);
  }

  spaces(): void {
    while (this.text[this.pos] === ' ') this.pos++;
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  word(): string {
    const m = /^[a-z_][a-z0-9_]*/i.exec(this.text.slice(this.pos));
    if (!m) return '';
    this.pos += m[0].length;
    return m[0].toLowerCase();
  }

  number(): number {
    const start = this.pos;
    const m = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?/.exec(this.text.slice(this.pos));
    if (!m) throw this.error(`expected a number, found ${this.describeHere()}`);
    this.pos += m[0].length;
    const v = Number(m[0]);
    if (!Number.isFinite(v)) throw this.error(`the number ${m[0]} is out of range`, start);
    return v;
  }

  describeHere(): string {
    const c = this.peek();
    return c === undefined ? 'the end of the spec' : `'${c}'`;
  }

  value(): RawValue {
    const col = this.pos;
    const items: Item[] = [];
    for (;;) {
      const at = this.pos;
      const lo = this.number();
      let hi: number | null = null;
      if (this.peek() === '-') {
        this.pos++;
        hi = this.number();
      }
      items.push({ lo, hi, col: at });
      if (this.peek() !== 'x') break;
      this.pos++;
    }
    return { items, col, text: this.text.slice(col, this.pos) };
  }

  arg(): RawArg {
    this.spaces();
    const col = this.pos;
    const c = this.peek();
    if (c !== undefined && /[a-z_]/i.test(c)) {
      const w = this.word();
      this.spaces();
      if (this.peek() === '=') {
        this.pos++;
        this.spaces();
        const vc = this.peek();
        if (vc !== undefined && /[a-z_]/i.test(vc)) return { key: w, word: this.word(), value: null, col };
        return { key: w, word: null, value: this.value(), col };
      }
      return { key: null, word: w, value: null, col };
    }
    if (c === undefined || c === ',' || c === '/') throw this.error(`expected a parameter after '${this.text[this.pos - 1] ?? ''}', found ${this.describeHere()}`);
    return { key: null, word: null, value: this.value(), col };
  }

  step(): { name: string; col: number; args: RawArg[] } {
    this.spaces();
    const col = this.pos;
    const name = this.word();
    if (name === '') throw this.error(`expected a step name (${AUGMENT_STEPS.join(', ')}), found ${this.describeHere()}`);
    const args: RawArg[] = [];
    this.spaces();
    if (this.peek() === ':') {
      this.pos++;
      args.push(this.arg());
      this.spaces();
      while (this.peek() === '/') {
        this.pos++;
        args.push(this.arg());
        this.spaces();
      }
    }
    this.spaces();
    const c = this.peek();
    if (c !== undefined && c !== ',') {
      throw this.error(args.length === 0 ? `expected ':' before the parameters, ',' before the next step, or the end, found '${c}'` : `expected '/' before the next parameter, ',' before the next step, or the end, found '${c}'`);
    }
    return { name, col, args };
  }

  steps(): { name: string; col: number; args: RawArg[] }[] {
    const out = [this.step()];
    while (this.peek() === ',') {
      this.pos++;
      out.push(this.step());
    }
    return out;
  }
}

// ---------------------------------------------------------------------------
// Parameter kinds: how a written value becomes an option.

type Kind = 'int' | 'prob' | 'angle' | 'size' | 'translate' | 'scale' | 'shear' | 'factor' | 'hue' | 'fraction-range' | 'ratio' | 'list' | 'fill';

interface ParamSpec {
  name: string;
  kind: Kind;
}

interface StepSpec {
  /** Parameters that positional values fill, in order. */
  positional: ParamSpec[];
  /** Parameters only set by KEY=. */
  keyed: ParamSpec[];
  /** The parameter a bare word sets, and the words it takes. */
  mode: { name: string; words: readonly string[] } | null;
  /** Parameters that must be given. */
  required: string[];
}

const STEP_SPECS: Record<AugmentStepName, StepSpec> = {
  crop: { positional: [{ name: 'padding', kind: 'int' }, { name: 'size', kind: 'size' }], keyed: [{ name: 'fill', kind: 'fill' }], mode: { name: 'mode', words: PADDING_MODES }, required: [] },
  flip: { positional: [{ name: 'p', kind: 'prob' }], keyed: [], mode: null, required: [] },
  vflip: { positional: [{ name: 'p', kind: 'prob' }], keyed: [], mode: null, required: [] },
  rotate: { positional: [{ name: 'degrees', kind: 'angle' }], keyed: [{ name: 'fill', kind: 'fill' }], mode: { name: 'interpolation', words: INTERPOLATIONS }, required: ['degrees'] },
  affine: {
    positional: [{ name: 'degrees', kind: 'angle' }, { name: 'translate', kind: 'translate' }, { name: 'scale', kind: 'scale' }, { name: 'shear', kind: 'shear' }],
    keyed: [{ name: 'fill', kind: 'fill' }],
    mode: { name: 'interpolation', words: INTERPOLATIONS },
    required: ['degrees'],
  },
  jitter: {
    positional: [{ name: 'brightness', kind: 'factor' }, { name: 'contrast', kind: 'factor' }, { name: 'saturation', kind: 'factor' }, { name: 'hue', kind: 'hue' }],
    keyed: [],
    mode: null,
    required: [],
  },
  erase: {
    positional: [{ name: 'p', kind: 'prob' }, { name: 'scale', kind: 'fraction-range' }, { name: 'ratio', kind: 'ratio' }],
    keyed: [{ name: 'value', kind: 'fill' }],
    mode: { name: 'value', words: ['random'] },
    required: [],
  },
  normalize: { positional: [{ name: 'mean', kind: 'list' }, { name: 'std', kind: 'list' }], keyed: [], mode: null, required: ['mean', 'std'] },
};

const fmt = (v: number) => String(v);

/** Converts a written value to the kind's form, or throws with a caret under it. */
function convert(p: SpecParser, param: ParamSpec, raw: RawValue): AugmentValue {
  const { items } = raw;
  const bad = (what: string, at = raw.col) => p.error(`${param.name} ${what}, got '${raw.text}'`, at);
  const single = () => {
    if (items.length !== 1) throw bad(`takes one value, not a list`, items[1].col - 1);
    return items[0];
  };
  const plain = (): number => {
    const it = single();
    if (it.hi !== null) throw bad('takes one number, not a range', it.col);
    return it.lo;
  };
  const range = (it: Item, check: (lo: number, hi: number) => string | null): number | AugmentRange => {
    const msg = it.hi === null ? check(it.lo, it.lo) : check(it.lo, it.hi);
    if (msg !== null) throw bad(msg, it.col);
    return it.hi === null ? it.lo : { min: it.lo, max: it.hi };
  };
  switch (param.kind) {
    case 'int': {
      const v = plain();
      if (!Number.isInteger(v) || v < 0) throw bad('must be a whole number of pixels >= 0');
      return v;
    }
    case 'prob': {
      const v = plain();
      if (!(v >= 0 && v <= 1)) throw bad('is a probability and must be in [0, 1]');
      return v;
    }
    case 'size': {
      if (items.length > 2) throw bad('is N or HxW', items[2].col - 1);
      for (const it of items) {
        if (it.hi !== null || !Number.isInteger(it.lo) || it.lo < 1) throw bad('is N or HxW, whole numbers >= 1', it.col);
      }
      return items.length === 1 ? items[0].lo : [items[0].lo, items[1].lo];
    }
    case 'angle': {
      const it = single();
      return range(it, (lo, hi) => (it.hi === null ? (lo < 0 ? 'as one number D means -D..D and must be >= 0' : null) : lo > hi ? 'as a range A-B needs A <= B' : null));
    }
    case 'translate': {
      if (items.length > 2) throw bad('is T or TXxTY', items[2].col - 1);
      for (const it of items) if (it.hi !== null || !(it.lo >= 0 && it.lo <= 1)) throw bad('is a fraction of the width and height in [0, 1] (T or TXxTY)', it.col);
      return items.length === 1 ? items[0].lo : [items[0].lo, items[1].lo];
    }
    case 'scale': {
      const it = single();
      if (it.hi === null) throw bad('is a range A-B such as 0.9-1.1', it.col);
      return range(it, (lo, hi) => (lo > 0 && lo <= hi ? null : 'as a range A-B needs 0 < A <= B'));
    }
    case 'shear': {
      if (items.length > 2) throw bad('is S, A-B, or SXxSY', items[2].col - 1);
      const out = items.map((it) =>
        range(it, (lo, hi) =>
          it.hi === null ? (lo < 0 || lo >= 90 ? 'as one number S means -S..S degrees and must be in [0, 90)' : null) : lo > hi || lo <= -90 || hi >= 90 ? 'as a range A-B needs -90 < A <= B < 90' : null,
        ),
      );
      return out.length === 1 ? out[0] : out;
    }
    case 'factor': {
      const it = single();
      return range(it, (lo, hi) => (it.hi === null ? (lo < 0 ? 'as one number V means max(0, 1-V)..1+V and must be >= 0' : null) : lo < 0 || lo > hi ? 'as a range A-B needs 0 <= A <= B' : null));
    }
    case 'hue': {
      const it = single();
      return range(it, (lo, hi) => (it.hi === null ? (lo < 0 || lo > 0.5 ? 'as one number V means -V..V and must be in [0, 0.5]' : null) : lo < -0.5 || lo > hi || hi > 0.5 ? 'as a range A-B needs -0.5 <= A <= B <= 0.5' : null));
    }
    case 'fraction-range': {
      const it = single();
      if (it.hi === null) throw bad('is a range A-B of fractions of the area, such as 0.02-0.33', it.col);
      return range(it, (lo, hi) => (lo >= 0 && lo <= hi && hi <= 1 ? null : 'as a range A-B needs 0 <= A <= B <= 1'));
    }
    case 'ratio': {
      const it = single();
      if (it.hi === null) throw bad('is a range A-B of aspect ratios, such as 0.3-3.3', it.col);
      return range(it, (lo, hi) => (lo > 0 && lo <= hi ? null : 'as a range A-B needs 0 < A <= B'));
    }
    case 'list':
    case 'fill': {
      for (const it of items) if (it.hi !== null) throw bad('is a number or one per channel (AxBxC), not a range', it.col);
      if (param.name === 'std') for (const it of items) if (it.lo <= 0) throw bad('must be > 0 (it divides)', it.col);
      return items.length === 1 ? items[0].lo : items.map((it) => it.lo);
    }
  }
}

function formatItem(v: number | AugmentRange): string {
  return typeof v === 'number' ? fmt(v) : `${fmt(v.min)}-${fmt(v.max)}`;
}

function formatValue(v: AugmentValue): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(formatItem).join('x');
  return formatItem(v);
}

/** A range value as [min, max]; a single number v as [-v, v] (symmetric) or [v, v]. */
function pair(v: number | AugmentRange, symmetric: boolean): [number, number] {
  return typeof v === 'number' ? (symmetric ? [-v, v] : [v, v]) : [v.min, v.max];
}

const pct = (v: number) => `${+(v * 100).toFixed(2)}%`;
const deg = (r: number | AugmentRange) => (typeof r === 'number' ? `-${r}..${r} degrees` : `${r.min}..${r.max} degrees`);
const factorText = (r: number | AugmentRange) => (typeof r === 'number' ? `${+Math.max(0, 1 - r).toFixed(6)}..${+(1 + r).toFixed(6)}` : `${r.min}..${r.max}`);
const fillText = (f: AugmentValue | undefined) => (f === undefined ? '0' : formatValue(f));

/** The transform and the words for one parsed step. */
function buildStep(step: AugmentStep): { transform: Transform; words: string } {
  const a = step.args;
  const fill = (a.fill as number | number[] | undefined) ?? 0;
  switch (step.name) {
    case 'crop': {
      const padding = (a.padding as number | undefined) ?? 4;
      const size = a.size as number | number[] | undefined;
      const mode = (a.mode as PaddingMode | undefined) ?? 'constant';
      const sizeText = size === undefined ? 'the input size' : typeof size === 'number' ? `${size}x${size}` : `${size[0]}x${size[1]}`;
      const padText = padding === 0 ? 'without padding' : `after padding ${padding} pixel${padding === 1 ? '' : 's'} on each side (${mode === 'constant' ? `constant ${fillText(a.fill)}` : mode})`;
      return {
        transform: randomCrop(size === undefined ? null : typeof size === 'number' ? size : [size[0], size[1]], { padding, paddingMode: mode, fill }),
        words: `random crop to ${sizeText} ${padText}`,
      };
    }
    case 'flip':
    case 'vflip': {
      const p = (a.p as number | undefined) ?? 0.5;
      return {
        transform: step.name === 'flip' ? randomHorizontalFlip(p) : randomVerticalFlip(p),
        words: `${step.name === 'flip' ? 'horizontal (left-right)' : 'vertical (top-bottom)'} flip with probability ${p}`,
      };
    }
    case 'rotate': {
      const degrees = a.degrees as number | AugmentRange;
      const interpolation = (a.interpolation as Interpolation | undefined) ?? 'nearest';
      return {
        transform: randomRotation(pair(degrees, true), { interpolation, fill }),
        words: `rotation by a uniform angle in ${deg(degrees)} counter-clockwise (${interpolation}, fill ${fillText(a.fill)})`,
      };
    }
    case 'affine': {
      const degrees = a.degrees as number | AugmentRange;
      const interpolation = (a.interpolation as Interpolation | undefined) ?? 'nearest';
      const opts: RandomAffineOptions = { degrees: pair(degrees, true), interpolation, fill };
      const parts = [`rotation in ${deg(degrees)}`];
      const t = a.translate as number | number[] | undefined;
      const tr: [number, number] | null = t === undefined ? null : typeof t === 'number' ? [t, t] : [t[0], t[1]];
      if (tr !== null && (tr[0] !== 0 || tr[1] !== 0)) {
        opts.translate = tr;
        parts.push(tr[0] === tr[1] ? `shift up to ${pct(tr[0])} of the width and height` : `shift up to ${pct(tr[0])} of the width and ${pct(tr[1])} of the height`);
      }
      const s = a.scale as AugmentRange | undefined;
      if (s !== undefined) {
        opts.scale = [s.min, s.max];
        parts.push(`scale in ${s.min}..${s.max}`);
      }
      const sh = a.shear as number | AugmentRange | (number | AugmentRange)[] | undefined;
      if (sh !== undefined) {
        if (!Array.isArray(sh)) {
          opts.shear = pair(sh, true);
          parts.push(`x shear in ${opts.shear[0]}..${opts.shear[1]} degrees`);
        } else {
          const [x, y] = sh.map((v) => pair(v, true));
          opts.shear = [x[0], x[1], y[0], y[1]];
          parts.push(`x shear in ${x[0]}..${x[1]} and y shear in ${y[0]}..${y[1]} degrees`);
        }
      }
      return { transform: randomAffine(opts), words: `random affine warp about the centre: ${parts.join(', ')} (${interpolation}, fill ${fillText(a.fill)})` };
    }
    case 'jitter': {
      const opts: ColorJitterOptions = {};
      const parts: string[] = [];
      for (const key of ['brightness', 'contrast', 'saturation', 'hue'] as const) {
        const v = a[key] as number | AugmentRange | undefined;
        if (v === undefined) continue;
        opts[key] = typeof v === 'number' ? v : [v.min, v.max];
        parts.push(key === 'hue' ? `hue shift in ${typeof v === 'number' ? `-${v}..${v}` : `${v.min}..${v.max}`} turns` : `${key} factor in ${factorText(v)}`);
      }
      return { transform: colorJitter(opts), words: parts.length === 0 ? 'colour jitter with nothing to jitter (no change)' : `colour jitter in a random order: ${parts.join(', ')}` };
    }
    case 'erase': {
      const p = (a.p as number | undefined) ?? 0.5;
      const scale = a.scale === undefined ? [0.02, 0.33] as [number, number] : pair(a.scale as AugmentRange, false);
      const ratio = a.ratio === undefined ? [0.3, 3.3] as [number, number] : pair(a.ratio as AugmentRange, false);
      const value = a.value === 'random' ? 'random' : ((a.value as number | number[] | undefined) ?? 0);
      return {
        transform: randomErasing({ p, scale, ratio, value }),
        words: `with probability ${p}, erase a rectangle of ${pct(scale[0])}..${pct(scale[1])} of the area, aspect ratio ${ratio[0]}..${ratio[1]}, to ${value === 'random' ? 'standard normal noise' : fillText(a.value)}`,
      };
    }
    case 'normalize': {
      const mean = a.mean as number | number[];
      const std = a.std as number | number[];
      return { transform: normalize(mean, std), words: `normalize: subtract ${formatValue(mean)} and divide by ${formatValue(std)} per channel` };
    }
  }
}

function plan(steps: AugmentStep[], built: { transform: Transform; words: string }[]): AugmentPlan {
  if (steps.length === 0) {
    return { transform: (image) => copyImage(image), steps, description: 'no augmentation', spec: 'none' };
  }
  const spec = steps
    .map((s) => {
      const entries = Object.entries(s.args);
      return entries.length === 0 ? s.name : `${s.name}:${entries.map(([k, v]) => `${k}=${formatValue(v)}`).join('/')}`;
    })
    .join(',');
  return { transform: compose(built.map((b) => b.transform)), steps, description: built.map((b) => b.words).join('; '), spec };
}

function copyImage(image: Tensor): Tensor {
  if (!(image instanceof Tensor) || image.ndim !== 3) throw new ValueError(`augment: the image must be a Tensor [C, H, W], got ${image instanceof Tensor ? `shape [${image.shape.join(', ')}]` : typeof image}`);
  return new Tensor(image.data.slice(), image.shape);
}

/**
 * Parses an augmentation spec (grammar in this file's header; e.g.
 * `crop:4,flip,rotate:10,affine:10/0.1/0.9-1.1,jitter:0.2/0.2/0.2,erase:0.5`)
 * into its transform, steps, description and normal form. `none` (or an
 * empty string) is no augmentation. Errors quote the spec with a caret.
 */
export function parseAugment(spec: string): AugmentPlan {
  if (typeof spec !== 'string') throw new ValueError(`parseAugment: spec must be a string such as '${AUGMENT_EXAMPLE}', got ${typeof spec}`);
  if (spec.trim() === '' || spec.trim().toLowerCase() === 'none') return plan([], []);
  const p = new SpecParser(spec);
  const raw = p.steps();
  const steps: AugmentStep[] = [];
  const built: { transform: Transform; words: string }[] = [];
  for (const r of raw) {
    if (!(AUGMENT_STEPS as readonly string[]).includes(r.name)) {
      throw p.error(r.name === 'none' ? `'none' stands alone (no augmentation); it cannot join other steps` : `unknown step '${r.name}'; the steps are ${AUGMENT_STEPS.join(', ')}`, r.col);
    }
    const name = r.name as AugmentStepName;
    const ss = STEP_SPECS[name];
    const args: Record<string, AugmentValue> = {};
    let next = 0;
    const all = [...ss.positional, ...ss.keyed];
    const set = (key: string, value: AugmentValue, at: number) => {
      if (Object.hasOwn(args, key)) throw p.error(`${name}: ${key} is given twice`, at);
      args[key] = value;
    };
    for (const arg of r.args) {
      if (arg.key !== null) {
        const param = all.find((q) => q.name === arg.key);
        const isMode = ss.mode !== null && ss.mode.name === arg.key;
        if (param === undefined && !isMode) {
          const names = [...all.map((q) => q.name), ...(ss.mode && !all.some((q) => q.name === ss.mode!.name) ? [ss.mode.name] : [])];
          throw p.error(`${name} has no parameter '${arg.key}'; it takes ${names.length ? names.join(', ') : 'none'}`, arg.col);
        }
        if (arg.word !== null) {
          if (!isMode || !ss.mode!.words.includes(arg.word)) {
            throw p.error(isMode ? `${name}: ${arg.key} must be ${ss.mode!.words.join(', ')}${param ? ' or a number' : ''}, got '${arg.word}'` : `${name}: ${arg.key} takes a number, got '${arg.word}'`, arg.col + arg.key.length + 1);
          }
          set(arg.key, arg.word, arg.col);
        } else {
          if (param === undefined) throw p.error(`${name}: ${arg.key} must be one of ${ss.mode!.words.join(', ')}`, arg.col + arg.key.length + 1);
          set(param.name, convert(p, param, arg.value!), arg.col);
        }
      } else if (arg.word !== null) {
        if (ss.mode === null || !ss.mode.words.includes(arg.word)) {
          const accepted = ss.mode === null ? 'takes numbers only' : `takes the words ${ss.mode.words.join(', ')}`;
          throw p.error(`${name}: unexpected word '${arg.word}'; ${name} ${accepted}`, arg.col);
        }
        set(ss.mode.name, arg.word, arg.col);
      } else {
        while (next < ss.positional.length && Object.hasOwn(args, ss.positional[next].name)) next++;
        if (next >= ss.positional.length) {
          throw p.error(`${name} takes at most ${ss.positional.length} number${ss.positional.length === 1 ? '' : 's'} (${ss.positional.map((q) => q.name).join(', ')}), this is one more`, arg.col);
        }
        const param = ss.positional[next++];
        set(param.name, convert(p, param, arg.value!), arg.col);
      }
    }
    for (const req of ss.required) {
      if (!Object.hasOwn(args, req)) throw p.error(`${name} needs ${req} (e.g. ${EXAMPLES[name]})`, r.col);
    }
    const step: AugmentStep = { name, args };
    steps.push(step);
    built.push(buildStep(step));
  }
  return plan(steps, built);
}

const EXAMPLES: Record<AugmentStepName, string> = {
  crop: 'crop:4',
  flip: 'flip:0.5',
  vflip: 'vflip:0.5',
  rotate: 'rotate:10',
  affine: 'affine:10/0.1/0.9-1.1',
  jitter: 'jitter:0.2/0.2/0.2',
  erase: 'erase:0.5',
  normalize: 'normalize:0.5/0.25',
};

/** The dataset kinds defaultAugment knows; a name starting with 'cifar' is CIFAR, one ending in 'mnist' is MNIST-like. */
export const DEFAULT_AUGMENT_DATASETS = ['cifar10', 'cifar100', 'mnist', 'fashion-mnist', 'folder'] as const;

/**
 * A sensible default augmentation for a dataset of images shaped
 * `inputShape` [C, H, W]:
 * - CIFAR (cifar10, cifar100, any name starting with 'cifar'): random crop
 *   back to the input size after zero-padding by 1/8 of the side (4 pixels
 *   for 32x32) and a horizontal flip with probability 0.5, the standard recipe
 *   of the ResNet paper (He et al. 2016);
 * - MNIST-like (mnist, fashion-mnist, any name ending in 'mnist'): a small
 *   random affine warp (rotation within 10 degrees, shift up to 10%, scale
 *   0.9..1.1, bilinear), and no flip: digits are not mirror-symmetric (a
 *   mirrored 2 or 7 is no digit);
 * - an image folder ('folder', 'imagefolder', 'images'): a horizontal flip
 *   and a random crop back to the input size after reflect-padding by 1/8 of
 *   the smaller side.
 * Fill and padding values are 0: apply the plan to images in 0..1 before
 * normalizing them (or add a normalize step). Returns the plan of the
 * equivalent spec (its `spec` field), described in words.
 */
export function defaultAugment(dataset: string, inputShape: readonly number[]): AugmentPlan {
  if (typeof dataset !== 'string') throw new ValueError(`defaultAugment: dataset must be a name such as 'cifar10', got ${typeof dataset}`);
  if (!Array.isArray(inputShape) || inputShape.length !== 3 || !inputShape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ValueError(`defaultAugment: inputShape must be [C, H, W], three whole numbers >= 1, got ${JSON.stringify(inputShape)}`);
  }
  const name = dataset.toLowerCase();
  const [, h, w] = inputShape;
  const side = Math.min(h, w);
  const padding = Math.max(1, Math.round(side / 8));
  let spec: string;
  let why: string;
  if (name.startsWith('cifar')) {
    spec = `crop:${padding},flip`;
    why = `CIFAR's standard augmentation (He et al. 2016)`;
  } else if (name.endsWith('mnist')) {
    spec = 'affine:10/0.1/0.9-1.1/bilinear';
    why = 'small warps for handwriting, no flip (digits are not mirror-symmetric)';
  } else if (name === 'folder' || name === 'imagefolder' || name === 'images') {
    if (side < 2) throw new ValueError(`defaultAugment: an image folder's images of ${h}x${w} are too small to pad by reflection; they need sides of at least 2`);
    spec = `flip,crop:${Math.min(padding, side - 1)}/reflect`;
    why = 'flip and crop for photographs';
  } else {
    throw new ValueError(`defaultAugment: no default augmentation for dataset '${dataset}'; known: ${DEFAULT_AUGMENT_DATASETS.join(', ')} (and imagefolder, images); write one with parseAugment, e.g. '${AUGMENT_EXAMPLE}'`);
  }
  const p = parseAugment(spec);
  return { ...p, description: `${why}: ${p.description}`, spec: p.spec };
}

