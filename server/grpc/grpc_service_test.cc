// The gRPC adapter in front of the real InferenceService (repository, scheduler, predictor), on
// a real port: a PyTorch export from testdata/ served from a temporary repository and
// checked against PyTorch's output and the Predictor's own; model control in explicit mode; the
// errors of bad requests.
#include <grpcpp/grpcpp.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/npy.h"
#include "grpc_service.grpc.pb.h"
#include "gtest/gtest.h"
#include "predictor/predictor.h"
#include "server/grpc/grpc_server.h"
#include "server/repository/test_models.h"

namespace cortado {
namespace {

namespace tm = testing_models;

std::string FixtureDir() { return std::string(std::getenv("TEST_SRCDIR")) + "/cortado/testdata/onnx/mlp"; }

inference::ModelInferRequest RawRequest(const std::string& model, const std::string& input,
                                        const Tensor& t) {
  inference::ModelInferRequest r;
  r.set_model_name(model);
  auto* in = r.add_inputs();
  in->set_name(input);
  in->set_datatype("FP32");
  for (int64_t d : t.shape()) in->add_shape(d);
  r.add_raw_input_contents(std::string(static_cast<const char*>(t.raw_data()), t.nbytes()));
  return r;
}

std::vector<float> FloatsOf(const std::string& raw) {
  std::vector<float> v(raw.size() / sizeof(float));
  std::memcpy(v.data(), raw.data(), raw.size());
  return v;
}

class Served {
 public:
  explicit Served(ServiceOptions options) {
    options.infer_threads = 2;
    auto service = InferenceService::Create(options);
    EXPECT_TRUE(service.ok()) << service.status();
    if (!service.ok()) return;
    service_ = std::move(*service);
    GrpcOptions grpc_options;
    grpc_options.address = "127.0.0.1";
    grpc_options.port = 0;
    auto server = GrpcServer::Start(service_.get(), grpc_options);
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return;
    server_ = std::move(*server);
    stub_ = inference::GRPCInferenceService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }
  ~Served() {
    if (server_) server_->Shutdown(std::chrono::milliseconds(2000));
    if (service_) service_->Shutdown(std::chrono::milliseconds(2000));
  }
  bool ok() const { return stub_ != nullptr; }
  inference::GRPCInferenceService::Stub* stub() { return stub_.get(); }

  static std::unique_ptr<grpc::ClientContext> Context() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return ctx;
  }

 private:
  std::unique_ptr<InferenceService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

class GrpcServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = tm::MakeTempDir();
    ASSERT_FALSE(repo_.empty());
    auto bytes = ReadFileToString(FixtureDir() + "/model.onnx");
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    tm::PublishVersion(repo_ + "/mlp", 1, *bytes);
    ServiceOptions options;
    options.model_repository = repo_;
    served_ = std::make_unique<Served>(options);
    ASSERT_TRUE(served_->ok());
  }
  void TearDown() override {
    served_.reset();
    tm::RemoveTree(repo_);
  }

  std::string repo_;
  std::unique_ptr<Served> served_;
};

TEST_F(GrpcServiceTest, InferMatchesPyTorchAndThePredictor) {
  auto input = ReadNpyFile(FixtureDir() + "/input.npy");
  ASSERT_TRUE(input.ok()) << input.status();
  auto expected = ReadNpyFile(FixtureDir() + "/output.npy");
  ASSERT_TRUE(expected.ok()) << expected.status();
  auto predictor = Predictor::FromFile(FixtureDir() + "/model.onnx");
  ASSERT_TRUE(predictor.ok()) << predictor.status();
  auto direct = (*predictor)->Run({{"input", *input}});
  ASSERT_TRUE(direct.ok()) << direct.status();
  const Tensor& ours = direct->at("output");

  // Raw contents.
  inference::ModelInferResponse r;
  auto ctx = Served::Context();
  grpc::Status s = served_->stub()->ModelInfer(ctx.get(), RawRequest("mlp", "input", *input), &r);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(r.model_name(), "mlp");
  EXPECT_EQ(r.model_version(), "1");
  ASSERT_EQ(r.outputs_size(), 1);
  EXPECT_EQ(r.outputs(0).name(), "output");
  EXPECT_EQ(r.outputs(0).datatype(), "FP32");
  EXPECT_EQ(std::vector<int64_t>(r.outputs(0).shape().begin(), r.outputs(0).shape().end()),
            expected->shape());
  std::vector<float> got = FloatsOf(r.raw_output_contents(0));
  ASSERT_EQ(static_cast<int64_t>(got.size()), expected->num_elements());
  double max_ref = 0;
  for (int64_t i = 0; i < expected->num_elements(); ++i) {
    max_ref = std::max(max_ref, std::fabs(double(expected->data<float>()[i])));
  }
  for (int64_t i = 0; i < expected->num_elements(); ++i) {
    EXPECT_NEAR(got[i], expected->data<float>()[i], 1e-4 * max_ref) << "element " << i;
    EXPECT_NEAR(got[i], ours.data<float>()[i], 1e-6 * max_ref) << "element " << i;
  }

  // Typed contents give the same answer.
  inference::ModelInferRequest typed = RawRequest("mlp", "input", *input);
  typed.clear_raw_input_contents();
  typed.mutable_inputs(0)->mutable_contents()->mutable_fp32_contents()->Add(
      input->data<float>(), input->data<float>() + input->num_elements());
  typed.add_outputs()->set_name("output");
  inference::ModelInferResponse r2;
  ctx = Served::Context();
  s = served_->stub()->ModelInfer(ctx.get(), typed, &r2);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(FloatsOf(r2.raw_output_contents(0)), got);
}

