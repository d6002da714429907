// Tests of the tensor family (ops/tensor.cc, ops/gather.cc, ops/resize.cc): tables of
// cases run through the registry with RunOp, which also checks the inferred output types against
// the computed ones (successful cases use the shared runner of op_test_table.h). Expected values
// were computed with numpy 1.24 and ONNX 1.12's reference implementations
// (onnx/backend/test/case/node/*.py) and pasted here; fail cases (bad shapes, dtypes,
// attributes, indices) must fail with the given status code, naming the op.
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "ops/op_test_table.h"
#include "ops/op_test_util.h"

namespace cortado {
namespace {

using Ints = std::vector<int64_t>;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

template <typename T>
Tensor Make(Shape shape, const std::vector<T>& values) {
  EXPECT_EQ(static_cast<int64_t>(values.size()), NumElements(shape)) << ShapeToString(shape);
  return Tensor::FromVector<T>(values, std::move(shape));
}
Tensor F32(Shape s, std::vector<float> v) { return Make<float>(std::move(s), v); }
Tensor F64(Shape s, std::vector<double> v) { return Make<double>(std::move(s), v); }
Tensor I8(Shape s, std::vector<int8_t> v) { return Make<int8_t>(std::move(s), v); }
Tensor I16(Shape s, std::vector<int16_t> v) { return Make<int16_t>(std::move(s), v); }
Tensor I32(Shape s, std::vector<int32_t> v) { return Make<int32_t>(std::move(s), v); }
Tensor I64(Shape s, std::vector<int64_t> v) { return Make<int64_t>(std::move(s), v); }
Tensor U8(Shape s, std::vector<uint8_t> v) { return Make<uint8_t>(std::move(s), v); }
Tensor Bool(Shape s, std::vector<bool> v) { return Make<bool>(std::move(s), v); }
Tensor Str(Shape s, std::vector<std::string> v) { return Make<std::string>(std::move(s), v); }
Tensor F16(Shape s, std::vector<float> v) {
  std::vector<Half> h;
  for (float f : v) h.push_back(Half(f));
  return Make<Half>(std::move(s), h);
}
Tensor BF16Bits(Shape s, std::vector<uint16_t> bits) {
  std::vector<BFloat16> b(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) b[i].bits = bits[i];
  return Make<BFloat16>(std::move(s), b);
}

// A case that must fail. Unlike op_test_table.h's BadCase it names the opset (the tensor ops
// changed across opsets: attributes that became inputs, Resize-10, Upsample-7...) and the
// expected status code.
struct FailCase {
  std::string name;
  std::string op;
  int opset;
  AttributeMap attrs;
  std::vector<Tensor> inputs;  // an undefined Tensor is an absent optional input
  int num_outputs;
  absl::StatusCode code = absl::StatusCode::kInvalidArgument;
};

void RunFailCases(const std::vector<FailCase>& cases) {
  for (const FailCase& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::vector<Tensor>> out =
        RunOp({c.op, c.opset, c.attrs, c.inputs, c.num_outputs});
    ASSERT_FALSE(out.ok()) << c.name << " should fail";
    EXPECT_EQ(out.status().code(), c.code) << out.status();
    EXPECT_NE(out.status().message().find(c.op), std::string::npos) << out.status();
  }
}

// Case tables: inputs and expected outputs from numpy / ONNX reference computations.
// clang-format off
std::vector<OpCase> TensorCases() {
  std::vector<OpCase> c;
  c.push_back({"Reshape/zero_copies_and_minus_one", "Reshape", 13, Attrs({}),
              {F32({2, 3, 4}, {1.691f, -0.466f, 0.033f, 0.408f, -0.789f, 0.002f, -0.001f, -1.755f,
               1.018f, 0.6f, -0.625f, -0.172f, 0.505f, -0.261f, -0.243f, -1.453f, 0.555f, 0.124f,
               0.274f, -1.527f, 1.651f, 0.154f, -0.387f, 2.029f}), I64({2}, {0, -1})},
              {F32({2, 12}, {1.691f, -0.466f, 0.033f, 0.408f, -0.789f, 0.002f, -0.001f, -1.755f,
               1.018f, 0.6f, -0.625f, -0.172f, 0.505f, -0.261f, -0.243f, -1.453f, 0.555f, 0.124f,
               0.274f, -1.527f, 1.651f, 0.154f, -0.387f, 2.029f})}, 1e-5, 1e-6});
  c.push_back({"Reshape/allowzero", "Reshape", 14, Attrs({{"allowzero", int64_t{1}}}),
              {F32({0, 3}, {}), I64({2}, {3, 0})},
              {F32({3, 0}, {})}, 1e-5, 1e-6});
  c.push_back({"Reshape/strings", "Reshape", 5, Attrs({}),
              {Str({4}, {"a", "b", "c", "d"}), I64({2}, {2, 2})},
              {Str({2, 2}, {"a", "b", "c", "d"})}, 1e-5, 1e-6});
  c.push_back({"Flatten/axis0", "Flatten", 13, Attrs({{"axis", int64_t{0}}}),
              {F32({2, 3, 4}, {1.691f, -0.466f, 0.033f, 0.408f, -0.789f, 0.002f, -0.001f, -1.755f,
               1.018f, 0.6f, -0.625f, -0.172f, 0.505f, -0.261f, -0.243f, -1.453f, 0.555f, 0.124f,
               0.274f, -1.527f, 1.651f, 0.154f, -0.387f, 2.029f})},
              {F32({1, 24}, {1.691f, -0.466f, 0.033f, 0.408f, -0.789f, 0.002f, -0.001f, -1.755f,
               1.018f, 0.6f, -0.625f, -0.172f, 0.505f, -0.261f, -0.243f, -1.453f, 0.555f, 0.124f,
               0.274f, -1.527f, 1.651f, 0.154f, -0.387f, 2.029f})}, 1e-5, 1e-6});
  c.push_back({"Flatten/axis_minus1_int8", "Flatten", 11, Attrs({{"axis", int64_t{-1}}}),
              {I8({2, 3, 4}, {1, 0, 0, 0, 0, 0, 0, -1, 1, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, -1, 1, 0,
               0, 2})},
              {I8({6, 4}, {1, 0, 0, 0, 0, 0, 0, -1, 1, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, -1, 1, 0, 0,
               2})}, 1e-5, 1e-6});
  c.push_back({"Squeeze/attr_opset11", "Squeeze", 11, Attrs({{"axes", Ints{0}}}),
              {F32({1, 3, 1, 2}, {-0.045f, -1.451f, -0.405f, -2.288f, 1.049f, -0.416f})},
              {F32({3, 1, 2}, {-0.045f, -1.451f, -0.405f, -2.288f, 1.049f, -0.416f})}, 1e-5, 1e-6});
  c.push_back({"Squeeze/all_ones", "Squeeze", 13, Attrs({}),
              {F32({1, 3, 1, 2}, {-0.045f, -1.451f, -0.405f, -2.288f, 1.049f, -0.416f})},
              {F32({3, 2}, {-0.045f, -1.451f, -0.405f, -2.288f, 1.049f, -0.416f})}, 1e-5, 1e-6});
  c.push_back({"Squeeze/input_axes", "Squeeze", 13, Attrs({}),
              {F32({1, 3, 1, 2}, {-0.045f, -1.451f, -0.405f, -2.288f, 1.049f, -0.416f}), I64({2},
               {-2, 0})},
              {F32({3, 2}, {-0.045f, -1.451f, -0.405f, -2.288f, 1.049f, -0.416f})}, 1e-5, 1e-6});
  c.push_back({"Unsqueeze/attr_opset11", "Unsqueeze", 11, Attrs({{"axes", Ints{0, -1}}}),
              {F32({1, 3, 1, 2}, {-0.045f, -1.451f, -0.405f, -2.288f, 1.049f, -0.416f})},
              {F32({1, 1, 3, 1, 2, 1}, {-0.045f, -1.451f, -0.405f, -2.288f, 1.049f, -0.416f})},
               1e-5, 1e-6});
  c.push_back({"Unsqueeze/scalar", "Unsqueeze", 13, Attrs({}),
              {F32({}, {3.5f}), I64({1}, {0})},
              {F32({1}, {3.5f})}, 1e-5, 1e-6});
  c.push_back({"Identity/bool", "Identity", 13, Attrs({}),
              {Bool({2}, {true, false})},
              {Bool({2}, {true, false})}, 1e-5, 1e-6});
  c.push_back({"Transpose/default_reverses", "Transpose", 13, Attrs({}),
              {F32({2, 3, 2, 2}, {-0.743f, 1.072f, -1.651f, 0.535f, -2.064f, -0.662f, -1.204f,
               1.462f, 1.766f, -0.329f, 0.841f, -0.18f, 0.568f, -0.753f, -1.708f, -1.803f, 0.383f,
               2.248f, 0.269f, -0.525f, 1.912f, 0.237f, 0.101f, 0.253f})},
              {F32({2, 2, 3, 2}, {-0.743f, 0.568f, -2.064f, 0.383f, 1.766f, 1.912f, -1.651f,
               -1.708f, -1.204f, 0.269f, 0.841f, 0.101f, 1.072f, -0.753f, -0.662f, 2.248f,
               -0.329f, 0.237f, 0.535f, -1.803f, 1.462f, -0.525f, -0.18f, 0.253f})}, 1e-5, 1e-6});
  c.push_back({"Transpose/perm_float16", "Transpose", 13, Attrs({{"perm", Ints{1, 3, 0, 2}}}),
              {F16({2, 3, 2, 2}, {-0.74316406f, 1.0722656f, -1.6513672f, 0.53515625f, -2.0644531f,
               -0.6621094f, -1.2041016f, 1.4619141f, 1.765625f, -0.32910156f, 0.8408203f,
               -0.18005371f, 0.5678711f, -0.7529297f, -1.7080078f, -1.8027344f, 0.38305664f,
               2.2480469f, 0.26904297f, -0.52490234f, 1.9121094f, 0.23706055f, 0.10101318f,
               0.2529297f})},
              {F16({3, 2, 2, 2}, {-0.74316406f, -1.6513672f, 0.5678711f, -1.7080078f, 1.0722656f,
               0.53515625f, -0.7529297f, -1.8027344f, -2.0644531f, -1.2041016f, 0.38305664f,
               0.26904297f, -0.6621094f, 1.4619141f, 2.2480469f, -0.52490234f, 1.765625f,
               0.8408203f, 1.9121094f, 0.10101318f, -0.32910156f, -0.18005371f, 0.23706055f,
               0.2529297f})}, 1e-5, 1e-6});
  c.push_back({"Transpose/strings", "Transpose", 13, Attrs({}),
              {Str({2, 3}, {"a", "bb", "ccc", "d", "e", "f"})},
              {Str({3, 2}, {"a", "d", "bb", "e", "ccc", "f"})}, 1e-5, 1e-6});
  c.push_back({"Expand/bidirectional", "Expand", 13, Attrs({}),
              {F32({3, 1}, {-0.132f, -0.309f, -1.435f}), I64({3}, {2, 1, 4})},
              {F32({2, 3, 4}, {-0.132f, -0.132f, -0.132f, -0.132f, -0.309f, -0.309f, -0.309f,
               -0.309f, -1.435f, -1.435f, -1.435f, -1.435f, -0.132f, -0.132f, -0.132f, -0.132f,
               -0.309f, -0.309f, -0.309f, -0.309f, -1.435f, -1.435f, -1.435f, -1.435f})}, 1e-5,
               1e-6});
  c.push_back({"Expand/int32_scalar", "Expand", 8, Attrs({}),
              {I32({}, {7}), I64({2}, {2, 2})},
              {I32({2, 2}, {7, 7, 7, 7})}, 1e-5, 1e-6});
  c.push_back({"Tile/int64", "Tile", 13, Attrs({}),
              {I64({2, 3}, {0, 1, 2, 3, 4, 5}), I64({2}, {2, 3})},
              {I64({4, 9}, {0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 3, 4, 5, 0, 1, 2, 0, 1,
               2, 0, 1, 2, 3, 4, 5, 3, 4, 5, 3, 4, 5})}, 1e-5, 1e-6});
  c.push_back({"Tile/zero_repeat", "Tile", 13, Attrs({}),
              {I64({2, 3}, {0, 1, 2, 3, 4, 5}), I64({2}, {0, 1})},
              {I64({0, 3}, {})}, 1e-5, 1e-6});
  c.push_back({"DepthToSpace/DCR", "DepthToSpace", 13, Attrs({{"blocksize", int64_t{2}}}),
              {F32({1, 8, 2, 2}, {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f,
               10.0f, 11.0f, 12.0f, 13.0f, 14.0f, 15.0f, 16.0f, 17.0f, 18.0f, 19.0f, 20.0f, 21.0f,
               22.0f, 23.0f, 24.0f, 25.0f, 26.0f, 27.0f, 28.0f, 29.0f, 30.0f, 31.0f})},
              {F32({1, 2, 4, 4}, {0.0f, 8.0f, 1.0f, 9.0f, 16.0f, 24.0f, 17.0f, 25.0f, 2.0f, 10.0f,
               3.0f, 11.0f, 18.0f, 26.0f, 19.0f, 27.0f, 4.0f, 12.0f, 5.0f, 13.0f, 20.0f, 28.0f,
               21.0f, 29.0f, 6.0f, 14.0f, 7.0f, 15.0f, 22.0f, 30.0f, 23.0f, 31.0f})}, 1e-5, 1e-6});
  c.push_back({"DepthToSpace/CRD", "DepthToSpace", 13, Attrs({{"blocksize", int64_t{2}}, {"mode",
   std::string("CRD")}}),
              {F32({1, 8, 2, 2}, {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f,
               10.0f, 11.0f, 12.0f, 13.0f, 14.0f, 15.0f, 16.0f, 17.0f, 18.0f, 19.0f, 20.0f, 21.0f,
               22.0f, 23.0f, 24.0f, 25.0f, 26.0f, 27.0f, 28.0f, 29.0f, 30.0f, 31.0f})},
              {F32({1, 2, 4, 4}, {0.0f, 4.0f, 1.0f, 5.0f, 8.0f, 12.0f, 9.0f, 13.0f, 2.0f, 6.0f,
               3.0f, 7.0f, 10.0f, 14.0f, 11.0f, 15.0f, 16.0f, 20.0f, 17.0f, 21.0f, 24.0f, 28.0f,
               25.0f, 29.0f, 18.0f, 22.0f, 19.0f, 23.0f, 26.0f, 30.0f, 27.0f, 31.0f})}, 1e-5,
               1e-6});
  c.push_back({"SpaceToDepth/int32", "SpaceToDepth", 13, Attrs({{"blocksize", int64_t{2}}}),
              {I32({1, 2, 4, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
               18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31})},
              {I32({1, 8, 2, 2}, {0, 2, 8, 10, 16, 18, 24, 26, 1, 3, 9, 11, 17, 19, 25, 27, 4, 6,
               12, 14, 20, 22, 28, 30, 5, 7, 13, 15, 21, 23, 29, 31})}, 1e-5, 1e-6});
  c.push_back({"Slice/opset9_attrs", "Slice", 9, Attrs({{"starts", Ints{1, -4}}, {"ends", Ints{3,
   -1}}, {"axes", Ints{0, 2}}}),
              {F32({3, 4, 5}, {0.502f, -0.095f, 1.193f, -0.369f, -1.906f, -0.1f, 1.7f, -0.383f,
               -0.89f, -1.194f, -1.05f, -0.3f, -1.18f, 1.498f, -0.283f, 0.109f, 1.438f, 1.503f,
               -0.213f, 0.332f, 0.735f, -0.193f, -1.778f, 0.655f, 0.894f, 0.416f, -0.924f,
               -0.196f, -0.591f, -0.3f, 1.297f, 1.53f, 0.669f, 0.549f, 0.677f, -0.012f, -0.076f,
               -0.674f, -0.056f, 2.26f, 0.869f, -0.342f, -0.472f, -0.864f, 0.374f, 0.392f,
               -1.443f, 0.486f, -0.569f, 1.427f, 0.157f, 1.718f, -0.458f, -0.288f, 0.3f, 1.056f,
               0.566f, -1.234f, 0.183f, 0.022f})},
              {F32({2, 4, 3}, {-0.193f, -1.778f, 0.655f, -0.924f, -0.196f, -0.591f, 1.53f, 0.669f,
               0.549f, -0.076f, -0.674f, -0.056f, -0.342f, -0.472f, -0.864f, -1.443f, 0.486f,
               -0.569f, 1.718f, -0.458f, -0.288f, 0.566f, -1.234f, 0.183f})}, 1e-5, 1e-6});
  c.push_back({"Slice/opset1_default_axes", "Slice", 1, Attrs({{"starts", Ints{1, 0}}, {"ends",
   Ints{1000, 2}}}),
              {F32({3, 4, 5}, {0.502f, -0.095f, 1.193f, -0.369f, -1.906f, -0.1f, 1.7f, -0.383f,
               -0.89f, -1.194f, -1.05f, -0.3f, -1.18f, 1.498f, -0.283f, 0.109f, 1.438f, 1.503f,
               -0.213f, 0.332f, 0.735f, -0.193f, -1.778f, 0.655f, 0.894f, 0.416f, -0.924f,
               -0.196f, -0.591f, -0.3f, 1.297f, 1.53f, 0.669f, 0.549f, 0.677f, -0.012f, -0.076f,
               -0.674f, -0.056f, 2.26f, 0.869f, -0.342f, -0.472f, -0.864f, 0.374f, 0.392f,
               -1.443f, 0.486f, -0.569f, 1.427f, 0.157f, 1.718f, -0.458f, -0.288f, 0.3f, 1.056f,
               0.566f, -1.234f, 0.183f, 0.022f})},
              {F32({2, 2, 5}, {0.735f, -0.193f, -1.778f, 0.655f, 0.894f, 0.416f, -0.924f, -0.196f,
               -0.591f, -0.3f, 0.869f, -0.342f, -0.472f, -0.864f, 0.374f, 0.392f, -1.443f, 0.486f,
               -0.569f, 1.427f})}, 1e-5, 1e-6});
  c.push_back({"Slice/negative_steps", "Slice", 13, Attrs({}),
              {F32({3, 4, 5}, {0.502f, -0.095f, 1.193f, -0.369f, -1.906f, -0.1f, 1.7f, -0.383f,
               -0.89f, -1.194f, -1.05f, -0.3f, -1.18f, 1.498f, -0.283f, 0.109f, 1.438f, 1.503f,
               -0.213f, 0.332f, 0.735f, -0.193f, -1.778f, 0.655f, 0.894f, 0.416f, -0.924f,
               -0.196f, -0.591f, -0.3f, 1.297f, 1.53f, 0.669f, 0.549f, 0.677f, -0.012f, -0.076f,
               -0.674f, -0.056f, 2.26f, 0.869f, -0.342f, -0.472f, -0.864f, 0.374f, 0.392f,
               -1.443f, 0.486f, -0.569f, 1.427f, 0.157f, 1.718f, -0.458f, -0.288f, 0.3f, 1.056f,
               0.566f, -1.234f, 0.183f, 0.022f}), I64({2}, {-1, 4}), I64({2}, {kInt64Min, 0}),
               I64({2}, {0, 2}), I64({2}, {-2, -3})},
              {F32({2, 4, 2}, {0.374f, -0.342f, 1.427f, -1.443f, 0.3f, 1.718f, 0.022f, 0.566f,
               -1.906f, -0.095f, -1.194f, 1.7f, -0.283f, -0.3f, 0.332f, 1.438f})}, 1e-5, 1e-6});
  c.push_back({"Slice/int64_max_end_int32_inputs", "Slice", 13, Attrs({}),
              {F32({3, 4, 5}, {0.502f, -0.095f, 1.193f, -0.369f, -1.906f, -0.1f, 1.7f, -0.383f,
               -0.89f, -1.194f, -1.05f, -0.3f, -1.18f, 1.498f, -0.283f, 0.109f, 1.438f, 1.503f,
               -0.213f, 0.332f, 0.735f, -0.193f, -1.778f, 0.655f, 0.894f, 0.416f, -0.924f,
               -0.196f, -0.591f, -0.3f, 1.297f, 1.53f, 0.669f, 0.549f, 0.677f, -0.012f, -0.076f,
               -0.674f, -0.056f, 2.26f, 0.869f, -0.342f, -0.472f, -0.864f, 0.374f, 0.392f,
               -1.443f, 0.486f, -0.569f, 1.427f, 0.157f, 1.718f, -0.458f, -0.288f, 0.3f, 1.056f,
               0.566f, -1.234f, 0.183f, 0.022f}), I32({1}, {2}), I32({1}, {2147483647}), I32({1},
               {1})},
              {F32({3, 2, 5}, {-1.05f, -0.3f, -1.18f, 1.498f, -0.283f, 0.109f, 1.438f, 1.503f,
               -0.213f, 0.332f, 1.297f, 1.53f, 0.669f, 0.549f, 0.677f, -0.012f, -0.076f, -0.674f,
               -0.056f, 2.26f, 0.157f, 1.718f, -0.458f, -0.288f, 0.3f, 1.056f, 0.566f, -1.234f,
               0.183f, 0.022f})}, 1e-5, 1e-6});
  c.push_back({"Slice/empty_when_start_after_end", "Slice", 13, Attrs({}),
              {F32({3, 4, 5}, {0.502f, -0.095f, 1.193f, -0.369f, -1.906f, -0.1f, 1.7f, -0.383f,
               -0.89f, -1.194f, -1.05f, -0.3f, -1.18f, 1.498f, -0.283f, 0.109f, 1.438f, 1.503f,
               -0.213f, 0.332f, 0.735f, -0.193f, -1.778f, 0.655f, 0.894f, 0.416f, -0.924f,
               -0.196f, -0.591f, -0.3f, 1.297f, 1.53f, 0.669f, 0.549f, 0.677f, -0.012f, -0.076f,
               -0.674f, -0.056f, 2.26f, 0.869f, -0.342f, -0.472f, -0.864f, 0.374f, 0.392f,
               -1.443f, 0.486f, -0.569f, 1.427f, 0.157f, 1.718f, -0.458f, -0.288f, 0.3f, 1.056f,
               0.566f, -1.234f, 0.183f, 0.022f}), I64({1}, {3}), I64({1}, {1}), I64({1}, {1})},
              {F32({3, 0, 5}, {})}, 1e-5, 1e-6});
  c.push_back({"Slice/neg_step_clamps_start", "Slice", 10, Attrs({}),
              {F32({3, 4, 5}, {0.502f, -0.095f, 1.193f, -0.369f, -1.906f, -0.1f, 1.7f, -0.383f,
               -0.89f, -1.194f, -1.05f, -0.3f, -1.18f, 1.498f, -0.283f, 0.109f, 1.438f, 1.503f,
               -0.213f, 0.332f, 0.735f, -0.193f, -1.778f, 0.655f, 0.894f, 0.416f, -0.924f,
               -0.196f, -0.591f, -0.3f, 1.297f, 1.53f, 0.669f, 0.549f, 0.677f, -0.012f, -0.076f,
               -0.674f, -0.056f, 2.26f, 0.869f, -0.342f, -0.472f, -0.864f, 0.374f, 0.392f,
               -1.443f, 0.486f, -0.569f, 1.427f, 0.157f, 1.718f, -0.458f, -0.288f, 0.3f, 1.056f,
               0.566f, -1.234f, 0.183f, 0.022f}), I64({1}, {100}), I64({1}, {-100}), I64({1},
               {2}), I64({1}, {-1})},
              {F32({3, 4, 5}, {-1.906f, -0.369f, 1.193f, -0.095f, 0.502f, -1.194f, -0.89f,
               -0.383f, 1.7f, -0.1f, -0.283f, 1.498f, -1.18f, -0.3f, -1.05f, 0.332f, -0.213f,
               1.503f, 1.438f, 0.109f, 0.894f, 0.655f, -1.778f, -0.193f, 0.735f, -0.3f, -0.591f,
               -0.196f, -0.924f, 0.416f, 0.677f, 0.549f, 0.669f, 1.53f, 1.297f, 2.26f, -0.056f,
               -0.674f, -0.076f, -0.012f, 0.374f, -0.864f, -0.472f, -0.342f, 0.869f, 1.427f,
               -0.569f, 0.486f, -1.443f, 0.392f, 0.3f, -0.288f, -0.458f, 1.718f, 0.157f, 0.022f,
               0.183f, -1.234f, 0.566f, 1.056f})}, 1e-5, 1e-6});
  c.push_back({"Slice/strings", "Slice", 13, Attrs({}),
              {Str({2, 3}, {"a", "bb", "ccc", "d", "e", "f"}), I64({1}, {1}), I64({1}, {3}),
               I64({1}, {1})},
              {Str({2, 2}, {"bb", "ccc", "e", "f"})}, 1e-5, 1e-6});
  c.push_back({"Pad/opset2_attrs_reflect", "Pad", 2, Attrs({{"pads", Ints{1, 2, 2, 3}}, {"mode",
   std::string("reflect")}}),
              {F32({3, 4}, {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f})},
              {F32({6, 9}, {6.0f, 5.0f, 4.0f, 5.0f, 6.0f, 7.0f, 6.0f, 5.0f, 4.0f, 2.0f, 1.0f,
               0.0f, 1.0f, 2.0f, 3.0f, 2.0f, 1.0f, 0.0f, 6.0f, 5.0f, 4.0f, 5.0f, 6.0f, 7.0f, 6.0f,
               5.0f, 4.0f, 10.0f, 9.0f, 8.0f, 9.0f, 10.0f, 11.0f, 10.0f, 9.0f, 8.0f, 6.0f, 5.0f,
               4.0f, 5.0f, 6.0f, 7.0f, 6.0f, 5.0f, 4.0f, 2.0f, 1.0f, 0.0f, 1.0f, 2.0f, 3.0f, 2.0f,
               1.0f, 0.0f})}, 1e-5, 1e-6});
  c.push_back({"Pad/opset2_constant_value", "Pad", 2, Attrs({{"pads", Ints{0, 1, 1, 0}}, {"value",
   2.5f}}),
              {F32({3, 4}, {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f})},
              {F32({4, 5}, {2.5f, 0.0f, 1.0f, 2.0f, 3.0f, 2.5f, 4.0f, 5.0f, 6.0f, 7.0f, 2.5f,
               8.0f, 9.0f, 10.0f, 11.0f, 2.5f, 2.5f, 2.5f, 2.5f, 2.5f})}, 1e-5, 1e-6});
  c.push_back({"Pad/reflect_wider_than_input", "Pad", 13, Attrs({{"mode", std::string("reflect")}}),
              {F32({3, 4}, {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f}), I64({4}, {0, 5, 0, 6})},
              {F32({3, 15}, {1.0f, 2.0f, 3.0f, 2.0f, 1.0f, 0.0f, 1.0f, 2.0f, 3.0f, 2.0f, 1.0f,
               0.0f, 1.0f, 2.0f, 3.0f, 5.0f, 6.0f, 7.0f, 6.0f, 5.0f, 4.0f, 5.0f, 6.0f, 7.0f, 6.0f,
               5.0f, 4.0f, 5.0f, 6.0f, 7.0f, 9.0f, 10.0f, 11.0f, 10.0f, 9.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 10.0f, 9.0f, 8.0f, 9.0f, 10.0f, 11.0f})}, 1e-5, 1e-6});
  c.push_back({"Pad/edge_int64", "Pad", 11, Attrs({{"mode", std::string("edge")}}),
              {I64({3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}), I64({4}, {2, 0, 1, 3})},
              {I64({6, 7}, {0, 1, 2, 3, 3, 3, 3, 0, 1, 2, 3, 3, 3, 3, 0, 1, 2, 3, 3, 3, 3, 4, 5,
               6, 7, 7, 7, 7, 8, 9, 10, 11, 11, 11, 11, 8, 9, 10, 11, 11, 11, 11})}, 1e-5, 1e-6});
  c.push_back({"Pad/negative_pads_crop", "Pad", 13, Attrs({}),
              {F32({3, 4}, {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f}), I64({4}, {-1, 1, 0, -2}), F32({}, {9.0f})},
              {F32({2, 3}, {9.0f, 4.0f, 5.0f, 9.0f, 8.0f, 9.0f})}, 1e-5, 1e-6});
  c.push_back({"Pad/constant_strings", "Pad", 13, Attrs({}),
              {Str({2}, {"x", "y"}), I64({2}, {1, 1}), Str({}, {"-"})},
              {Str({4}, {"-", "x", "y", "-"})}, 1e-5, 1e-6});
  c.push_back({"Pad/default_zero_uint8", "Pad", 11, Attrs({}),
              {U8({1, 2}, {1, 2}), I64({4}, {1, 0, 0, 1})},
              {U8({2, 3}, {0, 0, 0, 1, 2, 0})}, 1e-5, 1e-6});
  c.push_back({"Concat/axis1_with_empty", "Concat", 13, Attrs({{"axis", int64_t{1}}}),
              {F32({2, 1, 3}, {-0.429f, -0.648f, 1.748f, -0.39f, -0.846f, 0.637f}), F32({2, 2, 3},
               {0.131f, -0.076f, 0.781f, 0.489f, 0.362f, 0.964f, 0.284f, -0.617f, -0.362f,
               -0.521f, 0.21f, -1.078f}), F32({2, 0, 3}, {})},
              {F32({2, 3, 3}, {-0.429f, -0.648f, 1.748f, 0.131f, -0.076f, 0.781f, 0.489f, 0.362f,
               0.964f, -0.39f, -0.846f, 0.637f, 0.284f, -0.617f, -0.362f, -0.521f, 0.21f,
               -1.078f})}, 1e-5, 1e-6});
  c.push_back({"Concat/strings_negative_axis", "Concat", 4, Attrs({{"axis", int64_t{-1}}}),
              {Str({2, 3}, {"a", "bb", "ccc", "d", "e", "f"}), Str({2, 3}, {"a", "bb", "ccc", "d",
               "e", "f"})},
              {Str({2, 6}, {"a", "bb", "ccc", "a", "bb", "ccc", "d", "e", "f", "d", "e", "f"})},
               1e-5, 1e-6});
  c.push_back({"Split/opset11_attr", "Split", 11, Attrs({{"axis", int64_t{1}}, {"split", Ints{1,
   5}}}),
              {I32({2, 6}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})},
              {I32({2, 1}, {0, 6}), I32({2, 5}, {1, 2, 3, 4, 5, 7, 8, 9, 10, 11})}, 1e-5, 1e-6});
  c.push_back({"Split/equal", "Split", 13, Attrs({{"axis", int64_t{-1}}}),
              {I32({2, 6}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})},
              {I32({2, 2}, {0, 1, 6, 7}), I32({2, 2}, {2, 3, 8, 9}), I32({2, 2}, {4, 5, 10, 11})},
               1e-5, 1e-6});
  c.push_back({"Split/input_sizes", "Split", 13, Attrs({}),
              {I32({2, 6}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}), I64({2}, {2, 0})},
              {I32({2, 6}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}), I32({0, 6}, {})}, 1e-5, 1e-6});
  c.push_back({"Gather/axis1_2d_negative", "Gather", 13, Attrs({{"axis", int64_t{1}}}),
              {F32({3, 4, 2}, {-1.832f, 0.088f, -1.337f, -1.952f, 0.373f, -0.711f, 0.496f,
               -0.531f, -1.122f, -1.244f, -0.515f, -0.273f, -0.823f, -0.281f, -1.536f, 0.014f,
               -1.794f, -0.194f, 0.697f, 1.092f, 1.714f, -1.556f, 0.759f, 1.206f}), I64({2, 2},
               {0, -1, 2, 1})},
              {F32({3, 2, 2, 2}, {-1.832f, 0.088f, 0.496f, -0.531f, 0.373f, -0.711f, -1.337f,
               -1.952f, -1.122f, -1.244f, -1.536f, 0.014f, -0.823f, -0.281f, -0.515f, -0.273f,
               -1.794f, -0.194f, 0.759f, 1.206f, 1.714f, -1.556f, 0.697f, 1.092f})}, 1e-5, 1e-6});
  c.push_back({"Gather/int32_indices_scalar", "Gather", 11, Attrs({}),
              {F32({3, 4, 2}, {-1.832f, 0.088f, -1.337f, -1.952f, 0.373f, -0.711f, 0.496f,
               -0.531f, -1.122f, -1.244f, -0.515f, -0.273f, -0.823f, -0.281f, -1.536f, 0.014f,
               -1.794f, -0.194f, 0.697f, 1.092f, 1.714f, -1.556f, 0.759f, 1.206f}), I32({}, {2})},
              {F32({4, 2}, {-1.794f, -0.194f, 0.697f, 1.092f, 1.714f, -1.556f, 0.759f, 1.206f})},
               1e-5, 1e-6});
  c.push_back({"Gather/strings", "Gather", 13, Attrs({{"axis", int64_t{-1}}}),
              {Str({2, 3}, {"a", "bb", "ccc", "d", "e", "f"}), I64({2}, {2, 0})},
              {Str({2, 2}, {"ccc", "a", "f", "d"})}, 1e-5, 1e-6});
  c.push_back({"GatherElements/axis1_smaller_indices", "GatherElements", 13, Attrs({{"axis",
   int64_t{1}}}),
              {F32({3, 4}, {0.981f, -0.929f, 0.412f, 1.86f, -1.497f, 0.476f, 1.112f, -0.697f,
               0.583f, -1.071f, -0.812f, -0.817f}), I64({2, 3}, {2, -1, 0, 1, 1, -3})},
              {F32({2, 3}, {0.412f, 1.86f, 0.981f, 0.476f, 0.476f, 0.476f})}, 1e-5, 1e-6});
  c.push_back({"GatherElements/axis0_int8", "GatherElements", 11, Attrs({}),
              {I8({3, 4}, {0, 0, 0, 1, -1, 0, 1, 0, 0, -1, 0, 0}), I64({1, 4}, {2, 0, 1, 1})},
              {I8({1, 4}, {0, 0, 1, 0})}, 1e-5, 1e-6});
  c.push_back({"GatherND/batch_dims1", "GatherND", 13, Attrs({{"batch_dims", int64_t{1}}}),
              {F32({2, 3, 4}, {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f, 13.0f, 14.0f, 15.0f, 16.0f, 17.0f, 18.0f, 19.0f, 20.0f, 21.0f, 22.0f,
               23.0f}), I64({2, 1, 2}, {1, -1, 0, 2})},
              {F32({2, 1}, {7.0f, 14.0f})}, 1e-5, 1e-6});
  c.push_back({"GatherND/slices", "GatherND", 11, Attrs({}),
              {F32({2, 3, 4}, {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f, 13.0f, 14.0f, 15.0f, 16.0f, 17.0f, 18.0f, 19.0f, 20.0f, 21.0f, 22.0f,
               23.0f}), I64({2, 2}, {1, 2, 0, 0})},
              {F32({2, 4}, {20.0f, 21.0f, 22.0f, 23.0f, 0.0f, 1.0f, 2.0f, 3.0f})}, 1e-5, 1e-6});
  c.push_back({"ScatterElements/mul", "ScatterElements", 16, Attrs({{"reduction",
   std::string("mul")}}),
              {F32({3, 3}, {0.192f, -0.091f, 0.954f, -0.94f, -0.131f, 0.961f, 0.561f, -1.325f,
               0.665f}), I64({2, 3}, {1, 0, 2, 0, -1, 1}), F32({2, 3}, {-0.478f, 0.385f, 0.301f,
               1.219f, 0.117f, -1.854f})},
              {F32({3, 3}, {0.234048f, -0.035035f, 0.954f, 0.44932f, -0.131f, -1.781694f, 0.561f,
               -0.155025f, 0.200165f})}, 1e-5, 1e-6});
  c.push_back({"ScatterElements/axis1_int32_add", "ScatterElements", 16, Attrs({{"axis",
   int64_t{1}}, {"reduction", std::string("add")}}),
              {I32({2, 3}, {1, 1, 1, 1, 1, 1}), I64({2, 2}, {0, 0, 2, 1}), I32({2, 2}, {5, 6, 7,
               8})},
              {I32({2, 3}, {12, 1, 1, 1, 9, 8})}, 1e-5, 1e-6});
  c.push_back({"Scatter/opset9", "Scatter", 9, Attrs({}),
              {F32({3, 3}, {0.192f, -0.091f, 0.954f, -0.94f, -0.131f, 0.961f, 0.561f, -1.325f,
               0.665f}), I64({2, 3}, {1, 0, 2, 0, -1, 1}), F32({2, 3}, {-0.478f, 0.385f, 0.301f,
               1.219f, 0.117f, -1.854f})},
              {F32({3, 3}, {1.219f, 0.385f, 0.954f, -0.478f, -0.131f, -1.854f, 0.561f, 0.117f,
               0.301f})}, 1e-5, 1e-6});
  c.push_back({"ScatterND/add_duplicates", "ScatterND", 16, Attrs({{"reduction",
   std::string("add")}}),
              {F64({2, 4}, {0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0}), I64({2, 1}, {1, 1}), F64({2,
               4}, {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0})},
              {F64({2, 4}, {0.0, 1.0, 2.0, 3.0, 6.0, 7.0, 8.0, 9.0})}, 1e-5, 1e-6});
  c.push_back({"ScatterND/elements", "ScatterND", 11, Attrs({}),
              {F64({2, 4}, {0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0}), I64({2, 2}, {0, 3, 1, -4}),
               F64({2}, {10.0, 20.0})},
              {F64({2, 4}, {0.0, 1.0, 2.0, 10.0, 20.0, 5.0, 6.0, 7.0})}, 1e-5, 1e-6});
  c.push_back({"ScatterND/strings", "ScatterND", 13, Attrs({}),
              {Str({2, 3}, {"a", "bb", "ccc", "d", "e", "f"}), I64({1, 2}, {1, 2}), Str({1},
               {"z"})},
              {Str({2, 3}, {"a", "bb", "ccc", "d", "e", "z"})}, 1e-5, 1e-6});
  c.push_back({"Cast/float_to_int32_truncates", "Cast", 13, Attrs({{"to", int64_t{6}}}),
              {F32({6}, {-2.7f, -0.5f, 0.0f, 0.6f, 1.5f, 300.25f})},
              {I32({6}, {-2, 0, 0, 0, 1, 300})}, 1e-5, 1e-6});
  c.push_back({"Cast/float_to_bool", "Cast", 13, Attrs({{"to", int64_t{9}}}),
              {F32({6}, {-2.7f, -0.5f, 0.0f, 0.6f, 1.5f, 300.25f})},
              {Bool({6}, {true, true, false, true, true, true})}, 1e-5, 1e-6});
  c.push_back({"Cast/bool_to_float64", "Cast", 9, Attrs({{"to", int64_t{11}}}),
              {Bool({2}, {true, false})},
              {F64({2}, {1.0, 0.0})}, 1e-5, 1e-6});
  c.push_back({"Cast/int64_to_uint8_wraps", "Cast", 13, Attrs({{"to", int64_t{2}}}),
              {I64({3}, {255, 256, 3})},
              {U8({3}, {255, 0, 3})}, 1e-5, 1e-6});
  c.push_back({"Cast/float_to_float16", "Cast", 13, Attrs({{"to", int64_t{10}}}),
              {F32({6}, {-2.7f, -0.5f, 0.0f, 0.6f, 1.5f, 300.25f})},
              {F16({6}, {-2.6992188f, -0.5f, 0.0f, 0.60009766f, 1.5f, 300.25f})}, 1e-5, 1e-6});
  c.push_back({"Cast/float16_to_int16", "Cast", 13, Attrs({{"to", int64_t{5}}}),
              {F16({6}, {-2.6992188f, -0.5f, 0.0f, 0.60009766f, 1.5f, 300.25f})},
              {I16({6}, {-2, 0, 0, 0, 1, 300})}, 1e-5, 1e-6});
  c.push_back({"Cast/float_to_bfloat16_truncates", "Cast", 13, Attrs({{"to", int64_t{16}}}),
              {F32({5}, {1.0f, 3.14159f, -0.0025f, kNaN, 70000.0f})},
              {BF16Bits({5}, {16256, 16457, 47907, 32704, 18312})}, 1e-5, 1e-6});
  c.push_back({"Cast/bfloat16_to_float", "Cast", 13, Attrs({{"to", int64_t{1}}}),
              {BF16Bits({3}, {16256, 49225, 32640})},
              {F32({3}, {1.0f, -3.140625f, kInf})}, 1e-5, 1e-6});
  c.push_back({"Cast/float_to_string", "Cast", 13, Attrs({{"to", int64_t{8}}}),
              {F32({10}, {0.1f, 100.0f, 1e-05f, 1.5e+16f, -0.0f, kNaN, -kInf, 123456790.0f,
               0.00012345f, 3e-45f})},
              {Str({10}, {"0.1", "100.0", "1e-05", "1.5e+16", "-0.0", "nan", "-inf",
               "123456790.0", "0.00012345", "3e-45"})}, 1e-5, 1e-6});
  c.push_back({"Cast/double_to_string", "Cast", 13, Attrs({{"to", int64_t{8}}}),
              {F64({5}, {0.1, 0.3333333333333333, 2.5e-300, 1e+16, 12345.678})},
              {Str({5}, {"0.1", "0.3333333333333333", "2.5e-300", "1e+16", "12345.678"})}, 1e-5,
               1e-6});
  c.push_back({"Cast/float16_to_string", "Cast", 13, Attrs({{"to", int64_t{8}}}),
              {F16({3}, {0.099975586f, 1000.0f, 5.9604645e-08f})},
              {Str({3}, {"0.1", "1000.0", "6e-08"})}, 1e-5, 1e-6});
  c.push_back({"Cast/int_and_bool_to_string", "Cast", 13, Attrs({{"to", int64_t{8}}}),
              {I8({3}, {-5, 0, 127})},
              {Str({3}, {"-5", "0", "127"})}, 1e-5, 1e-6});
  c.push_back({"Cast/bool_to_string", "Cast", 13, Attrs({{"to", int64_t{8}}}),
              {Bool({2}, {true, false})},
              {Str({2}, {"True", "False"})}, 1e-5, 1e-6});
  c.push_back({"Cast/string_to_double", "Cast", 13, Attrs({{"to", int64_t{11}}}),
              {Str({6}, {"1.5", " -2 ", "1e3", "INF", "-inf", "NaN"})},
              {F64({6}, {1.5, -2.0, 1000.0, kInf, -kInf, kNaN})}, 1e-5, 1e-6});
  c.push_back({"Cast/string_to_int64", "Cast", 13, Attrs({{"to", int64_t{7}}}),
              {Str({3}, {"42", "-9007199254740993", "2.9"})},
              {I64({3}, {42, -9007199254740993, 2})}, 1e-5, 1e-6});
  c.push_back({"Cast/string_to_bool", "Cast", 13, Attrs({{"to", int64_t{9}}}),
              {Str({4}, {"true", "False", "0", "2"})},
              {Bool({4}, {true, false, false, true})}, 1e-5, 1e-6});
  c.push_back({"CastLike/int32_like_float64", "CastLike", 15, Attrs({}),
              {I32({2}, {1, -2}), F64({1}, {0.0})},
              {F64({2}, {1.0, -2.0})}, 1e-5, 1e-6});
  c.push_back({"Shape/all", "Shape", 13, Attrs({}),
              {F32({2, 3, 4, 5}, {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f})},
              {I64({4}, {2, 3, 4, 5})}, 1e-5, 1e-6});
  c.push_back({"Shape/start_end", "Shape", 15, Attrs({{"start", int64_t{-3}}, {"end",
   int64_t{-1}}}),
              {F32({2, 3, 4, 5}, {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f})},
              {I64({2}, {3, 4})}, 1e-5, 1e-6});
  c.push_back({"Shape/clamped", "Shape", 15, Attrs({{"start", int64_t{-10}}, {"end", int64_t{10}}}),
              {F32({2, 3, 4, 5}, {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f})},
              {I64({4}, {2, 3, 4, 5})}, 1e-5, 1e-6});
  c.push_back({"Shape/start_after_end", "Shape", 15, Attrs({{"start", int64_t{3}}, {"end",
   int64_t{1}}}),
              {F32({2, 3, 4, 5}, {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f})},
              {I64({0}, {})}, 1e-5, 1e-6});
  c.push_back({"Size/strings", "Size", 13, Attrs({}),
              {Str({2, 3}, {"a", "bb", "ccc", "d", "e", "f"})},
              {I64({}, {6})}, 1e-5, 1e-6});
  c.push_back({"Constant/value_tensor", "Constant", 13, Attrs({{"value", I32({1, 2}, {1, 2})}}),
              {},
              {I32({1, 2}, {1, 2})}, 1e-5, 1e-6});
  c.push_back({"Constant/value_float", "Constant", 13, Attrs({{"value_float", 1.25f}}),
              {},
              {F32({}, {1.25f})}, 1e-5, 1e-6});
  c.push_back({"Constant/value_ints", "Constant", 13, Attrs({{"value_ints", Ints{3, 1, 4}}}),
              {},
              {I64({3}, {3, 1, 4})}, 1e-5, 1e-6});
  c.push_back({"Constant/value_string", "Constant", 13, Attrs({{"value_string",
   std::string("hi")}}),
              {},
              {Str({}, {"hi"})}, 1e-5, 1e-6});
  c.push_back({"Constant/value_strings", "Constant", 13, Attrs({{"value_strings",
   std::vector<std::string>{"a", "b"}}}),
              {},
              {Str({2}, {"a", "b"})}, 1e-5, 1e-6});
  c.push_back({"Constant/value_floats", "Constant", 12, Attrs({{"value_floats",
   std::vector<float>{0.5f, -1.0f}}}),
              {},
              {F32({2}, {0.5f, -1.0f})}, 1e-5, 1e-6});
  c.push_back({"ConstantOfShape/default_float_zero", "ConstantOfShape", 9, Attrs({}),
              {I64({2}, {2, 3})},
              {F32({2, 3}, {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f})}, 1e-5, 1e-6});
  c.push_back({"ConstantOfShape/int64_value", "ConstantOfShape", 9, Attrs({{"value", I64({1},
   {-7})}}),
              {I64({1}, {3})},
              {I64({3}, {-7, -7, -7})}, 1e-5, 1e-6});
  c.push_back({"ConstantOfShape/scalar_output", "ConstantOfShape", 9, Attrs({{"value", Bool({1},
   {true})}}),
              {I64({0}, {})},
              {Bool({}, {true})}, 1e-5, 1e-6});
  c.push_back({"Range/int64_negative_delta", "Range", 11, Attrs({}),
              {I64({}, {10}), I64({}, {-3}), I64({}, {-4})},
              {I64({4}, {10, 6, 2, -2})}, 1e-5, 1e-6});
  c.push_back({"Range/float64", "Range", 11, Attrs({}),
              {F64({}, {0.5}), F64({}, {2.0}), F64({}, {0.4})},
              {F64({4}, {0.5, 0.9, 1.3, 1.7000000000000002})}, 1e-5, 1e-6});
  c.push_back({"Range/empty", "Range", 11, Attrs({}),
              {I32({}, {5}), I32({}, {1}), I32({}, {2})},
              {I32({0}, {})}, 1e-5, 1e-6});
  c.push_back({"EyeLike/k_negative_int64", "EyeLike", 9, Attrs({{"k", int64_t{-1}}}),
              {I64({4, 3}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})},
              {I64({4, 3}, {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1})}, 1e-5, 1e-6});
  c.push_back({"EyeLike/dtype_bool", "EyeLike", 9, Attrs({{"k", int64_t{1}}, {"dtype",
   int64_t{9}}}),
              {F32({2, 3}, {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f})},
              {Bool({2, 3}, {false, true, false, false, false, true})}, 1e-5, 1e-6});
  c.push_back({"EyeLike/dtype_float16", "EyeLike", 9, Attrs({{"dtype", int64_t{10}}}),
              {I32({2, 2}, {0, 0, 0, 0})},
              {F16({2, 2}, {1.0f, 0.0f, 0.0f, 1.0f})}, 1e-5, 1e-6});
  c.push_back({"Trilu/upper_k1", "Trilu", 14, Attrs({}),
              {F32({2, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f, 11.0f,
               12.0f, 13.0f, 14.0f, 15.0f, 16.0f, 17.0f, 18.0f, 19.0f, 20.0f, 21.0f, 22.0f, 23.0f,
               24.0f}), I64({1}, {1})},
              {F32({2, 3, 4}, {0.0f, 2.0f, 3.0f, 4.0f, 0.0f, 0.0f, 7.0f, 8.0f, 0.0f, 0.0f, 0.0f,
               12.0f, 0.0f, 14.0f, 15.0f, 16.0f, 0.0f, 0.0f, 19.0f, 20.0f, 0.0f, 0.0f, 0.0f,
               24.0f})}, 1e-5, 1e-6});
  c.push_back({"Trilu/lower_k_minus1", "Trilu", 14, Attrs({{"upper", int64_t{0}}}),
              {F32({2, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f, 11.0f,
               12.0f, 13.0f, 14.0f, 15.0f, 16.0f, 17.0f, 18.0f, 19.0f, 20.0f, 21.0f, 22.0f, 23.0f,
               24.0f}), I64({}, {-1})},
              {F32({2, 3, 4}, {0.0f, 0.0f, 0.0f, 0.0f, 5.0f, 0.0f, 0.0f, 0.0f, 9.0f, 10.0f, 0.0f,
               0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 17.0f, 0.0f, 0.0f, 0.0f, 21.0f, 22.0f, 0.0f, 0.0f})},
               1e-5, 1e-6});
  c.push_back({"Trilu/lower_default_k_strings", "Trilu", 14, Attrs({{"upper", int64_t{0}}}),
              {Str({2, 3}, {"a", "bb", "ccc", "d", "e", "f"})},
              {Str({2, 3}, {"a", "", "", "d", "e", ""})}, 1e-5, 1e-6});
  c.push_back({"OneHot/axis0_out_of_range_is_off", "OneHot", 11, Attrs({{"axis", int64_t{0}}}),
              {I64({2, 2}, {0, -1, 5, 2}), F32({}, {4.0f}), I64({2}, {0, 1})},
              {I64({4, 2, 2}, {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0})}, 1e-5, 1e-6});
  c.push_back({"OneHot/float_indices_string_values", "OneHot", 11, Attrs({}),
              {F32({2}, {1.7f, 0.0f}), I64({}, {3}), Str({2}, {"n", "y"})},
              {Str({2, 3}, {"n", "y", "n", "y", "n", "n"})}, 1e-5, 1e-6});
  c.push_back({"NonZero/int32", "NonZero", 13, Attrs({}),
              {I32({2, 3}, {0, 3, 0, -1, 0, 2})},
              {I64({2, 3}, {0, 1, 1, 1, 0, 2})}, 1e-5, 1e-6});
  c.push_back({"NonZero/float16", "NonZero", 13, Attrs({}),
              {F16({3}, {0.0f, -0.0f, 0.5f})},
              {I64({1, 1}, {2})}, 1e-5, 1e-6});
  c.push_back({"Compress/axis1_short_condition", "Compress", 11, Attrs({{"axis", int64_t{1}}}),
              {F32({3, 4}, {1.138f, 0.273f, -0.749f, 1.082f, -0.807f, -2.053f, 2.064f, -1.911f,
               0.636f, 0.939f, 0.147f, -1.683f}), Bool({3}, {true, false, true})},
              {F32({3, 2}, {1.138f, -0.749f, -0.807f, 2.064f, 0.636f, 0.147f})}, 1e-5, 1e-6});
  c.push_back({"Compress/flattened", "Compress", 11, Attrs({}),
              {F32({3, 4}, {1.138f, 0.273f, -0.749f, 1.082f, -0.807f, -2.053f, 2.064f, -1.911f,
               0.636f, 0.939f, 0.147f, -1.683f}), Bool({3}, {false, true, true})},
              {F32({2}, {0.273f, -0.749f})}, 1e-5, 1e-6});
  c.push_back({"ReverseSequence/batch_major", "ReverseSequence", 10, Attrs({{"batch_axis",
   int64_t{0}}, {"time_axis", int64_t{1}}}),
              {I64({3, 4, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
               19, 20, 21, 22, 23}), I64({3}, {4, 0, 2})},
              {I64({3, 4, 2}, {6, 7, 4, 5, 2, 3, 0, 1, 8, 9, 10, 11, 12, 13, 14, 15, 18, 19, 16,
               17, 20, 21, 22, 23})}, 1e-5, 1e-6});
  c.push_back({"Dropout/opset7_mask_same_dtype", "Dropout", 7, Attrs({{"ratio", 0.3f}}),
              {F32({2, 3}, {1.015f, -1.442f, -1.344f, -0.362f, 0.789f, 0.3f})},
              {F32({2, 3}, {1.015f, -1.442f, -1.344f, -0.362f, 0.789f, 0.3f}), F32({2, 3}, {1.0f,
               1.0f, 1.0f, 1.0f, 1.0f, 1.0f})}, 1e-5, 1e-6});
  c.push_back({"Dropout/opset12_mask_bool", "Dropout", 12, Attrs({}),
              {F32({2, 3}, {1.015f, -1.442f, -1.344f, -0.362f, 0.789f, 0.3f}), F32({}, {0.5f})},
              {F32({2, 3}, {1.015f, -1.442f, -1.344f, -0.362f, 0.789f, 0.3f}), Bool({2, 3}, {true,
               true, true, true, true, true})}, 1e-5, 1e-6});
  c.push_back({"Dropout/training_zero_ratio", "Dropout", 13, Attrs({}),
              {F32({2, 3}, {1.015f, -1.442f, -1.344f, -0.362f, 0.789f, 0.3f}), F32({}, {0.0f}),
               Bool({}, {true})},
              {F32({2, 3}, {1.015f, -1.442f, -1.344f, -0.362f, 0.789f, 0.3f}), Bool({2, 3}, {true,
               true, true, true, true, true})}, 1e-5, 1e-6});
  return c;
}

