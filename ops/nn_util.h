// Helpers shared by the nn operator groups (ops/matmul.cc, ops/conv.cc, ops/pool.cc,
// ops/norm.cc, and their optimized CPU kernels in backends/cpu): dtype dispatch, operand checks,
// the channels-last inference wrapper of the kNhwcDomain schemas, and the sliding-window
// attributes and geometry of Conv, ConvTranspose and the pools. Internal to those files; other
// families should not depend on it. Stateless:
// thread-safe. ChannelsLast is called by schema registrations during static initialization and
// must stay free of registry state.
#ifndef CORTADO_OPS_NN_UTIL_H_
#define CORTADO_OPS_NN_UTIL_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <type_traits>
#include <utility>
#include <vector>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/status.h"
#include "core/tensor.h"
#include "ops/registry.h"

namespace cortado {

// Compiled with the loop vectorizer, as the files that include this header are (see the pragma in
// ops/conv.cc): GCC does not inline functions across differing optimization options.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("tree-vectorize", "no-trapping-math")
#endif

// Calls f(TypeTag<T>{}) for the T among Ts whose DType is `dtype`, else returns
// InvalidArgument naming `op`. Unlike VisitDType, f is only instantiated for Ts.
template <typename... Ts, typename F>
absl::Status VisitTypes(DType dtype, absl::string_view op, F&& f) {
  absl::Status result;
  const bool found =
      ((DTypeOf<Ts>::value == dtype ? (result = f(TypeTag<Ts>{}), true) : false) || ...);
  if (!found) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": unsupported dtype ", DTypeName(dtype)));
  }
  return result;
}

template <typename F>
absl::Status VisitFloatType(DType dtype, absl::string_view op, F&& f) {
  return VisitTypes<float, double>(dtype, op, std::forward<F>(f));
}

typedef double D2 __attribute__((vector_size(16)));

// Two consecutive elements as doubles.
template <typename T>
D2 LoadD2(const T* p) {
  if constexpr (std::is_same_v<T, float>) {
#ifdef __SSE2__
    double bits;  // the two floats, loaded as one 8-byte value for cvtps2pd
    std::memcpy(&bits, p, sizeof(bits));
    return reinterpret_cast<D2>(_mm_cvtps_pd(_mm_castpd_ps(_mm_set_sd(bits))));
#else
    return D2{static_cast<double>(p[0]), static_cast<double>(p[1])};
#endif
  } else {
    D2 d;
    std::memcpy(&d, p, sizeof(D2));
    return d;
  }
}

// Sum of v[0..n) in double, as four interleaved partial sums (a fixed order).
template <typename T>
double SumD(const T* v, int64_t n) {
  D2 a0{}, a1{};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 += LoadD2(v + i);
    a1 += LoadD2(v + i + 2);
  }
  a0 += a1;
  double sum = a0[0] + a0[1];
  for (; i < n; ++i) sum += static_cast<double>(v[i]);
  return sum;
}

absl::Status CheckSameDType(absl::string_view op, const Tensor& a, const Tensor& b,
                            absl::string_view what);

// Product of dims [begin, end) of `s` (clamped to its rank).
int64_t Product(const Shape& s, size_t begin, size_t end);

// True when two shapes, either possibly holding unknown (-1) dims, can be the same.
bool ShapesMayMatch(const Shape& a, const Shape& b);

// The first known dtype among `types`, or InvalidArgument when two known ones differ (for
// inference, which prefixes the op's name).
absl::StatusOr<DType> CommonDType(std::initializer_list<std::pair<const char*, DType>> types);

// Inference of a kNhwcDomain operator: `infer` on the channels-first view of its activations
// (input 0, and Z of FusedConv), output 0 turned back to channels-last.
InferFn ChannelsLast(InferFn infer);

// ---------------------------------------------------------------------------------------------
// Sliding windows: the attributes shared by Conv, ConvTranspose and the pools, and the geometry
// they resolve to for one input.
// ---------------------------------------------------------------------------------------------

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

// Spatial ranks the window kernels handle (1-D, 2-D and 3-D).
constexpr int kMaxSpatial = 3;

// Window attributes as written on the node; empty vectors mean "not given".
struct WindowAttrs {
  AutoPad auto_pad = AutoPad::kNotSet;
  std::vector<int64_t> kernel_shape, strides, dilations, pads;
  bool ceil_mode = false;
  // ConvTranspose only.
  std::vector<int64_t> output_padding, output_shape;
};

absl::StatusOr<WindowAttrs> ReadWindowAttrs(absl::string_view op, const AttributeMap& attrs);

// One spatial problem, normalized to 3 dimensions: a 1-D or 2-D problem gets leading dimensions
// of size 1 (kernel 1, stride 1, no padding). For a forward window (Conv, pools) `in` is the
// input and `out` the output; ConvTranspose uses the geometry of the forward convolution that it
// is the adjoint of (its output is `in`, its input `out`).
struct Geometry {
  int nd = 0;  // the real spatial rank
  std::array<int64_t, kMaxSpatial> in{}, out{}, kernel{}, stride{}, dilation{}, pad_begin{},
      pad_end{};
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
  int64_t kernel_size() const { return kernel[0] * kernel[1] * kernel[2]; }
  Shape OutSpatial() const { return Shape(out.end() - nd, out.end()); }
  Shape InSpatial() const { return Shape(in.end() - nd, in.end()); }
};

// Resolves attributes against the spatial input dims of a forward window op (Conv, pools).
// `kernel` is the resolved kernel shape. Input dims of -1 (unknown, for inference) give output
// dims of -1.
absl::StatusOr<Geometry> ForwardGeometry(absl::string_view op, const Shape& in,
                                         const std::vector<int64_t>& kernel, const WindowAttrs& w);

// Resolves ConvTranspose attributes against its spatial input dims (-1 = unknown) into the
// geometry of the adjoint forward convolution.
absl::StatusOr<Geometry> TransposedGeometry(const Shape& in, const std::vector<int64_t>& kernel,
                                            const WindowAttrs& w);

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

}  // namespace cortado

#endif  // CORTADO_OPS_NN_UTIL_H_
