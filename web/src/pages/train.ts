/**
 * #/train: trains a convolutional network in the browser, on MNIST or on a
 * folder of images the user opens (one sub-folder per class), and shows it
 * learning: the loss and accuracy curves, the first layer's filters, the test
 * accuracy after each epoch, the throughput.
 *
 * A folder is read here only as far as its paths (the classes and their
 * counts show at once); its files' bytes go to the worker when a run starts,
 * transferred rather than copied, and are decoded and resized there. A link
 * records that a folder was used and how (shape, held-out share,
 * augmentation), but cannot hold the folder: the page asks for it again.
 *
 * Everything Stride computes (download, decoding, every training step) runs
 * in the compute worker (compute/train.ts); this module only sends the
 * settings, receives the streamed progress and draws it, at most once per
 * animation frame. The learning rate and the batch size may change while the
 * model trains (the worker applies them at its next step); the other settings
 * define a run and are locked while it goes.
 *
 * The run outlives the page (train/run.ts): leaving the page does not stop
 * it, and coming back shows it as it goes on, its history whole. The link
 * describes the run as it started, its changes included, so a run started
 * from it trains the same model.
 */
import './train.css';
import type { PageContext, PageDefinition } from '../router.js';
import { choiceParam, intParam, numberParam } from '../router.js';
import { call } from '../rpc.js';
import { button, checkbox, el, errorBox, fmt, numberField, panel, selectField, textField, thousands } from '../ui.js';
import type { DatasetInfo, FolderData, ModelChoice, ModelInfo, OptimizerName, TrainOptions } from '../compute/train.js';
import { classCounts, listFolder, parseShape } from '../train/folder.js';
import { describeChange, formatChanges, parseChanges } from '../train/changes.js';
import { accuracyChart, lossChart, type LiveChart } from '../train/charts.js';
import { FilterView, type FilterMaps } from '../train/filters.js';
import { copySettings, trainRun, type DataEvent } from '../train/run.js';

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

const DEFAULT_SHAPE = '3x32x32';
const DEFAULT_HOLDOUT = 0.2;
const DATASETS: readonly { value: 'mnist' | 'folder'; label: string }[] = [
  { value: 'mnist', label: 'MNIST digits' },
  { value: 'folder', label: 'A folder of images you open' },
];

/** How the page was left, for a return by the navigation's plain link: whether the start filters were shown. */
const view = { showStart: false };

export const trainPage: PageDefinition = {
  path: 'train',
  title: 'Train',
  blurb: 'Train a CNN on MNIST or your own folder of images in this tab and watch it learn.',
  mount(root, ctx) {
    return mountTrain(root, ctx);
  },
};

