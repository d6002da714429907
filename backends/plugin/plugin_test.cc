// The plug-in loader against small plug-ins built here (testdata/): two that work and several
// broken ones, each refused with its reason; then a working plug-in placed in a real plan, its
// results against the reference kernels. Its queues run work only when synced, so a missing sync
// or a buffer freed while queued shows up as a wrong result.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "backends/plugin/plugin_backend.h"
#include "gtest/gtest.h"
#include "ops/op_test_util.h"
#include "predictor/predictor.h"

namespace cortado {
namespace {

namespace fs = std::filesystem;

// A fresh folder holding the named plug-ins built beside this test.
std::string PluginDir(const std::string& name, const std::vector<std::string>& plugins) {
  const fs::path dir = fs::path(std::getenv("TEST_TMPDIR")) / name;
  fs::create_directories(dir);
  for (const std::string& p : plugins) {
    fs::copy_file(fs::path("backends/plugin") / p, dir / p, fs::copy_options::overwrite_existing);
  }
  return dir.string();
}

TEST(PluginLoaderTest, LoadsRanksAndRefusesWithReasons) {
  const std::string dir = PluginDir(
      "all", {"host_plugin.so", "host_plugin_hi.so", "crash_plugin.so", "wrong_version_plugin.so",
              "no_version_plugin.so", "empty_table_plugin.so"});
  std::ofstream(dir + "/not_a_library.so") << "text, not ELF\n";
  std::ofstream(dir + "/README") << "ignored: not a .so\n";
  auto load = LoadPlugins(dir);
  ASSERT_TRUE(load.ok()) << load.status();
  ASSERT_EQ(load->backends.size(), 2u);
  EXPECT_EQ(load->backends[0]->name(), "host_plugin_hi");  // priority 60 before 50
  EXPECT_EQ(load->backends[0]->priority(), 60);
  EXPECT_EQ(load->backends[1]->name(), "host_plugin");
  EXPECT_EQ(load->backends[0]->device().type, DeviceType::kPlugin);
  EXPECT_NE(load->backends[0]->device(), load->backends[1]->device());
  ASSERT_EQ(load->loaded.size(), 2u);
  EXPECT_TRUE(absl::StrContains(load->loaded[0],
                                "host_plugin.so: backend 'host_plugin' (API 1, priority 50)"))
      << load->loaded[0];

  // In name order: crash, empty_table, no_version, not_a_library, wrong_version.
  ASSERT_EQ(load->refused.size(), 5u) << absl::StrJoin(load->refused, "\n");
  const std::vector<std::pair<std::string, std::string>> want = {
      {"crash_plugin.so", "crashed (signal 11: Segmentation fault) while loading"},
      {"empty_table_plugin.so", "its table has no last_error"},
      {"no_version_plugin.so", "it does not export cortado_plugin_api_version"},
      {"not_a_library.so", "not_a_library.so"},  // dlerror names the file
      {"wrong_version_plugin.so", "built for API version 2, cortadod has version 1"}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_TRUE(absl::StrContains(load->refused[i], want[i].first)) << load->refused[i];
    EXPECT_TRUE(absl::StrContains(load->refused[i], want[i].second)) << load->refused[i];
  }
  for (const std::string& line : load->refused) std::cout << "refused: " << line << "\n";

  EXPECT_EQ(LoadPlugins(dir + "/missing").status().code(), absl::StatusCode::kNotFound);
}

TEST(PluginLoaderTest, RefusesANameTakenTwice) {
  const std::string dir = PluginDir("twice", {"host_plugin.so"});
  fs::copy_file(dir + "/host_plugin.so", dir + "/z_copy.so");
  auto load = LoadPlugins(dir);
  ASSERT_TRUE(load.ok());
  ASSERT_EQ(load->backends.size(), 1u);
  ASSERT_EQ(load->refused.size(), 1u);
  EXPECT_TRUE(absl::StrContains(load->refused[0], "a backend named 'host_plugin' is already"));
}

// x -> Relu (plug-in) -> Sigmoid (host) -> Add(w) (plug-in) -> Reshape(shape) (plug-in, shape
// on the host) -> y; Relu's output also feeds Add(a, a) on the plug-in, an output too.
Graph Model() {
  Graph g;
  g.opsets[""] = 17;
  g.inputs.push_back({"x", {DType::kFloat32, Shape{3, 8}}});
  std::vector<float> w(24);
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(0.5f * i);
  g.initializers["w"] = Tensor::FromVector<float>(w, {3, 8});
  g.initializers["shape"] = Tensor::FromVector<int64_t>({4, -1}, {2});
  g.nodes = {{"a", "Relu", "", {"x"}, {"a"}, {}},
             {"b", "Sigmoid", "", {"a"}, {"b"}, {}},
             {"c", "Add", "", {"b", "w"}, {"c"}, {}},
             {"y", "Reshape", "", {"c", "shape"}, {"y"}, {}},
             {"z", "Add", "", {"a", "a"}, {"z"}, {}}};
  g.outputs = {{"y", {}}, {"z", {}}};
  return g;
}

TEST(PluginBackendTest, RunsInAPlanLikeTheReference) {
  auto load = LoadPlugins(PluginDir("run", {"host_plugin.so"}));
  ASSERT_TRUE(load.ok());
  ASSERT_EQ(load->backends.size(), 1u);
  BackendRegistry::Global().Register(std::move(load->backends[0]));

  for (const char* executor : {"simple", "dag"}) {
    SCOPED_TRACE(executor);
    PredictorOptions options;
    options.executor = executor;
    options.plan.graph_level = -1;
    options.plan.backends = {"host_plugin"};
    auto plugin = Predictor::FromGraph(Model(), options);
    ASSERT_TRUE(plugin.ok()) << plugin.status();
    options.plan.backends = {"cpu"};
    auto reference = Predictor::FromGraph(Model(), options).value();

    std::vector<std::string> placed;
    for (const PlanStep& step : (*plugin)->plan().steps()) {
      placed.push_back(absl::StrCat(step.op_type, "@", step.backend->name()));
    }
    EXPECT_EQ(placed,
              (std::vector<std::string>{"CopyFromHost@host_plugin", "Relu@host_plugin",
                                        "CopyToHost@cpu", "Sigmoid@cpu", "CopyFromHost@host_plugin",
                                        "Add@host_plugin", "Reshape@host_plugin", "Add@host_plugin",
                                        "CopyToHost@cpu", "CopyToHost@cpu"}));
    for (int run = 0; run < 3; ++run) {  // the first run records the memory plan, later use it
      Tensor x = Tensor::Create(DType::kFloat32, {3, 8}).value();
      for (int64_t i = 0; i < x.num_elements(); ++i) x.data<float>()[i] = std::cos(0.9f * i + run);
      auto got = (*plugin)->Run({{"x", x}});
      ASSERT_TRUE(got.ok()) << got.status();
      auto want = reference->Run({{"x", x}}).value();
      for (const auto& [name, t] : want)
        EXPECT_EQ(CompareTensors(got->at(name), t, 0, 0), "") << name;
      EXPECT_EQ(got->at("y").shape(), (Shape{4, 6}));
    }
    // A broadcast the plug-in refuses at run time is an error naming the node, not a crash.
    Graph bad = Model();
    bad.initializers["w"] = Tensor::FromVector<float>(std::vector<float>(8, 1.0f), {1, 8});
    options.plan.backends = {"host_plugin"};
    auto refused = Predictor::FromGraph(std::move(bad), options)
                       .value()
                       ->Run({{"x", Tensor::Zeros(DType::kFloat32, {3, 8}).value()}});
    ASSERT_FALSE(refused.ok());
    EXPECT_TRUE(
        absl::StrContains(refused.status().message(),
                          "node 'c' (Add): plug-in 'host_plugin' op_infer: Add: the shapes differ"))
        << refused.status();
  }
}

}  // namespace
}  // namespace cortado
