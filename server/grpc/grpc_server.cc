// The KServe v2 gRPC adapter on gRPC's callback API. Handlers only decode and hand off:
// ModelInfer and ModelStreamInfer queue the request with InferenceService::Infer and finish
// (or write) from its completion callback, on the service's worker threads; model loads and
// unloads, which block until done, run on two adapter threads of their own. Cheap queries
// (health, metadata, config, statistics, index) answer inline. A background thread mirrors
// InferenceService::Ready() into grpc.health.v1.Health.
#include "server/grpc/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <climits>
#include <deque>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpc_service.grpc.pb.h"
#include "server/exception_status.h"
#include "server/grpc/grpc_codec.h"

namespace cortado {
namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

constexpr char kServiceName[] = "inference.GRPCInferenceService";

// The codec behind the edge. The message's bytes are leased from the server's budget first
// (`lease` holds them until the request is answered); an exception (std::bad_alloc) becomes
// the request's error. The call's deadline and cancellation travel with the request, so that
// the service drops it unrun once its client has gone (`ctx` outlives the request: the call
// finishes only after the service has answered).
absl::StatusOr<InferRequest> Decode(const inference::ModelInferRequest& request,
                                    grpc::CallbackServerContext* ctx, ByteBudget& budget,
                                    std::shared_ptr<ByteBudget::Lease>* lease) {
  auto leased = budget.Acquire(static_cast<int64_t>(request.ByteSizeLong()));
  if (!leased.ok()) return leased.status();
  *lease = std::make_shared<ByteBudget::Lease>(*std::move(leased));
  absl::StatusOr<InferRequest> decoded =
      Guarded("decoding the request", [&] { return DecodeInferRequest(request); });
  if (!decoded.ok()) return decoded;
  const auto deadline = ctx->deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    const auto left = deadline - std::chrono::system_clock::now();
    decoded->deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(left);
  }
  decoded->cancelled = [ctx] { return ctx->IsCancelled(); };
  return decoded;
}
absl::Status Encode(const InferResponse& response, inference::ModelInferResponse* out) {
  return Guarded("encoding the response", [&] { return EncodeInferResponse(response, out); });
}

// Runs blocking calls (model load/unload) off gRPC's threads. Stop() runs what is queued, then
// joins. Thread-safe.
class BlockingRunner {
 public:
  explicit BlockingRunner(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~BlockingRunner() { Stop(); }
  BlockingRunner(const BlockingRunner&) = delete;
  BlockingRunner& operator=(const BlockingRunner&) = delete;

  void Post(std::function<void()> fn) {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(fn));
  }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> fn;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](BlockingRunner* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) {
              return r->stopping_ || !r->queue_.empty();
            },
            this));
        if (queue_.empty()) return;  // stopping, nothing left
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
    }
  }

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

