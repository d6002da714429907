#include "server/scheduler/batch_tensors.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/shape.h"
#include "core/status.h"

namespace cortado {
namespace {

// Copies `n` elements from `src` at element `from` to `dst` at element `to`.
void CopyElements(const Tensor& src, int64_t from, Tensor& dst, int64_t to, int64_t n) {
  if (src.dtype() == DType::kString) {
    const std::string* s = src.data<std::string>() + from;
    std::copy(s, s + n, dst.data<std::string>() + to);
    return;
  }
  const size_t size = DTypeSize(src.dtype());
  std::memcpy(static_cast<char*>(dst.raw_data()) + to * size,
              static_cast<const char*>(src.raw_data()) + from * size, n * size);
}

}  // namespace

absl::StatusOr<Tensor> ConcatRows(const std::vector<const Tensor*>& parts) {
  if (parts.empty()) return absl::InvalidArgumentError("no tensors to join");
  const Tensor& first = *parts[0];
  if (first.rank() == 0) return absl::InvalidArgumentError("a scalar has no batch dimension");
  Shape shape = first.shape();
  shape[0] = 0;
  for (const Tensor* t : parts) {
    bool same = t->dtype() == first.dtype() && t->rank() == first.rank();
    for (int i = 1; same && i < first.rank(); ++i) same = t->dim(i) == first.dim(i);
    if (!same) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot join ", DTypeName(t->dtype()), ShapeToString(t->shape()), " to ",
          DTypeName(first.dtype()), ShapeToString(first.shape()), " along the batch dimension"));
    }
    shape[0] += t->dim(0);
  }
  ASSIGN_OR_RETURN(Tensor whole, Tensor::Create(first.dtype(), shape));
  int64_t at = 0;
  for (const Tensor* t : parts) {
    CopyElements(*t, 0, whole, at, t->num_elements());
    at += t->num_elements();
  }
  return whole;
}

absl::StatusOr<std::vector<Tensor>> SplitRows(const Tensor& whole,
                                              const std::vector<int64_t>& rows) {
  const int64_t total = std::accumulate(rows.begin(), rows.end(), int64_t{0});
  if (whole.rank() == 0 || whole.dim(0) != total) {
    return absl::InvalidArgumentError(
        absl::StrCat("an output of shape ", ShapeToString(whole.shape()),
                     " cannot be split into the ", rows.size(), " requests of a batch of ", total,
                     " (its first dimension must be the batch)"));
  }
  const int64_t row_elements = total == 0 ? 0 : whole.num_elements() / total;
  std::vector<Tensor> pieces;
  int64_t at = 0;
  for (int64_t n : rows) {
    Shape shape = whole.shape();
    shape[0] = n;
    ASSIGN_OR_RETURN(Tensor piece, Tensor::Create(whole.dtype(), shape));
    CopyElements(whole, at, piece, 0, n * row_elements);
    at += n * row_elements;
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

}  // namespace cortado
