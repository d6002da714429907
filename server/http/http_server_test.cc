// HttpServer end to end over real sockets: a server on a free port in front of a scripted
// InferenceService, driven by a plain Beast client (and raw bytes for malformed requests).
#include "server/http/http_server.h"

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "gtest/gtest.h"
#include "model_config.pb.h"
#include "rapidjson/document.h"
#include "server/wire/kserve_wire.h"

namespace cortado {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

// Models: "add" (versions 1 and 2): FP32 "x" [-1,4] -> "y" = x + version, and "n" INT64 [1] the
// batch size. "strings": BYTES "s" [-1] -> "r", each element reversed. "slow": like "add" v1 but
// waits for Release(). "broken" is in the index, unavailable.
class FakeService : public InferenceService {
 public:
  FakeService() : InferenceService(ServiceOptions{}) {}
  ~FakeService() override {
    Release();
    std::lock_guard<std::mutex> lock(mu_);
    for (std::thread& t : workers_) t.join();
  }

  bool Live() const override { return true; }
  bool Ready() const override { return ready_; }
  inference::ServerMetadataResponse ServerMetadata() const override {
    inference::ServerMetadataResponse m;
    m.set_name("cortado");
    m.set_version("0.1.0");
    m.add_extensions("binary_tensor_data");
    return m;
  }
  bool ModelReady(const std::string& name, const std::string& version) const override {
    return Find(name, version).ok();
  }
  absl::StatusOr<inference::ModelMetadataResponse> ModelMetadata(
      const std::string& name, const std::string& version) const override {
    ASSIGN_OR_RETURN(int v, Find(name, version));
    inference::ModelMetadataResponse m;
    m.set_name(name);
    m.add_versions(std::to_string(v));
    m.set_platform("onnxruntime_onnx");
    auto* in = m.add_inputs();
    in->set_name(name == "strings" ? "s" : "x");
    in->set_datatype(name == "strings" ? "BYTES" : "FP32");
    in->add_shape(-1);
    if (name != "strings") in->add_shape(4);
    return m;
  }
  absl::StatusOr<inference::ModelConfigResponse> ModelConfig(
      const std::string& name, const std::string& version) const override {
    RETURN_IF_ERROR(Find(name, version).status());
    inference::ModelConfigResponse r;
    r.mutable_config()->set_name(name);
    r.mutable_config()->set_platform("onnxruntime_onnx");
    r.mutable_config()->set_max_batch_size(8);
    auto* in = r.mutable_config()->add_input();
    in->set_name("x");
    in->set_data_type(inference::TYPE_FP32);
    in->add_dims(4);
    return r;
  }
  absl::StatusOr<inference::ModelStatisticsResponse> ModelStatistics(
      const std::string& name, const std::string& version) const override {
    inference::ModelStatisticsResponse r;
    if (!name.empty()) {
      ASSIGN_OR_RETURN(int v, Find(name, version));
      auto* s = r.add_model_stats();
      s->set_name(name);
      s->set_version(std::to_string(v));
      s->set_inference_count(inferences_);
    }
    return r;
  }
  inference::RepositoryIndexResponse RepositoryIndex(bool ready_only) const override {
    inference::RepositoryIndexResponse r;
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string m : {"add", "broken", "slow", "strings"}) {
      const bool ready = m != "broken" && loaded_.count(m) > 0;
      if (ready_only && !ready) continue;
      auto* e = r.add_models();
      e->set_name(m);
      if (ready) e->set_version(m == "add" ? "2" : "1");
      e->set_state(ready ? "READY" : "UNAVAILABLE");
      if (m == "broken") e->set_reason("config.pbtxt:1:1: syntax error");
      if (!ready && m != "broken") e->set_reason("unloaded");
    }
    return r;
  }
  absl::Status LoadModel(const std::string& name) override {
    if (name != "add" && name != "slow" && name != "strings") {
      return absl::NotFoundError(absl::StrCat("no model '", name, "' in the repository"));
    }
    std::lock_guard<std::mutex> lock(mu_);
    loaded_.insert(name);
    return absl::OkStatus();
  }
  absl::Status UnloadModel(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (loaded_.erase(name) == 0) {
      return absl::NotFoundError(absl::StrCat("model '", name, "' is not loaded"));
    }
    return absl::OkStatus();
  }

