#include "clients/client_commands.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "clients/grpc_client.h"
#include "clients/http/http_client.h"
#include "core/npy.h"

namespace cortado {

const char kClientUsage[] =
    "\n"
    "Client commands, against a running cortadod or any KServe v2 (Triton) server:\n"
    "  cortado infer --model NAME [--model-version V] --input NAME=FILE.npy [--input ...]\n"
    "                [--output NAME ...] --output-dir DIR [--typed] [--id ID]\n"
    "      runs one inference and writes one <output name>.npy per output into DIR, printing\n"
    "      NAME: DTYPE [SHAPE] -> FILE for each; --output picks outputs (default: all);\n"
    "      --typed sends typed contents (gRPC) or JSON tensors (HTTP) instead of raw bytes\n"
    "  cortado models [--ready]       the repository index: name, version, state, reason\n"
    "  cortado load --model NAME      loads or reloads a model (explicit control mode)\n"
    "  cortado unload --model NAME    unloads a model (explicit control mode)\n"
    "  cortado health                 liveness, readiness (and grpc.health.v1 status over gRPC);\n"
    "                                 exits 0 only when the server is live and ready\n"
    "  common options: --protocol grpc|http  (default grpc)\n"
    "                  --url HOST:PORT       (default localhost:8001 for grpc, :8000 for http)\n"
    "                  --timeout-s S         (per call, default 60)\n";

namespace {

struct CommonOptions {
  std::string protocol = "grpc";
  std::string url;
  double timeout_s = 60;
};

// Parses the flags every client command shares plus those in `own` (flag -> handler taking its
// value; a handler for a flag without a value gets "").
using Handler = std::function<absl::Status(const std::string&)>;
struct Flag {
  const char* name;
  bool takes_value;
  Handler handler;
};

absl::Status ParseFlags(const std::vector<std::string>& args, const std::vector<Flag>& own,
                        CommonOptions* common) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> absl::StatusOr<std::string> {
      if (i + 1 >= args.size())
        return absl::InvalidArgumentError(absl::StrCat(a, " needs a value"));
      return args[++i];
    };
    if (a == "--protocol") {
      ASSIGN_OR_RETURN(common->protocol, value());
      continue;
    }
    if (a == "--url") {
      ASSIGN_OR_RETURN(common->url, value());
      continue;
    }
    if (a == "--timeout-s") {
      ASSIGN_OR_RETURN(std::string v, value());
      if (!absl::SimpleAtod(v, &common->timeout_s) || !(common->timeout_s > 0)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--timeout-s wants seconds > 0, got '", v, "'"));
      }
      continue;
    }
    bool matched = false;
    for (const Flag& f : own) {
      if (a != f.name) continue;
      matched = true;
      std::string v;
      if (f.takes_value) {
        ASSIGN_OR_RETURN(v, value());
      }
      RETURN_IF_ERROR(f.handler(v));
      break;
    }
    if (!matched) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown argument '", a, "' (see cortado --help)"));
    }
  }
  if (common->protocol != "grpc" && common->protocol != "http") {
    return absl::InvalidArgumentError(
        absl::StrCat("--protocol wants grpc or http, got '", common->protocol, "'"));
  }
  if (common->url.empty()) {
    common->url = common->protocol == "grpc" ? "localhost:8001" : "localhost:8000";
  }
  return absl::OkStatus();
}

// What the commands need from a server, over either protocol.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual absl::StatusOr<bool> Live() = 0;
  virtual absl::StatusOr<bool> Ready() = 0;
  // grpc.health.v1 status; empty where the protocol has none.
  virtual absl::StatusOr<std::string> Health() = 0;
  virtual absl::StatusOr<inference::RepositoryIndexResponse> Index(bool ready_only) = 0;
  virtual absl::Status Load(const std::string& model) = 0;
  virtual absl::Status Unload(const std::string& model) = 0;
  virtual absl::StatusOr<ClientInferResult> Infer(const ClientInferRequest& request) = 0;
};

class GrpcConnection final : public Connection {
 public:
  explicit GrpcConnection(std::unique_ptr<GrpcClient> client) : client_(std::move(client)) {}
  absl::StatusOr<bool> Live() override { return client_->ServerLive(); }
  absl::StatusOr<bool> Ready() override { return client_->ServerReady(); }
  absl::StatusOr<std::string> Health() override { return client_->HealthCheck(); }
  absl::StatusOr<inference::RepositoryIndexResponse> Index(bool ready_only) override {
    return client_->RepositoryIndex(ready_only);
  }
  absl::Status Load(const std::string& model) override { return client_->LoadModel(model); }
  absl::Status Unload(const std::string& model) override { return client_->UnloadModel(model); }
  absl::StatusOr<ClientInferResult> Infer(const ClientInferRequest& request) override {
    return client_->Infer(request);
  }

