/**
 * Two AlexNets: torchvision's (`alexnet`) and the 2012 paper's (`alexnet-2012`).
 *
 * AlexNet in torchvision's layout and with its state-dict names (torchvision
 * follows Krizhevsky's "One weird trick" single-GPU variant, 2014, not the
 * 2012 paper): 64/192/384/256/256 filters, no local response normalization,
 * no grouped convolutions, overlapping 3x3/2 max pooling, adaptive average
 * pooling to 6x6, dropout before the first two linear layers. 61,100,840
 * parameters at 1,000 classes. PyTorch's default initialization.
 *   features    conv 64@11x11/4 pad 2, ReLU, maxpool 3/2; conv 192@5x5 pad 2, ReLU, maxpool 3/2;
 *               conv 384@3x3 pad 1, ReLU; conv 256@3x3 pad 1, ReLU; conv 256@3x3 pad 1, ReLU, maxpool 3/2
 *   avgpool     adaptive average pooling to 6x6
 *   classifier  dropout, linear 9216-4096, ReLU, dropout, 4096-4096, ReLU, 4096-numClasses
 *
 * AlexNet2012 is the network of Krizhevsky, Sutskever and Hinton, 2012,
 * "ImageNet classification with deep convolutional neural networks" (NIPS),
 * section 3 and figure 2, on one device: 96/256/384/384/256 filters; local
 * response normalization (k = 2, n = 5, alpha = 1e-4, beta = 0.75) after the
 * ReLUs of conv1 and conv2; groups = 2 on conv2, conv4 and conv5, whose
 * kernels see only the maps of their own GPU's half in the paper (conv3 and
 * the linear layers see both halves); overlapping 3x3/2 max pooling after the
 * two normalizations and conv5; ReLU after every convolution and hidden
 * linear layer; dropout 0.5 on the outputs of the two hidden linear layers;
 * linear 9216-4096-4096-numClasses. 60,965,224 parameters at 1,000 classes.
 *   features    0 conv 96@11x11/4 pad 2, 1 ReLU, 2 LRN, 3 maxpool 3/2          (224 -> 55 -> 27)
 *               4 conv 256@5x5 pad 2 groups 2, 5 ReLU, 6 LRN, 7 maxpool 3/2     (27 -> 13)
 *               8 conv 384@3x3 pad 1, 9 ReLU
 *               10 conv 384@3x3 pad 1 groups 2, 11 ReLU
 *               12 conv 256@3x3 pad 1 groups 2, 13 ReLU, 14 maxpool 3/2         (13 -> 6)
 *   classifier  0 linear 9216-4096, 1 ReLU, 2 dropout, 3 linear 4096-4096, 4 ReLU, 5 dropout, 6 linear 4096-numClasses
 * The state-dict names are torchvision's scheme (features.N, classifier.N,
 * the index of the layer in its Sequential), so the same layers written in
 * PyTorch as nn.Sequential blocks named features and classifier load these
 * weights (test/once/models-classic.test.ts builds them). Initialization as
 * the paper's section 5: every weight N(0, 0.01); biases 1 in conv2, conv4,
 * conv5 and the two hidden linear layers ("the fully-connected hidden
 * layers"), 0 in conv1, conv3 and the output layer.
 * Deviations and choices:
 * - Padding: the paper gives a 224x224 input and 55x55 maps after conv1
 *   (11x11, stride 4), which no padding makes exact (227 without padding
 *   would); conv1 pads by 2 as torchvision does: (224 + 4 - 11) / 4 + 1 = 55
 *   (rounded down). conv2 pads 2, conv3-5 pad 1, keeping 27 and 13.
 * - The normalization's alpha: the paper divides by k + alpha * sum a^2;
 *   Stride's LocalResponseNorm, as PyTorch's, by k + (alpha / n) * sum a^2, so
 *   the layers are built with alpha = 5 * 1e-4 to give the paper's 1e-4.
 *   (Reimplementations that pass alpha = 1e-4 to PyTorch normalize 5 times
 *   more weakly than the paper.)
 * - One device: the two GPUs' halves are the two groups of the grouped
 *   convolutions; the halves of conv1, conv3 and the linear layers are one
 *   layer each. The training-time data augmentation (crops, flips, PCA colour
 *   noise) and the test-time ten-crop averaging are the data pipeline's, not
 *   the model's.
 * - No adaptive pooling (torchvision adds one): inputs must give 6x6 maps
 *   after the last pooling, i.e. 224 to 227 pixels square.
 */
import { ShapeError, fmtShape } from '../errors.js';
import { ReLU } from '../nn/layers/activation.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { Dropout } from '../nn/layers/dropout.js';
import { Flatten } from '../nn/layers/flatten.js';
import { Linear } from '../nn/layers/linear.js';
import { LocalResponseNorm } from '../nn/layers/local-response-norm.js';
import { MaxPool2d } from '../nn/layers/pool.js';
import { AdaptiveAvgPool2d } from '../nn/layers/pool-family.js';
import { Sequential } from '../nn/layers/sequential.js';
import { constant, normal } from '../nn/init.js';
import { defaultGenerator, type Generator } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { classifierOptions } from './classifier-options.js';

