#include "server/http/json_codec.h"

#include <cmath>
#include <cstring>
#include <string>

#include "gtest/gtest.h"
#include "model_config.pb.h"
#include "rapidjson/document.h"

namespace cortado {
namespace http {
namespace {

std::string U32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::string Floats(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

const Tensor& InputNamed(const HttpInferRequest& r, const std::string& name) {
  for (const auto& [n, t] : r.request.inputs) {
    if (n == name) return t;
  }
  ADD_FAILURE() << "no input " << name;
  static Tensor none;
  return none;
}

TEST(ParseInferRequest, JsonTensorsNestedAndFlat) {
  const std::string body = R"({
    "id": "req-7",
    "inputs": [
      {"name": "a", "shape": [2, 3], "datatype": "FP32", "data": [[1, 2.5, -3], [4e2, 0.1, 6]]},
      {"name": "b", "shape": [2, 2], "datatype": "INT64", "data": [1, -2, 9007199254740993, 4]},
      {"name": "c", "shape": [3], "datatype": "BOOL", "data": [true, false, true]},
      {"name": "d", "shape": [2], "datatype": "BYTES", "data": ["hi", "th\u00e9re"]},
      {"name": "e", "shape": [], "datatype": "FP64", "data": 0.1}
    ],
    "outputs": [{"name": "y", "parameters": {"binary_data": true}}, {"name": "z"}]
  })";
  auto r = ParseInferRequest(body, -1);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->request.id, "req-7");
  EXPECT_EQ(r->request.protocol, Protocol::kHttp);
  ASSERT_EQ(r->request.inputs.size(), 5u);
  const Tensor& a = InputNamed(*r, "a");
  EXPECT_EQ(a.dtype(), DType::kFloat32);
  EXPECT_EQ(a.shape(), (Shape{2, 3}));
  const float want_a[] = {1, 2.5f, -3, 400, 0.1f, 6};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(a.data<float>()[i], want_a[i]) << i;
  const Tensor& b = InputNamed(*r, "b");
  EXPECT_EQ(b.dtype(), DType::kInt64);
  EXPECT_EQ(b.data<int64_t>()[2], 9007199254740993);  // exact beyond double precision
  EXPECT_EQ(b.data<int64_t>()[1], -2);
  const Tensor& c = InputNamed(*r, "c");
  EXPECT_EQ(c.dtype(), DType::kBool);
  EXPECT_FALSE(c.data<bool>()[1]);
  EXPECT_TRUE(c.data<bool>()[2]);
  const Tensor& d = InputNamed(*r, "d");
  EXPECT_EQ(d.dtype(), DType::kString);
  EXPECT_EQ(d.data<std::string>()[1], "th\xc3\xa9re");
  const Tensor& e = InputNamed(*r, "e");
  EXPECT_EQ(e.rank(), 0);
  EXPECT_EQ(e.data<double>()[0], 0.1);
  EXPECT_EQ(r->request.requested_outputs, (std::vector<std::string>{"y", "z"}));
  EXPECT_FALSE(r->binary_data_output);
  EXPECT_EQ(r->binary_data.at("y"), true);
  EXPECT_EQ(r->binary_data.count("z"), 0u);
}

TEST(ParseInferRequest, BinaryTensorsAfterTheHeader) {
  const std::string header = R"({"inputs": [
      {"name": "x", "shape": [1, 3], "datatype": "FP32", "parameters": {"binary_data_size": 12}},
      {"name": "j", "shape": [2], "datatype": "INT32", "data": [7, 8]},
      {"name": "s", "shape": [2], "datatype": "BYTES", "parameters": {"binary_data_size": 13}}],
    "parameters": {"binary_data_output": true}})";
  const std::string body =
      header + Floats({1.5f, -2.0f, 3.25f}) + U32(3) + "abc" + U32(2) + std::string("\0z", 2);
  auto r = ParseInferRequest(body, static_cast<int64_t>(header.size()));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->binary_data_output);
  const Tensor& x = InputNamed(*r, "x");
  EXPECT_EQ(x.shape(), (Shape{1, 3}));
  EXPECT_EQ(x.data<float>()[0], 1.5f);
  EXPECT_EQ(x.data<float>()[2], 3.25f);
  EXPECT_EQ(InputNamed(*r, "j").data<int32_t>()[1], 8);
  const Tensor& s = InputNamed(*r, "s");
  EXPECT_EQ(s.data<std::string>()[0], "abc");
  EXPECT_EQ(s.data<std::string>()[1], std::string("\0z", 2));
}

struct BadCase {
  const char* what;
  std::string body;
  int64_t header_length;
  absl::StatusCode code;
  const char* message_part;
};

