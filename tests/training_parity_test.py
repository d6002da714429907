"""Replays tests/training_parity.cc's training in PyTorch 1.13 and compares, step by step.

training_parity (C++) trained two models with the eager frontend (an MLP with Adam, a CNN with
BatchNorm, Nesterov SGD with weight decay and StepLR) for 20 steps on the first 20 batches of 32
Fashion-MNIST training images, once in float32 (DIR32) and once, from the same initial values, in
float64 (DIR64, training_parity --float64). It wrote the initial and final state, every step's
loss and learning rate, and the final models' classes for the first 1000 test images.

This script reads Fashion-MNIST's gz IDX files itself (numpy; torchvision's ToTensor + Normalize
with mean 0.2860, std 0.3530, in float32 as the frontend does), loads each initial state into the
same torch.nn model with load_state_dict(strict=True), trains the same steps with torch.optim in
float64 and in float32, and checks against PyTorch's float64 trajectory:
  - every step's loss: relative error < LOSS_TOL (float32) / LOSS_TOL64 (float64);
  - every step's learning rate (the schedule);
  - the final parameters and BatchNorm running statistics, per tensor: max abs error relative to
    the largest absolute reference value < STATE_TOL (float32) / STATE_TOL64 (float64);
    num_batches_tracked exactly;
  - the float32 run's accuracy on the first 1000 test images: within ACC_TOL of PyTorch's float32
    model's (the float64 run's state check leaves no room for a difference there).

Why PyTorch's float64 trajectory is the reference for our float32 one: over 20 steps of this
CNN (whose loss first jumps to 4.4 at lr 0.05) PyTorch's own float32 run ends ~1.7e-3 away from its
float64 run, while ours ends ~8e-5 away; compared with each other the two float32 runs mostly
measure PyTorch's rounding. Both figures are printed for every tensor ("torch f32" is PyTorch's
float32 run against its float64 run). The float64 run is the sharp check: ours follows PyTorch's
to ~1e-11, and e.g. a weight decay 10 % off, which the float32 tolerances let through, fails it
by four orders of magnitude.

usage: training_parity_test.py DIR32 DIR64 FASHION_MNIST_DIR
"""
import gzip
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'frontend', 'nn'))
from state_file import read_state  # noqa: E402

STEPS = 20
BATCH = 32
TEST_IMAGES = 1000
MEAN, STD = 0.2860, 0.3530
LOSS_TOL, LOSS_TOL64 = 1e-4, 1e-9
STATE_TOL, STATE_TOL64 = 1e-3, 1e-8
ACC_TOL = 0.002
failures = []
checks = 0


def record(what, ok):
    global checks
    checks += 1
    print(f'{"ok" if ok else "FAIL":4} {what}')
    if not ok:
        failures.append(what)


def read_idx(path):
    """A gzip'd IDX file: big-endian 0x0000, type 0x08 (uint8), rank, rank uint32 dims, data."""
    with gzip.open(path, 'rb') as f:
        data = f.read()
    zero, dtype, rank = struct.unpack_from('>HBB', data, 0)
    assert zero == 0 and dtype == 0x08, f'{path}: not a uint8 IDX file'
    dims = struct.unpack_from(f'>{rank}I', data, 4)
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def normalize(images):
    x = images.astype(np.float32) / np.float32(255)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return x.reshape(-1, 1, 28, 28)


def make_mlp():
    return nn.Sequential(
        nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 10))


def make_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, 1, 1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, 1, 1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def adam(params):
    return torch.optim.Adam(params, lr=1e-3), None


def nesterov_sgd(params):
    opt = torch.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)
    return opt, torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)


MODELS = {'mlp': (make_mlp, adam), 'cnn': (make_cnn, nesterov_sgd)}


class Run:
    """One training run's results: losses, learning rates, final state, test predictions."""

    def __init__(self, losses, lrs, state, pred):
        self.losses, self.lrs, self.state, self.pred = losses, lrs, state, pred

    @staticmethod
    def load(d, tag):
        return Run(np.load(f'{d}/{tag}_losses.npy'), np.load(f'{d}/{tag}_lrs.npy'),
                   read_state(f'{d}/{tag}_final.state'), np.load(f'{d}/{tag}_test_pred.npy'))


def train_torch(tag, init, dtype, data, evaluate):
    """PyTorch's run of model `tag` from state `init`, in `dtype`; with the test predictions
    when `evaluate`."""
    make_model, make_optimizer = MODELS[tag]
    model = make_model().to(dtype)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in init.items()}, strict=True)
    optimizer, scheduler = make_optimizer(model.parameters())
    train_x, train_y, test_x = data['train_x'], data['train_y'], data['test_x']
    model.train()
    losses, lrs = [], []
    for step in range(STEPS):
        x = torch.from_numpy(train_x[step * BATCH:(step + 1) * BATCH]).to(dtype)
        y = torch.from_numpy(train_y[step * BATCH:(step + 1) * BATCH])
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        lrs.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
    pred = None
    if evaluate:
        model.eval()
        with torch.no_grad():
            pred = model(torch.from_numpy(test_x).to(dtype)).argmax(1).numpy()
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    return Run(np.array(losses), np.array(lrs), state, pred)


