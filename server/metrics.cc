#include "server/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cctype>
#include <exception>
#include <thread>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "prometheus/text_serializer.h"

namespace cortado {
namespace {

const prometheus::Histogram::BucketBoundaries& DurationBuckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
  return *b;
}

const prometheus::Histogram::BucketBoundaries& BatchBuckets() {
  static const auto* b =
      new prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256};
  return *b;
}

const prometheus::Histogram::BucketBoundaries& LoadBuckets() {
  static const auto* b =
      new prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120};
  return *b;
}

prometheus::MetricFamily Single(const std::string& name, const std::string& help,
                                prometheus::MetricType type, double value) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(m);
  return f;
}

// Reads /proc/self at each scrape.
class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    std::ifstream in("/proc/self/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Fields after the parenthesized command name (which may hold spaces).
    size_t close = stat.rfind(')');
    if (close != std::string::npos) {
      std::istringstream fields(stat.substr(close + 2));
      std::vector<std::string> f;
      std::string s;
      while (fields >> s) f.push_back(s);
      // f[0] is field 3 (state); utime=14, stime=15, starttime=22, vsize=23, rss=24.
      auto field = [&](int n) -> double {
        size_t i = static_cast<size_t>(n - 3);
        return i < f.size() ? std::stod(f[i]) : 0.0;
      };
      const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
      out.push_back(Single("process_cpu_seconds_total",
                           "Total user and system CPU time spent in seconds.",
                           prometheus::MetricType::Counter, (field(14) + field(15)) / ticks));
      out.push_back(Single("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                           prometheus::MetricType::Gauge, field(23)));
      out.push_back(Single("process_resident_memory_bytes", "Resident memory size in bytes.",
                           prometheus::MetricType::Gauge, field(24) * page));
      double boot = BootTime();
      if (boot > 0) {
        out.push_back(Single("process_start_time_seconds",
                             "Start time of the process since unix epoch in seconds.",
                             prometheus::MetricType::Gauge, boot + field(22) / ticks));
      }
    }
    int fds = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] != '.') ++fds;
      }
      closedir(d);
      out.push_back(Single("process_open_fds", "Number of open file descriptors.",
                           prometheus::MetricType::Gauge, fds - 1));  // less the DIR's own
    }
    rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
      out.push_back(Single("process_max_fds", "Maximum number of open file descriptors.",
                           prometheus::MetricType::Gauge, static_cast<double>(rl.rlim_cur)));
    }
    return out;
  }

 private:
  static double BootTime() {
    std::ifstream in("/proc/stat");
    std::string key;
    while (in >> key) {
      if (key == "btime") {
        double t = 0;
        in >> t;
        return t;
      }
      std::string rest;
      std::getline(in, rest);
    }
    return 0;
  }
};

}  // namespace