  void Infer(InferRequest request, InferCallback done) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (request.protocol != Protocol::kHttp) {
      done(absl::InternalError("protocol not set"));
      return;
    }
    workers_.emplace_back([this, request = std::move(request), done = std::move(done)] {
      done(Run(request));
    });
  }

  void Shutdown(std::chrono::milliseconds) override { ready_ = false; }

  void set_ready(bool ready) { ready_ = ready; }
  // Waits until a "slow" request is running.
  void AwaitSlow() {
    std::unique_lock<std::mutex> lock(slow_mu_);
    slow_cv_.wait(lock, [this] { return slow_running_; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(slow_mu_);
    released_ = true;
    slow_cv_.notify_all();
  }

 private:
  absl::StatusOr<int> Find(const std::string& name, const std::string& version) const {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (loaded_.count(name) == 0) {
        return absl::NotFoundError(absl::StrCat("unknown model '", name, "'"));
      }
    }
    const int newest = name == "add" ? 2 : 1;
    if (version.empty()) return newest;
    const int v = std::stoi(version);
    if (v < 1 || v > newest) {
      return absl::NotFoundError(
          absl::StrCat("model '", name, "' has no version ", version, " ready"));
    }
    return v;
  }

  absl::StatusOr<InferResponse> Run(const InferRequest& request) {
    ASSIGN_OR_RETURN(int version, Find(request.model_name, request.model_version));
    if (request.model_name == "slow") {
      std::unique_lock<std::mutex> lock(slow_mu_);
      slow_running_ = true;
      slow_cv_.notify_all();
      slow_cv_.wait(lock, [this] { return released_; });
    }
    ++inferences_;
    InferResponse out;
    out.model_name = request.model_name;
    out.model_version = std::to_string(version);
    out.id = request.id;
    const std::string want = request.model_name == "strings" ? "s" : "x";
    if (request.inputs.size() != 1 || request.inputs[0].first != want) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", request.model_name, "' takes one input named '", want, "'"));
    }
    const Tensor& x = request.inputs[0].second;
    if (request.model_name == "strings") {
      if (x.dtype() != DType::kString || x.rank() != 1) {
        return absl::InvalidArgumentError("input 's' must be BYTES [-1]");
      }
      Tensor r = Tensor::Create(DType::kString, x.shape()).value();
      for (int64_t i = 0; i < x.num_elements(); ++i) {
        const std::string& s = x.data<std::string>()[i];
        r.data<std::string>()[i] = std::string(s.rbegin(), s.rend());
      }
      out.outputs.emplace_back("r", r);
      return out;
    }
    if (x.dtype() != DType::kFloat32) {
      return absl::InvalidArgumentError(absl::StrCat("input 'x' must be FP32, got ",
                                                     KServeDatatype(x.dtype())));
    }
    if (x.rank() != 2 || x.dim(1) != 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("input 'x' must have shape [-1,4], got ", ShapeToString(x.shape())));
    }
    Tensor y = Tensor::Create(DType::kFloat32, x.shape()).value();
    for (int64_t i = 0; i < x.num_elements(); ++i) y.data<float>()[i] = x.data<float>()[i] + version;
    const bool want_y = request.requested_outputs.empty() ||
                        std::count(request.requested_outputs.begin(),
                                   request.requested_outputs.end(), "y") > 0;
    const bool want_n = request.requested_outputs.empty() ||
                        std::count(request.requested_outputs.begin(),
                                   request.requested_outputs.end(), "n") > 0;
    for (const std::string& o : request.requested_outputs) {
      if (o != "y" && o != "n") return absl::InvalidArgumentError("unknown output '" + o + "'");
    }
    if (want_y) out.outputs.emplace_back("y", y);
    if (want_n) out.outputs.emplace_back("n", Tensor::FromVector<int64_t>({x.dim(0)}, {1}));
    return out;
  }

  std::atomic<bool> ready_{true};
  std::atomic<uint64_t> inferences_{0};
  mutable std::mutex mu_;
  std::set<std::string> loaded_{"add", "slow", "strings"};
  std::vector<std::thread> workers_;
  std::mutex slow_mu_;
  std::condition_variable slow_cv_;
  bool slow_running_ = false;
  bool released_ = false;
};

