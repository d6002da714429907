// The tensor family, indexing operators: Gather, GatherElements, GatherND, ScatterElements,
// Scatter, ScatterND, OneHot, NonZero, Compress, ReverseSequence. Every index is checked: an
// out-of-range index is an InvalidArgument error, never an out-of-bounds access (OneHot, as ONNX
// specifies, gives an all-off row instead). Elements are copied by storage type, so every dtype
// is served by one code path; scatter reductions dispatch on the numeric type.
#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ops/registry.h"
#include "ops/tensor_util.h"

namespace cortado {
namespace tensor_ops {
namespace {

// ---------------------------------------------------------------------------------------------
// Gather, GatherElements, GatherND.

absl::Status InferGather(InferenceContext& ctx) {
  const DType dtype = ctx.input(0).dtype;
  const Shape* data = KnownShape(ctx, 0);
  const Shape* ind = KnownShape(ctx, 1);
  if (!data || !ind) {
    ctx.set_output(0, UnknownDims(dtype, -1));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(int axis,
                   Axis(ctx.attrs().GetInt("axis"), static_cast<int>(data->size()), "Gather"));
  Shape out(data->begin(), data->begin() + axis);
  out.insert(out.end(), ind->begin(), ind->end());
  out.insert(out.end(), data->begin() + axis + 1, data->end());
  ctx.set_output(0, {dtype, out});
  return absl::OkStatus();
}

class GatherKernel : public Kernel {
 public:
  explicit GatherKernel(const KernelInfo& info) : axis_(info.attrs->GetInt("axis")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* ind, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(int axis, Axis(axis_, x->rank(), "Gather"));
    ASSIGN_OR_RETURN(Ints indices, IntValues(*ind, "Gather", "indices"));
    const int64_t dim = x->dim(axis);
    const int64_t inner = PartialProduct(x->shape(), axis + 1, x->rank());
    const int64_t outer = PartialProduct(x->shape(), 0, axis);
    for (int64_t& i : indices) {
      ASSIGN_OR_RETURN(int64_t n, Index(i, dim, "Gather"));
      i = n * inner;
    }
    Shape out(x->shape().begin(), x->shape().begin() + axis);
    out.insert(out.end(), ind->shape().begin(), ind->shape().end());
    out.insert(out.end(), x->shape().begin() + axis + 1, x->shape().end());
    const int64_t count = static_cast<int64_t>(indices.size());
    if (inner == 1) {  // picks within each row (a channels-last channel gather): indices innermost
      return RunTables(ctx, *x, out, {outer, count}, {AffineTable(outer, 0, dim), indices},
                       "Gather");
    }
    const OffsetTables tables = {AffineTable(outer, 0, dim * inner), indices,
                                 AffineTable(inner, 0, 1)};
    return RunTables(ctx, *x, out, {outer, count, inner}, tables, "Gather");
  }

 private:
  int64_t axis_;
};

// Input offsets of GatherElements / ScatterElements: for each element of `indices` (same rank
// as data), the data offset with the axis coordinate replaced by the index.
absl::StatusOr<Ints> ElementOffsets(const Shape& data, const Tensor& indices, int64_t axis_attr,
                                    absl::string_view op) {
  const int rank = static_cast<int>(data.size());
  if (indices.rank() != rank) {
    return Bad(op, "indices ", Str(indices.shape()), " must have the rank of data ", Str(data));
  }
  ASSIGN_OR_RETURN(int axis, Axis(axis_attr, rank, op));
  for (int d = 0; d < rank; ++d) {
    if (d != axis && indices.dim(d) > data[d]) {
      return Bad(op, "indices ", Str(indices.shape()), " exceed data ", Str(data), " on axis ", d);
    }
  }
  ASSIGN_OR_RETURN(Ints idx, IntValues(indices, op, "indices"));
  const std::vector<int64_t> strides = Strides(data);
  std::vector<int64_t> pos(rank, 0);
  for (int64_t& v : idx) {
    ASSIGN_OR_RETURN(int64_t a, Index(v, data[axis], op));
    int64_t off = 0;
    for (int d = 0; d < rank; ++d) off += (d == axis ? a : pos[d]) * strides[d];
    v = off;
    for (int d = rank - 1; d >= 0; --d) {
      if (++pos[d] < indices.dim(d)) break;
      pos[d] = 0;
    }
  }
  return idx;
}

absl::Status InferGatherElements(InferenceContext& ctx) {
  ctx.set_output(0, {ctx.input(0).dtype, ctx.input(1).shape});
  return absl::OkStatus();
}

class GatherElementsKernel : public Kernel {
 public:
  explicit GatherElementsKernel(const KernelInfo& info) : axis_(info.attrs->GetInt("axis")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* ind, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(Ints offsets, ElementOffsets(x->shape(), *ind, axis_, "GatherElements"));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), ind->shape()));
    return VisitStorage(x->dtype(), "GatherElements", [&](auto tag) {
      using T = typename decltype(tag)::type;
      for (size_t i = 0; i < offsets.size(); ++i) y->data<T>()[i] = x->data<T>()[offsets[i]];
      return absl::OkStatus();
    });
  }

