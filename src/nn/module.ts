/**
 * The base of every layer and model. As in PyTorch, a module's parameters and
 * sub-modules are found from its fields, in the order they were assigned, which
 * gives PyTorch's state-dict names ("conv1.weight", "features.0.bias"):
 *   - a field holding a Tensor made with parameter() (or seen requiring grad) is a parameter,
 *   - a field holding a Module (or an array of Modules) is a child,
 *   - tensors named with registerBuffer are buffers (saved, not trained).
 * Fields whose names start with '_' are private and never discovered.
 */
import { ShapeError, ValueError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptions } from '../validate.js';

/**
 * Tensors known to be parameters. A tensor field is a parameter when it was
 * created through `parameter()` or was seen requiring grad; it stays one when
 * it is frozen later (requiresGrad_(false)), so frozen layers keep their place
 * in parameters() and stateDict(), as in PyTorch.
 */
const PARAMETERS = new WeakSet<Tensor>();

/** Marks t as a module parameter (and makes it require grad); returns t. */
export function parameter(t: Tensor): Tensor {
  t.requiresGrad = true;
  PARAMETERS.add(t);
  return t;
}

export abstract class Module {
  /** Training mode: dropout is active, batch norm uses batch statistics. */
  training = true;
  private readonly _buffers = new Set<string>();

  /** Computes the output. */
  abstract forward(...inputs: Tensor[]): Tensor;

  /** Marks field `name` (holding a tensor) as a buffer: part of the state dict, not a parameter. */
  protected registerBuffer(name: string, value: Tensor): Tensor {
    (this as any)[name] = value;
    this._buffers.add(name);
    return value;
  }

  /** Direct children, by field name. */
  *namedChildren(): Generator<[string, Module]> {
    for (const [key, value] of Object.entries(this)) {
      if (key.startsWith('_')) continue;
      if (value instanceof Module) yield [key, value];
      else if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (value[i] instanceof Module) yield [`${key}.${i}`, value[i]];
      }
    }
  }

  children(): Module[] {
    return [...this.namedChildren()].map(([, m]) => m);
  }

  /** This module and every descendant, with dotted names ('' for this one). */
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, child] of this.namedChildren()) yield* child.namedModules(prefix ? `${prefix}.${name}` : name);
  }

  /** Parameters with PyTorch-style dotted names, in registration order. */
  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [key, value] of Object.entries(this)) {
      if (key.startsWith('_') || this._buffers.has(key)) continue;
      if (value instanceof Tensor && (value.requiresGrad || PARAMETERS.has(value))) {
        if (value.isLeaf) PARAMETERS.add(value);
        yield [prefix + key, value];
      }
    }
    for (const [name, child] of this.namedChildren()) yield* child.namedParameters(`${prefix}${name}.`);
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  *namedBuffers(prefix = ''): Generator<[string, Tensor]> {
    for (const name of this._buffers) {
      const value = (this as any)[name];
      if (value instanceof Tensor) yield [prefix + name, value];
    }
    for (const [name, child] of this.namedChildren()) yield* child.namedBuffers(`${prefix}${name}.`);
  }

  /** Number of trainable values. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Sets training mode here and in every descendant. */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new ValueError(`train: mode must be a boolean, got ${JSON.stringify(mode)}`);
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Clears the gradients of every parameter. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Parameters and buffers by name. The tensors are the live ones (not copies), as in PyTorch. */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, t] of this.namedParameters()) out[name] = t;
    for (const [name, t] of this.namedBuffers()) out[name] = t;
    return out;
  }

  /**
   * Copies values from `state` into this module's parameters and buffers.
   * With strict (default), missing or unexpected names are an error; shapes must always match.
   */
  loadStateDict(state: Record<string, Tensor>, options: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    if (state === null || typeof state !== 'object') throw new ValueError('loadStateDict: state must be an object mapping names to tensors');
    checkOptions('loadStateDict', options, ['strict']);
    const own = this.stateDict();
    const missing = Object.keys(own).filter((k) => !(k in state));
    const unexpected = Object.keys(state).filter((k) => !(k in own));
    if ((options.strict ?? true) && (missing.length || unexpected.length)) {
      throw new ValueError(`loadStateDict: the state does not match ${this.constructor.name}: missing ${missing.length ? missing.join(', ') : 'none'}; unexpected ${unexpected.length ? unexpected.join(', ') : 'none'}. Pass { strict: false } to load the names that match`);
    }
    for (const [name, target] of Object.entries(own)) {
      const src = state[name];
      if (src === undefined) continue;
      if (!(src instanceof Tensor)) throw new ValueError(`loadStateDict: '${name}' must be a Tensor`);
      if (src.shape.join() !== target.shape.join()) {
        throw new ShapeError(`loadStateDict: '${name}' has shape ${fmtShape(src.shape)} in the state but ${fmtShape(target.shape)} in the model`);
      }
      target.data.set(src.data);
    }
    return { missing, unexpected };
  }

  /** The text inside the parentheses of this module's line, e.g. "1, 6, kernelSize=[5, 5]". */
  extraRepr(): string {
    return '';
  }

  /** PyTorch-style tree: each child on its own line as "(name): Child(...)". */
  toString(): string {
    const children = [...this.namedChildren()];
    const extra = this.extraRepr();
    if (children.length === 0 && !extra.includes('\n')) return `${this.constructor.name}(${extra})`;
    // As PyTorch: settings and children each on their own line, indented by two spaces.
    const lines = [
      ...(extra ? extra.split('\n') : []),
      ...children.map(([name, m]) => `(${name}): ${m.toString().split('\n').join('\n  ')}`),
    ];
    return `${this.constructor.name}(\n  ${lines.join('\n  ')}\n)`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
