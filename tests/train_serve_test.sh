#!/usr/bin/env bash
# Runs tests/train_serve_test.py with the Python test tools' virtual environment (tools/setup.sh).
# args: CORTADOD TRAIN_FASHION_MNIST
set -euo pipefail
venv="${CORTADO_VENV:-$HOME/.cache/cortado/venv}"
if ! "$venv/bin/python" -c "import tritonclient.http, onnxruntime" 2>/dev/null; then
  echo "train_serve_test: tritonclient/onnxruntime are missing from $venv; run tools/setup.sh" >&2
  exit 1
fi
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  echo "train_serve_test: Fashion-MNIST is missing; run tools/setup.sh" >&2
  exit 1
fi
exec "$venv/bin/python" -u "$(dirname "$0")/train_serve_test.py" "$1" "$2"
