#include "core/dtype.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace cortado {
namespace {

TEST(DTypeTest, SizesAndNames) {
  EXPECT_EQ(DTypeSize(DType::kFloat32), 4u);
  EXPECT_EQ(DTypeSize(DType::kInt64), 8u);
  EXPECT_EQ(DTypeSize(DType::kFloat16), 2u);
  EXPECT_EQ(DTypeName(DType::kUInt8), "uint8");
  EXPECT_EQ(DTypeName(DType::kBool), "bool");
}

TEST(DTypeTest, HalfRoundTripsKnownBitPatterns) {
  // Bit patterns from IEEE 754 binary16.
  struct Case {
    float value;
    uint16_t bits;
  } cases[] = {{1.0f, 0x3c00}, {-2.0f, 0xc000}, {65504.0f, 0x7bff}, {0.5f, 0x3800},
               {5.9604645e-8f, 0x0001}, {6.1035156e-5f, 0x0400}, {0.0f, 0x0000},
               {std::numeric_limits<float>::infinity(), 0x7c00}, {1e6f, 0x7c00}};
  for (const Case& c : cases) {
    EXPECT_EQ(Half(c.value).bits, c.bits) << c.value;
    EXPECT_EQ(static_cast<float>(Half(c.value)), std::isinf(c.value) || c.value > 65504.0f
                                                     ? std::numeric_limits<float>::infinity()
                                                     : c.value);
  }
  EXPECT_TRUE(std::isnan(static_cast<float>(Half(std::nanf("")))));
  // 1 + 2^-11 is halfway between 1 and the next half; ties go to even (1.0).
  EXPECT_EQ(Half(1.0f + std::ldexp(1.0f, -11)).bits, 0x3c00);
}

TEST(DTypeTest, BFloat16RoundsToNearestEven) {
  EXPECT_EQ(BFloat16(1.0f).bits, 0x3f80);
  EXPECT_EQ(static_cast<float>(BFloat16(3.140625f)), 3.140625f);
  EXPECT_EQ(BFloat16(1.0f + std::ldexp(1.0f, -8)).bits, 0x3f80);
}

// Expected bits below are what ml_dtypes 0.7 (ONNX's reference for these types) gives for the same
// values, e.g. np.array(x, np.float32).astype(ml_dtypes.float8_e4m3fn).view(np.uint8).
TEST(DTypeTest, NarrowFloatsEncodeAsMlDtypes) {
  const float nan = std::nanf(""), inf = std::numeric_limits<float>::infinity();
  const float values[] = {nan,   -nan,   inf,   -inf,  1e6f, -1e6f,
                          -0.0f, -1e-9f, 0.29f, 0.75f, 5.0f, 7.0f};
  struct Case {
    NarrowFloatFormat format;
    uint8_t bits[12];
  } cases[] = {
      {NarrowFloatFormat::kE4M3FN, {127, 255, 127, 255, 127, 255, 128, 128, 41, 52, 74, 78}},
      {NarrowFloatFormat::kE4M3FNUZ, {128, 128, 128, 128, 128, 128, 0, 0, 49, 60, 82, 86}},
      {NarrowFloatFormat::kE5M2, {126, 254, 124, 252, 124, 252, 128, 128, 53, 58, 69, 71}},
      {NarrowFloatFormat::kE5M2FNUZ, {128, 128, 128, 128, 128, 128, 0, 0, 57, 62, 73, 75}},
      {NarrowFloatFormat::kE2M1, {8, 0, 7, 15, 7, 15, 8, 8, 1, 2, 6, 7}},
  };
  for (const Case& c : cases) {
    for (int i = 0; i < 12; ++i) {
      // astype does not saturate; E2M1 has no infinity and no NaN, so it always does.
      EXPECT_EQ(EncodeNarrowFloat(c.format, values[i], /*saturate=*/false), c.bits[i])
          << static_cast<int>(c.format) << " " << values[i];
    }
  }
  // Saturating (Cast's default): ONNX's test_cast_FLOAT_to_FLOAT8E4M3FN.
  EXPECT_EQ(EncodeNarrowFloat(NarrowFloatFormat::kE4M3FN, 1e6, true), 126);
  EXPECT_EQ(EncodeNarrowFloat(NarrowFloatFormat::kE4M3FN, -inf, true), 254);
  EXPECT_EQ(EncodeNarrowFloat(NarrowFloatFormat::kE5M2, inf, true), 123);
  EXPECT_EQ(EncodeNarrowFloat(NarrowFloatFormat::kE4M3FN, -1e-7, true), 128);
  EXPECT_EQ(EncodeNarrowFloat(NarrowFloatFormat::kE4M3FNUZ, -1e-7, true), 0);
  // E8M0 rounds up by default: ONNX's test_cast_e8m0_FLOAT_to_FLOAT8E8M0.
  const float e8m0_in[] = {0, 0.124f, 0.25f, 0.5f, 1.1f, 2, 4, 8};
  const uint8_t e8m0_bits[] = {0, 124, 125, 126, 128, 128, 129, 130};
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(EncodeNarrowFloat(NarrowFloatFormat::kE8M0, e8m0_in[i], true), e8m0_bits[i]);
  }
  EXPECT_EQ(EncodeNarrowFloat(NarrowFloatFormat::kE8M0, 1.1, true, E8M0Rounding::kDown), 127);
}

