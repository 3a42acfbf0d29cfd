/**
 * Networks from the lectures' pattern string,
 *   [(CONV-RELU)*N-POOL?]*M-(FC-RELU)*K-SOFTMAX,
 * written with sizes: "[(conv3-32-relu)*2-pool2]*2-(fc128-relu)*1-fc10".
 *
 * Grammar (keywords in any case; spaces between tokens are ignored):
 *   pattern  := sequence
 *   sequence := item (('-' | ',') item)*
 *   item     := layer | '(' sequence ')' ('*' count)? | '[' sequence ']' ('*' count)?
 *   layer    := 'conv' K '-' C | 'pool' F | 'fc' N | 'relu' | 'tanh' | 'sigmoid' | 'softmax'
 * where every number is a whole number >= 1 and a group without '*' counts
 * once. Brackets of both kinds nest freely; ',' joins as '-' does (the
 * lectures write "...-(FC-RELU)*K, SOFTMAX").
 *
 * Layers:
 *   convK-C  C filters KxK, stride 1, with bias, size-preserving padding:
 *            (K-1)/2 on every side for odd K; for even K PyTorch's
 *            padding='same' (K-1 in total, the odd row and column after).
 *   poolF    max pooling FxF with stride F (an image of H rows gives floor(H/F)).
 *   fcN      a linear layer of N outputs; the first fc after the image gets a
 *            Flatten before it (also when the pattern starts with fc).
 *   relu, tanh, sigmoid: element-wise activations.
 *   softmax  only as the last item, after the last fc; see below.
 *
 * Rules checked when the model is built, each error pointing at the layer:
 * no conv or pool after an fc; no pool that leaves the image smaller than
 * 1x1 for the input shape; the pattern ends with the classifier fcN
 * (optionally then softmax), whose N is the number of classes; numClasses,
 * when given, must equal that N. Syntax errors point at the character.
 *
 * The trailing softmax: Stride's losses, accuracy and `stride train` take the
 * scores before the softmax (cross-entropy applies log-softmax itself, which
 * is exact where softmax then log is not), as PyTorch's CrossEntropyLoss
 * does. So the softmax of a pattern describes the classifier's output and is
 * not a layer of the built model: forward gives the class scores, and
 * F.softmax(scores, -1) the probabilities. The model records it
 * (`endsWithSoftmax`) and says so in its printout.
 *
 * The model is a Sequential whose children are named by index, '0', '1',
 * ..., counting the Flatten, exactly as PyTorch's nn.Sequential of the same
 * layers (nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Flatten, nn.Linear...) names
 * them, so such a model's state dict loads. Weights start as PyTorch's layers
 * start (U(-1/sqrt(fanIn), 1/sqrt(fanIn))).
 */
import { ValueError } from '../errors.js';
import { ReLU, Sigmoid, Tanh } from '../nn/layers/activation.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { Flatten } from '../nn/layers/flatten.js';
import { Linear } from '../nn/layers/linear.js';
import { MaxPool2d } from '../nn/layers/pool.js';
import { Sequential } from '../nn/layers/sequential.js';
import type { Module } from '../nn/module.js';
import type { Generator } from '../tensor/random.js';
import { checkInt, checkOptions } from '../validate.js';

export type PatternActivation = 'relu' | 'tanh' | 'sigmoid' | 'softmax';

/** One layer of a pattern; `column` is where it starts in the text (1-based). */
export type PatternLayer =
  | { kind: 'conv'; kernelSize: number; channels: number; column: number }
  | { kind: 'pool'; size: number; column: number }
  | { kind: 'fc'; features: number; column: number }
  | { kind: 'activation'; name: PatternActivation; column: number };

/** A node of the parsed pattern: a layer, or a bracketed group repeated `count` times. */
export type PatternNode = PatternLayer | { kind: 'repeat'; bracket: '(' | '['; count: number; items: PatternNode[]; column: number };

/** What parseModelPattern returns. */
export interface ModelPattern {
  /** The text parsed. */
  text: string;
  /** The tree: layers and repeated groups, in order. */
  items: PatternNode[];
  /** The layers in order, the groups repeated. */
  layers: PatternLayer[];
}

/** The most layers a pattern may expand to. */
export const MAX_PATTERN_LAYERS = 10_000;
/** The largest number a pattern may hold (kernel size, filters, pool size, outputs, count). */
const MAX_NUMBER = 1_000_000;

