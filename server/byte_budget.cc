#include "server/byte_budget.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace cortado {

ByteBudget::Lease& ByteBudget::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    budget_ = std::exchange(other.budget_, nullptr);
    bytes_ = other.bytes_;
  }
  return *this;
}

void ByteBudget::Lease::Release() {
  if (budget_ == nullptr) return;
  absl::MutexLock lock(&budget_->mu_);
  budget_->in_flight_ -= bytes_;
  budget_ = nullptr;
}

absl::StatusOr<ByteBudget::Lease> ByteBudget::Acquire(int64_t bytes) {
  if (limit_ <= 0) return Lease();
  if (bytes < 0) bytes = 0;
  absl::MutexLock lock(&mu_);
  if (bytes > limit_ - in_flight_) {
    return absl::UnavailableError(absl::StrCat(
        "the server is overloaded: a request of ", bytes, " bytes does not fit beside the ",
        in_flight_, " bytes of requests in flight (--max-inflight-bytes ", limit_,
        "); retry later"));
  }
  in_flight_ += bytes;
  return Lease(this, bytes);
}

int64_t ByteBudget::in_flight() const {
  absl::MutexLock lock(&mu_);
  return in_flight_;
}

}  // namespace cortado
