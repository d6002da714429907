// Helpers shared by the kernels of the tensor family (ops/reshape.cc, ops/transpose.cc,
// ops/slice.cc, ops/concat.cc, ops/cast.cc, ops/constant.cc, ops/gather.cc, ops/resize.cc): error
// messages, dispatch on element storage, value conversion, axis and index checks, the
// offset-table gather that most data-movement kernels reduce to, and inference helpers. Internal
// to that family (namespace tensor_ops); other families should not depend on it. Header-only and
// stateless: thread-safe.
#ifndef CORTADO_OPS_TENSOR_UTIL_H_
#define CORTADO_OPS_TENSOR_UTIL_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/thread_pool.h"
#include "ops/registry.h"

namespace cortado {
namespace tensor_ops {

using Ints = std::vector<int64_t>;

// InvalidArgument "op: args...".
template <typename... Args>
absl::Status Bad(absl::string_view op, const Args&... args) {
  return absl::InvalidArgumentError(absl::StrCat(op, ": ", args...));
}

inline std::string Str(const Shape& s) { return ShapeToString(s); }

// Calls f(TypeTag<S>{}) with the storage type of `dtype`: std::string for strings, otherwise the
// unsigned integer of the element's size. For kernels that only copy elements.
template <typename F>
absl::Status VisitStorage(DType dtype, absl::string_view op, F&& f) {
  if (dtype == DType::kString) return f(TypeTag<std::string>{});
  switch (DTypeSize(dtype)) {
    case 1:
      return f(TypeTag<uint8_t>{});
    case 2:
      return f(TypeTag<uint16_t>{});
    case 4:
      return f(TypeTag<uint32_t>{});
    case 8:
      return f(TypeTag<uint64_t>{});
    default:
      break;
  }
  return Bad(op, "unsupported dtype ", DTypeName(dtype));
}

template <typename T>
constexpr bool kIsReducedFloat = std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

// Converts one value between non-string element types like a C++ cast, made total: floating
// values that an integer type cannot hold saturate and NaN becomes 0. The narrow types convert
// as ONNX's reference Cast (ml_dtypes) does: to a narrow float to nearest even, saturating; to a
// 4- or 2-bit integer floats truncate toward zero (0 when out of range or NaN) and integers keep
// their low bits.
template <typename To, typename From>
To ConvertValue(const From& v) {
  if constexpr (kIsReducedFloat<From> || kIsNarrowFloat<From>) {
    return ConvertValue<To>(static_cast<float>(v));
  } else if constexpr (kIsNarrowInt<From>) {
    return ConvertValue<To>(static_cast<int64_t>(v));
  } else if constexpr (kIsReducedFloat<To>) {
    return To(static_cast<float>(v));
  } else if constexpr (kIsNarrowFloat<To>) {
    return To::FromBits(EncodeNarrowFloat(To::kFormat, static_cast<double>(v), /*saturate=*/true));
  } else if constexpr (kIsNarrowInt<To> && std::is_floating_point_v<From>) {
    const double t = std::trunc(static_cast<double>(v));
    return To(t >= To::kMin && t <= To::kMax ? static_cast<int64_t>(t) : 0);
  } else if constexpr (kIsNarrowInt<To>) {
    return To(static_cast<int64_t>(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    if (std::isnan(v)) return To(0);
    if (v <= static_cast<From>(std::numeric_limits<To>::lowest())) {
      return std::numeric_limits<To>::lowest();
    }
    if (v >= static_cast<From>(std::numeric_limits<To>::max())) {
      return std::numeric_limits<To>::max();
    }
    return static_cast<To>(v);
  } else {
    return static_cast<To>(v);
  }
}

// The ONNX TensorProto.DataType code of each dtype, indexed by DType (0: none), and back: the
// one mapping between the two, used by the kernels, the ONNX importer/exporter and the frontend.
inline constexpr int64_t kOnnxDataTypes[] = {0, 1, 11, 10, 16, 3,  5,  6,  7,  2,  4,  12, 13,
                                             9, 8, 17, 18, 19, 20, 24, 23, 22, 21, 26, 25};
static_assert(std::size(kOnnxDataTypes) == static_cast<size_t>(DType::kUInt2) + 1);
inline int64_t OnnxDataType(DType dtype) { return kOnnxDataTypes[static_cast<int>(dtype)]; }
inline absl::StatusOr<DType> DTypeFromOnnx(int64_t code, absl::string_view op) {
  for (int i = 1; i < static_cast<int>(std::size(kOnnxDataTypes)); ++i) {
    if (kOnnxDataTypes[i] == code) return static_cast<DType>(i);
  }
  return Bad(op, "unsupported ONNX data type ", code);
}

// The values of an integer tensor (a shape, axes, indices...).
inline absl::StatusOr<Ints> IntValues(const Tensor& t, absl::string_view op,
                                      absl::string_view what) {
  if (!IsInteger(t.dtype())) {
    return Bad(op, what, " must be an integer tensor, got ", DTypeName(t.dtype()));
  }
  return t.ToInt64Vector();
}

// The single value of a scalar (or one-element) input as double.
inline absl::StatusOr<double> ScalarValue(const Tensor& t, absl::string_view op,
                                          absl::string_view what) {
  if (t.num_elements() != 1 || t.dtype() == DType::kString) {
    return Bad(op, what, " must be a numeric scalar, got ", DTypeName(t.dtype()), Str(t.shape()));
  }
  return t.ElementAsDouble(0);
}

// Input `i` as integers when it is present, else the attribute values (for attributes that
// became inputs in a later opset), else nullopt.
inline absl::StatusOr<std::optional<Ints>> IntsFromInputOrAttr(const KernelContext& ctx, int i,
                                                               const std::optional<Ints>& attr,
                                                               absl::string_view op,
                                                               absl::string_view what) {
  const Tensor* t = ctx.input(i);
  if (t != nullptr && t->defined()) {
    ASSIGN_OR_RETURN(Ints v, IntValues(*t, op, what));
    return std::optional<Ints>(std::move(v));
  }
  return attr;
}

inline std::optional<Ints> OptionalInts(const AttributeMap& attrs, absl::string_view name) {
  if (!attrs.Has(name)) return std::nullopt;
  return attrs.GetInts(name);
}

inline absl::Status SetView(KernelContext& ctx, const Tensor& x, Shape shape) {
  ASSIGN_OR_RETURN(Tensor view, x.Reshaped(std::move(shape)));
  ctx.SetOutput(0, std::move(view));
  return absl::OkStatus();
}

// Allocates output 0 when `shape` has no elements (its other dims may be huge: no tables are
// built for it) and returns true; false otherwise.
inline absl::StatusOr<bool> AllocatedIfEmpty(KernelContext& ctx, DType dtype, const Shape& shape) {
  if (std::find(shape.begin(), shape.end(), 0) == shape.end()) return false;
  RETURN_IF_ERROR(ctx.AllocateOutput(0, dtype, shape).status());
  return true;
}

// Normalizes axes against `rank`, rejecting out-of-range and repeated axes.
inline absl::StatusOr<std::vector<int>> NormalizeAxes(const Ints& axes, int rank,
                                                      absl::string_view op) {
  std::vector<int> out;
  std::vector<bool> seen(rank, false);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank) return Bad(op, "axis ", a, " is out of range for rank ", rank);
    const int n = static_cast<int>(a < 0 ? a + rank : a);
    if (seen[n]) return Bad(op, "axis ", a, " is repeated");
    seen[n] = true;
    out.push_back(n);
  }
  return out;
}

inline absl::StatusOr<int> Axis(int64_t axis, int rank, absl::string_view op) {
  if (axis < -rank || axis >= rank) {
    return Bad(op, "axis ", axis, " is out of range for rank ", rank);
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

// Normalizes an index into [0, dim) (negative counts from the end), or an error.
inline absl::StatusOr<int64_t> Index(int64_t i, int64_t dim, absl::string_view op) {
  if (i < -dim || i >= dim) return Bad(op, "index ", i, " is out of range [", -dim, ", ", dim, ")");
  return i < 0 ? i + dim : i;
}

// Product of dims; -1 (unknown) when any dim is unknown.
inline int64_t PartialProduct(const Shape& s, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) {
    if (s[i] < 0) return -1;
    p *= s[i];
  }
  return p;
}

// Per-dimension offset tables: output element (i0, ..., in) reads input element
// sum_d tables[d][i_d], or `fill` when any entry is negative (outside the input).
using OffsetTables = std::vector<Ints>;

inline Ints AffineTable(int64_t n, int64_t start, int64_t step) {
  Ints t(n);
  for (int64_t j = 0; j < n; ++j) t[j] = start + j * step;
  return t;
}

template <typename T>
void GatherByTables(const T* in, T* out, const Shape& out_shape, const OffsetTables& tables,
                    const T& fill) {
  const int rank = static_cast<int>(out_shape.size());
  const int64_t total = NumElements(out_shape);
  if (total == 0) return;
  if (rank == 0) {
    out[0] = in[0];
    return;
  }
  const Ints& last = tables[rank - 1];
  const int64_t inner = out_shape[rank - 1];
  // A last table that steps by one reads a contiguous run: copied whole.
  bool contiguous = inner > 0 && last[0] >= 0;
  for (int64_t j = 1; contiguous && j < inner; ++j) contiguous = last[j] == last[0] + j;
  // Output rows (runs of `inner` elements) split over the intra-op threads; each chunk starts
  // its multi-index over the dimensions before the last at its first row.
  ParallelFor(total / inner, std::max<int64_t>(1, kMinParallelElements / inner),
              [&](int64_t begin, int64_t end) {
                std::vector<int64_t> idx(rank - 1, 0);
                for (int64_t d = rank - 2, r = begin; d >= 0; --d) {
                  idx[d] = r % out_shape[d];
                  r /= out_shape[d];
                }
                for (int64_t row = begin; row < end; ++row) {
                  int64_t base = 0;
                  bool outside = false;
                  for (int d = 0; d < rank - 1; ++d) {
                    const int64_t v = tables[d][idx[d]];
                    outside = outside || v < 0;
                    base += v;
                  }
                  T* dst = out + row * inner;
                  if (contiguous && !outside) {
                    std::copy_n(in + base + last[0], inner, dst);
                  } else {
                    for (int64_t j = 0; j < inner; ++j) {
                      dst[j] = (outside || last[j] < 0) ? fill : in[base + last[j]];
                    }
                  }
                  for (int d = rank - 2; d >= 0; --d) {
                    if (++idx[d] < out_shape[d]) break;
                    idx[d] = 0;
                  }
                }
              });
}

// Allocates output 0 of `out_shape` with x's dtype and fills it from x through `tables` (tables
// may describe a finer view of the output with the same element order: `view_shape`).
inline absl::Status RunTables(KernelContext& ctx, const Tensor& x, const Shape& out_shape,
                              const Shape& view_shape, const OffsetTables& tables,
                              absl::string_view op, const Tensor* fill = nullptr) {
  ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x.dtype(), out_shape));
  return VisitStorage(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T fill_value = fill != nullptr ? fill->data<T>()[0] : T();
    GatherByTables<T>(x.data<T>(), y->data<T>(), view_shape, tables, fill_value);
    return absl::OkStatus();
  });
}