 private:
  int64_t axis_;
};

// GatherND / ScatterND addressing: data offsets of the slices that `indices` selects, and the
// slice size. `batch_dims` leading dims are shared by data and indices.
struct NdSlices {
  Ints offsets;
  int64_t slice = 1;
  Shape out;  // GatherND output shape
};

absl::StatusOr<NdSlices> NdAddress(const Shape& data, const Tensor& indices, int64_t batch_dims,
                                   absl::string_view op) {
  const int r = static_cast<int>(data.size()), q = indices.rank();
  if (r < 1 || q < 1) return Bad(op, "data and indices must have rank >= 1");
  if (batch_dims < 0 || batch_dims >= std::min(q, r)) {
    return Bad(op, "batch_dims ", batch_dims, " must be in [0, ", std::min(q, r), ")");
  }
  const int b = static_cast<int>(batch_dims);
  const int64_t k = indices.dim(q - 1);
  if (k < 1 || k > r - b) {
    return Bad(op, "indices ", Str(indices.shape()), " last dim must be in [1, ", r - b,
               "] for data ", Str(data));
  }
  for (int d = 0; d < b; ++d) {
    if (indices.dim(d) != data[d]) {
      return Bad(op, "batch dims of indices ", Str(indices.shape()), " and data ", Str(data),
                 " differ");
    }
  }
  ASSIGN_OR_RETURN(Ints idx, IntValues(indices, op, "indices"));
  NdSlices s;
  s.slice = PartialProduct(data, b + k, r);
  s.out.assign(indices.shape().begin(), indices.shape().end() - 1);
  s.out.insert(s.out.end(), data.begin() + b + k, data.end());
  const std::vector<int64_t> strides = Strides(data);
  const int64_t batch_stride = PartialProduct(data, b, r);
  const int64_t tuples = static_cast<int64_t>(idx.size()) / k;
  const int64_t per_batch = PartialProduct(indices.shape(), b, q - 1);
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t off = (per_batch == 0 ? 0 : t / per_batch) * batch_stride;
    for (int64_t j = 0; j < k; ++j) {
      ASSIGN_OR_RETURN(int64_t i, Index(idx[t * k + j], data[b + j], op));
      off += i * strides[b + j];
    }
    s.offsets.push_back(off);
  }
  return s;
}

