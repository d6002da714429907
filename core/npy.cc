#include "core/npy.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/numbers.h"

namespace cortado {
namespace {

constexpr char kMagic[] = "\x93NUMPY";

struct NpyType {
  const char* descr;
  DType dtype;
};
constexpr NpyType kTypes[] = {
    {"f4", DType::kFloat32}, {"f8", DType::kFloat64}, {"f2", DType::kFloat16},
    {"i1", DType::kInt8},    {"i2", DType::kInt16},   {"i4", DType::kInt32},
    {"i8", DType::kInt64},   {"u1", DType::kUInt8},   {"u2", DType::kUInt16},
    {"u4", DType::kUInt32},  {"u8", DType::kUInt64},  {"b1", DType::kBool},
};

// Returns the value text following 'key': in a numpy header dict.
absl::StatusOr<absl::string_view> HeaderField(absl::string_view header, absl::string_view key) {
  const std::string quoted = absl::StrCat("'", key, "':");
  const size_t pos = header.find(quoted);
  if (pos == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("npy header lacks '", key, "'"));
  }
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(header.substr(pos + quoted.size()));
  size_t end;
  if (!rest.empty() && rest[0] == '(') {
    end = rest.find(')');
    if (end == absl::string_view::npos) return absl::InvalidArgumentError("bad npy shape");
    return rest.substr(1, end - 1);
  }
  if (!rest.empty() && rest[0] == '\'') {
    end = rest.find('\'', 1);
    if (end == absl::string_view::npos) return absl::InvalidArgumentError("bad npy descr");
    return rest.substr(1, end - 1);
  }
  end = rest.find_first_of(",}");
  return absl::StripAsciiWhitespace(rest.substr(0, end));
}

}  // namespace

absl::StatusOr<Tensor> ParseNpy(absl::string_view bytes) {
  if (bytes.size() < 10 || bytes.substr(0, 6) != absl::string_view(kMagic, 6)) {
    return absl::InvalidArgumentError("not a .npy file (bad magic)");
  }
  const int major = static_cast<uint8_t>(bytes[6]);
  size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return absl::InvalidArgumentError("truncated .npy header");
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= size_t{static_cast<uint8_t>(bytes[8 + i])} << (8 * i);
    offset = 12;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unsupported .npy version ", major));
  }
  if (bytes.size() < offset + header_len) return absl::InvalidArgumentError("truncated .npy header");
  const absl::string_view header = bytes.substr(offset, header_len);
  ASSIGN_OR_RETURN(absl::string_view descr, HeaderField(header, "descr"));
  ASSIGN_OR_RETURN(absl::string_view order, HeaderField(header, "fortran_order"));
  ASSIGN_OR_RETURN(absl::string_view shape_text, HeaderField(header, "shape"));
  if (order != "False") return absl::InvalidArgumentError("Fortran-order .npy is not supported");
  if (descr.size() != 3 || (descr[0] != '<' && descr[0] != '|')) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported .npy dtype '", descr, "'"));
  }
  DType dtype = DType::kUndefined;
  for (const NpyType& t : kTypes) {
    if (descr.substr(1) == t.descr) dtype = t.dtype;
  }
  if (dtype == DType::kUndefined) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported .npy dtype '", descr, "'"));
  }
  Shape shape;
  for (absl::string_view part : absl::StrSplit(shape_text, ',', absl::SkipWhitespace())) {
    int64_t d;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(part), &d) || d < 0) {
      return absl::InvalidArgumentError(absl::StrCat("bad .npy shape (", shape_text, ")"));
    }
    shape.push_back(d);
  }
  RETURN_IF_ERROR(ValidateShape(shape));
  const size_t data_offset = offset + header_len;
  const size_t need = static_cast<size_t>(NumElements(shape)) * DTypeSize(dtype);
  if (bytes.size() - data_offset < need) {
    return absl::InvalidArgumentError(absl::StrCat(".npy data is truncated: need ", need,
                                                   " bytes, have ", bytes.size() - data_offset));
  }
  ASSIGN_OR_RETURN(Tensor t, Tensor::Create(dtype, std::move(shape)));
  if (need > 0) std::memcpy(t.raw_data(), bytes.data() + data_offset, need);
  return t;
}

absl::StatusOr<std::string> SerializeNpy(const Tensor& tensor) {
  const char* descr = nullptr;
  for (const NpyType& t : kTypes) {
    if (t.dtype == tensor.dtype()) descr = t.descr;
  }
  if (descr == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write dtype ", DTypeName(tensor.dtype()), " to .npy"));
  }
  std::string shape = absl::StrJoin(tensor.shape(), ", ");
  if (tensor.rank() == 1) shape += ",";
  const char* byte_order = DTypeSize(tensor.dtype()) == 1 ? "|" : "<";
  std::string header = absl::StrCat("{'descr': '", byte_order, descr,
                                    "', 'fortran_order': False, 'shape': (", shape, "), }");
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string out(kMagic, 6);
  out.push_back(1);
  out.push_back(0);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  out.append(static_cast<const char*>(tensor.raw_data()), tensor.nbytes());
  return out;
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return ss.str();
}

absl::Status WriteStringToFile(const std::string& path, absl::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat("failed writing ", path));
  return absl::OkStatus();
}

absl::StatusOr<Tensor> ReadNpyFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  auto t = ParseNpy(bytes);
  if (!t.ok()) return absl::Status(t.status().code(), absl::StrCat(path, ": ", t.status().message()));
  return t;
}

absl::Status WriteNpyFile(const std::string& path, const Tensor& tensor) {
  ASSIGN_OR_RETURN(std::string bytes, SerializeNpy(tensor));
  return WriteStringToFile(path, bytes);
}

}  // namespace cortado
