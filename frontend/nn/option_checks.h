// Internal helpers of the nn layers: option validation that throws cortado::Error, and
// PyTorch-style printing of option tuples. Pure functions; thread-safe.
#ifndef CORTADO_FRONTEND_NN_OPTION_CHECKS_H_
#define CORTADO_FRONTEND_NN_OPTION_CHECKS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "frontend/tensor.h"

namespace cortado {
namespace frontend {
namespace nn {
namespace internal {

[[noreturn]] inline void Fail(const std::string& message) {
  throw Error(absl::InvalidArgumentError(message));
}

inline void CheckPositive(const char* layer, const char* what, int64_t v) {
  if (v <= 0) Fail(absl::StrCat(layer, ": ", what, " must be positive, got ", v));
}

// Expands a single value to {v, v} and checks there are two values, each >= min.
inline std::vector<int64_t> Pair(const char* layer, const char* what, std::vector<int64_t> v,
                                 int64_t min) {
  if (v.size() == 1) v.push_back(v[0]);
  if (v.size() != 2) {
    Fail(absl::StrCat(layer, ": ", what, " needs 1 or 2 values, got ", v.size()));
  }
  for (int64_t x : v) {
    if (x < min) Fail(absl::StrCat(layer, ": ", what, " must be >= ", min, ", got ", x));
  }
  return v;
}

// "(3, 3)".
inline std::string Tuple(const std::vector<int64_t>& v) {
  return absl::StrCat("(", absl::StrJoin(v, ", "), v.size() == 1 ? ",)" : ")");
}

}  // namespace internal
}  // namespace nn
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_NN_OPTION_CHECKS_H_
