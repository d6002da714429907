#include "server/repository/model_config.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "predictor/graph.h"

namespace cortado {
namespace {

using inference::ModelConfig;

std::vector<ValueInfo> Inputs() {
  return {{"x", {DType::kFloat32, Shape{-1, 4}}}, {"mask", {DType::kInt64, Shape{-1, 4}}}};
}
std::vector<ValueInfo> Outputs() {
  return {{"y", {DType::kFloat32, Shape{-1, 3}}}, {"z", {DType::kFloat32, Shape{-1}}}};
}

TEST(ModelConfigTest, ParsesTritonConfig) {
  auto c = ParseModelConfig(R"pb(
    name: "m"
    platform: "onnxruntime_onnx"
    max_batch_size: 8 input
    [ {
      name: "x"
      data_type: TYPE_FP32
      dims: [ 4 ]
    }] output
    [ {
      name: "y"
      data_type: TYPE_FP32
      dims: [ 3 ]
    }]
    version_policy: { latest: { num_versions: 2 } } instance_group
    [ { count: 3 kind: KIND_CPU }]
    dynamic_batching { max_queue_delay_microseconds: 100 }
    parameters {
      key: "k"
      value: { string_value: "v" }
    }
  )pb");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name(), "m");
  EXPECT_EQ(c->max_batch_size(), 8);
  EXPECT_EQ(c->input(0).dims(0), 4);
  EXPECT_EQ(c->version_policy().latest().num_versions(), 2u);
  EXPECT_EQ(c->instance_group(0).count(), 3);
  EXPECT_TRUE(c->has_dynamic_batching());
  EXPECT_EQ(c->parameters().at("k").string_value(), "v");
}

TEST(ModelConfigTest, SyntaxErrorNamesLineAndColumn) {
  auto c = ParseModelConfig("name: \"m\"\nmax_batch_size: 8\ninput [ { name: \"x\" \n");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("config.pbtxt:"), absl::string_view::npos) << c.status();
}

TEST(ModelConfigTest, UnknownFieldIsAnError) {
  auto c = ParseModelConfig("name: \"m\"\nmax_batch: 8\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("config.pbtxt:2:"), absl::string_view::npos) << c.status();
  EXPECT_NE(c.status().message().find("max_batch"), absl::string_view::npos) << c.status();
}

TEST(ModelConfigTest, DefaultModelFilenameStaysInTheVersionFolder) {
  EXPECT_TRUE(ParseModelConfig("default_model_filename: \"net.onnx\"").ok());
  for (const char* bad :
       {"../../etc/passwd", "/etc/passwd", "sub/model.onnx", "..", ".", "a\\\\b"}) {
    auto c = ParseModelConfig(absl::StrCat("default_model_filename: \"", bad, "\""));
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("must name a file inside the version folder"),
              absl::string_view::npos)
        << c.status();
  }
}

TEST(ModelConfigTest, EmptyConfigIsCompletedFromTheModel) {
  auto c = CompleteModelConfig(ModelConfig(), "m", Inputs(), Outputs());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name(), "m");
  EXPECT_EQ(c->platform(), "onnxruntime_onnx");
  EXPECT_EQ(c->backend(), "onnxruntime");
  EXPECT_EQ(c->max_batch_size(), 0);
  ASSERT_EQ(c->input_size(), 2);
  EXPECT_EQ(c->input(0).name(), "x");
  EXPECT_EQ(c->input(0).data_type(), inference::TYPE_FP32);
  EXPECT_EQ(std::vector<int64_t>(c->input(0).dims().begin(), c->input(0).dims().end()),
            (std::vector<int64_t>{-1, 4}));
  EXPECT_EQ(c->input(1).data_type(), inference::TYPE_INT64);
  ASSERT_EQ(c->output_size(), 2);
  EXPECT_EQ(c->output(1).name(), "z");
  EXPECT_EQ(c->version_policy().latest().num_versions(), 1u);
  ASSERT_EQ(c->instance_group_size(), 1);
  EXPECT_EQ(c->instance_group(0).count(), kDefaultInstanceCount);
  EXPECT_EQ(c->instance_group(0).kind(), inference::ModelInstanceGroup::KIND_CPU);
  EXPECT_EQ(InstanceCount(*c), 2);
  EXPECT_EQ(c->optimization().graph().level(), 1);
}

TEST(ModelConfigTest, GraphOptimizationLevel) {
  ModelConfig off = ParseModelConfig("optimization { graph { level: -1 } }").value();
  auto c = CompleteModelConfig(off, "m", Inputs(), Outputs());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->optimization().graph().level(), -1);
  ModelConfig bad = ParseModelConfig("optimization { graph { level: 7 } }").value();
  c = CompleteModelConfig(bad, "m", Inputs(), Outputs());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("level"), absl::string_view::npos) << c.status();
}

TEST(ModelConfigTest, BatchingConfigDropsTheBatchDimension) {
  ModelConfig given = ParseModelConfig("max_batch_size: 16").value();
  auto c = CompleteModelConfig(given, "m", Inputs(), Outputs());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(std::vector<int64_t>(c->input(0).dims().begin(), c->input(0).dims().end()),
            (std::vector<int64_t>{4}));
  EXPECT_EQ(FullShape(*c, c->input(0).dims()), (Shape{-1, 4}));
  EXPECT_EQ(c->output(1).dims_size(), 0);  // [-1] less the batch dimension
}

