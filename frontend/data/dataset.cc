#include "frontend/data/dataset.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace cortado {
namespace frontend {
namespace data {
namespace {

void CheckNotString(const cortado::Tensor& t, const char* what) {
  if (t.dtype() == DType::kString) {
    throw Error(
        absl::InvalidArgumentError(absl::StrCat(what, ": string tensors cannot be batched")));
  }
}

// Stacks `n` core tensors given by `at(i)` (all of one dtype and shape) into [n, ...].
template <typename At>
cortado::Tensor StackValues(size_t n, At at, const char* what) {
  const cortado::Tensor& first = at(0);
  CheckNotString(first, what);
  Shape shape = first.shape();
  shape.insert(shape.begin(), static_cast<int64_t>(n));
  cortado::Tensor out = ValueOrThrow(cortado::Tensor::Create(first.dtype(), shape));
  const size_t row = first.nbytes();
  char* dst = static_cast<char*>(out.raw_data());
  for (size_t i = 0; i < n; ++i) {
    const cortado::Tensor& t = at(i);
    if (t.dtype() != first.dtype() || t.shape() != first.shape()) {
      throw Error(absl::InvalidArgumentError(absl::StrCat(
          what, ": example ", i, " is ", DTypeName(t.dtype()), " ", ShapeToString(t.shape()),
          " but example 0 is ", DTypeName(first.dtype()), " ", ShapeToString(first.shape()))));
    }
    if (row > 0) std::memcpy(dst + i * row, t.raw_data(), row);
  }
  return out;
}

}  // namespace

Example Dataset::get_batch(const std::vector<size_t>& indices) const {
  std::vector<Example> examples;
  examples.reserve(indices.size());
  for (size_t i : indices) examples.push_back(get(i));
  return Stack(examples);
}

Example Stack(const std::vector<Example>& examples) {
  if (examples.empty()) {
    throw Error(absl::InvalidArgumentError("Stack: no examples"));
  }
  const size_t n = examples.size();
  for (size_t i = 0; i < n; ++i) {
    if (!examples[i].data.defined() ||
        examples[i].target.defined() != examples[0].target.defined()) {
      throw Error(absl::InvalidArgumentError(
          absl::StrCat("Stack: example ", i,
                       " has an undefined data tensor or differs from example 0 in "
                       "having a target")));
    }
  }
  Example batch;
  batch.data = Tensor(StackValues(
      n, [&](size_t i) -> const cortado::Tensor& { return examples[i].data.value(); },
      "Stack (data)"));
  if (examples[0].target.defined()) {
    batch.target = Tensor(StackValues(
        n, [&](size_t i) -> const cortado::Tensor& { return examples[i].target.value(); },
        "Stack (target)"));
  }
  return batch;
}

namespace internal {

void CheckIndex(size_t index, size_t size, const char* dataset) {
  if (index >= size) {
    throw Error(absl::OutOfRangeError(
        absl::StrCat(dataset, ": index ", index, " out of range for ", size, " examples")));
  }
}

cortado::Tensor GatherRows(const cortado::Tensor& source, const std::vector<size_t>& indices) {
  const size_t rows = static_cast<size_t>(source.dim(0));
  Shape shape = source.shape();
  shape[0] = static_cast<int64_t>(indices.size());
  cortado::Tensor out = ValueOrThrow(cortado::Tensor::Create(source.dtype(), shape));
  const size_t row = rows == 0 ? 0 : source.nbytes() / rows;
  const char* src = static_cast<const char*>(source.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (size_t i = 0; i < indices.size(); ++i) {
    CheckIndex(indices[i], rows, "GatherRows");
    if (row > 0) std::memcpy(dst + i * row, src + indices[i] * row, row);
  }
  return out;
}

}  // namespace internal

TensorDataset::TensorDataset(Tensor data, Tensor target) {
  if (!data.defined() || data.dim() < 1) {
    throw Error(absl::InvalidArgumentError("TensorDataset: data must have rank >= 1"));
  }
  data_ = data.value();
  CheckNotString(data_, "TensorDataset");
  size_ = static_cast<size_t>(data_.dim(0));
  if (target.defined()) {
    target_ = target.value();
    CheckNotString(target_, "TensorDataset");
    if (target_.rank() < 1 || target_.dim(0) != data_.dim(0)) {
      throw Error(absl::InvalidArgumentError(
          absl::StrCat("TensorDataset: data ", ShapeToString(data_.shape()), " and target ",
                       ShapeToString(target_.shape()), " differ in their first dimension")));
    }
  }
}

Example TensorDataset::get(size_t index) const {
  internal::CheckIndex(index, size_, "TensorDataset");
  auto row = [&](const cortado::Tensor& t) {
    cortado::Tensor r = internal::GatherRows(t, {index});
    return Tensor(ValueOrThrow(r.Reshaped(Shape(t.shape().begin() + 1, t.shape().end()))));
  };
  Example e;
  e.data = row(data_);
  if (target_.defined()) e.target = row(target_);
  return e;
}

Example TensorDataset::get_batch(const std::vector<size_t>& indices) const {
  Example batch;
  batch.data = Tensor(internal::GatherRows(data_, indices));
  if (target_.defined()) batch.target = Tensor(internal::GatherRows(target_, indices));
  return batch;
}

}  // namespace data
}  // namespace frontend
}  // namespace cortado
