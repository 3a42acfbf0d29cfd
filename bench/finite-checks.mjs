#!/usr/bin/env node
/**
 * What fit's checks for NaN and infinities cost a training step: LeNet-5 on
 * MNIST, batches of 64, SGD (lr 0.05, momentum 0.9), on each backend.
 *
 * Every step is timed in parts: the step itself (zeroGrad, forward,
 * cross-entropy, backward, optimizer step), the gradient check fit runs
 * after backward (hasNonFinite over every parameter's gradient, in model
 * order) and the parameter check it runs after the step (hasNonFinite over
 * every parameter). The same step is then timed in anomaly mode
 * (detectAnomaly: every op's output and gradient scanned). Prints, per
 * backend, the median over --steps steps (after --warmup steps not counted)
 * of each part in milliseconds and the checks' share of the step.
 *
 *   node --import tsx bench/finite-checks.mjs [--steps 400] [--warmup 30] [--backends native,wasm,ref]
 */
import os from 'node:os';

import { Generator, LeNet5, MNIST_MEAN, MNIST_STD, DataLoader, backward, detectAnomaly, listBackends, normalize, optim, setBackend, F } from '../src/index.ts';
import { loadMnist } from '../src/node.ts';
import { hasNonFinite } from '../src/tensor/finite.ts';
import { parseBenchOptions } from './options.mjs';

const { values } = parseBenchOptions(import.meta.url, 'finite-checks', { steps: { type: 'string', default: '400' }, warmup: { type: 'string', default: '30' }, backends: { type: 'string' } });
const steps = Number(values.steps);
const warmup = Number(values.warmup);
const backends = values.backends ? values.backends.split(',') : listBackends();

const data = await loadMnist({ split: 'train', limit: 64 * 100 });
const images = normalize(data.images, MNIST_MEAN, MNIST_STD);

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};
const ms = (x) => x.toFixed(3);

console.log(`node ${process.version}, ${os.cpus()[0].model}, ${os.availableParallelism?.() ?? os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const name of backends) {
  setBackend(name);
  const model = new LeNet5({ generator: new Generator(0) });
  const parameters = [...model.namedParameters()];
  const optimizer = new optim.SGD(model, { lr: 0.05, momentum: 0.9 });
  const loader = new DataLoader({ images, labels: data.labels }, { batchSize: 64, shuffle: true, generator: new Generator(1) });
  const stepMs = [];
  const gradMs = [];
  const paramMs = [];
  const anomalyMs = [];
  let done = 0;
  while (done < warmup + steps) {
    for (const { x, y } of loader) {
      if (done >= warmup + steps) break;
      const anomaly = done % 2 === 1;
      const t0 = performance.now();
      optimizer.zeroGrad();
      const passes = () => backward(F.crossEntropy(model.forward(x), y));
      if (anomaly) detectAnomaly(passes, { parameters });
      else passes();
      const t1 = performance.now();
      const badGrads = parameters.filter(([, p]) => p.grad !== null && hasNonFinite(p.grad.data));
      const t2 = performance.now();
      optimizer.step();
      const t3 = performance.now();
      const badParams = parameters.filter(([, p]) => hasNonFinite(p.data));
      const t4 = performance.now();
      if (badGrads.length > 0 || badParams.length > 0) throw new Error('training went non-finite');
      if (done >= warmup) {
        if (anomaly) anomalyMs.push(t1 - t0 + (t3 - t2));
        else {
          stepMs.push(t1 - t0 + (t3 - t2));
          gradMs.push(t2 - t1);
          paramMs.push(t4 - t3);
        }
      }
      done++;
    }
  }
  const step = median(stepMs);
  const grad = median(gradMs);
  const param = median(paramMs);
  console.log(
    `${name}: step ${ms(step)} ms (median of ${stepMs.length}); gradient check ${ms(grad)} ms (${((100 * grad) / step).toFixed(2)}%), ` +
      `parameter check ${ms(param)} ms (${((100 * param) / step).toFixed(2)}%), both ${((100 * (grad + param)) / step).toFixed(2)}%; ` +
      `step in anomaly mode ${ms(median(anomalyMs))} ms (${(median(anomalyMs) / step).toFixed(2)}x, median of ${anomalyMs.length})`,
  );
}
console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
