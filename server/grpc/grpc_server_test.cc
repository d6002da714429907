// The gRPC adapter on a real port, driven with the generated stub, in front of a scripted
// InferenceService whose Infer completes on its own worker thread.
#include "server/grpc/grpc_server.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <map>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "grpc_service.grpc.pb.h"
#include "gtest/gtest.h"
#include "server/wire/kserve_wire.h"

namespace cortado {
namespace {

// Model "double": FP32 input "x" -> FP32 output "y" = 2x. Infer queues requests for one worker
// thread, which completes them while the gate is open.
class ScriptedService final : public InferenceService {
 public:
  ScriptedService() : InferenceService(ServiceOptions{}) {
    worker_ = std::thread([this] { Work(); });
  }
  ~ScriptedService() override {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      gate_open_ = true;
    }
    worker_.join();
  }

  bool Live() const override { return true; }
  bool Ready() const override { return ready_; }
  inference::ServerMetadataResponse ServerMetadata() const override {
    inference::ServerMetadataResponse r;
    r.set_name("cortado");
    r.set_version("test");
    return r;
  }
  bool ModelReady(const std::string& name, const std::string& version) const override {
    return name == "double" && (version.empty() || version == "1");
  }
  absl::StatusOr<inference::ModelMetadataResponse> ModelMetadata(
      const std::string& name, const std::string&) const override {
    if (name != "double") return absl::NotFoundError("unknown model '" + name + "'");
    inference::ModelMetadataResponse r;
    r.set_name(name);
    r.add_versions("1");
    r.set_platform("onnxruntime_onnx");
    return r;
  }
  absl::StatusOr<inference::ModelConfigResponse> ModelConfig(const std::string& name,
                                                             const std::string&) const override {
    if (name != "double") return absl::NotFoundError("unknown model '" + name + "'");
    inference::ModelConfigResponse r;
    r.mutable_config()->set_name(name);
    r.mutable_config()->set_max_batch_size(8);
    return r;
  }
  absl::StatusOr<inference::ModelStatisticsResponse> ModelStatistics(
      const std::string&, const std::string&) const override {
    inference::ModelStatisticsResponse r;
    r.add_model_stats()->set_name("double");
    return r;
  }
  inference::RepositoryIndexResponse RepositoryIndex(bool ready_only) const override {
    inference::RepositoryIndexResponse r;
    auto* m = r.add_models();
    m->set_name("double");
    m->set_state("READY");
    if (!ready_only) {
      m = r.add_models();
      m->set_name("broken");
      m->set_state("UNAVAILABLE");
      m->set_reason("config.pbtxt:3: syntax error");
    }
    return r;
  }
  absl::Status LoadModel(const std::string& name) override {
    load_thread_ = std::this_thread::get_id();
    if (name == "broken") return absl::InvalidArgumentError("config.pbtxt:3: syntax error");
    return absl::OkStatus();
  }
  absl::Status UnloadModel(const std::string& name) override {
    if (name != "double") return absl::NotFoundError("unknown model '" + name + "'");
    return absl::OkStatus();
  }
  void Infer(InferRequest request, InferCallback done) override {
    infer_calls_++;
    absl::MutexLock lock(&mu_);
    queue_.emplace_back(std::move(request), std::move(done));
    ++queued_total_;
  }
  void Shutdown(std::chrono::milliseconds) override {}

  void SetReady(bool ready) { ready_ = ready; }
  void SetGate(bool open) {
    absl::MutexLock lock(&mu_);
    gate_open_ = open;
  }
  // Waits until `n` requests have been queued in total (false after 30 s).
  bool AwaitQueued(int n) {
    std::pair<ScriptedService*, int> arg(this, n);
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(
                                    +[](std::pair<ScriptedService*, int>* a) {
                                      a->first->mu_.AssertHeld();
                                      return a->first->queued_total_ >= a->second;
                                    },
                                    &arg),
                                absl::Seconds(30));
  }
  int pending() {
    absl::MutexLock lock(&mu_);
    return static_cast<int>(queue_.size());
  }
  int infer_calls() const { return infer_calls_; }
  std::thread::id worker_id() const { return worker_.get_id(); }
  std::thread::id load_thread() const { return load_thread_; }
  std::thread::id done_thread() {
    absl::MutexLock lock(&mu_);
    return done_thread_;
  }

