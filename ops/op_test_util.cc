#include "ops/op_test_util.h"

#include <cmath>
#include <cstring>

namespace cortado {

std::string CompareTensors(const Tensor& actual, const Tensor& expected, double rtol,
                           double atol) {
  if (!actual.defined() || !expected.defined()) {
    return actual.defined() == expected.defined() ? "" : "one tensor is undefined";
  }
  if (actual.dtype() != expected.dtype()) {
    return absl::StrCat("dtype ", DTypeName(actual.dtype()), " != expected ",
                        DTypeName(expected.dtype()));
  }
  if (actual.shape() != expected.shape()) {
    return absl::StrCat("shape ", ShapeToString(actual.shape()), " != expected ",
                        ShapeToString(expected.shape()));
  }
  const bool is_float = IsFloatingPoint(actual.dtype());
  for (int64_t i = 0; i < actual.num_elements(); ++i) {
    if (actual.dtype() == DType::kString) {
      if (actual.data<std::string>()[i] != expected.data<std::string>()[i]) {
        return absl::StrCat("element ", i, ": '", actual.data<std::string>()[i], "' != '",
                            expected.data<std::string>()[i], "'");
      }
      continue;
    }
    const double a = actual.ElementAsDouble(i), e = expected.ElementAsDouble(i);
    bool ok;
    if (is_float) {
      ok = (std::isnan(a) && std::isnan(e)) || a == e || std::fabs(a - e) <= atol + rtol * std::fabs(e);
    } else if (actual.dtype() == DType::kInt64 || actual.dtype() == DType::kUInt64) {
      ok = std::memcmp(static_cast<const char*>(actual.raw_data()) + 8 * i,
                       static_cast<const char*>(expected.raw_data()) + 8 * i, 8) == 0;
    } else {
      ok = a == e;
    }
    if (!ok) {
      return absl::StrCat("element ", i, ": ", a, " != expected ", e, " (|diff| ",
                          std::fabs(a - e), ")");
    }
  }
  return "";
}

}  // namespace cortado
