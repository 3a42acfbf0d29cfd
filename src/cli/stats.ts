/**
 * `stride stats`: the per-channel mean and standard deviation of a dataset's
 * images in 0..1, the numbers `--normalize MEAN/STD` takes (torchvision's
 * Normalize). They are computed over every pixel of every image of the split
 * (float64 sums; the population std, dividing by the pixel count), as the
 * published MNIST (0.1307, 0.3081) and CIFAR-10 (0.4914, 0.4822, 0.4465;
 * 0.2470, 0.2435, 0.2616) values were.
 */
import { ValueError } from '../index.js';
import { DATA_DIR_OPTION, channelStats, datasets, openDataset } from './datasets.js';
import { consoleIO, type CliIO } from './io.js';
import { integer, jsonOption, oneOf, option, withDefaults, type CliCommand, type OptionValues } from './options.js';
import { SHOW_BATCH_OPTIONS } from './show-batch.js';
import { TRAIN_OPTIONS } from './train.js';

/** The options of `stride stats`. */
export const STATS_OPTIONS = {
  dataset: option({
    flags: '--dataset <name>', help: `dataset to measure: ${Object.keys(datasets).join(', ')}`, parse: oneOf(Object.keys(datasets), 'dataset'), required: true,
  }),
  dataDir: DATA_DIR_OPTION,
  input: TRAIN_OPTIONS.input,
  split: SHOW_BATCH_OPTIONS.split,
  limit: option({ flags: '--limit <n>', help: 'measure the first N images of the split only', parse: integer(1), defaultHelp: 'all' }),
  json: jsonOption('dataset, split, images, inputShape, mean, std, normalize'),
};

/** `stride stats`. */
export const STATS_COMMAND = {
  name: 'stats',
  description: "Print a dataset's per-channel mean and standard deviation, the values --normalize takes",
  options: STATS_OPTIONS,
  afterHelp: `
Over every pixel of every image of the split, in 0..1 (the population std).
The last line is the option that normalizes with them, for example:
  stride stats --dataset folder --data-dir photos --input 3x64x64
  ...
  --normalize 0.512345,0.487654,0.401234/0.281234,0.270123,0.290123
stride train --dataset folder computes the same values from the training
images by itself; --normalize fixes them (for instance to a larger set's).`,
} satisfies CliCommand;

export type StatsOptions = OptionValues<typeof STATS_OPTIONS>;

export interface StatsSummary {
  dataset: string;
  split: 'train' | 'test';
  images: number;
  inputShape: number[];
  mean: number[];
  std: number[];
  /** The --normalize argument that applies them. */
  normalize: string;
}

/** Names of the channels in the table: R, G, B for colour images, grey for one channel, else their indices. */
function channelNames(c: number): string[] {
  if (c === 3) return ['R', 'G', 'B'];
  if (c === 1) return ['grey'];
  return Array.from({ length: c }, (_, i) => String(i));
}

/** Runs `stride stats`: loads the split in 0..1 and prints its per-channel mean and std. */
export async function runStats(options: StatsOptions, io: CliIO = consoleIO()): Promise<StatsSummary> {
  const given = withDefaults(STATS_OPTIONS, options) as StatsOptions & { split: 'train' | 'test' };
  if (given.dataset === undefined) throw new ValueError('stride stats: name the dataset with --dataset');
  const raw = { mean: 0, std: 1 };
  // In 0..1: a dataset that computes its normalization when opened is told not to.
  const data = await openDataset(given.dataset, { dataDir: given.dataDir, input: given.input, normalization: raw });
  const split = await data.load(given.split, given.limit, raw);
  const images = split.images.shape[0];
  if (images === 0) throw new ValueError(`the ${given.split} split of ${given.dataset} has no images`);
  const { mean, std } = channelStats(split.images);
  const normalize = `${mean.join(',')}/${std.join(',')}`;
  const inputShape = split.images.shape.slice(1);
  if (given.json) {
    io.out(JSON.stringify({ dataset: given.dataset, split: given.split, images, inputShape, mean, std, normalize }));
  } else {
    io.out(`${given.dataset} ${given.split}: ${images} images of ${inputShape.join('x')} from ${split.source}, values in 0..1`);
    io.out('channel      mean       std');
    channelNames(mean.length).forEach((name, c) => io.out(`${name.padEnd(7)} ${mean[c].toFixed(6).padStart(9)} ${std[c].toFixed(6).padStart(9)}`));
    io.out(`--normalize ${normalize}`);
  }
  return { dataset: given.dataset, split: given.split, images, inputShape, mean, std, normalize };
}
