// The plan's device plumbing, checked with a fake device: a backend whose "device memory" is host
// memory from its own allocator (Device{kPlugin, 7}) and whose kernels are the reference ones,
// wrapped to refuse any input that is not where the plan promised (the device, or the host for
// the inputs a kernel reads there). Copies must be inserted exactly where a value crosses between
// the host and the device, weights uploaded once at load, each run gets its own queue, and the
// results equal the reference plan's.
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <set>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "ops/op_test_util.h"
#include "predictor/executor.h"
#include "predictor/predictor.h"

namespace cortado {
namespace {

constexpr Device kFake{DeviceType::kPlugin, 7};

struct Counters {
  std::atomic<int> allocations{0}, uploads{0}, downloads{0}, streams{0}, syncs{0}, unsynced{0};
};
Counters& counters() {
  static Counters* c = new Counters();
  return *c;
}

class FakeAllocator final : public Allocator {
 public:
  Device device() const override { return kFake; }
  void* Allocate(size_t nbytes) override {
    ++counters().allocations;
    return std::aligned_alloc(kAlignment, (nbytes + kAlignment) / kAlignment * kAlignment);
  }
  void Free(void* ptr) override { std::free(ptr); }
};

// Counts the copies enqueued since the last Sync: a download must be waited for before the host
// reads it.
class FakeStream final : public Stream {
 public:
  std::atomic<int> pending{0};
};

absl::Status Expect(const Tensor& t, Device device, const char* what) {
  if (t.device() != device) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " is on ", t.device().ToString(), ", expected ", device.ToString()));
  }
  return absl::OkStatus();
}

class FakeKernel final : public Kernel {
 public:
  FakeKernel(std::unique_ptr<Kernel> inner, std::set<int> host_inputs)
      : inner_(std::move(inner)), host_inputs_(std::move(host_inputs)) {}
  absl::Status Compute(KernelContext& ctx) const override {
    if (dynamic_cast<FakeStream*>(ctx.stream()) == nullptr) {
      return absl::FailedPreconditionError("no queue of the fake device in the context");
    }
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      if (ctx.input(i) == nullptr) continue;
      RETURN_IF_ERROR(Expect(*ctx.input(i), host_inputs_.count(i) ? Device{} : kFake, "input"));
    }
    RETURN_IF_ERROR(inner_->Compute(ctx));
    for (int i = 0; i < ctx.num_outputs(); ++i)
      RETURN_IF_ERROR(Expect(ctx.output(i), kFake, "output"));
    return absl::OkStatus();
  }
  bool InputOnHost(int i) const override { return host_inputs_.count(i) > 0; }

 private:
  std::unique_ptr<Kernel> inner_;
  std::set<int> host_inputs_;
};

// Runs Relu, Add, MatMul and Reshape (its shape read on the host).
class FakeDevice final : public Backend {
 public:
  std::string name() const override { return "fake_device"; }
  int priority() const override { return 100; }
  Device device() const override { return kFake; }
  Allocator* allocator() const override {
    static FakeAllocator* allocator = new FakeAllocator();
    return allocator;
  }
  bool Supports(const KernelInfo& node) const override {
    static const std::set<std::string> ops = {"Relu", "Add", "MatMul", "Reshape"};
    return node.domain.empty() && ops.count(node.op_type) > 0;
  }
  absl::StatusOr<std::unique_ptr<Kernel>> CreateKernel(const KernelInfo& node) const override {
    ASSIGN_OR_RETURN(std::unique_ptr<Kernel> inner,
                     BackendRegistry::Global().Find(kCpuBackend)->CreateKernel(node));
    std::set<int> host_inputs;
    if (node.op_type == "Reshape") host_inputs.insert(1);
    return std::unique_ptr<Kernel>(new FakeKernel(std::move(inner), std::move(host_inputs)));
  }
  absl::StatusOr<std::unique_ptr<Stream>> CreateStream() const override {
    ++counters().streams;
    return std::unique_ptr<Stream>(new FakeStream());
  }
  absl::Status CopyFromHost(const Tensor& src, Tensor& dst, Stream* stream) const override {
    RETURN_IF_ERROR(Expect(src, Device{}, "upload source"));
    RETURN_IF_ERROR(Expect(dst, kFake, "upload destination"));
    ++counters().uploads;
    if (stream != nullptr) ++static_cast<FakeStream*>(stream)->pending;
    return Backend::CopyFromHost(src, dst, stream);
  }
  absl::Status CopyToHost(const Tensor& src, Tensor& dst, Stream* stream) const override {
    RETURN_IF_ERROR(Expect(src, kFake, "download source"));
    RETURN_IF_ERROR(Expect(dst, Device{}, "download destination"));
    if (stream == nullptr) return absl::InvalidArgumentError("a run's download without a queue");
    ++counters().downloads;
    ++static_cast<FakeStream*>(stream)->pending;
    return Backend::CopyToHost(src, dst, stream);
  }
  absl::Status Sync(Stream* stream) const override {
    ++counters().syncs;
    static_cast<FakeStream*>(stream)->pending = 0;
    return absl::OkStatus();
  }
};

