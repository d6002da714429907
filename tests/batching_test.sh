#!/usr/bin/env bash
# Runs tests/batching_test.py with the Python test tools' virtual environment (tools/setup.sh).
# args: CORTADOD; the fixture comes from the runfiles.
set -euo pipefail
venv="${CORTADO_VENV:-$HOME/.cache/cortado/venv}"
if ! "$venv/bin/python" -c "import tritonclient.grpc, tritonclient.http" 2>/dev/null; then
  echo "batching_test: tritonclient is missing from $venv; run tools/setup.sh" >&2
  exit 1
fi
here="$(dirname "$0")"
exec "$venv/bin/python" -u "$here/batching_test.py" "$1" "$TEST_SRCDIR/cortado/testdata/onnx/mlp"