struct Response {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  bool keep_alive = true;
};

// One keep-alive connection.
class Client {
 public:
  explicit Client(int port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }

  Response Send(bhttp::verb method, const std::string& target, const std::string& body = "",
                const std::map<std::string, std::string>& headers = {}) {
    bhttp::request<bhttp::string_body> req(method, target, 11);
    req.set(bhttp::field::host, "localhost");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    bhttp::write(socket_, req);
    return Read();
  }
  Response Get(const std::string& target) { return Send(bhttp::verb::get, target); }
  Response Post(const std::string& target, const std::string& body,
                const std::map<std::string, std::string>& headers = {}) {
    return Send(bhttp::verb::post, target, body, headers);
  }

  Response Raw(const std::string& bytes) {
    net::write(socket_, net::buffer(bytes));
    return Read();
  }

  Response Read() {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(1ull << 32);
    bhttp::read(socket_, buffer_, parser);
    Response r;
    r.status = static_cast<int>(parser.get().result_int());
    r.body = parser.get().body();
    r.keep_alive = parser.get().keep_alive();
    for (const auto& f : parser.get()) {
      r.headers[std::string(f.name_string())] = std::string(f.value());
    }
    return r;
  }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(1 << 20); }

  void StartServer(int64_t max_body) {
    HttpOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.threads = 2;
    options.max_body_bytes = max_body;
    auto server = HttpServer::Start(&service_, options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_GT(server_->port(), 0);
  }

  // The server still answers, on a new connection.
  void ExpectAlive() {
    Client c(server_->port());
    EXPECT_EQ(c.Get("/v2/health/live").status, 200);
  }

  static rapidjson::Document Json(const std::string& body) {
    rapidjson::Document doc;
    doc.Parse(body.c_str());
    EXPECT_FALSE(doc.HasParseError()) << body;
    return doc;
  }

  static std::string ErrorOf(const Response& r) {
    rapidjson::Document doc = Json(r.body);
    if (!doc.IsObject() || !doc.HasMember("error") || !doc["error"].IsString()) {
      ADD_FAILURE() << "not an error body: " << r.body;
      return "";
    }
    return doc["error"].GetString();
  }

  FakeService service_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, HealthAndServerMetadata) {
  Client c(server_->port());
  EXPECT_EQ(c.Get("/v2/health/live").status, 200);
  EXPECT_EQ(c.Get("/v2/health/ready").status, 200);
  service_.set_ready(false);
  Response not_ready = c.Get("/v2/health/ready");
  EXPECT_EQ(not_ready.status, 400);
  EXPECT_TRUE(not_ready.body.empty());
  service_.set_ready(true);
  Response meta = c.Get("/v2");
  EXPECT_EQ(meta.status, 200);
  EXPECT_EQ(meta.headers["Content-Type"], "application/json");
  EXPECT_EQ(meta.body, R"({"name":"cortado","version":"0.1.0","extensions":["binary_tensor_data"]})");
}

TEST_F(HttpServerTest, ModelMetadataConfigStatsReady) {
  Client c(server_->port());
  Response meta = c.Get("/v2/models/add");
  ASSERT_EQ(meta.status, 200) << meta.body;
  EXPECT_EQ(meta.body,
            R"({"name":"add","versions":["2"],"platform":"onnxruntime_onnx",)"
            R"("inputs":[{"name":"x","datatype":"FP32","shape":[-1,4]}],"outputs":[]})");
  EXPECT_EQ(Json(c.Get("/v2/models/add/versions/1").body)["versions"][0].GetString(),
            std::string("1"));
  rapidjson::Document config = Json(c.Get("/v2/models/add/config").body);
  EXPECT_EQ(config["max_batch_size"].GetInt(), 8);
  EXPECT_EQ(config["input"][0]["dims"][0].GetInt64(), 4);
  EXPECT_STREQ(config["input"][0]["data_type"].GetString(), "TYPE_FP32");
  rapidjson::Document stats = Json(c.Get("/v2/models/add/versions/2/stats").body);
  EXPECT_STREQ(stats["model_stats"][0]["version"].GetString(), "2");
  EXPECT_TRUE(stats["model_stats"][0]["inference_stats"]["success"]["count"].IsUint64());
  EXPECT_EQ(c.Get("/v2/models/stats").status, 200);
  EXPECT_EQ(c.Get("/v2/models/add/ready").status, 200);
  EXPECT_EQ(c.Get("/v2/models/add/versions/2/ready").status, 200);
  EXPECT_EQ(c.Get("/v2/models/add/versions/3/ready").status, 400);
  EXPECT_EQ(c.Get("/v2/models/nope/ready").status, 400);
}