TEST(DTypeTest, NarrowFloatsDecodeAsMlDtypes) {
  auto decode = [](NarrowFloatFormat f, uint8_t b) { return DecodeNarrowFloat(f, b); };
  EXPECT_EQ(decode(NarrowFloatFormat::kE4M3FNUZ, 0x7f), 240.0f);
  EXPECT_EQ(decode(NarrowFloatFormat::kE4M3FNUZ, 0xfe), -224.0f);
  EXPECT_TRUE(std::isnan(decode(NarrowFloatFormat::kE4M3FNUZ, 0x80)));
  EXPECT_EQ(decode(NarrowFloatFormat::kE4M3FN, 0x7e), 448.0f);
  EXPECT_TRUE(std::isnan(decode(NarrowFloatFormat::kE4M3FN, 0xff)));
  EXPECT_EQ(decode(NarrowFloatFormat::kE5M2, 0x7c), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(decode(NarrowFloatFormat::kE5M2, 0x7d)));
  EXPECT_TRUE(std::signbit(decode(NarrowFloatFormat::kE5M2, 0x80)));
  EXPECT_EQ(decode(NarrowFloatFormat::kE5M2FNUZ, 0x7f), 57344.0f);
  EXPECT_EQ(decode(NarrowFloatFormat::kE5M2FNUZ, 0x7d), 40960.0f);
  EXPECT_EQ(decode(NarrowFloatFormat::kE5M2FNUZ, 0xfe), -49152.0f);
  EXPECT_EQ(decode(NarrowFloatFormat::kE8M0, 0), std::ldexp(1.0f, -127));
  EXPECT_EQ(decode(NarrowFloatFormat::kE8M0, 0xfe), std::ldexp(1.0f, 127));
  EXPECT_TRUE(std::isnan(decode(NarrowFloatFormat::kE8M0, 0xff)));
  const float e2m1[] = {0, 0.5f, 6, -0.0f, -0.5f, -6};
  const uint8_t e2m1_bits[] = {0, 1, 7, 8, 9, 15};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(decode(NarrowFloatFormat::kE2M1, e2m1_bits[i]), e2m1[i]);
  // Every finite value round-trips.
  for (int b = 0; b < 256; ++b) {
    const float v = decode(NarrowFloatFormat::kE4M3FN, static_cast<uint8_t>(b));
    if (!std::isnan(v)) EXPECT_EQ(EncodeNarrowFloat(NarrowFloatFormat::kE4M3FN, v, false), b);
  }
}

TEST(DTypeTest, NarrowIntsWrapAndPack) {
  EXPECT_EQ(Int4(-20).value, -4);  // ml_dtypes: np.int32(-20).astype(int4)
  EXPECT_EQ(Int4(8).value, -8);
  EXPECT_EQ(Int4(300).value, -4);
  EXPECT_EQ(UInt4(17).value, 1);
  EXPECT_EQ(Int2(2).value, -2);
  EXPECT_EQ(UInt2(-1).value, 3);
  const int8_t values[] = {-8, -1, 7, 3, 5};
  uint8_t packed[3];
  PackNarrow(DType::kInt4, reinterpret_cast<const uint8_t*>(values), 5, packed);
  EXPECT_EQ(packed[0], 0xf8);
  EXPECT_EQ(packed[1], 0x37);
  EXPECT_EQ(packed[2], 0x05);  // the unused high nibble is zero
  int8_t back[5];
  UnpackNarrow(DType::kInt4, packed, 5, reinterpret_cast<uint8_t*>(back));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(back[i], values[i]);
  const uint8_t two_bit[] = {1, 2, 3, 0, 2};
  PackNarrow(DType::kUInt2, two_bit, 5, packed);
  EXPECT_EQ(packed[0], 1 | 2 << 2 | 3 << 4);
  EXPECT_EQ(packed[1], 2);
  EXPECT_EQ(ValuesPerByte(DType::kFloat4E2M1), 2);
  EXPECT_EQ(ValuesPerByte(DType::kFloat8E5M2), 1);
  EXPECT_EQ(DTypeSize(DType::kInt4), 1u);
  EXPECT_EQ(DTypeName(DType::kFloat8E4M3FN), "float8_e4m3fn");
}

TEST(DTypeTest, VisitRejectsTypesOutsideTheSet) {
  auto ok = VisitDType(DType::kInt32, DTypeSet::kNumeric, "x", [](auto tag) {
    using T = typename decltype(tag)::type;
    return std::is_same_v<T, int32_t> ? absl::OkStatus() : absl::InternalError("wrong type");
  });
  EXPECT_TRUE(ok.ok());
  auto bad = VisitDType(DType::kString, DTypeSet::kNumeric, "Relu",
                        [](auto) { return absl::OkStatus(); });
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("Relu"), std::string::npos);
  // The narrow types are visited only by VisitAnyDType.
  EXPECT_FALSE(
      VisitDType(DType::kInt4, DTypeSet::kAll, "x", [](auto) { return absl::OkStatus(); }).ok());
  EXPECT_TRUE(VisitAnyDType(DType::kInt4, "x", [](auto tag) {
                using T = typename decltype(tag)::type;
                return std::is_same_v<T, Int4> ? absl::OkStatus() : absl::InternalError("wrong");
              }).ok());
}

}  // namespace
}  // namespace cortado