const LAYER_WORDS = 'convK-C, poolF, fcN, relu, tanh, sigmoid, softmax';
const ACTIVATIONS: readonly PatternActivation[] = ['relu', 'tanh', 'sigmoid', 'softmax'];

/** The lectures' example with sizes, for messages and help texts. */
export const MODEL_PATTERN_EXAMPLE = '[(conv3-32-relu)*2-pool2]*2-(fc128-relu)*1-fc10';

/**
 * A ValueError naming the rule, with the text and a caret under `column`
 * (1-based): "model pattern: <what> at column 20:\n  <text>\n  <spaces>^".
 */
function patternError(text: string, column: number, what: string): ValueError {
  const shown = text.replace(/[\t\n\r\v\f]/g, ' ');
  return new ValueError(`model pattern: ${what} at column ${column}:\n  ${shown}\n  ${' '.repeat(column - 1)}^`);
}

/** How a layer is written in a pattern: conv3-32, pool2, fc10, relu. */
export function formatPatternLayer(layer: PatternLayer): string {
  switch (layer.kind) {
    case 'conv':
      return `conv${layer.kernelSize}-${layer.channels}`;
    case 'pool':
      return `pool${layer.size}`;
    case 'fc':
      return `fc${layer.features}`;
    case 'activation':
      return layer.name;
  }
}

/** Recursive-descent parser over the text; `pos` is the 0-based index of the next character. */
class PatternParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parse(): PatternNode[] {
    const items = this.sequence(null);
    this.skipSpaces();
    if (this.pos < this.text.length) {
      const c = this.text[this.pos];
      throw this.error(c === ')' || c === ']' ? `'${c}' closes no group` : `expected '-' joining two items, or the end of the pattern, found '${c}'`);
    }
    return items;
  }

  private error(what: string, at = this.pos): ValueError {
    return patternError(this.text, at + 1, what);
  }

  private skipSpaces(): void {
    while (this.text[this.pos] === ' ') this.pos++;
  }

  /** Items joined by '-' or ',', up to the end or to `closer` (not consumed). */
  private sequence(opener: { bracket: '(' | '['; at: number } | null): PatternNode[] {
    const closer = opener === null ? null : opener.bracket === '(' ? ')' : ']';
    const items = [this.item()];
    for (;;) {
      this.skipSpaces();
      const c = this.text[this.pos];
      if (c === '-' || c === ',') {
        this.pos++;
        items.push(this.item());
      } else if (c === undefined || c !== closer) {
        if (closer === null) return items;
        if (c === undefined) throw this.error(`expected '${closer}' to close the '${opener!.bracket}' of column ${opener!.at + 1}`);
        throw this.error(`expected '-' joining two items, or '${closer}' to close the '${opener!.bracket}' of column ${opener!.at + 1}, found '${c}'`);
      } else {
        return items;
      }
    }
  }

  private item(): PatternNode {
    this.skipSpaces();
    const at = this.pos;
    const c = this.text[this.pos];
    if (c === '(' || c === '[') {
      this.pos++;
      const items = this.sequence({ bracket: c, at });
      this.pos++; // the closer, which sequence() found
      this.skipSpaces();
      let count = 1;
      if (this.text[this.pos] === '*') {
        this.pos++;
        this.skipSpaces();
        count = this.number(`expected a repeat count after '*' (e.g. ${c === '(' ? '(conv3-32-relu)*2' : '[conv3-32-pool2]*2'})`, 'a repeat count');
      }
      return { kind: 'repeat', bracket: c, count, items, column: at + 1 };
    }
    const layer = this.layer();
    this.skipSpaces();
    if (this.text[this.pos] === '*') {
      throw this.error(`'*' repeats a group: write (${formatPatternLayer(layer)})*N`);
    }
    return layer;
  }

  private layer(): PatternLayer {
    const at = this.pos;
    const column = at + 1;
    const word = /^[a-z]*/i.exec(this.text.slice(this.pos))![0].toLowerCase();
    this.pos += word.length;
    switch (word) {
      case 'conv': {
        const kernelSize = this.number("expected the kernel size K after 'conv' (convK-C, e.g. conv3-32)", 'the kernel size');
        if (this.text[this.pos] !== '-' || !/[0-9]/.test(this.text[this.pos + 1] ?? '')) {
          throw this.error(`expected '-' and the number of filters after 'conv${kernelSize}' (convK-C, e.g. conv${kernelSize}-32)`, this.text[this.pos] === '-' ? this.pos + 1 : this.pos);
        }
        this.pos++;
        const channels = this.number('', 'the number of filters');
        return { kind: 'conv', kernelSize, channels, column };
      }
      case 'pool':
        return { kind: 'pool', size: this.number("expected the window size F after 'pool' (poolF, e.g. pool2)", 'the pool size'), column };
      case 'fc':
        return { kind: 'fc', features: this.number("expected the number of outputs N after 'fc' (fcN, e.g. fc10)", 'the number of outputs'), column };
      default:
        if ((ACTIVATIONS as readonly string[]).includes(word)) {
          if (/[0-9]/.test(this.text[this.pos] ?? '')) throw this.error(`${word} takes no number`);
          return { kind: 'activation', name: word as PatternActivation, column };
        }
        throw this.error(`expected a layer (${LAYER_WORDS})`, at);
    }
  }

  /** A whole number in [1, MAX_NUMBER] at pos; `missing` is the message when there is none. */
  private number(missing: string, what: string): number {
    const at = this.pos;
    const digits = /^[0-9]*/.exec(this.text.slice(this.pos))![0];
    if (digits === '') throw this.error(missing);
    this.pos += digits.length;
    const n = Number(digits);
    if (n < 1) throw this.error(`${what} must be at least 1, got ${digits}`, at);
    if (n > MAX_NUMBER) throw this.error(`${what} must be at most ${MAX_NUMBER.toLocaleString('en-US')}, got ${digits}`, at);
    return n;
  }
}