def state_error(a, b):
    """Max abs error of a against reference b, relative to b's largest absolute value."""
    err = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
    scale = float(np.max(np.abs(b)))
    return err, err / scale if scale > 0 else err


def compare(label, ours, ref, ref32, loss_tol, state_tol, test_y):
    """Checks run `ours` against PyTorch's float64 run `ref`. With `ref32` (PyTorch's float32
    run), prints its errors beside ours for scale and compares the test accuracy with it."""
    rel = np.abs(ours.losses - ref.losses) / np.abs(ref.losses)
    rel32 = None if ref32 is None else np.abs(ref32.losses - ref.losses) / np.abs(ref.losses)
    for step in range(STEPS):
        extra = f'  (torch f32 {rel32[step]:.2e})' if ref32 is not None else ''
        print(f'     {label} step {step:2d} loss {ours.losses[step]:.7f} torch f64 '
              f'{ref.losses[step]:.7f} rel err {rel[step]:.2e}{extra}')
    worst = int(np.argmax(rel))
    extra = f'; torch f32: {np.max(rel32):.3g}' if ref32 is not None else ''
    record(f'{label} losses of {STEPS} steps: max rel err {rel[worst]:.3g} (step {worst}) < '
           f'{loss_tol}{extra}', rel[worst] < loss_tol)
    record(f'{label} learning rates {ours.lrs[0]:g} .. {ours.lrs[-1]:g} == torch\'s',
           np.allclose(ours.lrs, ref.lrs, rtol=1e-12, atol=0))

    record(f'{label} final state names == torch\'s', list(ours.state) == list(ref.state))
    worst_rel, worst_name = 0.0, ''
    for name, v in ref.state.items():
        mine = ours.state.get(name)
        if mine is None or mine.shape != v.shape:
            record(f'{label} final {name}: present with shape {v.shape}', False)
            continue
        if 'num_batches_tracked' in name:
            record(f'{label} final {name} {mine} == {v}', np.array_equal(mine, v))
            continue
        err, rel = state_error(mine, v)
        extra = ''
        if ref32 is not None:
            extra = f'; torch f32: {state_error(ref32.state[name], v)[1]:.3g}'
        record(f'{label} final {name}: max abs err {err:.3g}, relative to max |value| '
               f'{float(np.max(np.abs(v))):.3g}: {rel:.3g} < {state_tol}{extra}', rel < state_tol)
        if rel > worst_rel:
            worst_rel, worst_name = rel, name
    print(f'     {label} worst final-state error: {worst_rel:.3g} ({worst_name})')

    if ref32 is not None:
        ours_acc = float(np.mean(ours.pred == test_y))
        ref_acc = float(np.mean(ref32.pred == test_y))
        agree = int(np.sum(ours.pred == ref32.pred))
        record(f'{label} test accuracy on {TEST_IMAGES} images: {ours_acc:.3f}, torch f32 '
               f'{ref_acc:.3f} (same class for {agree}/{TEST_IMAGES})',
               abs(ours_acc - ref_acc) <= ACC_TOL + 1e-9)


def main():
    d32, d64, data_dir = sys.argv[1:4]
    torch.set_num_threads(1)
    n = STEPS * BATCH
    data = {
        'train_x': normalize(read_idx(f'{data_dir}/train-images-idx3-ubyte.gz')[:n]),
        'train_y': read_idx(f'{data_dir}/train-labels-idx1-ubyte.gz')[:n].astype(np.int64),
        'test_x': normalize(read_idx(f'{data_dir}/t10k-images-idx3-ubyte.gz')[:TEST_IMAGES]),
    }
    test_y = read_idx(f'{data_dir}/t10k-labels-idx1-ubyte.gz')[:TEST_IMAGES].astype(np.int64)

    batch0 = np.load(f'{d32}/batch0_x.npy')
    ok = batch0.shape == (BATCH, 1, 28, 28)
    err = float(np.max(np.abs(batch0 - data['train_x'][:BATCH]))) if ok else float('nan')
    record(f'data: first batch {batch0.shape} as numpy normalizes it (max abs err {err:.3g})',
           ok and err <= 1e-6)
    record(f'data: labels of the {STEPS} batches as the IDX file has them',
           np.array_equal(np.load(f'{d32}/targets.npy'), data['train_y'].reshape(STEPS, BATCH)))

    for tag in MODELS:
        init = read_state(f'{d32}/{tag}_init.state')
        init64 = read_state(f'{d64}/{tag}_init.state')
        record(f'{tag} float64 initial state == float32 one, converted',
               list(init) == list(init64) and all(
                   np.array_equal(init[k].astype(init64[k].dtype), init64[k]) for k in init))
        ref = train_torch(tag, init64, torch.float64, data, evaluate=False)
        ref32 = train_torch(tag, init, torch.float32, data, evaluate=True)
        compare(f'{tag} f32', Run.load(d32, tag), ref, ref32, LOSS_TOL, STATE_TOL, test_y)
        compare(f'{tag} f64', Run.load(d64, tag), ref, None, LOSS_TOL64, STATE_TOL64, test_y)

    print(f'{checks - len(failures)}/{checks} checks passed')
    if failures:
        print('FAILED:\n  ' + '\n  '.join(failures))
        sys.exit(1)


if __name__ == '__main__':
    main()
