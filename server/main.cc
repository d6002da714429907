// cortadod: the inference serving daemon. Serves a Triton-layout model repository over KServe v2
// gRPC (--grpc-port, 8001) and HTTP/REST (--http-port, 8000), with Prometheus metrics on
// --metrics-port (8002). Flags are spelled like Triton's; `cortadod --help` lists them all.
//
// SIGTERM or SIGINT: readiness turns false and new requests are refused while the endpoints stay
// up; requests in flight get --exit-timeout-secs to finish; then the endpoints close and the
// process exits 0.
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "backends/plugin/plugin_backend.h"
#include "core/cgroup.h"
#include "core/thread_pool.h"
#include "prometheus/registry.h"
#include "server/gpu_monitor.h"
#include "server/grpc/grpc_server.h"
#include "server/http/http_server.h"
#include "server/logging.h"
#include "server/metrics.h"
#include "server/restricted_api.h"
#include "server/service.h"
#include "server/tls_options.h"
#include "spdlog/spdlog.h"

namespace cortado {
namespace {

// How long past --exit-timeout-secs the endpoints may take to close before the watchdog forces
// the exit.
constexpr std::chrono::seconds kCloseGrace{3};

constexpr char kVersion[] = "0.1.0";

struct Flags {
  std::string model_repository;  // "" = the embedded repository
  std::string model_control_mode = "none";
  int repository_poll_secs = 15;
  std::vector<std::string> load_models;
  bool allow_http = true, allow_grpc = true, allow_metrics = true;
  std::string http_address = "0.0.0.0", grpc_address = "0.0.0.0", metrics_address = "0.0.0.0";
  int http_port = 8000, grpc_port = 8001, metrics_port = 8002;
  int http_thread_count = 2;
  int http_header_timeout_secs = 60;
  // --grpc-use-ssl... and --http-use-ssl...
  struct Tls {
    bool use_ssl = false, use_ssl_mutual = false;
    std::string server_cert, server_key, root_cert;
  } grpc_tls, http_tls;
  RestrictedApis http_restricted, grpc_restricted;
  int http_max_connections = 1024;
  int infer_thread_count = 0;
  int intra_op_thread_count = 0;
  int64_t max_request_bytes = int64_t{256} << 20;
  int64_t max_inflight_bytes = int64_t{1} << 30;
  int64_t http_max_input_size = -1;   // -1: --max-request-bytes
  int64_t grpc_max_message_size = -1;  // -1: --max-request-bytes
  int exit_timeout_secs = 30;
  std::string log_level = "info";
  std::string log_format = "text";
  bool log_access = false;
  std::string backend_plugin_dir;  // "" = no plug-ins
  bool help = false, version = false;
};

struct FlagSpec {
  std::string name;
  const char* arg;  // nullptr: a boolean flag
  std::string help;
  std::function<bool(Flags&, const std::string&)> set;
};

bool ParseInt(const std::string& s, int* out, int min) {
  return absl::SimpleAtoi(s, out) && *out >= min;
}
bool ParseInt64(const std::string& s, int64_t* out, int64_t min) {
  return absl::SimpleAtoi(s, out) && *out >= min;
}
bool ParseBool(const std::string& s, bool* out) {
  if (s == "" || s == "true" || s == "1" || s == "yes" || s == "on") {
    *out = true;
    return true;
  }
  if (s == "false" || s == "0" || s == "no" || s == "off") {
    *out = false;
    return true;
  }
  return false;
}

// The five TLS flags of one endpoint: --grpc-use-ssl... (Triton's) and the same for --http-.
std::vector<FlagSpec> TlsSpecs(const std::string& endpoint, const std::string& what,
                               Flags::Tls Flags::*tls) {
  auto file = [tls](std::string Flags::Tls::*field) {
    return [tls, field](Flags& f, const std::string& v) {
      (f.*tls).*field = v;
      return !v.empty();
    };
  };
  const std::string flag = "--" + endpoint;
  return {
      {endpoint + "-use-ssl", nullptr,
       absl::StrCat("Serve ", what, " over TLS with ", flag, "-server-cert and ", flag,
                    "-server-key (default false)."),
       [tls](Flags& f, const std::string& v) { return ParseBool(v, &(f.*tls).use_ssl); }},
      {endpoint + "-use-ssl-mutual", nullptr,
       absl::StrCat("Also require client certificates signed by ", flag, "-root-cert (implies ",
                    flag, "-use-ssl)."),
       [tls](Flags& f, const std::string& v) { return ParseBool(v, &(f.*tls).use_ssl_mutual); }},
      {endpoint + "-server-cert", "PEM",
       absl::StrCat("The ", what, " server's certificate chain (PEM file)."),
       file(&Flags::Tls::server_cert)},
      {endpoint + "-server-key", "PEM",
       absl::StrCat("The ", what, " server's private key (PEM file)."),
       file(&Flags::Tls::server_key)},
      {endpoint + "-root-cert", "PEM", "Root certificate that client certificates must chain to.",
       file(&Flags::Tls::root_cert)},
  };
}

// An endpoint's TLS settings from its flags; an error names what is missing.
absl::StatusOr<TlsOptions> EndpointTls(const std::string& endpoint, const Flags::Tls& flags) {
  TlsOptions tls;
  if (!flags.use_ssl && !flags.use_ssl_mutual) return tls;
  if (flags.server_cert.empty() || flags.server_key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--", endpoint, "-use-ssl needs --", endpoint,
                                                   "-server-cert and --", endpoint, "-server-key"));
  }
  tls.cert_file = flags.server_cert;
  tls.key_file = flags.server_key;
  tls.root_cert_file = flags.root_cert;
  tls.mutual = flags.use_ssl_mutual;
  return tls;
}

