// KServe v2 HTTP/REST on Boost.Beast. Each connection is a Session whose handlers run on its own
// strand; a few network threads run the io_context. A session reads one request at a time
// (HTTP/1.1 keep-alive), parses it and either answers at once (health, metadata, config,
// statistics, index: cheap snapshots from the service) or hands it off: inference to
// InferenceService::Infer, whose callback encodes the response on the service's worker thread
// and posts the write back to the session's strand; model load/unload (which block until done)
// to a small control thread pool. Network threads never run a model or wait for a load. Queued
// inference whose client has closed its connection is dropped without running. With TLS a
// session first completes the handshake (OpenSSL through Boost.Beast's ssl_stream).
#include "server/http/http_server.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <poll.h>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "rapidjson/document.h"
#include "server/exception_status.h"
#include "server/http/json_codec.h"
#include "server/http/router.h"
#include "server/logging.h"
#include "server/wire/kserve_wire.h"
#include "spdlog/spdlog.h"

namespace cortado {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// A request whose body takes longer than this to arrive is dropped with its connection (the
// header's own limit is HttpOptions::header_timeout).
constexpr std::chrono::seconds kReadTimeout{300};
// How long a closing connection waits for the client to finish sending and close its side.
constexpr std::chrono::seconds kLingerTimeout{10};
// Whether the client has closed (or broken) the connection on `fd`, seen without reading:
// queued inference whose client has gone is dropped, not run.
bool PeerGone(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

constexpr uint32_t kHeaderLimit = 64 * 1024;
// Every endpoint but inference takes at most a small JSON object; a larger body is refused (413)
// before it is read.
constexpr uint64_t kControlBodyLimit = 64 * 1024;
constexpr char kJson[] = "application/json";
constexpr char kBinary[] = "application/octet-stream";
constexpr char kInferHeaderLength[] = "Inference-Header-Content-Length";

// The one place where an absl::Status becomes an HTTP status (KServe / Triton mapping).
bhttp::status HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk: return bhttp::status::ok;
    case absl::StatusCode::kNotFound: return bhttp::status::not_found;
    case absl::StatusCode::kUnavailable: return bhttp::status::service_unavailable;
    case absl::StatusCode::kUnimplemented: return bhttp::status::not_implemented;
    case absl::StatusCode::kResourceExhausted: return bhttp::status::payload_too_large;
    case absl::StatusCode::kDeadlineExceeded: return bhttp::status::gateway_timeout;
    case absl::StatusCode::kPermissionDenied: return bhttp::status::forbidden;
    case absl::StatusCode::kUnauthenticated: return bhttp::status::unauthorized;
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss: return bhttp::status::internal_server_error;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kUnknown:
    default: return bhttp::status::bad_request;
  }
}

// What a handler answers; turned into a Beast response on the session's strand.
struct Reply {
  bhttp::status status = bhttp::status::ok;
  std::string body;
  const char* content_type = kJson;
  int64_t header_length = -1;  // Inference-Header-Content-Length, when binary data follows
  bool close = false;          // close the connection after this reply
  std::string allow;           // Allow header (405)
  std::string version;         // the model version that served the request, for the access log
};

Reply ErrorReply(const absl::Status& status) {
  Reply r;
  r.status = HttpStatusOf(status);
  r.body = http::ErrorJson(status.message());
  return r;
}

Reply JsonReply(std::string body) {
  Reply r;
  r.body = std::move(body);
  return r;
}

// Health and readiness answers carry no body: 200 for true, 400 for false (as Triton does).
Reply BoolReply(bool value) {
  Reply r;
  r.status = value ? bhttp::status::ok : bhttp::status::bad_request;
  r.content_type = nullptr;
  return r;
}

