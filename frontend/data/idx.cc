#include "frontend/data/idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cortado {
namespace frontend {
namespace data {
namespace {

uint32_t BigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Copies `n` big-endian elements of `size` bytes into host order.
void CopyBigEndian(const unsigned char* src, size_t size, int64_t n, void* dst) {
  unsigned char* out = static_cast<unsigned char*>(dst);
  if (size == 1) {
    std::memcpy(out, src, n);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    for (size_t b = 0; b < size; ++b) out[i * size + b] = src[i * size + size - 1 - b];
  }
}

bool IdxType(unsigned char code, DType* dtype) {
  switch (code) {
    case 0x08:
      *dtype = DType::kUInt8;
      return true;
    case 0x09:
      *dtype = DType::kInt8;
      return true;
    case 0x0B:
      *dtype = DType::kInt16;
      return true;
    case 0x0C:
      *dtype = DType::kInt32;
      return true;
    case 0x0D:
      *dtype = DType::kFloat32;
      return true;
    case 0x0E:
      *dtype = DType::kFloat64;
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::StatusOr<Tensor> ParseIdx(absl::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("IDX: ", bytes.size(), " bytes is too short for the 4-byte magic number"));
  }
  if (p[0] != 0 || p[1] != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "IDX: bad magic number 0x%02x%02x%02x%02x (expected 0x0000 followed by type and rank)",
        p[0], p[1], p[2], p[3]));
  }
  DType dtype;
  if (!IdxType(p[2], &dtype)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "IDX: bad magic number: unknown element type 0x%02x (known: 0x08 ubyte, 0x09 byte, "
        "0x0B short, 0x0C int, 0x0D float, 0x0E double)",
        p[2]));
  }
  const int rank = p[3];
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  if (bytes.size() < header) {
    return absl::InvalidArgumentError(absl::StrCat("IDX: truncated header: rank ", rank, " needs ",
                                                   header, " bytes, file has ", bytes.size()));
  }
  Shape shape(rank);
  for (int i = 0; i < rank; ++i) shape[i] = BigEndian32(p + 4 + 4 * i);
  absl::Status valid = ValidateShape(shape);
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat("IDX: ", valid.message()));
  const int64_t n = NumElements(shape);
  const size_t size = DTypeSize(dtype);
  const size_t expected = static_cast<size_t>(n) * size;
  const size_t actual = bytes.size() - header;
  if (actual < expected) {
    return absl::InvalidArgumentError(
        absl::StrCat("IDX: truncated data: dims ", ShapeToString(shape), " of ", DTypeName(dtype),
                     " need ", expected, " bytes after the header, file has ", actual));
  }
  if (actual > expected) {
    return absl::InvalidArgumentError(
        absl::StrCat("IDX: dims ", ShapeToString(shape), " of ", DTypeName(dtype), " account for ",
                     expected, " bytes after the header, but the file has ", actual, " (",
                     actual - expected, " trailing bytes)"));
  }
  absl::StatusOr<cortado::Tensor> t = cortado::Tensor::Create(dtype, shape);
  if (!t.ok()) return t.status();
  CopyBigEndian(p + header, size, n, t->raw_data());
  return Tensor(*std::move(t));
}

absl::StatusOr<std::string> ReadMaybeGzippedFile(const std::string& path) {
  errno = 0;
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    return absl::NotFoundError(absl::StrCat(
        "cannot open ", path, err != 0 ? absl::StrCat(": ", std::strerror(err)) : std::string()));
  }
  gzbuffer(f, 1 << 17);
  std::string out;
  std::vector<char> chunk(1 << 20);
  while (true) {
    const int got = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()));
    if (got < 0) break;
    out.append(chunk.data(), got);
    if (got == 0 || gzeof(f)) break;
  }
  int code = Z_OK;
  const char* message = gzerror(f, &code);
  const std::string error = code != Z_OK && code != Z_STREAM_END ? message : "";
  gzclose(f);
  if (!error.empty()) {
    return absl::DataLossError(absl::StrCat(path, ": gzip: ", error));
  }
  return out;
}

absl::StatusOr<Tensor> ReadIdx(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadMaybeGzippedFile(path);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<Tensor> t = ParseIdx(*bytes);
  if (!t.ok())
    return absl::Status(t.status().code(), absl::StrCat(path, ": ", t.status().message()));
  return t;
}

}  // namespace data
}  // namespace frontend
}  // namespace cortado
