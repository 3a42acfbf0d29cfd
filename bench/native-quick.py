"""The workloads of bench/native-quick.ts in PyTorch, timed the same way
(warm-up, then `--reps` rounds; the median ms per iteration).

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/native-quick.py [--threads 2] [--reps 7] [--json] [workload ...]

OPENBLAS_NUM_THREADS=1 keeps OpenBLAS's own threads from fighting PyTorch's
(torch.set_num_threads) on a 2-core machine.
"""
import argparse
import json
import statistics
import time

import os
import sys

import torch
import torch.nn.functional as F

# the nets of the benchmark, defined once (bench/peers/pytorch.py)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'peers'))
from pytorch import LeNet5, labels, resnet_block_net, train_step  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument('--threads', type=int, default=2)
parser.add_argument('--reps', type=int, default=7)
parser.add_argument('--json', action='store_true')
parser.add_argument('workloads', nargs='*')
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(1)


def timed(step, iters, warm=2):
    for _ in range(warm):
        step()
    ms = []
    for _ in range(args.reps):
        t = time.perf_counter()
        for _ in range(iters):
            step()
        ms.append((time.perf_counter() - t) * 1000 / iters)
    return statistics.median(ms)


results = []


def report(workload, ms, batch):
    results.append({'workload': workload, 'msPerIter': ms, 'imagesPerSec': batch * 1000 / ms})
    if not args.json:
        print(f'{workload:<20} {ms:9.2f} ms/iter {batch * 1000 / ms:8.0f} img/s')


def lenet5_train():
    report('lenet5-train', timed(train_step(LeNet5(), torch.randn(64, 1, 28, 28), labels(64)), 20, 5), 64)


def resnet_block_train():
    report('resnet-block-train', timed(train_step(resnet_block_net(), torch.randn(32, 3, 32, 32), labels(32)), 2, 1), 32)


def conv_fwd():
    x = torch.randn(32, 64, 32, 32)
    w = torch.randn(64, 64, 3, 3) * 0.05
    b = torch.randn(64)
    with torch.no_grad():
        report('conv-fwd', timed(lambda: F.conv2d(x, w, b, padding=1), 5), 32)


def conv_fwdbwd():
    x = torch.randn(32, 64, 32, 32, requires_grad=True)
    w = (torch.randn(64, 64, 3, 3) * 0.05).requires_grad_()
    b = torch.randn(64, requires_grad=True)
    gy = torch.randn(32, 64, 32, 32)

    def step():
        x.grad = w.grad = b.grad = None
        F.conv2d(x, w, b, padding=1).backward(gy)
    report('conv-fwdbwd', timed(step, 3), 32)


ALL = {'lenet5-train': lenet5_train, 'resnet-block-train': resnet_block_train, 'conv-fwd': conv_fwd, 'conv-fwdbwd': conv_fwdbwd}
if not args.json:
    print(f'PyTorch {torch.__version__}, {args.threads} threads, mkldnn {torch.backends.mkldnn.is_available()}')
for name in args.workloads or ALL:
    ALL[name]()
if args.json:
    print(json.dumps({'backend': 'pytorch', 'threads': args.threads, 'results': results}))
