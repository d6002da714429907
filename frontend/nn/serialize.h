// The state file format of nn::Module::save/load: an ordered list of named tensors in one file.
// Pure functions; thread-safe.
//
// Layout (all integers little-endian):
//
//   magic     8 bytes   "CRTDSTAT"
//   version   uint32    1
//   count     uint32    number of entries
//   count entries, each:
//     name_len  uint32    length of the name in bytes (1 .. 65536)
//     name      name_len bytes of UTF-8, e.g. "features.0.weight"; unique within the file
//     npy_len   uint64    length of the tensor's image
//     npy       npy_len bytes: a complete .npy file (numpy format 1.0-3.0, C order, as
//               core/npy.h writes it), which carries the dtype and shape
//
// Nothing may follow the last entry. A reader in Python is a few lines: struct.unpack for the
// integers and numpy.load(io.BytesIO(npy)) for each tensor.
#ifndef CORTADO_FRONTEND_NN_SERIALIZE_H_
#define CORTADO_FRONTEND_NN_SERIALIZE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/status.h"
#include "core/tensor.h"

namespace cortado {
namespace frontend {
namespace nn {

using NamedValues = std::vector<std::pair<std::string, cortado::Tensor>>;

// The file's bytes for `entries` (names must be unique and non-empty).
absl::StatusOr<std::string> SerializeTensors(const NamedValues& entries);
// Parses a whole file image. Errors name the problem: DataLoss for a truncated file,
// InvalidArgument for anything else (bad magic, unknown version, duplicate name, trailing bytes,
// bad .npy image).
absl::StatusOr<NamedValues> ParseTensors(absl::string_view bytes);

// Writes `entries` to `path` through a temporary file renamed into place.
absl::Status SaveTensors(const std::string& path, const NamedValues& entries);
// Reads a file written by SaveTensors; errors name `path`.
absl::StatusOr<NamedValues> LoadTensors(const std::string& path);

}  // namespace nn
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_NN_SERIALIZE_H_