 private:
  static absl::StatusOr<InferResponse> Compute(const InferRequest& request) {
    if (request.model_name != "double") {
      return absl::NotFoundError("unknown model '" + request.model_name + "'");
    }
    if (request.inputs.size() != 1 || request.inputs[0].first != "x") {
      return absl::InvalidArgumentError("model 'double' has one input, 'x'");
    }
    const Tensor& x = request.inputs[0].second;
    if (x.dtype() != DType::kFloat32) {
      return absl::InvalidArgumentError("input 'x' wants FP32, got " +
                                        std::string(KServeDatatype(x.dtype())));
    }
    Tensor y = x.Clone();
    for (int64_t i = 0; i < y.num_elements(); ++i) y.data<float>()[i] *= 2;
    InferResponse r;
    r.model_name = "double";
    r.model_version = "1";
    r.id = request.id;
    r.outputs.emplace_back("y", y);
    return r;
  }

  void Work() {
    for (;;) {
      std::pair<InferRequest, InferCallback> item;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](ScriptedService* s) {
              s->mu_.AssertHeld();
              return s->stopping_ || (s->gate_open_ && !s->queue_.empty());
            },
            this));
        if (queue_.empty()) return;
        item = std::move(queue_.front());
        queue_.pop_front();
        done_thread_ = std::this_thread::get_id();
      }
      item.second(Compute(item.first));
    }
  }

  std::atomic<bool> ready_{true};
  std::atomic<int> infer_calls_{0};
  std::atomic<std::thread::id> load_thread_{};
  absl::Mutex mu_;
  std::deque<std::pair<InferRequest, InferCallback>> queue_ ABSL_GUARDED_BY(mu_);
  int queued_total_ ABSL_GUARDED_BY(mu_) = 0;
  bool gate_open_ ABSL_GUARDED_BY(mu_) = true;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread::id done_thread_ ABSL_GUARDED_BY(mu_);
  std::thread worker_;
};