/** The layers of `items` with every group repeated; at most MAX_PATTERN_LAYERS. */
function expand(text: string, items: readonly PatternNode[], out: PatternLayer[] = []): PatternLayer[] {
  for (const item of items) {
    if (item.kind !== 'repeat') {
      out.push(item);
    } else {
      for (let i = 0; i < item.count; i++) {
        expand(text, item.items, out);
        if (out.length > MAX_PATTERN_LAYERS) {
          throw patternError(text, item.column, `the group expands to more than ${MAX_PATTERN_LAYERS.toLocaleString('en-US')} layers`);
        }
      }
    }
  }
  return out;
}

/**
 * Parses a model pattern such as "[(conv3-32-relu)*2-pool2]*2-(fc128-relu)*1-fc10"
 * (grammar in the file comment) into its tree and its layer list. A malformed
 * string is a ValueError quoting it with a caret under the offending column.
 * The rules that need the input shape are checked by buildModelFromPattern.
 */
export function parseModelPattern(text: string): ModelPattern {
  if (typeof text !== 'string') throw new ValueError(`parseModelPattern: expected a string such as "${MODEL_PATTERN_EXAMPLE}", got ${typeof text}`);
  const items = new PatternParser(text).parse();
  return { text, items, layers: expand(text, items) };
}

/** Checks an image shape [C, H, W] of whole numbers >= 1 and returns it. */
export function checkInputShape(where: string, value: unknown): [number, number, number] {
  if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new ValueError(`${where}: inputShape must be one image's [C, H, W], three whole numbers >= 1 (MNIST: [1, 28, 28]), got ${JSON.stringify(value)}`);
  }
  return [value[0], value[1], value[2]];
}

export interface PatternModelOptions {
  /** One image, [C, H, W] (default [inChannels, 28, 28], MNIST's with inChannels 1): sizes the first linear layer. */
  inputShape?: readonly number[];
  /** Input channels; when inputShape is also given it must agree with inputShape[0]. */
  inChannels?: number;
  /** When given, must equal the N of the pattern's last fcN. */
  numClasses?: number;
  generator?: Generator;
}

/** The default image of a pattern when no inputShape is given: MNIST's 28x28. */
export const PATTERN_DEFAULT_INPUT_SHAPE: readonly [number, number, number] = [1, 28, 28];

/** A network built from a pattern: a Sequential with index names (see the file comment). */
export class PatternModel extends Sequential {
  /** The pattern it was built from. */
  readonly pattern: string;
  /** The image it was built for, [C, H, W]. */
  readonly inputShape: readonly [number, number, number];
  /** The pattern ended with softmax, which the model leaves to the loss (forward gives the scores). */
  readonly endsWithSoftmax: boolean;

  constructor(pattern: string, inputShape: readonly [number, number, number], layers: Module[], endsWithSoftmax: boolean) {
    super(...layers);
    this.pattern = pattern;
    this.inputShape = inputShape;
    this.endsWithSoftmax = endsWithSoftmax;
  }

