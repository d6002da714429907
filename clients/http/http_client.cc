#include "clients/http/http_client.h"

#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "server/wire/kserve_wire.h"

namespace cortado {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

constexpr char kInferHeaderLength[] = "Inference-Header-Content-Length";

using Writer = rapidjson::Writer<rapidjson::StringBuffer, rapidjson::UTF8<>, rapidjson::UTF8<>,
                                 rapidjson::CrtAllocator, rapidjson::kWriteNanAndInfFlag>;

void Key(Writer& w, absl::string_view key) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}
void String(Writer& w, absl::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

template <typename T>
void WriteElement(Writer& w, const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    w.Bool(v);
  } else if constexpr (std::is_same_v<T, std::string>) {
    String(w, v);
  } else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    w.Double(static_cast<float>(v));
  } else if constexpr (std::is_floating_point_v<T>) {
    w.Double(static_cast<double>(v));
  } else if constexpr (std::is_signed_v<T>) {
    w.Int64(v);
  } else {
    w.Uint64(v);
  }
}

template <typename T>
bool ReadScalar(const rapidjson::Value& v, T* out) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.IsBool()) return false;
    *out = v.GetBool();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!v.IsString()) return false;
    out->assign(v.GetString(), v.GetStringLength());
  } else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    if (!v.IsNumber()) return false;
    *out = T(static_cast<float>(v.GetDouble()));
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.IsNumber()) return false;
    *out = static_cast<T>(v.GetDouble());
  } else if constexpr (std::is_signed_v<T>) {
    if (!v.IsInt64()) return false;
    *out = static_cast<T>(v.GetInt64());
  } else {
    if (!v.IsUint64()) return false;
    *out = static_cast<T>(v.GetUint64());
  }
  return true;
}

// Flattens a (possibly nested) JSON "data" array into `out`.
template <typename T>
absl::Status ReadData(const rapidjson::Value& v, T* out, int64_t n, int64_t* i, int depth) {
  if (v.IsArray()) {
    if (depth > 64) return absl::InvalidArgumentError("output data nested too deep");
    for (const auto& e : v.GetArray()) RETURN_IF_ERROR(ReadData(e, out, n, i, depth + 1));
    return absl::OkStatus();
  }
  if (*i >= n || !ReadScalar(v, &out[*i])) {
    return absl::InvalidArgumentError(
        absl::StrCat("output data element ", *i, " does not fit the output's datatype or shape"));
  }
  ++*i;
  return absl::OkStatus();
}