std::string RawOf(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

inference::ModelInferRequest DoubleRequest(const std::vector<float>& x, const std::string& id) {
  inference::ModelInferRequest r;
  r.set_model_name("double");
  r.set_id(id);
  auto* in = r.add_inputs();
  in->set_name("x");
  in->set_datatype("FP32");
  in->add_shape(1);
  in->add_shape(static_cast<int64_t>(x.size()));
  r.add_raw_input_contents(RawOf(x));
  return r;
}

std::vector<float> FloatsOf(const std::string& raw) {
  std::vector<float> v(raw.size() / sizeof(float));
  std::memcpy(v.data(), raw.data(), raw.size());
  return v;
}

class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GrpcOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    auto server = GrpcServer::Start(&service_, options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_GT(server_->port(), 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = inference::GRPCInferenceService::NewStub(channel_);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::milliseconds(1000));
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return ctx;
  }

  // grpc.health.v1.Health/Check with an empty request: the status value (1 SERVING, 2 NOT_SERVING).
  int HealthStatus() {
    grpc::GenericStub stub(channel_);
    grpc::ByteBuffer request, response;
    grpc::Slice empty("");
    request = grpc::ByteBuffer(&empty, 1);
    auto ctx = Context();
    absl::Notification done;
    grpc::Status status;
    stub.UnaryCall(ctx.get(), "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                   &response, [&](grpc::Status s) {
                     status = s;
                     done.Notify();
                   });
    done.WaitForNotification();
    if (!status.ok()) return -1;
    std::vector<grpc::Slice> slices;
    EXPECT_TRUE(response.Dump(&slices).ok());
    std::string bytes;
    for (auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    if (bytes.empty()) return 0;
    return bytes.size() == 2 && bytes[0] == 0x08 ? bytes[1] : -2;
  }

  ScriptedService service_;
  std::unique_ptr<GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

TEST_F(GrpcServerTest, HealthMetadataConfigIndex) {
  {
    inference::ServerLiveResponse r;
    ASSERT_TRUE(stub_->ServerLive(Context().get(), {}, &r).ok());
    EXPECT_TRUE(r.live());
  }
  {
    inference::ServerReadyResponse r;
    ASSERT_TRUE(stub_->ServerReady(Context().get(), {}, &r).ok());
    EXPECT_TRUE(r.ready());
  }
  {
    inference::ModelReadyRequest q;
    q.set_name("double");
    inference::ModelReadyResponse r;
    ASSERT_TRUE(stub_->ModelReady(Context().get(), q, &r).ok());
    EXPECT_TRUE(r.ready());
    q.set_version("9");
    ASSERT_TRUE(stub_->ModelReady(Context().get(), q, &r).ok());
    EXPECT_FALSE(r.ready());
  }
  {
    inference::ServerMetadataResponse r;
    ASSERT_TRUE(stub_->ServerMetadata(Context().get(), {}, &r).ok());
    EXPECT_EQ(r.name(), "cortado");
  }
  {
    inference::ModelMetadataRequest q;
    q.set_name("double");
    inference::ModelMetadataResponse r;
    ASSERT_TRUE(stub_->ModelMetadata(Context().get(), q, &r).ok());
    EXPECT_EQ(r.platform(), "onnxruntime_onnx");
    q.set_name("nope");
    grpc::Status s = stub_->ModelMetadata(Context().get(), q, &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(s.error_message(), "unknown model 'nope'");
  }
  {
    inference::ModelConfigRequest q;
    q.set_name("double");
    inference::ModelConfigResponse r;
    ASSERT_TRUE(stub_->ModelConfig(Context().get(), q, &r).ok());
    EXPECT_EQ(r.config().max_batch_size(), 8);
  }
  {
    inference::ModelStatisticsResponse r;
    ASSERT_TRUE(stub_->ModelStatistics(Context().get(), {}, &r).ok());
    EXPECT_EQ(r.model_stats_size(), 1);
  }
  {
    inference::RepositoryIndexRequest q;
    inference::RepositoryIndexResponse r;
    ASSERT_TRUE(stub_->RepositoryIndex(Context().get(), q, &r).ok());
    ASSERT_EQ(r.models_size(), 2);
    EXPECT_EQ(r.models(1).reason(), "config.pbtxt:3: syntax error");
    q.set_ready(true);
    ASSERT_TRUE(stub_->RepositoryIndex(Context().get(), q, &r).ok());
    EXPECT_EQ(r.models_size(), 1);
  }
}

TEST_F(GrpcServerTest, HealthServiceFollowsReadiness) {
  EXPECT_EQ(HealthStatus(), 1);  // SERVING
  service_.SetReady(false);
  int status = 0;
  for (int i = 0; i < 300 && (status = HealthStatus()) != 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 2);  // NOT_SERVING
  inference::ServerReadyResponse r;
  ASSERT_TRUE(stub_->ServerReady(Context().get(), {}, &r).ok());
  EXPECT_FALSE(r.ready());
  service_.SetReady(true);
  for (int i = 0; i < 300 && (status = HealthStatus()) != 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 1);
}

TEST_F(GrpcServerTest, InferCompletesOnTheServiceWorker) {
  inference::ModelInferResponse r;
  grpc::Status s = stub_->ModelInfer(Context().get(), DoubleRequest({1, 2, 3}, "id-1"), &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.model_name(), "double");
  EXPECT_EQ(r.model_version(), "1");
  EXPECT_EQ(r.id(), "id-1");
  ASSERT_EQ(r.outputs_size(), 1);
  EXPECT_EQ(r.outputs(0).name(), "y");
  EXPECT_EQ(r.outputs(0).datatype(), "FP32");
  ASSERT_EQ(r.raw_output_contents_size(), 1);
  EXPECT_EQ(FloatsOf(r.raw_output_contents(0)), (std::vector<float>{2, 4, 6}));
  EXPECT_EQ(service_.done_thread(), service_.worker_id());
}

// With the worker held, many calls are all inside the service at once: no handler waits for
// its inference on a gRPC thread. Then they all complete.
TEST_F(GrpcServerTest, ConcurrentCallsAreHandedOff) {
  constexpr int kCalls = 32;
  service_.SetGate(false);
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < kCalls; ++i) {
    clients.emplace_back([&, i] {
      inference::ModelInferResponse r;
      if (stub_->ModelInfer(Context().get(), DoubleRequest({float(i)}, std::to_string(i)), &r)
              .ok() &&
          r.id() == std::to_string(i) && FloatsOf(r.raw_output_contents(0))[0] == 2.0f * i) {
        ok++;
      }
    });
  }
  EXPECT_TRUE(service_.AwaitQueued(kCalls));
  EXPECT_EQ(service_.pending(), kCalls);
  // The server still answers other calls meanwhile.
  inference::ServerLiveResponse live;
  EXPECT_TRUE(stub_->ServerLive(Context().get(), {}, &live).ok());
  service_.SetGate(true);
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kCalls);
}

