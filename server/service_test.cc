#include "server/service.h"

#include <atomic>
#include <cstdlib>
#include <future>
#include <thread>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "server/repository/test_models.h"

namespace cortado {
namespace {

using testing_models::AddConstModel;
using testing_models::MakeTempDir;
using testing_models::PublishVersion;
using testing_models::RemoveTree;
using testing_models::TableLookupModel;
using testing_models::WriteFile;

// Sends a request and waits for its answer; also reports whether `done` ran on another thread.
absl::StatusOr<InferResponse> InferSync(InferenceService& service, InferRequest request,
                                        bool* on_other_thread = nullptr) {
  std::promise<absl::StatusOr<InferResponse>> result;
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> other{false};
  service.Infer(std::move(request), [&](absl::StatusOr<InferResponse> r) {
    other = std::this_thread::get_id() != caller;
    result.set_value(std::move(r));
  });
  auto r = result.get_future().get();
  if (on_other_thread) *on_other_thread = other;
  return r;
}

InferRequest Request(const std::string& model, Tensor x, const std::string& version = "") {
  InferRequest r;
  r.model_name = model;
  r.model_version = version;
  r.id = "req-1";
  r.inputs.emplace_back("x", std::move(x));
  return r;
}

Tensor X(std::vector<float> v, Shape shape) { return Tensor::FromVector<float>(v, shape); }

double Metric(prometheus::Registry& registry, const std::string& name,
              const std::map<std::string, std::string>& labels) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) {
      bool match = true;
      for (const auto& [k, v] : labels) {
        bool found = false;
        for (const auto& l : m.label) found = found || (l.name == k && l.value == v);
        match = match && found;
      }
      if (!match) continue;
      switch (family.type) {
        case prometheus::MetricType::Gauge: return m.gauge.value;
        case prometheus::MetricType::Histogram: return m.histogram.sample_count;
        default: return m.counter.value;
      }
    }
  }
  return -1;
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = MakeTempDir();
    registry_ = std::make_shared<prometheus::Registry>();
    PublishVersion(repo_ + "/add", 1, AddConstModel(3));
  }
  void TearDown() override {
    service_.reset();
    RemoveTree(repo_);
  }
  void Start(ModelControlMode mode = ModelControlMode::kNone,
             std::vector<std::string> load = {}, int threads = 4,
             int64_t max_bytes = int64_t{1} << 20) {
    ServiceOptions o;
    o.model_repository = repo_;
    o.model_control_mode = mode;
    o.load_models = std::move(load);
    o.infer_threads = threads;
    o.max_request_bytes = max_bytes;
    o.metrics_registry = registry_;
    o.repository_poll_secs = 1;
    auto s = InferenceService::Create(o);
    ASSERT_TRUE(s.ok()) << s.status();
    service_ = *std::move(s);
  }

  std::string repo_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<InferenceService> service_;
};

TEST_F(ServiceTest, CreateFailsWithoutARepository) {
  ServiceOptions o;
  o.model_repository = repo_ + "/missing";
  auto s = InferenceService::Create(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ServiceTest, InfersOnAWorkerThread) {
  Start();
  EXPECT_TRUE(service_->Live());
  EXPECT_TRUE(service_->Ready());
  bool other_thread = false;
  auto r = InferSync(*service_, Request("add", X({1, 2, 3, 4, 5, 6, 7, 8}, {2, 4})),
                     &other_thread);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(other_thread);
  EXPECT_EQ(r->model_name, "add");
  EXPECT_EQ(r->model_version, "1");
  EXPECT_EQ(r->id, "req-1");
  ASSERT_EQ(r->outputs.size(), 1u);
  EXPECT_EQ(r->outputs[0].first, "y");
  const Tensor& y = r->outputs[0].second;
  EXPECT_EQ(y.shape(), (Shape{2, 4}));
  for (int i = 0; i < 8; ++i) EXPECT_EQ(y.data<float>()[i], i + 1 + 3.0f);
  // Explicit version and requested output.
  InferRequest req = Request("add", X({0, 0, 0, 0}, {1, 4}), "1");
  req.requested_outputs = {"y"};
  auto r2 = InferSync(*service_, std::move(req));
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->outputs[0].second.data<float>()[0], 3.0f);
}