// ModelStreamInfer: each request read is queued with the service; responses (or per-request
// errors in error_message) are written in completion order, one write in flight at a time. The
// stream finishes OK once the client is done writing and every response is written. StartWrite
// and Finish are never called with mu_ held (a reaction may run inline, and OnDone deletes this).
class StreamInferReactor : public grpc::ServerBidiReactor<inference::ModelInferRequest,
                                                          inference::ModelStreamInferResponse> {
 public:
  StreamInferReactor(InferenceService* service, grpc::CallbackServerContext* ctx, int window)
      : service_(service), ctx_(ctx), window_(window < 1 ? 1 : window) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client half-closed, or the call was cancelled
      bool finish;
      {
        absl::MutexLock lock(&mu_);
        reads_done_ = true;
        finish = ShouldFinishLocked();
      }
      if (finish) Finish(grpc::Status::OK);
      return;
    }
    std::shared_ptr<ByteBudget::Lease> lease;
    absl::StatusOr<InferRequest> decoded =
        Decode(request_, ctx_, service_->request_bytes(), &lease);
    if (!decoded.ok()) {
      Respond(request_.model_name(), request_.model_version(), request_.id(), decoded.status());
    } else {
      {
        absl::MutexLock lock(&mu_);
        ++pending_;
      }
      std::string name = decoded->model_name, version = decoded->model_version, id = decoded->id;
      service_->Infer(*std::move(decoded),
                      [this, name, version, id, lease](absl::StatusOr<InferResponse> result) {
                        lease->Release();  // before the client can see the answer
                        if (result.ok()) {
                          Respond(*std::move(result));
                        } else {
                          Respond(name, version, id, result.status());
                        }
                        bool finish, resume;
                        {
                          absl::MutexLock lock(&mu_);
                          --pending_;
                          finish = ShouldFinishLocked();
                          resume = ShouldResumeReadingLocked();
                        }
                        if (resume) StartRead(&request_);
                        if (finish) Finish(grpc::Status::OK);
                      });
    }
    // Reads stay sequential: the next read starts only now (or once the window has room), and
    // the decoded request owns copies of everything it needs from request_.
    bool read_now;
    {
      absl::MutexLock lock(&mu_);
      read_now = pending_ + static_cast<int64_t>(writes_.size()) < window_;
      read_paused_ = !read_now;
    }
    if (read_now) StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    const inference::ModelStreamInferResponse* next = nullptr;
    bool finish = false, resume = false;
    {
      absl::MutexLock lock(&mu_);
      writes_.pop_front();
      if (!ok) {  // the stream is broken: drop what is left
        write_failed_ = true;
        writes_.clear();
      }
      if (!writes_.empty()) {
        next = writes_.front().get();
      } else {
        writing_ = false;
        finish = ShouldFinishLocked();
      }
      resume = ShouldResumeReadingLocked();
    }
    if (resume) StartRead(&request_);
    if (next != nullptr) {
      StartWrite(next);
    } else if (finish) {
      Finish(grpc::Status::OK);
    }
  }

  void OnDone() override { delete this; }

 private:
  void Respond(InferResponse response) {
    auto out = std::make_unique<inference::ModelStreamInferResponse>();
    absl::Status s = Encode(response, out->mutable_infer_response());
    if (!s.ok()) {
      Respond(response.model_name, response.model_version, response.id, s);
      return;
    }
    Enqueue(std::move(out));
  }

  void Respond(const std::string& name, const std::string& version, const std::string& id,
               const absl::Status& error) {
    auto out = std::make_unique<inference::ModelStreamInferResponse>();
    out->set_error_message(std::string(error.message()));
    out->mutable_infer_response()->set_model_name(name);
    out->mutable_infer_response()->set_model_version(version);
    out->mutable_infer_response()->set_id(id);
    Enqueue(std::move(out));
  }

  void Enqueue(std::unique_ptr<inference::ModelStreamInferResponse> response) {
    const inference::ModelStreamInferResponse* first = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (write_failed_ || finished_) return;
      writes_.push_back(std::move(response));
      if (!writing_) {
        writing_ = true;
        first = writes_.front().get();  // stays put: only OnWriteDone pops, after this write
      }
    }
    if (first != nullptr) StartWrite(first);
  }

  // True (once per pause) when reading paused for a full window and the window has room again.
  bool ShouldResumeReadingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!read_paused_ || reads_done_ ||
        pending_ + static_cast<int64_t>(writes_.size()) >= window_) {
      return false;
    }
    read_paused_ = false;
    return true;
  }

  // True exactly once: when the client is done writing, nothing is pending and nothing is being
  // written.
  bool ShouldFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!reads_done_ || pending_ > 0 || writing_ || finished_) return false;
    finished_ = true;
    return true;
  }

  InferenceService* const service_;
  grpc::CallbackServerContext* const ctx_;  // the stream's; valid until OnDone
  const int64_t window_;
  inference::ModelInferRequest request_;  // only touched by the read callbacks, one at a time
  absl::Mutex mu_;
  std::deque<std::unique_ptr<inference::ModelStreamInferResponse>> writes_ ABSL_GUARDED_BY(mu_);
  int64_t pending_ ABSL_GUARDED_BY(mu_) = 0;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;  // a full window holds the next read back
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

