"""Exports small models with today's PyTorch (tools/requirements-torch.txt) through its default
exporter (torch.onnx.export, the dynamo-based one since PyTorch 2.9) and writes each, with inputs
and PyTorch's own outputs, into DIR/node/test_torch_<model>/ in ONNX's backend-test layout, for
tests/onnx_conformance (tests/torch_export_test): a CNN, a transformer encoder with a causal and a
key-padding attention mask, an LSTM, and a model with data-dependent control flow (torch.cond,
exported as If; one data set per branch). Seeded: the same models and data every run.

    generate_torch_exports.py DIR
"""
import logging
import os
import sys
import warnings

warnings.simplefilter("ignore")

import onnx  # noqa: E402
import torch  # noqa: E402
from onnx import numpy_helper  # noqa: E402

logging.getLogger("torch").setLevel(logging.ERROR)
for _name in list(logging.root.manager.loggerDict):
    if _name.startswith("torch"):
        logging.getLogger(_name).setLevel(logging.ERROR)


class Cnn(torch.nn.Module):
    """Conv-BN-ReLU blocks with a residual add, max pooling, global pooling and a classifier."""

    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1),
                                        torch.nn.BatchNorm2d(8), torch.nn.ReLU())
        self.block = torch.nn.Sequential(torch.nn.Conv2d(8, 8, 3, padding=1, groups=2),
                                         torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                                         torch.nn.Conv2d(8, 8, 1))
        self.pool = torch.nn.MaxPool2d(2)
        self.head = torch.nn.Linear(8, 5)

    def forward(self, x):
        y = self.stem(x)
        y = self.pool(torch.relu(y + self.block(y)))
        return torch.softmax(self.head(y.mean(dim=(2, 3))), dim=-1)


class Encoder(torch.nn.Module):
    """Two transformer encoder layers under a causal mask and a key-padding mask."""

    def __init__(self):
        super().__init__()
        layer = torch.nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32,
                                                 dropout=0.0, batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)

    def forward(self, x, padding_mask):
        causal = torch.nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        return self.encoder(x, mask=causal, src_key_padding_mask=padding_mask, is_causal=True)


class Lstm(torch.nn.Module):
    """A two-layer LSTM over a batch of sequences and a linear layer on its last state."""

    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(input_size=6, hidden_size=12, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(12, 3)

    def forward(self, x):
        out, (h, _) = self.lstm(x)
        return out, self.head(h[-1])


class Cond(torch.nn.Module):
    """Data-dependent control flow: which branch runs depends on the input's values."""

    def __init__(self):
        super().__init__()
        self.up = torch.nn.Linear(4, 4)
        self.down = torch.nn.Linear(4, 4)

    def forward(self, x):
        return torch.cond(x.sum() > 0, lambda t: torch.relu(self.up(t)) * 2,
                          lambda t: torch.tanh(self.down(t)) - 1, (x,))


def models():
    """(name, module, [data sets: tuple of inputs])."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 5, 16, generator=g)
    padding = torch.tensor([[False] * 5, [False, False, False, True, True]])
    positive = torch.randn(3, 4, generator=g).abs()
    return [
        ("cnn", Cnn(), [(torch.randn(2, 3, 16, 16, generator=g),)]),
        ("transformer_encoder", Encoder(), [(x, padding)]),
        ("lstm", Lstm(), [(torch.randn(2, 7, 6, generator=g),)]),
        ("cond", Cond(), [(positive,), (-positive,)]),
    ]


def write_case(out, name, model, data_sets):
    case = os.path.join(out, "node", f"test_torch_{name}")
    os.makedirs(case, exist_ok=True)
    path = os.path.join(case, "model.onnx")
    torch.onnx.export(model, data_sets[0], path, verbose=False)
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    inputs = [i.name for i in proto.graph.input]
    outputs = [o.name for o in proto.graph.output]
    for k, args in enumerate(data_sets):
        with torch.no_grad():
            result = model(*args)
        result = result if isinstance(result, tuple) else (result,)
        data = os.path.join(case, f"test_data_set_{k}")
        os.makedirs(data, exist_ok=True)
        for prefix, names, arrays in (("input", inputs, args), ("output", outputs, result)):
            for i, (n, a) in enumerate(zip(names, arrays)):
                tensor = numpy_helper.from_array(a.numpy(), n)
                with open(os.path.join(data, f"{prefix}_{i}.pb"), "wb") as f:
                    f.write(tensor.SerializeToString())
    opsets = {o.domain or "ai.onnx": o.version for o in proto.opset_import}
    ops = sorted({n.op_type for n in proto.graph.node})
    print(f"torch_{name}: IR {proto.ir_version}, opsets {opsets}, {len(data_sets)} data set(s), "
          f"ops {' '.join(ops)}")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: generate_torch_exports.py DIR")
    torch.manual_seed(0)
    print(f"PyTorch {torch.__version__}, onnx {onnx.__version__}")
    for name, model, data_sets in models():
        write_case(sys.argv[1], name, model.eval(), data_sets)


if __name__ == "__main__":
    main()