absl::Status InferGatherND(InferenceContext& ctx) {
  const DType dtype = ctx.input(0).dtype;
  const Shape* data = KnownShape(ctx, 0);
  const Shape* ind = KnownShape(ctx, 1);
  if (!data || !ind || ind->empty() || ind->back() < 0) {
    ctx.set_output(0, UnknownDims(dtype, -1));
    return absl::OkStatus();
  }
  const int64_t b = ctx.attrs().GetInt("batch_dims"), k = ind->back();
  const int64_t r = static_cast<int64_t>(data->size());
  if (b < 0 || b > r || k > r - b) {
    return Bad("GatherND", "indices ", Str(*ind), " do not fit data ", Str(*data));
  }
  Shape out(ind->begin(), ind->end() - 1);
  out.insert(out.end(), data->begin() + b + k, data->end());
  ctx.set_output(0, {dtype, out});
  return absl::OkStatus();
}

class GatherNDKernel : public Kernel {
 public:
  explicit GatherNDKernel(const KernelInfo& info) : batch_dims_(info.attrs->GetInt("batch_dims")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* ind, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(NdSlices s, NdAddress(x->shape(), *ind, batch_dims_, "GatherND"));
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), s.out));
    return VisitStorage(x->dtype(), "GatherND", [&](auto tag) {
      using T = typename decltype(tag)::type;
      for (size_t i = 0; i < s.offsets.size(); ++i) {
        std::copy_n(x->data<T>() + s.offsets[i], s.slice, y->data<T>() + i * s.slice);
      }
      return absl::OkStatus();
    });
  }

 private:
  int64_t batch_dims_;
};

// ---------------------------------------------------------------------------------------------
// ScatterElements, Scatter, ScatterND.

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

absl::StatusOr<Reduction> ParseReduction(const std::string& s, absl::string_view op) {
  if (s == "none") return Reduction::kNone;
  if (s == "add") return Reduction::kAdd;
  if (s == "mul") return Reduction::kMul;
  if (s == "max") return Reduction::kMax;
  if (s == "min") return Reduction::kMin;
  return Bad(op, "unsupported reduction '", s, "'");
}

template <typename T>
void Reduce(Reduction r, T& dst, const T& src) {
  if constexpr (kIsReducedFloat<T>) {
    float d = static_cast<float>(dst);
    Reduce<float>(r, d, static_cast<float>(src));
    dst = T(d);
  } else if constexpr (std::is_same_v<T, bool>) {
    const bool any = r == Reduction::kAdd || r == Reduction::kMax;
    dst = r == Reduction::kNone ? src : (any ? (dst || src) : (dst && src));
  } else if constexpr (std::is_integral_v<T>) {  // wrap like numpy, without signed overflow
    const uint64_t a = static_cast<uint64_t>(dst), b = static_cast<uint64_t>(src);
    switch (r) {
      case Reduction::kNone:
        dst = src;
        break;
      case Reduction::kAdd:
        dst = static_cast<T>(a + b);
        break;
      case Reduction::kMul:
        dst = static_cast<T>(a * b);
        break;
      case Reduction::kMax:
        dst = std::max(dst, src);
        break;
      case Reduction::kMin:
        dst = std::min(dst, src);
        break;
    }
  } else {
    switch (r) {
      case Reduction::kNone:
        dst = src;
        break;
      case Reduction::kAdd:
        dst = dst + src;
        break;
      case Reduction::kMul:
        dst = dst * src;
        break;
      case Reduction::kMax:
        dst = std::max(dst, src);
        break;
      case Reduction::kMin:
        dst = std::min(dst, src);
        break;
    }
  }
}

// Output = copy of data, then for each i: out[offsets[i] + j] (op)= updates[i * slice + j].
absl::Status ScatterInto(KernelContext& ctx, const Tensor& data, const Tensor& updates,
                         const Ints& offsets, int64_t slice, Reduction reduction,
                         absl::string_view op) {
  if (updates.dtype() != data.dtype()) {
    return Bad(op, "updates dtype ", DTypeName(updates.dtype()), " differs from data dtype ",
               DTypeName(data.dtype()));
  }
  ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, data.dtype(), data.shape()));
  auto scatter = [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::copy_n(data.data<T>(), data.num_elements(), y->data<T>());
    const T* u = updates.data<T>();
    T* out = y->data<T>();
    for (size_t i = 0; i < offsets.size(); ++i) {
      for (int64_t j = 0; j < slice; ++j) {
        if constexpr (std::is_same_v<T, std::string>) {
          out[offsets[i] + j] = u[i * slice + j];
        } else {
          Reduce<T>(reduction, out[offsets[i] + j], u[i * slice + j]);
        }
      }
    }
    return absl::OkStatus();
  };
  if (reduction == Reduction::kNone) return VisitStorage(data.dtype(), op, scatter);
  if (data.dtype() == DType::kString) return Bad(op, "reductions do not apply to strings");
  return VisitDType(data.dtype(), DTypeSet::kAll, op, scatter);
}

