// Regression tests for the crashes server/fuzz/onnx_importer_fuzzer found in the ONNX importer:
// each model below is a few hundred bytes and must be refused with a clear error.
#include "predictor/onnx/onnx_importer.h"

#include <initializer_list>
#include <string>

#include "gtest/gtest.h"
#include "onnx/onnx_pb.h"

namespace cortado {
namespace {

void SetFloatTensor(onnx::ValueInfoProto* v, const std::string& name,
                    std::initializer_list<int64_t> dims) {
  v->set_name(name);
  auto* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  onnx::TensorShapeProto* shape = t->mutable_shape();  // rank 0 when `dims` is empty
  for (int64_t d : dims) shape->add_dim()->set_dim_value(d);
}

onnx::ModelProto Model() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  model.mutable_graph()->set_name("g");
  return model;
}

// An initializer that claims 2^39 floats and holds one: refused by counting the values, before
// anything of that size is allocated (the fuzzer found the importer allocating first).
TEST(OnnxImporterTest, ShapeLargerThanItsValuesIsRefusedBeforeAllocating) {
  for (bool raw : {false, true}) {
    onnx::ModelProto model = Model();
    onnx::GraphProto* g = model.mutable_graph();
    onnx::TensorProto* w = g->add_initializer();
    w->set_name("w");
    w->set_data_type(onnx::TensorProto::FLOAT);
    w->add_dims(int64_t{1} << 20);
    w->add_dims(int64_t{1} << 19);
    if (raw) {
      w->set_raw_data(std::string(4, '\0'));
    } else {
      w->add_float_data(1.0f);
    }
    onnx::NodeProto* n = g->add_node();
    n->set_op_type("Identity");
    n->add_input("w");
    n->add_output("y");
    SetFloatTensor(g->add_output(), "y", {int64_t{1} << 20, int64_t{1} << 19});
    auto graph = ImportOnnx(model.SerializeAsString(), "");
    ASSERT_FALSE(graph.ok());
    // InvalidArgument from the count, not ResourceExhausted from a failed allocation.
    EXPECT_EQ(graph.status().code(), absl::StatusCode::kInvalidArgument) << graph.status();
    EXPECT_NE(graph.status().message().find("initializer 'w'"), absl::string_view::npos)
        << graph.status();
  }
}

// A Conv whose input has rank 2 and weight rank 4: libonnx 1.12's shape inference reads past the
// input's dimensions (a segfault found by the fuzzer). Its trial run in a child process crashes,
// and the importer refuses the model without running it in-process.
TEST(OnnxImporterTest, ConvolutionWithMismatchedRanksIsRefused) {
  onnx::ModelProto model = Model();
  onnx::GraphProto* g = model.mutable_graph();
  SetFloatTensor(g->add_input(), "x", {4, 4});
  onnx::TensorProto* k = g->add_initializer();
  k->set_name("k");
  k->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : {2, 1, 3, 3}) k->add_dims(d);
  for (int i = 0; i < 18; ++i) k->add_float_data(1.0f);
  onnx::NodeProto* n = g->add_node();
  n->set_name("conv");
  n->set_op_type("Conv");
  n->add_input("x");
  n->add_input("k");
  n->add_output("y");
  onnx::AttributeProto* pads = n->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  SetFloatTensor(g->add_output(), "y", {});
  auto graph = ImportOnnx(model.SerializeAsString(), "");
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(graph.status().message().find("shape inference (libonnx) crashed (signal"),
            absl::string_view::npos)
      << graph.status();
}

}  // namespace
}  // namespace cortado
