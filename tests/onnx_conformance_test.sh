#!/usr/bin/env bash
# Writes node test cases with GENERATOR (ONNX's backend node tests of Debian's onnx 1.12 or of
# onnx from PyPI, the legacy opset cases, or the upgraded PyTorch fixtures) and runs them all
# through the Predictor; fails when the pass count drops below the floor committed in
# FLOOR_FILE, once on the reference kernels alone, once on the optimized CPU kernels (cpu_opt,
# the reference where it has none), once with every backend, and once more with every backend
# on the dag executor.
#   onnx_conformance_test.sh RUNNER GENERATOR FLOOR_FILE [RUNNER_FLAGS...]
# RUNNER_FLAGS go to every run (for example --rtol 1e-4).
set -euo pipefail
runner="$1"; generator="$2"; floor_file="$3"; shift 3
cases="${TEST_TMPDIR:-$(mktemp -d)}/onnx_node_tests"
"$generator" "$cases" >/dev/null
floor="$(tr -dc 0-9 < "$floor_file")"
echo "== reference kernels (cpu)"
"$runner" --cases "$cases/node" --floor "$floor" --backends cpu "$@"
echo "== optimized CPU kernels (cpu_opt)"
"$runner" --cases "$cases/node" --floor "$floor" --backends cpu_opt "$@"
echo "== every backend"
"$runner" --cases "$cases/node" --floor "$floor" "$@"
echo "== every backend, dag executor"
"$runner" --cases "$cases/node" --floor "$floor" --executor dag "$@"