std::vector<FailCase> TensorFailCases() {
  std::vector<FailCase> f;
  f.push_back({"Reshape/two_minus_one", "Reshape", 13, Attrs({}),
              {F32({2, 3, 4}, {1.691f, -0.466f, 0.033f, 0.408f, -0.789f, 0.002f, -0.001f, -1.755f,
               1.018f, 0.6f, -0.625f, -0.172f, 0.505f, -0.261f, -0.243f, -1.453f, 0.555f, 0.124f,
               0.274f, -1.527f, 1.651f, 0.154f, -0.387f, 2.029f}), I64({2}, {-1, -1})}, 1});
  f.push_back({"Reshape/count_mismatch", "Reshape", 13, Attrs({}),
              {F32({2, 3, 4}, {1.691f, -0.466f, 0.033f, 0.408f, -0.789f, 0.002f, -0.001f, -1.755f,
               1.018f, 0.6f, -0.625f, -0.172f, 0.505f, -0.261f, -0.243f, -1.453f, 0.555f, 0.124f,
               0.274f, -1.527f, 1.651f, 0.154f, -0.387f, 2.029f}), I64({2}, {5, 5})}, 1});
  f.push_back({"Reshape/zero_beyond_rank", "Reshape", 13, Attrs({}),
              {F32({2, 3, 4}, {1.691f, -0.466f, 0.033f, 0.408f, -0.789f, 0.002f, -0.001f, -1.755f,
               1.018f, 0.6f, -0.625f, -0.172f, 0.505f, -0.261f, -0.243f, -1.453f, 0.555f, 0.124f,
               0.274f, -1.527f, 1.651f, 0.154f, -0.387f, 2.029f}), I64({4}, {2, 3, 4, 0})}, 1});
  f.push_back({"Reshape/not_divisible", "Reshape", 13, Attrs({}),
              {F32({2, 3, 4}, {1.691f, -0.466f, 0.033f, 0.408f, -0.789f, 0.002f, -0.001f, -1.755f,
               1.018f, 0.6f, -0.625f, -0.172f, 0.505f, -0.261f, -0.243f, -1.453f, 0.555f, 0.124f,
               0.274f, -1.527f, 1.651f, 0.154f, -0.387f, 2.029f}), I64({2}, {5, -1})}, 1});
  f.push_back({"Reshape/float_shape", "Reshape", 13, Attrs({}),
              {F32({2, 3, 4}, {1.691f, -0.466f, 0.033f, 0.408f, -0.789f, 0.002f, -0.001f, -1.755f,
               1.018f, 0.6f, -0.625f, -0.172f, 0.505f, -0.261f, -0.243f, -1.453f, 0.555f, 0.124f,
               0.274f, -1.527f, 1.651f, 0.154f, -0.387f, 2.029f}), F32({1}, {24.0f})}, 1});
  f.push_back({"Flatten/axis_out_of_range", "Flatten", 13, Attrs({{"axis", int64_t{4}}}),
              {F32({2, 3, 4}, {1.691f, -0.466f, 0.033f, 0.408f, -0.789f, 0.002f, -0.001f, -1.755f,
               1.018f, 0.6f, -0.625f, -0.172f, 0.505f, -0.261f, -0.243f, -1.453f, 0.555f, 0.124f,
               0.274f, -1.527f, 1.651f, 0.154f, -0.387f, 2.029f})}, 1});
  f.push_back({"Squeeze/not_one", "Squeeze", 13, Attrs({}),
              {F32({1, 3, 1, 2}, {-0.045f, -1.451f, -0.405f, -2.288f, 1.049f, -0.416f}), I64({1},
               {1})}, 1});
  f.push_back({"Squeeze/axis_out_of_range", "Squeeze", 11, Attrs({{"axes", Ints{4}}}),
              {F32({1, 3, 1, 2}, {-0.045f, -1.451f, -0.405f, -2.288f, 1.049f, -0.416f})}, 1});
  f.push_back({"Unsqueeze/repeated_axes", "Unsqueeze", 13, Attrs({}),
              {F32({1, 3, 1, 2}, {-0.045f, -1.451f, -0.405f, -2.288f, 1.049f, -0.416f}), I64({2},
               {1, 1})}, 1});
  f.push_back({"Unsqueeze/no_axes", "Unsqueeze", 13, Attrs({}),
              {F32({1, 3, 1, 2}, {-0.045f, -1.451f, -0.405f, -2.288f, 1.049f, -0.416f})}, 1});
  f.push_back({"Transpose/bad_perm", "Transpose", 13, Attrs({{"perm", Ints{0, 0, 1, 2}}}),
              {F32({2, 3, 2, 2}, {-0.743f, 1.072f, -1.651f, 0.535f, -2.064f, -0.662f, -1.204f,
               1.462f, 1.766f, -0.329f, 0.841f, -0.18f, 0.568f, -0.753f, -1.708f, -1.803f, 0.383f,
               2.248f, 0.269f, -0.525f, 1.912f, 0.237f, 0.101f, 0.253f})}, 1});
  f.push_back({"Transpose/perm_length", "Transpose", 13, Attrs({{"perm", Ints{1, 0}}}),
              {F32({2, 3, 2, 2}, {-0.743f, 1.072f, -1.651f, 0.535f, -2.064f, -0.662f, -1.204f,
               1.462f, 1.766f, -0.329f, 0.841f, -0.18f, 0.568f, -0.753f, -1.708f, -1.803f, 0.383f,
               2.248f, 0.269f, -0.525f, 1.912f, 0.237f, 0.101f, 0.253f})}, 1});
  f.push_back({"Expand/not_broadcastable", "Expand", 13, Attrs({}),
              {F32({3, 1}, {-0.132f, -0.309f, -1.435f}), I64({2}, {2, 3})}, 1});
  f.push_back({"Tile/negative", "Tile", 13, Attrs({}),
              {I64({2, 3}, {0, 1, 2, 3, 4, 5}), I64({2}, {-1, 1})}, 1});
  f.push_back({"Tile/length", "Tile", 13, Attrs({}),
              {I64({2, 3}, {0, 1, 2, 3, 4, 5}), I64({1}, {2})}, 1});
  f.push_back({"DepthToSpace/channels", "DepthToSpace", 13, Attrs({{"blocksize", int64_t{3}}}),
              {F32({1, 8, 2, 2}, {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f,
               10.0f, 11.0f, 12.0f, 13.0f, 14.0f, 15.0f, 16.0f, 17.0f, 18.0f, 19.0f, 20.0f, 21.0f,
               22.0f, 23.0f, 24.0f, 25.0f, 26.0f, 27.0f, 28.0f, 29.0f, 30.0f, 31.0f})}, 1});
  f.push_back({"DepthToSpace/rank", "DepthToSpace", 13, Attrs({{"blocksize", int64_t{2}}}),
              {F32({8, 2, 2}, {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f, 13.0f, 14.0f, 15.0f, 16.0f, 17.0f, 18.0f, 19.0f, 20.0f, 21.0f, 22.0f,
               23.0f, 24.0f, 25.0f, 26.0f, 27.0f, 28.0f, 29.0f, 30.0f, 31.0f})}, 1});
  f.push_back({"SpaceToDepth/not_divisible", "SpaceToDepth", 13, Attrs({{"blocksize", int64_t{3}}}),
              {I32({1, 2, 4, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
               18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31})}, 1});
  f.push_back({"Slice/zero_step", "Slice", 13, Attrs({}),
              {F32({3, 4, 5}, {0.502f, -0.095f, 1.193f, -0.369f, -1.906f, -0.1f, 1.7f, -0.383f,
               -0.89f, -1.194f, -1.05f, -0.3f, -1.18f, 1.498f, -0.283f, 0.109f, 1.438f, 1.503f,
               -0.213f, 0.332f, 0.735f, -0.193f, -1.778f, 0.655f, 0.894f, 0.416f, -0.924f,
               -0.196f, -0.591f, -0.3f, 1.297f, 1.53f, 0.669f, 0.549f, 0.677f, -0.012f, -0.076f,
               -0.674f, -0.056f, 2.26f, 0.869f, -0.342f, -0.472f, -0.864f, 0.374f, 0.392f,
               -1.443f, 0.486f, -0.569f, 1.427f, 0.157f, 1.718f, -0.458f, -0.288f, 0.3f, 1.056f,
               0.566f, -1.234f, 0.183f, 0.022f}), I64({1}, {0}), I64({1}, {2}), I64({1}, {0}),
               I64({1}, {0})}, 1});
  f.push_back({"Slice/repeated_axes", "Slice", 13, Attrs({}),
              {F32({3, 4, 5}, {0.502f, -0.095f, 1.193f, -0.369f, -1.906f, -0.1f, 1.7f, -0.383f,
               -0.89f, -1.194f, -1.05f, -0.3f, -1.18f, 1.498f, -0.283f, 0.109f, 1.438f, 1.503f,
               -0.213f, 0.332f, 0.735f, -0.193f, -1.778f, 0.655f, 0.894f, 0.416f, -0.924f,
               -0.196f, -0.591f, -0.3f, 1.297f, 1.53f, 0.669f, 0.549f, 0.677f, -0.012f, -0.076f,
               -0.674f, -0.056f, 2.26f, 0.869f, -0.342f, -0.472f, -0.864f, 0.374f, 0.392f,
               -1.443f, 0.486f, -0.569f, 1.427f, 0.157f, 1.718f, -0.458f, -0.288f, 0.3f, 1.056f,
               0.566f, -1.234f, 0.183f, 0.022f}), I64({2}, {0, 0}), I64({2}, {2, 2}), I64({2}, {1,
               1})}, 1});
  f.push_back({"Slice/axis_out_of_range", "Slice", 13, Attrs({}),
              {F32({3, 4, 5}, {0.502f, -0.095f, 1.193f, -0.369f, -1.906f, -0.1f, 1.7f, -0.383f,
               -0.89f, -1.194f, -1.05f, -0.3f, -1.18f, 1.498f, -0.283f, 0.109f, 1.438f, 1.503f,
               -0.213f, 0.332f, 0.735f, -0.193f, -1.778f, 0.655f, 0.894f, 0.416f, -0.924f,
               -0.196f, -0.591f, -0.3f, 1.297f, 1.53f, 0.669f, 0.549f, 0.677f, -0.012f, -0.076f,
               -0.674f, -0.056f, 2.26f, 0.869f, -0.342f, -0.472f, -0.864f, 0.374f, 0.392f,
               -1.443f, 0.486f, -0.569f, 1.427f, 0.157f, 1.718f, -0.458f, -0.288f, 0.3f, 1.056f,
               0.566f, -1.234f, 0.183f, 0.022f}), I64({1}, {0}), I64({1}, {2}), I64({1}, {3})}, 1});
  f.push_back({"Slice/length_mismatch", "Slice", 13, Attrs({}),
              {F32({3, 4, 5}, {0.502f, -0.095f, 1.193f, -0.369f, -1.906f, -0.1f, 1.7f, -0.383f,
               -0.89f, -1.194f, -1.05f, -0.3f, -1.18f, 1.498f, -0.283f, 0.109f, 1.438f, 1.503f,
               -0.213f, 0.332f, 0.735f, -0.193f, -1.778f, 0.655f, 0.894f, 0.416f, -0.924f,
               -0.196f, -0.591f, -0.3f, 1.297f, 1.53f, 0.669f, 0.549f, 0.677f, -0.012f, -0.076f,
               -0.674f, -0.056f, 2.26f, 0.869f, -0.342f, -0.472f, -0.864f, 0.374f, 0.392f,
               -1.443f, 0.486f, -0.569f, 1.427f, 0.157f, 1.718f, -0.458f, -0.288f, 0.3f, 1.056f,
               0.566f, -1.234f, 0.183f, 0.022f}), I64({2}, {0, 1}), I64({1}, {2})}, 1});
  f.push_back({"Pad/pads_length", "Pad", 13, Attrs({}),
              {F32({3, 4}, {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f}), I64({2}, {1, 1})}, 1});
  f.push_back({"Pad/crop_too_much", "Pad", 13, Attrs({}),
              {F32({3, 4}, {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f}), I64({4}, {-2, 0, -2, 0})}, 1});
  f.push_back({"Pad/bad_mode", "Pad", 13, Attrs({{"mode", std::string("wrap")}}),
              {F32({3, 4}, {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f}), I64({4}, {0, 0, 0, 0})}, 1});
  f.push_back({"Pad/edge_of_empty", "Pad", 13, Attrs({{"mode", std::string("edge")}}),
              {F32({0, 2}, {}), I64({4}, {1, 0, 0, 0})}, 1});
  f.push_back({"Pad/constant_value_dtype", "Pad", 13, Attrs({}),
              {F32({3, 4}, {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f}), I64({4}, {0, 0, 0, 0}), F64({}, {1.0})}, 1});
  f.push_back({"Concat/rank_mismatch", "Concat", 13, Attrs({{"axis", int64_t{0}}}),
              {F32({2, 1, 3}, {-0.429f, -0.648f, 1.748f, -0.39f, -0.846f, 0.637f}), F32({1, 3},
               {-0.429f, -0.648f, 1.748f})}, 1});
  f.push_back({"Concat/dim_mismatch", "Concat", 13, Attrs({{"axis", int64_t{0}}}),
              {F32({2, 1, 3}, {-0.429f, -0.648f, 1.748f, -0.39f, -0.846f, 0.637f}), F32({2, 2, 3},
               {0.131f, -0.076f, 0.781f, 0.489f, 0.362f, 0.964f, 0.284f, -0.617f, -0.362f,
               -0.521f, 0.21f, -1.078f})}, 1});
  f.push_back({"Concat/dtype_mismatch", "Concat", 13, Attrs({{"axis", int64_t{0}}}),
              {F32({2, 1, 3}, {-0.429f, -0.648f, 1.748f, -0.39f, -0.846f, 0.637f}), F64({2, 1, 3},
               {-0.42899999022483826, -0.6480000019073486, 1.7480000257492065,
               -0.38999998569488525, -0.8460000157356262, 0.6370000243186951})}, 1});
  f.push_back({"Concat/axis_out_of_range", "Concat", 13, Attrs({{"axis", int64_t{3}}}),
              {F32({2, 1, 3}, {-0.429f, -0.648f, 1.748f, -0.39f, -0.846f, 0.637f}), F32({2, 1, 3},
               {-0.429f, -0.648f, 1.748f, -0.39f, -0.846f, 0.637f})}, 1});
  f.push_back({"Split/uneven", "Split", 13, Attrs({{"axis", int64_t{1}}}),
              {I32({2, 6}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})}, 4});
  f.push_back({"Split/sum_mismatch", "Split", 13, Attrs({{"axis", int64_t{1}}}),
              {I32({2, 6}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}), I64({2}, {1, 2})}, 2});
  f.push_back({"Split/count_mismatch", "Split", 13, Attrs({{"axis", int64_t{1}}}),
              {I32({2, 6}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}), I64({2}, {1, 5})}, 3});
  f.push_back({"Gather/index_too_large", "Gather", 13, Attrs({}),
              {F32({3, 4, 2}, {-1.832f, 0.088f, -1.337f, -1.952f, 0.373f, -0.711f, 0.496f,
               -0.531f, -1.122f, -1.244f, -0.515f, -0.273f, -0.823f, -0.281f, -1.536f, 0.014f,
               -1.794f, -0.194f, 0.697f, 1.092f, 1.714f, -1.556f, 0.759f, 1.206f}), I64({2}, {0,
               3})}, 1});
  f.push_back({"Gather/index_too_small", "Gather", 13, Attrs({}),
              {F32({3, 4, 2}, {-1.832f, 0.088f, -1.337f, -1.952f, 0.373f, -0.711f, 0.496f,
               -0.531f, -1.122f, -1.244f, -0.515f, -0.273f, -0.823f, -0.281f, -1.536f, 0.014f,
               -1.794f, -0.194f, 0.697f, 1.092f, 1.714f, -1.556f, 0.759f, 1.206f}), I64({1},
               {-4})}, 1});
  f.push_back({"Gather/float_indices", "Gather", 13, Attrs({}),
              {F32({3, 4, 2}, {-1.832f, 0.088f, -1.337f, -1.952f, 0.373f, -0.711f, 0.496f,
               -0.531f, -1.122f, -1.244f, -0.515f, -0.273f, -0.823f, -0.281f, -1.536f, 0.014f,
               -1.794f, -0.194f, 0.697f, 1.092f, 1.714f, -1.556f, 0.759f, 1.206f}), F32({1},
               {0.0f})}, 1});
  f.push_back({"Gather/axis_out_of_range", "Gather", 13, Attrs({{"axis", int64_t{3}}}),
              {F32({3, 4, 2}, {-1.832f, 0.088f, -1.337f, -1.952f, 0.373f, -0.711f, 0.496f,
               -0.531f, -1.122f, -1.244f, -0.515f, -0.273f, -0.823f, -0.281f, -1.536f, 0.014f,
               -1.794f, -0.194f, 0.697f, 1.092f, 1.714f, -1.556f, 0.759f, 1.206f}), I64({1},
               {0})}, 1});
  f.push_back({"GatherElements/index_out_of_range", "GatherElements", 13, Attrs({{"axis",
   int64_t{1}}}),
              {F32({3, 4}, {0.981f, -0.929f, 0.412f, 1.86f, -1.497f, 0.476f, 1.112f, -0.697f,
               0.583f, -1.071f, -0.812f, -0.817f}), I64({1, 1}, {4})}, 1});
  f.push_back({"GatherElements/rank_mismatch", "GatherElements", 13, Attrs({}),
              {F32({3, 4}, {0.981f, -0.929f, 0.412f, 1.86f, -1.497f, 0.476f, 1.112f, -0.697f,
               0.583f, -1.071f, -0.812f, -0.817f}), I64({1}, {0})}, 1});
  f.push_back({"GatherElements/indices_larger_than_data", "GatherElements", 13, Attrs({{"axis",
   int64_t{1}}}),
              {F32({3, 4}, {0.981f, -0.929f, 0.412f, 1.86f, -1.497f, 0.476f, 1.112f, -0.697f,
               0.583f, -1.071f, -0.812f, -0.817f}), I64({4, 1}, {0, 0, 0, 0})}, 1});
  f.push_back({"GatherND/index_out_of_range", "GatherND", 13, Attrs({}),
              {F32({2, 3, 4}, {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f, 13.0f, 14.0f, 15.0f, 16.0f, 17.0f, 18.0f, 19.0f, 20.0f, 21.0f, 22.0f,
               23.0f}), I64({1, 1}, {2})}, 1});
  f.push_back({"GatherND/last_dim_too_long", "GatherND", 13, Attrs({}),
              {F32({2, 3, 4}, {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f, 13.0f, 14.0f, 15.0f, 16.0f, 17.0f, 18.0f, 19.0f, 20.0f, 21.0f, 22.0f,
               23.0f}), I64({1, 4}, {0, 0, 0, 0})}, 1});
  f.push_back({"GatherND/batch_dim_mismatch", "GatherND", 13, Attrs({{"batch_dims", int64_t{1}}}),
              {F32({2, 3, 4}, {0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f, 13.0f, 14.0f, 15.0f, 16.0f, 17.0f, 18.0f, 19.0f, 20.0f, 21.0f, 22.0f,
               23.0f}), I64({3, 1}, {0, 0, 0})}, 1});
  f.push_back({"ScatterElements/index_out_of_range", "ScatterElements", 13, Attrs({}),
              {F32({3, 3}, {0.192f, -0.091f, 0.954f, -0.94f, -0.131f, 0.961f, 0.561f, -1.325f,
               0.665f}), I64({1, 1}, {3}), F32({1, 1}, {-1.37f})}, 1});
  f.push_back({"ScatterElements/updates_shape", "ScatterElements", 13, Attrs({}),
              {F32({3, 3}, {0.192f, -0.091f, 0.954f, -0.94f, -0.131f, 0.961f, 0.561f, -1.325f,
               0.665f}), I64({1, 1}, {0}), F32({1, 2}, {0.731f, -0.258f})}, 1});
  f.push_back({"ScatterElements/bad_reduction", "ScatterElements", 16, Attrs({{"reduction",
   std::string("sub")}}),
              {F32({3, 3}, {0.192f, -0.091f, 0.954f, -0.94f, -0.131f, 0.961f, 0.561f, -1.325f,
               0.665f}), I64({2, 3}, {1, 0, 2, 0, -1, 1}), F32({2, 3}, {-0.478f, 0.385f, 0.301f,
               1.219f, 0.117f, -1.854f})}, 1});
  f.push_back({"ScatterElements/updates_dtype", "ScatterElements", 13, Attrs({}),
              {F32({3, 3}, {0.192f, -0.091f, 0.954f, -0.94f, -0.131f, 0.961f, 0.561f, -1.325f,
               0.665f}), I64({2, 3}, {1, 0, 2, 0, -1, 1}), F64({2, 3}, {-0.4779999852180481,
               0.38499999046325684, 0.3009999990463257, 1.218999981880188, 0.11699999868869781,
               -1.8539999723434448})}, 1});
  f.push_back({"ScatterND/index_out_of_range", "ScatterND", 13, Attrs({}),
              {F64({2, 4}, {0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0}), I64({1, 1}, {2}), F64({1,
               4}, {1.0, 1.0, 1.0, 1.0})}, 1});
  f.push_back({"ScatterND/updates_shape", "ScatterND", 13, Attrs({}),
              {F64({2, 4}, {0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0}), I64({1, 1}, {1}), F64({1,
               3}, {1.0, 1.0, 1.0})}, 1});
  f.push_back({"ScatterND/string_reduction", "ScatterND", 16, Attrs({{"reduction",
   std::string("add")}}),
              {Str({2, 3}, {"a", "bb", "ccc", "d", "e", "f"}), I64({1, 2}, {0, 0}), Str({1},
               {"z"})}, 1});
  f.push_back({"Cast/unparsable_string", "Cast", 13, Attrs({{"to", int64_t{1}}}),
              {Str({1}, {"1.5x"})}, 1});
  f.push_back({"Cast/unsupported_to", "Cast", 13, Attrs({{"to", int64_t{14}}}),
              {F32({6}, {-2.7f, -0.5f, 0.0f, 0.6f, 1.5f, 300.25f})}, 1});
  f.push_back({"Constant/no_value", "Constant", 13, Attrs({}),
              {}, 1});
  f.push_back({"ConstantOfShape/negative_dim", "ConstantOfShape", 9, Attrs({}),
              {I64({2}, {2, -1})}, 1});
  f.push_back({"Range/zero_delta", "Range", 11, Attrs({}),
              {I64({}, {1}), I64({}, {5}), I64({}, {0})}, 1});
  f.push_back({"Range/dtype_mismatch", "Range", 11, Attrs({}),
              {I64({}, {1}), F64({}, {5.0}), I64({}, {1})}, 1});
  f.push_back({"EyeLike/rank1", "EyeLike", 9, Attrs({}),
              {F32({3}, {0.0f, 0.0f, 0.0f})}, 1});
  f.push_back({"Trilu/rank1", "Trilu", 14, Attrs({}),
              {F32({4}, {1.0f, 2.0f, 3.0f, 4.0f})}, 1});
  f.push_back({"OneHot/zero_depth", "OneHot", 11, Attrs({}),
              {I64({2, 2}, {0, -1, 5, 2}), I64({}, {0}), I64({2}, {0, 1})}, 1});
  f.push_back({"OneHot/values_size", "OneHot", 11, Attrs({}),
              {I64({2, 2}, {0, -1, 5, 2}), I64({}, {3}), I64({3}, {0, 1, 2})}, 1});
  f.push_back({"OneHot/axis_out_of_range", "OneHot", 11, Attrs({{"axis", int64_t{3}}}),
              {I64({2, 2}, {0, -1, 5, 2}), I64({}, {3}), I64({2}, {0, 1})}, 1});
  f.push_back({"Compress/selects_beyond_dim", "Compress", 11, Attrs({{"axis", int64_t{0}}}),
              {F32({3, 4}, {1.138f, 0.273f, -0.749f, 1.082f, -0.807f, -2.053f, 2.064f, -1.911f,
               0.636f, 0.939f, 0.147f, -1.683f}), Bool({4}, {false, false, false, true})}, 1});
  f.push_back({"Compress/condition_dtype", "Compress", 11, Attrs({{"axis", int64_t{0}}}),
              {F32({3, 4}, {1.138f, 0.273f, -0.749f, 1.082f, -0.807f, -2.053f, 2.064f, -1.911f,
               0.636f, 0.939f, 0.147f, -1.683f}), I64({2}, {1, 0})}, 1});
  f.push_back({"ReverseSequence/len_too_long", "ReverseSequence", 10, Attrs({{"batch_axis",
   int64_t{0}}, {"time_axis", int64_t{1}}}),
              {I64({3, 4, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
               19, 20, 21, 22, 23}), I64({3}, {5, 1, 1})}, 1});
  f.push_back({"ReverseSequence/lens_count", "ReverseSequence", 10, Attrs({}),
              {I64({3, 4, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
               19, 20, 21, 22, 23}), I64({2}, {1, 1})}, 1});
  f.push_back({"ReverseSequence/same_axes", "ReverseSequence", 10, Attrs({{"batch_axis",
   int64_t{0}}}),
              {I64({3, 4, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
               19, 20, 21, 22, 23}), I64({3}, {1, 1, 1})}, 1});
  f.push_back({"Dropout/training_unsupported", "Dropout", 13, Attrs({}),
              {F32({2, 3}, {1.015f, -1.442f, -1.344f, -0.362f, 0.789f, 0.3f}), F32({}, {0.5f}),
               Bool({}, {true})}, 1, absl::StatusCode::kUnimplemented});
  return f;
}