class ScatterElementsKernel : public Kernel {
 public:
  explicit ScatterElementsKernel(const KernelInfo& info)
      : op_(info.op_type),
        axis_(info.attrs->GetInt("axis")),
        reduction_(info.attrs->GetString("reduction", "none")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* ind, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(const Tensor* upd, ctx.RequiredInput(2));
    ASSIGN_OR_RETURN(Reduction reduction, ParseReduction(reduction_, op_));
    if (upd->shape() != ind->shape()) {
      return Bad(op_, "updates ", Str(upd->shape()), " must have the shape of indices ",
                 Str(ind->shape()));
    }
    ASSIGN_OR_RETURN(Ints offsets, ElementOffsets(x->shape(), *ind, axis_, op_));
    return ScatterInto(ctx, *x, *upd, offsets, 1, reduction, op_);
  }

 private:
  std::string op_;
  int64_t axis_;
  std::string reduction_;
};

class ScatterNDKernel : public Kernel {
 public:
  explicit ScatterNDKernel(const KernelInfo& info)
      : reduction_(info.attrs->GetString("reduction", "none")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* ind, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(const Tensor* upd, ctx.RequiredInput(2));
    ASSIGN_OR_RETURN(Reduction reduction, ParseReduction(reduction_, "ScatterND"));
    ASSIGN_OR_RETURN(NdSlices s, NdAddress(x->shape(), *ind, 0, "ScatterND"));
    if (upd->shape() != s.out) {
      return Bad("ScatterND", "updates ", Str(upd->shape()), " must have shape ", Str(s.out),
                 " for data ", Str(x->shape()), " and indices ", Str(ind->shape()));
    }
    return ScatterInto(ctx, *x, *upd, s.offsets, s.slice, reduction, "ScatterND");
  }

 private:
  std::string reduction_;
};

// ---------------------------------------------------------------------------------------------
// OneHot, NonZero, Compress, ReverseSequence.

absl::Status InferOneHot(InferenceContext& ctx) {
  const DType dtype = ctx.input(2).dtype;
  const Shape* ind = KnownShape(ctx, 0);
  if (!ind) {
    ctx.set_output(0, UnknownDims(dtype, -1));
    return absl::OkStatus();
  }
  const int rank = static_cast<int>(ind->size()) + 1;
  ASSIGN_OR_RETURN(int axis, Axis(ctx.attrs().GetInt("axis"), rank, "OneHot"));
  Shape out = *ind;
  const Tensor* depth = ctx.constant(1);
  out.insert(out.begin() + axis, (depth && depth->num_elements() == 1)
                                     ? static_cast<int64_t>(depth->ElementAsDouble(0))
                                     : -1);
  ctx.set_output(0, {dtype, out});
  return absl::OkStatus();
}