TEST_F(GrpcServiceTest, MetadataConfigStatisticsIndex) {
  inference::ModelMetadataRequest q;
  q.set_name("mlp");
  inference::ModelMetadataResponse m;
  auto ctx = Served::Context();
  grpc::Status s = served_->stub()->ModelMetadata(ctx.get(), q, &m);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(m.inputs_size(), 1);
  EXPECT_EQ(m.inputs(0).name(), "input");
  EXPECT_EQ(m.inputs(0).datatype(), "FP32");
  EXPECT_EQ(m.inputs(0).shape(m.inputs(0).shape_size() - 1), 64);
  ASSERT_EQ(m.outputs_size(), 1);
  EXPECT_EQ(m.outputs(0).name(), "output");

  inference::ModelConfigRequest cq;
  cq.set_name("mlp");
  inference::ModelConfigResponse c;
  ctx = Served::Context();
  s = served_->stub()->ModelConfig(ctx.get(), cq, &c);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(c.config().name(), "mlp");
  EXPECT_EQ(c.config().input_size(), 1);

  inference::RepositoryIndexResponse index;
  ctx = Served::Context();
  ASSERT_TRUE(served_->stub()->RepositoryIndex(ctx.get(), {}, &index).ok());
  ASSERT_GE(index.models_size(), 1);
  EXPECT_EQ(index.models(0).name(), "mlp");
  EXPECT_EQ(index.models(0).state(), "READY");

  inference::ModelStatisticsRequest sq;
  sq.set_name("mlp");
  inference::ModelStatisticsResponse st;
  ctx = Served::Context();
  s = served_->stub()->ModelStatistics(ctx.get(), sq, &st);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_GE(st.model_stats_size(), 1);
  EXPECT_EQ(st.model_stats(0).name(), "mlp");
}

