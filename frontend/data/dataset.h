// Dataset: random access to training examples, and TensorDataset over two tensors whose first
// dimension indexes the examples. A DataLoader (data_loader.h) draws batches from a Dataset on
// its prefetch thread, so get() and get_batch() must be thread-safe (every dataset here only
// reads immutable tensors). Both throw cortado::Error on a bad index or failure.
#ifndef CORTADO_FRONTEND_DATA_DATASET_H_
#define CORTADO_FRONTEND_DATA_DATASET_H_

#include <cstddef>
#include <vector>

#include "frontend/tensor.h"

namespace cortado {
namespace frontend {
namespace data {

// One example, or (from get_batch) a batch: data [B, ...] and target [B, ...]. The target may be
// undefined (a dataset without targets).
struct Example {
  Tensor data;
  Tensor target;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual size_t size() const = 0;
  // The example at `index` (< size()). Thread-safe.
  virtual Example get(size_t index) const = 0;
  // The examples at `indices`, stacked along a new first dimension. The default stacks get()'s
  // results (Stack); datasets override it to copy rows straight into the batch. Thread-safe.
  virtual Example get_batch(const std::vector<size_t>& indices) const;
};

// Stacks examples of equal dtypes and shapes into [B, ...] tensors (memcpy per example).
// Throws cortado::Error when they differ or `examples` is empty.
Example Stack(const std::vector<Example>& examples);

// Examples are the rows of `data` and `target` (index i: data[i], target[i]); a scalar row
// (target [N]) gives a scalar tensor. The tensors' values are shared, not copied, and must not
// be written while the dataset is in use.
class TensorDataset : public Dataset {
 public:
  // Throws cortado::Error unless data has rank >= 1, target (when defined) has the same first
  // dimension, and neither holds strings.
  TensorDataset(Tensor data, Tensor target = Tensor());

  size_t size() const override { return size_; }
  Example get(size_t index) const override;
  Example get_batch(const std::vector<size_t>& indices) const override;

 private:
  cortado::Tensor data_, target_;  // core values only: safe to read from several threads
  size_t size_;
};

namespace internal {
// Copies rows `indices` of `source` (first dimension) into a new [indices.size(), ...] tensor.
cortado::Tensor GatherRows(const cortado::Tensor& source, const std::vector<size_t>& indices);
// Throws cortado::Error(OutOfRange) unless index < size.
void CheckIndex(size_t index, size_t size, const char* dataset);
}  // namespace internal

}  // namespace data
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_DATA_DATASET_H_
