"""Writes the node test cases of the onnx release pinned in tools/requirements-onnx.txt (PyPI)
into DIR/node/<case>/ in ONNX's backend-test layout (model.onnx, test_data_set_N/input_I.pb and
output_I.pb), as onnx.backend.test.cmd_tools does for its model cases. The cases come from
onnx.backend.test.case.node.collect_testcases(None), in memory; nothing is downloaded.

Run it with the interpreter of the virtual environment tools/setup.sh makes for that onnx
($CORTADO_ONNX_VENV), not with Debian's python3, whose onnx is 1.12.
"""
import os
import sys
import warnings

warnings.simplefilter("ignore")  # the generators overflow on purpose (casts, log(0))

from onnx import TensorProto, numpy_helper  # noqa: E402
from onnx.backend.test.case.node import collect_testcases  # noqa: E402


def serialize(value, value_info):
    """One input or output as the .pb file ONNX's runners read, by the value's declared kind."""
    kind = value_info.type.WhichOneof("value")
    if kind == "sequence_type":
        return numpy_helper.from_list(value, value_info.name).SerializeToString()
    if kind == "optional_type":
        return numpy_helper.from_optional(value, value_info.name).SerializeToString()
    if kind == "map_type":
        return numpy_helper.from_dict(value, value_info.name).SerializeToString()
    if isinstance(value, TensorProto):
        return value.SerializeToString()
    return numpy_helper.from_array(value, value_info.name).SerializeToString()


def write_case(case, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "model.onnx"), "wb") as f:
        f.write(case.model.SerializeToString())
    graph = case.model.graph
    for i, (inputs, outputs) in enumerate(case.data_sets):
        set_dir = os.path.join(out_dir, f"test_data_set_{i}")
        os.makedirs(set_dir, exist_ok=True)
        for prefix, values, infos in (("input", inputs, graph.input), ("output", outputs, graph.output)):
            for j, value in enumerate(values):
                with open(os.path.join(set_dir, f"{prefix}_{j}.pb"), "wb") as f:
                    f.write(serialize(value, infos[j]))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: generate_onnx_node_tests_pypi.py DIR")
    cases = collect_testcases(None)
    for case in cases:
        write_case(case, os.path.join(sys.argv[1], "node", case.name))
    print(f"{len(cases)} node cases written to {sys.argv[1]}/node")


if __name__ == "__main__":
    main()
