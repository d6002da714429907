#!/usr/bin/env bash
# Writes PyTorch 2.x exports (tools/generate_torch_exports.py) into DIR/node with the PyTorch of
# $CORTADO_TORCH_VENV (tools/setup.sh). Without it, says so and writes the exports committed in
# testdata/torch_exports (made by the same script) instead.
set -euo pipefail
out="${1:?usage: generate_torch_exports.sh DIR}"
here="$(dirname "$0")"
venv="${CORTADO_TORCH_VENV:-$HOME/.cache/cortado/torch-venv}"
if "$venv/bin/python" -c "import torch, onnxscript" 2>/dev/null; then
  # The export summary goes to stderr, which the test log keeps.
  exec "$venv/bin/python" "$here/generate_torch_exports.py" "$out" >&2
fi
echo "generate_torch_exports: SKIPPED fresh exports: no PyTorch 2.x in $venv (tools/setup.sh" \
  "installs it); running the exports committed in testdata/torch_exports" >&2
mkdir -p "$out"
cp -r "$here/../testdata/torch_exports/node" "$out/"