std::string PercentEncode(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<Tensor> HttpInferResult::Output(absl::string_view name) const {
  for (const auto& [n, t] : outputs) {
    if (n == name) return t;
  }
  return absl::NotFoundError(absl::StrCat("the response has no output '", name, "'"));
}

absl::StatusOr<HttpInferBody> EncodeHttpInferRequest(
    const std::vector<std::pair<std::string, Tensor>>& inputs, const HttpInferOptions& options) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  size_t binary_size = 0;
  w.StartObject();
  if (!options.id.empty()) {
    Key(w, "id");
    String(w, options.id);
  }
  Key(w, "inputs");
  w.StartArray();
  for (const auto& [name, t] : inputs) {
    if (!t.defined()) return absl::InvalidArgumentError(absl::StrCat("input '", name, "' is empty"));
    const absl::string_view datatype = KServeDatatype(t.dtype());
    if (!DTypeFromKServe(datatype).ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input '", name, "': dtype ", DTypeName(t.dtype()), " has no KServe datatype"));
    }
    w.StartObject();
    Key(w, "name");
    String(w, name);
    Key(w, "shape");
    w.StartArray();
    for (int64_t d : t.shape()) w.Int64(d);
    w.EndArray();
    Key(w, "datatype");
    String(w, datatype);
    if (options.binary_data) {
      const size_t size = RawSize(t);
      Key(w, "parameters");
      w.StartObject();
      Key(w, "binary_data_size");
      w.Uint64(size);
      w.EndObject();
      binary_size += size;
    } else {
      Key(w, "data");
      w.StartArray();
      RETURN_IF_ERROR(VisitDType(t.dtype(), DTypeSet::kAll, "input", [&](auto tag) -> absl::Status {
        using T = typename decltype(tag)::type;
        for (int64_t i = 0; i < t.num_elements(); ++i) WriteElement<T>(w, t.data<T>()[i]);
        return absl::OkStatus();
      }));
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  if (!options.outputs.empty()) {
    Key(w, "outputs");
    w.StartArray();
    for (const std::string& o : options.outputs) {
      w.StartObject();
      Key(w, "name");
      String(w, o);
      Key(w, "parameters");
      w.StartObject();
      Key(w, "binary_data");
      w.Bool(options.binary_data);
      w.EndObject();
      w.EndObject();
    }
    w.EndArray();
  } else if (options.binary_data) {
    Key(w, "parameters");
    w.StartObject();
    Key(w, "binary_data_output");
    w.Bool(true);
    w.EndObject();
  }
  w.EndObject();

  HttpInferBody out;
  out.body.reserve(buffer.GetSize() + binary_size);
  out.body.assign(buffer.GetString(), buffer.GetSize());
  if (options.binary_data) {
    out.header_length = static_cast<int64_t>(buffer.GetSize());
    for (const auto& [name, t] : inputs) {
      if (absl::Status s = AppendRaw(t, &out.body); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("input '", name, "': ", s.message()));
      }
    }
  }
  return out;
}

absl::StatusOr<HttpInferResult> DecodeHttpInferResponse(absl::string_view body,
                                                        int64_t header_length) {
  absl::string_view json = body, binary;
  if (header_length >= 0) {
    if (static_cast<uint64_t>(header_length) > body.size()) {
      return absl::InvalidArgumentError("Inference-Header-Content-Length beyond the response");
    }
    json = body.substr(0, header_length);
    binary = body.substr(header_length);
  }
  rapidjson::Document doc;
  if (absl::Status s = ParseJson(json, &doc); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("malformed infer response: ", s.message()));
  }
  if (!doc.IsObject()) return absl::InvalidArgumentError("the infer response is not an object");
  HttpInferResult result;
  auto str = [&](const char* key) -> std::string {
    auto it = doc.FindMember(key);
    return it != doc.MemberEnd() && it->value.IsString()
               ? std::string(it->value.GetString(), it->value.GetStringLength())
               : std::string();
  };
  result.model_name = str("model_name");
  result.model_version = str("model_version");
  result.id = str("id");
  auto outputs = doc.FindMember("outputs");
  if (outputs == doc.MemberEnd() || !outputs->value.IsArray()) {
    return absl::InvalidArgumentError("the infer response has no \"outputs\" array");
  }
  size_t offset = 0;
  for (const auto& o : outputs->value.GetArray()) {
    if (!o.IsObject() || !o.HasMember("name") || !o["name"].IsString() ||
        !o.HasMember("datatype") || !o["datatype"].IsString() || !o.HasMember("shape") ||
        !o["shape"].IsArray()) {
      return absl::InvalidArgumentError("an output lacks its name, datatype or shape");
    }
    const std::string name(o["name"].GetString(), o["name"].GetStringLength());
    ASSIGN_OR_RETURN(DType dtype, DTypeFromKServe(o["datatype"].GetString()));
    Shape shape;
    for (const auto& d : o["shape"].GetArray()) {
      if (!d.IsInt64() || d.GetInt64() < 0) {
        return absl::InvalidArgumentError(absl::StrCat("output '", name, "' has a bad shape"));
      }
      shape.push_back(d.GetInt64());
    }
    RETURN_IF_ERROR(ValidateShape(shape));
    Tensor t;
    auto params = o.FindMember("parameters");
    if (params != o.MemberEnd() && params->value.IsObject() &&
        params->value.HasMember("binary_data_size")) {
      const auto& size = params->value["binary_data_size"];
      if (!size.IsUint64() || size.GetUint64() > binary.size() - offset) {
        return absl::InvalidArgumentError(
            absl::StrCat("output '", name, "': binary_data_size beyond the response"));
      }
      auto decoded = DecodeRaw(binary.substr(offset, size.GetUint64()), dtype, shape);
      if (!decoded.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("output '", name, "': binary data: ", decoded.status().message()));
      }
      t = *std::move(decoded);
      offset += size.GetUint64();
    } else {
      auto data = o.FindMember("data");
      if (data == o.MemberEnd()) {
        return absl::InvalidArgumentError(absl::StrCat("output '", name, "' has no data"));
      }
      ASSIGN_OR_RETURN(t, Tensor::Create(dtype, shape));
      int64_t i = 0;
      RETURN_IF_ERROR(VisitDType(dtype, DTypeSet::kAll, "output", [&](auto tag) -> absl::Status {
        using T = typename decltype(tag)::type;
        return ReadData<T>(data->value, t.data<T>(), t.num_elements(), &i, 0);
      }));
      if (i != t.num_elements()) {
        return absl::InvalidArgumentError(
            absl::StrCat("output '", name, "' has ", i, " elements for shape ",
                         ShapeToString(shape)));
      }
    }
    result.outputs.emplace_back(name, std::move(t));
  }
  return result;
}

