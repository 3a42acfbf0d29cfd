/**
 * The benchmark workloads (bench/workloads.json) as Stride code: their FLOP
 * counts, batches and defaults, and each one built as a step function. This
 * file is isomorphic (it imports only the public entry point), so `stride
 * bench` (bench.ts) in Node and the browser benchmark's page (bench/browser/)
 * build the very same models, inputs and steps.
 */
import { F, Generator, LeNet5, createModel, backward, nn, noGrad, optim, randn, tensor, type Tensor } from '../index.js';

// ---------------------------------------------------------------------------
// FLOPs. A multiply-add (MAC) is 2 FLOPs. Only convolutions and linear layers
// are counted (pooling, ReLU, batch norm, the loss and the optimizer step are
// a few per cent and are left out, as every FLOP count of CNNs does):
//   conv:    MACs = N * outC * outH * outW * (inC / groups) * kH * kW
//   linear:  MACs = N * in * out
//   forward FLOPs  = 2 * sum of MACs
//   training FLOPs = 3 * forward FLOPs (forward, backward to the input,
//                    backward to the weights: each the size of the forward).
// The first layer's gradient to the input is not computed by any engine in
// training; the convention counts it anyway, for every engine alike.
// ---------------------------------------------------------------------------

/** MACs of a conv layer on one image. */
export function convMacs(inC: number, outC: number, k: number, outH: number, outW: number, groups = 1): number {
  return outC * outH * outW * (inC / groups) * k * k;
}

/** MACs of a linear layer on one image. */
export function linearMacs(inFeatures: number, outFeatures: number): number {
  return inFeatures * outFeatures;
}

/**
 * LeNet-5 on 1x28x28 (src/models/lenet5.ts), MACs per image:
 *   conv1 1->6 5x5 pad 2, out 28x28:  6*28*28*1*25  = 117,600
 *   conv2 6->16 5x5, out 10x10:       16*10*10*6*25 = 240,000
 *   fc1 400->120 = 48,000; fc2 120->84 = 10,080; fc3 84->10 = 840
 *   total 416,520 MACs = 833,040 FLOPs forward.
 */
export function lenet5ForwardFlopsPerImage(): number {
  return 2 * (convMacs(1, 6, 5, 28, 28) + convMacs(6, 16, 5, 10, 10) + linearMacs(400, 120) + linearMacs(120, 84) + linearMacs(84, 10));
}

/**
 * The ResNet-block net on 3x32x32, MACs per image (every conv 3x3 pad 1, 32x32 out):
 *   stem conv 3->64:            64*32*32*3*9  = 1,769,472
 *   4 convs 64->64 (2 blocks):  4 * 64*32*32*64*9 = 4 * 37,748,736 = 150,994,944
 *   linear 64->10:              640
 *   total 152,765,056 MACs = 305,530,112 FLOPs forward.
 */
export function resnetBlockForwardFlopsPerImage(): number {
  return 2 * (convMacs(3, 64, 3, 32, 32) + 4 * convMacs(64, 64, 3, 32, 32) + linearMacs(64, 10));
}

/** conv 64->64 3x3 pad 1 on 32x32, per image: 2 * 37,748,736 = 75,497,472 FLOPs. */
export function convLayerForwardFlopsPerImage(): number {
  return 2 * convMacs(64, 64, 3, 32, 32);
}

/**
 * AlexNet as torchvision builds it, on 3x224x224, MACs per image:
 *   conv1 3->64 11x11 stride 4 pad 2, out 55x55:   64*55*55*3*121   =  70,276,800
 *   (max pool 3 stride 2 -> 27x27)
 *   conv2 64->192 5x5 pad 2, out 27x27:            192*27*27*64*25  = 223,948,800
 *   (max pool -> 13x13; conv3-5 3x3 pad 1, out 13x13)
 *   conv3 192->384:                                384*13*13*192*9  = 112,140,288
 *   conv4 384->256:                                256*13*13*384*9  = 149,520,384
 *   conv5 256->256:                                256*13*13*256*9  =  99,680,256
 *   (max pool -> 6x6, adaptive average pool 6x6: 9,216 features)
 *   fc 9216->4096 = 37,748,736; 4096->4096 = 16,777,216; 4096->1000 = 4,096,000
 *   total 714,188,480 MACs = 1,428,376,960 FLOPs forward.
 */
export function alexnetForwardFlopsPerImage(): number {
  const convs = convMacs(3, 64, 11, 55, 55) + convMacs(64, 192, 5, 27, 27) + convMacs(192, 384, 3, 13, 13) + convMacs(384, 256, 3, 13, 13) + convMacs(256, 256, 3, 13, 13);
  return 2 * (convs + linearMacs(9216, 4096) + linearMacs(4096, 4096) + linearMacs(4096, 1000));
}

