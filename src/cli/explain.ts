/**
 * `stride explain conv|pool|conv-transpose`: the arithmetic of one layer's
 * window on an input size, without building anything: the output size with
 * the formula filled in, whether the windows fit, the input rows and columns
 * no window sees, the padding that fits, the parameters, and a picture of the
 * windows along each axis (explainWindow and formatWindowExplanation).
 */
import { InvalidArgumentError } from 'commander';

import { explainWindow, formatWindowExplanation, type AxisPair, type WindowExplanation, type WindowKind, type WindowPadding } from '../index.js';
import { consoleIO, type CliIO } from './io.js';
import { integer, jsonOption, oneOf, option, sizes, type CliCommand, type OptionValues } from './options.js';

const KINDS: readonly WindowKind[] = ['conv', 'pool', 'conv-transpose'];

/** Parser of N or NxM (integers >= min). */
function size(min: number) {
  const parse = sizes(2, min, `N or NxM (height x width), integers >= ${min}`);
  return (value: string): AxisPair => {
    const parts = parse(value);
    return parts.length === 1 ? parts[0] : [parts[0], parts[1]];
  };
}

/** Parser of the padding: same, valid, P, PxQ (height x width), or a comma list (before,after or top,bottom,left,right). */
function padding(value: string): WindowPadding {
  const v = value.trim().toLowerCase();
  if (v === 'same' || v === 'valid') return v;
  if (/^\d+\s*x\s*\d+$/.test(v)) return v.split('x').map(Number);
  if (/^\d+(\s*,\s*\d+)*$/.test(v)) {
    const list = v.split(',').map(Number);
    if (list.length === 1) return list[0];
    if (list.length === 2 || list.length === 4) return list;
  }
  throw new InvalidArgumentError('Expected P, PxQ (height x width), before,after (1-D), top,bottom,left,right, same or valid.');
}

/** The options of `stride explain` (without --json). */
export const EXPLAIN_OPTIONS = {
  input: option({ flags: '--input <size>', help: 'input size: N (one axis) or HxW', parse: size(1), metavar: 'N[xM]', required: true }),
  kernel: option({ flags: '--kernel <size>', help: 'kernel size: K or KhxKw', parse: size(1), metavar: 'K[xL]', required: true }),
  stride: option({ flags: '--stride <size>', help: 'stride: S or ShxSw', parse: size(1), metavar: 'S[xT]', defaultHelp: '1; for pool the kernel, as PyTorch' }),
  padding: option({
    flags: '--padding <padding>',
    help: "padding: P on each side, PxQ per axis, before,after (one axis), top,bottom,left,right (conv), valid (none) or same (conv: the output keeps ceil(input/stride) positions, PyTorch's rule at stride 1)",
    parse: padding, metavar: 'P|same|valid', default: 0,
  }),
  dilation: option({ flags: '--dilation <size>', help: 'dilation: D or DhxDw', parse: size(1), metavar: 'D', default: 1 }),
  channels: option({ flags: '--channels <n>', help: 'input channels (with --filters: the parameter count)', parse: integer(1), metavar: 'C' }),
  filters: option({ flags: '--filters <n>', help: 'filters, the output channels of conv and conv-transpose', parse: integer(1), metavar: 'F' }),
  ceilMode: option({ flags: '--ceil-mode', help: "pool: round the output size up (PyTorch's ceil_mode; a last window starting past the input and the left padding is dropped)" }),
  outputPadding: option({ flags: '--output-padding <size>', help: 'conv-transpose: rows / columns added after the output', parse: size(0), metavar: 'P' }),
};

/** `stride explain`. */
export const EXPLAIN_COMMAND = {
  name: 'explain',
  description: 'Explain the output size of a convolution or pooling window: the formula, the fit, the input it never sees, the padding that fits',
  argument: { name: '<kind>', synopsis: 'conv|pool|conv-transpose', help: `the layer: ${KINDS.join(', ')}`, parse: oneOf(KINDS, 'kind') },
  options: { ...EXPLAIN_OPTIONS, json: jsonOption('outputSize, formula, exact, uncoveredInput, suggestedPadding, params (each { height, width } for an HxW input)...') },
  afterHelp: `
Output size: (N + 2P - D*(K-1) - 1)/S + 1, rounded down (pool --ceil-mode: up);
conv-transpose: (N-1)*S - 2P + D*(K-1) + outputPadding + 1.

Examples:
  $ stride explain conv --input 7 --kernel 3 --stride 3
      2 windows; input 6 is never seen; padding 1 fits exactly
  $ stride explain conv --input 227x227 --kernel 11 --stride 4 --channels 3 --filters 96
      55x55, 34,944 parameters (AlexNet's first layer)
  $ stride explain pool --input 55 --kernel 3 --stride 2`,
} satisfies CliCommand;

export type ExplainCommandOptions = { kind: WindowKind } & OptionValues<typeof EXPLAIN_OPTIONS>;

/** Runs `stride explain`: prints the explanation and returns it. */
export function runExplain(options: ExplainCommandOptions, io: CliIO = consoleIO()): WindowExplanation {
  const e = explainWindow({
    kind: options.kind,
    input: options.input!,
    kernel: options.kernel!,
    ...(options.stride !== undefined && { stride: options.stride }),
    ...(options.padding !== undefined && { padding: options.padding }),
    ...(options.dilation !== undefined && { dilation: options.dilation }),
    ...(options.channels !== undefined && { channels: options.channels }),
    ...(options.filters !== undefined && { filters: options.filters }),
    ...(options.ceilMode && { ceilMode: true }),
    ...(options.outputPadding !== undefined && { outputPadding: options.outputPadding }),
  });
  io.out(formatWindowExplanation(e));
  return e;
}

/** The --json line: the contract's fields first, then the rest (kind, dims, outputShape, notes, and per axis the windows). */
export function explainJson(e: WindowExplanation): string {
  const { outputSize, formula, exact, uncoveredInput, suggestedPadding, params, ...rest } = e;
  return JSON.stringify({ outputSize, formula, exact, uncoveredInput, suggestedPadding, params, ...rest });
}