std::string FailureReason(absl::StatusCode code) {
  std::string name = absl::StatusCodeToString(code);  // "INVALID_ARGUMENT"
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

Metrics::Metrics(std::shared_ptr<prometheus::Registry> registry)
    : registry_(std::move(registry)),
      requests_(prometheus::BuildCounter()
                    .Name("cortado_inference_requests_total")
                    .Help("Inference requests by model, version and outcome; failures by reason "
                          "(the status code).")
                    .Register(*registry_)),
      inferences_(prometheus::BuildCounter()
                      .Name("cortado_inferences_total")
                      .Help("Inferences performed (a batched request counts its batch size).")
                      .Register(*registry_)),
      executions_(prometheus::BuildCounter()
                      .Name("cortado_executions_total")
                      .Help("Model executions (runs of the predictor).")
                      .Register(*registry_)),
      request_duration_(prometheus::BuildHistogram()
                            .Name("cortado_request_duration_seconds")
                            .Help("Time from receiving a request to its response, in seconds.")
                            .Register(*registry_)),
      queue_duration_(prometheus::BuildHistogram()
                          .Name("cortado_queue_duration_seconds")
                          .Help("Time a request waited in its model's queue (for an instance or a "
                                "batch), in seconds.")
                          .Register(*registry_)),
      compute_duration_(
          prometheus::BuildHistogram()
              .Name("cortado_compute_duration_seconds")
              .Help("Time spent running the model, per execution (one batch), in seconds.")
              .Register(*registry_)),
      batch_size_(prometheus::BuildHistogram()
                      .Name("cortado_batch_size")
                      .Help("Batch size of each execution.")
                      .Register(*registry_)),
      queue_size_(prometheus::BuildGauge()
                      .Name("cortado_queue_size")
                      .Help("Requests waiting for a model instance.")
                      .Register(*registry_)),
      rejected_(prometheus::BuildCounter()
                    .Name("cortado_inference_rejected_total")
                    .Help("Requests answered without running, by cause: queue_full, timeout "
                          "(queue policy), deadline (the client's), cancelled, shutdown.")
                    .Register(*registry_)),
      loads_(prometheus::BuildCounter()
                 .Name("cortado_model_loads_total")
                 .Help("Model versions loaded successfully.")
                 .Register(*registry_)),
      load_failures_(prometheus::BuildCounter()
                         .Name("cortado_model_load_failures_total")
                         .Help("Model version loads that failed, by reason (the status code).")
                         .Register(*registry_)),
      load_duration_(prometheus::BuildHistogram()
                         .Name("cortado_model_load_duration_seconds")
                         .Help("Time to load a model version, in seconds.")
                         .Register(*registry_)),
      models_loaded_(prometheus::BuildGauge()
                         .Name("cortado_models_loaded")
                         .Help("Models with at least one version serving.")
                         .Register(*registry_)
                         .Add({})),
      versions_loaded_(prometheus::BuildGauge()
                           .Name("cortado_model_versions_loaded")
                           .Help("Model versions serving.")
                           .Register(*registry_)
                           .Add({})),
      in_flight_(prometheus::BuildGauge()
                     .Name("cortado_inference_requests_in_flight")
                     .Help("Inference requests accepted and not yet answered.")
                     .Register(*registry_)
                     .Add({})) {}

// The causes RequestRejected is called with (service.cc), for ReleaseVersion to remove.
constexpr const char* kRejectCauses[] = {"queue_full", "timeout", "deadline", "cancelled",
                                         "shutdown"};

const Metrics::Version& Metrics::ForVersion(const std::string& model, const std::string& version) {
  absl::MutexLock lock(&mu_);
  auto& slot = versions_[{model, version}];
  if (!slot) {
    const prometheus::Labels labels{{"model", model}, {"version", version}};
    auto v = std::make_unique<Version>();
    v->success = &requests_.Add(
        {{"model", model}, {"version", version}, {"outcome", "success"}, {"reason", ""}});
    v->inferences = &inferences_.Add(labels);
    v->executions = &executions_.Add(labels);
    v->request_duration = &request_duration_.Add(labels, DurationBuckets());
    v->queue_duration = &queue_duration_.Add(labels, DurationBuckets());
    v->compute_duration = &compute_duration_.Add(labels, DurationBuckets());
    v->batch_size = &batch_size_.Add(labels, BatchBuckets());
    v->queue_size = &queue_size_.Add(labels);
    slot = std::move(v);
  }
  ++slot->holders;
  return *slot;
}

void Metrics::ReleaseVersion(const std::string& model, const std::string& version) {
  absl::MutexLock lock(&mu_);
  auto it = versions_.find({model, version});
  if (it == versions_.end() || --it->second->holders > 0) return;
  const Version& v = *it->second;
  requests_.Remove(v.success);
  for (int code = 1; code <= 16; ++code) {
    const prometheus::Labels failure{{"model", model},
                                     {"version", version},
                                     {"outcome", "failure"},
                                     {"reason", FailureReason(static_cast<absl::StatusCode>(code))}};
    if (requests_.Has(failure)) requests_.Remove(&requests_.Add(failure));
  }
  inferences_.Remove(v.inferences);
  executions_.Remove(v.executions);
  request_duration_.Remove(v.request_duration);
  queue_duration_.Remove(v.queue_duration);
  compute_duration_.Remove(v.compute_duration);
  batch_size_.Remove(v.batch_size);
  queue_size_.Remove(v.queue_size);
  for (const char* cause : kRejectCauses) {
    const prometheus::Labels labels{{"model", model}, {"version", version}, {"cause", cause}};
    if (rejected_.Has(labels)) rejected_.Remove(&rejected_.Add(labels));
  }
  versions_.erase(it);
}

void Metrics::RequestRejected(const std::string& model, const std::string& version,
                              absl::string_view cause) {
  rejected_.Add({{"model", model}, {"version", version}, {"cause", std::string(cause)}})
      .Increment();
}

void Metrics::RequestFailed(const std::string& model, const std::string& version,
                            absl::StatusCode code) {
  requests_
      .Add({{"model", model},
            {"version", version},
            {"outcome", "failure"},
            {"reason", FailureReason(code)}})
      .Increment();
}

void Metrics::ModelLoaded(const std::string& model, const std::string& version,
                          double seconds) {
  const prometheus::Labels labels{{"model", model}, {"version", version}};
  loads_.Add(labels).Increment();
  load_duration_.Add(labels, LoadBuckets()).Observe(seconds);
}

void Metrics::ModelLoadFailed(const std::string& model, const std::string& version,
                              absl::StatusCode code) {
  load_failures_.Add({{"model", model}, {"version", version}, {"reason", FailureReason(code)}})
      .Increment();
}

void Metrics::SetLoaded(int models, int versions) {
  models_loaded_.Set(models);
  versions_loaded_.Set(versions);
}

void Metrics::AddInFlight(double delta) { in_flight_.Increment(delta); }

std::shared_ptr<prometheus::Collectable> MakeProcessCollector() {
  return std::make_shared<ProcessCollector>();
}

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

struct MetricsServer::State {
  net::io_context io{1};
  net::ip::tcp::acceptor acceptor{io};
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables;
  int port = 0;
  std::thread thread;
};

namespace {

// One connection: reads requests and answers them in turn until the client closes, errs or
// idles past the timeout.
class MetricsSession : public std::enable_shared_from_this<MetricsSession> {
 public:
  MetricsSession(net::ip::tcp::socket socket,
                 const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables)
      : stream_(std::move(socket)), collectables_(collectables) {}

  void Read() {
    request_ = {};
    stream_.expires_after(std::chrono::seconds(30));
    bhttp::async_read(stream_, buffer_, request_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (!ec) self->Answer();
                      });
  }

 private:
  void Answer() {
    response_ = {};
    response_.version(request_.version());
    response_.keep_alive(request_.keep_alive());
    const bool get = request_.method() == bhttp::verb::get || request_.method() == bhttp::verb::head;
    if (request_.target() != "/metrics") {
      response_.result(bhttp::status::not_found);
    } else if (!get) {
      response_.result(bhttp::status::method_not_allowed);
    } else {
      std::vector<prometheus::MetricFamily> families;
      for (const auto& c : collectables_) {
        for (auto& f : c->Collect()) families.push_back(std::move(f));
      }
      response_.result(bhttp::status::ok);
      response_.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      if (request_.method() == bhttp::verb::get) {
        response_.body() = prometheus::TextSerializer().Serialize(families);
      }
    }
    response_.prepare_payload();
    bhttp::async_write(stream_, response_,
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (!ec && self->response_.keep_alive()) self->Read();
                       });
  }

  beast::tcp_stream stream_;
  const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables_;
  beast::flat_buffer buffer_{8192};
  bhttp::request<bhttp::string_body> request_;
  bhttp::response<bhttp::string_body> response_;
};