export interface AlexNetOptions {
  numClasses?: number;
  /** Input channels (3 for colour images). */
  inChannels?: number;
  /** The classifier's dropout probability (default 0.5). */
  dropout?: number;
  generator?: Generator;
}

/** torchvision's AlexNet (see the file comment). */
export class AlexNet extends Sequential {
  declare features: Sequential;
  declare avgpool: AdaptiveAvgPool2d;
  declare classifier: Sequential;

  constructor(options: AlexNetOptions = {}) {
    const { numClasses, inChannels, generator, dropout } = alexNetOptions('AlexNet', options);
    super({
      features: new Sequential(
        new Conv2d(inChannels, 64, 11, { stride: 4, padding: 2, generator }), new ReLU(), overlappingPool(),
        new Conv2d(64, 192, 5, { padding: 2, generator }), new ReLU(), overlappingPool(),
        new Conv2d(192, 384, 3, { padding: 1, generator }), new ReLU(),
        new Conv2d(384, 256, 3, { padding: 1, generator }), new ReLU(),
        new Conv2d(256, 256, 3, { padding: 1, generator }), new ReLU(), overlappingPool(),
      ),
      avgpool: new AdaptiveAvgPool2d([6, 6]),
      flatten: new Flatten(),
      classifier: new Sequential(
        new Dropout(dropout, { generator }), new Linear(256 * 6 * 6, 4096, { generator }), new ReLU(),
        new Dropout(dropout, { generator }), new Linear(4096, 4096, { generator }), new ReLU(),
        new Linear(4096, numClasses, { generator }),
      ),
    });
  }
}

/** The 2012 paper's AlexNet (see the file comment). */
export class AlexNet2012 extends Sequential {
  declare features: Sequential;
  declare classifier: Sequential;
  readonly inChannels: number;

  constructor(options: AlexNetOptions = {}) {
    const { numClasses, inChannels, generator = defaultGenerator, dropout } = alexNetOptions('AlexNet2012', options);
    // The paper's alpha is Stride's alpha / n (see the file comment).
    const lrn = () => new LocalResponseNorm(5, { alpha: 5 * 1e-4, beta: 0.75, k: 2 });
    super({
      features: new Sequential(
        new Conv2d(inChannels, 96, 11, { stride: 4, padding: 2, generator }), new ReLU(), lrn(), overlappingPool(),
        new Conv2d(96, 256, 5, { padding: 2, groups: 2, generator }), new ReLU(), lrn(), overlappingPool(),
        new Conv2d(256, 384, 3, { padding: 1, generator }), new ReLU(),
        new Conv2d(384, 384, 3, { padding: 1, groups: 2, generator }), new ReLU(),
        new Conv2d(384, 256, 3, { padding: 1, groups: 2, generator }), new ReLU(), overlappingPool(),
      ),
      flatten: new Flatten(),
      classifier: new Sequential(
        new Linear(256 * 6 * 6, 4096, { generator }), new ReLU(), new Dropout(dropout, { generator }),
        new Linear(4096, 4096, { generator }), new ReLU(), new Dropout(dropout, { generator }),
        new Linear(4096, numClasses, { generator }),
      ),
    });
    this.inChannels = inChannels;
    // The paper's section 5: weights N(0, 0.01); biases 1 in conv2, conv4, conv5 and the hidden linear layers.
    const biasOne = new Set(['features.4', 'features.10', 'features.12', 'classifier.0', 'classifier.3']);
    for (const [name, m] of this.namedModules()) {
      if (m instanceof Conv2d || m instanceof Linear) {
        normal(m.weight, 0, 0.01, generator);
        if (m.bias) constant(m.bias, biasOne.has(name) ? 1 : 0);
      }
    }
  }

  /** Scores [N, numClasses] for images [N, inChannels, H, W] with H and W in 224..227 (6x6 maps after the last pooling). */
  override forward(x: Tensor): Tensor {
    const pooled = (n: number) => Math.floor((n - 3) / 2) + 1;
    const last = (n: number) => pooled(pooled(pooled(Math.floor((n + 4 - 11) / 4) + 1)));
    if (!(x instanceof Tensor) || x.ndim !== 4 || x.shape[1] !== this.inChannels || last(x.shape[2]) !== 6 || last(x.shape[3]) !== 6) {
      throw new ShapeError(`AlexNet2012: input must be [batch, ${this.inChannels}, 224, 224] (224 to 227 pixels a side give the 6x6 maps its first linear layer takes; it has no adaptive pooling), got ${x instanceof Tensor ? `shape ${fmtShape(x.shape)}` : typeof x}; the 'alexnet' model takes other sizes`);
    }
    return super.forward(x);
  }
}

/** The 3x3 max pooling with stride 2 (overlapping windows) both AlexNets use. */
function overlappingPool(): MaxPool2d {
  return new MaxPool2d(3, { stride: 2 });
}

/** The options both AlexNets take, checked, with their defaults. */
function alexNetOptions(where: string, options: AlexNetOptions): { numClasses: number; inChannels: number; dropout: number; generator?: Generator } {
  return { ...classifierOptions(where, options, { numClasses: 1000, inChannels: 3 }, ['dropout']), dropout: options.dropout ?? 0.5 };
}
