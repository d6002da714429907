// Reading and writing numpy's .npy format (versions 1.0-3.0, little-endian, C order, the dtypes
// of DType except string). Pure functions; thread-safe.
#ifndef CORTADO_CORE_NPY_H_
#define CORTADO_CORE_NPY_H_

#include <string>
#include "absl/strings/string_view.h"

#include "core/tensor.h"

namespace cortado {

absl::StatusOr<Tensor> ParseNpy(absl::string_view bytes);
absl::StatusOr<Tensor> ReadNpyFile(const std::string& path);
absl::StatusOr<std::string> SerializeNpy(const Tensor& tensor);
absl::Status WriteNpyFile(const std::string& path, const Tensor& tensor);

// Whole-file helpers used by the loaders.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);
absl::Status WriteStringToFile(const std::string& path, absl::string_view bytes);

}  // namespace cortado

#endif  // CORTADO_CORE_NPY_H_