using Collectables = std::vector<std::shared_ptr<prometheus::Collectable>>;

void Accept(net::ip::tcp::acceptor& acceptor, const Collectables& collectables) {
  acceptor.async_accept([&](beast::error_code ec, net::ip::tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;  // stopping
    if (!ec) std::make_shared<MetricsSession>(std::move(socket), collectables)->Read();
    Accept(acceptor, collectables);
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& address, int port, std::shared_ptr<prometheus::Registry> registry) {
  auto state = std::make_unique<State>();
  state->collectables = {std::move(registry), MakeProcessCollector()};
  beast::error_code ec;
  const auto ip = net::ip::make_address(address, ec);
  const net::ip::tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
  if (!ec) state->acceptor.open(endpoint.protocol(), ec);
  if (!ec) state->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ":", port, ": ", ec.message()));
  }
  state->port = state->acceptor.local_endpoint().port();
  Accept(state->acceptor, state->collectables);
  state->thread = std::thread([io = &state->io] { io->run(); });
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(state)));
}

MetricsServer::MetricsServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

int MetricsServer::port() const { return state_->port; }

MetricsServer::~MetricsServer() {
  state_->io.stop();
  state_->thread.join();
}

GpuMetrics::GpuMetrics(prometheus::Registry& registry)
    : utilization_(prometheus::BuildGauge()
                       .Name("nv_gpu_utilization")
                       .Help("GPU utilization rate [0.0 - 1.0)")
                       .Register(registry)),
      memory_used_(prometheus::BuildGauge()
                       .Name("nv_gpu_memory_used_bytes")
                       .Help("GPU used memory, in bytes")
                       .Register(registry)),
      memory_total_(prometheus::BuildGauge()
                        .Name("nv_gpu_memory_total_bytes")
                        .Help("GPU total memory, in bytes")
                        .Register(registry)),
      healthy_(prometheus::BuildGauge()
                   .Name("cortado_gpu_healthy")
                   .Help("1 while the GPU answers the driver's queries, 0 once it has failed")
                   .Register(registry)) {}

void GpuMetrics::Set(const std::string& uuid, bool healthy, double utilization,
                     double memory_used_bytes, double memory_total_bytes) {
  const std::map<std::string, std::string> labels = {{"gpu_uuid", uuid}};
  healthy_.Add(labels).Set(healthy ? 1 : 0);
  if (!healthy) return;  // the last reading stays
  utilization_.Add(labels).Set(utilization);
  memory_used_.Add(labels).Set(memory_used_bytes);
  memory_total_.Add(labels).Set(memory_total_bytes);
}

}  // namespace cortado