TEST(ModelConfigTest, BatchingNeedsAVariableFirstDimension) {
  ModelConfig given = ParseModelConfig("max_batch_size: 4").value();
  auto c = CompleteModelConfig(given, "m", {{"x", {DType::kFloat32, Shape{2, 4}}}}, Outputs());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("batch"), absl::string_view::npos) << c.status();
}

TEST(ModelConfigTest, StatedFieldsAreCheckedAgainstTheModel) {
  struct Case {
    const char* config;
    const char* expect;  // in the error
  };
  const Case cases[] = {
      {"name: \"other\"", "folder is 'm'"},
      {"platform: \"tensorflow_savedmodel\"", "platform"},
      {"max_batch_size: -1", "negative"},
      {"input [ { name: \"nope\" data_type: TYPE_FP32 dims: [ -1, 4 ] } ]", "not an input"},
      {"input [ { name: \"x\" data_type: TYPE_FP64 dims: [ -1, 4 ] }, "
       "{ name: \"mask\" data_type: TYPE_INT64 dims: [ -1, 4 ] } ]",
       "TYPE_FP64"},
      {"input [ { name: \"x\" data_type: TYPE_FP32 dims: [ -1, 5 ] }, "
       "{ name: \"mask\" data_type: TYPE_INT64 dims: [ -1, 4 ] } ]",
       "dims"},
      {"input [ { name: \"x\" data_type: TYPE_FP32 dims: [ -1, 4 ] } ]", "'mask'"},
      {"output [ { name: \"w\" data_type: TYPE_FP32 dims: [ -1 ] } ]", "not an output"},
      {"version_policy { latest { num_versions: 0 } }", "num_versions"},
      {"version_policy { specific { } }", "specific"},
      {"instance_group [ { kind: KIND_GPU count: 1 } ]",
       "KIND_GPU needs a GPU, and this cortadod has no CUDA backend"},
      {"instance_group [ { kind: KIND_CPU gpus: [ 0 ] } ]", "gpus are for KIND_GPU, not KIND_CPU"},
  };
  for (const Case& k : cases) {
    auto given = ParseModelConfig(k.config);
    ASSERT_TRUE(given.ok()) << k.config << ": " << given.status();
    auto c = CompleteModelConfig(*given, "m", Inputs(), Outputs());
    ASSERT_FALSE(c.ok()) << k.config;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << k.config;
    EXPECT_NE(c.status().message().find(k.expect), absl::string_view::npos)
        << k.config << ": " << c.status();
  }
}

TEST(ModelConfigTest, ACpuGroupWithoutCountGetsTritonsDefaultOfTwo) {
  auto c = ParseModelConfig("instance_group [ { kind: KIND_CPU } ]");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(InstanceCount(*c), 2);
  auto completed = CompleteModelConfig(*c, "m", Inputs(), Outputs());
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(completed->instance_group(0).count(), 2);
  EXPECT_EQ(InstanceCount(*completed), 2);
}

TEST(ModelConfigTest, OutputSubsetAndInstanceCountsAreKept) {
  auto given = ParseModelConfig(R"pb(
    output
    [ { name: "y" }] instance_group
    [ { count: 2 }
      , { count: 3 kind: KIND_CPU }]
  )pb");
  ASSERT_TRUE(given.ok()) << given.status();
  auto c = CompleteModelConfig(*given, "m", Inputs(), Outputs());
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->output_size(), 1);
  EXPECT_EQ(c->output(0).data_type(), inference::TYPE_FP32);
  EXPECT_EQ(InstanceCount(*c), 5);
  EXPECT_EQ(InstanceGpus(*c), (std::vector<int>(5, -1)));
}