class OneHotKernel : public Kernel {
 public:
  explicit OneHotKernel(const KernelInfo& info) : axis_(info.attrs->GetInt("axis")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* ind, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* depth_t, ctx.RequiredInput(1));
    ASSIGN_OR_RETURN(const Tensor* values, ctx.RequiredInput(2));
    ASSIGN_OR_RETURN(double depth_v, ScalarValue(*depth_t, "OneHot", "depth"));
    if (!(depth_v >= 1 && depth_v < 1e12)) return Bad("OneHot", "invalid depth ", depth_v);
    const int64_t depth = static_cast<int64_t>(depth_v);
    if (values->num_elements() != 2) {
      return Bad("OneHot", "values must hold [off, on], got ", Str(values->shape()));
    }
    if (!InDTypeSet(ind->dtype(), DTypeSet::kNumeric)) {
      return Bad("OneHot", "indices must be numeric, got ", DTypeName(ind->dtype()));
    }
    ASSIGN_OR_RETURN(int axis, Axis(axis_, ind->rank() + 1, "OneHot"));
    Shape out = ind->shape();
    out.insert(out.begin() + axis, depth);
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, values->dtype(), out));
    const int64_t inner = PartialProduct(ind->shape(), axis, ind->rank());
    return VisitStorage(values->dtype(), "OneHot", [&](auto tag) {
      using T = typename decltype(tag)::type;
      T* o = y->data<T>();
      std::fill_n(o, y->num_elements(), values->data<T>()[0]);
      for (int64_t i = 0; i < ind->num_elements(); ++i) {
        // Indices outside [-depth, depth) give an all-off row, as ONNX specifies.
        const double dv = ind->ElementAsDouble(i);
        if (!(dv > static_cast<double>(-depth - 1) && dv < static_cast<double>(depth))) continue;
        int64_t v = static_cast<int64_t>(dv);  // truncates, like a cast to int64
        if (v < -depth || v >= depth) continue;
        if (v < 0) v += depth;
        o[((i / inner) * depth + v) * inner + i % inner] = values->data<T>()[1];
      }
      return absl::OkStatus();
    });
  }

 private:
  int64_t axis_;
};

template <typename T>
bool IsNonZero(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    return !v.empty();
  } else if constexpr (kIsReducedFloat<T>) {
    return static_cast<float>(v) != 0.0f;
  } else {
    return v != T(0);
  }
}

class NonZeroKernel : public Kernel {
 public:
  explicit NonZeroKernel(const KernelInfo&) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const Shape shape = x->rank() == 0 ? Shape{1} : x->shape();
    const int rank = static_cast<int>(shape.size());
    Ints hits;
    RETURN_IF_ERROR(VisitDType(x->dtype(), DTypeSet::kAll, "NonZero", [&](auto tag) {
      using T = typename decltype(tag)::type;
      for (int64_t i = 0; i < x->num_elements(); ++i) {
        if (IsNonZero(x->data<T>()[i])) hits.push_back(i);
      }
      return absl::OkStatus();
    }));
    const int64_t n = static_cast<int64_t>(hits.size());
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DType::kInt64, {rank, n}));
    for (int64_t j = 0; j < n; ++j) {
      int64_t flat = hits[j];
      for (int d = rank - 1; d >= 0; --d) {
        y->data<int64_t>()[d * n + j] = flat % shape[d];
        flat /= shape[d];
      }
    }
    return absl::OkStatus();
  }
};

absl::Status InferNonZero(InferenceContext& ctx) {
  const Shape* in = KnownShape(ctx, 0);
  ctx.set_output(
      0, {DType::kInt64, in ? std::optional<Shape>(Shape{std::max<int64_t>(1, in->size()), -1})
                            : std::optional<Shape>(Shape{-1, -1})});
  return absl::OkStatus();
}

absl::Status InferCompress(InferenceContext& ctx) {
  const DType dtype = ctx.input(0).dtype;
  const Shape* in = KnownShape(ctx, 0);
  if (!ctx.attrs().Has("axis")) {
    ctx.set_output(0, UnknownDims(dtype, 1));
  } else if (in) {
    Shape out = *in;
    ASSIGN_OR_RETURN(int axis,
                     Axis(ctx.attrs().GetInt("axis"), static_cast<int>(in->size()), "Compress"));
    out[axis] = -1;
    ctx.set_output(0, {dtype, out});
  } else {
    ctx.set_output(0, UnknownDims(dtype, -1));
  }
  return absl::OkStatus();
}