/**
 * VGG-16 (configuration D, torchvision's, no batch norm) on 3x224x224, MACs
 * per image; every conv 3x3 pad 1 keeps the size, a max pool 2 halves it:
 *   224x224: 3->64, 64->64                  86,704,128 + 1,849,688,064
 *   112x112: 64->128, 128->128             924,844,032 + 1,849,688,064
 *   56x56:   128->256, 2 x 256->256        924,844,032 + 2 * 1,849,688,064
 *   28x28:   256->512, 2 x 512->512        924,844,032 + 2 * 1,849,688,064
 *   14x14:   3 x 512->512                  3 * 462,422,016
 *   fc 25088->4096 = 102,760,448; 4096->4096 = 16,777,216; 4096->1000 = 4,096,000
 *   total 15,346,630,656 conv + 123,633,664 linear = 15,470,264,320 MACs
 *   = 30,940,528,640 FLOPs forward.
 */
export function vgg16ForwardFlopsPerImage(): number {
  const convs = convMacs(3, 64, 3, 224, 224) + convMacs(64, 64, 3, 224, 224)
    + convMacs(64, 128, 3, 112, 112) + convMacs(128, 128, 3, 112, 112)
    + convMacs(128, 256, 3, 56, 56) + 2 * convMacs(256, 256, 3, 56, 56)
    + convMacs(256, 512, 3, 28, 28) + 2 * convMacs(512, 512, 3, 28, 28)
    + 3 * convMacs(512, 512, 3, 14, 14);
  return 2 * (convs + linearMacs(25088, 4096) + linearMacs(4096, 4096) + linearMacs(4096, 1000));
}

/**
 * ResNet-18 as torchvision builds it, on 3x224x224, MACs per image:
 *   stem conv 3->64 7x7 stride 2 pad 3, out 112x112:  64*112*112*3*49 = 118,013,952
 *   (max pool 3 stride 2 -> 56x56)
 *   layer1, 56x56: 4 convs 64->64 3x3               4 * 115,605,504 = 462,422,016
 *   layer2-4 (28x28, 14x14, 7x7), each: the first conv C->2C 3x3 stride 2
 *     (57,802,752), three convs 2C->2C 3x3 (3 * 115,605,504) and the 1x1
 *     stride-2 downsample C->2C (6,422,528): 411,041,792 per stage
 *   fc 512->1000 = 512,000
 *   total 1,813,561,344 conv + 512,000 linear = 1,814,073,344 MACs
 *   = 3,628,146,688 FLOPs forward.
 */
export function resnet18ForwardFlopsPerImage(): number {
  let convs = convMacs(3, 64, 7, 112, 112) + 4 * convMacs(64, 64, 3, 56, 56);
  for (const [c, size] of [[64, 28], [128, 14], [256, 7]]) {
    convs += convMacs(c, 2 * c, 3, size, size) + 3 * convMacs(2 * c, 2 * c, 3, size, size) + convMacs(c, 2 * c, 1, size, size);
  }
  return 2 * (convs + linearMacs(512, 1000));
}

export type WorkloadName =
  | 'lenet5-train' | 'lenet5-infer' | 'resnet-block-train' | 'resnet-block-infer' | 'conv-fwd' | 'conv-fwdbwd'
  | 'resnet18-train' | 'resnet18-infer' | 'vgg16-infer' | 'alexnet-infer';

export interface WorkloadSpec {
  name: WorkloadName;
  /** Images per iteration. */
  batch: number;
  /** FLOPs of one iteration (see the formulas above). */
  flopsPerIter: number;
  /** One line for --help and the table. */
  description: string;
  /**
   * Defaults of the command: enough warm-up that V8's compilation and the backends' plans are
   * done before the clock starts (Stride native's LeNet-5 inference measured 3.8-4.5 ms per
   * iteration over 20 iterations after 3 warm-up ones, 2.4 ms over 100 after 30; onnxruntime's
   * 3.4 and 2.7-3.9 ms), and enough timed iterations for a steady median; a run takes about a
   * second on wasm or native, the zoo's a few seconds.
   */
  iterations: number;
  warmup: number;
}

function spec(name: WorkloadName, batch: number, flopsPerImage: number, factor: 1 | 3, description: string, iterations: number, warmup: number): WorkloadSpec {
  return { name, batch, flopsPerIter: batch * flopsPerImage * factor, description, iterations, warmup };
}