TEST_F(GrpcServiceTest, BadRequestsGetClearErrorsAndTheServerStaysUp) {
  auto input = ReadNpyFile(FixtureDir() + "/input.npy");
  ASSERT_TRUE(input.ok());
  struct Case {
    const char* what;
    std::function<void(inference::ModelInferRequest*)> edit;
    grpc::StatusCode code;
  };
  const std::vector<Case> cases = {
      {"unknown model", [](auto* r) { r->set_model_name("nope"); }, grpc::StatusCode::NOT_FOUND},
      {"unknown version", [](auto* r) { r->set_model_version("7"); }, grpc::StatusCode::NOT_FOUND},
      {"non-numeric version", [](auto* r) { r->set_model_version("latest"); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"'..' in the model name", [](auto* r) { r->set_model_name("../mlp"); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"'/' in the model name", [](auto* r) { r->set_model_name("a/b"); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"wrong input name", [](auto* r) { r->mutable_inputs(0)->set_name("x"); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"wrong shape",
       [](auto* r) {
         r->mutable_inputs(0)->set_shape(1, 32);
         r->mutable_inputs(0)->set_shape(0, 8);
       },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"wrong dtype",
       [](auto* r) {
         r->mutable_inputs(0)->set_datatype("FP64");
         r->mutable_inputs(0)->set_shape(0, 2);  // same byte count as 4 x 64 FP32
       },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"raw size mismatch", [](auto* r) { r->mutable_raw_input_contents(0)->resize(100); },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"unknown requested output", [](auto* r) { r->add_outputs()->set_name("nope"); },
       grpc::StatusCode::INVALID_ARGUMENT},
  };
  for (const Case& c : cases) {
    inference::ModelInferRequest r = RawRequest("mlp", "input", *input);
    c.edit(&r);
    inference::ModelInferResponse out;
    auto ctx = Served::Context();
    grpc::Status s = served_->stub()->ModelInfer(ctx.get(), r, &out);
    EXPECT_EQ(s.error_code(), c.code) << c.what << ": " << s.error_message();
    EXPECT_FALSE(s.error_message().empty()) << c.what;
    std::printf("%-26s -> %d %s\n", c.what, s.error_code(), s.error_message().c_str());
  }
  // Still serving.
  inference::ModelInferResponse out;
  auto ctx = Served::Context();
  grpc::Status s = served_->stub()->ModelInfer(ctx.get(), RawRequest("mlp", "input", *input), &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  // Load/unload refused outside explicit mode.
  inference::RepositoryModelLoadRequest load;
  load.set_model_name("mlp");
  inference::RepositoryModelLoadResponse load_r;
  ctx = Served::Context();
  s = served_->stub()->RepositoryModelLoad(ctx.get(), load, &load_r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
}

TEST(GrpcServiceExplicit, LoadUnloadReload) {
  const std::string repo = tm::MakeTempDir();
  tm::PublishVersion(repo + "/add", 1, tm::AddConstModel(1.0f));
  tm::PublishVersion(repo + "/other", 1, tm::AddConstModel(5.0f));
  ServiceOptions options;
  options.model_repository = repo;
  options.model_control_mode = ModelControlMode::kExplicit;
  options.load_models = {"other"};
  {
    Served served(options);
    ASSERT_TRUE(served.ok());
    auto* stub = served.stub();
    auto ready = [&](const std::string& name) {
      inference::ModelReadyRequest q;
      q.set_name(name);
      inference::ModelReadyResponse r;
      auto ctx = Served::Context();
      EXPECT_TRUE(stub->ModelReady(ctx.get(), q, &r).ok());
      return r.ready();
    };
    auto infer = [&](float x, float* y) {
      Tensor t = Tensor::FromVector<float>({x, x, x, x}, {1, 4});
      inference::ModelInferResponse r;
      auto ctx = Served::Context();
      grpc::Status s = stub->ModelInfer(ctx.get(), RawRequest("add", "x", t), &r);
      if (s.ok()) *y = FloatsOf(r.raw_output_contents(0))[0];
      return s;
    };
    EXPECT_FALSE(ready("add"));
    EXPECT_TRUE(ready("other"));
    float y = 0;
    EXPECT_FALSE(infer(1, &y).ok());

    inference::RepositoryModelLoadRequest load;
    load.set_model_name("add");
    inference::RepositoryModelLoadResponse load_r;
    auto ctx = Served::Context();
    grpc::Status s = stub->RepositoryModelLoad(ctx.get(), load, &load_r);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(ready("add"));
    ASSERT_TRUE(infer(1, &y).ok());
    EXPECT_EQ(y, 2.0f);

    // A new version, then an explicit reload serves it.
    tm::PublishVersion(repo + "/add", 2, tm::AddConstModel(10.0f));
    ctx = Served::Context();
    ASSERT_TRUE(stub->RepositoryModelLoad(ctx.get(), load, &load_r).ok());
    ASSERT_TRUE(infer(1, &y).ok());
    EXPECT_EQ(y, 11.0f);

    inference::RepositoryModelUnloadRequest unload;
    unload.set_model_name("add");
    inference::RepositoryModelUnloadResponse unload_r;
    ctx = Served::Context();
    s = stub->RepositoryModelUnload(ctx.get(), unload, &unload_r);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_FALSE(ready("add"));
    EXPECT_FALSE(infer(1, &y).ok());
    EXPECT_TRUE(ready("other"));

    // Loading a model that is not in the repository, or an unsafe name, fails clearly.
    for (const char* name : {"missing", "../add"}) {
      load.set_model_name(name);
      ctx = Served::Context();
      s = stub->RepositoryModelLoad(ctx.get(), load, &load_r);
      EXPECT_FALSE(s.ok()) << name;
      EXPECT_FALSE(s.error_message().empty());
      std::printf("load %-8s -> %d %s\n", name, s.error_code(), s.error_message().c_str());
    }

    inference::RepositoryIndexResponse index;
    ctx = Served::Context();
    ASSERT_TRUE(stub->RepositoryIndex(ctx.get(), {}, &index).ok());
    EXPECT_GE(index.models_size(), 2);
  }
  tm::RemoveTree(repo);
}

}  // namespace
}  // namespace cortado
