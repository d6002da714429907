#!/usr/bin/env bash
# GPU check, for a machine with one NVIDIA GPU (CUDA 13 and cuDNN 9 under /usr/local/cuda) and
# the checkout set up by tools/setup.sh; written to finish in under 10 minutes. It builds the
# CUDA backend and runs, on the GPU:
#   1. the CUDA unit tests (//backends/cuda), which must not skip;
#   2. the fixture models (mlp, squeezenet1_1, mobilenet_v2) with the CUDA backend linked in;
#   3. ONNX's backend node tests (the conformance suite) with every backend, CUDA first;
#   4. perf_analyzer against cortadod (with CUDA) serving resnet50, concurrency 1 to 8.
# Usage: tools/gpu_check.sh [--skip-perf]   (the perf step serves bench/serve_bench.py's resnet50
# from ~/.cache/cortado/bench-models, which `bazel run //bench:model_bench` exports)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
step() { echo; echo "== $* ($((SECONDS - start)) s)"; }

step "GPU"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
/usr/local/cuda/bin/nvcc --version | tail -1

step "build"
bazel build //backends/cuda:all //backends/cuda:cuda_onnx_conformance //backends/cuda:cortadod_cuda \
  //backends/cuda:cuda_fixtures_test

step "CUDA unit tests"
bazel test --test_output=all //backends/cuda:caching_allocator_test //backends/cuda:cuda_backend_test
if grep -q "no CUDA device" bazel-testlogs/backends/cuda/cuda_backend_test/test.log; then
  echo "FAIL: the CUDA tests skipped: no device visible" >&2
  exit 1
fi

step "fixture models with CUDA"
bazel test --test_output=all //backends/cuda:cuda_fixtures_test

step "ONNX conformance with CUDA"
cases="$(mktemp -d)"
tools/generate_onnx_node_tests.sh "$cases" >/dev/null
bazel-bin/backends/cuda/cuda_onnx_conformance --cases "$cases/node" \
  --floor "$(tr -dc 0-9 < tests/onnx_conformance_floor.txt)"

if [[ "${1:-}" != "--skip-perf" ]]; then
  step "perf_analyzer, resnet50, cortadod with CUDA"
  ~/.cache/cortado/venv/bin/python bench/serve_bench.py --model resnet50 \
    --cortadod bazel-bin/backends/cuda/cortadod_cuda --concurrency 1,2,4,8 --seconds 5 --ort_runs 10
fi
step "done"
