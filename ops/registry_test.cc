#include "ops/registry.h"

#include <set>
#include <tuple>

#include "gtest/gtest.h"

namespace cortado {
namespace {

// The operators PyTorch's exporter emits for CNNs, MLPs and transformer encoders.
const char* const kRequiredOps[] = {
    "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "Tanh", "Erf", "Exp",
    "Log", "Sqrt", "Pow", "Abs", "Neg", "Reciprocal", "Floor", "Ceil", "Clip", "Softplus", "Add",
    "Sub", "Mul", "Div", "Min", "Max", "Sum", "Mean", "Equal", "Less", "Greater", "Where", "And",
    "Or", "Not", "MatMul", "Gemm", "Conv", "ConvTranspose", "MaxPool", "AveragePool",
    "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization", "LayerNormalization",
    "InstanceNormalization", "Softmax", "LogSoftmax", "Reshape", "Flatten", "Transpose", "Squeeze",
    "Unsqueeze", "Concat", "Split", "Slice", "Gather", "Pad", "Cast", "Shape", "Constant",
    "ConstantOfShape", "Identity", "Dropout", "Expand", "Tile", "Range", "ReduceMean", "ReduceSum",
    "ReduceMax", "ReduceMin", "ReduceProd", "ArgMax", "ArgMin", "Resize"};

TEST(RegistryTest, EveryRequiredOpHasASchemaAndACpuKernelAtOpset17And13) {
  const OpRegistry& reg = OpRegistry::Global();
  for (const std::string op : kRequiredOps) {
    for (int opset : {13, 17}) {
      if (op == "LayerNormalization" && opset < 17) continue;  // new in opset 17
      EXPECT_NE(reg.FindSchema("", op, opset), nullptr) << op << " opset " << opset;
      EXPECT_NE(reg.FindKernel(kCpuBackend, "", op, opset, DType::kUndefined), nullptr)
          << op << " opset " << opset;
    }
  }
}

TEST(RegistryTest, EverySchemaHasACpuKernelAndNoDuplicates) {
  std::set<std::tuple<std::string, std::string, int>> seen;
  for (const OpSchema* s : OpRegistry::Global().Schemas()) {
    for (int v = s->since(); v <= s->until(); ++v) {
      EXPECT_TRUE(seen.insert({s->domain(), s->op_type(), v}).second)
          << s->domain() << " " << s->op_type() << " opset " << v << " has two schemas";
    }
    if (s->RunsSubgraphs()) continue;  // predictor/control_flow.h builds those kernels
    EXPECT_NE(OpRegistry::Global().FindKernel(kCpuBackend, s->domain(), s->op_type(), s->until(),
                                              DType::kUndefined),
              nullptr)
        << s->op_type();
  }
}

TEST(RegistryTest, CompleteFillsDefaultsAndChecksKinds) {
  OpSchema schema("Test");
  schema.Inputs(1, 1).Attr("alpha", 0.5f).RequiredAttr("axes", AttrType::kInts);
  AttributeMap attrs;
  EXPECT_FALSE(schema.Complete(1, 1, attrs).ok());  // axes missing
  attrs.Set("axes", std::vector<int64_t>{1});
  ASSERT_TRUE(schema.Complete(1, 1, attrs).ok());
  EXPECT_EQ(attrs.GetFloat("alpha"), 0.5f);
  attrs.Set("alpha", std::string("x"));
  auto st = schema.Complete(1, 1, attrs);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("alpha"), std::string::npos);
  EXPECT_FALSE(schema.Complete(2, 1, attrs).ok());
}

}  // namespace
}  // namespace cortado
