/**
 * ConvNetJS 0.3 (plain JavaScript, Float64Array volumes, one image at a time,
 * one thread) on the workloads of `stride bench` that it can express:
 *   lenet5-train / lenet5-infer  a LeNet-5 of ConvNetJS layers (conv 6@5x5 pad 2
 *       + ReLU, max pool 2, conv 16@5x5 + ReLU, max pool 2, fc 120 + ReLU,
 *       fc 84 + ReLU, softmax 10); training is 64 Trainer.train calls, i.e.
 *       one SGD step (lr 0.01, momentum 0.9) per iteration
 *   conv-fwd / conv-fwdbwd  a ConvLayer 64->64 3x3 pad 1 on 32x32x64, 32 images
 *       (forward; forward and backward to the input and the filters)
 * It has no batch norm and no residual additions, so the ResNet-block net is
 * reported as unsupported.
 *
 *   node bench/peers/convnetjs.mjs [--iterations N] [--warmup N] [--max-seconds S] [workload ...]
 */
import { benchRequire, labels, packageVersion, parseArgs, randomArray, runAll } from './common.mjs';

const convnetjs = benchRequire('convnetjs');
const version = packageVersion('convnetjs');
const opts = parseArgs();

function volumes(n, sx, sy, depth, seed) {
  const data = randomArray(n * sx * sy * depth, seed);
  return Array.from({ length: n }, (_, i) => {
    const v = new convnetjs.Vol(sx, sy, depth, 0.0);
    v.w.set(data.subarray(i * sx * sy * depth, (i + 1) * sx * sy * depth));
    return v;
  });
}

function lenet5() {
  const net = new convnetjs.Net();
  net.makeLayers([
    { type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 },
    { type: 'conv', sx: 5, filters: 6, stride: 1, pad: 2, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'conv', sx: 5, filters: 16, stride: 1, pad: 0, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'fc', num_neurons: 120, activation: 'relu' },
    { type: 'fc', num_neurons: 84, activation: 'relu' },
    { type: 'softmax', num_classes: 10 },
  ]);
  return net;
}

function convLayer() {
  return new convnetjs.ConvLayer({ in_sx: 32, in_sy: 32, in_depth: 64, sx: 3, filters: 64, stride: 1, pad: 1 });
}

await runAll({
  engine: 'convnetjs', backend: 'js', threads: 1, version, opts,
  build: (workload) => {
    switch (workload) {
      case 'lenet5-train': {
        const net = lenet5();
        const batch = 64;
        // The trainer updates the weights every batch_size calls: one iteration = one step.
        const trainer = new convnetjs.Trainer(net, { method: 'sgd', learning_rate: 0.01, momentum: 0.9, batch_size: batch, l2_decay: 0 });
        const xs = volumes(batch, 28, 28, 1, 1);
        const ys = labels(batch);
        return () => {
          for (let i = 0; i < batch; i++) trainer.train(xs[i], ys[i]);
        };
      }
      case 'lenet5-infer': {
        const net = lenet5();
        const xs = volumes(256, 28, 28, 1, 1);
        return () => {
          for (const x of xs) net.forward(x, false);
        };
      }
      case 'conv-fwd': {
        const layer = convLayer();
        const xs = volumes(32, 32, 32, 64, 1);
        return () => {
          for (const x of xs) layer.forward(x, false);
        };
      }
      case 'conv-fwdbwd': {
        const layer = convLayer();
        const xs = volumes(32, 32, 32, 64, 1);
        const gy = randomArray(32 * 32 * 64, 3);
        return () => {
          for (const x of xs) {
            layer.forward(x, true);
            layer.out_act.dw.set(gy);
            for (const f of layer.filters) f.dw.fill(0);
            layer.biases.dw.fill(0);
            layer.backward();
          }
        };
      }
      default:
        return 'no batch norm or residual layers in ConvNetJS';
    }
  },
});