function mountTrain(root: HTMLElement, ctx: PageContext): () => void {
  const p = ctx.params;
  const run = trainRun;
  let options = FALLBACK_OPTIONS;
  // The form: the running run's settings (the link is rewritten to them), else the link's,
  // else (the navigation's plain #/train) the form as it was left.
  const hasQuery = [...p.keys()].length > 0;
  const fromLink = !run.running() && (hasQuery || run.form === null);
  let badChanges: string[] = [];
  if (run.running() && run.settings) run.form = { ...copySettings(run.settings), changes: run.changes() };
  else if (fromLink) {
    const parsed = parseChanges(p.get('changes'));
    badChanges = parsed.bad;
    run.form = {
      model: p.get('model') ?? 'lenet5',
      pattern: p.get('pattern') ?? DEFAULT_PATTERN,
      optimizer: choiceParam(p, 'opt', ['sgd', 'adam'] as const, 'sgd'),
      lr: 0,
      momentum: numberParam(p, 'momentum', 0.9, 0, 0.99),
      batchSize: intParam(p, 'batch', 64, 1, 4096),
      epochs: intParam(p, 'epochs', 1, 1, 100),
      seed: intParam(p, 'seed', 0, 0, 2 ** 31 - 1),
      changes: parsed.changes,
      dataset: choiceParam(p, 'data', ['mnist', 'folder'] as const, 'mnist'),
      shape: p.get('shape') ?? DEFAULT_SHAPE,
      holdout: numberParam(p, 'holdout', DEFAULT_HOLDOUT, 0.05, 0.9),
      augment: p.get('augment') ?? '',
    };
    run.form.lr = numberParam(p, 'lr', suggestedLr(), 0.00001, 10);
  }
  if (hasQuery) view.showStart = p.get('start') === '1';
  const settings = run.form!;

  let disposed = false;
  let modelInfo: ModelInfo | null = null;
  let modelError: string | null = null;
  /** Whether a run was training at the last update (its end puts its start values back in the fields). */
  let wasActive = run.running();
  const filters = new FilterView(view.showStart);
  let charts: LiveChart[] = [];

  function suggestedLr(): number {
    const m = options.models.find((c) => c.name === run.form!.model);
    return (m?.lr ?? options.patternLr)[run.form!.optimizer];
  }
  const modelString = () => (settings.model === PATTERN ? settings.pattern : settings.model);
  const running = () => run.running();

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
      writeParams();
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
      writeParams();
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
      writeParams();
      renderControls();
    },
  });
  const lrField = checked(numberField({
    label: 'Learning rate',
    value: running() ? run.want.lr : settings.lr,
    min: 0.00001,
    max: 10,
    step: 0.00001,
    testid: 'train-lr',
    onChange(v) {
      // While a run trains, a change applies to it from its next step (the link records it once applied);
      // otherwise it is the learning rate the next run starts with.
      if (running()) {
        run.want.lr = v;
        live({ lr: v });
      } else {
        settings.lr = v;
        writeParams();
      }
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
      writeParams();
    },
  }), 'a number from 0 to 0.99 in steps of 0.01, such as 0.9');
  const batchField = checked(numberField({
    label: 'Batch size',
    value: running() ? run.want.batchSize : settings.batchSize,
    min: 1,
    max: 4096,
    testid: 'train-batch',
    onChange(v) {
      if (running()) {
        run.want.batchSize = v;
        live({ batchSize: v });
      } else {
        settings.batchSize = v;
        writeParams();
      }
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
      writeParams();
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
      writeParams();
    },
  }), 'a whole number >= 0');
  // ---- the data ------------------------------------------------------------------

  const datasetSelect = selectField<'mnist' | 'folder'>({
    label: 'Data',
    value: settings.dataset,
    options: DATASETS,
    testid: 'train-dataset',
    onChange(v) {
      settings.dataset = v;
      writeParams();
      renderFolder();
      renderControls();
      describeModel();
    },
  });
  const folderInput = el('input', { type: 'file', id: 'train-folder-input', 'data-testid': 'train-folder', 'aria-describedby': 'train-folder-note train-folder-error' });
  folderInput.multiple = true;
  folderInput.webkitdirectory = true;
  folderInput.addEventListener('change', () => {
    const files = [...(folderInput.files ?? [])];
    openFolder(files, files.map((f) => f.webkitRelativePath || f.name));
  });
  const folderNote = el('p', { class: 'hint train-help', id: 'train-folder-note', 'data-testid': 'train-folder-note' });
  const dropZone = el('div', { class: 'train-drop', 'data-testid': 'train-drop' },
    el('label', { for: 'train-folder-input', class: 'train-drop-label' }, 'Folder of images, one sub-folder per class'),
    folderInput,
    el('span', { class: 'train-drop-hint' }, 'or drop a folder here'));
  dropZone.addEventListener('dragover', (e) => {
    if (running()) return;
    e.preventDefault();
    dropZone.classList.add('over');
  });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('over'));
  dropZone.addEventListener('drop', (e) => {
    e.preventDefault();
    dropZone.classList.remove('over');
    if (running() || !e.dataTransfer) return;
    void droppedFiles(e.dataTransfer).then(({ files, paths }) => openFolder(files, paths));
  });
  const folderError = el('div', { 'data-testid': 'train-folder-error', id: 'train-folder-error', 'aria-live': 'polite' });
  const folderSummary = el('div', { class: 'train-folder-summary', 'data-testid': 'train-folder-summary', 'aria-live': 'polite' });
  const shapeField = textField({
    label: 'Input shape (channels x height x width)',
    value: settings.shape,
    placeholder: DEFAULT_SHAPE,
    testid: 'train-shape',
    onChange(v) {
      settings.shape = v;
      writeParams();
      renderFolder();
      renderControls();
      describeModel(250);
    },
  });
  const shapeError = el('span', { class: 'train-field-error', id: 'train-shape-error', 'aria-live': 'polite' });
  shapeField.input.setAttribute('aria-describedby', 'train-shape-error');
  shapeField.root.append(shapeError);
  const holdoutField = checked(numberField({
    label: 'Held out for testing',
    hint: '(share of each class)',
    value: settings.holdout,
    min: 0.05,
    max: 0.9,
    step: 0.05,
    testid: 'train-holdout',
    onChange(v) {
      settings.holdout = v;
      writeParams();
      renderFolder();
    },
  }), 'a number from 0.05 to 0.9, such as 0.2');
  const folderBox = el('div', { class: 'train-folder' }, dropZone, folderNote, folderError, folderSummary,
    el('div', { class: 'fields' }, shapeField.root, holdoutField.root));

  let augmentError: string | null = null;
  const augmentField = textField({
    label: 'Augmentation of the training batches',
    value: settings.augment,
    placeholder: 'none, or e.g. flip,crop:4/reflect',
    testid: 'train-augment',
    onChange(v) {
      settings.augment = v;
      writeParams();
      checkAugment(250);
    },
  });
  const augmentInfo = el('div', { class: 'train-help', id: 'train-augment-info', 'data-testid': 'train-augment-info', 'aria-live': 'polite' });
  augmentField.input.setAttribute('aria-describedby', 'train-augment-info');

  const liveNote = el('p', { class: 'hint train-help', 'data-testid': 'train-live-note' });
  const changesTitle = el('h3', { class: 'train-changes-title' });
  const changesList = el('ol', { class: 'train-changes-list' });
  const changesNote = el('p', { class: 'hint train-help' });
  const forgetButton = button('Train without these changes', () => {
    settings.changes = [];
    badChanges = [];
    writeParams();
    renderChanges();
  }, { 'data-testid': 'train-changes-clear' });
  const changesBox = el('div', { class: 'train-changes', 'data-testid': 'train-changes', 'aria-live': 'polite' }, changesTitle, changesList, changesNote, forgetButton);

  const startButton = button('Start training', () => void startRun(), { class: 'primary', 'data-testid': 'train-start' });
  const pauseButton = button('Pause', () => void togglePause(), { 'data-testid': 'train-pause', 'aria-pressed': 'false' });
  const stopButton = button('Stop', () => void stopRun(), { 'data-testid': 'train-stop' });
  const evalButton = button('Evaluate now', () => void evaluateNow(), { 'data-testid': 'train-evaluate' });
  const resetButton = button('Reset', () => resetRun(), { 'data-testid': 'train-reset' });
  const controlError = el('div', { 'data-testid': 'train-control-error', 'aria-live': 'polite' });

  const controls = panel(
    'Settings',
    datasetSelect.root,
    folderBox,
    augmentField.root,
    augmentInfo,
    modelSelect.root,
    patternBox,
    modelErrorBox,
    modelSummary,
    optimizerSelect.root,
    el('div', { class: 'fields' }, lrField.root, momentumField.root, batchField.root, epochsField.root, seedField.root),
    liveNote,
    changesBox,
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
    checked: view.showStart,
    testid: 'train-filters-toggle',
    onChange(v) {
      view.showStart = v;
      filters.setShowInitial(v);
      writeParams();
    },
  });
  const filtersPanel = panel('First layer filters', startToggle.root, filters.root);
  const printout = el('pre', { class: 'train-printout', 'data-testid': 'train-printout' });
  const description = el('p', { class: 'train-description', 'data-testid': 'train-description' });
  const modelPanel = panel('The model', description, el('details', {}, el('summary', {}, 'Layers, as PyTorch prints them'), printout));

  root.append(
    el('h1', {}, 'Train a CNN'),
    el('p', { class: 'lead' },
      'Train a convolutional network on the 60,000 handwritten digits of MNIST, or on a folder of your own images (one sub-folder per class), ',
      'here in this tab: Stride decodes the images and runs every step in a worker, ',
      'and the curves and the first layer\'s filters follow as it learns. Change the learning rate or the batch size while it trains; ',
      'the run goes on while you look at the other pages.'),
    el('div', { class: 'layout train-layout' }, el('div', { class: 'stack' }, controls), el('div', { class: 'stack' }, status, chartsPanel, filtersPanel, modelPanel)),
  );

  // ---- drawing (at most once per animation frame) --------------------------------

  let frame = 0;
  /** What this page has drawn of the run: the filter update, the changes marked, the model and the error shown. */
  let drawnFilters = -1;
  let fedInitial: FilterMaps | null = null;
  let drawnMarks = -1;
  let shownRunModel: ModelInfo | null = null;
  let shownError: string | null = null;
  const scheduleDraw = () => {
    if (frame === 0 && !disposed) frame = requestAnimationFrame(draw);
  };
  function draw(): void {
    frame = 0;
    if (disposed) return;
    renderStats();
    const marks = run.applied.length;
    if (run.curves.take() || marks !== drawnMarks) {
      drawnMarks = marks;
      for (const c of charts) c.draw();
    }
    if (run.filterVersion !== drawnFilters) {
      drawnFilters = run.filterVersion;
      const latest = run.latestFilters;
      if (!latest) {
        filters.clear();
        fedInitial = null;
      } else {
        // The step-0 filters first (a page mounted mid-run has not seen them), then the latest.
        if (run.initialFilters !== fedInitial) {
          fedInitial = run.initialFilters;
          if (fedInitial && fedInitial !== latest) filters.update(fedInitial);
        }
        filters.update(latest);
      }
    }
    if (run.error !== shownError) {
      shownError = run.error;
      runError.replaceChildren(...(shownError ? [errorBox(shownError)] : []));
    }
  }

  /** After a change of the run's state, model or changes: the controls, the fields, the link. */
  function onRunChange(): void {
    const active = running();
    if (active !== wasActive) {
      wasActive = active;
      // A run that ended gives the fields back its start values (the form and the link describe it: a new run repeats it).
      lrField.set(active ? run.want.lr : settings.lr);
      batchField.set(active ? run.want.batchSize : settings.batchSize);
      writeParams();
    } else if (active) {
      // A scheduled change moves the fields, unless the user is typing a value of their own.
      if (!liveTimer && document.activeElement !== lrField.input && lrField.input.valueAsNumber !== run.want.lr) lrField.set(run.want.lr);
      if (!liveTimer && document.activeElement !== batchField.input && batchField.input.valueAsNumber !== run.want.batchSize) batchField.set(run.want.batchSize);
      writeParams();
    }
    if (run.model && run.model !== shownRunModel && (active || modelInfo === null)) {
      shownRunModel = run.model;
      showModel(run.model);
    }
    renderFolder();
    renderControls();
    renderChanges();
  }

  function renderControls(): void {
    const active = running();
    const isPattern = settings.model === PATTERN;
    patternBox.hidden = !isPattern;
    momentumField.root.hidden = settings.optimizer !== 'sgd';
    const controlsOfRun = [modelSelect.select, patternField.input, optimizerSelect.select, momentumField.input, epochsField.input, seedField.input,
      datasetSelect.select, folderInput, shapeField.input, holdoutField.input, augmentField.input];
    for (const c of controlsOfRun) c.disabled = active || reading;
    const folder = settings.dataset === 'folder';
    folderBox.hidden = !folder;
    const invalid = [lrField, momentumField, batchField, epochsField, seedField, ...(folder ? [holdoutField] : [])].some((f) => f.invalid());
    const dataMissing = folder && (run.folder === null || parseShape(settings.shape) instanceof Error);
    startButton.disabled = active || reading || modelError !== null || modelInfo === null || invalid || dataMissing || augmentError !== null;
    startButton.textContent = reading ? 'Reading the folder…' : active ? 'Training…' : run.phase === 'idle' ? 'Start training' : 'Train a new model';
    pauseButton.disabled = !active;
    pauseButton.textContent = run.paused ? 'Resume' : 'Pause';
    pauseButton.setAttribute('aria-pressed', String(run.paused));
    stopButton.disabled = !active;
    evalButton.disabled = run.model === null || run.measuring || run.phase === 'evaluating' || run.phase === 'loading';
    resetButton.disabled = active || run.phase === 'idle';
    liveNote.textContent = active
      ? 'While it trains, the learning rate and the batch size apply from the next step; stop the run to change the rest.'
      : 'The seed fixes the initial weights and the order of the images: the same settings train the same model.';
    patternHelp.replaceChildren(
      `Layers joined by -: convK-C (C filters KxK), poolF, fcN, relu, tanh, sigmoid; (…)*N repeats. End with fc${classCount() ?? 'N (N the number of classes)'}. Example: `,
      el('code', {}, options.patternExample),
    );
  }

  let changesKey = '';
  /**
   * The changes of the learning rate and the batch size: while a run trains,
   * its own (those it started with and those made since, each marked done or
   * to come); otherwise those the next run applies (a link's, or the last
   * run's), which can be dropped.
   */
  function renderChanges(): void {
    const active = running();
    const list = active ? run.changes() : settings.changes;
    const reached = run.latest?.step ?? 0;
    const isDone = (step: number) => step < reached || run.applied.some((a) => a.step === step);
    const key = JSON.stringify([active, list, active ? list.map((c) => isDone(c.step)) : [], badChanges]);
    if (key === changesKey) return;
    changesKey = key;
    changesBox.hidden = list.length === 0 && badChanges.length === 0;
    changesTitle.textContent = active ? 'Changes in this run' : 'Changes a new run applies';
    changesList.replaceChildren(...list.map((c) => {
      const done = active && isDone(c.step);
      return el('li', { 'data-step': c.step, 'data-done': String(done) }, describeChange(c, fmt), active ? (done ? ' (done)' : ' (to come)') : '');
    }));
    changesNote.textContent = [
      active
        ? 'The link keeps the run\'s starting values and these changes: a run started from it applies them at the same steps and trains the same model.'
        : 'They apply at the same steps as in the run they come from, so the same settings train the same model.',
      badChanges.length ? `Ignored in the link: ${badChanges.join(', ')} (write each as step-lr-value or step-batch-value, joined by _, e.g. 120-lr-0.01_300-batch-32).` : '',
    ].filter(Boolean).join(' ');
    forgetButton.hidden = active || list.length === 0;
  }

  function renderStats(): void {
    const phase = run.phase;
    if (stateLine.dataset.state !== phase) stateLine.dataset.state = phase;
    setText(stateLine, stateText());
    const d = run.dataStatus;
    dataBox.hidden = !(phase === 'loading' && d !== null);
    if (d) {
      setText(dataLine, dataText(d));
      if (d.total) {
        dataBar.max = d.total;
        dataBar.value = d.loaded;
      } else dataBar.removeAttribute('value');
    }
    const l = run.latest;
    const lastTest = run.lastTest;
    setText(epochLine, l ? `epoch ${l.epoch} of ${l.epochs}: ${thousands(l.epochSeen)} of ${thousands(l.epochImages)} images` : `epoch – of ${settings.epochs}`);
    setText(stepValue, thousands(l?.step ?? 0));
    setText(timeValue, l ? ` · ${seconds(l.trainSeconds)} training` : '');
    if (epochBar.max !== (l?.epochImages ?? 1)) epochBar.max = l?.epochImages ?? 1;
    if (epochBar.value !== (l?.epochSeen ?? 0)) epochBar.value = l?.epochSeen ?? 0;
    setText(lossStat.value, l ? l.loss.toFixed(4) : '–');
    setText(lossStat.note, l ? `mean of the last ${Math.min(options.window, l.step)} batches; this batch ${l.batchLoss.toFixed(3)}` : `mean of the last ${options.window} batches`);
    setText(accStat.value, l ? pct(l.accuracy) : '–');
    setText(accStat.note, l ? `last ${Math.min(options.window, l.step)} batches; this batch ${pct(l.batchAccuracy)}` : `last ${options.window} batches`);
    setText(testStat.value, phase === 'evaluating' || run.measuring ? 'measuring…' : lastTest ? pct(lastTest.accuracy, 2) : '–');
    setText(testStat.note, lastTest
      ? `${thousands(lastTest.correct)} of ${thousands(lastTest.total)} test images, at step ${thousands(lastTest.step)}; loss ${lastTest.loss.toFixed(4)}`
      : run.evalImages ? `all ${thousands(run.evalImages)} test images, after each epoch and on request`
        : settings.dataset === 'folder' ? 'the held-out images, after each epoch and on request' : 'all 10,000 test images, after each epoch and on request');
    setText(speedStat.value, l ? thousands(Math.round(l.imagesPerSec)) : '–');
    setText(speedStat.note, l ? `last ${Math.min(options.window, l.step)} steps, pauses excluded` : 'training steps only');
    const active = running();
    setText(lrStat.value, l ? fmt(l.lr) : '–');
    setText(lrStat.note, appliedNote(l?.lr, active ? run.want.lr : settings.lr, fmt));
    setText(batchStat.value, l ? String(l.batchSize) : '–');
    setText(batchStat.note, appliedNote(l?.batchSize, active ? run.want.batchSize : settings.batchSize, String));
  }

  function stateText(): string {
    const step = thousands(run.latest?.step ?? 0);
    const result = run.result;
    const epochs = result?.epochsCompleted ?? run.settings?.epochs ?? settings.epochs;
    if (run.measuring) return `Evaluating the model of step ${step} on the test images…`;
    switch (run.phase) {
      case 'idle':
        if (settings.dataset === 'folder' && run.folder === null) return 'Open a folder of images (above) to train on it.';
        if (modelError) return 'The model above has a mistake: fix it to train.';
        return modelInfo ? `Ready: press Start to train ${modelName()} on ${dataName()}.` : 'Checking the model…';
      case 'loading': {
        const what = run.settings?.dataset === 'folder' ? 'the folder\'s images' : 'MNIST';
        return run.paused ? `Loading ${what} (paused: training waits after it loads)…` : `Loading ${what}…`;
      }
      case 'training':
        return `Training ${modelName()}.`;
      case 'paused':
        return `Paused at step ${step}.`;
      case 'evaluating':
        return `Evaluating on the ${thousands(run.evalImages)} test images…`;
      case 'finished':
        return `Finished ${epochs} epoch${epochs === 1 ? '' : 's'} in ${thousands(result?.steps ?? 0)} steps${run.lastTest ? `: test accuracy ${pct(run.lastTest.accuracy, 2)}` : ''}.`;
      case 'stopped':
        return `Stopped at step ${step}.`;
      case 'error':
        return run.latest ? `Stopped at step ${step} by the error below.` : 'Stopped by the error below.';
    }
  }

  /** Whether the value the last step used is the one set, or when the set one applies. */
  function appliedNote(used: number | undefined, wanted: number, show: (v: number) => string): string {
    if (used === undefined || used === wanted) return 'in effect';
    return running() ? `${show(wanted)} from the next step` : 'used by the last step';
  }

  const modelName = () => (settings.model === PATTERN ? 'the pattern' : MODEL_LABELS[settings.model] ?? settings.model);
  const dataName = () => (settings.dataset === 'folder' && run.folder ? `${run.folder.listing.name} (${run.folder.listing.classNames.length} classes)` : 'MNIST');

  /**
   * Writes the form into the link. While a run trains, the form holds the
   * settings it started with, and the link adds the changes made since.
   */
  function writeParams(): void {
    if (disposed) return;
    ctx.setParams({
      model: settings.model, pattern: settings.model === PATTERN ? settings.pattern : null, opt: settings.optimizer, lr: settings.lr,
      momentum: settings.momentum, batch: settings.batchSize, epochs: settings.epochs, seed: settings.seed,
      changes: formatChanges(running() ? run.changes() : settings.changes), start: view.showStart ? 1 : null,
      data: settings.dataset === 'folder' ? 'folder' : null,
      shape: settings.dataset === 'folder' ? settings.shape : null,
      holdout: settings.dataset === 'folder' && settings.holdout !== DEFAULT_HOLDOUT ? settings.holdout : null,
      augment: settings.augment.trim() === '' ? null : settings.augment,
    });
  }

  // ---- the run -----------------------------------------------------------------

  /** Where the page serves MNIST's four files, as absolute URLs for the worker. */
  function dataUrls(): { trainImages: string; trainLabels: string; testImages: string; testLabels: string } {
    const url = (f: string) => new URL(`data/${f}`, document.baseURI).href;
    return {
      trainImages: url(DATA_FILES.trainImages),
      trainLabels: url(DATA_FILES.trainLabels),
      testImages: url(DATA_FILES.testImages),
      testLabels: url(DATA_FILES.testLabels),
    };
  }

  /** Whether the files of the folder are being read for a run about to start. */
  let reading = false;

  async function startRun(): Promise<void> {
    if (running() || reading) return;
    controlError.replaceChildren();
    if (settings.dataset === 'mnist') {
      // The store reports the whole run (this page, or a later mount of it, draws it).
      void run.start(settings, dataUrls());
      return;
    }
    const folder = run.folder;
    const shape = parseShape(settings.shape);
    if (folder === null || shape instanceof Error) return;
    reading = true;
    renderControls();
    let files: ArrayBuffer[];
    try {
      files = await Promise.all(folder.files.map((f) => f.arrayBuffer()));
    } catch (err) {
      if (!disposed) controlError.replaceChildren(errorBox(`could not read the folder's files (${(err as Error).message}); open the folder again`));
      return;
    } finally {
      reading = false;
      if (!disposed) renderControls();
    }
    const data: FolderData = { kind: 'folder', paths: folder.paths, files, inputShape: shape, testFraction: settings.holdout };
    // The bytes are handed to the worker, not copied (the File objects stay for the next run).
    void run.start(settings, data, files);
  }

  /**
   * Takes the files of an opened or dropped folder: lists its classes (an
   * error says what a class folder is) and keeps the files for the next run.
   */
  function openFolder(files: File[], paths: string[]): void {
    try {
      run.folder = { files, paths, listing: listFolder(paths) };
      folderErrorText = null;
    } catch (err) {
      run.folder = null;
      folderErrorText = (err as Error).message;
    }
    if (settings.dataset !== 'folder') {
      settings.dataset = 'folder';
      datasetSelect.set('folder');
      writeParams();
    }
    renderFolder();
    renderControls();
    describeModel();
    scheduleDraw();
  }

  let folderErrorText: string | null = null;
  let folderKey = '';
  /**
   * The folder's part of the settings: what a link cannot hold, the folder's
   * classes with their image counts (after a run loaded it, the images of
   * each class in the training and the test set), the errors.
   */
  function renderFolder(): void {
    const shape = parseShape(settings.shape);
    setText(shapeError, shape instanceof Error ? `${shape.message[0].toUpperCase()}${shape.message.slice(1)}.` : '');
    shapeField.input.setAttribute('aria-invalid', String(shape instanceof Error));
    const listing = run.folder?.listing ?? null;
    const info: DatasetInfo | null = run.dataset?.kind === 'folder' && run.settings?.dataset === 'folder' ? run.dataset : null;
    // The error of the run's own data (a file that does not decode) is shown by the run; here, what the paths say.
    const error = folderErrorText;
    const key = JSON.stringify([settings.dataset, listing?.name, listing?.classNames, listing?.train.length, listing?.test.length, info, error, settings.holdout, fromLink && run.folder === null]);
    if (key === folderKey) return;
    folderKey = key;
    folderError.replaceChildren(...(error ? [errorBox(error)] : []));
    folderNote.textContent = run.folder === null
      ? (fromLink && settings.dataset === 'folder'
        ? 'This link was made with a folder of images, which a link cannot carry: open the folder again (the shape, held-out share and augmentation come from the link).'
        : 'Each class is a sub-folder of .png or .jpg images (cats/1.png, dogs/1.png), or train/<class> and test/<class>. The images stay on this computer; a link cannot carry them.')
      : 'The images stay on this computer. A link to this run records the settings, not the folder: whoever opens it opens the folder again.';
    holdoutField.root.hidden = listing?.layout === 'train-test';
    if (!listing) {
      folderSummary.replaceChildren();
      return;
    }
    const n = listing.classNames.length;
    const total = classCounts(listing.train, n).map((c, i) => c + classCounts(listing.test, n)[i]);
    const head = info
      ? ['Class', 'Train', 'Test']
      : listing.layout === 'train-test' ? ['Class', 'Train', 'Test'] : ['Class', 'Images'];
    const rows = listing.classNames.map((name, i) => info
      ? [name, thousands(info.trainCounts[i]), thousands(info.testCounts[i])]
      : listing.layout === 'train-test'
        ? [name, thousands(classCounts(listing.train, n)[i]), thousands(classCounts(listing.test, n)[i])]
        : [name, thousands(total[i])]);
    const images = total.reduce((a, b) => a + b, 0);
    const how = info
      ? `${info.split}; each image at ${info.inputShape.join('x')}, standardized by the training images' mean ${info.mean.map((v) => v.toFixed(3)).join(', ')} and std ${info.std.map((v) => v.toFixed(3)).join(', ')} per channel.`
      : listing.layout === 'train-test'
        ? 'Its train/ and test/ sub-folders are the two sets.'
        : `${Math.round(settings.holdout * 100)}% of each class will be held out for testing, drawn by the seed.`;
    folderSummary.replaceChildren(
      el('p', { class: 'train-folder-title' }, `${listing.name}: ${thousands(images)} images in ${n} classes`,
        listing.ignored ? ` (${thousands(listing.ignored)} other files ignored)` : ''),
      el('div', { class: 'scroll-x train-classes' }, el('table', { class: 'data', 'data-testid': 'train-classes' },
        el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, ...rows.map((r) => el('tr', { 'data-class': r[0] }, ...r.map((v, j) => (j === 0 ? el('th', { scope: 'row' }, v) : el('td', {}, v)))))))),
      el('p', { class: 'hint train-help' }, how),
    );
  }

  /** The number of classes the model must score: MNIST's ten, or the opened folder's (null: no folder yet). */
  function classCount(): number | null {
    return settings.dataset === 'folder' ? run.folder?.listing.classNames.length ?? null : 10;
  }

  let augmentTimer = 0;
  let augmentId = 0;
  /** Parses the augmentation in the worker (after `delay` ms of no typing): its description, or the error with a caret. */
  function checkAugment(delay = 0): void {
    clearTimeout(augmentTimer);
    const id = ++augmentId;
    augmentTimer = window.setTimeout(async () => {
      try {
        const plan = await call('train-augment', { spec: settings.augment });
        if (id !== augmentId || disposed) return;
        augmentError = null;
        augmentField.input.setAttribute('aria-invalid', 'false');
        augmentInfo.replaceChildren(plan.description
          ? `Each training batch, before standardizing: ${plan.description}.`
          : 'None: the images are trained on as they are. Write steps such as flip,crop:4/reflect,jitter:0.2/0.2/0.2 (torchvision\'s transforms, seeded by the run).');
      } catch (err) {
        if (id !== augmentId || disposed) return;
        augmentError = (err as Error).message;
        augmentField.input.setAttribute('aria-invalid', 'true');
        augmentInfo.replaceChildren(el('pre', { class: 'error train-augment-error' }, augmentError));
      }
      renderControls();
    }, delay);
  }

  async function togglePause(): Promise<void> {
    try {
      await run.setPaused(!run.paused);
    } catch (err) {
      if (!disposed) controlError.replaceChildren(errorBox((err as Error).message));
    }
  }

  async function stopRun(): Promise<void> {
    stopButton.disabled = true;
    try {
      await call('train-stop', undefined);
    } catch (err) {
      if (!disposed) controlError.replaceChildren(errorBox((err as Error).message));
    }
  }

  async function evaluateNow(): Promise<void> {
    evalButton.disabled = true;
    controlError.replaceChildren();
    try {
      await run.evaluate();
    } catch (err) {
      if (!disposed) controlError.replaceChildren(errorBox((err as Error).message));
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
    liveTimer = window.setTimeout(sendLive, 250);
  }

  function sendLive(): void {
    clearTimeout(liveTimer);
    liveTimer = 0;
    const send = liveChange;
    liveChange = {};
    if (send.lr === undefined && send.batchSize === undefined) return;
    call('train-set', send).then(
      () => {
        if (!disposed) controlError.replaceChildren();
      },
      (err: Error) => {
        if (!disposed) controlError.replaceChildren(errorBox(err.message));
      },
    );
  }

  function resetRun(): void {
    if (running()) return;
    controlError.replaceChildren();
    run.reset();
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
        const shape = parseShape(settings.shape);
        const folder = settings.dataset === 'folder';
        const info = await call('train-describe', folder
          ? { model: modelString(), inputShape: shape instanceof Error ? [3, 32, 32] : shape, classes: classCount() }
          : { model: modelString() });
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
    writeParams();
  }

  function modelOptions(): { value: string; label: string }[] {
    const named = options.models.map((m: ModelChoice) => ({ value: m.name, label: MODEL_LABELS[m.name] ?? m.name }));
    if (settings.model !== PATTERN && !named.some((m) => m.value === settings.model)) named.push({ value: settings.model, label: settings.model });
    return [...named, { value: PATTERN, label: 'Layer pattern…' }];
  }

  // ---- start ---------------------------------------------------------------------

  writeParams();
  renderFolder();
  onRunChange();
  renderStats();
  describeModel();
  checkAugment();
  // The run's updates redraw this page while it is shown (and only then).
  const unsubscribe = run.subscribe((controls) => {
    if (controls) onRunChange();
    scheduleDraw();
  });

  call('train-options', undefined).then(
    (o) => {
      if (disposed) return;
      options = o;
      modelSelect.select.replaceChildren(...modelOptions().map((m) => el('option', { value: m.value, selected: m.value === settings.model }, m.label)));
      // A link without a valid learning rate gets the model's usual one (known now).
      if (fromLink && !running() && (p.get('lr') === null || numberParam(p, 'lr', -1, 0.00001, 10) < 0)) {
        settings.lr = suggestedLr();
        lrField.set(settings.lr);
        writeParams();
      }
      const marks = () => run.applied;
      charts = [lossChart(run.curves, o.window, marks), accuracyChart(run.curves, o.window, marks)];
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
    // The run goes on in the worker and in the store; only this page's drawing ends.
    // A live change still waiting for the end of typing is sent now rather than lost.
    if (liveTimer) sendLive();
    disposed = true;
    unsubscribe();
    clearTimeout(describeTimer);
    clearTimeout(augmentTimer);
    if (frame) cancelAnimationFrame(frame);
    for (const c of charts) c.destroy();
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

/**
 * The files of a folder (or folders and files) dropped on the page, each with
 * its path from the dropped folder's name down (as a folder upload gives
 * `webkitRelativePath`). Folders are walked with the File and Directory
 * Entries API; a readDirectory call returns at most 100 entries, so it is
 * called until it returns none.
 */
async function droppedFiles(transfer: DataTransfer): Promise<{ files: File[]; paths: string[] }> {
  const files: File[] = [];
  const paths: string[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      files.push(file);
      paths.push(entry.fullPath.replace(/^\//, ''));
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const e of batch) await walk(e);
      }
    }
  };
  // The entries are taken before any await: a DataTransfer's items are readable only while the drop event runs.
  const items = [...transfer.items].filter((item) => item.kind === 'file').map((item) => ({ entry: item.webkitGetAsEntry(), file: item.getAsFile() }));
  for (const { entry, file } of items) {
    if (entry) await walk(entry);
    else if (file) {
      // No entry (a browser without the Entries API): a plain file, by its name.
      files.push(file);
      paths.push(file.name);
    }
  }
  return { files, paths };
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
    case 'decode':
      return `Decoding the ${d.file}: ${thousands(d.loaded)} of ${thousands(d.total ?? 0)}`;
    case 'done':
      return `Loaded ${thousands(d.loaded)} ${d.file}.`;
  }
}
