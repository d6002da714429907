#!/usr/bin/env bash
# Generates ONNX's backend node tests and runs them all through the Predictor; fails when the
# pass count drops below the floor committed in tests/onnx_conformance_floor.txt.
set -euo pipefail
runner="$1"; generator="$2"; floor_file="$3"
cases="${TEST_TMPDIR:-$(mktemp -d)}/onnx_node_tests"
"$generator" "$cases" >/dev/null
"$runner" --cases "$cases/node" --floor "$(tr -dc 0-9 < "$floor_file")"
