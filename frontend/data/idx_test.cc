// ReadIdx / ParseIdx on small IDX files written into TEST_TMPDIR: every element type, gzip and
// plain, and the malformed cases (bad magic, unknown type, truncated header or data, trailing
// bytes, truncated gzip stream, missing file).
#include "frontend/data/idx.h"

#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace cortado {
namespace frontend {
namespace data {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

void WritePlain(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), bytes.size());
}

void WriteGzip(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), bytes.size()), static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

std::string Be32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string Header(unsigned char type, const std::vector<uint32_t>& dims) {
  std::string h = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) h += Be32(d);
  return h;
}

// A ubyte [3, 2, 2] file with elements 0, 10, 20, ...
std::string UbyteFile() {
  std::string s = Header(0x08, {3, 2, 2});
  for (int i = 0; i < 12; ++i) s.push_back(static_cast<char>(10 * i));
  return s;
}

std::vector<int> Bytes(const Tensor& t) {
  std::vector<int> v;
  for (uint8_t x : t.to_vector<uint8_t>()) v.push_back(x);
  return v;
}

TEST(IdxTest, ReadsUbytePlainAndGzip) {
  const std::vector<int> expected = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110};
  WritePlain(TempPath("u8.idx"), UbyteFile());
  WriteGzip(TempPath("u8.idx.gz"), UbyteFile());
  for (const char* name : {"u8.idx", "u8.idx.gz"}) {
    SCOPED_TRACE(name);
    absl::StatusOr<Tensor> t = ReadIdx(TempPath(name));
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->dtype(), DType::kUInt8);
    EXPECT_EQ(t->shape(), (Shape{3, 2, 2}));
    EXPECT_EQ(Bytes(*t), expected);
  }
}

TEST(IdxTest, ReadsLabelsRankOne) {
  std::string s = Header(0x08, {5});
  s += std::string{9, 0, 0, 3, 0};
  WriteGzip(TempPath("labels.gz"), s);
  absl::StatusOr<Tensor> t = ReadIdx(TempPath("labels.gz"));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->shape(), (Shape{5}));
  EXPECT_EQ(Bytes(*t), (std::vector<int>{9, 0, 0, 3, 0}));
}

TEST(IdxTest, ConvertsBigEndianTypes) {
  {
    std::string s = Header(0x09, {2}) + std::string{static_cast<char>(0xff), 5};
    absl::StatusOr<Tensor> t = ParseIdx(s);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->to_vector<int8_t>(), (std::vector<int8_t>{-1, 5}));
  }
  {
    std::string s = Header(0x0B, {2}) +
                    std::string{0x01, 0x02, static_cast<char>(0xff), static_cast<char>(0xfe)};
    absl::StatusOr<Tensor> t = ParseIdx(s);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->to_vector<int16_t>(), (std::vector<int16_t>{0x0102, -2}));
  }
  {
    std::string s = Header(0x0C, {1, 2}) + Be32(0x01020304) + Be32(0xfffffff6);
    absl::StatusOr<Tensor> t = ParseIdx(s);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->dtype(), DType::kInt32);
    EXPECT_EQ(t->shape(), (Shape{1, 2}));
    EXPECT_EQ(t->to_vector<int32_t>(), (std::vector<int32_t>{0x01020304, -10}));
  }
  {
    // 1.5f = 0x3fc00000, -2.0 = 0xc000000000000000
    std::string f = Header(0x0D, {1}) + Be32(0x3fc00000);
    absl::StatusOr<Tensor> t = ParseIdx(f);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->to_vector<float>(), (std::vector<float>{1.5f}));
    std::string d = Header(0x0E, {1}) + Be32(0xc0000000) + Be32(0);
    t = ParseIdx(d);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->to_vector<double>(), (std::vector<double>{-2.0}));
  }
  {
    absl::StatusOr<Tensor> t = ParseIdx(Header(0x08, {0, 28, 28}));  // empty but valid
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->shape(), (Shape{0, 28, 28}));
  }
}

void ExpectError(const absl::StatusOr<Tensor>& t, absl::StatusCode code, const std::string& what) {
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), code) << t.status();
  EXPECT_NE(t.status().message().find(what), std::string::npos) << t.status();
}

TEST(IdxTest, BadMagic) {
  std::string s = UbyteFile();
  s[0] = 0x1f;  // not 0x0000
  WritePlain(TempPath("bad_magic.idx"), s);
  ExpectError(ReadIdx(TempPath("bad_magic.idx")), absl::StatusCode::kInvalidArgument, "bad magic");
  s = UbyteFile();
  s[2] = 0x0A;  // no such type
  ExpectError(ParseIdx(s), absl::StatusCode::kInvalidArgument, "unknown element type 0x0a");
  ExpectError(ParseIdx(absl::string_view("\0\0", 2)), absl::StatusCode::kInvalidArgument,
              "too short");
}

TEST(IdxTest, TruncatedHeaderAndData) {
  const std::string s = UbyteFile();
  ExpectError(ParseIdx(s.substr(0, 9)), absl::StatusCode::kInvalidArgument, "truncated header");
  WriteGzip(TempPath("short_data.gz"), s.substr(0, s.size() - 3));
  ExpectError(ReadIdx(TempPath("short_data.gz")), absl::StatusCode::kInvalidArgument,
              "truncated data");
}

TEST(IdxTest, DimsMismatchTrailingBytes) {
  WritePlain(TempPath("long.idx"), UbyteFile() + "xyz");
  ExpectError(ReadIdx(TempPath("long.idx")), absl::StatusCode::kInvalidArgument,
              "3 trailing bytes");
}

TEST(IdxTest, TruncatedGzipStream) {
  // Enough data that the compressed stream is long; cut it in the middle.
  std::string s = Header(0x08, {1000, 28, 28});
  for (int i = 0; i < 1000 * 28 * 28; ++i) s.push_back(static_cast<char>((i % 251) * 7));
  WriteGzip(TempPath("full.gz"), s);
  std::ifstream in(TempPath("full.gz"), std::ios::binary);
  std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(gz.size(), 1000u);
  WritePlain(TempPath("cut.gz"), gz.substr(0, gz.size() / 2));
  ExpectError(ReadIdx(TempPath("cut.gz")), absl::StatusCode::kDataLoss, "gzip");
  ASSERT_TRUE(ReadIdx(TempPath("full.gz")).ok());
}

TEST(IdxTest, MissingFile) {
  ExpectError(ReadIdx(TempPath("no_such_file.gz")), absl::StatusCode::kNotFound, "cannot open");
}

}  // namespace
}  // namespace data
}  // namespace frontend
}  // namespace cortado
