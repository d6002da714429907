#include "server/wire/kserve_wire.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rapidjson/error/en.h"
#include "rapidjson/reader.h"

namespace cortado {
namespace {

struct Name {
  DType dtype;
  const char* name;
};
constexpr Name kNames[] = {
    {DType::kBool, "BOOL"},     {DType::kUInt8, "UINT8"},   {DType::kUInt16, "UINT16"},
    {DType::kUInt32, "UINT32"}, {DType::kUInt64, "UINT64"}, {DType::kInt8, "INT8"},
    {DType::kInt16, "INT16"},   {DType::kInt32, "INT32"},   {DType::kInt64, "INT64"},
    {DType::kFloat16, "FP16"},  {DType::kFloat32, "FP32"},  {DType::kFloat64, "FP64"},
    {DType::kString, "BYTES"},  {DType::kBFloat16, "BF16"},
};

uint32_t LoadU32LE(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
}

void AppendU32LE(uint32_t v, std::string* out) {
  const char b[4] = {static_cast<char>(v & 0xff), static_cast<char>((v >> 8) & 0xff),
                     static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 24) & 0xff)};
  out->append(b, 4);
}

// BYTES: walks the length-prefixed elements once to check them against the shape, and only
// then allocates the tensor (whose size the checked bytes now justify).
absl::StatusOr<Tensor> DecodeRawBytes(absl::string_view raw, const Shape& shape) {
  const int64_t want = NumElements(shape);
  int64_t count = 0;
  for (size_t pos = 0; pos < raw.size(); ++count) {
    if (count == want) {
      return absl::InvalidArgumentError(absl::StrCat("shape ", ShapeToString(shape), " needs ",
                                                     want, " BYTES elements, the data holds more"));
    }
    if (raw.size() - pos < 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("BYTES data ends inside the 4-byte length of element ", count));
    }
    const uint32_t len = LoadU32LE(raw.data() + pos);
    pos += 4;
    if (raw.size() - pos < len) {
      return absl::InvalidArgumentError(absl::StrCat("BYTES element ", count, " claims ", len,
                                                     " bytes but only ", raw.size() - pos,
                                                     " remain"));
    }
    pos += len;
  }
  if (count != want) {
    return absl::InvalidArgumentError(absl::StrCat("shape ", ShapeToString(shape), " needs ", want,
                                                   " BYTES elements, the data holds ", count));
  }
  ASSIGN_OR_RETURN(Tensor t, Tensor::Create(DType::kString, shape));
  std::string* out = t.data<std::string>();
  for (size_t pos = 0, i = 0; pos < raw.size(); ++i) {
    const uint32_t len = LoadU32LE(raw.data() + pos);
    out[i].assign(raw.data() + pos + 4, len);
    pos += 4 + size_t{len};
  }
  return t;
}

// Forwards SAX events to a Document, stopping the parse once nesting exceeds kMaxJsonDepth.
class DepthLimit {
 public:
  explicit DepthLimit(rapidjson::Document* doc) : doc_(doc) {}
  bool too_deep() const { return too_deep_; }

  bool Null() { return doc_->Null(); }
  bool Bool(bool b) { return doc_->Bool(b); }
  bool Int(int i) { return doc_->Int(i); }
  bool Uint(unsigned u) { return doc_->Uint(u); }
  bool Int64(int64_t i) { return doc_->Int64(i); }
  bool Uint64(uint64_t u) { return doc_->Uint64(u); }
  bool Double(double d) { return doc_->Double(d); }
  // Numbers arrive as their text (kParseNumbersAsStringsFlag, after RapidJSON checked their
  // syntax and range): integers become exact integers as RapidJSON would make them, and every
  // other number, NaN and Infinity included, is converted by strtod, which rounds correctly, so
  // that a double written in its shortest form reads back bit for bit.
  bool RawNumber(const char* s, rapidjson::SizeType n, bool /*copy*/) {
    const std::string text(s, n);
    if (text.find_first_not_of("-0123456789") == std::string::npos) {
      int64_t i;
      uint64_t u;
      if (text[0] != '-' && absl::SimpleAtoi(text, &u)) return doc_->Uint64(u);
      if (text[0] == '-' && absl::SimpleAtoi(text, &i)) return doc_->Int64(i);
    }
    return doc_->Double(std::strtod(text.c_str(), nullptr));
  }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return doc_->String(s, n, copy); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return doc_->Key(s, n, copy); }
  bool StartObject() { return Enter() && doc_->StartObject(); }
  bool EndObject(rapidjson::SizeType n) {
    --depth_;
    return doc_->EndObject(n);
  }
  bool StartArray() { return Enter() && doc_->StartArray(); }
  bool EndArray(rapidjson::SizeType n) {
    --depth_;
    return doc_->EndArray(n);
  }

 private:
  bool Enter() {
    too_deep_ = ++depth_ > kMaxJsonDepth;
    return !too_deep_;
  }
  rapidjson::Document* doc_;
  int depth_ = 0;
  bool too_deep_ = false;
};

}  // namespace