// " (TLS)" and the like, for the log line that announces an endpoint.
const char* TlsNote(const TlsOptions& tls) {
  return tls.mutual ? " (TLS, client certificates required)" : tls.enabled() ? " (TLS)" : "";
}

// Every flag but the TLS ones (TlsSpecs).
std::vector<FlagSpec> CommonSpecs() {
  return {
      {"model-repository", "PATH",
       "The model repository: <PATH>/<model>/config.pbtxt and <PATH>/<model>/<version>/"
       "model.onnx. Default: the embedded repository shipped in config/repository (found "
       "beside the binary's runfiles or in the working directory).",
       [](Flags& f, const std::string& v) {
         f.model_repository = v;
         return !v.empty();
       }},
      {"model-control-mode", "none|poll|explicit",
       "none: load every model at start and never again (default). poll: also rescan the "
       "repository every --repository-poll-secs and hot-reload new, changed and removed "
       "versions. explicit: load only the --load-model models; the repository load/unload "
       "APIs load and unload others.",
       [](Flags& f, const std::string& v) {
         f.model_control_mode = v;
         return v == "none" || v == "poll" || v == "explicit";
       }},
      {"repository-poll-secs", "N", "Seconds between rescans in poll mode (default 15, min 1).",
       [](Flags& f, const std::string& v) { return ParseInt(v, &f.repository_poll_secs, 1); }},
      {"load-model", "NAME",
       "Explicit mode: a model to load at start; repeatable; \"*\" loads every model.",
       [](Flags& f, const std::string& v) {
         f.load_models.push_back(v);
         return !v.empty();
       }},
      {"backend-plugin-dir", "PATH",
       "Load every accelerator plug-in (*.so built against backends/plugin/cortado_plugin.h) in "
       "this folder at start; a refused one is logged with the reason.",
       [](Flags& f, const std::string& v) {
         f.backend_plugin_dir = v;
         return !v.empty();
       }},
      {"http-port", "N", "HTTP/REST port (default 8000; 0 picks a free port).",
       [](Flags& f, const std::string& v) { return ParseInt(v, &f.http_port, 0); }},
      {"grpc-port", "N", "gRPC port (default 8001; 0 picks a free port).",
       [](Flags& f, const std::string& v) { return ParseInt(v, &f.grpc_port, 0); }},
      {"metrics-port", "N", "Prometheus metrics port, GET /metrics (default 8002; 0 picks one).",
       [](Flags& f, const std::string& v) { return ParseInt(v, &f.metrics_port, 0); }},
      {"http-address", "ADDR", "Address the HTTP endpoint binds (default 0.0.0.0).",
       [](Flags& f, const std::string& v) {
         f.http_address = v;
         return !v.empty();
       }},
      {"grpc-address", "ADDR", "Address the gRPC endpoint binds (default 0.0.0.0).",
       [](Flags& f, const std::string& v) {
         f.grpc_address = v;
         return !v.empty();
       }},
      {"http-restricted-api", "CATEGORY[,CATEGORY...]:KEY=VALUE",
       "Serve the HTTP endpoints of these API categories (health, metadata, inference, "
       "model-config, model-repository, statistics, ...) only to requests with header KEY: "
       "VALUE; others get 403. Repeatable.",
       [](Flags& f, const std::string& v) { return f.http_restricted.Add(v).ok(); }},
      {"grpc-restricted-protocol", "CATEGORY[,CATEGORY...]:KEY=VALUE",
       "The same for gRPC: calls of these categories need KEY: VALUE in their metadata; others "
       "get PERMISSION_DENIED. Repeatable.",
       [](Flags& f, const std::string& v) { return f.grpc_restricted.Add(v).ok(); }},
      {"metrics-address", "ADDR", "Address the metrics endpoint binds (default 0.0.0.0).",
       [](Flags& f, const std::string& v) {
         f.metrics_address = v;
         return !v.empty();
       }},
      {"allow-http", nullptr, "Serve HTTP/REST (default true; --allow-http=false disables).",
       [](Flags& f, const std::string& v) { return ParseBool(v, &f.allow_http); }},
      {"allow-grpc", nullptr, "Serve gRPC (default true).",
       [](Flags& f, const std::string& v) { return ParseBool(v, &f.allow_grpc); }},
      {"allow-metrics", nullptr, "Serve Prometheus metrics (default true).",
       [](Flags& f, const std::string& v) { return ParseBool(v, &f.allow_metrics); }},
      {"http-thread-count", "N", "HTTP network threads (default 2).",
       [](Flags& f, const std::string& v) { return ParseInt(v, &f.http_thread_count, 1); }},
      {"http-header-timeout-secs", "N",
       "Seconds an HTTP connection may take to send its next request header, idle keep-alive "
       "time included (default 60); a slower connection is closed.",
       [](Flags& f, const std::string& v) { return ParseInt(v, &f.http_header_timeout_secs, 1); }},
      {"http-max-connections", "N",
       "Most HTTP connections open at once (default 1024); more are answered 503 and closed.",
       [](Flags& f, const std::string& v) { return ParseInt(v, &f.http_max_connections, 1); }},
      {"infer-thread-count", "N",
       "Inference worker threads shared by all models (default 0: one per available CPU, "
       "the container's CPU quota included). "
       "A model's instance_group count bounds how many of its requests run at once.",
       [](Flags& f, const std::string& v) { return ParseInt(v, &f.infer_thread_count, 0); }},
      {"intra-op-thread-count", "N",
       "Threads one inference may use inside its operators (default 0: one per available CPU). "
       "Requests running at once share them rather than multiply them.",
       [](Flags& f, const std::string& v) { return ParseInt(v, &f.intra_op_thread_count, 0); }},
      {"max-request-bytes", "N",
       "Largest request accepted, in bytes: the input tensors of one inference, and the default "
       "of the two limits below (default 268435456).",
       [](Flags& f, const std::string& v) { return ParseInt64(v, &f.max_request_bytes, 1); }},
      {"max-inflight-bytes", "N",
       "Budget of request bytes in flight across the server (default 1073741824; 0: none). A "
       "request that does not fit beside those in flight is refused at once: HTTP 503, gRPC "
       "UNAVAILABLE.",
       [](Flags& f, const std::string& v) { return ParseInt64(v, &f.max_inflight_bytes, 0); }},
      {"http-max-input-size", "N",
       "Largest HTTP request body, in bytes (default: --max-request-bytes).",
       [](Flags& f, const std::string& v) { return ParseInt64(v, &f.http_max_input_size, 1); }},
      {"grpc-max-message-size", "N",
       "Largest gRPC message, in bytes (default: --max-request-bytes).",
       [](Flags& f, const std::string& v) { return ParseInt64(v, &f.grpc_max_message_size, 1); }},
      {"exit-timeout-secs", "N",
       "On SIGTERM/SIGINT, how long requests in flight get to finish (default 30); requests "
       "still queued then are answered UNAVAILABLE, and if the shutdown overruns by 3 s the "
       "process is forced out with exit status 1. A signal during startup exits at once.",
       [](Flags& f, const std::string& v) { return ParseInt(v, &f.exit_timeout_secs, 0); }},
      {"log-level", "LEVEL", "trace, debug, info (default), warn, error, critical or off.",
       [](Flags& f, const std::string& v) {
         f.log_level = v;
         return true;
       }},
      {"log-format", "text|json", "Log lines as text (default) or JSON objects, one a line.",
       [](Flags& f, const std::string& v) {
         f.log_format = v;
         return ParseLogFormat(v).ok();
       }},
      {"log-access", nullptr,
       "Log one access line per request: protocol, model, version, status, latency "
       "(default false).",
       [](Flags& f, const std::string& v) { return ParseBool(v, &f.log_access); }},
      {"version", nullptr, "Print the version and exit.",
       [](Flags& f, const std::string& v) { return ParseBool(v, &f.version); }},
      {"help", nullptr, "Print this help and exit.",
       [](Flags& f, const std::string& v) { return ParseBool(v, &f.help); }},
  };
}

