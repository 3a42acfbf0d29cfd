"""PyTorch (Debian's python3-torch, CPU) on the workloads of `stride bench`.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/peers/pytorch.py [--threads 2]
        [--iterations N] [--warmup N] [--max-seconds S] [workload ...]

The zoo workloads (resnet18-*, vgg16-infer, alexnet-infer) run torchvision's
models, randomly initialized. Prints one JSON line per workload with the keys of `stride bench --json`
(workload, backend, threads, imagesPerSec, msPerIter, gflops, ...). Batches,
FLOP counts and default iteration counts come from bench/workloads.json.
OPENBLAS_NUM_THREADS=1 (set here before torch loads, too) keeps OpenBLAS's own
threads from fighting torch.set_num_threads on a small machine.
"""
import os

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, '..', 'workloads.json')) as f:
    WORKLOADS = json.load(f)


class LeNet5(nn.Module):
    """src/models/lenet5.ts: conv 6@5x5 pad 2, pool, conv 16@5x5, pool, 400-120-84-10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class BasicBlock(nn.Module):
    """torchvision's basic block with the identity shortcut (Stride's BasicBlock(64, 64))."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + x)


def resnet_block_net():
    return nn.Sequential(
        nn.Conv2d(3, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        BasicBlock(64), BasicBlock(64),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10),
    )


def labels(n):
    return torch.tensor([(i * 7) % 10 for i in range(n)])


# The zoo workloads: workload -> torchvision model (random weights, built offline), train or infer.
ZOO = {
    'resnet18-train': ('resnet18', True),
    'resnet18-infer': ('resnet18', False),
    'vgg16-infer': ('vgg16', False),
    'alexnet-infer': ('alexnet', False),
}


def zoo_model(name):
    """torchvision's model by name, randomly initialized (no weights are downloaded)."""
    import torchvision  # only the zoo workloads need it
    return getattr(torchvision.models, name)()


def train_step(model, x, y):
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return step


def infer_step(model, x):
    model.eval()

    def step():
        with torch.no_grad():
            model(x)
    return step


def build(name):
    b = WORKLOADS[name]['batch']
    if name == 'lenet5-train':
        return train_step(LeNet5(), torch.randn(b, 1, 28, 28), labels(b))
    if name == 'lenet5-infer':
        return infer_step(LeNet5(), torch.randn(b, 1, 28, 28))
    if name == 'resnet-block-train':
        return train_step(resnet_block_net(), torch.randn(b, 3, 32, 32), labels(b))
    if name == 'resnet-block-infer':
        return infer_step(resnet_block_net(), torch.randn(b, 3, 32, 32))
    if name == 'conv-fwd':
        x = torch.randn(b, 64, 32, 32)
        w = torch.randn(64, 64, 3, 3) * 0.05

        def fwd():
            with torch.no_grad():
                F.conv2d(x, w, None, padding=1)
        return fwd
    if name == 'conv-fwdbwd':
        x = torch.randn(b, 64, 32, 32, requires_grad=True)
        w = (torch.randn(64, 64, 3, 3) * 0.05).requires_grad_()
        gy = torch.randn(b, 64, 32, 32)

        def fwdbwd():
            x.grad = None
            w.grad = None
            F.conv2d(x, w, None, padding=1).backward(gy)
        return fwdbwd
    if name in ZOO:
        model_name, train = ZOO[name]
        x = torch.randn(b, 3, 224, 224)
        return train_step(zoo_model(model_name), x, labels(b)) if train else infer_step(zoo_model(model_name), x)
    raise SystemExit(f"unknown workload '{name}'; one of {', '.join(WORKLOADS)}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--iterations', type=int)
    p.add_argument('--warmup', type=int)
    p.add_argument('--max-seconds', type=float)
    p.add_argument('workloads', nargs='*')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    for name in args.workloads or list(WORKLOADS):
        w = WORKLOADS[name]
        iterations = args.iterations if args.iterations is not None else w['iterations']
        warmup = args.warmup if args.warmup is not None else w['warmup']
        try:
            step = build(name)
        except ImportError as e:  # torchvision missing: the zoo workloads are reported as not run
            print(json.dumps({
                'engine': 'pytorch', 'workload': name, 'backend': 'cpu', 'threads': torch.get_num_threads(),
                'imagesPerSec': None, 'msPerIter': None, 'gflops': None, 'batch': w['batch'], 'flopsPerIter': w['flopsPerIter'],
                'unsupported': f'{e} (install python3-torchvision)', 'version': torch.__version__,
            }), flush=True)
            continue
        for _ in range(warmup):
            step()
        times = []
        start = time.perf_counter()
        for _ in range(iterations):
            t = time.perf_counter()
            step()
            now = time.perf_counter()
            times.append((now - t) * 1000)
            if args.max_seconds is not None and now - start > args.max_seconds:
                break
        ms = statistics.median(times)
        print(json.dumps({
            'engine': 'pytorch', 'workload': name, 'backend': 'cpu', 'threads': torch.get_num_threads(),
            'imagesPerSec': round(w['batch'] * 1000 / ms, 2), 'msPerIter': round(ms, 3),
            'gflops': round(w['flopsPerIter'] / (ms * 1e6), 3), 'batch': w['batch'], 'iterations': len(times),
            'warmup': warmup, 'flopsPerIter': w['flopsPerIter'], 'msMin': round(min(times), 3), 'msMax': round(max(times), 3),
            'version': torch.__version__,
        }), flush=True)


if __name__ == '__main__':
    main()
