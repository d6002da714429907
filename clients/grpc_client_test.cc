// GrpcClient against a small in-process KServe server written here with gRPC's sync API (the
// client must not depend on server/), plus the message codecs on their own.
#include "clients/grpc_client.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <cstring>

#include "gtest/gtest.h"

namespace cortado {
namespace {

TEST(GrpcClientCodec, RawRoundTripOfEveryDtype) {
  ClientInferRequest request;
  request.model_name = "m";
  request.inputs.emplace_back("f", Tensor::FromVector<float>({1.5f, -2, 3, 4}, {2, 2}));
  request.inputs.emplace_back("i", Tensor::FromVector<int64_t>({-7, 9}, {2}));
  request.inputs.emplace_back("b", Tensor::FromVector<bool>({true, false, true}, {3}));
  request.inputs.emplace_back("s", Tensor::FromVector<std::string>({"ab", "", "xyz"}, {3}));
  request.inputs.emplace_back("h", Tensor::FromVector<Half>({Half(1.0f)}, {1}));
  auto wire = EncodeClientInferRequest(request);
  ASSERT_TRUE(wire.ok()) << wire.status();
  ASSERT_EQ(wire->raw_input_contents_size(), 5);
  EXPECT_EQ(wire->inputs(0).datatype(), "FP32");
  EXPECT_EQ(wire->inputs(3).datatype(), "BYTES");
  EXPECT_EQ(wire->inputs(4).datatype(), "FP16");
  EXPECT_EQ(wire->raw_input_contents(0).size(), 16u);
  EXPECT_EQ(wire->raw_input_contents(2), std::string("\x01\x00\x01", 3));
  EXPECT_EQ(wire->raw_input_contents(3), std::string("\x02\0\0\0ab\0\0\0\0\x03\0\0\0xyz", 17));

  // Echo the inputs back as a raw response, as Triton would answer.
  inference::ModelInferResponse response;
  response.set_model_name("m");
  response.set_model_version("3");
  for (int i = 0; i < wire->inputs_size(); ++i) {
    auto* o = response.add_outputs();
    o->set_name(wire->inputs(i).name());
    o->set_datatype(wire->inputs(i).datatype());
    *o->mutable_shape() = wire->inputs(i).shape();
    response.add_raw_output_contents(wire->raw_input_contents(i));
  }
  auto result = DecodeClientInferResponse(response);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->model_version, "3");
  ASSERT_EQ(result->outputs.size(), 5u);
  EXPECT_EQ(result->outputs[0].second.shape(), (Shape{2, 2}));
  EXPECT_EQ(result->outputs[0].second.data<float>()[0], 1.5f);
  EXPECT_EQ(result->outputs[1].second.data<int64_t>()[0], -7);
  EXPECT_EQ(result->outputs[2].second.data<bool>()[1], false);
  EXPECT_EQ(result->outputs[3].second.data<std::string>()[2], "xyz");
  EXPECT_EQ(result->outputs[4].second.data<Half>()[0].bits, Half(1.0f).bits);
}

TEST(GrpcClientCodec, TypedContents) {
  ClientInferRequest request;
  request.model_name = "m";
  request.typed_contents = true;
  request.inputs.emplace_back("u8", Tensor::FromVector<uint8_t>({1, 255}, {2}));
  request.inputs.emplace_back("f", Tensor::FromVector<float>({0.25f}, {1, 1}));
  auto wire = EncodeClientInferRequest(request);
  ASSERT_TRUE(wire.ok()) << wire.status();
  EXPECT_EQ(wire->raw_input_contents_size(), 0);
  EXPECT_EQ(wire->inputs(0).contents().uint_contents(1), 255u);
  EXPECT_EQ(wire->inputs(1).contents().fp32_contents(0), 0.25f);

  request.inputs = {{"h", Tensor::FromVector<Half>({Half(1.0f)}, {1})}};
  EXPECT_EQ(EncodeClientInferRequest(request).status().code(), absl::StatusCode::kInvalidArgument);

  inference::ModelInferResponse response;
  auto* o = response.add_outputs();
  o->set_name("y");
  o->set_datatype("INT32");
  o->add_shape(3);
  for (int v : {4, 5, 6}) o->mutable_contents()->add_int_contents(v);
  auto result = DecodeClientInferResponse(response);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->outputs[0].second.data<int32_t>()[2], 6);
  o->add_shape(2);  // now [3,2]: 6 elements wanted, 3 sent
  EXPECT_EQ(DecodeClientInferResponse(response).status().code(), absl::StatusCode::kDataLoss);
}

TEST(GrpcClientCodec, BadRawResponsesAreErrors) {
  inference::ModelInferResponse response;
  auto* o = response.add_outputs();
  o->set_name("y");
  o->set_datatype("FP32");
  o->add_shape(2);
  response.add_raw_output_contents(std::string(7, '\0'));
  EXPECT_EQ(DecodeClientInferResponse(response).status().code(), absl::StatusCode::kDataLoss);
  o->set_datatype("BYTES");
  *response.mutable_raw_output_contents(0) = std::string("\x09\0\0\0ab", 6);
  EXPECT_EQ(DecodeClientInferResponse(response).status().code(), absl::StatusCode::kDataLoss);
  o->set_datatype("NOPE");
  EXPECT_FALSE(DecodeClientInferResponse(response).ok());
}

TEST(GrpcClientStatus, CodesAndMessagesSurvive) {
  absl::Status s = FromGrpcStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "no model 'x'"));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no model 'x'");
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

