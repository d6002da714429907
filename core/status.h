// Status helpers shared by every layer below server/: absl::Status / absl::StatusOr plus the two
// early-return macros absl does not ship publicly. Header-only; thread-safe (no state).
#ifndef CORTADO_CORE_STATUS_H_
#define CORTADO_CORE_STATUS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#define CORTADO_CONCAT_INNER_(a, b) a##b
#define CORTADO_CONCAT_(a, b) CORTADO_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)                   \
  do {                                          \
    ::absl::Status _st = (expr);                \
    if (!_st.ok()) return _st;                  \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, StatusOrExpr());` declares `x` or returns the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(CORTADO_CONCAT_(_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

#endif  // CORTADO_CORE_STATUS_H_
