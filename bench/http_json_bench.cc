// How fast the HTTP adapter's JSON codec (RapidJSON) reads an infer request and writes an infer
// response of one million FP32 elements, as JSON tensors and with the binary tensor extension,
// next to a peer: protobuf's own JSON codec (util::JsonStringToMessage / MessageToJsonString)
// on the equivalent KServe ModelInferRequest / ModelInferResponse with fp32_contents.
//   bazel run -c opt //bench:http_json_bench
// Each benchmark prints MB/s (of JSON or body bytes) and elements/s.
#include <random>
#include <string>

#include "benchmark/benchmark.h"
#include "google/protobuf/util/json_util.h"
#include "grpc_service.pb.h"
#include "server/http/json_codec.h"

namespace cortado {
namespace http {
namespace {

constexpr int64_t kElements = 1000000;

std::vector<float> Values() {
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(kElements);
  for (float& x : v) x = dist(rng);
  return v;
}

Tensor ValuesTensor() { return Tensor::FromVector<float>(Values(), {1000, 1000}); }

InferResponse Response() {
  InferResponse r;
  r.model_name = "bench";
  r.model_version = "1";
  r.outputs.emplace_back("y", ValuesTensor());
  return r;
}

// The JSON request body, written by our own encoder (shortest round-trip floats).
std::string JsonRequestBody() {
  auto written = WriteInferResponse(Response(), HttpInferRequest{});
  const std::string& body = written.value().body;
  const size_t data = body.find("\"data\":");
  const size_t end = body.size() - 3;  // the body ends with the data array and "}]}"
  return R"({"id":"b","inputs":[{"name":"x","shape":[1000,1000],"datatype":"FP32",)" +
         body.substr(data, end - data) + "}]}";
}

void SetRates(benchmark::State& state, size_t bytes) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(state.iterations() * kElements);
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(bytes) / 1e6,
                                              benchmark::Counter::kIsIterationInvariantRate);
  state.counters["elements/s"] = benchmark::Counter(static_cast<double>(kElements),
                                                    benchmark::Counter::kIsIterationInvariantRate);
}

void BM_ParseRequestJson(benchmark::State& state) {
  const std::string body = JsonRequestBody();
  for (auto _ : state) {
    auto r = ParseInferRequest(body, -1);
    if (!r.ok()) state.SkipWithError(std::string(r.status().message()).c_str());
    benchmark::DoNotOptimize(r);
  }
  SetRates(state, body.size());
}
BENCHMARK(BM_ParseRequestJson)->Unit(benchmark::kMillisecond);

void BM_WriteResponseJson(benchmark::State& state) {
  const InferResponse response = Response();
  size_t bytes = 0;
  for (auto _ : state) {
    auto r = WriteInferResponse(response, HttpInferRequest{});
    bytes = r->body.size();
    benchmark::DoNotOptimize(r);
  }
  SetRates(state, bytes);
}
BENCHMARK(BM_WriteResponseJson)->Unit(benchmark::kMillisecond);

void BM_ParseRequestBinary(benchmark::State& state) {
  const std::vector<float> v = Values();
  const std::string header =
      R"({"inputs":[{"name":"x","shape":[1000,1000],"datatype":"FP32",)"
      R"("parameters":{"binary_data_size":4000000}}]})";
  const std::string body =
      header + std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  for (auto _ : state) {
    auto r = ParseInferRequest(body, static_cast<int64_t>(header.size()));
    benchmark::DoNotOptimize(r);
  }
  SetRates(state, body.size());
}
BENCHMARK(BM_ParseRequestBinary)->Unit(benchmark::kMillisecond);

void BM_WriteResponseBinary(benchmark::State& state) {
  const InferResponse response = Response();
  HttpInferRequest binary;
  binary.binary_data_output = true;
  size_t bytes = 0;
  for (auto _ : state) {
    auto r = WriteInferResponse(response, binary);
    bytes = r->body.size();
    benchmark::DoNotOptimize(r);
  }
  SetRates(state, bytes);
}
BENCHMARK(BM_WriteResponseBinary)->Unit(benchmark::kMillisecond);

// Peer: protobuf's JSON codec on the same tensor as a KServe gRPC message.
std::string ProtobufJsonRequest() {
  inference::ModelInferRequest req;
  req.set_model_name("bench");
  auto* in = req.add_inputs();
  in->set_name("x");
  in->set_datatype("FP32");
  in->add_shape(1000);
  in->add_shape(1000);
  for (float x : Values()) in->mutable_contents()->add_fp32_contents(x);
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(req, &json, options);
  return json;
}

void BM_Peer_ProtobufParseRequestJson(benchmark::State& state) {
  const std::string body = ProtobufJsonRequest();
  for (auto _ : state) {
    inference::ModelInferRequest req;
    auto s = google::protobuf::util::JsonStringToMessage(body, &req);
    if (!s.ok()) state.SkipWithError("protobuf JSON parse failed");
    benchmark::DoNotOptimize(req);
  }
  SetRates(state, body.size());
}
BENCHMARK(BM_Peer_ProtobufParseRequestJson)->Unit(benchmark::kMillisecond);

void BM_Peer_ProtobufWriteResponseJson(benchmark::State& state) {
  inference::ModelInferResponse res;
  res.set_model_name("bench");
  res.set_model_version("1");
  auto* out = res.add_outputs();
  out->set_name("y");
  out->set_datatype("FP32");
  out->add_shape(1000);
  out->add_shape(1000);
  for (float x : Values()) out->mutable_contents()->add_fp32_contents(x);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(res, &json);
    bytes = json.size();
    benchmark::DoNotOptimize(json);
  }
  SetRates(state, bytes);
}
BENCHMARK(BM_Peer_ProtobufWriteResponseJson)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace http
}  // namespace cortado

BENCHMARK_MAIN();
