#include "server/repository/model_manager.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/npy.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "server/repository/test_models.h"

namespace cortado {
namespace {

using testing_models::AddConstModel;
using testing_models::MakeTempDir;
using testing_models::PublishVersion;
using testing_models::RemoveTree;
using testing_models::UnsupportedOpModel;
using testing_models::WriteFile;

// Runs version `v` (its instance `instance`) on x = [[0,0,0,0]] and returns y[0][0], which is the
// constant it adds.
float AddedConst(const ModelVersion& v, int instance = 0) {
  auto out = v.predictor(instance).Run({{"x", Tensor::FromVector<float>({0, 0, 0, 0}, {1, 4})}});
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return -1;
  return out->at("y").data<float>()[0];
}

// The value of the series `name` with the given labels, or -1 when absent.
double MetricValue(prometheus::Registry& registry, const std::string& name,
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
      if (match) return family.type == prometheus::MetricType::Gauge ? m.gauge.value
                                                                     : m.counter.value;
    }
  }
  return -1;
}

const inference::RepositoryIndexResponse::ModelIndex* FindIndex(
    const inference::RepositoryIndexResponse& index, const std::string& name,
    const std::string& version) {
  for (const auto& m : index.models()) {
    if (m.name() == name && m.version() == version) return &m;
  }
  return nullptr;
}

class ModelManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = MakeTempDir();
    registry_ = std::make_shared<prometheus::Registry>();
    metrics_ = std::make_unique<Metrics>(registry_);
  }
  void TearDown() override {
    manager_.reset();
    RemoveTree(repo_);
  }
  std::unique_ptr<ModelManager> Make(bool poll = false, int poll_secs = 15,
                                     GpuInventory gpus = {}) {
    ModelManagerOptions o;
    o.repository = repo_;
    o.gpus = gpus;
    o.poll = poll;
    o.poll_secs = poll_secs;
    o.metrics = metrics_.get();
    auto m = ModelManager::Create(o);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? *std::move(m) : nullptr;
  }
  std::string Dir(const std::string& model) { return repo_ + "/" + model; }

  std::string repo_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<ModelManager> manager_;
};

// A stand-in for the CUDA backend on a machine with two GPUs: "fake_gpu" on GPU 0 and
// "fake_gpu:1" on GPU 1 (DeviceBackendName), each with its own memory (host memory labelled with
// its device), running Add with the reference kernel.
class FakeGpuMemory final : public Allocator {
 public:
  explicit FakeGpuMemory(int gpu) : gpu_(gpu) {}
  Device device() const override { return {DeviceType::kCuda, gpu_}; }
  void* Allocate(size_t nbytes) override {
    return std::aligned_alloc(kAlignment, (nbytes + kAlignment) / kAlignment * kAlignment);
  }
  void Free(void* ptr) override { std::free(ptr); }

 private:
  const int gpu_;
};

class FakeGpu final : public Backend {
 public:
  explicit FakeGpu(int gpu) : gpu_(gpu), memory_(gpu) {}
  std::string name() const override { return DeviceBackendName("fake_gpu", gpu_); }
  int priority() const override { return 300; }
  Device device() const override { return {DeviceType::kCuda, gpu_}; }
  Allocator* allocator() const override { return &memory_; }
  bool Supports(const KernelInfo& node) const override { return node.op_type == "Add"; }
  absl::StatusOr<std::unique_ptr<Kernel>> CreateKernel(const KernelInfo& node) const override {
    return BackendRegistry::Global().Find(kCpuBackend)->CreateKernel(node);
  }

 private:
  const int gpu_;
  mutable FakeGpuMemory memory_;
};

const bool kFakeGpusRegistered = [] {
  for (int gpu : {0, 1}) BackendRegistry::Global().Register(std::make_unique<FakeGpu>(gpu));
  return true;
}();