CORTADO_REGISTER_BACKEND(FakeDevice);

// x -> Relu a (device) -> Sigmoid b (host) -> Add(b, w) c (device) -> Reshape(c, shape) r
// (device, shape on the host) -> MatMul(r, m) y (device); Relu's a is read again by the host
// (Neg n), and both y and n are outputs. Both a and x are read twice on the other side, and must
// be copied once each.
Graph Mixed() {
  Graph g;
  g.opsets[""] = 17;
  g.inputs.push_back({"x", {DType::kFloat32, Shape{4, 6}}});
  std::vector<float> w(24), m(12);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.1f * i - 1.0f;
  for (size_t i = 0; i < m.size(); ++i) m[i] = std::cos(0.3f * i);
  g.initializers["w"] = Tensor::FromVector<float>(w, {4, 6});
  g.initializers["m"] = Tensor::FromVector<float>(m, {4, 3});
  g.initializers["shape"] = Tensor::FromVector<int64_t>({6, 4}, {2});
  g.nodes = {
      {"a", "Relu", "", {"x"}, {"a"}, {}},        {"b", "Sigmoid", "", {"a"}, {"b"}, {}},
      {"c", "Add", "", {"b", "w"}, {"c"}, {}},    {"r", "Reshape", "", {"c", "shape"}, {"r"}, {}},
      {"y", "MatMul", "", {"r", "m"}, {"y"}, {}}, {"n", "Neg", "", {"a"}, {"n"}, {}},
      {"x2", "Add", "", {"x", "x"}, {"x2"}, {}}};
  g.outputs = {{"y", {}}, {"n", {}}, {"x2", {}}};
  return g;
}

std::unique_ptr<Plan> Build(std::vector<std::string> backends) {
  PlanOptions options;
  options.backends = std::move(backends);
  options.graph_level = -1;  // keep every node where the test put it
  auto plan = Plan::Build(Mixed(), options);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return *std::move(plan);
}

// Each step as "op_type@device of its first output".
std::vector<std::string> Steps(const Plan& plan) {
  std::vector<std::string> out;
  for (const PlanStep& step : plan.steps()) {
    out.push_back(absl::StrCat(step.op_type, "@", plan.device(step.outputs[0]).ToString()));
  }
  return out;
}

TEST(DevicePlanTest, CopiesExactlyWhereAValueCrosses) {
  const int uploads_before = counters().uploads;
  std::unique_ptr<Plan> plan = Build({"fake_device"});
  // Weights w and m went up once, at load; the shape stays on the host for Reshape.
  EXPECT_EQ(counters().uploads - uploads_before, 2);
  EXPECT_EQ(Steps(*plan),
            (std::vector<std::string>{
                "CopyFromHost@plugin:7",  // x, for Relu and for x2's Add
                "Relu@plugin:7",
                "CopyToHost@cpu:0",  // a, for Sigmoid and Neg
                "Sigmoid@cpu:0",
                "CopyFromHost@plugin:7",  // b
                "Add@plugin:7", "Reshape@plugin:7", "MatMul@plugin:7", "Neg@cpu:0", "Add@plugin:7",
                "CopyToHost@cpu:0",  // y, an output
                "CopyToHost@cpu:0",  // x2, an output
            }));
  for (const PlanStep& step : plan->steps()) {
    // Queues: the device's steps and every copy use the run's fake queue; host steps none.
    const bool device_work = step.backend->name() == "fake_device" || step.op_type == "CopyToHost";
    EXPECT_EQ(step.stream, device_work ? 0 : -1) << step.node_name;
    if (absl::StartsWith(step.op_type, "Copy")) {  // from the other side
      EXPECT_NE(plan->device(step.inputs[0]), plan->device(step.outputs[0])) << step.node_name;
      continue;
    }
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      const bool on_host =
          step.backend->device() == Device{} || step.kernel->InputOnHost(static_cast<int>(i));
      EXPECT_EQ(plan->device(step.inputs[i]), on_host ? Device{} : kFake)
          << step.node_name << " input " << i;
    }
  }
  ASSERT_EQ(plan->stream_backends().size(), 1u);
  for (int slot : plan->output_slots()) EXPECT_EQ(plan->device(slot), Device{});
  // The weights the device reads are its copies; the host originals are dropped.
  const Tensor& w = plan->constants()[plan->steps()[5].inputs[1]];
  EXPECT_EQ(w.device(), kFake);
  EXPECT_FALSE(plan->constants()[plan->SlotOf("w")].defined());
  EXPECT_TRUE(plan->constants()[plan->SlotOf("shape")].defined());
}

