"""FLOPs of the zoo workloads of bench/workloads.json, counted on torchvision's
models with forward hooks (the check of the counts written there and in
src/cli/workloads.ts):

    /usr/bin/python3 bench/flops.py [model ...]      (default: alexnet resnet18 vgg16)

Prints one JSON object: for each model, the multiply-adds (MACs) of one
3x224x224 image in its Conv2d and Linear layers, split by kind, and the
forward FLOPs (2 per MAC). The rule of bench/workloads.json: flopsPerIter =
batch x forward FLOPs per image, x3 for a training step (forward, backward to
the input, backward to the weights). Pooling, ReLU, batch norm, the loss and
the optimizer are not counted.

  conv MACs   = outC x outH x outW x (inC / groups) x kH x kW
  linear MACs = in_features x out_features
"""
import json
import os
import sys

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torchvision  # noqa: E402


def macs_per_image(model, shape=(3, 224, 224)):
    counts = {'conv': 0, 'linear': 0}

    def conv_hook(m, inputs, out):
        n, c, h, w = out.shape
        counts['conv'] += c * h * w * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear_hook(m, inputs, out):
        counts['linear'] += m.in_features * m.out_features

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(conv_hook)
        elif isinstance(m, nn.Linear):
            m.register_forward_hook(linear_hook)
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    return counts


def main():
    names = sys.argv[1:] or ['alexnet', 'resnet18', 'vgg16']
    torch.set_num_threads(1)
    out = {}
    for name in names:
        c = macs_per_image(getattr(torchvision.models, name)())
        out[name] = {'convMacs': c['conv'], 'linearMacs': c['linear'], 'macs': c['conv'] + c['linear'], 'forwardFlops': 2 * (c['conv'] + c['linear'])}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
