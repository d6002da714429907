// TensorFromOnnx and TensorToOnnx on the narrow types. The packed bytes are those
// onnx.numpy_helper.from_array (onnx 1.23) writes for the same values: two 4-bit values a byte,
// four 2-bit values a byte, low bits first. Type codes come from OnnxTypeOf: Debian's libonnx 1.12
// predates these types.
#include <string>

#include "gtest/gtest.h"
#include "onnx/onnx_pb.h"
#include "predictor/onnx/onnx_exporter.h"
#include "predictor/onnx/onnx_importer.h"

namespace cortado {
namespace {

onnx::TensorProto Proto(int elem_type, std::initializer_list<int64_t> dims) {
  onnx::TensorProto p;
  p.set_data_type(elem_type);
  for (int64_t d : dims) p.add_dims(d);
  return p;
}

TEST(TensorProtoTest, Int4FromPackedRawDataAndInt32Data) {
  // from_array(np.array([-8, -1, 7, 3, 5], ml_dtypes.int4)).raw_data == b"\xf8\x37\x05"
  onnx::TensorProto raw = Proto(OnnxTypeOf(DType::kInt4), {5});
  raw.set_raw_data(std::string("\xf8\x37\x05", 3));
  onnx::TensorProto typed = Proto(OnnxTypeOf(DType::kInt4), {5});
  for (int v : {0xf8, 0x37, 0x05}) typed.add_int32_data(v);
  for (const onnx::TensorProto& p : {raw, typed}) {
    auto t = TensorFromOnnx(p);
    ASSERT_TRUE(t.ok()) << t.status();
    ASSERT_EQ(t->dtype(), DType::kInt4);
    const int expected[] = {-8, -1, 7, 3, 5};
    for (int i = 0; i < 5; ++i) EXPECT_EQ(t->data<Int4>()[i].value, expected[i]) << i;
  }
}

TEST(TensorProtoTest, NarrowTypesRoundTripThroughTheExporter) {
  onnx::TensorProto u2 = Proto(OnnxTypeOf(DType::kUInt2), {2, 3});
  u2.set_raw_data(std::string("\xe4\x01", 2));  // 0, 1, 2, 3 | 1, 0
  onnx::TensorProto f8 = Proto(OnnxTypeOf(DType::kFloat8E4M3FN), {3});
  f8.set_raw_data(std::string("\x2f\x7e\xfe", 3));  // 0.46875, 448, -448
  for (const onnx::TensorProto& p : {u2, f8}) {
    auto t = TensorFromOnnx(p);
    ASSERT_TRUE(t.ok()) << t.status();
    onnx::TensorProto back;
    ASSERT_TRUE(TensorToOnnx(*t, "x", &back).ok());
    EXPECT_EQ(back.data_type(), p.data_type());
    EXPECT_EQ(back.raw_data(), p.raw_data());
  }
  auto f8t = TensorFromOnnx(f8);
  EXPECT_EQ(f8t->ElementAsDouble(0), 0.46875);
  EXPECT_EQ(f8t->ElementAsDouble(2), -448.0);
  auto u2t = TensorFromOnnx(u2);
  EXPECT_EQ(u2t->ElementAsDouble(3), 3.0);
  EXPECT_EQ(u2t->ElementAsDouble(4), 1.0);
}

TEST(TensorProtoTest, WrongPackedSizeIsAClearError) {
  onnx::TensorProto p = Proto(OnnxTypeOf(DType::kUInt4), {5});
  p.set_raw_data(std::string("\x01\x02", 2));  // 5 values need 3 bytes
  auto t = TensorFromOnnx(p);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("needs 3"), std::string::npos) << t.status();
}

}  // namespace
}  // namespace cortado
