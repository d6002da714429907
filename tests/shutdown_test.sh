#!/usr/bin/env bash
# Runs tests/shutdown_test.py with the Python test tools' virtual environment (tools/setup.sh).
# args: CORTADOD
set -euo pipefail
venv="${CORTADO_VENV:-$HOME/.cache/cortado/venv}"
if ! "$venv/bin/python" -c "import onnx, numpy, tritonclient.grpc" 2>/dev/null; then
  echo "shutdown_test: onnx, numpy or tritonclient is missing from $venv; run tools/setup.sh" >&2
  exit 1
fi
exec "$venv/bin/python" -u "$(dirname "$0")/shutdown_test.py" "$1"
