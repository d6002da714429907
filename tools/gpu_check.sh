#!/usr/bin/env bash
# GPU check, for a machine with one NVIDIA GPU or more (its driver, CUDA 13 and cuDNN 9 under
# /usr/local/cuda) and the checkout set up by tools/setup.sh; written to finish in under 10
# minutes. It builds the CUDA backend and runs, on the GPU:
#   1. the CUDA unit tests (//backends/cuda: kernel parameters, caching allocator, cuDNN algorithm
#      cache, every kernel of the backend, and of cuda_tf32 and cuda_fp16, against the reference
#      kernels, which must not skip; with two GPUs or more, the backends of GPU 1 and a model's
#      weights there, which must not skip either) and the GPU monitor (NVML);
#   2. the fixture models (mlp, squeezenet1_1, mobilenet_v2) with the CUDA backend linked in;
#   3. ONNX's backend node tests (the conformance suite) with every backend, CUDA first;
#   4. cortadod with CUDA serving mlp from an `instance_group { kind: KIND_GPU count: 2 }` (on
#      every GPU), and again with the cuda_tf32 and the cuda_fp16 parameter, and with two GPUs or
#      more mlp_gpu1 on GPU 1 alone: ready, inferring, the config says KIND_GPU,
#      /metrics has nv_gpu_utilization and the memory gauges;
#   5. perf_analyzer against cortadod (with CUDA) serving resnet50, concurrency 1 to 8.
# Usage: tools/gpu_check.sh [--skip-perf]. Step 5 serves bench/serve_bench.py's resnet50 from
# ~/.cache/cortado/bench-models, exported first by bench/export_models.py when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
step() { echo; echo "== $* ($((SECONDS - start)) s)"; }

step "GPU"
nvidia-smi --query-gpu=name,uuid,driver_version,memory.total --format=csv
/usr/local/cuda/bin/nvcc --version | tail -1

step "build"
bazel build //backends/cuda:all //backends/cuda:cuda_onnx_conformance //backends/cuda:cortadod_cuda \
  //backends/cuda:cuda_fixtures_test //server:gpu_monitor_test

step "CUDA unit tests and the GPU monitor"
bazel test --test_output=all //backends/cuda:kernel_params_test \
  //backends/cuda:caching_allocator_test //backends/cuda:algorithm_cache_test //backends/cuda:cuda_backend_test //server:gpu_monitor_test
if grep -q "no CUDA device" bazel-testlogs/backends/cuda/cuda_backend_test/test.log; then
  echo "FAIL: the CUDA tests skipped: no device visible" >&2
  exit 1
fi
gpus="$(nvidia-smi -L | grep -c '^GPU')"
if grep -q "the second-GPU test needs two" bazel-testlogs/backends/cuda/cuda_backend_test/test.log; then
  if ((gpus >= 2)); then
    echo "FAIL: the second-GPU test skipped with $gpus GPUs visible to nvidia-smi" >&2
    exit 1
  fi
  echo "(one GPU: the second-GPU test skipped, as it should)"
fi

step "fixture models with CUDA"
bazel test --test_output=all //backends/cuda:cuda_fixtures_test

step "ONNX conformance with CUDA"
cases="$(mktemp -d)"
tools/generate_onnx_node_tests.sh "$cases" >/dev/null
bazel-bin/backends/cuda/cuda_onnx_conformance --cases "$cases/node" \
  --floor "$(tr -dc 0-9 < tests/onnx_conformance_floor.txt)"

step "cortadod with CUDA: KIND_GPU instances, GPU metrics"
repo="$(mktemp -d)"
mkdir -p "$repo/mlp/1"
cp testdata/onnx/mlp/model.onnx "$repo/mlp/1/"
echo 'instance_group [ { kind: KIND_GPU count: 2 } ]' > "$repo/mlp/config.pbtxt"
for precision in tf32 fp16; do
  mkdir -p "$repo/mlp_$precision/1"
  cp testdata/onnx/mlp/model.onnx "$repo/mlp_$precision/1/"
  { cat "$repo/mlp/config.pbtxt"
    echo "parameters { key: \"cuda_$precision\" value: { string_value: \"true\" } }"
  } > "$repo/mlp_$precision/config.pbtxt"
done
if ((gpus >= 2)); then
  mkdir -p "$repo/mlp_gpu1/1"
  cp testdata/onnx/mlp/model.onnx "$repo/mlp_gpu1/1/"
  echo 'instance_group [ { kind: KIND_GPU gpus: [ 1 ] count: 2 } ]' > "$repo/mlp_gpu1/config.pbtxt"
fi
bazel-bin/backends/cuda/cortadod_cuda --model-repository "$repo" --http-port 18300 \
  --grpc-port 18301 --metrics-port 18302 &
daemon=$!
trap 'kill $daemon 2>/dev/null || true' EXIT
for _ in $(seq 60); do
  curl -sf localhost:18300/v2/health/ready >/dev/null && break
  sleep 1
done
curl -sf localhost:18300/v2/models/mlp/config | grep -o 'KIND_GPU'
models="mlp mlp_tf32 mlp_fp16"
ones="$(printf '1,%.0s' $(seq 63))1"
((gpus >= 2)) && models="$models mlp_gpu1"
for model in $models; do
  curl -sf "localhost:18300/v2/models/$model/ready" && echo "$model ready"
  # mlp's input: "input" FP32 [batch, 64] (testdata/onnx/mlp); an answer with outputs is a success.
  curl -sf -X POST "localhost:18300/v2/models/$model/infer" -H 'Content-Type: application/json' \
    -d "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":[$ones]}]}" |
    grep -q '"outputs"' || { echo "FAIL: $model did not infer" >&2; exit 1; }
  echo "$model inferred"
done
curl -sf localhost:18302/metrics | grep -E '^(nv_gpu_utilization|nv_gpu_memory_(used|total)_bytes|cortado_gpu_healthy)'
kill $daemon
wait $daemon || true
trap - EXIT

if [[ "${1:-}" != "--skip-perf" ]]; then
  step "perf_analyzer, resnet50, cortadod with CUDA"
  /usr/bin/python3 bench/export_models.py --models resnet50
  ~/.cache/cortado/venv/bin/python bench/serve_bench.py --model resnet50 \
    --cortadod bazel-bin/backends/cuda/cortadod_cuda --concurrency 1,2,4,8 --seconds 5 --ort_runs 10
fi
step "done"
