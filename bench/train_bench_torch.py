"""PyTorch's half of bench/train_bench: trains the same CNN and MLP as examples/fashion_models.cc
on the first steps*batch_size Fashion-MNIST training images (normalized as the frontend does) and
prints one line per model: `<model> <images per second>`."""
import argparse
import gzip
import time

import numpy as np
import torch
from torch import nn


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10))


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                         nn.ReLU(), nn.Linear(128, 10))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--warmup", type=int, required=True)
    parser.add_argument("--batch_size", type=int, required=True)
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n = (args.steps + args.warmup) * args.batch_size
    with gzip.open(f"{args.data}/train-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16)[: n * 784].reshape(n, 1, 28, 28)
    with gzip.open(f"{args.data}/train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)[:n].astype(np.int64)
    x_all = torch.from_numpy((images.astype(np.float32) / 255 - 0.2860) / 0.3530)
    y_all = torch.from_numpy(labels)
    batches = [(x_all[i:i + args.batch_size], y_all[i:i + args.batch_size])
               for i in range(0, n, args.batch_size)]
    for name, model in (("cnn", cnn()), ("mlp", mlp())):
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        start = None
        for step, (x, y) in enumerate(batches):
            if step == args.warmup:
                start = time.perf_counter()
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        elapsed = time.perf_counter() - start
        print(name, args.steps * args.batch_size / elapsed, flush=True)


if __name__ == "__main__":
    main()