TEST_F(HttpServerTest, UnknownModelVersionAndBadNames) {
  Client c(server_->port());
  Response r = c.Get("/v2/models/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorOf(r), "unknown model 'nope'");
  r = c.Get("/v2/models/add/versions/7/config");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(ErrorOf(r).find("no version 7"), std::string::npos);
  r = c.Post("/v2/models/add/versions/7/infer", R"({"inputs":[]})");
  EXPECT_EQ(r.status, 404);
  r = c.Post("/v2/models/nope/infer", R"({"inputs":[]})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorOf(r), "unknown model 'nope'");
  r = c.Get("/v2/models/add/versions/latest");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(ErrorOf(r).find("not a number"), std::string::npos);
  r = c.Post("/v2/models/add/versions/1x/infer", "{}");
  EXPECT_EQ(r.status, 400);
  for (const char* target : {"/v2/models/../config", "/v2/models/%2e%2e/infer",
                             "/v2/models/a/b/infer", "/v2/models/a%2Fb/infer"}) {
    r = std::string(target).find("infer") != std::string::npos ? c.Post(target, "{}")
                                                                : c.Get(target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_NE(ErrorOf(r).find("model name"), std::string::npos) << target << ": " << r.body;
  }
  r = c.Post("/v2/repository/models/../load", "");
  EXPECT_EQ(r.status, 400);
  r = c.Get("/v3/whatever");
  EXPECT_EQ(r.status, 404);
  r = c.Get("/v2/models/add/infer");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers["Allow"], "POST");
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(c.Get("/v2/health/live").status, 200);  // same connection still usable
}

TEST_F(HttpServerTest, InferJson) {
  Client c(server_->port());
  Response r = c.Post("/v2/models/add/infer", R"({
      "id": "q1",
      "inputs": [{"name": "x", "shape": [2, 4], "datatype": "FP32",
                  "data": [[1, 2, 3, 4], [0.5, -1, 1e3, 0]]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.count("Inference-Header-Content-Length"), 0u);
  EXPECT_EQ(r.body,
            R"({"model_name":"add","model_version":"2","id":"q1","outputs":[)"
            R"({"name":"y","datatype":"FP32","shape":[2,4],"data":[3,4,5,6,2.5,1,1002,2]},)"
            R"({"name":"n","datatype":"INT64","shape":[1],"data":[2]}]})");
  // A chosen version and a chosen output.
  r = c.Post("/v2/models/add/versions/1/infer",
             R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,1,1,1]}],)"
             R"("outputs":[{"name":"y"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"model_name":"add","model_version":"1","outputs":[)"
                    R"({"name":"y","datatype":"FP32","shape":[1,4],"data":[2,2,2,2]}]})");
  // BYTES in JSON.
  r = c.Post("/v2/models/strings/infer",
             R"({"inputs":[{"name":"s","shape":[2],"datatype":"BYTES","data":["abc","xy"]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("data":["cba","yx"])"), std::string::npos) << r.body;
}

std::string U32(uint32_t v) {
  std::string s(4, '\0');
  std::memcpy(&s[0], &v, 4);
  return s;
}