TEST(ModelConfigTest, GpuInstanceGroups) {
  const GpuInventory two{2, ""};
  // KIND_GPU without gpus gets every GPU; count is per GPU, as in Triton.
  auto c = CompleteModelConfig(
      *ParseModelConfig(
          "instance_group [ { kind: KIND_GPU count: 3 }, { count: 1 kind: KIND_CPU } ]"),
      "m", Inputs(), Outputs(), kOnnxPlatform, two);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->instance_group(0).gpus_size(), 2);
  EXPECT_EQ(InstanceCount(*c), 3 * 2 + 1);
  // The instances, in order: the GPU group's alternate between its GPUs, then the CPU's.
  EXPECT_EQ(InstanceGpus(*c), (std::vector<int>{0, 1, 0, 1, 0, 1, -1}));
  // KIND_AUTO, and no group at all, take the GPU when there is one and the CPU otherwise.
  for (const char* text : {"", "instance_group [ { count: 2 } ]"}) {
    SCOPED_TRACE(text);
    auto gpu = CompleteModelConfig(*ParseModelConfig(text), "m", Inputs(), Outputs(), kOnnxPlatform,
                                   GpuInventory{1, ""});
    ASSERT_TRUE(gpu.ok()) << gpu.status();
    EXPECT_EQ(gpu->instance_group(0).kind(), inference::ModelInstanceGroup::KIND_GPU);
    EXPECT_EQ(gpu->instance_group(0).gpus_size(), 1);
    auto cpu = CompleteModelConfig(*ParseModelConfig(text), "m", Inputs(), Outputs());
    ASSERT_TRUE(cpu.ok()) << cpu.status();
    EXPECT_EQ(cpu->instance_group(0).kind(), inference::ModelInstanceGroup::KIND_CPU);
  }
  auto listed = CompleteModelConfig(
      *ParseModelConfig("instance_group [ { kind: KIND_GPU gpus: [ 1 ] count: 2 } ]"), "m",
      Inputs(), Outputs(), kOnnxPlatform, two);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(InstanceGpus(*listed), (std::vector<int>{1, 1}));
  // A GPU the machine lacks, and a machine whose CUDA backend sees none, are refused clearly.
  auto missing =
      CompleteModelConfig(*ParseModelConfig("instance_group [ { kind: KIND_GPU gpus: [ 0, 2 ] } ]"),
                          "m", Inputs(), Outputs(), kOnnxPlatform, two);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "instance_group: gpus names GPU 2, but the GPUs cortadod can use are 0 to 1");
  auto none = CompleteModelConfig(*ParseModelConfig("instance_group [ { kind: KIND_GPU } ]"), "m",
                                  Inputs(), Outputs(), kOnnxPlatform,
                                  GpuInventory{0, "the CUDA backend sees no GPU (no driver)"});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(),
            "instance_group: KIND_GPU needs a GPU, and the CUDA backend sees no GPU (no driver); "
            "use KIND_CPU");
}

TEST(ModelConfigTest, DataTypesRoundTrip) {
  for (DType d : {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16, DType::kInt8,
                  DType::kInt64, DType::kUInt8, DType::kBool, DType::kString}) {
    auto back = DTypeFromConfig(ConfigDataType(d));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, d);
  }
  EXPECT_FALSE(DTypeFromConfig(inference::TYPE_INVALID).ok());
}

// parameters { key: "cuda_tf32" } and { key: "cuda_fp16" }: "true" or "false" only, one of them.
TEST(ModelConfigTest, CudaPrecisionParameters) {
  auto config = [](const std::string& entries) {
    std::string text;
    for (absl::string_view entry : absl::StrSplit(entries, ' ', absl::SkipEmpty())) {
      const std::pair<std::string, std::string> kv = absl::StrSplit(entry, '=');
      absl::StrAppend(&text, "parameters { key: \"", kv.first, "\" value: { string_value: \"",
                      kv.second, "\" } }\n");
    }
    return *ParseModelConfig(text);
  };
  EXPECT_FALSE(*BoolParameter(config(""), kCudaTf32Parameter));
  EXPECT_TRUE(*BoolParameter(config("cuda_tf32=true"), kCudaTf32Parameter));
  EXPECT_FALSE(*BoolParameter(config("cuda_tf32=false"), kCudaTf32Parameter));
  auto bad = BoolParameter(config("cuda_tf32=yes"), kCudaTf32Parameter);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "cuda_tf32: 'yes'")) << bad.status();
  EXPECT_EQ(*PrecisionSuffix(config("")), "");
  EXPECT_EQ(*PrecisionSuffix(config("cuda_tf32=true cuda_fp16=false")), "_tf32");
  EXPECT_EQ(*PrecisionSuffix(config("cuda_fp16=true")), "_fp16");
  EXPECT_FALSE(PrecisionSuffix(config("cuda_tf32=true cuda_fp16=true")).ok());
  EXPECT_FALSE(PrecisionSuffix(config("cuda_fp16=1")).ok());
}

// A backend with a registered twin "<name><suffix>" is replaced by it; the others stay.
TEST(ModelConfigTest, TwinBackendsReplaceTheirOriginals) {
  const std::vector<std::string> registered = {"cuda", "cuda_tf32", "cuda_fp16", "onednn", "cpu"};
  EXPECT_EQ(TwinBackends({}, registered, "_tf32"),
            (std::vector<std::string>{"cuda_tf32", "onednn", "cpu"}));
  EXPECT_EQ(TwinBackends({}, registered, "_fp16"),
            (std::vector<std::string>{"cuda_fp16", "onednn", "cpu"}));
  EXPECT_EQ(TwinBackends({"cuda", "onednn"}, registered, "_fp16"),
            (std::vector<std::string>{"cuda_fp16", "onednn"}));
  EXPECT_EQ(TwinBackends({"cuda_tf32"}, registered, "_fp16"),
            (std::vector<std::string>{"cuda_fp16"}));
  EXPECT_EQ(TwinBackends({"onednn"}, registered, "_tf32"), (std::vector<std::string>{"onednn"}));
  // Without a CUDA backend linked in, nothing changes.
  EXPECT_EQ(TwinBackends({}, {"onednn", "cpu"}, "_tf32"),
            (std::vector<std::string>{"onednn", "cpu"}));
}

}  // namespace
}  // namespace cortado
