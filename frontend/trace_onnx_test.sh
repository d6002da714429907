#!/usr/bin/env bash
# Exports the trace test models with trace_export_tool, then checks them with onnx's checker and
# ONNX Runtime (trace_onnx_test.py) in the Python tools' virtual environment (tools/setup.sh).
# args: TRACE_EXPORT_TOOL TRACE_ONNX_TEST_PY
set -euo pipefail
venv="${CORTADO_VENV:-$HOME/.cache/cortado/venv}"
if ! "$venv/bin/python" -c "import onnx, onnxruntime" 2>/dev/null; then
  echo "trace_onnx_test: onnx or onnxruntime is missing from $venv; run tools/setup.sh" >&2
  exit 1
fi
out="${TEST_TMPDIR:-$(mktemp -d)}/trace_onnx"
mkdir -p "$out"
"$1" "$out"
exec "$venv/bin/python" -u "$2" "$out"
