"""Writes the ONNX models that bench/peers/onnx.mjs runs, from the PyTorch nets
of bench/peers/pytorch.py (the very same layers), with torch.onnx.export:

    /usr/bin/python3 bench/peers/export_onnx.py [OUT_DIR]    (default: bench/.cache)

  lenet5-b256.onnx        LeNet-5, input x [256, 1, 28, 28], eval mode
  resnet-block-b32.onnx   the ResNet-block net, input x [32, 3, 32, 32], eval mode
  conv-b32.onnx           conv 64->64 3x3 pad 1 without bias, input x [32, 64, 32, 32]

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
from pytorch import WORKLOADS, LeNet5, resnet_block_net  # noqa: E402


def export(model, shape, path):
    model.eval()
    torch.onnx.export(model, torch.randn(*shape), path, input_names=['x'], output_names=['y'], opset_version=13, do_constant_folding=True)
    print(f'wrote {os.path.normpath(path)}')


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '.cache')
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(1)
    export(LeNet5(), (WORKLOADS['lenet5-infer']['batch'], 1, 28, 28), os.path.join(out, 'lenet5-b256.onnx'))
    export(resnet_block_net(), (WORKLOADS['resnet-block-infer']['batch'], 3, 32, 32), os.path.join(out, 'resnet-block-b32.onnx'))
    export(nn.Conv2d(64, 64, 3, padding=1, bias=False), (WORKLOADS['conv-fwd']['batch'], 64, 32, 32), os.path.join(out, 'conv-b32.onnx'))


if __name__ == '__main__':
    main()
