/**
 * The train page's run, kept for the whole life of the tab rather than of
 * the page: the settings it started with, its curves, its latest numbers and
 * filters, its changes of the learning rate and the batch size, its state.
 *
 * The worker trains on while the user looks at other pages; the stream of
 * `train-start` keeps feeding this store then, and nothing is drawn. When the
 * page is mounted again it renders from here and subscribes for redraws: the
 * run shows again, live, with its whole history, as if the page had never
 * been left. The page's settings form is kept here too, so the navigation's
 * plain `#/train` link brings back the settings as they were.
 */
import { call, stream } from '../rpc.js';
import type { DatasetInfo, EvalResult, ModelInfo, OptimizerName, RunChange, RunState, TrainConfig, TrainEvent, TrainResult } from '../compute/train.js';
import type { FolderListing } from './folder.js';
import { addChange, mergeChanges } from './changes.js';
import { Curves } from './curves.js';
import type { FilterMaps } from './filters.js';

/** What a run is started from: the page's settings form, and the link. */
export interface RunSettings {
  /** A model name of the worker's list, or 'pattern' (then `pattern` is the model). */
  model: string;
  pattern: string;
  optimizer: OptimizerName;
  /** The learning rate and batch size the run starts with. */
  lr: number;
  momentum: number;
  batchSize: number;
  epochs: number;
  seed: number;
  /** Changes of the learning rate and the batch size at given steps. */
  changes: RunChange[];
  /** What to train on: MNIST, or a folder of images the user opens (which a link cannot hold). */
  dataset: 'mnist' | 'folder';
  /** A folder's images are brought to this shape, written CxHxW (e.g. 3x32x32). */
  shape: string;
  /** The share of each class of a folder held out for testing (when it has no train/ and test/). */
  holdout: number;
  /** An augmentation of the training batches in the `--augment` grammar; '' for none. */
  augment: string;
}

/** A folder the user opened: its files (read when a run starts) and what their paths say. */
export interface OpenedFolder {
  files: File[];
  /** Each file's path inside the upload, the folder's name first. */
  paths: string[];
  listing: FolderListing;
}

/** The page's phase: before any run, a run's state, or a run ended by an error. */
export type Phase = 'idle' | RunState | 'error';
export type Progress = Extract<TrainEvent, { kind: 'progress' }>;
export type DataEvent = Extract<TrainEvent, { kind: 'data' }>;

/** What a listener is told: `controls` when more than numbers changed (state, model, changes). */
type Listener = (controls: boolean) => void;

export function copySettings(s: RunSettings): RunSettings {
  return { ...s, changes: s.changes.map((c) => ({ ...c })) };
}

class TrainRun {
  phase: Phase = 'idle';
  /** Asked to pause (the worker confirms with a 'paused' state once the step in flight is done). */
  paused = false;
  /** Whether `train-start`'s stream of the current run is still open. */
  streaming = false;
  /** The run's model, once built (an `Evaluate now` needs one). */
  model: ModelInfo | null = null;
  latest: Progress | null = null;
  lastTest: EvalResult | null = null;
  dataStatus: DataEvent | null = null;
  evalImages = 0;
  /** An `Evaluate now` of a run that has ended is in progress. */
  measuring = false;
  result: TrainResult | null = null;
  /** Why the run ended with an error (null otherwise). */
  error: string | null = null;
  readonly curves = new Curves();
  /** The first layer's filters at step 0 and now; `filterVersion` counts updates (a page draws the ones it has not). */
  initialFilters: FilterMaps | null = null;
  latestFilters: FilterMaps | null = null;
  filterVersion = 0;
  /** The settings the run started with (its scheduled changes included); null before the first run. */
  settings: RunSettings | null = null;
  /** The changes the worker applied while it trained (scheduled or made live). */
  readonly applied: RunChange[] = [];
  /** The learning rate and batch size asked for from the next step (live changes). */
  want = { lr: 0, batchSize: 0 };
  /** The page's settings form, as last shown (null until the page is first mounted). */
  form: RunSettings | null = null;
  /** The folder opened on the page (kept while the tab lives: coming back to the page keeps it). */
  folder: OpenedFolder | null = null;
  /** What the run trains on, as the worker read it (null until its data is loaded). */
  dataset: DatasetInfo | null = null;
  /** Counts runs, so that events of an earlier run (still in flight) are ignored. */
  private id = 0;
  private readonly listeners = new Set<Listener>();

  running(): boolean {
    return this.phase === 'loading' || this.phase === 'training' || this.phase === 'paused' || this.phase === 'evaluating';
  }

  /** The run's changes as its link holds them: those it started with, and those made while it trained. */
  changes(): RunChange[] {
    return mergeChanges(this.settings?.changes ?? [], this.applied);
  }

