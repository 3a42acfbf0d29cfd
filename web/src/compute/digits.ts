/**
 * The compute worker's handlers of the #/digits page: a classifier rebuilt
 * from a checkpoint's bytes with the public API (decodeCheckpoint, which
 * verifies the file's checksums, and modelFromCheckpoint, which checks the
 * header before it builds the model), and one forward pass per drawing that records the output of
 * every layer the model calls.
 *
 * Every layer is recorded, whatever the model: each leaf module's `forward`
 * is wrapped on its instance while the pass runs (and restored after), so a
 * Sequential such as LeNet-5, a model built from a layer pattern and a model
 * with its own forward are all traced as they really run. Each call is one
 * layer, named by its state-dict prefix (conv1, fc3, features.0), in the
 * order of the calls: the same rows, in the same order, as `summary` gives,
 * which supplies each layer's receptive field in the input.
 */
import {
  MNIST_MEAN, MNIST_STD, F, Tensor, decodeCheckpoint, modelFromCheckpoint, noGrad, parseIdx, summary, nn,
} from 'stride';

type Module = nn.Module;
/** The image a digits model reads: one 28x28 grey image. */
const INPUT_SHAPE = [1, 28, 28] as const;

/** One layer the model calls, as the page draws it. */
export interface DigitsLayerInfo {
  /** The state-dict prefix ('conv1'), with '#2' for a module's second call. */
  name: string;
  /** The class ('Conv2d'). */
  type: string;
  /** Output of one image: [C, H, W] for maps, [N] for a vector. */
  shape: number[];
  /** Which input pixels unit (i, j) sees: rows start[0] + i*jump[0] .. + size[0] - 1, likewise columns. */
  field: { size: [number, number]; jump: [number, number]; start: [number, number] };
  /** Its own parameters. */
  params: number;
}

/** What the page knows about the loaded model. */
export interface DigitsModelInfo {
  /** Where it came from: the shipped file's URL or the user's file name. */
  source: string;
  /** The registry name or layer pattern it was rebuilt from. */
  model: string;
  /** Its class name. */
  className: string;
  totalParams: number;
  /** Output classes. */
  classes: number;
  /** Every layer it calls except Flatten, in order. */
  layers: DigitsLayerInfo[];
  /** The input normalization it was trained with (meta.normalize, else MNIST's). */
  mean: number;
  std: number;
  /** What its training recorded, when it did: test accuracy, epochs, dataset. */
  testAccuracy: number | null;
  epochs: number | null;
  dataset: string | null;
  /** The first convolution's filters: [outChannels, kH, kW] of its first input channel; null without one. */
  filters: { layer: string; shape: [number, number, number]; data: Float32Array; bias: Float32Array | null } | null;
}

export interface DigitsLoadArgs {
  /** The bytes of a .stride checkpoint. */
  bytes: Uint8Array;
  /** Its name, for error messages. */
  source: string;
}

export interface DigitsPredictArgs {
  /** 28x28 ink in [0, 1], row-major (normalized here with the model's mean and std). */
  image: Float32Array;
}

