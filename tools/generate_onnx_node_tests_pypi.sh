#!/usr/bin/env bash
# Writes the node test cases of onnx from PyPI (tools/requirements-onnx.txt) into DIR/node, with
# the interpreter of the virtual environment tools/setup.sh makes for it ($CORTADO_ONNX_VENV).
set -euo pipefail
out="${1:?usage: generate_onnx_node_tests_pypi.sh DIR}"
venv="${CORTADO_ONNX_VENV:-$HOME/.cache/cortado/onnx-venv}"
if ! "$venv/bin/python" -c "import onnx" 2>/dev/null; then
  echo "generate_onnx_node_tests_pypi: onnx is missing from $venv; run tools/setup.sh" >&2
  exit 1
fi
exec "$venv/bin/python" "$(dirname "$0")/generate_onnx_node_tests_pypi.py" "$out"