TEST(DevicePlanTest, ResultsMatchTheReferenceOnEveryExecutor) {
  std::unique_ptr<Plan> reference = Build({"cpu"});
  std::unique_ptr<Plan> device = Build({"fake_device"});
  for (const PlanStep& step : reference->steps()) EXPECT_EQ(step.backend->name(), kCpuBackend);
  Tensor x = Tensor::Create(DType::kFloat32, {4, 6}).value();
  for (int64_t i = 0; i < x.num_elements(); ++i) x.data<float>()[i] = std::sin(0.7f * i);
  for (const char* name : {"simple", "dag"}) {
    SCOPED_TRACE(name);
    auto executor = MakeExecutor(name).value();
    std::vector<Tensor> want, got;
    for (Plan* plan : {reference.get(), device.get()}) {
      const int streams_before = counters().streams, syncs_before = counters().syncs;
      Workspace ws(*plan);
      ws.blob(plan->input_slots()[0]) = x;
      ASSERT_TRUE(executor->Run(ws).ok());
      if (plan == device.get()) {
        EXPECT_EQ(counters().streams - streams_before, 1);  // one queue for this run
        // Each download waits (3), then the run waits for its queue once more.
        EXPECT_EQ(counters().syncs - syncs_before, 4);
      }
      for (int slot : plan->output_slots()) {
        EXPECT_EQ(ws.blob(slot).device(), Device{});
        (plan == device.get() ? got : want).push_back(ws.blob(slot));
      }
    }
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(CompareTensors(got[i], want[i], 0, 0), "");
  }
}

TEST(DevicePlanTest, PredictorRunsWithTheMemoryPlan) {
  // The recorded first run must leave device values out of the host arena; later runs use it.
  PredictorOptions options;
  options.plan.backends = {"fake_device"};
  options.plan.graph_level = -1;
  auto device = Predictor::FromGraph(Mixed(), options).value();
  options.plan.backends = {"cpu"};
  auto reference = Predictor::FromGraph(Mixed(), options).value();
  for (int run = 0; run < 3; ++run) {
    Tensor x = Tensor::Create(DType::kFloat32, {4, 6}).value();
    for (int64_t i = 0; i < x.num_elements(); ++i) x.data<float>()[i] = std::cos(0.3f * i + run);
    auto got = device->Run({{"x", x}});
    auto want = reference->Run({{"x", x}});
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_TRUE(want.ok()) << want.status();
    for (const auto& [name, t] : *want)
      EXPECT_EQ(CompareTensors(got->at(name), t, 0, 0), "") << name;
  }
}

// y = Loop 3 times { v = Relu(v + a) } from v = x, where a = Relu(x) is made on the device
// outside and read by the body as an outer-scope value: the body's own plan copies it back to
// the device, and its outputs come home for the Loop.
Graph WithLoop() {
  Graph body;
  body.opsets[""] = 17;
  body.inputs = {{"i", {DType::kInt64, Shape{}}},
                 {"cond_in", {DType::kBool, Shape{}}},
                 {"v_in", {DType::kFloat32, Shape{4, 6}}}};
  body.nodes = {{"s", "Add", "", {"v_in", "a"}, {"s"}, {}},
                {"v", "Relu", "", {"s"}, {"v_out"}, {}},
                {"c", "Identity", "", {"cond_in"}, {"cond_out"}, {}}};
  body.outputs = {{"cond_out", {}}, {"v_out", {}}};
  Graph g;
  g.opsets[""] = 17;
  g.inputs.push_back({"x", {DType::kFloat32, Shape{4, 6}}});
  g.initializers["m"] = Tensor::Scalar<int64_t>(3);
  Node loop{"loop", "Loop", "", {"m", "", "x"}, {"y"}, {}};
  loop.attrs.Set("body", SubgraphAttr{std::make_shared<const Graph>(std::move(body))});
  AddOuterInputs(loop);
  EXPECT_EQ(loop.inputs, (std::vector<std::string>{"m", "", "x", "a"}));
  g.nodes = {{"a", "Relu", "", {"x"}, {"a"}, {}}, std::move(loop)};
  g.outputs = {{"y", {}}};
  return g;
}

TEST(DevicePlanTest, SubgraphsRunOnTheDeviceWithTheMemoryPlan) {
  PredictorOptions options;
  options.plan.backends = {"fake_device"};
  auto device = Predictor::FromGraph(WithLoop(), options).value();
  options.plan.backends = {"cpu"};
  auto reference = Predictor::FromGraph(WithLoop(), options).value();
  for (int run = 0; run < 3; ++run) {
    Tensor x = Tensor::Create(DType::kFloat32, {4, 6}).value();
    for (int64_t i = 0; i < x.num_elements(); ++i) x.data<float>()[i] = std::sin(0.4f * i - run);
    const int downloads_before = counters().downloads;
    auto got = device->Run({{"x", x}});
    ASSERT_TRUE(got.ok()) << got.status();
    // a comes home for the Loop once, and each of the 3 iterations brings v_out home.
    EXPECT_EQ(counters().downloads - downloads_before, 4);
    auto want = reference->Run({{"x", x}});
    ASSERT_TRUE(want.ok()) << want.status();
    EXPECT_EQ(got->at("y").device(), Device{});
    EXPECT_EQ(CompareTensors(got->at("y"), want->at("y"), 0, 0), "");
  }
}

}  // namespace
}  // namespace cortado