std::vector<OpCase> ResizeCases() {
  std::vector<OpCase> c;
  c.push_back({"Resize/linear_half_pixel_scales", "Resize", 13, Attrs({{"mode",
   std::string("linear")}, {"coordinate_transformation_mode", std::string("half_pixel")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), F32({4}, {1.0f, 1.0f, 1.7f, 0.6f})},
              {F32({1, 1, 5, 2}, {1.3333333f, 3.0f, 2.862745f, 4.529412f, 5.215686f, 6.882353f,
               7.5686274f, 9.235293f, 9.333333f, 11.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/linear_pytorch_half_pixel_scales", "Resize", 13, Attrs({{"mode",
   std::string("linear")}, {"coordinate_transformation_mode", std::string("pytorch_half_pixel")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), F32({4}, {1.0f, 1.0f, 1.7f, 0.6f})},
              {F32({1, 1, 5, 2}, {1.3333333f, 3.0f, 2.862745f, 4.529412f, 5.215686f, 6.882353f,
               7.5686274f, 9.235293f, 9.333333f, 11.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/linear_align_corners_scales", "Resize", 13, Attrs({{"mode",
   std::string("linear")}, {"coordinate_transformation_mode", std::string("align_corners")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), F32({4}, {1.0f, 1.0f, 1.7f, 0.6f})},
              {F32({1, 1, 5, 2}, {1.0f, 3.142857f, 2.9512196f, 5.0940766f, 4.902439f, 7.0452957f,
               6.853658f, 8.996515f, 8.804878f, 10.947735f})}, 1e-5, 1e-6});
  c.push_back({"Resize/linear_asymmetric_scales", "Resize", 13, Attrs({{"mode",
   std::string("linear")}, {"coordinate_transformation_mode", std::string("asymmetric")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), F32({4}, {1.0f, 1.0f, 1.7f, 0.6f})},
              {F32({1, 1, 5, 2}, {1.0f, 2.6666665f, 3.352941f, 5.0196075f, 5.705882f, 7.372549f,
               8.058824f, 9.72549f, 9.0f, 10.666667f})}, 1e-5, 1e-6});
  c.push_back({"Resize/cubic_half_pixel_scales", "Resize", 13, Attrs({{"mode",
   std::string("cubic")}, {"coordinate_transformation_mode", std::string("half_pixel")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), F32({4}, {1.0f, 1.0f, 1.7f, 0.6f})},
              {F32({1, 1, 5, 2}, {0.8697569f, 2.6104975f, 2.4622157f, 4.202956f, 5.085358f,
               6.826099f, 7.8498607f, 9.590601f, 9.580219f, 11.320959f})}, 1e-5, 1e-6});
  c.push_back({"Resize/cubic_pytorch_half_pixel_scales", "Resize", 13, Attrs({{"mode",
   std::string("cubic")}, {"coordinate_transformation_mode", std::string("pytorch_half_pixel")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), F32({4}, {1.0f, 1.0f, 1.7f, 0.6f})},
              {F32({1, 1, 5, 2}, {0.8697569f, 2.6104975f, 2.4622157f, 4.202956f, 5.085358f,
               6.826099f, 7.8498607f, 9.590601f, 9.580219f, 11.320959f})}, 1e-5, 1e-6});
  c.push_back({"Resize/cubic_align_corners_scales", "Resize", 13, Attrs({{"mode",
   std::string("cubic")}, {"coordinate_transformation_mode", std::string("align_corners")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), F32({4}, {1.0f, 1.0f, 1.7f, 0.6f})},
              {F32({1, 1, 5, 2}, {1.0f, 3.1997082f, 2.5794895f, 4.7791977f, 4.8554287f,
               7.0551367f, 7.235748f, 9.435456f, 8.853542f, 11.05325f})}, 1e-5, 1e-6});
  c.push_back({"Resize/cubic_asymmetric_scales", "Resize", 13, Attrs({{"mode",
   std::string("cubic")}, {"coordinate_transformation_mode", std::string("asymmetric")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), F32({4}, {1.0f, 1.0f, 1.7f, 0.6f})},
              {F32({1, 1, 5, 2}, {1.0f, 2.6296296f, 2.9682474f, 4.597877f, 5.9708934f, 7.600523f,
               8.281091f, 9.910721f, 9.443314f, 11.072944f})}, 1e-5, 1e-6});
  c.push_back({"Resize/nearest_round_prefer_floor_half_pixel_sizes", "Resize", 13, Attrs({{"mode",
   std::string("nearest")}, {"nearest_mode", std::string("round_prefer_floor")},
   {"coordinate_transformation_mode", std::string("half_pixel")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), Tensor(), I64({4}, {1, 1, 5, 3})},
              {F32({1, 1, 5, 3}, {1.0f, 2.0f, 4.0f, 1.0f, 2.0f, 4.0f, 5.0f, 6.0f, 8.0f, 9.0f,
               10.0f, 12.0f, 9.0f, 10.0f, 12.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/nearest_round_prefer_floor_align_corners_sizes", "Resize", 13,
   Attrs({{"mode", std::string("nearest")}, {"nearest_mode", std::string("round_prefer_floor")},
   {"coordinate_transformation_mode", std::string("align_corners")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), Tensor(), I64({4}, {1, 1, 5, 3})},
              {F32({1, 1, 5, 3}, {1.0f, 2.0f, 4.0f, 1.0f, 2.0f, 4.0f, 5.0f, 6.0f, 8.0f, 5.0f,
               6.0f, 8.0f, 9.0f, 10.0f, 12.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/nearest_round_prefer_floor_asymmetric_sizes", "Resize", 13, Attrs({{"mode",
   std::string("nearest")}, {"nearest_mode", std::string("round_prefer_floor")},
   {"coordinate_transformation_mode", std::string("asymmetric")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), Tensor(), I64({4}, {1, 1, 5, 3})},
              {F32({1, 1, 5, 3}, {1.0f, 2.0f, 4.0f, 5.0f, 6.0f, 8.0f, 5.0f, 6.0f, 8.0f, 9.0f,
               10.0f, 12.0f, 9.0f, 10.0f, 12.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/nearest_round_prefer_ceil_half_pixel_sizes", "Resize", 13, Attrs({{"mode",
   std::string("nearest")}, {"nearest_mode", std::string("round_prefer_ceil")},
   {"coordinate_transformation_mode", std::string("half_pixel")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), Tensor(), I64({4}, {1, 1, 5, 3})},
              {F32({1, 1, 5, 3}, {1.0f, 3.0f, 4.0f, 1.0f, 3.0f, 4.0f, 5.0f, 7.0f, 8.0f, 9.0f,
               11.0f, 12.0f, 9.0f, 11.0f, 12.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/nearest_round_prefer_ceil_align_corners_sizes", "Resize", 13,
   Attrs({{"mode", std::string("nearest")}, {"nearest_mode", std::string("round_prefer_ceil")},
   {"coordinate_transformation_mode", std::string("align_corners")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), Tensor(), I64({4}, {1, 1, 5, 3})},
              {F32({1, 1, 5, 3}, {1.0f, 3.0f, 4.0f, 5.0f, 7.0f, 8.0f, 5.0f, 7.0f, 8.0f, 9.0f,
               11.0f, 12.0f, 9.0f, 11.0f, 12.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/nearest_round_prefer_ceil_asymmetric_sizes", "Resize", 13, Attrs({{"mode",
   std::string("nearest")}, {"nearest_mode", std::string("round_prefer_ceil")},
   {"coordinate_transformation_mode", std::string("asymmetric")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), Tensor(), I64({4}, {1, 1, 5, 3})},
              {F32({1, 1, 5, 3}, {1.0f, 2.0f, 4.0f, 5.0f, 6.0f, 8.0f, 5.0f, 6.0f, 8.0f, 9.0f,
               10.0f, 12.0f, 9.0f, 10.0f, 12.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/nearest_floor_half_pixel_sizes", "Resize", 13, Attrs({{"mode",
   std::string("nearest")}, {"nearest_mode", std::string("floor")},
   {"coordinate_transformation_mode", std::string("half_pixel")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), Tensor(), I64({4}, {1, 1, 5, 3})},
              {F32({1, 1, 5, 3}, {1.0f, 2.0f, 3.0f, 1.0f, 2.0f, 3.0f, 5.0f, 6.0f, 7.0f, 5.0f,
               6.0f, 7.0f, 9.0f, 10.0f, 11.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/nearest_floor_align_corners_sizes", "Resize", 13, Attrs({{"mode",
   std::string("nearest")}, {"nearest_mode", std::string("floor")},
   {"coordinate_transformation_mode", std::string("align_corners")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), Tensor(), I64({4}, {1, 1, 5, 3})},
              {F32({1, 1, 5, 3}, {1.0f, 2.0f, 4.0f, 1.0f, 2.0f, 4.0f, 5.0f, 6.0f, 8.0f, 5.0f,
               6.0f, 8.0f, 9.0f, 10.0f, 12.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/nearest_floor_asymmetric_sizes", "Resize", 13, Attrs({{"mode",
   std::string("nearest")}, {"nearest_mode", std::string("floor")},
   {"coordinate_transformation_mode", std::string("asymmetric")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), Tensor(), I64({4}, {1, 1, 5, 3})},
              {F32({1, 1, 5, 3}, {1.0f, 2.0f, 3.0f, 1.0f, 2.0f, 3.0f, 5.0f, 6.0f, 7.0f, 5.0f,
               6.0f, 7.0f, 9.0f, 10.0f, 11.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/nearest_ceil_half_pixel_sizes", "Resize", 13, Attrs({{"mode",
   std::string("nearest")}, {"nearest_mode", std::string("ceil")},
   {"coordinate_transformation_mode", std::string("half_pixel")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), Tensor(), I64({4}, {1, 1, 5, 3})},
              {F32({1, 1, 5, 3}, {2.0f, 3.0f, 4.0f, 6.0f, 7.0f, 8.0f, 6.0f, 7.0f, 8.0f, 10.0f,
               11.0f, 12.0f, 10.0f, 11.0f, 12.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/nearest_ceil_align_corners_sizes", "Resize", 13, Attrs({{"mode",
   std::string("nearest")}, {"nearest_mode", std::string("ceil")},
   {"coordinate_transformation_mode", std::string("align_corners")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), Tensor(), I64({4}, {1, 1, 5, 3})},
              {F32({1, 1, 5, 3}, {1.0f, 3.0f, 4.0f, 5.0f, 7.0f, 8.0f, 5.0f, 7.0f, 8.0f, 9.0f,
               11.0f, 12.0f, 9.0f, 11.0f, 12.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/nearest_ceil_asymmetric_sizes", "Resize", 13, Attrs({{"mode",
   std::string("nearest")}, {"nearest_mode", std::string("ceil")},
   {"coordinate_transformation_mode", std::string("asymmetric")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), Tensor(), I64({4}, {1, 1, 5, 3})},
              {F32({1, 1, 5, 3}, {1.0f, 3.0f, 4.0f, 5.0f, 7.0f, 8.0f, 9.0f, 11.0f, 12.0f, 9.0f,
               11.0f, 12.0f, 9.0f, 11.0f, 12.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/trilinear_3d", "Resize", 13, Attrs({{"mode", std::string("linear")}}),
              {F32({2, 3, 4}, {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.5f, 3.0f, 3.5f, 4.0f, 4.5f, 5.0f,
               5.5f, 6.0f, 6.5f, 7.0f, 7.5f, 8.0f, 8.5f, 9.0f, 9.5f, 10.0f, 10.5f, 11.0f, 11.5f}),
               Tensor(), F32({3}, {1.5f, 0.7f, 2.0f})},
              {F32({3, 2, 8}, {0.42857146f, 0.55357146f, 0.80357146f, 1.0535715f, 1.3035715f,
               1.5535715f, 1.8035715f, 1.9285715f, 3.2857144f, 3.4107144f, 3.6607144f, 3.9107144f,
               4.160714f, 4.410714f, 4.660714f, 4.785714f, 3.4285715f, 3.5535715f, 3.8035715f,
               4.053571f, 4.303571f, 4.553571f, 4.803571f, 4.928571f, 6.285714f, 6.410714f,
               6.660714f, 6.910714f, 7.160714f, 7.410714f, 7.660714f, 7.785714f, 6.428571f,
               6.553571f, 6.803571f, 7.053571f, 7.303571f, 7.553571f, 7.803571f, 7.928571f,
               9.285714f, 9.410714f, 9.660714f, 9.910714f, 10.160714f, 10.410714f, 10.660714f,
               10.785714f})}, 1e-5, 1e-6});
  c.push_back({"Resize/cubic_exclude_outside_a_half", "Resize", 13, Attrs({{"mode",
   std::string("cubic")}, {"cubic_coeff_a", -0.5f}, {"exclude_outside", int64_t{1}}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), F32({4}, {1.0f, 1.0f, 2.0f, 2.0f})},
              {F32({1, 1, 6, 8}, {0.5588235f, 0.81494206f, 1.3569825f, 1.8970588f, 2.3970587f,
               2.9371352f, 3.4791756f, 3.735294f, 1.5832976f, 1.839416f, 2.3814566f, 2.9215329f,
               3.4215329f, 3.9616091f, 4.5036497f, 4.759768f, 3.7514594f, 4.007578f, 4.5496182f,
               5.0896945f, 5.5896945f, 6.1297708f, 6.6718116f, 6.92793f, 6.07207f, 6.3281884f,
               6.8702292f, 7.4103055f, 7.9103055f, 8.450381f, 8.992422f, 9.248541f, 8.2402315f,
               8.49635f, 9.038391f, 9.578467f, 10.078467f, 10.618544f, 11.1605835f, 11.416702f,
               9.264706f, 9.520824f, 10.062865f, 10.6029415f, 11.1029415f, 11.643018f, 12.185058f,
               12.441176f})}, 1e-5, 1e-6});
  c.push_back({"Resize/tf_crop_and_resize_extrapolation", "Resize", 11, Attrs({{"mode",
   std::string("linear")}, {"coordinate_transformation_mode", std::string("tf_crop_and_resize")},
   {"extrapolation_value", -1.0f}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), F32({8}, {0.0f, 0.0f, 0.2f, 0.1f, 1.0f, 1.0f, 1.3f, 0.8f}),
               F32({0}, {}), I64({4}, {1, 1, 4, 3})},
              {F32({1, 1, 4, 3}, {2.9f, 3.95f, 5.0f, 5.833333f, 6.883333f, 7.933333f, 8.766666f,
               9.816667f, 10.866666f, -1.0f, -1.0f, -1.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/tf_crop_and_resize_nearest", "Resize", 13, Attrs({{"mode",
   std::string("nearest")}, {"coordinate_transformation_mode", std::string("tf_crop_and_resize")},
   {"extrapolation_value", 7.0f}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), F32({8}, {0.0f, 0.0f, 0.2f, 0.1f, 1.0f, 1.0f, 1.3f, 0.8f}),
               Tensor(), I64({4}, {1, 1, 4, 3})},
              {F32({1, 1, 4, 3}, {1.0f, 2.0f, 3.0f, 5.0f, 6.0f, 7.0f, 9.0f, 10.0f, 11.0f, 7.0f,
               7.0f, 7.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/tf_half_pixel_for_nn_opset11", "Resize", 11,
   Attrs({{"coordinate_transformation_mode", std::string("tf_half_pixel_for_nn")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), F32({0}, {}), F32({4}, {1.0f, 1.0f, 2.0f, 0.5f})},
              {F32({1, 1, 6, 2}, {2.0f, 4.0f, 6.0f, 8.0f, 6.0f, 8.0f, 10.0f, 12.0f, 10.0f, 12.0f,
               10.0f, 12.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/nearest_uint8", "Resize", 13, Attrs({}),
              {U8({1, 1, 3, 4}, {0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 220}), Tensor(),
               F32({4}, {1.0f, 1.0f, 2.0f, 1.5f})},
              {U8({1, 1, 6, 6}, {0, 0, 20, 40, 40, 60, 0, 0, 20, 40, 40, 60, 80, 80, 100, 120,
               120, 140, 80, 80, 100, 120, 120, 140, 160, 160, 180, 200, 200, 220, 160, 160, 180,
               200, 200, 220})}, 1e-5, 1e-6});
  c.push_back({"Resize/linear_int32_truncates", "Resize", 13, Attrs({{"mode",
   std::string("linear")}}),
              {I32({1, 1, 3, 4}, {0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 220}),
               Tensor(), F32({4}, {1.0f, 1.0f, 1.5f, 1.5f})},
              {I32({1, 1, 4, 6}, {0, 10, 23, 36, 50, 60, 40, 50, 63, 76, 90, 100, 93, 103, 116,
               130, 143, 153, 146, 156, 170, 183, 196, 206})}, 1e-5, 1e-6});
  c.push_back({"Resize/nearest_strings", "Resize", 13, Attrs({}),
              {Str({2, 3}, {"a", "bb", "ccc", "d", "e", "f"}), Tensor(), F32({2}, {1.0f, 2.0f})},
              {Str({2, 6}, {"a", "a", "bb", "bb", "ccc", "ccc", "d", "d", "e", "e", "f", "f"})},
               1e-5, 1e-6});
  c.push_back({"Resize/float16_linear", "Resize", 13, Attrs({{"mode", std::string("linear")}}),
              {F16({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), F32({4}, {1.0f, 1.0f, 2.0f, 2.0f})},
              {F16({1, 1, 6, 8}, {1.0f, 1.25f, 1.75f, 2.25f, 2.75f, 3.25f, 3.75f, 4.0f, 2.0f,
               2.25f, 2.75f, 3.25f, 3.75f, 4.25f, 4.75f, 5.0f, 4.0f, 4.25f, 4.75f, 5.25f, 5.75f,
               6.25f, 6.75f, 7.0f, 6.0f, 6.25f, 6.75f, 7.25f, 7.75f, 8.25f, 8.75f, 9.0f, 8.0f,
               8.25f, 8.75f, 9.25f, 9.75f, 10.25f, 10.75f, 11.0f, 9.0f, 9.25f, 9.75f, 10.25f,
               10.75f, 11.25f, 11.75f, 12.0f})}, 1e-5, 1e-6});
  c.push_back({"Resize/opset10_nearest", "Resize", 10, Attrs({}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), F32({4}, {1.0f, 1.0f, 0.6f, 2.5f})},
              {F32({1, 1, 1, 10}, {1.0f, 1.0f, 1.0f, 2.0f, 2.0f, 3.0f, 3.0f, 3.0f, 4.0f, 4.0f})},
               1e-5, 1e-6});
  c.push_back({"Resize/opset10_linear", "Resize", 10, Attrs({{"mode", std::string("linear")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), F32({4}, {1.0f, 1.0f, 0.6f, 2.5f})},
              {F32({1, 1, 1, 10}, {1.0f, 1.4f, 1.8f, 2.2f, 2.6f, 3.0f, 3.4f, 3.8f, 4.0f, 4.0f})},
               1e-5, 1e-6});
  c.push_back({"Upsample/opset7_scales_attr", "Upsample", 7, Attrs({{"scales",
   std::vector<float>{1.0f, 1.0f, 2.0f, 3.0f}}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f})},
              {F32({1, 1, 6, 12}, {1.0f, 1.0f, 1.0f, 2.0f, 2.0f, 2.0f, 3.0f, 3.0f, 3.0f, 4.0f,
               4.0f, 4.0f, 1.0f, 1.0f, 1.0f, 2.0f, 2.0f, 2.0f, 3.0f, 3.0f, 3.0f, 4.0f, 4.0f, 4.0f,
               5.0f, 5.0f, 5.0f, 6.0f, 6.0f, 6.0f, 7.0f, 7.0f, 7.0f, 8.0f, 8.0f, 8.0f, 5.0f, 5.0f,
               5.0f, 6.0f, 6.0f, 6.0f, 7.0f, 7.0f, 7.0f, 8.0f, 8.0f, 8.0f, 9.0f, 9.0f, 9.0f,
               10.0f, 10.0f, 10.0f, 11.0f, 11.0f, 11.0f, 12.0f, 12.0f, 12.0f, 9.0f, 9.0f, 9.0f,
               10.0f, 10.0f, 10.0f, 11.0f, 11.0f, 11.0f, 12.0f, 12.0f, 12.0f})}, 1e-5, 1e-6});
  c.push_back({"Upsample/opset9_linear", "Upsample", 9, Attrs({{"mode", std::string("linear")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), F32({4}, {1.0f, 1.0f, 2.0f, 2.0f})},
              {F32({1, 1, 6, 8}, {1.0f, 1.5f, 2.0f, 2.5f, 3.0f, 3.5f, 4.0f, 4.0f, 3.0f, 3.5f,
               4.0f, 4.5f, 5.0f, 5.5f, 6.0f, 6.0f, 5.0f, 5.5f, 6.0f, 6.5f, 7.0f, 7.5f, 8.0f, 8.0f,
               7.0f, 7.5f, 8.0f, 8.5f, 9.0f, 9.5f, 10.0f, 10.0f, 9.0f, 9.5f, 10.0f, 10.5f, 11.0f,
               11.5f, 12.0f, 12.0f, 9.0f, 9.5f, 10.0f, 10.5f, 11.0f, 11.5f, 12.0f, 12.0f})}, 1e-5,
               1e-6});
  return c;
}

std::vector<FailCase> ResizeFailCases() {
  std::vector<FailCase> f;
  f.push_back({"Resize/scales_and_sizes", "Resize", 13, Attrs({}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), F32({4}, {1.0f, 1.0f, 1.0f, 1.0f}), I64({4}, {1, 1, 3,
               4})}, 1});
  f.push_back({"Resize/neither", "Resize", 13, Attrs({}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f})}, 1});
  f.push_back({"Resize/scales_length", "Resize", 13, Attrs({}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), F32({3}, {1.0f, 1.0f, 1.0f})}, 1});
  f.push_back({"Resize/negative_scale", "Resize", 13, Attrs({}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), F32({4}, {1.0f, 1.0f, -1.0f, 1.0f})}, 1});
  f.push_back({"Resize/bad_mode", "Resize", 13, Attrs({{"mode", std::string("area")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), F32({4}, {1.0f, 1.0f, 1.0f, 1.0f})}, 1});
  f.push_back({"Resize/cubic_in_opset10", "Resize", 10, Attrs({{"mode", std::string("cubic")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), F32({4}, {1.0f, 1.0f, 1.0f, 1.0f})}, 1});
  f.push_back({"Resize/bad_coordinate_mode", "Resize", 13,
   Attrs({{"coordinate_transformation_mode", std::string("center")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), F32({4}, {1.0f, 1.0f, 1.0f, 1.0f})}, 1});
  f.push_back({"Resize/tf_crop_without_roi", "Resize", 13,
   Attrs({{"coordinate_transformation_mode", std::string("tf_crop_and_resize")}}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), F32({4}, {1.0f, 1.0f, 1.0f, 1.0f})}, 1});
  f.push_back({"Resize/linear_strings", "Resize", 13, Attrs({{"mode", std::string("linear")}}),
              {Str({2, 3}, {"a", "bb", "ccc", "d", "e", "f"}), Tensor(), F32({2}, {1.0f, 2.0f})},
               1});
  f.push_back({"Resize/float_sizes", "Resize", 13, Attrs({}),
              {F32({1, 1, 3, 4}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f, 10.0f,
               11.0f, 12.0f}), Tensor(), Tensor(), F32({4}, {1.0f, 1.0f, 1.0f, 1.0f})}, 1});
  return f;
}
// clang-format on

TEST(TensorOpsTest, CaseTable) { RunCases(TensorCases()); }
TEST(TensorOpsTest, FailCaseTable) { RunFailCases(TensorFailCases()); }
TEST(ResizeOpsTest, CaseTable) { RunCases(ResizeCases()); }
TEST(ResizeOpsTest, FailCaseTable) { RunFailCases(ResizeFailCases()); }

// ONNX TensorProto data type codes, for Cast's `to`.
int64_t OnnxCode(DType d) {
  switch (d) {
    case DType::kFloat32:
      return 1;
    case DType::kUInt8:
      return 2;
    case DType::kInt8:
      return 3;
    case DType::kUInt16:
      return 4;
    case DType::kInt16:
      return 5;
    case DType::kInt32:
      return 6;
    case DType::kInt64:
      return 7;
    case DType::kString:
      return 8;
    case DType::kBool:
      return 9;
    case DType::kFloat16:
      return 10;
    case DType::kFloat64:
      return 11;
    case DType::kUInt32:
      return 12;
    case DType::kUInt64:
      return 13;
    case DType::kBFloat16:
      return 16;
    default:
      return 0;
  }
}

Tensor Run1(const std::string& op, int opset, AttributeMap attrs, std::vector<Tensor> inputs) {
  absl::StatusOr<std::vector<Tensor>> out = RunOp({op, opset, std::move(attrs), std::move(inputs)});
  EXPECT_TRUE(out.ok()) << op << ": " << out.status();
  return out.ok() ? (*out)[0] : Tensor();
}

Tensor CastTo(const Tensor& x, DType d) {
  return Run1("Cast", 13, Attrs({{"to", OnnxCode(d)}}), {x});
}

// The data-movement kernels copy elements by storage type: each must commute with an
// elementwise Cast, for every dtype (bool, strings, float16 and bfloat16 included).
TEST(TensorOpsTest, CopyKernelsServeEveryDType) {
  struct Step {
    std::string op;
    int opset;
    AttributeMap attrs;
    std::vector<Tensor> extra;  // inputs after the data
    bool fills = false;         // writes zeros (empty strings, which do not parse back)
  };
  const std::vector<Step> steps = {
      {"Transpose", 13, Attrs({{"perm", Ints{2, 0, 1}}}), {}},
      {"Slice",
       13,
       {},
       {I64({2}, {2, 3}), I64({2}, {-100, 0}), I64({2}, {1, 2}), I64({2}, {-1, -2})}},
      {"Gather", 13, Attrs({{"axis", int64_t{2}}}), {I64({2}, {3, -4})}},
      {"GatherElements", 13, Attrs({{"axis", int64_t{1}}}), {I64({1, 2, 1}, {2, 0})}},
      {"GatherND", 13, {}, {I64({2, 2}, {1, 2, 0, 1})}},
      {"Pad", 13, Attrs({{"mode", std::string("reflect")}}), {I64({6}, {0, 1, 2, 1, 0, 1})}},
      {"Pad", 13, Attrs({{"mode", std::string("edge")}}), {I64({6}, {1, 0, 0, 0, 2, 0})}},
      {"Pad", 13, {}, {I64({6}, {0, 0, 1, 0, 0, 0})}, true},
      {"Tile", 13, {}, {I64({3}, {1, 2, 1})}},
      {"Expand", 13, {}, {I64({4}, {2, 1, 1, 1})}},
      {"Reshape", 13, {}, {I64({2}, {4, -1})}},
      {"Unsqueeze", 13, {}, {I64({1}, {1})}},
      {"Compress", 13, Attrs({{"axis", int64_t{2}}}), {Bool({3}, {true, false, true})}},
      {"Trilu", 14, {}, {}, true},
      {"ReverseSequence", 10, {}, {I64({3}, {2, 0, 1})}},
      {"ScatterElements", 13, Attrs({{"axis", int64_t{2}}}), {I64({1, 1, 1}, {3})}},
      {"Identity", 13, {}, {}},
  };
  std::vector<int64_t> iota(24);
  for (int64_t i = 0; i < 24; ++i) iota[i] = i % 7 + (i % 3 == 0 ? 0 : 1);
  const Tensor base = I64({2, 3, 4}, iota);
  for (DType d : {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16, DType::kInt8,
                  DType::kInt16, DType::kInt32, DType::kInt64, DType::kUInt8, DType::kUInt16,
                  DType::kUInt32, DType::kUInt64, DType::kBool, DType::kString}) {
    const Tensor x = CastTo(base, d);
    for (const Step& s : steps) {
      if (s.fills && d == DType::kString) continue;
      SCOPED_TRACE(absl::StrCat(s.op, " on ", DTypeName(d)));
      std::vector<Tensor> typed = {x}, ints = {CastTo(x, DType::kInt64)};
      for (Tensor e : s.extra) {
        typed.push_back(e);
        ints.push_back(e);
      }
      if (s.op == "ScatterElements") {  // updates of the data's dtype
        typed.push_back(CastTo(I64({1, 1, 1}, {5}), d));
        ints.push_back(CastTo(typed.back(), DType::kInt64));
      }
      const Tensor got = CastTo(Run1(s.op, s.opset, s.attrs, typed), DType::kInt64);
      const Tensor want = Run1(s.op, s.opset, s.attrs, ints);
      EXPECT_EQ(CompareTensors(got, want), "");
    }
  }
}

// Split then Concat along each axis restores the input.
TEST(TensorOpsTest, SplitThenConcatRoundTrips) {
  std::vector<float> v(60);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) * 0.5f - 7;
  const Tensor x = F32({3, 4, 5}, v);
  for (int64_t axis = -3; axis < 3; ++axis) {
    const int64_t dim = x.dim(static_cast<int>(axis < 0 ? axis + 3 : axis));
    SCOPED_TRACE(axis);
    absl::StatusOr<std::vector<Tensor>> parts =
        RunOp({"Split", 13, Attrs({{"axis", axis}}), {x, I64({2}, {1, dim - 1})}, 2});
    ASSERT_TRUE(parts.ok()) << parts.status();
    const Tensor back = Run1("Concat", 13, Attrs({{"axis", axis}}), *parts);
    EXPECT_EQ(CompareTensors(back, x), "");
  }
}

// Shape inference with inputs that are not constants: what can be known, is.
TEST(TensorOpsTest, InferenceWithUnknownValues) {
  struct InferCase {
    std::string op;
    int opset;
    AttributeMap attrs;
    std::vector<TensorType> inputs;
    TensorType expected;
  };
  const TensorType f32_234{DType::kFloat32, Shape{2, 3, 4}};
  const TensorType i64_2{DType::kInt64, Shape{2}};
  const std::vector<InferCase> cases = {
      {"Reshape", 13, {}, {f32_234, i64_2}, {DType::kFloat32, Shape{-1, -1}}},
      {"Slice", 13, {}, {f32_234, i64_2, i64_2}, {DType::kFloat32, Shape{-1, -1, -1}}},
      {"Unsqueeze", 13, {}, {f32_234, i64_2}, {DType::kFloat32, Shape{-1, -1, -1, -1, -1}}},
      {"Squeeze",
       11,
       Attrs({{"axes", Ints{0}}}),
       {{DType::kFloat32, Shape{-1, 3}}},
       {DType::kFloat32, Shape{3}}},
      {"Transpose", 13, {}, {{DType::kInt8, Shape{-1, 3}}}, {DType::kInt8, Shape{3, -1}}},
      {"Concat",
       13,
       Attrs({{"axis", int64_t{1}}}),
       {{DType::kFloat32, Shape{-1, 2}}, {DType::kFloat32, Shape{5, 3}}},
       {DType::kFloat32, Shape{5, 5}}},
      {"Gather",
       13,
       Attrs({{"axis", int64_t{1}}}),
       {f32_234, {DType::kInt64, Shape{7}}},
       {DType::kFloat32, Shape{2, 7, 4}}},
      {"Cast", 13, Attrs({{"to", int64_t{10}}}), {f32_234}, {DType::kFloat16, Shape{2, 3, 4}}},
      {"Shape", 15, Attrs({{"start", int64_t{1}}}), {f32_234}, {DType::kInt64, Shape{2}}},
      {"Flatten",
       13,
       Attrs({{"axis", int64_t{2}}}),
       {{DType::kBool, Shape{-1, 3, 4}}},
       {DType::kBool, Shape{-1, 4}}},
      {"Pad", 13, {}, {f32_234, {DType::kInt64, Shape{6}}}, {DType::kFloat32, Shape{-1, -1, -1}}},
      {"Resize",
       13,
       {},
       {{DType::kFloat32, Shape{1, 3, 8, 8}}, {}, {DType::kFloat32, Shape{4}}},
       {DType::kFloat32, Shape{-1, -1, -1, -1}}},
      {"NonZero", 13, {}, {f32_234}, {DType::kInt64, Shape{3, -1}}},
      {"Range",
       11,
       {},
       {{DType::kInt32, Shape{}}, {DType::kInt32, Shape{}}, {DType::kInt32, Shape{}}},
       {DType::kInt32, Shape{-1}}},
      {"Constant", 13, Attrs({{"value_ints", Ints{1, 2, 3}}}), {}, {DType::kInt64, Shape{3}}},
  };
  for (const InferCase& c : cases) {
    SCOPED_TRACE(c.op);
    const OpSchema* schema = OpRegistry::Global().FindSchema("", c.op, c.opset);
    ASSERT_NE(schema, nullptr);
    AttributeMap attrs = c.attrs;
    ASSERT_TRUE(schema->Complete(static_cast<int>(c.inputs.size()), 1, attrs).ok());
    InferenceContext ctx(c.inputs, std::vector<const Tensor*>(c.inputs.size(), nullptr), &attrs,
                         c.opset, 1);
    ASSERT_TRUE(schema->RunInference(ctx).ok());
    EXPECT_EQ(ctx.outputs()[0].dtype, c.expected.dtype);
    ASSERT_TRUE(ctx.outputs()[0].shape.has_value());
    EXPECT_EQ(*ctx.outputs()[0].shape, *c.expected.shape);
  }
}

// Kernels are immutable: one instance serves concurrent requests.
TEST(TensorOpsTest, OneKernelServesConcurrentRequests) {
  AttributeMap attrs = Attrs({{"axis", int64_t{1}}});
  const KernelDef* def =
      OpRegistry::Global().FindKernel(kCpuBackend, "", "Gather", 13, DType::kFloat32);
  ASSERT_NE(def, nullptr);
  KernelInfo info{"Gather", "", 13, "g", &attrs, {DType::kFloat32, DType::kInt64}, {}, 1};
  auto kernel = def->factory(info);
  ASSERT_TRUE(kernel.ok());
  std::vector<float> v(4000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  const Tensor x = F32({40, 100}, v);
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const Tensor idx = I64({1}, {t * 10 + 3});
      for (int r = 0; r < 50; ++r) {
        KernelContext ctx({&x, &idx}, 1);
        if (!(*kernel)->Compute(ctx).ok() || ctx.output(0).data<float>()[39] != 3900 + t * 10 + 3) {
          ++failures[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace cortado
