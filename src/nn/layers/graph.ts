/**
 * A network as a directed acyclic graph of modules, for architectures that are
 * not a chain (residual and multi-branch networks) without writing a class:
 *
 *   new Graph({
 *     inputs: ['x'],
 *     nodes: {
 *       conv: { module: new Conv2d(16, 16, 3, { padding: 1 }), inputs: ['x'] },
 *       relu: { module: new ReLU(), inputs: ['conv'] },
 *       sum:  { module: new Add(), inputs: ['relu', 'x'] },
 *     },
 *     outputs: ['sum'],
 *   })
 *
 * Nodes are run in a topological order computed once; node names become the
 * parameter prefixes ('conv.weight'). Each node's output is computed once even
 * when several nodes read it, and autograd sums the gradients of the fan-out.
 */
import { ValueError } from '../../errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkOptions } from '../../validate.js';
import { Module } from '../module.js';

export interface GraphNode {
  module: Module;
  /** Names of graph inputs or other nodes whose outputs feed this node, in argument order. */
  inputs: readonly string[];
}

export interface GraphSpec {
  inputs: readonly string[];
  nodes: Record<string, GraphNode>;
  /** One output (forward returns it). */
  outputs: readonly [string];
}

export class Graph extends Module {
  private readonly _inputs: readonly string[];
  private readonly _output: string;
  private readonly _order: { name: string; module: Module; inputs: readonly string[] }[];

  constructor(spec: GraphSpec) {
    super();
    if (spec !== null && typeof spec === 'object') checkOptions('Graph', spec, ['inputs', 'nodes', 'outputs']);
    if (!spec || !Array.isArray(spec.inputs) || spec.inputs.length === 0) throw new ValueError('Graph: spec.inputs must name at least one input');
    if (!spec.nodes || typeof spec.nodes !== 'object') throw new ValueError('Graph: spec.nodes must map node names to { module, inputs }');
    if (!Array.isArray(spec.outputs) || spec.outputs.length !== 1) throw new ValueError(`Graph: spec.outputs must name exactly one node, got ${JSON.stringify(spec.outputs)}`);
    const names = Object.keys(spec.nodes);
    for (const input of spec.inputs) if (input in spec.nodes) throw new ValueError(`Graph: '${input}' is both a graph input and a node name`);
    for (const [name, node] of Object.entries(spec.nodes)) {
      if (name.startsWith('_') || name in this) throw new ValueError(`Graph: '${name}' cannot be used as a node name`);
      if (node !== null && typeof node === 'object') checkOptions(`Graph: node '${name}'`, node, ['module', 'inputs']);
      if (!node || !(node.module instanceof Module)) throw new ValueError(`Graph: node '${name}' needs a module`);
      if (!Array.isArray(node.inputs) || node.inputs.length === 0) throw new ValueError(`Graph: node '${name}' needs a non-empty inputs list`);
      for (const src of node.inputs) {
        if (!spec.inputs.includes(src) && !(src in spec.nodes)) {
          throw new ValueError(`Graph: node '${name}' reads '${src}', which is neither a graph input (${spec.inputs.join(', ')}) nor a node`);
        }
      }
    }
    const output = spec.outputs[0];
    if (!(output in spec.nodes) && !spec.inputs.includes(output)) throw new ValueError(`Graph: output '${output}' is not a node`);

    // Topological order (depth-first from the output; a node on the current path twice is a cycle).
    const order: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, path: string[]) => {
      if (spec.inputs.includes(name) || state.get(name) === 'done') return;
      if (state.get(name) === 'visiting') throw new ValueError(`Graph: cycle ${[...path, name].join(' -> ')}; a graph must be acyclic`);
      state.set(name, 'visiting');
      for (const src of spec.nodes[name].inputs) visit(src, [...path, name]);
      state.set(name, 'done');
      order.push(name);
    };
    visit(output, []);
    const unused = names.filter((n) => !state.has(n));
    if (unused.length) throw new ValueError(`Graph: node(s) ${unused.join(', ')} do not lead to the output '${output}'; remove them or connect them`);

    for (const name of names) (this as any)[name] = spec.nodes[name].module;
    this._inputs = [...spec.inputs];
    this._output = output;
    this._order = order.map((name) => ({ name, module: spec.nodes[name].module, inputs: spec.nodes[name].inputs }));
  }

  forward(...inputs: Tensor[]): Tensor {
    if (inputs.length !== this._inputs.length) {
      throw new ValueError(`Graph: expected ${this._inputs.length} input(s) (${this._inputs.join(', ')}), got ${inputs.length}`);
    }
    const values = new Map<string, Tensor>();
    this._inputs.forEach((name, i) => values.set(name, inputs[i]));
    for (const node of this._order) values.set(node.name, node.module.forward(...node.inputs.map((src) => values.get(src)!)));
    return values.get(this._output)!;
  }

  /** The nodes in execution order with what feeds them (for summaries and visualizations). */
  nodes(): { name: string; module: Module; inputs: readonly string[] }[] {
    return this._order.map((n) => ({ ...n }));
  }
}
