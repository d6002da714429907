"""Writes one bfloat16 case per ONNX operator whose latest schema (onnx.defs of the onnx release
pinned in tools/requirements-onnx.txt) lets a type constraint be tensor(bfloat16), into
DIR/node/<case>_bfloat16/ in ONNX's backend-test layout, as tools/generate_onnx_node_tests_pypi.py
writes the node tests.

Each case is one of ONNX's own node tests (onnx.backend.test.case.node.collect_testcases) of
that operator: the first by name with a single node, at the operator's latest version, whose
float32 or float64 inputs and outputs on bfloat16-capable type constraints become bfloat16
(rounded to nearest even). The expected outputs come from onnx.reference.ReferenceEvaluator on
the bfloat16 model, or, where the reference has no bfloat16 kernel, on the float model with the
rounded inputs, its outputs rounded to bfloat16 once. Operators with no such node test are listed on
stderr with the reason; so are the totals.

Run it with the interpreter of the virtual environment tools/setup.sh makes for that onnx
($CORTADO_ONNX_VENV).
"""
import copy
import os
import sys
import warnings
from types import SimpleNamespace

warnings.simplefilter("ignore")

import ml_dtypes  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnx.helper  # noqa: E402
from onnx import TensorProto, defs, numpy_helper  # noqa: E402
from onnx.backend.test.case.node import collect_testcases  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate_onnx_node_tests_pypi import write_case  # noqa: E402

BF16 = "tensor(bfloat16)"
FLOATS = (TensorProto.FLOAT, TensorProto.DOUBLE)  # the values a case may turn into bfloat16


def latest_schemas():
    """The latest non-deprecated ai.onnx schema of each operator allowing bfloat16, by name."""
    latest = {}
    for s in defs.get_all_schemas_with_history():
        if s.domain in ("", "ai.onnx") and (s.name not in latest or
                                           latest[s.name].since_version < s.since_version):
            latest[s.name] = s
    return {n: s for n, s in latest.items() if not s.deprecated and
            any(BF16 in c.allowed_type_strs for c in s.type_constraints)}


def opset_of(model):
    return max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)


def formals(params, count):
    """The formal parameter of each of `count` actual inputs or outputs (a variadic one
    repeats)."""
    return [params[min(i, len(params) - 1)] for i in range(count)] if params else [None] * count


def tensor_type(value_info):
    """The tensor type of a tensor, or of a sequence's tensors; None for anything else."""
    t = value_info.type
    if t.WhichOneof("value") == "sequence_type":
        t = t.sequence_type.elem_type
    return t.tensor_type if t.WhichOneof("value") == "tensor_type" else None


def convert(case, schema):
    """The bfloat16 model of a single-node float case, with the value names it converted, or a
    reason it cannot be converted. Float32 inputs on a bfloat16-capable type constraint become
    bfloat16, and so do the outputs on the same constraints; outputs whose type an attribute
    gives (a float32 `dtype` or `output_datatype`, Constant's float32 `value`) become bfloat16
    with it."""
    model = case.model
    graph = model.graph
    if len(graph.node) != 1 or graph.node[0].op_type != schema.name or graph.initializer:
        return None, "not a single-node model"
    if any(a.name == "to" for a in graph.node[0].attribute):  # Cast, CastLike, BitCast
        return None, "its output type is the `to` attribute"
    if opset_of(model) < schema.since_version:
        return None, f"opset {opset_of(model)} < {schema.since_version}"
    allows = {c.type_param_str for c in schema.type_constraints if BF16 in c.allowed_type_strs}
    floats = {v.name for v in list(graph.input) + list(graph.output)
              if tensor_type(v) is not None and tensor_type(v).elem_type in FLOATS}
    bf16 = copy.deepcopy(model)
    node = bf16.graph.node[0]
    names, bound = set(), set()
    for name, formal in zip(node.input, formals(schema.inputs, len(node.input))):
        if name in floats and formal.type_str in allows:
            names.add(name)
            bound.add(formal.type_str)
    by_attribute = False
    for name in ("dtype", "output_datatype"):  # an unset one that defaults to float32
        default = schema.attributes[name].default_value if name in schema.attributes else None
        if (default is not None and default.i == TensorProto.FLOAT and
                all(a.name != name for a in node.attribute)):
            node.attribute.append(onnx.helper.make_attribute(name, TensorProto.FLOAT))
    for a in node.attribute:
        if a.name in ("dtype", "output_datatype") and a.i == TensorProto.FLOAT:
            a.i = TensorProto.BFLOAT16
            by_attribute = True
        elif a.type == onnx.AttributeProto.TENSOR and a.t.data_type == TensorProto.FLOAT:
            value = numpy_helper.to_array(a.t).astype(ml_dtypes.bfloat16)
            a.t.CopyFrom(numpy_helper.from_array(value, a.t.name))
            by_attribute = True
    for name, formal in zip(node.output, formals(schema.outputs, len(node.output))):
        if name in floats and (formal.type_str in bound or
                               (by_attribute and formal.type_str in allows)):
            names.add(name)
    if not names:
        return None, "no float32 or float64 value on a bfloat16 type constraint"
    for v in list(bf16.graph.input) + list(bf16.graph.output):
        if v.name in names:
            tensor_type(v).elem_type = TensorProto.BFLOAT16
    return bf16, names


