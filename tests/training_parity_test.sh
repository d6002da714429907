#!/usr/bin/env bash
# Runs training_parity (C++: 20 training steps of an MLP and a CNN on Fashion-MNIST), in float32
# and in float64, and replays them in PyTorch with training_parity_test.py, using the tools'
# virtual environment (tools/setup.sh; it sees Debian's python3-torch) or, without one,
# /usr/bin/python3. Fails when Fashion-MNIST (Debian's dataset-fashion-mnist) is missing.
# args: TRAINING_PARITY
set -euo pipefail
data=/usr/share/datasets/fashion-mnist
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz \
         t10k-labels-idx1-ubyte.gz; do
  if [[ ! -f "$data/$f" ]]; then
    echo "training_parity_test: Fashion-MNIST is missing ($data/$f); run tools/setup.sh" >&2
    exit 1
  fi
done
venv="${CORTADO_VENV:-$HOME/.cache/cortado/venv}"
python="$venv/bin/python"
[[ -x "$python" ]] || python=/usr/bin/python3
if ! "$python" -c "import torch, numpy" 2>/dev/null; then
  echo "training_parity_test: torch and numpy must be importable by $python (python3-torch)" >&2
  exit 1
fi
out="${TEST_TMPDIR:-$(mktemp -d)}/training_parity"
mkdir -p "$out/f32" "$out/f64"
"$1" "$out/f32" "$data"
"$1" "$out/f64" "$data" --float64
exec "$python" -u "$(dirname "$0")/training_parity_test.py" "$out/f32" "$out/f64" "$data"