TEST_F(ServiceTest, BadRequestsGetClearErrorsAndTheServerStaysUp) {
  Start();
  struct Case {
    const char* what;
    InferRequest request;
    absl::StatusCode code;
    const char* message;  // in the error
  };
  std::vector<Case> cases;
  cases.push_back({"unknown model", Request("nope", X({0, 0, 0, 0}, {1, 4})),
                   absl::StatusCode::kNotFound, "unknown model 'nope'"});
  cases.push_back({"unknown version", Request("add", X({0, 0, 0, 0}, {1, 4}), "9"),
                   absl::StatusCode::kNotFound, "no version 9"});
  cases.push_back({"non-numeric version", Request("add", X({0, 0, 0, 0}, {1, 4}), "latest"),
                   absl::StatusCode::kInvalidArgument, "invalid model version"});
  cases.push_back({"dotdot name", Request("../add", X({0, 0, 0, 0}, {1, 4})),
                   absl::StatusCode::kInvalidArgument, "invalid model name"});
  cases.push_back({"slash name", Request("a/add", X({0, 0, 0, 0}, {1, 4})),
                   absl::StatusCode::kInvalidArgument, "invalid model name"});
  {
    InferRequest r = Request("add", X({0, 0, 0, 0}, {1, 4}));
    r.inputs[0].first = "features";
    cases.push_back({"wrong input name", std::move(r), absl::StatusCode::kInvalidArgument,
                     "has no input 'features'; its inputs are: x"});
  }
  cases.push_back({"wrong shape", Request("add", X({0, 0, 0, 0, 0}, {1, 5})),
                   absl::StatusCode::kInvalidArgument, "has shape [1,5]"});
  cases.push_back({"wrong rank", Request("add", X({0, 0, 0, 0}, {4})),
                   absl::StatusCode::kInvalidArgument, "has shape [4]"});
  cases.push_back({"wrong dtype",
                   Request("add", Tensor::FromVector<double>({0, 0, 0, 0}, {1, 4})),
                   absl::StatusCode::kInvalidArgument, "has datatype FP64"});
  {
    InferRequest r = Request("add", X({0, 0, 0, 0}, {1, 4}));
    r.inputs.clear();
    cases.push_back({"missing input", std::move(r), absl::StatusCode::kInvalidArgument,
                     "missing input 'x'"});
  }
  {
    InferRequest r = Request("add", X({0, 0, 0, 0}, {1, 4}));
    r.inputs.emplace_back("x", X({0, 0, 0, 0}, {1, 4}));
    cases.push_back({"duplicate input", std::move(r), absl::StatusCode::kInvalidArgument,
                     "given twice"});
  }
  {
    InferRequest r = Request("add", X({0, 0, 0, 0}, {1, 4}));
    r.inputs[0].second = Tensor();
    cases.push_back({"empty tensor", std::move(r), absl::StatusCode::kInvalidArgument,
                     "has no data"});
  }
  {
    InferRequest r = Request("add", X({0, 0, 0, 0}, {1, 4}));
    r.requested_outputs = {"z"};
    cases.push_back({"unknown output", std::move(r), absl::StatusCode::kInvalidArgument,
                     "has no output 'z'"});
  }
  {
    std::vector<float> big(4 * 70000);  // 1.1 MB > the 1 MiB limit
    cases.push_back({"too large", Request("add", X(big, {70000, 4})),
                     absl::StatusCode::kInvalidArgument, "more than the limit"});
  }
  for (Case& c : cases) {
    bool other_thread = false;
    auto r = InferSync(*service_, std::move(c.request), &other_thread);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), c.code) << c.what << ": " << r.status();
    EXPECT_TRUE(absl::StrContains(r.status().message(), c.message))
        << c.what << ": " << r.status();
    EXPECT_TRUE(other_thread) << c.what;
  }
  // Still serving.
  EXPECT_TRUE(service_->Ready());
  auto ok = InferSync(*service_, Request("add", X({1, 1, 1, 1}, {1, 4})));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->outputs[0].second.data<float>()[0], 4.0f);

  // Metrics and statistics counted every outcome.
  EXPECT_EQ(Metric(*registry_, "cortado_inference_requests_total",
                   {{"model", "add"}, {"version", "1"}, {"outcome", "success"}}),
            1);
  EXPECT_EQ(Metric(*registry_, "cortado_inference_requests_total",
                   {{"model", "add"}, {"version", "1"}, {"reason", "invalid_argument"}}),
            9);
  EXPECT_EQ(Metric(*registry_, "cortado_inference_requests_total",
                   {{"model", "add"}, {"version", ""}, {"reason", "not_found"}}),
            1);  // unknown version of a known model
  EXPECT_EQ(Metric(*registry_, "cortado_inference_requests_total",
                   {{"model", ""}, {"reason", "not_found"}}),
            1);  // unknown model: no label for arbitrary names
  EXPECT_EQ(Metric(*registry_, "cortado_request_duration_seconds",
                   {{"model", "add"}, {"version", "1"}}),
            1);
  auto stats = service_->ModelStatistics("add", "");
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->model_stats_size(), 1);
  EXPECT_EQ(stats->model_stats(0).inference_stats().success().count(), 1u);
  EXPECT_EQ(stats->model_stats(0).inference_stats().fail().count(), 9u);
  EXPECT_EQ(stats->model_stats(0).execution_count(), 1u);
}