TEST_F(GrpcServerTest, BadRequestsGetClearErrorsAndTheServerStaysUp) {
  inference::ModelInferResponse r;
  // Raw size mismatch: rejected by the adapter before the service sees it.
  auto bad_raw = DoubleRequest({1, 2, 3}, "");
  bad_raw.mutable_raw_input_contents(0)->pop_back();
  grpc::Status s = stub_->ModelInfer(Context().get(), bad_raw, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("the data is 11 bytes, but shape [1,3] of FP32 needs 12"),
            std::string::npos)
      << s.error_message();
  EXPECT_EQ(service_.infer_calls(), 0);
  // Errors from the service keep their code and message.
  auto unknown = DoubleRequest({1}, "");
  unknown.set_model_name("nope");
  s = stub_->ModelInfer(Context().get(), unknown, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "unknown model 'nope'");
  auto wrong_name = DoubleRequest({1}, "");
  wrong_name.mutable_inputs(0)->set_name("z");
  s = stub_->ModelInfer(Context().get(), wrong_name, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "model 'double' has one input, 'x'");
  // Load with parameters is not supported; a failed load keeps its reason.
  inference::RepositoryModelLoadRequest load;
  load.set_model_name("double");
  (*load.mutable_parameters())["config"].set_string_param("{}");
  inference::RepositoryModelLoadResponse load_r;
  s = stub_->RepositoryModelLoad(Context().get(), load, &load_r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  load.clear_parameters();
  load.set_model_name("broken");
  s = stub_->RepositoryModelLoad(Context().get(), load, &load_r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "config.pbtxt:3: syntax error");
  // Still serving.
  s = stub_->ModelInfer(Context().get(), DoubleRequest({5}, ""), &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(FloatsOf(r.raw_output_contents(0))[0], 10.0f);
}

TEST_F(GrpcServerTest, LoadAndUnloadRunOffTheGrpcThreads) {
  inference::RepositoryModelLoadRequest load;
  load.set_model_name("double");
  inference::RepositoryModelLoadResponse load_r;
  grpc::Status s = stub_->RepositoryModelLoad(Context().get(), load, &load_r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_NE(service_.load_thread(), std::thread::id());
  EXPECT_NE(service_.load_thread(), std::this_thread::get_id());
  inference::RepositoryModelUnloadRequest unload;
  unload.set_model_name("nope");
  inference::RepositoryModelUnloadResponse unload_r;
  s = stub_->RepositoryModelUnload(Context().get(), unload, &unload_r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  unload.set_model_name("double");
  EXPECT_TRUE(stub_->RepositoryModelUnload(Context().get(), unload, &unload_r).ok());
}

TEST_F(GrpcServerTest, StreamInferAnswersEveryRequestAndReportsErrorsInBand) {
  auto ctx = Context();
  auto stream = stub_->ModelStreamInfer(ctx.get());
  ASSERT_TRUE(stream->Write(DoubleRequest({1}, "a")));
  auto bad = DoubleRequest({1}, "b");
  bad.mutable_raw_input_contents(0)->append("x");  // size mismatch
  ASSERT_TRUE(stream->Write(bad));
  auto unknown = DoubleRequest({1}, "c");
  unknown.set_model_name("nope");
  ASSERT_TRUE(stream->Write(unknown));
  ASSERT_TRUE(stream->Write(DoubleRequest({4}, "d")));
  ASSERT_TRUE(stream->WritesDone());
  std::map<std::string, inference::ModelStreamInferResponse> by_id;
  inference::ModelStreamInferResponse r;
  while (stream->Read(&r)) by_id[r.infer_response().id()] = r;
  grpc::Status s = stream->Finish();
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(by_id.size(), 4u);
  EXPECT_EQ(by_id["a"].error_message(), "");
  EXPECT_EQ(FloatsOf(by_id["a"].infer_response().raw_output_contents(0))[0], 2.0f);
  EXPECT_NE(by_id["b"].error_message().find("input 'x'"), std::string::npos);
  EXPECT_EQ(by_id["c"].error_message(), "unknown model 'nope'");
  EXPECT_EQ(FloatsOf(by_id["d"].infer_response().raw_output_contents(0))[0], 8.0f);
}

// A client that cancels its stream while requests are still inside the service: the late
// answers are dropped, the stream ends, and the server (and its shutdown) carry on.
TEST_F(GrpcServerTest, StreamCancelledWithRequestsInFlight) {
  service_.SetGate(false);
  {
    grpc::ClientContext ctx;
    auto stream = stub_->ModelStreamInfer(&ctx);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(stream->Write(DoubleRequest({1}, std::to_string(i))));
    ASSERT_TRUE(service_.AwaitQueued(3));
    ctx.TryCancel();
    service_.SetGate(true);
    inference::ModelStreamInferResponse r;
    while (stream->Read(&r)) {
    }
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  inference::ModelInferResponse r;
  grpc::Status s = stub_->ModelInfer(Context().get(), DoubleRequest({3}, ""), &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(FloatsOf(r.raw_output_contents(0))[0], 6.0f);
}

// A stream flooded with requests while the service holds them: the server stops reading at
// the window (the rest wait in gRPC's flow control), and reads on as answers go out.
TEST_F(GrpcServerTest, StreamReadsNoFurtherThanItsWindow) {
  const int window = GrpcOptions{}.stream_window;
  const int n = window + 20;
  service_.SetGate(false);
  auto ctx = Context();
  auto stream = stub_->ModelStreamInfer(ctx.get());
  for (int i = 0; i < n; ++i) ASSERT_TRUE(stream->Write(DoubleRequest({1}, std::to_string(i))));
  ASSERT_TRUE(stream->WritesDone());
  ASSERT_TRUE(service_.AwaitQueued(window));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // room to (wrongly) read more
  EXPECT_EQ(service_.infer_calls(), window);
  service_.SetGate(true);
  int answered = 0;
  inference::ModelStreamInferResponse r;
  while (stream->Read(&r)) {
    EXPECT_EQ(r.error_message(), "");
    ++answered;
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(answered, n);
  EXPECT_EQ(service_.infer_calls(), n);
}

TEST(GrpcServerLimits, AMessageOverTheLimitIsRefusedAndTheServerStaysUp) {
  ScriptedService service;
  GrpcOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.max_message_bytes = 4096;
  auto server = GrpcServer::Start(&service, options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = inference::GRPCInferenceService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string((*server)->port()), grpc::InsecureChannelCredentials()));
  inference::ModelInferResponse r;
  {
    grpc::ClientContext ctx;
    grpc::Status s = stub->ModelInfer(&ctx, DoubleRequest(std::vector<float>(2048, 1.0f), ""), &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  }
  EXPECT_EQ(service.infer_calls(), 0);
  grpc::ClientContext ctx;
  grpc::Status s = stub->ModelInfer(&ctx, DoubleRequest(std::vector<float>(16, 1.0f), ""), &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(FloatsOf(r.raw_output_contents(0)).size(), 16u);
}

TEST_F(GrpcServerTest, ShutdownWithACallInFlight) {
  service_.SetGate(false);
  grpc::Status status;
  std::thread client([&] {
    inference::ModelInferResponse r;
    status = stub_->ModelInfer(Context().get(), DoubleRequest({1}, ""), &r);
  });
  ASSERT_TRUE(service_.AwaitQueued(1));
  std::thread stopper([&] { server_->Shutdown(std::chrono::milliseconds(200)); });
  service_.SetGate(true);
  stopper.join();
  client.join();
  // Either it finished in time or it was cancelled at the deadline; never lost or hung.
  EXPECT_TRUE(status.ok() || status.error_code() == grpc::StatusCode::CANCELLED)
      << status.error_message();
  // New calls are refused.
  inference::ServerLiveResponse live;
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  EXPECT_FALSE(stub_->ServerLive(ctx.get(), {}, &live).ok());
}

TEST(GrpcServerStart, ABusyPortIsAnError) {
  ScriptedService service;
  GrpcOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  auto first = GrpcServer::Start(&service, options);
  ASSERT_TRUE(first.ok()) << first.status();
  options.port = (*first)->port();
  auto second = GrpcServer::Start(&service, options);
  EXPECT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace cortado
