/**
 * Checkpoints on disk (Node only; exported from 'stride/node').
 *
 * Saving never destroys the previous checkpoint (docs/design.md, "Errors state the rule"): the bytes
 * go to a temporary file beside the target, which is flushed to disk (fsync)
 * and then renamed over the target. A rename within one folder is atomic on
 * POSIX file systems and on NTFS, so a reader sees either the old file or the
 * new one, never half of each, even if the process dies mid-save. If anything
 * fails, the temporary file is removed and the error is rethrown.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

import { DataError, StrideError, ValueError } from '../errors.js';
import { createModel } from '../models/index.js';
import type { Module } from '../nn/module.js';
import { CHECKPOINT_FILE, decodeCheckpoint, encodeCheckpoint, type CheckpointHeader, type CheckpointMeta, type CheckpointTraining, type DecodedCheckpoint, type JsonValue } from './checkpoint.js';

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

/**
 * Writes `bytes` to `path` atomically: to `<path>.tmp-<pid>-<random>` first,
 * fsync, then rename over `path`. On failure the temporary file is removed and
 * whatever was at `path` before is left as it was. The folder must exist.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, fs: AtomicWriteFs = nodeAtomicFs): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new ValueError(`writeFileAtomic: path must be a non-empty string, got ${JSON.stringify(path)}`);
  if (!(bytes instanceof Uint8Array)) throw new ValueError('writeFileAtomic: bytes must be a Uint8Array');
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await fs.writeNew(tmp, bytes);
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.unlink(tmp).catch(() => {}); // it may never have been created
    throw err;
  }
  await syncDir(dirname(path));
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

export interface SaveCheckpointInfo {
  /** The model's name in the registry (`models`), e.g. 'lenet5'. */
  model: string;
  /** Options to rebuild it with `createModel` (JSON values only). */
  modelOptions?: Record<string, JsonValue>;
  /** Anything worth keeping about the run: dataset, epochs, testAccuracy... `createdAt` is filled in. */
  meta?: CheckpointMeta;
  /** The state to resume training from (optimizer, epoch, generators); the file is then format v2. */
  training?: CheckpointTraining;
}

/**
 * Saves `model`'s state dict to `<dir>/model.stride` (creating `dir`), atomically.
 * Returns the path of the file.
 */
export async function saveCheckpoint(dir: string, model: Module, info: SaveCheckpointInfo): Promise<string> {
  if (typeof dir !== 'string' || dir === '') throw new ValueError(`saveCheckpoint: dir must be a folder path, got ${JSON.stringify(dir)}`);
  if (model === null || typeof model !== 'object' || typeof (model as Module).stateDict !== 'function') {
    throw new ValueError('saveCheckpoint: model must be a Module');
  }
  if (info === null || typeof info !== 'object') throw new ValueError("saveCheckpoint: info must be an object like { model: 'lenet5' }");
  const bytes = encodeCheckpoint({
    model: info.model,
    modelOptions: info.modelOptions ?? {},
    state: model.stateDict(),
    meta: { createdAt: new Date().toISOString(), ...info.meta },
    ...(info.training !== undefined ? { training: info.training } : {}),
  });
  await mkdir(dir, { recursive: true });
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
 * rebuilds the model with `createModel(header.model, header.modelOptions)` and
 * loads the weights. A file that names an unknown model or whose tensors do not
 * fit the model is a DataError naming the file.
 */
export async function loadCheckpoint(location: string): Promise<LoadedCheckpoint> {
  const { header, state, training, path } = await readCheckpoint(location);
  let model: Module;
  try {
    model = createModel(header.model, header.modelOptions as Parameters<typeof createModel>[1]);
    model.loadStateDict(state);
  } catch (err) {
    if (err instanceof StrideError) throw new DataError(`checkpoint ${path}: ${err.message}`);
    throw err;
  }
  model.eval();
  return training === undefined ? { model, header, path } : { model, header, path, training };
}