class CompressKernel : public Kernel {
 public:
  explicit CompressKernel(const KernelInfo& info)
      : has_axis_(info.attrs->Has("axis")), axis_(info.attrs->GetInt("axis")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* cond, ctx.RequiredInput(1));
    if (cond->dtype() != DType::kBool || cond->rank() != 1) {
      return Bad("Compress", "condition must be a 1-D bool tensor, got ", DTypeName(cond->dtype()),
                 Str(cond->shape()));
    }
    const Shape in = has_axis_ ? x->shape() : Shape{x->num_elements()};
    ASSIGN_OR_RETURN(int axis,
                     Axis(has_axis_ ? axis_ : 0, static_cast<int>(in.size()), "Compress"));
    Ints selected;
    for (int64_t i = 0; i < cond->num_elements(); ++i) {
      if (!cond->data<bool>()[i]) continue;
      if (i >= in[axis]) {
        return Bad("Compress", "condition selects index ", i, " beyond dim ", in[axis]);
      }
      selected.push_back(i);
    }
    Shape out = in;
    out[axis] = static_cast<int64_t>(selected.size());
    const int64_t outer = PartialProduct(in, 0, axis);
    const int64_t inner = PartialProduct(in, axis + 1, in.size());
    for (int64_t& s : selected) s *= inner;
    const OffsetTables tables = {AffineTable(outer, 0, in[axis] * inner), selected,
                                 AffineTable(inner, 0, 1)};
    return RunTables(ctx, *x, out, {outer, out[axis], inner}, tables, "Compress");
  }

 private:
  bool has_axis_;
  int64_t axis_;
};

class ReverseSequenceKernel : public Kernel {
 public:
  explicit ReverseSequenceKernel(const KernelInfo& info)
      : batch_axis_(info.attrs->GetInt("batch_axis")),
        time_axis_(info.attrs->GetInt("time_axis")) {}
  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ASSIGN_OR_RETURN(const Tensor* lens_t, ctx.RequiredInput(1));
    if (x->rank() < 2) return Bad("ReverseSequence", "input must have rank >= 2");
    const bool ok_axes =
        (batch_axis_ == 0 && time_axis_ == 1) || (batch_axis_ == 1 && time_axis_ == 0);
    if (!ok_axes) {
      return Bad("ReverseSequence", "batch_axis ", batch_axis_, " and time_axis ", time_axis_,
                 " must be 0 and 1");
    }
    ASSIGN_OR_RETURN(Ints lens, IntValues(*lens_t, "ReverseSequence", "sequence_lens"));
    const int64_t batch = x->dim(batch_axis_), time = x->dim(time_axis_);
    if (lens_t->rank() != 1 || static_cast<int64_t>(lens.size()) != batch) {
      return Bad("ReverseSequence", "sequence_lens ", Str(lens_t->shape()), " must be [", batch,
                 "]");
    }
    for (int64_t l : lens) {
      if (l < 0 || l > time)
        return Bad("ReverseSequence", "sequence length ", l, " not in [0, ", time, "]");
    }
    const int64_t inner = PartialProduct(x->shape(), 2, x->rank());
    ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    auto offset = [&](int64_t b, int64_t t) {
      return (batch_axis_ == 0 ? b * time + t : t * batch + b) * inner;
    };
    return VisitStorage(x->dtype(), "ReverseSequence", [&](auto tag) {
      using T = typename decltype(tag)::type;
      for (int64_t b = 0; b < batch; ++b) {
        for (int64_t t = 0; t < time; ++t) {
          const int64_t src = t < lens[b] ? lens[b] - 1 - t : t;
          std::copy_n(x->data<T>() + offset(b, src), inner, y->data<T>() + offset(b, t));
        }
      }
      return absl::OkStatus();
    });
  }

 private:
  int64_t batch_axis_, time_axis_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Registrations.

