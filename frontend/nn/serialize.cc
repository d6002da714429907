#include "frontend/nn/serialize.h"

#include <cstdint>
#include <cstdio>
#include <set>

#include "core/npy.h"

namespace cortado {
namespace frontend {
namespace nn {
namespace {

constexpr absl::string_view kMagic = "CRTDSTAT";
constexpr uint32_t kVersion = 1;
constexpr uint32_t kMaxNameLength = 65536;

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Sequential little-endian reader over a file image; every read reports truncation.
class Reader {
 public:
  explicit Reader(absl::string_view bytes) : bytes_(bytes) {}
  size_t left() const { return bytes_.size() - pos_; }
  size_t pos() const { return pos_; }

  absl::Status Bytes(size_t n, absl::string_view& out, absl::string_view what) {
    if (left() < n) {
      return absl::DataLossError(absl::StrCat("truncated state file: ", what, " needs ", n,
                                              " bytes at offset ", pos_, ", only ", left(),
                                              " left"));
    }
    out = bytes_.substr(pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }
  absl::Status U32(uint32_t& v, absl::string_view what) {
    absl::string_view b;
    RETURN_IF_ERROR(Bytes(4, b, what));
    v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(b[i])} << (8 * i);
    return absl::OkStatus();
  }
  absl::Status U64(uint64_t& v, absl::string_view what) {
    absl::string_view b;
    RETURN_IF_ERROR(Bytes(8, b, what));
    v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(b[i])} << (8 * i);
    return absl::OkStatus();
  }

 private:
  absl::string_view bytes_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<std::string> SerializeTensors(const NamedValues& entries) {
  std::string out(kMagic);
  PutU32(out, kVersion);
  PutU32(out, static_cast<uint32_t>(entries.size()));
  std::set<std::string> names;
  for (const auto& [name, value] : entries) {
    if (name.empty() || name.size() > kMaxNameLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("state entry name has bad length ", name.size()));
    }
    if (!names.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate state entry '", name, "'"));
    }
    if (!value.defined()) {
      return absl::InvalidArgumentError(absl::StrCat("state entry '", name, "' is undefined"));
    }
    auto npy = SerializeNpy(value);
    if (!npy.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("state entry '", name, "': ", npy.status().message()));
    }
    PutU32(out, static_cast<uint32_t>(name.size()));
    out += name;
    PutU64(out, npy->size());
    out += *npy;
  }
  return out;
}

absl::StatusOr<NamedValues> ParseTensors(absl::string_view bytes) {
  Reader r(bytes);
  absl::string_view magic;
  if (!r.Bytes(kMagic.size(), magic, "magic").ok() || magic != kMagic) {
    return absl::InvalidArgumentError("not a cortado state file (bad magic)");
  }
  uint32_t version = 0, count = 0;
  RETURN_IF_ERROR(r.U32(version, "version"));
  if (version != kVersion) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported state file version ", version,
                                                   " (this reader knows ", kVersion, ")"));
  }
  RETURN_IF_ERROR(r.U32(count, "entry count"));
  NamedValues out;
  std::set<std::string> names;
  for (uint32_t i = 0; i < count; ++i) {
    const std::string what = absl::StrCat("entry ", i, " of ", count);
    uint32_t name_len = 0;
    RETURN_IF_ERROR(r.U32(name_len, absl::StrCat(what, " (name length)")));
    if (name_len == 0 || name_len > kMaxNameLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("state file ", what, " has bad name length ", name_len));
    }
    absl::string_view name;
    RETURN_IF_ERROR(r.Bytes(name_len, name, absl::StrCat(what, " (name)")));
    const std::string entry = absl::StrCat(what, " '", name, "'");
    uint64_t npy_len = 0;
    RETURN_IF_ERROR(r.U64(npy_len, absl::StrCat(entry, " (data length)")));
    absl::string_view npy;
    if (npy_len > r.left()) {
      return absl::DataLossError(absl::StrCat("truncated state file: ", entry, " needs ", npy_len,
                                              " bytes at offset ", r.pos(), ", only ", r.left(),
                                              " left"));
    }
    RETURN_IF_ERROR(r.Bytes(static_cast<size_t>(npy_len), npy, entry));
    auto value = ParseNpy(npy);
    if (!value.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("state file ", entry, ": ", value.status().message()));
    }
    if (!names.insert(std::string(name)).second) {
      return absl::InvalidArgumentError(absl::StrCat("state file has duplicate ", entry));
    }
    out.emplace_back(std::string(name), *std::move(value));
  }
  if (r.left() != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "state file has ", r.left(), " unexpected bytes after its ", count, " entries"));
  }
  return out;
}

absl::Status SaveTensors(const std::string& path, const NamedValues& entries) {
  auto bytes = SerializeTensors(entries);
  if (!bytes.ok()) {
    return absl::Status(bytes.status().code(),
                        absl::StrCat("saving ", path, ": ", bytes.status().message()));
  }
  const std::string tmp = path + ".tmp";
  RETURN_IF_ERROR(WriteStringToFile(tmp, *bytes));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<NamedValues> LoadTensors(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  auto entries = ParseTensors(bytes);
  if (!entries.ok()) {
    return absl::Status(entries.status().code(),
                        absl::StrCat(path, ": ", entries.status().message()));
  }
  return entries;
}

}  // namespace nn
}  // namespace frontend
}  // namespace cortado