 private:
  std::unique_ptr<GrpcClient> client_;
};

class HttpConnection final : public Connection {
 public:
  explicit HttpConnection(std::unique_ptr<HttpClient> client) : client_(std::move(client)) {}
  absl::StatusOr<bool> Live() override { return client_->ServerLive(); }
  absl::StatusOr<bool> Ready() override { return client_->ServerReady(); }
  absl::StatusOr<std::string> Health() override { return std::string(); }
  absl::StatusOr<inference::RepositoryIndexResponse> Index(bool ready_only) override {
    return client_->RepositoryIndex(ready_only);
  }
  absl::Status Load(const std::string& model) override { return client_->LoadModel(model); }
  absl::Status Unload(const std::string& model) override { return client_->UnloadModel(model); }
  absl::StatusOr<ClientInferResult> Infer(const ClientInferRequest& request) override {
    HttpInferOptions options;
    options.model_version = request.model_version;
    options.id = request.id;
    options.outputs = request.outputs;
    options.binary_data = !request.typed_contents;
    ASSIGN_OR_RETURN(HttpInferResult r,
                     client_->Infer(request.model_name, request.inputs, options));
    ClientInferResult out;
    out.model_name = std::move(r.model_name);
    out.model_version = std::move(r.model_version);
    out.id = std::move(r.id);
    out.outputs = std::move(r.outputs);
    return out;
  }

 private:
  std::unique_ptr<HttpClient> client_;
};

absl::StatusOr<std::unique_ptr<Connection>> Connect(const CommonOptions& common) {
  const std::chrono::milliseconds timeout(static_cast<int64_t>(common.timeout_s * 1000));
  if (common.protocol == "http") {
    HttpClientOptions options;
    options.timeout = timeout;
    ASSIGN_OR_RETURN(auto client, HttpClient::Create(common.url, options));
    return std::unique_ptr<Connection>(new HttpConnection(std::move(client)));
  }
  GrpcClientOptions options;
  options.timeout = timeout;
  ASSIGN_OR_RETURN(auto client, GrpcClient::Create(common.url, options));
  return std::unique_ptr<Connection>(new GrpcConnection(std::move(client)));
}

// Prefixes a server's error with where it came from, keeping its code.
absl::Status FromServer(const CommonOptions& common, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(common.url, ": ", status.message()));
}

