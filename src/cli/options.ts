/**
 * The command line's options, each declared once: its flag, parser, default,
 * help text, and whether its value is recorded (checkpoint meta, --json line).
 * Commander's setup, `--help`, the synopsis of `stride --help` (and the
 * README's, checked by a test), the defaults a run applies and the recorded
 * settings are all derived from the declarations, so a new command or option
 * is one entry.
 */
import { availableParallelism } from 'node:os';

import { Command, InvalidArgumentError, Option } from 'commander';

import { closestName, getBackend, listBackends } from '../index.js';

/** One option of a command. */
export interface CliOption<T = unknown> {
  /** As commander takes it: '--epochs <n>', '--no-save', '--json'. The key of the declaration is commander's name for it (batchSize, save). */
  flags: string;
  /** What it does (a function when it names what is known only at start-up, like the registered backends). */
  help: string | (() => string);
  /** Parses and checks the value (a bad one is an InvalidArgumentError naming the rule); absent for a switch. */
  parse?: (value: string) => T;
  /** The value a run uses when the option is absent; shown in the help. */
  default?: T;
  /** What the help says the default is, when the run does not take it from `default` (e.g. 'all', or a default that depends on another option). */
  defaultHelp?: string | (() => string);
  /** The value in the synopsis ('N', 'sgd|adam'); default: the flag's placeholder in capitals. */
  metavar?: string;
  /** The option must be given. */
  required?: boolean;
  /** The run's value is recorded in the checkpoint meta and the --json line. */
  recorded?: boolean;
  /** Written in the synopsis as the alternative of this other option ([--out DIR | --no-save]); giving both is an error. */
  alternativeTo?: string;
  /** For a flag whose value may be left out ('--augment [spec]'): the value it takes then (parsed like a given one). */
  preset?: string;
}

export type CliOptions = Record<string, CliOption>;

/** The values commander hands a command's action (absent options are undefined; a --no-x switch is true unless given). */
export type OptionValues<O extends CliOptions> = { [K in keyof O]?: O[K] extends CliOption<infer T> ? T : never };

/** The command's positional argument. */
export interface CliArgument {
  /** As commander takes it: '<model>'. */
  name: string;
  /** As the synopsis writes it: '<model>', 'WORKLOAD'. */
  synopsis: string;
  help: string;
  parse: (value: string) => string;
}

/** A command: what `stride <name> --help` and the synopsis are made of. */
export interface CliCommand<O extends CliOptions = CliOptions> {
  name: string;
  description: string;
  argument?: CliArgument;
  options: O;
  /** Text after the options in `stride <name> --help`. */
  afterHelp?: string;
}

/** The run's values of the recorded options (`recorded: true`). */
export type RecordedValues<O extends CliOptions> = {
  [K in keyof O as O[K] extends { recorded?: true } ? K : never]: O[K] extends CliOption<infer T> ? T : never;
};

/** Declares an option (its value type is the parser's; `recorded: true` keeps its literal type for RecordedValues). */
export function option<T = boolean, R extends boolean = false>(o: CliOption<T> & { recorded?: R }): CliOption<T> & { recorded?: R } {
  return o;
}

/** Parser of an integer >= min. */
export function integer(min: number, what = `an integer >= ${min}`, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`Expected ${what}.`);
    return n;
  };
}

/**
 * Parser of sizes written with 'x' between them (7, 7x7, 3x224x224): 1 to
 * `maxAxes` integers >= min; `what` completes "Expected ...".
 */
export function sizes(maxAxes: number, min: number, what: string) {
  return (value: string): number[] => {
    const parts = value.trim().split(/\s*x\s*/i);
    const n = parts.map(Number);
    if (parts.length > maxAxes || !parts.every((p) => /^\d+$/.test(p)) || n.some((v) => !Number.isSafeInteger(v) || v < min)) {
      throw new InvalidArgumentError(`Expected ${what}.`);
    }
    return n;
  };
}

/** Parser of a finite number passing `check`. */
export function number(check: (n: number) => boolean, what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`Expected ${what}.`);
    return n;
  };
}

/** Parser of one of `names` (a function when the names are known only at start-up). */
export function oneOf<T extends string>(names: readonly T[] | (() => readonly T[]), kind: string) {
  return (value: string): T => {
    const list = typeof names === 'function' ? names() : names;
    if (!list.includes(value as T)) {
      const best = closestName(value, list);
      throw new InvalidArgumentError(`Unknown ${kind}; ${best === undefined ? '' : `did you mean '${best}'? `}available: ${list.join(', ')}.`);
    }
    return value as T;
  };
}

const text = (s: string | (() => string)): string => (typeof s === 'function' ? s() : s);

/** The long flag: '--batch-size' of '--batch-size <n>'. */
function longFlag(o: CliOption): string {
  return o.flags.split(/[ ,|]+/).find((f) => f.startsWith('--'))!;
}

/** The option's help line: its text and, when it has one, its default. */
function helpLine(o: CliOption): string {
  const d = o.defaultHelp !== undefined ? text(o.defaultHelp) : o.default !== undefined ? String(o.default) : undefined;
  return d === undefined ? text(o.help) : `${text(o.help)} (default: ${d})`;
}

/**
 * Commander's error line, with the closest of the command's flags after an
 * unknown one, by the rule of the library's unknown-option errors (closestName:
 * a few edits, or a prefix, so --iter finds --iterations and --batch
 * --batch-size), in commander's words: "(Did you mean --epochs?)".
 */
