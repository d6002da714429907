"""Checks cortado's nn modules against torch.nn (PyTorch 1.13).

Reads what torch_compare (C++) wrote into DIR: the models' initial state files (the container of
frontend/nn/serialize.h, parsed here independently), the inputs, and cortado's outputs, losses,
gradients and post-step state. Loads the same weights into the equivalent torch.nn models with
load_state_dict(strict=True) (so the parameter and buffer names must be PyTorch's), runs one
cross-entropy step in train mode and one in eval mode, and compares.

usage: torch_compare.py DIR
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from state_file import read_state  # noqa: E402

FORWARD_TOL = 1e-5  # max abs error of outputs and losses
GRAD_TOL = 1e-4  # max abs error relative to the largest reference gradient element, where
# that is at least GRAD_FLOOR: a gradient that is zero in exact arithmetic (the bias of a
# convolution feeding a train-mode BatchNorm, which subtracts the batch mean) is float noise of
# ~1e-8 on both sides and has no meaningful relative error.
GRAD_FLOOR = 1e-3
failures = []
checks = 0


def check(what, ours, ref, tol, relative=False):
    global checks
    checks += 1
    ours = np.asarray(ours, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if ours.shape != ref.shape:
        failures.append(f'{what}: shape {ours.shape} vs torch {ref.shape}')
        return
    err = float(np.max(np.abs(ours - ref))) if ours.size else 0.0
    scale = max(float(np.max(np.abs(ref))), GRAD_FLOOR) if relative and ref.size else 1.0
    status = 'ok' if err / scale <= tol else 'FAIL'
    print(f'{status:4} {what}: max abs err {err:.3g}' + (f' (rel {err / scale:.3g})' if relative else ''))
    if status != 'ok':
        failures.append(f'{what}: error {err / scale:.3g} > {tol}')


class TextNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 16)
        self.ln = nn.LayerNorm(16)
        self.act = nn.GELU()
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(16, 5)

    def forward(self, tokens):
        return self.fc(self.drop(self.act(self.ln(self.emb(tokens)))).mean(1))


def make_cnn():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, 1, 1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, 1, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(16, 10))


def check_init(tag, model, state):
    """Default initialisation: the bounds torch's own init would use."""
    for mod_name, mod in model.named_modules():
        prefix = mod_name + '.' if mod_name else ''
        if isinstance(mod, (nn.Linear, nn.Conv2d)):
            fan_in, _ = nn.init._calculate_fan_in_and_fan_out(mod.weight)
            bound = 1 / math.sqrt(fan_in)
            for p in ('weight', 'bias'):
                v = state[prefix + p]
                ok = np.all(np.abs(v) <= bound * (1 + 1e-6)) and np.max(np.abs(v)) > 0.5 * bound
                record(f'{tag} init {prefix}{p} within U(-{bound:.4g}, {bound:.4g})', ok)
        elif isinstance(mod, (nn.BatchNorm2d, nn.LayerNorm)):
            ok = np.all(state[prefix + 'weight'] == 1) and np.all(state[prefix + 'bias'] == 0)
            record(f'{tag} init {prefix}weight=1 bias=0', ok)
        elif isinstance(mod, nn.Embedding):
            v = state[prefix + 'weight']
            ok = abs(v.mean()) < 0.2 and 0.85 < v.std() < 1.15
            record(f'{tag} init {prefix}weight ~ N(0, 1) (mean {v.mean():.3f}, std {v.std():.3f})', ok)


def record(what, ok):
    global checks
    checks += 1
    print(f'{"ok" if ok else "FAIL":4} {what}')
    if not ok:
        failures.append(what)


def compare(tag, model, inp, target, d):
    init = read_state(f'{d}/{tag}_init.state')
    check_init(tag, model, init)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in init.items()}, strict=True)
    for mode in ('train', 'eval'):
        model.train(mode == 'train')
        if isinstance(model, TextNet):
            model.drop.eval()
        model.zero_grad(set_to_none=True)
        out = model(inp)
        loss = F.cross_entropy(out, target)
        loss.backward()
        check(f'{tag} {mode} output', np.load(f'{d}/{tag}_{mode}_out.npy'), out.detach().numpy(),
              FORWARD_TOL)
        check(f'{tag} {mode} loss', np.load(f'{d}/{tag}_{mode}_loss.npy'), loss.item(),
              FORWARD_TOL)
        grads = read_state(f'{d}/{tag}_{mode}_grads.state')
        names = [n for n, _ in model.named_parameters()]
        record(f'{tag} {mode} gradient names {list(grads)} == torch order', list(grads) == names)
        for name, p in model.named_parameters():
            check(f'{tag} {mode} grad {name}', grads[name], p.grad.numpy(), GRAD_TOL,
                  relative=True)
        if mode == 'train':
            after = read_state(f'{d}/{tag}_after_train.state')
            torch_state = model.state_dict()
            record(f'{tag} state names after train', list(after) == list(torch_state))
            for name, v in torch_state.items():
                if 'running' in name or 'num_batches' in name:
                    check(f'{tag} after train {name}', after[name], v.numpy(), FORWARD_TOL)


def main():
    d = sys.argv[1]
    torch.set_num_threads(1)
    x = torch.from_numpy(np.load(f'{d}/x.npy'))
    y = torch.from_numpy(np.load(f'{d}/y.npy'))
    tokens = torch.from_numpy(np.load(f'{d}/tokens.npy'))
    ty = torch.from_numpy(np.load(f'{d}/ty.npy'))
    compare('cnn', make_cnn(), x, y, d)
    compare('text', TextNet(), tokens, ty, d)
    print(f'{checks - len(failures)}/{checks} checks passed')
    if failures:
        print('FAILED:\n  ' + '\n  '.join(failures))
        sys.exit(1)


if __name__ == '__main__':
    main()
