/**
 * exportPytorch: a model as PyTorch source code (isomorphic: a string), for
 * training at scale where PyTorch runs (DistributedDataParallel, torchrun)
 * and coming back to Stride with the weights.
 *
 * The code is written from a trace (src/io/trace.ts): a `torch.nn.Module`
 * subclass whose `__init__` builds the layers at their state-dict paths
 * (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.BatchNorm2d, with Stride's
 * hyper-parameters: strides, padding, groups, eps, momentum) and whose
 * `forward` is the traced computation, one line per op, with PyTorch's
 * functional calls (F.relu, F.max_pool2d, torch.cat, ...). Its
 * `state_dict()` has PyTorch's names of Stride's state (`bn1.running_mean`
 * for `bn1.runningMean`), so the weights travel as safetensors both ways.
 * Tensors a layer computes from its parameters (a sparse convolution's
 * gathered filter) are computed the same way in forward, from parameters
 * registered at the same names. No Stride code is needed to run it.
 */
import { ValueError } from '../errors.js';
import type { Module } from '../nn/module.js';
import { pytorchName } from '../nn/pytorch-names.js';
import type { GradFn, Tensor } from '../tensor/tensor.js';
import { isPlaceholder } from '../autograd/tape.js';
import { checkExportArgs, keepsBatch, symmetricPadding, traceModel, type Trace, type TracedConv } from './trace.js';

export interface ExportPytorchOptions {
  /** One input without the batch: [C, H, W] for images ([D] for a flat input). */
  inputShape: readonly number[];
  /** The class name in the code (default the model's class name, or 'Model'). */
  className?: string;
}

export interface PytorchExport {
  /** The source of model.py. */
  code: string;
  /** The state the code's module loads, under PyTorch's names (write it with encodeSafetensors). */
  stateDict: Record<string, Tensor>;
  className: string;
}

const OPTION_KEYS = ['inputShape', 'className'];

/** The PyTorch source of `model` and its state dict under PyTorch's names (see the file comment). */
export function exportPytorch(model: Module, options: ExportPytorchOptions): PytorchExport {
  const inputShape = checkExportArgs('exportPytorch', model, options, OPTION_KEYS);
  const fallback = isIdentifier(model.constructor.name) ? model.constructor.name : 'Model';
  const className = options.className ?? fallback;
  if (typeof className !== 'string' || !isIdentifier(className)) {
    throw new ValueError(`exportPytorch: className must be a Python identifier, got ${JSON.stringify(className)}`);
  }
  const trace = traceModel('exportPytorch', model, inputShape, 2, true);
  const modules = new Map<string, Module>(model.namedModules());
  const writer = new PythonWriter(trace, modules);
  writer.write();
  const stateDict: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(model.stateDict())) stateDict[pytorchName(name)] = t;
  // state the forward does not read (a batch norm's counter outside a built layer, an unused parameter) is registered too, so the weights load strictly
  writer.registerRest(stateDict);
  return { code: writer.source(className, inputShape), stateDict, className };
}

/** A float as Python reads it back to the same float32 (or float64) value. */
function py(v: number): string {
  if (Number.isNaN(v)) return "float('nan')";
  if (!Number.isFinite(v)) return v > 0 ? "float('inf')" : "float('-inf')";
  if (Number.isInteger(v)) return `${v}.0`;
  return String(v);
}

const isIdentifier = (name: string) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);

const tuple = (values: readonly number[]) => (values.length === 1 ? `(${values[0]},)` : `(${values.join(', ')})`);

class PythonWriter {
  /** __init__ lines and forward lines. */
  private readonly init: string[] = [];
  private readonly body: string[] = [];
  private readonly names = new Map<Tensor, string>();
  /** Module paths already built in __init__ (a layer called twice is built once). */
  private readonly built = new Set<string>();
  /** State paths registered as bare parameters or buffers. */
  private readonly registered = new Set<string>();
  private counter = 0;
  private constants = 0;
  private usesPut = false;