const std::vector<FlagSpec>& Specs() {
  static const auto* specs = [] {
    auto* all = new std::vector<FlagSpec>(CommonSpecs());
    for (auto tls : {TlsSpecs("grpc", "gRPC", &Flags::grpc_tls),
                     TlsSpecs("http", "HTTP/REST", &Flags::http_tls)}) {
      all->insert(all->end(), tls.begin(), tls.end());
    }
    return all;
  }();
  return *specs;
}

void PrintHelp() {
  std::cout << "cortadod " << kVersion
            << ": KServe v2 inference server (gRPC, HTTP/REST, Prometheus metrics)\n\n"
               "usage: cortadod [--flag=value | --flag value]...\n\n";
  for (const FlagSpec& s : Specs()) {
    std::cout << "  --" << s.name << (s.arg ? absl::StrCat("=", s.arg) : "") << "\n";
    // The help text, wrapped at 96 columns.
    std::string line = "     ";
    for (absl::string_view word : absl::StrSplit(s.help, ' ')) {
      if (line.size() + 1 + word.size() > 96) {
        std::cout << line << "\n";
        line = "     ";
      }
      absl::StrAppend(&line, " ", word);
    }
    std::cout << line << "\n";
  }
  std::cout << "\nSIGTERM or SIGINT: readiness turns false, new requests are refused, requests "
               "in flight finish\n(up to --exit-timeout-secs), then cortadod exits 0.\n";
}

