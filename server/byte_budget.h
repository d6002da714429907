// ByteBudget: the server-wide budget of request bytes in flight (--max-inflight-bytes). The
// network adapters take a Lease for each request's bytes as soon as they know its size (an
// HTTP Content-Length, a gRPC message) and hold it until the request is answered; a request
// that does not fit is refused at once with Unavailable (HTTP 503, gRPC UNAVAILABLE), so that
// many large requests at once cannot exhaust memory. Thread-safe.
#ifndef CORTADO_SERVER_BYTE_BUDGET_H_
#define CORTADO_SERVER_BYTE_BUDGET_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace cortado {

class ByteBudget {
 public:
  // Bytes held by one request; returned to the budget when destroyed. Movable, not copyable.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept : budget_(other.budget_), bytes_(other.bytes_) {
      other.budget_ = nullptr;
    }
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { Release(); }
    void Release();  // returns the bytes now (idempotent)

   private:
    friend class ByteBudget;
    Lease(ByteBudget* budget, int64_t bytes) : budget_(budget), bytes_(bytes) {}
    ByteBudget* budget_ = nullptr;
    int64_t bytes_ = 0;
  };

  // `limit` <= 0: no limit (every Acquire succeeds, nothing is counted).
  explicit ByteBudget(int64_t limit) : limit_(limit) {}
  ByteBudget(const ByteBudget&) = delete;
  ByteBudget& operator=(const ByteBudget&) = delete;

  // A lease of `bytes`, or Unavailable when they do not fit beside those in flight.
  absl::StatusOr<Lease> Acquire(int64_t bytes);
  int64_t in_flight() const;
  int64_t limit() const { return limit_; }

 private:
  const int64_t limit_;
  mutable absl::Mutex mu_;
  int64_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cortado

#endif  // CORTADO_SERVER_BYTE_BUDGET_H_