// The operation's name in the access log.
const char* EndpointName(http::Endpoint e) {
  switch (e) {
    case http::Endpoint::kServerMetadata: return "server_metadata";
    case http::Endpoint::kServerLive: return "live";
    case http::Endpoint::kServerReady: return "ready";
    case http::Endpoint::kModelMetadata: return "model_metadata";
    case http::Endpoint::kModelReady: return "model_ready";
    case http::Endpoint::kModelConfig: return "model_config";
    case http::Endpoint::kModelStatistics: return "model_statistics";
    case http::Endpoint::kModelInfer: return "infer";
    case http::Endpoint::kRepositoryIndex: return "repository_index";
    case http::Endpoint::kModelLoad: return "load";
    case http::Endpoint::kModelUnload: return "unload";
  }
  return "unknown";
}

// The restricted-API category of an endpoint (Triton's grouping).
ApiCategory CategoryOf(http::Endpoint e) {
  switch (e) {
    case http::Endpoint::kServerLive:
    case http::Endpoint::kServerReady:
    case http::Endpoint::kModelReady:
      return ApiCategory::kHealth;
    case http::Endpoint::kServerMetadata:
    case http::Endpoint::kModelMetadata:
      return ApiCategory::kMetadata;
    case http::Endpoint::kModelConfig:
      return ApiCategory::kModelConfig;
    case http::Endpoint::kModelStatistics:
      return ApiCategory::kStatistics;
    case http::Endpoint::kModelInfer:
      return ApiCategory::kInference;
    case http::Endpoint::kRepositoryIndex:
    case http::Endpoint::kModelLoad:
    case http::Endpoint::kModelUnload:
      return ApiCategory::kModelRepository;
  }
  return ApiCategory::kInference;
}

// The server side of TLS from its PEM files: TLS 1.2 or newer; with `mutual`, a client must
// present a certificate that chains to root_cert_file.
absl::StatusOr<std::unique_ptr<net::ssl::context>> TlsContext(const TlsOptions& tls) {
  if (!tls.enabled()) {
    if (!tls.key_file.empty() || tls.mutual) {
      return absl::InvalidArgumentError("HTTPS needs the server certificate (--http-server-cert)");
    }
    return nullptr;
  }
  auto context = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
  beast::error_code ec;
  auto failed = [&](const char* what, const std::string& file) {
    return absl::InvalidArgumentError(
        absl::StrCat("HTTPS: cannot use ", what, " '", file, "': ", ec.message()));
  };
  context->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                           net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                           net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use,
                       ec);
  if (ec) return absl::InternalError(absl::StrCat("HTTPS: ", ec.message()));
  if (context->use_certificate_chain_file(tls.cert_file, ec); ec) {
    return failed("the server certificate", tls.cert_file);
  }
  if (context->use_private_key_file(tls.key_file, net::ssl::context::pem, ec); ec) {
    return failed("the server key", tls.key_file);
  }
  if (tls.mutual) {
    if (tls.root_cert_file.empty()) {
      return absl::InvalidArgumentError(
          "HTTPS with client certificates needs their root certificate (--http-root-cert)");
    }
    if (context->load_verify_file(tls.root_cert_file, ec); ec) {
      return failed("the root certificate", tls.root_cert_file);
    }
    context->set_verify_mode(net::ssl::verify_peer | net::ssl::verify_fail_if_no_peer_cert, ec);
    if (ec) return absl::InternalError(absl::StrCat("HTTPS: ", ec.message()));
  }
  return context;
}

// A connection's byte stream: plain TCP, or TLS over it. Beast's HTTP operations take either;
// Visit hands the one in use to a generic lambda.
class Stream {
 public:
  Stream(tcp::socket socket, net::ssl::context* tls) {
    if (tls != nullptr) {
      tls_.emplace(std::move(socket), *tls);
    } else {
      plain_.emplace(std::move(socket));
    }
  }
  template <typename F>
  void Visit(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*plain_);
    }
  }
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }
  TlsStream* tls() { return tls_ ? &*tls_ : nullptr; }

 private:
  std::optional<beast::tcp_stream> plain_;
  std::optional<TlsStream> tls_;
};

class Session;