TEST_F(HttpServerTest, InferBinaryTensors) {
  Client c(server_->port());
  const std::string header =
      R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}],)"
      R"("outputs":[{"name":"y","parameters":{"binary_data":true}},{"name":"n","parameters":{"binary_data":false}}]})";
  const float x[4] = {0.25f, -1.5f, 3.0f, 1e-3f};
  const std::string body = header + std::string(reinterpret_cast<const char*>(x), sizeof(x));
  Response r = c.Post("/v2/models/add/infer", body,
                      {{"Inference-Header-Content-Length", std::to_string(header.size())},
                       {"Content-Type", "application/octet-stream"}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.headers.count("Inference-Header-Content-Length"), 1u);
  const size_t json_size = std::stoul(r.headers["Inference-Header-Content-Length"]);
  ASSERT_EQ(r.body.size(), json_size + 16);
  rapidjson::Document doc = Json(r.body.substr(0, json_size));
  EXPECT_EQ(doc["outputs"][0]["parameters"]["binary_data_size"].GetUint64(), 16u);
  EXPECT_EQ(doc["outputs"][1]["data"][0].GetInt64(), 1);
  float y[4];
  std::memcpy(y, r.body.data() + json_size, 16);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(y[i], x[i] + 2) << i;

  // BYTES both ways, chosen for every output with the request parameter.
  const std::string sheader =
      R"({"inputs":[{"name":"s","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":13}}],)"
      R"("parameters":{"binary_data_output":true}})";
  const std::string sbody = sheader + U32(3) + "abc" + U32(2) + std::string("\0z", 2);
  r = c.Post("/v2/models/strings/infer", sbody,
             {{"Inference-Header-Content-Length", std::to_string(sheader.size())}});
  ASSERT_EQ(r.status, 200) << r.body;
  const size_t sjson = std::stoul(r.headers["Inference-Header-Content-Length"]);
  EXPECT_EQ(r.body.substr(sjson), U32(3) + "cba" + U32(2) + std::string("z\0", 2));
}

TEST_F(HttpServerTest, BadInferRequestsGetClearErrorsAndTheServerStaysUp) {
  Client c(server_->port());
  const std::string bin_header =
      R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]})";
  const struct {
    const char* what;
    std::string body;
    std::map<std::string, std::string> headers;
    int status;
    const char* error_part;
  } cases[] = {
      {"wrong input name", R"({"inputs":[{"name":"z","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]})",
       {}, 400, "named 'x'"},
      {"wrong dtype", R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"INT32","data":[1,2,3,4]}]})",
       {}, 400, "must be FP32"},
      {"wrong shape", R"({"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[1,2,3,4]}]})",
       {}, 400, "shape [-1,4]"},
      {"data vs shape", R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3]}]})",
       {}, 400, "has 4 elements"},
      {"malformed JSON", R"({"inputs":[{"name":"x",)", {}, 400, "malformed JSON"},
      {"header length beyond body", R"({"inputs":[]})", {{"Inference-Header-Content-Length", "999"}},
       400, "Inference-Header-Content-Length is 999"},
      {"header length not a number", R"({"inputs":[]})",
       {{"Inference-Header-Content-Length", "12abc"}}, 400, "not a byte count"},
      {"binary beyond body", bin_header + "12345678",
       {{"Inference-Header-Content-Length", std::to_string(bin_header.size())}}, 400,
       "goes beyond the end"},
      {"unknown output", R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"outputs":[{"name":"q"}]})",
       {}, 400, "unknown output 'q'"},
      {"compressed", R"({"inputs":[]})", {{"Content-Encoding", "gzip"}}, 501, "Content-Encoding"},
  };
  for (const auto& k : cases) {
    Response r = c.Post("/v2/models/add/infer", k.body, k.headers);
    EXPECT_EQ(r.status, k.status) << k.what << ": " << r.body;
    EXPECT_NE(ErrorOf(r).find(k.error_part), std::string::npos) << k.what << ": " << r.body;
    EXPECT_TRUE(r.keep_alive) << k.what;
  }
  ExpectAlive();
  // And it still infers on the same connection.
  Response ok = c.Post("/v2/models/add/infer",
                       R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[0,0,0,0]}]})");
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(HttpServerTest, BodyOverTheLimitIs413) {
  Client c(server_->port());
  const std::string big(2 << 20, ' ');  // limit is 1 MiB
  Response r = c.Post("/v2/models/add/infer", big);
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(ErrorOf(r).find("larger than the limit of 1048576 bytes"), std::string::npos) << r.body;
  EXPECT_FALSE(r.keep_alive);
  ExpectAlive();
}