absl::Status StatusFromHttp(int status, absl::string_view body) {
  if (status >= 200 && status < 300) return absl::OkStatus();
  std::string message;
  rapidjson::Document doc;
  if (ParseJson(body, &doc).ok() && doc.IsObject() && doc.HasMember("error") &&
      doc["error"].IsString()) {
    message = doc["error"].GetString();
  } else {
    message = absl::StrCat("HTTP ", status, body.empty() ? "" : ": ", body.substr(0, 200));
  }
  switch (status) {
    case 400: return absl::InvalidArgumentError(message);
    case 401: return absl::UnauthenticatedError(message);
    case 403: return absl::PermissionDeniedError(message);
    case 404: return absl::NotFoundError(message);
    case 409: return absl::AlreadyExistsError(message);
    case 413:
    case 429: return absl::ResourceExhaustedError(message);
    case 501: return absl::UnimplementedError(message);
    case 503: return absl::UnavailableError(message);
    case 504: return absl::DeadlineExceededError(message);
    default:
      if (status >= 500) return absl::InternalError(message);
      return absl::InvalidArgumentError(message);
  }
}

struct HttpClient::Connection {
  net::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(std::string host, std::string port, HttpClientOptions options)
    : host_(std::move(host)), port_(std::move(port)), options_(options) {}

HttpClient::~HttpClient() = default;

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(const std::string& url,
                                                              HttpClientOptions options) {
  absl::string_view rest = url;
  absl::ConsumePrefix(&rest, "http://");
  if (absl::StartsWith(rest, "https://")) {
    return absl::InvalidArgumentError("https is not supported; use http://host:port");
  }
  rest = rest.substr(0, rest.find('/'));
  std::string host, port = "8000";
  if (absl::StartsWith(rest, "[")) {  // [v6]:port
    const size_t close = rest.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("bad server URL '", url, "'"));
    }
    host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (absl::ConsumePrefix(&rest, ":")) port = std::string(rest);
  } else {
    const size_t colon = rest.rfind(':');
    host = std::string(rest.substr(0, colon));
    if (colon != absl::string_view::npos) port = std::string(rest.substr(colon + 1));
  }
  int p = 0;
  if (host.empty() || !absl::SimpleAtoi(port, &p) || p <= 0 || p > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad server URL '", url, "' (want host:port or http://host:port)"));
  }
  return std::unique_ptr<HttpClient>(new HttpClient(host, port, options));
}

