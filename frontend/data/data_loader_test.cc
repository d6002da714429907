// TensorDataset, Stack and DataLoader: batch counts, shuffling (every index once per epoch,
// reproducible per seed, new order each epoch), the prefetch thread's lifetime (early break,
// destruction, restart), error propagation, and a stress run for the sanitizer configs.
#include "frontend/data/data_loader.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <numeric>
#include <set>
#include <thread>
#include <vector>

#include "frontend/data/dataset.h"
#include "gtest/gtest.h"

namespace cortado {
namespace frontend {
namespace data {
namespace {

// n examples: data [2] = {i, -i} (float32), target i (int64).
std::shared_ptr<TensorDataset> Indexed(int64_t n) {
  std::vector<float> data;
  std::vector<int64_t> target;
  for (int64_t i = 0; i < n; ++i) {
    data.push_back(static_cast<float>(i));
    data.push_back(-static_cast<float>(i));
    target.push_back(i);
  }
  return std::make_shared<TensorDataset>(Tensor::from_vector(data, {n, 2}),
                                         Tensor::from_vector(target, {n}));
}

DataLoaderOptions Options(int64_t batch_size, bool shuffle = false, uint64_t seed = 0,
                          bool drop_last = false, int prefetch = 2) {
  DataLoaderOptions o;
  o.batch_size = batch_size;
  o.shuffle = shuffle;
  o.seed = seed;
  o.drop_last = drop_last;
  o.prefetch = prefetch;
  return o;
}

// Runs one epoch; checks that each batch's tensors hold its indices; returns the indices.
std::vector<size_t> Epoch(DataLoader& loader, std::vector<int64_t>* batch_sizes = nullptr) {
  std::vector<size_t> seen;
  for (const Batch& b : loader) {
    const auto n = static_cast<int64_t>(b.indices.size());
    EXPECT_EQ(b.data.shape(), (Shape{n, 2}));
    EXPECT_EQ(b.target.shape(), (Shape{n}));
    const float* d = b.data.data<float>();
    const int64_t* t = b.target.data<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_EQ(d[2 * i], static_cast<float>(b.indices[i]));
      EXPECT_EQ(d[2 * i + 1], -static_cast<float>(b.indices[i]));
      EXPECT_EQ(t[i], static_cast<int64_t>(b.indices[i]));
    }
    if (batch_sizes != nullptr) batch_sizes->push_back(n);
    seen.insert(seen.end(), b.indices.begin(), b.indices.end());
  }
  return seen;
}

std::vector<size_t> Iota(size_t n) {
  std::vector<size_t> v(n);
  std::iota(v.begin(), v.end(), size_t{0});
  return v;
}

TEST(TensorDatasetTest, GetAndGetBatch) {
  auto ds = Indexed(5);
  EXPECT_EQ(ds->size(), 5u);
  Example e = ds->get(3);
  EXPECT_EQ(e.data.shape(), (Shape{2}));
  EXPECT_EQ(e.data.to_vector<float>(), (std::vector<float>{3, -3}));
  EXPECT_EQ(e.target.dim(), 0);
  EXPECT_EQ(e.target.item(), 3);
  Example b = ds->get_batch({4, 0, 4});
  EXPECT_EQ(b.data.to_vector<float>(), (std::vector<float>{4, -4, 0, 0, 4, -4}));
  EXPECT_EQ(b.target.to_vector<int64_t>(), (std::vector<int64_t>{4, 0, 4}));
  EXPECT_THROW(ds->get(5), Error);
  EXPECT_THROW(ds->get_batch({1, 7}), Error);
  EXPECT_THROW(TensorDataset(Tensor::zeros({3, 2}), Tensor::zeros({4})), Error);
  EXPECT_THROW(TensorDataset(Tensor::scalar(1)), Error);
  TensorDataset no_target(Tensor::zeros({3, 2}));
  EXPECT_FALSE(no_target.get(1).target.defined());
  EXPECT_FALSE(no_target.get_batch({0, 1}).target.defined());
}

// A dataset with only get(): get_batch stacks through Stack. Optionally fails at one index,
// sleeps per example, and counts calls.
class SlowDataset : public Dataset {
 public:
  explicit SlowDataset(size_t n, size_t fail_at = SIZE_MAX, int sleep_us = 0)
      : n_(n), fail_at_(fail_at), sleep_us_(sleep_us) {}
  size_t size() const override { return n_; }
  Example get(size_t index) const override {
    ++gets_;
    if (sleep_us_ > 0) std::this_thread::sleep_for(std::chrono::microseconds(sleep_us_));
    if (index == fail_at_) throw Error(absl::DataLossError("example 7 is corrupt"));
    Example e;
    e.data = Tensor::from_vector<float>({static_cast<float>(index), 0.5f, 1.5f}, {3});
    e.target = Tensor::scalar(static_cast<double>(index), DType::kInt64);
    return e;
  }
  int gets() const { return gets_.load(); }

