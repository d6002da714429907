#!/usr/bin/env bash
# Writes PyTorch's optimizer trajectories (optim_reference.py, with the Python test tools'
# virtual environment or Debian's python3, which carries python3-torch) into $TEST_TMPDIR, then
# runs the C++ comparison. args: OPTIM_TRAJECTORY_TEST_BINARY OPTIM_REFERENCE_PY
set -euo pipefail
python="${CORTADO_VENV:-$HOME/.cache/cortado/venv}/bin/python"
[ -x "$python" ] || python=/usr/bin/python3
if ! "$python" -c "import torch, numpy" 2>/dev/null; then
  echo "optim_trajectory_test: $python cannot import torch and numpy (python3-torch); run tools/setup.sh" >&2
  exit 1
fi
export OPTIM_REF_DIR="$TEST_TMPDIR/optim_ref"
"$python" "$2" "$OPTIM_REF_DIR"
exec "$1"
