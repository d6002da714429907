"""Writes PyTorch 1.13's trajectories for the optimizer test cases (optim_trajectory_test.cc).

Usage: optim_reference.py OUT_DIR

For every case it runs torch.optim on a small fixed problem and writes OUT_DIR/<case>.npy, shape
[steps, 1 + total parameter elements]: per step the learning rate in use at that step, then every
parameter's elements after it. OUT_DIR/cases.txt lists the cases, one a line, as `name key=value
...`; the C++ test reads it and runs the same problem with cortado's optimizers.

The problem: three parameters (shapes [2,3], [4], [3]); at step t the gradient of element j of
parameter k is float(p - (0.1 j - 0.3) + 0.5 sin(0.37 j + 0.91 t + k)), computed in float64;
parameter 2 gets a gradient only on even steps (odd steps leave its grad undefined).
"""
import math
import os
import sys

import numpy as np
import torch

STEPS = 12
SHAPES = [(2, 3), (4,), (3,)]

CASES = [
    # name, optimizer, options, scheduler
    ("sgd_plain", "sgd", dict(lr=0.1), None),
    ("sgd_momentum", "sgd", dict(lr=0.1, momentum=0.9), None),
    ("sgd_dampening", "sgd", dict(lr=0.1, momentum=0.9, dampening=0.3), None),
    ("sgd_nesterov", "sgd", dict(lr=0.1, momentum=0.9, nesterov=True), None),
    ("sgd_weight_decay", "sgd", dict(lr=0.1, weight_decay=0.05), None),
    ("sgd_momentum_weight_decay", "sgd", dict(lr=0.1, momentum=0.5, dampening=0.1,
                                              weight_decay=0.05), None),
    ("sgd_nesterov_weight_decay_maximize", "sgd", dict(lr=0.05, momentum=0.8, nesterov=True,
                                                       weight_decay=0.02, maximize=True), None),
    ("adam_default", "adam", dict(), None),
    ("adam_lr", "adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6), None),
    ("adam_weight_decay", "adam", dict(lr=0.05, weight_decay=0.1), None),
    ("adam_amsgrad", "adam", dict(lr=0.05, amsgrad=True, betas=(0.85, 0.95)), None),
    ("adam_maximize", "adam", dict(lr=0.02, maximize=True, weight_decay=0.01), None),
    ("adamw_default", "adamw", dict(), None),
    ("adamw_weight_decay", "adamw", dict(lr=0.05, weight_decay=0.3), None),
    ("adamw_amsgrad", "adamw", dict(lr=0.05, weight_decay=0.1, amsgrad=True, eps=1e-6), None),
    ("sgd_steplr", "sgd", dict(lr=0.1, momentum=0.9), ("steplr", dict(step_size=3, gamma=0.5))),
    ("sgd_steplr_default_gamma", "sgd", dict(lr=0.2), ("steplr", dict(step_size=4))),
    ("adam_cosine", "adam", dict(lr=0.05), ("cosine", dict(T_max=5, eta_min=0.001))),
    ("adamw_cosine", "adamw", dict(lr=0.05, weight_decay=0.1), ("cosine", dict(T_max=7))),
    ("sgd_cosine", "sgd", dict(lr=0.1, momentum=0.9, nesterov=True), ("cosine", dict(T_max=4))),
]
# The same problem in float32 (looser tolerance in the C++ test).
CASES += [(name + "_f32", opt, dict(o, dtype="float32"), s) for name, opt, o, s in CASES
          if name in ("sgd_nesterov", "adam_amsgrad", "adamw_weight_decay", "sgd_steplr")]


def initial(k, shape):
    n = int(np.prod(shape))
    return np.array([0.5 * math.sin(1.3 * j + k + 1) for j in range(n)], dtype=np.float64)


def gradient(k, p, t):
    flat = p.detach().to(torch.float64).reshape(-1).numpy()
    g = [flat[j] - (0.1 * j - 0.3) + 0.5 * math.sin(0.37 * j + 0.91 * t + k)
         for j in range(flat.size)]
    return torch.tensor(g, dtype=torch.float64).to(p.dtype).reshape(p.shape)


def run(opt, options, sched):
    options = dict(options)
    dtype = getattr(torch, options.pop("dtype", "float64"))
    params = [torch.tensor(initial(k, s), dtype=dtype).reshape(s).requires_grad_()
              for k, s in enumerate(SHAPES)]
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[opt]
    if opt == "sgd" and "lr" not in options:
        options["lr"] = 0.01
    optimizer = cls(params, **options)
    scheduler = None
    if sched is not None:
        kind, so = sched
        cls = {"steplr": torch.optim.lr_scheduler.StepLR,
               "cosine": torch.optim.lr_scheduler.CosineAnnealingLR}[kind]
        scheduler = cls(optimizer, **so)
    rows = []
    for t in range(STEPS):
        for k, p in enumerate(params):
            p.grad = gradient(k, p, t) if (k != 2 or t % 2 == 0) else None
        lr = optimizer.param_groups[0]["lr"]
        optimizer.step()
        rows.append([lr] + [x for p in params for x in p.detach().to(torch.float64).reshape(-1).tolist()])
        if scheduler is not None:
            scheduler.step()
    return np.array(rows, dtype=np.float64)


def describe(name, opt, options, sched):
    fields = [name, "optimizer=" + opt]
    for key, value in options.items():
        if key == "betas":
            fields += ["beta1=%r" % value[0], "beta2=%r" % value[1]]
        elif isinstance(value, bool):
            fields.append("%s=%d" % (key, value))
        else:
            fields.append("%s=%s" % (key, value if isinstance(value, str) else repr(value)))
    if sched is not None:
        fields.append("scheduler=" + sched[0])
        fields += ["%s=%r" % kv for kv in sched[1].items()]
    return " ".join(fields)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    lines = []
    for name, opt, options, sched in CASES:
        np.save(os.path.join(out, name + ".npy"), run(opt, options, sched))
        lines.append(describe(name, opt, options, sched))
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("optim_reference: wrote %d cases (torch %s) to %s" % (len(CASES), torch.__version__, out))


if __name__ == "__main__":
    main()
