#include "server/metrics.h"

#include <set>

#include "absl/strings/match.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace cortado {
namespace {

TEST(MetricsTest, FailureReasonsAreSnakeCaseCodes) {
  EXPECT_EQ(FailureReason(absl::StatusCode::kInvalidArgument), "invalid_argument");
  EXPECT_EQ(FailureReason(absl::StatusCode::kNotFound), "not_found");
  EXPECT_EQ(FailureReason(absl::StatusCode::kUnavailable), "unavailable");
}

TEST(MetricsTest, VersionSeriesAreStableAndCounted) {
  auto registry = std::make_shared<prometheus::Registry>();
  Metrics m(registry);
  const Metrics::Version& a = m.ForVersion("m", "1");
  EXPECT_EQ(&a, &m.ForVersion("m", "1"));
  EXPECT_NE(&a, &m.ForVersion("m", "2"));
  a.success->Increment();
  a.request_duration->Observe(0.003);
  m.RequestFailed("m", "1", absl::StatusCode::kInvalidArgument);
  m.RequestFailed("m", "1", absl::StatusCode::kInvalidArgument);
  m.ModelLoaded("m", "1", 0.5);
  m.ModelLoadFailed("m", "3", absl::StatusCode::kNotFound);
  m.SetLoaded(1, 2);
  const std::string text = prometheus::TextSerializer().Serialize(registry->Collect());
  for (const char* want : {
           "cortado_inference_requests_total{model=\"m\",outcome=\"success\",reason=\"\","
           "version=\"1\"} 1",
           "cortado_inference_requests_total{model=\"m\",outcome=\"failure\","
           "reason=\"invalid_argument\",version=\"1\"} 2",
           "cortado_request_duration_seconds_bucket{model=\"m\",version=\"1\",le=\"0.005\"} 1",
           "cortado_request_duration_seconds_count{model=\"m\",version=\"1\"} 1",
           "cortado_model_loads_total{model=\"m\",version=\"1\"} 1",
           "cortado_model_load_failures_total{model=\"m\",reason=\"not_found\",version=\"3\"} 1",
           "cortado_models_loaded 1",
           "cortado_model_versions_loaded 2",
           "# TYPE cortado_batch_size histogram",
       }) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
}

// A released version's series leave the exposition once its last holder lets go; other
// versions keep theirs.
TEST(MetricsTest, ReleasedVersionSeriesAreRemoved) {
  auto registry = std::make_shared<prometheus::Registry>();
  Metrics m(registry);
  const Metrics::Version& one = m.ForVersion("m", "1");
  m.ForVersion("m", "1");  // a second holder (a reload of the same version)
  m.ForVersion("m", "2").executions->Increment();
  one.success->Increment();
  one.batch_size->Observe(4);
  m.RequestFailed("m", "1", absl::StatusCode::kUnavailable);
  m.RequestRejected("m", "1", "timeout");
  one.queue_size->Set(3);
  EXPECT_NE(prometheus::TextSerializer()
                .Serialize(registry->Collect())
                .find("cortado_inference_rejected_total{cause=\"timeout\",model=\"m\","
                      "version=\"1\"} 1"),
            std::string::npos);
  auto text = [&] { return prometheus::TextSerializer().Serialize(registry->Collect()); };
  m.ReleaseVersion("m", "1");
  EXPECT_NE(text().find("version=\"1\""), std::string::npos) << "one holder is left";
  m.ReleaseVersion("m", "1");
  const std::string after = text();
  EXPECT_EQ(after.find("version=\"1\""), std::string::npos) << after;
  EXPECT_NE(after.find("cortado_executions_total{model=\"m\",version=\"2\"} 1"),
            std::string::npos)
      << after;
  // Loaded again: fresh series at zero.
  m.ForVersion("m", "1");
  EXPECT_NE(text().find("cortado_inferences_total{model=\"m\",version=\"1\"} 0"),
            std::string::npos);
}

TEST(MetricsTest, ProcessCollector) {
  auto families = MakeProcessCollector()->Collect();
  std::set<std::string> names;
  for (const auto& f : families) {
    names.insert(f.name);
    ASSERT_EQ(f.metric.size(), 1u);
  }
  for (const char* want : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_virtual_memory_bytes", "process_open_fds",
                           "process_start_time_seconds", "process_max_fds"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }
  for (const auto& f : families) {
    if (f.name == "process_resident_memory_bytes") EXPECT_GT(f.metric[0].gauge.value, 1e5);
  }
}

TEST(MetricsTest, ServerPicksAFreePortAndReportsBindFailures) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto server = MetricsServer::Start("127.0.0.1", 0, registry);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_GT((*server)->port(), 0);
  auto clash = MetricsServer::Start("127.0.0.1", (*server)->port(), registry);
  EXPECT_FALSE(clash.ok());
}

// One HTTP/1.1 request on a fresh connection to 127.0.0.1:port.
boost::beast::http::response<boost::beast::http::string_body> Get(int port,
                                                                  const std::string& target) {
  namespace net = boost::asio;
  namespace http = boost::beast::http;
  net::io_context io;
  net::ip::tcp::socket socket(io);
  socket.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  http::request<http::empty_body> request(http::verb::get, target, 11);
  request.set(http::field::host, "localhost");
  http::write(socket, request);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  return response;
}

// GET /metrics answers the registry's series and the process metrics in the text format; other
// paths are not found. (Also built with the CUDA backend linked in, as
// //backends/cuda:metrics_test: civetweb's threads could not start beside cuBLASLt.)
TEST(MetricsTest, ServerAnswersScrapes) {
  auto registry = std::make_shared<prometheus::Registry>();
  Metrics m(registry);
  m.SetLoaded(3, 4);
  auto server = MetricsServer::Start("127.0.0.1", 0, registry);
  ASSERT_TRUE(server.ok()) << server.status();
  for (int i = 0; i < 2; ++i) {
    auto scrape = Get((*server)->port(), "/metrics");
    EXPECT_EQ(scrape.result_int(), 200);
    EXPECT_EQ(std::string(scrape[boost::beast::http::field::content_type]),
              "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_TRUE(absl::StrContains(scrape.body(), "\ncortado_model_versions_loaded 4\n"))
        << scrape.body();
    EXPECT_TRUE(absl::StrContains(scrape.body(), "\nprocess_resident_memory_bytes "));
  }
  EXPECT_EQ(Get((*server)->port(), "/other").result_int(), 404);
}

}  // namespace
}  // namespace cortado
