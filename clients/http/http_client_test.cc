#include "clients/http/http_client.h"

#include <cstring>

#include "gtest/gtest.h"

namespace cortado {
namespace {

std::string U32(uint32_t v) {
  std::string s(4, '\0');
  std::memcpy(&s[0], &v, 4);
  return s;
}

TEST(EncodeHttpInferRequest, BinaryInputsAndOutputs) {
  Tensor s = Tensor::Create(DType::kString, {2}).value();
  s.data<std::string>()[0] = "ab";
  s.data<std::string>()[1] = "";
  HttpInferOptions options;
  options.id = "7";
  auto body = EncodeHttpInferRequest(
      {{"x", Tensor::FromVector<float>({1.5f, -2}, {1, 2})}, {"s", s}}, options);
  ASSERT_TRUE(body.ok()) << body.status();
  ASSERT_GT(body->header_length, 0);
  EXPECT_EQ(body->body.substr(0, body->header_length),
            R"({"id":"7","inputs":[)"
            R"({"name":"x","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}},)"
            R"({"name":"s","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":10}}],)"
            R"("parameters":{"binary_data_output":true}})");
  const float x[2] = {1.5f, -2};
  EXPECT_EQ(body->body.substr(body->header_length),
            std::string(reinterpret_cast<const char*>(x), 8) + U32(2) + "ab" + U32(0));
}

TEST(EncodeHttpInferRequest, JsonTensorsAndChosenOutputs) {
  HttpInferOptions options;
  options.binary_data = false;
  options.outputs = {"y"};
  auto body = EncodeHttpInferRequest(
      {{"k", Tensor::FromVector<int64_t>({-1, 2}, {2})},
       {"b", Tensor::FromVector<bool>({true}, {1})}},
      options);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(body->header_length, -1);
  EXPECT_EQ(body->body,
            R"({"inputs":[{"name":"k","shape":[2],"datatype":"INT64","data":[-1,2]},)"
            R"({"name":"b","shape":[1],"datatype":"BOOL","data":[true]}],)"
            R"("outputs":[{"name":"y","parameters":{"binary_data":false}}]})");
}

TEST(DecodeHttpInferResponse, BinaryAndJsonOutputs) {
  const std::string header =
      R"({"model_name":"m","model_version":"2","id":"q","outputs":[)"
      R"({"name":"y","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}},)"
      R"({"name":"n","datatype":"INT64","shape":[1,2],"data":[[3,4]]},)"
      R"({"name":"s","datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":7}}]})";
  const float y[2] = {0.5f, 7};
  const std::string body =
      header + std::string(reinterpret_cast<const char*>(y), 8) + U32(3) + "xyz";
  auto r = DecodeHttpInferResponse(body, static_cast<int64_t>(header.size()));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->model_name, "m");
  EXPECT_EQ(r->model_version, "2");
  EXPECT_EQ(r->id, "q");
  Tensor ty = r->Output("y").value();
  EXPECT_EQ(ty.shape(), (Shape{2}));
  EXPECT_EQ(ty.data<float>()[1], 7.0f);
  Tensor tn = r->Output("n").value();
  EXPECT_EQ(tn.dtype(), DType::kInt64);
  EXPECT_EQ(tn.data<int64_t>()[1], 4);
  EXPECT_EQ(r->Output("s").value().data<std::string>()[0], "xyz");
  EXPECT_EQ(r->Output("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST(DecodeHttpInferResponse, RefusesInconsistentResponses) {
  EXPECT_FALSE(DecodeHttpInferResponse("{", -1).ok());
  EXPECT_FALSE(DecodeHttpInferResponse(R"({"outputs":[{"name":"y","datatype":"FP32","shape":[3],"data":[1,2]}]})", -1).ok());
  const std::string header =
      R"({"outputs":[{"name":"y","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}}]})";
  EXPECT_FALSE(DecodeHttpInferResponse(header + "1234", static_cast<int64_t>(header.size())).ok());
  EXPECT_FALSE(DecodeHttpInferResponse(header, static_cast<int64_t>(header.size()) + 1).ok());
}

TEST(StatusFromHttp, KServeMapping) {
  EXPECT_TRUE(StatusFromHttp(200, "").ok());
  const absl::Status nf = StatusFromHttp(404, R"({"error":"unknown model 'x'"})");
  EXPECT_EQ(nf.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(nf.message(), "unknown model 'x'");
  EXPECT_EQ(StatusFromHttp(400, "{}").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusFromHttp(413, "").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusFromHttp(501, "").code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(StatusFromHttp(503, "").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromHttp(500, "boom").message(), "HTTP 500: boom");
}

TEST(HttpClient, UrlsAndUnreachableServer) {
  EXPECT_FALSE(HttpClient::Create("https://x:1").ok());
  EXPECT_FALSE(HttpClient::Create("x:0").ok());
  EXPECT_FALSE(HttpClient::Create(":8000").ok());
  EXPECT_TRUE(HttpClient::Create("http://localhost:8000/").ok());
  EXPECT_TRUE(HttpClient::Create("[::1]:8000").ok());
  EXPECT_TRUE(HttpClient::Create("localhost").ok());
  // Port 1 on loopback: nothing listens there.
  auto client = HttpClient::Create("127.0.0.1:1");
  ASSERT_TRUE(client.ok());
  auto live = (*client)->ServerLive();
  EXPECT_EQ(live.status().code(), absl::StatusCode::kUnavailable) << live.status();
}

}  // namespace
}  // namespace cortado
