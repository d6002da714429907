#!/usr/bin/env bash
# Writes testdata/onnx's models upgraded to opsets 18, 21 and 28 (tools/generate_upgraded_fixtures.py)
# into DIR/node, with the onnx of $CORTADO_ONNX_VENV (tools/setup.sh).
set -euo pipefail
out="${1:?usage: generate_upgraded_fixtures.sh DIR}"
here="$(dirname "$0")"
venv="${CORTADO_ONNX_VENV:-$HOME/.cache/cortado/onnx-venv}"
if ! "$venv/bin/python" -c "import onnx" 2>/dev/null; then
  echo "generate_upgraded_fixtures: onnx is missing from $venv; run tools/setup.sh" >&2
  exit 1
fi
exec "$venv/bin/python" "$here/generate_upgraded_fixtures.py" "$here/../testdata/onnx" "$out"
