import { ValueError } from '../../errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { runFused, sequentialChain, type ChainBuilder } from '../fuse.js';
import { Module } from '../module.js';

/**
 * Runs modules in order. Children are named '0', '1', ... as in PyTorch, or by
 * the keys of an object: new Sequential({ conv1: ..., relu1: ... }).
 */
export class Sequential extends Module {
  private readonly _order: Module[] = [];

  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    const named: [string, Module][] =
      modules.length === 1 && !(modules[0] instanceof Module) && typeof modules[0] === 'object'
        ? Object.entries(modules[0] as Record<string, Module>)
        : (modules as Module[]).map((m, i) => [String(i), m]);
    for (const [name, m] of named) {
      if (!(m instanceof Module)) throw new ValueError(`Sequential: item '${name}' is not a Module (got ${typeof m})`);
      if (name.startsWith('_') || name in this) throw new ValueError(`Sequential: '${name}' cannot be used as a child name`);
      (this as any)[name] = m;
      this._order.push(m);
    }
  }

  get length(): number {
    return this._order.length;
  }

  /** The i-th module. */
  at(i: number): Module {
    const m = this._order[i < 0 ? i + this._order.length : i];
    if (!m) throw new ValueError(`Sequential.at: index ${i} is out of range for ${this._order.length} modules`);
    return m;
  }

  /** Its modules as steps of an inference chain (fuse.ts), where all of them can be. */
  inferenceChain(b: ChainBuilder, input: number): number | null {
    return this.forward === Sequential.prototype.forward ? sequentialChain(this._order, b, input) : null;
  }

  /** Runs the modules in order; a convolution with the batch norm or ReLU after it runs as one call where nothing needs a gradient (fuse.ts). */
  forward(x: Tensor): Tensor {
    return runFused(this._order, x);
  }
}
