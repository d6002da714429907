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
}

}  // namespace
}  // namespace cortado
