// DataLoader: iterates a Dataset in batches, one epoch per pass, optionally shuffled with its own
// generator, with a background thread that prepares the next batches while the caller trains.
//
//   DataLoaderOptions options;
//   options.batch_size = 64;
//   options.shuffle = true;
//   DataLoader loader(dataset, options);
//   for (int epoch = 0; epoch < 3; ++epoch)
//     for (const Batch& b : loader) { ... b.data [B, ...], b.target [B, ...] ... }
//
// Each begin() (or next() when no epoch is running) starts an epoch; epoch e (counting from 0)
// visits the indices in order, or, with shuffle, in a permutation drawn from
// std::mt19937_64(seed + e), so a run is reproducible and every epoch differs. Batches are
// dataset.get_batch() of consecutive runs of batch_size indices; the last one is smaller unless
// drop_last. With prefetch > 0 a thread fills a queue of up to `prefetch` batches; it is stopped
// and joined when the epoch ends, a new one starts, or the loader is destroyed (so leaving a loop
// early never hangs). A dataset error (cortado::Error or another exception) ends the epoch and
// is rethrown by the next()/operator++ that would have returned the failed batch.
//
// Not synchronized: one thread drives a loader. The dataset is shared and read from the prefetch
// thread (Dataset's get/get_batch are thread-safe). Not copyable.
#ifndef CORTADO_FRONTEND_DATA_DATA_LOADER_H_
#define CORTADO_FRONTEND_DATA_DATA_LOADER_H_

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "frontend/data/dataset.h"

namespace cortado {
namespace frontend {
namespace data {

struct DataLoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;
  uint64_t seed = 0;
  bool drop_last = false;
  // Batches the background thread prepares ahead; 0 makes them on the caller's thread.
  int prefetch = 2;
};

struct Batch {
  Tensor data;                  // [B, ...]
  Tensor target;                // [B, ...], undefined when the dataset has no targets
  std::vector<size_t> indices;  // the dataset indices, in batch order
};

class DataLoader {
 public:
  // Throws cortado::Error when dataset is null, batch_size < 1 or prefetch < 0.
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = {});
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Batches per epoch.
  size_t size() const;
  const DataLoaderOptions& options() const { return options_; }
  // Epochs started so far (the next one uses seed + epochs_started()).
  int64_t epochs_started() const { return epochs_started_; }

  // The next batch of the running epoch, starting one if none runs; std::nullopt when the epoch
  // is over (the following call starts the next). Rethrows a dataset error.
  std::optional<Batch> next();
  // Ends the running epoch early (joins the prefetch thread); a no-op when none runs.
  void stop();

  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = Batch*;
    using reference = Batch&;

    Batch& operator*() { return *batch_; }
    Batch* operator->() { return &*batch_; }
    Iterator& operator++() {
      batch_ = loader_->next();
      return *this;
    }
    // Iterators compare equal when both are past the end.
    bool operator==(const Iterator& other) const {
      return !batch_.has_value() && !other.batch_.has_value();
    }
    bool operator!=(const Iterator& other) const { return !(*this == other); }

   private:
    friend class DataLoader;
    Iterator(DataLoader* loader, std::optional<Batch> batch)
        : loader_(loader), batch_(std::move(batch)) {}
    DataLoader* loader_;
    std::optional<Batch> batch_;
  };
  // Starts a new epoch (ending a running one) and returns its first batch.
  Iterator begin();
  Iterator end() { return Iterator(this, std::nullopt); }

 private:
  class Epoch;
  void StartEpoch();

  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  int64_t epochs_started_ = 0;
  std::unique_ptr<Epoch> epoch_;  // the running epoch, if any
};

namespace internal {
// The permutation of 0..n-1 that a shuffled epoch visits (Fisher-Yates with unbiased bounded
// draws from `gen`), independent of the standard library's distributions.
std::vector<size_t> Permutation(size_t n, uint64_t seed);
}  // namespace internal

}  // namespace data
}  // namespace frontend
}  // namespace cortado

#endif  // CORTADO_FRONTEND_DATA_DATA_LOADER_H_