 private:
  size_t n_, fail_at_;
  int sleep_us_;
  mutable std::atomic<int> gets_{0};
};

TEST(StackTest, DefaultGetBatchStacksExamples) {
  SlowDataset ds(10);
  Example b = ds.get_batch({2, 9});
  EXPECT_EQ(b.data.shape(), (Shape{2, 3}));
  EXPECT_EQ(b.data.to_vector<float>(), (std::vector<float>{2, 0.5f, 1.5f, 9, 0.5f, 1.5f}));
  EXPECT_EQ(b.target.shape(), (Shape{2}));
  EXPECT_EQ(b.target.to_vector<int64_t>(), (std::vector<int64_t>{2, 9}));
  Example a{Tensor::zeros({3}), Tensor()};
  Example c{Tensor::zeros({4}), Tensor()};
  EXPECT_THROW(Stack({a, c}), Error);
  EXPECT_THROW(Stack({}), Error);
}

TEST(DataLoaderTest, BatchCountWithAndWithoutDropLast) {
  auto ds = Indexed(10);
  DataLoader keep(ds, Options(3));
  EXPECT_EQ(keep.size(), 4u);
  std::vector<int64_t> sizes;
  EXPECT_EQ(Epoch(keep, &sizes), Iota(10));
  EXPECT_EQ(sizes, (std::vector<int64_t>{3, 3, 3, 1}));

  DataLoader drop(ds, Options(3, false, 0, /*drop_last=*/true));
  EXPECT_EQ(drop.size(), 3u);
  sizes.clear();
  EXPECT_EQ(Epoch(drop, &sizes), Iota(9));
  EXPECT_EQ(sizes, (std::vector<int64_t>{3, 3, 3}));

  DataLoader exact(ds, Options(5, false, 0, true));
  EXPECT_EQ(exact.size(), 2u);
  DataLoader big(ds, Options(64, false, 0, true));
  EXPECT_EQ(big.size(), 0u);
  EXPECT_TRUE(Epoch(big).empty());
  DataLoader big_keep(ds, Options(64));
  EXPECT_EQ(big_keep.size(), 1u);
  EXPECT_EQ(Epoch(big_keep), Iota(10));
}

TEST(DataLoaderTest, EmptyDataset) {
  DataLoader loader(std::make_shared<SlowDataset>(0), Options(4));
  EXPECT_EQ(loader.size(), 0u);
  EXPECT_EQ(loader.begin(), loader.end());
  EXPECT_FALSE(loader.next().has_value());
}

TEST(DataLoaderTest, ShuffleVisitsEveryIndexOncePerEpoch) {
  auto ds = Indexed(1000);
  DataLoader loader(ds, Options(32, /*shuffle=*/true, /*seed=*/7));
  std::vector<std::vector<size_t>> epochs;
  for (int e = 0; e < 3; ++e) {
    std::vector<size_t> seen = Epoch(loader);
    ASSERT_EQ(seen.size(), 1000u);
    EXPECT_NE(seen, Iota(1000));  // shuffled
    std::vector<size_t> sorted = seen;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, Iota(1000));  // each index exactly once
    epochs.push_back(seen);
  }
  EXPECT_NE(epochs[0], epochs[1]);  // a new permutation each epoch
  EXPECT_NE(epochs[1], epochs[2]);
  EXPECT_EQ(loader.epochs_started(), 3);
}

TEST(DataLoaderTest, SameSeedSameOrder) {
  auto ds = Indexed(257);
  DataLoader a(ds, Options(16, true, 42));
  DataLoader b(ds, Options(16, true, 42, false, /*prefetch=*/0));
  DataLoader c(ds, Options(16, true, 43));
  for (int e = 0; e < 2; ++e) {
    const std::vector<size_t> ea = Epoch(a), eb = Epoch(b), ec = Epoch(c);
    EXPECT_EQ(ea, eb);
    EXPECT_NE(ea, ec);
    EXPECT_EQ(ea, internal::Permutation(257, 42 + e));
  }
  // Epoch e of a fresh loader with seed s equals epoch 0 of one with seed s + e.
  DataLoader d(ds, Options(16, true, 43));
  EXPECT_EQ(Epoch(d), internal::Permutation(257, 43));
}

TEST(DataLoaderTest, NoShuffleIsSequential) {
  DataLoader loader(Indexed(50), Options(7));
  EXPECT_EQ(Epoch(loader), Iota(50));
  EXPECT_EQ(Epoch(loader), Iota(50));
}

TEST(DataLoaderTest, NextApiRunsEpochsBackToBack) {
  DataLoader loader(Indexed(5), Options(2));
  std::vector<size_t> seen;
  int batches = 0;
  while (std::optional<Batch> b = loader.next()) {
    ++batches;
    seen.insert(seen.end(), b->indices.begin(), b->indices.end());
  }
  EXPECT_EQ(batches, 3);
  EXPECT_EQ(seen, Iota(5));
  ASSERT_TRUE(loader.next().has_value());  // the next epoch
  EXPECT_EQ(loader.epochs_started(), 2);
}

TEST(DataLoaderTest, EarlyBreakStopsThePrefetchThread) {
  auto ds = std::make_shared<SlowDataset>(10000, SIZE_MAX, /*sleep_us=*/100);
  {
    DataLoader loader(ds, Options(4, true, 1, false, /*prefetch=*/2));
    int n = 0;
    for (const Batch& b : loader) {
      (void)b;
      if (++n == 2) break;
    }
    // The thread stops after filling the queue: at most the consumed batches, the queue and the
    // batch in progress.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_LE(ds->gets(), (2 + 2 + 1) * 4);
    // A new epoch after the break is complete and fresh.
    auto small = std::make_shared<SlowDataset>(9);
    DataLoader again(small, Options(4, false, 0, false, 1));
    for (const Batch& b : again) {
      (void)b;
      break;
    }
    std::vector<size_t> seen;
    for (const Batch& b : again) seen.insert(seen.end(), b.indices.begin(), b.indices.end());
    EXPECT_EQ(seen, Iota(9));
  }  // destroying the loader mid-epoch joins its thread without hanging
  const int after = ds->gets();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(ds->gets(), after);  // nothing runs any more
}

TEST(DataLoaderTest, StopEndsTheEpoch) {
  DataLoader loader(Indexed(20), Options(3));
  ASSERT_TRUE(loader.next().has_value());
  loader.stop();
  std::optional<Batch> b = loader.next();  // a new epoch starts at index 0
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->indices, (std::vector<size_t>{0, 1, 2}));
}

TEST(DataLoaderTest, DatasetErrorsPropagate) {
  for (int prefetch : {0, 1, 3}) {
    SCOPED_TRACE(prefetch);
    DataLoader loader(std::make_shared<SlowDataset>(20, /*fail_at=*/7),
                      Options(3, false, 0, false, prefetch));
    std::vector<size_t> seen;
    try {
      for (const Batch& b : loader) seen.insert(seen.end(), b.indices.begin(), b.indices.end());
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.status().code(), absl::StatusCode::kDataLoss);
      EXPECT_NE(std::string(e.what()).find("example 7 is corrupt"), std::string::npos);
    }
    EXPECT_EQ(seen, Iota(6));  // the batches before the failing one (6..8)
    // The loader stays usable: the next epoch starts over (and fails at the same place).
    std::optional<Batch> b = loader.next();
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->indices, (std::vector<size_t>{0, 1, 2}));
  }
}