// Relative paths are taken from where the user ran the command (also under `bazel run`).
std::string Resolve(const std::string& path) {
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || cwd == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

std::string SafeFileName(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

absl::Status MakeDirs(const std::string& dir) {
  for (size_t i = 0; i <= dir.size(); ++i) {
    if (i == dir.size() || (dir[i] == '/' && i > 0)) {
      const std::string partial = dir.substr(0, i);
      if (mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
        return absl::PermissionDeniedError(absl::StrCat("cannot create folder ", partial));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Infer(const std::vector<std::string>& args) {
  CommonOptions common;
  ClientInferRequest request;
  std::string output_dir;
  const std::vector<Flag> flags = {
      {"--model", true,
       [&](const std::string& v) {
         request.model_name = v;
         return absl::OkStatus();
       }},
      {"--model-version", true,
       [&](const std::string& v) {
         request.model_version = v;
         return absl::OkStatus();
       }},
      {"--id", true,
       [&](const std::string& v) {
         request.id = v;
         return absl::OkStatus();
       }},
      {"--output", true,
       [&](const std::string& v) {
         request.outputs.push_back(v);
         return absl::OkStatus();
       }},
      {"--output-dir", true,
       [&](const std::string& v) {
         output_dir = v;
         return absl::OkStatus();
       }},
      {"--typed", false,
       [&](const std::string&) {
         request.typed_contents = true;
         return absl::OkStatus();
       }},
      {"--input", true,
       [&](const std::string& spec) -> absl::Status {
         const size_t eq = spec.find('=');
         if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
           return absl::InvalidArgumentError(
               absl::StrCat("--input wants NAME=FILE, got '", spec, "'"));
         }
         ASSIGN_OR_RETURN(Tensor t, ReadNpyFile(Resolve(spec.substr(eq + 1))));
         request.inputs.emplace_back(spec.substr(0, eq), std::move(t));
         return absl::OkStatus();
       }},
  };
  RETURN_IF_ERROR(ParseFlags(args, flags, &common));
  if (request.model_name.empty())
    return absl::InvalidArgumentError("--model is required (see cortado --help)");
  if (output_dir.empty())
    return absl::InvalidArgumentError("--output-dir is required (see cortado --help)");
  if (request.inputs.empty()) return absl::InvalidArgumentError("at least one --input is required");
  ASSIGN_OR_RETURN(auto client, Connect(common));
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<ClientInferResult> result = client->Infer(request);  // either protocol
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!result.ok()) return FromServer(common, result.status());
  const std::string dir = Resolve(output_dir);
  RETURN_IF_ERROR(MakeDirs(dir));
  std::printf("model: %s version %s\n", result->model_name.c_str(), result->model_version.c_str());
  for (const auto& [name, tensor] : result->outputs) {
    const std::string file = dir + "/" + SafeFileName(name) + ".npy";
    RETURN_IF_ERROR(WriteNpyFile(file, tensor));
    std::printf("%s: %s %s -> %s\n", name.c_str(), std::string(DTypeName(tensor.dtype())).c_str(),
                ShapeToString(tensor.shape()).c_str(), file.c_str());
  }
  std::printf("wall time: %.3f ms\n", ms);
  return absl::OkStatus();
}

absl::Status Models(const std::vector<std::string>& args) {
  CommonOptions common;
  bool ready_only = false;
  RETURN_IF_ERROR(ParseFlags(args,
                             {{"--ready", false,
                               [&](const std::string&) {
                                 ready_only = true;
                                 return absl::OkStatus();
                               }}},
                             &common));
  ASSIGN_OR_RETURN(auto client, Connect(common));
  absl::StatusOr<inference::RepositoryIndexResponse> index = client->Index(ready_only);
  if (!index.ok()) return FromServer(common, index.status());
  std::printf("%-24s %-8s %-12s %s\n", "NAME", "VERSION", "STATE", "REASON");
  for (const auto& m : index->models()) {
    std::string reason = m.reason();
    for (char& c : reason) c = c == '\n' ? ' ' : c;
    std::printf("%-24s %-8s %-12s %s\n", m.name().c_str(),
                m.version().empty() ? "-" : m.version().c_str(), m.state().c_str(), reason.c_str());
  }
  return absl::OkStatus();
}

absl::Status LoadOrUnload(bool load, const std::vector<std::string>& args) {
  CommonOptions common;
  std::string model;
  RETURN_IF_ERROR(ParseFlags(args,
                             {{"--model", true,
                               [&](const std::string& v) {
                                 model = v;
                                 return absl::OkStatus();
                               }}},
                             &common));
  if (model.empty()) return absl::InvalidArgumentError("--model is required (see cortado --help)");
  ASSIGN_OR_RETURN(auto client, Connect(common));
  RETURN_IF_ERROR(FromServer(common, load ? client->Load(model) : client->Unload(model)));
  std::printf("%s: %s\n", model.c_str(), load ? "loaded" : "unloaded");
  return absl::OkStatus();
}

absl::Status Health(const std::vector<std::string>& args) {
  CommonOptions common;
  RETURN_IF_ERROR(ParseFlags(args, {}, &common));
  ASSIGN_OR_RETURN(auto client, Connect(common));
  absl::StatusOr<bool> live = client->Live();
  if (!live.ok()) return FromServer(common, live.status());
  absl::StatusOr<bool> ready = client->Ready();
  if (!ready.ok()) return FromServer(common, ready.status());
  std::printf("live: %s\nready: %s\n", *live ? "true" : "false", *ready ? "true" : "false");
  absl::StatusOr<std::string> health = client->Health();
  if (!health.ok() || !health->empty()) {
    std::printf("grpc.health.v1: %s\n",
                health.ok() ? health->c_str() : std::string(health.status().message()).c_str());
  }
  if (!*live || !*ready) {
    return absl::UnavailableError(absl::StrCat(common.url, " is not ", *live ? "ready" : "live"));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsClientCommand(absl::string_view command) {
  return command == "infer" || command == "models" || command == "load" || command == "unload" ||
         command == "health";
}

absl::Status RunClientCommand(const std::string& command, const std::vector<std::string>& args) {
  if (command == "infer") return Infer(args);
  if (command == "models") return Models(args);
  if (command == "load") return LoadOrUnload(true, args);
  if (command == "unload") return LoadOrUnload(false, args);
  if (command == "health") return Health(args);
  return absl::InvalidArgumentError(absl::StrCat("unknown command '", command, "'"));
}

}  // namespace cortado