CORTADO_REGISTER_OP(
    OpSchema("Gather").Versions(1).Inputs(2, 2).Attr("axis", int64_t{0}).Infer(InferGather));
CORTADO_REGISTER_KERNEL("Gather", kCpuBackend, 1, kMaxOpset, AnyType(),
                        MakeFactory<GatherKernel>());

CORTADO_REGISTER_OP(OpSchema("GatherElements")
                        .Versions(11)
                        .Inputs(2, 2)
                        .Attr("axis", int64_t{0})
                        .Infer(InferGatherElements));
CORTADO_REGISTER_KERNEL("GatherElements", kCpuBackend, 11, kMaxOpset, AnyType(),
                        MakeFactory<GatherElementsKernel>());

CORTADO_REGISTER_OP(OpSchema("GatherND")
                        .Versions(11)
                        .Inputs(2, 2)
                        .Attr("batch_dims", int64_t{0})
                        .Infer(InferGatherND));
CORTADO_REGISTER_KERNEL("GatherND", kCpuBackend, 11, kMaxOpset, AnyType(),
                        MakeFactory<GatherNDKernel>());

CORTADO_REGISTER_OP(OpSchema("ScatterElements")
                        .Versions(11)
                        .Inputs(3, 3)
                        .Attr("axis", int64_t{0})
                        .Attr("reduction", std::string("none"))
                        .Infer(InferSameAsInput0));
CORTADO_REGISTER_KERNEL("ScatterElements", kCpuBackend, 11, kMaxOpset, AnyType(),
                        MakeFactory<ScatterElementsKernel>());

CORTADO_REGISTER_OP(OpSchema("Scatter")
                        .Versions(9, 10)
                        .Inputs(3, 3)
                        .Attr("axis", int64_t{0})
                        .Infer(InferSameAsInput0));
CORTADO_REGISTER_KERNEL("Scatter", kCpuBackend, 9, 10, AnyType(),
                        MakeFactory<ScatterElementsKernel>());

CORTADO_REGISTER_OP(OpSchema("ScatterND")
                        .Versions(11)
                        .Inputs(3, 3)
                        .Attr("reduction", std::string("none"))
                        .Infer(InferSameAsInput0));
CORTADO_REGISTER_KERNEL("ScatterND", kCpuBackend, 11, kMaxOpset, AnyType(),
                        MakeFactory<ScatterNDKernel>());

CORTADO_REGISTER_OP(
    OpSchema("OneHot").Versions(9).Inputs(3, 3).Attr("axis", int64_t{-1}).Infer(InferOneHot));
CORTADO_REGISTER_KERNEL("OneHot", kCpuBackend, 9, kMaxOpset, AnyType(),
                        MakeFactory<OneHotKernel>());

CORTADO_REGISTER_OP(OpSchema("NonZero").Versions(9).Inputs(1, 1).Infer(InferNonZero));
CORTADO_REGISTER_KERNEL("NonZero", kCpuBackend, 9, kMaxOpset, AnyType(),
                        MakeFactory<NonZeroKernel>());

CORTADO_REGISTER_OP(OpSchema("Compress")
                        .Versions(9)
                        .Inputs(2, 2)
                        .OptionalAttr("axis", AttrType::kInt)
                        .Infer(InferCompress));
CORTADO_REGISTER_KERNEL("Compress", kCpuBackend, 9, kMaxOpset, AnyType(),
                        MakeFactory<CompressKernel>());

CORTADO_REGISTER_OP(OpSchema("ReverseSequence")
                        .Versions(10)
                        .Inputs(2, 2)
                        .Attr("batch_axis", int64_t{1})
                        .Attr("time_axis", int64_t{0})
                        .Infer(InferSameAsInput0));
CORTADO_REGISTER_KERNEL("ReverseSequence", kCpuBackend, 10, kMaxOpset, AnyType(),
                        MakeFactory<ReverseSequenceKernel>());

}  // namespace tensor_ops
}  // namespace cortado