  override extraRepr(): string {
    const softmax = this.endsWithSoftmax ? ' (its softmax is applied by the loss: forward gives the class scores)' : '';
    return `pattern=${JSON.stringify(this.pattern)}, inputShape=[${this.inputShape.join(', ')}]${softmax}`;
  }
}

/**
 * Builds the network a pattern describes for images of `inputShape`
 * (default 1x28x28). Errors: malformed text (caret at the character), and
 * rules broken for that shape or for numClasses (caret at the layer).
 */
export function buildModelFromPattern(text: string, options: PatternModelOptions = {}): PatternModel {
  const where = 'buildModelFromPattern';
  checkOptions(where, options, ['inputShape', 'inChannels', 'numClasses', 'generator']);
  const { layers } = parseModelPattern(text);
  if (options.inChannels !== undefined) checkInt(where, 'inChannels', options.inChannels, 1);
  const shape = checkInputShape(where, options.inputShape ?? [options.inChannels ?? PATTERN_DEFAULT_INPUT_SHAPE[0], PATTERN_DEFAULT_INPUT_SHAPE[1], PATTERN_DEFAULT_INPUT_SHAPE[2]]);
  if (options.inChannels !== undefined && options.inChannels !== shape[0]) {
    throw new ValueError(`${where}: inChannels ${options.inChannels} disagrees with inputShape [${shape.join(', ')}]; give one of them`);
  }
  const { generator } = options;
  const fail = (layer: PatternLayer, what: string) => patternError(text, layer.column, what);

  let endsWithSoftmax = false;
  let body = layers;
  const last = layers[layers.length - 1];
  if (last.kind === 'activation' && last.name === 'softmax') {
    endsWithSoftmax = true;
    body = layers.slice(0, -1);
  }
  const classifier = body[body.length - 1];
  if (classifier === undefined || classifier.kind !== 'fc') {
    const at = classifier ?? last;
    throw fail(at, `the pattern must end with the classifier fcN (N class scores), optionally followed by softmax; it ends with ${formatPatternLayer(at)}`);
  }
  if (options.numClasses !== undefined && checkInt(where, 'numClasses', options.numClasses, 1) !== classifier.features) {
    throw fail(classifier, `the last layer fc${classifier.features} gives ${classifier.features} classes but numClasses is ${options.numClasses}; end the pattern with fc${options.numClasses}`);
  }

  const modules: Module[] = [];
  // The activation's shape: an image [c, h, w] until the first fc, then a vector of `features`.
  let [c, h, w] = shape;
  let features: number | null = null;
  for (const layer of body) {
    switch (layer.kind) {
      case 'conv': {
        if (features !== null) throw fail(layer, `${formatPatternLayer(layer)} follows a fully connected layer; convolutions need an image, so they come before the first fc`);
        const k = layer.kernelSize;
        modules.push(new Conv2d(c, layer.channels, k, { padding: k % 2 === 1 ? (k - 1) / 2 : 'same', generator }));
        c = layer.channels;
        break;
      }
      case 'pool': {
        if (features !== null) throw fail(layer, `${formatPatternLayer(layer)} follows a fully connected layer; pooling needs an image, so it comes before the first fc`);
        const f = layer.size;
        if (h < f || w < f) {
          throw fail(layer, `pool${f} would shrink the ${h}x${w} image (input ${shape.join('x')}) below 1x1; use fewer or smaller pools`);
        }
        modules.push(new MaxPool2d(f));
        h = Math.floor(h / f);
        w = Math.floor(w / f);
        break;
      }
      case 'fc':
        if (features === null) {
          modules.push(new Flatten());
          features = c * h * w;
        }
        modules.push(new Linear(features, layer.features, { generator }));
        features = layer.features;
        break;
      case 'activation':
        if (layer.name === 'softmax') throw fail(layer, 'softmax may only end the pattern, after the last fc (the class scores)');
        modules.push(layer.name === 'relu' ? new ReLU() : layer.name === 'tanh' ? new Tanh() : new Sigmoid());
        break;
    }
  }
  return new PatternModel(text, shape, modules, endsWithSoftmax);
}

/**
 * Whether a model argument is meant as a pattern rather than a name: it
 * starts with '[', '(' or a layer word (conv, pool, fc, relu, tanh, sigmoid,
 * softmax). A registered name is checked first by the registry, so a
 * misspelt name ('resnet-18') or a path is not read as a pattern.
 */
export function looksLikeModelPattern(name: string): boolean {
  return typeof name === 'string' && /^\s*([[(]|(conv|pool|fc|relu|tanh|sigmoid|softmax))/i.test(name);
}
