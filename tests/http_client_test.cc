// The C++ HTTP client against the real thing, in one process: InferenceService on a model
// repository (the embedded example_mlp and a two-version "add" model), the HTTP/REST adapter on
// a free loopback port, and clients/http's HttpClient; inference results are checked against
// the Predictor run directly on the same input.
#include <fstream>
#include <sstream>

#include "clients/http/http_client.h"
#include "core/npy.h"
#include "gtest/gtest.h"
#include "predictor/predictor.h"
#include "server/http/http_server.h"
#include "server/repository/test_models.h"
#include "server/service.h"

namespace cortado {
namespace {

using testing_models::AddConstModel;
using testing_models::MakeTempDir;
using testing_models::PublishVersion;
using testing_models::RemoveTree;
using testing_models::WriteFile;

constexpr char kMlp[] = "config/repository/example_mlp";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void ExpectNear(const Tensor& got, const Tensor& want, float tolerance = 1e-6f) {
  ASSERT_EQ(got.dtype(), want.dtype());
  ASSERT_EQ(got.shape(), want.shape());
  for (int64_t i = 0; i < got.num_elements(); ++i) {
    EXPECT_NEAR(got.data<float>()[i], want.data<float>()[i], tolerance) << "element " << i;
  }
}

class HttpClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    repo_ = new std::string(MakeTempDir());
    WriteFile(*repo_ + "/example_mlp/config.pbtxt", ReadFile(std::string(kMlp) + "/config.pbtxt"));
    WriteFile(*repo_ + "/example_mlp/1/model.onnx", ReadFile(std::string(kMlp) + "/1/model.onnx"));
    WriteFile(*repo_ + "/add/config.pbtxt",
              "name: \"add\"\nversion_policy: { all: {} }\n");
    PublishVersion(*repo_ + "/add", 1, AddConstModel(1));
    PublishVersion(*repo_ + "/add", 2, AddConstModel(10));

    ServiceOptions options;
    options.model_repository = *repo_;
    options.model_control_mode = ModelControlMode::kExplicit;
    options.load_models = {"*"};
    auto service = InferenceService::Create(options);
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = service->release();
    HttpOptions http;
    http.address = "127.0.0.1";
    http.port = 0;
    auto server = HttpServer::Start(service_, http);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }

  static void TearDownTestSuite() {
    delete server_;
    delete service_;
    RemoveTree(*repo_);
    delete repo_;
  }

  void SetUp() override {
    auto client = HttpClient::Create(absl::StrCat("http://127.0.0.1:", server_->port()));
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }

  static std::string* repo_;
  static InferenceService* service_;
  static HttpServer* server_;
  std::unique_ptr<HttpClient> client_;
};

std::string* HttpClientTest::repo_ = nullptr;
InferenceService* HttpClientTest::service_ = nullptr;
HttpServer* HttpClientTest::server_ = nullptr;

TEST_F(HttpClientTest, HealthAndMetadata) {
  EXPECT_TRUE(client_->ServerLive().value());
  EXPECT_TRUE(client_->ServerReady().value());
  EXPECT_TRUE(client_->ModelReady("example_mlp").value());
  EXPECT_TRUE(client_->ModelReady("add", "1").value());
  EXPECT_FALSE(client_->ModelReady("add", "3").value());
  auto server = client_->ServerMetadata();
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_FALSE(server->version().empty());

  auto meta = client_->ModelMetadata("example_mlp");
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->name(), "example_mlp");
  ASSERT_EQ(meta->inputs_size(), 1);
  EXPECT_EQ(meta->inputs(0).name(), "features");
  EXPECT_EQ(meta->inputs(0).datatype(), "FP32");
  EXPECT_EQ(meta->inputs(0).shape(1), 4);
  EXPECT_EQ(meta->outputs(0).name(), "probabilities");

  auto config = client_->ModelConfig("example_mlp");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->config().max_batch_size(), 8);
  EXPECT_EQ(config->config().input(0).data_type(), inference::TYPE_FP32);
  EXPECT_EQ(config->config().input(0).dims(0), 4);
}