class KServeService final : public inference::GRPCInferenceService::CallbackService {
 public:
  KServeService(InferenceService* service, BlockingRunner* blocking, const GrpcOptions& options)
      : service_(service),
        blocking_(blocking),
        stream_window_(options.stream_window),
        restricted_(options.restricted) {}

  ServerUnaryReactor* ServerLive(CallbackServerContext* ctx, const inference::ServerLiveRequest*,
                                 inference::ServerLiveResponse* response) override {
    if (absl::Status s = Allowed(ctx, ApiCategory::kHealth); !s.ok()) return Done(ctx, s);
    response->set_live(service_->Live());
    return Done(ctx, absl::OkStatus());
  }

  ServerUnaryReactor* ServerReady(CallbackServerContext* ctx, const inference::ServerReadyRequest*,
                                  inference::ServerReadyResponse* response) override {
    if (absl::Status s = Allowed(ctx, ApiCategory::kHealth); !s.ok()) return Done(ctx, s);
    response->set_ready(service_->Ready());
    return Done(ctx, absl::OkStatus());
  }

  ServerUnaryReactor* ModelReady(CallbackServerContext* ctx,
                                 const inference::ModelReadyRequest* request,
                                 inference::ModelReadyResponse* response) override {
    if (absl::Status s = Allowed(ctx, ApiCategory::kHealth); !s.ok()) return Done(ctx, s);
    response->set_ready(service_->ModelReady(request->name(), request->version()));
    return Done(ctx, absl::OkStatus());
  }

  ServerUnaryReactor* ServerMetadata(CallbackServerContext* ctx,
                                     const inference::ServerMetadataRequest*,
                                     inference::ServerMetadataResponse* response) override {
    if (absl::Status s = Allowed(ctx, ApiCategory::kMetadata); !s.ok()) return Done(ctx, s);
    *response = service_->ServerMetadata();
    return Done(ctx, absl::OkStatus());
  }

  ServerUnaryReactor* ModelMetadata(CallbackServerContext* ctx,
                                    const inference::ModelMetadataRequest* request,
                                    inference::ModelMetadataResponse* response) override {
    if (absl::Status s = Allowed(ctx, ApiCategory::kMetadata); !s.ok()) return Done(ctx, s);
    return Answer(ctx, service_->ModelMetadata(request->name(), request->version()), response);
  }

  ServerUnaryReactor* ModelConfig(CallbackServerContext* ctx,
                                  const inference::ModelConfigRequest* request,
                                  inference::ModelConfigResponse* response) override {
    if (absl::Status s = Allowed(ctx, ApiCategory::kModelConfig); !s.ok()) return Done(ctx, s);
    return Answer(ctx, service_->ModelConfig(request->name(), request->version()), response);
  }

  ServerUnaryReactor* ModelStatistics(CallbackServerContext* ctx,
                                      const inference::ModelStatisticsRequest* request,
                                      inference::ModelStatisticsResponse* response) override {
    if (absl::Status s = Allowed(ctx, ApiCategory::kStatistics); !s.ok()) return Done(ctx, s);
    return Answer(ctx, service_->ModelStatistics(request->name(), request->version()), response);
  }

  ServerUnaryReactor* RepositoryIndex(CallbackServerContext* ctx,
                                      const inference::RepositoryIndexRequest* request,
                                      inference::RepositoryIndexResponse* response) override {
    if (absl::Status s = Allowed(ctx, ApiCategory::kModelRepository); !s.ok()) return Done(ctx, s);
    *response = service_->RepositoryIndex(request->ready());
    return Done(ctx, absl::OkStatus());
  }