// The devices the steps of `p` run on that are GPUs, and those of its weights there.
std::set<int> GpusOf(const Predictor& p) {
  std::set<int> gpus;
  for (const PlanStep& step : p.plan().steps()) {
    if (step.backend->device().type == DeviceType::kCuda) gpus.insert(step.backend->device().index);
  }
  for (const Tensor& t : p.plan().constants()) {
    if (t.defined() && t.device().type == DeviceType::kCuda) gpus.insert(t.device().index);
  }
  return gpus;
}

// instance_group { kind: KIND_GPU gpus: [0, 1] count: 2 } on two GPUs: four instances, two per
// GPU, alternating; one Predictor (one copy of the weights) per GPU, its work and weights on that
// GPU alone; a CPU group's instances never touch a GPU; a GPU beyond the machine's is refused.
TEST_F(ModelManagerTest, KindGpuInstancesRunOnTheirGpus) {
  ASSERT_TRUE(kFakeGpusRegistered);
  PublishVersion(Dir("gpu"), 1, AddConstModel(3));
  WriteFile(Dir("gpu") + "/config.pbtxt",
            "instance_group [ { kind: KIND_GPU gpus: [ 0, 1 ] count: 2 }, { kind: KIND_CPU count: "
            "1 } ]");
  PublishVersion(Dir("beyond"), 1, AddConstModel(1));
  WriteFile(Dir("beyond") + "/config.pbtxt", "instance_group [ { kind: KIND_GPU gpus: [ 2 ] } ]");
  manager_ = Make(false, 15, GpuInventory{2, ""});
  const absl::Status all = manager_->LoadAll();
  EXPECT_NE(all.message().find("instance_group: gpus names GPU 2, but the GPUs cortadod can use "
                               "are 0 to 1"),
            std::string::npos)
      << all;
  auto v = manager_->Get("gpu", "");
  ASSERT_TRUE(v.ok()) << v.status();
  const ModelVersion& m = **v;
  ASSERT_EQ(m.queue()->max_concurrency(), 5);
  const std::vector<std::set<int>> expected = {{0}, {1}, {0}, {1}, {}};
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE("instance " + std::to_string(i));
    EXPECT_EQ(GpusOf(m.predictor(i)), expected[i]);
    EXPECT_EQ(AddedConst(m, i), 3.0f);
  }
  EXPECT_EQ(&m.predictor(0), &m.predictor(2));
  EXPECT_EQ(&m.predictor(1), &m.predictor(3));
  EXPECT_NE(&m.predictor(0), &m.predictor(1));
  EXPECT_NE(&m.predictor(0), &m.predictor(4));
  EXPECT_FALSE(manager_->Get("beyond", "").ok());
}

TEST_F(ModelManagerTest, MissingRepositoryIsAnError) {
  ModelManagerOptions o;
  o.repository = repo_ + "/nope";
  auto m = ModelManager::Create(o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound);
}