// Parses argv into `flags`; an error message on failure.
absl::Status ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!absl::StartsWith(arg, "--")) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "'"));
    }
    std::string name = arg.substr(2), value;
    bool has_value = false;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    std::replace(name.begin(), name.end(), '_', '-');  // --model_repository works too
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : Specs()) {
      if (name == s.name) spec = &s;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    if (spec->arg != nullptr && !has_value) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      }
      value = argv[++i];
    }
    if (!spec->set(*flags, value)) {
      return absl::InvalidArgumentError(absl::StrCat("invalid value '", value, "' for --", name,
                                                     spec->arg ? absl::StrCat(" (", spec->arg, ")")
                                                               : " (true or false)"));
    }
  }
  return absl::OkStatus();
}

bool IsDirectory(const std::string& path) {
  return !path.empty() && access((path + "/.").c_str(), F_OK) == 0;
}

std::string ExecutablePath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

// The embedded repository: config/repository in the runfiles of the binary (bazel run, bazel-bin)
// or under the working directory.
std::string FindEmbeddedRepository(const char* argv0) {
  const std::string rel = "cortado/config/repository";
  std::vector<std::string> candidates;
  if (const char* dir = std::getenv("RUNFILES_DIR")) candidates.push_back(absl::StrCat(dir, "/", rel));
  if (const char* dir = std::getenv("TEST_SRCDIR")) candidates.push_back(absl::StrCat(dir, "/", rel));
  std::string exe = ExecutablePath();
  if (!exe.empty()) candidates.push_back(absl::StrCat(exe, ".runfiles/", rel));
  candidates.push_back(absl::StrCat(argv0, ".runfiles/", rel));
  candidates.push_back("config/repository");
  if (!exe.empty()) {
    std::string dir = exe.substr(0, exe.rfind('/'));
    candidates.push_back(dir + "/config/repository");
    candidates.push_back(dir + "/../share/cortado/repository");
  }
  for (const std::string& c : candidates) {
    if (IsDirectory(c)) return c;
  }
  return "";
}

