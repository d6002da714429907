#include "server/exception_status.h"

#include <new>
#include <stdexcept>
#include <string>

#include "gtest/gtest.h"

namespace cortado {
namespace {

template <typename E>
absl::Status StatusOfThrown(E e) {
  try {
    throw e;
  } catch (...) {
    return CurrentExceptionStatus("infer");
  }
}

TEST(CurrentExceptionStatus, MapsAllocationFailureToResourceExhausted) {
  absl::Status s = StatusOfThrown(std::bad_alloc());
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "infer: out of memory");
  EXPECT_EQ(StatusOfThrown(std::length_error("vector")).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(CurrentExceptionStatus, MapsOtherExceptionsToInternal) {
  absl::Status s = StatusOfThrown(std::runtime_error("boom"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(s.message(), "infer: boom");
  EXPECT_EQ(StatusOfThrown(42).code(), absl::StatusCode::kInternal);
}

TEST(Guarded, ReturnsTheValueOrTheExceptionsStatus) {
  absl::StatusOr<int> ok = Guarded("x", []() -> absl::StatusOr<int> { return 7; });
  EXPECT_EQ(*ok, 7);
  absl::StatusOr<int> thrown =
      Guarded("x", []() -> absl::StatusOr<int> { throw std::bad_alloc(); });
  EXPECT_EQ(thrown.status().code(), absl::StatusCode::kResourceExhausted);
  absl::Status s = Guarded("y", []() -> absl::Status { throw std::runtime_error("no"); });
  EXPECT_EQ(s.message(), "y: no");
}

}  // namespace
}  // namespace cortado