  ServerUnaryReactor* RepositoryModelLoad(CallbackServerContext* ctx,
                                          const inference::RepositoryModelLoadRequest* request,
                                          inference::RepositoryModelLoadResponse*) override {
    if (absl::Status s = Allowed(ctx, ApiCategory::kModelRepository); !s.ok()) return Done(ctx, s);
    if (!request->parameters().empty()) {
      return Done(ctx, absl::UnimplementedError(absl::StrCat(
                           "load parameters (", request->parameters().begin()->first,
                           ") are not supported: publish the model in the repository instead")));
    }
    ServerUnaryReactor* reactor = ctx->DefaultReactor();
    std::string name = request->model_name();
    blocking_->Post([this, reactor, name] {
      reactor->Finish(ToGrpcStatus(Guarded("load", [&] { return service_->LoadModel(name); })));
    });
    return reactor;
  }

  ServerUnaryReactor* RepositoryModelUnload(CallbackServerContext* ctx,
                                            const inference::RepositoryModelUnloadRequest* request,
                                            inference::RepositoryModelUnloadResponse*) override {
    if (absl::Status s = Allowed(ctx, ApiCategory::kModelRepository); !s.ok()) return Done(ctx, s);
    ServerUnaryReactor* reactor = ctx->DefaultReactor();
    std::string name = request->model_name();
    blocking_->Post([this, reactor, name] {
      reactor->Finish(ToGrpcStatus(Guarded("unload", [&] { return service_->UnloadModel(name); })));
    });
    return reactor;
  }

  ServerUnaryReactor* ModelInfer(CallbackServerContext* ctx,
                                 const inference::ModelInferRequest* request,
                                 inference::ModelInferResponse* response) override {
    if (absl::Status s = Allowed(ctx, ApiCategory::kInference); !s.ok()) return Done(ctx, s);
    ServerUnaryReactor* reactor = ctx->DefaultReactor();
    std::shared_ptr<ByteBudget::Lease> lease;
    absl::StatusOr<InferRequest> decoded = Decode(*request, ctx, service_->request_bytes(), &lease);
    if (!decoded.ok()) {
      reactor->Finish(ToGrpcStatus(decoded.status()));
      return reactor;
    }
    // `response` stays valid until the reactor finishes.
    service_->Infer(*std::move(decoded),
                    [reactor, response, lease](absl::StatusOr<InferResponse> result) {
                      absl::Status s = result.status();
                      if (s.ok()) s = Encode(*result, response);
                      lease->Release();
                      reactor->Finish(ToGrpcStatus(s));
                    });
    return reactor;
  }

  grpc::ServerBidiReactor<inference::ModelInferRequest, inference::ModelStreamInferResponse>*
  ModelStreamInfer(CallbackServerContext* ctx) override {
    if (absl::Status s = Allowed(ctx, ApiCategory::kInference); !s.ok()) {
      return new RefusedStream(ToGrpcStatus(s));
    }
    return new StreamInferReactor(service_, ctx, stream_window_);
  }

 private:
  // A stream refused before it starts (restricted API).
  class RefusedStream : public grpc::ServerBidiReactor<inference::ModelInferRequest,
                                                       inference::ModelStreamInferResponse> {
   public:
    explicit RefusedStream(const grpc::Status& status) { Finish(status); }
    void OnDone() override { delete this; }
  };

  // OK unless `category` is restricted and the call's metadata lacks its key and value.
  absl::Status Allowed(CallbackServerContext* ctx, ApiCategory category) const {
    return restricted_.Check(category, [ctx](absl::string_view name) -> std::optional<std::string> {
      auto it = ctx->client_metadata().find(grpc::string_ref(name.data(), name.size()));
      if (it == ctx->client_metadata().end()) return std::nullopt;
      return std::string(it->second.data(), it->second.size());
    });
  }

  static ServerUnaryReactor* Done(CallbackServerContext* ctx, const absl::Status& status) {
    ServerUnaryReactor* reactor = ctx->DefaultReactor();
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  }

  template <typename Message>
  static ServerUnaryReactor* Answer(CallbackServerContext* ctx, absl::StatusOr<Message> result,
                                    Message* response) {
    if (result.ok()) *response = *std::move(result);
    return Done(ctx, result.status());
  }