// Copies `rows` rows of `count` elements from src (row stride src_stride) to dst (dst_stride).
template <typename T>
void CopyRows(const T* src, int64_t src_stride, T* dst, int64_t dst_stride, int64_t rows,
              int64_t count) {
  for (int64_t r = 0; r < rows; ++r) std::copy_n(src + r * src_stride, count, dst + r * dst_stride);
}

// Inference helpers.
inline const Shape* KnownShape(const InferenceContext& ctx, int i) {
  const TensorType& t = ctx.input(i);
  return t.shape ? &*t.shape : nullptr;
}

inline std::optional<Ints> ConstInts(const InferenceContext& ctx, int i) {
  const Tensor* t = ctx.constant(i);
  if (t == nullptr || !IsInteger(t->dtype())) return std::nullopt;
  auto v = t->ToInt64Vector();
  if (!v.ok()) return std::nullopt;
  return *v;
}

// Like IntsFromInputOrAttr, for inference: nullopt when the input is present but not constant.
// `known` is set false in that case.
inline std::optional<Ints> InferIntsFromInputOrAttr(const InferenceContext& ctx, int i,
                                                    absl::string_view attr, bool* known) {
  *known = true;
  if (ctx.has_input(i)) {
    std::optional<Ints> v = ConstInts(ctx, i);
    *known = v.has_value();
    return v;
  }
  return OptionalInts(ctx.attrs(), attr);
}

// An output of `rank` unknown dims (or of unknown rank when rank < 0).
inline TensorType UnknownDims(DType dtype, int64_t rank) {
  TensorType t{dtype, std::nullopt};
  if (rank >= 0) t.shape = Shape(rank, -1);
  return t;
}

// Rank of a 1-D shape-like input when its length is known, else -1.
inline int64_t LengthOf(const InferenceContext& ctx, int i) {
  const Shape* s = KnownShape(ctx, i);
  return (s != nullptr && s->size() == 1) ? (*s)[0] : -1;
}

// The dtype list of a kernel that accepts any dtype.
inline std::vector<DType> AnyType() { return {}; }

// One-element tensor of `dtype` holding `value` (strings: empty).
inline Tensor ScalarOf(DType dtype, double value) {
  Tensor t = Tensor::Create(dtype, {1}).value();
  VisitAnyDType(dtype, "scalar", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_same_v<T, std::string>) t.data<T>()[0] = ConvertValue<T>(value);
    return absl::OkStatus();
  }).IgnoreError();
  return t;
}

}  // namespace tensor_ops
}  // namespace cortado

#endif  // CORTADO_OPS_TENSOR_UTIL_H_
