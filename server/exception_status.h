// Turns the exception being handled into an absl::Status, so that no exception thrown while a
// request is handled (std::bad_alloc from a large tensor, a library's std::exception) ever
// reaches std::terminate: the network adapters and the service's workers catch everything at
// their edges and answer with this status. Pure function: thread-safe.
#ifndef CORTADO_SERVER_EXCEPTION_STATUS_H_
#define CORTADO_SERVER_EXCEPTION_STATUS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cortado {

// Call only inside a catch block. ResourceExhausted for std::bad_alloc and std::length_error
// (an allocation the server cannot make), Internal with what() for any other std::exception,
// Internal for anything else; the message begins with `where`.
absl::Status CurrentExceptionStatus(absl::string_view where);

// Returns fn() (an absl::Status or absl::StatusOr), or CurrentExceptionStatus(where) if it throws.
template <typename Fn>
auto Guarded(absl::string_view where, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (...) {
    return CurrentExceptionStatus(where);
  }
}

}  // namespace cortado

#endif  // CORTADO_SERVER_EXCEPTION_STATUS_H_