TEST_F(HttpServerTest, MalformedHttpIs400) {
  {
    Client c(server_->port());
    Response r = c.Raw("GARBAGE\r\n\r\n");
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(ErrorOf(r).find("malformed HTTP request"), std::string::npos) << r.body;
  }
  {
    Client c(server_->port());
    Response r = c.Raw("POST /v2/models/add/infer HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n");
    EXPECT_EQ(r.status, 400);
  }
  ExpectAlive();
}

TEST_F(HttpServerTest, ExpectContinue) {
  Client c(server_->port());
  const std::string body =
      R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]})";
  Response cont = c.Raw("POST /v2/models/add/infer HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                        "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  EXPECT_EQ(cont.status, 100);
  Response r = c.Raw(body);
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(HttpServerTest, RepositoryIndexLoadUnload) {
  Client c(server_->port());
  Response index = c.Post("/v2/repository/index", "");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.body,
            R"([{"name":"add","version":"2","state":"READY"},)"
            R"({"name":"broken","state":"UNAVAILABLE","reason":"config.pbtxt:1:1: syntax error"},)"
            R"({"name":"slow","version":"1","state":"READY"},)"
            R"({"name":"strings","version":"1","state":"READY"}])");
  EXPECT_EQ(c.Post("/v2/repository/models/strings/unload",
                   R"({"parameters":{"unload_dependents":false}})").status, 200);
  EXPECT_EQ(c.Get("/v2/models/strings/ready").status, 400);
  Response ready_only = c.Post("/v2/repository/index", R"({"ready": true})");
  EXPECT_EQ(ready_only.body.find("strings"), std::string::npos) << ready_only.body;
  EXPECT_EQ(ready_only.body.find("broken"), std::string::npos) << ready_only.body;
  EXPECT_EQ(c.Post("/v2/repository/models/strings/load", "{}").status, 200);
  EXPECT_EQ(c.Get("/v2/models/strings/ready").status, 200);
  Response unknown = c.Post("/v2/repository/models/nope/load", "");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(ErrorOf(unknown).find("nope"), std::string::npos);
  Response config = c.Post("/v2/repository/models/add/load", R"({"parameters":{"config":"{}"}})");
  EXPECT_EQ(config.status, 501);
  EXPECT_EQ(c.Post("/v2/repository/index", "{").status, 400);
}

TEST_F(HttpServerTest, ConcurrentClients) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Client c(server_->port());
      for (int i = 0; i < 20; ++i) {
        const float v = static_cast<float>(t * 100 + i);
        const std::string body = absl::StrCat(
            R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[)", v, ",", v, ",",
            v, ",", v, "]}],\"outputs\":[{\"name\":\"y\"}]}");
        Response r = c.Post("/v2/models/add/infer", body);
        if (r.status == 200 && r.body.find(absl::StrCat("\"data\":[", v + 2, ",")) != std::string::npos) {
          ++ok;
        } else {
          ADD_FAILURE() << r.status << " " << r.body;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8 * 20);
}

TEST_F(HttpServerTest, ShutdownLetsRequestsInFlightFinishAndRefusesNewOnes) {
  Client idle(server_->port());  // an idle keep-alive connection must not hold shutdown up
  EXPECT_EQ(idle.Get("/v2/health/live").status, 200);
  Response slow;
  std::thread request([&] {
    Client c(server_->port());
    slow = c.Post("/v2/models/slow/infer",
                  R"({"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]})");
  });
  service_.AwaitSlow();
  const int port = server_->port();
  std::thread stopper([&] { server_->Shutdown(std::chrono::seconds(60)); });
  // New connections are refused once the acceptor is closed.
  bool refused = false;
  for (int i = 0; i < 200 && !refused; ++i) {
    try {
      Client c(port);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } catch (const std::exception&) {
      refused = true;
    }
  }
  EXPECT_TRUE(refused);
  service_.Release();
  request.join();
  stopper.join();
  EXPECT_EQ(slow.status, 200) << slow.body;
  EXPECT_FALSE(slow.keep_alive);
}

}  // namespace
}  // namespace cortado