// Relative paths are taken from the directory `bazel run` was started in.
std::string ResolvePath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  if (const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY")) return absl::StrCat(cwd, "/", path);
  return path;
}

// A ready-to-paste curl line for the first serving model (zeros of the right shape).
std::string CurlExample(InferenceService& service, int http_port) {
  auto index = service.RepositoryIndex(true);
  if (index.models_size() == 0) return "";
  const std::string model = index.models(0).name();
  auto meta = service.ModelMetadata(model, "");
  if (!meta.ok()) return "";
  std::vector<std::string> inputs;
  for (const auto& in : meta->inputs()) {
    int64_t n = 1;
    std::vector<std::string> shape;
    for (int64_t d : in.shape()) {
      int64_t dim = d < 0 ? 1 : d;
      n *= dim;
      shape.push_back(std::to_string(dim));
    }
    if (n > 64 || in.datatype() == "BYTES") return "";
    std::vector<std::string> zeros(static_cast<size_t>(n), in.datatype() == "BOOL" ? "false" : "0");
    inputs.push_back(absl::StrCat("{\"name\":\"", in.name(), "\",\"shape\":[",
                                  absl::StrJoin(shape, ","), "],\"datatype\":\"", in.datatype(),
                                  "\",\"data\":[", absl::StrJoin(zeros, ","), "]}"));
  }
  return absl::StrCat("curl -s localhost:", http_port, "/v2/models/", model,
                      "/infer -d '{\"inputs\":[", absl::StrJoin(inputs, ","), "]}'");
}

// How many pause loops an idle OpenMP thread spins before it sleeps. libgomp's default,
// 300,000 (10-20 ms here), suits a batch job; in a server, team threads (one team per inference
// worker, in libgomp) would then keep cores busy doing nothing after every request, while the
// network threads, the clients on the same machine or another request's team need them, and
// a team waiting at a barrier for a descheduled thread collapses. 10,000 (under 1 ms) still
// covers the gaps between one inference's kernels.
constexpr char kOpenMpSpinCount[] = "10000";

