#!/usr/bin/env bash
# Runs fleet_test.py (root: network namespaces) with the Python test tools' virtual environment
# (tools/setup.sh), Debian's nginx and prometheus.
# args: FLEET_TEST_PY CORTADOD EMBEDDED_CONFIG_PBTXT
set -euo pipefail
venv="${CORTADO_VENV:-$HOME/.cache/cortado/venv}"
if ! "$venv/bin/python" -c "import tritonclient.grpc, tritonclient.http, onnxruntime, onnx" 2>/dev/null; then
  echo "fleet_test: tritonclient/onnxruntime are missing from $venv; run tools/setup.sh" >&2
  exit 1
fi
exec "$venv/bin/python" -u "$1" "$2" "$(dirname "$(dirname "$3")")"