TEST(ParseInferRequest, RefusesBadInputWithAClearError) {
  const std::string bin_header =
      R"({"inputs":[{"name":"x","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}}]})";
  const std::string size_header =
      R"({"inputs":[{"name":"x","shape":[3],"datatype":"FP32","parameters":{"binary_data_size":8}}]})";
  const std::string bytes_header =
      R"({"inputs":[{"name":"s","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":6}}]})";
  const std::string deep = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":" +
                           std::string(100, '[') + "1" + std::string(100, ']') + "}]}";
  const BadCase cases[] = {
      {"malformed JSON", R"({"inputs": [)", -1, absl::StatusCode::kInvalidArgument,
       "malformed JSON"},
      {"not an object", "[1,2]", -1, absl::StatusCode::kInvalidArgument, "JSON object"},
      {"no inputs", R"({"id":"x"})", -1, absl::StatusCode::kInvalidArgument, "\"inputs\""},
      {"header beyond body", bin_header + "12345678", static_cast<int64_t>(bin_header.size()) + 9,
       absl::StatusCode::kInvalidArgument, "Inference-Header-Content-Length"},
      {"binary beyond body", bin_header + "1234", static_cast<int64_t>(bin_header.size()),
       absl::StatusCode::kInvalidArgument, "goes beyond the end of the request body"},
      {"unclaimed binary", bin_header + "123456789", static_cast<int64_t>(bin_header.size()),
       absl::StatusCode::kInvalidArgument, "no input claims"},
      {"binary size vs shape", size_header + "12345678", static_cast<int64_t>(size_header.size()),
       absl::StatusCode::kInvalidArgument, "the data is 8 bytes, but shape [3] of FP32 needs 12"},
      {"count mismatch",
       R"({"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[1,2,3]}]})", -1,
       absl::StatusCode::kInvalidArgument, "has 4 elements but \"data\" has 3"},
      {"huge shape, little data",
       R"({"inputs":[{"name":"x","shape":[1000000000000],"datatype":"FP32","data":[1]}]})", -1,
       absl::StatusCode::kInvalidArgument, "elements but \"data\" has 1"},
      {"string for FP32",
       R"({"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1,"2"]}]})", -1,
       absl::StatusCode::kInvalidArgument, "element 1 is a string"},
      {"float for INT32",
       R"({"inputs":[{"name":"x","shape":[1],"datatype":"INT32","data":[1.5]}]})", -1,
       absl::StatusCode::kInvalidArgument, "not a valid INT32"},
      {"INT8 out of range",
       R"({"inputs":[{"name":"x","shape":[1],"datatype":"INT8","data":[300]}]})", -1,
       absl::StatusCode::kInvalidArgument, "not a valid INT8"},
      {"negative UINT8", R"({"inputs":[{"name":"x","shape":[1],"datatype":"UINT8","data":[-1]}]})",
       -1, absl::StatusCode::kInvalidArgument, "not a valid UINT8"},
      {"unknown datatype", R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP8","data":[1]}]})",
       -1, absl::StatusCode::kInvalidArgument, "unknown datatype"},
      {"negative dim", R"({"inputs":[{"name":"x","shape":[-1],"datatype":"FP32","data":[1]}]})", -1,
       absl::StatusCode::kInvalidArgument, "shape"},
      {"no name", R"({"inputs":[{"shape":[1],"datatype":"FP32","data":[1]}]})", -1,
       absl::StatusCode::kInvalidArgument, "\"name\""},
      {"no data", R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32"}]})", -1,
       absl::StatusCode::kInvalidArgument, "needs \"data\""},
      {"too deep", deep, -1, absl::StatusCode::kInvalidArgument, "nested deeper"},
      {"classification",
       R"({"inputs":[],"outputs":[{"name":"y","parameters":{"classification":3}}]})", -1,
       absl::StatusCode::kUnimplemented, "classification"},
      {"shared memory",
       R"({"inputs":[{"name":"x","shape":[1],"datatype":"FP32","parameters":{"shared_memory_region":"r"}}]})",
       -1, absl::StatusCode::kUnimplemented, "shared memory"},
      {"BYTES length beyond its data", bytes_header + U32(5) + "ab",
       static_cast<int64_t>(bytes_header.size()), absl::StatusCode::kInvalidArgument,
       "BYTES element 0 claims 5 bytes but only 2 remain"},
  };
  for (const BadCase& c : cases) {
    auto r = ParseInferRequest(c.body, c.header_length);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), c.code) << c.what << ": " << r.status();
    EXPECT_NE(r.status().message().find(c.message_part), absl::string_view::npos)
        << c.what << ": " << r.status();
  }
}