// A Caffe2 NetDef version (init_net.pb + predict_net.pb) is served like an ONNX one; NetDef
// carries no input types, so config.pbtxt states them.
TEST_F(ModelManagerTest, ServesACaffe2NetDefVersion) {
  const std::string fixture = std::string(std::getenv("TEST_SRCDIR")) + "/cortado/testdata/netdef/lenet";
  auto copy = [&](const std::string& file) {
    std::ifstream in(fixture + "/" + file, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    WriteFile(Dir("lenet") + "/1/" + file, bytes.str());
  };
  copy("init_net.pb");
  copy("predict_net.pb");
  manager_ = Make();
  manager_->LoadAll().IgnoreError();
  auto v = manager_->Get("lenet", "");
  ASSERT_FALSE(v.ok());
  {
    auto index = manager_->Index(false);
    const auto* entry = FindIndex(index, "lenet", "1");
    ASSERT_NE(entry, nullptr) << index.DebugString();
    EXPECT_TRUE(absl::StrContains(entry->reason(), "state its data_type in config.pbtxt"))
        << entry->reason();
  }
  WriteFile(Dir("lenet") + "/config.pbtxt", R"pb(
    platform: "caffe2_netdef"
    input [ { name: "1" data_type: TYPE_FP32 dims: [ -1, 1, 28, 28 ] } ]
  )pb");
  absl::Status loaded = manager_->Load("lenet");
  v = manager_->Get("lenet", "");
  ASSERT_TRUE(v.ok()) << v.status() << " / " << loaded;
  EXPECT_EQ((*v)->config().platform(), "caffe2_netdef");
  auto input = ReadNpyFile(fixture + "/input_1.npy");
  ASSERT_TRUE(input.ok()) << input.status();
  auto expected = ReadNpyFile(fixture + "/output_26.npy").value();
  const auto& in_name = (*v)->config().input(0).name();
  auto out = (*v)->predictor(0).Run({{in_name, *input}});
  ASSERT_TRUE(out.ok()) << out.status();
  const Tensor& y = out->begin()->second;
  ASSERT_EQ(y.num_elements(), expected.num_elements());
  for (int64_t i = 0; i < y.num_elements(); ++i) {
    EXPECT_NEAR(y.data<float>()[i], expected.data<float>()[i], 1e-3) << i;
  }
}

TEST_F(ModelManagerTest, ServesTheNewestVersionWithAConfigCompletedFromTheModel) {
  PublishVersion(Dir("add"), 1, AddConstModel(1));
  PublishVersion(Dir("add"), 2, AddConstModel(2));
  manager_ = Make();
  ASSERT_TRUE(manager_->LoadAll().ok());
  auto v = manager_->Get("add", "");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ((*v)->version(), 2);
  EXPECT_EQ(AddedConst(**v), 2.0f);
  const inference::ModelConfig& c = (*v)->config();
  EXPECT_EQ(c.name(), "add");
  EXPECT_EQ(c.platform(), "onnxruntime_onnx");
  ASSERT_EQ(c.input_size(), 1);
  EXPECT_EQ(c.input(0).name(), "x");
  EXPECT_EQ(c.input(0).data_type(), inference::TYPE_FP32);
  ASSERT_EQ(c.output_size(), 1);
  EXPECT_EQ(c.output(0).name(), "y");
  // latest { num_versions: 1 }: version 1 does not serve.
  auto v1 = manager_->Get("add", "1");
  EXPECT_EQ(v1.status().code(), absl::StatusCode::kNotFound) << v1.status();
  EXPECT_EQ(MetricValue(*registry_, "cortado_model_versions_loaded", {}), 1);
  EXPECT_EQ(MetricValue(*registry_, "cortado_model_loads_total",
                        {{"model", "add"}, {"version", "2"}}),
            1);
}

// config.pbtxt's parameters { key: "intra_op_thread_count" } sets the model's own thread count
// (as Triton's ONNX Runtime backend spells it); a value that is not a count fails the load.
TEST_F(ModelManagerTest, IntraOpThreadCountFromConfig) {
  PublishVersion(Dir("plain"), 1, AddConstModel(1));
  PublishVersion(Dir("one"), 1, AddConstModel(1));
  WriteFile(Dir("one") + "/config.pbtxt",
            "parameters { key: \"intra_op_thread_count\" value: { string_value: \"1\" } }\n");
  PublishVersion(Dir("three"), 1, AddConstModel(3));
  WriteFile(Dir("three") + "/config.pbtxt",
            "parameters { key: \"intra_op_thread_count\" value: { string_value: \"3\" } }\n");
  for (const auto& [model, count] : {std::pair<std::string, std::string>{"many", "many"},
                                     std::pair<std::string, std::string>{"negative", "-2"}}) {
    PublishVersion(Dir(model), 1, AddConstModel(1));
    WriteFile(Dir(model) + "/config.pbtxt",
              absl::StrCat("parameters { key: \"intra_op_thread_count\" value: { string_value: \"",
                           count, "\" } }\n"));
  }
  manager_ = Make();
  EXPECT_FALSE(manager_->LoadAll().ok());
  auto plain = manager_->Get("plain", "");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ((*plain)->predictor(0).intra_op_threads(), 0);
  auto one = manager_->Get("one", "");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ((*one)->predictor(0).intra_op_threads(), 1);
  auto three = manager_->Get("three", "");
  ASSERT_TRUE(three.ok()) << three.status();
  EXPECT_EQ((*three)->predictor(0).intra_op_threads(), 3);
  EXPECT_EQ(AddedConst(**three), 3.0f);
  // The failed loads keep their reasons in the repository index.
  EXPECT_FALSE(manager_->Get("many", "").ok());
  EXPECT_FALSE(manager_->Get("negative", "").ok());
  auto index = manager_->Index(false);
  const auto* many = FindIndex(index, "many", "1");
  ASSERT_NE(many, nullptr) << index.DebugString();
  EXPECT_TRUE(absl::StrContains(many->reason(), "'many' is not a number")) << many->reason();
  const auto* negative = FindIndex(index, "negative", "1");
  ASSERT_NE(negative, nullptr) << index.DebugString();
  EXPECT_TRUE(absl::StrContains(negative->reason(), "intra_op_threads must be"))
      << negative->reason();
}

TEST_F(ModelManagerTest, VersionPolicies) {
  for (const char* m : {"latest2", "all", "specific"}) {
    for (int v = 1; v <= 3; ++v) PublishVersion(Dir(m), v, AddConstModel(v));
  }
  WriteFile(Dir("latest2") + "/config.pbtxt", "version_policy { latest { num_versions: 2 } }");
  WriteFile(Dir("all") + "/config.pbtxt", "version_policy { all {} }");
  WriteFile(Dir("specific") + "/config.pbtxt",
            "version_policy { specific { versions: [1, 3, 9] } }");
  manager_ = Make();
  ASSERT_TRUE(manager_->LoadAll().ok());
  auto versions = [&](const std::string& m) {
    std::vector<int64_t> out;
    for (const auto& v : manager_->Versions(m)) out.push_back(v->version());
    return out;
  };
  EXPECT_EQ(versions("latest2"), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(versions("all"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(versions("specific"), (std::vector<int64_t>{1, 3}));
  auto v1 = manager_->Get("specific", "1");
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_EQ(AddedConst(**v1), 1.0f);
}

TEST_F(ModelManagerTest, UnknownModelVersionAndBadNames) {
  PublishVersion(Dir("add"), 1, AddConstModel(1));
  manager_ = Make();
  ASSERT_TRUE(manager_->LoadAll().ok());
  EXPECT_EQ(manager_->Get("nope", "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(manager_->Get("add", "7").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(manager_->Get("add", "abc").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->Get("add", "-1").status().code(), absl::StatusCode::kInvalidArgument);
  for (const char* bad : {"..", "../add", "a/b", "/etc", "a..b", ".hidden", ""}) {
    auto s = manager_->Get(bad, "");
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(manager_->Load(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(manager_->Unload(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(manager_->Get("add", "1").ok());
}

TEST_F(ModelManagerTest, DotPrefixedAndNonNumericFoldersAreIgnored) {
  PublishVersion(Dir("add"), 1, AddConstModel(1));
  WriteFile(Dir("add") + "/.tmp-5/model.onnx", AddConstModel(5));   // still being copied
  WriteFile(Dir("add") + "/latest/model.onnx", AddConstModel(6));   // not a version
  WriteFile(Dir(".staging") + "/1/model.onnx", AddConstModel(7));   // not a model
  manager_ = Make();
  ASSERT_TRUE(manager_->LoadAll().ok());
  auto v = manager_->Get("add", "");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)->version(), 1);
  auto index = manager_->Index(false);
  for (const auto& m : index.models()) EXPECT_NE(m.name(), ".staging");
  // Renaming into place publishes it.
  ASSERT_EQ(rename((Dir("add") + "/.tmp-5").c_str(), (Dir("add") + "/5").c_str()), 0);
  ASSERT_TRUE(manager_->Poll().ok());
  EXPECT_EQ(manager_->Get("add", "").value()->version(), 5);
}

TEST_F(ModelManagerTest, ConfigSyntaxErrorMakesThatModelUnavailableWhileOthersServe) {
  PublishVersion(Dir("good"), 1, AddConstModel(1));
  PublishVersion(Dir("broken"), 1, AddConstModel(1));
  WriteFile(Dir("broken") + "/config.pbtxt", "name: \"broken\"\nmax_batch_size: [\n");
  manager_ = Make();
  absl::Status s = manager_->LoadAll();
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(manager_->Get("good", "").ok());
  auto b = manager_->Get("broken", "");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(b.status().message(), "config.pbtxt:2:")) << b.status();
  auto index = manager_->Index(false);
  const auto* entry = FindIndex(index, "broken", "");
  ASSERT_NE(entry, nullptr) << index.DebugString();
  EXPECT_EQ(entry->state(), "UNAVAILABLE");
  EXPECT_TRUE(absl::StrContains(entry->reason(), "config.pbtxt:2:")) << entry->reason();
  EXPECT_EQ(MetricValue(*registry_, "cortado_model_load_failures_total",
                        {{"model", "broken"}, {"reason", "invalid_argument"}}),
            1);
  // Fixing the file brings it up at the next rescan.
  WriteFile(Dir("broken") + "/config.pbtxt", "name: \"broken\"\n");
  ASSERT_TRUE(manager_->Poll().ok());
  EXPECT_TRUE(manager_->Get("broken", "").ok());
  auto fixed_index = manager_->Index(false);
  EXPECT_EQ(FindIndex(fixed_index, "broken", ""), nullptr);
}

// A 200-byte NetDef whose init_net fills a [2^18, 2^20] tensor (1 TiB) ended the process with
// std::bad_alloc on the loader thread. Its load fails instead, before allocating, and the other
// model serves.
TEST_F(ModelManagerTest, ModelTooLargeForMemoryFailsItsLoad) {
  PublishVersion(Dir("good"), 1, AddConstModel(1));
  WriteFile(Dir("huge") + "/1/init_net.pb", R"pb(
    op {
      output: "w"
      type: "ConstantFill"
      arg {
        name: "shape"
        ints: [ 262144, 1048576 ]
      }
      arg { name: "value" f: 0.5 }
    }
  )pb");
  WriteFile(Dir("huge") + "/1/predict_net.pb", R"pb(
    external_input: [ "x", "w" ]
    external_output: "y"
    op {
      input: [ "x", "w" ]
      output: "y"
      type: "Add"
    }
  )pb");
  manager_ = Make();
  EXPECT_FALSE(manager_->LoadAll().ok());
  EXPECT_TRUE(manager_->Get("good", "").ok());
  auto index = manager_->Index(false);
  const auto* entry = FindIndex(index, "huge", "1");
  ASSERT_NE(entry, nullptr) << index.DebugString();
  EXPECT_EQ(entry->state(), "UNAVAILABLE");
  EXPECT_TRUE(absl::StrContains(entry->reason(), "out of memory")) << entry->reason();
}

// The availability test of the issue: publish v2 while requests run on v1; v1 serves until v2 is
// ready; requests in flight finish on v1, which is freed when the last ends; a corrupt v3 and a
// v4 with an unsupported operator leave v2 serving with the reason in the index and metrics.
TEST_F(ModelManagerTest, HotReloadPreservesAvailability) {
  PublishVersion(Dir("add"), 1, AddConstModel(1));
  manager_ = Make();
  ASSERT_TRUE(manager_->LoadAll().ok());

  std::shared_ptr<const ModelVersion> in_flight = manager_->Get("add", "").value();
  std::weak_ptr<const ModelVersion> v1_weak = in_flight;
  ASSERT_EQ(in_flight->version(), 1);

  // Requests run on other threads the whole time; each must get v1 or v2, never an error.
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0}, ran{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      while (!stop) {
        auto v = manager_->Get("add", "");
        if (!v.ok()) {
          ++errors;
          continue;
        }
        float y = AddedConst(**v);
        if (y != 1.0f && y != 2.0f) ++errors;
        ++ran;
      }
    });
  }
  PublishVersion(Dir("add"), 2, AddConstModel(2));
  EXPECT_EQ(manager_->Get("add", "").value()->version(), 1);  // not until the rescan
  ASSERT_TRUE(manager_->Poll().ok());
  EXPECT_EQ(manager_->Get("add", "").value()->version(), 2);
  // The request that started on v1 finishes on v1; v1 lives until it lets go.
  EXPECT_EQ(AddedConst(*in_flight), 1.0f);
  EXPECT_FALSE(v1_weak.expired());

  // A corrupt v3 leaves v2 serving, with the reason in the index and the metrics.
  PublishVersion(Dir("add"), 3, "this is not an onnx model");
  absl::Status s = manager_->Poll();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(manager_->Get("add", "").value()->version(), 2);
  auto index = manager_->Index(false);
  const auto* v3 = FindIndex(index, "add", "3");
  ASSERT_NE(v3, nullptr) << index.DebugString();
  EXPECT_EQ(v3->state(), "UNAVAILABLE");
  EXPECT_FALSE(v3->reason().empty());
  const auto* v2 = FindIndex(index, "add", "2");
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(v2->state(), "READY");
  EXPECT_EQ(MetricValue(*registry_, "cortado_model_load_failures_total",
                        {{"model", "add"}, {"version", "3"}}),
            1);
  // An unchanged failure is not retried (nor counted again) at each rescan.
  EXPECT_TRUE(manager_->Poll().ok());
  EXPECT_EQ(MetricValue(*registry_, "cortado_model_load_failures_total",
                        {{"model", "add"}, {"version", "3"}}),
            1);

  // An unsupported operator: same, and the reason names it.
  PublishVersion(Dir("add"), 4, UnsupportedOpModel());
  EXPECT_FALSE(manager_->Poll().ok());
  EXPECT_EQ(manager_->Get("add", "").value()->version(), 2);
  auto index1 = manager_->Index(false);
  const auto* v4 = FindIndex(index1, "add", "4");
  ASSERT_NE(v4, nullptr);
  EXPECT_TRUE(absl::StrContains(manager_->Index(false).DebugString(), "NoSuchOp"))
      << manager_->Index(false).DebugString();

  // On a loaded machine the clients may not have been scheduled yet: give them up to 10 s.
  for (int i = 0; i < 1000 && ran.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GT(ran.load(), 0);

  in_flight.reset();
  EXPECT_TRUE(v1_weak.expired());  // freed with its last request

  // A good v5 takes over; removing it falls back to v2 (v3 and v4 still fail).
  PublishVersion(Dir("add"), 5, AddConstModel(5));
  ASSERT_TRUE(manager_->Poll().ok());
  EXPECT_EQ(AddedConst(*manager_->Get("add", "").value()), 5.0f);
  RemoveTree(Dir("add") + "/5");
  manager_->Poll().IgnoreError();
  EXPECT_EQ(manager_->Get("add", "").value()->version(), 2);
}

TEST_F(ModelManagerTest, BadConfigOnReloadKeepsTheLoadedVersion) {
  PublishVersion(Dir("add"), 1, AddConstModel(1));
  manager_ = Make();
  ASSERT_TRUE(manager_->LoadAll().ok());
  // A configuration that does not match the model (semantic error): the reload fails.
  WriteFile(Dir("add") + "/config.pbtxt",
            "input [ { name: \"nope\" data_type: TYPE_FP32 dims: [ -1, 4 ] } ]");
  absl::Status s = manager_->Poll();
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "'nope'")) << s;
  auto v = manager_->Get("add", "");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(AddedConst(**v), 1.0f);
  auto index2 = manager_->Index(false);
  const auto* entry = FindIndex(index2, "add", "1");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->state(), "READY");
  EXPECT_TRUE(absl::StrContains(entry->reason(), "reload failed")) << entry->reason();
  // A syntax error now: the loaded version keeps serving; the index shows the reason.
  WriteFile(Dir("add") + "/config.pbtxt", "input [");
  EXPECT_FALSE(manager_->Poll().ok());
  EXPECT_TRUE(manager_->Get("add", "").ok());
  auto index3 = manager_->Index(false);
  const auto* model_entry = FindIndex(index3, "add", "");
  ASSERT_NE(model_entry, nullptr);
  EXPECT_TRUE(absl::StrContains(model_entry->reason(), "config.pbtxt")) << model_entry->reason();
}

TEST_F(ModelManagerTest, ModelFolderRemovedIsUnloaded) {
  PublishVersion(Dir("a"), 1, AddConstModel(1));
  PublishVersion(Dir("b"), 1, AddConstModel(1));
  manager_ = Make();
  ASSERT_TRUE(manager_->LoadAll().ok());
  RemoveTree(Dir("a"));
  ASSERT_TRUE(manager_->Poll().ok());
  EXPECT_EQ(manager_->Get("a", "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(manager_->Get("b", "").ok());
  EXPECT_EQ(manager_->ServingModels(), std::vector<std::string>{"b"});
}

TEST_F(ModelManagerTest, ExplicitLoadAndUnload) {
  PublishVersion(Dir("add"), 1, AddConstModel(1));
  manager_ = Make();
  // Nothing loaded yet: the index lists the model by name only.
  auto index = manager_->Index(false);
  ASSERT_EQ(index.models_size(), 1);
  EXPECT_EQ(index.models(0).name(), "add");
  EXPECT_EQ(index.models(0).state(), "");
  EXPECT_EQ(manager_->Get("add", "").status().code(), absl::StatusCode::kNotFound);

  ASSERT_TRUE(manager_->Load("add").ok());
  EXPECT_TRUE(manager_->Get("add", "").ok());
  EXPECT_EQ(manager_->Index(true).models_size(), 1);

  std::shared_ptr<const ModelVersion> held = manager_->Get("add", "").value();
  ASSERT_TRUE(manager_->Unload("add").ok());
  EXPECT_EQ(manager_->Get("add", "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(AddedConst(*held), 1.0f);  // a request in flight still finishes
  auto index4 = manager_->Index(false);
  const auto* entry = FindIndex(index4, "add", "1");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->state(), "UNAVAILABLE");
  EXPECT_EQ(entry->reason(), "unloaded");
  EXPECT_EQ(manager_->Index(true).models_size(), 0);

  EXPECT_EQ(manager_->Load("missing").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(manager_->Unload("missing").code(), absl::StatusCode::kNotFound);

  // A failed explicit load reports the reason and leaves the loaded version serving.
  ASSERT_TRUE(manager_->Load("add").ok());
  PublishVersion(Dir("add"), 2, "garbage");
  absl::Status s = manager_->Load("add");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "version 2")) << s;
  EXPECT_EQ(manager_->Get("add", "").value()->version(), 1);
}

TEST_F(ModelManagerTest, PollThreadPicksUpNewVersions) {
  PublishVersion(Dir("add"), 1, AddConstModel(1));
  manager_ = Make(/*poll=*/true, /*poll_secs=*/1);
  ASSERT_TRUE(manager_->LoadAll().ok());
  PublishVersion(Dir("add"), 2, AddConstModel(2));
  // Wait (generously) for the background rescan; no timing is asserted.
  for (int i = 0; i < 600 && manager_->Get("add", "").value()->version() != 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(manager_->Get("add", "").value()->version(), 2);
}

TEST_F(ModelManagerTest, StoppedManagerRefusesLoads) {
  PublishVersion(Dir("add"), 1, AddConstModel(1));
  manager_ = Make();
  ASSERT_TRUE(manager_->LoadAll().ok());
  manager_->Stop();
  EXPECT_EQ(manager_->Load("add").code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(manager_->Get("add", "").ok());  // what is loaded keeps serving
}

}  // namespace
}  // namespace cortado
