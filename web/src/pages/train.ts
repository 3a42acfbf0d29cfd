/**
 * #/train: trains a convolutional network on MNIST in the browser and shows it
 * learning: the loss and accuracy curves, the first layer's filters, the test
 * accuracy after each epoch, the throughput.
 *
 * Everything Stride computes (download, decoding, every training step) runs
 * in the compute worker (compute/train.ts); this module only sends the
 * settings, receives the streamed progress and draws it, at most once per
 * animation frame. The learning rate and the batch size may change while the
 * model trains (the worker applies them at its next step); the other settings
 * define a run and are locked while it goes.
 */
import './train.css';
import type { PageContext, PageDefinition } from '../router.js';
import { choiceParam, intParam, numberParam } from '../router.js';
import { call, stream } from '../rpc.js';
import { button, checkbox, el, errorBox, fmt, numberField, panel, selectField, textField, thousands } from '../ui.js';
import type { EvalResult, ModelChoice, ModelInfo, OptimizerName, RunState, TrainConfig, TrainEvent, TrainOptions, TrainResult } from '../compute/train.js';
import { Curves } from '../train/curves.js';
import { accuracyChart, lossChart, type LiveChart } from '../train/charts.js';
import { FilterView, type FilterMaps } from '../train/filters.js';

/** The select's value for "a layer pattern" (the pattern itself is in its own field). */
const PATTERN = 'pattern';
/** A pattern that trains about as fast as LeNet-5: two 3x3 convolutions of 16 filters, each pooled, then the classifier. */
const DEFAULT_PATTERN = '[conv3-16-relu-pool2]*2-fc10';
/** Names for the zoo's models in the select (others show their registry name). */
const MODEL_LABELS: Record<string, string> = { lenet5: 'LeNet-5', 'lenet5-1998': 'LeNet-5 as published (1998)' };
const OPTIMIZERS: readonly { value: OptimizerName; label: string }[] = [{ value: 'sgd', label: 'SGD with momentum' }, { value: 'adam', label: 'Adam' }];
/** Until the worker lists its models: what the page offers by default. */
const FALLBACK_OPTIONS: TrainOptions = {
  models: [{ name: 'lenet5', description: 'LeNet-5', lr: { sgd: 0.05, adam: 0.001 } }],
  patternLr: { sgd: 0.05, adam: 0.001 },
  patternExample: '[(conv3-32-relu)*2-pool2]*2-(fc128-relu)*1-fc10',
  window: 20,
};
const DATA_FILES = {
  trainImages: 'mnist-train-images.idx.gz',
  trainLabels: 'mnist-train-labels.idx.gz',
  testImages: 'mnist-test-images.idx.gz',
  testLabels: 'mnist-test-labels.idx.gz',
};

/** The page's phase: before any run, a run's state, or a run ended by an error. */
type Phase = 'idle' | RunState | 'error';
type Progress = Extract<TrainEvent, { kind: 'progress' }>;
type DataEvent = Extract<TrainEvent, { kind: 'data' }>;

export const trainPage: PageDefinition = {
  path: 'train',
  title: 'Train',
  blurb: 'Train a CNN on MNIST in this tab and watch it learn.',
  mount(root, ctx) {
    return mountTrain(root, ctx);
  },
};

