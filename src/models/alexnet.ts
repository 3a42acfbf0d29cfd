/**
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
 */
import { ReLU } from '../nn/layers/activation.js';
import { Conv2d } from '../nn/layers/conv2d.js';
import { Dropout } from '../nn/layers/dropout.js';
import { Flatten } from '../nn/layers/flatten.js';
import { Linear } from '../nn/layers/linear.js';
import { MaxPool2d } from '../nn/layers/pool.js';
import { AdaptiveAvgPool2d } from '../nn/layers/pool-family.js';
import { Sequential } from '../nn/layers/sequential.js';
import type { Generator } from '../tensor/random.js';
import { checkInt, checkOptions } from '../validate.js';

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
    checkOptions('AlexNet', options, ['numClasses', 'inChannels', 'dropout', 'generator']);
    const numClasses = checkInt('AlexNet', 'numClasses', options.numClasses ?? 1000, 1);
    const inChannels = checkInt('AlexNet', 'inChannels', options.inChannels ?? 3, 1);
    const { generator, dropout = 0.5 } = options;
    super({
      features: new Sequential(
        new Conv2d(inChannels, 64, 11, { stride: 4, padding: 2, generator }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
        new Conv2d(64, 192, 5, { padding: 2, generator }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
        new Conv2d(192, 384, 3, { padding: 1, generator }), new ReLU(),
        new Conv2d(384, 256, 3, { padding: 1, generator }), new ReLU(),
        new Conv2d(256, 256, 3, { padding: 1, generator }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
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