def expected(model, bf16, names, feeds, originals):
    """The reference outputs of the bfloat16 model, else of the float model on rounded inputs
    (`originals`: the float inputs, for their dtypes)."""
    try:
        outs = ReferenceEvaluator(bf16).run(None, feeds)
        out_names = [o.name for o in bf16.graph.output]
        if all(n not in names or all(t.dtype == ml_dtypes.bfloat16 for t in
                                     (o if isinstance(o, list) else [o]))
               for n, o in zip(out_names, outs)):
            return outs, "bfloat16"
    except Exception:  # noqa: BLE001 (any reference failure falls back to float)
        pass
    as_float = {k: v.astype(originals[k].dtype) for k, v in feeds.items()}
    outs = ReferenceEvaluator(model).run(None, as_float)
    out_names = [o.name for o in model.graph.output]
    rounded = [[t.astype(ml_dtypes.bfloat16) for t in o] if isinstance(o, list) else
               o.astype(ml_dtypes.bfloat16) for o in outs]
    return [r if n in names else o for n, o, r in zip(out_names, outs, rounded)], "float"


def build(case, schema):
    """(bfloat16 model, data sets, reference kind) or a reason string."""
    bf16, names = convert(case, schema)
    if bf16 is None:
        return names
    graph = case.model.graph
    data_sets = []
    kind = None
    for inputs, _ in case.data_sets:
        if not all(isinstance(v, (np.ndarray, np.generic)) for v in inputs):
            return "a non-tensor input"
        originals = {info.name: np.asarray(v) for info, v in zip(graph.input, inputs)}
        feeds = {k: v.astype(ml_dtypes.bfloat16) if k in names else v
                 for k, v in originals.items()}
        try:
            outs, kind = expected(case.model, bf16, names, feeds, originals)
        except Exception as e:  # noqa: BLE001
            return f"reference failed: {type(e).__name__}"
        data_sets.append(([feeds[i.name] for i in graph.input], outs))
    return bf16, data_sets, kind


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: generate_bfloat16_tests.py DIR")
    schemas = latest_schemas()
    cases = {}
    for case in sorted(collect_testcases(None), key=lambda c: c.name):
        if case.model is not None and len(case.model.graph.node) == 1:
            cases.setdefault(case.model.graph.node[0].op_type, []).append(case)
    written, kinds, skipped = 0, {}, {}
    for op in sorted(schemas):
        reasons = []
        for case in cases.get(op, []):
            built = build(case, schemas[op])
            if isinstance(built, str):
                reasons.append(built)
                continue
            bf16, data_sets, kind = built
            write_case(SimpleNamespace(model=bf16, data_sets=data_sets),
                       os.path.join(sys.argv[1], "node", case.name + "_bfloat16"))
            written += 1
            kinds[kind] = kinds.get(kind, 0) + 1
            break
        else:
            skipped[op] = reasons[0] if reasons else "no single-node node test"
    for op, reason in skipped.items():
        print(f"no bfloat16 case for {op}: {reason}", file=sys.stderr)
    print(f"{len(schemas)} operators allow bfloat16 (onnx {onnx.__version__}); {written} cases "
          f"written to {sys.argv[1]}/node (reference on {kinds}); {len(skipped)} without a case",
          file=sys.stderr)


if __name__ == "__main__":
    main()
