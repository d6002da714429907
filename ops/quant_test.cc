// Tests for the quantization family. Expected values come from independent numpy references
// (np.rint for round-half-to-even, np.clip for saturation, a plain-loop convolution) written for
// these tests; ONNX's own node tests run in tests/onnx_conformance.
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "ops/op_test_util.h"

namespace cortado {
namespace {

template <typename E>
Tensor V(const std::vector<E>& values, Shape shape) {
  return Tensor::FromVector<E>(values, std::move(shape));
}

AttributeMap Attrs(std::initializer_list<std::pair<const char*, AttrValue>> values) {
  AttributeMap attrs;
  for (const auto& [name, value] : values) attrs.Set(name, value);
  return attrs;
}

struct OpCase {
  std::string name;
  std::string op;
  int opset;
  AttributeMap attrs;
  std::vector<Tensor> inputs;  // undefined = absent optional input
  std::vector<Tensor> expected;
  double rtol, atol;
};

// Runs every case and compares every output with the reference.
void RunCases(const std::vector<OpCase>& cases) {
  for (const OpCase& c : cases) {
    SCOPED_TRACE(c.name);
    OpRun run{c.op, c.opset, c.attrs, c.inputs, static_cast<int>(c.expected.size())};
    auto out = RunOp(run);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->size(), c.expected.size());
    for (size_t i = 0; i < c.expected.size(); ++i) {
      EXPECT_EQ(CompareTensors((*out)[i], c.expected[i], c.rtol, c.atol), "") << "output " << i;
    }
  }
}

struct BadCase {
  std::string name;
  std::string op;
  AttributeMap attrs;
  std::vector<Tensor> inputs;
  int num_outputs;
};

// Every bad case must fail with InvalidArgument (not crash, not succeed).
void RunBadCases(const std::vector<BadCase>& cases) {
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    OpRun run{c.op, kMaxOpset, c.attrs, c.inputs, c.num_outputs};
    auto out = RunOp(run);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  }
}

