"""Upgrades the PyTorch 1.13 exports in testdata/onnx (opset 13 to 17) to opsets 18, 21 and 28
with onnx's own version converter (the onnx of tools/requirements-onnx.txt), at the IR version
those opsets need, and writes each with its input and PyTorch's output into
DIR/node/test_<model>_opset<N>/ in ONNX's backend-test layout: models as today's exporters write
them, newer than Debian's libonnx 1.12 knows, with an independent reference output.

    generate_upgraded_fixtures.py TESTDATA_ONNX_DIR DIR
"""
import os
import sys
import warnings

warnings.simplefilter("ignore")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import helper, numpy_helper, version_converter  # noqa: E402

OPSETS = (18, 21, 28)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: generate_upgraded_fixtures.py TESTDATA_ONNX_DIR DIR")
    src, out = sys.argv[1], sys.argv[2]
    count = 0
    for name in sorted(os.listdir(src)):
        model_dir = os.path.join(src, name)
        if not os.path.exists(os.path.join(model_dir, "model.onnx")):
            continue
        model = onnx.load(os.path.join(model_dir, "model.onnx"))
        x = np.load(os.path.join(model_dir, "input.npy"))
        y = np.load(os.path.join(model_dir, "output.npy"))
        for opset in OPSETS:
            upgraded = version_converter.convert_version(model, opset)
            upgraded.ir_version = helper.find_min_ir_version_for(upgraded.opset_import)
            onnx.checker.check_model(upgraded)
            case = os.path.join(out, "node", f"test_{name}_opset{opset}")
            data = os.path.join(case, "test_data_set_0")
            os.makedirs(data, exist_ok=True)
            onnx.save(upgraded, os.path.join(case, "model.onnx"))
            for file, array, info in (("input_0.pb", x, upgraded.graph.input[0]),
                                      ("output_0.pb", y, upgraded.graph.output[0])):
                with open(os.path.join(data, file), "wb") as f:
                    f.write(numpy_helper.from_array(array, info.name).SerializeToString())
            count += 1
    print(f"{count} upgraded fixtures written to {out}/node")


if __name__ == "__main__":
    main()
