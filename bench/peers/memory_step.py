"""One process, one model, two training steps; prints the resident memory
(bench/memory-vs-torch.mjs runs it in a fresh process for each measurement):

    /usr/bin/python3 bench/peers/memory_step.py [--model resnet50] [--batch 8] [--threads 2]

The step is the one of bench/peers/pytorch.py (zero_grad, forward,
cross_entropy, backward, SGD lr 0.01 momentum 0.9) on torchvision's model,
randomly initialized, with a batch of 3x224x224 images. Prints one JSON line:
the resident set (MiB) after `import torch`, after building the model, input
and optimizer, and the peak resident set (resource.getrusage ru_maxrss, KiB on
Linux) after a warm-up step and after the measured step.
"""
import os

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch import labels, train_step, zoo_model  # noqa: E402

MIB = 1024 * 1024


def rss_mib():
    """The resident set now (/proc/self/statm: pages)."""
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / MIB


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', default='resnet50')
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--threads', type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    after_import = rss_mib()
    step = train_step(zoo_model(args.model), torch.randn(args.batch, 3, 224, 224), labels(args.batch))
    after_build = rss_mib()
    step()
    peak_warmup = peak_mib()
    step()
    peak = peak_mib()
    print(json.dumps({
        'engine': 'pytorch', 'backend': 'cpu', 'threads': torch.get_num_threads(), 'model': args.model, 'batch': args.batch,
        'rssAfterImportMiB': round(after_import, 1), 'rssAfterBuildMiB': round(after_build, 1),
        'peakAfterWarmupMiB': round(peak_warmup, 1), 'peakMiB': round(peak, 1), 'rssEndMiB': round(rss_mib(), 1),
        'version': torch.__version__,
    }), flush=True)


if __name__ == '__main__':
    main()
