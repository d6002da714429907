#!/usr/bin/env python3
"""Writes testdata/netdef/if_isempty/: a Caffe2 NetDef with If over IsEmpty, as Detectron's
mask head uses it (an empty-mask fill when there are no boxes, the head otherwise), and the
outputs numpy computes for an input with boxes and one without.

Run from the repository root: python3 tools/generate_netdef_if.py
"""
import os

import numpy as np

OUT = os.path.join("testdata", "netdef", "if_isempty")

# z is written before the If and by one branch only: the other yields the outer value.
# y is read after the If (w = y * z).
PREDICT_NET = """name: "if_isempty"
external_input: "x"
external_input: "boxes"
external_output: "y"
external_output: "z"
external_output: "w"
op { type: "Sigmoid" input: "x" output: "z" }
op { type: "IsEmpty" input: "boxes" output: "empty" }
op {
  type: "If" input: "empty" input: "x" input: "z" output: "y" output: "z"
  arg { name: "then_net" n { name: "empty_fill"
    op { type: "Sub" input: "x" input: "x" output: "y" } } }
  arg { name: "else_net" n { name: "head"
    op { type: "Relu" input: "x" output: "t" }
    op { type: "Add" input: "t" input: "x" output: "y" }
    op { type: "Tanh" input: "x" output: "z" } } }
}
op { type: "Mul" input: "y" input: "z" output: "w" }
"""


def expected(x, boxes):
    z = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    if boxes.size == 0:
        y = np.zeros_like(z)
    else:
        y = np.maximum(x, 0) + x.astype(np.float64)
        z = np.tanh(x.astype(np.float64))
    return {"y": y, "z": z, "w": y * z}


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "predict_net.pbtxt"), "w") as f:
        f.write(PREDICT_NET)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3)).astype(np.float32)
    cases = {"boxes": rng.random((4, 5)).astype(np.float32),
             "no_boxes": np.zeros((0, 5), np.float32)}
    np.save(os.path.join(OUT, "x.npy"), x)
    for name, boxes in cases.items():
        np.save(os.path.join(OUT, f"{name}.npy"), boxes)
        for out, value in expected(x, boxes).items():
            np.save(os.path.join(OUT, f"{name}_{out}.npy"), value.astype(np.float32))


if __name__ == "__main__":
    main()
