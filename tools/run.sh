#!/usr/bin/env bash
# The main job: builds and starts cortadod on the embedded model repository (config/repository)
# with HTTP on :8000, gRPC on :8001 and Prometheus metrics on :8002. It prints a ready curl line;
# Ctrl-C (SIGINT) drains requests in flight and stops it. Extra arguments go to cortadod.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bazel run //server:cortadod -- "$@"
