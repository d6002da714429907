"""Writes control-flow and sequence cases that ONNX's own node tests leave out, built with
onnx.helper and checked by onnx's checker, with outputs computed by numpy, into
DIR/node/<case>/ in ONNX's backend-test layout:

- a value read two scopes out (an If inside a Loop body reading a top-level input) beside one
  read one scope out;
- an If whose branch returns an outer value itself (a view of it), with data sets that switch
  branches under one input shape, so the memory plan's arena sees a view it did not record;
- a Loop carrying a sequence, a Loop that runs no iteration, Scan with reversed directions and
  non-zero axes (opset 16) and Scan 8's batched form;
- SplitToSequence with a scalar split, ConcatFromSequence with a new negative axis, and
  SequenceErase/SequenceAt with negative positions.

Runs with Debian's python3 (onnx 1.12, numpy).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(4321)
F = TensorProto.FLOAT
I64 = TensorProto.INT64
B = TensorProto.BOOL


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def scalar(value, dtype):
    return np.array(value, dtype=dtype)


def const(name, array):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(array, name))


def value_info(name, array):
    elem = onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[array.dtype]
    return helper.make_tensor_value_info(name, elem, array.shape)


def write_case(root, name, opset, nodes, inputs, outputs, data_sets):
    """inputs/outputs: (name, example array); data_sets: [(input arrays, output arrays)]."""
    graph = helper.make_graph(nodes, name, [value_info(n, v) for n, v in inputs],
                              [value_info(n, v) for n, v in outputs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="cortado-control-flow")
    onnx.checker.check_model(model, full_check=True)
    case_dir = os.path.join(root, "node", name)
    os.makedirs(case_dir, exist_ok=True)
    onnx.save(model, os.path.join(case_dir, "model.onnx"))
    for k, (ins, outs) in enumerate(data_sets):
        data_dir = os.path.join(case_dir, f"test_data_set_{k}")
        os.makedirs(data_dir, exist_ok=True)
        for prefix, values, infos in (("input", ins, inputs), ("output", outs, outputs)):
            for i, (value, (n, _)) in enumerate(zip(values, infos)):
                with open(os.path.join(data_dir, f"{prefix}_{i}.pb"), "wb") as f:
                    f.write(numpy_helper.from_array(value, n).SerializeToString())


def nested_scopes(root):
    # acc_{i+1} = acc_i + w if i < 2 else acc_i * b_i, b_i = float(i); scan output: acc_{i+1}.
    # `w` is read two scopes out (top level -> Loop body -> If branch), `b` one scope out.
    then_g = helper.make_graph([helper.make_node("Add", ["acc_in", "w"], ["t"])], "then", [],
                               [helper.make_tensor_value_info("t", F, [3])])
    else_g = helper.make_graph([helper.make_node("Mul", ["acc_in", "b"], ["e"])], "else", [],
                               [helper.make_tensor_value_info("e", F, [3])])
    body = helper.make_graph(
        [helper.make_node("Cast", ["i"], ["b"], to=F),
         const("two", scalar(2, np.int64)),
         helper.make_node("Less", ["i", "two"], ["small"]),
         helper.make_node("If", ["small"], ["acc_out"], then_branch=then_g, else_branch=else_g),
         helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Identity", ["acc_out"], ["scan_out"])],
        "body",
        [helper.make_tensor_value_info("i", I64, []), helper.make_tensor_value_info("cond_in", B, []),
         helper.make_tensor_value_info("acc_in", F, [3])],
        [helper.make_tensor_value_info("cond_out", B, []),
         helper.make_tensor_value_info("acc_out", F, [3]),
         helper.make_tensor_value_info("scan_out", F, [3])])
    nodes = [const("m", scalar(4, np.int64)), const("go", scalar(True, np.bool_)),
             helper.make_node("Loop", ["m", "go", "x"], ["acc", "trace"], body=body)]
    x, w = rand(3), rand(3)
    acc, trace = x, []
    for i in range(4):
        acc = (acc + w if i < 2 else acc * np.float32(i)).astype(np.float32)
        trace.append(acc)
    write_case(root, "test_cf_nested_scopes", 13, nodes, [("x", x), ("w", w)],
               [("acc", acc), ("trace", np.stack(trace))], [([x, w], [acc, np.stack(trace)])])


def if_view_of_outer(root):
    # z = If(c) { Identity(r) } else { r + y }, r = Relu(x) a per-run value; out = z - y.
    then_g = helper.make_graph([helper.make_node("Identity", ["r"], ["a"])], "then", [],
                               [helper.make_tensor_value_info("a", F, [2, 3])])
    else_g = helper.make_graph([helper.make_node("Add", ["r", "y"], ["s"])], "else", [],
                               [helper.make_tensor_value_info("s", F, [2, 3])])
    nodes = [helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("If", ["c"], ["z"], then_branch=then_g, else_branch=else_g),
             helper.make_node("Sub", ["z", "y"], ["out"]),
             helper.make_node("Neg", ["out"], ["neg"])]
    sets = []
    for c in (False, True, False, True):
        x, y = rand(2, 3), rand(2, 3)
        r = np.maximum(x, 0)
        z = r if c else r + y
        sets.append(([scalar(c, np.bool_), x, y], [z - y, -(z - y)]))
    ex_in, ex_out = sets[0]
    write_case(root, "test_cf_if_view_of_outer", 13, nodes,
               [("c", ex_in[0]), ("x", ex_in[1]), ("y", ex_in[2])],
               [("out", ex_out[0]), ("neg", ex_out[1])], sets)


def loop_sequence(root):
    # seq = []; for i in range(3): seq.append(x * i); out = stack(seq, axis=-1), len(seq).
    body = helper.make_graph(
        [helper.make_node("Cast", ["i"], ["f"], to=F),
         helper.make_node("Mul", ["x", "f"], ["xi"]),
         helper.make_node("SequenceInsert", ["seq_in", "xi"], ["seq_out"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "body",
        [helper.make_tensor_value_info("i", I64, []), helper.make_tensor_value_info("cond_in", B, []),
         helper.make_tensor_sequence_value_info("seq_in", F, None)],
        [helper.make_tensor_value_info("cond_out", B, []),
         helper.make_tensor_sequence_value_info("seq_out", F, None)])
    nodes = [const("m", scalar(3, np.int64)),
             helper.make_node("SequenceEmpty", [], ["empty"], dtype=F),
             helper.make_node("Loop", ["m", "", "empty"], ["seq"], body=body),
             helper.make_node("ConcatFromSequence", ["seq"], ["stacked"], axis=-1, new_axis=1),
             helper.make_node("SequenceLength", ["seq"], ["n"])]
    x = rand(2, 2)
    stacked = np.stack([x * np.float32(i) for i in range(3)], axis=-1)
    write_case(root, "test_cf_loop_sequence", 13, nodes, [("x", x)],
               [("stacked", stacked), ("n", scalar(3, np.int64))],
               [([x], [stacked, scalar(3, np.int64)])])


def loop_zero_trips(root):
    body = helper.make_graph(
        [helper.make_node("Add", ["v_in", "x"], ["v_out"]),
         helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Identity", ["v_out"], ["scan"])],
        "body",
        [helper.make_tensor_value_info("i", I64, []), helper.make_tensor_value_info("cond_in", B, []),
         helper.make_tensor_value_info("v_in", F, [2])],
        [helper.make_tensor_value_info("cond_out", B, []), helper.make_tensor_value_info("v_out", F, [2]),
         helper.make_tensor_value_info("scan", F, [2])])
    nodes = [helper.make_node("Loop", ["m", "", "v0"], ["v", "scans"], body=body)]
    x, v0 = rand(2), rand(2)
    m = scalar(0, np.int64)
    write_case(root, "test_cf_loop_zero_trips", 13, nodes, [("m", m), ("v0", v0), ("x", x)],
               [("v", v0), ("scans", np.zeros((0, 2), np.float32))],
               [([m, v0, x], [v0, np.zeros((0, 2), np.float32)])])


def scan_reverse_axes(root):
    # Running sums over axis 1 of x, from the end; outputs stacked along axis 1, reversed.
    body = helper.make_graph(
        [helper.make_node("Add", ["s_in", "col"], ["s_out"]),
         helper.make_node("Identity", ["s_out"], ["y"])],
        "body",
        [helper.make_tensor_value_info("s_in", F, [2]), helper.make_tensor_value_info("col", F, [2])],
        [helper.make_tensor_value_info("s_out", F, [2]), helper.make_tensor_value_info("y", F, [2])])
    nodes = [helper.make_node("Scan", ["s0", "x"], ["s", "ys"], body=body, num_scan_inputs=1,
                              scan_input_axes=[1], scan_input_directions=[1],
                              scan_output_axes=[-1], scan_output_directions=[1])]
    s0, x = rand(2), rand(2, 5)
    sums, s = [], s0
    for t in reversed(range(5)):
        s = s + x[:, t]
        sums.append(s)
    ys = np.stack(sums[::-1], axis=1)
    write_case(root, "test_cf_scan_reverse_axes", 16, nodes, [("s0", s0), ("x", x)],
               [("s", s), ("ys", ys)], [([s0, x], [s, ys])])


def scan8_batched(root):
    body = helper.make_graph(
        [helper.make_node("Mul", ["p_in", "v"], ["p_out"]),
         helper.make_node("Identity", ["p_out"], ["y"])],
        "body",
        [helper.make_tensor_value_info("p_in", F, [3]), helper.make_tensor_value_info("v", F, [3])],
        [helper.make_tensor_value_info("p_out", F, [3]), helper.make_tensor_value_info("y", F, [3])])
    nodes = [helper.make_node("Scan", ["", "p0", "x"], ["p", "ys"], body=body, num_scan_inputs=1,
                              directions=[1])]
    p0, x = rand(2, 3), rand(2, 4, 3)
    p_final, ys = [], []
    for b in range(2):
        p, steps = p0[b], []
        for t in reversed(range(4)):
            p = p * x[b, t]
            steps.append(p)
        p_final.append(p)
        ys.append(np.stack(steps))
    p_final, ys = np.stack(p_final), np.stack(ys)
    write_case(root, "test_cf_scan8_batched", 8, nodes, [("p0", p0), ("x", x)],
               [("p", p_final), ("ys", ys)], [([p0, x], [p_final, ys])])


def split_concat_sequence(root):
    nodes = [const("k", scalar(2, np.int64)),
             helper.make_node("SplitToSequence", ["x", "k"], ["seq"], axis=1),
             helper.make_node("SequenceLength", ["seq"], ["n"]),
             helper.make_node("ConcatFromSequence", ["seq"], ["back"], axis=1)]
    x = rand(3, 5)
    write_case(root, "test_cf_split_scalar_concat", 13, nodes, [("x", x)],
               [("n", scalar(3, np.int64)), ("back", x)], [([x], [scalar(3, np.int64), x])])


def erase_at_negative(root):
    nodes = [helper.make_node("SequenceConstruct", ["a", "b", "c"], ["seq"]),
             const("minus2", scalar(-2, np.int64)),
             const("minus1", scalar(-1, np.int64)),
             helper.make_node("SequenceErase", ["seq", "minus2"], ["erased"]),
             helper.make_node("SequenceAt", ["erased", "minus1"], ["last"]),
             helper.make_node("SequenceLength", ["erased"], ["n"])]
    a, b, c = rand(2), rand(2), rand(2)
    write_case(root, "test_cf_sequence_erase_at_negative", 13, nodes, [("a", a), ("b", b), ("c", c)],
               [("last", c), ("n", scalar(2, np.int64))], [([a, b, c], [c, scalar(2, np.int64)])])


def main():
    root = sys.argv[1]
    for make in (nested_scopes, if_view_of_outer, loop_sequence, loop_zero_trips,
                 scan_reverse_axes, scan8_batched, split_concat_sequence, erase_at_negative):
        make(root)


if __name__ == "__main__":
    main()