/** One layer's output for one image. */
export interface DigitsActivation {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface DigitsPrediction {
  /** The normalized input the model read. */
  input: Float32Array;
  /** softmax of the scores, per class. */
  probs: Float32Array;
  /** Each layer's output, in the order of DigitsModelInfo.layers. */
  activations: DigitsActivation[];
}

interface Loaded {
  model: Module;
  info: DigitsModelInfo;
  /** The modules whose calls are the layers (summary's rows), by name. */
  traced: [string, Module][];
}

let loaded: Loaded | null = null;

/** Leaves in the order namedModules gives them (modules without children), with their names. */
function leaves(model: Module): [string, Module][] {
  return [...model.namedModules()].filter(([, m]) => m.children().length === 0);
}

/**
 * Runs one forward pass with the forward of each of `modules` wrapped, and
 * returns the output and each call's name and output, in the order of the
 * calls. The wrappers are removed in `finally`, whatever happens.
 */
function traced(model: Module, modules: [string, Module][], x: Tensor): { out: Tensor; calls: { name: string; out: Tensor }[] } {
  const calls: { name: string; out: Tensor }[] = [];
  const seen = new Map<string, number>();
  const restore: (() => void)[] = [];
  for (const [name, m] of modules) {
    const own = Object.prototype.hasOwnProperty.call(m, 'forward');
    const original = m.forward;
    (m as { forward: Module['forward'] }).forward = function (this: Module, ...inputs: Tensor[]) {
      const y = original.apply(this, inputs);
      const k = (seen.get(name) ?? 0) + 1;
      seen.set(name, k);
      calls.push({ name: k === 1 ? name : `${name}#${k}`, out: y });
      return y;
    };
    restore.push(() => {
      if (own) (m as { forward: Module['forward'] }).forward = original;
      else delete (m as { forward?: Module['forward'] }).forward;
    });
  }
  try {
    const out = model.forward(x);
    return { out, calls };
  } finally {
    for (const r of restore) r();
  }
}

/** Is this layer drawn? Flatten only reshapes: the page skips it. */
const shown = (type: string) => type !== 'Flatten';

/** Rebuilds the model of a checkpoint and checks it reads 1x28x28 digits into class scores. */
function load({ bytes, source }: DigitsLoadArgs): DigitsModelInfo {
  const { header, state } = decodeCheckpoint(bytes, source);
  const model = modelFromCheckpoint({ header, state }, source);
  const s = noGrad(() => summary(model, [...INPUT_SHAPE], { name: header.model }));
  const out = noGrad(() => model.forward(new Tensor(new Float32Array(784), [1, ...INPUT_SHAPE]))).shape.slice(1);
  if (out.length !== 1) {
    throw new Error(`${source}: the model ${header.model} gives an output of shape [${out.join(', ')}] for a 1x28x28 image; this page needs one score per class (a vector)`);
  }
  // Names per call, as the trace will give them (a module called twice gets '#2').
  const seen = new Map<string, number>();
  const layers: DigitsLayerInfo[] = [];
  for (const l of s.layers) {
    const k = (seen.get(l.name) ?? 0) + 1;
    seen.set(l.name, k);
    const type = l.type;
    if (!shown(type)) continue;
    layers.push({
      name: k === 1 ? l.name : `${l.name}#${k}`,
      type,
      shape: [...l.outputShape],
      field: { size: [...l.receptiveField.size], jump: [...l.receptiveField.jump], start: [...l.receptiveField.start] },
      params: l.params,
    });
  }
  const meta = header.meta as Record<string, unknown>;
  const norm = meta.normalize as { mean?: unknown; std?: unknown } | undefined;
  const mean = typeof norm?.mean === 'number' ? norm.mean : MNIST_MEAN;
  const std = typeof norm?.std === 'number' && norm.std > 0 ? norm.std : MNIST_STD;
  const info: DigitsModelInfo = {
    source,
    model: header.model,
    className: model.constructor.name,
    totalParams: s.totalParams,
    classes: out[0],
    layers,
    mean,
    std,
    testAccuracy: typeof meta.testAccuracy === 'number' ? meta.testAccuracy : null,
    epochs: typeof meta.epochs === 'number' ? meta.epochs : null,
    dataset: typeof meta.dataset === 'string' ? meta.dataset : null,
    filters: firstFilters(model),
  };
  // The modules summary traced, each once, in the order of their first call.
  const modules = new Map(model.namedModules());
  const names = [...new Set(s.layers.map((l) => l.name))];
  loaded = { model, info, traced: names.flatMap((n): [string, Module][] => (modules.has(n) ? [[n, modules.get(n)!]] : [])) };
  return info;
}

/** The first convolution's filters (first input channel), for the filter gallery. */
function firstFilters(model: Module): DigitsModelInfo['filters'] {
  for (const [name, m] of leaves(model)) {
    if (!(m instanceof nn.Conv2d)) continue;
    const sd = m.stateDict();
    const w = sd.weight;
    if (!w || w.shape.length !== 4) continue;
    const [out, inC, kh, kw] = w.shape;
    const data = new Float32Array(out * kh * kw);
    for (let o = 0; o < out; o++) data.set(w.data.subarray(o * inC * kh * kw, o * inC * kh * kw + kh * kw) as Float32Array, o * kh * kw);
    return { layer: name, shape: [out, kh, kw], data, bias: sd.bias ? Float32Array.from(sd.bias.data) : null };
  }
  return null;
}

/** One forward pass of a 28x28 drawing: the class probabilities and every layer's output. */
function predict({ image }: DigitsPredictArgs): DigitsPrediction {
  if (!loaded) throw new Error('no model is loaded yet: load a checkpoint first');
  if (!(image instanceof Float32Array) || image.length !== 28 * 28) throw new Error(`digitsPredict: the image must be 784 values (28x28), got ${image?.length}`);
  const { model, info, traced: modules } = loaded;
  const input = new Float32Array(image.length);
  for (let i = 0; i < image.length; i++) input[i] = (image[i] - info.mean) / info.std;
  return noGrad(() => {
    const x = new Tensor(input.slice(), [1, ...INPUT_SHAPE]);
    const { out, calls } = traced(model, modules, x);
    const probs = F.softmax(out, -1);
    const byName = new Map(calls.map((c) => [c.name, c.out]));
    // In the order of info.layers, matched by name: what the page draws for layer k is that layer's output.
    const activations: DigitsActivation[] = info.layers.map((l) => {
      const t = byName.get(l.name);
      return { name: l.name, shape: t ? t.shape.slice(1) : l.shape, data: t ? Float32Array.from(t.data) : new Float32Array(l.shape.reduce((a, b) => a * b, 1)) };
    });
    return { input, probs: Float32Array.from(probs.data), activations };
  });
}

export interface DigitsSampleArgs {
  /** Absolute URLs of the gzipped IDX files of MNIST's test images and labels. */
  images: string;
  labels: string;
  index: number;
}

export interface DigitsSample {
  index: number;
  /** Test images in the set. */
  count: number;
  label: number;
  /** 28x28 ink in [0, 1], row-major. */
  image: Float32Array;
}

/** MNIST's test set once fetched, by the images' URL. */
let testSet: { url: string; images: Uint8Array; labels: Uint8Array; count: number } | null = null;

/**
 * The bytes of a gzipped file at `url`, inflated. A host that serves .gz
 * files with `Content-Encoding: gzip` has the browser inflate them already:
 * bytes without gzip's magic number (1f 8b) are taken as they are.
 */
async function fetchGzip(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not fetch ${url}: HTTP ${res.status} ${res.statusText}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const inflated = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(inflated).arrayBuffer());
}

/** One image of MNIST's test set, as MNIST stores it (already cropped, scaled and centred), with its label. */
async function sample({ images, labels, index }: DigitsSampleArgs): Promise<DigitsSample> {
  if (testSet?.url !== images) {
    const [img, lab] = await Promise.all([fetchGzip(images), fetchGzip(labels)]);
    const i = parseIdx(img, images, { dtype: 'uint8', shape: [null, 28, 28] });
    const l = parseIdx(lab, labels, { dtype: 'uint8', shape: [i.shape[0]] });
    testSet = { url: images, images: i.data as Uint8Array, labels: l.data as Uint8Array, count: i.shape[0] };
  }
  const { count } = testSet;
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new Error(`there is no test image ${index}: MNIST's test images are numbered 0 to ${count - 1}`);
  const image = new Float32Array(784);
  for (let k = 0; k < 784; k++) image[k] = testSet.images[index * 784 + k] / 255;
  return { index, count, label: testSet.labels[index], image };
}

export const digitsHandlers = {
  digitsLoad: load,
  digitsPredict: predict,
  digitsSample: sample,
};