// A fake server: model "double" (FP32 x -> FP32 y = 2x), load/unload bookkeeping.
class FakeService final : public inference::GRPCInferenceService::Service {
 public:
  grpc::Status ServerLive(grpc::ServerContext*, const inference::ServerLiveRequest*,
                          inference::ServerLiveResponse* r) override {
    r->set_live(true);
    return grpc::Status::OK;
  }
  grpc::Status ServerReady(grpc::ServerContext*, const inference::ServerReadyRequest*,
                           inference::ServerReadyResponse* r) override {
    r->set_ready(true);
    return grpc::Status::OK;
  }
  grpc::Status ModelReady(grpc::ServerContext*, const inference::ModelReadyRequest* q,
                          inference::ModelReadyResponse* r) override {
    r->set_ready(q->name() == "double" && loaded_);
    return grpc::Status::OK;
  }
  grpc::Status RepositoryIndex(grpc::ServerContext*, const inference::RepositoryIndexRequest*,
                               inference::RepositoryIndexResponse* r) override {
    auto* m = r->add_models();
    m->set_name("double");
    m->set_version("1");
    m->set_state(loaded_ ? "READY" : "UNAVAILABLE");
    return grpc::Status::OK;
  }
  grpc::Status RepositoryModelLoad(grpc::ServerContext*,
                                   const inference::RepositoryModelLoadRequest* q,
                                   inference::RepositoryModelLoadResponse*) override {
    if (q->model_name() != "double") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no model '" + q->model_name() + "'");
    }
    loaded_ = true;
    return grpc::Status::OK;
  }
  grpc::Status RepositoryModelUnload(grpc::ServerContext*,
                                     const inference::RepositoryModelUnloadRequest*,
                                     inference::RepositoryModelUnloadResponse*) override {
    loaded_ = false;
    return grpc::Status::OK;
  }
  grpc::Status ModelInfer(grpc::ServerContext*, const inference::ModelInferRequest* q,
                          inference::ModelInferResponse* r) override {
    if (q->model_name() != "double") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown model '" + q->model_name() + "'");
    }
    if (q->inputs_size() != 1 || q->raw_input_contents_size() != 1) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "want one raw input");
    }
    const std::string& raw = q->raw_input_contents(0);
    std::vector<float> x(raw.size() / 4);
    std::memcpy(x.data(), raw.data(), raw.size());
    for (float& v : x) v *= 2;
    r->set_model_name("double");
    r->set_model_version("1");
    r->set_id(q->id());
    auto* o = r->add_outputs();
    o->set_name("y");
    o->set_datatype("FP32");
    *o->mutable_shape() = q->inputs(0).shape();
    r->add_raw_output_contents(std::string(reinterpret_cast<const char*>(x.data()), raw.size()));
    return grpc::Status::OK;
  }

 private:
  std::atomic<bool> loaded_{true};
};

class GrpcClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
    auto client = GrpcClient::Create("127.0.0.1:" + std::to_string(port_));
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  FakeService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<GrpcClient> client_;
};

TEST_F(GrpcClientTest, HealthAndReadiness) {
  EXPECT_EQ(*client_->ServerLive(), true);
  EXPECT_EQ(*client_->ServerReady(), true);
  EXPECT_EQ(*client_->ModelReady("double"), true);
  EXPECT_EQ(*client_->ModelReady("other"), false);
  auto health = client_->HealthCheck();
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "SERVING");
  server_->GetHealthCheckService()->SetServingStatus("svc", false);
  EXPECT_EQ(*client_->HealthCheck("svc"), "NOT_SERVING");
  EXPECT_EQ(client_->HealthCheck("never-registered").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(GrpcClientTest, InferLoadUnloadAndErrors) {
  ClientInferRequest request;
  request.model_name = "double";
  request.id = "req-1";
  request.inputs.emplace_back("x", Tensor::FromVector<float>({1, 2, 3}, {1, 3}));
  auto result = client_->Infer(request);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->id, "req-1");
  ASSERT_EQ(result->outputs.size(), 1u);
  EXPECT_EQ(result->outputs[0].first, "y");
  EXPECT_EQ(result->outputs[0].second.shape(), (Shape{1, 3}));
  EXPECT_EQ(result->outputs[0].second.data<float>()[2], 6.0f);

  request.model_name = "missing";
  auto missing = client_->Infer(request);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "unknown model 'missing'");

  EXPECT_TRUE(client_->UnloadModel("double").ok());
  EXPECT_EQ(client_->RepositoryIndex()->models(0).state(), "UNAVAILABLE");
  EXPECT_TRUE(client_->LoadModel("double").ok());
  EXPECT_EQ(client_->RepositoryIndex()->models(0).state(), "READY");
  EXPECT_EQ(client_->LoadModel("nope").code(), absl::StatusCode::kNotFound);
  // Not implemented by the fake: the gRPC code comes through.
  EXPECT_EQ(client_->ServerMetadata().status().code(), absl::StatusCode::kUnimplemented);
}

TEST(GrpcClientConnect, UnreachableServerIsUnavailable) {
  GrpcClientOptions options;
  options.timeout = std::chrono::milliseconds(2000);
  auto client = GrpcClient::Create("grpc://127.0.0.1:1", options);
  ASSERT_TRUE(client.ok());
  auto live = (*client)->ServerLive();
  EXPECT_FALSE(live.ok());
  EXPECT_TRUE(live.status().code() == absl::StatusCode::kUnavailable ||
              live.status().code() == absl::StatusCode::kDeadlineExceeded)
      << live.status();
}

}  // namespace
}  // namespace cortado
