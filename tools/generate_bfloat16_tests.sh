#!/usr/bin/env bash
# Writes the bfloat16 cases (tools/generate_bfloat16_tests.py) into DIR/node, with the interpreter
# of the virtual environment tools/setup.sh makes for onnx from PyPI ($CORTADO_ONNX_VENV).
set -euo pipefail
out="${1:?usage: generate_bfloat16_tests.sh DIR}"
venv="${CORTADO_ONNX_VENV:-$HOME/.cache/cortado/onnx-venv}"
if ! "$venv/bin/python" -c "import onnx" 2>/dev/null; then
  echo "generate_bfloat16_tests: onnx is missing from $venv; run tools/setup.sh" >&2
  exit 1
fi
exec "$venv/bin/python" "$(dirname "$0")/generate_bfloat16_tests.py" "$out"