TEST(QuantTest, MatchesNumpyReference) {
  RunCases({
      {"quantize_uint8_ties_to_even_and_saturation",
       "QuantizeLinear",
       13,
       Attrs({}),
       {V<float>({0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 300.0, -300.0, 7.2}, {9}), V<float>({1.0}, {}),
        V<uint8_t>({10}, {})},
       {V<uint8_t>({10, 12, 12, 10, 8, 8, 255, 0, 17}, {9})},
       0.0001,
       1e-05},
      {"quantize_int8_scale_half",
       "QuantizeLinear",
       13,
       Attrs({}),
       {V<float>({1.0, -0.75, 0.25, -0.25, 100.0, -100.0, 3.1}, {7}), V<float>({0.5}, {}),
        V<int8_t>({-3}, {})},
       {V<int8_t>({-1, -5, -3, -3, 127, -128, 3}, {7})},
       0.0001,
       1e-05},
      {"quantize_without_zero_point_is_uint8",
       "QuantizeLinear",
       10,
       Attrs({}),
       {V<float>({-1.0, 0.2, 1.1, 2.6}, {4}), V<float>({0.1}, {})},
       {V<uint8_t>({0, 2, 11, 26}, {4})},
       0.0001,
       1e-05},
      {"quantize_per_axis_int8_axis1",
       "QuantizeLinear",
       13,
       Attrs({}),
       {V<float>({-2.97, -0.01, 0.81, -3.77, -2.82, 3.43, -3.44, -2.96, 3.59, 0.98, -1.05, 0.09},
                 {2, 3, 2}),
        V<float>({0.05, 0.1, 0.02}, {3}), V<int8_t>({-10, 0, 7}, {3})},
       {V<int8_t>({-69, -10, 8, -38, -128, 127, -79, -69, 36, 10, -45, 12}, {2, 3, 2})},
       0.0001,
       1e-05},
      {"quantize_per_axis_uint8_negative_axis",
       "QuantizeLinear",
       13,
       Attrs({{"axis", int64_t{-1}}}),
       {V<float>({-2.97, -0.01, 0.81, -3.77, -2.82, 3.43, -3.44, -2.96, 3.59, 0.98, -1.05, 0.09},
                 {2, 3, 2}),
        V<float>({0.03, 0.07}, {2}), V<uint8_t>({100, 30}, {2})},
       {V<uint8_t>({1, 30, 127, 0, 6, 79, 0, 0, 220, 44, 65, 31}, {2, 3, 2})},
       0.0001,
       1e-05},
      {"quantize_int32_input",
       "QuantizeLinear",
       13,
       Attrs({}),
       {V<int32_t>({-1000, -3, 0, 5, 254, 1000}, {6}), V<float>({2.0}, {}), V<uint8_t>({128}, {})},
       {V<uint8_t>({0, 126, 128, 130, 255, 255}, {6})},
       0.0001,
       1e-05},
      {"quantize_float64_input",
       "QuantizeLinear",
       13,
       Attrs({}),
       {V<double>({0.3, -0.3, 12.5, 13.5}, {4}), V<float>({1.0}, {}), V<int8_t>({0}, {})},
       {V<int8_t>({0, 0, 12, 14}, {4})},
       0.0001,
       1e-05},
      {"dequantize_int8",
       "DequantizeLinear",
       13,
       Attrs({}),
       {V<int8_t>({-128, -1, 0, 5, 127}, {5}), V<float>({0.25}, {}), V<int8_t>({-4}, {})},
       {V<float>({-31.0, 0.75, 1.0, 2.25, 32.75}, {5})},
       0.0001,
       1e-05},
      {"dequantize_per_axis_axis0",
       "DequantizeLinear",
       13,
       Attrs({{"axis", int64_t{0}}}),
       {V<uint8_t>({113, 169, 254, 70, 219, 35, 89, 201, 63, 171, 117, 131}, {3, 2, 2}),
        V<float>({0.5, 0.25, 2.0}, {3}), V<uint8_t>({128, 3, 255}, {3})},
       {V<float>({-7.5, 20.5, 63.0, -29.0, 54.0, 8.0, 21.5, 49.5, -384.0, -168.0, -276.0, -248.0},
                 {3, 2, 2})},
       0.0001,
       1e-05},
      {"dequantize_int32_without_zero_point",
       "DequantizeLinear",
       10,
       Attrs({}),
       {V<int32_t>({-70000, -1, 0, 123456}, {4}), V<float>({0.5}, {})},
       {V<float>({-35000.0, -0.5, 0.0, 61728.0}, {4})},
       0.0001,
       1e-05},
      {"dequantize_without_zero_point",
       "DequantizeLinear",
       13,
       Attrs({}),
       {V<uint8_t>({0, 1, 255}, {3}), V<float>({3.0}, {})},
       {V<float>({0.0, 3.0, 765.0}, {3})},
       0.0001,
       1e-05},
      {"dynamic_quantize_mixed_signs",
       "DynamicQuantizeLinear",
       11,
       Attrs({}),
       {V<float>({3.717, 1.844, 4.866, -0.568, 1.876, 1.385, 0.473, 2.141, -0.353, 3.615}, {2, 5})},
       {V<uint8_t>({201, 114, 255, 0, 115, 92, 49, 127, 10, 197}, {2, 5}),
        V<float>({0.021309804}, {}), V<uint8_t>({27}, {})},
       0.0001,
       1e-05},
      {"dynamic_quantize_all_zero",
       "DynamicQuantizeLinear",
       11,
       Attrs({}),
       {V<float>({0.0, 0.0, 0.0}, {3})},
       {V<uint8_t>({0, 0, 0}, {3}), V<float>({1.0}, {}), V<uint8_t>({0}, {})},
       0.0001,
       1e-05},
      {"dynamic_quantize_all_positive",
       "DynamicQuantizeLinear",
       11,
       Attrs({}),
       {V<float>({0.1, 0.7, 1.9, 0.4}, {2, 2})},
       {V<uint8_t>({13, 94, 255, 54}, {2, 2}), V<float>({0.00745098}, {}), V<uint8_t>({0}, {})},
       0.0001,
       1e-05},
      {"matmulinteger_int8_uint8_scalar_zero_points",
       "MatMulInteger",
       10,
       Attrs({}),
       {V<int8_t>({98, 94, 119, -96, 71, -9, 47, -58, -125, -107, 121, 101}, {3, 4}),
        V<uint8_t>({77, 110, 61, 37, 219, 172, 19, 51}, {4, 2}), V<int8_t>({-5}, {}),
        V<uint8_t>({128}, {})},
       {V<int32_t>({9317, 1600, 6901, 5365, 12866, 8824}, {3, 2})},
       0.0001,
       1e-05},
      {"matmulinteger_batched_per_row_and_per_column",
       "MatMulInteger",
       10,
       Attrs({}),
       {V<uint8_t>({144, 230, 254, 55,  156, 8,  44,  51, 113, 88, 186, 120,
                    86,  231, 160, 178, 190, 86, 228, 4,  78,  40, 1,   255},
                   {2, 3, 4}),
        V<uint8_t>(
            {22, 117, 209, 176, 219, 13, 127, 8, 49, 216, 18, 150, 5, 79, 238, 81, 79, 22, 198, 44},
            {4, 5}),
        V<uint8_t>({1, 100, 250}, {3}), V<uint8_t>({0, 7, 255, 128, 3}, {5})},
       {V<int32_t>(
           {15051,  83277,  -138973, -19844, 141334, -4941,  -16416, 45565,   9270,  -22669,
            -16802, -53022, 92606,   258,    -84468, 22059,  72431,  -141711, -9491, 111972,
            -3674,  19612,  -10314,  -7566,  42602,  -10591, -79367, 120867,  20885, -140192},
           {2, 3, 5})},
       0.0001,
       1e-05},
      {"matmulinteger_vector_times_batch",
       "MatMulInteger",
       10,
       Attrs({}),
       {V<int8_t>({-1, -122, -123, 86}, {4}),
        V<int8_t>({-126, -9,  -19, -96,  37,  61, 124, -78, 108, -113, -92, 25,
                   94,   101, 61,  -122, -22, 78, 7,   -80, 46,  -105, 50,  -124},
                  {2, 4, 3})},
       {V<int32_t>({-13132, -2823, -18557, 4899, 16723, -25899}, {2, 3})},
       0.0001,
       1e-05},
      {"qlinearmatmul_uint8_per_tensor",
       "QLinearMatMul",
       10,
       Attrs({}),
       {V<uint8_t>({92, 75, 240, 186, 167, 126, 73, 218, 242, 55, 62, 80, 122, 66, 103}, {3, 5}),
        V<float>({0.02}, {}), V<uint8_t>({120}, {}),
        V<uint8_t>({250, 94, 240, 128, 87, 239, 111, 198, 80, 255}, {5, 2}), V<float>({0.015}, {}),
        V<uint8_t>({130}, {}), V<float>({0.05}, {}), V<uint8_t>({128}, {})},
       {V<uint8_t>({26, 255, 82, 192, 71, 108}, {3, 2})},
       0.0001,
       1e-05},
      {"qlinearmatmul_int8_per_row_per_column_batched",
       "QLinearMatMul",
       10,
       Attrs({}),
       {V<int8_t>({63, 96,  -118, -101, -111, 8,   -25, 122, -66, -85, 88,  -51,
                   61, -54, 11,   -108, 41,   106, 49,  97,  71,  17,  109, -6},
                  {2, 3, 4}),
        V<float>({0.01, 0.02, 0.03}, {3}), V<int8_t>({-1, 0, 5}, {3}),
        V<uint8_t>({38, 142, 160, 45, 36, 169, 113, 123}, {4, 2}), V<float>({0.05, 0.004}, {2}),
        V<uint8_t>({128, 100}, {2}), V<float>({0.08}, {}), V<int8_t>({-2}, {})},
       {V<int8_t>({58, -9, 127, -6, -64, 8, -44, 0, -80, 0, -128, 12}, {2, 3, 2})},
       0.0001,
       1e-05},
      {"convinteger_group_strides_dilations_pads_per_channel_w_zp",
       "ConvInteger",
       10,
       Attrs({{"group", int64_t{2}},
              {"strides", std::vector<int64_t>{2, 1}},
              {"dilations", std::vector<int64_t>{1, 2}},
              {"pads", std::vector<int64_t>{1, 0, 0, 2}}}),
       {V<int8_t>(
            {73,   47,   101,  -86, 66,   10,   -119, -110, -36, 35,  -87,  11,  127,  -92, -92,
             119,  -66,  95,   -37, 65,   -113, 33,   94,   -42, 34,  -73,  -88, -128, -1,  5,
             -108, -70,  28,   -35, -69,  -127, -119, 35,   -99, 88,  14,   -64, 35,   -87, -45,
             -1,   36,   -93,  -38, -105, -95,  -71,  -48,  104, -27, -101, 105, 17,   -99, -107,
             -106, 105,  15,   46,  118,  -26,  104,  -25,  51,  83,  -111, 59,  78,   120, 46,
             -4,   -92,  68,   -9,  78,   -116, -40,  77,   28,  55,  23,   77,  84,   66,  41,
             -60,  -109, 74,   -39, -65,  -128, -93,  -119, -29, -53, -1,   18,  -55,  8,   27,
             44,   26,   -120, -67, 75,   31,   -53,  -37,  109, 60,  -33,  -54, -95,  76,  33},
            {1, 4, 5, 6}),
        V<int8_t>({-22, 49,  13,   8,  44,  67, 4,  -23, -63, -51, 122, -81, -104, 29,  -45, -104,
                   12,  63,  -121, -4, -89, 19, 76, 77,  72,  -53, 35,  38,  102,  49,  65,  -103,
                   -52, -34, 37,   94, -41, -1, 63, -79, -30, -79, -89, 49,  96,   -90, 48,  49},
                  {4, 2, 2, 3}),
        V<int8_t>({4}, {}), V<int8_t>({1, -2, 0, 3}, {4})},
       {V<int32_t>({23460,  6698,   -6736, -14195, -16772, 28983, -1259, -5252, 20188,  4496,
                    -10612, -20488, -7897, -20201, -14216, -1773, 10109, 21700, 23775,  -30932,
                    822,    -2813,  30010, 9434,   808,    -3505, 7113,  -4886, 5355,   -10786,
                    -315,   -2098,  17855, 24542,  7203,   -7707, 5237,  -4706, -14279, -4395,
                    3405,   -4516,  -227,  -8564,  -6788,  -7941, 1220,  14645},
                   {1, 4, 3, 4})},
       0.0001,
       1e-05},
      {"convinteger_1d_same_upper",
       "ConvInteger",
       10,
       Attrs({{"auto_pad", std::string("SAME_UPPER")}, {"strides", std::vector<int64_t>{2}}}),
       {V<uint8_t>({190, 179, 143, 29, 200, 49, 114, 243, 144, 74, 16, 65, 142, 217}, {2, 1, 7}),
        V<uint8_t>({208, 54, 180, 166, 205, 127}, {2, 1, 3}), V<uint8_t>({128}, {}),
        V<uint8_t>({100}, {})},
       {V<int32_t>({1228, -3102, -20324, -7888, 7887, 2268, -1107, -6684, -4010, -4748, -8078,
                    -2582, 12507, -7638, -13629, 10269},
                   {2, 2, 4})},
       0.0001,
       1e-05},
      {"convinteger_3d_valid_without_zero_points",
       "ConvInteger",
       10,
       Attrs({{"auto_pad", std::string("VALID")}, {"kernel_shape", std::vector<int64_t>{2, 2, 2}}}),
       {V<uint8_t>({127, 107, 225, 134, 27,  129, 224, 214, 95,  225, 23,  191, 158, 2,   116,
                    97,  109, 66,  218, 211, 35,  195, 157, 47,  105, 71,  135, 33,  127, 29,
                    34,  217, 131, 73,  220, 85,  43,  230, 2,   241, 17,  206, 117, 32,  249,
                    109, 11,  184, 253, 39,  137, 237, 30,  202, 107, 13,  53,  219, 182, 226,
                    138, 33,  73,  76,  65,  20,  221, 24,  196, 183, 111, 160},
                   {1, 2, 3, 3, 4}),
        V<uint8_t>({103, 134, 188, 117, 248, 214, 20, 231, 40, 53, 92, 209, 129, 193, 18, 191},
                   {1, 2, 2, 2, 2})},
       {V<int32_t>({242440, 276885, 309036, 294079, 303662, 300232, 181555, 219281, 245215, 219930,
                    299452, 299294},
                   {1, 1, 2, 2, 3})},
       0.0001,
       1e-05},
      {"qlinearconv_same_lower_bias_per_channel_int8_output",
       "QLinearConv",
       10,
       Attrs({{"auto_pad", std::string("SAME_LOWER")}}),
       {V<uint8_t>({13,  63, 56,  213, 98, 197, 189, 177, 156, 221, 7,   170, 11,  160, 115, 249,
                    223, 15, 234, 46,  93, 136, 227, 88,  237, 76,  104, 237, 190, 173, 93,  2},
                   {1, 2, 4, 4}),
        V<float>({0.03}, {}), V<uint8_t>({120}, {}),
        V<int8_t>({-89, -48, 19,  95,  -106, -114, 41, -67, 79,  20,  106, -13,
                   -14, 71,  -98, -74, 103,  -92,  94, 50,  119, -59, 24,  -118},
                  {3, 2, 2, 2}),
        V<float>({0.01, 0.02, 0.005}, {3}), V<int8_t>({0, 2, -1}, {3}), V<float>({0.2}, {}),
        V<int8_t>({3}, {}), V<int32_t>({100, -2000, 5}, {3})},
       {V<int8_t>({-22, 9,   -26, 29,  -7, 30,  15,  19,  3,   29,  -47, -31, -42, -18, 14, 26,
                   -22, -41, -12, -44, 20, -63, 1,   -39, -38, -18, 93,  -55, 12,  -73, 16, 26,
                   -10, 4,   -15, 11,  7,  12,  -12, 17,  -3,  5,   5,   -1,  -15, 2,   21, -1},
                  {1, 3, 4, 4})},
       0.0001,
       1e-05},
  });
}

