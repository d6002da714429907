"""Writes the seed corpora of the importer and config fuzzers (model_config_fuzzer,
onnx_importer_fuzzer, netdef_importer_fuzzer) into server/fuzz/corpus/. Run once by hand with
onnx from PyPI (tools/setup.sh's onnx virtual environment):

    ~/.cache/cortado/onnx-venv/bin/python server/fuzz/make_seeds.py

The NetDef seeds are the real Caffe2 nets in testdata/netdef (crayon whole; LeNet's predict_net
with its 2 MB of weights replaced by XavierFill of the same shapes) and one small text pair.
"""
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.path.join(ROOT, "server", "fuzz", "corpus")


def write(target, name, data):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def onnx_seeds():
    f = TensorProto.FLOAT
    w = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(4, 3), "w")
    b = numpy_helper.from_array(np.zeros(3, np.float32), "b")
    mlp = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w", "b"], ["h"]),
         helper.make_node("Relu", ["h"], ["r"]),
         helper.make_node("Softmax", ["r"], ["y"], axis=1)],
        "mlp", [helper.make_tensor_value_info("x", f, ["N", 4])],
        [helper.make_tensor_value_info("y", f, ["N", 3])], [w, b])
    write("onnx_importer_fuzzer", "mlp_opset13",
          helper.make_model(mlp, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString())
    # Newer than Debian's libonnx 1.12 knows: cortado's own schemas.
    write("onnx_importer_fuzzer", "mlp_opset21_ir10",
          helper.make_model(mlp, opset_imports=[helper.make_opsetid("", 21)],
                            ir_version=10).SerializeToString())
    k = numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "k")
    conv = helper.make_graph(
        [helper.make_node("Conv", ["x", "k"], ["c"], pads=[1, 1, 1, 1], strides=[1, 1]),
         helper.make_node("MaxPool", ["c"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
         helper.make_node("Reshape", ["p", "shape"], ["y"])],
        "conv", [helper.make_tensor_value_info("x", f, [1, 1, 4, 4])],
        [helper.make_tensor_value_info("y", f, [1, 8])],
        [k, numpy_helper.from_array(np.array([1, 8], np.int64), "shape")])
    write("onnx_importer_fuzzer", "conv_pool",
          helper.make_model(conv, opset_imports=[helper.make_opsetid("", 11)]).SerializeToString())
    # Control flow: subgraphs as attributes.
    then_g = helper.make_graph([helper.make_node("Neg", ["x"], ["t"])], "then", [],
                               [helper.make_tensor_value_info("t", f, [2])])
    else_g = helper.make_graph([helper.make_node("Abs", ["x"], ["e"])], "else", [],
                               [helper.make_tensor_value_info("e", f, [2])])
    cond = helper.make_graph(
        [helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g)],
        "if", [helper.make_tensor_value_info("c", TensorProto.BOOL, []),
               helper.make_tensor_value_info("x", f, [2])],
        [helper.make_tensor_value_info("y", f, [2])])
    write("onnx_importer_fuzzer", "if_subgraphs",
          helper.make_model(cond, opset_imports=[helper.make_opsetid("", 16)]).SerializeToString())
    # Initializers of several types, one of them in an external file (absent here).
    ext = TensorProto(name="e", data_type=f, dims=[2], data_location=TensorProto.EXTERNAL)
    ext.external_data.add(key="location", value="weights.bin")
    ext.external_data.add(key="offset", value="0")
    ext.external_data.add(key="length", value="8")
    inits = [numpy_helper.from_array(np.array([1, 2], np.int32), "i"),
             numpy_helper.from_array(np.array([1.5, 2.5], np.float16), "h"),
             numpy_helper.from_array(np.array([True, False]), "t"),
             helper.make_tensor("s", TensorProto.STRING, [2], [b"a", b"bc"]), ext]
    types = helper.make_graph(
        [helper.make_node("Cast", ["i"], ["ci"], to=f),
         helper.make_node("Cast", ["h"], ["ch"], to=f),
         helper.make_node("Add", ["ci", "ch"], ["a"]),
         helper.make_node("Add", ["a", "e"], ["y"])],
        "types", [], [helper.make_tensor_value_info("y", f, [2])], inits)
    write("onnx_importer_fuzzer", "typed_initializers",
          helper.make_model(types, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString())


def netdef_pair(init, predict):
    return struct.pack("<H", len(init)) + init + predict


def netdef_seeds():
    with tempfile.TemporaryDirectory() as gen:
        subprocess.run(["protoc", "--python_out=" + gen, "-I" + os.path.join(ROOT, "proto"),
                        "caffe2.proto"], check=True)
        sys.path.insert(0, gen)
        import caffe2_pb2  # noqa: E402
    nd = os.path.join(ROOT, "testdata", "netdef")
    read = lambda *p: open(os.path.join(nd, *p), "rb").read()  # noqa: E731
    write("netdef_importer_fuzzer", "crayon",
          netdef_pair(read("crayon", "init_net.pb"), read("crayon", "predict_net.pb")))
    lenet = caffe2_pb2.NetDef()
    lenet.ParseFromString(read("lenet", "init_net.pb"))
    small = caffe2_pb2.NetDef(name=lenet.name)
    for op in lenet.op:
        shape = next(a for a in op.arg if a.name == "shape")
        fill = small.op.add(type="XavierFill", output=op.output)
        fill.arg.add().CopyFrom(shape)
    write("netdef_importer_fuzzer", "lenet_xavier",
          netdef_pair(small.SerializeToString(), read("lenet", "predict_net.pb")))
    init = """name: "init"
op { output: "w" type: "GivenTensorFill"
     arg { name: "shape" ints: 3 ints: 2 } arg { name: "values" floats: [1, 2, 3, 4, 5, 6] } }
op { output: "b" type: "ConstantFill" arg { name: "shape" ints: 3 } arg { name: "value" f: 0.5 } }
op { output: "x" type: "ConstantFill" arg { name: "shape" ints: 1 } }
"""
    predict = """name: "fc"
external_input: "x" external_input: "w" external_input: "b" external_output: "y"
op { input: "x" input: "w" input: "b" output: "h" type: "FC" }
op { input: "h" output: "h" type: "Relu" }
op { input: "h" output: "y" type: "Softmax" arg { name: "axis" i: 1 } }
"""
    write("netdef_importer_fuzzer", "fc_text", netdef_pair(init.encode(), predict.encode()))


def config_seeds():
    with open(os.path.join(ROOT, "config", "repository", "example_mlp", "config.pbtxt")) as f:
        write("model_config_fuzzer", "example_mlp", f.read())
    write("model_config_fuzzer", "everything", """name: "m"
platform: "onnxruntime_onnx"
max_batch_size: 8
default_model_filename: "net.onnx"
input [ { name: "x" data_type: TYPE_FP32 dims: [ 4 ] },
        { name: "mask" data_type: TYPE_INT64 dims: [ -1 ] reshape: { shape: [ 2, 2 ] } } ]
output [ { name: "y" data_type: TYPE_FP32 dims: [ 3 ] label_filename: "labels.txt" },
         { name: "z" data_type: TYPE_STRING dims: [ 1 ] } ]
version_policy: { specific: { versions: [ 1, 3 ] } }
instance_group [ { count: 3 kind: KIND_CPU }, { count: 1 kind: KIND_GPU gpus: [ 0 ] } ]
dynamic_batching {
  preferred_batch_size: [ 4, 8 ]
  max_queue_delay_microseconds: 100
  preserve_ordering: true
  priority_levels: 2
  default_priority_level: 1
  default_queue_policy { timeout_action: REJECT default_timeout_microseconds: 1000
                         allow_timeout_override: true max_queue_size: 16 }
  priority_queue_policy { key: 1 value { timeout_action: DELAY max_queue_size: 4 } }
}
parameters { key: "k" value: { string_value: "v" } }
""")
    write("model_config_fuzzer", "netdef_no_batch", """platform: "caffe2_netdef"
max_batch_size: 0
input [ { name: "x" data_type: TYPE_FP32 dims: [ -1, 4 ] } ]
version_policy: { all: {} }
""")


if __name__ == "__main__":
    onnx_seeds()
    netdef_seeds()
    config_seeds()
