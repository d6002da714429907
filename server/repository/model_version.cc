#include "server/repository/model_version.h"

#include <algorithm>
#include <chrono>

#include "server/logging.h"
#include "server/repository/model_config.h"
#include "spdlog/spdlog.h"

namespace cortado {
namespace {

void SetDuration(inference::StatisticDuration* d, uint64_t count, uint64_t ns) {
  d->set_count(count);
  d->set_ns(ns);
}

// The queue's batching: Triton's dynamic_batching, for a model whose inputs have a batch
// dimension (max_batch_size > 1); preserve_ordering whenever dynamic_batching asks for it.
BatchPolicy BatchPolicyOf(const inference::ModelConfig& config) {
  BatchPolicy policy;
  if (!config.has_dynamic_batching()) return policy;
  const inference::ModelDynamicBatching& batching = config.dynamic_batching();
  policy.preserve_ordering = batching.preserve_ordering();
  if (config.max_batch_size() < 2) return policy;
  policy.max_batch_size = config.max_batch_size();
  policy.preferred_batch_sizes.assign(batching.preferred_batch_size().begin(),
                                      batching.preferred_batch_size().end());
  std::sort(policy.preferred_batch_sizes.begin(), policy.preferred_batch_sizes.end());
  policy.max_queue_delay = std::chrono::microseconds(batching.max_queue_delay_microseconds());
  return policy;
}

}  // namespace

void VersionStats::RecordExecution(uint64_t batch_size, const Times& t) {
  absl::MutexLock lock(&mu_);
  inference_count_ += batch_size;
  ++execution_count_;
  Batch& b = batches_[batch_size];
  ++b.count;
  b.input_ns += t.compute_input;
  b.infer_ns += t.compute_infer;
  b.output_ns += t.compute_output;
}

void VersionStats::RecordSuccess(const Times& t, uint64_t now_ms) {
  absl::MutexLock lock(&mu_);
  last_inference_ms_ = now_ms;
  ++success_count_;
  success_ns_.request += t.request;
  success_ns_.queue += t.queue;
  success_ns_.compute_input += t.compute_input;
  success_ns_.compute_infer += t.compute_infer;
  success_ns_.compute_output += t.compute_output;
}

void VersionStats::RecordFailure(uint64_t request_ns, uint64_t now_ms) {
  absl::MutexLock lock(&mu_);
  last_inference_ms_ = now_ms;
  ++fail_count_;
  fail_ns_ += request_ns;
}

void VersionStats::Fill(inference::ModelStatistics* stats) const {
  absl::MutexLock lock(&mu_);
  stats->set_last_inference(last_inference_ms_);
  stats->set_inference_count(inference_count_);
  stats->set_execution_count(execution_count_);
  auto* s = stats->mutable_inference_stats();
  SetDuration(s->mutable_success(), success_count_, success_ns_.request);
  SetDuration(s->mutable_fail(), fail_count_, fail_ns_);
  SetDuration(s->mutable_queue(), success_count_, success_ns_.queue);
  SetDuration(s->mutable_compute_input(), success_count_, success_ns_.compute_input);
  SetDuration(s->mutable_compute_infer(), success_count_, success_ns_.compute_infer);
  SetDuration(s->mutable_compute_output(), success_count_, success_ns_.compute_output);
  SetDuration(s->mutable_cache_hit(), 0, 0);
  SetDuration(s->mutable_cache_miss(), 0, 0);
  for (const auto& [size, b] : batches_) {
    auto* bs = stats->add_batch_stats();
    bs->set_batch_size(size);
    SetDuration(bs->mutable_compute_input(), b.count, b.input_ns);
    SetDuration(bs->mutable_compute_infer(), b.count, b.infer_ns);
    SetDuration(bs->mutable_compute_output(), b.count, b.output_ns);
  }
}

ModelVersion::ModelVersion(std::string name, int64_t version, inference::ModelConfig config,
                           std::vector<std::shared_ptr<const Predictor>> instances,
                           Metrics* metrics)
    : name_(std::move(name)),
      version_(version),
      version_string_(std::to_string(version)),
      config_(std::move(config)),
      instances_(std::move(instances)),
      queue_(std::make_shared<ExecutionQueue>(static_cast<int>(instances_.size()),
                                              BatchPolicyOf(config_))),
      registry_(metrics) {
  if (metrics != nullptr) metrics_ = &metrics->ForVersion(name_, version_string_);
}

ModelVersion::~ModelVersion() {
  if (registry_ != nullptr) registry_->ReleaseVersion(name_, version_string_);
  spdlog::info("model '{}' version {} released (its last request has finished)", name_,
               version_);
}

}  // namespace cortado