TEST_F(HttpClientTest, InferMatchesThePredictorBinaryAndJson) {
  auto features = ReadNpyFile("config/examples/mlp/features.npy");
  ASSERT_TRUE(features.ok()) << features.status();
  auto predictor = Predictor::FromFile(std::string(kMlp) + "/1/model.onnx");
  ASSERT_TRUE(predictor.ok()) << predictor.status();
  auto expected = (*predictor)->Run({{"features", *features}});
  ASSERT_TRUE(expected.ok()) << expected.status();
  const Tensor& want = expected->at("probabilities");

  for (bool binary : {true, false}) {
    HttpInferOptions options;
    options.binary_data = binary;
    options.id = binary ? "bin" : "json";
    auto result = client_->Infer("example_mlp", {{"features", *features}}, options);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->model_name, "example_mlp");
    EXPECT_EQ(result->model_version, "1");
    EXPECT_EQ(result->id, options.id);
    auto got = result->Output("probabilities");
    ASSERT_TRUE(got.ok()) << got.status();
    ExpectNear(*got, want);
  }
}

TEST_F(HttpClientTest, VersionsStatisticsIndexLoadUnload) {
  const Tensor x = Tensor::FromVector<float>({1, 2, 3, 4}, {1, 4});
  for (const char* version : {"1", "2"}) {
    HttpInferOptions options;
    options.model_version = version;
    auto r = client_->Infer("add", {{"x", x}}, options);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->model_version, version);
    const float c = version[0] == '1' ? 1 : 10;
    ExpectNear(r->Output("y").value(), Tensor::FromVector<float>({1 + c, 2 + c, 3 + c, 4 + c},
                                                                  {1, 4}));
  }
  auto stats = client_->ModelStatistics("add", "2");
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->model_stats_size(), 1);
  EXPECT_GE(stats->model_stats(0).inference_count(), 1u);
  EXPECT_TRUE(client_->ModelStatistics().ok());

  auto index = client_->RepositoryIndex();
  ASSERT_TRUE(index.ok()) << index.status();
  int ready = 0;
  for (const auto& m : index->models()) ready += m.state() == "READY";
  EXPECT_GE(ready, 2);

  ASSERT_TRUE(client_->UnloadModel("add").ok());
  EXPECT_FALSE(client_->ModelReady("add").value());
  auto gone = client_->Infer("add", {{"x", x}});
  EXPECT_FALSE(gone.ok());
  ASSERT_TRUE(client_->LoadModel("add").ok());
  EXPECT_TRUE(client_->ModelReady("add").value());
  EXPECT_TRUE(client_->Infer("add", {{"x", x}}).ok());
  EXPECT_EQ(client_->LoadModel("no_such_model").code(), absl::StatusCode::kNotFound);
}

TEST_F(HttpClientTest, BadRequestsComeBackAsStatuses) {
  const Tensor x = Tensor::FromVector<float>({1, 2, 3, 4}, {1, 4});
  EXPECT_EQ(client_->Infer("nope", {{"x", x}}).status().code(), absl::StatusCode::kNotFound);
  HttpInferOptions v7;
  v7.model_version = "7";
  EXPECT_EQ(client_->Infer("add", {{"x", x}}, v7).status().code(), absl::StatusCode::kNotFound);
  HttpInferOptions vabc;
  vabc.model_version = "abc";
  EXPECT_EQ(client_->Infer("add", {{"x", x}}, vabc).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->Infer("add", {{"z", x}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->Infer("add", {{"x", Tensor::FromVector<int32_t>({1, 2, 3, 4}, {1, 4})}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->Infer("add", {{"x", Tensor::FromVector<float>({1, 2, 3, 4, 5}, {1, 5})}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->ModelMetadata("../add").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->ModelMetadata("a/b").status().code(), absl::StatusCode::kInvalidArgument);
  // Still serving.
  EXPECT_TRUE(client_->Infer("add", {{"x", x}}).ok());
}

}  // namespace
}  // namespace cortado