TEST_F(ServiceTest, MetadataConfigStatisticsAndIndex) {
  WriteFile(repo_ + "/batched/config.pbtxt", "max_batch_size: 4\n");
  PublishVersion(repo_ + "/batched", 2, AddConstModel(1));
  WriteFile(repo_ + "/broken/config.pbtxt", "max_batch_size: {\n");
  PublishVersion(repo_ + "/broken", 1, AddConstModel(1));
  Start();
  auto meta = service_->ModelMetadata("batched", "");
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->name(), "batched");
  ASSERT_EQ(meta->versions_size(), 1);
  EXPECT_EQ(meta->versions(0), "2");
  EXPECT_EQ(meta->platform(), "onnxruntime_onnx");
  ASSERT_EQ(meta->inputs_size(), 1);
  EXPECT_EQ(meta->inputs(0).datatype(), "FP32");
  EXPECT_EQ(std::vector<int64_t>(meta->inputs(0).shape().begin(), meta->inputs(0).shape().end()),
            (std::vector<int64_t>{-1, 4}));
  auto config = service_->ModelConfig("batched", "2");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->config().max_batch_size(), 4);
  EXPECT_EQ(config->config().input(0).dims_size(), 1);
  EXPECT_EQ(service_->ModelConfig("batched", "1").status().code(), absl::StatusCode::kNotFound);

  // Batch larger than max_batch_size.
  auto big = InferSync(*service_, Request("batched", X(std::vector<float>(20), {5, 4})));
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(big.status().message(), "max_batch_size 4")) << big.status();
  auto three = InferSync(*service_, Request("batched", X(std::vector<float>(12), {3, 4})));
  ASSERT_TRUE(three.ok()) << three.status();
  auto stats = service_->ModelStatistics("batched", "2");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->model_stats(0).inference_count(), 3u);  // the batch size
  EXPECT_EQ(stats->model_stats(0).execution_count(), 1u);
  ASSERT_EQ(stats->model_stats(0).batch_stats_size(), 1);
  EXPECT_EQ(stats->model_stats(0).batch_stats(0).batch_size(), 3u);
  EXPECT_EQ(Metric(*registry_, "cortado_inferences_total", {{"model", "batched"}}), 3);
  auto all = service_->ModelStatistics("", "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->model_stats_size(), 2);  // add and batched; broken is not serving
  EXPECT_EQ(service_->ModelStatistics("nope", "").status().code(), absl::StatusCode::kNotFound);

  // The broken model is unavailable with the reason; the others serve.
  EXPECT_FALSE(service_->ModelReady("broken", ""));
  EXPECT_TRUE(service_->ModelReady("add", ""));
  EXPECT_TRUE(service_->ModelReady("batched", "2"));
  auto b = InferSync(*service_, Request("broken", X({0, 0, 0, 0}, {1, 4})));
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(b.status().message(), "config.pbtxt:1:")) << b.status();
  auto index = service_->RepositoryIndex(false);
  bool found_reason = false;
  for (const auto& m : index.models()) {
    if (m.name() == "broken") {
      EXPECT_EQ(m.state(), "UNAVAILABLE");
      found_reason = absl::StrContains(m.reason(), "config.pbtxt:1:");
    }
  }
  EXPECT_TRUE(found_reason) << index.DebugString();
  EXPECT_EQ(service_->RepositoryIndex(true).models_size(), 2);

  auto server = service_->ServerMetadata();
  EXPECT_EQ(server.name(), "cortado");
  EXPECT_FALSE(server.version().empty());
}