TEST(QuantTest, RejectsBadInputs) {
  const Tensor x = V<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor u8 = V<uint8_t>({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor img = V<uint8_t>(std::vector<uint8_t>(16, 1), {1, 1, 4, 4});
  const Tensor k2 = V<uint8_t>({1, 1, 1, 1}, {1, 1, 2, 2});
  const Tensor f1 = V<float>({0.5f}, {});
  const Tensor z1 = V<uint8_t>({1}, {});
  RunBadCases({
      {"quantize_per_axis_wrong_length",
       "QuantizeLinear",
       Attrs({}),
       {x, V<float>({1, 2}, {2}), V<uint8_t>({0, 0}, {2})},
       1},
      {"quantize_per_axis_on_scalar",
       "QuantizeLinear",
       Attrs({{"axis", int64_t{0}}}),
       {V<float>({1}, {}), V<float>({1, 2}, {2}), V<uint8_t>({0, 0}, {2})},
       1},
      {"quantize_scale_and_zero_point_shapes_differ",
       "QuantizeLinear",
       Attrs({}),
       {x, V<float>({1, 2, 3}, {3}), V<uint8_t>({0}, {})},
       1},
      {"quantize_axis_out_of_range",
       "QuantizeLinear",
       Attrs({{"axis", int64_t{2}}}),
       {x, V<float>({1, 2, 3}, {3}), V<uint8_t>({0, 0, 0}, {3})},
       1},
      {"quantize_scale_float64",
       "QuantizeLinear",
       Attrs({}),
       {x, V<double>({1.0}, {}), V<uint8_t>({0}, {})},
       1},
      {"quantize_zero_point_int32", "QuantizeLinear", Attrs({}), {x, f1, V<int32_t>({0}, {})}, 1},
      {"quantize_scale_2d",
       "QuantizeLinear",
       Attrs({}),
       {x, V<float>({1, 2, 3, 4, 5, 6}, {2, 3}), V<uint8_t>({0, 0, 0, 0, 0, 0}, {2, 3})},
       1},
      {"dequantize_zero_point_dtype_differs",
       "DequantizeLinear",
       Attrs({}),
       {u8, f1, V<int8_t>({0}, {})},
       1},
      {"dequantize_per_axis_wrong_length",
       "DequantizeLinear",
       Attrs({{"axis", int64_t{0}}}),
       {u8, V<float>({1, 2, 3}, {3}), V<uint8_t>({0, 0, 0}, {3})},
       1},
      {"matmulinteger_inner_dims_differ", "MatMulInteger", Attrs({}), {u8, u8}, 1},
      {"matmulinteger_batches_do_not_broadcast",
       "MatMulInteger",
       Attrs({}),
       {V<uint8_t>(std::vector<uint8_t>(12, 1), {2, 2, 3}),
        V<uint8_t>(std::vector<uint8_t>(18, 1), {3, 3, 2})},
       1},
      {"matmulinteger_a_zero_point_wrong_length",
       "MatMulInteger",
       Attrs({}),
       {u8, V<uint8_t>(std::vector<uint8_t>(6, 1), {3, 2}), V<uint8_t>({1, 2, 3}, {3})},
       1},
      {"matmulinteger_zero_point_dtype_differs",
       "MatMulInteger",
       Attrs({}),
       {u8, V<uint8_t>(std::vector<uint8_t>(6, 1), {3, 2}), V<int8_t>({1}, {})},
       1},
      {"matmulinteger_scalar_operand", "MatMulInteger", Attrs({}), {u8, z1}, 1},
      {"matmulinteger_int16_b",
       "MatMulInteger",
       Attrs({}),
       {u8, V<int16_t>(std::vector<int16_t>(6, 1), {3, 2})},
       1},
      {"qlinearmatmul_y_scale_not_scalar",
       "QLinearMatMul",
       Attrs({}),
       {u8, f1, z1, V<uint8_t>(std::vector<uint8_t>(6, 1), {3, 2}), f1, z1, V<float>({1, 1}, {2}),
        z1},
       1},
      {"qlinearmatmul_a_scale_wrong_length",
       "QLinearMatMul",
       Attrs({}),
       {u8, V<float>({1, 1, 1}, {3}), V<uint8_t>({1, 1, 1}, {3}),
        V<uint8_t>(std::vector<uint8_t>(6, 1), {3, 2}), f1, z1, f1, z1},
       1},
      {"qlinearmatmul_missing_input",
       "QLinearMatMul",
       Attrs({}),
       {u8, f1, Tensor(), V<uint8_t>(std::vector<uint8_t>(6, 1), {3, 2}), f1, z1, f1, z1},
       1},
      {"convinteger_rank_mismatch",
       "ConvInteger",
       Attrs({}),
       {img, V<uint8_t>({1, 1}, {1, 1, 2})},
       1},
      {"convinteger_channels_mismatch",
       "ConvInteger",
       Attrs({}),
       {img, V<uint8_t>(std::vector<uint8_t>(8, 1), {1, 2, 2, 2})},
       1},
      {"convinteger_kernel_larger_than_input",
       "ConvInteger",
       Attrs({}),
       {img, V<uint8_t>(std::vector<uint8_t>(25, 1), {1, 1, 5, 5})},
       1},
      {"convinteger_pads_wrong_length",
       "ConvInteger",
       Attrs({{"pads", std::vector<int64_t>{1, 1}}}),
       {img, k2},
       1},
      {"convinteger_negative_stride",
       "ConvInteger",
       Attrs({{"strides", std::vector<int64_t>{-1, 1}}}),
       {img, k2},
       1},
      {"convinteger_bad_auto_pad",
       "ConvInteger",
       Attrs({{"auto_pad", std::string("SAME")}}),
       {img, k2},
       1},
      {"convinteger_kernel_shape_mismatch",
       "ConvInteger",
       Attrs({{"kernel_shape", std::vector<int64_t>{3, 3}}}),
       {img, k2},
       1},
      {"convinteger_x_zero_point_not_scalar",
       "ConvInteger",
       Attrs({}),
       {img, k2, V<uint8_t>({1, 2}, {2})},
       1},
      {"convinteger_w_zero_point_wrong_length",
       "ConvInteger",
       Attrs({}),
       {img, k2, z1, V<uint8_t>({1, 2}, {2})},
       1},
      {"convinteger_group_does_not_divide",
       "ConvInteger",
       Attrs({{"group", int64_t{2}}}),
       {img, k2},
       1},
      {"qlinearconv_bias_wrong_shape",
       "QLinearConv",
       Attrs({}),
       {img, f1, z1, k2, f1, z1, f1, z1, V<int32_t>({1, 2}, {2})},
       1},
      {"qlinearconv_bias_float",
       "QLinearConv",
       Attrs({}),
       {img, f1, z1, k2, f1, z1, f1, z1, V<float>({1}, {1})},
       1},
      {"qlinearconv_w_scale_wrong_length",
       "QLinearConv",
       Attrs({}),
       {img, f1, z1, k2, V<float>({1, 2}, {2}), z1, f1, z1},
       1},
  });
}

// Inference of the output shape of the integer convolutions from the attributes.
TEST(QuantTest, InfersConvOutputShape) {
  const OpSchema* schema = OpRegistry::Global().FindSchema("", "ConvInteger", 10);
  ASSERT_NE(schema, nullptr);
  AttributeMap attrs =
      Attrs({{"strides", std::vector<int64_t>{2, 3}}, {"pads", std::vector<int64_t>{1, 0, 1, 2}}});
  ASSERT_TRUE(schema->Complete(2, 1, attrs).ok());
  InferenceContext ctx({TensorType{DType::kUInt8, Shape{-1, 4, 9, 10}},
                        TensorType{DType::kUInt8, Shape{6, 4, 3, 3}}},
                       {nullptr, nullptr}, &attrs, 10, 1);
  ASSERT_TRUE(schema->RunInference(ctx).ok());
  // (9 + 2 - 3) / 2 + 1 = 5, (10 + 2 - 3) / 3 + 1 = 4.
  EXPECT_EQ(ctx.outputs()[0].shape, (Shape{-1, 6, 5, 4}));
  EXPECT_EQ(ctx.outputs()[0].dtype, DType::kInt32);
}

}  // namespace
}  // namespace cortado
