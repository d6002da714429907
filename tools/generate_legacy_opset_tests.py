"""Writes small models of the ONNX opsets 1-6 semantics that later opsets dropped (the binary
ops' broadcast/axis, consumed_inputs, BatchNormalization's is_test and spatial, Gemm-6's
broadcast, PRelu-6's per-channel slope, Pow-6, Reshape-1's shape attribute, Concat-1's default
axis), built with onnx.helper and checked by onnx's own
checker, with outputs computed by numpy, into DIR/node/<case>/ in ONNX's backend-test layout.
ONNX's own node tests have none of these (its oldest cases are at opset 7).

Runs with Debian's python3 (onnx 1.12, numpy), whose opset 1-6 schemas the checker applies.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(1234)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def write_case(root, name, opset, node, inputs, outputs):
    """inputs/outputs: lists of (name, array). One node, float32 values."""
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, a.shape) for n, a in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, a.shape) for n, a in outputs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="cortado-legacy-opsets")
    onnx.checker.check_model(model)
    case_dir = os.path.join(root, "node", name)
    data_dir = os.path.join(case_dir, "test_data_set_0")
    os.makedirs(data_dir, exist_ok=True)
    onnx.save(model, os.path.join(case_dir, "model.onnx"))
    for prefix, values in (("input", inputs), ("output", outputs)):
        for i, (n, a) in enumerate(values):
            with open(os.path.join(data_dir, f"{prefix}_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(a, n).SerializeToString())


def binary_cases(root):
    a, b_mid, b_last, b_same = rand(2, 3, 4, 5), rand(3, 4), rand(5), rand(2, 3, 4, 5)
    yield ("test_legacy_add_broadcast_axis_opset6", 6,
           helper.make_node("Add", ["A", "B"], ["C"], broadcast=1, axis=1),
           [("A", a), ("B", b_mid)], [("C", a + b_mid[None, :, :, None])])
    yield ("test_legacy_mul_broadcast_trailing_opset6", 6,
           helper.make_node("Mul", ["A", "B"], ["C"], broadcast=1),
           [("A", a), ("B", b_last)], [("C", a * b_last)])
    yield ("test_legacy_sub_consumed_inputs_opset1", 1,
           helper.make_node("Sub", ["A", "B"], ["C"], consumed_inputs=[0, 0]),
           [("A", a), ("B", b_same)], [("C", a - b_same)])
    b_first = rand(2, 3) + 3.0
    yield ("test_legacy_div_broadcast_axis0_opset1", 1,
           helper.make_node("Div", ["A", "B"], ["C"], broadcast=1, axis=0,
                            consumed_inputs=[0, 0]),
           [("A", a), ("B", b_first)], [("C", a / b_first[:, :, None, None])])
    base, exponent = np.abs(rand(2, 3, 4)) + 0.5, rand(4)
    yield ("test_legacy_pow_broadcast_opset6", 6,
           helper.make_node("Pow", ["X", "Y"], ["Z"], broadcast=1),
           [("X", base), ("Y", exponent)], [("Z", np.power(base, exponent))])
    yield ("test_legacy_sum_consumed_inputs_opset1", 1,
           helper.make_node("Sum", ["A", "B"], ["S"], consumed_inputs=[0, 0]),
           [("A", a), ("B", b_same)], [("S", a + b_same)])


def batch_norm(x, scale, bias, mean, var, eps, stat_shape):
    shape = (1,) + stat_shape + (1,) * (x.ndim - 1 - len(stat_shape))
    r = lambda p: p.reshape(shape)  # noqa: E731
    return ((x - r(mean)) / np.sqrt(r(var) + eps) * r(scale) + r(bias)).astype(np.float32)


def norm_cases(root):
    x = rand(2, 3, 4, 5)
    for opset, attrs, suffix in ((6, {"is_test": 1}, "is_test_opset6"),
                                 (1, {"is_test": 1, "consumed_inputs": [0, 0, 0, 1, 1]},
                                  "consumed_inputs_opset1")):
        scale, bias, mean = rand(3), rand(3), rand(3)
        var = np.abs(rand(3)) + 0.5
        yield (f"test_legacy_batchnorm_{suffix}", opset,
               helper.make_node("BatchNormalization", ["X", "scale", "B", "mean", "var"], ["Y"],
                                epsilon=1e-3, **attrs),
               [("X", x), ("scale", scale), ("B", bias), ("mean", mean), ("var", var)],
               [("Y", batch_norm(x, scale, bias, mean, var, 1e-3, (3,)))])
    # spatial=0: one statistic per element of X.shape[1:].
    scale, bias, mean = rand(3, 4, 5), rand(3, 4, 5), rand(3, 4, 5)
    var = np.abs(rand(3, 4, 5)) + 0.5
    yield ("test_legacy_batchnorm_spatial0_opset6", 6,
           helper.make_node("BatchNormalization", ["X", "scale", "B", "mean", "var"], ["Y"],
                            is_test=1, spatial=0),
           [("X", x), ("scale", scale), ("B", bias), ("mean", mean), ("var", var)],
           [("Y", batch_norm(x, scale, bias, mean, var, 1e-5, (3, 4, 5)))])


def other_cases(root):
    a, b = rand(3, 4), rand(4, 5)
    c_row, c_full = rand(5), rand(3, 5)
    yield ("test_legacy_gemm_broadcast_opset6", 6,
           helper.make_node("Gemm", ["A", "B", "C"], ["Y"], alpha=0.5, beta=2.0, broadcast=1),
           [("A", a), ("B", b), ("C", c_row)], [("Y", 0.5 * a @ b + 2.0 * c_row)])
    yield ("test_legacy_gemm_transposed_opset1", 1,
           helper.make_node("Gemm", ["A", "B", "C"], ["Y"], transA=1, broadcast=0),
           [("A", a.T.copy()), ("B", b), ("C", c_full)], [("Y", a @ b + c_full)])
    x, slope = rand(2, 3, 4, 5), rand(3)
    yield ("test_legacy_prelu_per_channel_opset6", 6,
           helper.make_node("PRelu", ["X", "slope"], ["Y"]),
           [("X", x), ("slope", slope)],
           [("Y", np.where(x < 0, x * slope[None, :, None, None], x))])
    yield ("test_legacy_prelu_consumed_inputs_opset1", 1,
           helper.make_node("PRelu", ["X", "slope"], ["Y"], consumed_inputs=[0, 0]),
           [("X", x), ("slope", slope)],
           [("Y", np.where(x < 0, x * slope[None, :, None, None], x))])
    yield ("test_legacy_relu_consumed_inputs_opset1", 1,
           helper.make_node("Relu", ["X"], ["Y"], consumed_inputs=[0]),
           [("X", x)], [("Y", np.maximum(x, 0))])
    yield ("test_legacy_leakyrelu_consumed_inputs_opset1", 1,
           helper.make_node("LeakyRelu", ["X"], ["Y"], alpha=0.1, consumed_inputs=[0]),
           [("X", x)], [("Y", np.where(x < 0, 0.1 * x, x).astype(np.float32))])
    yield ("test_legacy_reshape_shape_attribute_opset4", 4,
           helper.make_node("Reshape", ["X"], ["Y"], shape=[0, -1, 5]),
           [("X", x)], [("Y", x.reshape(2, 12, 5))])
    parts = [rand(2, 1, 4), rand(2, 3, 4)]
    yield ("test_legacy_concat_default_axis_opset3", 3,
           helper.make_node("Concat", ["A", "B"], ["C"]),
           [("A", parts[0]), ("B", parts[1])], [("C", np.concatenate(parts, axis=1))])
    yield ("test_legacy_dropout_is_test_opset6", 6,
           helper.make_node("Dropout", ["X"], ["Y"], is_test=1, ratio=0.3),
           [("X", x)], [("Y", x)])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: generate_legacy_opset_tests.py DIR")
    count = 0
    for cases in (binary_cases, norm_cases, other_cases):
        for name, opset, node, inputs, outputs in cases(sys.argv[1]):
            write_case(sys.argv[1], name, opset, node, inputs, outputs)
            count += 1
    print(f"{count} legacy opset cases written to {sys.argv[1]}/node")


if __name__ == "__main__":
    main()
