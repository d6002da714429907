#!/usr/bin/env bash
# Installs what cortado needs on a Debian 12 machine and is missing: the Debian packages (only
# those not yet installed; run as root or with sudo), the pinned Python test tools in a
# virtual environment outside the checkout ($CORTADO_VENV, default ~/.cache/cortado/venv),
# onnx from PyPI in another ($CORTADO_ONNX_VENV, default ~/.cache/cortado/onnx-venv) and today's
# PyTorch in a third ($CORTADO_TORCH_VENV, default ~/.cache/cortado/torch-venv; optional:
# `--no-torch` leaves it out, and the tests that use it then say so and run without it); on a
# machine with 4 cores or fewer, a user.bazelrc that limits Bazel's jobs and RAM.
# Idempotent: a second run installs nothing.
# `tools/setup.sh --build` installs only what building //server:cortadod needs, and no virtual
# environment (the build stage of deploy/Containerfile).
set -euo pipefail
cd "$(dirname "$0")/.."

build_packages=(
  # build
  bazel-bootstrap bazel-rules-java bazel-platforms g++ pkg-config
  # libraries
  libabsl-dev libprotobuf-dev protobuf-compiler libonnx-dev
  # the oneDNN backend (backends/onednn; libdnnl, built with OpenMP)
  libdnnl-dev
  # the OpenCL accelerator plug-in (plugins/opencl): ICD loader, headers, PoCL's CPU device
  ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd
  # HTTP/REST adapter and client: Boost.Beast (header-only) and RapidJSON; OpenSSL for HTTPS
  libboost-dev rapidjson-dev libssl-dev
  # gRPC adapter and clients
  libgrpc++-dev protobuf-compiler-grpc
  # server core: logging, metrics
  libspdlog-dev libfmt-dev prometheus-cpp-dev
  # ONNX's RegexFullMatch (ops/string.cc)
  libre2-dev
  # training frontend: gzip'd IDX data (zlib)
  zlib1g-dev
)
packages=(
  "${build_packages[@]}"
  libgtest-dev libgmock-dev libbenchmark-dev
  # test tools (ONNX's backend test generators, numpy)
  python3-onnx python3-numpy python3-venv python3-pip
  # libb64 for the perf_analyzer that tritonclient's wheel ships
  libb64-0d
  # TLS on the endpoints; the test makes its certificates with the openssl tool
  openssl
  # libFuzzer targets (server/fuzz/run_fuzzers.sh): clang with its sanitizer runtimes
  clang
  # the metrics end-to-end tests and deploy/observability (a real Prometheus and promtool, curl)
  prometheus curl
  # deploy/fleet: the load balancer, network namespaces and veth pairs
  nginx iproute2
  # training frontend: Fashion-MNIST, and PyTorch as the reference and the benchmark's peer
  dataset-fashion-mnist python3-torch
  # bench/model_bench exports torchvision's models (bench/export_models.py)
  python3-torchvision
)

build_only=false
with_torch=true
[ "${1:-}" = --build ] && { build_only=true; packages=("${build_packages[@]}"); }
[ "${1:-}" = --no-torch ] && with_torch=false

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# On a small machine (4 cores or fewer), limit Bazel to 2 jobs and 60% of the RAM so that a build
# leaves the machine usable: user.bazelrc (git-ignored, read by .bazelrc's try-import). An
# existing user.bazelrc is never touched; larger machines get Bazel's defaults.
if [ ! -e user.bazelrc ] && [ "$(nproc)" -le 4 ]; then
  echo "setup: $(nproc) cores: writing user.bazelrc (build --jobs=2 --local_ram_resources=HOST_RAM*.6)"
  printf '%s\n' '# Written by tools/setup.sh for a machine with 4 cores or fewer; edit or delete freely.' \
    'build --jobs=2 --local_ram_resources=HOST_RAM*.6' >user.bazelrc
fi

$build_only && exit 0

venv="${CORTADO_VENV:-$HOME/.cache/cortado/venv}"
if [ ! -x "$venv/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
stamp="$venv/.requirements.$(sha1sum tools/requirements.txt | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  "$venv/bin/pip" install -q --disable-pip-version-check -r tools/requirements.txt
  touch "$stamp"
fi

# onnx from PyPI, whose node test cases are the second conformance suite, in an environment of
# its own without Debian's packages (tools/requirements-onnx.txt says why).
onnx_venv="${CORTADO_ONNX_VENV:-$HOME/.cache/cortado/onnx-venv}"
if [ ! -x "$onnx_venv/bin/python" ]; then
  /usr/bin/python3 -m venv "$onnx_venv"
fi
onnx_stamp="$onnx_venv/.requirements.$(sha1sum tools/requirements-onnx.txt | cut -c1-12)"
if [ ! -f "$onnx_stamp" ]; then
  "$onnx_venv/bin/pip" install -q --disable-pip-version-check -r tools/requirements-onnx.txt
  touch "$onnx_stamp"
fi

# Today's PyTorch from PyPI (tools/requirements-torch.txt), used on the CPU; its wheel brings the
# CUDA libraries it links (about 5 GiB in all, kept outside the checkout). Optional:
# tests/torch_export_test exports models with it when it is here.
if $with_torch; then
  torch_venv="${CORTADO_TORCH_VENV:-$HOME/.cache/cortado/torch-venv}"
  if [ ! -x "$torch_venv/bin/python" ]; then
    /usr/bin/python3 -m venv "$torch_venv"
  fi
  torch_stamp="$torch_venv/.requirements.$(sha1sum < tools/requirements-torch.txt | cut -c1-12)"
  if [ ! -f "$torch_stamp" ]; then
    "$torch_venv/bin/pip" install -q --disable-pip-version-check -r tools/requirements-torch.txt
    touch "$torch_stamp"
  fi
fi