function withFlagSuggestion(message: string, command: Command): string {
  const unknown = /^error: unknown option '--([^'=]+)(?:=[^']*)?'\n?$/.exec(message);
  if (unknown === null) return message;
  const flags = command.options.map((o) => o.long).filter((f): f is string => f !== undefined).map((f) => f.slice(2));
  const best = closestName(unknown[1], flags);
  return best === undefined ? message : `${message.trimEnd()}\n(Did you mean --${best}?)\n`;
}

/** Adds `spec` to `program` with its options; `action` receives the argument (if any) and the options' values. */
export function addCommand<O extends CliOptions>(program: Command, spec: CliCommand<O>, action: (values: OptionValues<O>, argument: string) => Promise<void>): Command {
  const command = program.command(spec.name).description(spec.description);
  command.showSuggestionAfterError(false).configureOutput({ outputError: (message, write) => write(withFlagSuggestion(message, command)) });
  if (spec.argument) command.argument(spec.argument.name, spec.argument.help, spec.argument.parse);
  for (const [key, o] of Object.entries(spec.options)) {
    const opt = new Option(o.flags, helpLine(o));
    if (opt.attributeName() !== key) throw new Error(`option ${o.flags} of '${spec.name}' is declared as '${key}', but commander names it '${opt.attributeName()}'`);
    if (o.parse) opt.argParser(o.parse);
    if (o.preset !== undefined) opt.preset(o.preset);
    command.addOption(opt);
  }
  if (spec.afterHelp !== undefined) command.addHelpText('after', spec.afterHelp);
  command.action(async (...args: unknown[]) => {
    const values = (spec.argument ? args[1] : args[0]) as OptionValues<O>;
    // Required options are checked here, after commander has refused unknown ones (with its "Did you
    // mean --model?"), so that a misspelt required flag (--modle) is reported as misspelt, not as missing.
    for (const [key, o] of Object.entries(spec.options)) {
      if (o.required && (values as Record<string, unknown>)[key] === undefined) {
        command.error(`error: required option '${o.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
      }
    }
    for (const [key, o] of Object.entries(spec.options)) {
      const other = o.alternativeTo;
      if (other !== undefined && command.getOptionValueSource(key) === 'cli' && command.getOptionValueSource(other) === 'cli') {
        throw new InvalidArgumentError(`${longFlag(spec.options[other])} and ${longFlag(o)} contradict each other; pass one of them`);
      }
    }
    await action(values, spec.argument ? (args[0] as string) : '');
  });
  return command;
}

/** The synopsis of a command, wrapped at `width` columns with the options aligned after the command name. */
export function synopsis(spec: CliCommand, width = 78): string[] {
  const token = (o: CliOption) => {
    if (!o.parse) return longFlag(o);
    const metavar = o.metavar ?? /[<[](\w+)[>\]]/.exec(o.flags)![1].toUpperCase();
    return `${longFlag(o)} ${o.preset !== undefined ? `[${metavar}]` : metavar}`;
  };
  const entries = Object.values(spec.options);
  const tokens = entries
    .filter((o) => o.alternativeTo === undefined)
    .map((o) => {
      const alternatives = entries.filter((a) => a.alternativeTo !== undefined && spec.options[a.alternativeTo] === o);
      const t = [o, ...alternatives].map(token).join(' | ');
      return o.required ? t : `[${t}]`;
    });
  const head = `stride ${spec.name}${spec.argument ? ` ${spec.argument.synopsis}` : ''}`;
  const indent = ' '.repeat(`stride ${spec.name} `.length);
  const lines = [head];
  for (const t of tokens) {
    const last = lines[lines.length - 1];
    if (last.length + 1 + t.length <= width || last === head) lines[lines.length - 1] = `${last} ${t}`;
    else lines.push(`${indent}${t}`);
  }
  return lines;
}

/** --backend and --threads, the same in every command that computes. */
export const BACKEND_OPTIONS = {
  backend: option({
    flags: '--backend <name>',
    help: () => `compute backend: ${listBackends().join(', ')}`,
    parse: oneOf(listBackends, 'backend'),
    defaultHelp: () => `${getBackend().name} on this machine`,
    metavar: 'NAME',
  }),
  threads: option({
    flags: '--threads <n>', help: 'threads for the kernels, the calling one included, at most one per logical core',
    parse: integer(1, `an integer from 1 to ${availableParallelism()} (this machine's logical cores)`, availableParallelism()), defaultHelp: 'one per core',
  }),
};

/** --json, whose help names the first fields of the command's JSON line. */
export function jsonOption(fields: string): CliOption<boolean> {
  return option({ flags: '--json', help: `end the output with one JSON line: ${fields}` });
}

/** The options a run was given, with each absent one set to its declared default. */
export function withDefaults<O extends CliOptions, V extends OptionValues<O>>(options: O, given: V): V {
  const out: Record<string, unknown> = { ...given };
  for (const [key, o] of Object.entries(options)) if (out[key] === undefined && o.default !== undefined) out[key] = o.default;
  return out as V;
}

/** The recorded options' values (checkpoint meta, --json line), in the order they are declared. */
export function recordedValues<O extends CliOptions>(options: O, values: RecordedValues<O>): RecordedValues<O> {
  const all: Record<string, unknown> = values;
  return Object.fromEntries(Object.entries(options).filter(([, o]) => o.recorded).map(([key]) => [key, all[key]])) as RecordedValues<O>;
}
