// Winograd F(2x2, 3x3) for the oneDNN backend's channels-last FusedConv (conv.cc): 3x3 kernel,
// stride 1, dilation 1, one group, float32. oneDNN 2.6 has Winograd only for AVX-512; on AVX2 its
// direct convolution runs near the FMA peak, so the way past it is fewer multiplies (2.25x fewer
// here). The weights are transformed once (U = G g G^T, [16][C][OC]); a run transforms the input
// tiles of a block (B^T d B), multiplies the 16 transformed planes with oneDNN's sgemm and
// transforms the products back (A^T m A) with bias, residual Z and activation, into Y.
#ifndef CORTADO_BACKENDS_ONEDNN_WINOGRAD_H_
#define CORTADO_BACKENDS_ONEDNN_WINOGRAD_H_

#include <memory>
#include <optional>
#include <vector>

#include "backends/onednn/onednn_util.h"

namespace cortado {
namespace onednn {

class Winograd {
 public:
  // The transformed weights of OIHW `w`, or nullptr when the convolution is not one Winograd
  // takes (kernel, stride, dilation, group, activation) or the CPU lacks AVX2 and FMA. `bias`
  // may be undefined.
  static std::unique_ptr<Winograd> Create(const Tensor& w, const Tensor& bias, bool has_z,
                                          const std::optional<EltwiseOp>& eltwise,
                                          const AttributeMap& attrs);

  // Whether Winograd beats oneDNN's direct convolution on the NCHW input dims `nchw` with
  // `threads` threads (measured, see winograd.cc).
  bool Faster(const Shape& nchw, int threads) const;

  // Y (NHWC, [N, OH, OW, OC] of `win`) from channels-last X of NCHW dims `nchw`. With a residual,
  // Y holds Z on entry. Called inside Guarded(threads, ...).
  absl::Status Run(const float* x, const Shape& nchw, const Window& win, float* y,
                   int threads) const;

  // The OIHW weights back from U (exact but for rounding), for the shapes Winograd leaves to the
  // direct convolution: the kernel keeps U alone, not the original weights as well.
  absl::StatusOr<Tensor> Weights() const;

  // Off, Create returns nullptr: bench/onednn_bench times the direct convolution with it.
  static void Enable(bool on);

 private:
  Winograd() = default;
  int64_t in_channels_ = 0, out_channels_ = 0;
  std::vector<float> u_;     // [16][C][OC]
  std::vector<float> bias_;  // [OC], zeros without a bias
  bool has_z_ = false;
  std::optional<EltwiseOp> eltwise_;
};

}  // namespace onednn
}  // namespace cortado

#endif  // CORTADO_BACKENDS_ONEDNN_WINOGRAD_H_