  /** Calls `listener` after every update of the run; returns the unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(controls = false): void {
    for (const l of this.listeners) l(controls);
  }

  /**
   * Trains a model with `settings` (the form's, copied) in the worker. The
   * stream feeds this store until the run ends, whether a page shows it or not.
   */
  async start(settings: RunSettings, data: TrainConfig['data'], transfer: Transferable[] = []): Promise<void> {
    if (this.running()) return;
    const id = ++this.id;
    this.clear();
    this.settings = copySettings(settings);
    this.want = { lr: settings.lr, batchSize: settings.batchSize };
    this.phase = 'loading';
    this.paused = false;
    this.streaming = true;
    this.notify(true);
    const config: TrainConfig = {
      model: settings.model === 'pattern' ? settings.pattern : settings.model,
      optimizer: settings.optimizer,
      lr: settings.lr,
      momentum: settings.momentum,
      batchSize: settings.batchSize,
      epochs: settings.epochs,
      seed: settings.seed,
      data,
      augment: settings.augment,
      changes: settings.changes.map((c) => ({ ...c })),
    };
    try {
      this.result = await stream('train-start', config, (e) => {
        if (id === this.id) this.onEvent(e as TrainEvent);
      }, transfer);
      if (id !== this.id) return;
      this.phase = this.result.reason;
    } catch (err) {
      if (id !== this.id) return;
      this.phase = 'error';
      this.error = (err as Error).message;
    } finally {
      if (id === this.id) {
        this.streaming = false;
        this.paused = false;
        this.curves.finish();
        // The form describes the run as it went: its start values and all its changes (a new run repeats them).
        if (this.form && this.settings) Object.assign(this.form, copySettings(this.settings), { changes: this.changes() });
        this.notify(true);
      }
    }
  }

  private onEvent(e: TrainEvent): void {
    let controls = false;
    switch (e.kind) {
      case 'data':
        this.dataStatus = e;
        break;
      case 'state':
        this.phase = e.state;
        if (e.state === 'paused') this.paused = true;
        if (e.state === 'training') this.paused = false;
        controls = true;
        break;
      case 'ready':
        this.model = e.model;
        this.dataset = e.dataset;
        controls = true;
        break;
      case 'progress':
        this.latest = e;
        this.curves.append(e.firstStep, e.losses, e.smoothLoss, e.smoothAccuracy);
        break;
      case 'filters':
        if (e.step === 0 || this.initialFilters === null || this.initialFilters.shape.join() !== e.shape.join()) this.initialFilters = e;
        this.latestFilters = e;
        this.filterVersion++;
        break;
      case 'change': {
        const c: RunChange = { step: e.step };
        if (e.lr !== e.from.lr) c.lr = e.lr;
        if (e.batchSize !== e.from.batchSize) c.batchSize = e.batchSize;
        addChange(this.applied, c);
        // A scheduled change moves the values asked for too (a live one already had).
        this.want = { lr: e.lr, batchSize: e.batchSize };
        controls = true;
        break;
      }
      case 'eval-start':
        this.evalImages = e.images;
        break;
      case 'eval':
        this.takeEval(e.result);
        break;
    }
    this.notify(controls);
  }

  /** A test measurement, from the run's stream or from an `Evaluate now` after the run ended (taken once). */
  takeEval(r: EvalResult): void {
    if (this.lastTest && this.lastTest.step === r.step && this.lastTest.correct === r.correct) return;
    this.lastTest = r;
    this.evalImages = r.total;
    this.curves.addTest({ step: r.step, loss: r.loss, accuracy: r.accuracy });
  }

  /** Pauses or resumes the run; a run that ended meanwhile has nothing to pause. */
  async setPaused(want: boolean): Promise<void> {
    this.paused = want;
    this.notify(true);
    try {
      const s = await call('train-pause', { paused: want });
      if (s.state === 'none' || s.state === 'finished' || s.state === 'stopped') this.paused = false;
    } finally {
      this.notify(true);
    }
  }

  /** Evaluates the model as it is now on the test set. */
  async evaluate(): Promise<void> {
    // The stream of an ended run no longer reports: the page says it is measuring.
    this.measuring = !this.streaming;
    this.notify(true);
    try {
      this.takeEval(await call('train-evaluate', undefined));
    } finally {
      this.measuring = false;
      this.notify(true);
    }
  }

  /** Forgets the run (not while it trains): the page shows no run. */
  reset(): void {
    if (this.running()) return;
    this.id++;
    this.clear();
    this.phase = 'idle';
    this.notify(true);
  }

  private clear(): void {
    this.latest = null;
    this.lastTest = null;
    this.dataStatus = null;
    this.result = null;
    this.model = null;
    this.dataset = null;
    this.error = null;
    this.measuring = false;
    this.initialFilters = null;
    this.latestFilters = null;
    this.filterVersion++;
    this.applied.length = 0;
    this.settings = null;
    this.curves.clear();
  }
}

/** The one run of the tab (the worker trains one model at a time). */
export const trainRun = new TrainRun();