absl::StatusOr<HttpClient::Reply> HttpClient::Call(bool post, const std::string& target,
                                                   std::string body, int64_t header_length) {
  bhttp::request<bhttp::string_body> req(post ? bhttp::verb::post : bhttp::verb::get, target, 11);
  req.set(bhttp::field::host, host_ + ":" + port_);
  req.set(bhttp::field::user_agent, "cortado-http-client");
  if (post) {
    req.set(bhttp::field::content_type,
            header_length >= 0 ? "application/octet-stream" : "application/json");
  }
  if (header_length >= 0) req.set(kInferHeaderLength, std::to_string(header_length));
  req.body() = std::move(body);
  req.keep_alive(true);
  req.prepare_payload();

  absl::MutexLock lock(&mu_);
  for (int attempt = 0;; ++attempt) {
    const bool reused = connection_ != nullptr;
    beast::error_code ec;
    if (!connection_) {
      connection_ = std::make_unique<Connection>();
      tcp::resolver resolver(connection_->ioc);
      const auto endpoints = resolver.resolve(host_, port_, ec);
      if (ec) {
        connection_.reset();
        return absl::UnavailableError(
            absl::StrCat("cannot resolve ", host_, ":", port_, ": ", ec.message()));
      }
      connection_->stream.expires_after(options_.timeout);
      connection_->stream.async_connect(
          endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
      connection_->ioc.run();
      if (ec) {
        connection_.reset();
        if (ec == beast::error::timeout) {
          return absl::DeadlineExceededError(absl::StrCat("connecting to ", host_, ":", port_,
                                                          " timed out"));
        }
        return absl::UnavailableError(
            absl::StrCat("cannot connect to ", host_, ":", port_, ": ", ec.message()));
      }
    }
    Connection& c = *connection_;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    c.stream.expires_after(options_.timeout);
    bhttp::async_write(c.stream, req, [&](beast::error_code e, size_t) {
      ec = e;
      if (e) return;
      bhttp::async_read(c.stream, c.buffer, parser,
                        [&](beast::error_code e2, size_t) { ec = e2; });
    });
    c.ioc.restart();
    c.ioc.run();
    if (ec) {
      const bool got_some = parser.got_some();
      connection_.reset();
      // The server may have closed an idle keep-alive connection: try once on a new one.
      if (reused && !got_some && attempt == 0 && ec != beast::error::timeout) continue;
      if (ec == beast::error::timeout) {
        return absl::DeadlineExceededError(
            absl::StrCat(target, ": no answer within ", options_.timeout.count(), " ms"));
      }
      return absl::UnavailableError(absl::StrCat(target, ": ", ec.message()));
    }
    Reply reply;
    auto& res = parser.get();
    reply.status = static_cast<int>(res.result_int());
    if (auto it = res.find(kInferHeaderLength); it != res.end()) {
      if (!absl::SimpleAtoi(absl::string_view(it->value().data(), it->value().size()),
                            &reply.header_length)) {
        reply.header_length = -1;
      }
    }
    if (!res.keep_alive()) connection_.reset();
    reply.body = std::move(res.body());
    return reply;
  }
}

template <typename Message>
absl::StatusOr<Message> HttpClient::GetJson(const std::string& target,
                                            const std::string& wrap_key) {
  ASSIGN_OR_RETURN(Reply reply, Call(false, target, ""));
  RETURN_IF_ERROR(StatusFromHttp(reply.status, reply.body));
  Message message;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const std::string json =
      wrap_key.empty() ? reply.body : absl::StrCat("{\"", wrap_key, "\":", reply.body, "}");
  auto s = google::protobuf::util::JsonStringToMessage(json, &message, options);
  if (!s.ok()) {
    return absl::InternalError(
        absl::StrCat(target, ": unexpected answer: ", std::string(s.message())));
  }
  return message;
}

std::string HttpClient::ModelPath(const std::string& name, const std::string& version) {
  std::string path = "/v2/models/" + PercentEncode(name);
  if (!version.empty()) path += "/versions/" + PercentEncode(version);
  return path;
}

absl::StatusOr<bool> HttpClient::ServerLive() {
  ASSIGN_OR_RETURN(Reply r, Call(false, "/v2/health/live", ""));
  return r.status == 200;
}

absl::StatusOr<bool> HttpClient::ServerReady() {
  ASSIGN_OR_RETURN(Reply r, Call(false, "/v2/health/ready", ""));
  return r.status == 200;
}

absl::StatusOr<bool> HttpClient::ModelReady(const std::string& name, const std::string& version) {
  ASSIGN_OR_RETURN(Reply r, Call(false, ModelPath(name, version) + "/ready", ""));
  return r.status == 200;
}

absl::StatusOr<inference::ServerMetadataResponse> HttpClient::ServerMetadata() {
  return GetJson<inference::ServerMetadataResponse>("/v2");
}

absl::StatusOr<inference::ModelMetadataResponse> HttpClient::ModelMetadata(
    const std::string& name, const std::string& version) {
  return GetJson<inference::ModelMetadataResponse>(ModelPath(name, version));
}

absl::StatusOr<inference::ModelConfigResponse> HttpClient::ModelConfig(const std::string& name,
                                                                       const std::string& version) {
  return GetJson<inference::ModelConfigResponse>(ModelPath(name, version) + "/config", "config");
}

absl::StatusOr<inference::ModelStatisticsResponse> HttpClient::ModelStatistics(
    const std::string& name, const std::string& version) {
  const std::string target = name.empty() ? "/v2/models/stats" : ModelPath(name, version) + "/stats";
  return GetJson<inference::ModelStatisticsResponse>(target);
}

absl::StatusOr<inference::RepositoryIndexResponse> HttpClient::RepositoryIndex(bool ready_only) {
  ASSIGN_OR_RETURN(Reply reply, Call(true, "/v2/repository/index",
                                     ready_only ? R"({"ready":true})" : "{}"));
  RETURN_IF_ERROR(StatusFromHttp(reply.status, reply.body));
  inference::RepositoryIndexResponse index;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto s = google::protobuf::util::JsonStringToMessage(
      absl::StrCat("{\"models\":", reply.body, "}"), &index, options);
  if (!s.ok()) {
    return absl::InternalError(absl::StrCat("unexpected repository index: ",
                                            std::string(s.message())));
  }
  return index;
}

absl::Status HttpClient::LoadModel(const std::string& name) {
  ASSIGN_OR_RETURN(Reply r,
                   Call(true, "/v2/repository/models/" + PercentEncode(name) + "/load", "{}"));
  return StatusFromHttp(r.status, r.body);
}

absl::Status HttpClient::UnloadModel(const std::string& name) {
  ASSIGN_OR_RETURN(Reply r,
                   Call(true, "/v2/repository/models/" + PercentEncode(name) + "/unload", "{}"));
  return StatusFromHttp(r.status, r.body);
}

absl::StatusOr<HttpInferResult> HttpClient::Infer(
    const std::string& model, const std::vector<std::pair<std::string, Tensor>>& inputs,
    const HttpInferOptions& options) {
  ASSIGN_OR_RETURN(HttpInferBody body, EncodeHttpInferRequest(inputs, options));
  ASSIGN_OR_RETURN(Reply reply, Call(true, ModelPath(model, options.model_version) + "/infer",
                                     std::move(body.body), body.header_length));
  RETURN_IF_ERROR(StatusFromHttp(reply.status, reply.body));
  return DecodeHttpInferResponse(reply.body, reply.header_length);
}

}  // namespace cortado