  InferenceService* const service_;
  BlockingRunner* const blocking_;
  const int stream_window_;
  const RestrictedApis restricted_;
};

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return absl::InvalidArgumentError(absl::StrCat("gRPC TLS: cannot read the ", what, " ", path));
  }
  if (text.find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("gRPC TLS: the ", what, " ", path, " is not a PEM file"));
  }
  return text;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(const TlsOptions& tls) {
  if (!tls.enabled()) {
    if (!tls.key_file.empty() || tls.mutual) {
      return absl::InvalidArgumentError(
          "gRPC TLS needs the server certificate (--grpc-server-cert)");
    }
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions options(
      tls.mutual ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                 : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  ASSIGN_OR_RETURN(pair.cert_chain, ReadPem(tls.cert_file, "server certificate"));
  ASSIGN_OR_RETURN(pair.private_key, ReadPem(tls.key_file, "server key"));
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (tls.mutual) {
    if (tls.root_cert_file.empty()) {
      return absl::InvalidArgumentError(
          "gRPC mutual TLS needs the clients' root certificate (--grpc-root-cert)");
    }
    ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem(tls.root_cert_file, "root certificate"));
  }
  return grpc::SslServerCredentials(options);
}

class GrpcServerImpl final : public GrpcServer {
 public:
  GrpcServerImpl(InferenceService* service, const GrpcOptions& options)
      : service_(service), blocking_(2), kserve_(service, &blocking_, options) {}
  ~GrpcServerImpl() override { Shutdown(std::chrono::milliseconds(0)); }

  absl::Status Start(const GrpcOptions& options) {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    const int max_bytes = static_cast<int>(
        std::min<int64_t>(std::max<int64_t>(options.max_message_bytes, 0), INT_MAX));
    builder.SetMaxReceiveMessageSize(max_bytes);
    builder.SetMaxSendMessageSize(max_bytes);
    // A port already in use is an error, not a second server silently sharing it.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    const std::string address =
        options.address.find(':') != std::string::npos && options.address.front() != '['
            ? absl::StrCat("[", options.address, "]:", options.port)  // IPv6 literal
            : absl::StrCat(options.address, ":", options.port);
    ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                     Credentials(options.tls));
    builder.AddListeningPort(address, credentials, &port_);
    builder.RegisterService(&kserve_);
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port_ == 0) {
      server_.reset();
      return absl::UnavailableError(absl::StrCat("gRPC: cannot listen on ", address));
    }
    health_ = server_->GetHealthCheckService();
    UpdateHealth();
    health_thread_ = std::thread([this] { HealthLoop(); });
    return absl::OkStatus();
  }

  int port() const override { return port_; }

  void Shutdown(std::chrono::milliseconds deadline) override {
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    if (health_thread_.joinable()) health_thread_.join();
    if (server_ != nullptr) {
      if (health_ != nullptr) health_->Shutdown();  // NOT_SERVING from now on
      // Refuses new calls at once; calls in flight are cancelled at the deadline. Returns once
      // every handler has finished, so the blocking runner must still be running here.
      server_->Shutdown(std::chrono::system_clock::now() + deadline);
    }
    blocking_.Stop();
  }

 private:
  void UpdateHealth() {
    const bool ready = service_->Ready();
    health_->SetServingStatus(ready);
    health_->SetServingStatus(kServiceName, ready);
  }

  void HealthLoop() {
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        if (mu_.AwaitWithTimeout(absl::Condition(&stopped_), absl::Milliseconds(200))) return;
      }
      UpdateHealth();
    }
  }

  InferenceService* const service_;
  BlockingRunner blocking_;
  KServeService kserve_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  grpc::HealthCheckServiceInterface* health_ = nullptr;  // owned by server_
  std::thread health_thread_;
  absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(InferenceService* service,
                                                              const GrpcOptions& options) {
  if (service == nullptr) return absl::InvalidArgumentError("GrpcServer needs a service");
  auto server = std::make_unique<GrpcServerImpl>(service, options);
  RETURN_IF_ERROR(server->Start(options));
  return std::unique_ptr<GrpcServer>(std::move(server));
}

}  // namespace cortado
