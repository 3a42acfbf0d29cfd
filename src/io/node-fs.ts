/**
 * Checkpoints on disk (Node only; exported from 'stride/node').
 *
 * Saving never destroys the previous checkpoint (docs/design.md, "Errors state the rule"): the bytes
 * go to a temporary file beside the target, `<name>.tmp-<pid>-<12 hex digits>`,
 * which is flushed to disk (fsync) and then renamed over the target, and the
 * folder is flushed too (where the platform allows: not on Windows). A rename
 * within one folder is atomic on POSIX file systems and on NTFS, so a reader
 * sees either the old file or the new one, never half of each, even if the
 * process is killed mid-save or the machine loses power. If anything fails,
 * the temporary file is removed and the error is rethrown; a process killed
 * mid-save cannot remove its own, so each save first removes the temporary
 * files of its target left by processes that no longer run.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

import { DataError, StrideError, ValueError } from '../errors.js';
import { createModel, models } from '../models/index.js';
import type { Module } from '../nn/module.js';
import { fromPytorchStateDict, toPytorchStateDict } from '../nn/pytorch-names.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkOptions } from '../validate.js';
import { CHECKPOINT_FILE, buildModelFromFile, decodeCheckpoint, encodeCheckpoint, isPlainObject, modelFromCheckpoint, type CheckpointHeader, type CheckpointMeta, type CheckpointTraining, type DecodedCheckpoint, type JsonValue } from './checkpoint.js';
import { SAFETENSORS_FILE, decodeSafetensors, encodeSafetensors, type DecodedSafetensors, type EncodeSafetensorsOptions, type SafetensorsDType } from './safetensors.js';

/** The file operations `writeFileAtomic` uses; tests replace them to simulate failures. */
export interface AtomicWriteFs {
  /** Creates `path` (it must not exist), writes all of `bytes` and flushes them to disk. */
  writeNew(path: string, bytes: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

/** The real file system. */
export const nodeAtomicFs: AtomicWriteFs = {
  async writeNew(path, bytes) {
    const handle = await open(path, 'wx', 0o644);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  rename: (from, to) => rename(from, to),
  unlink: (path) => unlink(path),
};

/** The temporary files this process is writing now (absolute paths), which stale-file removal must leave alone. */
const inFlight = new Set<string>();

/**
 * Writes `bytes` to `path` atomically: to `<path>.tmp-<pid>-<random>` first,
 * fsync, then rename over `path`, then fsync the folder. On failure the
 * temporary file is removed and whatever was at `path` before is left as it
 * was. The folder must exist. Temporary files of `path` left by a process that
 * was killed mid-save (one that no longer runs, or an earlier process with
 * this one's id) are removed first.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, fs: AtomicWriteFs = nodeAtomicFs): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new ValueError(`writeFileAtomic: path must be a non-empty string, got ${JSON.stringify(path)}`);
  if (!(bytes instanceof Uint8Array)) throw new ValueError('writeFileAtomic: bytes must be a Uint8Array');
  await removeStaleTemporaryFiles(path);
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  inFlight.add(resolve(tmp));
  try {
    await fs.writeNew(tmp, bytes);
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.unlink(tmp).catch(() => {}); // it may never have been created
    throw err;
  } finally {
    inFlight.delete(resolve(tmp));
  }
  await syncDir(dirname(path));
}

/**
 * Removes `<path>.tmp-<pid>-<12 hex digits>` files beside `path` whose process
 * no longer runs (or is this one, but not writing them now): what a save
 * killed before its rename leaves. A file of a process that still runs on
 * this machine (another save in progress) is left alone; so is every other
 * name. Best effort: a folder that cannot be listed or a file that cannot be
 * removed does not stop the save.
 */
async function removeStaleTemporaryFiles(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.tmp-`;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)-[0-9a-f]{12}$/.exec(name.slice(prefix.length));
    if (m === null) continue;
    const file = join(dir, name);
    const pid = Number(m[1]);
    if (pid === process.pid ? inFlight.has(resolve(file)) : processRuns(pid)) continue;
    await unlink(file).catch(() => {});
  }
}

/** Whether a process with this id runs on this machine (signal 0 tests for it without sending anything). */
function processRuns(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // it runs, as another user
  }
}

/** Flushes a folder's entries (the rename) to disk; not every platform allows it, so failures are ignored. */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows cannot open folders; the rename itself is still atomic.
  }
}

/**
 * Creates the folder `dir` and its parents unless it exists. An existing file
 * at `dir` is a ValueError that says so (instead of mkdir's "EEXIST: file
 * already exists"): `label` names the argument (e.g. '--out') and `holds`
 * what the folder is for (e.g. 'model.stride').
 */
export async function ensureFolder(dir: string, label: string, holds: string): Promise<void> {
  if (typeof label !== 'string' || typeof holds !== 'string') throw new ValueError(`ensureFolder: label and holds must be strings (e.g. '--out', 'model.stride'), got ${typeof label} and ${typeof holds}`);
  if (typeof dir !== 'string' || dir === '') throw new ValueError(`${label}: expected a folder path, got ${JSON.stringify(dir)}`);
  const info = await stat(dir).catch(() => null);
  if (info !== null && !info.isDirectory()) {
    throw new ValueError(`${label} ${dir} is an existing file, not a folder (the folder is to hold ${holds}); name a folder, new or existing, or move the file away`);
  }
  await mkdir(dir, { recursive: true });
}

/** The formats `saveCheckpoint` writes. */
export const CHECKPOINT_FORMATS = ['stride', 'safetensors'] as const;
export type CheckpointFormat = (typeof CHECKPOINT_FORMATS)[number];

export interface SaveCheckpointInfo {
  /** The model's name in the registry (`models`), e.g. 'lenet5'. */
  model: string;
  /** Options to rebuild it with `createModel` (JSON values only). */
  modelOptions?: Record<string, JsonValue>;
  /** Anything worth keeping about the run: dataset, epochs, testAccuracy... `createdAt` is filled in. */
  meta?: CheckpointMeta;
  /**
   * 'stride' (default): `<dir>/model.stride`. 'safetensors':
   * `<dir>/model.safetensors` with PyTorch's state-dict names (see
   * `saveModelSafetensors`), which `safetensors.torch.load_file` reads.
   */
  format?: CheckpointFormat;
  /** The state to resume training from (optimizer, epoch, generators); the file is then format v2. */
  training?: CheckpointTraining;
}

/**
 * Saves `model`'s state dict to `<dir>/model.stride` (or `<dir>/model.safetensors`
 * with `format: 'safetensors'`), creating `dir`, atomically.
 * Returns the path of the file.
 */
export async function saveCheckpoint(dir: string, model: Module, info: SaveCheckpointInfo): Promise<string> {
  if (typeof dir !== 'string' || dir === '') throw new ValueError(`saveCheckpoint: dir must be a folder path, got ${JSON.stringify(dir)}`);
  if (model === null || typeof model !== 'object' || typeof (model as Module).stateDict !== 'function') {
    throw new ValueError('saveCheckpoint: model must be a Module');
  }
  if (info === null || typeof info !== 'object') throw new ValueError("saveCheckpoint: info must be an object like { model: 'lenet5' }");
  checkOptions('saveCheckpoint', info, ['model', 'modelOptions', 'meta', 'format', 'training']);
  const format = info.format ?? 'stride';
  if (!CHECKPOINT_FORMATS.includes(format)) throw new ValueError(`saveCheckpoint: format must be one of ${CHECKPOINT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  if (format === 'safetensors') {
    await ensureFolder(dir, 'saveCheckpoint: dir', SAFETENSORS_FILE);
    const { format: _format, ...safetensorsInfo } = info;
    return saveModelSafetensors(join(dir, SAFETENSORS_FILE), model, safetensorsInfo);
  }
  const bytes = encodeCheckpoint({
    model: info.model,
    modelOptions: info.modelOptions ?? {},
    state: model.stateDict(),
    meta: { createdAt: new Date().toISOString(), ...info.meta },
    ...(info.training !== undefined ? { training: info.training } : {}),
  });
  await ensureFolder(dir, 'saveCheckpoint: dir', CHECKPOINT_FILE);
  const path = join(dir, CHECKPOINT_FILE);
  await writeFileAtomic(path, bytes);
  return path;
}

export interface LoadedCheckpoint {
  /** The rebuilt model with the saved weights, in eval mode. */
  model: Module;
  header: CheckpointHeader;
  /** The file that was read. */
  path: string;
  /** The training state, when the checkpoint holds one (format v2). */
  training?: CheckpointTraining;
}

/** A checkpoint file's contents, decoded and checked but not built into a model. */
export interface ReadCheckpoint extends DecodedCheckpoint {
  /** The file that was read. */
  path: string;
}

/** Reads and decodes a checkpoint (a folder holding model.stride, or the file itself) without building the model. */
export async function readCheckpoint(location: string): Promise<ReadCheckpoint> {
  const path = await resolveCheckpointPath(location);
  const bytes = await readFile(path);
  return { ...decodeCheckpoint(bytes, path), path };
}

/** The checkpoint file for `location`: the file itself, or `model.stride` inside a folder. */
export async function resolveCheckpointPath(location: string): Promise<string> {
  if (typeof location !== 'string' || location === '') throw new ValueError(`loadCheckpoint: expected a folder or a .stride file, got ${JSON.stringify(location)}`);
  const info = await stat(location).catch(() => null);
  if (info === null) {
    throw new DataError(`loadCheckpoint: ${location} does not exist; expected a folder holding ${CHECKPOINT_FILE} (as written by \`stride train --out DIR\`) or a .stride file`);
  }
  if (info.isFile()) return location;
  const path = join(location, CHECKPOINT_FILE);
  const file = await stat(path).catch(() => null);
  if (file === null || !file.isFile()) {
    throw new DataError(`loadCheckpoint: ${resolve(location)} holds no ${CHECKPOINT_FILE}; train one with \`stride train lenet5 --dataset mnist --out ${location}\``);
  }
  return path;
}

/**
 * Reads a checkpoint (a folder holding model.stride, or the file itself),
 * verifies it (decodeCheckpoint), rebuilds the model with
 * `createModel(header.model, header.modelOptions)` and loads the weights
 * (modelFromCheckpoint). A file that names an unknown model, whose options
 * need more values than it stores or whose tensors do not fit the model is a
 * DataError naming the file.
 */
export async function loadCheckpoint(location: string): Promise<LoadedCheckpoint> {
  const { header, state, training, path } = await readCheckpoint(location);
  const model = modelFromCheckpoint({ header, state }, path);
  return training === undefined ? { model, header, path } : { model, header, path, training };
}

/**
 * Reads a `.safetensors` file (see `decodeSafetensors` for what is checked and
 * returned). A missing file or a malformed one is a DataError naming it.
 */
export async function loadSafetensors(path: string): Promise<DecodedSafetensors> {
  if (typeof path !== 'string' || path === '') throw new ValueError(`loadSafetensors: path must be a non-empty string, got ${JSON.stringify(path)}`);
  return decodeSafetensors(await readExisting(path, 'loadSafetensors'), path);
}

/**
 * Writes tensors (and optional string metadata) as a `.safetensors` file,
 * atomically (`writeFileAtomic`), creating its folder. Float32 tensors are
 * stored as F32, float64 as F64, unless `options.dtypes` says otherwise.
 * Returns the path.
 */
export async function saveSafetensors(path: string, tensors: Record<string, Tensor>, metadata?: Record<string, string>, options?: EncodeSafetensorsOptions): Promise<string> {
  if (typeof path !== 'string' || path === '') throw new ValueError(`saveSafetensors: path must be a non-empty string, got ${JSON.stringify(path)}`);
  const bytes = encodeSafetensors(tensors, metadata, options);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, bytes);
  return path;
}

/**
 * The `__metadata__` keys by which a `.safetensors` file written by Stride
 * names its model: the registry name, the options to rebuild it (JSON) and the
 * run's meta (JSON). 'format': 'pt' is set too, as Hugging Face's libraries
 * expect of PyTorch-named weights.
 */
export const SAFETENSORS_MODEL_KEYS = { model: 'stride.model', modelOptions: 'stride.modelOptions', meta: 'stride.meta' } as const;

/**
 * Saves `model`'s state dict as a `.safetensors` file with PyTorch's names
 * (`nn.toPytorchStateDict`: running_mean, num_batches_tracked...), so that
 * `torch_model.load_state_dict(safetensors.torch.load_file(path))` loads it
 * into the torchvision model of the same name. Values are F32, except the
 * batch-norm counters num_batches_tracked, written as I64 as PyTorch keeps
 * them. The model's name, options and `meta` go in `__metadata__`
 * (`SAFETENSORS_MODEL_KEYS`), so `loadWeightsFile` rebuilds it. Atomic.
 */
export async function saveModelSafetensors(path: string, model: Module, info: Omit<SaveCheckpointInfo, 'format'>): Promise<string> {
  if (model === null || typeof model !== 'object' || typeof (model as Module).stateDict !== 'function') throw new ValueError('saveModelSafetensors: model must be a Module');
  if (info === null || typeof info !== 'object' || typeof info.model !== 'string' || info.model === '') {
    throw new ValueError(`saveModelSafetensors: info must name the model, like { model: 'lenet5' }, got ${JSON.stringify(info)}`);
  }
  checkOptions('saveModelSafetensors', info, ['model', 'modelOptions', 'meta', 'training']);
  const tensors = toPytorchStateDict(model.stateDict());
  const dtypes: Record<string, SafetensorsDType> = {};
  for (const name of Object.keys(tensors)) if (name === 'num_batches_tracked' || name.endsWith('.num_batches_tracked')) dtypes[name] = 'I64';
  const metadata = {
    format: 'pt',
    [SAFETENSORS_MODEL_KEYS.model]: info.model,
    [SAFETENSORS_MODEL_KEYS.modelOptions]: JSON.stringify(info.modelOptions ?? {}),
    [SAFETENSORS_MODEL_KEYS.meta]: JSON.stringify({ createdAt: new Date().toISOString(), ...info.meta }),
  };
  return saveSafetensors(path, tensors, metadata, { dtypes });
}

/** What `loadWeightsFile` read: the model, in eval mode, and how it was described. */
export interface LoadedWeights {
  model: Module;
  header: {
    format: CheckpointFormat;
    /** The registry name the model was built from. */
    model: string;
    modelOptions: Record<string, JsonValue>;
    meta: CheckpointMeta;
  };
  /** The file that was read. */
  path: string;
  /** The training state of a Stride checkpoint that holds one (format v2). */
  training?: CheckpointTraining;
}

/**
 * The weights file for `location`: the file itself, or inside a folder
 * `model.stride` or `model.safetensors` (whichever it holds; both is an
 * error, as the choice would be a guess).
 */
export async function resolveWeightsPath(location: string): Promise<string> {
  if (typeof location !== 'string' || location === '') throw new ValueError(`expected a folder, a .stride or a .safetensors file, got ${JSON.stringify(location)}`);
  const info = await stat(location).catch(() => null);
  if (info === null) throw new DataError(`${location} does not exist; expected a folder holding ${CHECKPOINT_FILE} or ${SAFETENSORS_FILE} (as written by \`stride train --out DIR\`), a .stride or a .safetensors file`);
  if (info.isFile()) return location;
  const found: string[] = [];
  for (const name of [CHECKPOINT_FILE, SAFETENSORS_FILE]) {
    const file = await stat(join(location, name)).catch(() => null);
    if (file !== null && file.isFile()) found.push(join(location, name));
  }
  if (found.length === 0) {
    throw new DataError(`${resolve(location)} holds neither ${CHECKPOINT_FILE} nor ${SAFETENSORS_FILE}; train one with \`stride train lenet5 --dataset mnist --out ${location}\``);
  }
  if (found.length > 1) throw new DataError(`${resolve(location)} holds both ${CHECKPOINT_FILE} and ${SAFETENSORS_FILE}; name the file to read`);
  return found[0];
}

const isSafetensorsPath = (path: string): boolean => path.toLowerCase().endsWith('.safetensors');

/**
 * Reads a model's weights: a Stride checkpoint (`loadCheckpoint`) or, for a
 * `.safetensors` file (or a folder holding model.safetensors), the tensors
 * under PyTorch's or Stride's names (`nn.fromPytorchStateDict`). The model is
 * the one the file's `__metadata__` names ('stride.model', as Stride writes
 * it) or, for weights from elsewhere (a torchvision state dict saved by
 * PyTorch), `options.arch`; a file that names a model other than `arch` is an
 * error. Its options come from 'stride.modelOptions' or, when absent, from
 * the weights: the class count from the classifier's weight (the model's last
 * 2-D parameter) and the input channels from the first convolution's weight.
 * Every tensor must fit the model (strict names and shapes); integer tensors
 * (torchvision's I64 num_batches_tracked) load as float32. The model is
 * returned in eval mode. Problems are DataErrors naming the file.
 */
export async function loadWeightsFile(location: string, options: { arch?: string } = {}): Promise<LoadedWeights> {
  if (options === null || typeof options !== 'object') throw new ValueError("loadWeightsFile: options must be an object like { arch: 'resnet18' }");
  checkOptions('loadWeightsFile', options, ['arch']);
  const { arch } = options;
  if (arch !== undefined && !Object.hasOwn(models, arch)) throw new ValueError(`loadWeightsFile: unknown arch '${arch}'; available: ${Object.keys(models).join(', ')}`);
  const path = await resolveWeightsPath(location);
  if (!isSafetensorsPath(path)) {
    const { model, header, training } = await loadCheckpoint(path);
    if (arch !== undefined && arch !== header.model) throw new DataError(`checkpoint ${path} holds model '${header.model}', not '${arch}' (--arch); leave --arch out for Stride checkpoints`);
    const loaded: LoadedWeights = { model, header: { format: 'stride', model: header.model, modelOptions: header.modelOptions, meta: header.meta }, path };
    return training === undefined ? loaded : { ...loaded, training };
  }
  const { tensors, metadata } = await loadSafetensors(path);
  const where = `safetensors ${path}`;
  const named = metadata[SAFETENSORS_MODEL_KEYS.model];
  if (named !== undefined && !Object.hasOwn(models, named)) throw new DataError(`${where}: its metadata names model '${named}', which is not in the registry (${Object.keys(models).join(', ')})`);
  if (named !== undefined && arch !== undefined && named !== arch) throw new DataError(`${where} holds weights of '${named}' (its metadata says), not '${arch}' (--arch)`);
  const name = named ?? arch;
  if (name === undefined) {
    throw new DataError(`${where} does not name its model (no '${SAFETENSORS_MODEL_KEYS.model}' in its __metadata__, as in weights saved by PyTorch); pass --arch with one of ${Object.keys(models).join(', ')}`);
  }
  const parseJson = (key: string): Record<string, JsonValue> | undefined => {
    const text = metadata[key];
    if (text === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new DataError(`${where}: metadata '${key}' must be a JSON object, got ${JSON.stringify(text.slice(0, 80))}`);
    }
    if (!isPlainObject(value)) throw new DataError(`${where}: metadata '${key}' must be a JSON object, got ${text.slice(0, 80)}`);
    return value as Record<string, JsonValue>;
  };
  const state = fromPytorchStateDict(tensors);
  const given = parseJson(SAFETENSORS_MODEL_KEYS.modelOptions);
  const meta = (parseJson(SAFETENSORS_MODEL_KEYS.meta) ?? {}) as CheckpointMeta;
  const stored = Object.values(state).reduce((sum, t) => sum + t.size, 0);
  // A model built from the file's description (its metadata's options, or the options its weights imply) is bounded by the values it stores
  // (buildModelFromFile); the registry's default model, built to read the names and shapes of its parameters, is not the file's.
  const building = `${where} (model '${name}')`;
  const labels = { model: `metadata '${SAFETENSORS_MODEL_KEYS.model}'`, options: `metadata '${SAFETENSORS_MODEL_KEYS.modelOptions}'`, mismatch: 'its metadata does not describe its tensors' };
  let model = given === undefined ? createModel(name) : buildModelFromFile(name, given, stored, building, labels);
  let modelOptions = given ?? {};
  if (given === undefined) {
    const inferred = optionsFromWeights(model, state);
    modelOptions = inferred;
    const mismatch = named === undefined ? `the weights are not those of '${name}' (is arch right?)` : `the weights are not those of '${name}'`;
    if (Object.keys(inferred).length > 0) model = buildModelFromFile(name, inferred, stored, building, { ...labels, options: 'the options read from its weights', mismatch });
  }
  try {
    model.loadStateDict(state);
  } catch (err) {
    if (err instanceof StrideError) throw new DataError(`${building}: ${err.message}`);
    throw err;
  }
  model.eval();
  return { model, header: { format: 'safetensors', model: name, modelOptions, meta }, path };
}

/**
 * The class count and input channels of weights for `model`'s architecture
 * where they differ from the model's: the classifier is the last 2-D
 * parameter ([classes, features]), the first convolution the first 4-D one
 * ([out, in, kh, kw]).
 */
function optionsFromWeights(model: Module, state: Record<string, Tensor>): { numClasses?: number; inChannels?: number } {
  const params = [...model.namedParameters()];
  const out: { numClasses?: number; inChannels?: number } = {};
  const classifier = params.filter(([, p]) => p.ndim === 2).pop();
  const given = classifier && state[classifier[0]];
  if (classifier && given && given.ndim === 2 && given.shape[0] !== classifier[1].shape[0] && given.shape[0] > 0) out.numClasses = given.shape[0];
  const conv = params.find(([, p]) => p.ndim === 4);
  const first = conv && state[conv[0]];
  if (conv && first && first.ndim === 4 && first.shape[1] !== conv[1].shape[1] && first.shape[1] > 0) out.inChannels = first.shape[1];
  return out;
}

/**
 * Loads the weights of a file (a Stride checkpoint, a `.safetensors` file
 * under PyTorch's or Stride's names, or a folder holding either) into
 * `model`, which must have every tensor the file has, with the same shapes
 * (e.g. to start training from them). Returns the path read.
 */
export async function loadWeightsInto(model: Module, location: string): Promise<string> {
  if (model === null || typeof model !== 'object' || typeof (model as Module).loadStateDict !== 'function') throw new ValueError('loadWeightsInto: model must be a Module');
  const path = await resolveWeightsPath(location);
  const state = isSafetensorsPath(path)
    ? fromPytorchStateDict((await loadSafetensors(path)).tensors)
    : decodeCheckpoint(await readExisting(path, 'loadWeightsInto'), path).state;
  try {
    model.loadStateDict(state);
  } catch (err) {
    if (err instanceof StrideError) throw new DataError(`${isSafetensorsPath(path) ? 'safetensors' : 'checkpoint'} ${path}: ${err.message}`);
    throw err;
  }
  return path;
}

/** The bytes of `path`; a missing file is a DataError naming it. */
async function readExisting(path: string, where: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DataError(`${where}: ${path} does not exist`);
    throw err;
  }
}
