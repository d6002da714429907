"""Checks the ONNX files trace_export_tool wrote: onnx's checker (full check, opset 17) and
ONNX Runtime's outputs against the eager frontend's (max abs error 1e-5)."""
import glob
import os
import sys
import warnings

import numpy as np

# onnx 1.12 with numpy >= 1.24 needs the removed aliases back before import.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for alias, value in (("float", float), ("int", int), ("bool", bool), ("object", object)):
        if not hasattr(np, alias):
            setattr(np, alias, value)

import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402


def main(folder):
    paths = sorted(glob.glob(os.path.join(folder, "*.onnx")))
    if len(paths) != 3:
        sys.exit("expected 3 models in %s, found %s" % (folder, paths))
    for path in paths:
        name = os.path.basename(path)[: -len(".onnx")]
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        opsets = {o.domain: o.version for o in model.opset_import}
        assert opsets.get("", opsets.get("ai.onnx")) == 17, (name, opsets)
        assert model.graph.input[0].name == "input", name
        assert model.graph.output[0].name == "output", name
        dim0 = model.graph.input[0].type.tensor_type.shape.dim[0]
        assert not dim0.HasField("dim_value"), (name, "batch dimension must be dynamic")
        x = np.load(os.path.join(folder, name + "_input.npy"))
        expected = np.load(os.path.join(folder, name + "_output.npy"))
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        (got,) = session.run(["output"], {"input": x})
        assert got.shape == expected.shape, (name, got.shape, expected.shape)
        err = float(np.max(np.abs(got - expected)))
        print("%s: onnx checker ok, onnxruntime %s max abs error %.3g (batch %d)"
              % (name, ort.__version__, err, x.shape[0]))
        assert err <= 1e-5, (name, err)
    print("ok: %d models" % len(paths))


if __name__ == "__main__":
    main(sys.argv[1])
