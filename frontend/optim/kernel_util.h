// Helpers for the optimizers' update loops (internal to frontend/optim): turning runtime flags
// into compile-time ones so that each loop the compiler vectorizes is branch-free. Header-only;
// thread-safe (no state).
#ifndef CORTADO_FRONTEND_OPTIM_KERNEL_UTIL_H_
#define CORTADO_FRONTEND_OPTIM_KERNEL_UTIL_H_

#include <type_traits>

namespace cortado {
namespace frontend {
namespace optim {
namespace internal {

// Calls f(std::true_type{}) or f(std::false_type{}).
template <typename F>
void WithFlag(bool flag, F&& f) {
  if (flag) {
    f(std::true_type{});
  } else {
    f(std::false_type{});
  }
}

}  // namespace internal
}  // namespace optim
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_OPTIM_KERNEL_UTIL_H_