function mountTrain(root: HTMLElement, ctx: PageContext): () => void {
  const p = ctx.params;
  let options = FALLBACK_OPTIONS;
  const settings = {
    model: p.get('model') ?? 'lenet5',
    pattern: p.get('pattern') ?? DEFAULT_PATTERN,
    optimizer: choiceParam(p, 'opt', ['sgd', 'adam'] as const, 'sgd'),
    lr: 0,
    momentum: numberParam(p, 'momentum', 0.9, 0, 0.99),
    batchSize: intParam(p, 'batch', 64, 1, 4096),
    epochs: intParam(p, 'epochs', 1, 1, 100),
    seed: intParam(p, 'seed', 0, 0, 2 ** 31 - 1),
  };
  settings.lr = numberParam(p, 'lr', suggestedLr(), 0.00001, 10);

  let phase: Phase = 'idle';
  let paused = false;
  /** Counts runs, so that events of an earlier run (still in flight) are ignored. */
  let runId = 0;
  /** Whether `train-start`'s stream of the current run is still open. */
  let streaming = false;
  let hasModel = false;
  let disposed = false;
  let modelInfo: ModelInfo | null = null;
  let modelError: string | null = null;
  let latest: Progress | null = null;
  let lastTest: EvalResult | null = null;
  let dataStatus: DataEvent | null = null;
  let evalImages = 0;
  /** An `Evaluate now` of a run that has ended is in progress. */
  let measuring = false;
  let pendingFilters: FilterMaps | null = null;
  let result: TrainResult | null = null;
  const curves = new Curves();
  const filters = new FilterView(p.get('start') === '1');
  let charts: LiveChart[] = [];

  function suggestedLr(): number {
    const m = options.models.find((c) => c.name === settings.model);
    return (m?.lr ?? options.patternLr)[settings.optimizer];
  }
  const modelString = () => (settings.model === PATTERN ? settings.pattern : settings.model);
  const running = () => phase === 'loading' || phase === 'training' || phase === 'paused' || phase === 'evaluating';

  // ---- controls --------------------------------------------------------------

  const modelSelect = selectField<string>({
    label: 'Model',
    value: settings.model,
    options: modelOptions(),
    testid: 'train-model',
    onChange(v) {
      const before = suggestedLr();
      settings.model = v;
      followSuggestedLr(before);
      ctx.setParams({ model: v, pattern: v === PATTERN ? settings.pattern : null });
      renderControls();
      describeModel();
    },
  });
  const patternField = textField({
    label: 'Layer pattern',
    value: settings.pattern,
    placeholder: DEFAULT_PATTERN,
    testid: 'train-pattern',
    onChange(v) {
      settings.pattern = v;
      ctx.setParams({ pattern: v });
      describeModel(250);
    },
  });
  const patternHelp = el('p', { class: 'hint train-help', id: 'train-pattern-help' });
  patternField.input.setAttribute('aria-describedby', 'train-pattern-help train-model-error');
  const patternBox = el('div', {}, patternField.root, patternHelp);
  const modelErrorBox = el('div', { id: 'train-model-error', 'data-testid': 'train-model-error', 'aria-live': 'polite' });
  const modelSummary = el('p', { class: 'muted train-model-summary', 'data-testid': 'train-model-summary', 'aria-live': 'polite' });

  const optimizerSelect = selectField<OptimizerName>({
    label: 'Optimizer',
    value: settings.optimizer,
    options: OPTIMIZERS,
    testid: 'train-optimizer',
    onChange(v) {
      const before = suggestedLr();
      settings.optimizer = v;
      followSuggestedLr(before);
      ctx.setParams({ opt: v });
      renderControls();
    },
  });
  const lrField = checked(numberField({
    label: 'Learning rate',
    value: settings.lr,
    min: 0.00001,
    max: 10,
    step: 0.00001,
    testid: 'train-lr',
    onChange(v) {
      settings.lr = v;
      ctx.setParams({ lr: v });
      if (running()) live({ lr: v });
      renderStats();
    },
  }), 'a number from 0.00001 to 10, such as 0.05 for SGD or 0.001 for Adam');
  const momentumField = checked(numberField({
    label: 'Momentum',
    value: settings.momentum,
    min: 0,
    max: 0.99,
    step: 0.01,
    testid: 'train-momentum',
    onChange(v) {
      settings.momentum = v;
      ctx.setParams({ momentum: v });
    },
  }), 'a number from 0 to 0.99 in steps of 0.01, such as 0.9');
  const batchField = checked(numberField({
    label: 'Batch size',
    value: settings.batchSize,
    min: 1,
    max: 4096,
    testid: 'train-batch',
    onChange(v) {
      settings.batchSize = v;
      ctx.setParams({ batch: v });
      if (running()) live({ batchSize: v });
      renderStats();
    },
  }), 'a whole number from 1 to 4096');
  const epochsField = checked(numberField({
    label: 'Epochs',
    value: settings.epochs,
    min: 1,
    max: 100,
    testid: 'train-epochs',
    onChange(v) {
      settings.epochs = v;
      ctx.setParams({ epochs: v });
    },
  }), 'a whole number from 1 to 100');
  const seedField = checked(numberField({
    label: 'Seed',
    value: settings.seed,
    min: 0,
    max: 2 ** 31 - 1,
    testid: 'train-seed',
    onChange(v) {
      settings.seed = v;
      ctx.setParams({ seed: v });
    },
  }), 'a whole number >= 0');
  const liveNote = el('p', { class: 'hint train-help', 'data-testid': 'train-live-note' });

  const startButton = button('Start training', () => void startRun(), { class: 'primary', 'data-testid': 'train-start' });
  const pauseButton = button('Pause', () => void togglePause(), { 'data-testid': 'train-pause', 'aria-pressed': 'false' });
  const stopButton = button('Stop', () => void stopRun(), { 'data-testid': 'train-stop' });
  const evalButton = button('Evaluate now', () => void evaluateNow(), { 'data-testid': 'train-evaluate' });
  const resetButton = button('Reset', () => resetRun(), { 'data-testid': 'train-reset' });
  const controlError = el('div', { 'data-testid': 'train-control-error', 'aria-live': 'polite' });

  const controls = panel(
    'Settings',
    modelSelect.root,
    patternBox,
    modelErrorBox,
    modelSummary,
    optimizerSelect.root,
    el('div', { class: 'fields' }, lrField.root, momentumField.root, batchField.root, epochsField.root, seedField.root),
    liveNote,
    el('div', { class: 'row train-buttons' }, startButton, pauseButton, stopButton, evalButton, resetButton),
    controlError,
  );

  // ---- status, charts, filters, model ------------------------------------------

  const threadsLine = el('p', { class: 'train-threads', 'data-testid': 'train-threads', 'aria-live': 'polite' }, 'Starting the engine…');
  const stateLine = el('p', { class: 'train-state', 'data-testid': 'train-state', 'data-state': 'idle', 'aria-live': 'polite' });
  const dataBar = el('progress', { class: 'train-bar', max: 1, value: 0, 'aria-label': 'download' });
  const dataLine = el('p', { class: 'muted', 'data-testid': 'train-data', 'aria-live': 'polite' });
  const dataBox = el('div', { class: 'train-data' }, dataLine, dataBar);
  const epochBar = el('progress', { class: 'train-bar', max: 1, value: 0, 'aria-label': 'images of this epoch trained on' });
  const epochLine = el('span', { 'data-testid': 'train-epoch' }, 'epoch –');
  const stepValue = el('span', { 'data-testid': 'train-step' }, '0');
  const timeValue = el('span', { 'data-testid': 'train-time' }, '');
  const progressLine = el('p', { class: 'train-progress' }, epochLine, ' · step ', stepValue, timeValue);

  /** One number of the run: a term and its value (with a note on what it measures) in the stats list. */
  const stat = (label: string, testid: string, hint: string) => {
    const value = el('span', { class: 'train-stat-value', 'data-testid': testid }, '–');
    const note = el('span', { class: 'train-stat-hint' }, hint);
    return { root: el('div', { class: 'train-stat' }, el('dt', { class: 'train-stat-label' }, label), el('dd', {}, value, note)), value, note };
  };
  const lossStat = stat('Loss', 'train-loss', 'mean of the last 20 batches');
  const accStat = stat('Train accuracy', 'train-accuracy', 'last 20 batches');
  const testStat = stat('Test accuracy', 'train-test-accuracy', 'after each epoch');
  const speedStat = stat('Images/s', 'train-speed', 'training steps only');
  const lrStat = stat('Learning rate', 'train-lr-applied', 'in effect');
  const batchStat = stat('Batch size', 'train-batch-applied', 'in effect');
  const statsGrid = el('dl', { class: 'train-stats' }, lossStat.root, accStat.root, testStat.root, speedStat.root, lrStat.root, batchStat.root);
  const runError = el('div', { 'data-testid': 'train-error', 'aria-live': 'assertive' });

  const status = panel('Run', threadsLine, stateLine, dataBox, progressLine, epochBar, statsGrid, runError);

  const chartBox = el('div', { class: 'train-charts' });
  const chartsPanel = panel('Loss and accuracy', chartBox);
  const startToggle = checkbox({
    label: 'Show the filters the run started from',
    checked: p.get('start') === '1',
    testid: 'train-filters-toggle',
    onChange(v) {
      filters.setShowInitial(v);
      ctx.setParams({ start: v ? 1 : null });
    },
  });
  const filtersPanel = panel('First layer filters', startToggle.root, filters.root);
  const printout = el('pre', { class: 'train-printout', 'data-testid': 'train-printout' });
  const description = el('p', { class: 'train-description', 'data-testid': 'train-description' });
  const modelPanel = panel('The model', description, el('details', {}, el('summary', {}, 'Layers, as PyTorch prints them'), printout));

  root.append(
    el('h1', {}, 'Train a CNN on MNIST'),
    el('p', { class: 'lead' },
      'Train a convolutional network on the 60,000 handwritten digits of MNIST, here in this tab: Stride runs every step in a worker, ',
      'and the curves and the first layer\'s filters follow as it learns. Change the learning rate or the batch size while it trains.'),
    el('div', { class: 'layout train-layout' }, el('div', { class: 'stack' }, controls), el('div', { class: 'stack' }, status, chartsPanel, filtersPanel, modelPanel)),
  );

  // ---- drawing (at most once per animation frame) --------------------------------

  let frame = 0;
  const scheduleDraw = () => {
    if (frame === 0 && !disposed) frame = requestAnimationFrame(draw);
  };
  function draw(): void {
    frame = 0;
    if (disposed) return;
    renderStats();
    if (curves.take()) for (const c of charts) c.draw();
    if (pendingFilters) {
      filters.update(pendingFilters);
      pendingFilters = null;
    }
  }

  function renderControls(): void {
    const active = running();
    const isPattern = settings.model === PATTERN;
    patternBox.hidden = !isPattern;
    momentumField.root.hidden = settings.optimizer !== 'sgd';
    for (const c of [modelSelect.select, patternField.input, optimizerSelect.select, momentumField.input, epochsField.input, seedField.input]) c.disabled = active;
    const invalid = [lrField, momentumField, batchField, epochsField, seedField].some((f) => f.invalid());
    startButton.disabled = active || modelError !== null || modelInfo === null || invalid;
    startButton.textContent = active ? 'Training…' : phase === 'idle' ? 'Start training' : 'Train a new model';
    pauseButton.disabled = !active;
    pauseButton.textContent = paused ? 'Resume' : 'Pause';
    pauseButton.setAttribute('aria-pressed', String(paused));
    stopButton.disabled = !active;
    evalButton.disabled = !hasModel || measuring || phase === 'evaluating' || phase === 'loading';
    resetButton.disabled = active || phase === 'idle';
    liveNote.textContent = active
      ? 'While it trains, the learning rate and the batch size apply from the next step; stop the run to change the rest.'
      : 'The seed fixes the initial weights and the order of the images: the same settings train the same model.';
    patternHelp.replaceChildren(
      'Layers joined by -: convK-C (C filters KxK), poolF, fcN, relu, tanh, sigmoid; (…)*N repeats. End with fc10. Example: ',
      el('code', {}, options.patternExample),
    );
  }

  function renderStats(): void {
    if (stateLine.dataset.state !== phase) stateLine.dataset.state = phase;
    setText(stateLine, stateText());
    const d = dataStatus;
    dataBox.hidden = !(phase === 'loading' && d !== null);
    if (d) {
      setText(dataLine, dataText(d));
      if (d.total) {
        dataBar.max = d.total;
        dataBar.value = d.loaded;
      } else dataBar.removeAttribute('value');
    }
    const l = latest;
    setText(epochLine, l ? `epoch ${l.epoch} of ${l.epochs}: ${thousands(l.epochSeen)} of ${thousands(l.epochImages)} images` : `epoch – of ${settings.epochs}`);
    setText(stepValue, thousands(l?.step ?? 0));
    setText(timeValue, l ? ` · ${seconds(l.trainSeconds)} training` : '');
    if (epochBar.max !== (l?.epochImages ?? 1)) epochBar.max = l?.epochImages ?? 1;
    if (epochBar.value !== (l?.epochSeen ?? 0)) epochBar.value = l?.epochSeen ?? 0;
    setText(lossStat.value, l ? l.loss.toFixed(4) : '–');
    setText(lossStat.note, l ? `mean of the last ${Math.min(options.window, l.step)} batches; this batch ${l.batchLoss.toFixed(3)}` : `mean of the last ${options.window} batches`);
    setText(accStat.value, l ? pct(l.accuracy) : '–');
    setText(accStat.note, l ? `last ${Math.min(options.window, l.step)} batches; this batch ${pct(l.batchAccuracy)}` : `last ${options.window} batches`);
    setText(testStat.value, phase === 'evaluating' || measuring ? 'measuring…' : lastTest ? pct(lastTest.accuracy, 2) : '–');
    setText(testStat.note, lastTest
      ? `${thousands(lastTest.correct)} of ${thousands(lastTest.total)} test images, at step ${thousands(lastTest.step)}; loss ${lastTest.loss.toFixed(4)}`
      : `all ${evalImages ? thousands(evalImages) : '10,000'} test images, after each epoch and on request`);
    setText(speedStat.value, l ? thousands(Math.round(l.imagesPerSec)) : '–');
    setText(speedStat.note, l ? `last ${Math.min(options.window, l.step)} steps, pauses excluded` : 'training steps only');
    setText(lrStat.value, l ? fmt(l.lr) : '–');
    setText(lrStat.note, appliedNote(l?.lr, settings.lr, fmt));
    setText(batchStat.value, l ? String(l.batchSize) : '–');
    setText(batchStat.note, appliedNote(l?.batchSize, settings.batchSize, String));
  }

  function stateText(): string {
    const step = thousands(latest?.step ?? 0);
    if (measuring) return `Evaluating the model of step ${step} on the test images…`;
    switch (phase) {
      case 'idle':
        if (modelError) return 'The model above has a mistake: fix it to train.';
        return modelInfo ? `Ready: press Start to train ${modelName()} on MNIST.` : 'Checking the model…';
      case 'loading':
        return paused ? 'Loading MNIST (paused: training waits after it loads)…' : 'Loading MNIST…';
      case 'training':
        return `Training ${modelName()}.`;
      case 'paused':
        return `Paused at step ${step}.`;
      case 'evaluating':
        return `Evaluating on the ${thousands(evalImages)} test images…`;
      case 'finished':
        return `Finished ${result?.epochsCompleted ?? settings.epochs} epoch${(result?.epochsCompleted ?? settings.epochs) === 1 ? '' : 's'} in ${thousands(result?.steps ?? 0)} steps${lastTest ? `: test accuracy ${pct(lastTest.accuracy, 2)}` : ''}.`;
      case 'stopped':
        return `Stopped at step ${step}.`;
      case 'error':
        return latest ? `Stopped at step ${step} by the error below.` : 'Stopped by the error below.';
    }
  }

  /** Whether the value the last step used is the one set, or when the set one applies. */
  function appliedNote(used: number | undefined, wanted: number, show: (v: number) => string): string {
    if (used === undefined || used === wanted) return 'in effect';
    return running() ? `${show(wanted)} from the next step` : 'used by the last step';
  }

  const modelName = () => (settings.model === PATTERN ? 'the pattern' : MODEL_LABELS[settings.model] ?? settings.model);

  // ---- the run -----------------------------------------------------------------

  function config(): TrainConfig {
    const url = (f: string) => new URL(`data/${f}`, document.baseURI).href;
    return {
      model: modelString(),
      optimizer: settings.optimizer,
      lr: settings.lr,
      momentum: settings.momentum,
      batchSize: settings.batchSize,
      epochs: settings.epochs,
      seed: settings.seed,
      data: {
        trainImages: url(DATA_FILES.trainImages),
        trainLabels: url(DATA_FILES.trainLabels),
        testImages: url(DATA_FILES.testImages),
        testLabels: url(DATA_FILES.testLabels),
      },
    };
  }

  async function startRun(): Promise<void> {
    if (running()) return;
    const id = ++runId;
    clearRun();
    phase = 'loading';
    paused = false;
    streaming = true;
    renderControls();
    scheduleDraw();
    try {
      result = await stream('train-start', config(), (e) => {
        if (id === runId && !disposed) onEvent(e as TrainEvent);
      });
      if (id !== runId || disposed) return;
      phase = result.reason;
    } catch (err) {
      if (id !== runId || disposed) return;
      phase = 'error';
      runError.replaceChildren(errorBox((err as Error).message));
    } finally {
      if (id === runId) {
        streaming = false;
        paused = false;
        curves.finish();
        if (!disposed) {
          renderControls();
          scheduleDraw();
        }
      }
    }
  }

  function onEvent(e: TrainEvent): void {
    switch (e.kind) {
      case 'data':
        dataStatus = e;
        break;
      case 'state':
        phase = e.state;
        if (e.state === 'paused') paused = true;
        if (e.state === 'training') paused = false;
        renderControls();
        break;
      case 'ready':
        hasModel = true;
        showModel(e.model);
        renderControls();
        break;
      case 'progress':
        latest = e;
        curves.append(e.firstStep, e.losses, e.smoothLoss, e.smoothAccuracy);
        break;
      case 'filters':
        pendingFilters = e;
        break;
      case 'eval-start':
        evalImages = e.images;
        break;
      case 'eval':
        takeEval(e.result);
        break;
    }
    scheduleDraw();
  }

  /** A test measurement, from the run's stream or from an `Evaluate now` after the run ended (taken once). */
  function takeEval(r: EvalResult): void {
    if (lastTest && lastTest.step === r.step && lastTest.correct === r.correct) return;
    lastTest = r;
    evalImages = r.total;
    curves.addTest({ step: r.step, loss: r.loss, accuracy: r.accuracy });
    scheduleDraw();
  }

  async function togglePause(): Promise<void> {
    const want = !paused;
    paused = want;
    renderControls();
    try {
      const s = await call('train-pause', { paused: want });
      // A run that ended meanwhile has nothing to pause.
      if (s.state === 'none' || s.state === 'finished' || s.state === 'stopped') paused = false;
    } catch (err) {
      controlError.replaceChildren(errorBox((err as Error).message));
    }
    if (!disposed) {
      renderControls();
      scheduleDraw();
    }
  }

  async function stopRun(): Promise<void> {
    stopButton.disabled = true;
    try {
      await call('train-stop', undefined);
    } catch (err) {
      controlError.replaceChildren(errorBox((err as Error).message));
    }
  }

  async function evaluateNow(): Promise<void> {
    evalButton.disabled = true;
    controlError.replaceChildren();
    // The stream of an ended run no longer reports: the page says it is measuring.
    measuring = !streaming;
    renderControls();
    scheduleDraw();
    try {
      const r = await call('train-evaluate', undefined);
      if (!disposed) takeEval(r);
    } catch (err) {
      if (!disposed) controlError.replaceChildren(errorBox((err as Error).message));
    } finally {
      measuring = false;
      if (!disposed) {
        renderControls();
        scheduleDraw();
      }
    }
  }

  let liveTimer = 0;
  let liveChange: { lr?: number; batchSize?: number } = {};
  /**
   * Sends a live change of the learning rate or the batch size to the running
   * run, after 250 ms without typing: typing 32 should not train a step with
   * a batch of 3 first.
   */
  function live(change: { lr?: number; batchSize?: number }): void {
    liveChange = { ...liveChange, ...change };
    clearTimeout(liveTimer);
    liveTimer = window.setTimeout(() => {
      const send = liveChange;
      liveChange = {};
      call('train-set', send).then(
        () => controlError.replaceChildren(),
        (err: Error) => controlError.replaceChildren(errorBox(err.message)),
      );
    }, 250);
  }

  function clearRun(): void {
    latest = null;
    lastTest = null;
    dataStatus = null;
    result = null;
    pendingFilters = null;
    hasModel = false;
    curves.clear();
    filters.clear();
    runError.replaceChildren();
    controlError.replaceChildren();
  }

  function resetRun(): void {
    if (running()) return;
    runId++;
    clearRun();
    phase = 'idle';
    renderControls();
    for (const c of charts) c.draw();
    scheduleDraw();
  }

  // ---- the model -----------------------------------------------------------------

  let describeTimer = 0;
  let describeId = 0;
  /** Builds the model in the worker to check it and show its size (after `delay` ms of no typing). */
  function describeModel(delay = 0): void {
    clearTimeout(describeTimer);
    const id = ++describeId;
    describeTimer = window.setTimeout(async () => {
      try {
        const info = await call('train-describe', { model: modelString() });
        if (id !== describeId || disposed) return;
        modelError = null;
        modelErrorBox.replaceChildren();
        patternField.input.setAttribute('aria-invalid', 'false');
        if (!running()) showModel(info);
      } catch (err) {
        if (id !== describeId || disposed) return;
        modelError = (err as Error).message;
        modelInfo = null;
        modelErrorBox.replaceChildren(errorBox(modelError));
        patternField.input.setAttribute('aria-invalid', settings.model === PATTERN ? 'true' : 'false');
        modelSummary.textContent = '';
      }
      renderControls();
      scheduleDraw();
    }, delay);
  }

  function showModel(info: ModelInfo): void {
    modelInfo = info;
    const first = info.firstLayer;
    modelSummary.textContent =
      `${thousands(info.parameters)} parameters, ${fmt(info.macs / 1e6)} million multiply-accumulates per image; ` +
      `first layer ${first.name} [${first.shape.join(', ')}].`;
    printout.textContent = info.printout;
    description.textContent = `${info.description}.`;
  }

  /** Moves the learning rate to the model's and optimizer's usual one, unless the user had chosen another. */
  function followSuggestedLr(before: number): void {
    if (settings.lr !== before || running()) return;
    settings.lr = suggestedLr();
    lrField.set(settings.lr);
    ctx.setParams({ lr: settings.lr });
  }

  function modelOptions(): { value: string; label: string }[] {
    const named = options.models.map((m: ModelChoice) => ({ value: m.name, label: MODEL_LABELS[m.name] ?? m.name }));
    if (settings.model !== PATTERN && !named.some((m) => m.value === settings.model)) named.push({ value: settings.model, label: settings.model });
    return [...named, { value: PATTERN, label: 'Layer pattern…' }];
  }

  // ---- start ---------------------------------------------------------------------

  ctx.setParams({
    model: settings.model, pattern: settings.model === PATTERN ? settings.pattern : null, opt: settings.optimizer, lr: settings.lr,
    momentum: settings.momentum, batch: settings.batchSize, epochs: settings.epochs, seed: settings.seed,
  });
  renderControls();
  renderStats();
  describeModel();

  call('train-options', undefined).then(
    (o) => {
      if (disposed) return;
      options = o;
      modelSelect.select.replaceChildren(...modelOptions().map((m) => el('option', { value: m.value, selected: m.value === settings.model }, m.label)));
      if (p.get('lr') === null || numberParam(p, 'lr', -1, 0.00001, 10) < 0) {
        settings.lr = suggestedLr();
        lrField.set(settings.lr);
        ctx.setParams({ lr: settings.lr });
      }
      charts = [lossChart(curves, o.window), accuracyChart(curves, o.window)];
      chartBox.replaceChildren(...charts.map((c) => c.root));
      for (const c of charts) c.draw();
      renderControls();
      scheduleDraw();
    },
    (err: Error) => {
      if (!disposed) chartBox.replaceChildren(errorBox(`the compute worker did not answer: ${err.message}`));
    },
  );

  call('engine', undefined).then(
    (s) => {
      if (disposed) return;
      if (s.backend !== 'wasm') {
        threadsLine.textContent = `Engine: Stride's ${s.backend} backend, one thread (${s.detail || 'no WebAssembly SIMD in this browser'}).`;
      } else if (s.crossOriginIsolated) {
        threadsLine.textContent = s.threads > 1
          ? `Engine: wasm with ${s.threads} threads: the page is cross-origin isolated, so the worker's threads share memory (SIMD ${s.simd}).`
          : `Engine: wasm with one thread: the page is cross-origin isolated but the browser reports one core (SIMD ${s.simd}).`;
      } else {
        threadsLine.textContent =
          `Engine: wasm with one thread: this page is not cross-origin isolated (its server sends no COOP/COEP headers), ` +
          `so there is no SharedArrayBuffer for threads to share (SIMD ${s.simd}).`;
      }
      threadsLine.dataset.threads = String(s.backend === 'wasm' ? s.threads : 1);
    },
    (err: Error) => {
      if (!disposed) threadsLine.replaceChildren(errorBox(`the engine did not start: ${err.message}`));
    },
  );

  return () => {
    disposed = true;
    clearTimeout(describeTimer);
    clearTimeout(liveTimer);
    if (frame) cancelAnimationFrame(frame);
    for (const c of charts) c.destroy();
    // Leaving the page ends its run: nothing would show it.
    if (running()) call('train-stop', undefined).catch(() => {});
  };

  /** Adds a message under a number field saying what a valid value is, shown while the value is not one. */
  function checked<F extends { root: HTMLElement; input: HTMLInputElement; set(v: number): void }>(field: F, valid: string): F & { invalid(): boolean } {
    const message = el('span', { class: 'train-field-error', id: `${field.input.id}-error`, 'aria-live': 'polite' });
    field.input.setAttribute('aria-describedby', message.id);
    field.root.append(message);
    const update = () => {
      const bad = field.input.getAttribute('aria-invalid') === 'true';
      message.textContent = bad ? `Enter ${valid}.` : '';
      renderControls();
    };
    field.input.addEventListener('input', update);
    const set = field.set;
    return Object.assign(field, {
      set: (v: number) => {
        set(v);
        message.textContent = '';
      },
      invalid: () => field.input.getAttribute('aria-invalid') === 'true',
    });
  }
}

/** Sets an element's text only when it changes: an unchanged write would still cost a style and layout pass. */
function setText(node: HTMLElement, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

function pct(v: number, digits = 1): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(digits)}%` : '–';
}

function seconds(s: number): string {
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`;
}

function dataText(d: DataEvent): string {
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  switch (d.phase) {
    case 'download':
      return d.total ? `Downloading the ${d.file}: ${mb(d.loaded)} of ${mb(d.total)}` : `Downloading the ${d.file}: ${mb(d.loaded)}`;
    case 'decompress':
      return `Decompressing the ${d.file}…`;
    case 'parse':
      return `Reading the ${d.file} (${mb(d.loaded)} of IDX data)…`;
    case 'done':
      return `Loaded ${thousands(d.loaded)} ${d.file}.`;
  }
}