// State shared by the server, its sessions and the callbacks still pending in the service. It
// owns the io_context so that a session (and its socket) that a late callback still holds never
// outlives it.
struct ServerState {
  ServerState(InferenceService* s, const HttpOptions& o) : service(s), options(o) {}

  net::io_context ioc;
  InferenceService* const service;
  const HttpOptions options;
  std::unique_ptr<net::ssl::context> tls;  // null: plaintext; set before the first connection
  net::thread_pool* control = nullptr;  // load/unload; valid until `closed`
  std::atomic<bool> stopping{false};    // Shutdown has begun: refuse new requests

  absl::Mutex mu;
  bool closed ABSL_GUARDED_BY(mu) = false;  // the network threads are gone
  int in_flight ABSL_GUARDED_BY(mu) = 0;    // requests read and not yet answered
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions ABSL_GUARDED_BY(mu);
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<ServerState> state, tcp::socket socket)
      : state_(std::move(state)), stream_(std::move(socket), state_->tls.get()) {}

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  ~Session() {
    absl::MutexLock lock(&state_->mu);
    if (in_request_) --state_->in_flight;
    state_->sessions.erase(this);
  }

  void Start() {
    {
      absl::MutexLock lock(&state_->mu);
      state_->sessions[this] = weak_from_this();
    }
    net::dispatch(stream_.lowest().get_executor(),
                  beast::bind_front_handler(&Session::Handshake, shared_from_this()));
  }

  // Any thread: closes the connection now (`force`), or once its current request is answered.
  void RequestClose(bool force) {
    net::post(stream_.lowest().get_executor(), [self = shared_from_this(), force] {
      if (force || !self->in_request_) self->Close();
    });
  }

  // Any thread (a service worker, the control pool): sends `reply` on the session's strand.
  void Complete(Reply reply) {
    absl::MutexLock lock(&state_->mu);
    if (state_->closed) return;  // the server is gone; drop the connection with this session
    net::post(
        stream_.lowest().get_executor(),
        [self = shared_from_this(), r = std::move(reply)]() mutable { self->Send(std::move(r)); });
  }

 private:
  // TLS: the handshake, under the header timeout (a client that stalls in it is a slowloris too).
  void Handshake() {
    TlsStream* tls = stream_.tls();
    if (tls == nullptr) return ReadHeader();
    stream_.lowest().expires_after(state_->options.header_timeout);
    tls->async_handshake(net::ssl::stream_base::server,
                         beast::bind_front_handler(&Session::OnHandshake, shared_from_this()));
  }

  void OnHandshake(beast::error_code ec) {
    if (ec) {
      spdlog::debug("HTTPS handshake refused: {}", ec.message());
      return Close();
    }
    ReadHeader();
  }

  void ReadHeader() {
    if (closed_) return;
    access_ = Access{};
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    body_limit_ = InferBodyLimit();
    parser_->body_limit(body_limit_);
    stream_.lowest().expires_after(state_->options.header_timeout);
    stream_.Visit([&](auto& s) {
      bhttp::async_read_header(s, buffer_, *parser_,
                               beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
    });
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    received_ = std::chrono::steady_clock::now();
    auto& req = parser_->get();
    // Beast checks Content-Length against the limit only while reading the header, which was
    // read under the larger inference limit; chunked bodies are counted as they arrive.
    body_limit_ = BodyLimit(req.target());
    parser_->body_limit(body_limit_);
    if (parser_->content_length().value_or(0) > body_limit_) {
      return OnReadError(bhttp::error::body_limit);
    }
    // A body of known size is leased from the server's budget before it is read; a chunked one
    // once it has arrived (OnBody).
    if (parser_->content_length() && !LeaseBody(*parser_->content_length())) return;
    if (beast::iequals(req[bhttp::field::expect], "100-continue")) {
      auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                       req.version());
      stream_.lowest().expires_after(kReadTimeout);
      stream_.Visit([&](auto& s) {
        bhttp::async_write(s, *cont,
                           [self = shared_from_this(), cont](beast::error_code ec, size_t) {
                             if (ec) return self->Close();
                             self->ReadBody();
                           });
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    stream_.lowest().expires_after(kReadTimeout);
    stream_.Visit([&](auto& s) {
      bhttp::async_read(s, buffer_, *parser_,
                        beast::bind_front_handler(&Session::OnBody, shared_from_this()));
    });
  }

  void OnBody(beast::error_code ec, size_t) {
    if (ec) return OnReadError(ec);
    if (!parser_->content_length() && !LeaseBody(parser_->get().body().size())) return;
    stream_.lowest().expires_never();  // the service may take its time; nothing is read meanwhile
    Handle(parser_->release());
  }

  // A request that could not be read: answer the ones that deserve an answer, then close.
  void OnReadError(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      BeginRequest();
      Reply r = ErrorReply(
          absl::ResourceExhaustedError(absl::StrCat("the request body is larger than the limit of ",
                                                    body_limit_, " bytes for this endpoint")));
      r.close = true;
      return Send(std::move(r));
    }
    const bool quiet = ec == bhttp::error::end_of_stream || ec == net::error::eof ||
                       ec == net::error::operation_aborted || ec == beast::error::timeout ||
                       ec == bhttp::error::partial_message || ec == net::error::connection_reset ||
                       ec == net::ssl::error::stream_truncated;
    if (quiet || closed_) return Close();
    BeginRequest();
    Reply r = ErrorReply(absl::InvalidArgumentError(
        absl::StrCat("malformed HTTP request: ", ec.message())));
    r.close = true;
    Send(std::move(r));
  }

  // Leases `bytes` of the request budget until the request is answered; false when they do not
  // fit, after answering 503 and closing.
  bool LeaseBody(uint64_t bytes) {
    auto lease = state_->service->request_bytes().Acquire(static_cast<int64_t>(bytes));
    if (lease.ok()) {
      lease_ = *std::move(lease);
      return true;
    }
    BeginRequest();
    Reply r = ErrorReply(lease.status());
    r.close = true;
    Send(std::move(r));
    return false;
  }

  uint64_t InferBodyLimit() const {
    return static_cast<uint64_t>(std::max<int64_t>(state_->options.max_body_bytes, 0));
  }

  // Inference takes bodies up to max_body_bytes; every other endpoint a small JSON object.
  uint64_t BodyLimit(beast::string_view target) const {
    auto route = http::ParseRoute(absl::string_view(target.data(), target.size()));
    const bool infer = route.ok() && route->endpoint == http::Endpoint::kModelInfer;
    return infer ? InferBodyLimit() : std::min(InferBodyLimit(), kControlBodyLimit);
  }

  void BeginRequest() {
    absl::MutexLock lock(&state_->mu);
    ++state_->in_flight;
    in_request_ = true;
  }

  void EndRequest() {
    absl::MutexLock lock(&state_->mu);
    if (in_request_) --state_->in_flight;
    in_request_ = false;
  }

  // Every exception thrown while handling a request (std::bad_alloc included) becomes its answer.
  void Handle(bhttp::request<bhttp::string_body> req) {
    BeginRequest();
    answered_ = false;
    try {
      Dispatch(req);
    } catch (...) {
      if (!answered_) Send(ErrorReply(CurrentExceptionStatus(access_.method)));
    }
  }

  void Dispatch(bhttp::request<bhttp::string_body>& req) {
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    if (state_->stopping) {
      Reply r = ErrorReply(absl::UnavailableError("the server is shutting down"));
      r.close = true;
      return Send(std::move(r));
    }
    absl::StatusOr<http::Route> route =
        http::ParseRoute(absl::string_view(req.target().data(), req.target().size()));
    if (!route.ok()) return Send(ErrorReply(route.status()));
    access_.method = EndpointName(route->endpoint);
    access_.model = route->model;
    access_.version = route->version;
    const bhttp::verb want = route->post ? bhttp::verb::post : bhttp::verb::get;
    if (req.method() != want) {
      Reply r;
      r.status = bhttp::status::method_not_allowed;
      r.allow = route->post ? "POST" : "GET";
      r.body = http::ErrorJson(absl::StrCat("method ", std::string(req.method_string()),
                                            " is not allowed here; use ", r.allow));
      return Send(std::move(r));
    }
    const absl::Status allowed = state_->options.restricted.Check(
        CategoryOf(route->endpoint), [&](absl::string_view name) -> std::optional<std::string> {
          auto it = req.find(beast::string_view(name.data(), name.size()));
          if (it == req.end()) return std::nullopt;
          return std::string(it->value());
        });
    if (!allowed.ok()) return Send(ErrorReply(allowed));
    InferenceService& service = *state_->service;
    const http::Route& rt = *route;
    switch (rt.endpoint) {
      case http::Endpoint::kServerMetadata:
        return Send(JsonReply(http::ProtoToJson(service.ServerMetadata())));
      case http::Endpoint::kServerLive:
        return Send(BoolReply(service.Live()));
      case http::Endpoint::kServerReady:
        return Send(BoolReply(service.Ready()));
      case http::Endpoint::kModelReady:
        return Send(BoolReply(service.ModelReady(rt.model, rt.version)));
      case http::Endpoint::kModelMetadata: {
        auto m = service.ModelMetadata(rt.model, rt.version);
        return Send(m.ok() ? JsonReply(http::ProtoToJson(*m)) : ErrorReply(m.status()));
      }
      case http::Endpoint::kModelConfig: {
        auto c = service.ModelConfig(rt.model, rt.version);
        return Send(c.ok() ? JsonReply(http::ProtoToJson(c->config())) : ErrorReply(c.status()));
      }
      case http::Endpoint::kModelStatistics: {
        auto s = service.ModelStatistics(rt.model, rt.version);
        http::ProtoJsonOptions all;
        all.print_unset_messages = true;
        return Send(s.ok() ? JsonReply(http::ProtoToJson(*s, all)) : ErrorReply(s.status()));
      }
      case http::Endpoint::kRepositoryIndex: {
        absl::StatusOr<bool> ready_only = ReadyOnly(req.body());
        if (!ready_only.ok()) return Send(ErrorReply(ready_only.status()));
        return Send(JsonReply(http::RepositoryIndexToJson(service.RepositoryIndex(*ready_only))));
      }
      case http::Endpoint::kModelLoad:
      case http::Endpoint::kModelUnload:
        return Control(rt, req.body());
      case http::Endpoint::kModelInfer:
        return Infer(rt, req);
    }
  }

  // POST /v2/repository/index takes an optional {"ready": bool}.
  static absl::StatusOr<bool> ReadyOnly(const std::string& body) {
    if (absl::StripAsciiWhitespace(body).empty()) return false;
    rapidjson::Document doc;
    if (absl::Status s = ParseJson(body, &doc); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the index request body must be a JSON object: ", s.message()));
    }
    if (!doc.IsObject()) {
      return absl::InvalidArgumentError("the index request body must be a JSON object");
    }
    auto it = doc.FindMember("ready");
    if (it == doc.MemberEnd()) return false;
    if (!it->value.IsBool()) return absl::InvalidArgumentError("\"ready\" must be a boolean");
    return it->value.GetBool();
  }

  // Load and unload block until the model is ready (or has failed): run them off the network
  // threads.
  void Control(const http::Route& route, const std::string& body) {
    if (!absl::StripAsciiWhitespace(body).empty()) {
      rapidjson::Document doc;
      if (absl::Status s = ParseJson(body, &doc); !s.ok()) {
        return Send(ErrorReply(absl::InvalidArgumentError(
            absl::StrCat("the load/unload request body must be a JSON object: ", s.message()))));
      }
      if (!doc.IsObject()) {
        return Send(ErrorReply(
            absl::InvalidArgumentError("the load/unload request body must be a JSON object")));
      }
      if (auto p = doc.FindMember("parameters"); p != doc.MemberEnd() && p->value.IsObject()) {
        for (const auto& m : p->value.GetObject()) {
          if (absl::string_view(m.name.GetString()) != "unload_dependents") {
            return Send(ErrorReply(absl::UnimplementedError(
                absl::StrCat("load/unload parameter '", m.name.GetString(),
                             "' (configuration or file overrides) is not supported"))));
          }
        }
      }
    }
    const bool load = route.endpoint == http::Endpoint::kModelLoad;
    answered_ = true;  // by the control pool
    net::post(*state_->control, [self = shared_from_this(), name = route.model, load] {
      InferenceService& service = *self->state_->service;
      const absl::Status s = Guarded(load ? "load" : "unload", [&] {
        return load ? service.LoadModel(name) : service.UnloadModel(name);
      });
      Reply r;
      if (s.ok()) {
        r.content_type = nullptr;
      } else {
        r = ErrorReply(s);
      }
      self->Complete(std::move(r));
    });
  }

  void Infer(const http::Route& route, bhttp::request<bhttp::string_body>& req) {
    int64_t header_length = -1;
    if (auto it = req.find(kInferHeaderLength); it != req.end()) {
      const absl::string_view v(it->value().data(), it->value().size());
      if (!absl::SimpleAtoi(v, &header_length) || header_length < 0) {
        return Send(ErrorReply(absl::InvalidArgumentError(
            absl::StrCat(kInferHeaderLength, " '", v, "' is not a byte count"))));
      }
    }
    if (auto it = req.find(bhttp::field::content_encoding); it != req.end()) {
      if (!beast::iequals(it->value(), "identity")) {
        return Send(ErrorReply(absl::UnimplementedError(absl::StrCat(
            "Content-Encoding '", std::string(it->value()), "' is not supported; send the "
            "request uncompressed"))));
      }
    }
    absl::StatusOr<http::HttpInferRequest> parsed = Guarded(
        "parsing the request", [&] { return http::ParseInferRequest(req.body(), header_length); });
    if (!parsed.ok()) return Send(ErrorReply(parsed.status()));
    InferRequest request = std::move(parsed->request);
    request.model_name = route.model;
    request.model_version = route.version;
    request.protocol = Protocol::kHttp;
    request.received = received_;
    request.cancelled = [fd = stream_.lowest().socket().native_handle()] {
      return PeerGone(fd);
    };
    access_.id = request.id;
    access_.logged_by_service = true;  // the service logs every request it is handed
    req.body().clear();
    req.body().shrink_to_fit();
    // What the response encoder needs: the client's output encoding choices.
    auto format = std::make_shared<http::HttpInferRequest>(std::move(*parsed));
    answered_ = true;  // by the service's callback
    state_->service->Infer(
        std::move(request),
        [self = shared_from_this(), format](absl::StatusOr<InferResponse> result) {
          // On a service worker thread: encoding a large response is real work, kept off the
          // network threads.
          if (!result.ok()) return self->Complete(ErrorReply(result.status()));
          absl::StatusOr<http::HttpInferResponse> encoded = Guarded(
              "encoding the response", [&] { return http::WriteInferResponse(*result, *format); });
          if (!encoded.ok()) return self->Complete(ErrorReply(encoded.status()));
          Reply r;
          r.version = result->model_version;
          r.body = std::move(encoded->body);
          r.header_length = encoded->header_length;
          if (r.header_length >= 0) r.content_type = kBinary;
          self->Complete(std::move(r));
        });
  }

  // On the strand: writes `reply`, then reads the next request (keep-alive) or closes.
  void Send(Reply reply) {
    answered_ = true;
    // The request is done with: its bytes go back to the budget before the client can see the
    // answer (and send the next request).
    lease_.Release();
    if (closed_) {
      EndRequest();
      return;
    }
    const bool close = reply.close || !keep_alive_ || state_->stopping;
    if (!reply.version.empty()) access_.version = reply.version;
    LogReply(reply);
    response_ = {};
    response_.version(version_);
    response_.result(reply.status);
    if (reply.content_type != nullptr) response_.set(bhttp::field::content_type, reply.content_type);
    if (reply.header_length >= 0) {
      response_.set(kInferHeaderLength, std::to_string(reply.header_length));
    }
    if (!reply.allow.empty()) response_.set(bhttp::field::allow, reply.allow);
    response_.body() = std::move(reply.body);
    response_.keep_alive(!close);
    response_.prepare_payload();
    stream_.lowest().expires_after(kReadTimeout);
    stream_.Visit([&](auto& s) {
      bhttp::async_write(s, response_,
                         beast::bind_front_handler(&Session::OnWrite, shared_from_this(), close));
    });
  }

  void OnWrite(bool close, beast::error_code ec, size_t) {
    EndRequest();
    response_ = {};
    if (ec) return Close();
    if (close || state_->stopping) return Linger();
    ReadHeader();
  }

  // Closes gracefully: stops sending, then reads and discards what the client still sends (the
  // rest of a refused body) until it closes, so that it gets to read the reply instead of a reset.
  // TLS after a request read whole ends with close_notify both ways instead. After a refused body
  // TLS drains as plain TCP does (the client's records are discarded unread): a TLS shutdown
  // would meet the rest of the body, fail and reset the connection under the unread reply.
  void Linger() {
    if (closed_) return Close();
    stream_.lowest().expires_after(kLingerTimeout);
    const bool body_unread = parser_ && !parser_->is_done();
    if (TlsStream* tls = stream_.tls(); tls != nullptr && !body_unread) {
      return tls->async_shutdown([self = shared_from_this()](beast::error_code) { self->Close(); });
    }
    beast::error_code ec;
    stream_.lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    drain_.resize(64 * 1024);
    Drain();
  }

  void Drain() {
    stream_.lowest().async_read_some(net::buffer(drain_),
                                     [self = shared_from_this()](beast::error_code ec, size_t) {
                                       if (ec || self->closed_) return self->Close();
                                       self->Drain();
                                     });
  }

  // The access-log line of the request being answered (unless the service wrote it: inference
  // requests that reached it), and a warning for server-side failures.
  void LogReply(const Reply& reply) {
    const int code = static_cast<int>(reply.status);
    if (code >= 500 && reply.status != bhttp::status::service_unavailable) {
      spdlog::warn("HTTP {} {}: {}", code, access_.method, reply.body);
    }
    if (!AccessLogEnabled() || access_.logged_by_service) return;
    AccessRecord record;
    record.protocol = "http";
    record.method = access_.method;
    record.model = access_.model;
    record.version = access_.version;
    record.id = access_.id;
    const std::string status = std::to_string(code);
    record.status = status;
    record.latency_ms = std::chrono::duration<double, std::milli>(
                            std::chrono::steady_clock::now() - received_)
                            .count();
    LogAccess(record);
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    stream_.lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.lowest().close();
  }

  // Declared first: destroyed last, after the socket that needs its io_context.
  std::shared_ptr<ServerState> state_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  std::vector<char> drain_;
  struct Access {
    std::string method = "unknown";
    std::string model, version, id;
    bool logged_by_service = false;
  } access_;
  std::chrono::steady_clock::time_point received_ = std::chrono::steady_clock::now();
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool closed_ = false;
  bool in_request_ = false;  // guarded by state_->mu (read on the strand)
  uint64_t body_limit_ = 0;  // of the request being read
  bool answered_ = false;    // the request being handled has been answered or handed off
  ByteBudget::Lease lease_;  // the request's bytes, until its answer is sent
};

class HttpServerImpl : public HttpServer {
 public:
  HttpServerImpl(InferenceService* service, const HttpOptions& options)
      : state_(std::make_shared<ServerState>(service, options)),
        strand_(net::make_strand(state_->ioc)),
        acceptor_(strand_),
        retry_timer_(strand_),
        work_(net::make_work_guard(state_->ioc)),
        control_(2) {
    state_->control = &control_;
  }

  ~HttpServerImpl() override { Shutdown(std::chrono::milliseconds(0)); }

  absl::Status Listen() {
    ASSIGN_OR_RETURN(state_->tls, TlsContext(state_->options.tls));
    beast::error_code ec;
    const auto address = net::ip::make_address(state_->options.address, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad HTTP address '", state_->options.address, "': ", ec.message()));
    }
    const tcp::endpoint endpoint(address, static_cast<uint16_t>(state_->options.port));
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ",
                                                 state_->options.address, ":",
                                                 state_->options.port, ": ", ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    const int threads = std::max(1, state_->options.threads);
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { state_->ioc.run(); });
    return absl::OkStatus();
  }

  int port() const override { return port_; }

  void Shutdown(std::chrono::milliseconds deadline) override {
    if (shut_down_.exchange(true)) return;
    state_->stopping = true;
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
      retry_timer_.cancel();
    });
    CloseSessions(/*force=*/false);  // idle keep-alive connections now, busy ones once answered
    {
      absl::MutexLock lock(&state_->mu);
      state_->mu.AwaitWithTimeout(
          absl::Condition(+[](int* n) { return *n == 0; }, &state_->in_flight),
          absl::FromChrono(deadline));
    }
    CloseSessions(/*force=*/true);
    work_.reset();
    state_->ioc.stop();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    {
      absl::MutexLock lock(&state_->mu);
      state_->closed = true;  // from now on, late service callbacks drop their session
    }
    // Run what is still queued (closes, aborted reads) so that sessions release the state.
    state_->ioc.restart();
    state_->ioc.poll();
    control_.stop();
    control_.join();
  }

 private:
  void Accept() {
    acceptor_.async_accept(net::make_strand(state_->ioc), [this](beast::error_code ec,
                                                                 tcp::socket socket) {
      if (ec == net::error::operation_aborted || state_->stopping) return;
      if (ec) {
        // Out of descriptors or similar: back off briefly instead of spinning.
        retry_timer_.expires_after(std::chrono::milliseconds(50));
        retry_timer_.async_wait([this](beast::error_code ec) {
          if (!ec && !state_->stopping) Accept();
        });
        return;
      }
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      if (TooManyConnections()) {
        RefuseConnection(std::move(socket));
      } else {
        std::make_shared<Session>(state_, std::move(socket))->Start();
      }
      Accept();
    });
  }

  bool TooManyConnections() {
    absl::MutexLock lock(&state_->mu);
    return static_cast<int>(state_->sessions.size()) >= state_->options.max_connections;
  }

  // Answers 503 on a connection over the cap and closes it, without reading from it. The
  // answer is small enough for a fresh socket's send buffer: the write does not block.
  void RefuseConnection(tcp::socket socket) {
    static const std::string kBusy = [] {
      const std::string body = http::ErrorJson("too many connections; try again later");
      return absl::StrCat("HTTP/1.1 503 Service Unavailable\r\nContent-Type: ", kJson,
                          "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n",
                          body);
    }();
    beast::error_code ec;
    socket.non_blocking(true, ec);
    net::write(socket, net::buffer(kBusy), ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }

  void CloseSessions(bool force) {
    std::vector<std::shared_ptr<Session>> live;
    {
      absl::MutexLock lock(&state_->mu);
      for (auto& [ptr, weak] : state_->sessions) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) s->RequestClose(force);
  }

  std::shared_ptr<ServerState> state_;  // first: the io_context outlives the objects below
  net::strand<net::io_context::executor_type> strand_;  // serializes the acceptor and its timer
  tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  net::thread_pool control_;
  std::vector<std::thread> threads_;
  std::atomic<bool> shut_down_{false};
  int port_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(InferenceService* service,
                                                             const HttpOptions& options) {
  if (service == nullptr) return absl::InvalidArgumentError("HttpServer needs a service");
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad HTTP port ", options.port));
  }
  auto server = std::make_unique<HttpServerImpl>(service, options);
  RETURN_IF_ERROR(server->Listen());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace cortado