absl::string_view KServeDatatype(DType dtype) {
  for (const Name& n : kNames) {
    if (n.dtype == dtype) return n.name;
  }
  return "INVALID";
}

absl::StatusOr<DType> DTypeFromKServe(absl::string_view datatype) {
  for (const Name& n : kNames) {
    if (datatype == n.name) return n.dtype;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown datatype '", datatype, "'"));
}

size_t RawSize(const Tensor& tensor) {
  if (tensor.dtype() != DType::kString) return tensor.nbytes();
  size_t n = 0;
  const std::string* s = tensor.data<std::string>();
  for (int64_t i = 0; i < tensor.num_elements(); ++i) n += 4 + s[i].size();
  return n;
}

absl::Status AppendRaw(const Tensor& tensor, std::string* out) {
  if (tensor.dtype() != DType::kString) {
    out->append(static_cast<const char*>(tensor.raw_data()), tensor.nbytes());
    return absl::OkStatus();
  }
  const std::string* s = tensor.data<std::string>();
  for (int64_t i = 0; i < tensor.num_elements(); ++i) {
    if (s[i].size() > std::numeric_limits<uint32_t>::max()) {
      return absl::InvalidArgumentError(
          absl::StrCat("BYTES element ", i, " is ", s[i].size(), " bytes, over 4 GiB"));
    }
    AppendU32LE(static_cast<uint32_t>(s[i].size()), out);
    out->append(s[i]);
  }
  return absl::OkStatus();
}

absl::StatusOr<Tensor> DecodeRaw(absl::string_view raw, DType dtype, const Shape& shape) {
  RETURN_IF_ERROR(ValidateShape(shape));
  if (dtype == DType::kString) return DecodeRawBytes(raw, shape);
  const int64_t n = NumElements(shape);
  const size_t expected = static_cast<size_t>(n) * DTypeSize(dtype);
  if (raw.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat("the data is ", raw.size(), " bytes, but shape ",
                                                   ShapeToString(shape), " of ",
                                                   KServeDatatype(dtype), " needs ", expected));
  }
  ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dtype, shape));
  if (dtype == DType::kBool) {
    for (int64_t i = 0; i < n; ++i) t.data<bool>()[i] = raw[i] != 0;
  } else if (expected > 0) {
    std::memcpy(t.raw_data(), raw.data(), expected);
  }
  return t;
}

absl::Status ParseJson(absl::string_view text, rapidjson::Document* doc) {
  // Numbers as text, converted by DepthLimit::RawNumber: RapidJSON 1.1's full-precision number
  // parsing reads far out of bounds for some long numbers with extreme exponents (a 385-byte
  // body crashed cortadod; found by kserve_wire_fuzzer, kept in server/fuzz/corpus as a
  // regression seed) and is undefined for others ("0e99"), and its normal-precision parsing is
  // a few ULP off for doubles of more than 15 significant digits.
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseNanAndInfFlag |
                              rapidjson::kParseNumbersAsStringsFlag;
  rapidjson::ParseResult result;
  DepthLimit limit(doc);
  auto generate = [&](rapidjson::Document&) {
    rapidjson::MemoryStream ms(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(ms);
    rapidjson::Reader reader;
    result = reader.Parse<kFlags>(in, limit);
    return !result.IsError();
  };
  doc->Populate(generate);
  if (limit.too_deep()) {
    return absl::InvalidArgumentError(absl::StrCat("JSON nested deeper than ", kMaxJsonDepth,
                                                   " levels at offset ", result.Offset()));
  }
  if (result.IsError()) {
    return absl::InvalidArgumentError(absl::StrCat("malformed JSON at offset ", result.Offset(),
                                                   ": ",
                                                   rapidjson::GetParseError_En(result.Code())));
  }
  return absl::OkStatus();
}

}  // namespace cortado