TEST_F(ServiceTest, ModelControlIsExplicitOnly) {
  Start(ModelControlMode::kNone);
  EXPECT_EQ(service_->LoadModel("add").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(service_->UnloadModel("add").code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ServiceTest, ExplicitModeLoadsOnRequest) {
  PublishVersion(repo_ + "/other", 1, AddConstModel(7));
  Start(ModelControlMode::kExplicit, {"add"});
  EXPECT_TRUE(service_->ModelReady("add", ""));
  EXPECT_FALSE(service_->ModelReady("other", ""));
  EXPECT_EQ(InferSync(*service_, Request("other", X({0, 0, 0, 0}, {1, 4}))).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(service_->LoadModel("other").ok());
  auto r = InferSync(*service_, Request("other", X({0, 0, 0, 0}, {1, 4})));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->outputs[0].second.data<float>()[0], 7.0f);
  ASSERT_TRUE(service_->UnloadModel("other").ok());
  EXPECT_FALSE(service_->ModelReady("other", ""));
  EXPECT_EQ(service_->LoadModel("..").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->LoadModel("a/b").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->LoadModel("missing").code(), absl::StatusCode::kNotFound);
}

// instance_group count = how many requests of one model run at once. `done` runs inside the
// instance, so blocking it holds the instance.
// The instance is free once the model has run: a slow answer (a callback that blocks) does not
// keep the next request of a one-instance model from running. (The instance count itself is
// checked in the scheduler's tests.)
TEST_F(ServiceTest, ASlowAnswerDoesNotHoldTheInstance) {
  WriteFile(repo_ + "/add/config.pbtxt", "instance_group [ { count: 1 kind: KIND_CPU } ]\n");
  Start(ModelControlMode::kNone, {}, /*threads=*/4);
  absl::Notification entered, release;
  service_->Infer(Request("add", X({0, 0, 0, 0}, {1, 4})), [&](absl::StatusOr<InferResponse> r) {
    EXPECT_TRUE(r.ok()) << r.status();
    entered.Notify();
    release.WaitForNotification();
  });
  ASSERT_TRUE(entered.WaitForNotificationWithTimeout(absl::Seconds(60)));
  auto second = InferSync(*service_, Request("add", X({1, 1, 1, 1}, {1, 4})));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->outputs[0].second.data<float>()[0], 4.0f);
  release.Notify();
}

// Dynamic batching: requests of 1, 2 and 3 rows wait (up to an hour) for the preferred size
// of 6, run as one execution, and each gets its own rows back.
TEST_F(ServiceTest, DynamicBatchingRunsRequestsAsOneExecutionAndSplitsTheOutputs) {
  WriteFile(repo_ + "/add/config.pbtxt",
            "max_batch_size: 8\n"
            "dynamic_batching { preferred_batch_size: [ 6 ] "
            "max_queue_delay_microseconds: 3600000000 }\n");
  Start();
  std::vector<std::future<absl::StatusOr<InferResponse>>> answers;
  std::vector<std::promise<absl::StatusOr<InferResponse>>> promises(3);
  for (int r = 0; r < 3; ++r) {
    std::vector<float> x;
    for (int i = 0; i < (r + 1) * 4; ++i) x.push_back(100.0f * r + i);
    answers.push_back(promises[r].get_future());
    service_->Infer(Request("add", X(x, {r + 1, 4})),
                    [&promises, r](absl::StatusOr<InferResponse> out) {
                      promises[r].set_value(std::move(out));
                    });
  }
  for (int r = 0; r < 3; ++r) {
    auto out = answers[r].get();
    ASSERT_TRUE(out.ok()) << out.status();
    const Tensor& y = out->outputs[0].second;
    EXPECT_EQ(y.shape(), (Shape{r + 1, 4}));
    for (int i = 0; i < (r + 1) * 4; ++i) EXPECT_EQ(y.data<float>()[i], 100.0f * r + i + 3.0f);
  }
  auto stats = service_->ModelStatistics("add", "1");
  ASSERT_TRUE(stats.ok()) << stats.status();
  const inference::ModelStatistics& st = stats->model_stats(0);
  EXPECT_EQ(st.inference_count(), 6u);
  EXPECT_EQ(st.execution_count(), 1u);
  EXPECT_EQ(st.inference_stats().success().count(), 3u);
  ASSERT_EQ(st.batch_stats_size(), 1);
  EXPECT_EQ(st.batch_stats(0).batch_size(), 6u);
  EXPECT_EQ(st.batch_stats(0).compute_infer().count(), 1u);
  EXPECT_EQ(Metric(*registry_, "cortado_inferences_total", {{"model", "add"}}), 6);
  EXPECT_EQ(Metric(*registry_, "cortado_executions_total", {{"model", "add"}}), 1);
  EXPECT_EQ(Metric(*registry_, "cortado_batch_size", {{"model", "add"}}), 1);  // executions
  EXPECT_EQ(Metric(*registry_, "cortado_queue_duration_seconds", {{"model", "add"}}),
            3);  // requests
}

// One request's bad input (an index past the model's table) fails its batch; each request then
// runs alone, so that its batch-mates get their answers and it gets its own error.
TEST_F(ServiceTest, ABatchThatFailsRunsEachRequestAloneForItsOwnAnswer) {
  PublishVersion(repo_ + "/lookup", 1, TableLookupModel(8));
  WriteFile(repo_ + "/lookup/config.pbtxt",
            "max_batch_size: 8\n"
            "dynamic_batching { preferred_batch_size: [ 6 ] "
            "max_queue_delay_microseconds: 3600000000 }\n");
  Start();
  std::vector<std::promise<absl::StatusOr<InferResponse>>> promises(3);
  for (int r = 0; r < 3; ++r) {
    std::vector<float> x;
    for (int i = 0; i < (r + 1) * 4; ++i) x.push_back(static_cast<float>((r + i) % 8));
    if (r == 1) x[5] = 99;  // the bad one
    service_->Infer(Request("lookup", X(x, {r + 1, 4})),
                    [&promises, r](absl::StatusOr<InferResponse> out) {
                      promises[r].set_value(std::move(out));
                    });
  }
  for (int r = 0; r < 3; ++r) {
    auto out = promises[r].get_future().get();
    if (r == 1) {
      ASSERT_FALSE(out.ok());
      EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
      continue;
    }
    ASSERT_TRUE(out.ok()) << "request " << r << ": " << out.status();
    const Tensor& y = out->outputs[0].second;
    ASSERT_EQ(y.shape(), (Shape{r + 1, 4}));
    for (int i = 0; i < (r + 1) * 4; ++i) EXPECT_EQ(y.data<float>()[i], 10.0f * ((r + i) % 8));
  }
  auto stats = service_->ModelStatistics("lookup", "1");
  ASSERT_TRUE(stats.ok()) << stats.status();
  const inference::ModelStatistics& st = stats->model_stats(0);
  EXPECT_EQ(st.inference_stats().success().count(), 2u);
  EXPECT_EQ(st.inference_stats().fail().count(), 1u);
  EXPECT_EQ(st.execution_count(), 2u);  // the two that ran alone; the failed batch counts not
  EXPECT_EQ(st.inference_count(), 4u);
}

// Shutdown does not wait out a batch's queue delay: the request waiting for company runs now.
TEST_F(ServiceTest, ShutdownSendsBatchesWaitingForTheirDelay) {
  WriteFile(repo_ + "/add/config.pbtxt",
            "max_batch_size: 8\n"
            "dynamic_batching { preferred_batch_size: [ 8 ] "
            "max_queue_delay_microseconds: 3600000000 }\n");
  Start();
  std::promise<absl::StatusOr<InferResponse>> answer;
  service_->Infer(Request("add", X({1, 2, 3, 4}, {1, 4})),
                  [&](absl::StatusOr<InferResponse> r) { answer.set_value(std::move(r)); });
  service_->Shutdown(std::chrono::minutes(5));
  auto r = answer.get_future().get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->outputs[0].second.data<float>()[3], 7.0f);
}

