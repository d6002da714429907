#include "server/wire/kserve_wire.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace cortado {
namespace {

TEST(KServeDatatype, NamesRoundTrip) {
  for (DType d : {DType::kBool, DType::kUInt8, DType::kInt32, DType::kInt64, DType::kFloat16,
                  DType::kFloat32, DType::kFloat64, DType::kString, DType::kBFloat16}) {
    auto back = DTypeFromKServe(KServeDatatype(d));
    ASSERT_TRUE(back.ok()) << KServeDatatype(d);
    EXPECT_EQ(*back, d);
  }
  EXPECT_EQ(KServeDatatype(DType::kString), "BYTES");
  EXPECT_EQ(KServeDatatype(DType::kFloat32), "FP32");
  EXPECT_FALSE(DTypeFromKServe("FLOAT32").ok());
}

TEST(Raw, BytesRoundTrip) {
  Tensor t = Tensor::FromVector<std::string>({"ab", "", std::string("\0x", 2)}, {3});
  std::string raw;
  ASSERT_TRUE(AppendRaw(t, &raw).ok());
  EXPECT_EQ(raw.size(), RawSize(t));
  EXPECT_EQ(raw, std::string("\2\0\0\0ab\0\0\0\0\2\0\0\0\0x", 16));
  auto back = DecodeRaw(raw, DType::kString, {3});
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->data<std::string>()[0], "ab");
  EXPECT_EQ(back->data<std::string>()[1], "");
  EXPECT_EQ(back->data<std::string>()[2], std::string("\0x", 2));
}

TEST(Raw, FixedSizeRoundTripAndBool) {
  Tensor t = Tensor::FromVector<float>({1.5f, -2.f}, {2});
  std::string raw;
  ASSERT_TRUE(AppendRaw(t, &raw).ok());
  auto back = DecodeRaw(raw, DType::kFloat32, {2});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->data<float>()[1], -2.f);
  auto b = DecodeRaw(std::string("\0\7", 2), DType::kBool, {2});
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->data<bool>()[0]);
  EXPECT_TRUE(b->data<bool>()[1]);
  EXPECT_FALSE(DecodeRaw(raw, DType::kFloat32, {3}).ok());
}

// The shape-versus-bytes bomb: a huge BYTES shape with 8 bytes of data is refused by looking at
// the 8 bytes, before anything of the shape's size exists (under ASan an allocation of 1 GiB
// would show; here the answer itself is what can fail).
TEST(Raw, BytesShapeBombIsRefusedFromTheBytes) {
  const std::string raw("\4\0\0\0abcd", 8);
  auto t = DecodeRaw(raw, DType::kString, {33554432});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("needs 33554432 BYTES elements, the data holds 1"),
            std::string::npos)
      << t.status();
  auto f = DecodeRaw(raw, DType::kFloat32, {int64_t{1} << 40});
  ASSERT_FALSE(f.ok());
}

TEST(Raw, BytesTruncationAndSurplus) {
  EXPECT_NE(DecodeRaw(std::string("\5\0\0\0abcd", 8), DType::kString, {1})
                .status()
                .message()
                .find("claims 5 bytes but only 4 remain"),
            std::string::npos);
  EXPECT_NE(DecodeRaw(std::string("\1\0", 2), DType::kString, {1})
                .status()
                .message()
                .find("inside the 4-byte length"),
            std::string::npos);
  EXPECT_NE(DecodeRaw(std::string("\0\0\0\0\0\0\0\0", 8), DType::kString, {1})
                .status()
                .message()
                .find("holds more"),
            std::string::npos);
}

TEST(ParseJson, AcceptsDocumentsWithNanAndFullPrecision) {
  rapidjson::Document doc;
  ASSERT_TRUE(ParseJson(R"({"a": [NaN, 0.1], "b": {"c": true}})", &doc).ok());
  EXPECT_TRUE(doc["b"]["c"].GetBool());
  EXPECT_EQ(doc["a"][1].GetDouble(), 0.1);
}

// FP64 through JSON: 20000 doubles of random bits (every exponent), written in their shortest
// form by std::to_chars as the HTTP codec writes them, read back bit for bit; RapidJSON's
// normal-precision parsing missed by a few ULP on doubles of more than 15 digits. (The codec
// writes a negative zero as "-0.0": "-0" is the integer 0.)
TEST(ParseJson, DoublesRoundTripExactly) {
  std::mt19937_64 random(10);
  std::vector<double> values = {0.1,
                                1.0 / 3,
                                2.2250738585072014e-308,
                                4.9e-324,
                                std::numeric_limits<double>::max(),
                                9007199254740993.0};
  while (values.size() < 20000) {
    const uint64_t bits = random();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (std::isfinite(d) && d != 0) values.push_back(d);
  }
  std::string text = "[";
  for (double d : values) {
    char buf[32];
    text.append(buf, std::to_chars(buf, buf + sizeof buf, d).ptr);
    text += ',';
  }
  text += "-0.0]";
  values.push_back(-0.0);
  rapidjson::Document doc;
  ASSERT_TRUE(ParseJson(text, &doc).ok());
  ASSERT_EQ(doc.Size(), values.size());
  int wrong = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const double got = doc[i].GetDouble();
    wrong += std::memcmp(&got, &values[i], sizeof got) != 0;
  }
  EXPECT_EQ(wrong, 0) << "of " << values.size();
}

// Integers stay integers, exact to 64 bits; larger ones become doubles, as RapidJSON makes them.
TEST(ParseJson, IntegersAreExactAndNonFiniteNumbersParse) {
  rapidjson::Document doc;
  ASSERT_TRUE(ParseJson("[9223372036854775807, -9223372036854775808, 18446744073709551615, "
                        "18446744073709551616, -0, 7, -Infinity, Infinity, NaN, 1e-400]",
                        &doc)
                  .ok());
  EXPECT_EQ(doc[0].GetInt64(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(doc[1].GetInt64(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(doc[2].GetUint64(), std::numeric_limits<uint64_t>::max());
  EXPECT_FALSE(doc[3].IsUint64());
  EXPECT_EQ(doc[3].GetDouble(), 18446744073709551616.0);
  EXPECT_TRUE(doc[4].IsInt());
  EXPECT_TRUE(doc[5].IsInt() && doc[5].IsUint());
  EXPECT_EQ(doc[6].GetDouble(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(doc[7].GetDouble(), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(doc[8].GetDouble()));
  EXPECT_EQ(doc[9].GetDouble(), 0.0);
  EXPECT_FALSE(ParseJson("[1e400]", &doc).ok());  // RapidJSON's range check stays
}

TEST(ParseJson, RefusesDeepNestingWithoutRecursing) {
  rapidjson::Document doc;
  // A megabyte of '[' (the crash of issue 10): refused at the depth limit.
  absl::Status s = ParseJson(std::string(1 << 20, '['), &doc);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("nested deeper than 128"), std::string::npos) << s;
  std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(ParseJson(ok, &doc).ok());
  std::string deep = std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  EXPECT_FALSE(ParseJson(deep, &doc).ok());
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  EXPECT_FALSE(ParseJson(objects, &doc).ok());
}

TEST(ParseJson, ReportsMalformedInput) {
  rapidjson::Document doc;
  absl::Status s = ParseJson("{\"a\": }", &doc);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("malformed JSON at offset 6"), std::string::npos) << s;
  EXPECT_FALSE(ParseJson("{} trailing", &doc).ok());
  EXPECT_FALSE(ParseJson("", &doc).ok());
}

}  // namespace
}  // namespace cortado
