import { ShapeError, ValueError, fmtShape } from '../../errors.js';
import { conv2d } from '../../ops/conv2d.js';
import { indexSelect } from '../../ops/indexing.js';
import { concat, reshape } from '../../ops/shape.js';
import { Tensor, zeros } from '../../tensor/tensor.js';
import { defaultGenerator, type Generator } from '../../tensor/random.js';
import { checkInt, checkOptions, pair } from '../../validate.js';
import type { LayerCounts } from '../describe.js';
import { Module, parameter } from '../module.js';

export interface SparseConv2dOptions {
  stride?: number | readonly [number, number];
  /** Zero padding on each side, one number or [h, w] (default 0). */
  padding?: number | readonly [number, number];
  /** Learn a bias per output map (default true). */
  bias?: boolean;
  generator?: Generator;
}

/**
 * A convolution whose output maps each see only some of the input maps, as
 * layer C3 of LeNet-5 (LeCun et al., 1998, "Gradient-based learning applied
 * to document recognition", section II.B and Table I): `table[o]` lists the
 * input maps output map o is connected to. Only the connected kernels are
 * parameters: weight [connections, kH, kW] holds one kernel per entry of the
 * table, in the table's order (output map 0's input maps in the order listed,
 * then output map 1's...), and bias [outChannels]. With LeNet-5's table C3
 * has 60 kernels of 5x5 and 16 biases: 1,516 parameters.
 *
 * Forward: the kernels are placed into a dense [out, in, kH, kW] weight, zero
 * where the table has no connection (one indexSelect), and one convolution
 * runs; the gradient of each kernel is the dense gradient at its place (the
 * indexSelect's backward), and unconnected places have no parameter to
 * train. Initialized as PyTorch initializes a convolution, with each output
 * map's own fan-in (U(-1/sqrt(f), 1/sqrt(f)), f = |table[o]| * kH * kW, for
 * its kernels and its bias); models set their own initialization.
 */
export class SparseConv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  /** table[o]: the input maps output map o sees. */
  readonly table: readonly (readonly number[])[];
  weight: Tensor;
  bias: Tensor | null;
  /** For each (output map, input map) pair, row major: its kernel's row in weight, or `connections` (the zero kernel) when unconnected. */
  private readonly _denseIndex: Int32Array;

  constructor(inChannels: number, table: readonly (readonly number[])[], kernelSize: number | readonly [number, number], options: SparseConv2dOptions = {}) {
    super();
    const where = 'SparseConv2d';
    checkOptions(where, options, ['stride', 'padding', 'bias', 'generator']);
    this.inChannels = checkInt(where, 'inChannels', inChannels, 1);
    this.kernelSize = pair(where, 'kernelSize', kernelSize, 1);
    this.stride = pair(where, 'stride', options.stride ?? 1, 1);
    this.padding = pair(where, 'padding', options.padding ?? 0, 0);
    this.table = checkTable(table, inChannels);
    this.outChannels = this.table.length;
    const [kH, kW] = this.kernelSize;
    const connections = this.table.reduce((n, maps) => n + maps.length, 0);
    this.weight = parameter(zeros([connections, kH, kW]));
    this.bias = options.bias ?? true ? parameter(zeros([this.outChannels])) : null;
    this._denseIndex = new Int32Array(this.outChannels * inChannels).fill(connections);
    const generator = options.generator ?? defaultGenerator;
    let row = 0;
    for (let o = 0; o < this.outChannels; o++) {
      const maps = this.table[o];
      const bound = 1 / Math.sqrt(maps.length * kH * kW);
      for (const i of maps) this._denseIndex[o * inChannels + i] = row++;
      const { start, end } = this.kernelsOf(o);
      for (let k = start; k < end; k++) this.weight.data[k] = generator.uniform(-bound, bound);
      if (this.bias) this.bias.data[o] = generator.uniform(-bound, bound);
    }
  }

  /** The values of weight.data that hold output map o's kernels: [start, end). */
  kernelsOf(o: number): { start: number; end: number } {
    checkInt('SparseConv2d.kernelsOf', 'o', o, 0);
    if (o >= this.outChannels) throw new ValueError(`SparseConv2d.kernelsOf: output map ${o} is out of range; the layer has ${this.outChannels} output maps (0 to ${this.outChannels - 1})`);
    const area = this.kernelSize[0] * this.kernelSize[1];
    let first = 0;
    for (let p = 0; p < o; p++) first += this.table[p].length;
    return { start: first * area, end: (first + this.table[o].length) * area };
  }

  /** The dense [outChannels, inChannels, kH, kW] weight the convolution uses: the kernels at their places, zeros elsewhere. */
  denseWeight(): Tensor {
    const [kH, kW] = this.kernelSize;
    const withZero = concat([this.weight, zeros([1, kH, kW], { dtype: this.weight.dtype })], 0);
    return reshape(indexSelect(withZero, 0, this._denseIndex), [this.outChannels, this.inChannels, kH, kW]);
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor) || x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new ShapeError(`SparseConv2d: input must be [batch, ${this.inChannels}, height, width] (the table's input maps), got ${x instanceof Tensor ? `shape ${fmtShape(x.shape)}` : typeof x}`);
    }
    return conv2d(x, this.denseWeight(), this.bias, { stride: this.stride, padding: this.padding });
  }

  /**
   * Each unit of output map o sees |table[o]| * kH * kW inputs and a bias: LeNet-5's C3
   * (16 maps of 10x10, 60 kernels of 5x5) has 100 * (1,500 + 16) = 151,600 connections.
   */
  describeLayer(_inputShape: readonly number[], outputShape: readonly number[]): LayerCounts {
    const [kH, kW] = this.kernelSize;
    const positions = outputShape.slice(1).reduce((p, d) => p * d, 1);
    const seen = this.table.reduce((n, maps) => n + maps.length, 0) * kH * kW;
    return {
      connections: positions * (seen + (this.bias ? this.outChannels : 0)),
      macs: positions * seen,
      window: { kernel: this.kernelSize, stride: this.stride, padding: this.padding, dilation: [1, 1] },
    };
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize.join(', ')}]`, `stride=[${this.stride.join(', ')}]`];
    if (this.padding[0] || this.padding[1]) parts.push(`padding=[${this.padding.join(', ')}]`);
    parts.push(`connections=${this.weight.shape[0]}`);
    if (!this.bias) parts.push('bias=false');
    return parts.join(', ');
  }
}

/** A copy of the table after checking it: one non-empty list per output map of distinct input maps in [0, inChannels). */
function checkTable(table: unknown, inChannels: number): number[][] {
  if (!Array.isArray(table) || table.length === 0) {
    throw new ValueError(`SparseConv2d: table must be a non-empty array with one list of input maps per output map, e.g. [[0, 1, 2], [1, 2, 3]]; got ${JSON.stringify(table)}`);
  }
  return table.map((maps: unknown, o) => {
    if (!Array.isArray(maps) || maps.length === 0) {
      throw new ValueError(`SparseConv2d: table[${o}] must be a non-empty array of input maps, got ${JSON.stringify(maps)}; every output map needs at least one input map`);
    }
    const seen = new Set<number>();
    for (const i of maps) {
      if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= inChannels) {
        throw new ValueError(`SparseConv2d: table[${o}] has ${JSON.stringify(i)}, not an input map: input maps are integers 0 to ${inChannels - 1} (inChannels ${inChannels})`);
      }
      if (seen.has(i)) throw new ValueError(`SparseConv2d: table[${o}] lists input map ${i} twice (${JSON.stringify(maps)}); list each connection once`);
      seen.add(i);
    }
    return [...maps] as number[];
  });
}
