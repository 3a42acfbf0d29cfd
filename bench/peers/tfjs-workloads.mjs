/**
 * The workloads of `stride bench` as TensorFlow.js code, for whichever
 * backend `tf` runs on: bench/peers/tfjs.mjs (Node: cpu, wasm) and the
 * browser benchmark's page (bench/browser/: wasm, webgl) build the same nets
 * and steps from here.
 *
 * The nets are tf.layers models in TF.js's own NHWC layout (its conv kernels
 * are written for it): LeNet-5 and the ResNet-block net with the shapes of
 * bench/workloads.json, trained with tf.train.momentum(0.01, 0.9) on softmax
 * cross-entropy. Every step reads its result back (dataSync), so the time
 * includes the work a lazy or asynchronous backend would otherwise defer.
 */
import { firstLine, labels, randomArray } from './steps.mjs';

function lenet5(tf) {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 5, padding: 'valid', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 120, activation: 'relu' }),
      tf.layers.dense({ units: 84, activation: 'relu' }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

function resnetBlockNet(tf) {
  const conv = () => tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: 'same', useBias: false });
  // PyTorch's BatchNorm2d: momentum 0.1 (Keras counts it the other way: 0.9), eps 1e-5.
  const bn = () => tf.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 });
  const input = tf.input({ shape: [32, 32, 3] });
  let x = tf.layers.reLU().apply(bn().apply(conv().apply(input)));
  for (let b = 0; b < 2; b++) {
    const body = bn().apply(conv().apply(tf.layers.reLU().apply(bn().apply(conv().apply(x)))));
    x = tf.layers.reLU().apply(tf.layers.add().apply([body, x]));
  }
  const y = tf.layers.dense({ units: 10 }).apply(tf.layers.globalAveragePooling2d({}).apply(x));
  return tf.model({ inputs: input, outputs: y });
}

function trainStep(tf, model, xShape, batch) {
  const x = tf.tensor(randomArray(xShape.reduce((a, b) => a * b, 1)), xShape);
  const y = tf.oneHot(tf.tensor1d(labels(batch), 'int32'), 10);
  const optimizer = tf.train.momentum(0.01, 0.9);
  return () => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })), true);
    loss.dataSync();
    loss.dispose();
  };
}

function inferStep(tf, model, xShape) {
  const x = tf.tensor(randomArray(xShape.reduce((a, b) => a * b, 1)), xShape);
  return () => {
    const out = tf.tidy(() => model.apply(x, { training: false }));
    out.dataSync();
    out.dispose();
  };
}

/** Runs a training step once: TF.js's own error when the backend lacks a gradient kernel, as 'cannot train: ...'. */
function canTrain(step) {
  try {
    step();
  } catch (e) {
    return `cannot train: ${firstLine(e)}`;
  }
  return step;
}

/** One iteration of `workload` on tf's current backend, or a string saying why it cannot run. */
export function tfjsStep(tf, workload) {
  switch (workload) {
    case 'lenet5-train':
      return canTrain(trainStep(tf, lenet5(tf), [64, 28, 28, 1], 64));
    case 'lenet5-infer':
      return inferStep(tf, lenet5(tf), [256, 28, 28, 1]);
    case 'resnet-block-train':
      return canTrain(trainStep(tf, resnetBlockNet(tf), [32, 32, 32, 3], 32));
    case 'resnet-block-infer':
      return inferStep(tf, resnetBlockNet(tf), [32, 32, 32, 3]);
    case 'conv-fwd': {
      const x = tf.tensor(randomArray(32 * 32 * 32 * 64), [32, 32, 32, 64]);
      const w = tf.tensor(randomArray(3 * 3 * 64 * 64, 2), [3, 3, 64, 64]).mul(0.05);
      return () => {
        const y = tf.conv2d(x, w, 1, 'same');
        y.dataSync();
        y.dispose();
      };
    }
    case 'conv-fwdbwd': {
      const x = tf.tensor(randomArray(32 * 32 * 32 * 64), [32, 32, 32, 64]);
      const w = tf.tensor(randomArray(3 * 3 * 64 * 64, 2), [3, 3, 64, 64]).mul(0.05);
      const gy = tf.tensor(randomArray(32 * 32 * 32 * 64, 3), [32, 32, 32, 64]);
      // Gradients to x and w of sum(conv(x, w) * gy), i.e. backward with the output gradient gy.
      const grads = tf.grads((a, b) => tf.sum(tf.mul(tf.conv2d(a, b, 1, 'same'), gy)));
      return canTrain(() => {
        const [gx, gw] = grads([x, w]);
        gx.dataSync();
        gw.dataSync();
        gx.dispose();
        gw.dispose();
      });
    }
    default:
      return `unknown workload ${workload}`;
  }
}
