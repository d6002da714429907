// GradCheck: compares the gradients autograd computes for f with central finite differences, in
// float64 (flashlight's and PyTorch's gradcheck). For tests; not thread-safe (it perturbs the
// inputs in place and draws from the global generator).
#ifndef CORTADO_FRONTEND_GRADCHECK_H_
#define CORTADO_FRONTEND_GRADCHECK_H_

#include <functional>
#include <string>
#include <vector>

#include "frontend/tensor.h"

namespace cortado {
namespace frontend {

struct GradCheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-5;
};

// Differentiates L = sum(f(inputs) * W) for a fixed random W against every float64 input that
// requires grad. Returns "" when all analytic and numeric derivatives agree within
// atol + rtol * |numeric|, else a description of the first mismatch (or of a thrown error).
std::string GradCheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                      const std::vector<Tensor>& inputs, const GradCheckOptions& options = {});

}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_GRADCHECK_H_
