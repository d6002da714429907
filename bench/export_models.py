"""Exports the models of bench/model_bench with Debian's PyTorch 1.13 and torchvision 0.14: random
weights (torch.manual_seed(0), weights=None; BatchNorm statistics calibrated on random images, see
calibrate_batchnorm), eval mode, ONNX opset 17 with a dynamic batch
dimension, input `input` and output `output`. Each model goes to <model_dir>/<name>/model.onnx
with an input.npy of batch 8 (float32, standard normal, seeded) beside it; the benchmark takes
its first B rows for batch B. Models already there are skipped.

    /usr/bin/python3 bench/export_models.py [--model_dir DIR] [--models a,b] [--force]
"""
import argparse
import os
import sys
import warnings

import numpy as np
import torch
from torch import nn

BATCH = 8
IMAGE = (3, 224, 224)


class LstmOutput(nn.Module):
    """A 2-layer LSTM returning its output sequence only (not the final states)."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(128, 256, num_layers=2, batch_first=True)

    def forward(self, x):
        return self.lstm(x)[0]


def transformer():
    def layer():
        return nn.TransformerEncoderLayer(d_model=256, nhead=4, dim_feedforward=1024,
                                          batch_first=True)
    encoder = nn.TransformerEncoder(layer(), num_layers=4, enable_nested_tensor=False)
    # TransformerEncoder deep-copies one layer; give each layer weights of its own.
    encoder.layers = nn.ModuleList([layer() for _ in range(4)])
    return encoder


def mlp():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                         nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def vision(name, **kwargs):
    def build():
        import torchvision
        return getattr(torchvision.models, name)(weights=None, **kwargs)
    return build


# name -> (constructor, input shape without the batch dimension). The order is the table's.
MODELS = {
    "resnet18": (vision("resnet18"), IMAGE),
    "resnet50": (vision("resnet50"), IMAGE),
    "mobilenet_v2": (vision("mobilenet_v2"), IMAGE),
    "squeezenet1_1": (vision("squeezenet1_1"), IMAGE),
    "shufflenet_v2": (vision("shufflenet_v2_x1_0"), IMAGE),
    "googlenet": (vision("googlenet", aux_logits=False, init_weights=True), IMAGE),
    "densenet121": (vision("densenet121"), IMAGE),
    "efficientnet_b0": (vision("efficientnet_b0"), IMAGE),
    "mnasnet1_0": (vision("mnasnet1_0"), IMAGE),
    "regnet_y_400mf": (vision("regnet_y_400mf"), IMAGE),
    "alexnet": (vision("alexnet"), IMAGE),
    "transformer": (transformer, (64, 256)),
    "lstm": (LstmOutput, (32, 128)),
    "mlp": (mlp, (784,)),
}


def calibrate_batchnorm(model, shape):
    """Sets every BatchNorm's running statistics to those of random inputs (two train-mode
    passes, cumulative average). With torchvision's initial statistics (mean 0, variance 1) the
    activations of several random-weight nets shrink layer by layer until the output is ~1e-9 to
    1e-14 and no longer depends on the input (mobilenet_v2, efficientnet_b0, mnasnet1_0,
    googlenet, shufflenet_v2), which makes the accuracy check vacuous and may time denormals."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn((16,) + shape, generator=generator))
    for m in norms:
        m.momentum = 0.1
    model.eval()


def default_model_dir():
    return os.path.join(os.path.expanduser("~"), ".cache", "cortado", "bench-models")


def export(name, folder):
    constructor, shape = MODELS[name]
    torch.manual_seed(0)
    model = constructor().eval()
    calibrate_batchnorm(model, shape)
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((BATCH,) + shape,
                                                                  dtype=np.float32))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, "model.onnx.tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), tmp, opset_version=17, input_names=["input"],
                          output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    np.save(os.path.join(folder, "input.npy"), x.numpy())
    os.replace(tmp, os.path.join(folder, "model.onnx"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_dir", default=default_model_dir())
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--force", action="store_true", help="export again models already there")
    args = parser.parse_args()
    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        sys.exit(f"export_models: unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    failed = []
    for name in names:
        folder = os.path.join(args.model_dir, name)
        if not args.force and os.path.exists(os.path.join(folder, "model.onnx")) and \
                os.path.exists(os.path.join(folder, "input.npy")):
            continue
        print(f"export_models: exporting {name} to {folder}", file=sys.stderr, flush=True)
        try:
            export(name, folder)
        except Exception as e:  # one model failing to export leaves the others
            print(f"export_models: {name} failed: {e}", file=sys.stderr, flush=True)
            failed.append(name)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