  /** The model's state-dict names (Stride's). */
  private readonly stateKeys: Set<string>;

  constructor(private readonly trace: Trace, private readonly modules: Map<string, Module>) {
    this.names.set(trace.input, 'x');
    this.stateKeys = new Set(trace.stateNames.values());
  }

  write(): void {
    for (const t of this.trace.ops) this.names.set(t, this.op(t, t.gradFn!));
  }

  /** Registers every state entry no built layer or earlier registration holds. */
  registerRest(state: Record<string, Tensor>): void {
    const held = (key: string) => {
      if (this.registered.has(key)) return true;
      const dot = key.lastIndexOf('.');
      return dot > 0 && this.built.has(key.slice(0, dot)) && ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].includes(key.slice(dot + 1));
    };
    for (const [key, t] of Object.entries(state)) {
      if (held(key)) continue;
      this.registered.add(key);
      this.place(key, t.requiresGrad ? `nn.Parameter(torch.empty(${tuple(t.shape)}))` : `torch.empty(${tuple(t.shape)})`, !t.requiresGrad);
    }
  }

  source(className: string, inputShape: readonly number[]): string {
    const out = this.names.get(this.trace.output)!;
    const io = [
      '',
      '',
      'def load_safetensors(path):',
      '    """The tensors of a .safetensors file (F32, F64) as a state dict, without the safetensors package."""',
      '    import json',
      "    with open(path, 'rb') as f:",
      '        data = f.read()',
      "    n = int.from_bytes(data[:8], 'little')",
      '    header = json.loads(data[8:8 + n])',
      "    dtypes = {'F32': torch.float32, 'F64': torch.float64}",
      '    state = {}',
      '    for name, entry in header.items():',
      "        if name == '__metadata__':",
      '            continue',
      "        begin, end = entry['data_offsets']",
      "        values = torch.frombuffer(bytearray(data[8 + n + begin:8 + n + end]), dtype=dtypes[entry['dtype']])",
      "        state[name] = values.reshape(entry['shape'])",
      '    return state',
      '',
      '',
      'def save_safetensors(state, path):',
      '    """Writes a state dict as .safetensors (float32), for `stride train --init` or `stride eval`, without the safetensors package."""',
      '    import json',
      '    header, chunks, offset = {}, [], 0',
      '    for name, tensor in state.items():',
      '        values = tensor.detach().to(torch.float32).contiguous().cpu().numpy().tobytes()',
      "        header[name] = {'dtype': 'F32', 'shape': list(tensor.shape), 'data_offsets': [offset, offset + len(values)]}",
      '        chunks.append(values)',
      '        offset += len(values)',
      "    text = json.dumps(header).encode('utf-8')",
      "    text += b' ' * (-len(text) % 8)",
      "    with open(path, 'wb') as f:",
      "        f.write(len(text).to_bytes(8, 'little') + text + b''.join(chunks))",
    ];
    const helpers = this.usesPut ? [
      '',
      '',
      'def _put(root, path, module):',
      '    """Adds `module` at the dotted `path` under `root`, making the containers on the way (state-dict names follow)."""',
      "    *parents, leaf = path.split('.')",
      '    for name in parents:',
      '        if name not in root._modules:',
      '            root.add_module(name, nn.Module())',
      '        root = root._modules[name]',
      '    if isinstance(module, nn.Module):',
      '        root.add_module(leaf, module)',
      '    elif isinstance(module, nn.Parameter):',
      '        root.register_parameter(leaf, module)',
      '    else:',
      '        root.register_buffer(leaf, module)',
      '    return module',
    ] : [];
    return [
      `"""${className}: PyTorch code of a Stride model, written by \`stride export --format pytorch\` from a trace at input [N, ${inputShape.join(', ')}].`,
      '',
      'It builds the same network with the same state-dict names; load the weights with',
      '',
      `    model = ${className}()`,
      '    model.load_state_dict(load_safetensors("weights.safetensors"))',
      '',
      '(or safetensors.torch.load_file), train it here, and bring the weights back with',
      '',
      '    save_safetensors(model.state_dict(), "trained.safetensors")',
      '',
      'and `stride train ... --init trained.safetensors` or `stride eval --model trained.safetensors`.',
      '"""',
      'import torch',
      'import torch.nn as nn',
      'import torch.nn.functional as F',
      ...io,
      ...helpers,
      '',
      '',
      `class ${className}(nn.Module):`,
      '    def __init__(self):',
      '        super().__init__()',
      ...(this.init.length > 0 ? this.init.map((l) => `        ${l}`) : ['        pass']),
      '',
      '    def forward(self, x):',
      ...this.body.map((l) => `        ${l}`),
      `        return ${out}`,
      '',
    ].join('\n');
  }

  /** How forward refers to the module or tensor at a state path: attribute access where every part is an identifier, else get_submodule. */
  private at(path: string): string {
    return path.split('.').every(isIdentifier) ? `self.${path}` : `self.get_submodule(${JSON.stringify(path)})`;
  }

  /** Adds `expr` (a module, parameter or buffer constructor) at `path` in __init__. */
  private place(path: string, expr: string, buffer = false): void {
    if (isIdentifier(path)) {
      this.init.push(buffer ? `self.register_buffer(${JSON.stringify(path)}, ${expr})` : `self.${path} = ${expr}`);
    } else {
      this.usesPut = true;
      this.init.push(`_put(self, ${JSON.stringify(path)}, ${expr})`);
    }
  }

  /** The Python expression of a value: a traced one, a parameter or buffer (registered at its path), or a constant. */
  private value(t: Tensor): string {
    const known = this.names.get(t);
    if (known !== undefined) return known;
    const state = this.trace.stateNames.get(t);
    if (state !== undefined) {
      const path = pytorchName(state);
      if (!this.registered.has(path)) {
        this.registered.add(path);
        this.place(path, t.requiresGrad ? `nn.Parameter(torch.empty(${tuple(t.shape)}))` : `torch.empty(${tuple(t.shape)})`, !t.requiresGrad);
      }
      const expr = this.tensorAt(path);
      this.names.set(t, expr);
      return expr;
    }
    if (t.size === 1 && t.ndim === 0) return py(t.data[0]);
    const name = `const_${this.constants++}`;
    const values = Array.from(t.data, (v) => py(v)).join(', ');
    this.init.push(`self.register_buffer(${JSON.stringify(name)}, torch.tensor([${values}]).reshape(${tuple(t.shape)}), persistent=False)`);
    const expr = `self.${name}`;
    this.names.set(t, expr);
    return expr;
  }

  /** forward's expression of the parameter or buffer at a PyTorch state path. */
  private tensorAt(path: string): string {
    const dot = path.lastIndexOf('.');
    if (dot < 0) return `self.${path}`;
    const owner = path.slice(0, dot);
    const leaf = path.slice(dot + 1);
    return `${this.at(owner)}.${leaf}`;
  }

  private assign(expr: string): string {
    const name = `h${++this.counter}`;
    this.body.push(`${name} = ${expr}`);
    return name;
  }

  /** The path of a layer whose parameters are `weight` (and `bias`), when both are state of one module named `<path>.weight`/`<path>.bias`. */
  private layerPath(weight: Tensor, bias: Tensor | null, extra: [Tensor | null, string][] = [], alsoHeld: string[] = []): string | null {
    const w = this.trace.stateNames.get(weight);
    if (w === undefined || !w.endsWith('.weight') || this.names.has(weight)) return null;
    const path = w.slice(0, -'.weight'.length);
    if (bias !== null && this.trace.stateNames.get(bias) !== `${path}.bias`) return null;
    for (const [t, leaf] of extra) if (t !== null && this.trace.stateNames.get(t) !== `${path}.${leaf}`) return null;
    // the PyTorch layer must hold all the state under its path, and nothing else may live there (a bias added apart from the convolution)
    const held = new Set(['weight', ...(bias !== null ? ['bias'] : []), ...extra.map(([, leaf]) => leaf), ...alsoHeld]);
    for (const name of this.stateKeys) if (name.startsWith(`${path}.`) && !held.has(name.slice(path.length + 1))) return null;
    return path;
  }

  private moduleCall(path: string, build: string, input: string): string {
    const py = pytorchName(path);
    if (!this.built.has(py)) {
      this.built.add(py);
      this.place(py, build);
    }
    return this.assign(`${this.at(py)}(${input})`);
  }

  private op(out: Tensor, fn: GradFn): string {
    const inputs = fn.inputs.map((t) => (isPlaceholder(t) ? null : t));
    const a = (fn.attrs ?? {}) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const v = (t: Tensor | null) => this.value(t!);
    const [x, y, z] = inputs;
    switch (fn.name) {
      case 'conv2d':
      case 'conv2dFFT': {
        const g = a as TracedConv;
        // the layer's symmetric padding when it gives the traced size, else an explicit pad first
        const symmetric = symmetricPadding(g);
        const padded = symmetric ? v(x) : `F.pad(${v(x)}, (${g.padLeft}, ${Math.max(0, g.padRight)}, ${g.padTop}, ${Math.max(0, g.padBottom)}))`;
        const padding = symmetric ? `(${g.padTop}, ${g.padLeft})` : '0';
        const path = this.layerPath(y!, z);
        const common = `stride=(${g.strideH}, ${g.strideW}), padding=${padding}, dilation=(${g.dilationH}, ${g.dilationW}), groups=${g.groups}`;
        if (path !== null) {
          const [outC, inPerGroup] = y!.shape;
          return this.moduleCall(path, `nn.Conv2d(${inPerGroup * g.groups}, ${outC}, kernel_size=(${g.kH}, ${g.kW}), ${common}, bias=${z ? 'True' : 'False'})`, padded);
        }
        return this.assign(`F.conv2d(${padded}, ${v(y)}, ${z ? v(z) : 'None'}, ${common})`);
      }
      case 'convTranspose2d': {
        const g = a as TracedConv;
        const common = `stride=(${g.strideH}, ${g.strideW}), padding=(${g.padTop}, ${g.padLeft}), output_padding=(${g.padTop - g.padBottom}, ${g.padLeft - g.padRight}), groups=${g.groups}, dilation=(${g.dilationH}, ${g.dilationW})`;
        const path = this.layerPath(y!, z);
        if (path !== null) {
          const [inC, outPerGroup] = y!.shape;
          return this.moduleCall(path, `nn.ConvTranspose2d(${inC}, ${outPerGroup * g.groups}, kernel_size=(${g.kH}, ${g.kW}), ${common}, bias=${z ? 'True' : 'False'})`, v(x));
        }
        return this.assign(`F.conv_transpose2d(${v(x)}, ${v(y)}, ${z ? v(z) : 'None'}, ${common})`);
      }
      case 'linear': {
        const path = this.layerPath(y!, z);
        if (path !== null) return this.moduleCall(path, `nn.Linear(${y!.shape[1]}, ${y!.shape[0]}, bias=${z ? 'True' : 'False'})`, v(x));
        return this.assign(`F.linear(${v(x)}, ${v(y)}, ${z ? v(z) : 'None'})`);
      }
      case 'batchNorm2d': {
        const { eps, runningMean, runningVar } = a as { eps: number; runningMean: Tensor | null; runningVar: Tensor | null };
        if (runningMean === null || runningVar === null) throw new ValueError('exportPytorch: a batch norm without running statistics cannot be written as an inference layer');
        const path = y !== null ? this.layerPath(y, z, [[runningMean, 'runningMean'], [runningVar, 'runningVar']], ['numBatchesTracked']) : null;
        if (path !== null) {
          const layer = this.modules.get(path) as { momentum?: number | null } | undefined;
          const momentum = layer?.momentum === undefined ? 0.1 : layer.momentum;
          return this.moduleCall(path, `nn.BatchNorm2d(${out.shape[1]}, eps=${py(eps)}, momentum=${momentum === null ? 'None' : py(momentum)})`, v(x));
        }
        return this.assign(`F.batch_norm(${v(x)}, ${v(runningMean)}, ${v(runningVar)}, ${y ? v(y) : 'None'}, ${z ? v(z) : 'None'}, training=False, eps=${py(eps)})`);
      }
      case 'add': return this.assign(`${v(x)} + ${v(y)}`);
      case 'sub': return this.assign(`${v(x)} - ${v(y)}`);
      case 'mul': return this.assign(`${v(x)} * ${v(y)}`);
      case 'div': return this.assign(`${v(x)} / ${v(y)}`);
      case 'pow': return this.assign(y ? `torch.pow(${v(x)}, ${v(y)})` : `torch.pow(${v(x)}, ${py(a.params.alpha)})`);
      case 'maximum': return this.assign(`torch.maximum(${v(x)}, ${v(y)})`);
      case 'minimum': return this.assign(`torch.minimum(${v(x)}, ${v(y)})`);
      case 'matmul': return this.assign(`torch.matmul(${v(x)}, ${v(y)})`);
      case 'relu': return this.assign(`F.relu(${v(x)})`);
      case 'sigmoid': return this.assign(`torch.sigmoid(${v(x)})`);
      case 'tanh': return this.assign(`torch.tanh(${v(x)})`);
      case 'neg': case 'exp': case 'log': case 'sqrt': case 'abs': case 'reciprocal': case 'sign': case 'square':
        return this.assign(`torch.${fn.name}(${v(x)})`);
      case 'leakyRelu': return this.assign(`F.leaky_relu(${v(x)}, ${py(a.params.alpha)})`);
      case 'elu': return this.assign(`F.elu(${v(x)}, ${py(a.params.alpha)})`);
      case 'clamp': {
        const { alpha, beta } = a.params as { alpha: number; beta: number };
        return this.assign(`torch.clamp(${v(x)}, ${Number.isFinite(alpha) ? py(alpha) : 'None'}, ${Number.isFinite(beta) ? py(beta) : 'None'})`);
      }
      case 'softplus': return this.assign(`F.softplus(${v(x)}, beta=${py(a.params.alpha)}, threshold=${py(a.params.beta)})`);
      case 'gelu': return this.assign(`F.gelu(${v(x)}${a.op === 'geluTanh' ? ", approximate='tanh'" : ''})`);
      case 'silu': return this.assign(`F.silu(${v(x)})`);
      case 'softmax': return this.assign(`F.softmax(${v(x)}, dim=${a.dim})`);
      case 'logSoftmax': return this.assign(`F.log_softmax(${v(x)}, dim=${a.dim})`);
      case 'reshape': {
        const batch = keepsBatch('exportPytorch', this.trace, x!, out.shape);
        if (batch && out.ndim === 2 && x!.ndim > 2) return this.assign(`torch.flatten(${v(x)}, 1)`);
        const target = batch ? [`${v(x)}.shape[0]`, ...out.shape.slice(1)] : [...out.shape];
        return this.assign(`${v(x)}.reshape(${target.join(', ')})`);
      }
      case 'clone': return this.assign(`${v(x)}.clone()`);
      case 'permute': return this.assign(`${v(x)}.permute(${(a.perm as number[]).join(', ')})`);
      case 'slice': {
        const index = [...new Array<string>(a.dim).fill(':'), `${a.start}:${a.end}${a.step === 1 ? '' : `:${a.step}`}`];
        return this.assign(`${v(x)}[${index.join(', ')}]`);
      }
      case 'concat': {
        const traced = inputs.filter((t) => this.trace.fromInput.has(t!));
        const isZeros = (t: Tensor) => !this.trace.fromInput.has(t) && t.gradFn === null && t.data.every((e) => e === 0);
        if (traced.length === 1 && inputs.every((t) => t === traced[0] || isZeros(t!)) && traced[0]!.ndim === 4 && a.dim === 1) {
          const at = inputs.indexOf(traced[0]);
          const before = inputs.slice(0, at).reduce((p, t) => p + t!.shape[1], 0);
          const after = inputs.slice(at + 1).reduce((p, t) => p + t!.shape[1], 0);
          return this.assign(`F.pad(${v(traced[0])}, (0, 0, 0, 0, ${before}, ${after}))`);
        }
        return this.assign(`torch.cat([${inputs.map((t) => v(t)).join(', ')}], dim=${a.dim})`);
      }
      case 'indexSelect': return this.assign(`torch.index_select(${v(x)}, ${a.dim}, torch.tensor([${Array.from(a.indices as ArrayLike<number>).join(', ')}]))`);
      case 'maxPool2d':
        return this.assign(`F.max_pool2d(${v(x)}, (${a.kH}, ${a.kW}), stride=(${a.strideH}, ${a.strideW}), padding=(${a.padTop}, ${a.padLeft}), dilation=(${a.dilationH}, ${a.dilationW}), ceil_mode=${a.ceilMode ? 'True' : 'False'})`);
      case 'avgPool2d':
        return this.assign(`F.avg_pool2d(${v(x)}, (${a.kH}, ${a.kW}), stride=(${a.strideH}, ${a.strideW}), padding=(${a.padTop}, ${a.padLeft}), ceil_mode=${a.ceilMode ? 'True' : 'False'}, count_include_pad=${a.countIncludePad ? 'True' : 'False'})`);
      case 'lpPool2d': {
        const pooled = `F.lp_pool2d(${v(x)}, ${py(a.p)}, (${a.kH}, ${a.kW}), stride=(${a.strideH}, ${a.strideW}), ceil_mode=${a.ceilMode ? 'True' : 'False'})`;
        return this.assign(a.mean ? `${pooled} * ${py((1 / (a.kH * a.kW)) ** (1 / a.p))}` : pooled);
      }
      case 'adaptiveAvgPool2d': return this.assign(`F.adaptive_avg_pool2d(${v(x)}, (${out.shape[2]}, ${out.shape[3]}))`);
      case 'adaptiveMaxPool2d': return this.assign(`F.adaptive_max_pool2d(${v(x)}, (${out.shape[2]}, ${out.shape[3]}))`);
      case 'localResponseNorm': return this.assign(`F.local_response_norm(${v(x)}, ${a.size}, alpha=${py(a.alpha)}, beta=${py(a.beta)}, k=${py(a.k)})`);
      case 'pad': {
        const mode = a.mode as string;
        const value = mode === 'constant' && a.value !== 0 ? `, value=${py(a.value)}` : '';
        return this.assign(`F.pad(${v(x)}, (${a.padLeft}, ${a.padRight}, ${a.padTop}, ${a.padBottom}), mode=${JSON.stringify(mode)}${value})`);
      }
      case 'upsample': {
        const size = `size=(${out.shape[2]}, ${out.shape[3]})`;
        return this.assign(a.mode === 'nearest' ? `F.interpolate(${v(x)}, ${size}, mode='nearest')` : `F.interpolate(${v(x)}, ${size}, mode='bilinear', align_corners=${a.alignCorners ? 'True' : 'False'})`);
      }
      case 'sum': return this.assign(`torch.sum(${v(x)}, dim=${tuple(a.dims)}, keepdim=${a.keepDims ? 'True' : 'False'})`);
      case 'max': return this.assign(`torch.amax(${v(x)}, dim=${tuple(a.dims)}, keepdim=${a.keepDims ? 'True' : 'False'})`);
      case 'min': return this.assign(`torch.amin(${v(x)}, dim=${tuple(a.dims)}, keepdim=${a.keepDims ? 'True' : 'False'})`);
      default:
        throw new ValueError(`exportPytorch: op '${fn.name}' (making a tensor of shape [${out.shape.join(', ')}]) has no PyTorch form in Stride's exporter`);
    }
  }
}