TEST(DataLoaderTest, RejectsBadOptions) {
  EXPECT_THROW(DataLoader(nullptr, Options(1)), Error);
  EXPECT_THROW(DataLoader(Indexed(3), Options(0)), Error);
  EXPECT_THROW(DataLoader(Indexed(3), Options(1, false, 0, false, -1)), Error);
}

TEST(PermutationTest, IsAPermutationAndDependsOnTheSeed) {
  for (size_t n : {0, 1, 2, 3, 10, 1000}) {
    std::vector<size_t> p = internal::Permutation(n, 5);
    std::sort(p.begin(), p.end());
    EXPECT_EQ(p, Iota(n));
  }
  EXPECT_EQ(internal::Permutation(100, 5), internal::Permutation(100, 5));
  EXPECT_NE(internal::Permutation(100, 5), internal::Permutation(100, 6));
  // Roughly uniform: element 0 lands in each half about equally often.
  int first_half = 0;
  for (uint64_t s = 0; s < 2000; ++s) {
    std::vector<size_t> p = internal::Permutation(10, s);
    first_half += std::find(p.begin(), p.end(), size_t{0}) - p.begin() < 5;
  }
  EXPECT_GT(first_half, 850);
  EXPECT_LT(first_half, 1150);
}

// Many short epochs with early exits, restarts and errors, several loaders at once: for the
// address and thread sanitizer configs.
TEST(DataLoaderTest, Stress) {
  auto ds = Indexed(300);
  auto failing = std::make_shared<SlowDataset>(40, /*fail_at=*/17);
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      DataLoader loader(ds, Options(1 + t * 5, true, t, t == 1, 1 + t));
      DataLoader bad(failing, Options(4, true, t, false, 2));
      for (int e = 0; e < 30; ++e) {
        int k = 0;
        for (const Batch& b : loader) {
          EXPECT_EQ(b.data.size(0), static_cast<int64_t>(b.indices.size()));
          if (++k == 1 + (e * 7) % 13) break;
        }
        if (e % 5 == 0) {
          size_t total = 0;
          for (const Batch& b : loader) total += b.indices.size();
          EXPECT_EQ(total, t == 1 ? 300u / 6 * 6 : 300u);
        }
        try {
          while (bad.next()) {
          }
        } catch (const Error&) {
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
}

}  // namespace
}  // namespace data
}  // namespace frontend
}  // namespace cortado
