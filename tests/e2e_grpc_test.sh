#!/usr/bin/env bash
# Runs tests/e2e_grpc_test.py with the Python test tools' virtual environment (tools/setup.sh).
# args: CORTADOD CORTADO; the fixtures come from the runfiles.
set -euo pipefail
venv="${CORTADO_VENV:-$HOME/.cache/cortado/venv}"
if ! "$venv/bin/python" -c "import tritonclient.grpc" 2>/dev/null; then
  echo "e2e_grpc_test: tritonclient is missing from $venv; run tools/setup.sh" >&2
  exit 1
fi
here="$(dirname "$0")"
exec "$venv/bin/python" -u "$here/e2e_grpc_test.py" "$1" "$2" "$TEST_SRCDIR/cortado/testdata/onnx/mlp"