TEST_F(ServiceTest, APreferredSizeLargerThanTheBatchIsRefused) {
  WriteFile(repo_ + "/add/config.pbtxt",
            "max_batch_size: 4\ndynamic_batching { preferred_batch_size: [ 8 ] }\n");
  Start();
  auto config = service_->ModelConfig("add", "1");
  EXPECT_FALSE(config.ok());
  bool explained = false;
  const inference::RepositoryIndexResponse index = service_->RepositoryIndex(false);
  for (const auto& m : index.models()) {
    explained = explained || absl::StrContains(m.reason(), "preferred_batch_size 8 must be");
  }
  EXPECT_TRUE(explained);
}

TEST_F(ServiceTest, ShutdownRefusesNewRequestsAndWaitsForThoseInFlight) {
  Start(ModelControlMode::kNone, {}, /*threads=*/3);
  absl::Notification entered, release;
  service_->Infer(Request("add", X({0, 0, 0, 0}, {1, 4})), [&](absl::StatusOr<InferResponse> r) {
    EXPECT_TRUE(r.ok()) << r.status();
    entered.Notify();
    release.WaitForNotification();
  });
  entered.WaitForNotification();
  std::atomic<bool> shutdown_returned{false};
  std::thread shutdown([&] {
    service_->Shutdown(std::chrono::minutes(5));
    shutdown_returned = true;
  });
  for (int i = 0; i < 20000 && service_->Ready(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_FALSE(service_->Ready());
  EXPECT_TRUE(service_->Live());
  EXPECT_FALSE(service_->ModelReady("add", ""));
  auto refused = InferSync(*service_, Request("add", X({0, 0, 0, 0}, {1, 4})));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "shutting down"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(shutdown_returned.load());  // the request in flight has not finished
  release.Notify();
  shutdown.join();
  EXPECT_TRUE(shutdown_returned.load());
  EXPECT_EQ(Metric(*registry_, "cortado_inference_requests_in_flight", {}), 0);
}

TEST_F(ServiceTest, ShutdownWaitIsBounded) {
  Start(ModelControlMode::kNone, {}, /*threads=*/2);
  absl::Notification entered, release;
  service_->Infer(Request("add", X({0, 0, 0, 0}, {1, 4})), [&](absl::StatusOr<InferResponse>) {
    entered.Notify();
    release.WaitForNotification();
  });
  entered.WaitForNotification();
  service_->Shutdown(std::chrono::milliseconds(100));  // returns although one is still running
  EXPECT_FALSE(service_->Ready());
  release.Notify();
}

TEST_F(ServiceTest, PollModeHotReloadsBehindTheService) {
  Start(ModelControlMode::kPoll);  // rescans every second; the test publishes and waits
  ASSERT_TRUE(InferSync(*service_, Request("add", X({0, 0, 0, 0}, {1, 4}))).ok());
  PublishVersion(repo_ + "/add", 2, AddConstModel(20));
  // Requests keep succeeding while the poll thread picks v2 up.
  bool switched = false;
  for (int i = 0; i < 3000 && !switched; ++i) {
    auto r = InferSync(*service_, Request("add", X({0, 0, 0, 0}, {1, 4})));
    ASSERT_TRUE(r.ok()) << r.status();
    switched = r->model_version == "2";
    if (switched) EXPECT_EQ(r->outputs[0].second.data<float>()[0], 20.0f);
    if (!switched) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(switched);
}

TEST(EmbeddedRepositoryTest, ServesTheExampleModel) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  ASSERT_NE(srcdir, nullptr);
  ServiceOptions o;
  o.model_repository = std::string(srcdir) + "/cortado/config/repository";
  auto service = InferenceService::Create(o);
  ASSERT_TRUE(service.ok()) << service.status();
  InferRequest r;
  r.model_name = "example_mlp";
  r.inputs.emplace_back("features", Tensor::FromVector<float>({1, 2, 3, 4, 0, 0, 0, 0}, {2, 4}));
  auto out = InferSync(**service, std::move(r));
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->outputs.size(), 1u);
  EXPECT_EQ(out->outputs[0].first, "probabilities");
  const Tensor& p = out->outputs[0].second;
  ASSERT_EQ(p.shape(), (Shape{2, 3}));
  for (int row = 0; row < 2; ++row) {
    float sum = 0;
    for (int k = 0; k < 3; ++k) sum += p.data<float>()[row * 3 + k];
    EXPECT_NEAR(sum, 1.0f, 1e-5);
  }
}

}  // namespace
}  // namespace cortado