/** The workloads, by name. */
export const WORKLOADS: Readonly<Record<WorkloadName, WorkloadSpec>> = {
  'lenet5-train': spec('lenet5-train', 64, lenet5ForwardFlopsPerImage(), 3, 'LeNet-5, batch 64 of 1x28x28: one SGD step (zeroGrad, forward, crossEntropy, backward, step)', 150, 20),
  'lenet5-infer': spec('lenet5-infer', 256, lenet5ForwardFlopsPerImage(), 1, 'LeNet-5, batch 256 of 1x28x28: forward in eval mode under noGrad', 200, 20),
  'resnet-block-train': spec('resnet-block-train', 32, resnetBlockForwardFlopsPerImage(), 3, 'ResNet-block net (conv 3->64, BN, ReLU, 2 BasicBlocks of 64, global average pool, linear 64->10), batch 32 of 3x32x32: one SGD step', 15, 3),
  'resnet-block-infer': spec('resnet-block-infer', 32, resnetBlockForwardFlopsPerImage(), 1, 'the ResNet-block net, batch 32 of 3x32x32: forward in eval mode under noGrad', 40, 5),
  'conv-fwd': spec('conv-fwd', 32, convLayerForwardFlopsPerImage(), 1, 'conv 64->64 3x3 pad 1 (no bias) on 32x32, batch 32: forward', 40, 5),
  'conv-fwdbwd': spec('conv-fwdbwd', 32, convLayerForwardFlopsPerImage(), 3, 'the same conv: forward and backward to the input and the weight', 15, 3),
  'resnet18-train': spec('resnet18-train', 16, resnet18ForwardFlopsPerImage(), 3, "ResNet-18 (torchvision's), batch 16 of 3x224x224: one SGD step (zeroGrad, forward, crossEntropy over 1000 classes, backward, step)", 3, 1),
  'resnet18-infer': spec('resnet18-infer', 16, resnet18ForwardFlopsPerImage(), 1, 'ResNet-18, batch 16 of 3x224x224: forward in eval mode under noGrad', 5, 1),
  'vgg16-infer': spec('vgg16-infer', 8, vgg16ForwardFlopsPerImage(), 1, "VGG-16 (torchvision's, no batch norm), batch 8 of 3x224x224: forward in eval mode under noGrad", 3, 1),
  'alexnet-infer': spec('alexnet-infer', 16, alexnetForwardFlopsPerImage(), 1, "AlexNet (torchvision's), batch 16 of 3x224x224: forward in eval mode under noGrad", 10, 2),
};

export const WORKLOAD_NAMES = Object.keys(WORKLOADS) as WorkloadName[];

// ---------------------------------------------------------------------------
// The workloads as Stride code
// ---------------------------------------------------------------------------

/** Labels 0..9 in a fixed order, as every peer uses (valid for the zoo's 1000 classes too). */
function labels(n: number): Tensor {
  return tensor(Array.from({ length: n }, (_, i) => (i * 7) % 10));
}

/** The ResNet-block net of the benchmarks (bench/workloads.json), from Stride's layers. */
export function resnetBlockNet(generator?: Generator): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(3, 64, 3, { padding: 1, bias: false, generator }),
    new nn.BatchNorm2d(64),
    new nn.ReLU(),
    new nn.BasicBlock(64, 64, { generator }),
    new nn.BasicBlock(64, 64, { generator }),
    new nn.GlobalAvgPool2d(),
    new nn.Flatten(),
    new nn.Linear(64, 10, { generator }),
  );
}

function trainStep(model: nn.Module, x: Tensor, y: Tensor): () => void {
  model.train();
  const opt = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  return () => {
    opt.zeroGrad();
    const loss = F.crossEntropy(model.forward(x), y);
    backward(loss);
    opt.step();
  };
}

function inferStep(model: nn.Module, x: Tensor): () => void {
  model.eval();
  return () => void noGrad(() => model.forward(x));
}

/** Builds the model and inputs of a workload and returns one iteration as a function. */
export function buildWorkload(name: WorkloadName, seed = 1): () => void {
  const generator = new Generator(seed);
  const { batch } = WORKLOADS[name];
  switch (name) {
    case 'lenet5-train':
      return trainStep(new LeNet5({ generator }), randn([batch, 1, 28, 28], { generator }), labels(batch));
    case 'lenet5-infer':
      return inferStep(new LeNet5({ generator }), randn([batch, 1, 28, 28], { generator }));
    case 'resnet-block-train':
      return trainStep(resnetBlockNet(generator), randn([batch, 3, 32, 32], { generator }), labels(batch));
    case 'resnet-block-infer':
      return inferStep(resnetBlockNet(generator), randn([batch, 3, 32, 32], { generator }));
    case 'conv-fwd': {
      const x = randn([batch, 64, 32, 32], { generator });
      const w = randn([64, 64, 3, 3], { generator, std: 0.05 });
      return () => void F.conv2d(x, w, null, { padding: 1 });
    }
    case 'conv-fwdbwd': {
      const x = randn([batch, 64, 32, 32], { generator }).requiresGrad_();
      const w = randn([64, 64, 3, 3], { generator, std: 0.05 }).requiresGrad_();
      const gy = randn([batch, 64, 32, 32], { generator });
      return () => {
        x.grad = null;
        w.grad = null;
        backward(F.conv2d(x, w, null, { padding: 1 }), gy);
      };
    }
    case 'resnet18-train':
      return trainStep(createModel('resnet18', { generator }), randn([batch, 3, 224, 224], { generator }), labels(batch));
    case 'resnet18-infer':
      return inferStep(createModel('resnet18', { generator }), randn([batch, 3, 224, 224], { generator }));
    case 'vgg16-infer':
      return inferStep(createModel('vgg16', { generator }), randn([batch, 3, 224, 224], { generator }));
    case 'alexnet-infer':
      return inferStep(createModel('alexnet', { generator }), randn([batch, 3, 224, 224], { generator }));
  }
}

// ---------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------

/** The middle value of xs (of an even count, the mean of the two middle ones): the reported iteration time. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}