// libgomp reads its wait policy from the environment once, as it loads (before main). So,
// unless the environment chose one already (OMP_WAIT_POLICY or GOMP_SPINCOUNT, which then
// win), cortadod sets GOMP_SPINCOUNT and executes itself again: same process id, same
// arguments, nothing started yet. Returns the setting in force, for the log.
std::string BoundOpenMpSpinning(char** argv) {
  for (const char* name : {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"}) {
    if (const char* value = std::getenv(name)) return absl::StrCat(name, "=", value);
  }
  setenv("GOMP_SPINCOUNT", kOpenMpSpinCount, 1);
  execv("/proc/self/exe", argv);
  return absl::StrCat("GOMP_SPINCOUNT could not be applied (re-executing failed: ",
                      std::strerror(errno), "); libgomp's default spinning stays");
}

int Main(int argc, char** argv) {
  Flags flags;
  absl::Status parsed = ParseFlags(argc, argv, &flags);
  if (!parsed.ok()) {
    std::cerr << "cortadod: " << parsed.message() << " (see cortadod --help)\n";
    return 2;
  }
  if (flags.help) {
    PrintHelp();
    return 0;
  }
  if (flags.version) {
    std::cout << "cortadod " << kVersion << "\n";
    return 0;
  }
  const std::string openmp = BoundOpenMpSpinning(argv);

  LogOptions log;
  log.level = flags.log_level;
  log.format = ParseLogFormat(flags.log_format).value();
  log.access_log = flags.log_access;
  if (absl::Status s = InitLogging(log); !s.ok()) {
    std::cerr << "cortadod: " << s.message() << "\n";
    return 2;
  }

  // Before any thread starts: the loader probes each plug-in in a forked child.
  if (!flags.backend_plugin_dir.empty()) {
    auto plugins = LoadPlugins(flags.backend_plugin_dir);
    if (!plugins.ok()) {
      spdlog::critical("{}", plugins.status().message());
      return 1;
    }
    for (const std::string& line : plugins->refused) spdlog::error("plug-in refused: {}", line);
    for (const std::string& line : plugins->loaded) spdlog::info("plug-in loaded: {}", line);
    for (auto& b : plugins->backends) BackendRegistry::Global().Register(std::move(b));
  }

  // Signals are taken by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // One thread takes the signal whenever it comes: during startup it ends the process at once
  // (nothing is being served yet); once serving, it wakes the shutdown below and arms the
  // watchdog, which forces the process out (exit status 1) if the orderly shutdown overruns
  // --exit-timeout-secs by more than kCloseGrace.
  std::atomic<bool> serving{false};
  absl::Notification stop;
  int stop_signal = 0;
  std::thread([signals, &serving, &stop, &stop_signal, timeout = flags.exit_timeout_secs] {
    int sig = 0;
    sigwait(&signals, &sig);
    const char* name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
    if (!serving) {
      spdlog::warn("received {} while starting up; exiting before serving", name);
      spdlog::default_logger()->flush();
      std::_Exit(0);
    }
    stop_signal = sig;
    stop.Notify();
    std::this_thread::sleep_for(std::chrono::seconds(timeout) + kCloseGrace);
    spdlog::error("shutdown overran --exit-timeout-secs={} by {} s; forcing exit", timeout,
                  kCloseGrace.count());
    spdlog::default_logger()->flush();
    std::_Exit(1);
  }).detach();

  std::string repository = ResolvePath(flags.model_repository);
  if (repository.empty()) {
    repository = FindEmbeddedRepository(argv[0]);
    if (repository.empty()) {
      spdlog::critical("no --model-repository given and the embedded repository "
                       "(config/repository) was not found");
      return 1;
    }
  }

  if (!IsDirectory(repository)) {
    spdlog::critical("model repository '{}' is not a readable folder", repository);
    return 1;
  }

  ServiceOptions options;
  options.model_repository = repository;
  options.model_control_mode = flags.model_control_mode == "poll"       ? ModelControlMode::kPoll
                               : flags.model_control_mode == "explicit" ? ModelControlMode::kExplicit
                                                                        : ModelControlMode::kNone;
  options.repository_poll_secs = flags.repository_poll_secs;
  options.load_models = flags.load_models;
  options.infer_threads = flags.infer_thread_count;
  SetIntraOpThreads(flags.intra_op_thread_count > 0 ? flags.intra_op_thread_count
                                                    : AvailableCpus());
  spdlog::info("{} intra-op threads ({} CPUs available); OpenMP: {}", IntraOpThreads(),
               AvailableCpus(), openmp);
  options.max_request_bytes = flags.max_request_bytes;
  options.max_inflight_bytes = flags.max_inflight_bytes;
  options.server_version = kVersion;
  auto registry = std::make_shared<prometheus::Registry>();
  options.metrics_registry = registry;
  // GPUs: Triton's per-GPU metrics, the health check, and what KIND_GPU instances may use.
  std::unique_ptr<GpuMetrics> gpu_metrics;
  std::unique_ptr<GpuMonitor> gpu_monitor;
  auto nvml = OpenNvml();
  if (nvml.ok()) {
    gpu_metrics = std::make_unique<GpuMetrics>(*registry);
    gpu_monitor =
        std::make_unique<GpuMonitor>(*std::move(nvml), gpu_metrics.get(), absl::Seconds(2));
    spdlog::info("{} GPU(s) (NVML): metrics nv_gpu_*, health", gpu_monitor->count());
  } else {
    spdlog::info("no GPU metrics: {}", nvml.status().message());
  }
  int cuda_gpus = 0;  // the GPUs the CUDA backend is registered for
  for (const Backend* b : BackendRegistry::Global().ByPriority()) {
    if (b->device().type == DeviceType::kCuda)
      cuda_gpus = std::max(cuda_gpus, b->device().index + 1);
  }
  options.gpu_monitor = gpu_monitor.get();
  options.gpus = GpuInventoryOf(cuda_gpus, gpu_monitor.get(), nvml.status());

  spdlog::info("cortadod {} starting: repository {}, model control {}", kVersion, repository,
               flags.model_control_mode);
  // The metrics endpoint comes up first, so that model loads can be watched.
  std::unique_ptr<MetricsServer> metrics;
  if (flags.allow_metrics) {
    auto m = MetricsServer::Start(flags.metrics_address, flags.metrics_port, registry);
    if (!m.ok()) {
      spdlog::critical("{}", m.status().message());
      return 1;
    }
    metrics = *std::move(m);
    spdlog::info("metrics endpoint: http://{}:{}/metrics", flags.metrics_address, metrics->port());
  }
  auto created = InferenceService::Create(options);
  if (!created.ok()) {
    spdlog::critical("{}", created.status().message());
    return 1;
  }
  std::unique_ptr<InferenceService> service = *std::move(created);

  std::unique_ptr<GrpcServer> grpc;
  if (flags.allow_grpc) {
    GrpcOptions o;
    o.address = flags.grpc_address;
    o.port = flags.grpc_port;
    o.max_message_bytes =
        flags.grpc_max_message_size > 0 ? flags.grpc_max_message_size : flags.max_request_bytes;
    auto tls = EndpointTls("grpc", flags.grpc_tls);
    if (!tls.ok()) {
      spdlog::critical("{}", tls.status().message());
      return 1;
    }
    o.tls = *tls;
    o.restricted = flags.grpc_restricted;
    auto g = GrpcServer::Start(service.get(), o);
    if (!g.ok()) {
      spdlog::critical("cannot start the gRPC endpoint: {}", g.status().message());
      return 1;
    }
    grpc = *std::move(g);
    spdlog::info("gRPC endpoint: {}:{}{}", flags.grpc_address, grpc->port(), TlsNote(o.tls));
  }
  std::unique_ptr<HttpServer> http;
  if (flags.allow_http) {
    HttpOptions o;
    o.address = flags.http_address;
    o.port = flags.http_port;
    o.threads = flags.http_thread_count;
    o.header_timeout = std::chrono::seconds(flags.http_header_timeout_secs);
    o.max_connections = flags.http_max_connections;
    o.restricted = flags.http_restricted;
    auto tls = EndpointTls("http", flags.http_tls);
    if (!tls.ok()) {
      spdlog::critical("{}", tls.status().message());
      return 1;
    }
    o.tls = *tls;
    o.max_body_bytes =
        flags.http_max_input_size > 0 ? flags.http_max_input_size : flags.max_request_bytes;
    auto h = HttpServer::Start(service.get(), o);
    if (!h.ok()) {
      spdlog::critical("cannot start the HTTP endpoint: {}", h.status().message());
      return 1;
    }
    http = *std::move(h);
    spdlog::info("HTTP endpoint: {}://{}:{}{}", o.tls.enabled() ? "https" : "http",
                 flags.http_address, http->port(), TlsNote(o.tls));
  }
  spdlog::info("cortadod ready");
  if (http && !flags.http_tls.use_ssl && !flags.http_tls.use_ssl_mutual) {
    std::string curl = CurlExample(*service, http->port());
    std::cout << "cortadod is serving. Try:\n  curl -s localhost:" << http->port()
              << "/v2/health/ready -o /dev/null -w '%{http_code}\\n'\n";
    if (!curl.empty()) std::cout << "  " << curl << "\n";
    std::cout << std::flush;
  }

  serving = true;
  stop.WaitForNotification();
  spdlog::info("received {}; shutting down", stop_signal == SIGTERM ? "SIGTERM" : "SIGINT");
  // Requests in flight get the exit timeout; what is still queued then is answered UNAVAILABLE
  // without running. The watchdog armed at the signal ends the process if this overruns.
  service->Shutdown(std::chrono::seconds(flags.exit_timeout_secs));
  const auto close_deadline = std::chrono::seconds(1);
  if (http) http->Shutdown(close_deadline);
  if (grpc) grpc->Shutdown(close_deadline);
  http.reset();
  grpc.reset();
  service.reset();
  metrics.reset();
  spdlog::info("cortadod stopped");
  spdlog::default_logger()->flush();
  return 0;
}

}  // namespace
}  // namespace cortado

int main(int argc, char** argv) { return cortado::Main(argc, argv); }
