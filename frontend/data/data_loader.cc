#include "frontend/data/data_loader.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"

namespace cortado {
namespace frontend {
namespace data {
namespace internal {
namespace {

// A uniform draw from [0, range) (Lemire's multiply-shift with rejection; range > 0).
uint64_t Bounded(std::mt19937_64& gen, uint64_t range) {
  unsigned __int128 m = static_cast<unsigned __int128>(gen()) * range;
  auto low = static_cast<uint64_t>(m);
  if (low < range) {
    const uint64_t threshold = (0 - range) % range;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(gen()) * range;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

}  // namespace

std::vector<size_t> Permutation(size_t n, uint64_t seed) {
  std::vector<size_t> p(n);
  std::iota(p.begin(), p.end(), size_t{0});
  std::mt19937_64 gen(seed);
  for (size_t i = n; i > 1; --i) std::swap(p[i - 1], p[Bounded(gen, i)]);
  return p;
}

}  // namespace internal

// One pass over the dataset: the index order, and the prefetch thread with its bounded queue.
class DataLoader::Epoch {
 public:
  Epoch(std::shared_ptr<const Dataset> dataset, std::vector<size_t> order, size_t batch_size,
        size_t num_batches, size_t prefetch)
      : dataset_(std::move(dataset)),
        order_(std::move(order)),
        batch_size_(batch_size),
        num_batches_(num_batches),
        prefetch_(prefetch) {
    if (prefetch_ > 0 && num_batches_ > 0) thread_ = std::thread([this] { Produce(); });
  }

  ~Epoch() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_ = true;
    }
    not_full_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // The next batch, std::nullopt after the last; rethrows the error that a batch failed with.
  std::optional<Batch> Next() {
    if (consumed_ >= num_batches_) return std::nullopt;
    Item item;
    if (prefetch_ == 0) {
      item = MakeItem(consumed_);
    } else {
      std::unique_lock<std::mutex> lock(mu_);
      not_empty_.wait(lock, [this] { return !queue_.empty(); });
      item = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      not_full_.notify_one();
    }
    ++consumed_;
    if (item.error) {
      consumed_ = num_batches_;
      std::rethrow_exception(item.error);
    }
    return std::move(item.batch);
  }

 private:
  struct Item {
    std::optional<Batch> batch;
    std::exception_ptr error;
  };

  Item MakeItem(size_t b) const {
    Item item;
    try {
      item.batch = MakeBatch(b);
    } catch (...) {
      item.error = std::current_exception();
    }
    return item;
  }

  Batch MakeBatch(size_t b) const {
    const size_t begin = b * batch_size_;
    const size_t end = std::min(begin + batch_size_, order_.size());
    Batch batch;
    batch.indices.assign(order_.begin() + begin, order_.begin() + end);
    Example ex = dataset_->get_batch(batch.indices);
    const auto n = static_cast<int64_t>(batch.indices.size());
    if (!ex.data.defined() || ex.data.dim() < 1 || ex.data.size(0) != n ||
        (ex.target.defined() && (ex.target.dim() < 1 || ex.target.size(0) != n))) {
      throw Error(absl::InternalError(absl::StrCat(
          "DataLoader: the dataset's get_batch returned data ",
          ex.data.defined() ? ShapeToString(ex.data.shape()) : "undefined", " and target ",
          ex.target.defined() ? ShapeToString(ex.target.shape()) : "undefined", " for ", n,
          " indices")));
    }
    batch.data = std::move(ex.data);
    batch.target = std::move(ex.target);
    return batch;
  }

  // The prefetch thread: makes the batches in order, at most prefetch_ ahead of the consumer,
  // until the last one, the first error, or cancellation.
  void Produce() {
    for (size_t b = 0; b < num_batches_; ++b) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        not_full_.wait(lock, [this] { return cancelled_ || queue_.size() < prefetch_; });
        if (cancelled_) return;
      }
      Item item = MakeItem(b);
      const bool failed = item.error != nullptr;
      {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.push_back(std::move(item));
      }
      not_empty_.notify_one();
      if (failed) return;
    }
  }

  const std::shared_ptr<const Dataset> dataset_;
  const std::vector<size_t> order_;
  const size_t batch_size_;
  const size_t num_batches_;
  const size_t prefetch_;
  size_t consumed_ = 0;  // consumer thread only

  // std::mutex rather than absl::Mutex: Debian's libabsl is not built with ThreadSanitizer, so
  // --config=tsan cannot see absl::Mutex's synchronization and reports false races; it does
  // intercept the pthread calls behind std::mutex.
  std::mutex mu_;
  std::condition_variable not_full_;   // the queue has room, or cancelled
  std::condition_variable not_empty_;  // the queue has an item
  std::deque<Item> queue_;             // guarded by mu_
  bool cancelled_ = false;             // guarded by mu_
  std::thread thread_;                 // last: started once everything above is set up
};

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  if (dataset_ == nullptr) throw Error(absl::InvalidArgumentError("DataLoader: null dataset"));
  if (options_.batch_size < 1) {
    throw Error(absl::InvalidArgumentError(
        absl::StrCat("DataLoader: batch_size must be >= 1, got ", options_.batch_size)));
  }
  if (options_.prefetch < 0) {
    throw Error(absl::InvalidArgumentError(
        absl::StrCat("DataLoader: prefetch must be >= 0, got ", options_.prefetch)));
  }
}

DataLoader::~DataLoader() = default;

size_t DataLoader::size() const {
  const size_t n = dataset_->size();
  const auto bs = static_cast<size_t>(options_.batch_size);
  return options_.drop_last ? n / bs : (n + bs - 1) / bs;
}

void DataLoader::StartEpoch() {
  epoch_.reset();
  const size_t n = dataset_->size();
  std::vector<size_t> order;
  if (options_.shuffle) {
    order = internal::Permutation(n, options_.seed + static_cast<uint64_t>(epochs_started_));
  } else {
    order.resize(n);
    std::iota(order.begin(), order.end(), size_t{0});
  }
  ++epochs_started_;
  epoch_ =
      std::make_unique<Epoch>(dataset_, std::move(order), static_cast<size_t>(options_.batch_size),
                              size(), static_cast<size_t>(options_.prefetch));
}

std::optional<Batch> DataLoader::next() {
  if (epoch_ == nullptr) StartEpoch();
  std::optional<Batch> batch;
  try {
    batch = epoch_->Next();
  } catch (...) {
    epoch_.reset();
    throw;
  }
  if (!batch.has_value()) epoch_.reset();
  return batch;
}

void DataLoader::stop() { epoch_.reset(); }

DataLoader::Iterator DataLoader::begin() {
  StartEpoch();
  return Iterator(this, next());
}

}  // namespace data
}  // namespace frontend
}  // namespace cortado