InferResponse SampleResponse() {
  InferResponse res;
  res.model_name = "m";
  res.model_version = "3";
  res.id = "abc";
  res.outputs.emplace_back("p", Tensor::FromVector<float>({0.1f, -2.0f, 1e-8f, 3.0f}, {2, 2}));
  Tensor s = Tensor::Create(DType::kString, {2}).value();
  s.data<std::string>()[0] = "x\"y";
  s.data<std::string>()[1] = "";
  res.outputs.emplace_back("s", s);
  res.outputs.emplace_back("k", Tensor::FromVector<int64_t>({-5, 7}, {2}));
  return res;
}

TEST(WriteInferResponse, JsonOutputs) {
  HttpInferRequest req;
  auto r = WriteInferResponse(SampleResponse(), req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->header_length, -1);
  EXPECT_EQ(r->body,
            R"({"model_name":"m","model_version":"3","id":"abc","outputs":[)"
            R"({"name":"p","datatype":"FP32","shape":[2,2],"data":[0.1,-2,1e-08,3]},)"
            R"({"name":"s","datatype":"BYTES","shape":[2],"data":["x\"y",""]},)"
            R"({"name":"k","datatype":"INT64","shape":[2],"data":[-5,7]}]})");
}

TEST(WriteInferResponse, BinaryOutputsFollowTheHeader) {
  HttpInferRequest req;
  req.binary_data_output = true;
  req.binary_data["k"] = false;  // an output's own parameter wins over the request's
  auto r = WriteInferResponse(SampleResponse(), req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_GT(r->header_length, 0);
  const std::string header = r->body.substr(0, r->header_length);
  const std::string binary = r->body.substr(r->header_length);
  rapidjson::Document doc;
  doc.Parse(header.c_str());
  ASSERT_FALSE(doc.HasParseError()) << header;
  const auto& outs = doc["outputs"];
  EXPECT_EQ(outs[0]["parameters"]["binary_data_size"].GetUint64(), 16u);
  EXPECT_FALSE(outs[0].HasMember("data"));
  EXPECT_EQ(outs[1]["parameters"]["binary_data_size"].GetUint64(), 4u + 3u + 4u);
  EXPECT_TRUE(outs[2].HasMember("data"));
  ASSERT_EQ(binary.size(), 16u + 11u);
  float p[4];
  std::memcpy(p, binary.data(), 16);
  EXPECT_EQ(p[0], 0.1f);
  EXPECT_EQ(p[2], 1e-8f);
  EXPECT_EQ(binary.substr(16), U32(3) + "x\"y" + U32(0));
}

TEST(WriteInferResponse, NonFiniteFloatsAndRoundTrip) {
  InferResponse res;
  res.model_name = "m";
  res.model_version = "1";
  res.outputs.emplace_back(
      "f", Tensor::FromVector<float>({NAN, INFINITY, -INFINITY, 3.4028235e38f, 1.17549435e-38f},
                                     {5}));
  auto r = WriteInferResponse(res, HttpInferRequest{});
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->body.find("[NaN,Infinity,-Infinity,3.4028235e+38,1.1754944e-38]"),
            std::string::npos)
      << r->body;
  // What we write, we read back exactly.
  const std::string req = R"({"inputs":[{"name":"f","shape":[5],"datatype":"FP32","data":)" +
                          r->body.substr(r->body.find("[NaN"));  // ...]}]}
  auto parsed = ParseInferRequest(req, -1);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << req;
  const float* f = parsed->request.inputs[0].second.data<float>();
  EXPECT_TRUE(std::isnan(f[0]));
  EXPECT_EQ(f[1], INFINITY);
  EXPECT_EQ(f[2], -INFINITY);
  EXPECT_EQ(f[3], 3.4028235e38f);
  EXPECT_EQ(f[4], 1.17549435e-38f);
}

// FP64 in KServe JSON round-trips bit for bit: what the codec writes, it reads back exactly,
// 17-digit doubles, subnormals and negative zero included.
TEST(WriteInferResponse, DoublesRoundTripExactly) {
  const std::vector<double> values = {
      0.1 + 0.2,          1.0 / 3, -2.0 / 7, 1e-310, 4.9e-324, 1.7976931348623157e308,
      123456789.12345679, -0.0};
  InferResponse res;
  res.model_name = "m";
  res.model_version = "1";
  res.outputs.emplace_back("d", Tensor::FromVector<double>(values, {8}));
  auto r = WriteInferResponse(res, HttpInferRequest{});
  ASSERT_TRUE(r.ok()) << r.status();
  const size_t data = r->body.find("\"data\":");
  ASSERT_NE(data, std::string::npos) << r->body;
  const std::string req = R"({"inputs":[{"name":"d","shape":[8],"datatype":"FP64","data":)" +
                          r->body.substr(data + 7);  // [...]}]}
  auto parsed = ParseInferRequest(req, -1);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << req;
  const double* d = parsed->request.inputs[0].second.data<double>();
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(std::memcmp(&d[i], &values[i], sizeof(double)), 0)
        << i << ": " << values[i] << " read back as " << d[i] << " from " << req;
  }
}

