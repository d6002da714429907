// The IDX file format (Yann LeCun's MNIST format, also Fashion-MNIST's): a big-endian header
// {0, 0, type, rank}, `rank` big-endian uint32 dimensions, then the elements, big-endian,
// row-major. Types: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
// Files may be gzip-compressed (read through zlib; plain files read unchanged). Errors are
// absl::Status values naming the file and what is wrong (bad magic, unknown type, truncated
// header or data, data longer than the dimensions say). Pure functions; thread-safe.
#ifndef CORTADO_FRONTEND_DATA_IDX_H_
#define CORTADO_FRONTEND_DATA_IDX_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "frontend/tensor.h"

namespace cortado {
namespace frontend {
namespace data {

// Parses the bytes of an (uncompressed) IDX file into a tensor of the file's dtype and shape.
absl::StatusOr<Tensor> ParseIdx(absl::string_view bytes);
// Reads an IDX file, gzip-compressed or not. NotFound when it cannot be opened.
absl::StatusOr<Tensor> ReadIdx(const std::string& path);
// The whole content of a file, decompressed when it is gzip (or plain when it is not).
// DataLoss on a corrupt or truncated gzip stream.
absl::StatusOr<std::string> ReadMaybeGzippedFile(const std::string& path);

}  // namespace data
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_DATA_IDX_H_
