// Unique (ONNX opset 11): the distinct elements of a flattened tensor, or the distinct slices
// along `axis`, sorted ascending (lexicographically for slices) or in order of first occurrence,
// with the optional indices, inverse_indices and counts outputs (int64), as numpy.unique.
// Floating-point NaNs compare equal to each other and sort after every number.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/registry.h"

namespace cortado {
namespace {

// Three-way comparison of two elements; NaN equals NaN and is greater than any number.
template <typename T>
int CompareValues(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    return CompareValues(static_cast<float>(a), static_cast<float>(b));
  } else if constexpr (std::is_floating_point_v<T>) {
    const bool na = std::isnan(a), nb = std::isnan(b);
    if (na || nb) return na == nb ? 0 : (na ? 1 : -1);
    return a < b ? -1 : (b < a ? 1 : 0);
  } else {
    return a < b ? -1 : (b < a ? 1 : 0);
  }
}

class UniqueKernel : public Kernel {
 public:
  explicit UniqueKernel(const KernelInfo& info)
      : has_axis_(info.attrs->Has("axis")),
        axis_(info.attrs->GetInt("axis", 0)),
        sorted_(info.attrs->GetInt("sorted", 1) != 0) {}

  absl::Status Compute(KernelContext& ctx) const override {
    ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    // View x as [outer, dim, inner]; slices are indexed along dim.
    int64_t outer = 1, dim = x->num_elements(), inner = 1;
    int axis = 0;
    if (has_axis_) {
      auto a = NormalizeAxis(axis_, x->rank());
      if (!a.ok() || x->rank() == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Unique: axis ", axis_, " is out of range for input ", ShapeToString(x->shape())));
      }
      axis = *a;
      dim = x->dim(axis);
      outer = 1;
      for (int d = 0; d < axis; ++d) outer *= x->dim(d);
      for (int d = axis + 1; d < x->rank(); ++d) inner *= x->dim(d);
    }
    return VisitDType(x->dtype(), DTypeSet::kAll, "Unique", [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T* data = x->data<T>();
      // Lexicographic comparison of slices i and j over (outer, inner).
      auto compare = [&](int64_t i, int64_t j) {
        for (int64_t o = 0; o < outer; ++o) {
          for (int64_t k = 0; k < inner; ++k) {
            const int c =
                CompareValues(data[(o * dim + i) * inner + k], data[(o * dim + j) * inner + k]);
            if (c != 0) return c;
          }
        }
        return 0;
      };
      // Stable sort keeps the first occurrence first within a run of equal slices.
      std::vector<int64_t> order(dim);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t i, int64_t j) { return compare(i, j) < 0; });
      std::vector<int64_t> first, counts, group_of(dim);
      for (size_t r = 0; r < order.size(); ++r) {
        if (r == 0 || compare(order[r - 1], order[r]) != 0) {
          first.push_back(order[r]);
          counts.push_back(0);
        }
        group_of[order[r]] = static_cast<int64_t>(first.size()) - 1;
        ++counts.back();
      }
      const int64_t groups = static_cast<int64_t>(first.size());
      // Output position of each group.
      std::vector<int64_t> rank(groups);
      std::iota(rank.begin(), rank.end(), 0);
      if (!sorted_) {
        std::vector<int64_t> by_first(groups);
        std::iota(by_first.begin(), by_first.end(), 0);
        std::sort(by_first.begin(), by_first.end(),
                  [&](int64_t a, int64_t b) { return first[a] < first[b]; });
        for (int64_t p = 0; p < groups; ++p) rank[by_first[p]] = p;
      }
      std::vector<int64_t> out_first(groups), out_counts(groups), inverse(dim);
      for (int64_t g = 0; g < groups; ++g) {
        out_first[rank[g]] = first[g];
        out_counts[rank[g]] = counts[g];
      }
      for (int64_t i = 0; i < dim; ++i) inverse[i] = rank[group_of[i]];

      Shape y_shape = {groups};
      if (has_axis_) {
        y_shape = x->shape();
        y_shape[axis] = groups;
      }
      ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), y_shape));
      T* out = y->data<T>();
      for (int64_t o = 0; o < outer; ++o) {
        for (int64_t p = 0; p < groups; ++p) {
          for (int64_t k = 0; k < inner; ++k) {
            out[(o * groups + p) * inner + k] = data[(o * dim + out_first[p]) * inner + k];
          }
        }
      }
      const std::vector<int64_t>* extra[] = {&out_first, &inverse, &out_counts};
      for (int i = 1; i < ctx.num_outputs() && i < 4; ++i) {
        const std::vector<int64_t>& v = *extra[i - 1];
        ASSIGN_OR_RETURN(Tensor * t,
                         ctx.AllocateOutput(i, DType::kInt64, {static_cast<int64_t>(v.size())}));
        std::copy(v.begin(), v.end(), t->data<int64_t>());
      }
      return absl::OkStatus();
    });
  }

 private:
  bool has_axis_;
  int64_t axis_;
  bool sorted_;
};

absl::Status InferUnique(InferenceContext& ctx) {
  const TensorType& x = ctx.input(0);
  TensorType y{x.dtype, Shape{-1}};
  TensorType inverse{DType::kInt64, Shape{-1}};
  if (ctx.attrs().Has("axis")) {
    y.shape.reset();
    if (x.shape) {
      const int rank = static_cast<int>(x.shape->size());
      auto a = NormalizeAxis(ctx.attrs().GetInt("axis"), rank);
      if (!a.ok() || rank == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("axis ", ctx.attrs().GetInt("axis"), " is out of range for rank ", rank));
      }
      y.shape = *x.shape;
      (*y.shape)[*a] = -1;
      inverse.shape = Shape{(*x.shape)[*a]};
    }
  } else if (x.shape &&
             std::none_of(x.shape->begin(), x.shape->end(), [](int64_t d) { return d < 0; })) {
    inverse.shape = Shape{NumElements(*x.shape)};
  }
  ctx.set_output(0, y);
  ctx.set_output(1, TensorType{DType::kInt64, Shape{-1}});
  ctx.set_output(2, inverse);
  ctx.set_output(3, TensorType{DType::kInt64, Shape{-1}});
  return absl::OkStatus();
}

}  // namespace

CORTADO_REGISTER_OP(OpSchema("Unique")
                        .Versions(11)
                        .Inputs(1, 1)
                        .Outputs(1, 4)
                        .OptionalAttr("axis", AttrType::kInt)
                        .Attr("sorted", int64_t{1})
                        .Infer(InferUnique));
CORTADO_REGISTER_KERNEL("Unique", kCpuBackend, 11, kMaxOpset, std::vector<DType>{},
                        MakeFactory<UniqueKernel>());

}  // namespace cortado
