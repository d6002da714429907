#include "ops/op_test_util.h"

#include <cmath>
#include <cstring>
#include <random>

#include "core/thread_pool.h"

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
    if (IsNarrow(actual.dtype())) {  // one byte each: the same bits (NaN's sign included)
      ok = static_cast<const uint8_t*>(actual.raw_data())[i] ==
           static_cast<const uint8_t*>(expected.raw_data())[i];
    } else if (is_float) {
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

Tensor RandomNormal(const Shape& shape, uint32_t seed, DType dtype) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  Tensor t = Tensor::Create(dtype, shape).value();
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    if (dtype == DType::kFloat32) {
      t.data<float>()[i] = static_cast<float>(normal(rng));
    } else {
      t.data<double>()[i] = normal(rng);
    }
  }
  return t;
}

absl::StatusOr<std::vector<Tensor>> RunOpWithThreads(const OpRun& run, int threads) {
  SetIntraOpThreads(threads);
  absl::StatusOr<std::vector<Tensor>> out = RunOp(run);
  SetIntraOpThreads(1);
  return out;
}

std::string ThreadCountDifference(const OpRun& run, double rtol) {
  absl::StatusOr<std::vector<Tensor>> one = RunOpWithThreads(run, 1);
  if (!one.ok()) return one.status().ToString();
  for (int threads : {2, 3, 8}) {
    absl::StatusOr<std::vector<Tensor>> many = RunOpWithThreads(run, threads);
    if (!many.ok()) return many.status().ToString();
    if (many->size() != one->size()) return "a different number of outputs";
    for (size_t i = 0; i < one->size(); ++i) {
      const std::string diff = CompareTensors((*many)[i], (*one)[i], rtol, rtol * 10);
      if (!diff.empty()) {
        return absl::StrCat("output ", i, " with ", threads, " threads: ", diff);
      }
    }
  }
  return "";
}

}  // namespace cortado