TEST(ProtoToJson, ModelMetadataAsTriton) {
  inference::ModelMetadataResponse m;
  m.set_name("mlp");
  m.add_versions("1");
  m.set_platform("onnxruntime_onnx");
  auto* in = m.add_inputs();
  in->set_name("features");
  in->set_datatype("FP32");
  in->add_shape(-1);
  in->add_shape(4);
  EXPECT_EQ(ProtoToJson(m),
            R"({"name":"mlp","versions":["1"],"platform":"onnxruntime_onnx",)"
            R"("inputs":[{"name":"features","datatype":"FP32","shape":[-1,4]}],"outputs":[]})");
}

TEST(ProtoToJson, ModelConfigIntsAsNumbersEnumsByName) {
  inference::ModelConfig c;
  c.set_name("mlp");
  c.set_max_batch_size(8);
  auto* in = c.add_input();
  in->set_name("features");
  in->set_data_type(inference::TYPE_FP32);
  in->add_dims(4);
  c.mutable_version_policy()->mutable_latest()->set_num_versions(2);
  auto* db = c.mutable_dynamic_batching();
  db->set_max_queue_delay_microseconds(uint64_t{1} << 40);
  (*db->mutable_priority_queue_policy())[3].set_max_queue_size(9);
  (*c.mutable_parameters())["k"].set_string_value("v");
  rapidjson::Document doc;
  const std::string json = ProtoToJson(c);
  doc.Parse(json.c_str());
  ASSERT_FALSE(doc.HasParseError()) << json;
  EXPECT_EQ(doc["max_batch_size"].GetInt(), 8);
  EXPECT_STREQ(doc["input"][0]["data_type"].GetString(), "TYPE_FP32");
  EXPECT_STREQ(doc["input"][0]["format"].GetString(), "FORMAT_NONE");  // defaults printed
  EXPECT_TRUE(doc["input"][0]["dims"][0].IsInt64());
  EXPECT_EQ(doc["input"][0]["dims"][0].GetInt64(), 4);
  EXPECT_FALSE(doc["input"][0].HasMember("reshape"));  // unset messages are not
  EXPECT_EQ(doc["version_policy"]["latest"]["num_versions"].GetUint(), 2u);
  EXPECT_FALSE(doc["version_policy"].HasMember("all"));  // unset oneof members are not
  EXPECT_EQ(doc["dynamic_batching"]["max_queue_delay_microseconds"].GetUint64(), uint64_t{1} << 40);
  EXPECT_EQ(doc["dynamic_batching"]["priority_queue_policy"]["3"]["max_queue_size"].GetUint(), 9u);
  EXPECT_STREQ(doc["parameters"]["k"]["string_value"].GetString(), "v");
  EXPECT_TRUE(doc["output"].IsArray());
}

TEST(ProtoToJson, StatisticsPrintEveryDuration) {
  inference::ModelStatisticsResponse s;
  auto* m = s.add_model_stats();
  m->set_name("mlp");
  m->set_version("1");
  m->set_inference_count(5);
  m->mutable_inference_stats()->mutable_success()->set_count(5);
  ProtoJsonOptions all;
  all.print_unset_messages = true;
  rapidjson::Document doc;
  const std::string json = ProtoToJson(s, all);
  doc.Parse(json.c_str());
  ASSERT_FALSE(doc.HasParseError()) << json;
  const auto& st = doc["model_stats"][0];
  EXPECT_EQ(st["inference_count"].GetUint64(), 5u);
  EXPECT_EQ(st["inference_stats"]["success"]["count"].GetUint64(), 5u);
  EXPECT_EQ(st["inference_stats"]["queue"]["ns"].GetUint64(), 0u);
  EXPECT_EQ(st["inference_stats"]["cache_miss"]["count"].GetUint64(), 0u);
  EXPECT_TRUE(st["batch_stats"].IsArray());
}

TEST(RepositoryIndexToJson, TritonShape) {
  inference::RepositoryIndexResponse index;
  auto* a = index.add_models();
  a->set_name("a");
  a->set_version("1");
  a->set_state("READY");
  auto* b = index.add_models();
  b->set_name("b");
  b->set_state("UNAVAILABLE");
  b->set_reason("config.pbtxt:3: syntax error");
  EXPECT_EQ(RepositoryIndexToJson(index),
            R"([{"name":"a","version":"1","state":"READY"},)"
            R"({"name":"b","state":"UNAVAILABLE","reason":"config.pbtxt:3: syntax error"}])");
}

TEST(ErrorJson, Escapes) {
  EXPECT_EQ(ErrorJson("bad \"x\"\n"), R"({"error":"bad \"x\"\n"})");
}

}  // namespace
}  // namespace http
}  // namespace cortado
