// Model configuration (config.pbtxt): parsing with protobuf's text format against Triton's
// ModelConfig message, and completion of a (possibly empty) configuration from the loaded model:
// inputs and outputs, platform and backend, version policy and instance groups are filled in,
// and whatever the configuration states is checked against the model. Pure functions;
// thread-safe.
#ifndef CORTADO_SERVER_REPOSITORY_MODEL_CONFIG_H_
#define CORTADO_SERVER_REPOSITORY_MODEL_CONFIG_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "core/dtype.h"
#include "core/shape.h"
#include "core/status.h"
#include "model_config.pb.h"
#include "predictor/graph.h"

namespace cortado {

// The platform and backend names a completed ONNX configuration reports (Triton's).
inline constexpr char kOnnxPlatform[] = "onnxruntime_onnx";
inline constexpr char kOnnxBackend[] = "onnxruntime";
// ... and for a Caffe2 NetDef (init_net.pb + predict_net.pb).
inline constexpr char kNetDefPlatform[] = "caffe2_netdef";
inline constexpr char kNetDefBackend[] = "caffe2";

// Parses config.pbtxt text. InvalidArgument names the line and column of a syntax error or an
// unknown field ("config.pbtxt:3:5: ..."), or a default_model_filename that is not a plain file
// name (it must stay inside the version folder).
absl::StatusOr<inference::ModelConfig> ParseModelConfig(absl::string_view text);

// The GPUs that KIND_GPU instance groups may name (0 .. count-1), and why there are none.
struct GpuInventory {
  int count = 0;
  std::string why_none = "this cortadod has no CUDA backend (build //backends/cuda:cortadod_cuda)";
};

// Completes `config` for the model in folder `model_name` whose predictor has `inputs` and
// `outputs` and was read from a file of `platform` (kOnnxPlatform or kNetDefPlatform);
// InvalidArgument explains any disagreement between the two. Instance groups: KIND_AUTO becomes
// KIND_GPU when `gpus` has one (as in Triton), else KIND_CPU; a KIND_GPU group without `gpus`
// gets every GPU; a KIND_GPU group without GPUs, `gpus` on a CPU group or a GPU the machine lacks
// is refused, saying why.
absl::StatusOr<inference::ModelConfig> CompleteModelConfig(
    inference::ModelConfig config, const std::string& model_name,
    const std::vector<ValueInfo>& inputs, const std::vector<ValueInfo>& outputs,
    absl::string_view platform = kOnnxPlatform, const GpuInventory& gpus = {});

// The instance groups part of CompleteModelConfig (which calls it): a configuration without any
// gets one; KIND_AUTO resolved, GPUs checked and filled in, counts defaulted, groups named.
absl::Status CompleteInstanceGroups(inference::ModelConfig& config, const GpuInventory& gpus);

// Where each instance of a configuration whose instance groups are complete runs, in instance
// order: -1 on the CPU, else the GPU's index. Groups in order; a KIND_GPU group's instances
// alternate between its GPUs (gpus: [0, 1] count: 2 is 0, 1, 0, 1), so that instances handed out
// in turn spread over the GPUs.
std::vector<int> InstanceGpus(const inference::ModelConfig& config);

// config.pbtxt's parameters { key: "cuda_tf32" value: { string_value: "true" } } lets the
// model's float32 matrix products and convolutions on the GPU round their inputs to TF32 on
// tensor cores, and "cuda_fp16" runs them in float16 (float32 accumulation, conversions around
// each): the plan gets each allowed backend's twin registered as "<name>_tf32" or "<name>_fp16"
// (backends/cuda's cuda_tf32, cuda_fp16) instead of it. "false" or no entry keeps float32 math;
// both "true" fail the load.
inline constexpr char kCudaTf32Parameter[] = "cuda_tf32";
inline constexpr char kCudaFp16Parameter[] = "cuda_fp16";
inline constexpr char kTf32Suffix[] = "_tf32";
inline constexpr char kFp16Suffix[] = "_fp16";
// A parameter that is "true" or "false" (absent: false); InvalidArgument naming it otherwise.
absl::StatusOr<bool> BoolParameter(const inference::ModelConfig& config, absl::string_view key);
// The twin suffix ("_tf32", "_fp16") the config's precision parameters ask for, or "" for none.
absl::StatusOr<std::string> PrecisionSuffix(const inference::ModelConfig& config);
// `allowed` (every one of `registered` when empty) with each name whose twin "<name><suffix>" is
// registered replaced by the twin, and every other twin by its original, in order, without
// repeats.
std::vector<std::string> TwinBackends(const std::vector<std::string>& allowed,
                                      const std::vector<std::string>& registered,
                                      absl::string_view suffix);

// TYPE_FP32 <-> DType::kFloat32, ...; TYPE_INVALID for kUndefined.
inference::DataType ConfigDataType(DType dtype);
absl::StatusOr<DType> DTypeFromConfig(inference::DataType type);

// The instance count of a CPU instance group that states none, and of the group a configuration
// without instance_group gets on a machine without a GPU: Triton's default for ONNX Runtime on
// CPU. With two, a request that starts while the other runs takes the cores the first leaves
// (ExecutionThreads): resnet50 on 2 CPUs served 30 inferences/s with one instance at
// concurrency 4 and 36 with two, and a lone request still runs with every intra-op thread.
inline constexpr int kDefaultInstanceCount = 2;

// Total instance count of the configuration's instance groups (at least 1): `count` per group,
// and per listed GPU for KIND_GPU, as in Triton; a group that states none counts 1 per GPU, or
// kDefaultInstanceCount on the CPU.
int InstanceCount(const inference::ModelConfig& config);

// The full tensor shape a configured input or output takes: [-1] + dims when max_batch_size > 0.
Shape FullShape(const inference::ModelConfig& config,
                const google::protobuf::RepeatedField<int64_t>& dims);

}  // namespace cortado

#endif  // CORTADO_SERVER_REPOSITORY_MODEL_CONFIG_H_
