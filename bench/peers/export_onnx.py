"""Writes the ONNX models that bench/peers/onnx.mjs runs, from the PyTorch nets
of bench/peers/pytorch.py (the very same layers), with torch.onnx.export:

    /usr/bin/python3 bench/peers/export_onnx.py [OUT_DIR]    (default: bench/.cache)

  lenet5-b256.onnx        LeNet-5, input x [256, 1, 28, 28], eval mode
  resnet-block-b32.onnx   the ResNet-block net, input x [32, 3, 32, 32], eval mode
  conv-b32.onnx           conv 64->64 3x3 pad 1 without bias, input x [32, 64, 32, 32]
  resnet18-b16.onnx       torchvision's ResNet-18, input x [16, 3, 224, 224], eval mode
  vgg16-b8.onnx           torchvision's VGG-16, input x [8, 3, 224, 224], eval mode
  alexnet-b16.onnx        torchvision's AlexNet, input x [16, 3, 224, 224], eval mode

The zoo models are the very ones bench/peers/pytorch.py runs (torchvision's,
randomly initialized: nothing is downloaded); the speed of a dense network does
not depend on its weights.

Each file is <stem>-b<batch>.onnx, as bench/peers/onnx.mjs looks for it.
Batch sizes are fixed (those of bench/workloads.json), so onnxruntime can plan
every shape once. torch.onnx.export of PyTorch 1.13 needs no `onnx` package.
Run by bench/setup.sh; the files are not committed (bench/.gitignore).
"""
import os
import sys

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch import WORKLOADS, ZOO, LeNet5, resnet_block_net, zoo_model  # noqa: E402


def export(model, shape, path):
    model.eval()
    torch.onnx.export(model, torch.randn(*shape), path, input_names=['x'], output_names=['y'], opset_version=13, do_constant_folding=True)
    print(f'wrote {os.path.normpath(path)}')


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '.cache')
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(1)
    nets = [
        ('lenet5-infer', 'lenet5', LeNet5, (1, 28, 28)),
        ('resnet-block-infer', 'resnet-block', resnet_block_net, (3, 32, 32)),
        ('conv-fwd', 'conv', lambda: nn.Conv2d(64, 64, 3, padding=1, bias=False), (64, 32, 32)),
    ]
    try:
        import torchvision  # noqa: F401  (the zoo models)
        nets += [(w, m, lambda m=m: zoo_model(m), (3, 224, 224)) for w, (m, train) in ZOO.items() if not train]
    except ImportError:
        print('skipped the zoo models: torchvision is missing (onnxruntime-node will not run the zoo workloads)')
    for workload, stem, make, image in nets:
        b = WORKLOADS[workload]['batch']
        export(make(), (b, *image), os.path.join(out, f'{stem}-b{b}.onnx'))


if __name__ == '__main__':
    main()
